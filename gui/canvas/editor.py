"""Editing on the canvas: where things may go, snapping, and the Edit operations.

Owns two things:

- :class:`PlacementIndex` and :class:`MovingSet`, the geometry behind every
  edit that puts equipment somewhere (drag, nudge, rotate, paste, palette
  drop, click-to-place). They read the model and never change it, use no Qt,
  and answer per mouse move with a few STRtree queries around the moving
  footprints, never a loop over every item. They would sit well in
  ``layout/`` later; they live here because only the canvas uses them today.
- :class:`Editor`, the Edit operations (delete, rotate, nudge, copy, cut,
  paste, duplicate, select all). The canvas keys and the main window's Edit
  menu call the same methods. Every change is one ``layout.commands`` command
  pushed through :class:`gui.undo.UndoStack`, so one key press is one undo step.

Policy for illegal spots (one rule everywhere): an edit that would leave a
ground-mounted unit overlapping another ground unit's footprint, standing on an
obstacle, or (unless it stands outdoors) off the floor outline is **refused**:
nothing changes and the view's ``status_message`` says why ("Cannot place R12
there: overlaps R13"). Conflicts an item already had before the edit do not
count, so a planner can walk an overlapping rack out of trouble by nudging it.
Overhead units (busways) share no floor space and never collide.

Snapping: the dragged footprint's top-left corner (of its axis-aligned bounds)
goes to the nearest tile-grid intersection (``Floor.snap``), so a rack sits on
whole tiles as in a raised-floor hall, and the generator's rows line up with
it; when one of its edges comes within :data:`EDGE_SNAP_M` of a neighbour's
edge, that axis aligns to the neighbour exactly instead. The other moving
items keep their offsets. Committed positions are rounded to the micrometre so
that snapped values are the decimals a planner expects (5.1, not 5.1000000000000005).

The clipboard holds JSON under :data:`ITEMS_MIME` (never pickle): a list of
items' type, position, rotation, name and properties.
"""

from __future__ import annotations

import atexit
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from PySide6.QtCore import QMimeData, QObject, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence

from layout.commands import AddItems, Command, MoveItems, RemoveItems, RotateItems, check_property
from layout.errors import CoherenceError
from layout.items import IdAllocator, Item
from layout.project import Project, rotated_rectangles

if TYPE_CHECKING:
    from gui.canvas.scene import FloorScene
    from gui.canvas.view import FloorView
    from gui.undo import UndoStack

ITEMS_MIME = "application/x-coherence-items"
"""Clipboard format of copied items: UTF-8 JSON (see :func:`items_to_json`)."""
EQUIPMENT_TYPE_MIME = "application/x-coherence-equipment-type"
"""Drag format of a palette entry: the catalog type id, UTF-8."""
ID_PREFIX_BY_KIND = {"gpu_rack": "R", "network_rack": "N", "power": "P", "cooling": "K"}
EDGE_SNAP_M = 0.15
"""An edge this close to a neighbour's edge aligns with it exactly."""
POSITION_DECIMALS = 6
"""Committed positions are rounded to the micrometre."""
NUDGE_FINE_M = 0.1
NUDGE_COARSE_TILES = 10
PASTE_OFFSET_TILES = 2
MAX_CLIPBOARD_ITEMS = 100_000
MAX_CLIPBOARD_BYTES = 64 * 1024 * 1024
_CLIPBOARD_FORMAT = "coherence.items"
_STATIC_CLIPBOARD_PLATFORMS = frozenset({"offscreen", "minimal"})
"""Platforms whose clipboard is a C++ static, destroyed after Python has finalised."""
_clipboard_guarded = False


def put_on_clipboard(mime: QMimeData) -> None:
    """Put ``mime`` on the clipboard without crashing the interpreter's exit.

    On the offscreen and minimal platforms the clipboard lives in a C++ static
    that deletes its QMimeData after Python has finalised; PySide6 (6.11) then
    calls back into the dead interpreter and the process ends with SIGSEGV. So
    there the clipboard is cleared at exit; real desktop platforms keep it.
    """
    global _clipboard_guarded  # noqa: PLW0603
    if not _clipboard_guarded and QGuiApplication.platformName() in _STATIC_CLIPBOARD_PLATFORMS:
        _clipboard_guarded = True
        atexit.register(_clear_clipboard_at_exit)
    QGuiApplication.clipboard().setMimeData(mime)


