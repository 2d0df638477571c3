"""Cooling budgets on hand-worked cases: CDUs by water temperature, CRAHs, air limit, N+1."""

from __future__ import annotations

import pytest

from layout.floor import Floor
from layout.items import Item
from layout.project import CoolingPlan, Project
from layout.rules import Rules
from physics import check
from physics.cooling import airflow_m3s, cooling_loads, what_if

COLOSSUS = "colossus-hgx-h100-lc"  # 80 kW of servers × 0.8 = 64 kW to liquid, in-rack CDU
DGX = "dgx-h100-air-4"  # 40.8 kW, all to air


def liquid_rack_catalog(project: Project) -> None:
    """Add an 81.6 kW all-liquid rack (8 × 10.2 kW) with the Supermicro in-rack CDU."""
    base = project.catalog[COLOSSUS]
    rack = base.model_copy(update={"id": "lc-81.6", "server_kw": 10.2, "liquid_fraction": 1.0})
    project.catalog = project.catalog.overlaid([rack])


def found(project: Project, rule: str) -> list:
    return [v for v in check(project).violations if v.rule == rule]


def crah(item_id: str, x: float, y: float) -> Item:
    return Item(item_id, "crah-150kw", x, y)


def test_816_kw_liquid_rack_passes_a_100_kw_cdu_and_fails_a_60_kw_one() -> None:
    project = Project(Floor.rectangle(20, 12), items=[crah("AH1", 10, 2)])
    liquid_rack_catalog(project)
    project.add_items([Item("R1", "lc-81.6", 5.0, 6.0)])
    loads = cooling_loads(project)
    assert loads.liquid_kw.tolist() == pytest.approx([81.6])
    # 32 °C facility water: the in-rack CDU takes about 100 kW.
    assert found(project, "cooling.cdu") == []
    # 40 °C: about 60 kW.
    project.rules = Rules({"facility_water_c": 40.0})
    over = found(project, "cooling.cdu")
    assert [v.items for v in over] == [("R1",)]
    assert "81.6 kW to liquid" in over[0].message
    assert "60.0 kW with 40 °C" in over[0].message
    # Half-way the rating is interpolated: 80 kW at 36 °C.
    project.rules = Rules({"facility_water_c": 36.0})
    assert "takes 80.0 kW" in found(project, "cooling.cdu")[0].message


def test_colossus_rack_holds_at_32_c_and_not_at_40_c() -> None:
    items = [Item("R1", COLOSSUS, 5, 6), crah("AH1", 10, 2)]
    project = Project(Floor.rectangle(20, 12), items=items)
    assert found(project, "cooling.cdu") == []
    project.rules = Rules({"facility_water_c": 40.0})
    assert "64.0 kW to liquid" in found(project, "cooling.cdu")[0].message


def in_row_project(racks: int, cdu_x: float = 12.0) -> Project:
    """GB200 NVL72 racks (120 kW, 85 % of 108 kW of trays to liquid) on one in-row CDU."""
    items = [Item(f"R{k}", "gb200-nvl72", 2.3 + 0.6 * k, 6.0) for k in range(racks)]
    items += [Item("CDU1", "cdu-inrow-200kw", cdu_x, 6.0), crah("AH1", 6, 2)]
    plan = CoolingPlan(cdu={f"R{k}": "CDU1" for k in range(racks)})
    return Project(Floor.rectangle(60, 12), items=items, cooling=plan)


def test_in_row_cdu_capacity_depends_on_water_temperature() -> None:
    # One rack: 108 × 0.85 = 91.8 kW ≤ 200 kW (32 °C) and ≤ 120 kW (40 °C).
    project = in_row_project(1)
    assert found(project, "cooling.cdu") == []
    # Two racks: 183.6 kW ≤ 200 kW at 32 °C, > 120 kW at 40 °C.
    project = in_row_project(2)
    assert found(project, "cooling.cdu") == []
    project.rules = Rules({"facility_water_c": 40.0})
    over = found(project, "cooling.cdu")
    assert [v.items for v in over] == [("CDU1",)]
    assert "183.6 kW of liquid heat, over its 120.0 kW" in over[0].message


def test_liquid_heat_without_a_cdu_is_an_error() -> None:
    project = in_row_project(1)
    project.cooling = CoolingPlan()
    assert "has no CDU" in found(project, "cooling.cdu")[0].message


def test_cdu_loop_distance() -> None:
    assert found(in_row_project(1), "cooling.cdu_loop") == []
    far = found(in_row_project(1, cdu_x=40.0), "cooling.cdu_loop")
    assert [(v.items, v.severity) for v in far] == [(("R0", "CDU1"), "warning")]


