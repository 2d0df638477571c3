"""Placement: where a unit may stand, for the drag and the check alike.

Owns the legality of a position and the rules ``placement.outside_floor``,
``placement.overlap``, ``placement.on_obstacle`` and ``placement.service_aisle``.

Legality (one definition, used by the rules and by every edit: drag, nudge,
rotate, paste, palette drop, click-to-place, the inspector's position and
rotation): a unit that is not outdoors lies inside the floor outline grown by
:data:`~layout.geometry.SLACK_M`; a ground unit (any but overhead runs) shares
no more than the project's ``overlap_tolerance_m2`` with another ground unit's
footprint or with an obstacle (:func:`overlapping_pairs`); and an edit turns
units only to quarter turns (0°, 90°, 180°, 270°). The check does not flag
other turns a file may hold; an edit may not make them.

For edits, :class:`PlacementIndex` holds every footprint in an STRtree, built
once and then kept up to date from the project's events (the rows an edit
changed live in a small side tree until enough pile up), shared by everyone
editing one project (:meth:`PlacementIndex.for_project`); :class:`MovingSet` answers "what would
be wrong if these units stood here?" with a few STRtree queries around them,
never a loop over every item, so a drag can ask it per mouse move on a
100,000-rack hall. Conflicts the units had before the edit do not count, so a
planner can walk an overlapping rack out of trouble.

The rules are vectorised over items with shapely's array functions and STRtree
queries; no Python loop runs over every item, only over the (few) violations
found.

Service aisles: a unit whose type needs them has a clear zone the width of its
face and ``service_aisle_m`` deep in front (-y at rotation 0) and behind it. A
zone is blocked when another footprint or an obstacle takes area from it or it
leaves the floor; the clear width reported is the distance from the face to
the nearest such blocker.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import shapely

from layout.geometry import (
    SLACK_M,
    footprint_size,
    front_direction,
    is_quarter_turn,
    rotated_rectangles,
)
from layout.project import Project
from physics.engine import CheckContext, RuleProvider, Violation, rule

_FLOOR_EDGE = -2
_OBSTACLE = -3

NOT_A_QUARTER_TURN = "not at a quarter turn (0°, 90°, 180° or 270°)"
"""Why a unit may not be turned to another angle."""

POSITION_DECIMALS = 6
"""Positions an edit commits are rounded to the micrometre, so that snapped values are
the decimals a planner expects (5.1, not 5.1000000000000005)."""


class SpatialTree(Protocol):
    """What the placement helpers ask of a spatial index: ``shapely.STRtree.query``."""

    def query(self, geometry: object, predicate: str | None = None) -> np.ndarray: ...


# -- legality of a position ------------------------------------------------------------------
def outline_with_slack(outline: shapely.Geometry) -> shapely.Geometry:
    """The floor outline grown by :data:`~layout.geometry.SLACK_M`, prepared: a unit
    flush with a wall is inside."""
    grown = shapely.buffer(outline, SLACK_M, join_style="mitre")
    shapely.prepare(grown)
    return grown


def overlapping_pairs(
    geoms_a: np.ndarray,
    tree: SpatialTree,
    geoms_b: np.ndarray,
    tolerance: float,
    counted: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (a, b) whose shapes share more than ``tolerance`` m², with the shared area.

    ``tree`` indexes ``geoms_b``; ``counted`` (a mask over ``geoms_b``) leaves out
    the shapes that do not count as obstructions.
    """
    if len(geoms_a) == 0 or len(geoms_b) == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty, np.empty(0)
    a, b = tree.query(geoms_a, predicate="intersects")
    if counted is not None:
        keep = counted[b]
        a, b = a[keep], b[keep]
    areas = shared_areas(geoms_a[a], geoms_b[b])
    keep = areas > tolerance
    return a[keep], b[keep], areas[keep]


