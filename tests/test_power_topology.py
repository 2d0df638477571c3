"""Power topologies and the rule of each unit type, on hand-worked chains and on generated
designs: 2N sides independent from source to rack, distributed redundant blocks, a block
redundant catcher by static transfer, N+1 turbines; busways at the NEC 80 % continuous
rule, transformers at their kVA, UPS at their kW, utility services at their contracted
capacity, turbines at their site rating, batteries at power and energy; Colossus as built;
bad input named in one line.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from layout import dclayout
from layout.errors import ProjectFileError
from layout.facility import POWER_PRESETS, TOPOLOGIES, PowerChoice
from layout.floor import Floor
from layout.generator import ClusterRequest, GeneratorError, generate
from layout.items import Item
from layout.project import Feed, PowerPlan, Project
from layout.rules import Rules
from physics import check
from physics.power import power_loads
from physics.tray_sizing import size_trays

DGX = "dgx-h100-air-4"  # 4 × DGX H100 of 10.2 kW = 40.8 kW
RACK_KW = 40.8
ROOT = Path(__file__).resolve().parent.parent


def found(project: Project, rule: str) -> list:
    return [v for v in check(project).violations if v.rule == rule]


def errors(project: Project, *, skip: tuple[str, ...] = ()) -> list[str]:
    """The power errors (the small drawn chains stand anywhere: placement is not judged)."""
    return [
        f"{v.rule}: {v.message}"
        for v in check(project).violations
        if v.severity == "error" and v.rule.startswith("power.") and v.rule not in skip
    ]


def busway(item_id: str, type_id: str, side: str) -> Item:
    return Item(item_id, type_id, 5.0, 4.75 if side == "A" else 5.25, 0.0, "",
                {"side": side, "length_m": 6.0})  # fmt: skip


# -- the hand-worked 2N feed pair -----------------------------------------------------------
def feed_pair(type_id: str) -> Project:
    items = [Item("R1", DGX, 5.0, 5.0), busway("BWA1", type_id, "A"), busway("BWB1", type_id, "B")]
    return Project(Floor.rectangle(12, 10), items=items,
                   power=PowerPlan(feeds={"R1": Feed(a="BWA1", b="BWB1")}))  # fmt: skip


def test_2n_pair_at_415v_60a_is_over_with_one_side_lost() -> None:
    # 415 V × 60 A × √3 = 43.13 kVA (pf 1); 80 % continuous: 34.5 kW. With feed B lost
    # the 40.8 kW rack is all on BWA1: 40.8 / 43.13 = 95 %, over the 34.5 kW limit.
    project = feed_pair("busway-415v-60a")
    rating = project.catalog["busway-415v-60a"].capacity_kw
    assert rating == pytest.approx(415 * 60 * math.sqrt(3) / 1000, abs=1e-3)
    assert rating == pytest.approx(43.13, abs=0.01)
    loads = power_loads(project)
    assert loads.load_kw.tolist() == pytest.approx([20.4, 20.4])
    assert loads.worst_kw.tolist() == pytest.approx([40.8, 40.8])
    assert loads.limit_kw.tolist() == pytest.approx([0.8 * rating] * 2)
    over = found(project, "power.capacity")
    assert sorted(v.items for v in over) == [("BWA1",), ("BWB1",)]
    message = next(v.message for v in over if v.items == ("BWA1",))
    for figure in ("40.8 kW with feed B lost", "95% of its 43.1 kW rating",
                   "80% continuous limit (34.5 kW", "NEC 210.19(A)/215.2(A)"):  # fmt: skip
        assert figure in message
    # Nothing else judges a busway.
    assert found(project, "power.transformer") == found(project, "power.ups") == []


def test_2n_pair_at_415v_100a_holds_the_rack() -> None:
    # 415 V × 100 A × √3 = 71.9 kVA; 80 %: 57.5 kW ≥ 40.8 kW.
    project = feed_pair("busway-415v-100a")
    loads = power_loads(project)
    assert loads.limit_kw.tolist() == pytest.approx([57.5] * 2, abs=0.05)
    assert found(project, "power.capacity") == []
    assert errors(project) == []


def test_gear_listed_for_100_percent_carries_its_full_rating() -> None:
    # The same 60 A busway listed for 100 %: 43.1 kW ≥ 40.8 kW.
    project = feed_pair("busway-415v-60a")
    listed = project.catalog["busway-415v-60a"].model_copy(
        update={"id": "busway-60a-100pct", "rated_100_percent": True}
    )
    project.catalog = project.catalog.overlaid([listed])
    for unit in ("BWA1", "BWB1"):
        project.set_item_type(unit, "busway-60a-100pct")
    assert power_loads(project).limit_kw.tolist() == pytest.approx([43.13] * 2, abs=0.01)
    assert found(project, "power.capacity") == []


# -- one unit type each, on one path ------------------------------------------------------
def racks_on(unit: Item, racks: int, *, extra: list[Item] = ()) -> Project:  # type: ignore[assignment]
    """``racks`` DGX racks of 40.8 kW fed straight from ``unit`` (one path, N+1)."""
    items = [Item(f"R{k}", DGX, 1.0 + 0.7 * k, 5.0) for k in range(racks)]
    feeds = {i.id: Feed(a=unit.id) for i in items}
    return Project(Floor.rectangle(60, 20), items=[*items, unit, *extra],
                   power=PowerPlan(feeds=feeds, topology="n+1"))  # fmt: skip


def test_transformer_is_held_to_its_kva_not_to_80_percent() -> None:
    tx = Item("TX1", "transformer-2500kva", 10.0, 15.0)
    # 54 racks: 2,203.2 kW / 0.9 = 2,448 kVA ≤ 2,500 kVA, though above 80 % of 2,250 kW.
    assert found(racks_on(tx, 54), "power.transformer") == []
    assert found(racks_on(tx, 54), "power.capacity") == []
    # 57 racks: 2,325.6 kW / 0.9 = 2,584.0 kVA, 103 % of 2,500 kVA.
    (over,) = found(racks_on(tx, 57), "power.transformer")
    assert over.items == ("TX1",)
    assert "2,325.6 kW in normal operation" in over.message
    assert "2,584.0 kVA at power factor 0.9, 103% of its 2,500 kVA rating" in over.message
    assert "IEEE C57.91 / IEC 60076-7" in over.message
    # At the load's power factor 0.95 it is 2,448.0 kVA: within the rating.
    project = racks_on(tx, 57)
    project.rules = Rules({"load_power_factor": 0.95})
    assert found(project, "power.transformer") == []


def test_ups_is_held_to_its_kw_rating() -> None:
    ups = Item("UPS1", "ups-1250kw", 10.0, 15.0)
    # 30 racks: 1,224 kW ≤ 1,250 kW (98 %, above 80 %: no continuous rule for a UPS).
    assert found(racks_on(ups, 30), "power.ups") == []
    (over,) = found(racks_on(ups, 31), "power.ups")  # 1,264.8 kW
    assert over.items == ("UPS1",)
    assert "1,264.8 kW in normal operation: 101% of its 1,250.0 kW rating (IEC 62040-3)" in (
        over.message
    )


def test_utility_service_is_loaded_to_its_contracted_capacity() -> None:
    # 30 racks: 1,224 kW on a 150 MW service: fine at its rating, no 80 % rule.
    service = Item("UT1", "grid-feed-150mw", 30.0, 15.0)
    assert found(racks_on(service, 30), "power.utility") == []
    contracted = Item("UT1", "grid-feed-150mw", 30.0, 15.0, 0.0, "", {"contracted_kw": 1224.0})
    assert found(racks_on(contracted, 30), "power.utility") == []
    lower = Item("UT1", "grid-feed-150mw", 30.0, 15.0, 0.0, "", {"contracted_kw": 1000.0})
    (over,) = found(racks_on(lower, 30), "power.utility")
    assert over.items == ("UT1",)
    assert "1,224.0 kW in normal operation: 122% of its contracted 1,000 kW" in over.message
    # A contracted capacity that is no capacity is named on its unit.
    for bad, words in (
        (-5, "expected a positive number of kW, got -5"),
        ("lots", "expected a number of kW, got 'lots'"),
        (200_000.0, "200,000 kW is above the service's 150,000 kW rating"),
    ):
        item = Item("UT1", "grid-feed-150mw", 30.0, 15.0, 0.0, "", {"contracted_kw": bad})
        (line,) = found(racks_on(item, 30), "power.utility")
        assert line.message.startswith(f"UT1 contracted_kw: {words}")


def test_turbines_at_site_rating_with_n_plus_1() -> None:
    # 50 racks: 2,040 kW on one switchboard fed by turbines of 2.5 MW.
    def plant(turbines: int) -> Project:
        sg = Item("SG1", "switchgear-mv-13.8kv-2000a", 30.0, 15.0)
        gts = [Item(f"GT{k}", "turbine-gas-2500kw", 15.0 * k, 18.0) for k in range(turbines)]
        project = racks_on(sg, 50, extra=gts)
        upstream = {"SG1": [g.id for g in gts]}
        project.power = project.power.model_copy(update={"upstream": upstream})
        return project

    # One turbine carries 2,040 kW at its 2,500 kW site rating but N+1 needs a second.
    assert found(plant(1), "power.generation") == []
    (short,) = found(plant(1), "power.sources")
    assert "with the largest 1 lost give 0 kW" in short.message
    assert "short of the 2,040 kW" in short.message
    assert found(plant(2), "power.sources") == []
    # A hot site: at 0.75 of the rating a turbine gives 1,875 kW; one of two carries less
    # than the 2,040 kW, and alone it is over its site rating.
    hot = plant(2)
    hot.rules = Rules({"site_derating": 0.75})
    (short,) = found(hot, "power.sources")
    assert "give 1,875 kW" in short.message
    hot.rules = Rules({"site_derating": 0.75, "spare_sources": 0})
    assert found(hot, "power.sources") == []
    one = plant(1)
    one.rules = Rules({"site_derating": 0.75, "spare_sources": 0})
    (over,) = found(one, "power.generation")
    assert "2,040.0 kW in normal operation: 109% of its site rating 1,875 kW" in over.message


def test_batteries_need_power_and_energy_for_what_they_back() -> None:
    sg = Item("SG1", "switchgear-mv-13.8kv-2000a", 30.0, 15.0)
    extra = [Item("UT1", "grid-feed-150mw", 40.0, 60.0), Item("BAT1", "battery-megapack", 5, 18)]
    project = racks_on(sg, 50, extra=extra)
    project.power = project.power.model_copy(update={"upstream": {"SG1": ["UT1", "BAT1"]}})
    # 2,040 kW of IT: swing 30 % = 612 kW ≤ 1,900 kW; 300 s = 170 kWh ≤ 3,900 kWh.
    assert found(project, "power.battery") == []
    # Ten hours of ride-through: 20,400 kWh > 3,900 kWh.
    project.rules = Rules({"ride_through_s": 36_000})
    (short,) = found(project, "power.battery")
    assert short.items == ("BAT1",)
    assert "3,900 kWh, short of 20,400 kWh (36000 s of 2,040 kW of IT they back)" in short.message
    # A swing of the whole load and more: 1.0 × 2,040 kW > 1,900 kW.
    project.rules = Rules({"training_swing": 1.0})
    (short,) = found(project, "power.battery")
    assert "1,900 kW, short of the training swing 2,040 kW" in short.message


# -- the topologies on small drawn chains ---------------------------------------------------
def two_sided(shared_source: bool) -> Project:
    """Two racks, each side: busway → UPS → transformer → switchgear → its own utility (or one
    utility for both, which 2N forbids)."""
    items = [Item("R1", DGX, 5.0, 5.0), Item("R2", DGX, 5.6, 5.0)]
    upstream: dict[str, list[str]] = {}
    for side in "AB":
        items += [busway(f"BW{side}", "busway-415v-400a", side),
                  Item(f"UPS{side}", "ups-1250kw", 3.0, 30.0),
                  Item(f"TX{side}", "transformer-2500kva", 8.0, 30.0),
                  Item(f"SG{side}", "switchgear-mv-13.8kv-2000a", 12.0, 40.0),
                  Item(f"BAT{side}", "battery-megapack", 20.0, 40.0)]  # fmt: skip
        source = "UTA" if shared_source else f"UT{side}"
        upstream |= {f"BW{side}": [f"UPS{side}"], f"UPS{side}": [f"TX{side}"],
                     f"TX{side}": [f"SG{side}"], f"SG{side}": [source, f"BAT{side}"]}  # fmt: skip
    items += [Item("UTA", "grid-feed-150mw", 40.0, 60.0)]
    if not shared_source:
        items += [Item("UTB", "grid-feed-150mw", 110.0, 60.0)]
    feeds = {r: Feed(a="BWA", b="BWB") for r in ("R1", "R2")}
    return Project(Floor.rectangle(12, 10), items=items,
                   power=PowerPlan(feeds=feeds, upstream=upstream))  # fmt: skip


def test_2n_sides_independent_from_source_to_rack() -> None:
    project = two_sided(shared_source=False)
    assert errors(project) == []
    loads = power_loads(project)
    at = dict(zip(loads.ids, loads.worst_kw.tolist(), strict=True))
    # Either side carries both racks with the other lost: 81.6 kW, over the UPS (0.97)
    # and the transformer (0.99) up to the utility service.
    assert at["UPSA"] == at["UPSB"] == pytest.approx(81.6)
    assert at["UTA"] == at["UTB"] == pytest.approx(81.6 / 0.97 / 0.99)
    assert check(project).metrics["power_topology"]["lineups"]["A"] == {
        "battery": 1, "busway": 1, "grid_feed": 1, "switchgear": 1, "transformer": 1, "ups": 1,
    }  # fmt: skip


def test_2n_sides_sharing_a_source_are_named() -> None:
    project = two_sided(shared_source=True)
    (shared,) = found(project, "power.topology")
    assert shared.items == ("UTA",)
    assert "serves both side A and side B" in shared.message


def blocks_of_three(pairs: dict[str, tuple[int, int]]) -> Project:
    """Distributed redundant, three blocks (3-make-2): block k is busway BWk → UPSk →
    TXk → SGk → UTk; each rack's A and B feeds on the blocks of ``pairs``."""
    items = [Item(r, DGX, 5.0 + 0.7 * k, 5.0) for k, r in enumerate(pairs)]
    upstream: dict[str, list[str]] = {}
    for k in (1, 2, 3):
        block = {"block": str(k)}
        items += [Item(f"BW{k}", "busway-415v-400a", 6.0, 4.0 + k * 0.3, 0.0, "",
                       {"length_m": 6.0, **block}),
                  Item(f"UPS{k}", "ups-1250kw", 3.0 * k, 30.0, 0.0, "", block),
                  Item(f"TX{k}", "transformer-2500kva", 3.0 * k, 35.0, 0.0, "", block),
                  Item(f"SG{k}", "switchgear-mv-13.8kv-2000a", 12.0 * k, 40.0, 0.0, "", block),
                  Item(f"UT{k}", "grid-feed-150mw", 70.0 * k, 60.0, 0.0, "", block)]  # fmt: skip
        upstream |= {f"BW{k}": [f"UPS{k}"], f"UPS{k}": [f"TX{k}"], f"TX{k}": [f"SG{k}"],
                     f"SG{k}": [f"UT{k}"]}  # fmt: skip
    feeds = {r: Feed(a=f"BW{a}", b=f"BW{b}") for r, (a, b) in pairs.items()}
    plan = PowerPlan(feeds=feeds, upstream=upstream, topology="distributed_redundant", blocks=3)
    return Project(Floor.rectangle(12, 10), items=items, power=plan)


