"""Tray sizing: each cable tray sized for the cables the cabling solver routes over it.

Owns :func:`size_trays` (a project → its :class:`~layout.project.TrayPlan`
with every segment resized) and :func:`tray_size_for` (a cross-section → the
standard tray that holds it). A pure function of the project: it returns a
new section and changes nothing. A new design is made by
``layout.generator.generate(request, tray_sizer=size_trays)`` (``main.py
new``, the New Cluster wizard, the benchmarks): the generator lays trays along
every row and cross aisle, and this sizes them. Links run along a row between
touching racks never reach a tray (:mod:`physics.cabling`), so they size none.

Trays come in standard widths (0.3 to 0.9 m, 0.15 m deep, as ladder and
wire-mesh tray ranges are sold); a run needing more is built as stacked
levels of the widest tray, then as side-by-side banks of such stacks. A run
that would need more than the largest bank keeps that bank, and the
``cabling.tray_fill`` rule reports it: the fabric then needs its network racks
spread out, not a bigger tray.
"""

from __future__ import annotations

import math

from layout.project import Project, TrayPlan
from physics.cabling import route

STANDARD_WIDTHS_M = (0.3, 0.45, 0.6, 0.75, 0.9)
LEVEL_DEPTH_M = 0.15
MAX_LEVELS = 4
MAX_BANKS = 5
"""Five side-by-side stacks of 0.9 m trays (4.5 m) is as wide as a cross aisle allows."""


def tray_size_for(area_m2: float, fill_limit: float) -> tuple[float, float]:
    """The smallest standard (width, depth) whose fill-limited cross-section holds ``area_m2``."""
    for width in STANDARD_WIDTHS_M:
        if width * LEVEL_DEPTH_M * fill_limit >= area_m2:
            return width, LEVEL_DEPTH_M
    widest = STANDARD_WIDTHS_M[-1]
    per_stack = widest * LEVEL_DEPTH_M * fill_limit
    stacks = math.ceil(area_m2 / per_stack)
    if stacks <= MAX_LEVELS:
        return widest, LEVEL_DEPTH_M * stacks
    banks = min(MAX_BANKS, math.ceil(stacks / MAX_LEVELS))
    return round(widest * banks, 3), LEVEL_DEPTH_M * MAX_LEVELS


def size_trays(project: Project) -> TrayPlan:
    """The project's trays, each resized to hold the cables routed over it."""
    result = route(project)
    if result is None or not project.trays.segments:
        return project.trays
    _, _, width, depth = project.trays.arrays()
    needed = result.fill * width * depth
    segments = []
    for segment, area in zip(project.trays.segments, needed, strict=True):
        w, d = tray_size_for(float(area), result.fill_limit)
        segments.append(segment.model_copy(update={"width_m": w, "depth_m": round(d, 3)}))
    return TrayPlan(segments=segments)


__all__ = ["size_trays", "tray_size_for"]
