"""Pictures of the floor plan: PNG (QImage) and SVG (QSvgGenerator), drawn with QPainter.

Owns how a project looks on paper: the hall's floor and holes, obstacles by
kind, cable trays, equipment by kind (front edge marked), optional overlays,
a title, a scale bar and a legend. Reports use :func:`paint_plan` to put the
same picture on a PDF page; the GUI may use :func:`render_png` for File →
Export Picture.

Uses Qt's GUI module only (QPainter on a QImage, QSvgGenerator from QtSvg),
never widgets and never ``gui/``: equipment colours and titles are
:mod:`layout.kinds`'s, as on the canvas; the floor and obstacle colours below
repeat the canvas's (``gui.canvas.scene``) by value. A
QGuiApplication is created, on the offscreen platform, when none exists.

Drawing is batched from the model's numpy arrays: one ``drawRects`` per
kind for racks at quarter turns (nearly all of them), polygons only for the
few turned otherwise, one path per obstacle kind, one path per link tier.

Overlays (``overlays=``):

- ``links``: every fabric link bundle as a line between rack centres,
  coloured by tier (as the canvas's links overlay).
- ``fill``: trays coloured by their fullest point (green → amber → red at
  the fill limit), from :func:`physics.cabling.route`.
- ``violations``: items named by an error or warning of a full check,
  outlined in red (errors) or amber (warnings).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from layout.errors import one_line
from layout.geometry import axis_aligned_rects
from layout.kinds import EQUIPMENT_KINDS, UNKNOWN_COLOUR, kind_info
from layout.project import Project
from report.bom import ExportError
from report.safe_text import printable

OUTSIDE_COLOUR = "#c9cdd3"
FLOOR_COLOUR = "#f5f3ee"
FLOOR_EDGE_COLOUR = "#4a4f57"
OBSTACLE_COLOURS = {
    "column": ("#6b6f76", 255),
    "wall": ("#3f434a", 255),
    "keepout": ("#d64541", 70),
}
OBSTACLE_LABELS = {"column": "Columns", "wall": "Walls", "keepout": "Keep-out zones"}
TRAY_COLOUR = ("#e0a458", 150)
LINK_COLOURS = {"gpu-leaf": "#e8590c", "leaf-spine": "#2b8a3e", "spine-core": "#c2255c"}
SEVERITY_COLOURS = {"error": "#e0201b", "warning": "#e8a317"}
OVERHEAD_ALPHA = 110
OVERLAYS = ("links", "fill", "violations")
EXTENTS = ("all", "hall")

DEFAULT_PX_PER_M = 10.0
MAX_SIDE_PX = 30_000
MAX_PIXELS = 300_000_000
"""A 30,000 px square picture is 3.6 GB of pixels; refuse before allocating."""
MARGIN_PX = 24
TITLE_PX = 40
FOOTER_PX = 56
LEGEND_W_PX = 190


@dataclass(frozen=True)
class PlanGeometry:
    """Where the plan lands in the picture: ``px = (x - x0) × scale + left``."""

    x0: float
    y0: float
    x1: float
    y1: float
    px_per_m: float
    width_px: int
    height_px: int
    left: float
    top: float

    def to_px(self, x: Any, y: Any) -> tuple[Any, Any]:
        return (
            (np.asarray(x) - self.x0) * self.px_per_m + self.left,
            (np.asarray(y) - self.y0) * self.px_per_m + self.top,
        )


def ensure_gui_app() -> Any:
    """The running QGuiApplication, or a new one on the offscreen platform."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is None:
        # Exports run headless (CI, servers): never ask for a display.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QGuiApplication([])
    return app


def plan_bounds(project: Project, extent: str = "all") -> tuple[float, float, float, float]:
    """The floor's bounds, grown to hold every item with ``extent="all"`` (yard units
    stand outside the hall); ``"hall"`` keeps to the floor."""
    x0, y0, x1, y1 = project.floor.bounds
    if len(project.items) and extent == "all":
        fx0, fy0, fx1, fy1 = shapely_bounds(project.footprints())
        x0, y0, x1, y1 = min(x0, fx0), min(y0, fy0), max(x1, fx1), max(y1, fy1)
    return x0, y0, x1, y1


