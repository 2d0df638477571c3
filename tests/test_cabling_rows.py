"""Runs along a row: racks that touch in a row are cabled rack to rack, never up to the tray.

Small layouts worked by hand: colossus-hgx-h100-lc GPU racks (0.6 m wide,
64 GPUs, so 64 links at 400G to their leaf) and net-sn5600-16 leaf racks
(0.8 m wide), 1.2 m deep; one tray along the row's centre line (no hops).
Rule defaults: in-rack allowance 0.4 m and loop 0.1 m per end, slack 10 %,
runs along a row up to 5 m; over the tray: rise = drop = 1.8 m, 0.5 m
service loop per end. Catalog at 400G: DAC to 2 m (0.5/1/1.5/2 m), ACC to
5 m (4/5 m, 500 USD), AOC to 30 m (3/5/10/15/20/30 m, 700 + 8 USD/m).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from layout.commands import CommandStack, MoveItems, RotateItems
from layout.floor import Floor
from layout.generator import ClusterRequest, generate
from layout.items import Item
from layout.project import FabricSpec, Project, TrayPlan, TraySegment
from layout.rules import Rules
from physics import Checker, check
from physics.cabling import route
from physics.tray_sizing import size_trays

RACK = "colossus-hgx-h100-lc"
LEAF = "net-sn5600-16"
ROW_Y = 5.0
AOC_3MM_MM2 = math.pi * 3.0**2 / 4


def _row_length(centres_m: float) -> float:
    """A run along the row: (centre distance + 2 × 0.4) × 1.1 + 2 × 0.1."""
    return (centres_m + 0.8) * 1.1 + 0.2


def _tray_length(tray_m: float) -> float:
    """Over the tray on the row's centre line: (1.8 + tray + 1.8) × 1.1 + 2 × 0.5."""
    return (3.6 + tray_m) * 1.1 + 1.0


def _project(
    racks: dict[str, float | tuple[float, float, float]],
    leaves: dict[str, float | tuple[float, float, float]],
    serves: dict[str, list[str]],
    *,
    rules: Rules | None = None,
) -> Project:
    """Racks at x on the row (or at (x, y, rotation)); one tray along the row."""

    def place(spec: float | tuple[float, float, float]) -> tuple[float, float, float]:
        return (spec, ROW_Y, 0.0) if isinstance(spec, float) else spec

    items = [Item(r, RACK, *place(at)[:2], rotation=place(at)[2]) for r, at in racks.items()]
    items += [Item(n, LEAF, *place(at)[:2], rotation=place(at)[2], properties={"tier": "leaf"})
              for n, at in leaves.items()]  # fmt: skip
    spec = FabricSpec(switch_type="sn5600", nic_speed_gbps=400, assignments=serves)
    trays = TrayPlan(segments=[TraySegment(id="T1", a=[0.0, ROW_Y], b=[30.0, ROW_Y])])
    return Project(Floor.rectangle(40.0, 30.0), items=items, fabric=spec, trays=trays,
                   rules=rules)  # fmt: skip


def _cable(result, rack: str, leaf: str) -> dict[str, object]:
    """The one bundle between ``rack`` and ``leaf``: length, medium, stock, cost, route."""
    bundle, cables = result.bundles["gpu-leaf"], result.tiers["gpu-leaf"]
    ids = list(result.ids)
    k = int(np.flatnonzero((bundle.a == ids.index(rack)) & (bundle.b == ids.index(leaf)))[0])
    medium = int(cables.medium[k])
    return {
        "length_m": float(cables.length_m[k]),
        "medium": result.media[medium].id if medium >= 0 else None,
        "stock_m": float(cables.stock_m[k]),
        "cost_usd": float(cables.cost_usd[k]),
        "in_row": bool(cables.in_row[k]),
        "on_trays": bool(cables.on_trays[k]),
        "links": int(bundle.count[k]),
    }


# --- (a) touching racks -----------------------------------------------------------------------
def test_two_touching_racks_take_a_dac_at_its_stock_length():
    # G1's right side (5.3) touches L1's left side (5.7 − 0.4): centres 0.7 m apart.
    project = _project({"G1": 5.0}, {"L1": 5.7}, {"L1": ["G1"]})
    cable = _cable(route(project), "G1", "L1")
    assert cable["length_m"] == pytest.approx(_row_length(0.7))  # 1.85 m
    assert cable["in_row"]
    assert not cable["on_trays"]
    assert (cable["medium"], cable["stock_m"], cable["cost_usd"]) == ("dac-400g", 2.0, 180.0)
    assert cable["links"] == 64
    # Over the tray the same pair needed (3.6 + 0.7) × 1.1 + 1 = 5.73 m: an AOC.
    results = check(project)
    assert results.metrics["links_by_medium"] == {"dac-400g": 64}
    assert not [v for v in results.violations if v.rule.startswith("cabling.")]


