"""Automatic assignments for an existing layout: leaves, power feeds and cooling.

Owns the re-assignment a planner asks for after moving things around (Tools →
Auto-assign, Regenerate fabric). Each function reads the project and returns a
new section (fabric spec, power plan, cooling plan) for a ``ReplaceSection``
command, so the change is one undoable step; nothing here edits the project.

Policy: every consumer goes to the nearest unit that still has room, nearest
first, so loads stay balanced and cables and whips short. Distances are
measured from a unit's centre to the other's footprint. Work is chunked so a
million-GPU hall never builds a consumers × units matrix at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import shapely

from layout.catalog import CoolingUnitType, GpuRackType, NetworkRackType, PowerUnitType
from layout.errors import CoherenceError
from layout.fabric_plan import split_ports
from layout.facility import air_heat_kw, design_load_kw, liquid_heat_kw
from layout.project import CoolingPlan, FabricSpec, Feed, PowerPlan, Project

CHUNK = 2048
"""Consumers handled per distance block (CHUNK × units floats at a time)."""


def _rows_of(project: Project, predicate: object) -> np.ndarray:
    types = {t: project.catalog[t] for t in set(project.items.type_ids)}
    return np.flatnonzero([predicate(types[t]) for t in project.items.type_ids])  # type: ignore[operator]


def _distance_blocks(
    project: Project, consumers: np.ndarray, units: np.ndarray
) -> Iterator[tuple[int, np.ndarray]]:
    """For each consumer (in order), the units sorted nearest first, block by block."""
    points = shapely.points(project.items.x[consumers], project.items.y[consumers])
    footprints = project.footprints()[units]
    for start in range(0, len(consumers), CHUNK):
        block = points[start : start + CHUNK]
        distance = shapely.distance(block[:, None], footprints[None, :])
        order = np.argsort(distance, axis=1, kind="stable")
        for k in range(len(block)):
            yield start + k, order[k]


def _greedy(
    project: Project, consumers: np.ndarray, demand: np.ndarray, units: np.ndarray,
    room: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Index into ``units`` chosen for each consumer: the nearest with room (-1: none)."""
    chosen = np.full(len(consumers), -1, dtype=np.intp)
    if len(units) == 0:
        return chosen
    room = room.astype(float).copy()
    for k, nearest in _distance_blocks(project, consumers, units):
        fits = nearest[room[nearest] >= demand[k] - 1e-9]
        if len(fits):
            chosen[k] = fits[0]
            room[fits[0]] -= demand[k]
    return chosen


def auto_assign_fabric(project: Project) -> FabricSpec:
    """Each GPU rack to its nearest leaf rack (in every plane) with free GPU ports."""
    spec = project.fabric
    if spec.switch_type is None or spec.nic_speed_gbps is None:
        raise CoherenceError("the project has no fabric spec to assign leaves for")
    radix = project.catalog[spec.switch_type].radix(spec.nic_speed_gbps / spec.planes)
    if radix < 2:
        raise CoherenceError(f"{spec.switch_type} has no ports at the fabric's speed")
    leaf_down = split_ports(radix, spec.oversubscription[0])[0] if spec.oversubscription else radix
    items = project.items
    racks = _rows_of(project, lambda t: isinstance(t, GpuRackType))
    # The GPU fabric's leaves only: not the front-end, storage or management networks'.
    leaves = np.array([r for r in _rows_of(project, lambda t: isinstance(t, NetworkRackType))
                       if items.properties_at(r).get("tier") == "leaf"
                       and items.properties_at(r).get("network", "backend") == "backend"],
                      dtype=np.intp)  # fmt: skip
    if len(leaves) == 0:
        raise CoherenceError("the project has no leaf racks (network racks with tier 'leaf')")
    ports = np.array([project.catalog[items.type_ids[r]].gpus for r in racks], float)
    ports *= spec.nics_per_gpu
    planes = np.array([items.properties_at(r).get("plane", 0) for r in leaves])
    assignments: dict[str, list[str]] = {}
    for plane in sorted(set(planes.tolist())):
        mine = leaves[planes == plane]
        room = np.array([_switches(project, r) * leaf_down for r in mine], float)
        chosen = _greedy(project, racks, ports, mine, room)
        for rack, k in zip(racks, chosen, strict=True):
            if k >= 0:
                assignments.setdefault(items.ids[mine[k]], []).append(items.ids[rack])
    return spec.model_copy(update={"assignments": dict(sorted(assignments.items()))})


