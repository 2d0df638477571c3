"""The layout as a DXF drawing, so CAD users can take it back into their building drawing.

Owns writing DXF (with ezdxf, R2010). Reading a building's DXF is
:mod:`layout.dxf_import`'s job; the layer names here are chosen so that an
export reads back with that module's default layer patterns.

Layers
    ``FLOOR`` the outline and its holes (closed polylines);
    ``OBSTACLES-COLUMNS``, ``OBSTACLES-WALLS``, ``OBSTACLES-KEEPOUTS`` the
    building's obstacles by kind (one layer per kind so they keep their kind
    when read back); one layer per equipment kind (``GPU_RACKS``,
    ``NETWORK_RACKS``, ``POWER``, ``COOLING``: :mod:`layout.kinds`); ``TRAYS``
    the overhead cable trays (centre lines, as wide as the tray).

Equipment is a block per equipment type (its footprint, front edge marked)
inserted at each item with the attributes ``ID``, ``NAME`` and ``TYPE``, so a
CAD user can select, count and schedule racks by attribute. Overhead runs
(busways) are stretched to their ``length_m`` with the insert's x scale.

Axes: the drawing is in metres (``$INSUNITS`` 6) with y up, so a model point
(x, y) is drawn at (x, -y) and a clockwise turn on screen is a negative
rotation. A :class:`~layout.dxf_import.Transform` from an import may be given
to put the layout back at the building drawing's own coordinates.

Never imports Qt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layout.dxf_import import UNITS, Transform
from layout.errors import one_line
from layout.geometry import front_mark_depth
from layout.kinds import EQUIPMENT_KINDS, kind_info
from layout.project import Project
from report.bom import ExportError
from report.safe_text import printable

OBSTACLE_LAYERS = {
    "column": "OBSTACLES-COLUMNS",
    "wall": "OBSTACLES-WALLS",
    "keepout": "OBSTACLES-KEEPOUTS",
}
FLOOR_LAYER = "FLOOR"
TRAY_LAYER = "TRAYS"
# AutoCAD colour index, close to the canvas's colours.
_LAYER_COLOURS = {
    FLOOR_LAYER: 8,
    "OBSTACLES-COLUMNS": 9,
    "OBSTACLES-WALLS": 250,
    "OBSTACLES-KEEPOUTS": 1,
    **{kind.dxf_layer: kind.dxf_colour for kind in EQUIPMENT_KINDS.values()},
    TRAY_LAYER: 30,
}
ATTRIBUTE_HEIGHT_M = 0.12


def write_dxf(project: Project, path: str | Path, transform: Transform | None = None) -> None:
    """Write ``project``'s floor, obstacles, equipment and trays to a DXF file.

    Raises
    ------
    ExportError
        The file cannot be written.
    """
    doc = build_document(project, transform)
    path = Path(path)
    try:
        doc.saveas(path)
    except OSError as err:
        raise ExportError(f"{one_line(str(path))}: cannot write ({err.strerror or err})") from None


def build_document(project: Project, transform: Transform | None = None) -> Any:
    """The ezdxf document of the project (see the module docstring for its layers)."""
    import ezdxf
    from ezdxf import units

    t = transform if transform is not None else Transform(1.0, 0.0, 0.0)

    def pts(coords: Any) -> list[tuple[float, float]]:
        return [(float(x), float(y)) for x, y in t.to_drawing(coords)]

    doc = ezdxf.new("R2010", setup=True)
    codes = [c for c, (_, m) in UNITS.items() if abs(m - t.scale) <= 1e-12 * max(m, 1.0)]
    doc.units = codes[0] if codes else units.M
    doc.header["$MEASUREMENT"] = 1
    for name, colour in _LAYER_COLOURS.items():
        doc.layers.add(name, color=colour)
    msp = doc.modelspace()

    floor = project.floor
    for ring in (floor.outline.exterior, *floor.outline.interiors):
        msp.add_lwpolyline(pts(ring.coords[:-1]), close=True, dxfattribs={"layer": FLOOR_LAYER})
    for obstacle in floor.obstacles:
        for polygon in getattr(obstacle.polygon, "geoms", [obstacle.polygon]):
            msp.add_lwpolyline(
                pts(polygon.exterior.coords[:-1]), close=True,
                dxfattribs={"layer": OBSTACLE_LAYERS[obstacle.kind]},
            )  # fmt: skip

    blocks = _blocks(doc, project, t.scale)
    items = project.items
    widths, _ = project.sizes()
    kinds = project.kinds()
    xy = t.to_drawing(items.xy) if len(items) else []
    for row in range(len(items)):
        type_id = items.type_ids[row]
        equipment = project.catalog[type_id]
        insert = msp.add_blockref(
            blocks[type_id],
            (float(xy[row][0]), float(xy[row][1])),
            dxfattribs={
                "layer": kind_info(str(kinds[row])).dxf_layer,
                "rotation": (-float(items.rotation[row])) % 360.0,
                "xscale": float(widths[row]) / equipment.footprint.width_m,
            },
        )
        # Attribute text is shown by CAD programs and read by scripts: no control characters.
        insert.add_auto_attribs({
            "ID": printable(items.ids[row]),
            "NAME": printable(items.names[row] or items.ids[row]),
            "TYPE": printable(type_id),
        })  # fmt: skip

    for segment in project.trays.segments:
        line = msp.add_lwpolyline(pts([segment.a, segment.b]), dxfattribs={"layer": TRAY_LAYER})
        line.dxf.const_width = segment.width_m / t.scale
    return doc


def _blocks(doc: Any, project: Project, scale: float) -> dict[str, str]:
    """A block per equipment type used: footprint and front mark, attribute definitions."""
    names: dict[str, str] = {}
    for type_id in sorted(set(project.items.type_ids)):
        equipment = project.catalog[type_id]
        w = equipment.footprint.width_m / scale
        d = equipment.footprint.depth_m / scale
        mark = float(front_mark_depth(equipment.footprint.depth_m)) / scale
        name = "EQ_" + "".join(c if c.isalnum() or c in "-_" else "_" for c in type_id.upper())
        block = doc.blocks.new(name=name)
        block.add_lwpolyline(
            [(-w / 2, -d / 2), (w / 2, -d / 2), (w / 2, d / 2), (-w / 2, d / 2)], close=True
        )
        # The front faces -y in the model (up on screen), +y in the drawing.
        block.add_lwpolyline(
            [(-w / 2, d / 2 - mark), (w / 2, d / 2 - mark)], dxfattribs={"color": 7}
        )
        height = ATTRIBUTE_HEIGHT_M / scale
        for k, tag in enumerate(("ID", "NAME", "TYPE")):
            block.add_attdef(
                tag, (-w / 2 + 0.02 / scale, d / 2 - mark - (k + 1) * height * 1.3),
                dxfattribs={"height": height, "invisible": tag != "ID"},
            )  # fmt: skip
        names[type_id] = name
    return names
