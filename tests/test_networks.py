"""The front-end, storage and management networks: sizing by hand, generated designs that
check clean, and hand edits caught by the right rule."""

from __future__ import annotations

import itertools
import math

import pytest

from layout.catalog import default_catalog
from layout.commands import CommandStack, RemoveItems, ReplaceSection, SetProperty
from layout.generator import ClusterRequest, generate
from layout.network_plan import (
    NETWORK_RULES,
    NetworkChoice,
    leaf_down_ports,
    leaf_switches_for,
    port_share,
    uplinks_needed,
)
from physics.engine import check
from physics.fabric import derive
from physics.networks import racks_in_rows
from physics.tray_sizing import size_trays

COLOSSUS = "colossus-hgx-h100-lc"


def design(request: ClusterRequest):
    return generate(request, tray_sizer=size_trays)


@pytest.fixture(scope="module")
def colossus_4k():
    project = design(ClusterRequest(gpus=4_096))
    return project, check(project)


def _racks(project, network: str, tier: str) -> list:
    return [
        i for i in project.items
        if i.properties.get("network") == network and i.properties.get("tier") == tier
    ]  # fmt: skip


# --- port arithmetic --------------------------------------------------------------------------
def test_leaf_ports_within_the_budget():
    catalog = default_catalog()
    sn5400, sn2201 = catalog["sn5400"], catalog["sn2201"]
    frontend, management = NETWORK_RULES["frontend"], NETWORK_RULES["management"]
    # SN5400 at 400G: 64 ports; non-blocking, 32 down and 32 up: 32/64 + 32/64 = 1.
    assert leaf_down_ports(sn5400, 400, 400, frontend) == 32
    # 200G down (128 ports) with 400G up (64 ports): d/128 + (d·200/400)/64 <= 1 → d = 64.
    assert leaf_down_ports(sn5400, 200, 400, frontend) == 64
    # SN2201: its 48 copper ports and 4 uplinks are there at once; two uplinks a switch.
    assert leaf_down_ports(sn2201, 1, 100, management) == 48
    assert uplinks_needed(48 * 1.0, 1, 100, management) == 2
    assert uplinks_needed(128 * 400.0, 4, 400, frontend) == 128


# --- sizing worked by hand: 4,096 Colossus GPUs --------------------------------------------
def test_colossus_4k_networks_sized_by_hand(colossus_4k):
    project, results = colossus_4k
    m = results.metrics
    assert results.errors == 0, [v.message for v in results.violations][:5]
    assert m["gpus"] == 4_096
    assert m["servers"] == 512
    # 64 racks in 8 arrays of 8; two arrays a GPU row: 4 rows of 16 racks, 128 servers each.
    # Storage: 4,096 GPUs × 1 GB/s ÷ 720 GB/s a rack = 5.7 → 6 storage racks. The Colossus
    # server has no storage NIC: the storage racks join the front-end network.
    assert m["storage_racks"]["racks"] == 6
    assert "storage" not in m["networks"]
    frontend = m["networks"]["frontend"]
    # Front-end: one 400G port a server. SN5400 at 400G, non-blocking: 32 down + 32 up.
    # A row: 128 ports / 32 = 4 leaves → 16. Storage racks: 6 × 64 ports at 200G, 64 a
    # leaf (200G down, 400G up) → 6 leaves. 22 leaves <= 64 (a spine's 400G ports): two
    # tiers; uplinks 22 × 32 = 704 → 704 / 64 = 11 spines.
    assert frontend["endpoint_ports"] == 512 + 6 * 64
    assert frontend["switches_per_tier"] == {"leaf": 22, "spine": 11, "core": 0}
    assert frontend["links_per_tier"] == {"endpoint-leaf": 512 + 384, "leaf-spine": 704,
                                          "spine-core": 0}  # fmt: skip
    # Ports: the storage racks' 384 at 200G; at 400G the servers' 512, the leaves' uplinks
    # 22 × 32 = 704 and the spines' 704 ends of them.
    assert frontend["ports_used"] == {"200G": 384, "400G": 512 + 704 + 704}
    # Management: 512 BMC ports; one port per switch of every other network rack: the
    # fabric's 64 leaves (16 a row) and 32 spines, the front-end's 33; and the storage
    # racks' 6 × 8. A row: 128 + 16 + 4 = 148 ports → 4 SN2201 (48 each) → 16; the middle
    # row: 32 + 6 + 11 + 48 = 97 → 3. 19 leaves × 2 uplinks = 38 at 100G → 1 spine
    # (SN5400: 256 × 100G).
    management = m["networks"]["management"]
    assert management["endpoint_ports"] == 512 + 64 + 32 + 33 + 48 == 689
    assert management["switches_per_tier"] == {"leaf": 19, "spine": 1, "core": 0}
    assert management["links_per_tier"]["leaf-spine"] == 38
    # Power: switches at their maximum draw plus each rack's other load.
    kw = 33 * 2.2 + 0.3 * len(_racks(project, "frontend", "leaf") +
                              _racks(project, "frontend", "spine"))  # fmt: skip
    assert frontend["kw"] == pytest.approx(kw, abs=0.05)
    assert m["coherent"] is True


