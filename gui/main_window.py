"""The main window: the floor canvas, the violations list, menus and the status bar.

Owns the window's wiring: which project is open and from which file, opening
and saving it, running the check and showing its results. Bad files and failed
saves are reported in a message box with the model's one-line message; the
open project is left as it was. The window never changes the model itself.

For now the check runs on the UI thread, once when a project is shown and once
per burst of project events (coalesced by a zero-delay timer); it is to move
to a debounced worker thread when editing arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

import physics
from gui.floor_scene import FloorScene
from gui.floor_view import FloorView
from layout import dclayout
from layout.errors import CoherenceError
from layout.project import Project

FILE_FILTER = "Coherence layouts (*.dclayout);;All files (*)"
VIOLATION_ZOOM_MARGIN_M = 2.0
"""Metres shown around a violation's items when it is double-clicked."""

_SEVERITY_ICONS = {
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
}


class ViolationsList(QTreeWidget):
    """One row per violation: severity, rule, items, message. Row data is the violation."""

    COLUMNS = ("Severity", "Rule", "Items", "Message")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(len(self.COLUMNS))
        self.setHeaderLabels(self.COLUMNS)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    def show_violations(self, violations: list[physics.Violation]) -> None:
        self.clear()
        rows = []
        for violation in violations:
            row = QTreeWidgetItem(
                [violation.severity, violation.rule, ", ".join(violation.items), violation.message]
            )
            icon = _SEVERITY_ICONS.get(violation.severity)
            if icon is not None:
                row.setIcon(0, self.style().standardIcon(icon))
            row.setToolTip(3, violation.message)
            row.setData(0, Qt.ItemDataRole.UserRole, violation)
            rows.append(row)
        self.addTopLevelItems(rows)
        for column in range(len(self.COLUMNS) - 1):
            self.resizeColumnToContents(column)

    @staticmethod
    def violation_of(row: QTreeWidgetItem) -> physics.Violation:
        return row.data(0, Qt.ItemDataRole.UserRole)


