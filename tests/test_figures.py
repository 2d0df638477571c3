"""The inspector's figures (physics.figures) on a small project worked by hand.

Three Colossus racks (64 GPUs, 8 × 10 kW + 1 kW in-rack CDU = 81 kW) in a row
at x = 2.0, 2.6, 3.2 m (y = 5.5), served by one leaf rack of 16 SN5600
(nameplate 16 × 3.0 kW + 0.5 kW = 48.5 kW) at (8, 5) over a tray along y = 5; a fourth
rack that no leaf serves. 2N busways BWA1/BWB1 (415 V, 400 A) feed the three
racks and the leaf, each busway through its own transformer. A CRAH serves
two of the racks. Cabling rules at their defaults: rise = drop = 1.8 m,
slack 10 %, 0.5 m service loop at each end.
"""

from __future__ import annotations

import math

import pytest

import physics
from layout.floor import Floor
from layout.items import Item
from layout.project import (
    CoolingPlan,
    FabricSpec,
    Feed,
    PowerPlan,
    Project,
    TrayPlan,
    TraySegment,
)
from physics import figures
from physics.power import power_loads
from physics.solution import solve
from physics.thermal import thermal_map

RACK = "colossus-hgx-h100-lc"
LEAF = "net-sn5600-16"
BUSWAY = "busway-415v-400a"


def busway(item_id: str, x: float, y: float, side: str) -> Item:
    return Item(item_id, BUSWAY, x, y, 0.0, "", {"side": side, "length_m": 6.0})


def hand_project() -> Project:
    items = [
        Item("G1", RACK, 2.0, 5.5),
        Item("G2", RACK, 2.6, 5.5),
        Item("G3", RACK, 3.2, 5.5),
        Item("G4", RACK, 2.0, 12.0),
        Item("L1", LEAF, 8.0, 5.0, properties={"tier": "leaf"}),
        busway("BWA1", 5.0, 4.0, "A"),
        busway("BWB1", 5.0, 7.0, "B"),
        Item("TXA", "transformer-2500kva", 30.0, 20.0),
        Item("TXB", "transformer-2500kva", 35.0, 20.0),
        Item("AH1", "crah-150kw", 20.0, 3.0),
    ]
    fed = ("G1", "G2", "G3", "L1")
    return Project(
        Floor.rectangle(40.0, 30.0),
        items=items,
        fabric=FabricSpec(switch_type="sn5600", nic_speed_gbps=400,
                          assignments={"L1": ["G1", "G2", "G3"]}),
        power=PowerPlan(feeds={c: Feed(a="BWA1", b="BWB1") for c in fed},
                        upstream={"BWA1": ["TXA"], "BWB1": ["TXB"]}),
        cooling=CoolingPlan(crah={"G1": "AH1", "G2": "AH1"}),
        trays=TrayPlan(segments=[TraySegment(id="T1", a=[0.0, 5.0], b=[10.0, 5.0])]),
    )  # fmt: skip


@pytest.fixture(scope="module")
def solution():
    return solve(hand_project())


def routed_m(tray_m: float, hop_m: float = 0.5) -> float:
    """Rise 1.8 + hop to the tray + along it + drop 1.8, 10 % slack, two 0.5 m loops."""
    return (1.8 + hop_m + tray_m + 1.8) * 1.1 + 1.0


def test_what_a_busway_feeds_and_the_load_it_feeds(solution):
    assert figures.feeds(solution, "BWA1") == ("G1", "G2", "G3", "L1")
    assert figures.feeds(solution, "BWB1") == ("G1", "G2", "G3", "L1")
    assert figures.load_fed_kw(solution, "BWA1") == pytest.approx(3 * 81.0 + 48.5)
    # A rack feeds nothing.
    assert figures.feeds(solution, "G1") == ()
    assert figures.load_fed_kw(solution, "G1") == 0.0


def test_what_a_transformer_supplies_and_a_crah_serves(solution):
    assert figures.supplies(solution, "TXA") == ("BWA1",)
    assert figures.supplies(solution, "TXB") == ("BWB1",)
    assert figures.supplies(solution, "BWA1") == ()
    assert figures.serves(solution, "AH1") == ("G1", "G2")


