"""Power chain on hand-worked cases: 2N feeds, derating, N+1 sources, batteries, what-if."""

from __future__ import annotations

import math

import pytest

from layout.floor import Floor
from layout.items import Item
from layout.project import Feed, PowerPlan, Project
from layout.rules import Rules
from physics import check
from physics.power import power_loads, what_if
from physics.whatif import fail

DGX = "dgx-h100-air-4"  # 4 × DGX H100 of 10.2 kW = 40.8 kW
COLOSSUS = "colossus-hgx-h100-lc"


def busway(item_id: str, type_id: str, x: float, y: float, side: str) -> Item:
    return Item(item_id, type_id, x, y, 0.0, "", {"side": side, "length_m": 6.0})


def rack_on_busways(busway_type: str, *, b_feed: bool = True) -> Project:
    items = [
        Item("R1", DGX, 5.0, 5.0),
        busway("BWA1", busway_type, 5.0, 4.75, "A"),
        busway("BWB1", busway_type, 5.0, 5.25, "B"),
    ]
    feeds = {"R1": Feed(a="BWA1", b="BWB1" if b_feed else None)}
    return Project(Floor.rectangle(12, 10), items=items, power=PowerPlan(feeds=feeds))


def found(project: Project, rule: str) -> list:
    return [v for v in check(project).violations if v.rule == rule]


def test_three_phase_ratings_are_the_worked_numbers() -> None:
    project = rack_on_busways("busway-415v-60a")
    assert project.catalog["busway-415v-60a"].capacity_kw == pytest.approx(
        415 * 60 * math.sqrt(3) / 1000, abs=1e-3
    )
    assert project.catalog["busway-415v-60a"].capacity_kw * 0.8 == pytest.approx(34.5, abs=0.05)
    assert project.catalog["busway-415v-100a"].capacity_kw * 0.8 == pytest.approx(57.5, abs=0.05)


def test_dgx_rack_on_2n_60a_busways_fails_with_either_feed_lost() -> None:
    project = rack_on_busways("busway-415v-60a")
    loads = power_loads(project)
    # Normal: 20.4 kW on each side; either feed lost: 40.8 kW on the other.
    assert loads.load_kw.tolist() == pytest.approx([20.4, 20.4])
    assert loads.worst_kw.tolist() == pytest.approx([40.8, 40.8])
    over = found(project, "power.capacity")
    assert sorted(v.items for v in over) == [("BWA1",), ("BWB1",)]
    message = next(v.message for v in over if v.items == ("BWA1",))
    assert "40.8 kW with feed B lost" in message
    assert "43.1 kW rating" in message
    assert "34.5 kW" in message
    assert "95%" in message  # 40.8 / 43.13
    assert all(v.severity == "error" for v in over)


def test_dgx_rack_on_2n_100a_busways_passes() -> None:
    project = rack_on_busways("busway-415v-100a")
    assert found(project, "power.capacity") == []
    assert found(project, "power.feeds") == []
    util = power_loads(project).utilisation
    assert util.tolist() == pytest.approx([40.8 / 71.88] * 2, abs=1e-3)


def test_design_load_fraction_scales_the_rack() -> None:
    project = rack_on_busways("busway-415v-60a")
    project.rules = Rules({"design_load_fraction": 0.76})
    # 0.76 × 40.8 = 31.0 kW fits the 34.5 kW derated rating.
    assert found(project, "power.capacity") == []
    assert check(project).metrics["it_kw"] == pytest.approx(31.0, abs=0.05)


def test_without_2n_only_the_normal_split_counts() -> None:
    project = rack_on_busways("busway-415v-60a")
    project.rules = Rules({"feeds_2n": 0})
    assert found(project, "power.capacity") == []
    assert found(project, "power.feeds") == []


