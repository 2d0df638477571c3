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
from physics.fabric import LINK_TIERS, derive, fail_switch_rack, installed_switches
from physics.tray_sizing import size_trays

PER_HOP_NS = 600.0  # rules default per_hop_latency_ns
FIBER_NS_PER_M = 4.9  # rules default fiber_ns_per_m
RACK_GPUS = 64  # colossus-hgx-h100-lc: 8 servers × 8 GPUs


@pytest.fixture
def project():
    """A fresh 4,096-GPU project (tests edit it)."""
    return generate(ClusterRequest(gpus=4_096), tray_sizer=size_trays)


@pytest.fixture(scope="module")
def three_tier():
    """A 20,480-GPU project (3 tiers); read-only."""
    return generate(ClusterRequest(gpus=20_000), tray_sizer=size_trays)


@pytest.fixture(scope="module")
def colossus():
    """The 100,352-GPU project; read-only."""
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
def test_overloaded_leaf_rack_is_named(project):
    stack = CommandStack(project)
    assignments = dict(project.fabric.assignments)
    # L00001 takes L00002's racks too: 16 racks × 64 GPUs = 1,024 GPU ports on
    # 8 switches × 64 down-ports = 512.
    assignments["L00001"] = assignments["L00001"] + assignments.pop("L00002")
    _set_fabric(stack, assignments=assignments)

    found = _violations(project, "fabric.radix")
    assert len(found) == 1
    assert found[0].items == ("L00001",)
    assert "1,024 GPU links on 512 leaf down-ports" in found[0].message
    leaf = project.items.get("L00001")
    assert found[0].position == (leaf.x, leaf.y)
    assert _violations(project, "fabric.connected") == []
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
    expected = hops * PER_HOP_NS + 2 * sum(longest.values()) * FIBER_NS_PER_M
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
    assert report["bisection_lost"] == pytest.approx(8 / 160)


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
    project = request.getfixturevalue(name)
    fabric = derive(project)
    gpus = project.gpu_count()
    k = fabric.radix
    assert k == 128  # SN5600 at 400G
    switches = {t: _switches(project, t) for t in ("leaf", "spine", "core")}
    leaves = sum(switches["leaf"].values())
    spines = sum(switches["spine"].values())
    links = {t: fabric.links[t].total for t in LINK_TIERS}
    # Non-blocking: leaf 64 down / 64 up; spines of a 3-tier tree 64 down / 64 up.
    assert (fabric.leaf_down, fabric.leaf_up) == (64, 64)
    assert links["gpu-leaf"] == gpus
    assert links["leaf-spine"] == leaves * fabric.leaf_up
    if fabric.tiers == 3:
        assert links["spine-core"] == spines * fabric.spine_up
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
    down_ports = {"leaf": fabric.leaf_down, "spine": fabric.spine_down, "core": k}
    below = {"leaf": "gpu-leaf", "spine": "leaf-spine", "core": "spine-core"}
    above = {"leaf": "leaf-spine", "spine": "spine-core", "core": None}
    for tier, racks in switches.items():
        for rack, n_switches in racks.items():
            row = project.items.row(rack)
            used_down = int(down[below[tier]][row])
            used_up = int(up[above[tier]][row]) if above[tier] else 0
            assert used_down <= n_switches * down_ports[tier], (rack, used_down)
            assert used_down + used_up <= n_switches * k, (rack, used_down, used_up)
    # Every GPU rack sends all its GPUs' links to exactly one leaf rack.
    gpu_rows = list(np.flatnonzero(project.kinds() == "gpu_rack"))
    assert all(int(up["gpu-leaf"][r]) == RACK_GPUS for r in gpu_rows), ids[gpu_rows[0]]
