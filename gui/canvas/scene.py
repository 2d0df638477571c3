"""The floor-plan scene: a hall's floor, obstacles and placed equipment, drawn in metres.

Owns how a :class:`~layout.project.Project` looks on the canvas. One scene unit
is one metre; x runs right and y down, as in the model, so model coordinates
are scene coordinates without conversion.

The scene observes the project through its events (``item_added``,
``item_removed``, ``item_moved``, ``item_changed``, ``settings_changed``) and
keeps one dict from item id to :class:`EquipmentItem`. It must never change
the model: graphics items are selectable but not movable; edits come through
commands from ``layout.commands``, pushed by :mod:`gui.canvas.editor` and the mouse
modes of :mod:`gui.canvas.modes`.

Hit tests (:meth:`FloorScene.item_id_at`, :meth:`FloorScene.item_ids_in`) ask
the project's :class:`~physics.placement.PlacementIndex` (an STRtree over the
model's footprints, shared with the editor) rather than Qt's item index,
because items drawn by the overview are fully transparent and Qt's own
queries skip those.

Signals: ``selection_ids_changed(list)`` (the ids of the selected items, after
any selection change; bulk changes emit once), ``item_double_clicked(str)`` and
``context_menu_requested(str, QPoint)`` (a right click: the item under it, or
"" over bare floor, and the screen position; the shell builds the menu).
Overlays (:mod:`gui.canvas.overlays`) are kept by name above the equipment; the
scene installs ``"links"``, and ``"underlay"`` (:mod:`gui.canvas.underlay`, below the
obstacles and equipment) while the floor names an underlay drawing. The
drawing is read once per floor change (not at all when the file, its
placement and its folder are unchanged); a relative underlay path is taken
from ``underlay_dir``, the folder of the project's file. When it cannot be
drawn (missing file, not a DXF, no placement) the floor shows without it and
``underlay_status(str)`` carries the one-line reason for the status bar.

Drawing at Colossus scale (tens of thousands of racks) stays cheap because

- the floor fill and the tile grid are painted in :meth:`FloorScene.drawBackground`
  from paths made once per floor (the view caches the background pixmap too),
  and grid lines are skipped when they would be closer than :data:`GRID_MIN_PX`;
- equipment is indexed by a BSP tree (racks rarely move) and each item paints
  with pens, brushes and rectangles made once per equipment type, never per
  paint; labels and the front mark are dropped when zoomed out;
- when the view is zoomed out so far that racks are a few pixels wide, it
  calls :meth:`FloorScene.set_overview`: the items are made fully transparent
  (Qt then skips them without a paint call, and keeps their selection) and one
  :class:`EquipmentOverview` draws every footprint from the model's arrays in a
  few ``drawRects`` calls. A Python ``paint`` per item costs about 8 µs, far
  too much for 20,000 racks in a 30 ms repaint;
- every pen is cosmetic, so outlines stay one pixel wide at any zoom.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
import shiboken6
from PySide6.QtCore import QObject, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSceneContextMenuEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from gui.canvas.overlays import LinksOverlay, OverlaySet
from gui.canvas.underlay import UnderlayOverlay
from gui.icons import kind_colour
from layout.floor import Floor
from layout.geometry import axis_aligned_rects, front_mark_depth, front_strips
from layout.items import ItemStore
from layout.project import Project
from layout.underlay import UnderlayError, describe, read_linework, resolve
from physics.engine import Violation
from physics.placement import PlacementIndex
from report.safe_text import literal_markup

# -- look ------------------------------------------------------------------------------
OUTSIDE_COLOUR = QColor("#c9cdd3")
"""Everything that is not floor: around the hall and in its holes."""
FLOOR_COLOUR = QColor("#f5f3ee")
FLOOR_EDGE_COLOUR = QColor("#4a4f57")
GRID_COLOUR = QColor("#e1ddd3")
OBSTACLE_COLOURS: dict[str, QColor] = {
    "column": QColor("#6b6f76"),
    "wall": QColor("#3f434a"),
    "keepout": QColor(214, 69, 65, 70),
}
VIOLATION_COLOUR = QColor("#e0201b")
SELECTION_COLOUR = QColor("#111111")

GRID_MIN_PX = 4.0
"""Grid lines closer together than this on screen are not drawn."""
FRONT_MARK_MIN_PX = 1.5
"""The front mark is drawn once it would be at least this many pixels deep."""
LABEL_MIN_LOD = 45.0
"""Pixels per metre from which item labels are drawn (a 0.6 m rack is 27 px wide)."""
LABEL_FONT_PX = 10
OVERVIEW_BELOW_PX_PER_M = 12.0
"""Below this scale (a 0.6 m rack under 7 px wide) equipment is drawn batched."""
OVERVIEW_MAX_OUTLINES = 1000
"""Selections larger than this are only tinted in the overview, not outlined."""

Z_OBSTACLE = 10.0
Z_OUTLINE = 20.0
Z_EQUIPMENT = 30.0
Z_OBSTACLE_EDGE = 40.0
Z_GHOST = 60.0
DIMMED_OPACITY = 0.3
"""Opacity of items left behind while their ghost is dragged."""


def cosmetic_pen(colour: QColor, width_px: float = 1.0, style: Qt.PenStyle | None = None) -> QPen:
    pen = QPen(colour, width_px)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    if style is not None:
        pen.setStyle(style)
    return pen


_VIOLATION_PEN = cosmetic_pen(VIOLATION_COLOUR, 2.0)
_SELECTION_PEN = cosmetic_pen(SELECTION_COLOUR, 2.0)
_LABEL_PEN = QPen(QColor("#ffffff"))
_OVERVIEW_SELECTED_BRUSH = QBrush(QColor(255, 255, 255, 120))
_GRID_PEN = cosmetic_pen(GRID_COLOUR)
_OBSTACLE_EDGE_PEN = cosmetic_pen(QColor("#1d1f23"), 1.0, Qt.PenStyle.DashLine)
_label_font: QFont | None = None


def _font() -> QFont:
    # A QFont needs the QGuiApplication, which may not exist when this module is imported.
    global _label_font  # noqa: PLW0603
    if _label_font is None:
        _label_font = QFont()
        _label_font.setPixelSize(LABEL_FONT_PX)
    return _label_font


@dataclass(frozen=True)
class _TypeStyle:
    """Everything an item of one equipment type needs to paint, made once per type."""

    rect: QRectF
    front: QRectF
    brush: QBrush
    front_brush: QBrush
    selected_brush: QBrush
    pen: QPen
    kind: str
    type_name: str


OVERHEAD_ALPHA = 110
"""Overhead units (busways) are see-through: the racks under them stay visible."""


def equipment_colour(kind: str, mounting: str) -> QColor:
    """The fill colour of a unit of ``kind`` standing at ``mounting``."""
    colour = kind_colour(kind)
    if mounting == "overhead":
        colour.setAlpha(OVERHEAD_ALPHA)
    return colour


def _make_style(equipment_type: object) -> _TypeStyle:
    footprint = equipment_type.footprint  # type: ignore[attr-defined]
    kind = equipment_type.kind  # type: ignore[attr-defined]
    w, d = footprint.width_m, footprint.depth_m
    colour = equipment_colour(kind, getattr(equipment_type, "mounting", "floor"))
    return _TypeStyle(
        rect=QRectF(-w / 2, -d / 2, w, d),
        front=QRectF(-w / 2, -d / 2, w, float(front_mark_depth(d))),
        brush=QBrush(colour),
        front_brush=QBrush(colour.darker(170)),
        selected_brush=QBrush(colour.lighter(140)),
        pen=cosmetic_pen(colour.darker(150)),
        kind=kind,
        type_name=equipment_type.name,  # type: ignore[attr-defined]
    )


class EquipmentItem(QGraphicsItem):
    """One placed unit: its footprint centred on its position, front (-y) marked.

    It shows the model and never changes it; the scene moves, restyles and
    removes it when the project reports a change.
    """

    def __init__(self, item_id: str, style: _TypeStyle, name: str) -> None:
        super().__init__()
        self.item_id = item_id
        self._style = style
        self._name = name
        self._violated = False
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setZValue(Z_EQUIPMENT)
        self._update_tooltip()

    # -- state set by the scene ----------------------------------------------------
    @property
    def kind(self) -> str:
        return self._style.kind

    @property
    def name(self) -> str:
        return self._name

    @property
    def violated(self) -> bool:
        return self._violated

    def set_violated(self, violated: bool) -> None:
        if violated != self._violated:
            self._violated = violated
            self.update()

    def set_style(self, style: _TypeStyle) -> None:
        if style.rect != self._style.rect:
            self.prepareGeometryChange()
        self._style = style
        self._update_tooltip()
        self.update()

    def set_name(self, name: str) -> None:
        self._name = name
        self._update_tooltip()
        self.update()

    def _update_tooltip(self) -> None:
        title = f"{self._name} ({self.item_id})" if self._name else self.item_id
        self.setToolTip(literal_markup(f"{title}\n{self._style.type_name}"))

    # -- QGraphicsItem -------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return self._style.rect

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        style = self._style
        selected = self.isSelected()
        if self._violated:
            painter.setPen(_VIOLATION_PEN)
        elif selected:
            painter.setPen(_SELECTION_PEN)
        else:
            painter.setPen(style.pen)
        painter.setBrush(style.selected_brush if selected else style.brush)
        painter.drawRect(style.rect)
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if lod * style.front.height() >= FRONT_MARK_MIN_PX:
            painter.fillRect(style.front, style.front_brush)
        if lod >= LABEL_MIN_LOD:
            self._paint_label(painter, lod)

    def _paint_label(self, painter: QPainter, lod: float) -> None:
        """The id in screen-sized text along the item's long side, never upside down."""
        rect = self._style.rect
        along_depth = rect.height() > rect.width()
        turn = -90.0 if along_depth else 0.0
        # Vertical text reads bottom to top, horizontal text left to right.
        if 90.0 <= (self.rotation() + turn) % 360.0 < 270.0:
            turn += 180.0
        length_px = (rect.height() if along_depth else rect.width()) * lod
        across_px = (rect.width() if along_depth else rect.height()) * lod
        painter.save()
        painter.scale(1.0 / lod, 1.0 / lod)
        painter.rotate(turn)
        painter.setPen(_LABEL_PEN)
        painter.setFont(_font())
        text = painter.fontMetrics().elidedText(
            self.item_id, Qt.TextElideMode.ElideRight, int(length_px - 4)
        )
        painter.drawText(
            QRectF(-length_px / 2, -across_px / 2, length_px, across_px),
            Qt.AlignmentFlag.AlignCenter,
            text,
        )
        painter.restore()


