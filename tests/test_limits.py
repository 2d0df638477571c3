"""One set of limits: whatever an edit leaves, the tool can save and read back.

The loader's limits (:mod:`layout.limits`) are enforced by every writer of the
model. Here any sequence of edits, through the real commands and with hostile
values (huge or non-finite coordinates, long or broken text, odd rotations,
many items, unsavable sections), is either refused with a
:class:`~layout.errors.CoherenceError` that leaves the project as it was, or
leaves a project whose file loads equal.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layout import dclayout
from layout.commands import (
    AddItems,
    Command,
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
from layout.errors import CoherenceError, EditError
from layout.floor import Floor, Obstacle
from layout.items import Item
from layout.limits import (
    MAX_COORD_M,
    MAX_ID_CHARS,
    MAX_ITEMS,
    MAX_NAME_CHARS,
    MAX_OBSTACLES,
    MAX_PROPERTY_INT,
    MAX_PROPERTY_TEXT_CHARS,
    MAX_VERTICES,
)
from layout.project import FabricSpec, Project, TrayPlan, TraySegment, Waiver
from layout.rules import Rules

DATA = Path(__file__).parent / "data" / "overlap_and_column.dclayout"
RACK = "colossus-hgx-h100-lc"
AIR_RACK = "dgx-h100-air-4"


def loaded() -> Project:
    return dclayout.load(DATA)


def reloaded_text(project: Project) -> str:
    """The project's file text after a round trip through the loader."""
    return dclayout.dumps(dclayout.loads(dclayout.dumps(project)))


# -- hostile values -----------------------------------------------------------------------------
coordinates = st.one_of(
    st.floats(-60, 60, allow_nan=False),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([MAX_COORD_M, -MAX_COORD_M, MAX_COORD_M * (1 + 1e-12), 1e300, -1e-300]),
    st.integers(-(10**400), 10**400),
)
rotations = st.one_of(
    st.sampled_from([0, 90, 180, 270, 360, -90, 45.5, -1e-20, 1e300, 720.25]),
    st.floats(allow_nan=True, allow_infinity=True),
)
strings = st.one_of(
    st.text(max_size=12),
    st.text(st.characters(codec="utf-8"), min_size=MAX_NAME_CHARS - 1, max_size=MAX_NAME_CHARS + 2),
    st.text(st.characters(categories=["Cs", "Cc", "Zl"]), min_size=1, max_size=4),
)
texts = st.one_of(strings, st.integers(), st.none())
item_ids = st.one_of(
    st.sampled_from([f"N{k}" for k in range(12)]),
    st.sampled_from(["R1", "", "-bad", "a b", "x" * MAX_ID_CHARS, "x" * (MAX_ID_CHARS + 1)]),
    st.text(max_size=3),
)
property_keys = st.one_of(
    st.sampled_from(["row", "note", "kw", "x", "name", "", "k" * MAX_ID_CHARS]),
    st.sampled_from(["k" * (MAX_ID_CHARS + 1), "\ud800"]),
)
property_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from([MAX_PROPERTY_INT, MAX_PROPERTY_INT + 1, -(10**400), 10**5000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["t" * MAX_PROPERTY_TEXT_CHARS, "t" * (MAX_PROPERTY_TEXT_CHARS + 1), "\udfff"]),
    st.sampled_from([np.float64(2.5), np.int64(7), np.float64("nan"), [1], {"a": 1}]),
)
types = st.sampled_from([RACK, AIR_RACK, "no-such-type", "t" * 200, ""])


def _polygon_floor(draw: st.DrawFn) -> Floor:
    choice = draw(st.sampled_from(["rectangle", "far obstacle", "bow tie"]))
    if choice == "rectangle":
        return Floor.rectangle(draw(coordinates), draw(coordinates))
    if choice == "far obstacle":
        x = draw(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                           st.sampled_from([MAX_COORD_M - 0.6, MAX_COORD_M])))  # fmt: skip
        column = Obstacle("C9", "column", shapely.box(x, 1.0, x + 0.6, 1.6))
        return Floor(shapely.box(0, 0, 30, 12), (column,))
    return Floor(shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]))


