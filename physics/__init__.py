"""Solvers: pure functions of a project to results (metrics and violations).

Never imports Qt or anything from ``gui/``. ``check(project)`` runs every
enabled rule and returns :class:`~physics.engine.Results`.
"""

from physics.engine import Checker, Results, Violation, check

__all__ = ["Checker", "Results", "Violation", "check"]
