"""The open document: one project, its file, its undo history, its checks and its autosave.

Owns everything about the project that is open in a window, and nothing on
screen: which project it is and from which file (``path``; the folder a
relative underlay path is read from, ``underlay_dir``), its undo stack (one
per open project; clean means saved, so :meth:`Document.is_unsaved` is the
unsaved-changes flag), the background check of it
(:class:`gui.checker.BackgroundChecker` with
:meth:`physics.Checker.solve`, so each check also brings the solver outputs
the overlays and the inspector show, as a :class:`physics.solution.Solution`) and its autosave
(:class:`gui.autosave.Autosaver`).

It opens, saves, makes a new hall, takes a generated project and adopts a
recovered autosave. Files are read and written by :mod:`layout.dclayout`
(atomic write, ``.bak`` of the previous file) and autosaves by
:mod:`gui.autosave`; the document only calls them. A file that cannot be
opened or written leaves the document as it was and comes back as the
model's one-line message (the return value of :meth:`Document.open_file`,
:meth:`Document.save` and :meth:`Document.save_as`); asking the user, and
saying what went wrong, is the window's job.

Everything that shows the project subscribes to the signals below instead of
being handed each new project or each check.

Signals
-------
project_replaced(project)
    Another project is open (opened, new, generated); its undo history is fresh.
    Emitted once per replacement, after the document holds it.
path_changed(path)
    The file the project belongs to changed (opened, saved under a new name);
    ``None`` for a project never saved.
clean_changed(clean)
    The project became saved (``True``) or has unsaved changes again (``False``).
check_started()
    A background check of the project began.
solved_changed(solved)
    The solver outputs of the latest check (:class:`physics.solution.Solution`),
    emitted right before ``checked``; ``None`` when another project is open.
checked(results)
    A check's :class:`physics.Results` for the project as it is now.
check_failed(message)
    A check raised; ``message`` is one line.
autosave_failed(message)
    An autosave could not be written (the project and its file are untouched).
"""

from __future__ import annotations

import gc
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

import physics
from gui.autosave import INTERVAL_S, AutosaveEntry, Autosaver
from gui.checker import DEBOUNCE_MS, BackgroundChecker
from gui.undo import UndoStack
from layout import dclayout
from layout.errors import CoherenceError
from layout.floor import Floor
from layout.project import Project
from physics.solution import Solution

UNTITLED = "Untitled"


