"""The main window: one project on the floor canvas, with its docks, menus and status bar.

Owns the application shell around the canvas and the docks: which project is
open and from which file, its undo stack (one per open project; clean means
saved), opening, saving, asking before unsaved work is thrown away, the
background check and where its results go, autosave, the New Cluster wizard,
rack elevations and the Tools menu.

It never changes the model itself: canvas edits go through
:class:`gui.canvas.editor.Editor`, Tools through :class:`gui.undo.UndoStack` as
layout commands (so each is one undo step). Bad files and failed saves are
reported in a message box with the model's one-line message, and the open
project is left as it was.

Docks: equipment palette (left), inspector (right), violations (bottom),
layers (right, below the inspector: the tile grid and the overlays the scene
offers, with the legends of the visible solver overlays). The background
check also computes the solver outputs the overlays and the inspector show
(a :class:`physics.solution.Solution`, from :mod:`gui.checker`'s worker thread).

File → Import Floor Plan (DXF) replaces the floor as one undo step; the
exports (report, picture, BOM, DXF) write files through ``report/`` and say
in a message box when they cannot. A right click on an item offers "Fail
this unit (what-if)", which shows the same dialog as Tools → What-if.

Status bar: cursor position in metres, GPUs, IT MW, errors and
warnings, and when the last check ran ("checking…" while one runs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRectF, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

import physics
from gui.autosave import INTERVAL_S, AutosaveEntry, Autosaver
from gui.canvas.editor import Editor
from gui.canvas.scene import FloorScene
from gui.canvas.solver_overlays import TRAY_FILL, LegendView
from gui.canvas.solver_overlays import install as install_solver_overlays
from gui.canvas.view import FloorView
from gui.checker import DEBOUNCE_MS, BackgroundChecker
from gui.dialogs.elevation import ElevationDialog, has_elevation
from gui.dialogs.wizard import NewClusterWizard
from gui.docks.inspector import InspectorDock
from gui.docks.palette import PaletteDock
from gui.docks.violations import ViolationsDock
from gui.recent import RecentFiles
from gui.undo import UndoStack
from layout import dclayout
from layout.assign import auto_assign_fabric, auto_assign_plant
from layout.commands import CommandGroup, ReplaceSection
from layout.errors import CoherenceError
from layout.floor import Floor
from layout.project import Project
from physics.solution import Solution

FILE_FILTER = "Coherence layouts (*.dclayout);;All files (*)"
DXF_FILTER = "DXF drawings (*.dxf);;All files (*)"
REPORT_FILTER = "PDF report (*.pdf);;HTML report (*.html)"
PICTURE_FILTER = "PNG picture (*.png);;SVG drawing (*.svg)"
BOM_FILTER = "CSV tables (*.csv);;Excel workbook (*.xlsx)"
PICTURE_OVERLAYS = {"links": "links", TRAY_FILL: "fill"}
"""Canvas overlay → the overlay of ``report.pictures`` drawing the same, for exports."""
VIOLATION_ZOOM_MARGIN_M = 2.0
"""Metres shown around a violation's items when it is double-clicked."""
EMPTY_HALL_M = (60.0, 40.0)
"""Width and depth a new empty hall is offered with."""
STATUS_MESSAGE_MS = 5000
GRID_LAYER = "Tile grid"


