"""The violations dock: the design-rule check's findings as a sortable, filterable table.

Owns how violations are listed, like a PCB tool's DRC list: severity, rule,
items and message, errors first; severity toggles with counts and a text filter
(rule, items or message); waived violations greyed at the bottom with their
reason. Double-click or Enter on a row emits :attr:`ViolationsDock.violation_activated`
with the :class:`physics.engine.Violation`; the window selects and frames it.
The dock never changes the project.

Scale: 100,000 violations must load and filter without freezing, so the rows
live in one :class:`ViolationTableModel` (no widget item per row) and every
per-row decision is taken in bulk in Python: sorting computes one permutation
in the model (the proxy does not call a Python ``lessThan`` a million times),
and filtering computes one list of flags that the proxy's ``filterAcceptsRow``
only looks up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.icons import SEVERITY_COLOURS, WAIVED_COLOUR, severity_icon
from layout.items import natural_key
from report.safe_text import literal_markup

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
SEVERITY_TITLES = {"error": "Errors", "warning": "Warnings", "info": "Info"}
ITEMS_SHOWN = 6
"""Item ids written out in the Items column before "… (+N)"."""
FILTER_DELAY_MS = 150
"""Typing pauses this long before the text filter runs (100k rows take ~0.1 s)."""

VIOLATION_ROLE = Qt.ItemDataRole.UserRole
"""Item data role holding a row's Violation."""
WAIVED_ROLE = Qt.ItemDataRole.UserRole + 1
"""Item data role holding a row's waiver reason (None when the row is not waived)."""

_ModelIndex = QModelIndex | QPersistentModelIndex


def _items_text(items: Sequence[str]) -> str:
    if len(items) <= ITEMS_SHOWN:
        return ", ".join(items)
    return ", ".join(items[:ITEMS_SHOWN]) + f", … (+{len(items) - ITEMS_SHOWN})"


