"""Equipment kinds: the one table of what each placeable kind is called and how it looks.

Owns, per kind of placeable equipment (GPU racks, network racks, power units,
cooling units, storage racks): its title (palette headings, legends), its nouns (counts in
running text), the letters new ids start with, its colour (canvas, icons,
pictures) and its DXF layer (with that layer's AutoCAD colour index). The GUI,
the reports and the DXF export read this table; none keeps its own copy. The
order of :data:`EQUIPMENT_KINDS` is the order kinds are listed in (palette,
legends).

A new kind of equipment needs its catalog schema in :mod:`layout.catalog`,
its YAML, and one entry here.

Colours are hex strings, so that this module stays free of Qt.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EquipmentKind:
    """What a kind of placeable equipment is called and how it is drawn."""

    name: str
    """The catalog's ``kind`` value (``gpu_rack``)."""
    title: str
    """Heading of the kind's group: palette, picture legend (``Power``)."""
    singular: str
    """One unit in running text (``power unit``)."""
    plural: str
    """Several units in running text (``power units``)."""
    id_prefix: str
    """Letters a new unit's id starts with when nothing better is known (``P``)."""
    colour: str
    """Fill colour on the canvas, the icons and the pictures (``#d99a1e``)."""
    dxf_layer: str
    """Layer of the kind's units in a DXF export (``POWER``)."""
    dxf_colour: int
    """AutoCAD colour index of that layer, close to :attr:`colour`."""

    @property
    def plural_title(self) -> str:
        """The plural as a label of its own (``Power units``): report counts."""
        return self.plural[:1].upper() + self.plural[1:]


EQUIPMENT_KINDS: dict[str, EquipmentKind] = {
    kind.name: kind
    for kind in (
        EquipmentKind("gpu_rack", "GPU racks", "GPU rack", "GPU racks", "R", "#3d7cc9",
                      "GPU_RACKS", 5),
        EquipmentKind("network_rack", "Network racks", "network rack", "network racks", "N",
                      "#8a5cc2", "NETWORK_RACKS", 6),
        EquipmentKind("power", "Power", "power unit", "power units", "P", "#d99a1e",
                      "POWER", 40),
        EquipmentKind("cooling", "Cooling", "cooling unit", "cooling units", "K", "#23a393",
                      "COOLING", 4),
        EquipmentKind("storage_rack", "Storage racks", "storage rack", "storage racks", "ST",
                      "#5a6e7f", "STORAGE_RACKS", 8),
    )
}  # fmt: skip
"""Every placeable kind, by catalog kind name, in listing order."""

UNKNOWN_COLOUR = "#8a8a8a"
"""Colour of anything whose kind has no entry."""
UNKNOWN_ID_PREFIX = "X"
UNKNOWN_DXF_LAYER = "0"
"""DXF's default layer, for units of a kind without an entry."""


def kind_info(kind: str) -> EquipmentKind:
    """The entry of ``kind``; for a kind without one, a neutral entry named after it."""
    known = EQUIPMENT_KINDS.get(kind)
    if known is not None:
        return known
    return EquipmentKind(kind, kind, kind, kind, UNKNOWN_ID_PREFIX, UNKNOWN_COLOUR,
                         UNKNOWN_DXF_LAYER, 7)  # fmt: skip


__all__ = [
    "EQUIPMENT_KINDS",
    "UNKNOWN_COLOUR",
    "UNKNOWN_DXF_LAYER",
    "UNKNOWN_ID_PREFIX",
    "EquipmentKind",
    "kind_info",
]
