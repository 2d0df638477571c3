"""Loads of equipment types, and the power and cooling plant a generated hall gets.

Owns two things: the design load and heat split of a rack type (nameplate
figures from the catalog, used by the generator and the power and cooling
solvers alike), and the sizing, placement and assignment of power and cooling
units for a new design.

Power chain (2N feeds, N+1 sources): every rack row gets overhead busway runs
on an A side and a B side, each side sized for the whole row; busways feed
transformers and transformers feed medium-voltage switchgear, per side; the
switchgear is fed by the sources (grid feeds or gas turbines, N+1) and backed
by batteries sized for the training load's swing. Units are filled to
``continuous_derating`` of their rating.

Cooling: a rack's liquid share goes to its in-rack CDU, or to in-row CDUs in
its row when it has none; the air share (and all of a network rack's heat)
goes to CRAHs standing in rows of their own among the GPU rows (N+1 per
hall). Heat rejection: chillers carry the air loop, cooling towers the liquid
loop plus the chillers' condenser heat, each N+1.

Units that stand outdoors (switchgear, transformers, sources, batteries,
chillers, towers) are placed in a yard below the hall, a band per kind.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from layout.catalog import (
    Catalog,
    CoolingUnitType,
    GpuRackType,
    NetworkRackType,
    PowerUnitType,
    StorageRackType,
)
from layout.errors import ChoiceError
from layout.items import Item
from layout.project import CoolingPlan, Feed, PowerPlan
from layout.rules import Rules

YARD_GAP_M = 10.0
"""Distance from the hall's wall to the yard (fire separation, access road)."""
YARD_SPACING_M = 2.0


def design_load_kw(t: Any, catalog: Catalog) -> float:
    """Nameplate power of a unit as a consumer (0 for units that are not consumers)."""
    if isinstance(t, GpuRackType):
        return t.it_kw
    if isinstance(t, NetworkRackType):
        switch = catalog[t.switch]
        return t.switches * (switch.max_kw or switch.kw) + t.other_kw
    if isinstance(t, CoolingUnitType):
        return t.kw
    if isinstance(t, StorageRackType):
        return t.kw
    return 0.0


def liquid_heat_kw(t: Any, catalog: Catalog) -> float:
    """Heat a unit gives to liquid (servers' liquid share; in-rack CDU pumps count as air)."""
    if isinstance(t, GpuRackType):
        return t.servers * t.server_kw * t.liquid_fraction
    return 0.0


def air_heat_kw(t: Any, catalog: Catalog) -> float:
    """Heat a unit gives to the room air: everything it draws that does not go to liquid."""
    return design_load_kw(t, catalog) - liquid_heat_kw(t, catalog)


class FacilityError(ChoiceError):
    """A power or cooling choice does not fit (wrong type, unit too small).

    ``field`` names the :class:`FacilityChoice` field at fault, when there is
    one; ``detail`` is the message without it.
    """


@dataclass(frozen=True)
class FacilityChoice:
    """Which catalog types the generated plant uses."""

    busway: str = "busway-415v-1600a"
    transformer: str = "transformer-2500kva"
    switchgear: str = "switchgear-mv-13.8kv-2000a"
    ups: str = "ups-1250kw"
    source: str = "grid-feed-150mw"
    turbine: str = "turbine-gas-2500kw"
    battery: str = "battery-megapack"
    crah: str = "crah-150kw"
    cdu: str = "cdu-inrow-200kw"
    chiller: str = "chiller-wc-1500kw"
    tower: str = "cooling-tower-3000kw"

    def types(self, catalog: Catalog) -> dict[str, Any]:
        expected = {
            "busway": ("power", "busway"),
            "transformer": ("power", "transformer"),
            "switchgear": ("power", "switchgear"),
            "ups": ("power", "ups"),
            "battery": ("power", "battery"),
            "crah": ("cooling", "crah"),
            "cdu": ("cooling", "cdu"),
            "chiller": ("cooling", "chiller"),
            "tower": ("cooling", "cooling_tower"),
        }
        out = {}
        for name, type_id in vars(self).items():
            t = catalog.get(type_id)
            if t is None:
                raise FacilityError(f"unknown equipment type {type_id!r}", name)
            if name == "source":
                if t.kind != "power" or t.role not in ("grid_feed", "turbine", "generator"):
                    raise FacilityError(f"{type_id} is not a grid feed or turbine", name)
            elif name == "turbine":
                if t.kind != "power" or t.role not in ("turbine", "generator"):
                    raise FacilityError(f"{type_id} is not a turbine or generator", name)
            elif (t.kind, getattr(t, "role", None)) != expected[name]:
                raise FacilityError(f"{type_id} is not a {expected[name][1]}", name)
            out[name] = t
        return out


