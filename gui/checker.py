"""Checking the open project off the UI thread, debounced, newest snapshot wins.

Owns when and where the GUI's solve runs. Every project event restarts a
short single-shot timer (:data:`DEBOUNCE_MS`); when it fires, the checker
takes :meth:`~layout.project.Project.snapshot` on the UI thread (cheap: the
item columns are copied, the rest is shared and immutable) and solves the
copy on a worker thread of its own ``QThreadPool`` with one incremental
:class:`physics.Checker` per project (:meth:`physics.Checker.solve`: the
check and every solver's output, with the inspector's look-ups, as a
:class:`physics.solution.Solution`). The solution comes back to the UI thread
through a queued signal.

At most one check runs at a time: a request made while one runs is held and
started when it ends, so dragging through a 100k-GPU hall never piles up
checks. Results of a snapshot that is out of date when they arrive (the
project changed after it was taken, or another project was opened) are
dropped; the newer request delivers its own.

It never changes the project and never blocks the UI thread, except in
:meth:`BackgroundChecker.shutdown`, which waits for a running check to end.

Signals
-------
started()
    A check began on a worker thread.
results_ready(solution)
    A :class:`physics.solution.Solution` for the project as it is now (or what
    the check function given to the constructor returned).
failed(message)
    A check raised; ``message`` is one line.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal

import physics
from layout.project import Project
from physics.solution import Solution

DEBOUNCE_MS = 200
"""Quiet time after the last project event before a check starts."""


class _CheckJob(QRunnable):
    """Runs one check on a worker thread and hands the outcome to ``deliver``."""

    def __init__(
        self,
        check: Callable[[Project], object],
        snapshot: Project,
        ticket: int,
        deliver: Callable[[int, object, str], None],
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._check = check
        self._snapshot = snapshot
        self._ticket = ticket
        self._deliver = deliver

    def run(self) -> None:
        try:
            results = self._check(self._snapshot)
        except Exception as err:
            self._deliver(self._ticket, None, f"{type(err).__name__}: {err}")
            return
        self._deliver(self._ticket, results, "")


class BackgroundChecker(QObject):
    """Debounced background checks of one project at a time (see the module docstring)."""

    started = Signal()
    results_ready = Signal(object)
    failed = Signal(str)
    # Emitted from the worker thread; queued to the UI thread where this object lives.
    _finished = Signal(int, object, str)

    def __init__(
        self,
        project: Project,
        parent: QObject | None = None,
        delay_ms: int = DEBOUNCE_MS,
        check: Callable[[Project], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self._check_function = check
        """Checks a snapshot; None solves it with an incremental :class:`physics.Checker`."""
        self._project: Project | None = None
        self._engine = physics.Checker()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.run_now)
        self._tickets = itertools.count(1)
        self._latest = 0
        """Ticket of the newest snapshot; older results are dropped."""
        self._edits = 0
        """Project events so far; a snapshot is current while this has not moved."""
        self._running: int | None = None
        self._edits_at_snapshot: dict[int, int] = {}
        self._pending = False
        self.last_checked: float | None = None
        """``time.time()`` when the latest delivered results' snapshot was taken."""
        self.last_seconds = 0.0
        self._finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self.set_project(project)

    # -- the project ------------------------------------------------------------------
    @property
    def project(self) -> Project:
        assert self._project is not None
        return self._project

    def set_project(self, project: Project) -> None:
        """Check ``project`` from now on; results still coming for the old one are dropped."""
        self._unfollow()
        self._project = project
        # An incremental checker reuses what a move did not touch (the fabric's
        # derivation); one per project, used only by the single worker thread.
        self._engine = physics.Checker()
        for signal in _events(project):
            signal.connect(self._on_project_event)
        self._edits += 1
        self._latest = 0

    def _unfollow(self) -> None:
        if self._project is not None:
            for signal in _events(self._project):
                signal.disconnect(self._on_project_event, missing_ok=True)

    def _on_project_event(self, *_: object) -> None:
        self._edits += 1
        self.request()

    # -- requests ---------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """A check is running or waiting for the debounce timer."""
        return self._running is not None or self._pending or self._timer.isActive()

    def request(self) -> None:
        """Check soon: after :data:`DEBOUNCE_MS` without further requests."""
        self._timer.start()

    def run_now(self) -> None:
        """Snapshot the project now and check it (after the running check, if one runs)."""
        self._timer.stop()
        if self._project is None:
            return
        if self._running is not None:
            self._pending = True
            return
        self._pending = False
        ticket = next(self._tickets)
        self._latest = ticket
        self._running = ticket
        self._edits_at_snapshot[ticket] = self._edits
        self._snapshot_time = time.time()
        check = self._check_function or self._engine.solve
        snapshot = self._project.snapshot()
        self._pool.start(_CheckJob(check, snapshot, ticket, self._finished.emit))
        self.started.emit()

    def _on_finished(self, ticket: int, results: object, error: str) -> None:
        if ticket == self._running:
            self._running = None
        edits = self._edits_at_snapshot.pop(ticket, None)
        current = ticket == self._latest and edits == self._edits
        if current:
            if error:
                self.failed.emit(error)
            else:
                self.last_checked = self._snapshot_time
                checked = results.results if isinstance(results, Solution) else results
                self.last_seconds = getattr(checked, "seconds", 0.0)
                self.results_ready.emit(results)
        elif not self._timer.isActive():
            # The project moved on while this ran: check it as it is now.
            self._pending = True
        if self._pending and self._running is None:
            self.run_now()

    def shutdown(self) -> None:
        """Stop following the project, drop what is in flight and wait for the worker."""
        self._timer.stop()
        self._pending = False
        self._latest = -1
        self._unfollow()
        self._project = None
        self._pool.waitForDone()


def _events(project: Project) -> tuple:
    return (
        project.item_added,
        project.item_removed,
        project.item_moved,
        project.item_changed,
        project.settings_changed,
    )
