"""A building's DXF drawing as a hall's floor: outline, walls, columns and keep-out zones.

Owns reading DXF files (with ezdxf) into a :class:`~layout.floor.Floor`. It
never writes a DXF (``report.dxf_export`` does) and never imports Qt.

What is read
    Every entity ezdxf can turn into a path (LINE, ARC, CIRCLE, ELLIPSE,
    SPLINE, LWPOLYLINE, 2D POLYLINE), also inside block references (INSERT),
    is flattened to points. Closed paths are polygons; open ones are joined
    with ``shapely.ops.polygonize`` into the loops they close. Layers are
    sorted into outline, walls, columns and keep-outs by name patterns
    (:data:`DEFAULT_LAYERS`, case-insensitive ``fnmatch``), which a caller
    overrides with exact names or its own patterns.

    - Outline: the largest closed shape on the outline layers; other closed
      shapes there that lie inside it are holes (shafts, courtyards).
    - Walls: closed thin shapes; wall lines that close no loop are buffered by
      ``wall_thickness_m``. Loops wider than :data:`MAX_WALL_THICKNESS_M` (the
      room a wall encloses) are not walls and are dropped.
    - Columns and keep-outs: every closed shape on their layers.
    - Everything else stays in the drawing, which becomes the floor's
      underlay (its path is stored as ``Floor.underlay``, the transform below
      as ``Floor.underlay_placement``; :mod:`layout.underlay` reads its lines).

Units and axes
    Drawing units come from ``$INSUNITS`` (a ``scale`` argument, metres per
    drawing unit, overrides it; unitless drawings are taken as metres). DXF's
    y axis points up, the model's down: a point (x, y) of the drawing lands at
    ``((x - x0) × scale, (y0 - y) × scale)`` where (x0, y0) is the top-left
    corner of the outline (``origin="outline"``, the default, so the hall
    starts at (0, 0) as generated halls do) or the drawing's origin
    (``origin="drawing"``, so coordinates match the drawing's).
    :attr:`DxfFloor.transform` records the mapping so the underlay can be
    drawn in place and an export can go back.

Every problem (not a DXF, no outline, sizes no hall has) raises
:class:`DxfImportError` with one line naming the file and what is missing.
"""

from __future__ import annotations

import fnmatch
import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import shapely
from shapely.geometry import LineString, Polygon
from shapely.ops import polygonize_full, unary_union

from layout.bounded_read import read_bounded
from layout.errors import CoherenceError, EditError, one_line, shown_path
from layout.floor import DEFAULT_TILE_M, Floor, Obstacle, ObstacleKind, UnderlayPlacement
from layout.limits import MAX_COORD_M, MAX_DXF_BYTES, MAX_DXF_ENTITIES, MAX_OBSTACLES, MAX_VERTICES

MAX_HALL_M = 10_000.0
"""No hall is 10 km across; a larger outline means wrong units."""
MIN_HALL_M = 2.0
MAX_WALL_THICKNESS_M = 1.5
"""A loop on a wall layer wider than this is the room the walls enclose, not a wall."""
DEFAULT_WALL_THICKNESS_M = 0.2
MAX_BLOCK_DEPTH = 8
FLATTEN_M = 0.02
"""Curves are flattened to within 2 cm."""
MAX_SIMPLIFY_M = 0.1
"""A shape with more vertices than a project may store (``limits.MAX_VERTICES`` a ring) is
snapped to a grid of :data:`FLATTEN_M` up to this, else refused."""

Role = Literal["outline", "wall", "column", "keepout"]
ROLES: tuple[Role, ...] = ("outline", "keepout", "column", "wall")
"""Order in which a layer name is tried against the patterns: the first match wins."""

