"""Fabric coherence rules and what-ifs on generated projects, against hand computation.

Edits go through :class:`layout.commands.CommandStack`, as the GUI's would.
The 4,096-GPU project: 64 racks of 64 GPUs in 8 arrays of 8 racks, 64 leaves
(8 rails × 8 arrays) in 4 leaf racks of 16 SN5600 (k = 128 at 400G), each
serving 16 racks; 4,096 ≤ k²/2 = 8,192, so 2 tiers: 64 × 64 uplinks over
spines of 128 ports = 32 spines in 2 spine racks. Worst path: 3 switch hops.
"""

from __future__ import annotations

import numpy as np
import pytest

from layout.commands import CommandStack, ReplaceSection
from layout.errors import CoherenceError
from layout.generator import ClusterRequest, generate
from physics import check
from physics.fabric import LINK_TIERS, TIERS, derive, fail_switch_rack, installed_switches
from physics.tray_sizing import size_trays

SN5600_HOP_NS = 600.0  # the catalog's SN5600 latency_ns (an estimate; see switches.yaml)
FIBER_NS_PER_M = 4.9  # rules default fiber_ns_per_m
RACK_GPUS = 64  # colossus-hgx-h100-lc: 8 servers × 8 GPUs


@pytest.fixture
def project():
    """A fresh 4,096-GPU project (tests edit it)."""
    return generate(ClusterRequest(gpus=4_096), tray_sizer=size_trays)


@pytest.fixture(scope="module")
def three_tier():
    """A 20,032-GPU project (313 racks, 3 tiers); read-only."""
    return generate(ClusterRequest(gpus=20_000), tray_sizer=size_trays)


@pytest.fixture(scope="module")
def colossus():
    """The 100,032-GPU project (1,563 racks); read-only."""
    return generate(ClusterRequest(gpus=100_000), tray_sizer=size_trays)


def _violations(project, rule: str):
    return [v for v in check(project).violations if v.rule == rule]


def _set_fabric(stack: CommandStack, **update) -> None:
    stack.push(ReplaceSection("fabric", stack.project.fabric.model_copy(update=update)))


def test_the_generated_project_is_as_worked_out(project):
    results = check(project)
    assert results.violations == []
    m = results.metrics
    assert m["gpus"] == 4_096
    assert m["tiers"] == 2
    assert m["max_switch_hops"] == 3
    assert m["switches_per_tier"] == {"leaf": 64, "spine": 32}
    # 8 arrays, one leaf rack of 8 SN5600 (one per rail) each.
    assert sorted(project.fabric.assignments) == [f"L{k:05d}" for k in range(1, 9)]


# --- fabric.connected ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("gpus", "leaf", "racks"),
    # One leaf rack of 8 switches per array of 8 racks.
    [(4_096, "L00002", 8), (1_536, "L00003", 8)],
)
def test_unassigned_leaf_rack_disconnects_exactly_its_racks(gpus, leaf, racks):
    project = generate(ClusterRequest(gpus=gpus), tray_sizer=size_trays)
    stack = CommandStack(project)
    lost = list(project.fabric.assignments[leaf])
    assert len(lost) == racks
    remaining = {k: v for k, v in project.fabric.assignments.items() if k != leaf}
    _set_fabric(stack, assignments=remaining)

    found = _violations(project, "fabric.connected")
    assert len(found) == 1
    assert found[0].severity == "error"
    assert sorted(found[0].items) == sorted(lost)
    assert f"{racks} GPU rack(s) have no leaf switch" in found[0].message
    assert check(project).metrics["coherent"] is False

    stack.undo()
    assert check(project).violations == []


