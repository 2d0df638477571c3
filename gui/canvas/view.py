"""The floor-plan view: navigation, and the door through which the mouse and keys edit.

Owns navigation (the wheel zooms about the cursor, the middle button or Space
with the left button pans, ``fit_floor`` shows the whole hall, ``show_area``
frames a spot) and event routing: mouse events go to the current mouse mode
(:mod:`gui.canvas.modes`; :class:`~gui.canvas.modes.SelectMode` by default), keys go to the
mode and then to the :class:`~gui.canvas.editor.Editor` attached with
:meth:`FloorView.set_editor`, and palette drags
(:data:`~gui.canvas.editor.EQUIPMENT_TYPE_MIME`) show a ghost and drop a new unit.
The view never changes the model itself.

Canvas keys (with an editor): R / Shift+R turn the selection 90° clockwise /
anticlockwise; arrows nudge one tile (Shift: ten tiles, Alt: 0.1 m); Delete or
Backspace removes; Ctrl+C, Ctrl+X, Ctrl+V, Ctrl+D copy, cut, paste,
duplicate; Ctrl+A selects all; Esc cancels a drag or placement, else clears
the selection. Holding Alt while dragging turns snapping off. A menu action
with the same shortcut takes the key first and should call the same
:class:`~gui.canvas.editor.Editor` method.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsView, QWidget

from gui.canvas.editor import EQUIPMENT_TYPE_MIME
from gui.canvas.modes import Mode, PanMode, PlacementPreview, PlaceMode, SelectMode
from gui.canvas.scene import FloorScene
from layout.catalog import PLACEABLE_KINDS

if TYPE_CHECKING:
    from gui.canvas.editor import Editor

ZOOM_STEP = 1.25
"""Zoom factor of one wheel notch or one Zoom In / Zoom Out."""
MIN_PX_PER_M = 0.05
MAX_PX_PER_M = 2000.0
FIT_MARGIN_PX = 24


class FloorView(QGraphicsView):
    """A view of the floor in metres.

    Signals
    -------
    cursor_moved(x_m, y_m)
        The mouse moved over the floor; its position in metres.
    status_message(text)
        Something to tell the user in the status bar (a refused move, a paste);
        an empty text clears it.
    mode_changed(name)
        The mouse mode changed: ``"select"``, ``"place"`` or ``"pan"``.
    """

    cursor_moved = Signal(float, float)
    status_message = Signal(str)
    mode_changed = Signal(str)

    def __init__(self, scene: FloorScene | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if scene is not None:
            self.setScene(scene)
            self._scale_changed()
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # The background (floor fill and tile grid) only changes with zoom or floor.
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        # Every item sets its own pen and brush, so the view need not save and
        # restore the painter around each of thousands of racks.
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Modes do selection and rubber bands themselves (see gui.canvas.modes).
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.viewport().setMouseTracking(True)
        self.editor: Editor | None = None
        self._mode: Mode = SelectMode(self)
        self._mode.activate()
        self._pan: PanMode | None = None
        """A temporary pan (middle button, or Space with the left button) over any mode."""
        self._space_held = False
        self._cursor: QPoint | None = None
        self._drop: PlacementPreview | None = None

    # -- editing and modes --------------------------------------------------------------------
    def floor_scene(self) -> FloorScene:
        scene = self.scene()
        assert isinstance(scene, FloorScene)
        return scene

    def set_editor(self, editor: Editor | None) -> None:
        """Attach the :class:`~gui.canvas.editor.Editor` that commits drags, drops and keys."""
        self.editor = editor

    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode) -> None:
        """Make ``mode`` the current mouse mode (the previous one is cancelled)."""
        if mode is self._mode:
            return
        self._mode.deactivate()
        self._mode = mode
        mode.activate()
        self.mode_changed.emit(mode.name)

    def set_select_mode(self) -> None:
        self.set_mode(SelectMode(self))

    def set_place_mode(self, type_id: str) -> None:
        """Click-to-place units of ``type_id`` until Esc (the palette calls this)."""
        equipment_type = self.floor_scene().project.catalog.get(type_id)
        if equipment_type is None or equipment_type.kind not in PLACEABLE_KINDS:
            self.status_message.emit(f"Cannot place {type_id!r}: not a placeable type")
            return
        self.set_mode(PlaceMode(self, type_id))
        self.status_message.emit(f"Click to place {equipment_type.name}; R turns it, Esc stops")

    def set_pan_mode(self) -> None:
        self.set_mode(PanMode(self))

    def cursor_scene_position(self) -> tuple[float, float] | None:
        """Where the mouse is over the floor (metres), or None when it is not over the view."""
        if self._cursor is None:
            return None
        point = self.mapToScene(self._cursor)
        return (point.x(), point.y())

    # -- zoom ------------------------------------------------------------------------------
    def px_per_m(self) -> float:
        """Current scale: screen pixels per metre."""
        return self.transform().m11()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Scale by ``factor``, keeping the scene point under ``anchor`` (viewport pixels) still.

        Without an anchor the view's centre stays still. The scale is kept
        between :data:`MIN_PX_PER_M` and :data:`MAX_PX_PER_M`.
        """
        current = self.px_per_m()
        target = min(max(current * factor, MIN_PX_PER_M), MAX_PX_PER_M)
        if target == current:
            return
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        fixed = self.mapToScene(anchor.toPoint())
        # Anchoring is done here rather than by Qt's AnchorUnderMouse, which uses the
        # last mouse-move position and the global cursor rather than this event's.
        previous = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.scale(target / current, target / current)
        self.setTransformationAnchor(previous)
        moved = self.mapFromScene(fixed)
        self.scroll_by(moved.x() - anchor.x(), moved.y() - anchor.y())
        self._scale_changed()

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / ZOOM_STEP)

    def fit_floor(self) -> None:
        """Show the whole floor (and any equipment placed off it)."""
        scene = self.scene()
        if isinstance(scene, FloorScene):
            self.show_area(scene.content_rect())

    def show_area(self, rect: QRectF) -> None:
        """Scale and scroll so that ``rect`` (metres) fills the view, centred."""
        if rect.isEmpty():
            rect = QRectF(rect.center() - QPointF(1, 1), rect.center() + QPointF(1, 1))
        margin = FIT_MARGIN_PX
        view = self.viewport().rect().adjusted(margin, margin, -margin, -margin)
        if view.width() <= 0 or view.height() <= 0:
            view = self.viewport().rect()
        scale = min(view.width() / rect.width(), view.height() / rect.height())
        scale = min(max(scale, MIN_PX_PER_M), MAX_PX_PER_M)
        self.resetTransform()
        self.scale(scale, scale)
        self.centerOn(rect.center())
        self._scale_changed()

    def _scale_changed(self) -> None:
        scene = self.scene()
        if isinstance(scene, FloorScene):
            scene.set_view_scale(self.px_per_m())

    def scroll_by(self, dx: float, dy: float) -> None:
        """Scroll by (dx, dy) viewport pixels."""
        bar_x, bar_y = self.horizontalScrollBar(), self.verticalScrollBar()
        bar_x.setValue(bar_x.value() + round(dx))
        bar_y.setValue(bar_y.value() + round(dy))

    # -- events ------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / 120.0
        if notches == 0:
            event.ignore()
            return
        self.zoom_by(ZOOM_STEP**notches, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if self._pan is None and (
            button == Qt.MouseButton.MiddleButton
            or (button == Qt.MouseButton.LeftButton and self._space_held)
        ):
            self._pan = PanMode(self, button)
        handler = self._pan if self._pan is not None else self._mode
        if handler.mouse_press(event):
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        position = event.position().toPoint()
        self._cursor = position
        handler = self._pan if self._pan is not None else self._mode
        if handler.mouse_move(event):
            event.accept()
        else:
            super().mouseMoveEvent(event)
        scene_point = self.mapToScene(position)
        self.cursor_moved.emit(scene_point.x(), scene_point.y())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan is not None:
            if self._pan.mouse_release(event):
                self._pan = None
                if self._space_held:
                    self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
                else:
                    self._mode.activate()
                event.accept()
            return
        if self._mode.mouse_release(event):
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._pan is None and self._mode.mouse_double_click(event):
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._cursor = None
        super().leaveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat() and self._pan is None:
                self._space_held = True
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if self._pan is not None:
            event.accept()  # no edits in the middle of a pan
            return
        if self._mode.key_press(event) or (
            self.editor is not None and self.editor.handle_key(event)
        ):
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            if self._pan is None:
                self._mode.activate()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        # A Space released in another window never reaches us.
        if self._space_held:
            self._space_held = False
            if self._pan is None:
                self._mode.activate()
        super().focusOutEvent(event)

    # -- palette drops ------------------------------------------------------------------------
    def _dropped_type(self, event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> str | None:
        mime = event.mimeData()
        if mime is None or not mime.hasFormat(EQUIPMENT_TYPE_MIME) or self.editor is None:
            return None
        try:
            type_id = bytes(mime.data(EQUIPMENT_TYPE_MIME).data()).decode("utf-8").strip()
        except UnicodeDecodeError:
            return None
        equipment_type = self.floor_scene().project.catalog.get(type_id)
        if equipment_type is None or equipment_type.kind not in PLACEABLE_KINDS:
            return None
        return type_id

    def _update_drop(self, event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> bool:
        type_id = self._dropped_type(event)
        if type_id is None:
            self._end_drop()
            return False
        if self._drop is None or self._drop.type_id != type_id:
            self._end_drop()
            self._drop = PlacementPreview(self, type_id)
        snap = not event.modifiers() & Qt.KeyboardModifier.AltModifier
        self._drop.update(self.mapToScene(event.position().toPoint()), snap)
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        return True

    def _end_drop(self) -> None:
        if self._drop is not None:
            self._drop.close()
            self._drop = None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if not self._update_drop(event):
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if not self._update_drop(event):
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._end_drop()
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        if not self._update_drop(event):
            event.ignore()
            return
        assert self._drop is not None
        preview, self._drop = self._drop, None
        preview.place()
        preview.close()
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        event.accept()