@st.composite
def edits(draw: st.DrawFn, project: Project) -> Command:  # noqa: PLR0911 - one return per kind
    """One edit (a command, or the refusal its making raised) with hostile values."""
    present = list(project.items.ids) or ["R1"]
    chosen = draw(st.lists(st.sampled_from(present), min_size=1, max_size=3, unique=True))
    kind = draw(st.sampled_from([
        "add", "add many", "remove", "move", "move by", "rotate", "rotate by", "rename", "type",
        "prop", "floor", "rules", "waive", "fabric", "trays", "disable", "group",
    ]))  # fmt: skip
    if kind == "add":
        return AddItems([Item(draw(item_ids), draw(types), draw(coordinates), draw(coordinates),
                              draw(rotations), draw(texts),  # type: ignore[arg-type]
                              {draw(property_keys): draw(property_values)})])  # fmt: skip
    if kind == "add many":
        start = len(project.items) + 100
        count = draw(st.sampled_from([1, 50, 200]))
        return AddItems([Item(f"M{start + k}", RACK, 0.5 + (k % 40) * 0.6, 1.0 + k // 40, 0.0)
                         for k in range(count)])  # fmt: skip
    if kind == "remove":
        return RemoveItems(chosen + draw(st.lists(item_ids, max_size=1)))
    if kind == "move":
        return MoveItems(chosen, [draw(coordinates) for _ in chosen],
                         [draw(coordinates) for _ in chosen])  # fmt: skip
    if kind == "move by":
        return MoveItems.by(project, chosen, draw(coordinates), draw(coordinates))
    if kind == "rotate":
        return RotateItems(chosen, [draw(rotations) for _ in chosen])
    if kind == "rotate by":
        return RotateItems.by(project, chosen, draw(rotations))
    if kind == "rename":
        return RenameItem(chosen[0], draw(texts))  # type: ignore[arg-type]
    if kind == "type":
        return SetItemType(chosen[0], draw(types))
    if kind == "prop":
        return SetProperty(chosen, draw(property_keys), draw(property_values))
    if kind == "floor":
        return ReplaceSection("floor", _polygon_floor(draw))
    if kind == "rules":
        return ReplaceSection("rules", Rules({"service_aisle_m": draw(st.floats(0.5, 3.0))}))
    if kind == "waive":
        reason = draw(st.one_of(st.just("accepted"), st.just("r" * 3000),
                                strings.filter(str.strip)))  # fmt: skip
        return ReplaceSection("waivers", (Waiver("placement.overlap", tuple(chosen), reason),))  # type: ignore[arg-type]
    if kind == "fabric":
        spec = FabricSpec().model_copy(update={
            "nics_per_gpu": draw(st.sampled_from([1, 2, 1000])),
            "assignments": {draw(item_ids): chosen},
        })  # fmt: skip
        return ReplaceSection("fabric", spec)
    if kind == "trays":
        segment = TraySegment(id="T1", a=[0.0, 0.0], b=[5.0, 0.0])
        update = {"b": [draw(coordinates), 0.0]}
        return ReplaceSection("trays", TrayPlan(segments=[segment.model_copy(update=update)]))
    if kind == "disable":
        return ReplaceSection("disabled_rules", frozenset({draw(st.sampled_from(
            ["placement.overlap", "", "r" * 101, "\ud800"]))}))  # fmt: skip
    return CommandGroup([
        MoveItems.by(project, chosen, 0.6, 0.0),
        RotateItems.by(project, chosen, 90),
        RenameItem(chosen[0], draw(texts)),  # type: ignore[arg-type]
    ])  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_sequence_of_edits_saves_a_file_that_loads_equal(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = loaded()
    stack = CommandStack(project)
    for _ in range(data.draw(st.integers(1, 10), label="edits")):
        before = dclayout.dumps(project)
        try:
            # Making the command may already refuse (an item checks its values).
            stack.push(data.draw(edits(project), label="edit"))
        except CoherenceError as err:
            refusal: str | None = str(err)
        else:
            refusal = None
        if refusal is not None:
            assert "\n" not in refusal
            assert dclayout.dumps(project) == before, "a refused edit changed the project"
            continue
        text = dclayout.dumps(project)
        assert reloaded_text(project) == text
    path = tmp_path_factory.mktemp("saved") / "edited.dclayout"
    dclayout.save(project, path)
    assert dclayout.dumps(dclayout.load(path)) == dclayout.dumps(project)


# -- each limit, named ----------------------------------------------------------------------------
def _refusal(command: Command, project: Project | None = None) -> str:
    project = project if project is not None else loaded()
    before = dclayout.dumps(project)
    with pytest.raises(EditError) as refused:
        CommandStack(project).push(command)
    assert dclayout.dumps(project) == before
    return str(refused.value)


def test_a_move_beyond_the_limit_is_refused_naming_the_item_and_the_limit() -> None:
    message = _refusal(MoveItems(["R1", "R2"], [5.0, 150_000.0], [6.0, 6.0]))
    assert message == "item R2: x: 150,000 m is beyond ±100,000 m"
    assert "item R1: y: expected a finite number" in _refusal(
        MoveItems(["R1"], [5.0], [math.inf]))  # fmt: skip
    assert "3 values given for 1 items" in _refusal(MoveItems(["R1"], [1.0, 2.0, 3.0], [1.0]))
    assert "beyond any usable number" in _refusal(MoveItems(["R1"], [10**400], [1.0]))


def test_placing_an_item_beyond_the_limit_is_refused() -> None:
    with pytest.raises(EditError, match=r"item N1: y: 100,001 m is beyond ±100,000 m"):
        Item("N1", RACK, 5.0, MAX_COORD_M + 1)
    edge = loaded()
    CommandStack(edge).push(AddItems([Item("N1", RACK, -MAX_COORD_M, MAX_COORD_M)]))
    assert dclayout.loads(dclayout.dumps(edge)).items.get("N1").x == -MAX_COORD_M


def test_names_and_ids_longer_than_the_limits_are_refused() -> None:
    assert _refusal(RenameItem("R1", "n" * (MAX_NAME_CHARS + 1))) == (
        "item R1: name longer than 200 characters (201)"
    )
    assert "lone surrogate" in _refusal(RenameItem("R1", "rack \ud800"))
    with pytest.raises(EditError, match=r"item id longer than 64 characters \(65\)"):
        Item("R" * (MAX_ID_CHARS + 1), RACK, 1.0, 1.0)
    assert "property name" in _refusal(SetProperty(["R1"], "k" * (MAX_ID_CHARS + 1), 1))
    assert "beyond ±9,223,372,036,854,775,807" in _refusal(
        SetProperty(["R1"], "serial", MAX_PROPERTY_INT + 1))  # fmt: skip
    assert "longer than 10,000 characters (10,001)" in _refusal(
        SetProperty(["R1"], "note", "t" * (MAX_PROPERTY_TEXT_CHARS + 1)))  # fmt: skip


def test_rotations_fold_into_what_a_file_holds() -> None:
    project = loaded()
    CommandStack(project).push(RotateItems(["R1", "R2"], [-1e-20, 1e300]))
    assert all(0 <= r < 360 for r in project.items.rotation)
    assert reloaded_text(project) == dclayout.dumps(project)
    assert "expected a finite number" in _refusal(RotateItems(["R1"], [math.nan]))


def test_more_items_than_a_project_may_hold_are_refused() -> None:
    project = loaded()
    one = Item("N1", RACK, 1.0, 1.0)
    message = _refusal(AddItems([one] * (MAX_ITEMS - len(project.items) + 1)), project)
    assert message == f"{MAX_ITEMS + 1:,} items is more than the {MAX_ITEMS:,} a project may hold"


def test_a_floor_beyond_the_limits_cannot_be_made() -> None:
    def ring(count: int) -> shapely.Polygon:
        angles = np.linspace(0, 2 * math.pi, count, endpoint=False)
        return shapely.Polygon(np.column_stack((15 + 10 * np.cos(angles), 6 + 5 * np.sin(angles))))

    largest = Floor(ring(MAX_VERTICES))
    project = loaded()
    CommandStack(project).push(ReplaceSection("floor", largest))
    assert reloaded_text(project) == dclayout.dumps(project)
    with pytest.raises(EditError, match="100,001 vertices is more than the 100,000"):
        Floor(ring(MAX_VERTICES + 1))
    with pytest.raises(EditError, match="beyond ±100,000 m"):
        Floor.rectangle(MAX_COORD_M + 1, 10)
    with pytest.raises(EditError, match="its edges cross"):
        Floor(shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]))
    column = Obstacle("C1", "column", shapely.box(1, 1, 2, 2))
    with pytest.raises(EditError, match="200,001 obstacles is more than the 200,000"):
        Floor(shapely.box(0, 0, 30, 12), (column,) * (MAX_OBSTACLES + 1))
    with pytest.raises(EditError, match="obstacle id 'C1' is used twice"):
        Floor(shapely.box(0, 0, 30, 12), (column, column))


