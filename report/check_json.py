"""The ``check --json`` document: what a headless check prints for CI.

Owns the format (``coherence.check``, version :data:`CHECK_VERSION`) that
README.md documents under "check --json": the file checked, whether it has
errors, the summary figures with the violation counts, the violations, the
waived violations with their reasons, the rules that ran and how long the
check took; and ``coherence``, each criterion of a coherent GPU fabric with its figure,
its limit and whether it passed (:func:`physics.fabric_figures.coherence`; null without a
fabric). A what-if, when asked for, is added under ``what_if``
(:meth:`physics.whatif.WhatIfReport.to_json`).

The document is strict JSON: a figure that is not a finite number (a ratio
over nothing, an unbounded worst case) is written as null, and its place is
listed under ``non_finite`` (present only then), e.g. ``summary.power.worst``.
"""

from __future__ import annotations

import math
from typing import Any

from physics.engine import Results
from physics.whatif import WhatIfReport

CHECK_FORMAT = "coherence.check"
CHECK_VERSION = 1


def results_to_json(
    file: str, results: Results, what_if: WhatIfReport | None = None
) -> dict[str, Any]:
    """The documented ``check --json`` document for ``results`` of the project in ``file``."""
    summary = dict(results.metrics)
    coherence = summary.pop("coherence", None)
    summary |= {
        "errors": results.errors,
        "warnings": results.warnings,
        "infos": results.count("info"),
        "waived": len(results.waived),
    }
    document: dict[str, Any] = {
        "format": CHECK_FORMAT,
        "version": CHECK_VERSION,
        "file": file,
        "ok": results.errors == 0,
        "summary": summary,
        "coherence": coherence,
        "violations": [v.to_json() for v in results.violations],
        "waived": [v.to_json() | {"reason": w.reason} for v, w in results.waived],
        "rules_run": results.rules_run,
        "seconds": round(results.seconds, 4),
    }
    if what_if is not None:
        document["what_if"] = what_if.to_json()
    non_finite: list[str] = []
    document = _finite(document, "", non_finite)
    if non_finite:
        document["non_finite"] = non_finite
    return document


def _finite(value: Any, place: str, non_finite: list[str]) -> Any:
    """``value`` with every non-finite number replaced by None, its place noted."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        non_finite.append(place)
        return None
    if isinstance(value, dict):
        joiner = "." if place else ""
        return {k: _finite(v, f"{place}{joiner}{k}", non_finite) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, f"{place}[{k}]", non_finite) for k, v in enumerate(value)]
    return value