TOPOLOGIES = ("2n", "distributed_redundant", "block_redundant", "n+1")
"""The power topologies a design can be built in (:data:`layout.project.PowerTopology`)."""
BLOCK_TOPOLOGIES = ("distributed_redundant", "block_redundant")
DEFAULT_BLOCKS = {"distributed_redundant": 4, "block_redundant": 4}
"""Distributed redundant: 4 blocks, any 3 carry the load (4-make-3); block redundant: 4
active blocks and a catcher."""


@dataclass(frozen=True)
class PowerChoice:
    """The power chain's topology and sources (see the module docstring).

    Counts and capacities are per source group: each 2N side, each block (and the
    catcher), or the one group of an N+1 design.
    """

    topology: str = "2n"
    blocks: int | None = None
    """Distributed redundant: blocks in all (4-make-3 has 4); block redundant: active
    blocks (the catcher is one more). None: :data:`DEFAULT_BLOCKS`."""
    utility_kw: float | None = None
    """Contracted capacity of the one utility service of each group (0: none, on-site
    generation only); None: enough services, each contracted for its share of the worst
    load."""
    turbines: int | None = None
    """Turbines or generators per group; None: none beside a utility service, or enough
    with N+1 when the source is a turbine."""
    batteries: int | None = None
    """Batteries per group; None: enough for the training swing and the ride-through."""

    @property
    def block_count(self) -> int:
        return self.blocks or DEFAULT_BLOCKS.get(self.topology, 1)

    def validated(self) -> PowerChoice:
        """This choice, or a :class:`FacilityError` naming the field at fault."""
        if self.topology not in TOPOLOGIES:
            raise FacilityError(
                f"expected one of {', '.join(TOPOLOGIES)}, got {self.topology!r}", "topology"
            )
        if self.blocks is not None:
            if self.topology not in BLOCK_TOPOLOGIES:
                raise FacilityError(f"{self.topology} has no blocks", "blocks")
            low = 3 if self.topology == "distributed_redundant" else 2
            if not low <= self.blocks <= 16:
                raise FacilityError(f"expected {low} to 16 blocks, got {self.blocks}", "blocks")
        if self.utility_kw is not None and not (
            math.isfinite(self.utility_kw) and self.utility_kw >= 0
        ):
            raise FacilityError(f"expected a capacity ≥ 0, got {self.utility_kw:g}", "utility_kw")
        for name in ("turbines", "batteries"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1000:
                raise FacilityError(f"expected 0 to 1,000 per group, got {value}", name)
        return self


POWER_PRESETS: Mapping[str, PowerChoice] = {
    "colossus": PowerChoice(topology="n+1", utility_kw=150_000.0, turbines=14, batteries=79),
}
"""Documented power chains. ``colossus``: xAI Colossus as built (2024-25): one utility
service of about 150 MW (a new MLGW/TVA substation), gas turbines of about 2.5 MW, 14 at
first (Tom's Hardware, Benzinga; secondary), and 150 MW of Tesla Megapacks (Greater
Memphis Chamber, 2025), which at about 1.9 MW per 2-hour Megapack (estimate) is 79 units,
N+1 over the turbines on one path."""


@dataclass
class Row:
    """A row of units standing side by side, as the generator laid it out."""

    item_ids: list[str]
    y: float
    x_start: float
    x_end: float
    rotation: float
    load_kw: float = 0.0


@dataclass
class Plant:
    """What :func:`plan_plant` adds to a design."""

    items: list[Item] = field(default_factory=list)
    power: PowerPlan = field(default_factory=PowerPlan)
    cooling: CoolingPlan = field(default_factory=CoolingPlan)


PACKING_MARGIN = 0.9
"""Racks come in whole loads, so units are planned to 90 % to leave room for packing."""


def unit_count(loads: Sequence[tuple[float, int]], unit: CoolingUnitType) -> int:
    """In-hall cooling units (CRAHs, in-row CDUs) for ``loads`` ((heat kW of one rack,
    racks) pairs) with one spare (N+1), counting each unit's own fan or pump heat.

    Enough units to carry the total heat at the planning margin, and at least as
    many as whole racks need within each unit's rating: a rack's heat goes to one
    unit, so two 57.2 kW racks fill a 150 kW CRAH that the total would give three.
    """
    total_kw = sum(heat_kw * racks for heat_kw, racks in loads if heat_kw > 0 and racks > 0)
    if total_kw <= 0:
        return 0
    planned = math.ceil(total_kw / (unit.capacity_kw * PACKING_MARGIN - unit.kw))
    return max(planned, _packed(loads, unit.capacity_kw - unit.kw, unit.id)) + 1


def _packed(loads: Sequence[tuple[float, int]], room_kw: float, unit_id: str) -> int:
    """Units of ``room_kw`` that whole racks fill, kind after kind (next fit)."""
    units, room = 0, 0.0
    for heat_kw, racks in loads:
        if heat_kw <= 0 or racks <= 0:
            continue
        if heat_kw > room_kw:
            raise FacilityError(
                f"a rack's {heat_kw:,.1f} kW exceeds what one {unit_id} takes ({room_kw:,.1f} kW)"
            )
        # What the previous kind left in the last unit first, then whole units.
        first = min(racks, int((room + 1e-9) // heat_kw))
        room -= first * heat_kw
        rest = racks - first
        if rest:
            per_unit = int((room_kw + 1e-9) // heat_kw)
            added = math.ceil(rest / per_unit)
            units += added
            room = room_kw - (rest - (added - 1) * per_unit) * heat_kw
    return units


def _fill(loads: Sequence[float], capacity: float) -> list[int]:
    """Sequential first-fit: which upstream unit each load goes to (a new one when full)."""
    unit, used, out = 0, 0.0, []
    for load in loads:
        if load > capacity:
            raise FacilityError(f"a load of {load:,.0f} kW exceeds one unit's {capacity:,.0f} kW")
        if used + load > capacity + 1e-9:
            unit, used = unit + 1, 0.0
        used += load
        out.append(unit)
    return out


class _Namer:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def next(self, prefix: str) -> str:
        self.counts[prefix] = self.counts.get(prefix, 0) + 1
        return f"{prefix}{self.counts[prefix]:04d}"


@dataclass
class _Lineup:
    """One side or block of the chain as it is built: its busways and what its switchgear
    feeds directly, with their loads in every scenario (total and IT)."""

    name: str
    """Block label ("A", "B", "1", …, "C" for a catcher; "" for a single path)."""
    lost_at: int | None
    """The scenario in which the whole lineup is lost (None: never)."""
    busways: list[str] = field(default_factory=list)
    busway_kw: list[np.ndarray] = field(default_factory=list)
    busway_it_kw: list[np.ndarray] = field(default_factory=list)
    plant: list[tuple[str, str, np.ndarray]] = field(default_factory=list)
    """Cooling plant fed from the switchgear: (unit, feed side "a"/"b", kW per scenario)."""
    units: dict[str, list[str]] = field(default_factory=dict)
    """Built unit ids by kind: ups, transformer, switchgear, utility, turbine, battery."""
    ups_kw: list[np.ndarray] = field(default_factory=list)
    ups_it_kw: list[np.ndarray] = field(default_factory=list)
    switchgear_kw: np.ndarray | None = None
    """What the lineup's switchgear draws from its sources, per scenario (total, IT)."""
    switchgear_it_kw: np.ndarray | None = None
    contracted_kw: dict[str, float] = field(default_factory=dict)
    """Utility service -> contracted capacity (kW)."""

    def prefix(self, kind: str) -> str:
        return f"{kind}{self.name}-" if self.name[:1].isdigit() else f"{kind}{self.name}"


def _scenario_count(power: PowerChoice) -> int:
    """Normal, and one scenario per lineup that can be lost (2N sides, blocks, catcher)."""
    if power.topology == "2n":
        return 3
    if power.topology == "distributed_redundant":
        return 1 + power.block_count
    if power.topology == "block_redundant":
        return 2 + power.block_count
    return 1


def _weights(scenarios: int, a: _Lineup, b: _Lineup | None) -> tuple[np.ndarray, np.ndarray]:
    """Share of a consumer's load on its feed A and its feed B in every scenario: half each,
    all on the other when one's lineup is lost; all on A with one feed."""
    if b is None:
        return np.ones(scenarios), np.zeros(scenarios)
    wa, wb = np.full(scenarios, 0.5), np.full(scenarios, 0.5)
    if a.lost_at is not None:
        wa[a.lost_at], wb[a.lost_at] = 0.0, 1.0
    if b.lost_at is not None:
        wa[b.lost_at], wb[b.lost_at] = 1.0, 0.0
    return wa, wb


def _fill_scenarios(loads: Sequence[np.ndarray], limit: float, what: str) -> list[int]:
    """Sequential first fit of per-scenario loads: a unit holds loads while their sum stays
    within ``limit`` in every scenario (a new unit when the next would pass it)."""
    unit, used, out = 0, None, []
    for load in loads:
        if load.max() > limit:
            raise FacilityError(f"a load of {load.max():,.0f} kW exceeds one {what}'s "
                                f"{limit:,.0f} kW")  # fmt: skip
        if used is not None and (used + load).max() > limit:
            unit, used = unit + 1, None
        used = load.copy() if used is None else used + load
        out.append(unit)
    return out


def _sums(loads: Sequence[np.ndarray], groups: list[int], count: int) -> list[np.ndarray]:
    out = [np.zeros_like(loads[0]) for _ in range(count)] if loads else []
    for load, group in zip(loads, groups, strict=True):
        out[group] = out[group] + load
    return out


def _lineups(power: PowerChoice) -> tuple[list[_Lineup], _Lineup | None]:
    """The lineups of a topology (the ones that take consumers) and its catcher."""
    if power.topology == "2n":
        return [_Lineup("A", 1), _Lineup("B", 2)], None
    if power.topology == "distributed_redundant":
        return [_Lineup(str(k + 1), 1 + k) for k in range(power.block_count)], None
    if power.topology == "block_redundant":
        n = power.block_count
        return [_Lineup(str(k + 1), 1 + k) for k in range(n)], _Lineup("C", 1 + n)
    return [_Lineup("", None)], None


class _Pairs:
    """Hands out (A lineup, B lineup) for a consumer group, evening out the load: 2N always
    A and B; distributed redundancy the least loaded pair of blocks (so a lost block's load
    spreads over all the others); block redundancy one block (least loaded) for rows and
    a pair of blocks for cooling plant; a single path its one lineup."""

    def __init__(self, power: PowerChoice, lineups: list[_Lineup]) -> None:
        self.topology = power.topology
        self.lineups = lineups
        n = len(lineups)
        self.pairs = [(i, j) for i in range(n) for j in range(i + 1, n)] if n > 1 else []
        self.pair_kw = [0.0] * len(self.pairs)
        self.single_kw = [0.0] * n

    @property
    def dual(self) -> bool:
        return self.topology in ("2n", "distributed_redundant")

    def pair(self, load_kw: float) -> tuple[_Lineup, _Lineup | None]:
        if self.topology == "2n":
            return self.lineups[0], self.lineups[1]
        if not self.pairs:
            return self.lineups[0], None
        k = int(np.argmin(self.pair_kw))
        self.pair_kw[k] += load_kw
        i, j = self.pairs[k]
        return self.lineups[i], self.lineups[j]

    def single(self, load_kw: float) -> _Lineup:
        k = int(np.argmin(self.single_kw))
        self.single_kw[k] += load_kw
        return self.lineups[k]


def plan_plant(  # noqa: PLR0917, PLR0915 - one pass down the power chain, in order
    catalog: Catalog,
    choice: FacilityChoice,
    rows: list[Row],
    cooling_items: list[Item],
    rack_items: list[Item],
    hall_bounds: tuple[float, float, float, float],
    derating: float,
    swing: float,
    *,
    power: PowerChoice | None = None,
    rules: Mapping[str, float] | None = None,
) -> Plant:
    """Size, place and assign the power and cooling plant of a new design.

    ``rows`` are the rows of racks and of in-hall cooling units (``cooling_items``,
    already placed); the plant adds busways, the outdoor units and the feeds, in the
    topology of ``power`` (2N by default), sized by the same rules the check applies
    (``rules``: the project's, defaults when None).
    """
    power = (power or PowerChoice()).validated()
    rules = rules if rules is not None else Rules()
    types = choice.types(catalog)
    plant = Plant()
    namer = _Namer()
    feeds: dict[str, Feed] = {}
    upstream: dict[str, list[str]] = {}
    standby: dict[str, list[str]] = {}
    crahs = [c for c in cooling_items if c.type_id == types["crah"].id]
    cdus = [c for c in cooling_items if c.type_id == types["cdu"].id]
    cooling = _assign_cooling(rack_items, crahs, cdus, catalog)
    scenarios = _scenario_count(power)
    lineups, catcher = _lineups(power)
    pairs = _Pairs(power, lineups)
    labels = power.topology != "n+1"

    # Busways: per row, a run on each feed (A and B with 2N or distributed redundancy), each
    # sized for the whole row: with its partner lost, a run carries all its racks.
    busway_t = types["busway"]
    busway_cap = busway_t.capacity_kw * (1.0 if busway_t.rated_100_percent else derating)
    load_of = {
        i.id: design_load_kw(catalog[i.type_id], catalog) for i in rack_items + cooling_items
    }
    it_ids = {i.id for i in rack_items}
    for row in rows:
        loads = [load_of[i] for i in row.item_ids]
        groups = _fill(loads, busway_cap)
        runs = max(groups) + 1 if groups else 0
        length = row.x_end - row.x_start
        total = sum(loads)
        if pairs.dual:
            side_a, side_b = pairs.pair(total)
            assert side_b is not None  # two lineups wherever consumers take two feeds
            sides: list[tuple[str, _Lineup, float]] = [("A", side_a, -0.25), ("B", side_b, 0.25)]
            weights = _weights(scenarios, side_a, side_b)
        else:
            sides = [("A", pairs.single(total), -0.25)]
            weights = _weights(scenarios, sides[0][1], None)
        for (side, lineup, offset), weight in zip(sides, weights, strict=False):
            ids = []
            for run in range(runs):
                properties: dict[str, Any] = {"length_m": round(length, 3), "side": side}
                if labels and power.topology != "block_redundant":
                    properties["block"] = lineup.name
                bus = Item(
                    namer.next(f"BW{side}"),
                    busway_t.id,
                    (row.x_start + row.x_end) / 2,
                    row.y + offset * (1 + run),
                    0.0,
                    f"Busway {side}",
                    properties,
                )
                plant.items.append(bus)
                ids.append(bus.id)
                mine = [k for k, g in enumerate(groups) if g == run]
                run_kw = sum(loads[k] for k in mine)
                run_it = sum(loads[k] for k in mine if row.item_ids[k] in it_ids)
                lineup.busways.append(bus.id)
                lineup.busway_kw.append(run_kw * weight / busway_t.efficiency)
                lineup.busway_it_kw.append(run_it * weight / busway_t.efficiency)
            for item_id, group in zip(row.item_ids, groups, strict=True):
                feed = feeds.setdefault(item_id, Feed())
                feeds[item_id] = feed.model_copy(update={side.lower(): ids[group]})

    # Heat rejection: chillers for the air loop (racks' air heat and the CRAH fans'),
    # towers for the liquid loop plus everything the chillers reject.
    air_kw = sum(air_heat_kw(catalog[i.type_id], catalog) for i in rack_items)
    air_kw += sum(load_of[c.id] for c in cooling_items)
    liquid_kw = sum(liquid_heat_kw(catalog[i.type_id], catalog) for i in rack_items)
    chiller_t, tower_t = types["chiller"], types["tower"]
    chillers = math.ceil(air_kw / chiller_t.capacity_kw) + 1 if air_kw else 0
    chiller_heat = chillers * chiller_t.kw
    towers = math.ceil((liquid_kw + air_kw + chiller_heat) / tower_t.capacity_kw) + 1
    chiller_ids = [namer.next("CH") for _ in range(chillers)]
    tower_ids = [namer.next("CT") for _ in range(towers)]
    plant_loads = [(u, chiller_t.kw) for u in chiller_ids] + [(u, tower_t.kw) for u in tower_ids]
    # Cooling plant is fed from switchgear on two lineups wherever there are two.
    for unit, kw in plant_loads:
        a, b = pairs.pair(kw) if len(lineups) > 1 else (lineups[0], None)
        wa, wb = _weights(scenarios, a, b)
        a.plant.append((unit, "a", kw * wa))
        if b is not None:
            b.plant.append((unit, "b", kw * wb))

    built: dict[str, list[tuple[str, str]]] = {}
    """Kind -> (unit id, lineup name) in build order, for the yard."""
    sg_of_plant: dict[tuple[str, str], str] = {}
    limits = {
        "ups": types["ups"].capacity_kw,
        "transformer": types["transformer"].rating_kva * rules["load_power_factor"],
        "switchgear": types["switchgear"].capacity_kw
        * (1.0 if types["switchgear"].rated_100_percent else derating),
    }
    chain = _Chain(types, limits, upstream, namer, built)
    for lineup in lineups:
        chain.build(lineup, sg_of_plant, dead_at_own_loss=power.topology == "block_redundant")
    if catcher is not None:
        _catcher_ups(catcher, lineups, scenarios, chain, standby)
        chain.build(catcher, sg_of_plant, dead_at_own_loss=False)
    for (unit, side), sg in sg_of_plant.items():
        feed = feeds.get(unit, Feed())
        feeds[unit] = feed.model_copy(update={side: sg})
    for lineup in [*lineups, *([catcher] if catcher else [])]:
        _sources(lineup, power, types, rules, swing, upstream, namer, built)

    yard = _Yard(hall_bounds)
    block_of = {unit: name for units in built.values() for unit, name in units if labels and name}
    for kind, label in (("ups", "UPS"), ("transformer", "Transformer"),
                        ("switchgear", "Switchgear")):  # fmt: skip
        plant.items.extend(yard.place_named(types[kind], built.get(kind, []), label, block_of))
    plant.items.extend(yard.place(chiller_t, chiller_ids, "Chiller"))
    plant.items.extend(yard.place(tower_t, tower_ids, "Cooling tower"))
    for kind, label in (("utility", "Utility service"), ("turbine", "Turbine"),
                        ("battery", "Battery")):  # fmt: skip
        units = built.get(kind, [])
        t = types["source"] if kind == "utility" else types[kind]
        if kind == "turbine" and types["source"].role != "grid_feed":
            t = types["source"]
        contracted = {u: kw for line in [*lineups, *([catcher] if catcher else [])]
                      for u, kw in line.contracted_kw.items()}  # fmt: skip
        plant.items.extend(yard.place_named(t, units, label, block_of, contracted))

    plant.power = PowerPlan(
        feeds=dict(sorted(feeds.items())),
        upstream=dict(sorted(upstream.items())),
        standby=dict(sorted(standby.items())),
        topology=power.topology,  # type: ignore[arg-type]
        blocks=power.block_count if power.topology in BLOCK_TOPOLOGIES else None,
    )
    plant.cooling = cooling
    return plant


class _Chain:
    """Builds lineups from the busways up: UPS, transformers, switchgear, each filled to
    what its rule allows (``limits``, kW) in every scenario."""

    def __init__(
        self,
        types: Mapping[str, Any],
        limits: Mapping[str, float],
        upstream: dict[str, list[str]],
        namer: _Namer,
        built: dict[str, list[tuple[str, str]]],
    ) -> None:
        self.types, self.limits, self.upstream = types, limits, upstream
        self.namer, self.built = namer, built

    def units(self, lineup: _Lineup, kind: str, prefix: str, count: int) -> list[str]:
        ids = [self.namer.next(lineup.prefix(prefix)) for _ in range(count)]
        lineup.units[kind] = ids
        self.built.setdefault(kind, []).extend((u, lineup.name) for u in ids)
        return ids

    def build(
        self,
        lineup: _Lineup,
        sg_of_plant: dict[tuple[str, str], str],
        *,
        dead_at_own_loss: bool,
    ) -> None:
        """busway → UPS → transformer → switchgear (which also feeds the cooling plant).
        ``dead_at_own_loss``: the lineup's UPS carry nothing when it is lost (block
        redundancy: its busways transfer to the catcher). A catcher's UPS are built
        already (:func:`_catcher_ups`)."""
        types, upstream = self.types, self.upstream
        ups_t, tx_t, sg_t = types["ups"], types["transformer"], types["switchgear"]
        if "ups" not in lineup.units:
            ups_of = _fill_scenarios(lineup.busway_kw, self.limits["ups"], ups_t.id)
            count = max(ups_of, default=-1) + 1
            ups_ids = self.units(lineup, "ups", "UPS", count)
            lineup.ups_kw = _sums(lineup.busway_kw, ups_of, count)
            lineup.ups_it_kw = _sums(lineup.busway_it_kw, ups_of, count)
            for busway, k in zip(lineup.busways, ups_of, strict=True):
                upstream[busway] = [ups_ids[k]]
            if dead_at_own_loss and lineup.lost_at is not None:
                for load in (*lineup.ups_kw, *lineup.ups_it_kw):
                    load[lineup.lost_at] = 0.0
        ups_ids = lineup.units["ups"]
        # A unit draws its load plus its losses from the unit above it.
        draws = [kw / ups_t.efficiency for kw in lineup.ups_kw]
        draws_it = [kw / ups_t.efficiency for kw in lineup.ups_it_kw]
        tx_of = _fill_scenarios(draws, self.limits["transformer"], tx_t.id)
        tx_count = max(tx_of, default=-1) + 1
        tx_ids = self.units(lineup, "transformer", "TX", tx_count)
        for ups, k in zip(ups_ids, tx_of, strict=True):
            upstream[ups] = [tx_ids[k]]
        tx_kw = [kw / tx_t.efficiency for kw in _sums(draws, tx_of, tx_count)]
        tx_it = [kw / tx_t.efficiency for kw in _sums(draws_it, tx_of, tx_count)]
        plant_kw = [kw for _, _, kw in lineup.plant]
        sg_of = _fill_scenarios([*tx_kw, *plant_kw], self.limits["switchgear"], sg_t.id)
        sg_ids = self.units(lineup, "switchgear", "SG", max(sg_of, default=-1) + 1)
        for tx, k in zip(tx_ids, sg_of[:tx_count], strict=True):
            upstream[tx] = [sg_ids[k]]
        for (unit, side, _), k in zip(lineup.plant, sg_of[tx_count:], strict=True):
            sg_of_plant[(unit, side)] = sg_ids[k]
        scenarios = len(lineup.busway_kw[0]) if lineup.busway_kw else len(lineup.ups_kw[0])
        lineup.switchgear_kw = sum([*tx_kw, *plant_kw], np.zeros(scenarios))
        lineup.switchgear_it_kw = sum(tx_it, np.zeros(scenarios))


def _catcher_ups(
    catcher: _Lineup,
    lineups: list[_Lineup],
    scenarios: int,
    chain: _Chain,
    standby: dict[str, list[str]],
) -> None:
    """The catcher's UPS: its j-th takes over the busways of the j-th UPS of any block lost
    (static transfer), so it carries, in the scenario of block k lost, what that UPS
    carried."""
    count = max(len(line.units["ups"]) for line in lineups)
    ups_ids = chain.units(catcher, "ups", "UPS", count)
    kw = [np.zeros(scenarios) for _ in range(count)]
    it = [np.zeros(scenarios) for _ in range(count)]
    for line in lineups:
        if line.lost_at is None:
            continue
        index = {ups: j for j, ups in enumerate(line.units["ups"])}
        for j in range(len(line.units["ups"])):
            # What the block's UPS carries when alive (any scenario but its own loss).
            kw[j][line.lost_at] = line.ups_kw[j][0]
            it[j][line.lost_at] = line.ups_it_kw[j][0]
        for busway in line.busways:
            standby[busway] = [ups_ids[index[chain.upstream[busway][0]]]]
    catcher.ups_kw, catcher.ups_it_kw = kw, it


def _sources(  # noqa: PLR0917 - a lineup's sources from the choice and the rules
    lineup: _Lineup,
    power: PowerChoice,
    types: Mapping[str, Any],
    rules: Mapping[str, float],
    swing: float,
    upstream: dict[str, list[str]],
    namer: _Namer,
    built: dict[str, list[tuple[str, str]]],
) -> None:
    """A lineup's own sources and batteries, feeding all its switchgear: utility services
    at a contracted capacity that carries its worst load (or the chosen one), turbines (the
    chosen number, or enough with N+1 when the source is a turbine), and batteries for the
    training swing and ride-through of the IT load it backs in its worst case (or the
    chosen number)."""
    source_t, turbine_t, battery_t = types["source"], types["turbine"], types["battery"]
    worst_kw = float(lineup.switchgear_kw.max()) if lineup.switchgear_kw is not None else 0.0
    worst_it = float(lineup.switchgear_it_kw.max()) if lineup.switchgear_it_kw is not None else 0
    utility: list[str] = []
    if source_t.role == "grid_feed":
        if power.utility_kw is not None:
            contracts = [power.utility_kw] if power.utility_kw > 0 else []
        else:
            services = max(1, math.ceil(worst_kw / source_t.capacity_kw - 1e-9))
            each = min(source_t.capacity_kw, math.ceil(worst_kw / services / 100.0) * 100.0)
            contracts = [each] * services
        utility = [namer.next(lineup.prefix("UT")) for _ in contracts]
        lineup.contracted_kw = dict(zip(utility, contracts, strict=True))
        generator = turbine_t
    else:
        generator = source_t
    spare = round(rules["spare_sources"])
    site_kw = generator.capacity_kw * rules["site_derating"]
    if power.turbines is not None:
        turbines = power.turbines
    elif source_t.role == "grid_feed":
        turbines = 0
    else:
        turbines = math.ceil(worst_kw / site_kw - 1e-9) + spare
    turbine_ids = [namer.next(lineup.prefix("GT")) for _ in range(turbines)]
    if power.batteries is not None:
        batteries = power.batteries
    elif worst_it > 0:
        batteries = max(
            math.ceil(swing * worst_it / battery_t.capacity_kw - 1e-9),
            math.ceil(rules["ride_through_s"] * worst_it / 3600.0 / battery_t.energy_kwh - 1e-9),
            1,
        )
    else:
        batteries = 0
    battery_ids = [namer.next(lineup.prefix("BAT")) for _ in range(batteries)]
    for sg in lineup.units["switchgear"]:
        upstream[sg] = utility + turbine_ids + battery_ids
    lineup.units |= {"utility": utility, "turbine": turbine_ids, "battery": battery_ids}
    for kind, ids in (("utility", utility), ("turbine", turbine_ids), ("battery", battery_ids)):
        built.setdefault(kind, []).extend((u, lineup.name) for u in ids)


def _nearest(
    racks: list[Item], units: list[Item], need: list[float], room: list[float]
) -> dict[str, str]:
    """Each rack with a need to the nearest unit that still has room for it."""
    if not units or not racks:
        return {}
    tree = cKDTree(np.array([(u.x, u.y) for u in units]))
    left = np.array(room, dtype=float)
    k = min(len(units), 16)
    _, near = tree.query(np.array([(r.x, r.y) for r in racks]), k=k)
    near = np.asarray(near).reshape(len(racks), k)
    chosen: dict[str, str] = {}
    for rack, wanted, options in zip(racks, need, near, strict=True):
        if wanted <= 0:
            continue
        fits = [u for u in options if left[u] >= wanted - 1e-9]
        if not fits:
            # All nearby units are full: the nearest one anywhere with room.
            order = np.argsort(
                np.hypot(*(np.array([(u.x, u.y) for u in units]) - (rack.x, rack.y)).T)
            )
            fits = [u for u in order if left[u] >= wanted - 1e-9] or [int(options[0])]
        unit = int(fits[0])
        left[unit] -= wanted
        chosen[rack.id] = units[unit].id
    return chosen


def _assign_cooling(
    racks: list[Item], crahs: list[Item], cdus: list[Item], catalog: Catalog
) -> CoolingPlan:
    """Each rack's air heat to the nearest CRAH with room; liquid heat without an in-rack
    CDU to the nearest in-row CDU with room."""
    air = [air_heat_kw(catalog[r.type_id], catalog) for r in racks]
    liquid = [
        liquid_heat_kw(catalog[r.type_id], catalog)
        if getattr(catalog[r.type_id], "in_rack_cdu", None) is None
        else 0.0
        for r in racks
    ]
    return CoolingPlan(
        crah=_nearest(racks, crahs, air, [catalog[c.type_id].capacity_kw for c in crahs]),
        cdu=_nearest(racks, cdus, liquid, [catalog[c.type_id].capacity_kw for c in cdus]),
    )


class _Yard:
    """Places outdoor units in a yard below the hall: one band of rows per kind,
    each band as wide as the hall."""

    def __init__(self, hall_bounds: tuple[float, float, float, float]) -> None:
        self.x0, _, x1, y1 = hall_bounds
        self.y = y1 + YARD_GAP_M
        self.width = max(x1 - self.x0, 20.0)

    def place_named(
        self,
        t: Any,
        units: list[tuple[str, str]],
        label: str,
        block_of: Mapping[str, str],
        contracted: Mapping[str, float] | None = None,
    ) -> list[Item]:
        """Units of one kind across lineups ((id, lineup) pairs) in one band, named and
        marked with their lineup's block (and a utility service's contracted capacity)."""
        items = self.place(t, [u for u, _ in units], label)
        out = []
        for item, (_, lineup) in zip(items, units, strict=True):
            properties: dict[str, Any] = {}
            if item.id in block_of:
                properties["block"] = block_of[item.id]
            if contracted and item.id in contracted:
                properties["contracted_kw"] = contracted[item.id]
            name = f"{label} {lineup} {item.name.rsplit(' ', 1)[-1]}" if lineup else item.name
            out.append(Item(item.id, item.type_id, item.x, item.y, item.rotation, name,
                            properties))  # fmt: skip
        return out

    def place(self, t: Any, ids: list[str], label: str) -> list[Item]:
        if not ids:
            return []
        w, d = t.footprint.width_m, t.footprint.depth_m
        per_row = max(1, int((self.width + YARD_SPACING_M) // (w + YARD_SPACING_M)))
        items = []
        for k, item_id in enumerate(ids):
            row, slot = divmod(k, per_row)
            x = self.x0 + slot * (w + YARD_SPACING_M) + w / 2
            y = self.y + row * (d + YARD_SPACING_M) + d / 2
            items.append(Item(item_id, t.id, round(x, 3), round(y, 3), 0.0, f"{label} {k + 1}"))
        rows = math.ceil(len(ids) / per_row)
        self.y += rows * (d + YARD_SPACING_M) + YARD_SPACING_M
        return items


__all__ = [
    "POWER_PRESETS",
    "TOPOLOGIES",
    "FacilityChoice",
    "FacilityError",
    "Plant",
    "PowerChoice",
    "PowerUnitType",
    "Row",
    "air_heat_kw",
    "design_load_kw",
    "liquid_heat_kw",
    "plan_plant",
    "unit_count",
]
