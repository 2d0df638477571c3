"""Hand edits to a generated design, applied as the GUI applies them, judged by the check.

Every edit goes through :class:`layout.commands.CommandStack`; the check must name the
right rule at the right severity with the figure worked out by hand here, and the
coherence list must mark the matching criterion failed.

The designs (SN5600 at 400G: 128 ports a switch; Colossus racks of 64 GPUs):

- 4,096 GPUs, 2 tiers: 8 arrays of 8 racks; leaf racks L00001..L00008 of 8 SN5600,
  each serving 8 racks (512 GPU links, 64 per switch); its 8 × 128 − 512 = 512 free
  ports go up. 4,096 uplinks over 32 spines (4 racks of 8, 1,024 ports each): 128
  links from each leaf rack to each spine rack. Non-blocking: 1:1.
- 20,480 GPUs (40 whole arrays), 3 tiers: 40 leaf racks in 5 pods of 8 (64 leaves,
  64 spines: 8 spine racks a pod); 40 spine racks send their 8 × 128 − 512 = 512 free
  ports each to 20 core racks of 8 (1,024 ports each): 40 × 512 = 20 × 1,024 = 20,480.
"""

from __future__ import annotations

import pytest

from layout.commands import CommandStack, RemoveItems, ReplaceSection, SetItemType, SetProperty
from layout.generator import ClusterRequest, generate
from physics import check
from physics.tray_sizing import size_trays


@pytest.fixture
def two_tier():
    return generate(ClusterRequest(gpus=4_096), tray_sizer=size_trays)


@pytest.fixture(scope="module")
def three_tier_design():
    return generate(ClusterRequest(gpus=20_480), tray_sizer=size_trays)


@pytest.fixture
def three_tier(three_tier_design):
    return three_tier_design.snapshot()


def _found(project, rule_id: str):
    results = check(project)
    return [v for v in results.violations if v.rule == rule_id], results


def _failing(results) -> list[str]:
    return [c["id"] for c in results.metrics["coherence"]["criteria"] if c["pass"] is False]


def _set_fabric(stack: CommandStack, **update) -> None:
    stack.push(ReplaceSection("fabric", stack.project.fabric.model_copy(update=update)))


def test_the_designs_start_clean(two_tier, three_tier):
    for project in (two_tier, three_tier):
        results = check(project)
        assert results.violations == []
        assert results.metrics["coherent"] is True
        assert _failing(results) == []


# 1 ------------------------------------------------------------------------------------------
def test_removing_a_spine_rack_oversubscribes_every_leaf(two_tier):
    # 3 spine racks left: 3 × 1,024 = 3,072 ports for the leaves' 8 × 512 = 4,096 wanted
    # uplinks; shared fairly, 384 each: 512 down / 384 up = 1.33:1.
    stack = CommandStack(two_tier)
    stack.push(RemoveItems(["S00001"]))
    (found,), results = _found(two_tier, "fabric.oversubscription")
    assert found.severity == "error"
    assert "8 leaf rack(s) oversubscribed beyond 1:1, worst L00001 at 1.33:1" in found.message
    assert _failing(results) == ["oversubscription"]
    figure = results.metrics["coherence"]["criteria"][4]
    assert figure["figure"] == {"leaf": pytest.approx(512 / 384, abs=1e-3)}
    assert results.metrics["oversubscription"]["leaf"]["mean"] == pytest.approx(4 / 3, abs=1e-3)
    # The bisection is what crosses the leaf tier: 3,072 links × 400G = 1,228.8 Tb/s.
    assert results.metrics["bisection_tbps"] == pytest.approx(1_228.8)
    stack.undo()
    assert check(two_tier).violations == []


# 2 ------------------------------------------------------------------------------------------
def test_a_leaf_rack_swapped_for_one_of_fewer_switches_has_no_uplinks():
    # 16-switch leaf racks serve two arrays: 16 racks × 64 = 1,024 GPU links. Swapped for
    # an 8-switch rack, those take all 8 × 128 = 1,024 ports: nothing is left to go up,
    # so its 16 racks are cut off from the rest.
    project = generate(ClusterRequest(gpus=4_096, network_rack_type="net-sn5600-16"),
                       tray_sizer=size_trays)  # fmt: skip
    assert check(project).metrics["coherent"] is True
    stack = CommandStack(project)
    stack.push(SetItemType("L00001", "net-sn5600-8"))
    (over,), results = _found(project, "fabric.oversubscription")
    assert over.severity == "error"
    assert "worst L00001 at no uplinks" in over.message
    (cut,) = [v for v in results.violations if v.rule == "fabric.connected"]
    assert cut.severity == "error"
    assert "16 GPU rack(s) (1,024 GPU ports) are cut off" in cut.message
    assert "2 domains in a plane" in cut.message
    assert [v for v in results.violations if v.rule == "fabric.radix"] == []
    assert set(_failing(results)) == {"connected", "oversubscription"}
    budget = results.metrics["coherence"]["criteria"][2]
    assert budget["figure"] == pytest.approx(1.0)  # full, not over