DEFAULT_LAYERS: dict[Role, tuple[str, ...]] = {
    "outline": (
        "*OUTLINE*", "*BOUNDARY*", "*PERIMETER*", "*FOOTPRINT*", "FLOOR", "*HALL*",
        "A-AREA*", "A-FLOR-OTLN*",
    ),
    "keepout": ("*KEEPOUT*", "*KEEP-OUT*", "*KEEP_OUT*", "*NO-GO*", "*EXCLUSION*", "*RESTRICT*"),
    "column": ("*COLUMN*", "*COLS*", "S-COL*", "*PILLAR*", "*POST*"),
    "wall": ("*WALL*",),
}  # fmt: skip
"""Layer-name patterns per role, after common CAD practice (AIA/NCS ``A-WALL``,
``S-COLS``, ``A-AREA``) and this program's own export (``FLOOR``,
``OBSTACLES-COLUMNS`` ...)."""

_OBSTACLE_PREFIX: dict[ObstacleKind, str] = {"column": "COL", "wall": "WALL", "keepout": "KO"}


class DxfImportError(CoherenceError):
    """A DXF drawing cannot be read as a floor; nothing was changed."""


@dataclass(frozen=True)
class Transform:
    """Drawing → model: ``x_m = (x - x0) × scale``, ``y_m = (y0 - y) × scale``."""

    scale: float
    """Metres per drawing unit."""
    x0: float
    y0: float

    def to_model(self, coords: Any) -> Any:
        """Drawing coordinates (n, 2) as model coordinates."""
        import numpy as np

        xy = np.asarray(coords, dtype=float).reshape(-1, 2)
        return np.column_stack(
            ((xy[:, 0] - self.x0) * self.scale, (self.y0 - xy[:, 1]) * self.scale)
        )

    def to_drawing(self, coords: Any) -> Any:
        """Model coordinates (n, 2) as drawing coordinates."""
        import numpy as np

        xy = np.asarray(coords, dtype=float).reshape(-1, 2)
        return np.column_stack((xy[:, 0] / self.scale + self.x0, self.y0 - xy[:, 1] / self.scale))

    @property
    def placement(self) -> UnderlayPlacement:
        """The same mapping as the floor stores it for its underlay."""
        return UnderlayPlacement(self.scale, (self.x0, self.y0), flip_y=True)


@dataclass(frozen=True)
class DxfFloor:
    """What an import found: the floor, the mapping used, and which layers played which role."""

    floor: Floor
    transform: Transform
    layers: dict[str, str] = field(default_factory=dict)
    """Layer name → role (``outline``, ``wall``, ``column``, ``keepout``) or ``underlay``."""
    units: str = "m"
    """Drawing units as found in ``$INSUNITS`` (or ``"scale"`` when overridden)."""

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for o in self.floor.obstacles:
            counts[o.kind] = counts.get(o.kind, 0) + 1
        x0, y0, x1, y1 = self.floor.bounds
        parts = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in sorted(counts.items()))
        return f"hall {x1 - x0:.1f} x {y1 - y0:.1f} m ({self.units}); {parts or 'no obstacles'}"


UNITS: dict[int, tuple[str, float]] = {
    1: ("in", 0.0254), 2: ("ft", 0.3048), 4: ("mm", 0.001), 5: ("cm", 0.01),
    6: ("m", 1.0), 7: ("km", 1000.0), 8: ("µin", 2.54e-8), 9: ("mil", 2.54e-5),
    10: ("yd", 0.9144), 14: ("dm", 0.1),
}  # fmt: skip
"""``$INSUNITS`` code → (unit name, metres per unit)."""