@dataclass
class _Batch:
    """Footprints of one kind for the overview: axis-aligned rectangles plus turned polygons."""

    brush: QBrush
    front_brush: QBrush
    rects: list[QRectF]
    fronts: list[QRectF]
    polygons: list[QPolygonF]
    front_polygons: list[QPolygonF]


@dataclass
class _Overview:
    """The overview's batches plus where each item row sits in them, for patching moves."""

    batches: list[_Batch]
    batch_of: np.ndarray
    """Per row: the batch holding its rectangle, or -1 when it is drawn as a polygon."""
    slot_of: np.ndarray
    """Per row: its index in that batch's ``rects`` and ``fronts``."""
    width: np.ndarray
    depth: np.ndarray


OVERVIEW_PATCH_MAX = 2000
"""Moves of up to this many items patch the overview's rectangles instead of rebuilding."""
HIGHLIGHT_PATCH_MAX = 200
"""Selection and violation marks changing on up to this many rectangles repaint only those."""


def _count(highlights: tuple[list[QRectF], list[QRectF]]) -> int:
    return len(highlights[0]) + len(highlights[1])


class EquipmentOverview(QGraphicsItem):
    """Every item's footprint and front mark, batched by kind, for a zoomed-out view.

    Built lazily from the project's arrays after any change; selected and
    flagged items are drawn on top from their graphics items' rectangles.
    """

    def __init__(self, scene: FloorScene) -> None:
        super().__init__()
        self._scene = scene
        self._built: _Overview | None = None
        self._highlights: tuple[list[QRectF], list[QRectF]] | None = None
        self._bounds = QRectF()
        self.setZValue(Z_EQUIPMENT)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def invalidate(self) -> None:
        """The items changed: rebuild everything at the next paint."""
        self.prepareGeometryChange()
        self._bounds = self._scene.content_rect()
        self._built = None
        self._highlights = None
        self.update()

    def items_moved(self, rows: np.ndarray) -> None:
        """Items at ``rows`` moved or turned: patch their rectangles when that is exact
        (a few axis-aligned items), else rebuild at the next paint. A 20,000-rack rebuild
        costs about 250 ms, a patch microseconds."""
        built = self._built
        if built is None or len(rows) > OVERVIEW_PATCH_MAX or (built.batch_of[rows] < 0).any():
            self.invalidate()
            return
        store = self._scene.project.items
        quarter, rects, fronts = axis_aligned_rects(
            store.x[rows], store.y[rows], built.width[rows], built.depth[rows],
            store.rotation[rows],
        )  # fmt: skip
        if not quarter.all():
            self.invalidate()
            return
        for row, rect, front in zip(rows.tolist(), rects.tolist(), fronts.tolist(), strict=True):
            batch = built.batches[built.batch_of[row]]
            slot = built.slot_of[row]
            batch.rects[slot] = QRectF(*rect)
            batch.fronts[slot] = QRectF(*front)
        self.prepareGeometryChange()
        self._bounds = self._scene.content_rect()
        self._highlights = None
        self.update()

    def invalidate_highlights(self) -> None:
        """Selection or violation marks changed: repaint where they were and where they are
        now. Repainting the whole overview for a click on one rack cost a full-view
        repaint (35-40 ms at a million GPUs); many marks still repaint it all."""
        old = self._highlights
        self._highlights = None
        if old is None or not self.isVisible() or _count(old) > HIGHLIGHT_PATCH_MAX:
            self.update()
            return
        new = self._scene.highlight_rects()
        if _count(new) > HIGHLIGHT_PATCH_MAX:
            self.update()
            return
        self._highlights = new
        # The outlines are drawn with a pen two pixels wide around the rectangles.
        margin = 2.0 / max(self._scene.views_scale(), 1e-9)
        changed = {r.getRect() for r in (*old[0], *old[1], *new[0], *new[1])}
        for x, y, w, h in changed:
            self.update(QRectF(x, y, w, h).adjusted(-margin, -margin, margin, margin))

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        if self._built is None:
            self._built = _overview_batches(self._scene.project)
        if self._highlights is None:
            self._highlights = self._scene.highlight_rects()
        painter.setPen(Qt.PenStyle.NoPen)
        for batch in self._built.batches:
            painter.setBrush(batch.brush)
            painter.drawRects(batch.rects)
            for polygon in batch.polygons:
                painter.drawPolygon(polygon)
            painter.setBrush(batch.front_brush)
            painter.drawRects(batch.fronts)
            for polygon in batch.front_polygons:
                painter.drawPolygon(polygon)
        selected, violated = self._highlights
        painter.setBrush(_OVERVIEW_SELECTED_BRUSH)
        # Thousands of wide outlines cost tens of milliseconds; a tint alone shows a
        # large selection well enough at this scale.
        painter.setPen(
            _SELECTION_PEN if len(selected) <= OVERVIEW_MAX_OUTLINES else Qt.PenStyle.NoPen
        )
        painter.drawRects(selected)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(_VIOLATION_PEN)
        painter.drawRects(violated)


