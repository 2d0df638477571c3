"""Completing a generated design with what only the solvers can size.

Owns the steps that follow :func:`layout.generator.generate` when a new design
is made (``main.py new``, the New Cluster wizard, the benchmarks): the
generator lays trays along every row and cross aisle, and this module sizes
each tray for the cables the cabling solver routes over it. It returns new
project sections; it never changes the layout of items.

Trays come in standard widths (0.3 to 0.9 m, 0.15 m deep, as ladder and
wire-mesh tray ranges are sold); a run needing more is built as stacked
levels of the widest tray, then as side-by-side banks of such stacks. A run
that would need more than the largest bank keeps that bank, and the
``cabling.tray_fill`` rule reports it: the fabric then needs its network racks
spread out, not a bigger tray.
"""

from __future__ import annotations

import math

from layout.generator import ClusterRequest, generate
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


def complete(project: Project) -> Project:
    """Size the trays of a freshly generated project (in place) and return it."""
    project.replace_section("trays", size_trays(project))
    return project


def new_design(request: ClusterRequest) -> Project:
    """A generated design with its trays sized: what ``main.py new`` writes."""
    return complete(generate(request))


__all__ = ["complete", "new_design", "size_trays", "tray_size_for"]
