"""Replacing a file so that nothing is ever lost: atomic writes of regular files.

Owns how Coherence writes every project file (saves, autosaves and their
sidecars). :func:`write_atomic` writes the new bytes to a temporary file beside
the target, flushes it to disk and renames it over the target, so that at every
instant the target is either the old file or the complete new one.

Only regular files are written. A target that exists and is something else (a
device, a FIFO, a socket, a folder) is refused by :func:`resolve_target` before
anything is opened: a FIFO would block, ``/dev/full`` would be read forever and
a rename would replace the device node itself. A symbolic link is followed:
the file it points to is replaced and the link stays a link.

With ``backup`` the previous file is kept as ``<name>.bak`` beside the real
file. The new backup is staged under a temporary name (a hard link to the
current file, or a copy where the file system has no hard links: FAT, exFAT,
some network shares) and renamed over the old backup, so the old ``.bak`` is
never deleted before the new one exists, and the current file is never touched
until the new one has replaced it.

Temporary files are named ``.<name>.<8 characters>.tmp`` beside the real
target. Every failure removes the ones it made; ones left by a save that was
killed are removed by the next save of the same file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from layout.errors import CoherenceError, one_line

BACKUP_SUFFIX = ".bak"
TEMP_SUFFIX = ".tmp"
_CHUNK_BYTES = 1 << 20
# Errors of link(2) that mean "this file system cannot hard-link", not "the disk failed".
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}
)
# Errors of fsync(2) on a folder that mean "not supported here" (some network and FUSE
# file systems); the rename is done, there is nothing more to flush.
_DIR_SYNC_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF})
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class FileWriteError(CoherenceError):
    """A file was not written: the target is not a regular file, or the disk refused.

    The message is one line naming the path. The previous file and its backup
    are as they were (or, when only the final flush of the folder failed, the
    new file is complete in place).
    """


@dataclass(frozen=True)
class Target:
    """Where a write lands: the real file (symlinks followed) and what is there now."""

    path: Path
    """The real file: the target with every symbolic link resolved."""
    exists: bool
    mode: int
    """Permission bits the written file gets: the existing file's, else the default."""

    @property
    def backup(self) -> Path:
        return self.path.with_name(self.path.name + BACKUP_SUFFIX)