def read_floor(
    path: str | Path,
    *,
    layers: Mapping[str, Sequence[str]] | None = None,
    scale: float | None = None,
    wall_thickness_m: float = DEFAULT_WALL_THICKNESS_M,
    origin: Literal["outline", "drawing"] = "outline",
    tile_m: float = DEFAULT_TILE_M,
    underlay: str | None = None,
) -> DxfFloor:
    """Read a DXF building drawing as a floor.

    Parameters
    ----------
    path
        The ``.dxf`` file.
    layers
        Per role (``outline``, ``wall``, ``column``, ``keepout``), layer names
        or ``fnmatch`` patterns replacing that role's defaults; an empty list
        turns the role off.
    scale
        Metres per drawing unit, overriding ``$INSUNITS``.
    wall_thickness_m
        Thickness given to walls drawn as single lines.
    origin
        ``"outline"``: the outline's top-left corner becomes (0, 0);
        ``"drawing"``: the drawing's origin does.
    underlay
        The path stored as ``Floor.underlay`` (default: ``path`` as given).

    Raises
    ------
    DxfImportError
        The file is not a readable DXF, has no outline, or sizes no hall has.
    """
    path = Path(path)
    name = shown_path(path.name)
    roles = _roles(layers, name)
    if scale is not None and not (math.isfinite(scale) and 0 < scale <= 1000):
        raise DxfImportError(f"{name}: scale {scale:g} m per drawing unit is outside 0..1000")
    if not (math.isfinite(wall_thickness_m) and 0 < wall_thickness_m <= MAX_WALL_THICKNESS_M):
        raise DxfImportError(
            f"{name}: wall thickness {wall_thickness_m:g} m is outside "
            f"0..{MAX_WALL_THICKNESS_M:g} m"
        )
    doc = _read(path, name)
    msp = doc.modelspace()
    if scale is None:
        code = int(doc.header.get("$INSUNITS", 0) or 0)
        units, scale = UNITS.get(code, ("unitless, taken as m", 1.0))
    else:
        units = f"{scale:g} m per unit"

    shapes, role_of = _sorted_shapes(msp, name, roles, scale)

    outline_shapes = shapes.get("outline")
    if outline_shapes is None:
        wanted = ", ".join(roles["outline"]) or "(none)"
        raise DxfImportError(
            f"{name}: no outline found: no layer matches {wanted} (name the outline layer)"
        )
    loops = outline_shapes.polygons + _polygonized(outline_shapes.lines)[0]
    loops = [p for p in loops if p.area > 0]
    if not loops:
        raise DxfImportError(f"{name}: no outline found: the outline layers hold no closed shape")
    outline_drawing = max(loops, key=lambda p: p.area)
    minx, miny, maxx, maxy = outline_drawing.bounds
    width_m, depth_m = (maxx - minx) * scale, (maxy - miny) * scale
    if max(width_m, depth_m) > MAX_HALL_M:
        raise DxfImportError(
            f"{name}: the outline is {width_m:,.0f} x {depth_m:,.0f} m, larger than any hall "
            f"(units {units}; give the scale in metres per drawing unit)"
        )
    if min(width_m, depth_m) < MIN_HALL_M:
        raise DxfImportError(
            f"{name}: the outline is {width_m:.3g} x {depth_m:.3g} m, smaller than any hall "
            f"(units {units}; give the scale in metres per drawing unit)"
        )
    transform = Transform(scale, minx, maxy) if origin == "outline" else Transform(scale, 0.0, 0.0)
    farthest = max(abs(minx), abs(maxx), abs(miny), abs(maxy))
    if origin == "drawing" and farthest * scale > MAX_COORD_M:
        raise DxfImportError(
            f"{name}: the outline lies more than 100 km from the drawing's origin; "
            "import it with the outline's corner as the origin"
        )

    holes = [
        p.exterior
        for p in loops
        if p is not outline_drawing and outline_drawing.contains(p) and p.area > 0
    ]
    outline = _to_model(Polygon(outline_drawing.exterior, [h.coords for h in holes]), transform)
    if not isinstance(outline, Polygon) or not outline.is_valid:
        # Holes that touch each other or the outline: keep the outline alone.
        outline = _to_model(Polygon(outline_drawing.exterior), transform)
    outline = _storable(shapely.normalize(outline), name, "the outline")

    obstacles: list[Obstacle] = []
    numbers: dict[str, int] = {}
    for kind in ("wall", "column", "keepout"):
        bucket = shapes.get(kind)
        if bucket is None:
            continue
        for polygon in _obstacle_polygons(kind, bucket, wall_thickness_m / scale, scale):
            for model in _polygons_of(_to_model(polygon, transform)):
                if model.area <= 1e-6 or not model.intersects(outline):
                    continue
                number = numbers[kind] = numbers.get(kind, 0) + 1
                obstacle_id = f"{_OBSTACLE_PREFIX[kind]}{number:03d}"
                if len(obstacles) == MAX_OBSTACLES:
                    raise DxfImportError(
                        f"{name}: more than the {MAX_OBSTACLES:,} walls, columns and keep-outs "
                        "a floor may hold"
                    )
                stored = _storable(shapely.normalize(model), name, f"{kind} {obstacle_id}")
                obstacles.append(Obstacle(obstacle_id, kind, stored))
    try:
        floor = Floor(
            outline,
            tuple(obstacles),
            tile_m,
            underlay if underlay is not None else str(path),
            transform.placement,
        )
    except (EditError, ValueError) as err:
        raise DxfImportError(f"{name}: {one_line(str(err))}") from None
    return DxfFloor(floor, transform, dict(sorted(role_of.items())), units)


