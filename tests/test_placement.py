"""Placement rules on hand-worked layouts (Colossus rack: 0.6 m wide, 1.2 m deep)."""

from __future__ import annotations

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from layout.floor import Floor, Obstacle
from layout.items import Item
from layout.project import Project, Waiver
from physics import check

RACK = "colossus-hgx-h100-lc"


def project_of(*items: Item, obstacles: tuple[Obstacle, ...] = (), size=(30.0, 12.0)) -> Project:
    return Project(Floor.rectangle(*size, obstacles=obstacles), items=list(items))


def found(project: Project, rule: str | None = None, **kwargs):
    results = check(project, **kwargs)
    return [v for v in results.violations if rule is None or v.rule == rule]


def test_rack_dimensions_from_catalog() -> None:
    project = project_of(Item("R1", RACK, 5, 6))
    assert project.footprints()[0].bounds == pytest.approx((4.7, 5.4, 5.3, 6.6))


def test_quarter_turn_swaps_width_and_depth() -> None:
    project = project_of(Item("R1", RACK, 5, 6, rotation=90))
    assert project.footprints()[0].bounds == pytest.approx((4.4, 5.7, 5.6, 6.3))


def test_a_clean_row_has_no_violations() -> None:
    row = [Item(f"R{k}", RACK, 5 + 0.6 * k, 6) for k in range(8)]
    assert found(project_of(*row)) == []


def test_flush_against_the_wall_is_inside_and_partly_outside_is_not() -> None:
    # Depth 1.2 m along y; a rack at y = 0.6 touches the wall y = 0. Rotated so its
    # aisles run along x, away from the wall.
    inside = project_of(Item("R1", RACK, 5, 0.3, rotation=90))
    assert found(inside, "placement.outside_floor") == []
    half_out = project_of(Item("R1", RACK, 5, 0.0, rotation=90))
    (v,) = found(half_out, "placement.outside_floor")
    assert v.items == ("R1",)
    assert "50% outside" in v.message


def test_overlap_area_is_reported_once_per_pair() -> None:
    project = project_of(Item("R1", RACK, 5, 6), Item("R2", RACK, 5.3, 6), Item("R3", RACK, 5.6, 6))
    violations = found(project, "placement.overlap")
    # R1/R2 and R2/R3 share 0.3 x 1.2 = 0.36 m²; R1 and R3 only touch.
    assert sorted(v.items for v in violations) == [("R1", "R2"), ("R2", "R3")]
    assert all("0.36 m²" in v.message for v in violations)


def test_rack_on_column_names_the_column() -> None:
    column = Obstacle("C7", "column", shapely.box(14.8, 5.8, 15.4, 6.4))
    (v,) = found(project_of(Item("R1", RACK, 15, 6), obstacles=(column,)), "placement.on_obstacle")
    assert v.items == ("R1",)
    assert "column C7" in v.message
    # Rack x 14.7..15.3, column x 14.8..15.4: the shared part is centred at x 15.05.
    assert v.position == pytest.approx((15.05, 6.1))


def test_facing_rows_need_the_aisle_width() -> None:
    # Row A faces down (rotation 180), row B faces up (rotation 0): their fronts face
    # each other across y = 6. Rack depth 1.2 m, so fronts are at y = 6 -/+ gap / 2.
    def rows(gap: float) -> Project:
        a = Item("A1", RACK, 5, 6 - gap / 2 - 0.6, rotation=180)
        b = Item("B1", RACK, 5, 6 + gap / 2 + 0.6, rotation=0)
        return project_of(a, b)

    assert found(rows(1.2), "placement.service_aisle") == []
    narrow = found(rows(1.0), "placement.service_aisle")
    assert sorted(v.items for v in narrow) == [("A1", "B1"), ("B1", "A1")]
    assert all("front aisle 1.00 m clear, rule 1.20 m" in v.message for v in narrow)


def test_rear_against_the_wall_and_column_in_the_aisle() -> None:
    # Front faces -y at rotation 0, so the rear is at y + 0.6; the wall at y = 12.
    against_wall = project_of(Item("R1", RACK, 5, 12 - 0.6 - 0.5))
    (v,) = found(against_wall, "placement.service_aisle")
    assert "rear aisle 0.50 m clear" in v.message
    assert "floor's edge" in v.message
    column = Obstacle("C1", "column", shapely.box(4.8, 3.9, 5.2, 4.3))
    blocked = project_of(Item("R1", RACK, 5, 6), obstacles=(column,))
    (v,) = found(blocked, "placement.service_aisle")
    # Front face at y = 5.4; the column's near edge at y = 4.3.
    assert "front aisle 1.10 m clear" in v.message
    assert "column C1" in v.message