def test_missing_feeds_are_errors() -> None:
    project = rack_on_busways("busway-415v-100a", b_feed=False)
    feeds = found(project, "power.feeds")
    assert [(v.items, v.severity) for v in feeds] == [(("R1",), "error")]
    assert "only feed A" in feeds[0].message
    project.power = PowerPlan(feeds={})
    assert "has no power feed" in found(project, "power.feeds")[0].message
    project.power = PowerPlan(feeds={"R1": Feed(a="BWA1", b="NOPE")})
    assert any("no item 'NOPE'" in v.message for v in found(project, "power.feeds"))


def test_a_project_without_power_plan_is_not_checked() -> None:
    project = Project(Floor.rectangle(12, 10), items=[Item("R1", DGX, 5.0, 5.0)])
    results = check(project)
    assert not [v for v in results.violations if v.rule.startswith("power.")]
    assert results.metrics["power_planned"] is False
    assert results.metrics["it_kw"] == pytest.approx(40.8)


def test_whip_length_is_measured_to_the_units_footprint() -> None:
    project = rack_on_busways("busway-415v-100a")
    assert found(project, "power.whip") == []
    project.set_positions(["R1"], [5.0], [4.75 + 16.0])
    whips = found(project, "power.whip")
    assert sorted(v.items for v in whips) == [("R1", "BWA1"), ("R1", "BWB1")]
    assert all(v.severity == "warning" for v in whips)


def plant(sources: int, source_kw: float = 100.0) -> Project:
    """Two racks of 40.8 kW on 2N busways, each side through a transformer, to the sources.

    Both sides share the sources and the battery, which a 2N chain must not
    (``power.topology`` says so); the other rules judge the loads all the same."""
    items = [
        Item("R1", DGX, 5.0, 5.0),
        Item("R2", DGX, 5.6, 5.0),
        busway("BWA1", "busway-415v-400a", 5.3, 4.75, "A"),
        busway("BWB1", "busway-415v-400a", 5.3, 5.25, "B"),
        Item("TXA", "transformer-2500kva", 3.0, 30.0),
        Item("TXB", "transformer-2500kva", 8.0, 30.0),
        Item("BAT", "battery-megapack", 20.0, 40.0),
    ]
    names = [f"G{k}" for k in range(sources)]
    items += [Item(n, "turbine-gas-2500kw", 15.0 * k, 50.0) for k, n in enumerate(names)]
    feeds = {"R1": Feed(a="BWA1", b="BWB1"), "R2": Feed(a="BWA1", b="BWB1")}
    upstream = {"BWA1": ["TXA"], "BWB1": ["TXB"], "TXA": [*names, "BAT"], "TXB": [*names, "BAT"]}
    return Project(
        Floor.rectangle(12, 10), items=items, power=PowerPlan(feeds=feeds, upstream=upstream)
    )


def test_transformer_losses_reach_the_sources_and_facility_power() -> None:
    project = plant(2)
    loads = power_loads(project)
    ids = loads.ids
    # The transformers (efficiency 0.99) draw 81.6 / 0.99 in the worst case.
    assert loads.worst_kw[ids.index("TXA")] == pytest.approx(81.6)
    total = sum(loads.load_kw[ids.index(g)] for g in ("G0", "G1"))
    assert total == pytest.approx(81.6 / 0.99)
    metrics = check(project).metrics
    assert metrics["facility_kw"] == pytest.approx(81.6 / 0.99, abs=0.05)
    assert metrics["pue"] == pytest.approx(1 / 0.99, abs=1e-3)


def test_n_plus_1_sources_lose_the_largest() -> None:
    # 81.6 / 0.99 = 82.4 kW of load. One 2.5 MW turbine carries it; N+1 needs two.
    assert found(plant(2), "power.sources") == []
    short = found(plant(1), "power.sources")
    assert len(short) == 1
    assert "with the largest 1 lost give 0 kW" in short[0].message
    # Mixed sizes: without the largest, the small one must still carry the load.
    project = plant(2)
    small = project.catalog["turbine-gas-2500kw"].model_copy(
        update={"id": "turbine-small", "capacity_kw": 90.0}
    )
    project.catalog = project.catalog.overlaid([small])
    project.set_item_type("G1", "turbine-small")
    # Largest (2.5 MW) lost: a turbine is held to its site rating, not to 80 %: 90 kW
    # carries 82.4 kW.
    assert found(project, "power.sources") == []
    # At a site derating of 0.9 it gives 81 kW < 82.4 kW.
    project.rules = Rules({"site_derating": 0.9})
    short = found(project, "power.sources")
    assert len(short) == 1
    assert "give 81 kW" in short[0].message
    assert "short of the 82 kW" in short[0].message
    project.rules = Rules({"site_derating": 0.9, "spare_sources": 0})
    assert found(project, "power.sources") == []