def test_network_racks_are_loads_and_storage_racks_are_cooled(colossus_4k):
    project, _ = colossus_4k
    from physics.cooling import heat_split
    from physics.power import consumer_loads

    loads = consumer_loads(project)
    _, air, liquid = heat_split(project)
    for item in project.items:
        row = project.items.row(item.id)
        if item.type_id == "storage-ai400x2-8":
            assert (loads[row], air[row], liquid[row]) == (20.0, 20.0, 0.0)
            assert item.id in project.power.feeds
            assert item.id in project.cooling.crah
        elif item.properties.get("network") in ("frontend", "management"):
            assert loads[row] > 0
            assert item.id in project.power.feeds


@pytest.mark.parametrize(
    ("rack", "gpus", "networks"),
    [
        (COLOSSUS, 4_096, {"frontend", "management"}),
        ("dgx-h100-air-4", 1_024, {"frontend", "storage", "management"}),
        ("gb200-nvl72", 2_304, {"frontend", "storage", "management"}),
    ],
)
def test_generated_designs_check_clean_with_every_network(rack, gpus, networks):
    project = design(ClusterRequest(gpus=gpus, rack_type=rack))
    results = check(project)
    assert results.errors == 0, [v.message for v in results.violations][:5]
    assert set(results.metrics["networks"]) == networks
    for n in results.metrics["networks"].values():
        assert n["switches"] > 0
        assert n["links"] > 0
        assert n["ports_free"] >= 0
    # The fabric ignores the other networks' racks.
    fabric = derive(project)
    backend = [i for i in project.items if i.properties.get("tier") == "leaf"
               and "network" not in i.properties]  # fmt: skip
    assert len(fabric.switch_rows["leaf"]) == len(backend)


def test_fabric_only_option_leaves_the_other_networks_out():
    project = design(ClusterRequest(gpus=4_096, networks=NetworkChoice(enabled=False)))
    results = check(project)
    assert "networks" not in results.metrics
    assert "storage_racks" not in results.metrics
    assert not [i for i in project.items if "network" in i.properties]


# --- hand edits caught by the right rule -------------------------------------------------
def _found(project, rule: str) -> list:
    return [v for v in check(project).violations if v.rule == rule]


def test_removing_a_front_end_spine_overloads_the_other(colossus_4k):
    project, _ = colossus_4k
    spines = _racks(project, "frontend", "spine")
    full = next(s for s in spines if "switches" not in s.properties)
    other = next(s for s in spines if s is not full)
    stack = CommandStack(project)
    stack.push(RemoveItems([full.id]))
    try:
        results = check(project)
        found = [v for v in results.violations if v.rule == "network.capacity"]
        # 704 uplinks from 22 leaves now land on the 3 switches left (3 × 64 at 400G).
        assert len(found) == 1
        assert found[0].items == (other.id,)
        assert found[0].severity == "error"
        assert f"front-end network: spine rack {other.id}" in found[0].message
        assert "704 × 400G on 3 × sn5400" in found[0].message
        assert results.metrics["coherent"] is True  # not the GPU fabric's verdict
    finally:
        stack.undo()
    assert check(project).errors == 0


def test_removing_every_front_end_spine_cuts_the_leaves_apart(colossus_4k):
    project, _ = colossus_4k
    stack = CommandStack(project)
    stack.push(RemoveItems([s.id for s in _racks(project, "frontend", "spine")]))
    try:
        found = _found(project, "network.connected")
        assert any("front-end network" in v.message and "cut off" in v.message for v in found)
        assert any("no spine rack joins them" in v.message for v in found)
    finally:
        stack.undo()


def test_overfilled_management_racks_leave_racks_without_a_port(colossus_4k):
    project, _ = colossus_4k
    # Each GPU row's management rack holds 4 SN2201 (192 ports) for its row's 148. With 2
    # left (96) in every row, 4 × 52 = 208 ports must go elsewhere, and the middle row's
    # 3 SN2201 have 144 − 97 = 47 free.
    leaves = [i.id for i in _racks(project, "management", "leaf")
              if i.properties.get("switches") == 4]  # fmt: skip
    assert len(leaves) == 4
    stack = CommandStack(project)
    stack.push(SetProperty(leaves, "switches", 2))
    try:
        found = _found(project, "network.capacity")
        assert len(found) == 1
        assert found[0].message.startswith("management network: ")
        assert "1G ports find no leaf with free ports" in found[0].message
        assert set(found[0].items) <= {i.id for i in project.items}
    finally:
        stack.undo()
    # One row short of a switch: its racks are cabled to the next row's spare ports instead.
    stack.push(SetProperty(leaves[:1], "switches", 3))
    try:
        assert _found(project, "network.capacity") == []
    finally:
        stack.undo()


def test_links_without_a_medium_are_network_reach_errors(colossus_4k):
    project, _ = colossus_4k
    stack = CommandStack(project)
    stack.push(ReplaceSection("rules", project.rules.with_value("allow_utp", 0.0)))
    try:
        results = check(project)
        found = [v for v in results.violations if v.rule == "network.reach"]
        assert found
        assert all("management network" in v.message for v in found)
        assert all("1G link(s)" in v.message for v in found if v.items)
        assert not [v for v in results.violations if v.rule == "cabling.reach"]
    finally:
        stack.undo()


