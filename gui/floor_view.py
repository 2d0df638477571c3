"""The floor-plan view: zoom, pan and cursor tracking over a :class:`~gui.floor_scene.FloorScene`.

Owns navigation only: the wheel zooms about the cursor, the middle button pans,
``fit_floor`` shows the whole hall, ``show_area`` frames a spot (a violation).
It reports where the cursor is in metres through ``cursor_moved`` and tells the
scene its scale after each zoom, so the scene can pick its level of detail. It
never changes the model and knows nothing of editing; mouse modes for
selecting, placing and drawing will be separate objects.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsView, QWidget

from gui.floor_scene import FloorScene

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
    """

    cursor_moved = Signal(float, float)

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
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.viewport().setMouseTracking(True)
        self._pan_from: QPoint | None = None

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
        self._scroll_by(moved.x() - anchor.x(), moved.y() - anchor.y())
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

    def _scroll_by(self, dx: float, dy: float) -> None:
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
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        position = event.position().toPoint()
        if self._pan_from is not None:
            delta = position - self._pan_from
            self._pan_from = position
            self._scroll_by(-delta.x(), -delta.y())
            event.accept()
        else:
            super().mouseMoveEvent(event)
        scene_point = self.mapToScene(position)
        self.cursor_moved.emit(scene_point.x(), scene_point.y())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton and self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)
