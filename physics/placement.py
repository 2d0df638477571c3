"""Placement rules: footprints inside the floor, off obstacles and each other, with aisles.

Owns the rules ``placement.outside_floor``, ``placement.overlap``,
``placement.on_obstacle`` and ``placement.service_aisle``. All are vectorised
over items with shapely's array functions and STRtree queries; no Python loop
runs over every item, only over the (few) violations found.

Service aisles: a unit whose type needs them has a clear zone the width of its
face and ``service_aisle_m`` deep in front (-y at rotation 0) and behind it. A
zone is blocked when another footprint or an obstacle takes area from it or it
leaves the floor; the clear width reported is the distance from the face to
the nearest such blocker.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import shapely

from layout.project import rotated_rectangles
from physics.engine import CheckContext, RuleProvider, Violation, rule

_FLOOR_EDGE = -2
_OBSTACLE = -3


def _outline_with_slack(context: CheckContext) -> shapely.Geometry:
    """The floor outline grown by a millimetre, prepared: a rack flush with a wall is inside."""
    cached = getattr(context, "_outline_with_slack", None)
    if cached is None:
        cached = shapely.buffer(context.project.floor.outline, 1e-3, join_style="mitre")
        shapely.prepare(cached)
        context._outline_with_slack = cached  # type: ignore[attr-defined]
    return cached


def _rows_to_check(context: CheckContext, rule_id: str) -> np.ndarray:
    """All rows, or only the moved ones when the rule's earlier findings carry over."""
    if context.carried(rule_id) is None:
        return np.arange(len(context.project.items))
    return context.moved_rows


def _tolerance(context: CheckContext) -> float:
    return context.project.rules["overlap_tolerance_m2"]


def _centre(geometry: shapely.Geometry) -> tuple[float, float]:
    point = geometry.centroid if not geometry.is_empty else geometry
    return (point.x, point.y)