# --- fabric.radix ----------------------------------------------------------------------
def test_a_leaf_rack_full_of_gpu_links_has_no_uplinks(project):
    stack = CommandStack(project)
    assignments = dict(project.fabric.assignments)
    # L00001 takes L00002's racks too: 16 racks × 64 GPUs = 1,024 GPU links on
    # 8 SN5600 × 128 ports at 400G = 1,024 ports: within its radix, with no port left
    # for an uplink. Its racks are cut off and the leaf has nothing up.
    assignments["L00001"] = assignments["L00001"] + assignments.pop("L00002")
    _set_fabric(stack, assignments=assignments)

    results = check(project)
    assert [v for v in results.violations if v.rule == "fabric.radix"] == []
    (over,) = [v for v in results.violations if v.rule == "fabric.oversubscription"]
    assert "worst L00001 at no uplinks" in over.message
    (cut,) = [v for v in results.violations if v.rule == "fabric.connected"]
    assert "16 GPU rack(s) (1,024 GPU ports) are cut off" in cut.message
    assert results.metrics["coherent"] is False


def test_overloaded_leaf_rack_is_named(project):
    stack = CommandStack(project)
    assignments = dict(project.fabric.assignments)
    # L00001 takes L00002's and L00003's racks too: 24 racks × 64 GPUs = 1,536 GPU links
    # on 8 switches × 128 ports = 1,024: 150 % of its ports.
    assignments["L00001"] = (
        assignments["L00001"] + assignments.pop("L00002") + assignments.pop("L00003")
    )
    _set_fabric(stack, assignments=assignments)

    found = _violations(project, "fabric.radix")
    assert len(found) == 1
    assert found[0].items == ("L00001",)
    assert "1,536 × 400G GPU links on 8 × sn5600 use 150% of its ports" in found[0].message
    leaf = project.items.get("L00001")
    assert found[0].position == (leaf.x, leaf.y)
    assert check(project).metrics["coherent"] is False


# --- fabric.oversubscription -------------------------------------------------------------
def test_target_below_what_the_network_gives_is_oversubscription():
    built = generate(ClusterRequest(gpus=4_096, oversubscription=(3.0,)), tray_sizer=size_trays)
    assert check(built).violations == []
    stack = CommandStack(built)
    _set_fabric(stack, oversubscription=[1.0])
    found = _violations(built, "fabric.oversubscription")
    assert len(found) == 1
    assert "3" in found[0].message


def test_target_below_what_the_network_gives_is_not_coherent():
    built = generate(ClusterRequest(gpus=4_096, oversubscription=(3.0,)), tray_sizer=size_trays)
    stack = CommandStack(built)
    _set_fabric(stack, oversubscription=[1.0])
    results = check(built)
    assert results.metrics["coherent"] is False
    assert results.errors >= 1


# --- latency -------------------------------------------------------------------------------
def _bundle_rows(bundle) -> list[tuple[int, int, int]]:
    """(row a, row b, link count) of every bundle, as plain Python tuples."""
    return list(zip(bundle.a.tolist(), bundle.b.tolist(), bundle.count.tolist(), strict=True))


def _manhattan(project, a: str, b: str) -> float:
    p, q = project.items.get(a), project.items.get(b)
    return abs(p.x - q.x) + abs(p.y - q.y)


def _longest_links_by_hand(project) -> dict[str, float]:
    """The longest rack-to-rack Manhattan distance of each link tier, with plain loops."""
    fabric = derive(project)
    ids = project.items.ids
    longest = {}
    for tier in LINK_TIERS:
        bundle = fabric.links[tier]
        best = 0.0
        for a, b, count in _bundle_rows(bundle):
            if count > 0:
                best = max(best, _manhattan(project, ids[a], ids[b]))
        longest[tier] = best
    # GPU-leaf independently of the derivation: straight from the assignments.
    by_assignment = max(
        _manhattan(project, leaf, rack)
        for leaf, racks in project.fabric.assignments.items()
        for rack in racks
    )
    assert longest["gpu-leaf"] == pytest.approx(by_assignment)
    return longest


