"""``.dclayout`` project files: reading, validating, migrating and saving.

Owns the file format. A project file is UTF-8 JSON::

    {"format": "coherence.dclayout", "version": 1, "name": ..., "floor": {...},
     "catalog": [...], "items": [...], "item_count": N, "fabric": {...},
     "power": {...}, "cooling": {...}, "trays": {...}, "rules": {...}, "waivers": [...],
     "disabled_rules": [...]}

It stores what the planner decided, never what can be derived. Output is
deterministic (fixed key order, items in natural id order) so files diff well.
Saving is atomic (:mod:`layout.atomic_file`): a temporary file beside the
target is written, flushed to disk and renamed over it, and the previous file
is kept as ``.bak``; only regular files are written.

The loader checks everything before building a project and raises a
:class:`~layout.errors.ProjectFileError` naming the place of the first problem
(``items[12].x: expected a number, got "abc"``). Files from a newer version are
refused; older versions are migrated one step at a time. Absurd sizes are
refused before they can exhaust memory. Nothing here modifies a file it reads.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
import shapely
from pydantic import BaseModel, ConfigDict, Field

from layout import atomic_file
from layout.bounded_read import (
    JsonStructureError,
    check_json_structure,
    parse_json,
    read_bounded,
)
from layout.catalog import Catalog, default_catalog, parse_type
from layout.errors import (
    CatalogError,
    CoherenceError,
    EditError,
    ProjectFileError,
    describe_validation_error,
    first_duplicate,
    shown,
    shown_path,
)
from layout.floor import Floor, Obstacle, UnderlayPlacement
from layout.items import Item, natural_key
from layout.limits import (
    MAX_COORD_M,
    MAX_DESCRIPTION_CHARS,
    MAX_DRAWING_COORD,
    MAX_FILE_BYTES,
    MAX_ID_CHARS,
    MAX_ITEMS,
    MAX_NAME_CHARS,
    MAX_OBSTACLES,
    MAX_PATH_CHARS,
    MAX_REASON_CHARS,
    MAX_ROTATION_DEG,
    MAX_RULE_ID_CHARS,
    MAX_TILE_M,
    MAX_TYPE_ID_CHARS,
    MAX_UNDERLAY_SCALE,
    MAX_VERTICES,
)
from layout.project import CoolingPlan, FabricSpec, PowerPlan, Project, TrayPlan, Waiver
from layout.rules import Rules
from layout.underlay import rebased

FORMAT = "coherence.dclayout"
VERSION = 1
SUFFIX = ".dclayout"

Coordinate = Annotated[float, Field(ge=-MAX_COORD_M, le=MAX_COORD_M)]
Point = Annotated[list[Coordinate], Field(min_length=2, max_length=2)]
Ring = Annotated[list[Point], Field(min_length=3, max_length=MAX_VERTICES)]
DrawingPoint = Annotated[
    list[Annotated[float, Field(ge=-MAX_DRAWING_COORD, le=MAX_DRAWING_COORD)]],
    Field(min_length=2, max_length=2),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise ValueError(f"expected text, a number, true/false or null, got {shown(value)}")


_Scalar = Annotated[Any, pydantic.AfterValidator(_scalar)]


class _ObstacleData(_Strict):
    id: Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]
    kind: Literal["column", "wall", "keepout"]
    polygon: Ring


class _FloorData(_Strict):
    outline: Ring
    holes: list[Ring] = []
    obstacles: Annotated[list[_ObstacleData], Field(max_length=MAX_OBSTACLES)] = []
    tile_m: Annotated[float, Field(gt=0, le=MAX_TILE_M)] = 0.6
    underlay: Annotated[str, Field(min_length=1, max_length=MAX_PATH_CHARS)] | None = None
    underlay_scale: Annotated[float, Field(gt=0, le=MAX_UNDERLAY_SCALE)] | None = None
    """Metres per drawing unit of the underlay."""
    underlay_origin: DrawingPoint | None = None
    """The drawing point at plan (0, 0)."""
    underlay_flip_y: bool | None = None


class _ItemData(_Strict):
    id: Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]
    type: Annotated[str, Field(min_length=1, max_length=MAX_TYPE_ID_CHARS)]
    x: Coordinate
    y: Coordinate
    rotation: Annotated[float, Field(ge=-MAX_ROTATION_DEG, le=MAX_ROTATION_DEG)] = 0.0
    name: Annotated[str, Field(max_length=MAX_NAME_CHARS)] = ""
    properties: dict[Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)], _Scalar] = {}


class _WaiverData(_Strict):
    rule: Annotated[str, Field(min_length=1)]
    items: list[str]
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON_CHARS)]


class _ProjectData(_Strict):
    format: Literal["coherence.dclayout"]
    version: int
    name: Annotated[str, Field(max_length=MAX_NAME_CHARS)] = "Untitled"
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION_CHARS)] = ""
    floor: _FloorData
    catalog: list[Any] = []
    item_count: Annotated[int, Field(ge=0)]
    items: list[_ItemData]
    fabric: FabricSpec = FabricSpec()
    power: PowerPlan = PowerPlan()
    cooling: CoolingPlan = CoolingPlan()
    trays: TrayPlan = TrayPlan()
    rules: dict[str, float] = {}
    waivers: list[_WaiverData] = []
    disabled_rules: list[Annotated[str, Field(min_length=1, max_length=MAX_RULE_ID_CHARS)]] = []


# version -> function taking that version's data and returning the next version's.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


# -- reading -------------------------------------------------------------------
def load(path: str | os.PathLike[str], catalog: Catalog | None = None) -> Project:
    """Read a project file. Raises :class:`ProjectFileError` naming the problem."""
    path = Path(path)
    raw = read_bounded(path, MAX_FILE_BYTES, ProjectFileError, what="project file")
    try:
        return loads(raw, catalog)
    except ProjectFileError as err:
        raise ProjectFileError(f"{shown_path(path.name)}: {err}") from None


def loads(raw: bytes | str, catalog: Catalog | None = None) -> Project:
    """Build a project from the text of a project file."""
    if not raw or raw.isspace():  # (no stripped copy of a large file)
        raise ProjectFileError("the file is empty")
    try:
        # Refused before decoding: the decoded text would be one more copy of the file.
        check_json_structure(raw.encode("utf-8") if isinstance(raw, str) else raw)
    except JsonStructureError as err:
        raise ProjectFileError(str(err)) from None
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1 if isinstance(raw, bytes) else 0
        raise ProjectFileError(f"not UTF-8 text (line {line}, byte {err.start})") from None
    try:
        data = parse_json(raw, text=text, structure_checked=True)
    except JsonStructureError as err:
        raise ProjectFileError(str(err)) from None
    except json.JSONDecodeError as err:
        raise ProjectFileError(
            f"not valid JSON at line {err.lineno}, column {err.colno}: {err.msg}"
        ) from None
    except ValueError:
        # The only other ValueError json raises: an integer of thousands of digits.
        long_number = re.search(r"\d{4300,}", text)
        line = text[: long_number.start()].count("\n") + 1 if long_number else 0
        raise ProjectFileError(
            f"line {line}: a number too long to read (over 4,300 digits)"
        ) from None
    return from_data(data, catalog)


def from_data(data: Any, catalog: Catalog | None = None) -> Project:
    """Build a project from parsed JSON, validating it first."""
    if not isinstance(data, dict):
        raise ProjectFileError(f"expected a JSON object at the top, got {_json_kind(data)}")
    if data.get("format") != FORMAT:
        raise ProjectFileError(
            f'format: expected "{FORMAT}", got {shown(data.get("format"))}; '
            "this is not a Coherence project file"
        )
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ProjectFileError(f"version: expected a whole number ≥ 1, got {shown(version)}")
    if version > VERSION:
        raise ProjectFileError(
            f"version {version} was written by a newer Coherence (this one reads up to "
            f"version {VERSION}); update Coherence to open it"
        )
    while version < VERSION:
        data = MIGRATIONS[version](data)
        version = data["version"]
    _check_sizes(data)
    try:
        parsed = _ProjectData.model_validate(data)
    except pydantic.ValidationError as err:
        raise ProjectFileError(describe_validation_error(err)) from None
    return _build(parsed, catalog if catalog is not None else default_catalog())


def _check_sizes(data: dict[str, Any]) -> None:
    claimed = data.get("item_count")
    if isinstance(claimed, (int, float)) and not isinstance(claimed, bool) and claimed > MAX_ITEMS:
        raise ProjectFileError(
            f"item_count: {shown(claimed)} is more than the {MAX_ITEMS:,} items a project may hold"
        )
    items = data.get("items")
    if isinstance(items, list):
        if len(items) > MAX_ITEMS:
            raise ProjectFileError(
                f"items: {len(items):,} items is more than the {MAX_ITEMS:,} a project may hold"
            )
        if isinstance(claimed, int) and not isinstance(claimed, bool) and claimed != len(items):
            raise ProjectFileError(
                f"item_count: the file says {claimed:,} items but holds {len(items):,} "
                "(truncated or edited by hand?)"
            )


def _polygon(shell: list[list[float]], holes: list[list[list[float]]], where: str) -> Any:
    for index, hole in enumerate(holes):
        _polygon(hole, [], f"floor.holes[{index}]")
    try:
        polygon = shapely.Polygon(shell, holes)
    except (ValueError, shapely.errors.GEOSException):
        raise ProjectFileError(f"{where}: needs at least 3 distinct points") from None
    if polygon.area <= 0 and (polygon.convex_hull.area <= 0 or polygon.is_valid):
        # Points on one line; a bow-tie (zero net area, but its points span an area) is
        # reported below by where its edges cross.
        raise ProjectFileError(f"{where}: the polygon has no area")
    if not polygon.is_valid:
        raise ProjectFileError(f"{where}: {_invalid_reason(polygon)}")
    return polygon


def _invalid_reason(polygon: Any) -> str:
    """shapely's validity reason in a planner's words."""
    reason = shapely.is_valid_reason(polygon)
    match = re.search(r"\[([-\d.e+]+) ([-\d.e+]+)\]", reason)
    near = f" near ({float(match[1]):g}, {float(match[2]):g})" if match else ""
    if reason.startswith(("Self-intersection", "Ring Self-intersection")):
        return f"its edges cross{near}"
    if reason.startswith("Too few points"):
        return f"needs at least 3 distinct points{near}"
    if reason.startswith("Hole lies outside shell"):
        return f"a hole lies outside the outline{near}"
    if reason.startswith(("Interior is disconnected", "Nested holes", "Self-intersection")):
        return f"holes overlap or split the floor{near}"
    return f"not a valid polygon{near}"


def _build(parsed: _ProjectData, base_catalog: Catalog) -> Project:
    floor_data = parsed.floor
    outline = _polygon(floor_data.outline, floor_data.holes, "floor.outline")
    obstacles = []
    for index, o in enumerate(floor_data.obstacles):
        obstacles.append(
            Obstacle(o.id, o.kind, _polygon(o.polygon, [], f"floor.obstacles[{index}]"))
        )
    duplicate = first_duplicate(o.id for o in obstacles)
    if duplicate:
        raise ProjectFileError(f"floor.obstacles: id {duplicate!r} is used twice")
    floor = Floor(
        outline, tuple(obstacles), floor_data.tile_m, floor_data.underlay, _placement(floor_data)
    )

    embedded = []
    for index, entry in enumerate(parsed.catalog):
        try:
            # Named by its id as well, so a bad figure points at the type to fix.
            type_id = entry.get("id") if isinstance(entry, dict) else None
            named = f" ({shown(type_id).strip(chr(34))})" if isinstance(type_id, str) else ""
            embedded.append(parse_type(entry, f"catalog[{index}]{named}"))
        except CatalogError as err:
            raise ProjectFileError(str(err)) from None
    duplicate = first_duplicate(t.id for t in embedded)
    if duplicate:
        raise ProjectFileError(f"catalog: type {duplicate!r} is embedded twice")
    try:
        catalog = base_catalog.overlaid(embedded)
    except CatalogError as err:
        raise ProjectFileError(f"catalog: {err}") from None

    duplicate = first_duplicate(i.id for i in parsed.items)
    if duplicate:
        index = next(k for k, i in enumerate(parsed.items) if i.id == duplicate)
        index = next(k for k, i in enumerate(parsed.items) if i.id == duplicate and k > index)
        raise ProjectFileError(f"items[{index}].id: {duplicate!r} is already used by another item")
    items = []
    for index, i in enumerate(parsed.items):
        t = catalog.get(i.type)
        if t is None:
            raise ProjectFileError(f"items[{index}].type: unknown equipment type {i.type!r}")
        try:
            items.append(Item(i.id, i.type, i.x, i.y, i.rotation, i.name, i.properties))
        except EditError as err:
            raise ProjectFileError(f"items[{index}]: {err}") from None

    try:
        rules = Rules(parsed.rules)
        waivers = []
        for index, w in enumerate(parsed.waivers):
            if not w.reason.strip():
                raise ProjectFileError(f"waivers[{index}].reason: a reason is required")
            waivers.append(Waiver(w.rule, tuple(w.items), w.reason))
        project = Project(
            floor,
            name=parsed.name,
            description=parsed.description,
            catalog=catalog,
            items=items,
            rules=rules,
            fabric=parsed.fabric,
            power=parsed.power,
            cooling=parsed.cooling,
            trays=parsed.trays,
            waivers=waivers,
            disabled_rules=parsed.disabled_rules,
        )
    except CoherenceError as err:
        raise ProjectFileError(str(err)) from None
    return project


def _placement(floor_data: _FloorData) -> UnderlayPlacement | None:
    if floor_data.underlay_scale is None:
        for key in ("underlay_origin", "underlay_flip_y"):
            if getattr(floor_data, key) is not None:
                raise ProjectFileError(f"floor.{key}: given without floor.underlay_scale")
        return None
    origin = floor_data.underlay_origin or [0.0, 0.0]
    flip = True if floor_data.underlay_flip_y is None else floor_data.underlay_flip_y
    return UnderlayPlacement(floor_data.underlay_scale, (origin[0], origin[1]), flip)


def _json_kind(value: Any) -> str:
    return {
        list: "a list",
        str: "text",
        int: "a number",
        float: "a number",
        bool: "true/false",
        type(None): "null",
    }.get(type(value), type(value).__name__)


# -- writing -------------------------------------------------------------------
def _ring(coords: Any) -> list[list[float]]:
    return [[float(x), float(y)] for x, y in list(coords)[:-1]]


def to_data(
    project: Project,
    *,
    underlay_dir: str | os.PathLike[str] | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """The project as plain JSON data, in the file's fixed order.

    With ``folder`` (where the file goes), the underlay path is written relative
    to it, read from ``underlay_dir`` (the folder it is relative to now; the
    working folder when None) if it is relative. Without, it is written as held.
    """
    floor = project.floor
    items = sorted(project.items, key=lambda i: natural_key(i.id))
    used_types = sorted(set(project.items.type_ids))
    item_rows = []
    for i in items:
        row: dict[str, Any] = {"id": i.id, "type": i.type_id, "x": i.x, "y": i.y}
        if i.rotation:
            row["rotation"] = i.rotation
        if i.name:
            row["name"] = i.name
        if i.properties:
            row["properties"] = dict(i.properties)
        item_rows.append(row)
    floor_data: dict[str, Any] = {"outline": _ring(floor.outline.exterior.coords)}
    if floor.outline.interiors:
        floor_data["holes"] = [_ring(h.coords) for h in floor.outline.interiors]
    floor_data["obstacles"] = [
        {"id": o.id, "kind": o.kind, "polygon": _ring(o.polygon.exterior.coords)}
        for o in floor.obstacles
    ]
    floor_data["tile_m"] = floor.tile_m
    if floor.underlay:
        floor_data["underlay"] = (
            floor.underlay if folder is None else rebased(floor.underlay, underlay_dir, folder)
        )
    placement = floor.underlay_placement
    if placement is not None:
        floor_data["underlay_scale"] = placement.scale
        floor_data["underlay_origin"] = list(placement.origin)
        floor_data["underlay_flip_y"] = placement.flip_y
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": project.name,
    }
    if project.description:
        data["description"] = project.description
    data |= {
        "floor": floor_data,
        "catalog": project.catalog.closure(used_types).to_data(),
        "item_count": len(item_rows),
        "items": item_rows,
        "fabric": project.fabric.model_dump(mode="json", exclude_defaults=True),
        "power": project.power.model_dump(mode="json", exclude_defaults=True),
        "cooling": project.cooling.model_dump(mode="json", exclude_defaults=True),
        "trays": project.trays.model_dump(mode="json", exclude_defaults=True),
        "rules": dict(sorted(project.rules.overrides.items())),
        "waivers": [
            {"rule": w.rule, "items": list(w.items), "reason": w.reason}
            for w in sorted(project.waivers, key=lambda w: (w.rule, w.items))
        ],
        "disabled_rules": sorted(project.disabled_rules),
    }
    return data


def dumps(project: Project) -> str:
    """The project file's text (deterministic): one line per item, type and obstacle."""
    return _format(to_data(project), 0) + "\n"