def test_distributed_redundant_block_lost_moves_its_racks_to_their_other_block() -> None:
    # Three racks, one on each pair of blocks: normal, each busway carries two halves
    # (40.8 kW); with block 1 lost, R12 and R13 move to blocks 2 and 3 (61.2 kW each).
    project = blocks_of_three({"R12": (1, 2), "R13": (1, 3), "R23": (2, 3)})
    loads = power_loads(project)
    assert loads.flows is not None
    assert loads.flows.names == ["normal", "block 1 lost", "block 2 lost", "block 3 lost"]
    at = dict(zip(loads.ids, range(len(loads.ids)), strict=True))
    assert loads.load_kw[at["BW1"]] == pytest.approx(40.8)
    assert loads.flows.total[1, at["BW1"]] == 0.0
    assert loads.flows.total[1, at["BW2"]] == pytest.approx(61.2)
    assert loads.flows.total[1, at["BW3"]] == pytest.approx(61.2)
    assert loads.worst_kw[at["BW2"]] == pytest.approx(61.2)
    assert errors(project, skip=("power.battery",)) == []  # no batteries drawn


def test_distributed_redundant_rack_on_one_block_loses_power_with_it() -> None:
    project = blocks_of_three({"R12": (1, 2), "R11": (1, 1)})
    lost = found(project, "power.topology")
    assert [v.items for v in lost] == [("R11",)]
    assert lost[0].message.startswith("with block 1 lost, 1 consumers (32 GPUs, 40.8 kW)")
    # And the feed rule says why: both feeds on one unit.
    assert any("same unit BW1" in v.message for v in found(project, "power.feeds"))


