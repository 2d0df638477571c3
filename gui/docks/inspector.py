"""The inspector: the selected items' properties, editable, and the figures derived from them.

Owns showing and editing one or several items: id, type, name, position,
rotation and free-form properties (each edit one command on the undo stack),
and the read-only figures a planner checks while editing: design load, heat to
air and to liquid, GPUs, switches and fabric role, A/B feeds, CDU and CRAH,
fabric links per tier with the racks at their other ends, and the check's
violations naming the item. From the latest solution the background check
delivers (:meth:`InspectorDock.set_solved`, a :class:`physics.solution.Solution`):
a rack's links per tier and its longest routed cable (length, medium, the
rack at its other end) and media mix, the utilisation of the units on its A
and B feeds (and of a power unit itself), its estimated inlet temperature
from the thermal screening map, and what a unit feeds, supplies or serves
with the load it feeds. Those figures come from :mod:`physics.figures`, whose
look-ups the background check built: showing an item only formats them (no
fabric derivation, no scan of every feed on the UI thread). They are of the
latest solution until the next one lands, then refreshed; before the first,
they read "…".

Validation happens twice: here, before any command is built (text where a
number belongs, NaN, infinity, beyond ±100 km, left of or above a floor that
starts at the origin), and in the model, whose :class:`~layout.errors.EditError`
arrives through ``UndoStack.try_push``. Either way the message is shown in red
in the dock and the project is unchanged.

Several items: the count, the fields they share, and sums of their figures.
Rotation, type (when all are of one kind), x or y (when all share it) and
properties apply to all of them as one command, so one undo step.

The inspector never changes the model itself; it pushes commands. It listens
to the project's ``item_moved``, ``item_changed`` and ``item_removed`` events
and refreshes only when they concern the items shown (coalesced per burst).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.docks.palette import format_kw, type_figures
from gui.icons import type_icon
from layout.catalog import GpuRackType, NetworkRackType
from layout.commands import (
    Command,
    CommandGroup,
    MoveItems,
    RenameItem,
    RotateItems,
    SetItemType,
    SetProperty,
)
from layout.facility import air_heat_kw, design_load_kw, liquid_heat_kw
from layout.items import PropertyValue, natural_key
from layout.kinds import kind_info
from layout.limits import MAX_COORD_M, MAX_PROPERTY_INT
from physics import figures as item_figures
from physics.fabric import installed_switches
from physics.placement import MovingSet, PlacementIndex, refusal
from physics.power import allowed_load
from physics.solution import Solution
from report.safe_text import literal_markup

OTHER_RACKS_SHOWN = 4
"""Rack ids written out per link tier before "…"."""
MIXED = "(mixed)"
PENDING = "…"
"""Shown for a figure of the solution before the first solution has arrived."""

ERROR_STYLE = "color: #c62828; font-weight: bold;"
INVALID_FIELD_STYLE = "QLineEdit { border: 1px solid #c62828; background: #fdecea; }"

_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


class InvalidValueError(ValueError):
    """A typed value that cannot be used; ``str()`` is the message for the user."""


def parse_property_value(text: str) -> PropertyValue:
    """A property value from typed text: a finite number, true/false, None when empty
    (which removes the property), otherwise the text itself (also a whole number beyond
    ±``limits.MAX_PROPERTY_INT``, which an edit does not store as a number)."""
    stripped = text.strip()
    if not stripped:
        return None
    lowered = stripped.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if _INT.fullmatch(stripped):
        # More digits than the limit has cannot be within it (and thousands cannot be read).
        if len(stripped.lstrip("+-").lstrip("0")) > len(str(MAX_PROPERTY_INT)):
            return text
        value = int(stripped)
        return value if abs(value) <= MAX_PROPERTY_INT else text
    if _FLOAT.fullmatch(stripped):
        number = float(stripped)
        return number if math.isfinite(number) else text
    return text


def format_value(value: PropertyValue) -> str:
    """A property value as the inspector writes it (the inverse of the parser)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else f"{value:.1f}"
    return str(value)


def _number(text: str, what: str) -> float:
    stripped = text.strip()
    for unit in (" m", "m", "°", " °", "deg"):
        if stripped.endswith(unit) and _FLOAT.fullmatch(stripped[: -len(unit)].strip()):
            stripped = stripped[: -len(unit)].strip()
            break
    if not _FLOAT.fullmatch(stripped):
        if stripped.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
            raise InvalidValueError(f"{what}: {stripped} is not a finite number")
        raise InvalidValueError(f"{what}: {text.strip()!r} is not a number")
    value = float(stripped)
    if not math.isfinite(value):
        raise InvalidValueError(f"{what}: {stripped} is beyond any usable number")
    return value


def parse_coordinate(text: str, axis: str, lowest_m: float) -> float:
    """A position typed in metres; ``lowest_m`` is the least allowed (0 on floors that
    start at the origin, the floor's own minimum when it lies at negative coordinates)."""
    value = _number(text, axis)
    if abs(value) > MAX_COORD_M:
        raise InvalidValueError(f"{axis}: {value:g} m is beyond ±{MAX_COORD_M / 1000:g} km")
    if value < lowest_m:
        raise InvalidValueError(f"{axis}: {value:g} m is off the plan ({axis} ≥ {lowest_m:g} m)")
    return value


def parse_rotation(text: str) -> float:
    """A rotation typed in degrees clockwise (any finite number, folded into 0-360; which
    turns a unit may take is :mod:`physics.placement`'s to say, on commit)."""
    value = _number(text, "rotation")
    if abs(value) > 1e6:
        raise InvalidValueError(f"rotation: {value:g}° is not a sensible angle")
    return value