@pytest.mark.parametrize(("gpus", "tiers"), [(4_096, 2), (20_000, 3)])
def test_worst_latency_without_trays_is_hops_plus_longest_manhattan_links(gpus, tiers):
    # With no trays to route over, lengths are Manhattan estimates at fiber speed.
    from layout.project import TrayPlan

    project = generate(ClusterRequest(gpus=gpus), tray_sizer=size_trays)
    CommandStack(project).push(ReplaceSection("trays", TrayPlan()))
    longest = _longest_links_by_hand(project)
    hops = 2 * tiers - 1
    assert project.catalog["sn5600"].latency_ns == SN5600_HOP_NS
    # Up through every tier and down again, each hop an SN5600.
    expected = hops * SN5600_HOP_NS + 2 * sum(longest.values()) * FIBER_NS_PER_M
    m = check(project).metrics
    assert m["tiers"] == tiers
    assert m["worst_latency_ns"] == pytest.approx(expected, abs=0.05)
    assert all(longest[t] > 0 for t in LINK_TIERS[:tiers])


def test_leaf_spine_links_mesh_each_pod(three_tier):
    # Every leaf rack reaches every spine rack of its pod (so the longest such pair counts).
    fabric = derive(three_tier)
    ids = three_tier.items.ids
    bundle = fabric.links["leaf-spine"]
    wired = {(ids[a], ids[b]) for a, b, _ in _bundle_rows(bundle)}
    racks = [i for i in three_tier.items if i.properties.get("network", "backend") == "backend"]
    pairs = {
        (leaf.id, spine.id)
        for leaf in racks
        if leaf.properties.get("tier") == "leaf"
        for spine in racks
        if spine.properties.get("tier") == "spine"
        and spine.properties.get("pod") == leaf.properties.get("pod")
    }
    assert wired == pairs


def test_latency_budget_exceeded_warns_with_the_worst_latency(project):
    stack = CommandStack(project)
    stack.push(ReplaceSection("rules", project.rules.with_value("latency_budget_ns", 100)))
    results = check(project)
    worst = results.metrics["worst_latency_ns"]
    assert worst > 100
    found = [v for v in results.violations if v.rule == "fabric.latency"]
    assert len(found) == 1
    assert found[0].severity == "warning"
    assert f"{worst:,.0f} ns" in found[0].message
    assert "100 ns budget" in found[0].message
    assert results.errors == 0
    stack.undo()
    assert _violations(project, "fabric.latency") == []


def test_latency_over_budget_is_not_coherent(project):
    stack = CommandStack(project)
    stack.push(ReplaceSection("rules", project.rules.with_value("latency_budget_ns", 100)))
    assert check(project).metrics["coherent"] is False


# --- what-if: lose a network rack ------------------------------------------------------------
def test_failing_a_leaf_rack_disconnects_the_gpus_it_serves(project):
    for leaf, racks in project.fabric.assignments.items():
        gpus = sum(project.catalog[project.items.get(r).type_id].gpus for r in racks)
        assert gpus == 8 * RACK_GPUS
        report = fail_switch_rack(project, leaf)
        # Eight equal leaf racks: one takes an eighth of the leaf-spine links with it.
        assert report == {
            "rack": leaf,
            "tier": "leaf",
            "gpus_disconnected": gpus,
            "bisection_lost": pytest.approx(1 / len(project.fabric.assignments)),
        }


def _switches(project, tier: str) -> dict[str, int]:
    return {
        i.id: installed_switches(project, project.items.row(i.id))
        for i in project.items
        if i.properties.get("tier") == tier and i.properties.get("network", "backend") == "backend"
    }


def test_failing_a_spine_rack_loses_its_share_of_the_spines(project):
    spines = _switches(project, "spine")
    assert sum(spines.values()) == 32
    for rack, n in spines.items():
        report = fail_switch_rack(project, rack)
        assert report["gpus_disconnected"] == 0
        assert report["bisection_lost"] == pytest.approx(n / 32)  # 8 / 32


def test_failing_a_core_rack_loses_its_share_of_the_cores(three_tier):
    cores = _switches(three_tier, "core")
    assert sum(cores.values()) == 160
    report = fail_switch_rack(three_tier, "C00001")
    assert report["gpus_disconnected"] == 0
    # The spines' uplinks are shared evenly over the 20 core racks of 8, in whole links:
    # each takes a twentieth of them, within a link.
    links = derive(three_tier).links["spine-core"].total
    assert report["bisection_lost"] == pytest.approx(8 / 160, abs=1 / links)


