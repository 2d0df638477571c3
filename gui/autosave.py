"""Autosave on a timer and crash recovery at the next start.

Owns the autosave folder and what is in it. While a window has unsaved
changes, :class:`Autosaver` writes its project every :data:`INTERVAL_S`
seconds with :func:`layout.dclayout.save` to ``<autosave dir>/<stem>-<hash>.dclayout``
plus a JSON sidecar (``.json``) naming the original file and the time, both
written atomically by :mod:`layout.atomic_file` (regular files only). A
clean save or closing the window deletes both. Files left behind at start-up
therefore mean a crash: :func:`find_autosaves` lists them and
:class:`RecoveryDialog` offers to recover (open them, unsaved, with their
original file as the save target) or discard them.

The folder logic (:func:`autosave_dir`, :func:`autosave_stem`,
:func:`write_autosave`, :func:`find_autosaves`, :func:`remove_autosave`) is
Qt-free so tests can point it at a temporary folder. A sidecar is checked
field by field; an unusable field (a time no calendar shows, an over-long name)
is replaced by what the autosave file says, so one broken sidecar never stops
the start-up. Nothing here touches the original project file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from layout import atomic_file, dclayout
from layout.bounded_read import parse_json, read_bounded
from layout.errors import CoherenceError, shown_key
from layout.limits import MAX_PATH_CHARS, MAX_SIDECAR_BYTES
from layout.project import Project
from report.safe_text import literal_markup

INTERVAL_S = 60.0
"""Seconds between autosaves while there are unsaved changes."""
SIDECAR_SUFFIX = ".json"
SIDECAR_FORMAT = "coherence.autosave"


# -- the folder (Qt-free) ----------------------------------------------------------------
def autosave_dir(state_dir: Path | None = None) -> Path:
    """The autosave folder: ``<user state dir>/autosave`` (``state_dir`` overrides the base)."""
    base = (
        Path(state_dir) if state_dir is not None else Path(platformdirs.user_state_dir("coherence"))
    )
    return base / "autosave"


def autosave_stem(original: Path | None, token: str) -> str:
    """File stem for a project's autosave: the file's stem and a hash of its full path.

    Untitled projects use ``untitled`` and a hash of ``token`` (one per window),
    so two untitled windows never share an autosave.
    """
    if original is None:
        stem, key = "untitled", f"untitled:{token}"
    else:
        stem, key = original.stem, str(Path(original).expanduser().absolute())
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:60] or "project"
    return f"{safe}-{digest}"


@dataclass(frozen=True)
class AutosaveEntry:
    """One autosaved project: its file, the original it belongs to, and when it was written."""

    path: Path
    original: Path | None
    saved_at: float
    name: str

    @property
    def sidecar(self) -> Path:
        return self.path.with_suffix(SIDECAR_SUFFIX)

    def describe(self) -> str:
        """One line for the recovery list: name, file name and when (the full path is a tip)."""
        try:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        except (OverflowError, OSError, ValueError):
            when = "at an unknown time"
        where = self.original.name if self.original is not None else "never saved"
        return f"{self.name} — {where}, autosaved {when}"


def write_autosave(
    project: Project, original: Path | None, directory: Path, stem: str
) -> AutosaveEntry:
    """Write ``project`` and its sidecar to ``directory``; raises CoherenceError on failure."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CoherenceError(
            f"{directory}: cannot create the autosave folder ({err.strerror})"
        ) from None
    target = directory / f"{stem}{dclayout.SUFFIX}"
    # An autosave needs no backup: the original file is the previous version.
    dclayout.save(project, target, backup=False)
    _remove(target.with_name(target.name + atomic_file.BACKUP_SUFFIX))
    entry = AutosaveEntry(target, original, time.time(), project.name)
    sidecar = {
        "format": SIDECAR_FORMAT,
        "original": None if original is None else str(original),
        "saved_at": entry.saved_at,
        "name": project.name,
    }
    atomic_file.write_atomic(
        entry.sidecar, json.dumps(sidecar, indent=1).encode("utf-8"), backup=False
    )
    return entry


def find_autosaves(directory: Path) -> list[AutosaveEntry]:
    """Autosaved projects in ``directory``, newest first (a missing sidecar is tolerated)."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.glob(f"*{dclayout.SUFFIX}"):
        try:
            original, saved_at, name = None, path.stat().st_mtime, path.stem
        except OSError:
            continue  # removed or unreadable since the listing
        with contextlib.suppress(CoherenceError, ValueError, TypeError, AttributeError):
            data = _read_sidecar(path.with_suffix(SIDECAR_SUFFIX))
            if data.get("format") == SIDECAR_FORMAT:
                stored = data.get("original")
                original = Path(stored) if isinstance(stored, str) and _usable(stored) else None
                saved_at = _saved_at(data.get("saved_at"), saved_at)
                name = shown_key(data.get("name") or name)
        found.append(AutosaveEntry(path, original, saved_at, name))
    return sorted(found, key=lambda e: -e.saved_at)


def _read_sidecar(path: Path) -> dict[str, object]:
    """The sidecar's JSON object, read within bounds (a regular file of a few kB, no deep
    nesting); raises CoherenceError or ValueError for anything else."""
    raw = read_bounded(path, MAX_SIDECAR_BYTES, CoherenceError, what="autosave note")
    data = parse_json(raw.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data


_LATEST_TIME = 253402300799.0
"""31 December 9999, the last second ``time.localtime`` and ``strftime`` show everywhere."""


def _saved_at(stored: object, fallback: float) -> float:
    """The sidecar's time when it is a time that can be shown, else ``fallback``."""
    if isinstance(stored, bool) or not isinstance(stored, (int, float)):
        return fallback
    if not 0.0 <= stored <= _LATEST_TIME:  # also NaN, 1e300 and 400-digit integers
        return fallback
    return float(stored)


