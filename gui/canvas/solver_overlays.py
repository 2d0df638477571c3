"""The solvers on the canvas: tray fill, power utilisation and the thermal heat map.

Owns the three overlays that draw the solver outputs of the latest
:class:`physics.solution.Solution` (which the background check computes off
the UI thread, :mod:`gui.checker`):

- :class:`TrayFillOverlay` (``"tray fill"``): every tray segment drawn as
  wide as the tray, coloured by its fullest point against the fill limit
  (green below half the limit, amber up to it, red above), one
  ``QPainterPath`` per colour bucket. Without results yet the trays are
  drawn grey, so the overlay doubles as the tray layer.
- :class:`PowerOverlay` (``"power load"``): every power unit's footprint
  tinted by its worst-case utilisation against the continuous derating (the
  same three buckets), one path per bucket, with the percentage written on
  the unit when zoomed in.
- :class:`HeatMapOverlay` (``"heat map"``): the screening model's estimated
  inlet temperature as one ``QImage`` (one pixel per grid cell) drawn
  scaled to the grid's extent, under the equipment so racks stay readable
  and the aisles show the air.

Overlays keep the latest :class:`~physics.solution.Solution` they were given
(:meth:`~gui.canvas.overlays.Overlay.set_solved`) and redraw from it when it
changes, never per paint; between an edit and the next results they show
the previous results on the current geometry (the tray fill by segment id,
the power tint by unit id). Each offers a :class:`Legend` for the Layers
dock (:class:`LegendView`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QLabel, QStyleOptionGraphicsItem, QWidget

from gui.canvas.overlays import Z_OVERLAY, Overlay
from layout.geometry import axis_aligned_rects
from physics.solution import Solution

if TYPE_CHECKING:
    from gui.canvas.scene import FloorScene

TRAY_FILL = "tray fill"
POWER_LOAD = "power load"
HEAT_MAP = "heat map"
SOLVER_OVERLAYS = (TRAY_FILL, POWER_LOAD, HEAT_MAP)
"""Names of the overlays this module installs, bottom to top."""

GREEN = QColor("#2f9e44")
AMBER = QColor("#f08c00")
RED = QColor("#e03131")
UNKNOWN = QColor("#868e96")
BUCKETS = ((GREEN, "< ½ limit"), (AMBER, "½ limit – limit"), (RED, "over limit"))
"""Colour buckets of the tray fill and power overlays, by value / limit."""

TRAY_ALPHA = 200
TRAY_MIN_PX = 3.0
"""Trays are never drawn narrower than this on screen."""
POWER_ALPHA = 235
POWER_LABEL_MIN_PX_PER_M = 14.0
POWER_OUTLINE_MIN_PX_PER_M = 12.0
TRAY_LABEL_MIN_PX_PER_M = 10.0
LABEL_FONT_PX = 11
LABELS_MAX = 600
"""Labels tried per paint at most (those in view, most important first)."""
HEAT_ALPHA = 205
Z_HEAT_MAP = 15.0
"""Above obstacles (10), under the floor outline (20) and equipment (30)."""
Z_POWER = Z_OVERLAY - 0.2
Z_TRAY_FILL = Z_OVERLAY - 0.1
"""Above the equipment, trays over power units, both under the selected rack's links."""
HEAT_STOPS = ((0.0, "#2b59c3"), (0.35, "#3bb3c3"), (0.6, "#7cc36a"), (0.75, "#f7d23c"),
              (0.9, "#f08c00"), (1.0, "#d6221c"))  # fmt: skip
"""Colour ramp of the heat map from the supply temperature (0) to the allowable limit (1);
the recommended limit falls near the yellow."""


# -- colours and legends ------------------------------------------------------------------------
def bucket_of(ratio: np.ndarray) -> np.ndarray:
    """Bucket per value / limit: 0 below half the limit, 1 up to it, 2 above; -1 unknown."""
    ratio = np.asarray(ratio, dtype=float)
    out = np.where(ratio > 1.0 + 1e-9, 2, np.where(ratio >= 0.5, 1, 0))
    return np.where(np.isfinite(ratio), out, -1)