def test_block_redundant_catcher_takes_a_lost_block_by_static_transfer() -> None:
    # Two active blocks (UPS1, UPS2), each with one busway of two racks, and a catcher
    # UPSC on standby for both busways.
    items = [Item(f"R{k}", DGX, 1.0 + 0.7 * k, 5.0) for k in range(4)]
    items += [busway("BW1", "busway-415v-400a", "A"), busway("BW2", "busway-415v-400a", "B")]
    for name in ("1", "2", "C"):
        items += [
            Item(f"UPS{name}", "ups-1250kw", 5.0, 30.0, 0.0, "", {"block": name}),
            Item(f"UT{name}", "grid-feed-150mw", 70.0, 60.0, 0.0, "", {"block": name}),
        ]
    feeds = {"R0": Feed(a="BW1"), "R1": Feed(a="BW1"), "R2": Feed(a="BW2"), "R3": Feed(a="BW2")}
    plan = PowerPlan(
        feeds=feeds,
        upstream={"BW1": ["UPS1"], "BW2": ["UPS2"], "UPS1": ["UT1"], "UPS2": ["UT2"],
                  "UPSC": ["UTC"]},
        standby={"BW1": ["UPSC"], "BW2": ["UPSC"]},
        topology="block_redundant",
        blocks=2,
    )  # fmt: skip
    project = Project(Floor.rectangle(12, 10), items=items, power=plan)
    loads = power_loads(project)
    assert loads.flows is not None
    at = {u: k for k, u in enumerate(loads.ids)}
    names = loads.flows.names
    assert names == ["normal", "block 1 lost", "block 2 lost", "block C lost"]
    # Normal: the catcher idles; either block lost, it carries that block's 81.6 kW.
    assert loads.load_kw[at["UPSC"]] == 0.0
    assert loads.flows.total[1, at["UPSC"]] == pytest.approx(81.6)
    assert loads.flows.total[2, at["UPSC"]] == pytest.approx(81.6)
    assert loads.flows.total[1, at["UPS2"]] == pytest.approx(81.6)
    assert loads.worst_case[at["UPSC"]] == "block 1 lost"
    assert errors(project, skip=("power.battery",)) == []  # no batteries drawn
    # Without the standby links, a lost block leaves its racks without power.
    project.power = plan.model_copy(update={"standby": {}})
    lost = found(project, "power.topology")
    assert [v.items for v in lost] == [("R0", "R1"), ("R2", "R3")]