def test_a_busways_worst_case_utilisation(solution):
    # With B lost, A carries everything: 291.5 kW of 415 V × 400 A × √3 = 287.5 kW.
    load = figures.utilisation(solution, "BWA1")
    assert load is not None
    loads = power_loads(solution.project)
    k = loads.ids.index("BWA1")
    assert loads.capacity_kw[k] == pytest.approx(415 * 400 * math.sqrt(3) / 1000, rel=1e-4)
    assert loads.worst_kw[k] == pytest.approx(3 * 81.0 + 48.5)
    assert load.fraction == pytest.approx(291.5 / loads.capacity_kw[k])
    assert load.limit == pytest.approx(0.8)
    assert load.over  # above 80 % of its rating
    assert load.worst_case == loads.worst_case[k]
    # A rack has no rating.
    assert figures.utilisation(solution, "G1") is None


def test_a_racks_inlet_is_the_thermal_maps(solution):
    fresh = thermal_map(solution.project)
    assert fresh is not None
    k = fresh.rack_ids.index("G2")
    assert figures.inlet_c(solution, "G2") == pytest.approx(float(fresh.inlet_c[k]))
    assert figures.inlet_c(solution, "BWA1") is None


def test_a_gpu_racks_links_and_cables(solution):
    links = figures.rack_links(solution, "G1")
    assert links is not None
    (tier,) = links.tiers
    assert tier.tier == "gpu-leaf"
    assert tier.links == 64  # one NIC per GPU
    assert tier.peers == ("L1",)
    assert tier.longest_m == pytest.approx(abs(8.0 - 2.0) + abs(5.0 - 5.5))
    top = links.longest_cable
    assert top is not None
    assert (top.to, top.links, top.medium, top.on_trays) == ("L1", 64, "aoc-400g", True)
    assert top.length_m == pytest.approx(routed_m(6.0), abs=0.005)  # 12.11 m
    assert links.media == {"aoc-400g": 64}
    assert not links.unassigned


def test_a_leaf_racks_links_longest_cable_first(solution):
    links = figures.rack_links(solution, "L1")
    assert links is not None
    (tier,) = links.tiers
    assert tier.links == 3 * 64
    assert tier.peers == ("G1", "G2", "G3")
    assert tier.longest_m == pytest.approx(6.5)
    assert [c.to for c in links.cables] == ["G1", "G2", "G3"]
    for cable, along in zip(links.cables, (6.0, 5.4, 4.8), strict=True):
        assert cable.length_m == pytest.approx(routed_m(along), abs=0.005)
    assert links.longest_m == pytest.approx(6.5)


def test_an_unserved_rack_has_no_links(solution):
    links = figures.rack_links(solution, "G4")
    assert links is not None
    assert links.tiers == ()
    assert links.cables == ()
    assert links.unassigned
    assert figures.rack_links(solution, "no-such-rack") is None


def test_without_a_fabric_there_are_no_rack_links():
    project = hand_project()
    project.fabric = FabricSpec()
    solution = solve(project)
    assert solution.fabric is None
    assert figures.rack_links(solution, "G1") is None
    # The rest of the figures do not need a fabric.
    assert figures.feeds(solution, "BWA1") == ("G1", "G2", "G3", "L1")


def test_a_checker_keeps_the_look_ups_while_only_positions_change():
    project = hand_project()
    checker = physics.Checker()
    first = checker.solve(project.snapshot())
    project.set_positions(["G1"], [1.4], [5.5])
    second = checker.solve(project.snapshot())
    assert second.figures.feeds is first.figures.feeds
    assert second.figures.links is first.figures.links
    # Distances are of each solution's own snapshot.
    assert figures.rack_links(first, "G1").longest_m == pytest.approx(6.5)
    assert figures.rack_links(second, "G1").longest_m == pytest.approx(7.1)


def test_a_leaf_racks_switch_figures(solution):
    # L1: 16 SN5600 of 128 ports at 400G; 3 racks × 64 GPUs = 192 GPU links, nothing above
    # (one tier), so 16 × 128 - 192 = 1,856 ports free and no down:up to show.
    switches = figures.switch_figures(solution, "L1")
    assert switches is not None
    assert (switches.tier, switches.switch_type, switches.switches, switches.holds) == (
        "leaf", "sn5600", 16, 16)
    assert switches.ports.used == {400.0: 192}
    assert switches.ports.free == 1_856
    assert switches.ports.free_speed_gbps == 400.0
    assert switches.ports.use == pytest.approx(192 / 2_048)
    assert switches.down_gbps == pytest.approx(192 * 400)
    assert switches.ratio is None
    assert figures.switch_figures(solution, "G1") is None
    assert figures.switch_figures(solution, "no-such-rack") is None