def test_the_other_networks_cables_fill_the_trays(colossus_4k):
    from physics.cabling import OTHER_LINKS, route

    project, results = colossus_4k
    with_all = route(project)
    assert with_all.others is not None
    saved = list(OTHER_LINKS)
    OTHER_LINKS.clear()
    try:
        fabric_only = route(project)
    finally:
        OTHER_LINKS.extend(saved)
    assert fabric_only.others is None
    assert (with_all.fill >= fabric_only.fill - 1e-12).all()
    assert with_all.fill.sum() > fabric_only.fill.sum()
    media = results.metrics["links_by_medium"]
    assert media["utp-cat6a-1g"] == results.metrics["networks"]["management"][
        "links_per_tier"]["endpoint-leaf"]  # fmt: skip
    assert math.isclose(sum(e["count"] for e in results.metrics["cable_bom"]),
                        sum(media.values()))  # fmt: skip


# --- whole racks per leaf ---------------------------------------------------------------------
def test_nvl72_front_end_leaves_hold_whole_racks():
    # SN5400: 64 × 400G; non-blocking 400G edge with 400G uplinks takes 2/64 of a switch
    # per port. An NVL72 rack has 18 trays × 2 front-end ports = 36 ports = 1.125 switches,
    # so a leaf rack of 8 holds floor(8 / 1.125) = 7 racks, not the 256 / 36 = 7.1 the
    # ports' sum says. 16 racks: 7 + 7 + 2, the last 2 racks on 3 switches (2.25 needed).
    catalog = default_catalog()
    share = port_share(catalog["sn5400"], 400.0, 400.0, "frontend")
    assert share == pytest.approx(2 / 64)
    assert leaf_switches_for([36] * 16, share, 8) == [8, 8, 3]
    # By the ports' sum it would be ceil(576 / 32) = 18 switches: one rack left out.
    assert sum(leaf_switches_for([36] * 16, share, 8)) == 19


def test_mixed_racks_leave_room_for_the_largest():
    # SN2201: 48 × 1G fixed (1/48 of a switch per port). BMC ports of a rack (40) and a
    # network rack's 8 switches: a leaf rack turns one away only when it holds more than
    # its switches less the largest rack (40/48), so 48 ports need 2 switches, not 1.
    catalog = default_catalog()
    share = port_share(catalog["sn2201"], 1.0, 100.0, "management")
    assert share == pytest.approx(1 / 48)
    assert leaf_switches_for([40, 8], share, 8) == [2]
    assert leaf_switches_for([], share, 8) == []


def test_a_cross_aisle_parts_two_rows_on_one_line():
    project = design(ClusterRequest(gpus=10_000, rack_type="gb300-nvl72"))
    run = racks_in_rows(project, project.sizes())
    items = project.items
    gpu = [k for k in range(len(items)) if items.type_ids[k] == "gb300-nvl72"]
    line = sorted((k for k in range(len(items)) if run[k] >= 0
                   and abs(items.y[k] - items.y[gpu[0]]) < 0.01), key=lambda k: items.x[k])
    gaps = [(a, b, items.x[b] - items.x[a] - 0.5 * (project.sizes()[0][a] + project.sizes()[0][b]))
            for a, b in itertools.pairwise(line)]  # fmt: skip
    # GPU racks and leaves touch along the row; a cross aisle (1.2 m by default) parts it.
    assert all(run[a] == run[b] for a, b, gap in gaps if gap < 0.01)
    parted = [(a, b) for a, b, gap in gaps if gap > 1.0]
    assert parted, "the test design has two segments on one line"
    assert all(run[a] != run[b] for a, b in parted)
    # A storage rack (0.6 m) at the middle's 0.8 m pitch stays in its row with its leaf.
    storage = [k for k in range(len(items)) if items.type_ids[k].startswith("storage-")]
    leaves = [k for k in range(len(items))
              if items.properties_at(k).get("network") == "storage"
              and items.properties_at(k).get("tier") == "leaf"
              and abs(items.y[k] - items.y[storage[0]]) < 0.01]  # fmt: skip
    assert any(run[k] == run[storage[0]] for k in leaves)


def test_a_huge_switch_count_is_reported_not_built(colossus_4k):
    # A typed `switches` of 10¹⁵ on a front-end spine rack: the check reports the rack
    # over what it holds (8) and derives its links from the 8 it can hold, instead of
    # dealing out ports for 2³¹ switches.
    project, _ = colossus_4k
    spine = _racks(project, "frontend", "spine")[0]
    stack = CommandStack(project)
    stack.push(SetProperty([spine.id], "switches", 10**15))
    try:
        results = check(project)
    finally:
        stack.undo()
    messages = [v.message for v in results.violations if v.rule == "network.capacity"]
    assert any(f"{spine.id} has 2147483647 switches installed but holds 8" in m for m in messages)