def _overview_batches(project: Project) -> _Overview:
    """Footprint and front-mark shapes of every item, grouped by kind, from numpy arrays."""
    store = project.items
    n = len(store)
    width, depth = project.sizes()
    batch_of = np.full(n, -1, dtype=np.intp)
    slot_of = np.zeros(n, dtype=np.intp)
    if n == 0:
        return _Overview([], batch_of, slot_of, width, depth)
    kinds = project.kinds()
    x, y = store.x, store.y
    rotation = np.asarray(store.rotation)
    quarter, rects, fronts = axis_aligned_rects(x, y, width, depth, rotation)

    batches = []
    catalog = project.catalog
    mounting = {t: getattr(catalog[t], "mounting", "floor") for t in set(store.type_ids)}
    overhead = np.fromiter((mounting[t] == "overhead" for t in store.type_ids), bool, len(store))
    # Floor units first, overhead ones (see-through) drawn over them.
    groups = sorted({(bool(o), k) for o, k in zip(overhead.tolist(), kinds.tolist(), strict=True)})
    for above, kind in groups:
        colour = equipment_colour(kind, "overhead" if above else "floor")
        of_kind = (kinds == kind) & (overhead == above)
        straight = np.flatnonzero(of_kind & quarter)
        turned = np.flatnonzero(of_kind & ~quarter)
        batch_of[straight] = len(batches)
        slot_of[straight] = np.arange(len(straight))
        batch = _Batch(
            brush=QBrush(colour),
            front_brush=QBrush(colour.darker(170)),
            rects=[QRectF(*r) for r in rects[straight].tolist()],
            fronts=[QRectF(*r) for r in fronts[straight].tolist()],
            polygons=[],
            front_polygons=[],
        )
        if len(turned):
            batch.polygons = _polygons(project.footprints()[turned])
            strips = front_strips(
                x[turned], y[turned], width[turned], depth[turned], rotation[turned]
            )
            batch.front_polygons = _polygons(strips)
        batches.append(batch)
    return _Overview(batches, batch_of, slot_of, width, depth)


