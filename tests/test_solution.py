"""One solve: physics.solution gives the check and every solver's output, as each solver would.

A generated 4,096-GPU design (fabric, trays, power chain, cooling plant) and
hand-built projects without a fabric or a power plan.
"""

from __future__ import annotations

import numpy as np
import pytest

import physics
import physics.solution
from layout.commands import MoveItems
from layout.floor import Floor
from layout.generator import ClusterRequest, generate
from layout.items import Item
from layout.project import Project
from physics.cabling import CablingResult, route
from physics.cooling import CoolingLoads, cooling_loads
from physics.fabric import LINK_TIERS, DerivedFabric, derive
from physics.power import PowerLoads, power_loads
from physics.solution import Solution, solve
from physics.thermal import ThermalMap, thermal_map
from physics.tray_sizing import size_trays


@pytest.fixture(scope="module")
def design() -> Project:
    return generate(ClusterRequest(gpus=4096), tray_sizer=size_trays).snapshot()


def assert_same_outputs(solution: Solution, project: Project) -> None:
    """The solution's outputs equal each solver's public function run afresh on ``project``."""
    fabric = derive(project)
    for tier in LINK_TIERS:
        np.testing.assert_array_equal(solution.fabric.links[tier].a, fabric.links[tier].a)
        np.testing.assert_array_equal(solution.fabric.links[tier].count, fabric.links[tier].count)
    cabling = route(project)
    assert solution.cabling.segment_ids == cabling.segment_ids
    np.testing.assert_allclose(solution.cabling.fill, cabling.fill)
    assert solution.cabling.longest_link() == cabling.longest_link()
    assert solution.cabling.bom() == cabling.bom()
    power = power_loads(project)
    assert solution.power.ids == power.ids
    np.testing.assert_allclose(solution.power.worst_kw, power.worst_kw)
    cooling = cooling_loads(project)
    assert solution.cooling.unit_ids == cooling.unit_ids
    np.testing.assert_allclose(solution.cooling.unit_load_kw, cooling.unit_load_kw)
    thermal = thermal_map(project)
    np.testing.assert_allclose(solution.thermal.grid, thermal.grid, equal_nan=True)
    np.testing.assert_allclose(solution.thermal.inlet_c, thermal.inlet_c, equal_nan=True)


def test_solve_gives_every_solvers_output(design):
    solution = solve(design)
    assert solution.problems == {}
    assert solution.project is design
    assert isinstance(solution.fabric, DerivedFabric)
    assert isinstance(solution.cabling, CablingResult)
    assert isinstance(solution.power, PowerLoads)
    assert isinstance(solution.cooling, CoolingLoads)
    assert isinstance(solution.thermal, ThermalMap)
    assert_same_outputs(solution, design)
    # The check is the ordinary check.
    results = physics.check(design)
    assert solution.results.violations == results.violations
    assert solution.results.metrics == results.metrics
    assert solution.row("R00001") == design.items.row("R00001")
    assert solution.row("no-such-item") is None


def test_given_results_are_kept_and_not_checked_again(design):
    results = physics.check(design)
    solution = solve(design, results=results)
    assert solution.results is results
    assert_same_outputs(solution, design)


def test_the_checkers_solve_follows_moves(design):
    project = design.snapshot()
    checker = physics.Checker()
    checker.solve(project.snapshot())
    MoveItems.by(project, ["R00001"], 0.0, -0.3).do(project)
    moved = checker.solve(project.snapshot())
    assert moved.problems == {}
    assert_same_outputs(moved, project)
    assert moved.results.violations == physics.check(project).violations


def test_without_fabric_or_plant_the_outputs_are_none():
    project = Project(Floor.rectangle(12.0, 10.0),
                      items=[Item("R1", "dgx-h100-air-4", 5.0, 5.0)])  # fmt: skip
    solution = solve(project)
    assert solution.problems == {}
    assert solution.fabric is None
    assert solution.cabling is None
    assert solution.power is None  # no power plan
    assert solution.cooling is None  # no cooling plan
    assert solution.thermal is None  # no CRAH
    assert solution.results.metrics["power_planned"] is False


def test_a_solver_that_raises_is_named_and_the_rest_delivered(design, monkeypatch):
    def broken(_context):
        raise RuntimeError("thermal solver broke\nsecond line")

    # A fault injected where the solution collects the thermal map.
    monkeypatch.setattr(physics.solution, "map_of", broken)
    solution = solve(design)
    assert solution.problems == {"thermal": "RuntimeError: thermal solver broke"}
    assert solution.thermal is None
    assert solution.cabling is not None
    assert solution.power is not None
