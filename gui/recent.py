"""The recently opened files list (File → Open Recent), kept in QSettings.

Owns the list only: newest first, at most :data:`MAX_RECENT`, no duplicates.
The settings file sits in platformdirs' user config folder, named explicitly
rather than through QSettings' default location, which Qt fixes once per
process (tests point the config folder somewhere new for every test).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from PySide6.QtCore import QSettings

MAX_RECENT = 10
KEY = "recent_files"


def settings() -> QSettings:
    """Coherence's settings, in ``<user config dir>/coherence.ini``."""
    folder = Path(platformdirs.user_config_dir("coherence"))
    return QSettings(str(folder / "coherence.ini"), QSettings.Format.IniFormat)


class RecentFiles:
    """Recently opened or saved project files, newest first."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store if store is not None else settings()

    def paths(self) -> list[Path]:
        value = self._store.value(KEY, [])
        if isinstance(value, str):  # QSettings gives a lone string for a one-entry list
            value = [value]
        return [Path(v) for v in value or [] if isinstance(v, str) and v][:MAX_RECENT]

    def _write(self, paths: list[Path]) -> None:
        self._store.setValue(KEY, [str(p) for p in paths[:MAX_RECENT]])
        self._store.sync()

    def add(self, path: Path) -> None:
        path = Path(path).absolute()
        self._write([path, *(p for p in self.paths() if p != path)])

    def remove(self, path: Path) -> None:
        self._write([p for p in self.paths() if p != Path(path).absolute()])

    def clear(self) -> None:
        self._write([])
