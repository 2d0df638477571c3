"""The equipment palette: placeable catalog types, grouped by kind, to drag onto the floor.

Owns the list of what can be placed and how a placement starts: dragging an
entry carries the type id under :data:`EQUIPMENT_MIME_TYPE` (the canvas's drop
handler turns it into an add command); double-click or Enter on an entry emits
:attr:`PaletteDock.place_requested` for click-to-place. A search box filters by
id, name and vendor. The palette never changes the project; it only reads the
catalog it is given.

Also owns the one-line figures of a type (:func:`type_figures`) that the
inspector reuses.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData, QPoint, Qt, Signal
from PySide6.QtGui import QDrag, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.icons import footprint_pixmap, kind_icon, type_icon
from layout.catalog import (
    PLACEABLE_KINDS,
    Catalog,
    CoolingUnitType,
    GpuRackType,
    NetworkRackType,
    PowerUnitType,
)
from layout.facility import design_load_kw
from layout.kinds import kind_info

EQUIPMENT_MIME_TYPE = "application/x-coherence-equipment-type"


TYPE_ID_ROLE = Qt.ItemDataRole.UserRole
"""Item data role holding an entry's type id (None on kind headings)."""

ROLE_NAMES = {
    "busway": "busway",
    "rpp": "RPP",
    "pdu": "PDU",
    "transformer": "transformer",
    "switchgear": "switchgear",
    "ups": "UPS",
    "generator": "generator",
    "turbine": "turbine",
    "battery": "battery",
    "grid_feed": "grid feed",
    "cdu": "CDU",
    "crah": "CRAH",
    "chiller": "chiller",
    "cooling_tower": "cooling tower",
    "dry_cooler": "dry cooler",
}


def format_kw(kw: float) -> str:
    """A power or heat figure: ``81 kW``, ``2.5 kW``, ``1,900 kW``, ``150 MW``."""
    if abs(kw) >= 10_000:
        return f"{kw / 1000:,.4g} MW"
    if abs(kw) >= 100 or float(kw).is_integer():
        return f"{kw:,.0f} kW"
    return f"{kw:,.3g} kW"


def type_figures(t: Any, catalog: Catalog) -> str:
    """The key figures of a placeable type in a few words (GPUs and kW, switches, capacity)."""
    if isinstance(t, GpuRackType):
        return f"{t.gpus} GPUs · {format_kw(design_load_kw(t, catalog))}"
    if isinstance(t, NetworkRackType):
        switch = catalog.get(t.switch)
        switch_name = switch.id if switch is not None else t.switch
        return f"{t.switches} × {switch_name} · {format_kw(design_load_kw(t, catalog))}"
    if isinstance(t, PowerUnitType):
        text = f"{ROLE_NAMES.get(t.role, t.role)} · {format_kw(t.capacity_kw or 0.0)}"
        if t.energy_kwh is not None:
            text += f" · {t.energy_kwh:,.0f} kWh"
        return text
    if isinstance(t, CoolingUnitType):
        return f"{ROLE_NAMES.get(t.role, t.role)} · {format_kw(t.capacity_kw)}"
    return ""


def type_short_figures(t: Any, catalog: Catalog) -> str:
    """The palette's figures column: GPUs and kW of racks, the rating of other units."""
    if isinstance(t, GpuRackType):
        return f"{t.gpus} GPU · {format_kw(design_load_kw(t, catalog))}"
    if isinstance(t, NetworkRackType):
        return f"{t.switches} sw · {format_kw(design_load_kw(t, catalog))}"
    if isinstance(t, (PowerUnitType, CoolingUnitType)):
        return format_kw(t.capacity_kw or 0.0)
    return ""


