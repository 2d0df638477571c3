"""A checker re-routing only the moved racks' links finds what a full routing finds."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from layout.commands import CommandStack, MoveItems, RotateItems
from layout.generator import ClusterRequest, generate
from physics import Checker, check
from physics.cabling import route
from physics.fabric import LINK_TIERS

_PROJECT = generate(ClusterRequest(gpus=4_096))
_RACKS = [
    _PROJECT.items.ids[r] for r in np.flatnonzero(np.isin(_PROJECT.kinds(), ["gpu_rack",
                                                                            "network_rack"]))
]  # fmt: skip
_CABLING = ("links_by_medium", "links_without_medium", "longest_link", "cable_bom",
            "cable_total_m", "cable_cost_usd", "worst_tray_fill", "worst_latency_ns")  # fmt: skip

moves = st.lists(
    st.tuples(st.sampled_from(_RACKS), st.floats(-30, 30), st.floats(-30, 30)),
    min_size=1, max_size=4,
)  # fmt: skip


def _same_routing(first, second) -> None:
    for tier in LINK_TIERS:
        a, b = first.tiers[tier], second.tiers[tier]
        for name in ("length_m", "medium", "stock_m", "cost_usd", "latency_ns", "on_trays",
                     "in_row"):  # fmt: skip
            assert np.array_equal(getattr(a, name), getattr(b, name),
                                  equal_nan=name not in ("on_trays", "in_row"))  # fmt: skip
    assert np.array_equal(first.fill, second.fill)
    # The front-end, storage and management networks' cables too.
    assert (first.others is None) == (second.others is None)
    if first.others is not None:
        for name in ("a", "b", "count", "speed_gbps"):
            assert np.array_equal(getattr(first.others.links, name),
                                  getattr(second.others.links, name))  # fmt: skip
        for name in ("length_m", "medium", "stock_m", "cost_usd", "slot", "on_trays"):
            assert np.array_equal(getattr(first.others, name), getattr(second.others, name))


@settings(max_examples=15, deadline=None)
@given(moves)
def test_incremental_routing_equals_full_routing(steps):
    project = _PROJECT.snapshot()
    checker = Checker()
    checker.check(project)
    stack = CommandStack(project)
    for item_id, dx, dy in steps:
        stack.push(MoveItems.by(project, [item_id], round(dx, 1), round(dy, 1)))
        incremental = checker.check(project)
        full = check(project)
        assert incremental.violations == full.violations
        assert {k: incremental.metrics[k] for k in _CABLING} == {
            k: full.metrics[k] for k in _CABLING
        }
    _same_routing(_routed(checker, project), route(project))
    for _ in steps:
        stack.undo()
    assert checker.check(project).violations == check(project).violations
    _same_routing(_routed(checker, project), route(project))


def _routed(checker: Checker, project):
    # The routing the checker's own, incremental check computed.
    return checker.solve(project).cabling


def test_moving_one_rack_reroutes_only_its_bundles():
    project = _PROJECT.snapshot()
    checker = Checker()
    checker.check(project)
    before = _routed(checker, project)
    rack = project.items.get("R00003")
    CommandStack(project).push(MoveItems(["R00003"], [rack.x + 5.0], [rack.y]))
    after = _routed(checker, project)
    row = project.items.row("R00003")
    for tier in LINK_TIERS:
        bundle = after.bundles[tier]
        touches = (bundle.a == row) | (bundle.b == row)
        same = np.array_equal(before.tiers[tier].length_m[~touches],
                              after.tiers[tier].length_m[~touches])  # fmt: skip
        assert same
    bundle = after.bundles["gpu-leaf"]
    touches = bundle.a == row
    assert touches.any()
    assert (after.tiers["gpu-leaf"].length_m[touches]
            != before.tiers["gpu-leaf"].length_m[touches]).all()  # fmt: skip
    _same_routing(after, route(project))


# Steps of whole racks along the row, and quarter turns: moves that part rows and join them.
row_steps = st.lists(
    st.tuples(st.sampled_from(_RACKS), st.sampled_from([-1.2, -0.6, 0.6, 1.2, 3.0]),
              st.sampled_from([0.0, 0.0, 90.0])),
    min_size=1, max_size=4,
)  # fmt: skip


@settings(max_examples=10, deadline=None)
@given(row_steps)
def test_parting_and_joining_rows_incrementally_equals_full_routing(steps):
    project = _PROJECT.snapshot()
    checker = Checker()
    checker.check(project)
    stack = CommandStack(project)
    for item_id, dx, turn in steps:
        # A turn alone (no move) must be seen as well as a move.
        edit = (RotateItems.by(project, [item_id], turn) if turn
                else MoveItems.by(project, [item_id], dx, 0.0))  # fmt: skip
        stack.push(edit)
        _same_routing(_routed(checker, project), route(project))
    while stack.can_undo():
        stack.undo()
    _same_routing(_routed(checker, project), route(project))


def test_moving_a_rack_out_of_the_row_sends_its_neighbours_links_to_the_trays():
    # R00008 stands between R00007 and its leaf rack L00001: taking it out of the row
    # parts R00001..R00007 from L00001, whose links (neither rack moved) take the trays.
    project = _PROJECT.snapshot()
    checker = Checker()
    checker.check(project)
    bundle = _routed(checker, project).bundles["gpu-leaf"]
    r7, leaf = project.items.row("R00007"), project.items.row("L00001")
    k = int(np.flatnonzero((bundle.a == r7) & (bundle.b == leaf))[0])
    assert _routed(checker, project).tiers["gpu-leaf"].in_row[k]
    rack = project.items.get("R00008")
    CommandStack(project).push(MoveItems(["R00008"], [rack.x], [rack.y + 5.0]))
    after = _routed(checker, project)
    assert not after.tiers["gpu-leaf"].in_row[k]
    assert after.tiers["gpu-leaf"].on_trays[k]
    _same_routing(after, route(project))