class HallSizeDialog(QDialog):
    """File → New: the width and depth of a new rectangular hall."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New Hall — Coherence")
        form = QFormLayout(self)
        self.width_m = self._metres(EMPTY_HALL_M[0])
        self.depth_m = self._metres(EMPTY_HALL_M[1])
        form.addRow("&Width:", self.width_m)
        form.addRow("&Depth:", self.depth_m)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _metres(self, value: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setRange(2.0, 5000.0)
        spin.setDecimals(1)
        spin.setSuffix(" m")
        spin.setValue(value)
        return spin

    def size_m(self) -> tuple[float, float]:
        return self.width_m.value(), self.depth_m.value()


def _listed(ids: Sequence[str], limit: int = 8) -> str:
    ids = list(ids)
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit:,} more" if len(ids) > limit else "")


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def _power_lines(found: dict[str, Any]) -> list[str]:
    lines = []
    units = found.get("units_unpowered", [])
    if units:
        lines.append(f"Power units losing power: {_count(len(units), 'unit')} ({_listed(units)})")
    consumers = found.get("consumers_unpowered", [])
    if consumers:
        lines.append(f"Equipment losing power: {_count(len(consumers), 'item')} "
                     f"({_listed(consumers)})")  # fmt: skip
    gpus = found.get("gpus_unpowered", 0)
    lines.append(f"GPUs without power: {gpus:,}; IT load lost {found.get('it_kw_lost', 0):,.1f} kW "
                 f"(all load lost {found.get('kw_lost', 0):,.1f} kW)")  # fmt: skip
    if found.get("on_one_feed"):
        lines.append(f"Left on one feed (no redundancy): {_count(found['on_one_feed'], 'item')}")
    for unit in found.get("overloaded", []):
        lines.append(
            f"Overloaded: {unit['unit']} would carry {unit['load_kw']:,.1f} kW "
            f"(was {unit['before_kw']:,.1f}; limit {unit['limit_kw']:,.1f} kW)"
        )
    return lines


def _cooling_lines(found: dict[str, Any]) -> list[str]:
    lines = []
    down = found.get("units_down", [])
    if down:
        lines.append(f"Cooling units down: {_listed(down)}")
    for key, what in (("racks_without_liquid_cooling", "Racks losing liquid cooling"),
                      ("racks_without_air_cooling", "Racks losing air cooling"),
                      ("racks_newly_above_allowable", "Racks newly above the allowable inlet")):
        racks = found.get(key, [])
        if racks:
            lines.append(f"{what}: {_count(len(racks), 'rack')} ({_listed(racks)})")
    if found.get("racks_moved_to_another_crah"):
        lines.append(f"Air heat of {_count(found['racks_moved_to_another_crah'], 'rack')} "
                     "moves to another CRAH")  # fmt: skip
    for unit in found.get("crahs_overloaded", []):
        lines.append(f"Overloaded: {unit['unit']} would take {unit['load_kw']:,.1f} kW "
                     f"of air heat (capacity {unit['capacity_kw']:,.1f} kW)")  # fmt: skip
    for short in found.get("heat_rejection_short", []):
        lines.append(f"Heat rejection short: {short['units']} carry {short['capacity_kw']:,.1f} "
                     f"of {short['heat_kw']:,.1f} kW")  # fmt: skip
    if "worst_inlet_c_before" in found:
        lines.append(f"Worst rack inlet (estimate): {found['worst_inlet_c_before']:.1f} → "
                     f"{found['worst_inlet_c_after']:.1f} °C")  # fmt: skip
    lines.append(f"GPUs losing cooling: {found.get('gpus_affected', 0):,} "
                 f"({found.get('kw_lost', 0):,.1f} kW of load)")  # fmt: skip
    return lines


def _fabric_lines(found: dict[str, Any]) -> list[str]:
    cut = list(found.get("racks_disconnected", []))
    lines = [f"GPUs cut off from the fabric: {found.get('gpus_disconnected', 0):,}"
             + (f" ({_count(len(cut), 'rack')}: {_listed(cut)})" if cut else "")]
    if "bisection_lost" in found:
        lines.append(f"Switch-to-switch links lost: {found['bisection_lost']:.1%}")
    return lines


SECTION_LINES = {"power": _power_lines, "cooling": _cooling_lines, "fabric": _fabric_lines}
SECTION_TITLES = {"power": "Power", "cooling": "Cooling", "fabric": "Fabric"}
SECTION_GPUS = {"power": "gpus_unpowered", "cooling": "gpus_affected",
                "fabric": "gpus_disconnected"}  # fmt: skip


def what_if_text(report: dict[str, Any], project: Project) -> str:
    """A what-if report (:func:`physics.whatif.fail`) as plain, readable lines."""
    failed = list(report.get("failed", []))
    names = []
    for item_id in failed:
        if item_id in project.items:
            t = project.type_of(item_id)
            names.append(f"{item_id} ({t.name})")
        else:
            names.append(item_id)
    lines = [f"If {_listed(names)} fail{'s' if len(failed) == 1 else ''}:"]
    sections = [k for k in ("power", "cooling", "fabric") if k in report]
    sections += sorted(k for k in report if k not in SECTION_LINES and k != "failed")
    total = project.gpu_count()
    affected = {k: int(report[k].get(SECTION_GPUS[k], 0)) for k in sections if k in SECTION_GPUS}
    if affected:
        worst = max(affected.values())
        share = f" ({worst / total:.1%} of {total:,})" if total else ""
        parts = ", ".join(f"{SECTION_TITLES[k].lower()} {n:,}" for k, n in affected.items())
        lines.append(f"GPUs affected: {worst:,}{share} — {parts}")
    for section in sections:
        found = dict(report[section])
        lines.append("")
        lines.append(SECTION_TITLES.get(section, section.capitalize()))
        describe = SECTION_LINES.get(section)
        if describe is not None:
            body = describe(found)
        else:
            body = [f"{k.replace('_', ' ')}: {v}" for k, v in sorted(found.items())]
        lines.extend(f"• {line}" for line in body)
    if not sections:
        lines.append("Nothing the solvers model depends on it: no power, cooling or fabric lost.")
    return "\n".join(lines)


class WhatIfDialog(QDialog):
    """A what-if report: readable text, and the raw report under Details."""

    def __init__(self, report: dict[str, Any], project: Project, parent: QWidget | None = None
                 ) -> None:  # fmt: skip
        super().__init__(parent)
        self.report = report
        failed = report.get("failed", [])
        self.setWindowTitle(f"What-if: {', '.join(failed[:3])}{' …' if len(failed) > 3 else ''}"
                            " — Coherence")  # fmt: skip
        layout = QVBoxLayout(self)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setPlainText(what_if_text(report, project))
        self.text.setMinimumSize(560, 300)
        layout.addWidget(self.text)
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setPlainText(_report_json(report))
        self.details.hide()
        layout.addWidget(self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        toggle = buttons.addButton("Details…", QDialogButtonBox.ButtonRole.ActionRole)
        toggle.clicked.connect(lambda: self.details.setVisible(self.details.isHidden()))
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)


class MainWindow(QMainWindow):
    """Coherence's main window on one project (``path`` is its file, if it has one).

    ``unsaved`` marks the project as having unsaved changes from the start (a
    generated or recovered project). ``autosave_dir`` and ``autosave_interval_s``
    override where and how often autosave writes; ``check_delay_ms`` the
    debounce of the background check.
    """

    def __init__(
        self,
        project: Project,
        path: Path | None = None,
        *,
        unsaved: bool = False,
        autosave_dir: Path | None = None,
        autosave_interval_s: float = INTERVAL_S,
        check_delay_ms: int = DEBOUNCE_MS,
    ) -> None:
        super().__init__()
        self.project = project
        self.path = path
        self.results: physics.Results | None = None
        self.solved: Solution | None = None
        """The latest solver outputs (:class:`physics.solution.Solution`), or None."""
        self.what_if_dialog: WhatIfDialog | None = None
        self.recent = RecentFiles()
        self._dialogs: list[QWidget] = []

        self.underlay_dir: Path | None = path.parent if path is not None else None
        """The folder the floor's relative underlay path is relative to: that of the file
        the project came from (kept through Save As, which rewrites the path for the file)."""
        self.undo_stack = UndoStack(project, self)
        self.scene = FloorScene(project, self, underlay_dir=self.underlay_dir)
        self.view = FloorView(self.scene, self)
        self.setCentralWidget(self.view)
        self.editor = Editor(self.scene, self.view, self.undo_stack)
        install_solver_overlays(self.scene)

        self._build_docks()
        self._build_status_bar()

        self.checker = BackgroundChecker(project, self, check_delay_ms)
        self.checker.started.connect(self._on_check_started)
        self.checker.results_ready.connect(self.show_results)
        self.checker.failed.connect(self._on_check_failed)
        self.autosaver = Autosaver(
            project, path, self.is_unsaved, self, interval_s=autosave_interval_s,
            directory=autosave_dir,
        )  # fmt: skip
        self.autosaver.failed.connect(self.show_status)

        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._connect_canvas()
        self.undo_stack.cleanChanged.connect(self._update_title)

        self.resize(1440, 900)
        self._show_project(unsaved)

    # -- building ------------------------------------------------------------------------
    def _build_docks(self) -> None:
        self.palette = PaletteDock(self.project.catalog, self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.palette)
        self.inspector = InspectorDock(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.inspector)
        self.violations_dock = ViolationsDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.violations_dock)
        self.layers = QListWidget(self)
        self.layers.setToolTip("Show or hide the grid and the overlays")
        self.layers.itemChanged.connect(self._on_layer_toggled)
        self.legends = LegendView(self)
        self.legends.hide()
        layers_body = QWidget(self)
        column = QVBoxLayout(layers_body)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.layers)
        column.addWidget(self.legends)
        column.addStretch(1)
        self.layers_dock = QDockWidget("Layers", self)
        self.layers_dock.setObjectName("layers")
        self.layers_dock.setWidget(layers_body)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.layers_dock)
        self.splitDockWidget(self.inspector, self.layers_dock, Qt.Orientation.Vertical)
        self.resizeDocks([self.palette, self.inspector], [300, 340], Qt.Orientation.Horizontal)
        self.resizeDocks([self.violations_dock], [190], Qt.Orientation.Vertical)
        self.resizeDocks([self.inspector, self.layers_dock], [560, 200], Qt.Orientation.Vertical)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.cursor_label = QLabel(self)
        self.gpu_label = QLabel(self)
        self.power_label = QLabel(self)
        self.check_label = QLabel(self)
        self.checked_label = QLabel(self)
        bar.addWidget(self.cursor_label, 1)
        for label in (self.gpu_label, self.power_label, self.check_label, self.checked_label):
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)
        self.gpu_label.setToolTip("GPUs placed")
        self.power_label.setToolTip("IT load: nameplate power of the GPU and network racks")
        self.checked_label.setToolTip("When the last check ran")

    def _action(
        self,
        key: str,
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        *,
        tip: str = "",
        icon: QStyle.StandardPixmap | None = None,
        canvas: bool = False,
    ) -> QAction:
        """An action of the window; ``canvas`` ones answer their shortcut on the canvas only,
        so Delete or Ctrl+A typed in a dock's field stay with that field."""
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.triggered.connect(lambda _checked=False: slot())
        if canvas:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.view.addAction(action)
        else:
            self.addAction(action)
        self.actions[key] = action
        return action

    def _build_actions(self) -> None:
        sp, key = QStyle.StandardPixmap, QKeySequence.StandardKey
        a = self._action
        a("new", "&New Hall…", self.new_hall, key.New, tip="A new, empty rectangular hall",
          icon=sp.SP_FileIcon)  # fmt: skip
        a("new_cluster", "New &Cluster…", self.new_cluster, "Ctrl+Shift+N",
          tip="Lay out a whole cluster from a GPU count",
          icon=sp.SP_FileDialogNewFolder)  # fmt: skip
        a("open", "&Open…", self.open_dialog, key.Open, tip="Open a layout",
          icon=sp.SP_DialogOpenButton)  # fmt: skip
        a("save", "&Save", self.save, key.Save, tip="Save the layout",
          icon=sp.SP_DialogSaveButton)  # fmt: skip
        a("save_as", "Save &As…", self.save_as, key.SaveAs, tip="Save to another file")
        a("import_floor", "&Import Floor Plan (DXF)…", self.import_floor_dialog,
          tip="Replace the hall's floor with a building drawing (undoable)")  # fmt: skip
        a("export_report", "Export &Report…", self.export_report_dialog,
          tip="A PDF or HTML report of the layout and its checks")  # fmt: skip
        a("export_picture", "Export &Picture…", self.export_picture_dialog,
          tip="The floor plan as a PNG picture or an SVG drawing")  # fmt: skip
        a("export_bom", "Export &BOM…", self.export_bom_dialog,
          tip="The cable bill of materials and link table as CSV or XLSX")  # fmt: skip
        a("export_dxf", "Export &DXF…", self.export_dxf_dialog,
          tip="The layout as a DXF drawing for CAD")  # fmt: skip
        a("quit", "&Quit", self.quit, key.Quit, tip="Close every window")

        undo = self.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence(key.Undo))
        undo.setIcon(self.style().standardIcon(sp.SP_ArrowBack))
        redo = self.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence(key.Redo))
        redo.setIcon(self.style().standardIcon(sp.SP_ArrowForward))
        self.addAction(undo)
        self.addAction(redo)
        self.actions["undo"], self.actions["redo"] = undo, redo
        a("cut", "Cu&t", self.editor.cut, key.Cut, tip="Cut the selection", canvas=True)
        a("copy", "&Copy", self.editor.copy, key.Copy, tip="Copy the selection", canvas=True)
        a("paste", "&Paste", self.editor.paste, key.Paste, tip="Paste at the cursor", canvas=True)
        a("duplicate", "D&uplicate", self.editor.duplicate, "Ctrl+D",
          tip="Copies of the selection beside it", canvas=True)  # fmt: skip
        a("delete", "&Delete", self.editor.delete_selected, key.Delete,
          tip="Remove the selection", canvas=True)  # fmt: skip
        a("select_all", "Select &All", self.editor.select_all, key.SelectAll,
          tip="Select every item", canvas=True)  # fmt: skip
        a("rotate", "&Rotate 90°", lambda: self.editor.rotate_selected(90.0), "R",
          tip="Turn the selection 90° clockwise", canvas=True)  # fmt: skip

        a("zoom_in", "Zoom &In", self.view.zoom_in, key.ZoomIn, tip="Zoom in")
        a("zoom_out", "Zoom &Out", self.view.zoom_out, key.ZoomOut, tip="Zoom out")
        a("fit", "&Fit", self.view.fit_floor, "Ctrl+0", tip="Show the whole floor")

        a("run_checks", "Run &Checks", self.run_check, "F5", tip="Check the layout now",
          icon=sp.SP_BrowserReload)  # fmt: skip
        a("auto_assign", "&Auto-assign Power and Cooling", self.auto_assign_plant,
          tip="Feed racks from the nearest busways, cool them from the nearest units")  # fmt: skip
        a("regenerate_fabric", "Regenerate &Fabric", self.regenerate_fabric,
          tip="Assign every GPU rack to its nearest leaf rack with free ports")  # fmt: skip
        a("what_if", "&What-if: Fail Selected…", self.what_if_fail_selected,
          tip="Show what is lost if the selected units fail")  # fmt: skip

    def _build_menus(self) -> None:
        act = self.actions
        menu = self.menuBar().addMenu("&File")
        menu.addActions([act["new"], act["new_cluster"], act["open"]])
        self.recent_menu = menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        menu.addSeparator()
        menu.addActions([act["save"], act["save_as"]])
        menu.addSeparator()
        menu.addAction(act["import_floor"])
        menu.addSeparator()
        menu.addActions([act["export_report"], act["export_picture"], act["export_bom"],
                         act["export_dxf"]])  # fmt: skip
        menu.addSeparator()
        menu.addAction(act["quit"])

        menu = self.menuBar().addMenu("&Edit")
        menu.addActions([act["undo"], act["redo"]])
        menu.addSeparator()
        menu.addActions([act["cut"], act["copy"], act["paste"], act["duplicate"], act["delete"]])
        menu.addSeparator()
        menu.addActions([act["select_all"], act["rotate"]])

        menu = self.menuBar().addMenu("&View")
        menu.addActions([act["zoom_in"], act["zoom_out"], act["fit"]])
        menu.addSeparator()
        self.layers_menu = menu.addMenu("&Layers")
        self.layers_menu.aboutToShow.connect(self._fill_layers_menu)
        menu.addSeparator()
        for dock in (self.palette, self.inspector, self.violations_dock, self.layers_dock):
            menu.addAction(dock.toggleViewAction())

        menu = self.menuBar().addMenu("&Tools")
        menu.addAction(act["run_checks"])
        menu.addSeparator()
        menu.addActions([act["auto_assign"], act["regenerate_fabric"]])
        menu.addSeparator()
        menu.addAction(act["what_if"])

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main", self)
        bar.setObjectName("main toolbar")
        bar.setMovable(False)
        act = self.actions
        bar.addActions([act["new_cluster"], act["open"], act["save"]])
        bar.addSeparator()
        bar.addActions([act["undo"], act["redo"]])
        bar.addSeparator()
        bar.addAction(act["run_checks"])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar

    def _connect_canvas(self) -> None:
        self.view.cursor_moved.connect(self._show_cursor)
        self.view.status_message.connect(self.show_status)
        self.scene.selection_ids_changed.connect(self.inspector.show_items)
        self.scene.item_double_clicked.connect(self.show_elevation)
        self.scene.context_menu_requested.connect(self.show_context_menu)
        self.scene.underlay_status.connect(self.show_status)
        self.scene.layers_changed.connect(self._refresh_layers)
        self.palette.place_requested.connect(self._place)
        self.violations_dock.violation_activated.connect(self.go_to_violation)

    # -- the project ---------------------------------------------------------------------
    def is_unsaved(self) -> bool:
        """Whether the project has changes not in its file (the undo stack is not clean)."""
        return not self.undo_stack.isClean()

    def set_project(self, project: Project, path: Path | None, *, unsaved: bool = False) -> None:
        """Show ``project`` (from ``path``, if any) in place of the current one, with a
        fresh undo history. ``unsaved`` marks it as not yet saved (generated, recovered)."""
        self.autosaver.set_project(project, path)
        self.project = project
        self.path = path
        if path is not None:
            self.underlay_dir = path.parent
        self.results = None
        self.solved = None
        self.undo_stack.set_project(project)
        self.scene.set_project(project, underlay_dir=self.underlay_dir)
        self.scene.set_solved(None)
        self.checker.set_project(project)
        self.palette.set_catalog(project.catalog)
        self._show_project(unsaved)

    def _show_project(self, unsaved: bool) -> None:
        if unsaved:
            self.undo_stack.resetClean()
        self.inspector.set_context(self.project, self.undo_stack)
        self.inspector.set_solved(None)
        self.violations_dock.show_results(None)
        self._update_title()
        self._refresh_layers()
        self.gpu_label.setText(f"{self.project.gpu_count():,} GPUs")
        self.run_check()
        self.fit_hall()
        # The viewport has its final size only once the window is laid out.
        QTimer.singleShot(0, self.fit_hall)
        if self.scene.underlay_message:
            self.show_status(self.scene.underlay_message)

    def fit_hall(self) -> None:
        """Show the hall's floor (View → Fit also shows units standing outside, in the yard)."""
        hall = self.scene.floor_rect()
        if hall.isEmpty():
            self.view.fit_floor()
        else:
            self.view.show_area(hall)

    def _update_title(self, *_: object) -> None:
        name = self.path.name if self.path is not None else (self.project.name or "Untitled")
        self.setWindowTitle(f"{name}[*] — Coherence")
        self.setWindowModified(self.is_unsaved())

    def maybe_save(self) -> bool:
        """Before unsaved work is replaced or closed: Save, Discard or Cancel.

        True when the caller may go on (saved, discarded, or nothing to save).
        """
        if not self.is_unsaved():
            return True
        name = self.path.name if self.path is not None else (self.project.name or "Untitled")
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self,
            "Unsaved changes — Coherence",
            f"{name} has unsaved changes. Save them?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        if answer == buttons.Save:
            return self.save()
        return answer == buttons.Discard

    # -- File ------------------------------------------------------------------------------
    def new_hall(self) -> None:
        dialog = HallSizeDialog(self)
        if dialog.exec() != QDialog.DialogCode.Accepted or not self.maybe_save():
            return
        self.set_project(Project(Floor.rectangle(*dialog.size_m())), None)

    def new_cluster(self) -> None:
        wizard = NewClusterWizard(None, self.project.floor, self)
        if wizard.exec() != QDialog.DialogCode.Accepted or wizard.project is None:
            return
        self.open_generated(wizard.project)

    def open_generated(self, project: Project) -> bool:
        """Show a new (generated) project, untitled and unsaved, after asking about this one."""
        if not self.maybe_save():
            return False
        self.set_project(project, None, unsaved=True)
        return True

    def open_dialog(self) -> None:
        start = str(self.path.parent) if self.path is not None else ""
        name, _ = QFileDialog.getOpenFileName(self, "Open layout", start, FILE_FILTER)
        if name:
            self.open_file(Path(name))

    def open_file(self, path: Path) -> bool:
        """Open ``path`` here (after asking about unsaved work); on failure say why and
        keep the current project. True if opened."""
        if not self.maybe_save():
            return False
        try:
            project = dclayout.load(path)
        except CoherenceError as err:
            QMessageBox.critical(self, "Cannot open layout", str(err))
            return False
        self.set_project(project, path)
        self.recent.add(path)
        return True

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.recent.paths()
        for k, path in enumerate(paths):
            label = f"&{k + 1} {path.name}" if k < 9 else f"1&0 {path.name}"
            action = self.recent_menu.addAction(label)
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self.open_recent(p))
        if not paths:
            self.recent_menu.addAction("No recent files").setEnabled(False)
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("&Clear List")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(self.recent.clear)

    def open_recent(self, path: Path) -> bool:
        """Open a recent file; one that no longer exists is removed from the list, with a word."""
        if not path.is_file():
            self.recent.remove(path)
            QMessageBox.warning(
                self,
                "Open Recent",
                f"{path} no longer exists; it was removed from the recent files.",
            )
            return False
        return self.open_file(path)

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
            dclayout.save(self.project, path, underlay_dir=self.underlay_dir,
                          relative_underlay=True)  # fmt: skip
        except CoherenceError as err:
            QMessageBox.critical(self, "Cannot save layout", str(err))
            return False
        self.autosaver.discard()
        self.path = path
        self.autosaver.original = path
        self.undo_stack.setClean()
        self.recent.add(path)
        self._update_title()
        self.show_status(f"Saved {path}")
        return True

    # -- import and export ---------------------------------------------------------------------
    def _start_path(self, suffix: str) -> str:
        folder = self.path.parent if self.path is not None else Path.cwd()
        stem = self.path.stem if self.path is not None else (self.project.name or "layout")
        return str(folder / f"{stem}{suffix}")

    def _save_name(self, title: str, file_filter: str, suffix: str) -> Path | None:
        """Ask where to write; a name without a suffix gets the chosen filter's."""
        name, chosen = QFileDialog.getSaveFileName(self, title, self._start_path(suffix),
                                                   file_filter)  # fmt: skip
        if not name:
            return None
        path = Path(name)
        if not path.suffix:
            pattern = chosen[chosen.find("*.") + 1:].rstrip(")") if "*." in chosen else suffix
            path = path.with_suffix(pattern.split()[0] if pattern else suffix)
        return path

    def _export(self, title: str, write: Callable[[], Any]) -> Any:
        """Run ``write`` with a wait cursor; on failure a one-line message box, None returned."""
        with _busy():
            try:
                return write()
            except (CoherenceError, OSError, ValueError) as err:
                message = str(err).splitlines()[0] if str(err) else type(err).__name__
                QMessageBox.warning(self, title, message)
                return None

    def _picture_overlays(self) -> tuple[str, ...]:
        """The report.pictures overlays matching the canvas overlays shown now."""
        return tuple(PICTURE_OVERLAYS[n] for n in self.scene.overlay_names()
                     if n in PICTURE_OVERLAYS and n != "links" and self.scene.overlay_visible(n))

    def import_floor_dialog(self) -> None:
        start = str(self.path.parent) if self.path is not None else ""
        name, _ = QFileDialog.getOpenFileName(self, "Import floor plan", start, DXF_FILTER)
        if name:
            self.import_floor(Path(name))

    def import_floor(self, path: Path) -> bool:
        """File → Import Floor Plan: the drawing's floor replaces this one, as one undo step."""
        from layout.dxf_import import read_floor

        with _busy():
            try:
                found = read_floor(path)
            except CoherenceError as err:
                QMessageBox.warning(self, "Cannot import floor plan", str(err).splitlines()[0])
                return False
            command = CommandGroup([ReplaceSection("floor", found.floor)],
                                   f"Import floor plan {path.name}")  # fmt: skip
            done = self._push(command, "Cannot import floor plan")
        if done:
            underlay = self.scene.underlay_message
            self.show_status(f"Imported {path.name}: {found.summary()}"
                             + (f"; {underlay}" if underlay else ""))  # fmt: skip
            self.fit_hall()
        return done

    def export_report_dialog(self) -> None:
        path = self._save_name("Export report", REPORT_FILTER, ".pdf")
        if path is not None:
            self.export_report(path)

    def export_report(self, path: Path) -> Path | None:
        """File → Export Report: a PDF or HTML report (``report.report.write_report``)."""
        try:
            from report.report import write_report
        except ImportError:
            QMessageBox.warning(self, "Export report",
                                "Reports are not available in this build (report.report missing).")
            return None
        written = self._export("Export report", lambda: write_report(
            self.project, path, results=self.results, overlays=self._picture_overlays()))
        if written is not None:
            self.show_status(f"Report written to {written}")
        return written

    def export_picture_dialog(self) -> None:
        path = self._save_name("Export picture", PICTURE_FILTER, ".png")
        if path is not None:
            self.export_picture(path)

    def export_picture(self, path: Path) -> Path | None:
        """File → Export Picture: the floor plan as PNG or SVG (``report.pictures``)."""
        from report import pictures

        suffix = path.suffix.lower()
        if suffix not in (".png", ".svg"):
            QMessageBox.warning(self, "Export picture",
                                f"{path.name}: a picture is written as .png or .svg")  # fmt: skip
            return None
        render = pictures.render_png if suffix == ".png" else pictures.render_svg
        done = self._export("Export picture",
                            lambda: render(self.project, path, overlays=self._picture_overlays()))
        if done is None:
            return None
        self.show_status(f"Picture written to {path}")
        return path

    def export_bom_dialog(self) -> None:
        path = self._save_name("Export bill of materials", BOM_FILTER, ".csv")
        if path is not None:
            self.export_bom(path)

    def export_bom(self, path: Path) -> list[Path] | None:
        """File → Export BOM: the cable BOM and link table as CSV (two files) or XLSX."""
        from report.bom import write_bom

        written = self._export("Export BOM", lambda: write_bom(self.project, path))
        if written is not None:
            self.show_status("BOM written to " + ", ".join(str(p) for p in written))
        return written

    def export_dxf_dialog(self) -> None:
        path = self._save_name("Export DXF", DXF_FILTER, ".dxf")
        if path is not None:
            self.export_dxf(path)

    def export_dxf(self, path: Path) -> Path | None:
        """File → Export DXF: the layout with a layer per kind of equipment and the trays."""
        from report.dxf_export import write_dxf

        done = self._export("Export DXF", lambda: write_dxf(self.project, path) or path)
        if done is not None:
            self.show_status(f"DXF written to {path}")
        return done

    def quit(self) -> None:
        QApplication.closeAllWindows()

    def autosave_now(self) -> Path | None:
        """Autosave now (as the timer does); the file written, if there was anything to save."""
        return self.autosaver.autosave()

    def adopt_autosave(self, entry: AutosaveEntry) -> None:
        """This window shows a recovered autosave: keep it until the next save or close."""
        self.autosaver.adopt(entry.path)

    # -- Tools ------------------------------------------------------------------------------
    def run_check(self) -> None:
        """Check the project now (on the worker thread); results arrive in :meth:`show_results`."""
        self.checker.run_now()

    def _push(self, command: Any, failure_title: str) -> bool:
        error = self.undo_stack.try_push(command)
        if error is not None:
            QMessageBox.warning(self, failure_title, error)
            return False
        return True

    def auto_assign_plant(self) -> bool:
        """Tools → Auto-assign Power and Cooling: new feeds and cooling as one undo step."""
        with _busy():
            try:
                power, cooling = auto_assign_plant(self.project)
            except CoherenceError as err:
                QMessageBox.warning(self, "Auto-assign", str(err))
                return False
            command = CommandGroup(
                [ReplaceSection("power", power), ReplaceSection("cooling", cooling)],
                "Auto-assign power and cooling",
            )
            done = self._push(command, "Auto-assign")
        if done:
            fed = len(power.feeds)
            self.show_status(f"Assigned feeds to {fed:,} consumers, cooling to their racks")
        return done

    def regenerate_fabric(self) -> bool:
        """Tools → Regenerate Fabric: every GPU rack to its nearest leaf, as one undo step."""
        with _busy():
            try:
                spec = auto_assign_fabric(self.project)
            except CoherenceError as err:
                QMessageBox.warning(self, "Regenerate fabric", str(err))
                return False
            command = CommandGroup([ReplaceSection("fabric", spec)], "Regenerate fabric")
            done = self._push(command, "Regenerate fabric")
        if done:
            served = sum(len(racks) for racks in spec.assignments.values())
            self.show_status(f"Assigned {served:,} rack links to {len(spec.assignments):,} leaves")
        return done

    def what_if_fail_selected(self) -> dict[str, Any] | None:
        """Tools → What-if: what is lost if the selected units fail, in a dialog."""
        ids = self.scene.selected_ids()
        if not ids:
            self.show_status("What-if: select the units to fail first")
            return None
        return self.what_if_fail(ids)

    def what_if_fail(self, ids: Sequence[str]) -> dict[str, Any] | None:
        """Fail ``ids`` (:func:`physics.whatif.fail`) and show what is lost in a dialog."""
        from physics.whatif import fail

        with _busy():
            try:
                report = fail(self.project, ids)
            except CoherenceError as err:
                QMessageBox.warning(self, "What-if", str(err))
                return None
        dialog = WhatIfDialog(report, self.project, self)
        self.what_if_dialog = dialog
        dialog.exec()
        return report

    def show_context_menu(self, item_id: str, screen_pos: QPoint) -> QMenu | None:
        """The canvas's right-click menu over ``item_id`` (none over bare floor)."""
        if not item_id or item_id not in self.project.items:
            return None
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        fail_action = menu.addAction("Fail this unit (what-if)")
        fail_action.setStatusTip(f"Show what is lost if {item_id} fails")
        fail_action.triggered.connect(lambda _checked=False: self.what_if_fail([item_id]))
        if has_elevation(self.project, item_id):
            elevation = menu.addAction("Show &Elevation")
            elevation.triggered.connect(lambda _checked=False: self.show_elevation(item_id))
        self.context_menu = menu
        menu.popup(screen_pos)
        return menu

    # -- results -------------------------------------------------------------------------------
    def _on_check_started(self) -> None:
        self.checked_label.setText("checking…")

    def _on_check_failed(self, message: str) -> None:
        self.checked_label.setText("check failed")
        self.checked_label.setToolTip(message)
        self.show_status(f"The check failed: {message}")

    def show_results(self, results: physics.Results | Solution) -> None:
        """Show a check of the current project in the docks, on the canvas and in the status bar
        (with its solver outputs, when the background check delivers them)."""
        if isinstance(results, Solution):
            self.solved = results
            self.scene.set_solved(results)
            self.inspector.set_solved(results)
            self._refresh_legends()
            results = results.results
        self.results = results
        self.violations_dock.show_results(results)
        self.inspector.set_results(results)
        self.scene.mark_violations(results.violations)
        metrics = results.metrics
        self.gpu_label.setText(f"{metrics.get('gpus', self.project.gpu_count()):,} GPUs")
        it_kw = metrics.get("it_kw")
        self.power_label.setText("" if it_kw is None else f"{it_kw / 1000:,.1f} MW IT")
        errors, warnings = results.errors, results.warnings
        self.check_label.setText(
            f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
        )
        colour = "#c0251f" if errors else ("#a86b00" if warnings else "#2e7d32")
        self.check_label.setStyleSheet(f"color: {colour};")
        stamp = self.checker.last_checked or time.time()
        self.checked_label.setText(f"checked {time.strftime('%H:%M:%S', time.localtime(stamp))}")
        self.checked_label.setToolTip(f"The last check took {results.seconds:.2f} s")

    # -- canvas and docks ------------------------------------------------------------------------
    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, STATUS_MESSAGE_MS)

    def _show_cursor(self, x_m: float, y_m: float) -> None:
        self.cursor_label.setText(f"x {x_m:.2f} m, y {y_m:.2f} m")

    def _place(self, type_id: str) -> None:
        self.view.set_place_mode(type_id)
        self.view.setFocus()

    def show_elevation(self, item_id: str) -> ElevationDialog | None:
        """The elevation of a GPU or network rack, in a dialog of its own (read-only)."""
        if not has_elevation(self.project, item_id):
            return None
        dialog = ElevationDialog(self.project, item_id, self)
        dialog.show()
        self._keep(dialog)
        return dialog

    def _keep(self, dialog: QWidget) -> None:
        """Hold a modeless dialog until it is closed."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self._dialogs.append(dialog)
        dialog.destroyed.connect(lambda *_: self._dialogs.remove(dialog))

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

    # -- layers ----------------------------------------------------------------------------------
    def layer_states(self) -> dict[str, bool]:
        """Every layer the canvas offers (the grid and the scene's overlays) and if it shows."""
        states: dict[str, bool] = {}
        if hasattr(self.scene, "grid_visible"):
            states[GRID_LAYER] = bool(self.scene.grid_visible())
        if hasattr(self.scene, "overlay_names"):
            for name in self.scene.overlay_names():
                states[name] = bool(self.scene.overlay_visible(name))
        return states

    def set_layer_visible(self, name: str, visible: bool) -> None:
        if name == GRID_LAYER:
            self.scene.set_grid_visible(visible)
            self.view.resetCachedContent()
        else:
            self.scene.set_overlay_visible(name, visible)
        self._refresh_layers()
        self._refresh_legends()

    def _refresh_legends(self) -> None:
        """Legends of the visible overlays that have one, under the Layers list."""
        legends = []
        for name in self.scene.overlay_names():
            overlay = self.scene.overlay(name)
            if overlay is None or not self.scene.overlay_visible(name):
                continue
            legend = overlay.legend() if hasattr(overlay, "legend") else None
            if legend is not None:
                legends.append(legend)
        self.legends.show_legends(legends)

    def _refresh_layers(self) -> None:
        self.layers.blockSignals(True)
        self.layers.clear()
        for name, visible in self.layer_states().items():
            row = QListWidgetItem(name)
            row.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            row.setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)
            self.layers.addItem(row)
        self.layers.blockSignals(False)
        # The list as tall as its rows: the legends go right under it.
        rows = max(1, self.layers.count())
        height = rows * max(self.layers.sizeHintForRow(0), 16) + 2 * self.layers.frameWidth() + 4
        self.layers.setMaximumHeight(height)

    def _on_layer_toggled(self, row: QListWidgetItem) -> None:
        self.set_layer_visible(row.text(), row.checkState() == Qt.CheckState.Checked)

    def _fill_layers_menu(self) -> None:
        self.layers_menu.clear()
        states = self.layer_states()
        for name, visible in states.items():
            action = self.layers_menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(visible)
            action.toggled.connect(lambda on, n=name: self.set_layer_visible(n, on))
        if not states:
            self.layers_menu.addAction("No layers").setEnabled(False)

    # -- closing ---------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.autosaver.stop()
        self.autosaver.discard()
        self.checker.shutdown()
        self.scene.detach()
        super().closeEvent(event)


class _busy:  # noqa: N801 - used as a lowercase context manager, like contextlib's
    """A wait cursor while a Tools action computes on the UI thread."""

    def __enter__(self) -> None:
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)

    def __exit__(self, *_: object) -> None:
        QGuiApplication.restoreOverrideCursor()


def _report_json(report: dict[str, Any]) -> str:
    import json

    return json.dumps(report, indent=1, ensure_ascii=False, default=str)