def test_a_gap_within_the_slack_still_touches_and_a_wider_one_does_not():
    touching = _project({"G1": 5.0}, {"L1": 5.7005}, {"L1": ["G1"]})  # 0.5 mm apart
    apart = _project({"G1": 5.0}, {"L1": 5.702}, {"L1": ["G1"]})  # 2 mm apart
    assert _cable(route(touching), "G1", "L1")["in_row"]
    cable = _cable(route(apart), "G1", "L1")
    assert not cable["in_row"]
    assert cable["on_trays"]
    assert cable["length_m"] == pytest.approx(_tray_length(0.702))


def test_racks_turned_a_quarter_form_a_row_along_y():
    # At 90° a rack's width runs along y: G1 (y 4.7..5.3) touches L1 (y 5.3..6.1).
    project = _project({"G1": (5.0, 5.0, 90.0)}, {"L1": (5.0, 5.7, 90.0)}, {"L1": ["G1"]})
    project.trays = TrayPlan(segments=[TraySegment(id="T1", a=[5.0, 0.0], b=[5.0, 20.0])])
    cable = _cable(route(project), "G1", "L1")
    assert cable["in_row"]
    assert cable["length_m"] == pytest.approx(_row_length(0.7))


def test_racks_whose_rows_cross_do_not_share_a_row():
    # L1 turned 90° spans x 5.3..6.5, touching G1's side, but its row runs along y.
    project = _project({"G1": 5.0}, {"L1": (5.9, ROW_Y, 90.0)}, {"L1": ["G1"]})
    cable = _cable(route(project), "G1", "L1")
    assert not cable["in_row"]
    assert cable["length_m"] == pytest.approx(_tray_length(0.9))


# --- (b) a leaf a few racks away -----------------------------------------------------------------
def test_a_leaf_three_racks_away_takes_copper_or_optics_by_length():
    # G1, G2, G3 touch in a row and L1 touches G3: G1's centre is 1.9 m from L1's.
    racks = {"G1": 5.0, "G2": 5.6, "G3": 6.2}
    project = _project(racks, {"L1": 6.9}, {"L1": list(racks)})
    result = route(project)
    far, middle, near = (_cable(result, g, "L1") for g in ("G1", "G2", "G3"))
    assert far["length_m"] == pytest.approx(_row_length(1.9))  # 3.17 m
    assert (far["medium"], far["stock_m"]) == ("acc-400g", 4.0)  # 500 < AOC 5 m: 740
    assert middle["length_m"] == pytest.approx(_row_length(1.3))  # 2.51 m
    assert (middle["medium"], middle["stock_m"]) == ("acc-400g", 4.0)
    assert (near["medium"], near["stock_m"]) == ("dac-400g", 2.0)
    assert far["in_row"]
    assert middle["in_row"]
    assert near["in_row"]
    # Without active copper the 3.17 m run is an AOC of 5 m: 700 + 8 × 5.
    no_acc = _project(racks, {"L1": 6.9}, {"L1": list(racks)},
                      rules=Rules().with_value("allow_acc", 0))  # fmt: skip
    far = _cable(route(no_acc), "G1", "L1")
    assert (far["medium"], far["stock_m"], far["cost_usd"]) == ("aoc-400g", 5.0, 740.0)


def test_a_run_longer_than_the_rule_takes_the_tray():
    # Seven touching GPU racks: G1's centre is 0.7 + 6 × 0.6 = 4.3 m from L1's, a run
    # along the row of 5.81 m > 5 m; over the tray: (3.6 + 4.3) × 1.1 + 1 = 9.69 m.
    racks = {f"G{k + 1}": 5.0 + 0.6 * k for k in range(7)}
    project = _project(racks, {"L1": 9.3}, {"L1": list(racks)})
    far = _cable(route(project), "G1", "L1")
    assert not far["in_row"]
    assert far["on_trays"]
    assert far["length_m"] == pytest.approx(_tray_length(4.3))
    assert (far["medium"], far["stock_m"]) == ("aoc-400g", 10.0)
    # G2, 3.7 m away, still runs along the row: (3.7 + 0.8) × 1.1 + 0.2 = 5.15 m > 5 m:
    # no; G3 at 3.1 m: 4.49 m, an ACC of 5 m.
    assert not _cable(route(project), "G2", "L1")["in_row"]
    g3 = _cable(route(project), "G3", "L1")
    assert g3["in_row"]
    assert (g3["medium"], g3["stock_m"]) == ("acc-400g", 5.0)
    # A planner allowing 6 m runs keeps G1 in the row, as a 10 m AOC (no copper reaches).
    longer = _project(racks, {"L1": 9.3}, {"L1": list(racks)},
                      rules=Rules().with_value("in_row_run_max_m", 6.0))  # fmt: skip
    far = _cable(route(longer), "G1", "L1")
    assert far["in_row"]
    assert far["length_m"] == pytest.approx(_row_length(4.3))
    assert (far["medium"], far["stock_m"]) == ("aoc-400g", 10.0)


