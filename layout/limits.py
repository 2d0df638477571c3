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
MAX_ITEMS: Final = 2_000_000
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