def shapely_bounds(geometries: np.ndarray) -> tuple[float, float, float, float]:
    import shapely

    b = shapely.bounds(geometries)
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def plan_geometry(
    project: Project, px_per_m: float = DEFAULT_PX_PER_M, extent: str = "all"
) -> PlanGeometry:
    """The picture's size and the plan's place in it at ``px_per_m``.

    Raises
    ------
    ExportError
        The scale is not a positive number or the picture would be absurdly large.
    """
    if not (math.isfinite(px_per_m) and 0 < px_per_m <= 1000):
        raise ExportError(f"--scale: {px_per_m:g} px per metre is outside 0..1000")
    if extent not in EXTENTS:
        raise ExportError(f"--extent: expected {' or '.join(EXTENTS)}, got {extent!r}")
    x0, y0, x1, y1 = plan_bounds(project, extent)
    plan_w, plan_h = (x1 - x0) * px_per_m, (y1 - y0) * px_per_m
    width = math.ceil(plan_w + 2 * MARGIN_PX + LEGEND_W_PX)
    height = math.ceil(max(plan_h, 220) + TITLE_PX + FOOTER_PX + MARGIN_PX)
    if max(width, height) > MAX_SIDE_PX or width * height > MAX_PIXELS:
        raise ExportError(
            f"--scale: at {px_per_m:g} px per metre the picture would be {width:,} x {height:,} px;"
            f" use a smaller scale"
        )
    return PlanGeometry(x0, y0, x1, y1, px_per_m, width, height, MARGIN_PX, TITLE_PX)


def render_png(
    project: Project, path: str | Path, px_per_m: float = DEFAULT_PX_PER_M,
    overlays: Sequence[str] = (), extent: str = "all",
) -> PlanGeometry:  # fmt: skip
    """Draw the plan to a PNG file; returns where the plan lies in the picture."""
    from PySide6.QtCore import QBuffer, QIODevice
    from PySide6.QtGui import QImage, QPainter

    _check_overlays(overlays)
    ensure_gui_app()
    geometry = plan_geometry(project, px_per_m, extent)
    image = QImage(geometry.width_px, geometry.height_px, QImage.Format.Format_ARGB32)
    if image.isNull():
        raise ExportError(
            f"not enough memory for a {geometry.width_px:,} x {geometry.height_px:,} px picture"
        )
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    try:
        paint_plan(painter, project, geometry, overlays)
    finally:
        painter.end()
    path = Path(path)
    problem = _why(path)
    if problem:
        raise ExportError(f"{one_line(str(path))}: cannot write the PNG ({problem})")
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # PySide6 takes the format as text at run time although its stubs say bytes.
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
        raise ExportError(f"{one_line(str(path))}: cannot encode the PNG")
    _write_file(path, bytes(buffer.data().data()), "PNG")
    return geometry


def render_svg(
    project: Project, path: str | Path, px_per_m: float = DEFAULT_PX_PER_M,
    overlays: Sequence[str] = (), extent: str = "all",
) -> PlanGeometry:  # fmt: skip
    """Draw the plan to an SVG file (same picture as :func:`render_png`, as vectors)."""
    from PySide6.QtCore import QBuffer, QIODevice, QRect, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    _check_overlays(overlays)
    ensure_gui_app()
    geometry = plan_geometry(project, px_per_m, extent)
    path = Path(path)
    problem = _why(path)
    if problem:
        raise ExportError(f"{one_line(str(path))}: cannot write the SVG ({problem})")
    # Drawn in memory and written here, so that a failing write (a full disk) is
    # reported with the system's reason rather than lost inside Qt.
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(geometry.width_px, geometry.height_px))
    generator.setResolution(96)  # CSS pixels: browsers show the picture at its pixel size
    generator.setViewBox(QRect(0, 0, geometry.width_px, geometry.height_px))
    generator.setTitle(printable(project.name))
    generator.setDescription("Floor plan exported by Coherence")
    painter = QPainter()
    if not painter.begin(generator):
        raise ExportError(f"{one_line(str(path))}: cannot write the SVG")
    try:
        paint_plan(painter, project, geometry, overlays)
    finally:
        painter.end()
    _write_file(path, bytes(buffer.data().data()), "SVG")
    return geometry


