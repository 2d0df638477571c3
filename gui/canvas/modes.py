"""Mouse modes of the floor canvas, as objects (orange-canvas-core's ``UserInteraction``).

Owns what a mouse gesture means. The :class:`~gui.canvas.view.FloorView` hands
each mouse and key event to its current mode; a mode returns True when it took
the event. Modes:

- :class:`SelectMode` (the default): click selects, Shift-click adds, Ctrl-click
  toggles, a drag on empty floor rubber-bands (Shift/Ctrl add to the
  selection), a drag on a selected item moves the whole selection, Esc cancels
  the drag or clears the selection, double-click reports the item.
- :class:`PlaceMode`: a ghost footprint of one equipment type follows the
  cursor, snapped; a click places a unit (and the mode stays, to place the
  next one); R turns the ghost; Esc or the right button returns to selecting.
- :class:`PanMode`: the left button drags the view. The view also uses it for
  the middle button and for Space held with the left button, whatever the mode.

A mode never changes the model: moves and placements are shown with a
:class:`GhostItem` and committed on release through the view's
:class:`~gui.canvas.editor.Editor` (one command, so one undo step). Without an
editor the canvas is read-only: selecting works, dragging does nothing.
Per mouse move a drag costs a snap and a conflict test over STRtree queries
around the moving footprints, plus one ``setPos`` of the ghost; nothing
O(n in the project) runs until the release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QMouseEvent, QPainter, QPainterPath
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QRubberBand,
    QStyleOptionGraphicsItem,
    QWidget,
)

from gui.canvas.editor import snapped_offset
from gui.canvas.scene import Z_GHOST, cosmetic_pen, polygon_path
from gui.icons import kind_colour
from physics.placement import Conflict, MovingSet

if TYPE_CHECKING:
    from gui.canvas.view import FloorView

ILLEGAL_COLOUR = QColor("#e0201b")
GHOST_ALPHA = 150


class GhostItem(QGraphicsItem):
    """The footprints of a :class:`MovingSet` where they would go: one path per kind, red
    when the spot is illegal. It is built once; following the cursor is one ``setPos``."""

    def __init__(self, moving: MovingSet, kinds: list[str]) -> None:
        super().__init__()
        self._paths: list[tuple[QPainterPath, QBrush, QBrush]] = []
        for kind in sorted(set(kinds)):
            path = QPainterPath()
            for polygon, of_kind in zip(moving.base, kinds, strict=True):
                if of_kind == kind:
                    path.addPath(polygon_path(polygon))
            colour = kind_colour(kind)
            colour.setAlpha(GHOST_ALPHA)
            red = QColor(ILLEGAL_COLOUR)
            red.setAlpha(GHOST_ALPHA + 40)
            self._paths.append((path, QBrush(colour), QBrush(red)))
        bounds = QRectF()
        for path, _, _ in self._paths:
            bounds = bounds.united(path.boundingRect())
        self._bounds = bounds.adjusted(-0.05, -0.05, 0.05, 0.05)
        self._illegal = False
        self._pen = cosmetic_pen(QColor("#1d1f23"), 1.5, Qt.PenStyle.DashLine)
        self._illegal_pen = cosmetic_pen(ILLEGAL_COLOUR.darker(140), 2.0)
        self.setZValue(Z_GHOST)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    @property
    def illegal(self) -> bool:
        return self._illegal

    def set_illegal(self, illegal: bool) -> None:
        if illegal != self._illegal:
            self._illegal = illegal
            self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:  # fmt: skip
        painter.setPen(self._illegal_pen if self._illegal else self._pen)
        for path, brush, red in self._paths:
            painter.setBrush(red if self._illegal else brush)
            painter.drawPath(path)


class Mode:
    """A mouse mode. Handlers return True when they took the event."""

    name = "mode"
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, view: FloorView) -> None:
        self.view = view

    def activate(self) -> None:
        self.view.viewport().setCursor(self.cursor)

    def deactivate(self) -> None:
        """Leave the mode: drop any half-done gesture without changing anything."""
        self.cancel()

    def cancel(self) -> bool:
        """Esc: abandon the gesture in progress; False when there was none."""
        return False

    def mouse_press(self, event: QMouseEvent) -> bool:
        return False

    def mouse_move(self, event: QMouseEvent) -> bool:
        return False

    def mouse_release(self, event: QMouseEvent) -> bool:
        return False

    def mouse_double_click(self, event: QMouseEvent) -> bool:
        return False

    def key_press(self, event: QKeyEvent) -> bool:
        return False


def _scene_point(view: FloorView, event: QMouseEvent) -> QPointF:
    return view.mapToScene(event.position().toPoint())


def _no_snap(event: object) -> bool:
    return bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)  # type: ignore[attr-defined]


class _Drag:
    """A move of the selection in progress: ghost at the snapped spot, originals dimmed."""

    def __init__(self, view: FloorView, anchor_id: str, start: QPointF) -> None:
        self.view = view
        scene = view.floor_scene()
        editor = view.editor
        assert editor is not None
        project = scene.project
        others = [i for i in scene.selected_ids() if i != anchor_id]
        others = [project.items.ids[r] for r in np.sort(project.items.rows(others)).tolist()]
        self.ids = [anchor_id, *others]
        self.moving = MovingSet.of_items(editor.placement_index(), self.ids)
        kinds = project.kinds()[project.items.rows(self.ids)].tolist()
        self.ghost = GhostItem(self.moving, kinds)
        scene.addItem(self.ghost)
        scene.set_dimmed(self.ids)
        self.start = start
        self.offset = (0.0, 0.0)
        self.conflicts: list[Conflict] = []
        self._said = ""
        self._updated = False

    def update(self, point: QPointF, snap: bool) -> None:
        dx, dy = point.x() - self.start.x(), point.y() - self.start.y()
        if snap:
            dx, dy = snapped_offset(self.moving, dx, dy)
        if (dx, dy) == self.offset and self._updated:
            return
        self._updated = True
        self.offset = (dx, dy)
        self.ghost.setPos(dx, dy)
        self.conflicts = self.moving.conflicts(dx, dy)
        self.ghost.set_illegal(bool(self.conflicts))
        said = self.conflicts[0].message() if self.conflicts else ""
        if said != self._said:
            self._said = said
            self.view.status_message.emit(said)

    def close(self) -> None:
        scene = self.view.floor_scene()
        scene.removeItem(self.ghost)
        scene.set_dimmed(())

    def commit(self) -> None:
        self.close()
        editor = self.view.editor
        if editor is not None:
            editor.move_items(self.moving, *self.offset, verb="place")


class SelectMode(Mode):
    """Select, rubber-band and drag to move; see the module docstring."""

    name = "select"

    def __init__(self, view: FloorView) -> None:
        super().__init__(view)
        self._press: QPoint | None = None
        self._press_scene = QPointF()
        self._drag_candidate: str | None = None
        self._select_only_on_release: str | None = None
        self._rubber: QRubberBand | None = None
        self._rubber_adds = False
        self._drag: _Drag | None = None

    def mouse_press(self, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        scene = self.view.floor_scene()
        self._press = event.position().toPoint()
        self._press_scene = _scene_point(self.view, event)
        mods = event.modifiers()
        toggle = bool(mods & Qt.KeyboardModifier.ControlModifier)
        extend = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        hit = scene.item_id_at(self._press_scene.x(), self._press_scene.y())
        self._drag_candidate = self._select_only_on_release = None
        if hit is None:
            self._rubber_adds = toggle or extend
            if not self._rubber_adds:
                scene.select_ids(())
            return True
        item = scene.equipment_item(hit)
        assert item is not None
        if toggle:
            item.setSelected(not item.isSelected())
        elif extend:
            item.setSelected(True)
        elif item.isSelected():
            self._select_only_on_release = hit
        else:
            scene.select_ids([hit])
        if item.isSelected() and self.view.editor is not None:
            self._drag_candidate = hit
        return True

    def mouse_move(self, event: QMouseEvent) -> bool:
        if self._press is None:
            return False
        position = event.position().toPoint()
        if self._drag is not None:
            self._drag.update(_scene_point(self.view, event), not _no_snap(event))
            return True
        far = (position - self._press).manhattanLength() >= QApplication.startDragDistance()
        if self._drag_candidate is not None:
            if far:
                self._select_only_on_release = None
                self._drag = _Drag(self.view, self._drag_candidate, self._press_scene)
                self._drag.update(_scene_point(self.view, event), not _no_snap(event))
            return True
        if self._rubber is None and far:
            self._rubber = QRubberBand(QRubberBand.Shape.Rectangle, self.view.viewport())
            self._rubber.show()
        if self._rubber is not None:
            self._rubber.setGeometry(QRect(self._press, position).normalized())
        return True

    def mouse_release(self, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if self._press is None:
            return True  # the end of a gesture cancelled with Esc
        if self._drag is not None:
            self._drag.update(_scene_point(self.view, event), not _no_snap(event))
            drag, self._drag = self._drag, None
            drag.commit()
        elif self._rubber is not None:
            area = QRectF(self._press_scene, _scene_point(self.view, event)).normalized()
            self._end_rubber()
            scene = self.view.floor_scene()
            inside = scene.item_ids_in(area)
            if self._rubber_adds:
                inside = [*scene.selected_ids(), *inside]
            scene.select_ids(inside)
        elif self._select_only_on_release is not None:
            self.view.floor_scene().select_ids([self._select_only_on_release])
        self._press = None
        self._drag_candidate = self._select_only_on_release = None
        return True

    def mouse_double_click(self, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        scene = self.view.floor_scene()
        point = _scene_point(self.view, event)
        hit = scene.item_id_at(point.x(), point.y())
        if hit is not None:
            scene.item_double_clicked.emit(hit)
        # Qt sends a release after the double-click; treat it as the end of a plain click.
        self._press = event.position().toPoint()
        self._press_scene = point
        return True

    def key_press(self, event: QKeyEvent) -> bool:
        if event.key() != Qt.Key.Key_Escape:
            return False
        if not self.cancel():
            self.view.floor_scene().select_ids(())
        return True

    def cancel(self) -> bool:
        busy = self._drag is not None or self._rubber is not None
        if self._drag is not None:
            self._drag.close()
            self._drag = None
            self.view.status_message.emit("Move cancelled")
        self._end_rubber()
        self._press = None
        self._drag_candidate = self._select_only_on_release = None
        return busy

    def _end_rubber(self) -> None:
        if self._rubber is not None:
            self._rubber.hide()
            self._rubber.deleteLater()
            self._rubber = None


class PlacementPreview:
    """A ghost of one new unit following the cursor, snapped, red where it may not go.

    Shared by :class:`PlaceMode` and the view's palette drops.
    """

    def __init__(self, view: FloorView, type_id: str, rotation: float = 0.0) -> None:
        self.view = view
        self.type_id = type_id
        self.rotation = rotation
        self.moving: MovingSet | None = None
        self.ghost: GhostItem | None = None
        self.offset = (0.0, 0.0)
        self.conflicts: list[Conflict] = []
        self._version = -1

    def _ensure(self) -> None:
        scene = self.view.floor_scene()
        project = scene.project
        version = project.items.version
        if self.moving is not None and version == self._version:
            return
        self._version = version
        self.moving = MovingSet(scene.placement_index(), ["new"], [self.type_id],
                                np.zeros((1, 2)), np.array([self.rotation]))  # fmt: skip
        kind = project.catalog[self.type_id].kind
        if self.ghost is not None:
            scene.removeItem(self.ghost)
        self.ghost = GhostItem(self.moving, [kind])
        self.ghost.setPos(*self.offset)
        scene.addItem(self.ghost)

    def update(self, point: QPointF, snap: bool) -> None:
        self._ensure()
        assert self.moving is not None
        assert self.ghost is not None
        dx, dy = point.x(), point.y()
        if snap:
            dx, dy = snapped_offset(self.moving, dx, dy)
        self.offset = (dx, dy)
        self.ghost.setPos(dx, dy)
        self.conflicts = self.moving.conflicts(dx, dy)
        self.ghost.set_illegal(bool(self.conflicts))

    def rotate(self, degrees: float) -> None:
        self.rotation = (self.rotation + degrees) % 360.0
        self._version = -1
        self._ensure()

    def place(self) -> str | None:
        """Add the unit where the ghost is, through the editor; its id, or None if refused."""
        editor = self.view.editor
        if editor is None or self.moving is None:
            return None
        x, y = self.moving.positions(*self.offset)
        return editor.add_item(self.type_id, float(x[0]), float(y[0]), self.rotation)

    def close(self) -> None:
        if self.ghost is not None:
            self.view.floor_scene().removeItem(self.ghost)
            self.ghost = None
        self.moving = None


class PlaceMode(Mode):
    """Click to place units of one equipment type; see the module docstring."""

    name = "place"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, view: FloorView, type_id: str) -> None:
        super().__init__(view)
        self.type_id = type_id
        self.preview = PlacementPreview(view, type_id)

    def activate(self) -> None:
        super().activate()
        spot = self.view.cursor_scene_position()
        if spot is not None:
            self.preview.update(QPointF(*spot), True)

    def deactivate(self) -> None:
        self.preview.close()

    def cancel(self) -> bool:
        self.view.set_select_mode()
        return True

    def mouse_move(self, event: QMouseEvent) -> bool:
        self.preview.update(_scene_point(self.view, event), not _no_snap(event))
        return True

    def mouse_press(self, event: QMouseEvent) -> bool:
        if event.button() == Qt.MouseButton.RightButton:
            return self.cancel()
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        self.preview.update(_scene_point(self.view, event), not _no_snap(event))
        self.preview.place()
        # The new unit is in the index now: redraw the ghost against it (red, on top of it).
        self.preview.update(_scene_point(self.view, event), not _no_snap(event))
        return True

    def mouse_release(self, event: QMouseEvent) -> bool:
        return event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton)

    def key_press(self, event: QKeyEvent) -> bool:
        if event.key() == Qt.Key.Key_Escape:
            return self.cancel()
        if event.key() == Qt.Key.Key_R:
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.preview.rotate(-90.0 if shift else 90.0)
            spot = self.view.cursor_scene_position()
            if spot is not None:
                self.preview.update(QPointF(*spot), True)
            return True
        return False


class PanMode(Mode):
    """Drag the view with ``button`` (the left one when chosen as a tool)."""

    name = "pan"
    cursor = Qt.CursorShape.OpenHandCursor

    def __init__(self, view: FloorView, button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
        super().__init__(view)
        self.button = button
        self._last: QPoint | None = None

    @property
    def panning(self) -> bool:
        return self._last is not None

    def mouse_press(self, event: QMouseEvent) -> bool:
        if event.button() != self.button:
            return False
        self._last = event.position().toPoint()
        self.view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        return True

    def mouse_move(self, event: QMouseEvent) -> bool:
        if self._last is None:
            return False
        position = event.position().toPoint()
        delta = position - self._last
        self._last = position
        self.view.scroll_by(-delta.x(), -delta.y())
        return True

    def mouse_release(self, event: QMouseEvent) -> bool:
        if event.button() != self.button or self._last is None:
            return False
        self._last = None
        self.view.viewport().setCursor(self.cursor)
        return True

    def cancel(self) -> bool:
        busy = self._last is not None
        self._last = None
        return busy