# 3 ------------------------------------------------------------------------------------------
def test_a_switch_type_without_the_fabrics_speed_is_named(two_tier):
    # Quantum-X800 Q3400 has only 800G ports; this fabric's links run at 400G.
    stack = CommandStack(two_tier)
    stack.push(SetItemType("L00001", "net-q3400-8"))
    found, results = _found(two_tier, "fabric.link_speed")
    speed = [v for v in found if "has no 400G ports" in v.message]
    assert len(speed) == 1
    assert speed[0].severity == "error"
    assert speed[0].items == ("L00001",)
    assert ("q3400 has no 400G ports, the speed of the fabric's gpu-leaf and leaf-spine "
            "links: L00001") in speed[0].message  # fmt: skip
    assert "link_speed" in _failing(results)


# 4 ------------------------------------------------------------------------------------------
def test_an_infiniband_rack_in_an_ethernet_fabric_is_named(two_tier):
    # 16 QM9700 × 64 ports at 400G = 1,024 ports: as many as the 8 SN5600 it replaces, so
    # ports and ratios hold; but an InfiniBand switch cannot take the Ethernet spines' links.
    stack = CommandStack(two_tier)
    stack.push(SetItemType("L00001", "net-qm9700-16"))
    found, results = _found(two_tier, "fabric.link_speed")
    assert len(found) == 1
    assert found[0].severity == "error"
    assert found[0].items == ("L00001",)
    assert "L00001 holds qm9700 (infiniband) but links to sn5600 (ethernet)" in found[0].message
    assert "S00001, S00002, S00003, S00004" in found[0].message
    assert _failing(results) == ["link_speed"]
    # The swapped rack's figures: 16 switches, 512 ports down and 512 up of 1,024.
    ports = results.metrics["ports_by_switch_type"]["qm9700"]
    assert ports == {"switches": 16, "ports_used": {"400G": 1_024}, "ports_free": 0,
                     "free_at_gbps": 400.0, "port_use": 1.0}  # fmt: skip


# 5 ------------------------------------------------------------------------------------------
def test_gpu_racks_moved_onto_another_leaf_overload_it(two_tier):
    # L00001 takes L00002's and L00003's racks: 24 × 64 = 1,536 GPU links on
    # 8 × 128 = 1,024 ports, 150 %.
    stack = CommandStack(two_tier)
    assignments = dict(two_tier.fabric.assignments)
    assignments["L00001"] = (
        assignments["L00001"] + assignments.pop("L00002") + assignments.pop("L00003")
    )
    _set_fabric(stack, assignments=assignments)
    (found,), results = _found(two_tier, "fabric.radix")
    assert found.severity == "error"
    assert found.items == ("L00001",)
    assert "1,536 × 400G GPU links on 8 × sn5600 use 150% of its ports" in found.message
    budget = results.metrics["coherence"]["criteria"][2]
    assert budget["figure"] == pytest.approx(1.5)
    assert budget["figure_text"] == "150% of ports (L00001)"
    assert "port_budget" in _failing(results)


# 6 ------------------------------------------------------------------------------------------
def test_a_gpu_rack_with_slower_nics_than_the_fabric_is_named(two_tier):
    stack = CommandStack(two_tier)
    stack.push(SetProperty(["R00001"], "nic_speed_gbps", 200))
    (found,), results = _found(two_tier, "fabric.link_speed")
    assert found.severity == "error"
    assert found.items == ("R00001",)
    assert "1 GPU rack(s) with 200G NICs, slower than the fabric's 400G per NIC" in found.message
    assert _failing(results) == ["link_speed"]
    # A faster NIC than the fabric's is no fault.
    stack.push(SetProperty(["R00001"], "nic_speed_gbps", 800))
    assert _found(two_tier, "fabric.link_speed")[0] == []


# 7 ------------------------------------------------------------------------------------------
def test_a_spec_nic_speed_above_the_racks_is_named(two_tier):
    # 800G links on racks of 400G NICs (ConnectX-7 class): every rack is short.
    stack = CommandStack(two_tier)
    _set_fabric(stack, nic_speed_gbps=800.0)
    found, results = _found(two_tier, "fabric.link_speed")
    slow = [v for v in found if "NICs" in v.message]
    assert len(slow) == 1
    assert slow[0].severity == "error"
    assert len(slow[0].items) == 64
    assert "64 GPU rack(s) with 400G NICs, slower than the fabric's 800G per NIC" in (
        slow[0].message
    )
    assert "link_speed" in _failing(results)


# 8 ------------------------------------------------------------------------------------------
def test_removing_a_core_rack_oversubscribes_the_spines(three_tier):
    # 19 core racks: 19 × 1,024 = 19,456 ports for the spines' 40 × 512 = 20,480 uplinks,
    # 486.4 each; whole links, so the worst spine rack gets 486: 512 / 486 = 1.05:1.
    stack = CommandStack(three_tier)
    stack.push(RemoveItems(["C00001"]))
    (found,), results = _found(three_tier, "fabric.oversubscription")
    assert found.severity == "error"
    assert "spine rack(s) oversubscribed beyond 1:1" in found.message
    assert "at 1.05:1" in found.message
    assert results.metrics["links_per_tier"]["spine-core"] == 19_456
    assert results.metrics["oversubscription"]["leaf"]["worst"] == pytest.approx(1.0)
    assert results.metrics["oversubscription"]["spine"]["worst"] == pytest.approx(
        512 / 486, abs=1e-3
    )
    assert _failing(results) == ["oversubscription"]


