"""Small icons drawn in code: equipment footprints by kind, and violation severities.

Owns the pictures the docks show beside a type or a violation. They are drawn
with QPainter into QPixmaps (no image files to ship or lose), cached per
process. Kind colours are :mod:`layout.kinds`'s, as on the canvas. Nothing
here knows about a project.

Icons need a QGuiApplication; call these only once one exists.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from layout.kinds import kind_info

SEVERITY_COLOURS: dict[str, str] = {
    "error": "#d32f2f",
    "warning": "#e8a317",
    "info": "#3d7cc9",
}
WAIVED_COLOUR = "#9a9a9a"

ICON_PX = 16


def kind_colour(kind: str) -> QColor:
    """The canvas colour of an equipment kind."""
    return QColor(kind_info(kind).colour)


def footprint_pixmap(kind: str, width_m: float, depth_m: float, size_px: int = ICON_PX) -> QPixmap:
    """A footprint rectangle in the kind's colour, its aspect kept, front edge marked.

    The front faces -y (up), as on the canvas, so a dark band runs along the top.
    Very long units (busways) are drawn as a thin bar rather than a hairline.
    """
    return _footprint_pixmap(kind, round(width_m, 2), round(depth_m, 2), size_px)


@cache
def _footprint_pixmap(kind: str, width_m: float, depth_m: float, size_px: int) -> QPixmap:
    pixmap = QPixmap(size_px, size_px)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    room = size_px - 2.0
    scale = room / max(width_m, depth_m, 1e-6)
    # Keep a readable minimum thickness for slender units.
    w = max(width_m * scale, size_px * 0.3)
    d = max(depth_m * scale, size_px * 0.3)
    rect = QRectF((size_px - w) / 2, (size_px - d) / 2, w, d)
    colour = kind_colour(kind)
    painter.setPen(QPen(colour.darker(150), 1.0))
    painter.setBrush(QBrush(colour))
    painter.drawRect(rect)
    front = QRectF(rect.left(), rect.top(), rect.width(), max(rect.height() * 0.22, 1.5))
    painter.fillRect(front, colour.darker(170))
    painter.end()
    return pixmap


def type_icon(equipment_type: object, size_px: int = ICON_PX) -> QIcon:
    """The icon of a placeable catalog type: its footprint in its kind's colour."""
    kind = getattr(equipment_type, "kind", "")
    footprint = getattr(equipment_type, "footprint", None)
    w = footprint.width_m if footprint is not None else 1.0
    d = footprint.depth_m if footprint is not None else 1.0
    return QIcon(footprint_pixmap(kind, w, d, size_px))


@cache
def kind_icon(kind: str, size_px: int = ICON_PX) -> QIcon:
    """A square swatch in the kind's colour, for the kind's heading."""
    return QIcon(_footprint_pixmap(kind, 1.0, 1.0, size_px))


@cache
def severity_pixmap(severity: str, size_px: int = ICON_PX, waived: bool = False) -> QPixmap:
    """Error: a red disc with a cross; warning: an amber triangle with a bar; info: a blue
    disc with a dot over a bar. Waived violations get the same shape in grey."""
    pixmap = QPixmap(size_px, size_px)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(WAIVED_COLOUR if waived else SEVERITY_COLOURS.get(severity, WAIVED_COLOUR))
    s = float(size_px)
    mark = QPen(QColor("#ffffff"), max(1.5, s / 8), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    if severity == "warning":
        triangle = QPolygonF([QPointF(s / 2, 1), QPointF(s - 1, s - 1.5), QPointF(1, s - 1.5)])
        painter.drawPolygon(triangle)
        mark.setColor(QColor("#3a2a00") if not waived else QColor("#ffffff"))
        painter.setPen(mark)
        painter.drawLine(QPointF(s / 2, s * 0.38), QPointF(s / 2, s * 0.62))
        painter.drawPoint(QPointF(s / 2, s * 0.78))
    else:
        painter.drawEllipse(QRectF(1, 1, s - 2, s - 2))
        painter.setPen(mark)
        if severity == "error":
            a, b = s * 0.33, s * 0.67
            path = QPainterPath()
            path.moveTo(a, a)
            path.lineTo(b, b)
            path.moveTo(b, a)
            path.lineTo(a, b)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
        else:
            painter.drawPoint(QPointF(s / 2, s * 0.3))
            painter.drawLine(QPointF(s / 2, s * 0.47), QPointF(s / 2, s * 0.72))
    painter.end()
    return pixmap


@cache
def severity_icon(severity: str, waived: bool = False) -> QIcon:
    """The icon of a violation severity (grey when waived)."""
    return QIcon(severity_pixmap(severity, ICON_PX, waived))