def test_rules_set_the_allowance_and_the_loops():
    rules = Rules().with_value("in_rack_vertical_m", 1.0).with_value("in_rack_loop_m", 0.3)
    project = _project({"G1": 5.0}, {"L1": 5.7}, {"L1": ["G1"]}, rules=rules)
    cable = _cable(route(project), "G1", "L1")
    assert cable["length_m"] == pytest.approx((0.7 + 2.0) * 1.1 + 0.6)  # 3.57 m
    off = _project({"G1": 5.0}, {"L1": 5.7}, {"L1": ["G1"]},
                   rules=Rules().with_value("in_row_run_max_m", 0))  # fmt: skip
    assert not _cable(route(off), "G1", "L1")["in_row"]


# --- (c) an aisle in the row ----------------------------------------------------------------
def test_same_row_across_a_cross_aisle_takes_the_tray():
    # A 2.4 m cross aisle between G1 (right side 5.3) and L1 (left side 7.7).
    project = _project({"G1": 5.0}, {"L1": 8.1}, {"L1": ["G1"]})
    cable = _cable(route(project), "G1", "L1")
    assert not cable["in_row"]
    assert cable["on_trays"]
    assert cable["length_m"] == pytest.approx(_tray_length(3.1))  # 8.37 m, not 4.49 m
    assert (cable["medium"], cable["stock_m"]) == ("aoc-400g", 10.0)


def test_the_facing_row_across_the_cold_aisle_takes_the_tray():
    # L1 faces G1 from the next row, 1.8 m of cold aisle between their fronts.
    project = _project({"G1": 5.0}, {"L1": (5.0, ROW_Y - 3.0, 180.0)}, {"L1": ["G1"]})
    project.trays = TrayPlan(segments=[TraySegment(id="T1", a=[0.0, 3.5], b=[30.0, 3.5])])
    cable = _cable(route(project), "G1", "L1")
    assert not cable["in_row"]
    assert cable["on_trays"]
    assert cable["length_m"] == pytest.approx((3.6 + 1.5 + 1.5) * 1.1 + 1.0)


# --- (d) a move that parts a row -----------------------------------------------------------------
def _same_routing(first, second) -> None:
    for tier, cables in first.tiers.items():
        other = second.tiers[tier]
        for name in ("length_m", "medium", "stock_m", "cost_usd", "latency_ns", "on_trays",
                     "in_row"):  # fmt: skip
            assert np.array_equal(getattr(cables, name), getattr(other, name),
                                  equal_nan=name not in ("on_trays", "in_row"))  # fmt: skip
    assert np.array_equal(first.fill, second.fill)


def test_moving_the_rack_between_two_others_parts_their_row_incrementally_as_in_full():
    racks = {"G1": 5.0, "G2": 5.6, "G3": 6.2}
    project = _project(racks, {"L1": 6.9}, {"L1": list(racks)})
    checker = Checker()
    checker.check(project)
    assert _cable(checker.solve(project).cabling, "G1", "L1")["in_row"]
    stack = CommandStack(project)
    # G2 leaves the row: G1 stands alone, and its links to L1 (neither moved) take the tray.
    stack.push(MoveItems(["G2"], [15.0], [ROW_Y]))
    incremental = checker.solve(project).cabling
    full = route(project)
    _same_routing(incremental, full)
    g1 = _cable(incremental, "G1", "L1")
    assert not g1["in_row"]
    assert g1["length_m"] == pytest.approx(_tray_length(1.9))
    cabling = ("links_by_medium", "cable_bom", "cable_total_m", "cable_cost_usd",
               "worst_tray_fill", "longest_link")  # fmt: skip
    full_metrics, incremental_metrics = check(project).metrics, checker.check(project).metrics
    assert {k: incremental_metrics[k] for k in cabling} == {k: full_metrics[k] for k in cabling}
    # Back in its place the row is whole again.
    stack.undo()
    _same_routing(checker.solve(project).cabling, route(project))
    assert _cable(checker.solve(project).cabling, "G1", "L1")["in_row"]
    # Turned a quarter, G2 no longer lies along the row (its row runs along y).
    stack.push(RotateItems(["G2"], [90.0]))
    incremental = checker.solve(project).cabling
    _same_routing(incremental, route(project))
    assert not _cable(incremental, "G1", "L1")["in_row"]
    assert not _cable(incremental, "G2", "L1")["in_row"]
    assert _cable(incremental, "G3", "L1")["in_row"]


