"""Benchmark the power, cooling and thermal solvers (called from ``bench/run.py``).

:func:`measure_plant` takes a generated project and times, in a fresh check
context each (so nothing is reused): the power rules and metric, the cooling
rules and metric, and the thermal screening map (rule and metric); then, with
one :class:`physics.Checker`, the re-check after moving one GPU rack 0.3 m into
its cold aisle and back (the mean of both moves, after a warm-up check), once
with every rule and once with only these three solvers' rules. Sub-second
steps are the best of 3.

Standalone::

    python3 bench/plant.py --gpus 100000,1000000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SOLVERS = ("power", "cooling", "thermal")
BEST_OF = 3


def _best(function: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(BEST_OF):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
        if best > 1.0:
            break
    return best, result


def _run_solver(project: Any, solver: str) -> int:
    """Run one solver's rules and metric in a fresh context; the number of findings."""
    from physics.engine import METRICS, RULES, CheckContext, registered_rules

    registered_rules()
    context = CheckContext(project)
    found = 0
    for rule_id in sorted(RULES):
        if rule_id.startswith(solver + "."):
            found += sum(1 for _ in RULES[rule_id].run(context))
    METRICS[solver](context)
    return found


def _one_rack(project: Any) -> tuple[str, float, float]:
    kinds = project.kinds()
    row = next(r for r in range(len(project.items)) if kinds[r] == "gpu_rack")
    item = project.items.item_at(row)
    dy = 0.3 if item.rotation == 180.0 else -0.3  # into its cold aisle
    return item.id, item.x, item.y + dy


def _recheck(project: Any, disabled: list[str]) -> float:
    """Mean re-check time over a move and the move back (after a first, full check)."""
    from layout.commands import CommandStack, MoveItems
    from physics import Checker

    checker = Checker()
    checker.check(project, disabled)
    stack = CommandStack(project)
    rack, x, y = _one_rack(project)
    times = []
    for _ in range(BEST_OF):
        stack.push(MoveItems([rack], [x], [y]))
        started = time.perf_counter()
        checker.check(project, disabled)
        times.append(time.perf_counter() - started)
        stack.undo()
        started = time.perf_counter()
        checker.check(project, disabled)
        times.append(time.perf_counter() - started)
    return min(sum(times[k : k + 2]) / 2 for k in range(0, len(times), 2))


def measure_plant(project: Any) -> dict[str, Any]:
    """Timings (seconds) and figures of the power, cooling and thermal solvers on ``project``."""
    from physics import check
    from physics.engine import RULES, registered_rules
    from physics.thermal import make_grid

    registered_rules()
    out: dict[str, Any] = {}
    for solver in SOLVERS:
        out[f"{solver}_s"], out[f"{solver}_findings"] = _best(
            lambda s=solver: _run_solver(project, s)
        )
    out["plant_s"] = sum(out[f"{s}_s"] for s in SOLVERS)
    out["check_s"], results = _best(lambda: check(project))
    others = [r for r in RULES if not r.startswith(tuple(s + "." for s in SOLVERS))]
    out["recheck_s"] = _recheck(project, [])
    out["plant_recheck_s"] = _recheck(project, others)
    grid = make_grid(project)
    out["thermal_cells"] = int(grid.active.sum())
    out["thermal_cell_m"] = round(grid.cell_m, 3)
    m = results.metrics
    for key in ("gpus", "it_kw", "facility_kw", "pue", "heat_to_liquid_kw", "heat_to_air_kw",
                "worst_rack_inlet_c", "rci_hi"):  # fmt: skip
        out[key] = m.get(key)
    out["violations"] = dict(
        Counter(
            f"{v.rule} ({v.severity})"
            for v in results.violations
            if v.rule.startswith(tuple(s + "." for s in SOLVERS))
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpus", default="100000", help="comma-separated GPU counts")
    args = parser.parse_args(argv)
    from layout.generator import ClusterRequest, generate
    from physics.tray_sizing import size_trays

    for gpus in (int(g) for g in args.gpus.split(",")):
        started = time.perf_counter()
        project = generate(ClusterRequest(gpus=gpus), tray_sizer=size_trays)
        figures = {"gpus_requested": gpus, "generate_s": time.perf_counter() - started}
        figures |= measure_plant(project)
        print(json.dumps(figures, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