def _metres(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if not math.isnan(value) else "?"


_PREFIX_AND_NUMBER = re.compile(r"([^\d]*)(\d+)")


def _natural_key(item_id: str) -> tuple[Any, ...]:
    """:func:`layout.items.natural_key`, quicker for the usual id (letters, then digits):
    a switch's thousands of peers are sorted on a click."""
    match = _PREFIX_AND_NUMBER.fullmatch(item_id)
    if match is None:
        return natural_key(item_id)
    return (match[1], int(match[2]), "")


def _natural_sorted(ids: Sequence[str]) -> list[str]:
    return sorted(ids, key=_natural_key)


def _ids_text(ids: Sequence[str], limit: int = OTHER_RACKS_SHOWN, *, ordered: bool = False) -> str:
    """The first ``limit`` ids in natural order, and how many more (``ordered``: already sorted)."""
    ids = list(ids) if ordered else _natural_sorted(ids)
    text = ", ".join(ids[:limit])
    return text + (f", … (+{len(ids) - limit})" if len(ids) > limit else "")


class InspectorDock(QDockWidget):
    """Properties of the selected items; edits go to the undo stack as commands.

    Use :meth:`set_context` with the project and its ``gui.undo.UndoStack``,
    then :meth:`show_items` on every selection change and :meth:`set_results`
    after every check.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Inspector", parent)
        self.setObjectName("inspector")
        self.project: Any = None
        self.undo_stack: Any = None
        self.results: Any = None
        self.solved: Solution | None = None
        """The latest solution (fabric, routing, loads, thermal map, look-ups), or None."""
        self._ids: list[str] = []
        self._violations_by_item: dict[str, list[Any]] | None = None
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh)
        self._filled: dict[int, int] = {}
        self._fabric_shown = False
        """Rows filled so far in each figure form being refilled (see _clear_form)."""
        self._build()
        self.refresh()

    # -- building the widgets --------------------------------------------------------------------
    def _build(self) -> None:
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        # A scroll bar that came and went with the length of the figures (a switch has
        # more than a rack) changed the width of every row: a second layout and repaint
        # of the whole dock on a click.
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        body = QWidget(scroll)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        self.title_label = QLabel(body)
        font = self.title_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title_label.setFont(font)
        self.title_label.setWordWrap(True)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.title_label)
        self.subtitle_label = QLabel(body)
        self.subtitle_label.setWordWrap(True)
        self.subtitle_label.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle_label.setStyleSheet("color: #555;")
        layout.addWidget(self.subtitle_label)
        self.error_label = QLabel(body)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.hide()
        layout.addWidget(self.error_label)

        self.item_box = self._build_item_box(body)
        layout.addWidget(self.item_box)

        # Derived figures: read-only.
        self.figures_box, self.figures_form = self._figure_box(body, "Load and heat")
        self.supply_box, self.supply_form = self._figure_box(body, "Power and cooling")
        self.fabric_box, self.fabric_form = self._figure_box(body, "Fabric")
        for box in (self.figures_box, self.supply_box, self.fabric_box):
            layout.addWidget(box)
        self.properties_box = self._build_properties_box(body)
        layout.addWidget(self.properties_box)
        self.checks_box, self.checks_form = self._figure_box(body, "Checks")
        layout.addWidget(self.checks_box)
        layout.addStretch(1)
        scroll.setWidget(body)
        self.setWidget(scroll)

    def _build_item_box(self, body: QWidget) -> QGroupBox:
        """The editable identity and placement."""
        self.item_box = QGroupBox("Item", body)
        form = QFormLayout(self.item_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.id_label = QLabel(self.item_box)
        self.id_label.setTextFormat(Qt.TextFormat.PlainText)
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.type_combo = QComboBox(self.item_box)
        self.type_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.type_combo.setMinimumContentsLength(12)
        self.type_combo.activated.connect(self._on_type_chosen)
        self.name_edit = self._line_edit(self.item_box, self._commit_name)
        self.x_edit = self._line_edit(self.item_box, lambda: self._commit_position("x"))
        self.y_edit = self._line_edit(self.item_box, lambda: self._commit_position("y"))
        self.rotation_edit = self._line_edit(self.item_box, self._commit_rotation)
        rotation_row = QHBoxLayout()
        rotation_row.setSpacing(2)
        rotation_row.addWidget(self.rotation_edit, 1)
        self.rotate_button = QToolButton(self.item_box)
        self.rotate_button.setText("↻ 90°")
        self.rotate_button.setToolTip("Rotate by 90° clockwise")
        self.rotate_button.clicked.connect(self._rotate_quarter)
        rotation_row.addWidget(self.rotate_button)
        form.addRow("ID", self.id_label)
        form.addRow("Type", self.type_combo)
        form.addRow("Name", self.name_edit)
        form.addRow("x (m)", self.x_edit)
        form.addRow("y (m)", self.y_edit)
        form.addRow("Rotation (°)", rotation_row)
        return self.item_box

    def _build_properties_box(self, body: QWidget) -> QGroupBox:
        """Free-form properties, editable; an empty value removes one."""
        self.properties_box = QGroupBox("Properties", body)
        props = QVBoxLayout(self.properties_box)
        self.properties_table = QTableWidget(0, 2, self.properties_box)
        self.properties_table.setHorizontalHeaderLabels(["Property", "Value"])
        self.properties_table.verticalHeader().hide()
        self.properties_table.horizontalHeader().setStretchLastSection(True)
        self.properties_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.properties_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.properties_table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.properties_table.setToolTip("Double-click a value to edit it; clear it to remove")
        self.properties_table.itemChanged.connect(self._on_property_cell_changed)
        props.addWidget(self.properties_table)
        self.no_properties_label = QLabel("No properties.", self.properties_box)
        self.no_properties_label.setStyleSheet("color: #777;")
        props.addWidget(self.no_properties_label)
        add_row = QHBoxLayout()
        self.new_key_edit = QLineEdit(self.properties_box)
        self.new_key_edit.setPlaceholderText("new property")
        self.new_value_edit = QLineEdit(self.properties_box)
        self.new_value_edit.setPlaceholderText("value")
        self.new_value_edit.returnPressed.connect(self._add_property)
        self.add_button = QToolButton(self.properties_box)
        self.add_button.setText("Add")
        self.add_button.clicked.connect(self._add_property)
        add_row.addWidget(self.new_key_edit, 1)
        add_row.addWidget(self.new_value_edit, 1)
        add_row.addWidget(self.add_button)
        props.addLayout(add_row)
        return self.properties_box

    def _line_edit(self, parent: QWidget, commit: Callable[[], None]) -> QLineEdit:
        edit = QLineEdit(parent)
        # editingFinished also fires on focus loss: a value typed and left is applied too.
        edit.editingFinished.connect(commit)
        return edit

    @staticmethod
    def _figure_box(parent: QWidget, title: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title, parent)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return box, form

    # -- public ----------------------------------------------------------------------------
    def set_context(self, project: Any, undo_stack: Any) -> None:
        """Inspect ``project``, editing through ``undo_stack`` (a ``gui.undo.UndoStack``;
        None makes the inspector read-only). Clears the shown items."""
        if self.project is not None:
            self._unfollow(self.project)
        self.project = project
        self.undo_stack = undo_stack
        self._ids = []
        self.results = None
        self.solved = None
        self._violations_by_item = None
        if project is not None:
            self._follow(project)
        self.clear_message()
        self.refresh()

    def show_items(self, ids: Sequence[str]) -> None:
        """Show these items (the selection); unknown ids are skipped."""
        ids = list(dict.fromkeys(ids))
        if self.project is not None:
            ids = [i for i in ids if i in self.project.items]
        if ids != self._ids:
            self.clear_message()
        self._ids = ids
        self.refresh()

    def set_results(self, results: Any) -> None:
        """The latest check ``Results`` (or None); the Checks section shows what names the items."""
        self.results = results
        self._violations_by_item = None
        self._show_checks()
        self._end_forms()

    def set_solved(self, solved: Solution | None) -> None:
        """The latest solution (or None): refresh the derived figures of the item shown."""
        self.solved = solved
        project = self.project
        if len(self._ids) != 1 or project is None or self._ids[0] not in project.items:
            return
        item_id = self._ids[0]
        t = project.type_of(item_id)
        self._show_figures([project.items.type_ids[project.items.row(item_id)]])
        self._show_supply(item_id, t)
        self._show_fabric(item_id, t)
        self._end_forms()

    def _utilisation_text(self, unit_id: str) -> str | None:
        """A power unit's worst-case utilisation as text ("64% of rating at worst …"), or None."""
        load = item_figures.utilisation(self.solved, unit_id) if self.solved is not None else None
        if load is None:
            return None
        over = " — over the limit" if load.over else ""
        return (f"{load.fraction:.0%} of rating at worst ({load.worst_case}; "
                f"limit {load.limit:.0%}){over}")  # fmt: skip

    @property
    def shown_ids(self) -> list[str]:
        return list(self._ids)

    def figures(self) -> dict[str, str]:
        """The read-only rows shown (label → text) of every figure section, top to bottom."""
        out: dict[str, str] = {}
        for box, form in (
            (self.figures_box, self.figures_form),
            (self.supply_box, self.supply_form),
            (self.fabric_box, self.fabric_form),
            (self.checks_box, self.checks_form),
        ):
            if box.isHidden():
                continue
            for row in range(form.rowCount()):
                label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
                field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
                if label is None or field is None:
                    continue
                out.setdefault(label.widget().text(), field.widget().text())
        return out

    @property
    def message(self) -> str:
        """The inline message of the last refused edit ('' when none)."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def clear_message(self) -> None:
        self.error_label.clear()
        self.error_label.hide()
        for edit in (self.name_edit, self.x_edit, self.y_edit, self.rotation_edit):
            edit.setStyleSheet("")

    # -- events ---------------------------------------------------------------------------------
    def _follow(self, project: Any) -> None:
        project.item_moved.connect(self._on_items_event)
        project.item_changed.connect(self._on_items_changed)
        project.item_removed.connect(self._on_items_removed)
        project.settings_changed.connect(self._on_settings_changed)

    def _unfollow(self, project: Any) -> None:
        project.item_moved.disconnect(self._on_items_event, missing_ok=True)
        project.item_changed.disconnect(self._on_items_changed, missing_ok=True)
        project.item_removed.disconnect(self._on_items_removed, missing_ok=True)
        project.settings_changed.disconnect(self._on_settings_changed, missing_ok=True)

    def _concerns_shown(self, ids: Sequence[str]) -> bool:
        if not self._ids:
            return False
        if len(ids) < len(self._ids):
            shown = set(self._ids)
            return any(i in shown for i in ids)
        changed = set(ids)
        return any(i in changed for i in self._ids)

    def _on_items_event(self, ids: tuple[str, ...]) -> None:
        if self._concerns_shown(ids):
            self._refresh_timer.start()

    def _on_items_changed(self, ids: tuple[str, ...], _field: str) -> None:
        self._on_items_event(ids)

    def _on_items_removed(self, ids: tuple[str, ...]) -> None:
        if self._concerns_shown(ids):
            gone = set(ids)
            self._ids = [i for i in self._ids if i not in gone]
            self._refresh_timer.start()

    def _on_settings_changed(self, section: str) -> None:
        if self._ids and section in {"power", "cooling", "fabric", "floor"}:
            self._refresh_timer.start()

    # -- showing --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw every section from the model for the items shown."""
        self._refresh_timer.stop()
        try:
            self._refresh()
        finally:
            self._end_forms()

    def _refresh(self) -> None:
        project = self.project
        ids = [i for i in self._ids if project is not None and i in project.items]
        self._ids = ids
        editable = self.undo_stack is not None
        has_items = bool(ids)
        for box in (self.item_box, self.figures_box, self.properties_box, self.checks_box):
            box.setVisible(has_items)
        if not (has_items and len(ids) == 1):
            self.supply_box.setVisible(False)  # else _show_supply decides, without a flicker
        self._fabric_shown = False  # until _show_fabric says otherwise (see _end_forms)
        if not has_items:
            self.title_label.setText("Nothing selected")
            self.subtitle_label.setText(
                "Click an item on the floor to see and edit its properties."
                if project is not None
                else "No project open."
            )
            return
        for widget in (self.type_combo, self.name_edit, self.x_edit, self.y_edit,
                       self.rotation_edit, self.rotate_button, self.properties_table,
                       self.new_key_edit, self.new_value_edit, self.add_button):  # fmt: skip
            widget.setEnabled(editable)
        if len(ids) == 1:
            self._show_one(ids[0])
        else:
            self._show_many(ids)
        self._show_properties()
        self._show_checks()

    def _show_one(self, item_id: str) -> None:
        project = self.project
        item = project.items.get(item_id)
        t = project.catalog[item.type_id]
        self.title_label.setText(item.name or item.id)
        self.subtitle_label.setText(f"{kind_info(t.kind).title}: {t.name}")
        self.id_label.setText(item.id)
        self._fill_type_combo(t.kind, item.type_id)
        self._set_text(self.name_edit, item.name, "")
        self._set_text(self.x_edit, _metres(item.x), "")
        self._set_text(self.y_edit, _metres(item.y), "")
        self._set_text(self.rotation_edit, f"{item.rotation:g}", "")
        self.name_edit.setEnabled(self.undo_stack is not None)
        self.x_edit.setEnabled(self.undo_stack is not None)
        self.y_edit.setEnabled(self.undo_stack is not None)
        self._show_figures([item.type_id])
        self._show_supply(item_id, t)
        self._show_fabric(item_id, t)

    def _show_many(self, ids: list[str]) -> None:
        project = self.project
        rows = project.items.rows(ids)
        type_ids = [project.items.type_ids[r] for r in rows]
        kinds = {project.catalog[t].kind for t in set(type_ids)}
        self.title_label.setText(f"{len(ids):,} items selected")
        parts = []
        for k in sorted(kinds):
            n = sum(project.catalog[t].kind == k for t in type_ids)
            singular, plural = kind_info(k).singular, kind_info(k).plural
            parts.append(f"{n:,} {singular if n == 1 else plural}")
        by_kind = ", ".join(parts)
        self.subtitle_label.setText(by_kind)
        self.id_label.setText(_ids_text(ids))
        if len(kinds) == 1:
            common = type_ids[0] if len(set(type_ids)) == 1 else None
            self._fill_type_combo(next(iter(kinds)), common)
        else:
            self.type_combo.clear()
            self.type_combo.addItem("(several kinds)", None)
            self.type_combo.setEnabled(False)
        editable = self.undo_stack is not None
        self._set_text(self.name_edit, "", f"{len(ids):,} names")
        self.name_edit.setEnabled(False)
        for edit, column in ((self.x_edit, project.items.x), (self.y_edit, project.items.y)):
            values = column[rows]
            same = bool(np.all(values == values[0]))
            self._set_text(edit, _metres(float(values[0])) if same else "", "" if same else MIXED)
            # A shared x (a column of racks) can be moved as one; differing ones cannot.
            edit.setEnabled(editable and same)
        rotations = project.items.rotation[rows]
        same_rotation = bool(np.all(rotations == rotations[0]))
        self._set_text(
            self.rotation_edit,
            f"{float(rotations[0]):g}" if same_rotation else "",
            "" if same_rotation else MIXED,
        )
        self._show_figures(type_ids)

    def _set_text(self, edit: QLineEdit, text: str, placeholder: str) -> None:
        edit.setText(text)
        edit.setPlaceholderText(placeholder)
        edit.setCursorPosition(0)
        edit.setStyleSheet("")

    def _fill_type_combo(self, kind: str, current: str | None) -> None:
        combo = self.type_combo
        combo.blockSignals(True)
        combo.clear()
        catalog = self.project.catalog
        if current is None:
            combo.addItem(MIXED, None)
        for t in catalog.of_kind(kind):
            combo.addItem(type_icon(t), t.name, t.id)
            combo.setItemData(combo.count() - 1, f"{t.id}: {type_figures(t, catalog)}",
                              Qt.ItemDataRole.ToolTipRole)  # fmt: skip
        if current is not None and combo.findData(current) < 0:
            # A type the catalog no longer offers for this kind: still show it.
            combo.addItem(current, current)
        combo.setCurrentIndex(0 if current is None else combo.findData(current))
        combo.setEnabled(self.undo_stack is not None and combo.count() > 1)
        combo.blockSignals(False)

    def _clear_form(self, form: QFormLayout) -> None:
        """Start filling ``form`` again. :meth:`_add_figure` reuses its rows in order and
        :meth:`_end_forms` removes those left over: a click on another rack of the same kind
        then only changes some labels' text, where removing and adding every row made
        the whole dock lay out and repaint, twice."""
        self._filled[id(form)] = 0

    def _end_forms(self) -> None:
        """Remove the rows the figure forms being refilled did not use this time, and show
        the fabric section if it was filled (hiding it first and showing it again
        repainted it on every click)."""
        if self.fabric_box.isHidden() == self._fabric_shown:
            self.fabric_box.setVisible(self._fabric_shown)
        for form in (self.figures_form, self.supply_form, self.fabric_form, self.checks_form):
            filled = self._filled.pop(id(form), None)
            while filled is not None and form.rowCount() > filled:
                form.removeRow(form.rowCount() - 1)

    def _rows_filled(self, form: QFormLayout) -> int:
        return self._filled.get(id(form), form.rowCount())

    def _add_figure(self, form: QFormLayout, label: str, value: str, tooltip: str = "") -> QLabel:
        tooltip = literal_markup(tooltip)  # ids and catalog sources come from files
        row = self._rows_filled(form)
        self._filled[id(form)] = row + 1
        if row < form.rowCount():
            name = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = form.itemAt(row, QFormLayout.ItemRole.FieldRole).widget()
            # A row without a label (addRow with "") is only reused for another such row.
            if (name is None) == (label == "") and isinstance(field, QLabel):
                if name is not None and name.widget().text() != label:
                    name.widget().setText(label)
                if field.text() != value:
                    field.setText(value)
                if field.toolTip() != tooltip:
                    field.setToolTip(tooltip)
                if field.styleSheet():
                    field.setStyleSheet("")
                return field
            while form.rowCount() > row:
                form.removeRow(form.rowCount() - 1)
        field = QLabel(value)
        field.setWordWrap(True)
        field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        field.setTextFormat(Qt.TextFormat.PlainText)
        if tooltip:
            field.setToolTip(tooltip)
        form.addRow(label, field)
        return field

    def _show_figures(self, type_ids: list[str]) -> None:
        """Design load, heat split, GPUs and switches: of one item or summed over several."""
        catalog = self.project.catalog
        form = self.figures_form
        self._clear_form(form)
        counts: dict[str, int] = {}
        for t in type_ids:
            counts[t] = counts.get(t, 0) + 1
        load = air = liquid = 0.0
        gpus = switches = 0
        for type_id, n in counts.items():
            t = catalog[type_id]
            load += n * design_load_kw(t, catalog)
            air += n * air_heat_kw(t, catalog)
            liquid += n * liquid_heat_kw(t, catalog)
            if isinstance(t, GpuRackType):
                gpus += n * t.gpus
        kinds = {catalog[t].kind for t in counts}
        if len(type_ids) == 1:
            t = catalog[type_ids[0]]
            self._add_figure(form, "Type", type_figures(t, catalog), t.source)
        self.figures_box.setTitle("Rating and load" if kinds == {"power"} else "Load and heat")
        if kinds != {"power"}:
            tip = "Nameplate design load (servers, in-rack CDU, switches, own draw)"
            self._add_figure(form, "Power", format_kw(load), tip)
            self._add_figure(form, "Heat to air", format_kw(air))
            self._add_figure(form, "Heat to liquid", format_kw(liquid))
        if "power" in kinds and len(type_ids) == 1:
            self._add_power_unit_figures(catalog[type_ids[0]])
        kinds = {catalog[t].kind for t in counts}
        if "gpu_rack" in kinds:
            if len(type_ids) == 1:
                t = catalog[type_ids[0]]
                text = f"{t.gpus} × {t.gpu_model} ({t.servers} servers × {t.gpus_per_server})"
            else:
                text = f"{gpus:,}"
            self._add_figure(form, "GPUs", text)
        if "network_rack" in kinds:
            rows = self.project.items.rows(self._ids)
            net_rows = [r for r, t in zip(rows, type_ids, strict=True)
                        if catalog[t].kind == "network_rack"]  # fmt: skip
            switches = sum(installed_switches(self.project, int(r)) for r in net_rows)
            if len(type_ids) == 1:
                t = catalog[type_ids[0]]
                switch = catalog.get(t.switch)
                name = switch.name if switch is not None else t.switch
                text = f"{switches} of {t.switches} installed: {name}"
            else:
                text = f"{switches:,} installed"
            self._add_figure(form, "Switches", text)
        if len(type_ids) == 1 and isinstance(catalog[type_ids[0]], GpuRackType):
            cdu = catalog[type_ids[0]].in_rack_cdu
            if cdu is not None:
                ratings = ", ".join(
                    f"{format_kw(r.capacity_kw)} at {r.water_c:g} °C" for r in cdu.ratings
                )
                text = f"in-rack, {cdu.u} U, draws {format_kw(cdu.kw)}; holds {ratings}"
                self._add_figure(form, "CDU", text)

    def _add_power_unit_figures(self, t: Any) -> None:
        """A power unit's rating and the design load of the consumers it feeds directly."""
        project = self.project
        form = self.figures_form
        capacity = t.capacity_kw or 0.0
        derated, words = allowed_load(t, project.rules, project.items.properties_at(
            project.items.row(self._ids[0])))  # fmt: skip
        self._add_figure(form, "Capacity", f"{format_kw(capacity)} ({format_kw(derated)} "
                         f"{words})")  # fmt: skip
        if t.energy_kwh is not None:
            self._add_figure(form, "Energy", f"{t.energy_kwh:,.0f} kWh")
        item_id = self._ids[0]
        tip = "Design load of the units fed directly; with 2N each side carries it all"
        solved = self.solved
        if solved is None:
            self._add_figure(form, "Load fed", PENDING, tip)
            return
        if not item_figures.feeds(solved, item_id):
            return
        load = item_figures.load_fed_kw(solved, item_id)
        share = f" ({load / derated:.0%} of {words})" if derated > 0 else ""
        self._add_figure(form, "Load fed", f"{format_kw(load)}{share}", tip)

    def _unit_text(self, unit_id: str | None) -> str:
        if unit_id is None:
            return "none"
        if unit_id not in self.project.items:
            return f"{unit_id} (missing)"
        name = self.project.items.names[self.project.items.row(unit_id)]
        return f"{unit_id} ({name})" if name else unit_id

    def _show_supply(self, item_id: str, t: Any) -> None:
        """A/B feeds, upstream units, CDU and CRAH of one item, and what a unit serves."""
        project = self.project
        form = self.supply_form
        self._clear_form(form)
        feed = project.power.feeds.get(item_id)
        consumer = design_load_kw(t, project.catalog) > 0 or feed is not None
        if consumer:
            a = feed.a if feed is not None else None
            b = feed.b if feed is not None else None
            for label, unit in (("Feed A", a), ("Feed B", b)):
                text = self._unit_text(unit)
                load = self._utilisation_text(unit) if unit is not None else None
                self._add_figure(form, label, f"{text}: {load}" if load else text,
                                 "Worst-case load of the unit against its rating, from the "
                                 "latest check" if load else "")  # fmt: skip
        upstream = project.power.upstream.get(item_id)
        if upstream:
            self._add_figure(form, "Fed from", _ids_text(upstream), ", ".join(upstream))
        solved = self.solved
        if t.kind == "power":
            load = self._utilisation_text(item_id)
            if load is not None:
                self._add_figure(form, "Utilisation", load)
            if solved is None:
                self._add_figure(form, "Feeds", PENDING)
            else:
                fed = item_figures.feeds(solved, item_id)
                below = item_figures.supplies(solved, item_id)
                if fed:
                    self._add_figure(form, "Feeds", f"{len(fed):,}: {_ids_text(fed)}")
                if below:
                    self._add_figure(form, "Supplies", f"{len(below):,}: {_ids_text(below)}")
        if t.kind in ("gpu_rack", "network_rack"):
            in_rack = getattr(t, "in_rack_cdu", None) is not None
            cdu = project.cooling.cdu.get(item_id)
            liquid = liquid_heat_kw(t, project.catalog) > 0
            if in_rack:
                self._add_figure(form, "CDU", "in-rack")
            elif liquid or cdu is not None:
                self._add_figure(form, "CDU", self._unit_text(cdu))
            self._add_figure(form, "CRAH", self._unit_text(project.cooling.crah.get(item_id)))
            inlet = item_figures.inlet_c(solved, item_id) if solved is not None else None
            if inlet is not None and math.isfinite(inlet):
                rules = project.rules
                mark = ""
                if inlet > rules["inlet_allowable_c"]:
                    mark = " — above the allowable limit"
                elif inlet > rules["inlet_recommended_c"]:
                    mark = " — above the recommended limit"
                shown = self._add_figure(form, "Inlet (est.)", f"{inlet:.1f} °C{mark}",
                                         "Thermal screening model (plan view, not CFD)")
                if mark:
                    shown.setStyleSheet("color: #c62828;")
        if t.kind == "cooling":
            served = item_figures.serves(solved, item_id) if solved is not None else None
            if served is None:
                self._add_figure(form, "Serves", PENDING)
            elif served or t.role in ("cdu", "crah"):
                self._add_figure(form, "Serves", f"{len(served):,} racks: {_ids_text(served)}"
                                 if served else "no racks")  # fmt: skip
        self.supply_box.setVisible(self._rows_filled(form) > 0)

    def _show_fabric(self, item_id: str, t: Any) -> None:
        """The rack's role and its links per tier, with the racks at the other ends."""
        form = self.fabric_form
        self._clear_form(form)
        if t.kind not in ("gpu_rack", "network_rack"):
            return
        project = self.project
        row = project.items.row(item_id)
        if isinstance(t, NetworkRackType):
            props = project.items.properties_at(row)
            role = [f"tier {props['tier']}" if "tier" in props else "no tier"]
            for key in ("pod", "plane"):
                if key in props:
                    role.append(f"{key} {props[key]}")
            self._add_figure(form, "Role", ", ".join(role))
        self._fabric_shown = True
        solved = self.solved
        if solved is not None and solved.fabric is None:
            problem = solved.problems.get("fabric")
            self._add_figure(form, "Links", f"not derived: {problem}" if problem
                             else "no fabric spec (switch type, NIC speed)")  # fmt: skip
            return
        switches = item_figures.switch_figures(solved, item_id) if solved is not None else None
        if switches is not None:
            self._show_switch_figures(form, switches)
        links = item_figures.rack_links(solved, item_id) if solved is not None else None
        if links is None:
            # No solution yet, or the rack is newer than the latest one.
            self._add_figure(form, "Links", PENDING)
            return
        for tier in links.tiers:
            peers = _natural_sorted(tier.peers)  # once: a core switch has thousands
            racks = "rack" if len(peers) == 1 else "racks"
            text = f"{tier.links:,} links with {len(peers):,} {racks}: {_ids_text(peers, ordered=True)}"  # noqa: E501
            self._add_figure(form, tier.tier, text, ", ".join(peers))
        top = links.longest_cable
        if not links.tiers:
            unassigned = t.kind == "gpu_rack" and links.unassigned
            text = "none: not assigned to a leaf rack" if unassigned else "none"
            self._add_figure(form, "Links", text)
        elif top is not None:
            medium = top.medium or "no medium reaches"
            where = ("" if top.on_trays else " (along the row)" if top.in_row
                     else " (no tray path: Manhattan estimate)")  # fmt: skip
            tip = ("Run along the row through the racks, slack and loops included" if top.in_row
                   else "Routed over the trays, slack and service loops included")  # fmt: skip
            self._add_figure(form, "Longest cable",
                             f"{top.length_m:.1f} m {medium} to {top.to}{where}", tip)  # fmt: skip
            mix = ", ".join(f"{medium} × {n:,}" for medium, n in links.media.items())
            self._add_figure(form, "Media", mix, "Links by cable medium")
        else:
            tip = "Manhattan distance between rack centres, before tray routing"
            self._add_figure(form, "Longest link", f"≈ {links.longest_m:.1f} m", tip)

    def _show_switch_figures(self, form: QFormLayout, figures: Any) -> None:
        """A network rack's switches as the check derived them: type, ports, down:up."""
        ports = figures.ports
        self._add_figure(form, "Switch type",
                         f"{figures.switch_type} × {figures.switches} in the fabric",
                         figures.switch_name)  # fmt: skip
        used = ", ".join(f"{n:,} × {s:g}G" for s, n in sorted(ports.used.items())) or "none"
        use = "over budget" if not math.isfinite(ports.use) else f"{ports.use:.0%} of budget"
        shown = self._add_figure(
            form, "Ports", f"{used} used, {ports.free:,} free at {ports.free_speed_gbps:g}G "
            f"({use})", "A port at speed s takes 1/radix(s) of its switch",
        )  # fmt: skip
        if ports.use > 1 + 1e-9:
            shown.setStyleSheet("color: #c62828;")
        if figures.ratio is not None:
            ratio = "no uplinks" if not math.isfinite(figures.ratio) else f"{figures.ratio:.2f}:1"
            target = figures.target or 1.0
            shown = self._add_figure(form, "Down:up", f"{ratio} (target {target:g}:1)",
                                     f"{figures.down_gbps / 1000:,.1f} Tb/s down, "
                                     f"{figures.up_gbps / 1000:,.1f} Tb/s up")  # fmt: skip
            if figures.ratio > target + 1e-6:
                shown.setStyleSheet("color: #c62828;")

    def _show_properties(self) -> None:
        """Free-form properties: those of one item, or those every shown item has."""
        table = self.properties_table
        table.blockSignals(True)
        table.setRowCount(0)
        store = self.project.items
        props = [store.properties_at(r) for r in store.rows(self._ids)]
        keys = set(props[0])
        for p in props[1:]:
            keys &= set(p)
        for key in sorted(keys, key=natural_key):
            values = {format_value(p[key]) for p in props}
            row = table.rowCount()
            table.insertRow(row)
            key_cell = QTableWidgetItem(key)
            key_cell.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            value_cell = QTableWidgetItem(values.pop() if len(values) == 1 else "")
            if values:
                value_cell.setToolTip("Values differ; a value typed here applies to all")
                value_cell.setForeground(QColor("#888888"))
                value_cell.setText(MIXED)
            value_cell.setData(Qt.ItemDataRole.UserRole, key)
            table.setItem(row, 0, key_cell)
            table.setItem(row, 1, value_cell)
        height = table.horizontalHeader().height() + 2 * table.frameWidth()
        height += sum(table.rowHeight(r) for r in range(table.rowCount()))
        table.setFixedHeight(height + 2)
        table.setVisible(table.rowCount() > 0)
        self.no_properties_label.setVisible(table.rowCount() == 0)
        table.blockSignals(False)
        absent = len(self._ids) > 1 and any(set(p) - keys for p in props)
        self.properties_box.setTitle("Properties (shared by all)" if absent else "Properties")

    def _show_checks(self) -> None:
        form = self.checks_form
        self._clear_form(form)
        if not self._ids or self.project is None:
            self.checks_box.setVisible(False)
            return
        self.checks_box.setVisible(True)
        if self.results is None:
            self._add_figure(form, "Status", "not checked yet")
            return
        if self._violations_by_item is None:
            index: dict[str, list[Any]] = {}
            for v in self.results.violations:
                for item_id in v.items:
                    index.setdefault(item_id, []).append(v)
            self._violations_by_item = index
        found: dict[int, Any] = {}
        for item_id in self._ids:
            for v in self._violations_by_item.get(item_id, ()):
                found[id(v)] = v
        if not found:
            self._add_figure(form, "Status", "no violations")
            return
        order = {"error": 0, "warning": 1, "info": 2}
        listed = sorted(found.values(), key=lambda v: (order.get(v.severity, 9), v.rule))
        for v in listed[:5]:
            label = self._add_figure(form, v.severity, f"{v.rule}: {v.message}")
            if v.severity == "error":
                label.setStyleSheet("color: #c62828;")
        if len(listed) > 5:
            self._add_figure(form, "", f"… and {len(listed) - 5} more")

    # -- editing --------------------------------------------------------------------------------
    def _push(self, command: Command) -> bool:
        """Push ``command``; on the model's refusal show its message. True when applied."""
        if self.undo_stack is None:
            return False
        error = self.undo_stack.try_push(command)
        if error is not None:
            self._refuse(error)
            return False
        self.clear_message()
        return True

    def _refuse(self, message: str, edit: QLineEdit | None = None) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        if edit is not None:
            edit.setStyleSheet(INVALID_FIELD_STYLE)

    def _lowest(self, axis: str) -> float:
        x0, y0, _, _ = self.project.floor.bounds
        return min(0.0, x0 if axis == "x" else y0)

    def _commit_position(self, axis: str) -> None:
        if not self._ids or self.undo_stack is None:
            return
        edit = self.x_edit if axis == "x" else self.y_edit
        if not edit.isEnabled() or (not edit.text().strip() and edit.placeholderText() == MIXED):
            return
        try:
            value = parse_coordinate(edit.text(), axis, self._lowest(axis))
        except InvalidValueError as err:
            self._refuse(str(err), edit)
            return
        store = self.project.items
        rows = store.rows(self._ids)
        x, y = store.x[rows].copy(), store.y[rows].copy()
        target = x if axis == "x" else y
        if np.all(target == value):
            edit.setStyleSheet("")
            self.clear_message()
            return
        target[:] = value
        refused = self._placement_refusal(x, y, None, "place")
        if refused:
            self._refuse(refused, edit)
            return
        if self._push(MoveItems(list(self._ids), x.tolist(), y.tolist())):
            edit.setStyleSheet("")

    def _commit_rotation(self) -> None:
        if not self._ids or self.undo_stack is None:
            return
        edit = self.rotation_edit
        if not edit.text().strip() and edit.placeholderText() == MIXED:
            return
        try:
            value = parse_rotation(edit.text())
        except InvalidValueError as err:
            self._refuse(str(err), edit)
            return
        self._rotate_to(np.full(len(self._ids), value % 360.0))

    def _rotate_quarter(self) -> None:
        if not self._ids or self.undo_stack is None:
            return
        rows = self.project.items.rows(self._ids)
        self._rotate_to(np.mod(self.project.items.rotation[rows] + 90.0, 360.0))

    def _rotate_to(self, degrees: np.ndarray) -> None:
        rows = self.project.items.rows(self._ids)
        if np.all(self.project.items.rotation[rows] == degrees):
            self.clear_message()
            self.rotation_edit.setStyleSheet("")
            return
        store = self.project.items
        refused = self._placement_refusal(store.x[rows], store.y[rows], degrees, "rotate")
        if refused:
            self._refuse(refused, self.rotation_edit)
            return
        if self._push(RotateItems(list(self._ids), degrees.tolist())):
            self.rotation_edit.setStyleSheet("")

    def _placement_refusal(
        self, x: np.ndarray, y: np.ndarray, degrees: np.ndarray | None, verb: str
    ) -> str:
        """Why the shown items may not stand at (x, y) turned to ``degrees`` ("" if they
        may): the drag's legality and words, from the project's shared placement index."""
        index = PlacementIndex.for_project(self.project)
        # In model order, as the canvas's edits list them, so the first conflict is the same.
        order = np.argsort(self.project.items.rows(self._ids), kind="stable")
        ids = [self._ids[k] for k in order.tolist()]
        turned = None if degrees is None else np.asarray(degrees)[order]
        moving = MovingSet.of_items(index, ids, rotation=turned)
        return refusal(moving.conflicts_at(np.asarray(x)[order], np.asarray(y)[order]), verb)

    def _commit_name(self) -> None:
        if len(self._ids) != 1 or self.undo_stack is None:
            return
        item_id = self._ids[0]
        name = self.name_edit.text().strip()
        if name == self.project.items.get(item_id).name:
            return
        if any(ch in name for ch in "\n\r\t"):
            self._refuse("name: use one line without tabs", self.name_edit)
            return
        if self._push(RenameItem(item_id, name)):
            self.name_edit.setStyleSheet("")
        else:
            self.name_edit.setStyleSheet(INVALID_FIELD_STYLE)

    def _on_type_chosen(self, index: int) -> None:
        type_id = self.type_combo.itemData(index)
        if not type_id or not self._ids:
            return
        store = self.project.items
        changing = [i for i in self._ids if store.type_ids[store.row(i)] != type_id]
        if not changing:
            return
        commands: list[Command] = [SetItemType(i, type_id) for i in changing]
        command = commands[0] if len(commands) == 1 else CommandGroup(commands, "Change type")
        if not self._push(command):
            self.refresh_soon()

    def _on_property_cell_changed(self, cell: QTableWidgetItem) -> None:
        if cell.column() != 1:
            return
        key = cell.data(Qt.ItemDataRole.UserRole)
        text = cell.text()
        if text == MIXED:
            return
        self._set_property(key, parse_property_value(text))
        # The model's event refreshes the table; a refusal leaves it to show the old values.
        self.refresh_soon()

    def _add_property(self) -> None:
        key = self.new_key_edit.text().strip()
        if not key:
            self._refuse("new property: type a name first", self.new_key_edit)
            return
        value = parse_property_value(self.new_value_edit.text())
        if value is None:
            self._refuse(f"property {key}: type a value (an empty one removes it)",
                         self.new_value_edit)  # fmt: skip
            return
        if self._set_property(key, value):
            self.new_key_edit.clear()
            self.new_value_edit.clear()
            self.new_key_edit.setStyleSheet("")
            self.new_value_edit.setStyleSheet("")

    def _set_property(self, key: str, value: PropertyValue) -> bool:
        if not self._ids or self.undo_stack is None:
            return False
        store = self.project.items
        unchanged = all(store.properties_at(store.row(i)).get(key) == value and
                        type(store.properties_at(store.row(i)).get(key)) is type(value)
                        for i in self._ids)  # fmt: skip
        if unchanged:
            return True
        return self._push(SetProperty(list(self._ids), key, value))

    def refresh_soon(self) -> None:
        """Refresh once control returns to the event loop (after the current edit)."""
        self._refresh_timer.start()


__all__ = [
    "InspectorDock",
    "InvalidValueError",
    "parse_coordinate",
    "parse_property_value",
    "parse_rotation",
]
