"""The project: one hall's floor, its placed items, and the planner's decisions.

Owns the state a planner edits and saves: the floor, the catalog the project
uses, the items, the fabric spec, power feeds, cooling assignments, rule
overrides and waivers. It changes only through its mutator methods, which the
command objects in :mod:`layout.commands` call; each mutator emits one event.

Events (psygnal signals, past tense; payloads are tuples of item ids):

- ``item_added(ids)``: items were added.
- ``item_removed(ids)``: items were removed.
- ``item_moved(ids)``: items' positions or rotations changed.
- ``item_changed(ids, field)``: a name, type or property changed; ``field`` names it.
- ``settings_changed(section)``: ``"floor"``, ``"rules"``, ``"waivers"``,
  ``"disabled_rules"``, ``"fabric"``, ``"power"``, ``"cooling"`` or ``"trays"``
  was replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from psygnal import Signal
from pydantic import BaseModel, ConfigDict, Field

from layout.catalog import PLACEABLE_KINDS, Catalog, default_catalog
from layout.errors import EditError
from layout.floor import Floor
from layout.geometry import rotated_rectangles, run_length
from layout.items import Item, ItemStore, PropertyValue
from layout.limits import (
    MAX_COORD_M,
    MAX_DESCRIPTION_CHARS,
    MAX_ID_CHARS,
    MAX_NAME_CHARS,
    MAX_REASON_CHARS,
    MAX_RULE_ID_CHARS,
    checked_text,
)
from layout.rules import Rules


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


ItemRef = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]


class FabricSpec(_Section):
    """What the planner chose for the GPU fabric; links are derived from it, never stored."""

    topology: Literal["rail_fat_tree"] = "rail_fat_tree"
    tiers: Literal["auto", 1, 2, 3] = "auto"
    switch_type: str | None = None
    nic_speed_gbps: Annotated[float, Field(gt=0)] | None = None
    nics_per_gpu: Annotated[int, Field(ge=1, le=16)] = 1
    oversubscription: list[Annotated[float, Field(ge=1, le=64)]] = [1.0]
    planes: Literal[1, 2, 4, 8] = 1
    """Each NIC split into this many planes, each a fat tree at NIC speed / planes."""
    rails: Annotated[int, Field(ge=1, le=64)] | None = None
    assignments: dict[ItemRef, list[ItemRef]] = {}
    """Network rack id -> ids of the GPU racks it serves."""
    requested_gpus: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    """The GPUs the planner asked for (a design may build more: whole racks, whole arrays)."""
    link_speeds_gbps: Annotated[
        list[Annotated[float, Field(gt=0, le=100_000)]], Field(max_length=3)
    ] = []
    """Speed of one link per link tier (GPU-leaf, leaf-spine, spine-core); a missing entry
    is the NIC speed split over the planes. Down- and up-links of a switch may differ."""
    dual_homed: bool = False
    """Each NIC port is split over two leaf switches of the same plane (dual-ToR)."""
    pod_gpus: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    """A fixed pod size in GPUs (3 tiers): leaves and spines of a pod serve this many GPUs
    and the spine tier's oversubscription applies above it; None fills pods to the radix."""


class Feed(_Section):
    """A consumer's A and B power feeds (ids of power units)."""

    a: ItemRef | None = None
    b: ItemRef | None = None


PowerTopology = Literal["2n", "distributed_redundant", "block_redundant", "n+1"]
"""How the power chain is made redundant (Schneider Electric white paper 75):

- ``2n``: A and B lineups independent from source to rack; either carries all.
- ``distributed_redundant``: N+1 blocks; each consumer's A and B feeds come from two
  different blocks, so any one block can fail and the rest carry the load (4-make-3).
- ``block_redundant``: N active blocks and one reserve (catcher) block that takes over
  a failed block's load by static transfer (``PowerPlan.standby``).
- ``n+1``: one path below the sources; N+1 over the turbines or generators.
"""


class PowerPlan(_Section):
    """Feeds from consumers to power units and links from units to their upstream units.

    A power unit's ``block`` property (text) names the block or side it belongs to; the
    check fails each block in turn (distributed and block redundant topologies).
    """

    feeds: dict[ItemRef, Feed] = {}
    upstream: dict[ItemRef, list[ItemRef]] = {}
    standby: dict[ItemRef, list[ItemRef]] = {}
    """Static transfer: the units a unit switches to when every unit it draws from
    (``upstream``) is lost, as a block-redundant catcher takes a failed block's load."""
    topology: PowerTopology = "2n"
    blocks: Annotated[int, Field(ge=2, le=64)] | None = None
    """Distributed redundant: blocks in all (4 for 4-make-3); block redundant: active
    blocks (the catcher is one more). None where the topology has none."""


