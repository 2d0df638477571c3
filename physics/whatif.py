"""What-if failures: fail units and report what each solver loses.

Owns the dispatch only: each solver registers a function with :func:`effect`
that, given the project and the failed item ids, returns its section of the
report (or None when the failure does not concern it). Nothing here changes
the project.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from layout.errors import CoherenceError
from layout.project import Project

EffectFunction = Callable[[Project, list[str]], Mapping[str, Any] | None]
EFFECTS: dict[str, EffectFunction] = {}


def effect(section: str) -> Callable[[EffectFunction], EffectFunction]:
    """Register ``function`` as the what-if of one solver, reported under ``section``."""

    def register(function: EffectFunction) -> EffectFunction:
        EFFECTS[section] = function
        return function

    return register


def fail(project: Project, item_ids: Iterable[str]) -> dict[str, Any]:
    """What is lost when ``item_ids`` fail; raises :class:`CoherenceError` for unknown ids."""
    from physics.engine import registered_rules

    registered_rules()  # importing the solvers registers their effects

    failed = list(dict.fromkeys(item_ids))
    for item_id in failed:
        if item_id not in project.items:
            raise CoherenceError(f"--fail: no item {item_id!r} in the project")
    report: dict[str, Any] = {"failed": failed}
    for section in sorted(EFFECTS):
        found = EFFECTS[section](project, failed)
        if found is not None:
            report[section] = dict(found)
    return report