def _storable(polygon: Polygon, name: str, what: str) -> Polygon:
    """``polygon`` with at most ``MAX_VERTICES`` vertices a ring, as a project stores it:
    snapped to a grid (from :data:`FLATTEN_M` up to :data:`MAX_SIMPLIFY_M`) if it has
    more, else a one-line refusal. (A grid, not Douglas-Peucker: GEOS's simplifiers
    recurse per vertex and overflow the stack on a long saw-tooth edge.)"""

    def most_vertices(shape: Polygon) -> int:
        rings = [shape.exterior, *shape.interiors]
        return max(shapely.get_num_coordinates(r) - 1 for r in rings)

    vertices = most_vertices(polygon)
    if vertices <= MAX_VERTICES:
        return polygon
    grid = FLATTEN_M
    while True:
        simpler = shapely.set_precision(polygon, grid)
        if (
            isinstance(simpler, Polygon)
            and simpler.is_valid
            and simpler.area > 0
            and most_vertices(simpler) <= MAX_VERTICES
        ):
            return shapely.normalize(simpler)
        if grid >= MAX_SIMPLIFY_M:
            break
        grid = min(2 * grid, MAX_SIMPLIFY_M)
    raise DxfImportError(
        f"{name}: {what} has {vertices:,} vertices, more than the {MAX_VERTICES:,} a project "
        f"may store, even simplified to a {MAX_SIMPLIFY_M * 100:g} cm grid"
    )


def _sorted_shapes(
    msp: Any, name: str, roles: Mapping[str, tuple[str, ...]], scale: float
) -> tuple[dict[str, _Shapes], dict[str, str]]:
    """Closed polygons and open lines per role (drawing units), and each layer's role."""
    shapes: dict[str, _Shapes] = {}
    role_of: dict[str, str] = {}
    for layer, points, closed in _flattened(msp, name, FLATTEN_M / scale):
        role = role_of.get(layer)
        if role is None:
            role = role_of[layer] = _role(layer, roles)
        if role == "underlay":
            continue
        bucket = shapes.setdefault(role, _Shapes())
        if closed and len(points) >= 3:
            polygon = shapely.make_valid(Polygon(points))
            bucket.polygons.extend(_polygons_of(polygon))
        elif len(points) >= 2:
            bucket.lines.append(LineString(points))
    return shapes, role_of


@dataclass
class _Shapes:
    polygons: list[Polygon] = field(default_factory=list)
    lines: list[LineString] = field(default_factory=list)


def _roles(layers: Mapping[str, Sequence[str]] | None, name: str) -> dict[str, tuple[str, ...]]:
    roles: dict[str, tuple[str, ...]] = {r: DEFAULT_LAYERS[r] for r in ROLES}
    for role, patterns in (layers or {}).items():
        if role not in DEFAULT_LAYERS:
            raise DxfImportError(
                f"{name}: unknown layer role {role!r} (outline, wall, column, keepout)"
            )
        given = [patterns] if isinstance(patterns, str) else patterns
        roles[role] = tuple(str(p) for p in given)
    return roles