class CoolingPlan(_Section):
    """Which CDU takes each rack's liquid heat and which CRAH its air heat."""

    cdu: dict[ItemRef, ItemRef] = {}
    crah: dict[ItemRef, ItemRef] = {}


Coordinate = Annotated[float, Field(ge=-MAX_COORD_M, le=MAX_COORD_M)]


class TraySegment(_Section):
    """A straight run of overhead cable tray from ``a`` to ``b`` (metres, plan view)."""

    id: ItemRef
    a: Annotated[list[Coordinate], Field(min_length=2, max_length=2)]
    b: Annotated[list[Coordinate], Field(min_length=2, max_length=2)]
    width_m: Annotated[float, Field(gt=0, le=5)] = 0.6
    depth_m: Annotated[float, Field(gt=0, le=1)] = 0.15


class TrayPlan(_Section):
    """The overhead cable trays; segments that share an end point are joined."""

    segments: list[TraySegment] = []

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """End points (n, 2) x 2, widths and depths of every segment, as numpy arrays."""
        a = np.array([s.a for s in self.segments], dtype=float).reshape(-1, 2)
        b = np.array([s.b for s in self.segments], dtype=float).reshape(-1, 2)
        width = np.array([s.width_m for s in self.segments], dtype=float)
        depth = np.array([s.depth_m for s in self.segments], dtype=float)
        return a, b, width, depth


@dataclass(frozen=True)
class Waiver:
    """An accepted violation: rule id and the exact set of items, with the reason."""

    rule: str
    items: tuple[str, ...]
    reason: str

    def __post_init__(self) -> None:
        rule = checked_text(self.rule, "waiver: rule", MAX_RULE_ID_CHARS, min_chars=1)
        reason = checked_text(self.reason, f"waiver of {rule}: reason", MAX_REASON_CHARS)
        if not reason.strip():
            raise EditError(f"waiver of {rule}: a reason is required")
        ids = [checked_text(i, f"waiver of {rule}: item", MAX_ID_CHARS, min_chars=1)
               for i in self.items]  # fmt: skip
        object.__setattr__(self, "items", tuple(sorted(ids)))

    def matches(self, rule: str, items: Sequence[str]) -> bool:
        return rule == self.rule and tuple(sorted(items)) == self.items


