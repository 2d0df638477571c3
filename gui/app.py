"""Starting the desktop application: the QApplication, recovery, the first project, the window.

Owns start-up and the last line of defence. ``run(file)``

1. installs :func:`excepthook`: an exception escaping a slot is shown in a
   message box with its one-line message (and logged to stderr), never only
   as a traceback on the console, and the application keeps running;
2. offers to recover autosaves left by a crash (:mod:`gui.autosave`);
3. opens ``file``, or the bundled example, or a new empty hall. A bad file
   never ends in a traceback: the reason is shown and an empty hall opens.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from gui.autosave import AutosaveEntry, RecoveryDialog, autosave_dir, find_autosaves
from gui.dialogs.hall import EMPTY_HALL_M
from gui.main_window import MainWindow
from layout import dclayout
from layout.errors import CoherenceError
from layout.floor import Floor
from layout.project import Project
from report.safe_text import literal_markup

EXAMPLE = Path(__file__).resolve().parent.parent / "assets" / "examples" / "colossus-100k.dclayout"

_windows: list[MainWindow] = []
"""Windows opened at start-up, held so Python does not collect them."""
_reporting = False


def empty_project() -> Project:
    """A new project on an empty 60 m × 40 m hall."""
    return Project(Floor.rectangle(*EMPTY_HALL_M))


def first_project(file: Path | None) -> tuple[Project, Path | None, str | None]:
    """The project to open at start-up, its file, and why the file could not be read.

    ``file`` if given, else the bundled example if it exists, else an empty
    hall. When the file cannot be read the project is an empty hall, the path
    is None and the message says why.
    """
    path = file if file is not None else (EXAMPLE if EXAMPLE.is_file() else None)
    if path is None:
        return empty_project(), None, None
    try:
        return dclayout.load(path), path, None
    except CoherenceError as err:
        return empty_project(), None, str(err)


def one_line(error: BaseException) -> str:
    """``TypeName: first line of the message``."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """Log the traceback to stderr and show the one-line error in a message box."""
    global _reporting  # noqa: PLW0603 - guards against a failing dialog re-entering
    traceback.print_exception(kind, error, tb, file=sys.stderr)
    if issubclass(kind, KeyboardInterrupt) or QApplication.instance() is None or _reporting:
        return
    _reporting = True
    try:
        parent = QApplication.activeWindow()
        QMessageBox.critical(
            parent,
            "Unexpected error — Coherence",
            literal_markup(
                f"Something went wrong: {one_line(error)}\n\nYour project is still open; "
                "save it under a new name if in doubt."
            ),
        )
    finally:
        _reporting = False


def recover(entries: list[AutosaveEntry], parent: QWidget | None = None) -> list[MainWindow]:
    """Open each autosave in a window of its own, unsaved, saving to its original file.

    An autosave that cannot be read is reported and left where it is.
    """
    windows = []
    for entry in entries:
        try:
            project = dclayout.load(entry.path)
        except CoherenceError as err:
            QMessageBox.critical(parent, "Cannot recover", literal_markup(str(err)))
            continue
        window = MainWindow(project, entry.original, unsaved=True)
        window.document.adopt_autosave(entry)
        windows.append(window)
    return windows


def offer_recovery(directory: Path | None = None) -> list[MainWindow]:
    """If autosaves were left behind, ask what to do; the windows of recovered projects."""
    entries = find_autosaves(directory if directory is not None else autosave_dir())
    if not entries:
        return []
    dialog = RecoveryDialog(entries)
    dialog.exec()
    if dialog.choice != RecoveryDialog.RECOVER:
        return []
    return recover(dialog.checked())


def start(file: Path | None) -> list[MainWindow]:
    """Recover crashed work if asked, open ``file`` (or the example), show the windows.

    ``file`` is opened when given or when nothing was recovered. A file that
    cannot be read is reported and an empty hall opens in its place.
    """
    windows = offer_recovery()
    error = None
    if file is not None or not windows:
        project, path, error = first_project(file)
        windows.append(MainWindow(project, path))
    for window in windows:
        window.show()
    _windows.extend(windows)
    if error is not None:
        QMessageBox.critical(windows[-1], "Cannot open layout", literal_markup(error))
    return windows


def run(file: Path | None) -> int:
    """Run the application on ``file`` (see :func:`start`); returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Coherence")
    app.setOrganizationName("Coherence")
    sys.excepthook = excepthook
    start(file)
    return app.exec()
