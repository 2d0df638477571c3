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
from collections.abc import Sequence
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
    source: str = "grid-feed-150mw"
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
            elif (t.kind, getattr(t, "role", None)) != expected[name]:
                raise FacilityError(f"{type_id} is not a {expected[name][1]}", name)
            out[name] = t
        return out


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


def plan_plant(  # noqa: PLR0917, PLR0915 - one pass down the power chain, in order
    catalog: Catalog,
    choice: FacilityChoice,
    rows: list[Row],
    cooling_items: list[Item],
    rack_items: list[Item],
    hall_bounds: tuple[float, float, float, float],
    derating: float,
    swing: float,
) -> Plant:
    """Size, place and assign the power and cooling plant of a new design.

    ``rows`` are the rows of racks and of in-hall cooling units (``cooling_items``,
    already placed); the plant adds busways, the outdoor units and the feeds.
    """
    types = choice.types(catalog)
    plant = Plant()
    namer = _Namer()
    feeds: dict[str, Feed] = {}
    upstream: dict[str, list[str]] = {}
    crahs = [c for c in cooling_items if c.type_id == types["crah"].id]
    cdus = [c for c in cooling_items if c.type_id == types["cdu"].id]
    cooling = _assign_cooling(rack_items, crahs, cdus, catalog)

    # Busways: per row, A and B runs, each side sized for the whole row.
    busway_t = types["busway"]
    busway_cap = busway_t.capacity_kw * derating
    side_loads: dict[str, list[tuple[str, float]]] = {"A": [], "B": []}
    load_of = {
        i.id: design_load_kw(catalog[i.type_id], catalog) for i in rack_items + cooling_items
    }
    for row in rows:
        loads = [load_of[i] for i in row.item_ids]
        groups = _fill(loads, busway_cap)
        runs = max(groups) + 1 if groups else 0
        length = row.x_end - row.x_start
        for side, offset in (("A", -0.25), ("B", 0.25)):
            ids = []
            for run in range(runs):
                bus = Item(
                    namer.next(f"BW{side}"),
                    busway_t.id,
                    (row.x_start + row.x_end) / 2,
                    row.y + offset * (1 + run),
                    0.0,
                    f"Busway {side}",
                    {"length_m": round(length, 3), "side": side},
                )
                plant.items.append(bus)
                ids.append(bus.id)
                run_load = sum(lo for lo, g in zip(loads, groups, strict=True) if g == run)
                side_loads[side].append((bus.id, run_load))
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

    # Outdoor power per side: transformers, then switchgear, which also feeds the
    # chillers and towers directly (each side able to carry them all: 2N).
    yard = _Yard(hall_bounds)
    switchgear_by_side: dict[str, list[str]] = {}
    for side in ("A", "B"):
        names = [b for b, _ in side_loads[side]]
        loads = [lo for _, lo in side_loads[side]]
        tx_t, sg_t = types["transformer"], types["switchgear"]
        # A unit draws its load plus its losses from the unit above it.
        loads = [lo / busway_t.efficiency for lo in loads]
        tx_of = _fill(loads, tx_t.capacity_kw * derating)
        tx_ids = [namer.next(f"TX{side}") for _ in range(max(tx_of, default=-1) + 1)]
        tx_loads: Sequence[float] = (
            np.bincount(tx_of, weights=loads, minlength=len(tx_ids)).tolist() if tx_ids else []
        )
        for busway_id, k in zip(names, tx_of, strict=True):
            upstream[busway_id] = [tx_ids[k]]
        switchgear_loads = [*(lo / tx_t.efficiency for lo in tx_loads),
                            *(kw for _, kw in plant_loads)]  # fmt: skip
        sg_of = _fill(switchgear_loads, sg_t.capacity_kw * derating)
        sg_ids = [namer.next(f"SG{side}") for _ in range(max(sg_of, default=-1) + 1)]
        for tx, k in zip(tx_ids, sg_of[: len(tx_ids)], strict=True):
            upstream[tx] = [sg_ids[k]]
        for (unit, _), k in zip(plant_loads, sg_of[len(tx_ids) :], strict=True):
            feed = feeds.get(unit, Feed())
            feeds[unit] = feed.model_copy(update={side.lower(): sg_ids[k]})
        plant.items.extend(yard.place(tx_t, tx_ids, f"Transformer {side}"))
        plant.items.extend(yard.place(sg_t, sg_ids, f"Switchgear {side}"))
        switchgear_by_side[side] = sg_ids
    plant.items.extend(yard.place(chiller_t, chiller_ids, "Chiller"))
    plant.items.extend(yard.place(tower_t, tower_ids, "Cooling tower"))

    # Sources (N+1) for the whole facility, and batteries for the swing.
    it_kw = sum(load_of[i.id] for i in rack_items)
    facility_kw = it_kw + sum(load_of[c.id] for c in cooling_items)
    facility_kw += chillers * chiller_t.kw + towers * tower_t.kw
    source_t, battery_t = types["source"], types["battery"]
    sources = math.ceil(facility_kw / (source_t.capacity_kw * derating)) + 1
    batteries = math.ceil(swing * it_kw / battery_t.capacity_kw)
    source_ids = [namer.next("SRC") for _ in range(sources)]
    battery_ids = [namer.next("BAT") for _ in range(batteries)]
    plant.items.extend(yard.place(source_t, source_ids, "Source"))
    plant.items.extend(yard.place(battery_t, battery_ids, "Battery"))
    for sg in switchgear_by_side["A"] + switchgear_by_side["B"]:
        upstream[sg] = source_ids + battery_ids

    plant.power = PowerPlan(
        feeds=dict(sorted(feeds.items())), upstream=dict(sorted(upstream.items()))
    )
    plant.cooling = cooling
    return plant


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
    "FacilityChoice",
    "FacilityError",
    "Plant",
    "PowerUnitType",
    "Row",
    "air_heat_kw",
    "design_load_kw",
    "liquid_heat_kw",
    "plan_plant",
    "unit_count",
]
