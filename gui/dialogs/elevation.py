"""Rack elevation: a read-only front view of a GPU or network rack, U by U.

Owns how a rack's contents are laid out in its height and drawn. The layout
(:func:`rack_slots`) reads only the catalog and the item's properties:

- a GPU rack holds ``servers`` servers of ``server_u`` each and, when it has
  one, its in-rack CDU (``in_rack_cdu.u``) at the bottom, where the coolant
  manifolds come in; servers stack above it;
- a network rack holds the installed number of switches (the item's
  ``switches`` property, else the type's count) of the type's switch, ``u``
  each, from the bottom up.

U positions count from 1 at the bottom, as on a rack's rails. Nothing here
changes the project.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from layout.catalog import GpuRackType, NetworkRackType
from layout.errors import CoherenceError
from layout.project import Project
from report.safe_text import printable

U_PX = 16
"""Height of one rack unit on screen."""
RACK_PX = 300
"""Width of the rack's mounting space on screen."""
RAIL_PX = 36
"""Width of the U-number rail on the left."""
SLOT_COLOURS = {
    "server": QColor("#3d7cc9"),
    "cdu": QColor("#23a393"),
    "switch": QColor("#8a5cc2"),
}
FREE_COLOUR = QColor("#ecebe6")
FRAME_COLOUR = QColor("#33363b")


@dataclass(frozen=True)
class Slot:
    """One device in the rack: lowest U (1-based), height in U, what it is."""

    u: int
    height_u: int
    kind: str
    label: str


@dataclass(frozen=True)
class Elevation:
    """A rack's height, its devices and a one-line summary."""

    rack_u: int
    slots: tuple[Slot, ...]
    summary: str

    @property
    def free_u(self) -> int:
        return self.rack_u - sum(s.height_u for s in self.slots)


def has_elevation(project: Project, item_id: str) -> bool:
    """Whether ``item_id`` is a rack with an elevation (a GPU or network rack)."""
    if item_id not in project.items:
        return False
    return isinstance(project.type_of(item_id), (GpuRackType, NetworkRackType))


def rack_slots(project: Project, item_id: str) -> Elevation:
    """The devices of rack ``item_id`` by U position; CoherenceError if it is not a rack."""
    if item_id not in project.items:
        raise CoherenceError(f"no item {item_id!r} in the project")
    t = project.type_of(item_id)
    if isinstance(t, GpuRackType):
        return _gpu_rack(t)
    if isinstance(t, NetworkRackType):
        installed = project.items.get(item_id).properties.get("switches")
        if not isinstance(installed, int) or isinstance(installed, bool) or installed < 0:
            installed = t.switches
        return _network_rack(t, project.catalog[t.switch], installed)
    raise CoherenceError(f"{item_id} is a {t.kind}, not a rack")


def _gpu_rack(t: GpuRackType) -> Elevation:
    slots = []
    u = 1
    if t.in_rack_cdu is not None:
        cdu = t.in_rack_cdu
        slots.append(Slot(u, cdu.u, "cdu", f"In-rack CDU — {cdu.kw:g} kW pumps"))
        u += cdu.u
    for k in range(t.servers):
        label = f"Server {k + 1} — {t.gpus_per_server} × {t.gpu_model}, {t.server_kw:g} kW"
        slots.append(Slot(u, t.server_u, "server", label))
        u += t.server_u
    cdu = f", in-rack CDU {t.in_rack_cdu.u}U" if t.in_rack_cdu is not None else ""
    summary = (
        f"{t.rack_u}U: {t.servers} servers × {t.server_u}U ({t.gpus:,} GPUs, {t.it_kw:g} kW){cdu}"
    )
    return _finish(t.rack_u, slots, summary)