def keep_long_lived() -> None:
    """Take the objects of the open project out of the garbage collector's rounds.

    A large project is hundreds of thousands of long-lived objects (items,
    feeds, graphics items); every full collection walked them all, 150-200 ms
    at a million GPUs, landing on whatever click allocated last. Collected once
    here (the previous project's cycles go too) and frozen, they are no longer
    walked; objects made later (a check's results) are collected as usual.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class Document(QObject):
    """One open project and its file (see the module docstring for the signals).

    ``unsaved`` marks the project as having unsaved changes from the start (a
    generated or recovered project). ``autosave_dir`` and ``autosave_interval_s``
    override where and how often autosave writes; ``check_delay_ms`` the
    debounce of the background check. The first check starts once control is
    back in the event loop, so whoever builds the document can subscribe first.
    """

    project_replaced = Signal(object)
    path_changed = Signal(object)
    clean_changed = Signal(bool)
    check_started = Signal()
    solved_changed = Signal(object)
    checked = Signal(object)
    check_failed = Signal(str)
    autosave_failed = Signal(str)

    def __init__(
        self,
        project: Project,
        path: Path | None = None,
        *,
        unsaved: bool = False,
        autosave_dir: Path | None = None,
        autosave_interval_s: float = INTERVAL_S,
        check_delay_ms: int = DEBOUNCE_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._project = project
        self._path = path
        self.underlay_dir: Path | None = path.parent if path is not None else None
        """The folder the floor's relative underlay path is relative to: that of the file
        the project came from (kept through Save As, which rewrites the path for the file)."""
        self.results: physics.Results | None = None
        """The latest check of the project as it is (None until one arrives)."""
        self.solved: Solution | None = None
        """The latest solver outputs, delivered with :attr:`results`."""

        self.undo_stack = UndoStack(project, self)
        self.undo_stack.cleanChanged.connect(self.clean_changed)
        self.checker = BackgroundChecker(project, self, check_delay_ms)
        self.checker.started.connect(self.check_started)
        self.checker.results_ready.connect(self._on_checked)
        self.checker.failed.connect(self.check_failed)
        self.autosaver = Autosaver(
            project, path, self.is_unsaved, self, interval_s=autosave_interval_s,
            directory=autosave_dir,
        )  # fmt: skip
        self.autosaver.failed.connect(self.autosave_failed)
        if unsaved:
            self.undo_stack.resetClean()
        # Once the window has built its views of the project, before the first check.
        QTimer.singleShot(0, self, keep_long_lived)
        QTimer.singleShot(0, self, self.check_now)

    # -- what is open ------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self._project

    @property
    def path(self) -> Path | None:
        """The file the project is saved to (None until it is saved once)."""
        return self._path

    @property
    def name(self) -> str:
        """The document's name for people: its file's name, else the project's name."""
        if self._path is not None:
            return self._path.name
        return self._project.name or UNTITLED

    def is_unsaved(self) -> bool:
        """Whether the project has changes not in its file (the undo stack is not clean)."""
        return not self.undo_stack.isClean()

    def replace(self, project: Project, path: Path | None, *, unsaved: bool = False) -> None:
        """Open ``project`` (from ``path``, if any) in place of the current one, with a fresh
        undo history and a fresh check. ``unsaved`` marks it as not yet saved (generated,
        recovered). Does not ask about unsaved work: that is the caller's question."""
        self.autosaver.set_project(project, path)
        path_changes = path != self._path
        self._project = project
        self._path = path
        if path is not None:
            self.underlay_dir = path.parent
        self.results = None
        self.solved = None
        self.undo_stack.set_project(project)
        self.checker.set_project(project)
        if unsaved:
            self.undo_stack.resetClean()
        self.project_replaced.emit(project)
        self.solved_changed.emit(None)
        if path_changes:
            self.path_changed.emit(path)
        keep_long_lived()  # the views of the new project are built
        self.check_now()

    # -- File --------------------------------------------------------------------------
    def open_file(self, path: Path) -> str | None:
        """Open the layout in ``path``; the reason it cannot be read, or None when opened.

        A file that cannot be read changes nothing: the open project, its undo
        history and the file stay as they are.
        """
        try:
            project = dclayout.load(path)
        except CoherenceError as err:
            return str(err)
        self.replace(project, path)
        return None

    def new_hall(self, width_m: float, depth_m: float) -> None:
        """Open a new, empty rectangular hall (untitled, nothing to save yet)."""
        self.replace(Project(Floor.rectangle(width_m, depth_m)), None)

    def open_generated(self, project: Project) -> None:
        """Open a generated project: untitled and unsaved."""
        self.replace(project, None, unsaved=True)

    def save(self, path: Path | None = None) -> str | None:
        """Write the project to ``path`` (its own file when None); why it cannot, or None.

        On success the project belongs to ``path`` from now on, is clean and
        its autosave is deleted; on failure nothing changes.
        """
        target = path if path is not None else self._path
        if target is None:
            return f"{self.name} has no file yet: save it under a name first"
        try:
            dclayout.save(self._project, target, underlay_dir=self.underlay_dir,
                          relative_underlay=True)  # fmt: skip
        except CoherenceError as err:
            return str(err)
        self.autosaver.discard()
        path_changes = target != self._path
        self._path = target
        self.autosaver.original = target
        self.undo_stack.setClean()
        if path_changes:
            self.path_changed.emit(target)
        return None

    def save_as(self, path: Path) -> str | None:
        """Save under a new name (a name without a suffix gets ``.dclayout``); see :meth:`save`."""
        if not path.suffix:
            path = path.with_suffix(dclayout.SUFFIX)
        return self.save(path)

    # -- autosave ----------------------------------------------------------------------
    def autosave_now(self) -> Path | None:
        """Autosave now (as the timer does); the file written, if there was anything to save."""
        return self.autosaver.autosave()

    def adopt_autosave(self, entry: AutosaveEntry) -> None:
        """The project is a recovered autosave: keep writing to it until the next save or close."""
        self.autosaver.adopt(entry.path)

    # -- checks ------------------------------------------------------------------------
    def check_now(self) -> None:
        """Check the project now (on the worker thread); the outcome arrives as a signal."""
        self.checker.run_now()

    def _on_checked(self, delivered: physics.Results | Solution) -> None:
        if isinstance(delivered, Solution):
            self.solved = delivered
            self.solved_changed.emit(delivered)
            delivered = delivered.results
        self.results = delivered
        self.checked.emit(delivered)

    # -- closing -----------------------------------------------------------------------
    def close(self) -> None:
        """The document is closed: stop autosaving, delete its autosave, stop checking."""
        self.autosaver.stop()
        self.autosaver.discard()
        self.checker.shutdown()
