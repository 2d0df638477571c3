"""Plan geometry of placed units: footprints, quarter turns, fronts and the one slack.

Owns how a unit's type, position and rotation become a shape on the plan, for
every part that draws, checks or edits it (canvas, pictures, DXF, placement
rules, the drag):

- :func:`footprint_size`: width and depth of one unit (an overhead run is as
  long as its ``length_m`` property says);
- :func:`rotated_rectangles`: footprints as shapely polygons, vectorised;
- :func:`is_quarter_turn`, :func:`quarter_turns`, :func:`axis_aligned_rects`:
  units standing square to the axes, drawn as plain rectangles;
- :func:`front_direction`, :func:`front_mark_depth`, :func:`front_strips`:
  where a unit's front is (-y at rotation 0, turned clockwise with y down) and
  the strip that marks it;
- :data:`SLACK_M`: how far a footprint may cross a line and still count as
  inside it (a rack flush with a wall is in).

Rotations are degrees clockwise on screen (y down), folded into [0, 360) by
the model. All functions take and return numpy arrays; none loops in Python
over units.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import shapely

from layout.catalog import PlaceableType

SLACK_M = 1e-3
"""A millimetre: the floor outline is grown by this much before asking whether a
footprint lies inside it, so that a unit flush with a wall is inside."""
QUARTER_TURN_TOLERANCE_DEG = 1e-6
"""A rotation this close to a multiple of 90° is that quarter turn."""
FRONT_MARK_M = 0.15
"""Depth of the strip that marks a unit's front (at most a fifth of its depth)."""
RUN_LENGTH_LIMITS_M = (0.1, 1000.0)
"""An overhead run's ``length_m`` is clamped to this range."""


# -- footprints ------------------------------------------------------------------------------
def run_length(properties: Mapping[str, object] | None) -> float | None:
    """The length an overhead run's ``length_m`` property gives it (clamped), or None."""
    if not properties:
        return None
    length = properties.get("length_m")
    if isinstance(length, (int, float)) and not isinstance(length, bool):
        low, high = RUN_LENGTH_LIMITS_M
        # Clamped before converting: an integer too large for a float is just long.
        return float(min(max(length, low), high))
    return None


def footprint_size(
    equipment_type: PlaceableType, properties: Mapping[str, object] | None = None
) -> tuple[float, float]:
    """Width and depth (metres, at rotation 0) of one unit of ``equipment_type``.

    Overhead runs (busways) are as long as their ``length_m`` property says; the
    catalog width is their length when it is not set.
    """
    width, depth = equipment_type.footprint.width_m, equipment_type.footprint.depth_m
    if equipment_type.mounting == "overhead":
        length = run_length(properties)
        if length is not None:
            width = length
    return width, depth


def rotated_rectangles(
    x: np.ndarray, y: np.ndarray, width: np.ndarray, depth: np.ndarray, degrees: np.ndarray
) -> np.ndarray:
    """Rectangles of ``width`` x ``depth`` centred at ``(x, y)``, turned clockwise (y down)."""
    half = np.stack([np.asarray(width) / 2, np.asarray(depth) / 2], axis=-1)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=float)
    local = corners[None, :, :] * half[:, None, :]
    cos, sin = _turn(degrees)
    # With y down, a clockwise turn on screen is the ordinary rotation matrix.
    rx = local[..., 0] * cos[:, None] - local[..., 1] * sin[:, None]
    ry = local[..., 0] * sin[:, None] + local[..., 1] * cos[:, None]
    coords = np.stack([rx + np.asarray(x)[:, None], ry + np.asarray(y)[:, None]], axis=-1)
    if len(coords) == 0:
        return np.empty(0, dtype=object)
    polygons: np.ndarray = shapely.polygons(coords)
    return polygons


# -- quarter turns ---------------------------------------------------------------------------
def is_quarter_turn(degrees: np.ndarray | float) -> np.ndarray:
    """Whether each rotation is a whole number of quarter turns (0°, 90°, 180°, 270°)."""
    turns = np.asarray(degrees, dtype=float) / 90.0
    return np.abs(turns - np.round(turns)) * 90.0 <= QUARTER_TURN_TOLERANCE_DEG


def quarter_turns(degrees: np.ndarray | float) -> np.ndarray:
    """The nearest whole number of quarter turns, 0 to 3 (1 is 90° clockwise)."""
    return np.mod(np.round(np.asarray(degrees, dtype=float) / 90.0), 4).astype(int)


def _turn(degrees: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine and sine of each rotation; exact at quarter turns, so that touching
    units stay touching."""
    degrees = np.asarray(degrees, dtype=float)
    theta = np.radians(degrees)
    cos, sin = np.cos(theta), np.sin(theta)
    quarter = is_quarter_turn(degrees)
    return np.where(quarter, np.round(cos), cos), np.where(quarter, np.round(sin), sin)


def axis_aligned_rects(
    x: np.ndarray, y: np.ndarray, width: np.ndarray, depth: np.ndarray, degrees: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which units stand at a quarter turn, and their footprint and front-mark rectangles
    as (left, top, width, height) rows, valid where they do."""
    degrees = np.asarray(degrees, dtype=float)
    quarter = is_quarter_turn(degrees)
    turns = quarter_turns(degrees)
    sideways = quarter & (turns % 2 == 1)
    span_x = np.where(sideways, depth, width)
    span_y = np.where(sideways, width, depth)
    left, top = x - span_x / 2, y - span_y / 2
    mark = front_mark_depth(depth)
    # The front faces -y at 0°, +x at 90°, +y at 180° and -x at 270° (clockwise, y down).
    front_left = np.where(turns == 1, x + span_x / 2 - mark, left)
    front_top = np.where(turns == 2, y + span_y / 2 - mark, top)
    front_w = np.where(sideways, mark, span_x)
    front_h = np.where(sideways, span_y, mark)
    rects = np.column_stack((left, top, span_x, span_y))
    fronts = np.column_stack((front_left, front_top, front_w, front_h))
    return quarter, rects, fronts


# -- fronts ----------------------------------------------------------------------------------
def front_direction(degrees: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vector (x, y) from each unit's centre towards its front: -y at rotation 0,
    turned clockwise with y down; exact at quarter turns."""
    cos, sin = _turn(degrees)
    return sin, -cos


def front_mark_depth(depth: np.ndarray | float) -> np.ndarray:
    """Depth of the front-mark strip of units ``depth`` deep."""
    return np.minimum(FRONT_MARK_M, 0.2 * np.asarray(depth, dtype=float))


def front_strips(
    x: np.ndarray, y: np.ndarray, width: np.ndarray, depth: np.ndarray, degrees: np.ndarray
) -> np.ndarray:
    """The front-mark strips of units as polygons (for those not at a quarter turn)."""
    mark = front_mark_depth(depth)
    # The strip's centre sits (depth - mark) / 2 ahead of the unit's centre.
    ahead = (np.asarray(depth, dtype=float) - mark) / 2
    fx, fy = front_direction(degrees)
    return rotated_rectangles(x + ahead * fx, y + ahead * fy, width, mark, degrees)


__all__ = [
    "FRONT_MARK_M",
    "QUARTER_TURN_TOLERANCE_DEG",
    "RUN_LENGTH_LIMITS_M",
    "SLACK_M",
    "axis_aligned_rects",
    "footprint_size",
    "front_direction",
    "front_mark_depth",
    "front_strips",
    "is_quarter_turn",
    "quarter_turns",
    "rotated_rectangles",
    "run_length",
]