# --- (e) runs along a row load no tray ---------------------------------------------------------
def test_tray_fill_counts_only_the_links_on_the_tray():
    # L1 at 5.0 serves G1 touching it (5.7, along the row) and G2 at 15 over the tray:
    # the tray carries G2's 64 AOC on [5, 15] only; G1's 64 DACs stay off it.
    project = _project({"G1": 5.7, "G2": 15.0}, {"L1": 5.0}, {"L1": ["G1", "G2"]})
    result = route(project)
    assert _cable(result, "G1", "L1")["in_row"]
    assert _cable(result, "G2", "L1")["medium"] == "aoc-400g"
    per_cable_m2 = AOC_3MM_MM2 * 1e-6
    assert result.fill[0] == pytest.approx(64 * per_cable_m2 / (0.6 * 0.15), rel=1e-4)
    # Sent over the tray as well, G1's 64 cables (AOC, 5.73 m) double the fill on [5, 5.7].
    on_tray = _project({"G1": 5.7, "G2": 15.0}, {"L1": 5.0}, {"L1": ["G1", "G2"]},
                       rules=Rules().with_value("in_row_run_max_m", 0))  # fmt: skip
    assert route(on_tray).fill[0] == pytest.approx(128 * per_cable_m2 / (0.6 * 0.15), rel=1e-4)


def test_a_narrow_tray_overfills_only_with_the_row_links_on_it():
    # 0.03 × 0.02 m at 50 % holds 300 mm²: 64 AOC (452 mm²) overfill it; so does any bundle.
    # With only the in-row DACs, nothing is on the tray and it is empty.
    narrow = TrayPlan(segments=[TraySegment(id="T1", a=[0.0, ROW_Y], b=[30.0, ROW_Y],
                                            width_m=0.03, depth_m=0.02)])  # fmt: skip
    project = _project({"G1": 5.7}, {"L1": 5.0}, {"L1": ["G1"]})
    project.trays = narrow
    results = check(project)
    assert not [v for v in results.violations if v.rule == "cabling.tray_fill"]
    assert results.metrics["worst_tray_fill"] == {"segment": "T1", "fill": 0.0}
    sized = size_trays(project)
    assert (sized.segments[0].width_m, sized.segments[0].depth_m) == (0.3, 0.15)
    off = _project({"G1": 5.7}, {"L1": 5.0}, {"L1": ["G1"]},
                   rules=Rules().with_value("in_row_run_max_m", 0))  # fmt: skip
    off.trays = narrow
    found = [v for v in check(off).violations if v.rule == "cabling.tray_fill"]
    assert len(found) == 1
    assert found[0].items == ("T1",)


def test_without_trays_the_row_links_need_no_warning():
    project = _project({"G1": 5.0, "G2": 20.0}, {"L1": 5.7}, {"L1": ["G1", "G2"]})
    project.trays = TrayPlan()
    found = [v for v in check(project).violations if v.rule == "cabling.no_tray_path"]
    assert len(found) == 1
    # Only G2's 64 links are estimated; G1's run along the row is real.
    assert "64 links are estimated" in found[0].message
    assert "all" not in found[0].message


# --- a generated design --------------------------------------------------------------------
def test_a_generated_design_cables_the_racks_beside_each_leaf_in_copper():
    project = generate(ClusterRequest(gpus=4_096), tray_sizer=size_trays)
    results = check(project)
    assert not [v for v in results.violations if v.rule.startswith("cabling.")]
    media = results.metrics["links_by_medium"]
    assert media.get("dac-400g", 0) > 0
    assert media.get("acc-400g", 0) > 0
    result = route(project)
    cables, bundle = result.tiers["gpu-leaf"], result.bundles["gpu-leaf"]
    footprints = project.footprints()
    gap = shapely.distance(footprints[bundle.a], footprints[bundle.b])
    dac = np.array([m >= 0 and result.media[m].id == "dac-400g" for m in cables.medium])
    # Every DAC joins racks that touch; every run along a row fits the 5 m rule.
    assert (gap[dac] <= 1e-3).all()
    assert (cables.length_m[cables.in_row] <= 5.0 + 1e-9).all()
    assert cables.in_row[dac].all()