def kind_of(mode: int) -> str:
    """What a file of this ``st_mode`` is, in a user's words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _named(path: str | os.PathLike[str]) -> str:
    return one_line(os.fspath(path))


def resolve_target(path: str | os.PathLike[str]) -> Target:
    """The regular file writing ``path`` replaces; refuses anything that is not one.

    Symbolic links are followed. Nothing is opened: the target is only looked
    at with stat(2). Raises :class:`FileWriteError` when the target exists and
    is not a regular file, or cannot be looked at.
    """
    real = Path(os.path.realpath(path))
    try:
        status = os.stat(real)
    except FileNotFoundError:
        return Target(real, False, _default_mode())
    except OSError as err:
        raise FileWriteError(f"{_named(path)}: cannot write ({err.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise FileWriteError(
            f"{_named(path)}: is {kind_of(status.st_mode)}, not a regular file; not written"
        )
    return Target(real, True, status.st_mode & 0o777)


def check_target(path: str | os.PathLike[str]) -> None:
    """Refuse early a target that :func:`write_atomic` would refuse for what it is."""
    resolve_target(path)


def write_atomic(path: str | os.PathLike[str], data: bytes, *, backup: bool = True) -> Path:
    """Replace the regular file at ``path`` (symlinks followed) by ``data``, atomically.

    With ``backup`` the previous file, if any, is kept as ``<real name>.bak``.
    Returns the real file written. Raises :class:`FileWriteError` with a
    one-line message; the old file and the old backup are then intact and no
    temporary file is left.
    """
    target = resolve_target(path)
    if backup:
        _check_backup_slot(path, target.backup)
    remove_stale_temporaries(target.path)
    made: list[str] = []
    try:
        temporary = _write_temporary(target.path, data, target.mode, made)
        if backup and target.exists:
            _stage_backup(target, made)
        os.replace(temporary, target.path)
        made.remove(temporary)
        _sync_folder(target.path.parent)
    except OSError as err:
        raise FileWriteError(
            f"{_named(path)}: cannot write ({err.strerror or err})"
        ) from None
    finally:
        for name in made:
            with contextlib.suppress(OSError):
                os.unlink(name)
    return target.path


def temporary_pattern(path: Path) -> re.Pattern[str]:
    """Names of the temporary files a write of ``path`` makes beside it."""
    return re.compile(re.escape(f".{path.name}.") + r"[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))


def remove_stale_temporaries(path: Path) -> list[str]:
    """Delete temporary files a killed write of ``path`` left beside it; their names."""
    pattern = temporary_pattern(path)
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return []
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(entry.name)
    return removed


def _check_backup_slot(path: str | os.PathLike[str], backup: Path) -> None:
    # The backup is replaced by a rename, which would swallow a device node or
    # FIFO sitting at that name; a symbolic link there is replaced, not followed.
    try:
        status = os.lstat(backup)
    except FileNotFoundError:
        return
    except OSError as err:
        raise FileWriteError(f"{_named(backup)}: cannot write ({err.strerror})") from None
    if not (stat.S_ISREG(status.st_mode) or stat.S_ISLNK(status.st_mode)):
        raise FileWriteError(
            f"{_named(backup)}: the backup of {_named(path)} is {kind_of(status.st_mode)}, "
            "not a regular file; not written"
        )


def _temporary_name(path: Path) -> str:
    return str(path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"))


def _create_temporary(path: Path, mode: int, made: list[str]) -> tuple[str, int]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY
    for _attempt in range(100):
        name = _temporary_name(path)
        try:
            fd = os.open(name, flags, 0o600)
        except FileExistsError:
            continue
        made.append(name)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
        except OSError:
            os.close(fd)
            raise
        return name, fd
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view[:_CHUNK_BYTES])
        view = view[written:]


def _write_temporary(path: Path, data: bytes, mode: int, made: list[str]) -> str:
    name, fd = _create_temporary(path, mode, made)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return name


def _stage_backup(target: Target, made: list[str]) -> None:
    """Make the new backup under a temporary name, then rename it over the old one."""
    staged = _temporary_name(target.path)
    try:
        os.link(target.path, staged)
        made.append(staged)
    except OSError as err:
        if err.errno not in _NO_HARD_LINKS:
            raise
        staged = _copy_to_temporary(target, made)
    os.replace(staged, target.backup)
    made.remove(staged)


def _copy_to_temporary(target: Target, made: list[str]) -> str:
    # Opened without following links and without blocking, and checked again
    # once open: the file may have been swapped for a FIFO or a device since
    # resolve_target looked at it.
    source = os.open(target.path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC | _BINARY)
    try:
        status = os.fstat(source)
        if not stat.S_ISREG(status.st_mode):
            raise FileWriteError(
                f"{_named(target.path)}: is {kind_of(status.st_mode)}, not a regular file; "
                "not written"
            )
        name, fd = _create_temporary(target.path, status.st_mode & 0o777, made)
        try:
            while chunk := os.read(source, _CHUNK_BYTES):
                _write_all(fd, chunk)
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        os.close(source)
    return name


def _sync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY | _CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in _DIR_SYNC_UNSUPPORTED:
            raise
    finally:
        os.close(fd)


def _default_mode() -> int:
    """Permission bits of a new file under the process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


__all__ = [
    "BACKUP_SUFFIX",
    "TEMP_SUFFIX",
    "FileWriteError",
    "Target",
    "check_target",
    "kind_of",
    "remove_stale_temporaries",
    "resolve_target",
    "temporary_pattern",
    "write_atomic",
]