class Project:
    """A hall being planned. See the module docstring for its events."""

    item_added = Signal(tuple)
    item_removed = Signal(tuple)
    item_moved = Signal(tuple)
    item_changed = Signal(tuple, str)
    settings_changed = Signal(str)

    def __init__(
        self,
        floor: Floor,
        *,
        name: str = "Untitled",
        catalog: Catalog | None = None,
        items: Sequence[Item] = (),
        rules: Rules | None = None,
        fabric: FabricSpec | None = None,
        power: PowerPlan | None = None,
        cooling: CoolingPlan | None = None,
        trays: TrayPlan | None = None,
        waivers: Sequence[Waiver] = (),
        disabled_rules: Iterable[str] = (),
        description: str = "",
    ) -> None:
        self.name = checked_text(name, "project name", MAX_NAME_CHARS)
        self.description = checked_text(description, "project description", MAX_DESCRIPTION_CHARS)
        self.disabled_rules: frozenset[str] = frozenset(
            checked_text(r, "disabled rule", MAX_RULE_ID_CHARS, min_chars=1) for r in disabled_rules
        )
        self.floor = floor
        self.catalog = catalog if catalog is not None else default_catalog()
        self.rules = rules if rules is not None else Rules()
        self.fabric = fabric if fabric is not None else FabricSpec()
        self.power = power if power is not None else PowerPlan()
        self.cooling = cooling if cooling is not None else CoolingPlan()
        self.trays = trays if trays is not None else TrayPlan()
        self.waivers: tuple[Waiver, ...] = tuple(waivers)
        for item in items:
            self._check_type(item.id, item.type_id)
        self.items = ItemStore(items)
        self._footprint_cache: tuple[Any, np.ndarray] | None = None

    def snapshot(self) -> Project:
        """An independent copy for reading elsewhere (a worker thread): the item columns
        are copied, the immutable parts (floor, catalog, sections) shared."""
        copy = Project(
            self.floor, name=self.name, description=self.description, catalog=self.catalog,
            rules=self.rules, fabric=self.fabric, power=self.power, cooling=self.cooling,
            trays=self.trays, waivers=self.waivers, disabled_rules=self.disabled_rules,
        )  # fmt: skip
        copy.items = self.items.copy()
        return copy

    # -- derived views for solvers -----------------------------------------
    def type_of(self, item_id: str) -> Any:
        return self.catalog[self.items.type_ids[self.items.row(item_id)]]

    def sizes(self) -> tuple[np.ndarray, np.ndarray]:
        """Footprint width and depth (metres, at rotation 0) of every item, by row.

        Overhead runs (busways) are as long as their ``length_m`` property says;
        the catalog width is their length when it is not set.
        """
        types = {t: self.catalog[t] for t in set(self.items.type_ids)}
        w = np.fromiter((types[t].footprint.width_m for t in self.items.type_ids), float,
                        len(self.items))  # fmt: skip
        d = np.fromiter((types[t].footprint.depth_m for t in self.items.type_ids), float,
                        len(self.items))  # fmt: skip
        linear = [t for t, v in types.items() if getattr(v, "mounting", "") == "overhead"]
        if linear:
            for row in np.flatnonzero(np.isin(np.asarray(self.items.type_ids), linear)):
                length = run_length(self.items.properties_at(int(row)))
                if length is not None:
                    w[row] = length
        return w, d

    def kinds(self) -> np.ndarray:
        """The catalog kind of every item, by row, as a string array."""
        kinds = {t: self.catalog[t].kind for t in set(self.items.type_ids)}
        return np.array([kinds[t] for t in self.items.type_ids], dtype=object)

    def footprints(self) -> np.ndarray:
        """Every item's footprint as a shapely polygon array, by row (cached per change)."""
        key = (self.items.version, id(self.catalog))
        if self._footprint_cache is None or self._footprint_cache[0] != key:
            w, d = self.sizes()
            polygons = rotated_rectangles(self.items.x, self.items.y, w, d, self.items.rotation)
            self._footprint_cache = (key, polygons)
        return self._footprint_cache[1]

    # -- mutators (called by commands) ---------------------------------------
    def _check_type(self, item_id: str, type_id: str) -> None:
        t = self.catalog.get(type_id)
        if t is None:
            raise EditError(f"item {item_id}: unknown equipment type {type_id!r}")
        if t.kind not in PLACEABLE_KINDS:
            raise EditError(f"item {item_id}: a {t.kind} type ({type_id}) cannot be placed")

    def add_items(self, items: Sequence[Item], rows: Sequence[int] | None = None) -> None:
        for item in items:
            self._check_type(item.id, item.type_id)
        self.items.insert(items, rows)
        self.item_added.emit(tuple(i.id for i in items))

    def remove_items(self, item_ids: Sequence[str]) -> tuple[list[int], list[Item]]:
        rows, removed = self.items.delete(item_ids)
        self.item_removed.emit(tuple(i.id for i in removed))
        return rows, removed

    def set_positions(self, item_ids: Sequence[str], x: Any, y: Any) -> None:
        self.items.set_positions(item_ids, x, y)
        self.item_moved.emit(tuple(item_ids))

    def set_rotations(self, item_ids: Sequence[str], degrees: Any) -> None:
        self.items.set_rotations(item_ids, degrees)
        self.item_moved.emit(tuple(item_ids))

    def set_item_name(self, item_id: str, name: str) -> None:
        self.items.set_name(item_id, name)
        self.item_changed.emit((item_id,), "name")

    def set_item_type(self, item_id: str, type_id: str) -> None:
        self._check_type(item_id, type_id)
        self.items.set_type(item_id, type_id)
        self.item_changed.emit((item_id,), "type")

    def set_item_properties(self, item_id: str, properties: Mapping[str, PropertyValue]) -> None:
        self.items.set_properties(item_id, properties)
        self.item_changed.emit((item_id,), "properties")

    def replace_section(self, section: str, value: Any) -> None:
        """Replace a whole section: floor, rules, waivers (a tuple), disabled_rules (a
        frozenset), fabric, power, cooling or trays."""
        expected = _SECTION_TYPES.get(section)
        if expected is None:
            raise EditError(f"no project section {section!r}")
        if not isinstance(value, expected):
            raise EditError(f"{section}: expected {expected.__name__}")
        setattr(self, section, value)
        if section == "floor":
            self._footprint_cache = None
        self.settings_changed.emit(section)

    # -- summaries ---------------------------------------------------------------
    def gpu_count(self) -> int:
        counts: dict[str, int] = {}
        total = 0
        for type_id in self.items.type_ids:
            if type_id not in counts:
                t = self.catalog[type_id]
                counts[type_id] = t.gpus if t.kind == "gpu_rack" else 0
            total += counts[type_id]
        return total


_SECTION_TYPES: dict[str, type] = {
    "floor": Floor,
    "rules": Rules,
    "waivers": tuple,
    "disabled_rules": frozenset,
    "fabric": FabricSpec,
    "power": PowerPlan,
    "cooling": CoolingPlan,
    "trays": TrayPlan,
}