def test_battery_covers_swing_and_ride_through() -> None:
    project = plant(2)
    # 0.3 × 81.6 = 24.5 kW ≤ 1,900 kW; 300 s × 81.6 kW = 6.8 kWh ≤ 3,900 kWh.
    assert found(project, "power.battery") == []
    project.rules = Rules({"ride_through_s": 86_400, "training_swing": 2.0})
    short = found(project, "power.battery")
    # 163.2 kW of swing is fine; 24 h × 81.6 kW = 1,958 kWh is fine: still nothing.
    assert short == []
    project.remove_items(["BAT"])
    project.power = project.power.model_copy(
        update={"upstream": {**project.power.upstream, "TXA": ["G0", "G1"], "TXB": ["G0", "G1"]}}
    )
    short = found(project, "power.battery")
    assert len(short) == 2
    assert any("short of the training swing" in v.message for v in short)
    figures = check(project).metrics["battery"]
    assert figures["swing_kw"] == pytest.approx(2.0 * 81.6, abs=0.1)


def test_failing_a_busway_reports_exactly_its_racks_without_a_b_feed() -> None:
    items = [Item(f"R{k}", DGX, 2.3 + 0.6 * k, 5.0) for k in range(4)]
    items += [
        busway("BWA1", "busway-415v-400a", 3.2, 4.75, "A"),
        busway("BWA2", "busway-415v-400a", 9.2, 4.75, "A"),
    ]
    feeds = {"R0": Feed(a="BWA1"), "R1": Feed(a="BWA1"), "R2": Feed(a="BWA2"),
             "R3": Feed(a="BWA2")}  # fmt: skip
    project = Project(Floor.rectangle(14, 10), items=items, power=PowerPlan(feeds=feeds))
    report = what_if(project, ["BWA1"])
    assert report.consumers_unpowered == ("R0", "R1")
    assert report.gpus_unpowered == 2 * 32
    assert report.it_kw_lost == pytest.approx(81.6)
    assert report.overloaded == ()
    # The command-line path (check --fail) gives the same.
    assert fail(project, ["BWA1"]).power == report
    assert fail(project, ["BWA1"]).to_json()["power"]["consumers_unpowered"] == ["R0", "R1"]


def test_with_2n_a_busway_loss_loses_nothing_but_loads_the_other_side() -> None:
    project = rack_on_busways("busway-415v-60a")
    report = what_if(project, ["BWA1"])
    assert report.consumers_unpowered == ()
    assert report.gpus_unpowered == 0
    assert report.on_one_feed == 1
    assert report.to_json()["overloaded"] == [
        {"unit": "BWB1", "load_kw": 40.8, "before_kw": 20.4, "limit_kw": 34.5,
         "utilisation": pytest.approx(40.8 / 43.1302, abs=1e-4)}
    ]  # fmt: skip
    assert what_if(rack_on_busways("busway-415v-100a"), ["BWA1"]).overloaded == ()


def test_losing_a_transformer_powers_down_its_busway() -> None:
    project = plant(2)
    report = what_if(project, ["TXA"])
    assert report.units_unpowered == ("BWA1",)
    assert report.consumers_unpowered == ()
    both = what_if(project, ["TXA", "TXB"])
    assert both.consumers_unpowered == ("R1", "R2")
    assert both.gpus_unpowered == 64
    # All sources lost: nothing is powered (batteries only ride through).
    assert what_if(project, ["G0", "G1"]).gpus_unpowered == 64