def _role(layer: str, roles: Mapping[str, tuple[str, ...]]) -> str:
    upper = layer.upper()
    for role in ROLES:
        if any(fnmatch.fnmatchcase(upper, p.upper()) for p in roles[role]):
            return role
    return "underlay"


def _read(path: Path, name: str) -> Any:
    """The drawing in ``path``, read within bounds: a regular file of at most
    :data:`~layout.limits.MAX_DXF_BYTES`, at most :data:`~layout.limits.MAX_DXF_ENTITIES`
    entities once block references are expanded (counted before anything is expanded)."""
    raw = read_bounded(path, MAX_DXF_BYTES, DxfImportError, what="floor plan", label=name)
    if not raw.strip():
        raise DxfImportError(f"{name}: the file is empty")
    try:
        doc = _parse(raw)
    except _NotDxfError:
        raise DxfImportError(f"{name}: not a readable DXF drawing (no DXF structure)") from None
    except Exception as err:
        # ezdxf's parser raises many kinds on broken input (DXFStructureError, ValueError,
        # StopIteration on truncation, ...); to the user they all mean the same.
        found = re.search(r"line (\d+)", str(err))
        where = f"broken near line {found[1]}" if found else "broken or truncated"
        raise DxfImportError(f"{name}: not a readable DXF drawing ({where})") from None
    drawn = drawn_entities(doc, MAX_DXF_ENTITIES)
    if drawn > MAX_DXF_ENTITIES:
        raise DxfImportError(
            f"{name}: more than {MAX_DXF_ENTITIES:,} entities once its block references "
            "are expanded; not a floor plan"
        )
    return doc


class _NotDxfError(Exception):
    pass


_BINARY_SENTINEL = b"AutoCAD Binary DXF\r\n\x1a\x00"
_HEADER_BYTES = 4 * 2**20
"""The encoding is read from the HEADER section, near the start."""


def _parse(raw: bytes) -> Any:
    """A drawing from the bytes of a DXF file (what ``ezdxf.readfile`` does, from memory)."""
    import ezdxf
    from ezdxf.document import Drawing
    from ezdxf.filemanagement import dxf_stream_info
    from ezdxf.lldxf.tagger import binary_tags_loader
    from ezdxf.lldxf.validator import is_dxf_stream

    if raw.startswith(_BINARY_SENTINEL):
        return Drawing.load(binary_tags_loader(raw, errors="surrogateescape"))
    head = raw[:_HEADER_BYTES]
    if len(raw) > _HEADER_BYTES:
        head = head[: head.rfind(b"\n") + 1]
    head_text = head.decode("utf-8", errors="ignore")
    if not is_dxf_stream(io.StringIO(head_text)):
        raise _NotDxfError
    encoding = dxf_stream_info(io.StringIO(head_text)).encoding
    try:
        text = raw.decode(encoding, errors="surrogateescape")
    except LookupError:
        text = raw.decode("cp1252", errors="surrogateescape")
    return ezdxf.read(io.StringIO(text))


def drawn_entities(doc: Any, limit: int) -> int:
    """Entities of the modelspace as drawn: a block reference counts once and adds its
    block's entities (through :data:`MAX_BLOCK_DEPTH` levels, times a MINSERT's rows and
    columns). Counts each block once per level, stopping past ``limit``, so a few kB of
    nested references that would draw 10^12 entities are counted in milliseconds."""
    counted: dict[tuple[str, int], int] = {}

    def count(entities: Iterable[Any], depth: int) -> int:
        total = 0
        for entity in entities:
            total += 1
            if entity.dxftype() == "INSERT" and depth < MAX_BLOCK_DEPTH:
                repeats = max(1, int(entity.dxf.get("row_count", 1))) * max(
                    1, int(entity.dxf.get("column_count", 1))
                )
                total += repeats * block(str(entity.dxf.get("name", "")), depth + 1)
            if total > limit:
                return limit + 1
        return total

    def block(block_name: str, depth: int) -> int:
        key = (block_name, depth)
        if key not in counted:
            layout = doc.blocks.get(block_name)
            counted[key] = 0 if layout is None else count(layout, depth)
        return counted[key]

    return count(doc.modelspace(), 0)


