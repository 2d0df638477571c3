"""Editing on the canvas: snapping, and the Edit operations.

Owns two things:

- :func:`snapped_offset`, where a dragged or placed set of units snaps to.
- :class:`Editor`, the Edit operations (delete, rotate, nudge, copy, cut,
  paste, duplicate, select all). The canvas keys and the main window's Edit
  menu call the same methods. Every change is one ``layout.commands`` command
  pushed through :class:`gui.undo.UndoStack`, so one key press is one undo step.

Where a unit may go is :mod:`physics.placement`'s to say (its
:class:`~physics.placement.PlacementIndex` and
:class:`~physics.placement.MovingSet`, asked per mouse move with a few STRtree
queries around the moving footprints, never a loop over every item): the same
legality the placement rules check and the inspector applies. An edit that
would leave a ground-mounted unit overlapping another ground unit's footprint,
standing on an obstacle, (unless it stands outdoors) off the floor outline, or
turned other than by quarter turns is **refused**: nothing changes and the
view's ``status_message`` says why ("Cannot place R12 there: overlaps R13").
Conflicts an item already had before the edit do not count, so a planner can
walk an overlapping rack out of trouble by nudging it. Overhead units
(busways) share no floor space and never collide.

Snapping: the dragged footprint's top-left corner (of its axis-aligned bounds)
goes to the nearest tile-grid intersection (``Floor.snap``), so a rack sits on
whole tiles as in a raised-floor hall, and the generator's rows line up with
it; when one of its edges comes within :data:`EDGE_SNAP_M` of a neighbour's
edge, that axis aligns to the neighbour exactly instead. The other moving
items keep their offsets. Committed positions are rounded to the micrometre
(:data:`physics.placement.POSITION_DECIMALS`).

The clipboard holds JSON under :data:`ITEMS_MIME` (never pickle): a list of
items' type, position, rotation, name and properties.
"""

from __future__ import annotations

import atexit
import json
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from PySide6.QtCore import QMimeData, QObject, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence

from layout.bounded_read import JsonStructureError, parse_json, size_text
from layout.commands import AddItems, Command, MoveItems, RemoveItems, RotateItems, check_property
from layout.errors import CoherenceError, EditError, shortened, shown
from layout.items import IdAllocator, Item
from layout.kinds import kind_info
from layout.limits import (
    MAX_CLIPBOARD_BYTES,
    MAX_ID_CHARS,
    MAX_NAME_CHARS,
    checked_coordinate,
    checked_number,
    checked_text,
)
from layout.project import Project
from physics.placement import Conflict, MovingSet, PlacementIndex, refusal

if TYPE_CHECKING:
    from gui.canvas.scene import FloorScene
    from gui.canvas.view import FloorView
    from gui.undo import UndoStack

ITEMS_MIME = "application/x-coherence-items"
"""Clipboard format of copied items: UTF-8 JSON (see :func:`items_to_json`)."""
EQUIPMENT_TYPE_MIME = "application/x-coherence-equipment-type"
"""Drag format of a palette entry: the catalog type id, UTF-8."""
EDGE_SNAP_M = 0.15
"""An edge this close to a neighbour's edge aligns with it exactly."""
NUDGE_FINE_M = 0.1
NUDGE_COARSE_TILES = 10
PASTE_OFFSET_TILES = 2
MAX_CLIPBOARD_ITEMS = 100_000
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


# -- snapping ------------------------------------------------------------------------------------
def _axis_snap(lo: float, hi: float, edges: np.ndarray, reach: float) -> float | None:
    """The smallest shift (|shift| <= reach) that puts ``lo`` or ``hi`` on one of ``edges``."""
    if not len(edges):
        return None
    shifts = np.concatenate((edges - lo, edges - hi))
    best = int(np.argmin(np.abs(shifts)))
    return float(shifts[best]) if abs(shifts[best]) <= reach else None