def _format(value: Any, depth: int) -> str:
    # Sections are spread over lines down to one line per item, type, obstacle,
    # tray segment, feed or assignment, so that files diff well; anything
    # smaller (an item's fields, a polygon's points) stays on its line.
    if not _spread(value, depth):
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
    pad = " " * (depth + 1)
    if isinstance(value, dict):
        body = ",\n".join(
            f"{pad}{json.dumps(k, ensure_ascii=False)}: {_format(v, depth + 1)}"
            for k, v in value.items()
        )
        return "{\n" + body + "\n" + " " * depth + "}"
    body = ",\n".join(pad + _format(v, depth + 1) for v in value)
    return "[\n" + body + "\n" + " " * depth + "]"


def _spread(value: Any, depth: int) -> bool:
    if not isinstance(value, (dict, list)) or not value:
        return False
    if depth < 2:
        return True
    members = list(value.values()) if isinstance(value, dict) else value
    is_point = lambda v: isinstance(v, list) and all(isinstance(c, (int, float)) for c in v)  # noqa: E731
    return depth < 3 and all(isinstance(v, (dict, list)) and not is_point(v) for v in members)


def save(
    project: Project,
    path: str | os.PathLike[str],
    *,
    underlay_dir: str | os.PathLike[str] | None = None,
    relative_underlay: bool = False,
    backup: bool = True,
) -> None:
    """Write atomically with :func:`layout.atomic_file.write_atomic`.

    The text is fully produced before the disk is touched, so a project that
    cannot be written leaves the old file as it was. Only a regular file is
    written: a device, FIFO, socket or folder at ``path`` is refused, and a
    symbolic link is followed (the file it points to is replaced). With
    ``backup`` the previous file is kept as ``<name>.bak`` beside the real file.

    With ``relative_underlay`` the floor's underlay path is written relative to
    ``path``'s folder (a relative one is taken from ``underlay_dir``, the folder
    of the file the project came from); without, it is written as held, which
    autosaves want (they are recovered as their original file).
    """
    path = Path(path)
    try:
        if relative_underlay:
            folder = path.parent if str(path.parent) else Path(".")
            text = _format(to_data(project, underlay_dir=underlay_dir, folder=folder), 0) + "\n"
        else:
            text = dumps(project)
    except ValueError as err:
        raise ProjectFileError(f"cannot save: {err}") from None
    try:
        atomic_file.write_atomic(path, text.encode("utf-8"), backup=backup)
    except atomic_file.FileWriteError as err:
        raise ProjectFileError(str(err)) from None


__all__ = ["FORMAT", "SUFFIX", "VERSION", "dumps", "from_data", "load", "loads", "save", "to_data"]