def heat_lut() -> np.ndarray:
    """256 ARGB32 colours of the heat ramp (with the heat map's alpha)."""
    t = np.linspace(0.0, 1.0, 256)
    stops = np.array([s for s, _ in HEAT_STOPS])
    rgb = np.array([[QColor(c).red(), QColor(c).green(), QColor(c).blue()] for _, c in HEAT_STOPS],
                   dtype=float)  # fmt: skip
    channels = [np.interp(t, stops, rgb[:, k]) for k in range(3)]
    r, g, b = (np.round(c).astype(np.uint32) for c in channels)
    return (np.uint32(HEAT_ALPHA) << 24) | (r << 16) | (g << 8) | b


@dataclass(frozen=True)
class Legend:
    """What an overlay's colours mean: swatches, or a gradient between two labels."""

    title: str
    swatches: Sequence[tuple[QColor, str]] = ()
    gradient: tuple[np.ndarray, Sequence[tuple[float, str]]] | None = None
    """(256 ARGB colours, [(position 0..1, label), …])."""
    note: str = ""


class LegendView(QLabel):
    """The legends of the visible overlays, drawn as one picture under the Layers list."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.legends: list[Legend] = []
        self.setContentsMargins(4, 4, 4, 4)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

    def show_legends(self, legends: Sequence[Legend]) -> None:
        self.legends = list(legends)
        self.setToolTip("\n".join(legend.note for legend in legends if legend.note))
        self._redraw()
        self.setVisible(bool(legends))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.legends and abs(self._drawn_width - self._width()) > 2:
            self._redraw()

    _drawn_width = 0

    def _width(self) -> int:
        return max(200, self.width() - 8)

    def _redraw(self) -> None:
        if not self.legends:
            self.clear()
            self.setFixedHeight(0)
            return
        width = self._width()
        self._drawn_width = width
        line = self.fontMetrics().height() + 2
        heights = [line + (2 * line + 4 if legend.gradient is not None else line + 2)
                   for legend in self.legends]  # fmt: skip
        height = sum(heights) + 4 * (len(heights) - 1)
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(QSize(round(width * ratio), round(height * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        bold = QFont(self.font())
        bold.setBold(True)
        y = 0.0
        for legend, h in zip(self.legends, heights, strict=True):
            painter.setFont(bold)
            painter.setPen(text)
            title = painter.fontMetrics().elidedText(legend.title, Qt.TextElideMode.ElideRight,
                                                     width)  # fmt: skip
            painter.drawText(QRectF(0, y, width, line), Qt.AlignmentFlag.AlignVCenter, title)
            painter.setFont(self.font())
            row = y + line
            if legend.gradient is None:
                self._swatches(painter, legend, row, line, width=width, text=text)
            else:
                self._gradient(painter, legend, row, line, width=width, text=text)
            y += h + 4
        painter.end()
        self.setFixedHeight(height + 8)
        self.setPixmap(pixmap)

    @staticmethod
    def _swatches(painter: QPainter, legend: Legend, y: float, line: float, *, width: int,
                  text: QColor) -> None:  # fmt: skip
        x = 2.0
        metrics = painter.fontMetrics()
        for colour, label in legend.swatches:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRect(QRectF(x, y + line / 2 - 5, 14, 10))
            painter.setPen(text)
            advance = metrics.horizontalAdvance(label)
            painter.drawText(QRectF(x + 18, y, advance + 2, line), Qt.AlignmentFlag.AlignVCenter,
                             label)  # fmt: skip
            x += 18 + advance + 12
            if x > width:
                break

    @staticmethod
    def _gradient(painter: QPainter, legend: Legend, y: float, line: float, *, width: int,
                  text: QColor) -> None:  # fmt: skip
        assert legend.gradient is not None
        lut, ticks = legend.gradient
        strip = QImage(np.ascontiguousarray(lut, dtype=np.uint32).tobytes(), len(lut), 1,
                       QImage.Format.Format_ARGB32).copy()  # fmt: skip
        bar = QRectF(4, y + 2, width - 8, line - 4)
        painter.drawImage(bar, strip)
        painter.setPen(text)
        for position, label in ticks:
            x = bar.left() + position * bar.width()
            painter.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 3))
            box = QRectF(x - 60, bar.bottom() + 3, 120, line)
            align = Qt.AlignmentFlag.AlignHCenter
            if position <= 0.0:
                box.moveLeft(0.0)
                align = Qt.AlignmentFlag.AlignLeft
            elif position >= 1.0:
                box.moveRight(width)
                align = Qt.AlignmentFlag.AlignRight
            painter.drawText(box, align | Qt.AlignmentFlag.AlignTop, label)


def _percent(value: float) -> str:
    return f"{value:.0%}"


# -- the overlays ------------------------------------------------------------------------------
class _SolverOverlay(Overlay):
    """Shared by the three: the scene, the latest outputs, bounds, rebuilds while visible."""

    def __init__(self, scene: FloorScene) -> None:
        super().__init__()
        self._scene = scene
        self.solved: Solution | None = None
        self._bounds = QRectF()
        self._stale = True
        # option.exposedRect is then the area being painted: labels outside it are skipped.
        self.setFlag(Overlay.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def set_solved(self, solved: Solution | None) -> None:
        self.solved = solved
        self._rebuild_if_shown()

    def project_changed(self) -> None:
        self._rebuild_if_shown()

    def itemChange(self, change: Overlay.GraphicsItemChange, value: object) -> object:
        if change == Overlay.GraphicsItemChange.ItemVisibleHasChanged and value and self._stale:
            self._rebuild_if_shown()
        return super().itemChange(change, value)

    def _rebuild_if_shown(self) -> None:
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        self.prepareGeometryChange()
        self._rebuild()
        self.update()

    def _rebuild(self) -> None:
        raise NotImplementedError

    def boundingRect(self) -> QRectF:
        return self._bounds


class TrayFillOverlay(_SolverOverlay):
    """Trays coloured by fill; see the module docstring."""

    z_value = Z_TRAY_FILL

    def __init__(self, scene: FloorScene) -> None:
        super().__init__(scene)
        # Per bucket (-1 grey, 0 green, 1 amber, 2 red): tray centre lines by width.
        self._paths: list[tuple[QColor, float, QPainterPath]] = []
        font = QFont()
        font.setPixelSize(LABEL_FONT_PX)
        self._labels = _Labels(font)
        self.fill_by_segment: dict[str, float] = {}
        self.buckets: dict[str, int] = {}
        """Segment id → bucket drawn (-1 when no fill is known)."""

    def _rebuild(self) -> None:
        self._paths, self.buckets = [], {}
        self._labels.set([], [], [])
        segments = self._scene.project.trays.segments
        cabling = self.solved.cabling if self.solved is not None else None
        fill: dict[str, float] = {}
        limit = 0.0
        if cabling is not None and len(cabling.segment_ids):
            fill = dict(zip(cabling.segment_ids, np.asarray(cabling.fill).tolist(), strict=True))
            limit = float(cabling.fill_limit)
        self.fill_by_segment = fill
        if not segments:
            self._bounds = QRectF()
            return
        a, b, width, _ = self._scene.project.trays.arrays()
        values = np.array([fill.get(s.id, np.nan) for s in segments], dtype=float)
        ratio = values / limit if limit > 0 else np.full(len(values), np.nan)
        bucket = bucket_of(ratio)
        groups: dict[tuple[int, float], QPainterPath] = {}
        points, texts, priority = [], [], []
        for k, s in enumerate(segments):
            key = (int(bucket[k]), float(width[k]))
            path = groups.get(key)
            if path is None:
                path = groups[key] = QPainterPath()
            path.moveTo(float(a[k, 0]), float(a[k, 1]))
            path.lineTo(float(b[k, 0]), float(b[k, 1]))
            self.buckets[s.id] = key[0]
            if np.isfinite(values[k]):
                points.append(((a[k, 0] + b[k, 0]) / 2, (a[k, 1] + b[k, 1]) / 2))
                texts.append(_percent(values[k]))
                priority.append(float(ratio[k]))
        colours = {-1: UNKNOWN, 0: GREEN, 1: AMBER, 2: RED}
        # Fuller trays last, so red wins where runs overlap.
        for (bucket_id, w), path in sorted(groups.items()):
            colour = QColor(colours[bucket_id])
            colour.setAlpha(TRAY_ALPHA)
            self._paths.append((colour, w, path))
        self._labels.set(points, texts, priority)
        lo = np.minimum(a, b).min(axis=0) - width.max()
        hi = np.maximum(a, b).max(axis=0) + width.max()
        # Room for the minimum on-screen width when zoomed far out.
        self._bounds = QRectF(QPointF(*lo), QPointF(*hi)).adjusted(-5, -5, 5, 5)

    def legend(self) -> Legend | None:
        limit = 0.0
        if self.solved is not None and self.solved.cabling is not None:
            limit = float(self.solved.cabling.fill_limit)
        shown = f" (limit {limit:.0%} of cross-section)" if limit else ""
        worst = max(self.fill_by_segment.values(), default=None)
        note = f"Fullest tray: {worst:.0%} of its cross-section" if worst is not None else ""
        return Legend(f"Tray fill{shown}", [(c, t) for c, t in BUCKETS], note=note)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:  # fmt: skip
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for colour, width, path in self._paths:
            pen = QPen(colour, max(width, TRAY_MIN_PX / max(lod, 1e-9)))
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            painter.drawPath(path)
        if lod >= TRAY_LABEL_MIN_PX_PER_M:
            self._labels.draw(painter, option.exposedRect)


class PowerOverlay(_SolverOverlay):
    """Power units tinted by utilisation; see the module docstring."""

    z_value = Z_POWER

    def __init__(self, scene: FloorScene) -> None:
        super().__init__(scene)
        self._paths: list[tuple[QBrush, QPainterPath]] = []
        font = QFont()
        font.setPixelSize(LABEL_FONT_PX)
        self._labels = _Labels(font)
        self._outline = QPen(QColor(20, 20, 20, 170), 1.0)
        self._outline.setCosmetic(True)
        self.utilisation: dict[str, float] = {}
        """Unit id → worst-case load / capacity, of the units drawn."""
        self.buckets: dict[str, int] = {}

    def _rebuild(self) -> None:
        self._paths, self.buckets, self.utilisation = [], {}, {}
        self._labels.set([], [], [])
        self._bounds = QRectF()
        loads = self.solved.power if self.solved is not None else None
        project = self._scene.project
        if loads is None or not len(loads.ids):
            return
        items = project.items
        # Each unit against the share of its rating its own rule allows.
        limits = dict(zip(loads.ids, loads.limit_fraction.tolist(), strict=True))
        by_id = dict(zip(loads.ids, loads.utilisation.tolist(), strict=True))
        capacity = dict(zip(loads.ids, loads.capacity_kw.tolist(), strict=True))
        ids = [i for i in loads.ids if i in items and capacity[i] > 0]
        if not ids:
            return
        rows = items.rows(ids)
        width, depth = project.sizes()
        # Nearly every unit stands square: one addRect each; others as polygons.
        square, rects_array, _ = axis_aligned_rects(
            items.x[rows], items.y[rows], width[rows], depth[rows], items.rotation[rows]
        )
        rects = rects_array.tolist()
        footprints = project.footprints()
        util = np.array([by_id[i] for i in ids])
        limit = np.array([limits[i] or 1.0 for i in ids])
        bucket = bucket_of(util / limit)
        colours = {0: GREEN, 1: AMBER, 2: RED}
        for bucket_id in (0, 1, 2):
            chosen = np.flatnonzero(bucket == bucket_id)
            if not len(chosen):
                continue
            path = QPainterPath()
            # Busways A and B overlap: winding fill keeps the overlap filled.
            path.setFillRule(Qt.FillRule.WindingFill)
            for k in chosen.tolist():
                if square[k]:
                    path.addRect(*rects[k])
                    continue
                corners = shapely.get_coordinates(footprints[rows[k]]).tolist()
                path.addPolygon(QPolygonF([QPointF(x, y) for x, y in corners]))
                path.closeSubpath()
            colour = QColor(colours[bucket_id])
            colour.setAlpha(POWER_ALPHA)
            self._paths.append((QBrush(colour), path))
            self._bounds = self._bounds.united(path.boundingRect())
        for k, item_id in enumerate(ids):
            self.utilisation[item_id] = float(util[k])
            self.buckets[item_id] = int(bucket[k])
        self._labels.set(np.column_stack((items.x[rows], items.y[rows])).tolist(),
                         [_percent(u) for u in util.tolist()], util.tolist())  # fmt: skip
        self._bounds = self._bounds.adjusted(-1, -1, 1, 1)

    def legend(self) -> Legend | None:
        limit = 0.0
        if self.solved is not None and self.solved.power is not None:
            limit = float(self.solved.power.limit)
        title = "Power load, worst case"
        if limit:
            title += f" (breakers and busways: limit {limit:.0%} of rating)"
        return Legend(title, [(c, t) for c, t in BUCKETS],
                      note="Worst of normal and any side or block lost, against what each "
                      "unit's rule allows")  # fmt: skip

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:  # fmt: skip
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        # Zoomed out, outlines would turn thin busways black.
        painter.setPen(self._outline if lod >= POWER_OUTLINE_MIN_PX_PER_M else Qt.PenStyle.NoPen)
        for brush, path in self._paths:
            painter.setBrush(brush)
            painter.drawPath(path)
        if lod >= POWER_LABEL_MIN_PX_PER_M:
            self._labels.draw(painter, option.exposedRect)


class HeatMapOverlay(_SolverOverlay):
    """The thermal screening map as one image; see the module docstring."""

    z_value = Z_HEAT_MAP

    def __init__(self, scene: FloorScene) -> None:
        super().__init__(scene)
        self.image = QImage()
        self.range_c: tuple[float, float] | None = None
        self._target = QRectF()

    def _rebuild(self) -> None:
        solved = self.solved
        thermal = solved.thermal if solved is not None else None
        if solved is None or thermal is None:
            self.image, self.range_c = QImage(), None
            self._target, self._bounds = QRectF(), QRectF()
            return
        rules = solved.project.rules
        low = float(thermal.supply_c)
        high = max(float(rules["inlet_allowable_c"]), low + 1.0)
        self.range_c = (low, high)
        grid = np.asarray(thermal.grid, dtype=float)
        ny, nx = grid.shape
        scaled = np.clip((grid - low) / (high - low), 0.0, 1.0)
        index = np.nan_to_num(scaled * 255.0, nan=0.0).astype(np.intp)
        pixels = heat_lut()[index]
        pixels[~np.isfinite(grid)] = 0
        buffer = np.ascontiguousarray(pixels, dtype=np.uint32)
        self.image = QImage(buffer.tobytes(), nx, ny, nx * 4,
                            QImage.Format.Format_ARGB32).copy()  # fmt: skip
        x0, y0, x1, y1 = thermal.extent
        self._target = QRectF(QPointF(x0, y0), QPointF(x1, y1))
        self._bounds = QRectF(self._target)

    def legend(self) -> Legend | None:
        rules = self._scene.project.rules
        if self.range_c is None:
            return Legend("Estimated inlet (°C)", note="No thermal map: no CRAH in the hall")
        low, high = self.range_c
        recommended = float(rules["inlet_recommended_c"])
        ticks = [(0.0, f"{low:g} °C supply"), (1.0, f"{high:g} °C allowable")]
        if low < recommended < high:
            ticks.insert(1, ((recommended - low) / (high - low), f"{recommended:g}"))
        return Legend("Estimated inlet temperature", gradient=(heat_lut(), ticks),
                      note="Plan-view screening estimate, not CFD (see physics.thermal)")

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:  # fmt: skip
        if self.image.isNull():
            return
        # Cells stay crisp squares when zoomed in; smoothing would blur the grid into
        # the neighbouring (off-floor, transparent) cells.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(self._target, self.image)


class _Labels:
    """Screen-sized labels at scene points, most important first; drawn only where exposed,
    and skipped where they would cover a label already drawn (a grid of placed boxes)."""

    def __init__(self, font: QFont) -> None:
        self.font = font
        self.xy = np.zeros((0, 2))
        self.texts: list[str] = []

    def set(self, points: list[tuple[float, float]], texts: list[str], priority: list[float]
            ) -> None:  # fmt: skip
        order = np.argsort(-np.asarray(priority, dtype=float), kind="stable")
        self.xy = np.asarray(points, dtype=float).reshape(-1, 2)[order]
        self.texts = [texts[k] for k in order.tolist()]

    def __len__(self) -> int:
        return len(self.texts)

    def draw(self, painter: QPainter, exposed: QRectF) -> None:
        if not self.texts:
            return
        x, y = self.xy[:, 0], self.xy[:, 1]
        inside = np.flatnonzero((x >= exposed.left()) & (x <= exposed.right())
                                & (y >= exposed.top()) & (y <= exposed.bottom()))  # fmt: skip
        if not len(inside):
            return
        painter.save()
        painter.setFont(self.font)
        painter.setPen(QPen(QColor("#1d1f23")))
        metrics = painter.fontMetrics()
        background = QColor(255, 255, 255, 215)
        transform = painter.worldTransform()
        painter.resetTransform()
        cell = 48.0
        placed: dict[tuple[int, int], list[QRectF]] = {}
        for k in inside[:LABELS_MAX].tolist():
            text = self.texts[k]
            box = QRectF(metrics.boundingRect(text)).adjusted(-3, -1, 3, 1)
            box.moveCenter(transform.map(QPointF(self.xy[k, 0], self.xy[k, 1])))
            keys = [(i, j) for i in range(int(box.left() // cell), int(box.right() // cell) + 1)
                    for j in range(int(box.top() // cell), int(box.bottom() // cell) + 1)]
            if any(box.intersects(o) for key in keys for o in placed.get(key, ())):
                continue
            for key in keys:
                placed.setdefault(key, []).append(box)
            painter.fillRect(box, background)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


def install(scene: FloorScene) -> dict[str, Overlay]:
    """Put the three solver overlays on ``scene`` (hidden; the Layers dock turns them on)."""
    made: dict[str, Overlay] = {
        TRAY_FILL: TrayFillOverlay(scene),
        POWER_LOAD: PowerOverlay(scene),
        HEAT_MAP: HeatMapOverlay(scene),
    }
    for name, overlay in made.items():
        if scene.overlay(name) is None:
            scene.set_overlay_visible(name, False)
            scene.set_overlay(name, overlay)
    return {name: scene.overlay(name) for name in made}  # type: ignore[misc]


__all__ = [
    "HEAT_MAP",
    "POWER_LOAD",
    "SOLVER_OVERLAYS",
    "TRAY_FILL",
    "HeatMapOverlay",
    "Legend",
    "LegendView",
    "PowerOverlay",
    "TrayFillOverlay",
    "install",
]
