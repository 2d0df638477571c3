"""The floor of a hall: outline, obstacles and tile grid.

Owns the building's geometry as shapely shapes in metres (x right, y down).
Obstacles are columns, walls and keep-out zones; they are fixed by the
building, so the floor keeps one STRtree over them. The floor never knows
about equipment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry import Polygon

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
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"underlay scale must be a positive number, got {self.scale!r}")
        if len(self.origin) != 2 or not all(math.isfinite(c) for c in self.origin):
            raise ValueError(f"underlay origin must be two finite numbers, got {self.origin!r}")
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

    @classmethod
    def rectangle(cls, width_m: float, depth_m: float, **kwargs: object) -> Floor:
        """A rectangular hall with its top-left corner at the origin."""
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