def type_tooltip(t: Any, catalog: Catalog) -> str:
    """Rich-text tooltip: name, id, vendor, key figures, footprint and source."""
    rows = [f"<b>{html.escape(t.name)}</b>", f"<tt>{html.escape(t.id)}</tt>"]
    if t.vendor:
        rows.append(f"Vendor: {html.escape(t.vendor)}")
    if isinstance(t, GpuRackType):
        rows.append(
            f"{t.gpus} × {html.escape(t.gpu_model)} GPUs ({t.servers} servers × "
            f"{t.gpus_per_server}), {format_kw(design_load_kw(t, catalog))}, "
            f"{t.liquid_fraction:.0%} to liquid"
        )
        if t.in_rack_cdu is not None:
            rows.append("In-rack CDU")
    elif isinstance(t, NetworkRackType):
        switch = catalog.get(t.switch)
        name = switch.name if switch is not None else t.switch
        rows.append(
            f"{t.switches} switches: {html.escape(name)}, {format_kw(design_load_kw(t, catalog))}"
        )
    elif isinstance(t, PowerUnitType):
        rows.append(f"{ROLE_NAMES.get(t.role, t.role)}, capacity {format_kw(t.capacity_kw or 0)}")
        if t.energy_kwh is not None:
            rows.append(f"Energy {t.energy_kwh:,.0f} kWh")
    elif isinstance(t, CoolingUnitType):
        rows.append(
            f"{ROLE_NAMES.get(t.role, t.role)}, capacity {format_kw(t.capacity_kw)}, "
            f"draws {format_kw(t.kw)}"
        )
    rows.append(f"Footprint {t.footprint.width_m:g} × {t.footprint.depth_m:g} m, {t.mounting}")
    source = html.escape(t.source)
    estimate = " <i>(figures partly estimated)</i>" if t.estimate else ""
    rows.append(f"<span style='color:#555'>Source: {source}</span>{estimate}")
    return "<p style='white-space:pre-wrap'>" + "<br>".join(rows) + "</p>"


def equipment_mime_data(type_id: str) -> QMimeData:
    """Drag payload of a palette entry: the type id, UTF-8, under the equipment MIME type."""
    mime = QMimeData()
    mime.setData(EQUIPMENT_MIME_TYPE, QByteArray(type_id.encode("utf-8")))
    mime.setText(type_id)
    return mime