def test_failing_a_gpu_rack_is_refused(project):
    with pytest.raises(CoherenceError, match="not a network rack"):
        fail_switch_rack(project, "R00001")


def test_failing_a_pods_only_spine_rack_cuts_off_the_pod():
    # 129 arrays: 16 full pods of 64 leaves (8 leaf racks of 8 each) and a 17th pod of
    # one array, whose 8 leaves need 8 × 64 / 64 = 8 spines: one spine rack, S00129.
    project = generate(ClusterRequest(gpus=129 * 512), tray_sizer=size_trays)
    fabric = derive(project)
    bundle = fabric.links["leaf-spine"]
    ids = project.items.ids
    leaf_row = project.items.row("L00129")
    spines_of_leaf = {ids[b] for a, b, _ in _bundle_rows(bundle) if a == leaf_row}
    assert spines_of_leaf == {"S00129"}
    report = fail_switch_rack(project, "S00129")
    assert report["gpus_disconnected"] == 8 * RACK_GPUS


# --- port conservation -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["project", "three_tier", "colossus"])
def test_links_conserve_ports_and_no_switch_is_over_radix(name, request):
    # The check draws links from what is placed, not from the planned split: every
    # leaf's uplinks are the ports its switches have left after its GPU links, as far as
    # its pod's spines take them, and a spine's ports split into down and up by what its
    # leaves use. By hand on these non-blocking designs: a full leaf switch serves 64
    # GPUs (8 racks' GPU n) and sends its other 128 - 64 = 64 ports up; the spines of a
    # pod were placed for 64 uplinks a leaf (3 tiers: a spine keeps its 64-port share of
    # the cores), so a leaf with spare down-ports (a partial array) also gets 64; a
    # spine takes one link from each of its pod's 64 leaves and sends 64 to the cores.
    project = request.getfixturevalue(name)
    fabric = derive(project)
    gpus = project.gpu_count()
    k = project.catalog["sn5600"].radix(400)
    assert k == 128
    switches = {t: _switches(project, t) for t in ("leaf", "spine", "core")}
    leaves = sum(switches["leaf"].values())
    spines = sum(switches["spine"].values())
    links = {t: fabric.links[t].total for t in LINK_TIERS}
    assert links["gpu-leaf"] == gpus
    assert links["leaf-spine"] == leaves * 64
    if fabric.tiers == 3:
        assert links["spine-core"] == spines * 64
    else:
        assert links["spine-core"] == 0

    n = len(project.items)
    ids = project.items.ids
    down = {t: np.zeros(n, np.int64) for t in LINK_TIERS}
    up = {t: np.zeros(n, np.int64) for t in LINK_TIERS}
    for tier in LINK_TIERS:
        bundle = fabric.links[tier]
        for a, b, count in _bundle_rows(bundle):
            up[tier][a] += count  # the lower end's uplinks
            down[tier][b] += count  # the upper end's downlinks
    below = {"leaf": "gpu-leaf", "spine": "leaf-spine", "core": "spine-core"}
    above = {"leaf": "leaf-spine", "spine": "spine-core", "core": None}
    for tier, racks in switches.items():
        for rack, n_switches in racks.items():
            row = project.items.row(rack)
            used_down = int(down[below[tier]][row])
            used_up = int(up[above[tier]][row]) if above[tier] else 0
            assert used_down + used_up <= n_switches * k, (rack, used_down, used_up)
            assert fabric.budget_used[row] <= n_switches + 1e-9
            if tier == "leaf" and fabric.tiers > 1:
                assert used_up == n_switches * 64, (rack, used_up)
            if tier == "spine" and fabric.tiers == 3:
                assert used_up == n_switches * 64, (rack, used_up)
            # Down:up in bandwidth: never above the 1:1 the design was made for.
            below_top = TIERS.index(tier) < fabric.tiers - 1
            if below_top:
                assert fabric.ratio(np.array([row]))[0] <= 1 + 1e-9, rack
    # Every GPU rack sends all its GPUs' links to exactly one leaf rack.
    gpu_rows = list(np.flatnonzero(project.kinds() == "gpu_rack"))
    assert all(int(up["gpu-leaf"][r]) == RACK_GPUS for r in gpu_rows), ids[gpu_rows[0]]