def _switches(project: Project, row: int) -> int:
    value = project.items.properties_at(row).get("switches")
    t = project.catalog[project.items.type_ids[row]]
    return value if isinstance(value, int) and not isinstance(value, bool) else t.switches


def auto_assign_plant(
    project: Project, derating: float | None = None
) -> tuple[PowerPlan, CoolingPlan]:
    """Feeds to the nearest busways with room (A and B sides), CRAHs and CDUs by distance.

    A busway's side is its ``side`` property (A or B); busways without one serve
    either side. Upstream links between units are kept as they are.
    """
    derating = project.rules["continuous_derating"] if derating is None else derating
    items, catalog = project.items, project.catalog
    consumers = _rows_of(project, lambda t: isinstance(t, (GpuRackType, NetworkRackType))
                         or (isinstance(t, CoolingUnitType) and t.mounting == "floor"))  # fmt: skip
    busways = _rows_of(project, lambda t: isinstance(t, PowerUnitType) and t.role == "busway")
    demand = np.array([design_load_kw(catalog[items.type_ids[r]], catalog) for r in consumers])
    sides = np.array([str(items.properties_at(r).get("side", "")) for r in busways])
    capacity = np.array([catalog[items.type_ids[r]].capacity_kw * derating for r in busways])
    feeds = {k: v for k, v in project.power.feeds.items() if k in items}
    picked: dict[str, np.ndarray] = {}
    for side in ("A", "B"):
        usable = (sides == side) | (sides == "")
        units = busways[usable]
        chosen = _greedy(project, consumers, demand, units, capacity[usable])
        picked[side] = np.where(chosen >= 0, units[np.maximum(chosen, 0)], -1)
    for k, row in enumerate(consumers):
        a, b = picked["A"][k], picked["B"][k]
        if a >= 0 and a == b:
            b = -1  # a side-less busway cannot be both feeds
        feeds[items.ids[row]] = Feed(a=items.ids[a] if a >= 0 else None,
                                     b=items.ids[b] if b >= 0 else None)  # fmt: skip
    power = project.power.model_copy(update={"feeds": dict(sorted(feeds.items()))})
    return power, _cooling(project)


def _cooling(project: Project) -> CoolingPlan:
    items, catalog = project.items, project.catalog
    racks = _rows_of(project, lambda t: isinstance(t, (GpuRackType, NetworkRackType)))
    plan: dict[str, dict[str, str]] = {"crah": {}, "cdu": {}}
    for role, heat in (("crah", air_heat_kw), ("cdu", liquid_heat_kw)):
        units = _rows_of(project, lambda t, role=role: isinstance(t, CoolingUnitType)
                         and t.role == role and t.mounting == "floor")  # fmt: skip
        need = np.array([
            heat(catalog[items.type_ids[r]], catalog)
            if role == "crah" or getattr(catalog[items.type_ids[r]], "in_rack_cdu", None) is None
            else 0.0
            for r in racks
        ])  # fmt: skip
        wanted = racks[need > 0]
        room = np.array([catalog[items.type_ids[u]].capacity_kw for u in units])
        chosen = _greedy(project, wanted, need[need > 0], units, room)
        for rack, k in zip(wanted, chosen, strict=True):
            if k >= 0:
                plan[role][items.ids[rack]] = items.ids[units[k]]
    return CoolingPlan(
        crah=dict(sorted(plan["crah"].items())), cdu=dict(sorted(plan["cdu"].items()))
    )
