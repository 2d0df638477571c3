"""Edit commands: each edit does what it says, and undo/redo restore the project exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layout import dclayout
from layout.commands import (
    AddItems,
    CommandGroup,
    CommandStack,
    MoveItems,
    RemoveItems,
    RenameItem,
    ReplaceSection,
    RotateItems,
    SetItemType,
    SetProperty,
)
from layout.errors import EditError
from layout.floor import Floor
from layout.items import Item
from layout.project import FabricSpec, Project, Waiver
from layout.rules import Rules

RACK = "colossus-hgx-h100-lc"
AIR_RACK = "dgx-h100-air-4"


def make_project(n: int = 4) -> Project:
    items = [Item(f"R{k}", RACK, 2.0 + 0.6 * k, 5.0, name=f"rack {k}") for k in range(1, n + 1)]
    return Project(Floor.rectangle(40, 20), items=items)


def snapshot(project: Project) -> str:
    """The project as its file text, plus the item order the store keeps."""
    return dclayout.dumps(project) + "|" + ",".join(project.items.ids)


def test_add_places_item_and_undo_removes_it() -> None:
    project = make_project(2)
    stack = CommandStack(project)
    added = []
    project.item_added.connect(added.append)
    stack.push(AddItems([Item("N1", "net-sn5600-16", 10.0, 10.0)]))
    assert "N1" in project.items
    assert added == [("N1",)]
    stack.undo()
    assert "N1" not in project.items
    stack.redo()
    assert project.items.get("N1").x == 10.0


def test_move_by_offset_and_undo_restores_exact_floats() -> None:
    project = make_project(3)
    stack = CommandStack(project)
    before = snapshot(project)
    moved = []
    project.item_moved.connect(moved.append)
    stack.push(MoveItems.by(project, ["R1", "R3"], 0.1, 0.2))
    assert project.items.get("R1").x == pytest.approx(2.7)
    assert project.items.get("R3").y == pytest.approx(5.2)
    assert project.items.get("R2").x == pytest.approx(3.2)
    assert moved == [("R1", "R3")]
    stack.undo()
    assert snapshot(project) == before


def test_rotate_folds_into_0_360() -> None:
    project = make_project(1)
    stack = CommandStack(project)
    stack.push(RotateItems.by(project, ["R1"], -90))
    assert project.items.get("R1").rotation == 270.0
    stack.push(RotateItems.by(project, ["R1"], 180))
    assert project.items.get("R1").rotation == 90.0


def test_remove_then_undo_restores_order() -> None:
    project = make_project(5)
    stack = CommandStack(project)
    before = snapshot(project)
    stack.push(RemoveItems(["R4", "R2"]))
    assert list(project.items.ids) == ["R1", "R3", "R5"]
    stack.undo()
    assert snapshot(project) == before


def test_set_property_refuses_bad_values_and_changes_nothing() -> None:
    project = make_project(2)
    stack = CommandStack(project)
    before = snapshot(project)
    for key, value in [
        ("kw", float("nan")),
        ("kw", float("inf")),
        ("x", 3.0),
        ("", 1),
        ("kw", [1]),
    ]:
        with pytest.raises(EditError):
            stack.push(SetProperty(["R1"], key, value))  # type: ignore[arg-type]
    assert snapshot(project) == before
    assert not stack.can_undo()
    stack.push(SetProperty(["R1", "R2"], "row", "A"))
    assert project.items.get("R2").properties["row"] == "A"
    stack.push(SetProperty(["R1"], "row", None))
    assert "row" not in project.items.get("R1").properties


def test_group_is_one_step_and_all_or_nothing() -> None:
    project = make_project(3)
    stack = CommandStack(project)
    before = snapshot(project)
    stack.push_all([MoveItems.by(project, ["R1"], 1, 0), RenameItem("R2", "renamed")], "Drag")
    stack.undo()
    assert snapshot(project) == before
    failing = CommandGroup([MoveItems.by(project, ["R1"], 1, 0), RemoveItems(["nope"])])
    with pytest.raises(EditError):
        stack.push(failing)
    assert snapshot(project) == before


def test_unknown_or_unplaceable_type_is_refused() -> None:
    project = make_project(1)
    stack = CommandStack(project)
    with pytest.raises(EditError, match="unknown equipment type"):
        stack.push(AddItems([Item("X1", "no-such-type", 1, 1)]))
    with pytest.raises(EditError, match="cannot be placed"):
        stack.push(AddItems([Item("X1", "sn5600", 1, 1)]))
    with pytest.raises(EditError, match="already exists"):
        stack.push(AddItems([Item("R1", RACK, 1, 1)]))
    assert len(project.items) == 1


def test_clean_state_follows_undo_and_redo() -> None:
    project = make_project(1)
    stack = CommandStack(project)
    assert stack.is_clean()
    stack.push(RenameItem("R1", "a"))
    assert not stack.is_clean()
    stack.set_clean()
    stack.undo()
    assert not stack.is_clean()
    stack.redo()
    assert stack.is_clean()
    stack.undo()
    stack.push(RenameItem("R1", "b"))  # the saved state can no longer be reached
    stack.undo()
    assert not stack.is_clean()


# -- property: any sequence of edits undoes and redoes exactly ------------------

coordinate = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


@st.composite
def edits(draw: st.DrawFn, project: Project) -> object:  # noqa: PLR0911 - one return per kind
    present = list(project.items.ids)
    kind = draw(
        st.sampled_from(
            [
                "add",
                "remove",
                "move",
                "rotate",
                "rename",
                "type",
                "prop",
                "rules",
                "waive",
                "fabric",
                "group",
            ]
        )
    )
    if not present:
        kind = "add"
    if kind == "add":
        new_id = draw(
            st.sampled_from([f"N{k}" for k in range(20)]).filter(lambda i: i not in project.items)
        )
        return AddItems(
            [
                Item(
                    new_id,
                    draw(st.sampled_from([RACK, AIR_RACK])),
                    draw(coordinate),
                    draw(coordinate),
                    draw(coordinate),
                )
            ]
        )
    chosen = draw(st.lists(st.sampled_from(present), min_size=1, max_size=3, unique=True))
    if kind == "remove":
        return RemoveItems(chosen)
    if kind == "move":
        return MoveItems(
            chosen, [draw(coordinate) for _ in chosen], [draw(coordinate) for _ in chosen]
        )
    if kind == "rotate":
        return RotateItems(chosen, [draw(st.sampled_from([0, 90, 180, 270, 45.5])) for _ in chosen])
    if kind == "rename":
        return RenameItem(chosen[0], draw(st.text(max_size=10)))
    if kind == "type":
        return SetItemType(chosen[0], draw(st.sampled_from([RACK, AIR_RACK])))
    if kind == "prop":
        value = draw(
            st.one_of(
                st.none(),
                st.integers(-5, 5),
                st.text(max_size=5),
                st.booleans(),
                st.floats(-1e6, 1e6, allow_nan=False),
            )
        )
        return SetProperty(chosen, draw(st.sampled_from(["row", "note", "kw"])), value)
    if kind == "rules":
        return ReplaceSection("rules", Rules({"service_aisle_m": draw(st.floats(0.5, 3.0))}))
    if kind == "waive":
        return ReplaceSection("waivers", (Waiver("placement.overlap", tuple(chosen), "accepted"),))
    if kind == "fabric":
        return ReplaceSection("fabric", FabricSpec(tiers=draw(st.sampled_from(["auto", 2, 3]))))
    return CommandGroup(
        [MoveItems.by(project, chosen, 0.6, 0), RotateItems.by(project, chosen, 90)]
    )


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_undo_then_redo_of_any_sequence_gives_back_the_same_project(data: st.DataObject) -> None:
    project = make_project(6)
    stack = CommandStack(project)
    states = [snapshot(project)]
    for _ in range(data.draw(st.integers(1, 12))):
        stack.push(data.draw(edits(project)))
        states.append(snapshot(project))
    for expected in reversed(states[:-1]):
        stack.undo()
        assert snapshot(project) == expected
    for expected in states[1:]:
        stack.redo()
        assert snapshot(project) == expected


def test_snapshot_is_independent_of_later_edits() -> None:
    project = make_project(3)
    copy = project.snapshot()
    before = snapshot(copy)
    stack = CommandStack(project)
    stack.push(MoveItems.by(project, ["R1"], 1.0, 0.0))
    stack.push(RemoveItems(["R2"]))
    stack.push(SetProperty(["R3"], "row", "B"))
    assert snapshot(copy) == before
    assert snapshot(project) != before