# -- bad input --------------------------------------------------------------------------------
def test_a_loop_and_a_unit_fed_from_itself_are_named() -> None:
    project = two_sided(shared_source=False)
    upstream = {**project.power.upstream, "SGA": ["TXA"], "UPSB": ["UPSB"]}
    project.power = project.power.model_copy(update={"upstream": upstream})
    lines = {v.message: v.items for v in found(project, "power.chain") if v.severity == "error"}
    assert lines["TXA, SGA feed each other in a loop (upstream links): a unit's supply cannot be "
                 "traced to a source"] == ("TXA", "SGA")  # fmt: skip
    assert lines["UPSB is fed from itself (upstream)"] == ("UPSB",)
    # The loads are still the ones below the loop: nothing goes round it.
    loads = power_loads(project)
    assert max(loads.worst_kw) < 100.0


def test_bad_power_input_through_the_loader_and_check(tmp_path: Path) -> None:
    project = two_sided(shared_source=False)
    good = tmp_path / "good.dclayout"
    dclayout.save(project, good)
    data = json.loads(good.read_text())

    def variant(name: str, change: Callable[[dict], None]) -> Path:
        changed = json.loads(json.dumps(data))
        change(changed)
        path = tmp_path / f"{name}.dclayout"
        path.write_text(json.dumps(changed))
        return path

    def negative(d: dict) -> None:
        next(t for t in d["catalog"] if t["id"] == "ups-1250kw")["capacity_kw"] = -5

    def no_energy(d: dict) -> None:
        del next(t for t in d["catalog"] if t["id"] == "battery-megapack")["energy_kwh"]

    def loop(d: dict) -> None:
        d["power"]["upstream"]["SGA"] = ["TXA"]
        d["power"]["upstream"]["UPSB"] = ["UPSB"]

    def topology(d: dict) -> None:
        d["power"]["topology"] = "3n"

    refused = {
        "negative": (negative, "catalog[", "(ups-1250kw).capacity_kw: expected a number > 0, "
                     "got -5"),
        "no_energy": (no_energy, "catalog[", "(battery-megapack): a battery needs energy_kwh"),
        "topology": (topology, "power.topology", "'2n', 'distributed_redundant'"),
    }  # fmt: skip
    for name, (change, *words) in refused.items():
        path = variant(name, change)
        with pytest.raises(ProjectFileError) as err:
            dclayout.load(path)
        assert all(w in str(err.value) for w in words), str(err.value)
        run = cli("check", str(path))
        assert run.returncode == 2
        (line,) = run.stderr.strip().splitlines()
        assert all(w in line for w in words), line
    # A loop loads (it is a design mistake, not a broken file) and check names its units.
    run = cli("check", str(variant("loop", loop)), "--json")
    assert run.returncode == 1
    chain = [v for v in json.loads(run.stdout)["violations"] if v["rule"] == "power.chain"]
    assert {tuple(sorted(v["items"])) for v in chain if v["severity"] == "error"} == {
        ("SGA", "TXA"), ("UPSB",)
    }  # fmt: skip


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip


# -- generated designs --------------------------------------------------------------------------
def generated(gpus: int, power: PowerChoice) -> Project:
    return generate(ClusterRequest(gpus=gpus, power=power), tray_sizer=size_trays)


def assert_clean(project: Project) -> dict:
    results = check(project)
    assert [f"{v.rule}: {v.message}" for v in results.violations if v.severity == "error"] == []
    return results.metrics


def test_100k_distributed_redundant_checks_clean_and_spreads_a_lost_block() -> None:
    project = generated(100_000, PowerChoice(topology="distributed_redundant"))
    m = assert_clean(project)
    assert project.power.topology == "distributed_redundant"
    assert project.power.blocks == 4
    topology = m["power_topology"]
    assert topology["scenarios"] == ["normal", *(f"block {k} lost" for k in (1, 2, 3, 4))]
    assert set(topology["lineups"]) == {"1", "2", "3", "4"}
    # 4-make-3: each block's utility service carries at most a third of the facility
    # (and a little for uneven rows), not all of it.
    loads = power_loads(project)
    utility = loads.roles == "grid_feed"
    assert utility.sum() == 4
    assert loads.worst_kw[utility].max() < m["facility_kw"] / 3 * 1.05
    # Every rack's A and B feeds are on two different blocks.
    block = {i.id: i.properties.get("block") for i in project.items}
    for feed in project.power.feeds.values():
        if feed.b is not None:
            assert block[feed.a] != block[feed.b]