# 9 ------------------------------------------------------------------------------------------
def test_fewer_switches_in_a_leaf_rack_than_its_gpu_links_need(two_tier):
    # 3 switches × 128 = 384 ports for 512 GPU links: 133 %.
    stack = CommandStack(two_tier)
    stack.push(SetProperty(["L00001"], "switches", 3))
    (found,), results = _found(two_tier, "fabric.radix")
    assert found.severity == "error"
    assert "512 × 400G GPU links on 3 × sn5600 use 133% of its ports" in found.message
    assert "port_budget" in _failing(results)


# 10 -----------------------------------------------------------------------------------------
def test_deleting_a_leaf_rack_cuts_off_its_gpu_racks(two_tier):
    served = list(two_tier.fabric.assignments["L00001"])
    stack = CommandStack(two_tier)
    stack.push(RemoveItems(["L00001"]))
    found, results = _found(two_tier, "fabric.connected")
    (lost,) = [v for v in found if v.severity == "error"]
    assert "8 GPU rack(s) have no leaf switch" in lost.message
    assert sorted(lost.items) == sorted(served)
    (dangling,) = [v for v in found if v.severity == "warning"]
    assert "leaf rack 'L00001'" in dangling.message
    connected = results.metrics["coherence"]["criteria"][0]
    # The rest is one domain; each of the 8 cut-off racks is a domain of its own.
    assert connected["figure"] == 9
    assert connected["pass"] is False


# 11 -----------------------------------------------------------------------------------------
def test_removing_spines_beyond_the_target_ratio(two_tier):
    # A 2:1 target: with 2 of 4 spine racks, 2,048 ports for 4,096 wanted uplinks,
    # 256 a leaf rack: 512 / 256 = 2.00:1, within it. With 1 left: 128, 4.00:1.
    stack = CommandStack(two_tier)
    _set_fabric(stack, oversubscription=[2.0])
    stack.push(RemoveItems(["S00001", "S00002"]))
    found, results = _found(two_tier, "fabric.oversubscription")
    assert found == []
    assert results.metrics["oversubscription"]["leaf"]["worst"] == pytest.approx(2.0)
    assert results.metrics["coherent"] is True
    stack.push(RemoveItems(["S00003"]))
    (found,), results = _found(two_tier, "fabric.oversubscription")
    assert found.severity == "error"
    assert "beyond 2:1, worst L00001 at 4.00:1" in found.message


# 12 -----------------------------------------------------------------------------------------
def test_a_three_tier_design_held_to_two_tiers_has_too_many_hops(three_tier):
    # Leaves of different pods meet only at a core: leaf, spine, core, spine, leaf.
    stack = CommandStack(three_tier)
    _set_fabric(stack, tiers=2)
    (found,), results = _found(three_tier, "fabric.hops")
    assert found.severity == "error"
    assert "crosses 5 switches, more than the 3 of a 2-tier fat tree" in found.message
    assert len(found.items) == 2
    assert _failing(results) == ["hops"]


# 13 -----------------------------------------------------------------------------------------
def test_a_pods_spines_set_to_another_plane_cut_the_pod_off(three_tier):
    # Leaves share their pod's spines in their own plane only: with pod 0's spine racks
    # set to plane 1, pod 0's 8 leaf racks have no spine to go up to.
    stack = CommandStack(three_tier)
    spines = [i.id for i in three_tier.items if i.properties.get("tier") == "spine"
              and i.properties.get("pod") == 0]  # fmt: skip
    stack.push(SetProperty(spines, "plane", 1))
    found, results = _found(three_tier, "fabric.connected")
    (cut,) = [v for v in found if "cut off" in v.message]
    # Pod 0: 8 leaf racks × 8 racks × 64 GPUs.
    assert "64 GPU rack(s) (4,096 GPU ports) are cut off" in cut.message
    assert "connected" in _failing(results)


# 14 -----------------------------------------------------------------------------------------
def test_an_overfilled_tray_makes_the_fabric_incoherent(two_tier):
    # Trays carry the fabric's links: a tray made a tenth as wide holds ten times the fill.
    stack = CommandStack(two_tier)
    results = check(two_tier)
    worst = results.metrics["worst_tray_fill"]
    segments = [s.model_copy(update={"width_m": s.width_m / 10}) if s.id == worst["segment"]
                else s for s in two_tier.trays.segments]  # fmt: skip
    stack.push(ReplaceSection("trays", two_tier.trays.model_copy(update={"segments": segments})))
    (found,), results = _found(two_tier, "cabling.tray_fill")
    assert found.severity == "error"
    assert f"tray {worst['segment']} is {worst['fill'] * 10:.0%} full" in found.message
    assert _failing(results) == ["tray_fill"]
    assert results.metrics["coherent"] is False