def _why(path: Path) -> str:
    """Why ``path`` cannot be written, as far as it shows before writing ("" if it may be)."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        return f"no folder {parent}"
    if path.is_dir():
        return "it is a folder"
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "permission denied"
    return ""


def _write_file(path: Path, data: bytes, what: str) -> None:
    """Write a finished picture; a failure names the system's reason (no space left on device)."""
    try:
        with path.open("wb") as f:
            f.write(data)
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
        raise ExportError(f"{one_line(str(path))}: cannot write the {what} ({reason})") from None


def _check_overlays(overlays: Sequence[str]) -> None:
    for name in overlays:
        if name not in OVERLAYS:
            raise ExportError(f"--overlay: unknown overlay {name!r} ({', '.join(OVERLAYS)})")


# -- painting ------------------------------------------------------------------------------


def paint_plan(
    painter: Any, project: Project, geometry: PlanGeometry, overlays: Sequence[str] = ()
) -> None:
    """Paint the whole picture (plan, title, scale bar, legend) into ``painter``'s device."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QPainter, QTransform

    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    g = geometry
    plan_rect = QRectF(g.left, g.top, (g.x1 - g.x0) * g.px_per_m, (g.y1 - g.y0) * g.px_per_m)
    painter.fillRect(QRectF(0, 0, g.width_px, g.height_px), QColor("#ffffff"))
    painter.fillRect(plan_rect, QColor(OUTSIDE_COLOUR))
    world = QTransform()
    world.translate(g.left - g.x0 * g.px_per_m, g.top - g.y0 * g.px_per_m)
    world.scale(g.px_per_m, g.px_per_m)
    painter.save()
    painter.setClipRect(plan_rect)
    painter.setWorldTransform(world)
    _paint_floor(painter, project)
    _paint_trays(painter, project, "fill" in overlays)
    kinds = _paint_equipment(painter, project, g)
    if "links" in overlays:
        _paint_links(painter, project)
    if "violations" in overlays:
        _paint_violations(painter, project)
    painter.restore()
    painter.setPen(QColor(FLOOR_EDGE_COLOUR))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(plan_rect)
    _paint_title(painter, project, g)
    _paint_scale_bar(painter, g)
    _paint_legend(painter, project, g, kinds, overlays)


def _pen(colour: Any, width_px: float = 1.0) -> Any:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPen

    pen = QPen(colour, width_px)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    return pen


def _colour(hex_colour: str, alpha: int = 255) -> Any:
    from PySide6.QtGui import QColor

    colour = QColor(hex_colour)
    colour.setAlpha(alpha)
    return colour


def polygon_path(geometry: Any) -> Any:
    """A QPainterPath for a shapely polygon or multipolygon, holes included (odd-even fill)."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QPainterPath, QPolygonF

    path = QPainterPath()
    path.setFillRule(Qt.FillRule.OddEvenFill)
    for polygon in getattr(geometry, "geoms", [geometry]):
        if polygon.is_empty or not hasattr(polygon, "exterior"):
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            path.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in ring.coords]))
            path.closeSubpath()
    return path


def _paint_floor(painter: Any, project: Project) -> None:
    from PySide6.QtCore import Qt

    floor = project.floor
    painter.setPen(_pen(_colour(FLOOR_EDGE_COLOUR), 1.5))
    painter.setBrush(_colour(FLOOR_COLOUR))
    painter.drawPath(polygon_path(floor.outline))
    by_kind: dict[str, list[Any]] = {}
    for obstacle in floor.obstacles:
        by_kind.setdefault(obstacle.kind, []).append(obstacle.polygon)
    for kind, polygons in sorted(by_kind.items()):
        colour, alpha = OBSTACLE_COLOURS.get(kind, (UNKNOWN_COLOUR, 255))
        painter.setBrush(_colour(colour, alpha))
        edge = _pen(_colour("#1d1f23"), 1.0)
        if kind == "keepout":
            edge.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(edge)
        import shapely

        painter.drawPath(polygon_path(shapely.MultiPolygon(_flat_polygons(polygons))))


