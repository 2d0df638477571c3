"""The bridge from layout commands to Qt's undo stack.

Owns how an edit reaches the model from the GUI: every change is a
:class:`layout.commands.Command`, done once against the project (so a bad edit
raises :class:`~layout.errors.EditError` and changes nothing) and then recorded
on a ``QUndoStack`` whose undo/redo call the command's ``undo``/``do``. One
user gesture (a whole drag, a paste) is one command, so one undo step.
``isClean()`` is the unsaved-changes flag.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QUndoCommand, QUndoStack

from layout.commands import Command
from layout.errors import CoherenceError
from layout.project import Project


class LayoutUndoCommand(QUndoCommand):
    """A layout command on Qt's stack; the first redo is skipped because it was done already."""

    def __init__(self, project: Project, command: Command) -> None:
        super().__init__(command.text)
        self.project = project
        self.command = command
        self._done = True

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self.command.do(self.project)

    def undo(self) -> None:
        self.command.undo(self.project)


class UndoStack(QUndoStack):
    """The project's undo history. Edits go through :meth:`push_command`."""

    def __init__(self, project: Project, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project

    def set_project(self, project: Project) -> None:
        """Start a new history for another project (the old one cannot be undone into)."""
        self.clear()
        self.project = project
        self.setClean()

    def push_command(self, command: Command) -> None:
        """Do ``command`` and record it; raises the model's error, with nothing changed."""
        command.do(self.project)
        self.push(LayoutUndoCommand(self.project, command))

    def try_push(self, command: Command) -> str | None:
        """Like :meth:`push_command`, but returns the error message instead of raising."""
        try:
            self.push_command(command)
        except CoherenceError as err:
            return str(err)
        return None
