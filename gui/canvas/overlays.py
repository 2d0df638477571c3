"""Overlays: layers drawn over the floor plan (the selected rack's links here; the solvers'
tray fill, power load and heat map in :mod:`gui.canvas.solver_overlays`).

Owns the overlay mechanism and the first overlay. The scene keeps named
overlays through :class:`OverlaySet` (``scene.set_overlay(name, item_or_None)``,
``scene.set_overlay_visible(name, visible)``, ``scene.overlay_names()``). An
overlay is any ``QGraphicsItem``; one derived from :class:`Overlay` is also
told when the selection or the project changes and when new solver outputs
arrive (``set_solved``, a :class:`physics.solution.Solution` or None), so it
can rebuild what it draws, and may offer a legend for the Layers dock. An
overlay sits above the equipment unless its class sets ``z_value`` (the heat
map lies under the racks). Overlays are transparent to the mouse and never
change the model.

Each overlay should draw its dense content as a few batched paths or one
image, rebuilt on those hooks, never per paint (pyqtgraph's way).

:class:`LinksOverlay` ("links"): with exactly one GPU or network rack
selected, a line from its centre to every rack it has fabric links with,
coloured by tier, with a dot on each peer (links along a row lie on one
line) and, when zoomed in, labelled with the routed cable length and medium,
else with the Manhattan length (the cable runs along aisles, not
diagonally); labels that would cover one another are skipped, longest links
first. The links and cables are those of the latest solution
(``set_solved``; :func:`physics.figures.rack_links`, read from look-ups the
background check built), drawn to where the racks stand now: a click never
derives the fabric. Until the first solution arrives no links are drawn.
Lines are cut to the area being painted (:func:`clip_segments`) before they
are stroked, with flat caps: Qt strokes an antialiased line over its whole
length, and wide round caps take its slow path, so a core rack's hundreds of
hall-long lines, zoomed in, would take a second or more to paint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from physics.figures import rack_links
from physics.solution import Solution

if TYPE_CHECKING:
    from gui.canvas.scene import FloorScene

Z_OVERLAY = 50.0
"""Above equipment (30) and obstacle edges (40), below drag ghosts (60)."""
LINK_COLOURS = {
    "gpu-leaf": QColor("#e8590c"),
    "leaf-spine": QColor("#2b8a3e"),
    "spine-core": QColor("#c2255c"),
}
LINK_LABEL_MIN_PX_PER_M = 18.0
"""Lengths are written on the lines from this scale on."""
LINK_LABEL_MAX = 400
"""More lines than this are left unlabelled (a core rack links to hundreds of spines)."""
LINK_LABEL_FONT_PX = 11
LINK_DOT_PX = 7.0
LINK_SMOOTH_MAX = 256
"""Above this many links, the lines are drawn without antialiasing."""


class Overlay(QGraphicsItem):
    """An overlay that follows the selection and the project; override the hooks."""

    z_value: float | None = None
    """Where it is stacked; None: above the equipment, in the order overlays were set."""

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def selection_changed(self, item_ids: list[str]) -> None:
        """The selected items are now ``item_ids``."""

    def project_changed(self) -> None:
        """Items were added, removed, moved or changed, or another project is shown."""

    def set_solved(self, solved: Solution | None) -> None:
        """The latest solver outputs (:class:`physics.solution.Solution`), or None."""

    def legend(self) -> Any:
        """What the colours mean (a :class:`gui.canvas.solver_overlays.Legend`), or None."""
        return None


class OverlaySet:
    """Named overlays of a scene, drawn in the order they were first set, above equipment."""

    def __init__(self, scene: FloorScene) -> None:
        self._scene = scene
        self._items: dict[str, QGraphicsItem] = {}
        self._visible: dict[str, bool] = {}
        self._order: list[str] = []
        self._solved: Solution | None = None

    def names(self) -> list[str]:
        return [n for n in self._order if n in self._items]

    def get(self, name: str) -> QGraphicsItem | None:
        return self._items.get(name)

    def is_visible(self, name: str) -> bool:
        return self._visible.get(name, True)

    def set(self, name: str, item: QGraphicsItem | None) -> None:
        """Show ``item`` as overlay ``name`` (replacing any), or remove the overlay with None."""
        old = self._items.pop(name, None)
        if old is not None and old.scene() is self._scene:
            self._scene.removeItem(old)
        if item is None:
            return
        if name not in self._order:
            self._order.append(name)
        z = getattr(item, "z_value", None)
        item.setZValue(Z_OVERLAY + self._order.index(name) * 0.01 if z is None else z)
        item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        item.setVisible(self.is_visible(name))
        self._items[name] = item
        self._scene.addItem(item)
        if isinstance(item, Overlay):
            item.set_solved(self._solved)
            item.project_changed()
            item.selection_changed(self._scene.selected_ids())

    def set_visible(self, name: str, visible: bool) -> None:
        self._visible[name] = visible
        item = self._items.get(name)
        if item is not None:
            item.setVisible(visible)
            if visible and isinstance(item, Overlay):
                item.selection_changed(self._scene.selected_ids())

    def selection_changed(self, item_ids: list[str]) -> None:
        for item in self._items.values():
            if isinstance(item, Overlay):
                item.selection_changed(item_ids)

    def project_changed(self) -> None:
        for item in self._items.values():
            if isinstance(item, Overlay):
                item.project_changed()

    def set_solved(self, solved: Solution | None) -> None:
        """New solver outputs for every overlay (None: none yet, e.g. another project)."""
        self._solved = solved
        for item in self._items.values():
            if isinstance(item, Overlay):
                item.set_solved(solved)


def clip_segments(x0: float, y0: float, x1: np.ndarray, y1: np.ndarray, area: QRectF
                  ) -> np.ndarray:  # fmt: skip
    """The parts inside ``area`` of the segments from (x0, y0) to each (x1, y1), as rows of
    (xa, ya, xb, yb); segments wholly outside are left out (Liang–Barsky)."""
    dx, dy = x1 - x0, y1 - y0
    enter, leave = np.zeros(len(dx)), np.ones(len(dx))
    for p, q in ((-dx, x0 - area.left()), (dx, area.right() - x0),
                 (-dy, y0 - area.top()), (dy, area.bottom() - y0)):  # fmt: skip
        with np.errstate(divide="ignore", invalid="ignore"):
            r = q / p
        enter = np.where(p < 0, np.maximum(enter, r), enter)
        leave = np.where(p > 0, np.minimum(leave, r), leave)
        # Parallel to this edge and outside it: nothing of the segment is inside.
        leave = np.where((p == 0) & (q < 0), -1.0, leave)
    keep = enter <= leave
    enter, leave, dx, dy = enter[keep], leave[keep], dx[keep], dy[keep]
    return np.column_stack((x0 + enter * dx, y0 + enter * dy, x0 + leave * dx, y0 + leave * dy))


def _pen(colour: QColor, width_px: float = 2.0,
         cap: Qt.PenCapStyle = Qt.PenCapStyle.RoundCap) -> QPen:  # fmt: skip
    pen = QPen(colour, width_px)
    pen.setCosmetic(True)
    pen.setCapStyle(cap)
    return pen


class LinksOverlay(Overlay):
    """The selected rack's fabric links as lines to its peers; see the module docstring."""

    def __init__(self, scene: FloorScene) -> None:
        super().__init__()
        self._scene = scene
        self._source: str | None = None
        self.solved: Solution | None = None
        """The latest solution, whose links and cables are drawn."""
        self._origin = (0.0, 0.0)
        # Per tier: line pen, dot pen, the peers' centres as arrays and as points.
        self._lines: list[tuple[QPen, QPen, np.ndarray, np.ndarray, list[QPointF]]] = []
        self._labels: list[tuple[QPointF, str, float]] = []
        self._bounds = QRectF()
        self._font = QFont()
        self._font.setPixelSize(LINK_LABEL_FONT_PX)
        self._label_pen = QPen(QColor("#1d1f23"))
        # option.exposedRect is then the area being painted, which the lines are cut to.
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    # -- what is shown ---------------------------------------------------------------------
    @property
    def source_id(self) -> str | None:
        """The rack whose links are drawn, if any."""
        return self._source

    def line_count(self) -> int:
        return sum(len(ends) for *_, ends in self._lines)

    def labels(self) -> list[tuple[QPointF, str]]:
        """Each line's midpoint and its length label."""
        return [(point, text) for point, text, _ in self._labels]

    def selection_changed(self, item_ids: list[str]) -> None:
        self._source = item_ids[0] if len(item_ids) == 1 else None
        self._rebuild()

    def project_changed(self) -> None:
        if self._source is not None:
            self._rebuild()

    def set_solved(self, solved: Solution | None) -> None:
        self.solved = solved
        if self._source is not None:
            self._rebuild()

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        if change == QGraphicsItem.GraphicsItemChange.ItemVisibleHasChanged and value:
            self._rebuild()
        return super().itemChange(change, value)

    # -- building ----------------------------------------------------------------------------
    def _rebuild(self) -> None:
        self.prepareGeometryChange()
        self._lines, self._labels, self._bounds = [], [], QRectF()
        project = self._scene.project
        source = self._source
        solved = self.solved
        if not self.isVisible() or source is None or source not in project.items \
                or solved is None:  # fmt: skip
            self.update()
            return
        row = project.items.row(source)
        if project.catalog[project.items.type_ids[row]].kind not in ("gpu_rack", "network_rack"):
            self.update()
            return
        links = rack_links(solved, source)
        if links is None:
            self.update()
            return
        items = project.items
        x0, y0 = float(items.x[row]), float(items.y[row])
        self._origin = (x0, y0)
        # Other rack → its longest cable from the source (cables come longest first).
        routed: dict[str, tuple[float, str | None]] = {}
        for cable in links.cables:
            routed.setdefault(cable.to, (cable.length_m, cable.medium))
        seen: set[str] = {source}
        # Past the label limit no label is drawn: do not write them.
        peers_in_all = set().union(*(tier.peers for tier in links.tiers)) - {source}
        labelled = len(peers_in_all) <= LINK_LABEL_MAX
        for tier in links.tiers:
            # Drawn where they stand now; racks removed since the solution are left out.
            peers = [p for p in tier.peers if p not in seen and p in items]
            if not peers:
                continue
            seen.update(peers)
            rows = items.rows(peers)
            xs, ys = items.x[rows], items.y[rows]
            ends = [QPointF(x1, y1) for x1, y1 in zip(xs.tolist(), ys.tolist(), strict=True)]
            named = zip(peers, xs.tolist(), ys.tolist(), strict=True) if labelled else ()
            for peer, x1, y1 in named:
                middle = QPointF((x0 + x1) / 2, (y0 + y1) / 2)
                longest = routed.get(peer)
                if longest is not None:
                    length, medium = longest
                    text = f"{length:.1f} m {medium}" if medium else f"{length:.1f} m (no medium)"
                else:
                    length = abs(x1 - x0) + abs(y1 - y0)
                    text = f"{length:.1f} m"
                self._labels.append((middle, text, length))
            colour = LINK_COLOURS.get(tier.tier, QColor("#555555"))
            dot = _pen(colour, LINK_DOT_PX)
            # Flat ends: Qt strokes wide antialiased lines with round caps some twenty
            # times slower, and the ends lie under the rack's centre and a dot anyway.
            line = _pen(colour, cap=Qt.PenCapStyle.FlatCap)
            self._lines.append((line, dot, xs, ys, ends))
            self._bounds = self._bounds.united(QRectF(
                QPointF(min(x0, float(xs.min())), min(y0, float(ys.min()))),
                QPointF(max(x0, float(xs.max())), max(y0, float(ys.max()))),
            ))  # fmt: skip
        self._labels.sort(key=lambda label: -label[2])
        # Room for labels and dots, which are drawn in screen pixels.
        self._bounds = self._bounds.adjusted(-2.0, -2.0, 2.0, 2.0)
        self.update()

    # -- QGraphicsItem --------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:  # fmt: skip
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        # A few pixels beyond the exposed area, so that round caps at its edge are whole.
        margin = LINK_DOT_PX / max(lod, 1e-9)
        area = option.exposedRect.adjusted(-margin, -margin, margin, margin)
        x0, y0 = self._origin
        painter.setBrush(Qt.BrushStyle.NoBrush)
        # A core rack's ~1,000 lines all cross the view: smoothing them costs more than the
        # press budget, and side by side at this density their steps do not show.
        many = sum(len(xs) for _, _, xs, _, _ in self._lines) > LINK_SMOOTH_MAX
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, not many)
        for pen, dot, xs, ys, ends in self._lines:
            painter.setPen(pen)
            painter.drawLines([QLineF(*s) for s in clip_segments(x0, y0, xs, ys, area).tolist()])
            painter.setPen(dot)
            painter.drawPoints(ends)
        if lod < LINK_LABEL_MIN_PX_PER_M or not self._labels:
            return
        painter.save()
        painter.setFont(self._font)
        painter.setPen(self._label_pen)
        metrics = painter.fontMetrics()
        background = QColor(255, 255, 255, 210)
        transform = painter.worldTransform()
        painter.resetTransform()
        placed: list[QRectF] = []
        for point, text, _ in self._labels:
            box = QRectF(metrics.boundingRect(text)).adjusted(-3, -1, 3, 1)
            box.moveCenter(transform.map(point))
            if any(box.intersects(other) for other in placed):
                continue
            placed.append(box)
            painter.fillRect(box, background)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