def _clear_clipboard_at_exit() -> None:
    if QGuiApplication.instance() is not None:
        QGuiApplication.clipboard().clear()


# -- geometry (Qt-free) ----------------------------------------------------------------------
@dataclass(frozen=True)
class Conflict:
    """Why ``item_id`` cannot stand where it would go: ``what`` is "overlaps R13" and so on."""

    item_id: str
    what: str

    def message(self, verb: str = "place") -> str:
        return f"Cannot {verb} {self.item_id} there: {self.what}"


def footprint_size(
    equipment_type: Any, properties: dict[str, Any] | None = None
) -> tuple[float, float]:
    """Width and depth of a unit of ``equipment_type`` (as :meth:`Project.sizes` computes them)."""
    width, depth = equipment_type.footprint.width_m, equipment_type.footprint.depth_m
    if getattr(equipment_type, "mounting", "floor") == "overhead" and properties:
        length = properties.get("length_m")
        if isinstance(length, (int, float)) and not isinstance(length, bool):
            width = min(max(float(length), 0.1), 1000.0)
    return width, depth


class PlacementIndex:
    """Every item's footprint, bounds and mounting, with an STRtree; rebuilt per model change.

    Building costs O(n) (about 20 ms for 20,000 racks) and happens at most once
    per edit, at the start of the next drag or key press; queries are
    O(log n + hits).
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        self._key: tuple[int, int, int] | None = None
        self.footprints = np.empty(0, dtype=object)
        self.bounds = np.empty((0, 4))
        self.ground = np.empty(0, dtype=bool)
        self.tree = shapely.STRtree([])
        self._outline: shapely.Geometry | None = None

    def refresh(self) -> PlacementIndex:
        """Bring the index up to date with the model (cheap when nothing changed)."""
        project = self.project
        key = (project.items.version, id(project.catalog), id(project.floor))
        if key == self._key:
            return self
        self._key = key
        self.footprints = project.footprints()
        self.bounds = shapely.bounds(self.footprints).reshape(-1, 4)
        catalog = project.catalog
        mounting = {
            t: getattr(catalog[t], "mounting", "floor") for t in set(project.items.type_ids)
        }
        self.ground = np.fromiter(
            (mounting[t] != "overhead" for t in project.items.type_ids), bool, len(project.items)
        )
        self.tree = shapely.STRtree(self.footprints)
        # A millimetre of slack, as the placement rule allows: a rack flush with the wall is in.
        self._outline = shapely.buffer(project.floor.outline, 1e-3, join_style="mitre")
        shapely.prepare(self._outline)
        return self

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
        excluded: np.ndarray | None,
    ) -> list[Conflict]:
        """What is wrong with putting ``polygons`` (named ``ids``) where they are.

        ``excluded`` marks item rows to ignore (the moving items' own old places).
        """
        project = self.project
        tolerance = project.rules["overlap_tolerance_m2"]
        found: list[Conflict] = []
        on_ground = np.flatnonzero(ground)
        if len(on_ground) and len(self.footprints):
            mine, theirs = self.tree.query(polygons[on_ground], predicate="intersects")
            keep = self.ground[theirs]
            if excluded is not None:
                keep &= ~excluded[theirs]
            mine, theirs = on_ground[mine[keep]], theirs[keep]
            if len(mine):
                areas = shapely.area(shapely.intersection(polygons[mine], self.footprints[theirs]))
                all_ids = project.items.ids
                found += [
                    Conflict(ids[i], f"overlaps {all_ids[j]}")
                    for i, j in zip(mine[areas > tolerance].tolist(),
                                    theirs[areas > tolerance].tolist(), strict=True)
                ]  # fmt: skip
        obstacles = project.floor.obstacles
        if len(on_ground) and obstacles:
            mine, theirs = project.floor.obstacle_tree.query(
                polygons[on_ground], predicate="intersects"
            )
            if len(mine):
                mine = on_ground[mine]
                shapes = np.array([obstacles[k].polygon for k in theirs.tolist()], dtype=object)
                areas = shapely.area(shapely.intersection(polygons[mine], shapes))
                for i, k in zip(mine[areas > tolerance].tolist(),
                                theirs[areas > tolerance].tolist(), strict=True):  # fmt: skip
                    obstacle = obstacles[k]
                    found.append(Conflict(ids[i], f"stands on {obstacle.kind} {obstacle.id}"))
        inside = np.flatnonzero(indoor)
        if len(inside):
            out = inside[~shapely.covered_by(polygons[inside], self.outline)]
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


def _axis_snap(lo: float, hi: float, edges: np.ndarray, reach: float) -> float | None:
    """The smallest shift (|shift| <= reach) that puts ``lo`` or ``hi`` on one of ``edges``."""
    if not len(edges):
        return None
    shifts = np.concatenate((edges - lo, edges - hi))
    best = int(np.argmin(np.abs(shifts)))
    return float(shifts[best]) if abs(shifts[best]) <= reach else None


class MovingSet:
    """Footprints that move together (a drag, a nudge, a paste, a placed unit), as one rigid set.

    Positions are given at the start; :meth:`snapped_offset` and
    :meth:`conflicts` take an offset (dx, dy) in metres from there. The first
    item is the anchor: the one under the cursor, whose corner and edges snap.
    """

    def __init__(
        self,
        index: PlacementIndex,
        ids: Sequence[str],
        type_ids: Sequence[str],
        xy: np.ndarray,
        rotation: np.ndarray,
        *,
        properties: Sequence[dict[str, Any]] | None = None,
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
        mountings = np.array([getattr(t, "mounting", "floor") for t in types], dtype=object)
        self.ground = mountings != "overhead"
        self.indoor = mountings != "outdoor"
        self.base = rotated_rectangles(
            self.xy[:, 0], self.xy[:, 1], self.width, self.depth, self.rotation
        )
        self.anchor_box = tuple(shapely.bounds(self.base[0]).tolist()) if len(self.base) else None
        self.excluded: np.ndarray | None = None
        self.prior: frozenset[Conflict] = frozenset()
        if moving_rows is not None:
            self.excluded = np.zeros(len(project.items), bool)
            self.excluded[moving_rows] = True
            # What was wrong before the edit is not the edit's fault.
            self.prior = frozenset(
                index.conflicts(self.ids, index.footprints[moving_rows], self.ground,
                                self.indoor, self.excluded)
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

    def snapped_offset(self, dx: float, dy: float) -> tuple[float, float]:
        """The offset after snapping the anchor to neighbours' edges, else to the tile grid."""
        if self.anchor_box is None:
            return dx, dy
        x0, y0, x1, y1 = self.anchor_box
        x0, y0, x1, y1 = x0 + dx, y0 + dy, x1 + dx, y1 + dy
        near = self.index.neighbour_bounds(
            (x0, y0, x1, y1), EDGE_SNAP_M, self.excluded, bool(self.ground[0])
        )
        snap_x = _axis_snap(x0, x1, near[:, [0, 2]].ravel(), EDGE_SNAP_M)
        snap_y = _axis_snap(y0, y1, near[:, [1, 3]].ravel(), EDGE_SNAP_M)
        corner = self.index.project.floor.snap(np.array([x0, y0]))
        dx += snap_x if snap_x is not None else float(corner[0]) - x0
        dy += snap_y if snap_y is not None else float(corner[1]) - y0
        return dx, dy

    def positions(self, dx: float, dy: float) -> tuple[np.ndarray, np.ndarray]:
        """Centres after moving by (dx, dy), rounded to :data:`POSITION_DECIMALS`."""
        return (
            np.round(self.xy[:, 0] + dx, POSITION_DECIMALS),
            np.round(self.xy[:, 1] + dy, POSITION_DECIMALS),
        )

    def conflicts(self, dx: float, dy: float) -> list[Conflict]:
        """New conflicts at offset (dx, dy): those the items did not have at the start."""
        x, y = self.positions(dx, dy)
        polygons = rotated_rectangles(x, y, self.width, self.depth, self.rotation)
        found = self.index.conflicts(self.ids, polygons, self.ground, self.indoor, self.excluded)
        return [c for c in found if c not in self.prior]


# -- clipboard payload -------------------------------------------------------------------------
def items_to_json(items: Iterable[Item]) -> bytes:
    """The clipboard payload: ``{"format", "version", "items": [{id, type, x, y, rotation,
    name, properties}]}`` as UTF-8 JSON (``id`` only lends its prefix to the copy's new id)."""
    rows = [
        {"id": i.id, "type": i.type_id, "x": i.x, "y": i.y, "rotation": i.rotation, "name": i.name,
         "properties": dict(i.properties)}
        for i in items
    ]  # fmt: skip
    payload = {"format": _CLIPBOARD_FORMAT, "version": 1, "items": rows}
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")


def items_from_json(data: bytes, project: Project) -> list[dict[str, Any]]:
    """Validated item records from a clipboard payload.

    Raises :class:`CoherenceError` saying what is wrong and where.
    """
    if len(data) > MAX_CLIPBOARD_BYTES:
        raise CoherenceError("clipboard: too large to paste")
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise CoherenceError(f"clipboard: not Coherence items ({err})") from None
    if not isinstance(payload, dict) or payload.get("format") != _CLIPBOARD_FORMAT:
        raise CoherenceError("clipboard: not Coherence items")
    rows = payload.get("items")
    if not isinstance(rows, list) or len(rows) > MAX_CLIPBOARD_ITEMS:
        raise CoherenceError("clipboard: items must be a list of at most 100,000")
    records = []
    for k, row in enumerate(rows):
        where = f"clipboard items[{k}]"
        if not isinstance(row, dict):
            raise CoherenceError(f"{where}: expected an object")
        type_id = row.get("type")
        if not isinstance(type_id, str) or type_id not in project.catalog:
            raise CoherenceError(f"{where}.type: unknown equipment type {type_id!r}")
        numbers = {}
        for key in ("x", "y", "rotation"):
            value = row.get(key, 0.0)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
            ):
                raise CoherenceError(f"{where}.{key}: expected a number")
            numbers[key] = float(value)
        name = row.get("name", "")
        properties = row.get("properties", {})
        if not isinstance(name, str) or len(name) > 200:
            raise CoherenceError(f"{where}.name: expected text of at most 200 characters")
        if not isinstance(properties, dict):
            raise CoherenceError(f"{where}.properties: expected an object")
        clean = {str(key): check_property(str(key), value) for key, value in properties.items()}
        source = row.get("id", "")
        records.append(
            {
                "id": source if isinstance(source, str) else "",
                "type": type_id,
                **numbers,
                "name": name,
                "properties": clean,
            }
        )
    return records