def _usable(path_text: str) -> bool:
    """A stored original path that can name a file: no NUL, not absurdly long."""
    return "\0" not in path_text and len(path_text) <= MAX_PATH_CHARS


def remove_autosave(path: Path) -> None:
    """Delete an autosave, its sidecar and any backup of it (missing files are fine)."""
    for target in (path, path.with_suffix(SIDECAR_SUFFIX), path.with_name(path.name + ".bak")):
        _remove(target)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


# -- the timer ---------------------------------------------------------------------------
class Autosaver(QObject):
    """Autosaves one window's project while it has unsaved changes.

    ``is_unsaved`` says whether there is anything to save; ``project`` and
    ``original`` give what to write and where it belongs. Signals
    ``saved(path)`` after each autosave and ``failed(message)`` when one fails
    (the project is untouched either way).
    """

    saved = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        project: Project,
        original: Path | None,
        is_unsaved: Callable[[], bool],
        parent: QObject | None = None,
        *,
        interval_s: float = INTERVAL_S,
        directory: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.original = original
        self._is_unsaved = is_unsaved
        self.directory = directory if directory is not None else autosave_dir()
        self._token = uuid.uuid4().hex
        self.path: Path | None = None
        """The autosave file, once one was written (or adopted after recovery)."""
        self.timer = QTimer(self)
        self.timer.setInterval(round(interval_s * 1000))
        self.timer.timeout.connect(self.autosave)
        self.timer.start()

    def target(self) -> Path:
        stem = autosave_stem(self.original, self._token)
        return self.directory / f"{stem}{dclayout.SUFFIX}"

    def set_project(self, project: Project, original: Path | None) -> None:
        """Another project (or the same one under a new file): drop the old autosave."""
        self.discard()
        self.project = project
        self.original = original

    def adopt(self, path: Path) -> None:
        """Keep writing to a recovered autosave (deleted on the next clean save or close)."""
        self.path = path

    def autosave(self) -> Path | None:
        """Write the project now if it has unsaved changes; the file written, if any."""
        if not self._is_unsaved():
            return None
        target = self.target()
        if self.path is not None and self.path != target:
            remove_autosave(self.path)
        try:
            entry = write_autosave(self.project, self.original, self.directory, target.stem)
        except CoherenceError as err:
            self.failed.emit(f"Autosave failed: {err}")
            return None
        self.path = entry.path
        self.saved.emit(entry.path)
        return entry.path

    def discard(self) -> None:
        """The project was saved or closed: its autosave is no longer needed."""
        if self.path is not None:
            remove_autosave(self.path)
            self.path = None

    def stop(self) -> None:
        self.timer.stop()


# -- recovery ----------------------------------------------------------------------------
class RecoveryDialog(QDialog):
    """Lists autosaves left by a crash; Recover opens the checked ones, Discard deletes all."""

    RECOVER = 1
    DISCARD = 2

    def __init__(self, entries: list[AutosaveEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved work — Coherence")
        self.entries = entries
        self.choice = 0
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Coherence did not close normally last time. These projects had unsaved "
            "changes and were autosaved. Recover opens the checked ones as unsaved "
            "projects that save to their original files (unchecked ones are kept for the "
            "next start); Discard deletes them all."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.list = QListWidget(self)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for entry in entries:
            row = QListWidgetItem(entry.describe())
            row.setFlags(row.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            row.setCheckState(Qt.CheckState.Checked)
            original = str(entry.original) if entry.original is not None else "never saved"
            row.setToolTip(literal_markup(f"Original: {original}\nAutosave: {entry.path}"))
            self.list.addItem(row)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(self)
        recover = buttons.addButton("&Recover", QDialogButtonBox.ButtonRole.AcceptRole)
        discard = buttons.addButton("&Discard", QDialogButtonBox.ButtonRole.DestructiveRole)
        later = buttons.addButton("Decide &Later", QDialogButtonBox.ButtonRole.RejectRole)
        later.setToolTip("Keep the autosaves and ask again at the next start")
        recover.clicked.connect(self.recover)
        discard.clicked.connect(self.discard)
        later.clicked.connect(self.reject)
        recover.setDefault(True)
        layout.addWidget(buttons)
        self.resize(620, 280)

    def checked(self) -> list[AutosaveEntry]:
        return [
            entry
            for k, entry in enumerate(self.entries)
            if self.list.item(k).checkState() == Qt.CheckState.Checked
        ]

    def recover(self) -> None:
        self.choice = self.RECOVER
        self.accept()

    def discard(self) -> None:
        self.choice = self.DISCARD
        for entry in self.entries:
            remove_autosave(entry.path)
        self.accept()
