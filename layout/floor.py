"""The floor of a hall: outline, obstacles and tile grid.

Owns the building's geometry as shapely shapes in metres (x right, y down).
Obstacles are columns, walls and keep-out zones; they are fixed by the
building, so the floor keeps one STRtree over them. The floor never knows
about equipment.

A floor holds only what a project file can hold (:mod:`layout.limits`): its
constructor refuses, with an :class:`~layout.errors.EditError`, outlines and
obstacles the loader would refuse, so a floor from any source (a DXF, the
generator, an edit) saves to a file that reads back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry import Polygon

from layout.errors import EditError, first_duplicate, shown
from layout.limits import (
    MAX_COORD_M,
    MAX_DRAWING_COORD,
    MAX_ID_CHARS,
    MAX_OBSTACLES,
    MAX_PATH_CHARS,
    MAX_TILE_M,
    MAX_UNDERLAY_SCALE,
    MAX_VERTICES,
    checked_coordinate,
    checked_text,
)

ObstacleKind = Literal["column", "wall", "keepout"]
OBSTACLE_KINDS: tuple[ObstacleKind, ...] = ("column", "wall", "keepout")

DEFAULT_TILE_M = 0.6


@dataclass(frozen=True)
class Obstacle:
    """A fixed part of the building that equipment must not stand on."""

    id: str
    kind: ObstacleKind
    polygon: Polygon


@dataclass(frozen=True)
class UnderlayPlacement:
    """Where the underlay drawing lies on the plan: drawing units → plan metres.

    A drawing point (x, y) lands at ``((x - ox) × scale, (oy - y) × scale)``
    with ``flip_y`` (a DXF's y axis points up, the plan's down), else at
    ``((x - ox) × scale, (y - oy) × scale)``; ``origin`` = (ox, oy) is the
    drawing point at plan (0, 0).
    """

    scale: float
    """Metres per drawing unit (> 0)."""
    origin: tuple[float, float] = (0.0, 0.0)
    flip_y: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.scale) and 0 < self.scale <= MAX_UNDERLAY_SCALE):
            raise ValueError(
                f"underlay scale must be a number in 0..{MAX_UNDERLAY_SCALE:g} m per drawing "
                f"unit, got {self.scale!r}"
            )
        if len(self.origin) != 2 or not all(
            math.isfinite(c) and abs(c) <= MAX_DRAWING_COORD for c in self.origin
        ):
            raise ValueError(
                f"underlay origin must be two numbers within ±{MAX_DRAWING_COORD:g}, "
                f"got {self.origin!r}"
            )
        object.__setattr__(self, "origin", (float(self.origin[0]), float(self.origin[1])))

    def to_plan(self, coords: Any) -> np.ndarray:
        """Drawing coordinates (n, 2) as plan metres (n, 2)."""
        xy = np.asarray(coords, dtype=float).reshape(-1, 2)
        ox, oy = self.origin
        y = (oy - xy[:, 1]) if self.flip_y else (xy[:, 1] - oy)
        return np.column_stack(((xy[:, 0] - ox) * self.scale, y * self.scale))

    def to_drawing(self, coords: Any) -> np.ndarray:
        """Plan metres (n, 2) as drawing coordinates (n, 2)."""
        xy = np.asarray(coords, dtype=float).reshape(-1, 2)
        ox, oy = self.origin
        dy = xy[:, 1] / self.scale
        return np.column_stack((xy[:, 0] / self.scale + ox, oy - dy if self.flip_y else oy + dy))


@dataclass(frozen=True)
class Floor:
    """A hall's outline (with holes allowed), its obstacles and its tile grid."""

    outline: Polygon
    obstacles: tuple[Obstacle, ...] = ()
    tile_m: float = DEFAULT_TILE_M
    underlay: str | None = field(default=None)
    """Path of the DXF drawn under the plan: relative to the project file's folder, or
    absolute (``dclayout.save`` writes an absolute one relative to the file)."""
    underlay_placement: UnderlayPlacement | None = None
    """How the underlay's drawing units map to the plan; None: unknown (files from
    before placements were stored), and the underlay is not drawn."""

    def __post_init__(self) -> None:
        _check_polygon(self.outline, "floor outline", holes_allowed=True)
        if not isinstance(self.obstacles, tuple):
            object.__setattr__(self, "obstacles", tuple(self.obstacles))
        if len(self.obstacles) > MAX_OBSTACLES:
            raise EditError(
                f"floor: {len(self.obstacles):,} obstacles is more than the "
                f"{MAX_OBSTACLES:,} a floor may hold"
            )
        for obstacle in self.obstacles:
            if not isinstance(obstacle, Obstacle):
                raise EditError(f"floor: expected obstacles, got {shown(obstacle)}")
            checked_text(obstacle.id, "obstacle id", MAX_ID_CHARS, min_chars=1)
            if obstacle.kind not in OBSTACLE_KINDS:
                raise EditError(f"obstacle {obstacle.id}: unknown kind {shown(obstacle.kind)}")
        _check_polygons([o.polygon for o in self.obstacles], [o.id for o in self.obstacles])
        duplicate = first_duplicate(o.id for o in self.obstacles)
        if duplicate is not None:
            raise EditError(f"floor: obstacle id {duplicate!r} is used twice")
        tile = self.tile_m
        if (
            isinstance(tile, bool)
            or not isinstance(tile, (int, float))
            or not (math.isfinite(tile) and 0 < tile <= MAX_TILE_M)
        ):
            raise EditError(f"floor: tile size {shown(tile)} m is outside 0..{MAX_TILE_M:g} m")
        object.__setattr__(self, "tile_m", float(tile))
        if self.underlay is not None:
            checked_text(self.underlay, "floor: underlay path", MAX_PATH_CHARS)
        if self.underlay_placement is not None and not isinstance(
            self.underlay_placement, UnderlayPlacement
        ):
            raise EditError(
                f"floor: expected an underlay placement, got {shown(self.underlay_placement)}"
            )

    @classmethod
    def rectangle(cls, width_m: float, depth_m: float, **kwargs: object) -> Floor:
        """A rectangular hall with its top-left corner at the origin."""
        width_m = checked_coordinate(width_m, "floor: width")
        depth_m = checked_coordinate(depth_m, "floor: depth")
        return cls(outline=shapely.box(0.0, 0.0, width_m, depth_m), **kwargs)  # type: ignore[arg-type]

    @cached_property
    def obstacle_tree(self) -> shapely.STRtree:
        """Spatial index over the obstacles' polygons, in ``obstacles`` order."""
        return shapely.STRtree([o.polygon for o in self.obstacles])

    @cached_property
    def prepared_outline(self) -> Polygon:
        shapely.prepare(self.outline)
        return self.outline

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = self.outline.bounds
        return x0, y0, x1, y1

    @property
    def area_m2(self) -> float:
        return float(self.outline.area)

    def snap(self, xy: np.ndarray) -> np.ndarray:
        """Points rounded to the nearest tile-grid intersection."""
        return np.round(np.asarray(xy, dtype=float) / self.tile_m) * self.tile_m


