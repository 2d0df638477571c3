"""One solve of a project: the check and the typed outputs of every solver, together.

Owns "run every solver and keep its outputs", for every user of them: the
GUI's background check (overlays and inspector), the report and the command
line. :func:`solve` checks a project and returns a :class:`Solution`;
:meth:`physics.engine.Checker.solve` does the same incrementally, and either
way the outputs are those the check's own rules and metrics computed on one
:class:`~physics.engine.CheckContext` (through each solver's public view of
it: :func:`physics.fabric.fabric_of`, :func:`physics.cabling.routed`,
:func:`physics.power.loads_of`, :func:`physics.cooling.loads_of`,
:func:`physics.thermal.map_of`), so nothing is computed twice.

A solver that raises while its output is collected is named in
:attr:`Solution.problems` with a one-line message and its output is None: a
solver's bug must not take the canvas down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from layout.project import Project
from physics.cabling import CablingResult, routed
from physics.cooling import CoolingLoads
from physics.cooling import loads_of as cooling_loads_of
from physics.engine import CheckContext, Results, check_context
from physics.fabric import DerivedFabric, fabric_of
from physics.figures import FigureIndex, index_of
from physics.power import PowerLoads
from physics.power import loads_of as power_loads_of
from physics.thermal import ThermalMap, map_of

T = TypeVar("T")


@dataclass(frozen=True)
class Solution:
    """A checked snapshot and every solver's output on it (rows index its items)."""

    project: Project
    """The snapshot solved."""
    results: Results
    """The check: metrics, violations, waived violations."""
    fabric: DerivedFabric | None
    """The derived fabric; None without a fabric spec."""
    cabling: CablingResult | None
    """Every link routed over the trays; None without a fabric."""
    power: PowerLoads | None
    """Per-unit loads and utilisation; None when the project plans no power."""
    cooling: CoolingLoads | None
    """Per-rack heat and per-unit loads; None when the project plans no cooling."""
    thermal: ThermalMap | None
    """The thermal screening map; None without a CRAH in the hall."""
    figures: FigureIndex
    """The reverse look-ups the inspector reads (see :mod:`physics.figures`)."""
    problems: dict[str, str] = field(default_factory=dict)
    """Solver name → one-line error, for those that raised."""

    def row(self, item_id: str) -> int | None:
        """The snapshot row of ``item_id`` (None when it was not in the snapshot)."""
        items = self.project.items
        return items.row(item_id) if item_id in items else None


def solve(
    project: Project, disabled: Iterable[str] = (), *, results: Results | None = None
) -> Solution:
    """Check ``project`` (unless its ``results`` are given) and run every solver on it."""
    context = CheckContext(project)
    if results is None:
        results = check_context(context, disabled)
    return collect(context, results)


def collect(context: CheckContext, results: Results) -> Solution:
    """The solvers' outputs on ``context``, which the check giving ``results`` ran on (or a
    fresh context of the same project, where they are computed now)."""
    problems: dict[str, str] = {}

    def attempt(name: str, compute: Callable[[], T]) -> T | None:
        try:
            return compute()
        except Exception as err:  # a solver's bug must not take the canvas down
            problems[name] = f"{type(err).__name__}: {err}".splitlines()[0]
            return None

    metrics = results.metrics
    fabric = attempt("fabric", lambda: fabric_of(context))
    cabling = attempt("cabling", lambda: routed(context)) if fabric is not None else None
    power = attempt("power", lambda: power_loads_of(context)) \
        if metrics.get("power_planned") else None  # fmt: skip
    cooling = attempt("cooling", lambda: cooling_loads_of(context)) \
        if metrics.get("cooling_planned") else None  # fmt: skip
    thermal = attempt("thermal", lambda: map_of(context))
    figures = index_of(context, fabric, power, thermal)
    return Solution(context.project, results, fabric, cabling, power, cooling, thermal, figures,
                    problems)  # fmt: skip


__all__ = ["Solution", "collect", "solve"]