def snapped_offset(moving: MovingSet, dx: float, dy: float) -> tuple[float, float]:
    """The offset (dx, dy) of ``moving`` after snapping its anchor to neighbours' edges,
    else to the tile grid."""
    if moving.anchor_box is None:
        return dx, dy
    x0, y0, x1, y1 = moving.anchor_box
    x0, y0, x1, y1 = x0 + dx, y0 + dy, x1 + dx, y1 + dy
    near = moving.index.neighbour_bounds(
        (x0, y0, x1, y1), EDGE_SNAP_M, moving.excluded, bool(moving.ground[0])
    )
    snap_x = _axis_snap(x0, x1, near[:, [0, 2]].ravel(), EDGE_SNAP_M)
    snap_y = _axis_snap(y0, y1, near[:, [1, 3]].ravel(), EDGE_SNAP_M)
    corner = moving.index.project.floor.snap(np.array([x0, y0]))
    dx += snap_x if snap_x is not None else float(corner[0]) - x0
    dy += snap_y if snap_y is not None else float(corner[1]) - y0
    return dx, dy


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
        raise CoherenceError(
            f"clipboard: {size_text(len(data))} is more than the "
            f"{size_text(MAX_CLIPBOARD_BYTES)} a paste may be"
        )
    try:
        payload = parse_json(data)
    except (JsonStructureError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CoherenceError(f"clipboard: not Coherence items ({shortened(str(err))})") from None
    except ValueError:  # json's refusal of an integer of over 4,300 digits
        raise CoherenceError("clipboard: not Coherence items (a number too long to read)") from None
    if not isinstance(payload, dict) or payload.get("format") != _CLIPBOARD_FORMAT:
        raise CoherenceError("clipboard: not Coherence items")
    rows = payload.get("items")
    if not isinstance(rows, list) or len(rows) > MAX_CLIPBOARD_ITEMS:
        raise CoherenceError(f"clipboard: items must be a list of at most {MAX_CLIPBOARD_ITEMS:,}")
    records = []
    for k, row in enumerate(rows):
        where = f"clipboard items[{k}]"
        if not isinstance(row, dict):
            raise CoherenceError(f"{where}: expected an object")
        type_id = row.get("type")
        if not isinstance(type_id, str) or type_id not in project.catalog:
            raise CoherenceError(f"{where}.type: unknown equipment type {shown(type_id)}")
        # The values go through the model's own limits (layout.limits), as a typed edit does.
        try:
            numbers = {
                "x": checked_coordinate(row.get("x", 0.0), f"{where}.x"),
                "y": checked_coordinate(row.get("y", 0.0), f"{where}.y"),
                "rotation": checked_number(row.get("rotation", 0.0), f"{where}.rotation"),
            }
            name = checked_text(row.get("name", ""), f"{where}.name", MAX_NAME_CHARS)
            properties = row.get("properties", {})
            if not isinstance(properties, dict):
                raise CoherenceError(f"{where}.properties: expected an object")
            clean = {
                key: check_property(key, value, f"{where}: ") for key, value in properties.items()
            }
        except EditError as err:
            raise CoherenceError(str(err)) from None
        source = row.get("id", "")
        source = source if isinstance(source, str) and len(source) <= MAX_ID_CHARS else ""
        records.append(
            {
                "id": source,
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
    return letters or kind_info(kind).id_prefix


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
        view.set_editor(self)

    # -- shared helpers ---------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self.scene.project

    def placement_index(self) -> PlacementIndex:
        """The up-to-date placement index of the scene's project (shared with the scene)."""
        return PlacementIndex.for_project(self.project)

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
        self._say(refusal(conflicts, verb))
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
        new_id = IdAllocator(self.project.items.ids)(kind_info(equipment_type.kind).id_prefix)
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
            dx, dy = snapped_offset(moving, cursor[0] - (x0 + x1) / 2, cursor[1] - (y0 + y1) / 2)
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