def _polygons(geometries: np.ndarray) -> list[QPolygonF]:
    return [
        QPolygonF([QPointF(px, py) for px, py in shapely.get_coordinates(g).tolist()])
        for g in geometries
    ]


def _ring_polygon(coords: Sequence[Sequence[float]]) -> QPolygonF:
    return QPolygonF([QPointF(float(x), float(y)) for x, y in coords])


def polygon_path(geometry: shapely.Geometry) -> QPainterPath:
    """A painter path for a shapely polygon or multipolygon, holes included (odd-even fill)."""
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.OddEvenFill)
    for polygon in getattr(geometry, "geoms", [geometry]):
        if polygon.is_empty:
            continue
        path.addPolygon(_ring_polygon(polygon.exterior.coords))
        path.closeSubpath()
        for hole in polygon.interiors:
            path.addPolygon(_ring_polygon(hole.coords))
            path.closeSubpath()
    return path


class FloorScene(QGraphicsScene):
    """The canvas of one project, in metres. See the module docstring for what it owns.

    Signals
    -------
    selection_ids_changed(ids)
        The selection changed; ``ids`` lists the selected items.
    item_double_clicked(item_id)
        An equipment item was double-clicked (the shell opens its elevation).
    context_menu_requested(item_id, screen_pos)
        A context menu was asked for over ``item_id`` ("" over no item).
    underlay_status(message)
        The underlay cannot be drawn, or was cut to the segment cap: one line.
    layers_changed()
        An overlay came or went (the underlay), so a list of layers is out of date.
    """

    selection_ids_changed = Signal(list)
    item_double_clicked = Signal(str)
    context_menu_requested = Signal(str, QPoint)
    underlay_status = Signal(str)
    layers_changed = Signal()

    def __init__(
        self,
        project: Project,
        parent: QObject | None = None,
        *,
        underlay_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(parent)
        self._underlay_dir: Path | None = None if underlay_dir is None else Path(underlay_dir)
        self.underlay_message = ""
        """The last note about the underlay (empty when it is drawn in full or there is none)."""
        # Racks rarely move: a BSP tree answers the view's "what is in this rectangle".
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.setBackgroundBrush(OUTSIDE_COLOUR)
        self._project: Project | None = None
        self._items: dict[str, EquipmentItem] = {}
        self._styles: dict[str, _TypeStyle] = {}
        self._floor_items: list[QGraphicsItem] = []
        self._floor_path = QPainterPath()
        self._grid_path = QPainterPath()
        self._grid_step_m = 0.0
        self._marked: set[str] = set()
        self._overview_on = False
        self._overview = EquipmentOverview(self)
        self._overview.setVisible(False)
        self.addItem(self._overview)
        self._dimmed: list[str] = []
        self._selection_batch = 0
        self._selection_dirty = False
        self._overlays = OverlaySet(self)
        self.selectionChanged.connect(self._on_selection_changed)
        self.set_project(project, underlay_dir=underlay_dir)
        self.set_overlay("links", LinksOverlay(self))

    # -- the project -------------------------------------------------------------------
    @property
    def project(self) -> Project:
        assert self._project is not None
        return self._project

    def set_project(
        self, project: Project, *, underlay_dir: str | os.PathLike[str] | None = None
    ) -> None:
        """Show ``project`` instead of the current one and follow its events; a relative
        underlay path is taken from ``underlay_dir`` (the working folder when None)."""
        self.detach()
        self._underlay_dir = None if underlay_dir is None else Path(underlay_dir)
        self._project = project
        self._marked.clear()
        self._dimmed.clear()
        self._styles.clear()
        self._rebuild_floor()
        with self.batch_selection():
            self._rebuild_items()
        project.item_added.connect(self._on_items_added)
        project.item_removed.connect(self._on_items_removed)
        project.item_moved.connect(self._on_items_moved)
        project.item_changed.connect(self._on_items_changed)
        project.settings_changed.connect(self._on_settings_changed)
        self._overlays.project_changed()
        # Build the hit-test index once control is back in the event loop, so that the
        # first click does not pay for it; from then on it follows the model's edits.
        QTimer.singleShot(0, self, self._warm_placement_index)

    def _warm_placement_index(self) -> None:
        if self._project is not None:
            self.placement_index()

    def detach(self) -> None:
        """Stop following the project (call before the scene is thrown away)."""
        project = self._project
        if project is None:
            return
        project.item_added.disconnect(self._on_items_added, missing_ok=True)
        project.item_removed.disconnect(self._on_items_removed, missing_ok=True)
        project.item_moved.disconnect(self._on_items_moved, missing_ok=True)
        project.item_changed.disconnect(self._on_items_changed, missing_ok=True)
        project.settings_changed.disconnect(self._on_settings_changed, missing_ok=True)

    # -- lookups -------------------------------------------------------------------------
    def equipment_item(self, item_id: str) -> EquipmentItem | None:
        """The graphics item showing ``item_id``, if the project has it."""
        return self._items.get(item_id)

    def equipment_items(self) -> dict[str, EquipmentItem]:
        """A copy of the id → graphics item map."""
        return dict(self._items)

    def floor_rect(self) -> QRectF:
        """The floor outline's bounding rectangle in metres."""
        return self._floor_path.boundingRect()

    def content_rect(self) -> QRectF:
        """The floor and every item, in metres."""
        rect = self.floor_rect()
        items = self.project.items
        if len(items):
            # Half the largest footprint diagonal covers any rotation.
            styles = [self._style(t) for t in set(items.type_ids)]
            reach = max(s.rect.width() + s.rect.height() for s in styles) / 2
            rect = rect.united(
                QRectF(
                    QPointF(float(items.x.min()) - reach, float(items.y.min()) - reach),
                    QPointF(float(items.x.max()) + reach, float(items.y.max()) + reach),
                )
            )
        return rect

    def selected_ids(self) -> list[str]:
        return [i.item_id for i in self.selectedItems() if isinstance(i, EquipmentItem)]

    def select_ids(self, item_ids: Iterable[str]) -> None:
        """Select exactly the items with these ids (unknown ids are ignored); one signal."""
        wanted = {i for i in item_ids if i in self._items}
        with self.batch_selection():
            for item in self.selectedItems():
                if getattr(item, "item_id", None) not in wanted:
                    item.setSelected(False)
            for item_id in wanted:
                self._items[item_id].setSelected(True)

    @contextmanager
    def batch_selection(self) -> Iterator[None]:
        """Selection changes inside emit ``selection_ids_changed`` once, at the end."""
        self._selection_batch += 1
        try:
            yield
        finally:
            self._selection_batch -= 1
            if self._selection_batch == 0 and self._selection_dirty:
                self._selection_dirty = False
                self._emit_selection()

    # -- hit tests (model geometry, see the module docstring) ------------------------------
    def placement_index(self) -> PlacementIndex:
        """The up-to-date STRtree index over the project's footprints (shared with the editor)."""
        return PlacementIndex.for_project(self.project)

    def item_id_at(self, x: float, y: float) -> str | None:
        """The item under the point (x, y) in metres; the smallest footprint wins where
        several overlap (a rack under an overhead busway)."""
        index = self.placement_index()
        if not len(index.footprints):
            return None
        rows = index.tree.query(shapely.points(x, y), predicate="intersects")
        if not len(rows):
            return None
        row = int(rows[np.argmin(shapely.area(index.footprints[rows]))])
        return self.project.items.ids[row]

    def item_ids_in(self, rect: QRectF) -> list[str]:
        """Items whose footprints lie wholly inside ``rect`` (metres), in model order."""
        index = self.placement_index()
        if not len(index.footprints) or rect.isEmpty():
            return []
        box = shapely.box(rect.left(), rect.top(), rect.right(), rect.bottom())
        rows = np.sort(index.tree.query(box, predicate="contains"))
        ids = self.project.items.ids
        return [ids[r] for r in rows.tolist()]

    # -- overlays --------------------------------------------------------------------------
    def set_overlay(self, name: str, item: QGraphicsItem | None) -> None:
        """Show ``item`` as the overlay ``name`` above the equipment; None removes it."""
        self._overlays.set(name, item)

    def set_overlay_visible(self, name: str, visible: bool) -> None:
        self._overlays.set_visible(name, visible)

    def overlay_names(self) -> list[str]:
        return self._overlays.names()

    def overlay(self, name: str) -> QGraphicsItem | None:
        return self._overlays.get(name)

    def overlay_visible(self, name: str) -> bool:
        return self._overlays.is_visible(name)

    def set_solved(self, solved: object) -> None:
        """The latest solver outputs (:class:`physics.solution.Solution`) for every overlay."""
        self._overlays.set_solved(solved)

    # -- context menu -------------------------------------------------------------------------
    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:
        """Hand the right click to the shell with the item under it (model hit test)."""
        point = event.scenePos()
        item_id = self.item_id_at(point.x(), point.y()) or ""
        if item_id and item_id not in self.selected_ids():
            self.select_ids([item_id])
        event.accept()
        self.context_menu_requested.emit(item_id, event.screenPos())

    # -- drag feedback -----------------------------------------------------------------------
    def set_dimmed(self, item_ids: Iterable[str]) -> None:
        """Draw these items faintly (left behind by a drag); an empty list restores all."""
        normal = 0.0 if self._overview_on else 1.0
        for item_id in self._dimmed:
            item = self._items.get(item_id)
            if item is not None:
                item.setOpacity(normal)
        self._dimmed = [i for i in item_ids if i in self._items]
        if not self._overview_on:
            for item_id in self._dimmed:
                self._items[item_id].setOpacity(DIMMED_OPACITY)

    def mark_violations(self, violations: Iterable[Violation]) -> None:
        """Outline in red every item named by a violation; earlier marks are cleared."""
        wanted = {i for v in violations for i in v.items}
        for item_id in self._marked - wanted:
            item = self._items.get(item_id)
            if item is not None:
                item.set_violated(False)
        for item_id in wanted:
            item = self._items.get(item_id)
            if item is not None:
                item.set_violated(True)
        self._marked = {i for i in wanted if i in self._items}
        self._overview.invalidate_highlights()

    def views_scale(self) -> float:
        """The smallest scale (pixels per metre) of the views showing the scene (1 if none)."""
        return min((abs(view.transform().m11()) for view in self.views()), default=1.0)

    def highlight_rects(self) -> tuple[list[QRectF], list[QRectF]]:
        """Scene rectangles of the selected and of the violating items (for the overview)."""
        selected = [i.sceneBoundingRect() for i in self.selectedItems()]
        violated = [self._items[i].sceneBoundingRect() for i in self._marked]
        return selected, violated

    # -- level of detail -------------------------------------------------------------------
    @property
    def overview_shown(self) -> bool:
        return self._overview_on

    def set_view_scale(self, px_per_m: float) -> None:
        """The view's scale changed: below :data:`OVERVIEW_BELOW_PX_PER_M` draw batched.

        Items are made fully transparent rather than hidden: Qt skips them
        without calling ``paint`` but, unlike hidden items, they stay selected.
        """
        on = px_per_m < OVERVIEW_BELOW_PX_PER_M
        if on == self._overview_on:
            return
        self._overview_on = on
        opacity = 0.0 if on else 1.0
        for item in self._items.values():
            item.setOpacity(opacity)
        if not on:
            for item_id in self._dimmed:
                self._items[item_id].setOpacity(DIMMED_OPACITY)
        self._overview.setVisible(on)

    # -- building ------------------------------------------------------------------------
    def _style(self, type_id: str) -> _TypeStyle:
        style = self._styles.get(type_id)
        if style is None:
            style = self._styles[type_id] = _make_style(self.project.catalog[type_id])
        return style

    def _rebuild_floor(self) -> None:
        for item in self._floor_items:
            self.removeItem(item)
        self._floor_items.clear()
        floor = self.project.floor
        self._floor_path = polygon_path(floor.outline)
        self._grid_path = _grid_path(floor)
        self._grid_step_m = floor.tile_m
        by_kind: dict[str, list[shapely.Geometry]] = {}
        for obstacle in floor.obstacles:
            by_kind.setdefault(obstacle.kind, []).append(obstacle.polygon)
        # One path per obstacle kind: a hall can have thousands of columns.
        for kind, polygons in sorted(by_kind.items()):
            path = QPainterPath()
            for polygon in polygons:
                path.addPath(polygon_path(polygon))
            fill = QGraphicsPathItem(path)
            fill.setBrush(OBSTACLE_COLOURS.get(kind, OBSTACLE_COLOURS["column"]))
            fill.setPen(Qt.PenStyle.NoPen)
            fill.setZValue(Z_OBSTACLE)
            self._add_fixed(fill, f"obstacles:{kind}")
            # Outlines go above equipment, so a column under a rack still shows.
            edges = QGraphicsPathItem(path)
            edges.setPen(_OBSTACLE_EDGE_PEN)
            edges.setZValue(Z_OBSTACLE_EDGE)
            self._add_fixed(edges, f"obstacle edges:{kind}")
        outline = QGraphicsPathItem(self._floor_path)
        outline.setPen(cosmetic_pen(FLOOR_EDGE_COLOUR, 2.0))
        outline.setZValue(Z_OUTLINE)
        self._add_fixed(outline, "floor outline")
        self._refresh_underlay()
        self._content_changed()
        self.invalidate(QRectF(), QGraphicsScene.SceneLayer.BackgroundLayer)

    # -- underlay ----------------------------------------------------------------------------
    def set_underlay_dir(self, folder: str | os.PathLike[str] | None) -> None:
        """The folder a relative underlay path is relative to changed: redraw it from there."""
        self._underlay_dir = None if folder is None else Path(folder)
        self._refresh_underlay()

    def underlay_path(self) -> Path | None:
        """The file the floor's underlay names, if any; :class:`UnderlayError` if no file
        can have the stored path."""
        underlay = self.project.floor.underlay
        return None if not underlay else resolve(underlay, self._underlay_dir)

    def _refresh_underlay(self) -> None:
        """Read the floor's underlay drawing into the ``"underlay"`` overlay, unless the same
        file (same size and time) with the same placement is already shown."""
        had = self.overlay("underlay") is not None
        self._read_underlay()
        if had != (self.overlay("underlay") is not None):
            self.layers_changed.emit()

    def _read_underlay(self) -> None:
        floor = self.project.floor
        try:
            path = self.underlay_path()
        except UnderlayError as err:  # a stored path no file can have
            self.set_overlay("underlay", None)
            self._set_underlay_message(str(err))
            return
        if path is None:
            self._set_underlay_message("")
            self.set_overlay("underlay", None)
            return
        try:
            stat = path.stat()
            key: object = (str(path), floor.underlay_placement, stat.st_mtime_ns, stat.st_size)
        except (OSError, ValueError):  # ValueError: a NUL in the stored path
            key = None
        current = self.overlay("underlay")
        if key is not None and isinstance(current, UnderlayOverlay) and current.key == key:
            return
        try:
            linework = read_linework(path, floor.underlay_placement)
        except UnderlayError as err:
            self.set_overlay("underlay", None)
            self._set_underlay_message(str(err))
            return
        self.set_overlay("underlay", UnderlayOverlay(linework, key))
        self._set_underlay_message(describe(linework, path.name) if linework.truncated else "")

    def _set_underlay_message(self, message: str) -> None:
        self.underlay_message = message
        if message:
            self.underlay_status.emit(message)

    def _add_fixed(self, item: QGraphicsItem, role: str) -> None:
        """Add a part of the building: drawn, but transparent to the mouse."""
        item.setData(0, role)
        item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.addItem(item)
        self._floor_items.append(item)

    def _rebuild_items(self) -> None:
        for item in self._items.values():
            self.removeItem(item)
        self._items.clear()
        self._add(self.project.items.ids)

    def _add(self, item_ids: Iterable[str]) -> None:
        store = self.project.items
        rows = store.rows(item_ids).tolist()
        xs, ys, rotations = store.x.tolist(), store.y.tolist(), store.rotation.tolist()
        ids, type_ids = store.ids, store.type_ids
        opacity = 0.0 if self._overview_on else 1.0
        for row in rows:
            item = EquipmentItem(ids[row], self._style(type_ids[row]), _name_at(store, row))
            item.setPos(xs[row], ys[row])
            if rotations[row]:
                item.setRotation(rotations[row])
            if opacity != 1.0:
                item.setOpacity(opacity)
            self.addItem(item)
            self._items[ids[row]] = item
        self._content_changed()

    def _content_changed(self, moved_rows: np.ndarray | None = None) -> None:
        """Items or floor changed: refresh the overview and the scene rectangle.

        The scene rectangle is the content plus a wide margin, so the view can
        pan and zoom past the hall's edges.
        """
        rect = self.content_rect()
        margin = max(20.0, 0.5 * max(rect.width(), rect.height()))
        self.setSceneRect(rect.adjusted(-margin, -margin, margin, margin))
        if moved_rows is None:
            self._overview.invalidate()
        else:
            self._overview.items_moved(moved_rows)
        self._overlays.project_changed()

    # -- model events ----------------------------------------------------------------------
    def _on_items_added(self, item_ids: tuple[str, ...]) -> None:
        self._add(item_ids)

    def _on_items_removed(self, item_ids: tuple[str, ...]) -> None:
        with self.batch_selection():
            for item_id in item_ids:
                item = self._items.pop(item_id, None)
                if item is not None:
                    self.removeItem(item)
                self._marked.discard(item_id)
        self._content_changed()

    def _on_items_moved(self, item_ids: tuple[str, ...]) -> None:
        store = self.project.items
        rows = store.rows(item_ids)
        for item_id, row in zip(item_ids, rows.tolist(), strict=True):
            item = self._items[item_id]
            item.setPos(float(store.x[row]), float(store.y[row]))
            item.setRotation(float(store.rotation[row]))
        self._content_changed(moved_rows=rows)

    def _on_items_changed(self, item_ids: tuple[str, ...], field: str) -> None:
        store = self.project.items
        for item_id in item_ids:
            row = store.row(item_id)
            item = self._items[item_id]
            if field == "type":
                item.set_style(self._style(store.type_ids[row]))
            elif field == "name":
                item.set_name(_name_at(store, row))
        if field == "type":
            self._content_changed()
        else:
            self._overlays.project_changed()

    def _on_settings_changed(self, section: str) -> None:
        if section == "floor":
            self._rebuild_floor()

    def _on_selection_changed(self) -> None:
        # Qt also reports selection changes while it destroys the scene's items.
        if not shiboken6.isValid(self._overview):
            return
        self._overview.invalidate_highlights()
        if self._selection_batch:
            self._selection_dirty = True
        else:
            self._emit_selection()

    def _emit_selection(self) -> None:
        ids = self.selected_ids()
        self._overlays.selection_changed(ids)
        self.selection_ids_changed.emit(ids)

    # -- background ------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        """Outside colour, the floor fill and, when zoomed in enough, the tile grid."""
        painter.fillRect(rect, OUTSIDE_COLOUR)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(FLOOR_COLOUR)
        painter.drawPath(self._floor_path)
        px_per_m = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if self._grid_step_m * px_per_m < GRID_MIN_PX:
            return
        painter.save()
        painter.setClipRect(rect)
        painter.setClipPath(self._floor_path, Qt.ClipOperation.IntersectClip)
        painter.setPen(_GRID_PEN)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._grid_path)
        painter.restore()


def _name_at(store: ItemStore, row: int) -> str:
    # item_at() builds and validates a whole Item, too slow for 20,000 racks.
    return store.names[row]


def _grid_path(floor: Floor) -> QPainterPath:
    """Tile-grid lines over the floor's bounding box, on multiples of the tile (as Floor.snap)."""
    path = QPainterPath()
    x0, y0, x1, y1 = floor.bounds
    step = floor.tile_m
    xs = np.arange(np.ceil(x0 / step), np.floor(x1 / step) + 1) * step
    ys = np.arange(np.ceil(y0 / step), np.floor(y1 / step) + 1) * step
    if len(xs) + len(ys) > 20_000:
        return path  # a 12 km hall at 0.6 m tiles: not worth a grid
    for x in xs.tolist():
        path.moveTo(x, y0)
        path.lineTo(x, y1)
    for y in ys.tolist():
        path.moveTo(x0, y)
        path.lineTo(x1, y)
    return path