def test_rule_value_is_the_project_s() -> None:
    from layout.rules import Rules

    project = project_of(Item("R1", RACK, 5, 12 - 0.6 - 0.9))
    assert len(found(project, "placement.service_aisle")) == 1
    project.rules = Rules({"service_aisle_m": 0.9})
    assert found(project, "placement.service_aisle") == []


def test_waiver_sets_a_violation_aside_and_disable_skips_the_rule() -> None:
    project = project_of(Item("R1", RACK, 5, 6), Item("R2", RACK, 5.3, 6))
    project.waivers = (
        Waiver("placement.overlap", ("R2", "R1"), "vendor-approved half-width pair"),
    )
    results = check(project)
    assert [v.rule for v in results.violations] == []
    assert [(v.items, w.reason) for v, w in results.waived] == [
        (("R1", "R2"), "vendor-approved half-width pair")
    ]
    results = check(
        project_of(Item("R1", RACK, 5, 6), Item("R2", RACK, 5.3, 6)), disabled=["placement.overlap"]
    )
    assert "placement.overlap" not in results.rules_run
    assert results.violations == []


def test_many_racks_are_checked_without_false_positives() -> None:
    # 40 rows of 50 racks with 1.2 m aisles: fronts face each other in pairs.
    items = []
    for r in range(40):
        pair, second = divmod(r, 2)
        y = 2 + pair * (2 * 1.2 + 2 * 1.2) + second * (1.2 + 1.2) + 0.6
        for k in range(50):
            items.append(
                Item(f"R{r}-{k}", RACK, 2 + 0.3 + 0.6 * k, y, rotation=180 if second == 0 else 0)
            )
    project = project_of(*items, size=(40.0, 2 + 20 * 4.8 + 2))
    results = check(project)
    assert results.metrics["racks"] == 2000
    assert results.violations == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 10),
            st.floats(0, 10),
            st.floats(0.1, 3),
            st.floats(0.1, 3),
            st.sampled_from([0.0, 90.0, 180.0, 270.0, 30.0, 45.0]),
        ),
        min_size=2,
        max_size=2,
    )
)
def test_shared_area_equals_the_geometric_intersection(boxes) -> None:
    import numpy as np

    from layout.geometry import rotated_rectangles
    from physics.placement import shared_areas

    x, y, w, d, rot = (np.array(v) for v in zip(*boxes, strict=True))
    first, second = rotated_rectangles(x, y, w, d, rot)
    expected = shapely.area(shapely.intersection(first, second))
    got = shared_areas(np.array([first]), np.array([second]))[0]
    assert got == pytest.approx(expected, abs=1e-9)


# -- one legality: the edits' placement index and the rules agree ----------
LEGALITY_RULES = ("placement.outside_floor", "placement.overlap", "placement.on_obstacle")
BUSWAY = "busway-415v-60a"  # overhead: shares no floor space


def _legality_project(x: float, y: float, rotation: float) -> Project:
    """A 8 m × 6 m hall with a column, a rack R1, an overhead busway and the rack R2 at
    (x, y) turned by ``rotation``."""
    column = Obstacle("C1", "column", shapely.box(4.0, 2.0, 4.6, 2.6))
    return project_of(
        Item("R1", RACK, 2.0, 3.0),
        Item("B1", BUSWAY, 3.0, 1.0),
        Item("R2", RACK, x, y, rotation=rotation),
        obstacles=(column,),
        size=(8.0, 6.0),
    )


def _rule_finds_r2(project: Project) -> bool:
    from physics.engine import registered_rules

    others = [r.id for r in registered_rules() if r.id not in LEGALITY_RULES]
    return any("R2" in v.items for v in check(project, disabled=others).violations)