@pytest.mark.slow
@pytest.mark.parametrize("gpus", [100_000, 200_000])
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_100k_and_200k_check_clean_under_each_topology(gpus: int, topology: str) -> None:
    project = generated(gpus, PowerChoice(topology=topology))
    m = assert_clean(project)
    assert m["power_topology"]["topology"] == topology
    loads = power_loads(project)
    # Utility services are sized to the load they carry, never padded with spare feeds:
    # as many 150 MW services as the worst load needs, contracted for their share.
    for lineup in m["power_topology"]["lineups"].values():
        services = lineup.get("grid_feed", 0)
        assert services <= math.ceil(m["facility_kw"] / 150_000)
    contracted = {i.id: i.properties["contracted_kw"] for i in project.items
                  if "contracted_kw" in i.properties}  # fmt: skip
    ids = list(loads.ids)
    for unit, kw in contracted.items():
        # The generator counts network racks full of switches; a rack's installed switches
        # may be fewer, so the contract may stand a little above the load checked.
        worst = loads.worst_kw[ids.index(unit)]
        assert worst <= kw < worst * 1.01 + 100.0


def test_2n_generated_sides_share_nothing() -> None:
    project = generated(20_000, PowerChoice())
    m = assert_clean(project)
    lineups = m["power_topology"]["lineups"]
    assert set(lineups) == {"A", "B"}
    assert lineups["A"] == lineups["B"]
    for role in ("grid_feed", "switchgear", "transformer", "ups", "battery", "busway"):
        assert lineups["A"][role] >= 1


