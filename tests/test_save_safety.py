"""Saving never replaces what it must not and never loses the old file or its backup.

Targets that are not regular files (devices, FIFOs, sockets, folders) are
refused with one line and never opened; a symbolic link is followed and stays a
link; and with faults injected into the real ``os`` functions (link refused as
on FAT, a full disk mid-write, an I/O error on fsync, a full disk while backing
up a linked target) the old file and the old ``.bak`` survive and no temporary
file is left. A temporary left by a killed save is removed by the next save.
The kill trials are in test_save_kill_trials.py.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from layout import atomic_file, dclayout
from layout.errors import CoherenceError, ProjectFileError
from layout.project import Project

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "overlap_and_column.dclayout"
TIMEOUT_S = 20.0


def _version(n: int) -> Project:
    project = dclayout.load(SAMPLE)
    project.name = f"Version {n}"
    return project


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "projects"
    path.mkdir()
    return path


def _saved_twice(path: Path) -> tuple[bytes, bytes]:
    """Save versions 0 and 1 to ``path``: the file is version 1, its .bak version 0."""
    dclayout.save(_version(0), path)
    dclayout.save(_version(1), path)
    return path.read_bytes(), _backup(path).read_bytes()


def _backup(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def _temporaries(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.endswith(".tmp"))


def _one_line(message: str) -> None:
    assert message.strip() == message
    assert len(message.splitlines()) == 1, message


def _os_error(code: int) -> OSError:
    return OSError(code, os.strerror(code))


def _in(folder: Path, fd: int) -> bool:
    """Whether the open file descriptor ``fd`` is a file in ``folder``."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder))
    except OSError:
        return False


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path os.open is asked to open while the test runs."""
    paths: list[str] = []
    real_open = os.open

    def spying_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        paths.append(os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", spying_open)
    return paths


def _save_in_thread(project: Project, path: Path) -> BaseException | None:
    """Save in a thread that must finish within TIMEOUT_S; the error it raised, if any."""
    outcome: list[BaseException | None] = []

    def work() -> None:
        try:
            dclayout.save(project, path)
            outcome.append(None)
        except BaseException as err:
            outcome.append(err)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(TIMEOUT_S)
    if worker.is_alive():
        # Unblock a reader stuck on the FIFO so the thread can end.
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        worker.join(TIMEOUT_S)
        pytest.fail(f"saving onto {path.name} blocked for {TIMEOUT_S:.0f} s")
    return outcome[0]


# -- targets that are not regular files ----------------------------------------------------
def _char_device(path: Path, major: int, minor: int) -> None:
    if not hasattr(os, "mknod") or os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    except PermissionError:
        pytest.skip("device nodes cannot be made here (no CAP_MKNOD)")


@pytest.mark.parametrize(
    ("name", "major", "minor"), [("null-like", 1, 3), ("full-like", 1, 7), ("zero-like", 1, 5)]
)
def test_a_character_device_is_refused_and_never_opened(
    folder: Path, opened: list[str], name: str, major: int, minor: int
) -> None:
    device = folder / name
    _char_device(device, major, minor)
    with pytest.raises(ProjectFileError) as caught:
        dclayout.save(_version(1), device)
    message = str(caught.value)
    _one_line(message)
    assert str(device) in message
    assert "a character device" in message
    status = os.lstat(device)
    assert stat.S_ISCHR(status.st_mode)
    assert status.st_rdev == os.makedev(major, minor)
    assert str(device) not in opened
    assert sorted(os.listdir(folder)) == [name]


def test_a_fifo_is_refused_promptly_and_never_opened(folder: Path, opened: list[str]) -> None:
    fifo = folder / "pipe.dclayout"
    os.mkfifo(fifo)
    error = _save_in_thread(_version(1), fifo)
    assert isinstance(error, ProjectFileError), error
    _one_line(str(error))
    assert str(fifo) in str(error)
    assert "FIFO" in str(error)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert str(fifo) not in opened
    assert sorted(os.listdir(folder)) == ["pipe.dclayout"]


def test_a_socket_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "s"  # short: a socket's path is limited to ~100 bytes
    folder.mkdir()
    path = folder / "sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        with pytest.raises(ProjectFileError) as caught:
            dclayout.save(_version(1), path)
    finally:
        server.close()
    _one_line(str(caught.value))
    assert "a socket" in str(caught.value)
    assert stat.S_ISSOCK(os.lstat(path).st_mode)
    assert sorted(os.listdir(folder)) == ["sock"]


def test_a_folder_is_refused_and_its_backup_kept(folder: Path) -> None:
    target = folder / "hall.dclayout"
    target.mkdir()
    (target / "inside.txt").write_text("kept")
    _backup(target).write_bytes(b"an older backup")
    with pytest.raises(ProjectFileError) as caught:
        dclayout.save(_version(1), target)
    _one_line(str(caught.value))
    assert "a folder" in str(caught.value)
    assert (target / "inside.txt").read_text() == "kept"
    assert _backup(target).read_bytes() == b"an older backup"
    assert _temporaries(folder) == []


def test_a_fifo_where_the_backup_goes_is_refused(folder: Path) -> None:
    path = folder / "hall.dclayout"
    dclayout.save(_version(0), path)
    old = path.read_bytes()
    os.mkfifo(_backup(path))
    error = _save_in_thread(_version(1), path)
    assert isinstance(error, ProjectFileError), error
    assert "hall.dclayout.bak" in str(error)
    assert "FIFO" in str(error)
    assert path.read_bytes() == old
    assert stat.S_ISFIFO(os.lstat(_backup(path)).st_mode)
    assert _temporaries(folder) == []


# -- symbolic links ------------------------------------------------------------------------
def test_saving_through_a_symlink_replaces_the_real_file_and_keeps_the_link(
    tmp_path: Path,
) -> None:
    real_folder, link_folder = tmp_path / "real", tmp_path / "links"
    real_folder.mkdir()
    link_folder.mkdir()
    real = real_folder / "hall.dclayout"
    link = link_folder / "shortcut.dclayout"
    dclayout.save(_version(0), real)
    old = real.read_bytes()
    old_inode = os.stat(real).st_ino
    link.symlink_to(real)

    dclayout.save(_version(1), link)

    assert link.is_symlink()
    assert os.readlink(link) == str(real)
    assert dclayout.load(real).name == "Version 1"
    assert dclayout.load(link).name == "Version 1"
    assert os.stat(real).st_ino != old_inode  # replaced by a rename, not rewritten in place
    assert _backup(real).read_bytes() == old
    assert sorted(os.listdir(link_folder)) == ["shortcut.dclayout"]
    assert sorted(os.listdir(real_folder)) == ["hall.dclayout", "hall.dclayout.bak"]


def test_a_relative_symlink_chain_is_followed(folder: Path) -> None:
    real = folder / "hall.dclayout"
    dclayout.save(_version(0), real)
    (folder / "a.dclayout").symlink_to("hall.dclayout")
    (folder / "b.dclayout").symlink_to("a.dclayout")
    dclayout.save(_version(1), folder / "b.dclayout")
    assert (folder / "a.dclayout").is_symlink()
    assert (folder / "b.dclayout").is_symlink()
    assert dclayout.load(real).name == "Version 1"
    assert dclayout.load(_backup(real)).name == "Version 0"
    assert _temporaries(folder) == []


def test_a_dangling_symlink_creates_the_file_it_points_to(folder: Path) -> None:
    link = folder / "link.dclayout"
    link.symlink_to("made.dclayout")
    dclayout.save(_version(1), link)
    assert link.is_symlink()
    assert dclayout.load(folder / "made.dclayout").name == "Version 1"


def test_a_symlink_to_a_device_is_refused(folder: Path, opened: list[str]) -> None:
    device = folder / "dev"
    _char_device(device, 1, 7)
    link = folder / "link.dclayout"
    link.symlink_to(device)
    with pytest.raises(ProjectFileError, match="a character device"):
        dclayout.save(_version(1), link)
    assert link.is_symlink()
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert str(device) not in opened
    assert sorted(os.listdir(folder)) == ["dev", "link.dclayout"]


# -- injected faults -------------------------------------------------------------------------
def _refuse_links(monkeypatch: pytest.MonkeyPatch, code: int) -> list[str]:
    """Make os.link fail with ``code``; the sources it was asked to link."""
    asked: list[str] = []

    def failing_link(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        asked.append(os.fspath(source))
        raise _os_error(code)

    monkeypatch.setattr(os, "link", failing_link)
    return asked


def _watch_backup(monkeypatch: pytest.MonkeyPatch, backup: Path) -> list[bytes | None]:
    """The backup's bytes seen at every os.replace, os.unlink and os.remove."""
    seen: list[bytes | None] = []

    def watching(real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            seen.append(backup.read_bytes() if backup.exists() else None)
            result = real(*args, **kwargs)
            seen.append(backup.read_bytes() if backup.exists() else None)
            return result

        return call

    for name in ("replace", "rename", "unlink", "remove"):
        monkeypatch.setattr(os, name, watching(getattr(os, name)))
    return seen


@pytest.mark.parametrize("code", [errno.EPERM, errno.ENOTSUP, errno.EXDEV])
def test_where_hard_links_fail_the_backup_is_a_copy_and_the_old_one_stays_until_then(
    folder: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    path = folder / "hall.dclayout"
    current, old_backup = _saved_twice(path)
    asked = _refuse_links(monkeypatch, code)
    seen = _watch_backup(monkeypatch, _backup(path))

    dclayout.save(_version(2), path)
    monkeypatch.undo()

    assert asked  # a link was tried and refused
    assert dclayout.load(path).name == "Version 2"
    assert _backup(path).read_bytes() == current
    # At every step the backup was the old backup or the complete new one, never missing.
    assert set(seen) <= {old_backup, current}
    assert _temporaries(folder) == []
    assert sorted(os.listdir(folder)) == ["hall.dclayout", "hall.dclayout.bak"]


def _fail_writes_to(
    monkeypatch: pytest.MonkeyPatch, folder: Path, *, after_bytes: int, code: int
) -> list[int]:
    """os.write into ``folder`` writes ``after_bytes`` bytes, then fails with ``code``."""
    written: list[int] = [0]
    real_write = os.write

    def filling_write(fd: int, data: Any) -> int:
        if not _in(folder, fd):
            return real_write(fd, data)
        room = after_bytes - written[0]
        if room <= 0:
            raise _os_error(code)
        count = real_write(fd, bytes(data)[:room])
        written[0] += count
        return count

    monkeypatch.setattr(os, "write", filling_write)
    return written


def _assert_untouched(folder: Path, path: Path, current: bytes, old_backup: bytes) -> None:
    assert path.read_bytes() == current
    assert _backup(path).read_bytes() == old_backup
    assert _temporaries(folder) == []
    assert sorted(os.listdir(folder)) == ["hall.dclayout", "hall.dclayout.bak"]


def test_a_full_disk_mid_write_keeps_the_file_and_its_backup(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = folder / "hall.dclayout"
    current, old_backup = _saved_twice(path)
    written = _fail_writes_to(monkeypatch, folder, after_bytes=len(current) // 2, code=errno.ENOSPC)
    with pytest.raises(ProjectFileError) as caught:
        dclayout.save(_version(2), path)
    monkeypatch.undo()
    assert written[0] == len(current) // 2  # the failure came mid-write
    _one_line(str(caught.value))
    assert "No space left on device" in str(caught.value)
    _assert_untouched(folder, path, current, old_backup)


@pytest.mark.parametrize("which", ["the new file", "the backup copy"])
def test_an_io_error_on_fsync_keeps_the_file_and_its_backup(
    folder: Path, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    path = folder / "hall.dclayout"
    current, old_backup = _saved_twice(path)
    calls: list[int] = []
    real_fsync = os.fsync
    if which == "the backup copy":
        _refuse_links(monkeypatch, errno.EPERM)

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if which == "the backup copy" and len(calls) == 1:
            real_fsync(fd)  # the new file's temporary is flushed; the copy is not
            return
        raise _os_error(errno.EIO)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(ProjectFileError, match="Input/output error"):
        dclayout.save(_version(2), path)
    monkeypatch.undo()
    assert calls
    _assert_untouched(folder, path, current, old_backup)


def test_a_copy_fallback_that_fills_the_disk_keeps_the_old_backup(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = folder / "hall.dclayout"
    current, old_backup = _saved_twice(path)
    _refuse_links(monkeypatch, errno.EPERM)
    # The new file's temporary is written in full; the backup copy runs out of room.
    _fail_writes_to(monkeypatch, folder, after_bytes=len(current) + 100, code=errno.ENOSPC)
    with pytest.raises(ProjectFileError, match="No space left on device"):
        dclayout.save(_version(2), path)
    monkeypatch.undo()
    _assert_untouched(folder, path, current, old_backup)


@pytest.fixture
def linked(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A project file in one folder and a symlink to it in another: (real, link, link folder)."""
    real_folder, link_folder = tmp_path / "real", tmp_path / "links"
    real_folder.mkdir()
    link_folder.mkdir()
    real = real_folder / "hall.dclayout"
    link = link_folder / "shortcut.dclayout"
    link.symlink_to(real)
    return real, link, link_folder


@pytest.mark.parametrize("how", ["link fails", "copy fills the disk"])
def test_a_full_disk_while_backing_up_a_symlinked_target_keeps_everything(
    linked: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    real, link, link_folder = linked
    dclayout.save(_version(0), link)
    dclayout.save(_version(1), link)
    current, old_backup = real.read_bytes(), _backup(real).read_bytes()
    if how == "link fails":
        _refuse_links(monkeypatch, errno.ENOSPC)
    else:
        _refuse_links(monkeypatch, errno.EXDEV)
        _fail_writes_to(monkeypatch, real.parent, after_bytes=len(current) + 10, code=errno.ENOSPC)
    with pytest.raises(ProjectFileError, match="No space left on device"):
        dclayout.save(_version(2), link)
    monkeypatch.undo()
    assert link.is_symlink()
    _assert_untouched(real.parent, real, current, old_backup)
    assert sorted(os.listdir(link_folder)) == ["shortcut.dclayout"]


def test_a_failed_rename_over_the_backup_keeps_the_old_backup(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = folder / "hall.dclayout"
    current, old_backup = _saved_twice(path)
    real_replace = os.replace

    def failing_replace(source: Any, target: Any) -> None:
        if os.fspath(target).endswith(".bak"):
            raise _os_error(errno.EIO)
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ProjectFileError, match="Input/output error"):
        dclayout.save(_version(2), path)
    monkeypatch.undo()
    _assert_untouched(folder, path, current, old_backup)


# -- temporaries left by killed saves --------------------------------------------------------
def test_the_next_save_removes_temporaries_a_killed_save_left(folder: Path) -> None:
    path = folder / "hall.dclayout"
    dclayout.save(_version(0), path)
    stale = [".hall.dclayout.0a1b2c3d.tmp", ".hall.dclayout.k_9xq2mz.tmp"]
    for name in stale:
        (folder / name).write_bytes(b'{"format": "coherence.dcl')  # cut off mid-write
    kept = [".other.dclayout.0a1b2c3d.tmp", ".hall.dclayout.0a1b2c3d.txt", "hall.dclayout.tmp"]
    for name in kept:
        (folder / name).write_text("not ours")
    (folder / ".hall.dclayout.dir12345.tmp").mkdir()  # not a regular file: left alone

    dclayout.save(_version(1), path)

    names = set(os.listdir(folder))
    assert not names & set(stale)
    assert set(kept) <= names
    assert (folder / ".hall.dclayout.dir12345.tmp").is_dir()
    assert dclayout.load(path).name == "Version 1"


def test_the_temporary_pattern_matches_the_names_a_save_makes(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = folder / "hall.dclayout"
    dclayout.save(_version(0), path)
    made: list[str] = []
    real_replace = os.replace

    def recording_replace(source: Any, target: Any) -> None:
        made.append(Path(source).name)
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", recording_replace)
    dclayout.save(_version(1), path)
    monkeypatch.undo()
    pattern = atomic_file.temporary_pattern(path)
    assert len(made) == 2  # the staged backup, then the new file
    assert all(pattern.fullmatch(name) for name in made), made


# -- what keeps working ----------------------------------------------------------------------
def test_the_saved_file_keeps_its_permissions(folder: Path) -> None:
    path = folder / "hall.dclayout"
    dclayout.save(_version(0), path)
    path.chmod(0o640)
    dclayout.save(_version(1), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(_backup(path)).st_mode) == 0o640


def test_the_file_and_the_folder_are_flushed_to_disk(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = folder / "hall.dclayout"
    dclayout.save(_version(0), path)
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    dclayout.save(_version(1), path)
    monkeypatch.undo()
    assert str(folder) in synced
    assert any(atomic_file.temporary_pattern(path).fullmatch(Path(p).name) for p in synced)


# -- autosave uses the same writer -----------------------------------------------------------
def test_autosave_refuses_a_fifo_sidecar_promptly_and_leaves_no_temporaries(folder: Path) -> None:
    from gui.autosave import SIDECAR_SUFFIX, write_autosave

    os.mkfifo(folder / f"stem{SIDECAR_SUFFIX}")
    outcome: list[BaseException | None] = []

    def work() -> None:
        try:
            write_autosave(_version(1), None, folder, "stem")
            outcome.append(None)
        except BaseException as err:
            outcome.append(err)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(TIMEOUT_S)
    if worker.is_alive():
        os.close(os.open(folder / f"stem{SIDECAR_SUFFIX}", os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("autosave blocked on a FIFO sidecar")
    assert isinstance(outcome[0], CoherenceError), outcome[0]
    assert "FIFO" in str(outcome[0])
    assert stat.S_ISFIFO(os.lstat(folder / f"stem{SIDECAR_SUFFIX}").st_mode)
    assert _temporaries(folder) == []


def test_autosave_writes_no_backup_and_no_temporaries(folder: Path) -> None:
    from gui.autosave import find_autosaves, write_autosave

    write_autosave(_version(0), None, folder, "stem")
    entry = write_autosave(_version(1), None, folder, "stem")
    assert sorted(os.listdir(folder)) == ["stem.dclayout", "stem.json"]
    assert [e.name for e in find_autosaves(folder)] == ["Version 1"]
    assert entry.path == folder / "stem.dclayout"


# -- the command line ------------------------------------------------------------------------
def _new(output: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "new", "-o", str(output), "--gpus", "1024"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        timeout=60,
        check=False,
    )


def _assert_refused(result: subprocess.CompletedProcess[str], what: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("coherence new: error: ")
    assert what in lines[0]


def test_new_onto_a_fifo_exits_2_promptly_with_one_line(folder: Path) -> None:
    fifo = folder / "pipe.dclayout"
    os.mkfifo(fifo)
    _assert_refused(_new(fifo), "a named pipe (FIFO), not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(folder) == ["pipe.dclayout"]


@pytest.mark.parametrize(("major", "minor"), [(1, 3), (1, 7)])
def test_new_onto_a_device_exits_2_with_one_line_and_leaves_it(
    folder: Path, major: int, minor: int
) -> None:
    device = folder / "device"
    _char_device(device, major, minor)
    _assert_refused(_new(device), "a character device, not a regular file")
    status = os.lstat(device)
    assert stat.S_ISCHR(status.st_mode)
    assert status.st_rdev == os.makedev(major, minor)
    assert os.listdir(folder) == ["device"]


def test_new_onto_a_folder_exits_2_with_one_line(folder: Path) -> None:
    _assert_refused(_new(folder), "a folder, not a regular file")


# -- exports refuse the same targets -------------------------------------------------------
def _export(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", str(SAMPLE), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("suffix", [".png", ".csv", ".dxf", ".pdf"])
def test_export_onto_a_fifo_exits_2_promptly_with_one_line(folder: Path, suffix: str) -> None:
    fifo = folder / f"out{suffix}"
    os.mkfifo(fifo)
    result = _export("-o", str(fifo))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("coherence export: error: ")
    assert "a named pipe (FIFO), not a regular file" in lines[0]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(folder) == [fifo.name]


def test_export_onto_a_device_leaves_it(folder: Path) -> None:
    device = folder / "out.svg"
    _char_device(device, 1, 3)
    result = _export("-o", str(device))
    assert result.returncode == 2, result.stderr
    assert "a character device" in result.stderr
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert os.listdir(folder) == ["out.svg"]


# -- the GUI's save ----------------------------------------------------------------------------
def test_the_document_refuses_to_save_onto_a_fifo_promptly(folder: Path, qtbot: Any) -> None:
    from gui.document import Document

    fifo = folder / "pipe.dclayout"
    os.mkfifo(fifo)
    document = Document(_version(1), check_delay_ms=10)
    with qtbot.waitSignal(document.checked, timeout=20000):
        pass

    def blocked(signum: int, frame: Any) -> None:
        raise TimeoutError(f"saving onto a FIFO blocked for {TIMEOUT_S:.0f} s")

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(round(TIMEOUT_S))
    try:
        message = document.save(fifo)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        document.close()
    assert message is not None
    _one_line(message)
    assert "a named pipe (FIFO), not a regular file" in message
    assert document.path != fifo
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(folder) == ["pipe.dclayout"]