class PaletteTree(QTreeWidget):
    """The palette's tree: kind headings with their types; entries drag out as types."""

    COLUMNS = ("Type", "Figures")
    """Entries show the type id (short, and what the command line takes) and its key
    figures; the full name, vendor and source are in the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(len(self.COLUMNS))
        self.setHeaderLabels(self.COLUMNS)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setExpandsOnDoubleClick(True)
        header = self.header()
        # The short figures in full; ids take the rest, elided in the middle if need be
        # (their ends, maker and rating, say the most).
        self.setIndentation(14)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)

    @staticmethod
    def type_id_of(entry: QTreeWidgetItem | None) -> str | None:
        """The type id of an entry (None for a kind heading or nothing)."""
        return None if entry is None else entry.data(0, TYPE_ID_ROLE)

    def mimeTypes(self) -> list[str]:
        return [EQUIPMENT_MIME_TYPE]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData | None:  # type: ignore[override]
        type_ids = [t for t in (self.type_id_of(i) for i in items) if t]
        return equipment_mime_data(type_ids[0]) if type_ids else None

    def startDrag(self, supported: Qt.DropAction) -> None:
        type_id = self.type_id_of(self.currentItem())
        if not type_id:
            return
        entry = self.currentItem()
        mime = self.mimeData([entry])
        if mime is None:
            return
        drag = QDrag(self)
        drag.setMimeData(mime)
        kind, w, d = entry.data(0, Qt.ItemDataRole.UserRole + 1)
        drag.setPixmap(footprint_pixmap(kind, w, d, 32))
        drag.setHotSpot(QPoint(16, 16))
        drag.exec(Qt.DropAction.CopyAction, Qt.DropAction.CopyAction)


class PaletteDock(QDockWidget):
    """Placeable equipment types by kind, with search; drag one onto the floor.

    Signals
    -------
    place_requested(str)
        The type id of an entry double-clicked or activated with Enter.
    """

    place_requested = Signal(str)

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__("Equipment", parent)
        self.setObjectName("palette")
        self.catalog = catalog
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        self.search = QLineEdit(body)
        self.search.setPlaceholderText("Search id, name or vendor")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._apply_search)
        self.search.returnPressed.connect(self._place_single_match)
        self.search.installEventFilter(self)
        self.tree = PaletteTree(body)
        self.tree.itemActivated.connect(self._on_activated)
        self.empty_label = QLabel("No type matches the search.", body)
        self.empty_label.setStyleSheet("color: #777; padding: 6px;")
        self.empty_label.hide()
        hint = QLabel("Drag onto the floor, or double-click to place.", body)
        hint.setStyleSheet("color: #777;")
        hint.setWordWrap(True)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(hint)
        self.setWidget(body)
        self._headings: dict[str, QTreeWidgetItem] = {}
        self.set_catalog(catalog)

    # -- content --------------------------------------------------------------------------------
    def set_catalog(self, catalog: Catalog) -> None:
        """Show the placeable types of ``catalog`` (the search text is kept)."""
        self.catalog = catalog
        self.tree.clear()
        self._headings = {}
        for kind in PLACEABLE_KINDS:
            types = catalog.of_kind(kind)
            heading = QTreeWidgetItem([f"{kind_info(kind).title} ({len(types)})", ""])
            heading.setIcon(0, kind_icon(kind))
            heading.setData(0, TYPE_ID_ROLE, None)
            heading.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = heading.font(0)
            font.setBold(True)
            heading.setFont(0, font)
            for t in types:
                entry = QTreeWidgetItem([t.id, type_short_figures(t, catalog)])
                entry.setIcon(0, type_icon(t))
                entry.setData(0, TYPE_ID_ROLE, t.id)
                entry.setData(
                    0, Qt.ItemDataRole.UserRole + 1,
                    (t.kind, t.footprint.width_m, t.footprint.depth_m),
                )  # fmt: skip
                tooltip = type_tooltip(t, catalog)
                entry.setToolTip(0, tooltip)
                entry.setToolTip(1, tooltip)
                entry.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                heading.addChild(entry)
            self.tree.addTopLevelItem(heading)
            heading.setFirstColumnSpanned(True)
            self._headings[kind] = heading
        self.tree.expandAll()
        self._apply_search(self.search.text())

    def type_ids(self, visible_only: bool = False) -> dict[str, list[str]]:
        """Type ids listed per kind (only those the search leaves visible, if asked)."""
        out: dict[str, list[str]] = {}
        for kind, heading in self._headings.items():
            ids = []
            for k in range(heading.childCount()):
                entry = heading.child(k)
                if visible_only and (entry.isHidden() or heading.isHidden()):
                    continue
                ids.append(self.tree.type_id_of(entry))
            out[kind] = ids
        return out

    def entry(self, type_id: str) -> QTreeWidgetItem | None:
        """The tree entry of a type id."""
        for heading in self._headings.values():
            for k in range(heading.childCount()):
                if self.tree.type_id_of(heading.child(k)) == type_id:
                    return heading.child(k)
        return None

    def mime_data(self, type_id: str) -> QMimeData:
        """What dragging the entry of ``type_id`` carries (see :func:`equipment_mime_data`)."""
        return equipment_mime_data(type_id)

    # -- search -----------------------------------------------------------------------------------
    def _apply_search(self, text: str) -> None:
        needle = text.strip().casefold()
        any_shown = False
        for heading in self._headings.values():
            shown = 0
            for k in range(heading.childCount()):
                entry = heading.child(k)
                t = self.catalog.get(self.tree.type_id_of(entry))
                haystack = " ".join((t.id, t.name, t.vendor or "")).casefold()
                hide = bool(needle) and needle not in haystack
                entry.setHidden(hide)
                shown += not hide
            heading.setHidden(shown == 0)
            any_shown |= shown > 0
        self.empty_label.setVisible(not any_shown)
        if needle:
            self.tree.expandAll()

    def _visible_entries(self) -> list[QTreeWidgetItem]:
        return [
            heading.child(k)
            for heading in self._headings.values()
            if not heading.isHidden()
            for k in range(heading.childCount())
            if not heading.child(k).isHidden()
        ]

    def _place_single_match(self) -> None:
        """Enter in the search box places the one match, or moves into the list."""
        entries = self._visible_entries()
        if len(entries) == 1:
            self.place_requested.emit(self.tree.type_id_of(entries[0]))
        elif entries:
            self.tree.setCurrentItem(entries[0])
            self.tree.setFocus()

    def eventFilter(self, watched: object, event: object) -> bool:
        # Down arrow in the search box moves into the list, as in a file dialog.
        if (
            watched is self.search
            and isinstance(event, QKeyEvent)
            and event.type() == QKeyEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Down
        ):
            entries = self._visible_entries()
            if entries:
                self.tree.setCurrentItem(entries[0])
                self.tree.setFocus()
                return True
        return super().eventFilter(watched, event)

    def _on_activated(self, entry: QTreeWidgetItem, _column: int = 0) -> None:
        type_id = self.tree.type_id_of(entry)
        if type_id:
            self.place_requested.emit(type_id)