def test_colossus_as_built_passes_and_names_the_unit_when_it_does_not() -> None:
    preset = POWER_PRESETS["colossus"]
    project = generated(100_000, preset)
    m = assert_clean(project)
    roles = m["power_topology"]["lineups"]["all"]
    assert (roles["grid_feed"], roles["turbine"], roles["battery"]) == (1, 14, 79)
    (service,) = [i for i in project.items if i.type_id == "grid-feed-150mw"]
    assert service.properties["contracted_kw"] == 150_000.0
    # The facility of 164 MW: 150 MW contracted + 13 of 14 turbines at 2.5 MW = 182.5 MW.
    assert 150_000 < m["facility_kw"] < 182_500
    assert m["sources"]["without_spares_kw"] == 182_500.0
    # Contracted for 120 MW, the service carries its share of the facility load in
    # proportion to its capacity: facility × 120 / (120 + 14 × 2.5), above 120 MW.
    project.set_item_properties(service.id, {**service.properties, "contracted_kw": 120_000.0})
    facility = check(project).metrics["facility_kw"]
    share = facility * 120_000 / (120_000 + 14 * 2_500)
    assert share > 120_000
    (over,) = found(project, "power.utility")
    assert over.items == (service.id,)
    assert f"{service.id} (grid_feed) carries {share:,.1f} kW in normal operation" in over.message
    assert "of its contracted 120,000 kW" in over.message
    (short,) = found(project, "power.sources")
    assert "give 152,500 kW" in short.message
    assert f"short of the {facility:,.0f} kW" in short.message


def test_new_takes_the_topology_and_the_preset_and_refuses_a_bad_one(tmp_path: Path) -> None:
    out = tmp_path / "dr.dclayout"
    run = cli("new", "--gpus", "2000", "--power-topology", "distributed-redundant",
              "--blocks", "3", "-o", str(out))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "power: distributed-redundant (3 blocks)" in run.stdout
    assert "0 error(s)" in run.stdout
    plan = dclayout.load(out).power
    assert (plan.topology, plan.blocks) == ("distributed_redundant", 3)
    out = tmp_path / "colossus.dclayout"
    run = cli("new", "--gpus", "2000", "--power-preset", "colossus", "--turbines", "3",
              "-o", str(out))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "all: 1 utility, 3 turbines" in run.stdout
    for args, words in ((["--power-topology", "3n"], "--power-topology: expected one of 2n"),
                        (["--blocks", "2", "--power-topology", "distributed-redundant"],
                         "--blocks: expected 3 to 16 blocks, got 2"),
                        (["--blocks", "4"], "--blocks: 2n has no blocks"),
                        (["--utility-mw", "-5"], "--utility-mw")):  # fmt: skip
        run = cli("new", "--gpus", "100", "-o", str(tmp_path / "x.dclayout"), *args)
        assert run.returncode == 2
        (line,) = run.stderr.strip().splitlines()[-1:]
        assert words in line, run.stderr


def test_a_bad_power_choice_names_its_field() -> None:
    with pytest.raises(GeneratorError) as err:
        generate(ClusterRequest(gpus=100, power=PowerChoice(topology="3n")))
    assert err.value.field == "topology"
    with pytest.raises(GeneratorError) as err:
        generate(ClusterRequest(gpus=100, power=PowerChoice(turbines=-1)))
    assert err.value.field == "turbines"