class ViolationTableModel(QAbstractTableModel):
    """Rows of violations (active first, then waived), in the order last sorted.

    Row data: :data:`VIOLATION_ROLE` is the Violation, :data:`WAIVED_ROLE` the
    waiver's reason or None.
    """

    COLUMNS = ("Severity", "Rule", "Items", "Message")
    SEVERITY, RULE, ITEMS, MESSAGE = range(4)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._violations: list[Any] = []
        self._reasons: list[str | None] = []
        self._haystacks: list[str] | None = None
        self._shown: list[bool] = []
        self._counts: Counter[str] = Counter()
        self._sort: tuple[int, Qt.SortOrder] = (self.SEVERITY, Qt.SortOrder.AscendingOrder)
        self._waived_font = QFont()
        self._waived_font.setItalic(True)
        self._waived_brush = QColor(WAIVED_COLOUR)
        self._severity_brushes = {s: QColor(c) for s, c in SEVERITY_COLOURS.items()}

    # -- content ----------------------------------------------------------------------------
    def set_violations(
        self,
        violations: Sequence[Any],
        waived: Sequence[tuple[Any, Any]],
        severities: set[str] | None = None,
        text: str = "",
    ) -> None:
        """Show active ``violations`` and ``waived`` (violation, waiver) pairs, filtered as
        :meth:`set_filter` says (every row when ``severities`` is None)."""
        self.beginResetModel()
        self._violations = [*violations, *(v for v, _ in waived)]
        self._reasons = [None] * len(violations) + [w.reason for _, w in waived]
        self._haystacks = None
        self._counts = Counter(map(attrgetter("severity"), violations))
        self._counts["waived"] = len(waived)
        self._apply_order(self._order(*self._sort), filtered=False)
        # Filter before the reset ends, so the proxy maps the rows once, not twice.
        self.set_filter(set(SEVERITY_ORDER) if severities is None else severities, text)
        self.endResetModel()

    def violation(self, row: int) -> Any:
        return self._violations[row]

    def reason(self, row: int) -> str | None:
        return self._reasons[row]

    def is_shown(self, row: int) -> bool:
        return self._shown[row]

    def counts(self) -> dict[str, int]:
        """Active violations per severity, and ``"waived"``."""
        return {s: self._counts.get(s, 0) for s in (*SEVERITY_ORDER, "waived")}

    def set_filter(self, severities: set[str], text: str) -> None:
        """Decide which rows pass: severity in ``severities`` and ``text`` (case-insensitive)
        in the rule, an item id or the message. Waived rows follow their severity.
        The proxy must then be told (:meth:`ViolationFilterProxy.refilter`)."""
        needle = text.strip().casefold()
        if needle and self._haystacks is None:
            self._haystacks = [
                "\n".join((v.rule, *v.items, v.message)).casefold() for v in self._violations
            ]
        severity_of = [v.severity for v in self._violations]
        if needle:
            assert self._haystacks is not None
            self._shown = [
                s in severities and needle in h
                for s, h in zip(severity_of, self._haystacks, strict=True)
            ]
        else:
            self._shown = [s in severities for s in severity_of]

    # -- sorting ----------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column; waived rows stay at the bottom in either order."""
        if not 0 <= column < len(self.COLUMNS) or (column, order) == self._sort:
            # Rows are always kept in the current order (set_violations applies it), and
            # the view asks twice per header click (its sort indicator and its own call).
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        old_of_new = self._order(column, order)
        new_of_old = [0] * len(old_of_new)
        for new, old in enumerate(old_of_new):
            new_of_old[old] = new
        self._apply_order(old_of_new)
        persistent = self.persistentIndexList()
        moved = [self.index(new_of_old[i.row()], i.column()) for i in persistent]
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def _passes(self, column: int) -> list[list[Any]]:
        """Sort keys of every row, least significant first: sorting stably by each in
        turn orders by all of them, and simple keys compare much faster than tuples."""
        vs = self._violations
        rank = [SEVERITY_ORDER.get(v.severity, 9) for v in vs]
        rules = [v.rule for v in vs]
        items = [v.items for v in vs]
        if column == self.SEVERITY:
            return [items, rules, rank]
        if column == self.RULE:
            return [items, rank, rules]
        if column == self.ITEMS:
            first = [natural_key(i[0]) if i else () for i in items]
            return [rank, [len(i) for i in items], first]
        return [rank, [v.message for v in vs]]

    def _order(self, column: int, order: Qt.SortOrder) -> list[int]:
        """Rows (current numbering) in their new order: active ones, then waived ones."""
        descending = order == Qt.SortOrder.DescendingOrder
        active = [r for r, reason in enumerate(self._reasons) if reason is None]
        waived = [r for r, reason in enumerate(self._reasons) if reason is not None]
        for keys in self._passes(column):
            active.sort(key=keys.__getitem__, reverse=descending)
            waived.sort(key=keys.__getitem__, reverse=descending)
        return active + waived

    def _apply_order(self, old_of_new: list[int], filtered: bool = True) -> None:
        self._violations = [self._violations[r] for r in old_of_new]
        self._reasons = [self._reasons[r] for r in old_of_new]
        if filtered:
            self._shown = [self._shown[r] for r in old_of_new]
        if self._haystacks is not None:
            self._haystacks = [self._haystacks[r] for r in old_of_new]

    # -- Qt model ---------------------------------------------------------------------------
    def rowCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._violations)

    def columnCount(self, parent: _ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: _ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: PLR0911 - one answer per role
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        v = self._violations[row]
        reason = self._reasons[row]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.SEVERITY:
                return v.severity if reason is None else "waived"
            if column == self.RULE:
                return v.rule
            if column == self.ITEMS:
                return _items_text(v.items)
            return v.message if reason is None else f"{v.message} — waived: {reason}"
        if role == Qt.ItemDataRole.DecorationRole and column == self.SEVERITY:
            return severity_icon(v.severity, reason is not None)
        if role == Qt.ItemDataRole.ForegroundRole:
            if reason is not None:
                return self._waived_brush
            return None
        if role == Qt.ItemDataRole.FontRole and reason is not None:
            return self._waived_font
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{v.rule} ({v.severity}): {v.message}"
            if v.items:
                tip += "\nItems: " + _items_text(v.items)
            if reason is not None:
                tip += f"\nWaived: {reason}"
            return literal_markup(tip)  # names and reasons come from the file
        if role == VIOLATION_ROLE:
            return v
        if role == WAIVED_ROLE:
            return reason
        return None

    def flags(self, index: _ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class ViolationFilterProxy(QSortFilterProxyModel):
    """Shows the rows the model's filter passes; sorting is handed to the model, which
    sorts 100k rows in one Python ``sorted`` instead of per-pair ``lessThan`` calls."""

    def __init__(self, model: ViolationTableModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self.setSourceModel(model)

    def filterAcceptsRow(self, source_row: int, source_parent: _ModelIndex) -> bool:
        # Called once per row on every refilter: a list lookup, nothing more.
        return self._model._shown[source_row]

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._model.sort(column, order)

    def refilter(self) -> None:
        """Re-read the model's filter flags (one layout change, cheap at 100k rows)."""
        self.invalidate()


class ViolationsDock(QDockWidget):
    """The check's violations, sortable and filterable; activate a row to go to it.

    Signals
    -------
    violation_activated(object)
        The :class:`physics.engine.Violation` of a row double-clicked or
        activated with Enter (waived rows too).
    """

    violation_activated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Violations", parent)
        self.setObjectName("violations")
        self.results: Any = None
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)

        layout.addLayout(self._build_filter_bar(body))
        self.model = ViolationTableModel(self)
        self.proxy = ViolationFilterProxy(self.model, self)
        self.table = self._build_table(body)
        layout.addWidget(self.table, 1)
        self.empty_label = QLabel(body)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet("color: #2e7d32; padding: 8px;")
        self.empty_label.hide()
        layout.addWidget(self.empty_label)
        self.setWidget(body)
        self._update_counts()

    def _build_filter_bar(self, body: QWidget) -> QHBoxLayout:
        """Counts, severity toggles and the text filter."""
        bar = QHBoxLayout()
        bar.setSpacing(4)
        self.summary_label = QLabel("Not checked yet", body)
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        bar.addWidget(self.summary_label, 1)
        self.severity_buttons: dict[str, QToolButton] = {}
        for severity in SEVERITY_ORDER:
            button = QToolButton(body)
            button.setCheckable(True)
            button.setChecked(True)
            button.setIcon(severity_icon(severity))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setToolTip(f"Show {SEVERITY_TITLES[severity].lower()}")
            button.toggled.connect(self._apply_filter)
            self.severity_buttons[severity] = button
            bar.addWidget(button)
        self.filter_edit = QLineEdit(body)
        self.filter_edit.setPlaceholderText("Filter rule, items or message")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMinimumWidth(160)
        bar.addWidget(self.filter_edit)

        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.filter_edit.textChanged.connect(self._filter_timer.start)
        self.filter_edit.returnPressed.connect(self._apply_filter)
        return bar

    def _build_table(self, body: QWidget) -> QTableView:
        self.table = QTableView(body)
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        vertical = self.table.verticalHeader()
        vertical.hide()
        # Fixed rows: the view never measures 100k rows' contents.
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        char = self.table.fontMetrics().horizontalAdvance("M")
        for column, width in ((0, 11), (1, 17), (2, 16)):
            self.table.setColumnWidth(column, width * char)
        self.table.setSortingEnabled(True)
        header.setSortIndicator(ViolationTableModel.SEVERITY, Qt.SortOrder.AscendingOrder)
        self.table.activated.connect(self._on_activated)
        return self.table

    # -- public ---------------------------------------------------------------------------------
    def show_results(self, results: Any) -> None:
        """Show a check's ``Results`` (violations and waived ones); None clears the list."""
        self.results = results
        self._filter_timer.stop()
        severities = {s for s, b in self.severity_buttons.items() if b.isChecked()}
        if results is None:
            self.model.set_violations([], [])
        else:
            text = self.filter_edit.text()
            self.model.set_violations(results.violations, results.waived, severities, text)
        self._update_counts()

    def set_text_filter(self, text: str) -> None:
        """Filter by ``text`` now (as typing it and pausing would)."""
        self.filter_edit.setText(text)
        self._apply_filter()

    def set_severity_shown(self, severity: str, shown: bool) -> None:
        """Show or hide one severity (as its toggle button does)."""
        self.severity_buttons[severity].setChecked(shown)

    def shown_violations(self) -> list[Any]:
        """The violations the table shows, top to bottom."""
        return [self.proxy.index(r, 0).data(VIOLATION_ROLE) for r in range(self.proxy.rowCount())]

    def sort_by(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort as clicking the column's header does."""
        self.table.sortByColumn(column, order)

    # -- internals -------------------------------------------------------------------------------
    def _apply_filter(self, *_: object) -> None:
        self._filter_timer.stop()
        severities = {s for s, b in self.severity_buttons.items() if b.isChecked()}
        self.model.set_filter(severities, self.filter_edit.text())
        self.proxy.refilter()
        self._update_counts()

    def _update_counts(self) -> None:
        counts = self.model.counts()
        for severity, button in self.severity_buttons.items():
            button.setText(f"{SEVERITY_TITLES[severity]} {counts[severity]:,}")
        total = self.model.rowCount()
        if self.results is None:
            self.summary_label.setText("Not checked yet")
            self.empty_label.hide()
            return
        parts = [
            f"{counts['error']:,} error{'s' * (counts['error'] != 1)}",
            f"{counts['warning']:,} warning{'s' * (counts['warning'] != 1)}",
            f"{counts['info']:,} info",
        ]
        if counts["waived"]:
            parts.append(f"{counts['waived']:,} waived")
        text = ", ".join(parts)
        shown = self.proxy.rowCount()
        if shown != total:
            text += f" — showing {shown:,} of {total:,}"
        self.summary_label.setText(text)
        colour = SEVERITY_COLOURS["error"] if counts["error"] else "#2e7d32"
        self.summary_label.setStyleSheet(f"color: {colour}; font-weight: bold;")
        if total == 0:
            seconds = getattr(self.results, "seconds", 0.0)
            self.empty_label.setText(f"No violations (checked in {seconds:.2f} s)")
        self.empty_label.setVisible(total == 0)
        self.table.setVisible(total > 0)

    def _on_activated(self, index: QModelIndex) -> None:
        violation = index.data(VIOLATION_ROLE)
        if violation is not None:
            self.violation_activated.emit(violation)