def off_the_floor(polygons: np.ndarray, outline: shapely.Geometry) -> np.ndarray:
    """Which ``polygons`` are not inside ``outline`` (from :func:`outline_with_slack`)."""
    return ~shapely.covered_by(polygons, outline)


@dataclass(frozen=True)
class Conflict:
    """Why ``item_id`` cannot stand where it would go: ``what`` is "overlaps R13" and so on."""

    item_id: str
    what: str

    def message(self, verb: str = "place") -> str:
        return f"Cannot {verb} {self.item_id} there: {self.what}"


def refusal(conflicts: Sequence[Conflict], verb: str = "place") -> str:
    """The one-line message refusing an edit for ``conflicts`` ("" when there are none)."""
    if not conflicts:
        return ""
    more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
    return conflicts[0].message(verb) + more


_shared_indexes: weakref.WeakKeyDictionary[Project, PlacementIndex] = weakref.WeakKeyDictionary()

SIDE_TREE_MAX = 1024
"""Footprints changed since the big STRtree was built, beyond which it is built again.

Below it, the changed rows live in a small side STRtree (rebuilt per change in well under
a millisecond); the big one (about 6 ms for 30,000 footprints) is rebuilt once this many
have piled up, so one edit never pays for the whole hall."""

_FIRST = 1_000_000
"""Priority of the index's model-event handlers: before any other listener may ask it."""


class FootprintTree:
    """The footprints of a :class:`PlacementIndex` as one STRtree-like query, by current row.

    A big STRtree holds the footprints as they were at its building ("slots"); rows
    moved, turned, resized, added or removed since then leave their slots dead and
    live in a small side STRtree. :meth:`query` answers as ``shapely.STRtree.query``
    over the current footprints would, with the hits sorted (by input, then row), so
    the answer does not depend on how the index got to its state. Valid until the
    model next changes (the index then makes a new one).
    """

    def __init__(self, base: shapely.STRtree, slot_row: np.ndarray, side_rows: np.ndarray,
                 footprints: np.ndarray) -> None:  # fmt: skip
        self._base = base
        self._slot_row = slot_row
        self._side_rows = side_rows
        self._side = shapely.STRtree(footprints[side_rows]) if len(side_rows) else None

    def query(self, geometry: object, predicate: str | None = None) -> np.ndarray:
        """Rows whose footprints meet ``geometry`` (one geometry), or ``[inputs, rows]``
        pairs (an array of geometries), as ``shapely.STRtree.query``."""
        hits = self._base.query(geometry, predicate=predicate)
        if hits.ndim == 1:
            rows = self._slot_row[hits]
            rows = rows[rows >= 0]
            if self._side is not None:
                side = self._side_rows[self._side.query(geometry, predicate=predicate)]
                rows = np.concatenate((rows, side))
            return np.sort(rows)
        inputs, rows = hits[0], self._slot_row[hits[1]]
        alive = rows >= 0
        inputs, rows = inputs[alive], rows[alive]
        if self._side is not None:
            side = self._side.query(geometry, predicate=predicate)
            inputs = np.concatenate((inputs, side[0]))
            rows = np.concatenate((rows, self._side_rows[side[1]]))
        order = np.lexsort((rows, inputs))
        return np.stack((inputs[order], rows[order]))


