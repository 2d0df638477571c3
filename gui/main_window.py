"""The main window: the shell around one open document, with its docks, menus and status bar.

Owns the application shell: the floor canvas, the docks, the menus, the
toolbar and the status bar, the dialogs and the message boxes. The open
project itself (its file, undo stack, clean flag, background check and
autosave) is :class:`gui.document.Document`; every part of the window that
shows the project subscribes to the document's signals (a new project, a
check's results, the path and the clean flag for the title bar) instead of
being handed them one by one. The window asks before unsaved work is thrown
away (Save, Discard or Cancel), shows the New Hall and New Cluster dialogs,
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

File → Import Floor Plan (DXF) replaces the floor as one undo step; File →
Export offers every format of :data:`report.exporters.EXPORTERS` (report,
pictures, DXF, BOM, NetBox), writes through its writer and says in a message
box when it cannot. A right click on an item offers "Fail
this unit (what-if)", which shows the same dialog as Tools → What-if.

Status bar: cursor position in metres, GPUs, IT MW, errors and
warnings, and when the last check ran ("checking…" while one runs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRectF, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

import physics
from gui.autosave import INTERVAL_S, Autosaver
from gui.canvas.editor import Editor
from gui.canvas.scene import FloorScene
from gui.canvas.solver_overlays import TRAY_FILL, LegendView
from gui.canvas.solver_overlays import install as install_solver_overlays
from gui.canvas.view import FloorView
from gui.checker import DEBOUNCE_MS, BackgroundChecker
from gui.dialogs.elevation import ElevationDialog, has_elevation
from gui.dialogs.hall import HallSizeDialog
from gui.dialogs.whatif import WhatIfDialog
from gui.dialogs.wizard import NewClusterWizard
from gui.docks.inspector import InspectorDock
from gui.docks.palette import PaletteDock
from gui.docks.violations import ViolationsDock
from gui.document import Document
from gui.recent import RecentFiles
from gui.undo import UndoStack
from layout.assign import auto_assign_fabric, auto_assign_plant
from layout.commands import CommandGroup, ReplaceSection
from layout.errors import CoherenceError
from layout.project import Project
from physics.fabric_figures import criterion_line, failing
from physics.solution import Solution
from physics.whatif import WhatIfReport
from report.exporters import (
    EXPORTERS,
    Exporter,
    ExportOptions,
    Written,
    exporter_for,
    suffixes_of,
)
from report.safe_text import literal_markup

FILE_FILTER = "Coherence layouts (*.dclayout);;All files (*)"
DXF_FILTER = "DXF drawings (*.dxf);;All files (*)"
PICTURE_OVERLAYS = {"links": "links", TRAY_FILL: "fill"}
"""Canvas overlay → the overlay of ``report.pictures`` drawing the same, for exports."""
VIOLATION_ZOOM_MARGIN_M = 2.0
"""Metres shown around a violation's items when it is double-clicked."""
STATUS_MESSAGE_MS = 5000
GRID_LAYER = "Tile grid"