# --- the derivation's parts, by hand ----------------------------------------------------------
def test_water_filling_is_max_min_fair_and_spread_by_ports():
    from physics.fabric import water_fill

    # 120 ports for wants of 100, 50 and 10: the level L with 10 + 50 + L = 120 is 60,
    # so 10, 50 and 60; each spread over two equal racks, half each.
    counts = water_fill(np.array([100, 50, 10]), np.array([60, 60]))
    assert counts.tolist() == [[30, 30], [25, 25], [5, 5]]
    # Enough ports: every want granted, spread in proportion (1:3), whole links, no
    # column over its ports.
    counts = water_fill(np.array([7, 5]), np.array([10, 30]))
    assert counts.sum(axis=1).tolist() == [7, 5]
    assert (counts.sum(axis=0) <= [10, 30]).all()
    assert np.abs(counts - np.outer([7, 5], [10, 30]) / 40).max() < 1


def _hand_fabric(**spec):
    """Two racks of 64 GPUs (400G NICs) served by leaf racks L1, L2 (8 SN5600 each) of
    plane 0, and a front-end rack F1 that the GPU fabric must ignore."""
    from layout.floor import Floor
    from layout.items import Item
    from layout.project import FabricSpec, Project

    items = [
        Item("G1", "colossus-hgx-h100-lc", 2.0, 5.5),
        Item("G2", "colossus-hgx-h100-lc", 2.6, 5.5),
        Item("L1", "net-sn5600-8", 8.0, 5.0, properties={"tier": "leaf"}),
        Item("L2", "net-sn5600-8", 9.0, 5.0, properties={"tier": "leaf"}),
        Item("F1", "net-sn5600-8", 10.0, 5.0,
             properties={"tier": "leaf", "network": "frontend"}),
    ]  # fmt: skip
    fabric = FabricSpec(switch_type="sn5600", nic_speed_gbps=400,
                        assignments={"L1": ["G1", "G2"], "L2": ["G1", "G2"]}, **spec)  # fmt: skip
    return Project(Floor.rectangle(20.0, 10.0), items=items, fabric=fabric)


def test_dual_homed_nics_spread_over_the_leaf_racks_serving_them():
    # Dual-homed: each NIC port gives two links per plane, each at half of 400G; a rack
    # served by two leaf racks sends each 64 of its 128.
    project = _hand_fabric(dual_homed=True)
    fabric = derive(project)
    assert fabric.link_speeds_gbps[0] == 200.0
    assert fabric.links_per_nic_port == 2
    gpu = fabric.links["gpu-leaf"]
    assert sorted(zip(gpu.a.tolist(), gpu.b.tolist(), gpu.count.tolist(), strict=True)) == [
        (0, 2, 64), (0, 3, 64), (1, 2, 64), (1, 3, 64)]
    # 128 links at 200G on 8 SN5600 of 256 ports at 200G: 1/16 of the ports.
    assert fabric.budget_used[2] == pytest.approx(128 / 256)
    # The front-end rack is not part of the GPU fabric.
    assert fabric.type_of[4] == -1
    assert 4 not in fabric.switch_rows["leaf"].tolist()
    assert [v for v in check(project).violations if v.rule == "fabric.link_speed"] == []


def test_without_dual_homing_two_leaf_racks_share_a_racks_links():
    fabric = derive(_hand_fabric())
    gpu = fabric.links["gpu-leaf"]
    assert gpu.total == 2 * 64
    assert sorted(gpu.count.tolist()) == [32, 32, 32, 32]