def test_air_cooled_rack_above_the_air_limit_and_its_airflow() -> None:
    project = Project(Floor.rectangle(20, 12), items=[Item("R1", DGX, 5, 6), crah("AH1", 10, 2)])
    flagged = found(project, "cooling.air_limit")
    assert [(v.items, v.severity) for v in flagged] == [(("R1",), "warning")]
    # Q = 40.8 kW / (1.2 kg/m³ × 1.005 kJ/(kg·K) × 11 K) = 3.08 m³/s.
    assert "3.08 m³/s" in flagged[0].message
    assert cooling_loads(project).airflow_m3s.tolist() == pytest.approx([40.8 / (1.2 * 1.005 * 11)])
    # About 0.075 m³/s (160 CFM) per kW at ΔT 11 K.
    assert airflow_m3s(1.0, 11.0) == pytest.approx(0.0754, abs=1e-4)
    project.rules = Rules({"air_limit_kw": 45.0})
    assert found(project, "cooling.air_limit") == []


def test_crah_takes_its_assigned_or_nearest_racks_within_capacity() -> None:
    items = [Item(f"R{k}", DGX, 2.3 + 0.6 * k, 6.0) for k in range(4)]  # 163.2 kW of air
    items += [crah("AH1", 3, 2), crah("AH2", 30, 2)]
    project = Project(Floor.rectangle(40, 12), items=items)
    over = found(project, "cooling.crah")  # all four nearest AH1
    assert [v.items for v in over] == [("AH1",)]
    assert "163.2 kW" in over[0].message
    project.cooling = CoolingPlan(crah={"R0": "AH2", "R1": "AH2"})
    assert found(project, "cooling.crah") == []
    loads = cooling_loads(project)
    assert loads.crah == ["AH2", "AH2", "AH1", "AH1"]


def rejection_project(chillers: int, towers: int) -> Project:
    items = [Item(f"R{k}", COLOSSUS, 2.3 + 0.6 * k, 6.0) for k in range(4)]
    items += [crah("AH1", 10, 2)]
    items += [Item(f"CH{k}", "chiller-wc-1500kw", 5 + 6 * k, 30) for k in range(chillers)]
    items += [Item(f"CT{k}", "cooling-tower-3000kw", 5 + 8 * k, 40) for k in range(towers)]
    return Project(Floor.rectangle(20, 12), items=items)


def test_heat_rejection_is_n_plus_1() -> None:
    # 4 racks: 256 kW liquid + 4 × 17 kW air + 7.5 kW CRAH fan; chiller draw 250 kW each.
    assert found(rejection_project(2, 2), "cooling.rejection") == []
    short = found(rejection_project(1, 2), "cooling.rejection")
    assert len(short) == 1
    assert short[0].message.startswith("chillers: 1 units give 0 kW")
    figures = cooling_loads(rejection_project(2, 2)).rejection
    assert figures["air_loop_kw"] == pytest.approx(4 * 17 + 7.5)
    assert figures["total_kw"] == pytest.approx(4 * 64 + 4 * 17 + 7.5 + 2 * 250)
    assert len(found(rejection_project(2, 1), "cooling.rejection")) == 1


def test_heat_split_in_the_summary() -> None:
    metrics = check(rejection_project(2, 2)).metrics
    assert metrics["heat_to_liquid_kw"] == pytest.approx(4 * 64)
    assert metrics["heat_to_air_kw"] == pytest.approx(4 * 17)
    # All electrical load becomes heat: IT = liquid + air.
    heat = metrics["heat_to_liquid_kw"] + metrics["heat_to_air_kw"]
    assert metrics["it_kw"] == pytest.approx(heat)


def test_a_project_without_cooling_plan_is_not_checked() -> None:
    project = Project(Floor.rectangle(20, 12), items=[Item("R1", DGX, 5, 6)])
    assert not [v for v in check(project).violations if v.rule.startswith("cooling.")]


def test_failing_a_cdu_or_crah() -> None:
    project = in_row_project(2)
    report = what_if(project, ["CDU1"])
    assert report.racks_without_liquid_cooling == ("R0", "R1")
    assert report.gpus_affected == 2 * 72
    report = what_if(project, ["AH1"])
    assert report.racks_without_air_cooling == ("R0", "R1")
    items = [Item(f"R{k}", DGX, 2.3 + 0.6 * k, 6.0) for k in range(4)]
    items += [crah("AH1", 3, 2), crah("AH2", 30, 2)]
    project = Project(Floor.rectangle(40, 12), items=items)
    report = what_if(project, ["AH1"])
    assert report.racks_moved_to_another_crah == 4
    assert report.to_json()["crahs_overloaded"] == [
        {"unit": "AH2", "load_kw": 163.2, "capacity_kw": 150.0}
    ]
