"""A Checker re-checking after moves finds exactly what a full check finds."""

from __future__ import annotations

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from layout.commands import CommandStack, MoveItems, RotateItems
from layout.floor import Floor, Obstacle
from layout.generator import ClusterRequest, generate
from layout.items import Item
from physics import Checker, check
from physics.tray_sizing import size_trays

RACK = "colossus-hgx-h100-lc"


def _layout() -> tuple:
    column = Obstacle("C1", "column", shapely.box(9.7, 5.7, 10.3, 6.3))
    items = [Item(f"R{k}", RACK, 3.3 + 0.6 * k, 4.0, 180.0) for k in range(8)]
    items += [Item(f"S{k}", RACK, 3.3 + 0.6 * k, 7.0, 0.0) for k in range(8)]
    return Floor.rectangle(16.0, 11.0, obstacles=(column,)), items


moves = st.lists(
    st.tuples(
        st.sampled_from([f"R{k}" for k in range(8)] + [f"S{k}" for k in range(8)]),
        st.floats(-3, 3), st.floats(-3, 3), st.sampled_from([0, 0, 0, 90, 180]),
    ),
    min_size=1, max_size=6,
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(moves)
def test_incremental_checks_equal_full_checks(steps) -> None:
    from layout.project import Project

    floor, items = _layout()
    project = Project(floor, items=items)
    checker = Checker()
    checker.check(project)
    stack = CommandStack(project)
    for item_id, dx, dy, turn in steps:
        stack.push(MoveItems.by(project, [item_id], round(dx, 1), round(dy, 1)))
        if turn:
            stack.push(RotateItems.by(project, [item_id], turn))
        assert checker.check(project).violations == check(project).violations
    for _ in steps:
        stack.undo()
        assert checker.check(project).violations == check(project).violations


def test_moving_a_rack_of_the_example_into_the_aisle_and_back():
    project = generate(ClusterRequest(gpus=8_192), tray_sizer=size_trays)
    checker = Checker()
    assert checker.check(project).violations == []
    stack = CommandStack(project)
    rack = project.items.get("R00003")
    stack.push(MoveItems(["R00003"], [rack.x], [rack.y + 1.0]))
    incremental = checker.check(project)
    assert incremental.violations == check(project).violations
    assert {v.rule for v in incremental.violations} >= {"placement.service_aisle"}
    stack.undo()
    assert checker.check(project).violations == []
