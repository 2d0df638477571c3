"""The underlay on the canvas: the building drawing's lines, faint grey, under the plan.

Owns turning :class:`layout.underlay.Linework` (segments in plan metres) into
one ``QPainterPath`` and the :class:`UnderlayOverlay` that draws it. The scene
(:mod:`gui.canvas.scene`) installs it as the overlay ``"underlay"`` when the
floor names an underlay, so the Layers dock can hide it; it sits above the
floor fill and tile grid (painted as the background) and below obstacles and
equipment. The path is built once per floor change, never per paint, and
drawn with one cosmetic one-pixel pen.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from gui.canvas.overlays import Overlay
from layout.underlay import Linework

UNDERLAY_COLOUR = QColor(96, 102, 112, 150)
"""Faint grey: the drawing reads as context, the plan on top of it as the design."""
Z_UNDERLAY = 5.0
"""Above the background (floor fill, grid), below obstacles (10) and equipment (30)."""


def linework_path(linework: Linework) -> QPainterPath:
    """One path of every segment; a segment starting where the previous one ended
    continues the line instead of starting a new subpath."""
    path = QPainterPath()
    segments = linework.segments
    if not len(segments):
        return path
    starts = segments[:, 0].tolist()
    ends = segments[:, 1].tolist()
    joined = np.zeros(len(segments), dtype=bool)
    joined[1:] = (segments[1:, 0] == segments[:-1, 1]).all(axis=1)
    move_to, line_to = path.moveTo, path.lineTo
    for (sx, sy), (ex, ey), cont in zip(starts, ends, joined.tolist(), strict=True):
        if not cont:
            move_to(sx, sy)
        line_to(ex, ey)
    return path


class UnderlayOverlay(Overlay):
    """The underlay's linework as one cached path (see the module docstring)."""

    z_value = Z_UNDERLAY

    def __init__(self, linework: Linework, key: object = None) -> None:
        super().__init__()
        self.key = key
        """What it was read from (the scene's cache key): an unchanged drawing is not re-read."""
        self.linework = linework
        self._path = linework_path(linework)
        self._bounds = self._path.boundingRect().adjusted(-1.0, -1.0, 1.0, 1.0)
        self._pen = QPen(UNDERLAY_COLOUR, 1.0)
        self._pen.setCosmetic(True)

    def path(self) -> QPainterPath:
        return self._path

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        painter.setPen(self._pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
