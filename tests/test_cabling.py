"""Cabling: routed lengths, media, tray fill and the Manhattan fallback, against hand work.

Small layouts: colossus-hgx-h100-lc GPU racks (64 GPUs, so 64 links to their
leaf at 400G) and net-sn5600-16 leaf racks on one tier; trays drawn by hand.
Rule defaults: trays at 3.0 m, ports at 1.2 m (rise = drop = 1.8 m), slack
10 %, 0.5 m service loop at each end, fill limit 50 %.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from layout.catalog import default_catalog
from layout.floor import Floor
from layout.generator import ClusterRequest, generate
from layout.items import Item
from layout.project import FabricSpec, Project, TrayPlan, TraySegment
from layout.rules import Rules
from physics import check
from physics.cabling import rack_cables, route
from physics.fabric import LINK_TIERS, derive
from physics.media import MediaTable, stock_lengths
from physics.trays import TrayNetwork

RACK = "colossus-hgx-h100-lc"
LEAF = "net-sn5600-16"
AOC_3MM_MM2 = math.pi * 3.0**2 / 4  # aoc-400g, 3 mm


def _project(
    racks: dict[str, tuple[float, float]],
    leaves: dict[str, tuple[float, float]],
    serves: dict[str, list[str]],
    trays: list[tuple[tuple[float, float], tuple[float, float]]],
    *,
    rules: Rules | None = None,
    hall: tuple[float, float] = (40.0, 30.0),
) -> Project:
    items = [Item(r, RACK, x, y) for r, (x, y) in racks.items()]
    items += [Item(n, LEAF, x, y, properties={"tier": "leaf"}) for n, (x, y) in leaves.items()]
    spec = FabricSpec(switch_type="sn5600", nic_speed_gbps=400, assignments=serves)
    plan = TrayPlan(segments=[
        TraySegment(id=f"T{k + 1}", a=list(a), b=list(b)) for k, (a, b) in enumerate(trays)
    ])  # fmt: skip
    return Project(Floor.rectangle(*hall), items=items, fabric=spec, trays=plan,
                   rules=rules)  # fmt: skip


def _only(result, tier="gpu-leaf"):
    return result.tiers[tier], result.bundles[tier]


# --- lengths ------------------------------------------------------------------------------
def test_two_racks_one_tray_by_hand():
    # G1 stands 0.5 m beside the tray: a 0.5 m hop to (2, 5); L1 is on the tray at x = 8.
    project = _project({"G1": (2.0, 5.5)}, {"L1": (8.0, 5.0)}, {"L1": ["G1"]},
                       [((0.0, 5.0), (10.0, 5.0))])  # fmt: skip
    cables, bundle = _only(route(project))
    # (rise 1.8 + hop 0.5 + tray 6 + drop 1.8) × 1.1 + 2 × 0.5
    expected = (1.8 + 0.5 + 6.0 + 1.8) * 1.1 + 1.0
    assert cables.length_m[0] == pytest.approx(expected)  # 12.11 m
    assert int(bundle.count[0]) == 64
    result = route(project)
    assert result.media[cables.medium[0]].id == "aoc-400g"  # 700 + 8 × 15 < MMF 1,200 + 2 × 13
    assert cables.stock_m[0] == 15.0
    assert cables.cost_usd[0] == pytest.approx(700 + 8 * 15)
    assert cables.latency_ns[0] == pytest.approx(expected * 4.9)
    assert cables.on_trays[0]


def test_rules_change_rise_slack_and_loops():
    rules = (
        Rules().with_value("tray_height_m", 4.0).with_value("port_height_m", 1.0)
        .with_value("cable_slack", 0.2).with_value("service_loop_m", 1.0)
    )  # fmt: skip
    project = _project({"G1": (2.0, 5.0)}, {"L1": (8.0, 5.0)}, {"L1": ["G1"]},
                       [((0.0, 5.0), (10.0, 5.0))], rules=rules)  # fmt: skip
    cables, _ = _only(route(project))
    assert cables.length_m[0] == pytest.approx((3.0 + 6.0 + 3.0) * 1.2 + 2.0)


def test_path_follows_the_trays_around_a_corner():
    # L-shaped tray: G1 on the horizontal run, L1 on the vertical one.
    project = _project({"G1": (2.0, 0.0)}, {"L1": (10.0, 7.0)}, {"L1": ["G1"]},
                       [((0.0, 0.0), (10.0, 0.0)), ((10.0, 0.0), (10.0, 10.0))])  # fmt: skip
    cables, _ = _only(route(project))
    assert cables.length_m[0] == pytest.approx((3.6 + 8.0 + 7.0) * 1.1 + 1.0)


# --- media -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def table():
    return MediaTable.of(default_catalog(), Rules())


@pytest.mark.parametrize(
    ("length", "medium"),
    [(1.8, "dac-400g"), (2.5, "acc-400g"), (25.0, "aoc-400g"), (45.0, "mmf-sr4-400g"),
     (700.0, "smf-fr4-400g")],
)  # fmt: skip
def test_media_thresholds(table, length, medium):
    choice = table.choose(np.array([length]), 400.0)
    assert table.ids[choice.medium[0]] == medium


def test_longer_than_every_medium_has_none(table):
    choice = table.choose(np.array([10_000.5]), 400.0)
    assert choice.medium[0] == -1
    assert math.isnan(choice.stock_m[0])


def test_stock_rounding(table):
    dac = default_catalog()["dac-400g"]
    assert stock_lengths(dac, np.array([1.3, 0.2, 2.0, 2.01])).tolist()[:3] == [1.5, 0.5, 2.0]
    assert math.isnan(stock_lengths(dac, np.array([2.01]))[0])
    choice = table.choose(np.array([1.3, 45.2, 25.0]), 400.0)
    assert choice.stock_m.tolist() == [1.5, 46.0, 30.0]  # DAC; multimode cut to 1 m; AOC


def test_no_multimode_pushes_45_m_to_single_mode():
    table = MediaTable.of(default_catalog(), Rules().with_value("allow_mmf", 0))
    choice = table.choose(np.array([45.0]), 400.0)
    assert table.ids[choice.medium[0]] == "smf-dr4-400g"


def test_a_link_no_allowed_medium_reaches_is_an_error_naming_its_racks():
    # 58 m along the tray with single-mode forbidden: multimode stops at 50 m.
    rules = Rules().with_value("allow_smf", 0)
    project = _project({"G1": (1.0, 5.0)}, {"L1": (59.0, 5.0)}, {"L1": ["G1"]},
                       [((0.0, 5.0), (60.0, 5.0))], rules=rules, hall=(60.0, 30.0))  # fmt: skip
    found = [v for v in check(project).violations if v.rule == "cabling.reach"]
    assert len(found) == 1
    assert found[0].severity == "error"
    assert set(found[0].items) == {"G1", "L1"}
    length = (3.6 + 58.0) * 1.1 + 1.0
    assert f"{length:.1f} m" in found[0].message
    assert check(project).metrics["links_without_medium"] == 64


# --- tray fill -------------------------------------------------------------------------------
def test_tray_fill_by_hand():
    # T1 (0,0)-(10,0), T2 (10,0)-(10,10), T3 (10,10)-(20,10).
    # G1 at x=2 and G2 at x=5 on T1; L2 on T2 at y=5 serves G2; L1 on T3 at x=15 serves G1.
    # T1: [2,5] G1's 64 cables, [5,10] 128. T2: [0,5] 128, [5,10] 64. T3: [10,15] 64.
    project = _project(
        {"G1": (2.0, 0.0), "G2": (5.0, 0.0)}, {"L1": (15.0, 10.0), "L2": (10.0, 5.0)},
        {"L1": ["G1"], "L2": ["G2"]},
        [((0.0, 0.0), (10.0, 0.0)), ((10.0, 0.0), (10.0, 10.0)), ((10.0, 10.0), (20.0, 10.0))],
    )  # fmt: skip
    result = route(project)
    tray_m2 = 0.6 * 0.15
    per_cable = AOC_3MM_MM2 * 1e-6
    assert result.fill == pytest.approx(
        [128 * per_cable / tray_m2, 128 * per_cable / tray_m2, 64 * per_cable / tray_m2],
        rel=1e-4,
    )
    assert check(project).metrics["worst_tray_fill"]["segment"] == "T1"


def test_overfull_tray_is_an_error_with_its_fill():
    # 0.02 m × 0.01 m = 200 mm²; at 50 % it holds 100 mm²: 64 AOC (452 mm²) overfill it.
    project = _project({"G1": (2.0, 5.0)}, {"L1": (8.0, 5.0)}, {"L1": ["G1"]},
                       [((0.0, 5.0), (10.0, 5.0))])  # fmt: skip
    narrow = TraySegment(id="T1", a=[0.0, 5.0], b=[10.0, 5.0], width_m=0.02, depth_m=0.01)
    project.trays = TrayPlan(segments=[narrow])
    found = [v for v in check(project).violations if v.rule == "cabling.tray_fill"]
    assert len(found) == 1
    assert found[0].items == ("T1",)
    fill = 64 * AOC_3MM_MM2 / 200
    assert f"{fill:.0%}" in found[0].message


def test_edge_loads_equal_walking_each_path():
    # The subtree sums give what walking every bundle's path edge by edge gives.
    project = generate(ClusterRequest(gpus=4_096))
    net = TrayNetwork(project.trays)
    rng = np.random.default_rng(7)
    source = rng.integers(0, net.n_nodes, 300)
    target = rng.integers(0, net.n_nodes, 300)
    load = rng.integers(1, 1000, 300)
    walked = np.zeros(len(net.edge_key), np.int64)
    index = {int(k): e for e, k in enumerate(net.edge_key)}
    for s, t, w in zip(source, target, load, strict=True):
        node = int(t)
        while node != s:
            parent = int(net.pred[s, node])
            lo, hi = min(parent, node), max(parent, node)
            walked[index[lo * net.n_nodes + hi]] += w
            node = parent
    assert np.array_equal(net.edge_loads(source, target, load), walked)


# --- no tray path ---------------------------------------------------------------------------
def test_racks_on_separate_trays_fall_back_to_manhattan_and_warn():
    project = _project({"G1": (2.0, 2.0)}, {"L1": (20.0, 12.0)}, {"L1": ["G1"]},
                       [((0.0, 2.0), (10.0, 2.0)), ((15.0, 12.0), (25.0, 12.0))])  # fmt: skip
    cables, _ = _only(route(project))
    assert not cables.on_trays[0]
    assert cables.length_m[0] == pytest.approx((3.6 + 18.0 + 10.0) * 1.1 + 1.0)
    found = [v for v in check(project).violations if v.rule == "cabling.no_tray_path"]
    assert len(found) == 1
    assert found[0].severity == "warning"
    assert set(found[0].items) == {"G1", "L1"}


def test_no_trays_warns_once_and_latency_keeps_the_estimate():
    project = _project({"G1": (2.0, 2.0)}, {"L1": (20.0, 12.0)}, {"L1": ["G1"]}, [])
    results = check(project)
    found = [v for v in results.violations if v.rule == "cabling.no_tray_path"]
    assert len(found) == 1
    assert found[0].items == ()
    # Without trays the fabric latency is the centre-to-centre estimate at 4.9 ns/m.
    assert results.metrics["worst_latency_ns"] == pytest.approx(600 + 2 * 28.0 * 4.9, abs=0.05)


# --- at scale ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def generated():
    return generate(ClusterRequest(gpus=4_096))


def test_generated_project_bom_counts_every_link(generated):
    results = check(generated)
    m = results.metrics
    fabric = derive(generated)
    # The BOM holds the fabric's links and the front-end, storage and management networks'.
    others = sum(n["links"] for n in m.get("networks", {}).values())
    links = sum(fabric.links[t].total for t in LINK_TIERS) + others
    assert sum(entry["count"] for entry in m["cable_bom"]) == links
    assert sum(m["links_by_medium"].values()) == links
    assert m["links_without_medium"] == 0
    assert not [
        v for v in results.violations if v.rule in ("cabling.reach", "cabling.no_tray_path")
    ]
    bom = [(e["medium"], e["stock_length_m"]) for e in m["cable_bom"]]
    ids = [t.id for t in generated.catalog.of_kind("medium")]
    assert bom == sorted(bom, key=lambda e: (ids.index(e[0]), e[1]))
    assert m["cable_cost_usd"] == pytest.approx(sum(e["cost_usd"] for e in m["cable_bom"]))
    result = route(generated)
    for tier in LINK_TIERS:
        assert len(result.tiers[tier].length_m) == len(fabric.links[tier].a)
        assert (result.tiers[tier].medium >= 0).all()


def test_latency_uses_the_slowest_routed_link_of_each_tier(generated):
    result = route(generated)
    slowest = sum(float(c.latency_ns.max()) for c in result.tiers.values() if len(c.latency_ns))
    m = check(generated).metrics
    assert m["worst_latency_ns"] == pytest.approx(3 * 600 + 2 * slowest, abs=0.05)


def test_rack_cables_summarise_one_rack(generated):
    result = route(generated)
    leaf = generated.items.row("L00001")
    summary = rack_cables(result, leaf)
    bundle = result.bundles["gpu-leaf"]
    down = int(bundle.count[bundle.b == leaf].sum())
    up = int(result.bundles["leaf-spine"].count[result.bundles["leaf-spine"].a == leaf].sum())
    assert summary["links"] == down + up
    assert sum(summary["media"].values()) == down + up
    longest = max(c["length_m"] for c in summary["cables"])
    assert summary["longest"]["length_m"] == longest