class PlacementIndex:
    """Every item's footprint, bounds and mounting, with a spatial index; follows the model.

    Built in full once (O(n): about 50 ms for 30,000 racks), then kept up to date
    from the project's events: a move, turn, addition or removal of k items costs
    O(k) geometry plus a few O(n) numpy steps, so the first click after an edit
    finds it ready. :attr:`tree` answers spatial queries by current row
    (:class:`FootprintTree`); queries are O(log n + hits).
    """

    def __init__(self, project: Project) -> None:
        # An index of one's own keeps its project alive (a caller may hold only the
        # index); the shared one lets go (see for_project).
        self._project: Project | None = project
        self._project_ref = weakref.ref(project)
        self._key: tuple[int, int] | None = None
        """(item store version, catalog id) the arrays are up to date with; None: rebuild."""
        self._floor: object | None = None
        self.footprints = np.empty(0, dtype=object)
        self.bounds = np.empty((0, 4))
        self.ground = np.empty(0, dtype=bool)
        self._outline: shapely.Geometry | None = None
        self._base = shapely.STRtree([])
        self._base_size = 0
        self._slot_row = np.empty(0, dtype=np.intp)
        """Per slot (an entry of the big STRtree, or a changed row after it): its row, or -1."""
        self._row_slot = np.empty(0, dtype=np.intp)
        self._slot_of: dict[str, int] = {}
        self._tree: FootprintTree | None = None
        # The model's events keep the index current; psygnal holds the handlers weakly,
        # so the index goes when nobody holds it.
        project.item_added.connect(self._on_added, priority=_FIRST)
        project.item_removed.connect(self._on_removed, priority=_FIRST)
        project.item_moved.connect(self._on_reshaped, priority=_FIRST)
        project.item_changed.connect(self._on_changed, priority=_FIRST)

    @classmethod
    def for_project(cls, project: Project) -> PlacementIndex:
        """The up-to-date index of ``project``, one per project however many ask."""
        index = _shared_indexes.get(project)
        if index is None:
            index = _shared_indexes[project] = cls(project)
            # The shared index must not keep its project alive: it goes with the project.
            index._project = None
        return index.refresh()

    @property
    def project(self) -> Project:
        project = self._project_ref()
        assert project is not None, "the project of this placement index is gone"
        return project

    @property
    def tree(self) -> FootprintTree:
        """The spatial index of the current footprints (a new one after each model change)."""
        if self._tree is None:
            side = np.flatnonzero(self._slot_row[self._base_size :] >= 0) + self._base_size
            self._tree = FootprintTree(self._base, self._slot_row, self._slot_row[side],
                                       self.footprints)  # fmt: skip
        return self._tree

    @property
    def side_count(self) -> int:
        """How many footprints changed since the big STRtree was built (they live in the
        side tree; at most :data:`SIDE_TREE_MAX` after a refresh)."""
        return int(np.count_nonzero(self._slot_row[self._base_size :] >= 0))

    def refresh(self) -> PlacementIndex:
        """Bring the index up to date with the model: nothing to do when its events were
        followed; a full rebuild when the catalog changed or a change went unreported."""
        project = self.project
        if self._key != (project.items.version, id(project.catalog)):
            self._rebuild()
        elif len(self._slot_row) - self._base_size > SIDE_TREE_MAX:
            self._rebuild_tree()
        if self._floor is not project.floor:
            self._floor = project.floor
            self._outline = outline_with_slack(project.floor.outline)
        return self

    def _rebuild(self) -> None:
        project = self.project
        self._key = (project.items.version, id(project.catalog))
        # A copy: rows are replaced in place as the model changes.
        self.footprints = project.footprints().copy()
        self.bounds = shapely.bounds(self.footprints).reshape(-1, 4)
        catalog = project.catalog
        mounting = {t: catalog[t].mounting for t in set(project.items.type_ids)}
        self.ground = np.fromiter(
            (mounting[t] != "overhead" for t in project.items.type_ids), bool, len(project.items)
        )
        self._rebuild_tree()

    def _rebuild_tree(self) -> None:
        """One big STRtree over the current footprints; no side rows."""
        n = len(self.footprints)
        self._base = shapely.STRtree(self.footprints)
        self._base_size = n
        self._slot_row = np.arange(n, dtype=np.intp)
        self._row_slot = np.arange(n, dtype=np.intp)
        self._slot_of = dict(zip(self.project.items.ids, range(n), strict=True))
        self._tree = None

    # -- following the model ----------------------------------------------------------------
    def _follows(self) -> bool:
        """Whether the event just reported is the one change since the index was current
        (else the index is left to rebuild at its next refresh)."""
        project = self.project
        if self._key is None:
            return False
        version, catalog = self._key
        if catalog != id(project.catalog) or project.items.version != version + 1:
            if project.items.version != version:
                self._key = None
            return False
        self._key = (version + 1, catalog)
        self._tree = None
        return True

    def _shapes(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Footprints and ground flags of ``rows`` as they are now, as project.footprints()
        makes them."""
        project = self.project
        items, catalog = project.items, project.catalog
        types = [catalog[items.type_ids[r]] for r in rows.tolist()]
        sizes = np.array(
            [
                footprint_size(t, items.properties_at(r))
                for t, r in zip(types, rows.tolist(), strict=True)
            ]
        ).reshape(-1, 2)
        polygons = rotated_rectangles(items.x[rows], items.y[rows], sizes[:, 0], sizes[:, 1],
                                      items.rotation[rows])  # fmt: skip
        ground = np.array([t.mounting != "overhead" for t in types], dtype=bool)
        return polygons, ground

    def _new_slots(self, ids: Sequence[str], rows: np.ndarray) -> np.ndarray:
        first = len(self._slot_row)
        slots = np.arange(first, first + len(rows), dtype=np.intp)
        self._slot_row = np.concatenate((self._slot_row, rows))
        self._slot_of.update(zip(ids, slots.tolist(), strict=True))
        return slots

    def _on_reshaped(self, item_ids: tuple[str, ...]) -> None:
        """Items moved or turned (or were resized): their rows get new footprints."""
        if not self._follows() or not item_ids:
            return
        rows = self.project.items.rows(item_ids)
        polygons, ground = self._shapes(rows)
        self.footprints[rows] = polygons
        self.bounds[rows] = shapely.bounds(polygons).reshape(-1, 4)
        self.ground[rows] = ground
        self._slot_row[self._row_slot[rows]] = -1
        self._row_slot[rows] = self._new_slots(item_ids, rows)

    def _on_changed(self, item_ids: tuple[str, ...], field: str) -> None:
        if field in ("type", "properties"):
            self._on_reshaped(item_ids)  # a size or mounting may have changed
        else:
            self._follows()

    def _on_added(self, item_ids: tuple[str, ...]) -> None:
        if not self._follows() or not item_ids:
            return
        rows = np.sort(self.project.items.rows(item_ids))
        ids = [self.project.items.ids[r] for r in rows.tolist()]
        # np.insert positions: each new row's place among the rows that were there before.
        before = rows - np.arange(len(rows))
        alive = self._slot_row >= 0
        old = self._slot_row[alive]
        self._slot_row[alive] = old + np.searchsorted(before, old, side="right")
        polygons, ground = self._shapes(rows)
        self.footprints = np.insert(self.footprints, before, polygons)
        self.bounds = np.insert(self.bounds, before, shapely.bounds(polygons).reshape(-1, 4),
                                axis=0)  # fmt: skip
        self.ground = np.insert(self.ground, before, ground)
        self._row_slot = np.insert(self._row_slot, before, self._new_slots(ids, rows))

    def _on_removed(self, item_ids: tuple[str, ...]) -> None:
        if not self._follows() or not item_ids:
            return
        if any(i not in self._slot_of for i in item_ids):
            self._key = None  # not what the index knew: rebuild at the next refresh
            return
        slots = np.array([self._slot_of.pop(i) for i in item_ids], dtype=np.intp)
        gone = np.sort(self._slot_row[slots])
        self._slot_row[slots] = -1
        alive = self._slot_row >= 0
        old = self._slot_row[alive]
        self._slot_row[alive] = old - np.searchsorted(gone, old)
        self.footprints = np.delete(self.footprints, gone)
        self.bounds = np.delete(self.bounds, gone, axis=0)
        self.ground = np.delete(self.ground, gone)
        self._row_slot = np.delete(self._row_slot, gone)

    @property
    def outline(self) -> shapely.Geometry:
        assert self._outline is not None
        return self._outline

    def conflicts(
        self,
        ids: Sequence[str],
        polygons: np.ndarray,
        ground: np.ndarray,
        indoor: np.ndarray,
        *,
        excluded: np.ndarray | None = None,
        rotation: np.ndarray | None = None,
    ) -> list[Conflict]:
        """What is wrong with putting ``polygons`` (named ``ids``) where they are.

        ``ground`` and ``indoor`` mark the polygons of ground and of indoor units;
        ``excluded`` marks item rows to ignore (the moving items' own old places);
        ``rotation``, when given, is checked for quarter turns.
        """
        project = self.project
        tolerance = project.rules["overlap_tolerance_m2"]
        found: list[Conflict] = []
        if rotation is not None:
            turned = np.flatnonzero(~is_quarter_turn(rotation))
            found += [Conflict(ids[i], NOT_A_QUARTER_TURN) for i in turned.tolist()]
        on_ground = np.flatnonzero(ground)
        if len(on_ground):
            counted = self.ground if excluded is None else self.ground & ~excluded
            mine, theirs, _ = overlapping_pairs(
                polygons[on_ground], self.tree, self.footprints, tolerance, counted
            )
            all_ids = project.items.ids
            pairs = zip(on_ground[mine].tolist(), theirs.tolist(), strict=True)
            found += [Conflict(ids[i], f"overlaps {all_ids[j]}") for i, j in pairs]
        floor = project.floor
        if len(on_ground) and floor.obstacles:
            mine, theirs, _ = overlapping_pairs(
                polygons[on_ground], floor.obstacle_tree, floor.obstacle_tree.geometries, tolerance
            )
            for i, k in zip(on_ground[mine].tolist(), theirs.tolist(), strict=True):
                obstacle = floor.obstacles[k]
                found.append(Conflict(ids[i], f"stands on {obstacle.kind} {obstacle.id}"))
        inside = np.flatnonzero(indoor)
        if len(inside):
            out = inside[off_the_floor(polygons[inside], self.outline)]
            found += [Conflict(ids[i], "outside the floor") for i in out.tolist()]
        return found

    def neighbour_bounds(self, box: tuple[float, float, float, float], reach: float,
                         excluded: np.ndarray | None, ground_only: bool) -> np.ndarray:  # fmt: skip
        """Bounds (k, 4) of items whose footprints come within ``reach`` of ``box``."""
        if not len(self.footprints):
            return np.empty((0, 4))
        x0, y0, x1, y1 = box
        rows = self.tree.query(shapely.box(x0 - reach, y0 - reach, x1 + reach, y1 + reach))
        keep = np.ones(len(rows), bool)
        if excluded is not None:
            keep &= ~excluded[rows]
        if ground_only:
            keep &= self.ground[rows]
        return self.bounds[rows[keep]]


class MovingSet:
    """Units that move together (a drag, a nudge, a turn, a paste, a placed unit, an
    inspector edit): where they may go.

    Positions and rotations are given at the start; :meth:`conflicts` takes an
    offset (dx, dy) in metres from there, :meth:`conflicts_at` new centres.
    The first unit is the anchor: the one under the cursor (its bounds are
    :attr:`anchor_box`). Existing units (``moving_rows``) leave their old places
    empty, and what was wrong there before the edit does not count.
    """

    def __init__(
        self,
        index: PlacementIndex,
        ids: Sequence[str],
        type_ids: Sequence[str],
        xy: np.ndarray,
        rotation: np.ndarray,
        *,
        properties: Sequence[Mapping[str, object]] | None = None,
        moving_rows: np.ndarray | None = None,
    ) -> None:
        self.index = index.refresh()
        project = index.project
        self.ids = list(ids)
        self.xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        self.rotation = np.asarray(rotation, dtype=float)
        props = properties or [{}] * len(self.ids)
        types = [project.catalog[t] for t in type_ids]
        sizes = np.array([footprint_size(t, p) for t, p in zip(types, props, strict=True)])
        self.width, self.depth = sizes[:, 0], sizes[:, 1]
        mountings = np.array([t.mounting for t in types], dtype=object)
        self.ground = mountings != "overhead"
        self.indoor = mountings != "outdoor"
        self.base = rotated_rectangles(
            self.xy[:, 0], self.xy[:, 1], self.width, self.depth, self.rotation
        )
        self.anchor_box = tuple(shapely.bounds(self.base[0]).tolist()) if len(self.base) else None
        self.excluded: np.ndarray | None = None
        self.prior: frozenset[Conflict] = frozenset()
        self._before = self.base
        self._turned = False
        self._prior_among: frozenset[Conflict] | None = None
        if moving_rows is not None:
            self.excluded = np.zeros(len(project.items), bool)
            self.excluded[moving_rows] = True
            self._before = index.footprints[moving_rows]
            before_rotation = project.items.rotation[moving_rows]
            self._turned = bool(np.any(before_rotation != self.rotation))
            # What was wrong before the edit is not the edit's fault.
            self.prior = frozenset(
                index.conflicts(self.ids, self._before, self.ground, self.indoor,
                                excluded=self.excluded, rotation=before_rotation)
            )  # fmt: skip

    @classmethod
    def of_items(
        cls, index: PlacementIndex, item_ids: Sequence[str], rotation: np.ndarray | None = None
    ) -> MovingSet:
        """Existing items, from where they stand (optionally turned to ``rotation``)."""
        items = index.refresh().project.items
        rows = items.rows(item_ids)
        xy = np.column_stack((items.x[rows], items.y[rows]))
        turned = items.rotation[rows] if rotation is None else rotation
        props = [dict(items.properties_at(r)) for r in rows.tolist()]
        type_ids = [items.type_ids[r] for r in rows.tolist()]
        return cls(index, item_ids, type_ids, xy, turned, properties=props, moving_rows=rows)

    def positions(self, dx: float, dy: float) -> tuple[np.ndarray, np.ndarray]:
        """Centres after moving by (dx, dy), rounded to :data:`POSITION_DECIMALS`."""
        return (
            np.round(self.xy[:, 0] + dx, POSITION_DECIMALS),
            np.round(self.xy[:, 1] + dy, POSITION_DECIMALS),
        )

    def conflicts(self, dx: float, dy: float) -> list[Conflict]:
        """New conflicts at offset (dx, dy): those the units did not have at the start.

        A plain shift keeps the units' places relative to each other, so only
        turned units are also checked against each other.
        """
        x, y = self.positions(dx, dy)
        return self._conflicts(x, y, among=self._turned)

    def conflicts_at(self, x: np.ndarray, y: np.ndarray) -> list[Conflict]:
        """New conflicts with the units centred at (``x``, ``y``) each, also with each other."""
        return self._conflicts(np.asarray(x, dtype=float), np.asarray(y, dtype=float), among=True)

    def _conflicts(self, x: np.ndarray, y: np.ndarray, among: bool) -> list[Conflict]:
        polygons = rotated_rectangles(x, y, self.width, self.depth, self.rotation)
        found = self.index.conflicts(self.ids, polygons, self.ground, self.indoor,
                                     excluded=self.excluded, rotation=self.rotation)  # fmt: skip
        if among and len(self.ids) > 1:
            if self._prior_among is None:
                self._prior_among = frozenset(self._overlaps_among(self._before))
            found += [c for c in self._overlaps_among(polygons) if c not in self._prior_among]
        return [c for c in found if c not in self.prior]

    def _overlaps_among(self, polygons: np.ndarray) -> list[Conflict]:
        """Ground units of the set overlapping each other (each pair once)."""
        on_ground = np.flatnonzero(self.ground)
        shapes = polygons[on_ground]
        tolerance = self.index.project.rules["overlap_tolerance_m2"]
        a, b, _ = overlapping_pairs(shapes, shapely.STRtree(shapes), shapes, tolerance)
        once = a < b
        return [Conflict(self.ids[j], f"overlaps {self.ids[i]}")
                for i, j in zip(on_ground[a[once]].tolist(), on_ground[b[once]].tolist(),
                                strict=True)]  # fmt: skip


# -- rules -----------------------------------------------------------------------------------
def _outline_with_slack(context: CheckContext) -> shapely.Geometry:
    """The floor outline with slack, made once per check."""
    return context.once(
        "placement.outline", lambda: outline_with_slack(context.project.floor.outline)
    )


def _rows_to_check(context: CheckContext, rule_id: str) -> np.ndarray:
    """All rows, or only the moved ones when the rule's earlier findings carry over."""
    if context.carried(rule_id) is None:
        return np.arange(len(context.project.items))
    return context.rows_to_recheck


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
    outside = indoor[off_the_floor(footprints[indoor], outline)]
    ids = context.project.items.ids
    for row in outside:
        fp = footprints[row]
        share = 1.0 - shapely.area(shapely.intersection(fp, outline)) / max(fp.area, 1e-12)
        yield rule.violation(
            f"{ids[row]} is {share:.0%} outside the floor outline",
            (ids[row],),
            _centre(fp),
        )


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
        a, b, areas = overlapping_pairs(ground, context.ground_tree, ground, _tolerance(context))
        once = a < b
        a, b = context.ground_rows[a], context.ground_rows[b]
    else:
        yield from carried
        # Only pairs with a moved item can have changed; each pair once.
        moved = np.intersect1d(context.rows_to_recheck, context.ground_rows)
        a, b, areas = overlapping_pairs(
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
    items, obs, _ = overlapping_pairs(
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
    fx, fy = front_direction(rot)
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
    moved = context.rows_to_recheck
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

    z, other, _ = overlapping_pairs(zones, context.ground_tree, context.ground_footprints, tol)
    other = context.ground_rows[other]
    mine = other == zone_rows[z]
    z, other = z[~mine], other[~mine]
    gaps = shapely.distance(faces[z], context.footprints[other])
    _keep_nearest(clear, blocker, z, gaps, other)

    floor = project.floor
    if floor.obstacles:
        obstacles = np.array([o.polygon for o in floor.obstacles], dtype=object)
        z, k, _ = overlapping_pairs(zones, floor.obstacle_tree, obstacles, tol)
        _keep_nearest(clear, blocker, z, shapely.distance(faces[z], obstacles[k]), _OBSTACLE - k)

    indoor = np.flatnonzero(context.mountings[zone_rows] != "outdoor")
    inside = shapely.covered_by(zones[indoor], _outline_with_slack(context))
    leaving = indoor[~inside]
    if len(leaving):
        gaps = shapely.distance(faces[leaving], floor.outline.boundary)
        _keep_nearest(clear, blocker, leaving, gaps, np.full(len(leaving), _FLOOR_EDGE))

    ids = project.items.ids
    found: list[tuple[int, Violation]] = []
    for finite in np.flatnonzero(np.isfinite(clear)):
        zone = int(finite)
        row = int(zone_rows[zone])
        what = ("front", "rear")[side[subset[zone]]]
        b = int(blocker[zone])
        items: tuple[str, ...]
        if b >= 0:
            by, items = ids[b], (ids[row], ids[b])
        elif b == _FLOOR_EDGE:
            by, items = "the floor's edge", (ids[row],)
        else:
            obstacle = floor.obstacles[_OBSTACLE - b]
            by, items = f"{obstacle.kind} {obstacle.id}", (ids[row],)
        found.append((int(subset[zone]), rule.violation(
            f"{ids[row]}: {what} aisle {clear[zone]:.2f} m clear, rule {aisle_m:.2f} m "
            f"(blocked by {by})",
            items,
            _centre(zones[zone]),
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