@rule(
    "placement.outside_floor",
    "error",
    "A floor-mounted unit must lie inside the floor outline (outdoor units stand in the yard).",
)
def outside_floor(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    footprints = context.footprints
    indoor = _rows_to_check(context, rule.id)
    indoor = indoor[context.mountings[indoor] != "outdoor"]
    yield from context.carried(rule.id) or ()
    if len(indoor) == 0:
        return
    outline = _outline_with_slack(context)
    outside = indoor[~shapely.covered_by(footprints[indoor], outline)]
    ids = context.project.items.ids
    for row in outside:
        fp = footprints[row]
        share = 1.0 - shapely.area(shapely.intersection(fp, outline)) / max(fp.area, 1e-12)
        yield rule.violation(
            f"{ids[row]} is {share:.0%} outside the floor outline",
            (ids[row],),
            _centre(fp),
        )


def _overlapping_pairs(
    geoms_a: np.ndarray, tree: shapely.STRtree, geoms_b: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (a, b) whose shapes share more than ``tolerance`` m², with the shared area."""
    if len(geoms_a) == 0 or len(geoms_b) == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty, np.empty(0)
    a, b = tree.query(geoms_a, predicate="intersects")
    areas = shared_areas(geoms_a[a], geoms_b[b])
    keep = areas > tolerance
    return a[keep], b[keep], areas[keep]


def shared_areas(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Area shared by each pair of shapes.

    Racks at quarter turns and most obstacles are axis-aligned boxes, whose
    overlap is the product of the overlaps of their extents: computed with
    numpy, which is far cheaper than a geometric intersection. Other pairs
    fall back to shapely.
    """
    if len(first) == 0:
        return np.empty(0)
    bounds_a, bounds_b = shapely.bounds(first), shapely.bounds(second)
    boxes = _is_box(first, bounds_a) & _is_box(second, bounds_b)
    width = np.minimum(bounds_a[:, 2], bounds_b[:, 2]) - np.maximum(bounds_a[:, 0], bounds_b[:, 0])
    height = np.minimum(bounds_a[:, 3], bounds_b[:, 3]) - np.maximum(bounds_a[:, 1], bounds_b[:, 1])
    areas = np.clip(width, 0, None) * np.clip(height, 0, None)
    other = ~boxes
    if other.any():
        areas[other] = shapely.area(shapely.intersection(first[other], second[other]))
    return areas


def _is_box(geoms: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    box_area = (bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1])
    return np.isclose(shapely.area(geoms), box_area, rtol=1e-9, atol=1e-12)


@rule("placement.overlap", "error", "Footprints of units on the ground must not overlap.")
def overlap(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    footprints = context.footprints
    ground = context.ground_footprints
    carried = context.carried(rule.id)
    if carried is None:
        a, b, areas = _overlapping_pairs(ground, context.ground_tree, ground, _tolerance(context))
        once = a < b
        a, b = context.ground_rows[a], context.ground_rows[b]
    else:
        yield from carried
        # Only pairs with a moved item can have changed; each pair once.
        moved = np.intersect1d(context.moved_rows, context.ground_rows)
        a, b, areas = _overlapping_pairs(
            footprints[moved], context.ground_tree, ground, _tolerance(context)
        )
        a, b = moved[a], context.ground_rows[b]
        both_moved = np.isin(b, moved)
        once = (a != b) & (~both_moved | (a < b))
        a, b = np.minimum(a, b), np.maximum(a, b)
    ids = context.project.items.ids
    for i, j, area in zip(a[once], b[once], areas[once], strict=True):
        shared = shapely.intersection(footprints[i], footprints[j])
        yield rule.violation(
            f"{ids[i]} overlaps {ids[j]} by {area:.2f} m²", (ids[i], ids[j]), _centre(shared)
        )


@rule(
    "placement.on_obstacle",
    "error",
    "A footprint must not stand on a column, wall or keep-out zone.",
)
def on_obstacle(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    floor = context.project.floor
    if not floor.obstacles:
        return
    footprints = context.footprints
    obstacles = np.array([o.polygon for o in floor.obstacles], dtype=object)
    rows = _rows_to_check(context, rule.id)
    yield from context.carried(rule.id) or ()
    rows = np.intersect1d(rows, context.ground_rows)
    items, obs, _ = _overlapping_pairs(
        footprints[rows], floor.obstacle_tree, obstacles, _tolerance(context)
    )
    items = rows[items]
    ids = context.project.items.ids
    for i, k in zip(items, obs, strict=True):
        obstacle = floor.obstacles[k]
        shared = shapely.intersection(footprints[i], obstacle.polygon)
        yield rule.violation(
            f"{ids[i]} stands on {obstacle.kind} {obstacle.id}", (ids[i],), _centre(shared)
        )


def aisle_zones(
    context: CheckContext, only: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Front and rear clear zones of units that need service aisles (of rows ``only``).

    Returns (rows, side, zones, faces): the item row of each zone, 0 for front
    and 1 for rear, the zone polygons and the face segments they start from.
    """
    project = context.project
    aisle_m = project.rules["service_aisle_m"]
    access = {
        t: getattr(project.catalog[t], "service_access", "none")
        for t in set(project.items.type_ids)
    }
    sides = np.array([access[t] for t in project.items.type_ids], dtype=object)
    rows = np.flatnonzero(sides != "none")
    if only is not None:
        rows = np.intersect1d(rows, only)
    if len(rows) == 0 or aisle_m <= 0:
        empty = np.empty(0, dtype=object)
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp), empty, empty
    has_rear = sides[rows] == "front_rear"
    w, d = context.sizes
    w, d = w[rows], d[rows]
    x, y = project.items.x[rows], project.items.y[rows]
    rot = project.items.rotation[rows]
    theta = np.radians(rot)
    # Unit vector towards the front (-y at rotation 0), turned clockwise with y down.
    fx, fy = np.sin(theta), -np.cos(theta)
    fx = np.where(np.isclose(np.mod(rot, 90.0), 0.0), np.round(fx), fx)
    fy = np.where(np.isclose(np.mod(rot, 90.0), 0.0), np.round(fy), fy)
    offset = d / 2 + aisle_m / 2
    zones = []
    faces = []
    for sign in (1.0, -1.0):
        cx, cy = x + sign * fx * offset, y + sign * fy * offset
        zones.append(rotated_rectangles(cx, cy, w, np.full_like(w, aisle_m), rot))
        # Face segment: centre of the face, spanning the width along the face.
        px, py = x + sign * fx * d / 2, y + sign * fy * d / 2
        ux, uy = -fy * w / 2, fx * w / 2
        coords = np.stack([np.stack([px - ux, py - uy], -1), np.stack([px + ux, py + uy], -1)], 1)
        faces.append(shapely.linestrings(coords))
    n = len(rows)
    keep = np.concatenate([np.ones(n, bool), has_rear])
    out_rows = np.concatenate([rows, rows])[keep]
    out_side = np.concatenate([np.zeros(n, np.intp), np.ones(n, np.intp)])[keep]
    # Zones in (row, side) order, so that they line up however they were built.
    order = np.lexsort((out_side, out_rows))
    return (
        out_rows[order],
        out_side[order],
        np.concatenate(zones)[keep][order],
        np.concatenate(faces)[keep][order],
    )


@rule(
    "placement.service_aisle",
    "error",
    "The clear aisle in front of and behind a rack must be at least service_aisle_m wide.",
)
def service_aisle(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    zones_then = context.recall("aisle.zones")
    zone_of_then = context.recall("aisle.violation_zones")
    previous = context.previous(rule.id)
    if zones_then is None or zone_of_then is None or previous is None:
        rows, side, zones, faces = aisle_zones(context)
        subset = np.arange(len(rows))
        carried: list[tuple[int, Violation]] = []
    else:
        rows, side, zones, faces, subset, carried = _aisle_changes(
            context, zones_then, zone_of_then, previous
        )
    found = carried + _aisle_violations(context, rule, (rows, side, zones, faces), subset)
    found.sort(key=lambda pair: pair[0])
    context.remember("aisle.zones", (rows, side, zones, faces))
    context.remember("aisle.violation_zones", [zone for zone, _ in found])
    for _, violation in found:
        yield violation


def _aisle_changes(
    context: CheckContext,
    zones_then: tuple[np.ndarray, ...],
    zone_of_then: list[int],
    previous: list[Violation],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple[int, Violation]]]:
    """After a move: the updated zones, the zones to re-check and the findings that stand."""
    rows, side, zones, faces = (a.copy() for a in zones_then)
    moved = context.moved_rows
    mine = np.flatnonzero(np.isin(rows, moved))
    if len(mine):
        _, _, new_zones, new_faces = aisle_zones(context, moved)
        zones[mine], faces[mine] = new_zones, new_faces
    # Re-check the moved units' own zones, zones the moved units now stand in, and
    # zones whose finding named a moved unit (it may have left them clear).
    moved_ground = np.intersect1d(moved, context.ground_rows)
    entered = _zones_hit(zones, context.footprints[moved_ground])
    named = [z for z, v in zip(zone_of_then, previous, strict=True)
             if not context.moved_ids.isdisjoint(v.items)]  # fmt: skip
    subset = np.unique(np.concatenate([mine, entered, np.asarray(named, np.intp)]))
    again = set(subset.tolist())
    carried = [(z, v) for z, v in zip(zone_of_then, previous, strict=True) if z not in again]
    return rows, side, zones, faces, subset, carried


def _zones_hit(zones: np.ndarray, footprints: np.ndarray) -> np.ndarray:
    """Zones that any of a few (moved) footprints touch: one vectorised test per footprint
    rather than a spatial index over every zone."""
    if len(footprints) == 0 or len(zones) == 0:
        return np.empty(0, np.intp)
    hit = np.zeros(len(zones), bool)
    for footprint in footprints:
        hit |= shapely.intersects(zones, footprint)
    return np.flatnonzero(hit)


def _aisle_violations(
    context: CheckContext,
    rule: RuleProvider,
    zone_arrays: tuple[np.ndarray, ...],
    subset: np.ndarray,
) -> list[tuple[int, Violation]]:
    """Findings for the zones ``subset`` (indices into the zone arrays), with their zone."""
    rows, side, all_zones, all_faces = zone_arrays
    project = context.project
    if len(subset) == 0:
        return []
    zones, faces, zone_rows = all_zones[subset], all_faces[subset], rows[subset]
    tol = _tolerance(context)
    aisle_m = project.rules["service_aisle_m"]
    clear = np.full(len(zones), np.inf)
    # Who blocks each zone: an item row (>= 0), _FLOOR_EDGE, or _OBSTACLE - obstacle index.
    blocker = np.full(len(zones), -1, dtype=np.intp)

    z, other, _ = _overlapping_pairs(zones, context.ground_tree, context.ground_footprints, tol)
    other = context.ground_rows[other]
    mine = other == zone_rows[z]
    z, other = z[~mine], other[~mine]
    gaps = shapely.distance(faces[z], context.footprints[other])
    _keep_nearest(clear, blocker, z, gaps, other)

    floor = project.floor
    if floor.obstacles:
        obstacles = np.array([o.polygon for o in floor.obstacles], dtype=object)
        z, k, _ = _overlapping_pairs(zones, floor.obstacle_tree, obstacles, tol)
        _keep_nearest(clear, blocker, z, shapely.distance(faces[z], obstacles[k]), _OBSTACLE - k)

    indoor = np.flatnonzero(context.mountings[zone_rows] != "outdoor")
    inside = shapely.covered_by(zones[indoor], _outline_with_slack(context))
    leaving = indoor[~inside]
    if len(leaving):
        gaps = shapely.distance(faces[leaving], floor.outline.boundary)
        _keep_nearest(clear, blocker, leaving, gaps, np.full(len(leaving), _FLOOR_EDGE))

    ids = project.items.ids
    found = []
    for k in np.flatnonzero(np.isfinite(clear)):
        row = zone_rows[k]
        what = ("front", "rear")[side[subset[k]]]
        b = blocker[k]
        if b >= 0:
            by, items = ids[b], (ids[row], ids[b])
        elif b == _FLOOR_EDGE:
            by, items = "the floor's edge", (ids[row],)
        else:
            obstacle = floor.obstacles[_OBSTACLE - b]
            by, items = f"{obstacle.kind} {obstacle.id}", (ids[row],)
        found.append((int(subset[k]), rule.violation(
            f"{ids[row]}: {what} aisle {clear[k]:.2f} m clear, rule {aisle_m:.2f} m "
            f"(blocked by {by})",
            items,
            _centre(zones[k]),
        )))  # fmt: skip
    return found


def _keep_nearest(
    clear: np.ndarray, blocker: np.ndarray, zones: np.ndarray, gaps: np.ndarray, who: np.ndarray
) -> None:
    """Per zone, keep the smallest gap and who caused it."""
    if len(zones) == 0:
        return
    # Ties go to the lowest row, so any subset of zones gives the same answer.
    order = np.lexsort((who, gaps, zones))
    zones, gaps, who = zones[order], gaps[order], who[order]
    first = np.r_[True, zones[1:] != zones[:-1]]
    zones, gaps, who = zones[first], gaps[first], who[first]
    closer = gaps < clear[zones]
    clear[zones[closer]] = gaps[closer]
    blocker[zones[closer]] = who[closer]
