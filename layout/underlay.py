"""The floor's underlay: the building drawing's linework in plan metres, for drawing under the plan.

Owns reading the DXF named by ``Floor.underlay`` into line segments placed by
``Floor.underlay_placement`` (the transform :mod:`layout.dxf_import` used for
the outline), and where a stored underlay path points. Qt-free: the canvas
(:mod:`gui.canvas.underlay`) and the pictures turn the segments into paths.

What is read
    Every modelspace entity :mod:`layout.dxf_import` reads as a line
    (LINE, LWPOLYLINE, 2D/3D POLYLINE, ARC, CIRCLE, ELLIPSE, SPLINE; curves
    flattened to within 2 cm), on every layer, also inside block references
    (INSERT, expanded with ezdxf's ``virtual_entities``). Text, hatches,
    dimensions, images and 3D solids are skipped.

Limits
    At most :data:`MAX_SEGMENTS` segments (200,000, about 6 MB) are kept; a
    larger drawing is cut there and :attr:`Linework.truncated` says so, so a
    huge drawing cannot exhaust memory or make every repaint slow. The file
    itself is read by :func:`layout.dxf_import._read`: a regular file of at most
    :data:`~layout.limits.MAX_DXF_BYTES`, at most :data:`~layout.limits.MAX_DXF_ENTITIES`
    entities once block references are expanded.

Paths
    ``Floor.underlay`` is relative to the project file's folder, or absolute
    (:func:`resolve`); :func:`rebased` rewrites it for a file saved elsewhere. A
    stored path no file can have (a NUL byte, a 300-character name) is an
    :class:`UnderlayError`, never an exception from the file system.

Every problem (missing file, not a DXF, no placement) raises
:class:`UnderlayError` with one line; callers report it and show the floor
without the underlay.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from layout.errors import CoherenceError, one_line, shown_path
from layout.floor import UnderlayPlacement

MAX_SEGMENTS = 200_000
"""Segments kept from one drawing (6.4 MB as float64); the rest is cut."""
FLATTEN_M = 0.02


_NAME_CHARS = 70
"""A file name and its folder each take at most this much of a one-line message."""


class UnderlayError(CoherenceError):
    """The underlay drawing cannot be shown; the floor itself is fine."""


@dataclass(frozen=True)
class Linework:
    """The underlay's lines in plan metres."""

    segments: np.ndarray
    """(n, 2, 2) float64: segment k runs from ``segments[k, 0]`` to ``segments[k, 1]``."""
    truncated: bool = False
    """True when the drawing had more than the cap and the rest was left out."""

    def __len__(self) -> int:
        return len(self.segments)

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        if not len(self.segments):
            return None
        xy = self.segments.reshape(-1, 2)
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)


NAME_MAX_BYTES = 255
"""The longest file or folder name the usual file systems (ext4, NTFS, APFS) allow."""


def resolve(underlay: str, project_dir: str | os.PathLike[str] | None = None) -> Path:
    """The file a stored underlay path names: relative ones from ``project_dir``
    (the project file's folder; the working folder when None).

    Raises :class:`UnderlayError` (one line) for a path no file can have: a NUL
    byte, a name longer than :data:`NAME_MAX_BYTES`, an unknown ``~user``.
    """
    shown = one_line(underlay if len(underlay) <= 60 else underlay[:57] + "...")
    if "\0" in underlay:
        raise UnderlayError(f"underlay {shown}: the path holds a NUL character; no file has it")
    longest = max((len(os.fsencode(part)) for part in Path(underlay).parts), default=0)
    if longest > NAME_MAX_BYTES:
        raise UnderlayError(
            f"underlay {shown}: a name in the path is {longest:,} bytes long, more than the "
            f"{NAME_MAX_BYTES} a file system allows"
        )
    try:
        path = Path(underlay).expanduser()
    except RuntimeError:  # "~someone" with no such user
        raise UnderlayError(f"underlay {shown}: no home folder for {shown.split('/')[0]}") from None
    if path.is_absolute():
        return path
    return Path(project_dir if project_dir is not None else Path.cwd()) / path


def rebased(
    underlay: str,
    from_dir: str | os.PathLike[str] | None,
    to_dir: str | os.PathLike[str],
) -> str:
    """``underlay`` (relative to ``from_dir``, or absolute) as written in a project file
    in ``to_dir``: relative to it with ``/`` separators, or absolute when it cannot be
    (another drive); as held when it names no possible file."""
    try:
        target = os.path.abspath(resolve(underlay, from_dir))
    except UnderlayError:
        return underlay
    try:
        relative = os.path.relpath(target, os.path.abspath(to_dir))
    except ValueError:
        return Path(target).as_posix()
    return Path(relative).as_posix()


def read_linework(
    path: str | os.PathLike[str],
    placement: UnderlayPlacement | None,
    *,
    max_segments: int = MAX_SEGMENTS,
) -> Linework:
    """The drawing's linework in plan metres, at most ``max_segments`` segments.

    Raises
    ------
    UnderlayError
        No placement, the file is missing or not a readable DXF.
    """
    from layout.dxf_import import DxfImportError, _flattened, _read

    path = Path(path)
    name = shown_path(path.name, _NAME_CHARS)
    if placement is None:
        raise UnderlayError(
            f"underlay {name}: its placement on the plan is not stored "
            "(import the floor plan again to show it)"
        )
    # Missing, unreadable, not a regular file, too big, a NUL in the path or a name the
    # system refuses: all refused by the bounded reader, one line each.
    try:
        os.stat(path)
    except FileNotFoundError:
        folder = shown_path(path.parent, _NAME_CHARS)
        raise UnderlayError(f"underlay {name}: no such file (in {folder})") from None
    except (OSError, ValueError):
        pass  # the reader below says what is wrong
    if path.suffix.lower() != ".dxf":
        raise UnderlayError(f"underlay {name}: not a DXF drawing (only .dxf is drawn)")
    try:
        doc = _read(path, name)
    except DxfImportError as err:
        raise UnderlayError(f"underlay {err}") from None

    chunks: list[np.ndarray] = []
    count = 0
    truncated = False
    distance = FLATTEN_M / placement.scale
    try:
        for _layer, points, closed in _flattened(doc.modelspace(), name, distance):
            xy = np.asarray(points, dtype=float)
            if closed and len(xy) > 2 and not np.array_equal(xy[0], xy[-1]):
                xy = np.vstack((xy, xy[:1]))
            if len(xy) < 2:
                continue
            segments = np.stack((xy[:-1], xy[1:]), axis=1)
            if count + len(segments) > max_segments:
                segments = segments[: max_segments - count]
                truncated = True
            chunks.append(segments)
            count += len(segments)
            if truncated:
                break
    except DxfImportError as err:
        raise UnderlayError(f"underlay {err}") from None
    if not chunks:
        return Linework(np.zeros((0, 2, 2)), truncated)
    drawing = np.concatenate(chunks)
    plan = placement.to_plan(drawing.reshape(-1, 2)).reshape(-1, 2, 2)
    finite = np.isfinite(plan).all(axis=(1, 2))
    return Linework(plan[finite] if not finite.all() else plan, truncated)


def describe(linework: Linework, name: str) -> str:
    """A one-line note on what was drawn (for the status bar)."""
    cut = f"; cut at {MAX_SEGMENTS:,} segments" if linework.truncated else ""
    return f"underlay {one_line(name)}: {len(linework):,} lines{cut}"


__all__ = [
    "MAX_SEGMENTS",
    "NAME_MAX_BYTES",
    "Linework",
    "UnderlayError",
    "describe",
    "read_linework",
    "rebased",
    "resolve",
]