def _flat_polygons(polygons: list[Any]) -> list[Any]:
    out: list[Any] = []
    for p in polygons:
        out.extend(getattr(p, "geoms", [p]))
    return out


def _tray_fill(project: Project) -> dict[str, tuple[float, float]]:
    from physics.cabling import route

    result = route(project)
    if result is None:
        return {}
    return {
        sid: (float(f), result.fill_limit)
        for sid, f in zip(result.segment_ids, result.fill, strict=True)
    }


def _fill_colour(fill: float, limit: float) -> Any:
    ratio = fill / limit if limit > 0 else 0.0
    if ratio > 1.0:
        return _colour("#d32f2f", 220)
    if ratio > 0.8:
        return _colour("#e8a317", 200)
    return _colour("#2b8a3e", 90 + int(110 * ratio))


def _paint_trays(painter: Any, project: Project, by_fill: bool) -> None:
    from PySide6.QtCore import QLineF, QPointF, Qt
    from PySide6.QtGui import QPen

    segments = project.trays.segments
    if not segments:
        return
    fill = _tray_fill(project) if by_fill else {}
    groups: dict[tuple[float, str], list[Any]] = {}
    for s in segments:
        key = (s.width_m, s.id if s.id in fill else "")
        groups.setdefault(key, []).append(QLineF(QPointF(*s.a), QPointF(*s.b)))
    for (width, sid), lines in groups.items():
        colour = _fill_colour(*fill[sid]) if sid else _colour(*TRAY_COLOUR)
        pen = QPen(colour, width)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        painter.setPen(pen)
        painter.drawLines(lines)


def _quarter_rects(project: Project) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which items stand at a quarter turn, their footprint and front-mark rectangles."""
    items = project.items
    width, depth = project.sizes()
    return axis_aligned_rects(items.x, items.y, width, depth, items.rotation)


def _paint_equipment(painter: Any, project: Project, g: PlanGeometry) -> list[str]:
    """Footprints by kind (floor units first, overhead ones as outlines on top)."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QPolygonF

    items = project.items
    if not len(items):
        return []
    kinds = project.kinds()
    catalog = project.catalog
    mounting = {t: getattr(catalog[t], "mounting", "floor") for t in set(items.type_ids)}
    overhead = np.fromiter((mounting[t] == "overhead" for t in items.type_ids), bool, len(items))
    quarter, rects, fronts = _quarter_rects(project)
    px_per_m = g.px_per_m
    # Items off the picture (the yard, with extent="hall") are left out rather than
    # clipped: SVG viewers do not all honour the generator's clip.
    left, top, w, d = rects.T
    shown = (left <= g.x1) & (left + w >= g.x0) & (top <= g.y1) & (top + d >= g.y0)
    footprints = None
    groups = sorted(
        {(bool(o), str(k)) for o, k, s in zip(overhead, kinds, shown, strict=True) if s}
    )
    for above, kind in groups:
        base = _colour(kind_info(kind).colour)
        rows = (kinds == kind) & (overhead == above) & shown
        straight = np.flatnonzero(rows & quarter)
        turned = np.flatnonzero(rows & ~quarter)
        if above:
            # Overhead runs (busways) hang over the racks, two per row (A and B
            # feeds): an outline only, so the racks under them keep their colour.
            pen = _pen(base.darker(115), 1.0)
            pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(_no_brush())
        else:
            # Zoomed out, a light edge keeps neighbouring racks apart without
            # darkening them; zoomed in, the canvas's darker edge.
            edge = base.darker(150) if px_per_m >= 25 else base.lighter(135)
            painter.setPen(_pen(edge, 0.8))
            painter.setBrush(base)
        painter.drawRects([QRectF(*r) for r in rects[straight].tolist()])
        if len(turned):
            if footprints is None:
                footprints = project.footprints()
            import shapely

            for polygon in footprints[turned]:
                coords = shapely.get_coordinates(polygon)
                painter.drawPolygon(QPolygonF([QPointF(px, py) for px, py in coords.tolist()]))
        if px_per_m >= 6 and not above:
            painter.setPen(_no_pen())
            painter.setBrush(base.darker(170))
            painter.drawRects([QRectF(*r) for r in fronts[straight].tolist()])
    return sorted({k for _, k in groups}, key=lambda k: list(EQUIPMENT_KINDS).index(k)
                  if k in EQUIPMENT_KINDS else 99)  # fmt: skip


