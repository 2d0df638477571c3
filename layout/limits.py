"""The limits of what a project may hold, declared once.

Owns the numbers; every reader and every writer of the model enforces them
from here: the project loader (:mod:`layout.dclayout`), the edit commands,
the generator, the DXF and YAML readers and the inspector. Anything the tool
accepts, it can therefore save and read back. Nothing here reads or changes
a project.
"""

from __future__ import annotations

from typing import Final

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