class MainWindow(QMainWindow):
    """Coherence's main window on one project (``path`` is its file, if it has one)."""

    def __init__(self, project: Project, path: Path | None = None) -> None:
        super().__init__()
        self.project = project
        self.path = path
        self.results: physics.Results | None = None

        self.scene = FloorScene(project, self)
        self.view = FloorView(self.scene, self)
        self.setCentralWidget(self.view)

        self.violations = ViolationsList(self)
        self.violations.itemActivated.connect(self._on_violation_activated)
        self.violations_dock = QDockWidget("Violations", self)
        self.violations_dock.setObjectName("violations")
        self.violations_dock.setWidget(self.violations)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.violations_dock)
        self.resizeDocks([self.violations_dock], [150], Qt.Orientation.Vertical)

        self.cursor_label = QLabel(self)
        self.gpu_label = QLabel(self)
        self.check_label = QLabel(self)
        self.statusBar().addWidget(self.cursor_label, 1)
        self.statusBar().addPermanentWidget(self.gpu_label)
        self.statusBar().addPermanentWidget(self.check_label)
        self.view.cursor_moved.connect(self._show_cursor)

        # Events come in bursts (one edit can move 500 racks): check once per burst.
        self._recheck = QTimer(self)
        self._recheck.setSingleShot(True)
        self._recheck.setInterval(0)
        self._recheck.timeout.connect(self.run_check)

        self._build_menus()
        self.resize(1280, 800)
        self._follow(project)
        self._show_project()

    # -- menus ------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open…", QKeySequence.StandardKey.Open, self.open_dialog)
        file_menu.addSeparator()
        self._action(file_menu, "&Save", QKeySequence.StandardKey.Save, self.save)
        self._action(file_menu, "Save &As…", QKeySequence.StandardKey.SaveAs, self.save_as)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)

        view_menu = self.menuBar().addMenu("&View")
        self._action(view_menu, "Zoom &In", QKeySequence.StandardKey.ZoomIn, self.view.zoom_in)
        self._action(view_menu, "Zoom &Out", QKeySequence.StandardKey.ZoomOut, self.view.zoom_out)
        fit = self._action(view_menu, "&Fit", QKeySequence("Ctrl+0"), self.view.fit_floor)
        fit.setStatusTip("Show the whole floor")
        view_menu.addSeparator()
        view_menu.addAction(self.violations_dock.toggleViewAction())

    def _action(
        self,
        menu: QMenu,
        text: str,
        shortcut: QKeySequence | QKeySequence.StandardKey,
        slot: Callable[[], object],
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    # -- the project ---------------------------------------------------------------------------
    def set_project(self, project: Project, path: Path | None) -> None:
        """Show ``project`` (read from ``path``, if any) in place of the current one."""
        self._unfollow(self.project)
        self.project = project
        self.path = path
        self.scene.set_project(project)
        self._follow(project)
        self._show_project()

    def _follow(self, project: Project) -> None:
        for signal in self._events(project):
            signal.connect(self._schedule_check)

    def _unfollow(self, project: Project) -> None:
        for signal in self._events(project):
            signal.disconnect(self._schedule_check, missing_ok=True)

    @staticmethod
    def _events(project: Project) -> tuple:
        return (
            project.item_added,
            project.item_removed,
            project.item_moved,
            project.item_changed,
            project.settings_changed,
        )

    def _show_project(self) -> None:
        name = self.path.name if self.path is not None else self.project.name
        self.setWindowTitle(f"{name} — Coherence")
        self.run_check()
        self.view.fit_floor()
        # The viewport has its final size only once the window is laid out.
        QTimer.singleShot(0, self.view.fit_floor)

    def _schedule_check(self, *_: object) -> None:
        self._recheck.start()

    def run_check(self) -> None:
        """Check the project and show the results in the list, the canvas and the status bar."""
        self._recheck.stop()
        self.results = physics.check(self.project)
        violations = self.results.violations
        self.violations.show_violations(violations)
        self.scene.mark_violations(violations)
        self.gpu_label.setText(f"{self.project.gpu_count():,} GPUs")
        errors, warnings = self.results.errors, self.results.warnings
        self.check_label.setText(
            f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
        )

    # -- files --------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(self.path.parent) if self.path is not None else ""
        name, _ = QFileDialog.getOpenFileName(self, "Open layout", start, FILE_FILTER)
        if name:
            self.open_file(Path(name))

    def open_file(self, path: Path) -> bool:
        """Open ``path``; on failure say why and keep the current project. True if opened."""
        try:
            project = dclayout.load(path)
        except CoherenceError as err:
            QMessageBox.critical(self, "Cannot open layout", str(err))
            return False
        self.set_project(project, path)
        return True

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self.save_to(self.path)

    def save_as(self) -> bool:
        start = str(self.path) if self.path is not None else f"{self.project.name}.dclayout"
        name, _ = QFileDialog.getSaveFileName(self, "Save layout as", start, FILE_FILTER)
        if not name:
            return False
        path = Path(name)
        if not path.suffix:
            path = path.with_suffix(dclayout.SUFFIX)
        return self.save_to(path)

    def save_to(self, path: Path) -> bool:
        """Write the project to ``path``; on failure say why (the project is untouched)."""
        try:
            dclayout.save(self.project, path)
        except CoherenceError as err:
            QMessageBox.critical(self, "Cannot save layout", str(err))
            return False
        self.path = path
        self.setWindowTitle(f"{path.name} — Coherence")
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    # -- canvas and list ------------------------------------------------------------------------
    def _show_cursor(self, x_m: float, y_m: float) -> None:
        self.cursor_label.setText(f"x {x_m:.2f} m, y {y_m:.2f} m")

    def _on_violation_activated(self, row: QTreeWidgetItem, _column: int = 0) -> None:
        self.go_to_violation(ViolationsList.violation_of(row))

    def go_to_violation(self, violation: physics.Violation) -> None:
        """Select the violation's items and frame them and its position."""
        self.scene.select_ids(violation.items)
        area = QRectF()
        for item_id in violation.items:
            item = self.scene.equipment_item(item_id)
            if item is not None:
                area = area.united(item.sceneBoundingRect())
        if violation.position is not None:
            x, y = violation.position
            spot = QRectF(x - 0.5, y - 0.5, 1.0, 1.0)
            area = spot if area.isNull() else area.united(spot)
        if area.isNull():
            return
        margin = VIOLATION_ZOOM_MARGIN_M
        self.view.show_area(area.adjusted(-margin, -margin, margin, margin))

    def closeEvent(self, event: QCloseEvent) -> None:
        self._unfollow(self.project)
        self.scene.detach()
        super().closeEvent(event)