def _network_rack(t: NetworkRackType, switch: object, installed: int) -> Elevation:
    height = switch.u  # type: ignore[attr-defined]
    name = switch.name  # type: ignore[attr-defined]
    fits = min(installed, t.rack_u // height)
    slots = [
        Slot(1 + k * height, height, "switch", f"Switch {k + 1} — {name}") for k in range(fits)
    ]
    summary = f"{t.rack_u}U: {installed} of {t.switches} × {name} ({height}U each)"
    if fits < installed:
        summary += f"; only {fits} fit"
    return _finish(t.rack_u, slots, summary)


def _finish(rack_u: int, slots: list[Slot], summary: str) -> Elevation:
    """Drop devices above the top of the rack and say how much height is left."""
    fitting = tuple(s for s in slots if s.u + s.height_u - 1 <= rack_u)
    free = rack_u - sum(s.height_u for s in fitting)
    return Elevation(rack_u, fitting, f"{summary}, {free}U free")


class ElevationView(QWidget):
    """Paints an :class:`Elevation` as a rack front: U numbers, devices, free space."""

    def __init__(self, elevation: Elevation, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.elevation = elevation
        self.setMinimumSize(self.sizeHint())

    def sizeHint(self) -> QSize:
        return QSize(RAIL_PX + RACK_PX + 24, self.elevation.rack_u * U_PX + 24)

    def _slot_rect(self, u: int, height_u: int) -> QRectF:
        top = 12 + (self.elevation.rack_u - (u + height_u - 1)) * U_PX
        return QRectF(RAIL_PX + 12, top, RACK_PX, height_u * U_PX)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        rack_u = self.elevation.rack_u
        frame = self._slot_rect(1, rack_u)
        painter.fillRect(frame, FREE_COLOUR)
        small = QFont(self.font())
        small.setPixelSize(10)
        painter.setFont(small)
        painter.setPen(QPen(QColor("#8d8f94")))
        for u in range(1, rack_u + 1):
            row = self._slot_rect(u, 1)
            painter.drawLine(row.bottomLeft(), row.bottomRight())
            painter.drawText(
                QRectF(4, row.top(), RAIL_PX, row.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                str(u),
            )
        label = QFont(self.font())
        label.setPixelSize(11)
        painter.setFont(label)
        for slot in self.elevation.slots:
            rect = self._slot_rect(slot.u, slot.height_u).adjusted(1, 1, -1, -1)
            colour = SLOT_COLOURS.get(slot.kind, QColor("#8a8a8a"))
            painter.fillRect(rect, colour)
            painter.setPen(QPen(colour.darker(160)))
            painter.drawRect(rect)
            painter.setPen(QPen(QColor("#ffffff")))
            text = f"U{slot.u}–{slot.u + slot.height_u - 1}  {slot.label}"
            if slot.height_u == 1:
                text = f"U{slot.u}  {slot.label}"
            painter.drawText(
                rect.adjusted(6, 0, -4, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                painter.fontMetrics().elidedText(
                    text, Qt.TextElideMode.ElideRight, int(rect.width() - 10)
                ),
            )
        painter.setPen(QPen(FRAME_COLOUR, 3))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(frame.adjusted(-2, -2, 2, 2))
        painter.end()


class ElevationDialog(QDialog):
    """A read-only elevation of one rack, opened by double-clicking it on the floor."""

    def __init__(self, project: Project, item_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item_id = item_id
        self.elevation = rack_slots(project, item_id)
        item = project.items.get(item_id)
        t = project.type_of(item_id)
        title = f"{item.name} ({item_id})" if item.name else item_id
        self.setWindowTitle(f"Elevation — {printable(title)}")
        layout = QVBoxLayout(self)
        # Rich text for the bold title; the names in it come from the file and are
        # escaped, so a name like "<img src=...>" shows as written.
        shown, kind, summary = (
            html.escape(printable(text)) for text in (title, t.name, self.elevation.summary)
        )
        self.heading = QLabel(f"<b>{shown}</b> — {kind}<br>{summary}")
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.view = ElevationView(self.elevation)
        scroll = QScrollArea(self)
        scroll.setWidget(self.view)
        scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(scroll, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        hint = self.view.sizeHint()
        self.resize(max(hint.width() + 60, 420), min(hint.height() + 140, 920))
