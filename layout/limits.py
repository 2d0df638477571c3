"""The limits of what a project may hold, declared once.

Owns the numbers; every reader and every writer of the model enforces them
from here: the project loader (:mod:`layout.dclayout`), the edit commands,
the generator, the DXF and YAML readers and the inspector. Anything the tool
accepts, it can therefore save and read back. Nothing here reads or changes
a project.

Beside the numbers, a few checks of single values (:func:`checked_text`,
:func:`checked_number`, :func:`checked_coordinate`) that the model's
writers share, so each rule is worded once; they raise
:class:`~layout.errors.EditError` naming what is wrong and the limit.
"""

from __future__ import annotations

import math
import numbers
import sys
from typing import Final

from layout.errors import EditError, one_line, shown

# -- sizes of a project file -----------------------------------------------------------------
MAX_FILE_BYTES: Final = 512 * 2**20
"""A project file larger than this is refused before it is read."""
MAX_ITEMS: Final = 200_000
"""Items of one project. A 1M-GPU cluster is about 30,000 items, so this is room for about
6M GPUs. Loading costs about 2.8 kB and 20 µs per item at its peak (200,000 items: 560 MB),
and checking more; the 2M items allowed before took 3.2 GB to load and over 8 GB to check."""
MAX_OBSTACLES: Final = 200_000
MAX_VERTICES: Final = 100_000
"""Vertices of one outline, hole or obstacle ring."""
MAX_TILE_M: Final = 10.0
"""The floor's tile grid (tiles are 0.6 m; 10 m is no tile)."""
MAX_UNDERLAY_SCALE: Final = 1000.0
"""Metres per drawing unit of an underlay (a kilometre per unit is no building drawing)."""

# -- positions ---------------------------------------------------------------------------------
MAX_COORD_M: Final = 100_000.0
"""No hall is 100 km across; larger coordinates are a broken or hostile file."""
MAX_DRAWING_COORD: Final = 1e12
"""Drawing units can be survey millimetres far from the origin, but not more than this."""
MAX_ROTATION_DEG: Final = 360.0
"""Rotations are stored within ±360°."""

# -- text --------------------------------------------------------------------------------------
MAX_ID_CHARS: Final = 64
"""Item, obstacle and property ids."""
MAX_TYPE_ID_CHARS: Final = 80
MAX_NAME_CHARS: Final = 200
"""Item and project names."""
MAX_DESCRIPTION_CHARS: Final = 100_000
MAX_PATH_CHARS: Final = 4096
"""An underlay's path as stored."""
MAX_REASON_CHARS: Final = 2000
"""A waiver's reason."""
MAX_RULE_ID_CHARS: Final = 100

# -- reading files -----------------------------------------------------------------------------
# Every reader goes through layout.bounded_read: only regular files, at most this many
# bytes even where the size reads as 0 (/dev/zero, /proc files).
MAX_CATALOG_FILE_BYTES: Final = 8 * 2**20
"""A catalog YAML file (the bundled ones are a few kB)."""
MAX_DEVICETYPE_BYTES: Final = 2 * 2**20
"""A NetBox devicetype-library YAML file (the largest in the library is about 100 kB)."""
MAX_DXF_BYTES: Final = 256 * 2**20
"""Building drawings run to tens of MB; a larger file is not a floor plan."""
MAX_DXF_ENTITIES: Final = 2_000_000
"""Entities of a drawing counted as drawn: each block reference counts the entities of its
block (and theirs, through every level of nesting) once per reference."""
MAX_CLIPBOARD_BYTES: Final = 64 * 2**20
MAX_SIDECAR_BYTES: Final = 64 * 2**10
"""An autosave's JSON note (original path, time, name): a few hundred bytes."""

# -- structure of what is read -----------------------------------------------------------------
MAX_NESTING_DEPTH: Final = 64
"""Nesting of JSON arrays and objects, or YAML sequences and mappings. A project file
nests 6 deep, a catalog or device type 5."""
MAX_YAML_NODES: Final = 200_000
"""Nodes of one YAML document with every alias expanded (a device type has a few thousand;
a "billion laughs" file of 500 bytes expands to 10^9)."""
MAX_JSON_MEMORY_BYTES: Final = 512 * 2**20
"""Memory reading a project's JSON may take at its peak, estimated from the counts of its
brackets and separators before parsing (layout.bounded_read.json_memory_estimate): a project
of MAX_ITEMS items is estimated at 200 MB; 150 MB of empty lists at 4 GB."""

# -- property values ---------------------------------------------------------------------------
MAX_PROPERTY_TEXT_CHARS: Final = 10_000
"""A property's text, as an edit may set it."""
MAX_PROPERTY_INT: Final = 2**63 - 1
"""A whole-number property an edit may set lies within ±this (a 64-bit integer)."""
MAX_FILE_INT_DIGITS: Final = sys.get_int_max_str_digits() or 4300
"""Digits of the longest whole number a project file can hold (JSON is read with
Python's limit on converting text to integers)."""


# -- checks of single values -------------------------------------------------------------------
def checked_text(value: object, what: str, max_chars: int, *, min_chars: int = 0) -> str:
    """``value`` if it is text of ``min_chars``..``max_chars`` characters that can be
    written as UTF-8 (no lone surrogates), else an :class:`EditError` naming ``what``."""
    if not isinstance(value, str):
        raise EditError(f"{what}: expected text, got {shown(value)}")
    if len(value) > max_chars:
        raise EditError(f"{what} longer than {max_chars:,} characters ({len(value):,})")
    if len(value) < min_chars:
        raise EditError(f"{what}: must not be empty" if min_chars == 1 else
                        f"{what}: fewer than {min_chars} characters")  # fmt: skip
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            raise EditError(
                f"{what}: not valid text (a lone surrogate {one_line(repr(value[err.start]))} "
                f"at character {err.start + 1})"
            ) from None
    return value


def checked_number(value: object, what: str, unit: str = "") -> float:
    """``value`` as a finite float, else an :class:`EditError` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise EditError(f"{what}: expected a number, got {shown(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise EditError(f"{what}: {shown(value)} is beyond any usable number") from None
    if not math.isfinite(number):
        raise EditError(f"{what}: expected a finite number, got {number}")
    return number


def checked_coordinate(value: object, what: str) -> float:
    """``value`` as a position in metres within ±:data:`MAX_COORD_M`, else an
    :class:`EditError` naming ``what`` and the limit."""
    number = checked_number(value, what)
    if abs(number) > MAX_COORD_M:
        raise EditError(f"{what}: {number:,.6g} m is beyond ±{MAX_COORD_M:,.0f} m")
    return number
