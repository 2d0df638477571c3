"""Shared test set-up.

Qt runs offscreen. Every test gets its own empty user config, data, state and
cache directories, so autosave, recovery files and settings never touch the
developer's home or leak between tests.

PySide6 is deliberately not imported here: model and solver tests must run in a
process where Qt is never loaded (see test_no_qt_in_model.py).
"""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_XDG_DIRS = {
    "XDG_CONFIG_HOME": "config",
    "XDG_DATA_HOME": "data",
    "XDG_STATE_HOME": "state",
    "XDG_CACHE_HOME": "cache",
}


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path, monkeypatch):
    """Point platformdirs' user directories at fresh folders under tmp_path."""
    root = tmp_path / "user-dirs"
    paths = {}
    for var, name in _XDG_DIRS.items():
        path = root / name
        path.mkdir(parents=True)
        monkeypatch.setenv(var, str(path))
        paths[var] = path
    return paths
