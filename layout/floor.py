"""The floor of a hall: outline, obstacles and tile grid.

Owns the building's geometry as shapely shapes in metres (x right, y down).
Obstacles are columns, walls and keep-out zones; they are fixed by the
building, so the floor keeps one STRtree over them. The floor never knows
about equipment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

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
class Floor:
    """A hall's outline (with holes allowed), its obstacles and its tile grid."""

    outline: Polygon
    obstacles: tuple[Obstacle, ...] = ()
    tile_m: float = DEFAULT_TILE_M
    underlay: str | None = field(default=None)
    """Path of an image or DXF drawn under the plan, relative to the project file."""

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
        return tuple(self.outline.bounds)  # type: ignore[return-value]

    @property
    def area_m2(self) -> float:
        return float(self.outline.area)

    def snap(self, xy: np.ndarray) -> np.ndarray:
        """Points rounded to the nearest tile-grid intersection."""
        return np.round(np.asarray(xy, dtype=float) / self.tile_m) * self.tile_m