def id_prefix(item_id: str, kind: str) -> str:
    """The letters an id starts with (``R`` of ``R00012``), or the kind's prefix if none."""
    letters = re.match(r"[A-Za-z]*", item_id).group()  # type: ignore[union-attr]
    return letters or ID_PREFIX_BY_KIND.get(kind, "X")


# -- the Edit operations -------------------------------------------------------------------------
class Editor(QObject):
    """The Edit operations on a canvas: what the keys and the Edit menu do.

    Constructed with the scene, the view and the undo stack; it attaches itself
    to the view (``view.editor``), which routes the canvas keys here and lets
    its mouse modes commit drags and placements through :meth:`move_items`
    and :meth:`add_item`. Each method is one undo step and returns whether it
    changed anything; refusals and failures go to ``view.status_message``.
    """

    def __init__(self, scene: FloorScene, view: FloorView, undo_stack: UndoStack,
                 parent: QObject | None = None) -> None:  # fmt: skip
        super().__init__(parent if parent is not None else view)
        self.scene = scene
        self.view = view
        self.undo_stack = undo_stack
        self._index: PlacementIndex | None = None
        view.set_editor(self)

    # -- shared helpers ---------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self.scene.project

    def placement_index(self) -> PlacementIndex:
        """The up-to-date placement index of the scene's project."""
        if self._index is None or self._index.project is not self.project:
            self._index = PlacementIndex(self.project)
        return self._index.refresh()

    def _say(self, message: str) -> None:
        self.view.status_message.emit(message)

    def _push(self, command: Command) -> bool:
        # The scene follows the project, and the undo stack must record the same project.
        self.undo_stack.project = self.project
        error = self.undo_stack.try_push(command)
        if error is not None:
            self._say(error)
            return False
        return True

    def _refused(self, conflicts: list[Conflict], verb: str) -> bool:
        if not conflicts:
            return False
        more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
        self._say(conflicts[0].message(verb) + more)
        return True

    # -- moves and placements (also used by the mouse modes) ---------------------------
    def move_items(self, moving: MovingSet, dx: float, dy: float, verb: str = "move") -> bool:
        """Move ``moving`` (existing items) by (dx, dy) as one command, unless that is illegal."""
        if (dx, dy) == (0.0, 0.0) or not moving.ids:
            return False
        if self._refused(moving.conflicts(dx, dy), verb):
            return False
        x, y = moving.positions(dx, dy)
        return self._push(MoveItems(moving.ids, x.tolist(), y.tolist()))

    def add_item(self, type_id: str, x: float, y: float, rotation: float = 0.0) -> str | None:
        """Place a new unit of ``type_id`` centred at (x, y); its id, or None if refused."""
        equipment_type = self.project.catalog.get(type_id)
        if equipment_type is None:
            self._say(f"Cannot place: unknown equipment type {type_id!r}")
            return None
        new_id = IdAllocator(self.project.items.ids)(
            ID_PREFIX_BY_KIND.get(equipment_type.kind, "X")
        )
        moving = MovingSet(self.placement_index(), [new_id], [type_id], np.array([[x, y]]),
                           np.array([rotation]))  # fmt: skip
        if self._refused(moving.conflicts(0.0, 0.0), "place"):
            return None
        px, py = moving.positions(0.0, 0.0)
        try:
            item = Item(new_id, type_id, float(px[0]), float(py[0]), rotation)
        except CoherenceError as err:
            self._say(str(err))
            return None
        if not self._push(AddItems([item])):
            return None
        self.scene.select_ids([new_id])
        return new_id

    # -- Edit menu ---------------------------------------------------------------------
    def delete_selected(self) -> bool:
        ids = self.scene.selected_ids()
        if not ids:
            return False
        return self._push(RemoveItems(self._model_order(ids)))

    def cut(self) -> bool:
        return self.copy() > 0 and self.delete_selected()

    def rotate_selected(self, degrees: float) -> bool:
        """Turn each selected item by ``degrees`` clockwise about its own centre."""
        ids = self._model_order(self.scene.selected_ids())
        if not ids:
            return False
        index = self.placement_index()
        turned = np.mod(self.project.items.rotation[self.project.items.rows(ids)] + degrees, 360.0)
        moving = MovingSet.of_items(index, ids, rotation=turned)
        if self._refused(moving.conflicts(0.0, 0.0), "rotate"):
            return False
        return self._push(RotateItems.by(self.project, ids, degrees))

    def nudge(self, dx_m: float, dy_m: float) -> bool:
        """Move the selection by (dx_m, dy_m) metres, unsnapped."""
        ids = self._model_order(self.scene.selected_ids())
        if not ids:
            return False
        return self.move_items(MovingSet.of_items(self.placement_index(), ids), dx_m, dy_m)

    def copy(self) -> int:
        """Put the selected items on the clipboard; returns how many."""
        ids = self._model_order(self.scene.selected_ids())
        if not ids:
            return 0
        mime = QMimeData()
        mime.setData(ITEMS_MIME, items_to_json(self.project.items.get(i) for i in ids))
        put_on_clipboard(mime)
        self._say(f"Copied {len(ids)} item" + ("s" if len(ids) != 1 else ""))
        return len(ids)

    def paste(self) -> list[str]:
        """Add the clipboard's items: centred at the cursor if it is over the view (snapped),
        else two tiles down and right of where they were copied. They end up selected."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not mime.hasFormat(ITEMS_MIME):
            self._say("Nothing to paste")
            return []
        try:
            records = items_from_json(bytes(mime.data(ITEMS_MIME).data()), self.project)
        except CoherenceError as err:
            self._say(f"Cannot paste: {err}")
            return []
        cursor = self.view.cursor_scene_position()
        return self._add_copies(records, cursor, "paste")

    def duplicate(self) -> list[str]:
        """Copies of the selection two tiles down and right, selected; the clipboard is kept."""
        ids = self._model_order(self.scene.selected_ids())
        if not ids:
            return []
        records = json.loads(items_to_json(self.project.items.get(i) for i in ids))["items"]
        return self._add_copies(records, None, "duplicate")

    def select_all(self) -> None:
        self.scene.select_ids(self.project.items.ids)

    def clear_selection(self) -> None:
        self.scene.select_ids(())

    def _add_copies(self, records: list[dict[str, Any]], cursor: tuple[float, float] | None,
                    verb: str) -> list[str]:  # fmt: skip
        if not records:
            return []
        project = self.project
        make_id = IdAllocator(project.items.ids)
        sources = [r.get("id", "") for r in records]
        kinds = [project.catalog[r["type"]].kind for r in records]
        ids = [make_id(id_prefix(s, k)) for s, k in zip(sources, kinds, strict=True)]
        xy = np.array([[r["x"], r["y"]] for r in records], dtype=float)
        moving = MovingSet(self.placement_index(), ids, [r["type"] for r in records], xy,
                           np.array([r["rotation"] for r in records]),
                           properties=[r["properties"] for r in records])  # fmt: skip
        if cursor is None:
            step = PASTE_OFFSET_TILES * project.floor.tile_m
            dx, dy = step, step
        else:
            # Centre the copies' bounds on the cursor, then snap the first one.
            x0, y0, x1, y1 = shapely.total_bounds(moving.base).tolist()
            dx, dy = moving.snapped_offset(cursor[0] - (x0 + x1) / 2, cursor[1] - (y0 + y1) / 2)
        if self._refused(moving.conflicts(dx, dy), verb):
            return []
        x, y = moving.positions(dx, dy)
        try:
            items = [
                Item(new_id, r["type"], px, py, r["rotation"], r["name"], r["properties"])
                for new_id, r, px, py in zip(ids, records, x.tolist(), y.tolist(), strict=True)
            ]
        except CoherenceError as err:
            self._say(f"Cannot {verb}: {err}")
            return []
        if not self._push(AddItems(items)):
            return []
        self.scene.select_ids(ids)
        self._say(f"{verb.capitalize()}d {len(ids)} item" + ("s" if len(ids) != 1 else ""))
        return ids

    def _model_order(self, ids: Sequence[str]) -> list[str]:
        """``ids`` in the project's row order (commands and copies are deterministic)."""
        items = self.project.items
        return [items.ids[r] for r in np.sort(items.rows(ids)).tolist()]

    # -- keys --------------------------------------------------------------------------
    def handle_key(self, event: QKeyEvent) -> bool:
        """Do what a canvas key means (see the module docs of :mod:`gui.canvas.view`)."""
        key, mods = event.key(), event.modifiers()
        mods &= ~Qt.KeyboardModifier.KeypadModifier
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        tile = self.project.floor.tile_m
        arrows = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0),
                  Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}  # fmt: skip
        if key in arrows:
            if mods & Qt.KeyboardModifier.AltModifier:
                step = NUDGE_FINE_M
            elif shift:
                step = NUDGE_COARSE_TILES * tile
            else:
                step = tile
            sx, sy = arrows[key]
            self.nudge(sx * step, sy * step)
            return True
        if key == Qt.Key.Key_R and not mods & ~Qt.KeyboardModifier.ShiftModifier:
            self.rotate_selected(-90.0 if shift else 90.0)
            return True
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not mods:
            self.delete_selected()
            return True
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
        elif event.matches(QKeySequence.StandardKey.Cut):
            self.cut()
        elif event.matches(QKeySequence.StandardKey.Paste):
            self.paste()
        elif event.matches(QKeySequence.StandardKey.SelectAll):
            self.select_all()
        elif key == Qt.Key.Key_D and mods == Qt.KeyboardModifier.ControlModifier:
            self.duplicate()
        else:
            return False
        return True
