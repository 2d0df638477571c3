"""Starting the desktop application: the QApplication, the first project and the main window.

Owns start-up only. ``run(file)`` opens ``file``, or the bundled example, or a
new empty hall, and never lets a bad file end in a traceback: the reason is
shown in a message box and an empty project opens instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from gui.main_window import MainWindow
from layout import dclayout
from layout.errors import CoherenceError
from layout.floor import Floor
from layout.project import Project

EXAMPLE = Path(__file__).resolve().parent.parent / "assets" / "examples" / "colossus-100k.dclayout"
EMPTY_HALL_M = (60.0, 40.0)
"""Width and depth of the rectangular hall a new project starts with."""


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


def run(file: Path | None) -> int:
    """Run the application on ``file`` (see :func:`first_project`); returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Coherence")
    app.setOrganizationName("Coherence")
    project, path, error = first_project(file)
    window = MainWindow(project, path)
    window.show()
    if error is not None:
        QMessageBox.critical(window, "Cannot open layout", error)
    return app.exec()