def _no_pen() -> Any:
    from PySide6.QtCore import Qt

    return Qt.PenStyle.NoPen


def _paint_links(painter: Any, project: Project) -> None:
    from PySide6.QtCore import QLineF, QPointF

    from layout.errors import CoherenceError
    from physics.fabric import LINK_TIERS, derive

    try:
        fabric = derive(project)
    except CoherenceError:
        return
    if fabric is None:
        return
    x, y = project.items.x, project.items.y
    for tier in LINK_TIERS:
        bundle = fabric.links[tier]
        if not len(bundle.a):
            continue
        painter.setPen(_pen(_colour(LINK_COLOURS[tier], 90), 0.8))
        lines = [
            QLineF(QPointF(float(x[a]), float(y[a])), QPointF(float(x[b]), float(y[b])))
            for a, b in zip(bundle.a.tolist(), bundle.b.tolist(), strict=True)
        ]
        painter.drawLines(lines)


def _paint_violations(painter: Any, project: Project) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QPolygonF

    from physics import check

    results = check(project)
    flagged: dict[str, str] = {}
    for v in results.violations:
        if v.severity not in SEVERITY_COLOURS:
            continue
        for item_id in v.items:
            if item_id in project.items and flagged.get(item_id) != "error":
                flagged[item_id] = v.severity
    if not flagged:
        return
    import shapely

    footprints = project.footprints()
    painter.setBrush(_no_brush())
    for severity in ("warning", "error"):
        rows = [project.items.row(i) for i, s in flagged.items() if s == severity]
        if not rows:
            continue
        painter.setPen(_pen(_colour(SEVERITY_COLOURS[severity]), 2.0))
        for polygon in footprints[rows]:
            coords = shapely.get_coordinates(polygon)
            painter.drawPolygon(QPolygonF([QPointF(px, py) for px, py in coords.tolist()]))


def _no_brush() -> Any:
    from PySide6.QtCore import Qt

    return Qt.BrushStyle.NoBrush


def _font(px: int, bold: bool = False) -> Any:
    from PySide6.QtGui import QFont

    font = QFont()
    font.setPixelSize(px)
    font.setBold(bold)
    return font


def _paint_title(painter: Any, project: Project, g: PlanGeometry) -> None:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor

    painter.setPen(QColor("#1d1f23"))
    painter.setFont(_font(16, bold=True))
    x0, y0, x1, y1 = project.floor.bounds
    gpus = project.gpu_count()
    subtitle = (
        f"hall {x1 - x0:.1f} × {y1 - y0:.1f} m · {gpus:,} GPUs · {len(project.items):,} items"
    )
    rect = QRectF(g.left, 6, g.width_px - 2 * g.left, TITLE_PX - 8)
    flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    # The name reaches the SVG as text: XML has no control characters.
    name = printable(project.name)
    metrics_width = painter.fontMetrics().horizontalAdvance(name)
    painter.drawText(rect, flags, name)
    painter.setFont(_font(12))
    painter.setPen(QColor("#4a4f57"))
    painter.drawText(rect.adjusted(metrics_width + 16, 0, 0, 0), flags, subtitle)