@settings(max_examples=250, deadline=None)
@given(
    st.integers(-4, 164).map(lambda k: round(k * 0.05, 6)),
    st.integers(-4, 124).map(lambda k: round(k * 0.05, 6)),
    st.sampled_from([0.0, 90.0, 180.0, 270.0]),
)
def test_the_drag_refuses_exactly_where_the_placement_rules_find_a_violation(x, y, rotation):
    from physics.placement import MovingSet, PlacementIndex

    # R2 starts on clear floor; the drag moves it to (x, y), the check sees it there.
    start = _legality_project(6.5, 4.5, rotation)
    moving = MovingSet.of_items(PlacementIndex(start), ["R2"])
    assert moving.prior == frozenset()
    dx, dy = x - 6.5, y - 4.5
    refused = bool(moving.conflicts(dx, dy))
    new_x, new_y = moving.positions(dx, dy)
    there = _legality_project(float(new_x[0]), float(new_y[0]), rotation)
    assert refused == _rule_finds_r2(there), (x, y, rotation, moving.conflicts(dx, dy))


@pytest.mark.parametrize(
    ("x", "y", "rotation", "says"),
    [
        (6.5, 4.5, 0.0, None),
        (0.3, 0.6, 0.0, None),  # flush with two walls
        (1.4, 3.0, 0.0, None),  # flush with R1's left side
        (1.45, 3.0, 0.0, "overlaps R1"),
        (3.0, 1.0, 0.0, None),  # under the overhead busway
        (4.3, 2.3, 90.0, "stands on column C1"),
        (3.4, 2.3, 90.0, None),  # flush with the column's left side
        (7.8, 3.0, 0.0, "outside the floor"),
    ],
)
def test_positions_near_walls_obstacles_and_racks(x, y, rotation, says):
    from physics.placement import MovingSet, PlacementIndex

    moving = MovingSet.of_items(PlacementIndex(_legality_project(6.5, 4.5, rotation)), ["R2"])
    conflicts = moving.conflicts_at([x], [y])
    assert [c.what for c in conflicts] == ([] if says is None else [says])
    assert _rule_finds_r2(_legality_project(x, y, rotation)) == (says is not None)


def test_only_quarter_turns_are_allowed_and_an_old_odd_turn_is_not_the_edits_fault():
    import numpy as np

    from physics.placement import NOT_A_QUARTER_TURN, MovingSet, PlacementIndex, refusal

    index = PlacementIndex(_legality_project(6.5, 4.5, 0.0))
    turned = MovingSet.of_items(index, ["R2"], rotation=np.array([45.0]))
    assert refusal(turned.conflicts(0.0, 0.0), "rotate") == (
        f"Cannot rotate R2 there: {NOT_A_QUARTER_TURN}"
    )
    for quarter in (90.0, 180.0, 270.0):
        assert MovingSet.of_items(index, ["R2"], rotation=np.array([quarter])).conflicts(0, 0) == []
    # A unit a file left at 30° may still be moved and turned on by quarter turns.
    odd = PlacementIndex(_legality_project(6.5, 4.5, 30.0))
    assert MovingSet.of_items(odd, ["R2"]).conflicts(-0.6, 0.0) == []
    assert MovingSet.of_items(odd, ["R2"], rotation=np.array([120.0])).conflicts(0, 0) == []


def test_units_set_apart_from_each_other_are_checked_against_each_other():
    from physics.placement import MovingSet, PlacementIndex

    project = project_of(Item("R1", RACK, 5.0, 6.0), Item("R2", RACK, 8.0, 6.0))
    moving = MovingSet.of_items(PlacementIndex(project), ["R1", "R2"])
    # A shift keeps them apart; putting both at one x stacks them.
    assert moving.conflicts(1.0, 0.0) == []
    assert moving.conflicts_at([9.0, 9.0], [6.0, 6.0])[0].message() == (
        "Cannot place R2 there: overlaps R1"
    )


def test_the_placement_index_is_shared_and_follows_the_model():
    from physics.placement import PlacementIndex

    project = project_of(Item("R1", RACK, 5.0, 6.0))
    index = PlacementIndex.for_project(project)
    assert PlacementIndex.for_project(project) is index
    tree = index.tree
    assert PlacementIndex.for_project(project).tree is tree  # no change, no rebuild
    project.set_positions(["R1"], [6.0], [6.0])
    assert PlacementIndex.for_project(project).tree is not tree
    assert index.bounds[0][0] == pytest.approx(5.7)
    # The shared index does not keep a closed project alive.
    import gc
    import weakref

    gone = weakref.ref(project)
    del project, index
    gc.collect()
    assert gone() is None