def _check_polygon(polygon: object, what: str, *, holes_allowed: bool) -> None:
    """An :class:`EditError` unless ``polygon`` is one valid polygon with area, of at most
    :data:`MAX_VERTICES` vertices a ring, within ±:data:`MAX_COORD_M`."""
    if not isinstance(polygon, Polygon) or polygon.is_empty:
        raise EditError(f"{what}: expected a polygon, got {type(polygon).__name__}")
    rings = [polygon.exterior, *polygon.interiors] if holes_allowed else [polygon.exterior]
    for ring in rings:
        # A stored ring leaves out the closing point.
        vertices = shapely.get_num_coordinates(ring) - 1
        if vertices > MAX_VERTICES:
            raise EditError(
                f"{what}: {vertices:,} vertices is more than the {MAX_VERTICES:,} a ring may have"
            )
    _check_extent(polygon.bounds, what)
    valid = polygon.is_valid
    reason = "" if valid else shapely.is_valid_reason(polygon)
    if reason.startswith(("Self-intersection", "Ring Self-intersection")):
        raise EditError(f"{what}: its edges cross ({reason})")
    if not polygon.area > 0:
        raise EditError(f"{what}: the polygon has no area")
    if not valid:
        raise EditError(f"{what}: not a valid polygon ({reason})")


def _check_polygons(polygons: list[Polygon], ids: list[str]) -> None:
    """:func:`_check_polygon` for many obstacle outlines at once (vectorised where it costs)."""
    if not polygons:
        return
    array = np.empty(len(polygons), dtype=object)
    array[:] = polygons
    if not all(isinstance(p, Polygon) for p in polygons):
        bad = next(k for k, p in enumerate(polygons) if not isinstance(p, Polygon))
        _check_polygon(polygons[bad], f"obstacle {ids[bad]}", holes_allowed=False)
    vertices = shapely.get_num_coordinates(shapely.get_exterior_ring(array)) - 1
    bounds = shapely.bounds(array)
    bad = (
        (vertices > MAX_VERTICES)
        | ~np.isfinite(bounds).all(axis=1)
        | (np.abs(bounds) > MAX_COORD_M).any(axis=1)
        | ~(shapely.area(array) > 0)
        | ~shapely.is_valid(array)
    )
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        _check_polygon(polygons[k], f"obstacle {ids[k]}", holes_allowed=False)


def _check_extent(bounds: tuple[float, float, float, float], what: str) -> None:
    if not all(math.isfinite(c) for c in bounds):
        raise EditError(f"{what}: coordinates must be finite numbers")
    if max(abs(c) for c in bounds) > MAX_COORD_M:
        far = max(bounds, key=abs)
        raise EditError(f"{what}: a vertex at {far:,.6g} m is beyond ±{MAX_COORD_M:,.0f} m")