_PATH_TYPES = {"LINE", "ARC", "CIRCLE", "ELLIPSE", "SPLINE", "LWPOLYLINE", "POLYLINE"}


def _flattened(
    entities: Iterable[Any], name: str, distance: float, depth: int = 0, parent_layer: str = "0"
) -> Iterator[tuple[str, list[tuple[float, float]], bool]]:
    """(layer, points, closed) of every drawable entity, block references expanded."""
    from ezdxf import path as dxfpath
    from ezdxf.lldxf.const import DXFError

    count = 0
    for entity in entities:
        count += 1
        if count > MAX_DXF_ENTITIES:
            raise DxfImportError(
                f"{name}: more than {MAX_DXF_ENTITIES:,} entities; not a floor plan"
            )
        kind = entity.dxftype()
        layer = entity.dxf.get("layer", "0")
        if layer == "0" and depth > 0:
            layer = parent_layer  # Entities on layer 0 inside a block take the INSERT's layer.
        if kind == "INSERT":
            if depth >= MAX_BLOCK_DEPTH:
                continue
            try:
                inner = list(entity.virtual_entities())
            except (DXFError, ValueError, ArithmeticError, KeyError, TypeError):
                continue  # A broken block reference draws nothing; the rest still counts.
            yield from _flattened(inner, name, distance, depth + 1, layer)
            continue
        if kind not in _PATH_TYPES:
            continue
        if kind == "POLYLINE" and not (entity.is_2d_polyline or entity.is_3d_polyline):
            continue  # Meshes and polyface meshes are 3D solids, not plan lines.
        try:
            p = dxfpath.make_path(entity)
            points = [(float(v.x), float(v.y)) for v in p.flattening(distance)]
        except (DXFError, ValueError, ArithmeticError, TypeError, IndexError):
            continue
        if not points or not all(math.isfinite(c) for xy in points for c in xy):
            continue
        closed = bool(p.is_closed) or (
            len(points) > 3 and math.dist(points[0], points[-1]) <= distance
        )
        if kind == "LWPOLYLINE" and entity.closed:
            closed = True
        yield layer, points, closed


def _polygons_of(geometry: Any) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry] if not geometry.is_empty else []
    return [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]


def _polygonized(lines: list[LineString]) -> tuple[list[Polygon], list[Any]]:
    """Loops closed by ``lines`` (noded where they cross), and the lines closing no loop."""
    if not lines:
        return [], []
    noded = unary_union(lines)
    polygons, cuts, dangles, invalid = polygonize_full(noded)
    leftovers = [g for part in (cuts, dangles, invalid) for g in getattr(part, "geoms", [])]
    return [p for p in getattr(polygons, "geoms", []) if p.area > 0], leftovers


def _obstacle_polygons(
    kind: str, bucket: _Shapes, wall_thickness: float, scale: float
) -> list[Polygon]:
    """Obstacle shapes of one kind, in drawing units (``wall_thickness`` too)."""
    loops, leftovers = _polygonized(bucket.lines)
    polygons = bucket.polygons + loops
    if kind != "wall":
        return polygons
    walls = [p for p in polygons if _thickness(p) * scale <= MAX_WALL_THICKNESS_M]
    if leftovers:
        buffered = unary_union(leftovers).buffer(wall_thickness / 2, cap_style="flat")
        walls.extend(_polygons_of(buffered))
    return walls


def _thickness(polygon: Polygon) -> float:
    """A shape's thickness: twice its area over its perimeter (exact for long thin strips)."""
    return 2 * polygon.area / max(polygon.length, 1e-12)


def _to_model(polygon: Polygon, t: Transform) -> Polygon:
    shell = t.to_model(polygon.exterior.coords)
    holes = [t.to_model(h.coords) for h in polygon.interiors]
    result = Polygon(shell, holes)
    return result if result.is_valid else shapely.make_valid(result)