def nice_length(target_m: float) -> float:
    """The 1, 2 or 5 × 10^k metres nearest below ``target_m``."""
    if target_m <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(target_m))
    for step in (5, 2, 1):
        if step * power <= target_m:
            return step * power
    return power


def _paint_scale_bar(painter: Any, g: PlanGeometry) -> None:
    from PySide6.QtCore import QPointF, QRectF
    from PySide6.QtGui import QColor

    length_m = nice_length(160 / g.px_per_m)
    bar_px = length_m * g.px_per_m
    x = g.left
    y = g.height_px - FOOTER_PX / 2
    dark = QColor("#1d1f23")
    painter.setPen(_pen(dark, 1.0))
    for k in range(4):
        painter.setBrush(dark if k % 2 == 0 else QColor("#ffffff"))
        painter.drawRect(QRectF(x + k * bar_px / 4, y - 4, bar_px / 4, 8))
    painter.setFont(_font(11))
    painter.setPen(dark)
    label = f"{length_m:g} m" if length_m >= 1 else f"{length_m * 100:g} cm"
    painter.drawText(QPointF(x, y - 8), "0")
    width = painter.fontMetrics().horizontalAdvance(label)
    painter.drawText(QPointF(x + bar_px - width / 2, y - 8), label)
    painter.drawText(QPointF(x + bar_px + 14, y + 4), f"scale {g.px_per_m:g} px/m · north up")


def _paint_legend(
    painter: Any, project: Project, g: PlanGeometry, kinds: list[str], overlays: Sequence[str]
) -> None:
    from PySide6.QtCore import QPointF, QRectF
    from PySide6.QtGui import QColor

    entries: list[tuple[str, Any, str]] = []  # (label, colour, shape: box|line)
    entries.append(("Floor", _colour(FLOOR_COLOUR), "box"))
    for kind in kinds:
        entries.append((kind_info(kind).title, _colour(kind_info(kind).colour), "box"))
    for kind in sorted({o.kind for o in project.floor.obstacles}):
        colour, alpha = OBSTACLE_COLOURS.get(kind, (UNKNOWN_COLOUR, 255))
        entries.append((OBSTACLE_LABELS.get(kind, kind), _colour(colour, alpha), "box"))
    if project.trays.segments:
        if "fill" in overlays:
            entries.append(("Tray fill < 80 %", _fill_colour(0.4, 1.0), "line"))
            entries.append(("Tray fill 80–100 %", _fill_colour(0.9, 1.0), "line"))
            entries.append(("Tray over fill limit", _fill_colour(1.2, 1.0), "line"))
        else:
            entries.append(("Cable trays", _colour(*TRAY_COLOUR), "line"))
    if "links" in overlays:
        for tier, colour in LINK_COLOURS.items():
            entries.append((f"Links {tier}", _colour(colour), "line"))
    if "violations" in overlays:
        entries.append(("Error", _colour(SEVERITY_COLOURS["error"]), "outline"))
        entries.append(("Warning", _colour(SEVERITY_COLOURS["warning"]), "outline"))
    x = g.width_px - LEGEND_W_PX + 6
    y = float(g.top)
    painter.setFont(_font(12, bold=True))
    painter.setPen(QColor("#1d1f23"))
    painter.drawText(QPointF(x, y + 12), "Legend")
    painter.setFont(_font(11))
    y += 24
    for label, colour, shape in entries:
        swatch = QRectF(x, y, 16, 12)
        if shape == "box":
            painter.setPen(
                _pen(colour.darker(150) if colour.alpha() == 255 else QColor("#1d1f23"), 1)
            )
            painter.setBrush(colour)
            painter.drawRect(swatch)
        elif shape == "outline":
            painter.setPen(_pen(colour, 2))
            painter.setBrush(_no_brush())
            painter.drawRect(swatch)
        else:
            painter.setPen(_pen(colour, 4))
            painter.drawLine(QPointF(x, y + 6), QPointF(x + 16, y + 6))
        painter.setPen(QColor("#1d1f23"))
        painter.drawText(QPointF(x + 24, y + 11), label)
        y += 20
