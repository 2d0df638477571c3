"""Thermal screening map: energy balance, monotonicity, RCI_HI, the inlet rule."""

from __future__ import annotations

import numpy as np
import pytest

from layout.commands import CommandStack, MoveItems
from layout.floor import Floor
from layout.items import Item
from layout.project import Project
from layout.rules import Rules
from physics import Checker, check
from physics.thermal import rci_hi, thermal_map

DGX = "dgx-h100-air-4"  # 40.8 kW to air
COLOSSUS = "colossus-hgx-h100-lc"  # 17 kW to air


def hall(racks: int = 16, crahs: int = 2, rack: str = COLOSSUS, width: float = 30.0) -> Project:
    """A row pair facing a cold aisle (fronts towards y = 6), CRAHs along the top wall."""
    items = [Item(f"A{k}", rack, 2.3 + 0.6 * k, 5.0, 180.0) for k in range(racks // 2)]
    items += [Item(f"B{k}", rack, 2.3 + 0.6 * k, 7.4, 0.0) for k in range(racks - racks // 2)]
    items += [Item(f"AH{k}", "crah-150kw", 3.0 + 3.0 * k, 1.0) for k in range(crahs)]
    return Project(Floor.rectangle(width, 12.0), items=items)


@pytest.mark.parametrize(("racks", "crahs", "rack"), [(16, 2, COLOSSUS), (12, 1, DGX), (4, 3, DGX)])
def test_heat_in_equals_heat_removed(racks, crahs, rack) -> None:
    found = thermal_map(hall(racks, crahs, rack))
    heat = racks * (17.0 if rack == COLOSSUS else 40.8)
    assert found.heat_in_kw == pytest.approx(heat)
    assert found.heat_removed_kw == pytest.approx(heat, rel=1e-6)
    assert sum(found.removed_by_crah_kw.values()) == pytest.approx(heat, rel=1e-6)


def test_more_heat_is_never_cooler() -> None:
    project = hall(12, 1, DGX)
    project.rules = Rules({"design_load_fraction": 0.5})
    cooler = thermal_map(project)
    project.rules = Rules({"design_load_fraction": 1.0})
    hotter = thermal_map(project)
    assert np.all(hotter.inlet_c >= cooler.inlet_c - 1e-9)
    both = np.isfinite(cooler.return_grid)
    assert np.all(hotter.return_grid[both] >= cooler.return_grid[both] - 1e-9)
    assert hotter.worst_inlet_c > cooler.worst_inlet_c


def test_more_cooling_is_never_hotter() -> None:
    project = hall(12, 1, DGX)
    before = thermal_map(project)
    project.add_items([Item("AH9", "crah-150kw", 12.0, 11.0)])
    after = thermal_map(project)
    assert np.all(after.inlet_c <= before.inlet_c + 1e-9)
    both = np.isfinite(before.return_grid)
    assert np.all(after.return_grid[both] <= before.return_grid[both] + 1e-9)
    assert after.worst_inlet_c < before.worst_inlet_c


def test_rci_hi_matches_the_formula_on_worked_intakes() -> None:
    # Over 27 °C by 0, 1, 3 and 6 K: 10 K over; 4 intakes × (32 − 27) = 20 → 50 %.
    assert rci_hi(np.array([25.0, 28.0, 30.0, 33.0]), 27.0, 32.0) == pytest.approx(50.0)
    assert rci_hi(np.array([20.0, 26.9]), 27.0, 32.0) == pytest.approx(100.0)
    # Herrlin's bands: one intake of 20 at 2 K over → 1 − 2 / (20 · 5) = 98 %.
    assert rci_hi(np.array([29.0] + [22.0] * 19), 27.0, 32.0) == pytest.approx(98.0)


def test_summary_reports_worst_inlet_and_rci() -> None:
    project = hall(12, 1, DGX)
    metrics = check(project).metrics
    found = thermal_map(project)
    assert metrics["worst_rack_inlet_c"] == pytest.approx(found.worst_inlet_c, abs=0.01)
    assert metrics["rci_hi"] == pytest.approx(rci_hi(found.inlet_c, 27.0, 32.0), abs=0.01)


def test_well_cooled_racks_read_at_supply_and_starved_racks_are_flagged() -> None:
    # 16 × 17 kW = 272 kW of air; four CRAHs give 45 m³/s against 20.5 m³/s of demand.
    good = hall(16, 4, COLOSSUS)
    assert thermal_map(good).worst_inlet_c == pytest.approx(20.0)
    assert [v for v in check(good).violations if v.rule == "thermal.inlet"] == []
    # 12 × 40.8 kW = 490 kW of air against one 150 kW CRAH: every rack breathes hot air.
    starved = hall(12, 1, DGX)
    found = [v for v in check(starved).violations if v.rule == "thermal.inlet"]
    assert {v.items[0] for v in found} == {f"A{k}" for k in range(6)} | {f"B{k}" for k in range(6)}
    assert all(v.severity == "error" for v in found)
    assert "screening model" in found[0].message
    project = hall(12, 1, DGX)
    project.rules = Rules({"inlet_allowable_c": 50.0, "inlet_recommended_c": 45.0})
    relaxed = [v for v in check(project).violations if v.rule == "thermal.inlet"]
    assert all(v.severity == "warning" for v in relaxed)


def test_map_covers_the_hall() -> None:
    found = thermal_map(hall(8, 1))
    assert found.extent == pytest.approx((0.0, 0.0, 30.0, 12.0))
    assert found.grid.shape == (20, 50)
    assert found.cell_m == pytest.approx(0.6)
    assert np.isfinite(found.grid).all()
    assert found.rack_ids[:2] == ["A0", "A1"]


def test_no_crah_no_map() -> None:
    project = Project(Floor.rectangle(10, 10), items=[Item("R1", DGX, 5, 5)])
    assert thermal_map(project) is None
    assert check(project).metrics["worst_rack_inlet_c"] is None


def test_recheck_after_a_move_equals_a_full_check() -> None:
    project = hall(12, 1, DGX, width=40.0)
    checker = Checker()
    checker.check(project)
    stack = CommandStack(project)
    for dx in (3.0, 10.0, -6.0):
        stack.push(MoveItems.by(project, ["A0"], dx, 0.0))
        incremental = checker.check(project)
        full = check(project)
        assert incremental.violations == full.violations
        assert incremental.metrics["worst_rack_inlet_c"] == full.metrics["worst_rack_inlet_c"]
        assert incremental.metrics["rci_hi"] == full.metrics["rci_hi"]
    # Moving a CRAH changes the matrix: still the same as a full check.
    stack.push(MoveItems.by(project, ["AH0"], 8.0, 0.0))
    assert checker.check(project).violations == check(project).violations