class MainWindow(QMainWindow):
    """Coherence's main window on one open document (``document``).

    The arguments make the document: ``project`` from ``path`` (if it has a
    file); ``unsaved`` marks it as having unsaved changes from the start (a
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
        self.document = Document(
            project, path, unsaved=unsaved, autosave_dir=autosave_dir,
            autosave_interval_s=autosave_interval_s, check_delay_ms=check_delay_ms, parent=self,
        )  # fmt: skip
        self.what_if_dialog: WhatIfDialog | None = None
        self.recent = RecentFiles()
        self._dialogs: list[QWidget] = []

        self.scene = FloorScene(project, self, underlay_dir=self.document.underlay_dir)
        self.view = FloorView(self.scene, self)
        self.setCentralWidget(self.view)
        self.editor = Editor(self.scene, self.view, self.document.undo_stack)
        install_solver_overlays(self.scene)

        self._build_docks()
        self._build_status_bar()

        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._connect_canvas()
        self._follow_document()

        self.resize(1440, 900)
        self._show_project(project)

    # -- the document, as the window's own attributes were before it ----------------------
    @property
    def project(self) -> Project:
        return self.document.project

    @property
    def path(self) -> Path | None:
        return self.document.path

    @property
    def underlay_dir(self) -> Path | None:
        return self.document.underlay_dir

    @property
    def undo_stack(self) -> UndoStack:
        return self.document.undo_stack

    @property
    def checker(self) -> BackgroundChecker:
        return self.document.checker

    @property
    def autosaver(self) -> Autosaver:
        return self.document.autosaver

    @property
    def results(self) -> physics.Results | None:
        return self.document.results

    @property
    def solved(self) -> Solution | None:
        """The latest solver outputs (:class:`physics.solution.Solution`), or None."""
        return self.document.solved

    def is_unsaved(self) -> bool:
        """Whether the project has changes not in its file (the undo stack is not clean)."""
        return self.document.is_unsaved()

    # -- building ------------------------------------------------------------------------
    def _build_docks(self) -> None:
        self.palette = PaletteDock(self.project.catalog, self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.palette)
        self.inspector = InspectorDock(self)
        self.inspector.set_context(self.project, self.undo_stack)
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
        self.coherence_label = QLabel(self)
        self.checked_label = QLabel(self)
        labels = (self.gpu_label, self.power_label, self.check_label, self.coherence_label,
                  self.checked_label)  # fmt: skip
        for label in labels:
            label.setTextFormat(Qt.TextFormat.PlainText)
        bar.addWidget(self.cursor_label, 1)
        for label in labels:
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
        for exporter in EXPORTERS:
            a(f"export_{exporter.name}", f"{exporter.title}…",
              partial(self.export_dialog, exporter),
              tip=exporter.description[:1].upper() + exporter.description[1:])  # fmt: skip
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
        self.export_menu = menu.addMenu("&Export")
        self.export_menu.addActions([act[f"export_{e.name}"] for e in EXPORTERS])
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

    def _follow_document(self) -> None:
        """Every part of the window that shows the project follows the document's signals."""
        document = self.document
        # Another project: each holder takes it from the signal, the shell last.
        replaced = document.project_replaced
        replaced.connect(lambda p: self.scene.set_project(p, underlay_dir=document.underlay_dir))
        replaced.connect(lambda p: self.palette.set_catalog(p.catalog))
        replaced.connect(lambda p: self.inspector.set_context(p, document.undo_stack))
        replaced.connect(lambda _p: self.violations_dock.show_results(None))
        replaced.connect(self._show_project)
        # A check: solver outputs first (overlays, inspector figures, legends), then results.
        document.solved_changed.connect(self.scene.set_solved)
        document.solved_changed.connect(self.inspector.set_solved)
        document.solved_changed.connect(lambda _s: self._refresh_legends())
        document.checked.connect(self.violations_dock.show_results)
        document.checked.connect(self.inspector.set_results)
        document.checked.connect(lambda r: self.scene.mark_violations(r.violations))
        document.checked.connect(self._show_check_summary)
        document.check_started.connect(self._on_check_started)
        document.check_failed.connect(self._on_check_failed)
        # The title bar: the file's name and "*" while there are unsaved changes.
        document.path_changed.connect(self._update_title)
        document.clean_changed.connect(self._update_title)
        document.autosave_failed.connect(self.show_status)

    # -- the project ---------------------------------------------------------------------
    def _show_project(self, project: Project) -> None:
        """The shell's part of showing a new project: title, layers, GPU count, the hall."""
        self._update_title()
        self._refresh_layers()
        self.gpu_label.setText(f"{project.gpu_count():,} GPUs")
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
        self.setWindowTitle(f"{self.document.name}[*] — Coherence")
        self.setWindowModified(self.document.is_unsaved())

    def maybe_save(self) -> bool:
        """Before unsaved work is replaced or closed: Save, Discard or Cancel.

        True when the caller may go on (saved, discarded, or nothing to save).
        """
        if not self.document.is_unsaved():
            return True
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self,
            "Unsaved changes — Coherence",
            literal_markup(f"{self.document.name} has unsaved changes. Save them?"),
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
        self.document.new_hall(*dialog.size_m())

    def new_cluster(self) -> None:
        wizard = NewClusterWizard(None, self.project.floor, self)
        if wizard.exec() != QDialog.DialogCode.Accepted or wizard.project is None:
            return
        self.open_generated(wizard.project)

    def open_generated(self, project: Project) -> bool:
        """Show a new (generated) project, untitled and unsaved, after asking about this one."""
        if not self.maybe_save():
            return False
        self.document.open_generated(project)
        return True

    def open_dialog(self) -> None:
        path = self.document.path
        start = str(path.parent) if path is not None else ""
        name, _ = QFileDialog.getOpenFileName(self, "Open layout", start, FILE_FILTER)
        if name:
            self.open_file(Path(name))

    def open_file(self, path: Path) -> bool:
        """Open ``path`` here (after asking about unsaved work); on failure say why and
        keep the current project. True if opened."""
        if not self.maybe_save():
            return False
        error = self.document.open_file(path)
        if error is not None:
            QMessageBox.critical(self, "Cannot open layout", literal_markup(error))
            return False
        self.recent.add(path)
        return True

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.recent.paths()
        for k, path in enumerate(paths):
            label = f"&{k + 1} {path.name}" if k < 9 else f"1&0 {path.name}"
            action = self.recent_menu.addAction(label)
            action.setToolTip(literal_markup(str(path)))
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
                literal_markup(f"{path} no longer exists; it was removed from the recent files."),
            )
            return False
        return self.open_file(path)

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._saved(self.document.save())

    def save_as(self) -> bool:
        path = self.document.path
        start = str(path) if path is not None else f"{self.project.name}.dclayout"
        name, _ = QFileDialog.getSaveFileName(self, "Save layout as", start, FILE_FILTER)
        if not name:
            return False
        return self._saved(self.document.save_as(Path(name)))

    def save_to(self, path: Path) -> bool:
        """Write the project to ``path``; on failure say why (the project is untouched)."""
        return self._saved(self.document.save(path))

    def _saved(self, error: str | None) -> bool:
        """After a save: the message box when it failed, else the recent files and a word."""
        if error is not None:
            QMessageBox.critical(self, "Cannot save layout", literal_markup(error))
            return False
        path = self.document.path
        assert path is not None
        self.recent.add(path)
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

    def _export(self, title: str, write: Callable[[], Written]) -> Written | None:
        """Run ``write`` with a wait cursor; on failure a one-line message box, None returned."""
        with _busy():
            try:
                return write()
            except ImportError as err:
                QMessageBox.warning(self, title, f"{title} is not available in this build "
                                                 f"({err.name or err} missing).")  # fmt: skip
                return None
            except (CoherenceError, OSError, ValueError) as err:
                message = str(err).splitlines()[0] if str(err) else type(err).__name__
                QMessageBox.warning(self, title, literal_markup(message))
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
                QMessageBox.warning(
                    self, "Cannot import floor plan", literal_markup(str(err).splitlines()[0])
                )
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

    def export_dialog(self, exporter: Exporter) -> Written | None:
        """File → Export → a format: ask where (a file, or a folder for NetBox), then write."""
        title = f"Export {exporter.title}"
        if exporter.writes_folder:
            start = str(Path(self._start_path("")).parent)
            name = QFileDialog.getExistingDirectory(self, title, start)
            path = Path(name) if name else None
        else:
            patterns = " ".join(f"*{suffix}" for suffix in exporter.suffixes)
            path = self._save_name(title, f"{exporter.title} ({patterns})", exporter.suffixes[0])
        return None if path is None else self.export(path, exporter)

    def export(self, path: Path, exporter: Exporter | None = None) -> Written | None:
        """Write ``path`` with ``exporter`` (default: the one its suffix names), with the
        overlays shown on the canvas; on failure a one-line message box and None."""
        exporter = exporter if exporter is not None else exporter_for(path)
        if exporter is None or not exporter.accepts(path):
            suffix = path.suffix or "a name without a suffix"
            use = " or ".join(exporter.suffixes if exporter is not None else suffixes_of())
            message = f"{path.name}: cannot export as {suffix} (use {use or 'a folder'})"
            QMessageBox.warning(self, "Export", literal_markup(message))
            return None
        options = ExportOptions(
            overlays=self._picture_overlays(), results=self.results,
            source=self.path.name if self.path is not None else None,
        )  # fmt: skip
        written = self._export(f"Export {exporter.title}",
                               lambda: exporter.write(self.project, path, options))  # fmt: skip
        if written is not None:
            paths = ", ".join(str(p) for p in written.paths)
            self.show_status(f"{exporter.title} written to {paths}")
        return written

    def quit(self) -> None:
        QApplication.closeAllWindows()

    # -- Tools ------------------------------------------------------------------------------
    def run_check(self) -> None:
        """Check the project now (on the worker thread); the document signals the results."""
        self.document.check_now()

    def _push(self, command: Any, failure_title: str) -> bool:
        error = self.undo_stack.try_push(command)
        if error is not None:
            QMessageBox.warning(self, failure_title, literal_markup(error))
            return False
        return True

    def auto_assign_plant(self) -> bool:
        """Tools → Auto-assign Power and Cooling: new feeds and cooling as one undo step."""
        with _busy():
            try:
                power, cooling = auto_assign_plant(self.project)
            except CoherenceError as err:
                QMessageBox.warning(self, "Auto-assign", literal_markup(str(err)))
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
                QMessageBox.warning(self, "Regenerate fabric", literal_markup(str(err)))
                return False
            command = CommandGroup([ReplaceSection("fabric", spec)], "Regenerate fabric")
            done = self._push(command, "Regenerate fabric")
        if done:
            served = sum(len(racks) for racks in spec.assignments.values())
            self.show_status(f"Assigned {served:,} rack links to {len(spec.assignments):,} leaves")
        return done

    def what_if_fail_selected(self) -> WhatIfReport | None:
        """Tools → What-if: what is lost if the selected units fail, in a dialog."""
        ids = self.scene.selected_ids()
        if not ids:
            self.show_status("What-if: select the units to fail first")
            return None
        return self.what_if_fail(ids)

    def what_if_fail(self, ids: Sequence[str]) -> WhatIfReport | None:
        """Fail ``ids`` (:func:`physics.whatif.fail`) and show what is lost in a dialog."""
        from physics.whatif import fail

        with _busy():
            try:
                report = fail(self.project, ids)
            except CoherenceError as err:
                QMessageBox.warning(self, "What-if", literal_markup(str(err)))
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
        self.checked_label.setToolTip(literal_markup(message))
        self.show_status(f"The check failed: {message}")

    def _show_check_summary(self, results: physics.Results) -> None:
        """The status bar's part of a check: GPUs, IT load, errors and warnings, and when."""
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
        self._show_coherence(metrics.get("coherence"))
        stamp = self.document.checker.last_checked or time.time()
        self.checked_label.setText(f"checked {time.strftime('%H:%M:%S', time.localtime(stamp))}")
        self.checked_label.setToolTip(f"The last check took {results.seconds:.2f} s")

    def _show_coherence(self, coherence: dict[str, Any] | None) -> None:
        """Whether the GPU fabric is coherent; the tooltip lists every criterion with its
        figure and limit, as ``check --json`` and the report do."""
        label = self.coherence_label
        if not coherence:
            label.setText("")
            label.setToolTip("")
            return
        criteria = coherence["criteria"]
        failed = failing(criteria)
        label.setText("fabric coherent" if coherence["coherent"] else
                      f"fabric not coherent ({len(failed)} of {len(criteria)})")  # fmt: skip
        label.setStyleSheet(f"color: {'#2e7d32' if coherence['coherent'] else '#c0251f'};")
        lines = ["Coherent GPU fabric: every criterion passes"]
        lines += [criterion_line(c) for c in criteria]
        label.setToolTip(literal_markup("\n".join(lines)))

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
        self.document.close()
        self.scene.detach()
        super().closeEvent(event)


class _busy:  # noqa: N801 - used as a lowercase context manager, like contextlib's
    """A wait cursor while a Tools action computes on the UI thread."""

    def __enter__(self) -> None:
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)

    def __exit__(self, *_: object) -> None:
        QGuiApplication.restoreOverrideCursor()