def test_a_section_copied_with_unsavable_values_is_refused() -> None:
    spec = FabricSpec().model_copy(update={"nics_per_gpu": 1000})
    assert _refusal(ReplaceSection("fabric", spec)).startswith("fabric.nics_per_gpu")
    segment = TraySegment(id="T1", a=[0.0, 0.0], b=[5.0, 0.0])
    far = TrayPlan(segments=[segment.model_copy(update={"b": [MAX_COORD_M * 2, 0.0]})])
    assert _refusal(ReplaceSection("trays", far)).startswith("trays.segments[0].b[0]")


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: Waiver("placement.overlap", ("R1",), 5), "reason: expected text, got 5"),
        (lambda: Waiver("placement.overlap", ("R" * 65,), "why"), "item longer than 64"),
        (lambda: Waiver("r" * 101, ("R1",), "why"), "rule longer than 100"),
        (lambda: Project(Floor.rectangle(10, 10), name="n" * 201), "project name longer than 200"),
        (lambda: Project(Floor.rectangle(10, 10), name="x\ud800"), "project name: not valid text"),
        (lambda: Project(Floor.rectangle(10, 10), disabled_rules=[""]), "must not be empty"),
    ],
)
def test_waivers_and_project_texts_keep_the_limits_a_file_can_hold(make, says) -> None:
    with pytest.raises(EditError, match=says):
        make()


def test_a_project_within_the_text_limits_saves_and_loads_equal(tmp_path: Path) -> None:
    project = Project(
        Floor.rectangle(10, 10), name="n" * 200, description="d" * 1000,
        waivers=[Waiver("placement.overlap", ("R1", "R2"), "r" * 2000)],
        disabled_rules=["x" * 100],
    )  # fmt: skip
    path = tmp_path / "texts.dclayout"
    dclayout.save(project, path)
    assert dclayout.dumps(dclayout.load(path)) == dclayout.dumps(project)
