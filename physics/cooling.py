"""Cooling: where every rack's heat goes, CDU and CRAH budgets, heat rejection, what-if.

Owns the rules ``cooling.cdu``, ``cooling.cdu_loop``, ``cooling.crah``,
``cooling.air_limit`` and ``cooling.rejection``, the ``cooling`` summary
figures, :func:`cooling_loads` for the GUI and reports, and the ``cooling``
what-if. The thermal screening map is :mod:`physics.thermal`.

Heat: all electrical load becomes heat. A GPU rack's design load (see
:mod:`physics.power`) splits into liquid (its servers' share,
``liquid_fraction``) and air (the rest, in-rack CDU pumps included); a network
rack's heat is all air (:mod:`layout.facility`).

- Liquid goes to the in-row CDU the cooling plan assigns to the rack, else to
  the rack's in-rack CDU. A CDU's capacity is its rating at the
  ``facility_water_c`` rule (linear between ratings). A rack with liquid heat
  and neither is an error; an in-row CDU farther than ``cdu_loop_m`` from its
  rack (centre to footprint) is a warning.
- Air goes to the CRAH the plan assigns, else to the nearest CRAH (centre to
  centre). Each CRAH's air heat ≤ its capacity. Racks giving more than
  ``air_limit_kw`` to air are flagged. Each rack's required airflow is
  Q = P / (ρ · cp · ΔT) with ρ = 1.2 kg/m³, cp = 1,005 J/(kg·K) and ΔT the
  ``air_delta_t_k`` rule.
- Heat rejection, N+1 (one spare unit, :data:`SPARE_UNITS`): chillers carry the
  air loop (air heat plus CRAH fans); cooling towers and dry coolers carry
  everything (liquid loop with in-row CDU pumps, air loop, and the chillers'
  compressor draw). Without towers or dry coolers the chillers carry it all.

A project without cooling units and without cooling assignments has no cooling
plan yet: the rules report nothing. A plan of the white space only (no
chiller, tower or dry cooler) skips the heat-rejection rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

from layout.catalog import CoolingUnitType, GpuRackType
from layout.facility import liquid_heat_kw
from layout.project import Project
from physics.engine import (
    CheckContext,
    RuleProvider,
    Violation,
    emit,
    metric,
    position_of,
    rule,
    utilisation,
    worst_first,
)
from physics.power import consumer_loads, unpowered_rows
from physics.whatif import (
    CoolingLoss,
    HeatRejectionShort,
    InletChange,
    OverloadedCrah,
    effect,
)

RHO_AIR = 1.2
"""Air density, kg/m³ (sea level, about 20 °C)."""
CP_AIR = 1.005
"""Air specific heat, kJ/(kg·K)."""
SPARE_UNITS = 1
"""Heat-rejection redundancy: N+1."""
REJECTION_ROLES = ("cooling_tower", "dry_cooler")
RACK_KINDS = ("gpu_rack", "network_rack", "storage_rack")
"""Kinds whose heat the cooling units take (all of a network or storage rack's goes to air)."""
TOP_UNITS = 5


def airflow_m3s(heat_kw: np.ndarray | float, delta_t_k: float) -> np.ndarray | float:
    """Air volume flow that carries ``heat_kw`` at a temperature rise of ``delta_t_k``."""
    return np.asarray(heat_kw) / (RHO_AIR * CP_AIR * delta_t_k)


def heat_split(project: Project) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(load, air, liquid) heat in kW of every item, by row; racks only (0 elsewhere)."""
    catalog, items = project.catalog, project.items
    load = consumer_loads(project)
    fraction = project.rules["design_load_fraction"]
    liquid_per_type = {
        t: liquid_heat_kw(catalog[t], catalog) * fraction for t in set(items.type_ids)
    }
    rack = {t: catalog[t].kind in RACK_KINDS for t in set(items.type_ids)}
    is_rack = np.fromiter((rack[t] for t in items.type_ids), bool, len(items))
    liquid = np.fromiter((liquid_per_type[t] for t in items.type_ids), float, len(items))
    load = np.where(is_rack, load, 0.0)
    liquid = np.where(is_rack, liquid, 0.0)
    return load, load - liquid, liquid


@dataclass
class CoolingModel:
    """The cooling plan as arrays (structure only)."""

    planned: bool
    rack_rows: np.ndarray
    load_kw: np.ndarray
    air_kw: np.ndarray
    liquid_kw: np.ndarray
    in_rack_kw: np.ndarray
    """Per rack: its in-rack CDU's capacity at the facility water temperature (0: none)."""
    cdu: np.ndarray
    """Per rack: index into the units of its assigned CDU (-1: none)."""
    crah: np.ndarray
    unit_rows: np.ndarray
    unit_ids: list[str]
    roles: np.ndarray
    capacity_kw: np.ndarray
    """At the facility water temperature for CDUs; nominal otherwise."""
    draw_kw: np.ndarray
    unit_airflow_m3s: np.ndarray
    floor_unit: np.ndarray
    problems: list[tuple[str, str, tuple[str, ...], int]] = field(default_factory=list)
    """Assignments naming no CDU or CRAH: (role, message, items, rack row)."""

    def of_role(self, *roles: str) -> np.ndarray:
        return np.flatnonzero(np.isin(self.roles, roles))


def build_model(project: Project) -> CoolingModel:
    items, catalog, rules = project.items, project.catalog, project.rules
    water = rules["facility_water_c"]
    load, air, liquid = heat_split(project)
    kinds = project.kinds()
    rack_rows = np.flatnonzero(np.isin(kinds, list(RACK_KINDS)) & (load > 0))
    unit_rows = np.flatnonzero(kinds == "cooling")
    n = len(items)
    unit_of_row = np.full(n, -1, dtype=np.intp)
    unit_of_row[unit_rows] = np.arange(len(unit_rows))
    rack_of_row = np.full(n, -1, dtype=np.intp)
    rack_of_row[rack_rows] = np.arange(len(rack_rows))
    types: list[CoolingUnitType] = [catalog[items.type_ids[r]] for r in unit_rows.tolist()]
    in_rack: dict[str, float] = {}
    for t in set(items.type_ids):
        rt = catalog[t]
        cdu = rt.in_rack_cdu if isinstance(rt, GpuRackType) else None
        in_rack[t] = cdu.capacity_kw(water) if cdu is not None else 0.0
    in_rack_kw = np.array([in_rack[items.type_ids[r]] for r in rack_rows.tolist()], dtype=float)
    ids = items.ids
    row_of = {item_id: r for r, item_id in enumerate(ids)}
    problems: list[tuple[str, str, tuple[str, ...], int]] = []
    roles = np.array([t.role for t in types], dtype=object)
    assigned = {}
    for role, plan in (("cdu", project.cooling.cdu), ("crah", project.cooling.crah)):
        out = np.full(len(rack_rows), -1, dtype=np.intp)
        for rack, unit in plan.items():
            row = row_of.get(rack)
            if row is None or rack_of_row[row] < 0:
                continue
            urow = row_of.get(unit)
            k = unit_of_row[urow] if urow is not None else -1
            if k < 0 or roles[k] != role:
                what = "no item" if urow is None else f"not a {role.upper()}"
                problems.append((role, f"{rack}'s {role.upper()} {unit!r}: {what}", (rack,), row))
                continue
            out[rack_of_row[row]] = k
        assigned[role] = out
    return CoolingModel(
        planned=bool(len(unit_rows)) or bool(project.cooling.cdu) or bool(project.cooling.crah),
        rack_rows=rack_rows,
        load_kw=load[rack_rows],
        air_kw=air[rack_rows],
        liquid_kw=liquid[rack_rows],
        in_rack_kw=in_rack_kw,
        cdu=assigned["cdu"],
        crah=assigned["crah"],
        unit_rows=unit_rows,
        unit_ids=[ids[r] for r in unit_rows.tolist()],
        roles=roles,
        capacity_kw=np.array([t.capacity_at(water) for t in types], dtype=float),
        draw_kw=np.array([t.kw for t in types], dtype=float),
        unit_airflow_m3s=np.array(
            [
                t.airflow_m3s or float(airflow_m3s(t.capacity_kw, rules["air_delta_t_k"]))
                for t in types
            ],
            dtype=float,
        ),
        floor_unit=np.array([t.mounting == "floor" for t in types], dtype=bool),
        problems=problems,
    )


def _flagged(unit: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """Per rack: it names a unit (``unit`` ≥ 0) whose flag is set."""
    if len(flags) == 0:
        return np.zeros(len(unit), dtype=bool)
    return (unit >= 0) & flags[np.maximum(unit, 0)]


def crah_of_racks(project: Project, model: CoolingModel, failed: np.ndarray | None = None
                  ) -> np.ndarray:  # fmt: skip
    """Per rack: the CRAH taking its air heat (assigned, else nearest live one; -1: none)."""
    crahs = model.of_role("crah")
    crahs = crahs[model.floor_unit[crahs]]
    if failed is not None:
        crahs = crahs[~failed[crahs]]
    chosen = model.crah.copy()
    if failed is not None:
        dead = _flagged(chosen, failed)
        chosen[dead] = -1
    missing = np.flatnonzero((chosen < 0) & (model.air_kw > 0))
    if len(missing) and len(crahs):
        items = project.items
        urows = model.unit_rows[crahs]
        tree = cKDTree(np.column_stack([items.x[urows], items.y[urows]]))
        rows = model.rack_rows[missing]
        _, nearest = tree.query(np.column_stack([items.x[rows], items.y[rows]]))
        chosen[missing] = crahs[nearest]
    return chosen


@dataclass
class CoolingLoads:
    """Per rack and per cooling unit: heat, airflow, assignments and utilisation."""

    rack_ids: list[str]
    load_kw: np.ndarray
    air_kw: np.ndarray
    liquid_kw: np.ndarray
    airflow_m3s: np.ndarray
    cdu: list[str]
    """Per rack: its CDU ("in-rack", an in-row CDU's id, or "" for none)."""
    crah: list[str]
    unit_ids: list[str]
    roles: np.ndarray
    unit_load_kw: np.ndarray
    """Heat each CDU or CRAH takes; for heat-rejection units their share of their loop."""
    capacity_kw: np.ndarray
    rejection: dict[str, float]

    @property
    def utilisation(self) -> np.ndarray:
        return utilisation(self.unit_load_kw, self.capacity_kw)

    def table(self, top: int | None = None) -> list[dict[str, Any]]:
        """Every unit (or the ``top`` worst), worst utilisation first, for reports."""
        u = self.utilisation
        return [
            {"unit": self.unit_ids[k], "role": str(self.roles[k]),
             "load_kw": round(float(self.unit_load_kw[k]), 1),
             "capacity_kw": round(float(self.capacity_kw[k]), 1),
             "utilisation": round(float(u[k]), 4)}
            for k in worst_first(u, top)
        ]  # fmt: skip


def rejection_figures(model: CoolingModel, crah_air_kw: float | None = None) -> dict[str, float]:
    """Heat of the air and liquid loops and what the chillers and towers can take, N+1."""
    crahs = model.of_role("crah")
    cdus = model.of_role("cdu")
    chillers = model.of_role("chiller")
    rejectors = model.of_role(*REJECTION_ROLES)
    air = float(model.air_kw.sum()) if crah_air_kw is None else crah_air_kw
    air_loop = air + float(model.draw_kw[crahs].sum())
    liquid_loop = float(model.liquid_kw.sum() + model.draw_kw[cdus].sum())
    compressors = float(model.draw_kw[chillers].sum())
    total = air_loop + liquid_loop + compressors

    def n_plus(units: np.ndarray) -> float:
        caps = np.sort(model.capacity_kw[units])[::-1]
        return float(caps[SPARE_UNITS:].sum())

    return {
        "air_loop_kw": air_loop,
        "liquid_loop_kw": liquid_loop,
        "chiller_draw_kw": compressors,
        "total_kw": total,
        "chillers": len(chillers),
        "chiller_capacity_n_kw": n_plus(chillers),
        "rejection_units": len(rejectors),
        "rejection_capacity_n_kw": n_plus(rejectors),
    }


def compute_loads(project: Project, model: CoolingModel) -> CoolingLoads:
    units = len(model.unit_rows)
    crah = crah_of_racks(project, model)
    in_row = model.cdu >= 0
    cdu_load = np.bincount(model.cdu[in_row], weights=model.liquid_kw[in_row], minlength=units)
    has_air = crah >= 0
    crah_load = np.bincount(crah[has_air], weights=model.air_kw[has_air], minlength=units)
    unit_load = cdu_load + crah_load
    r = rejection_figures(model)
    chillers = model.of_role("chiller")
    rejectors = model.of_role(*REJECTION_ROLES)
    # Heat-rejection units share their loop in proportion to capacity; without
    # towers or dry coolers the chillers carry everything.
    for sharing, heat in ((chillers, r["air_loop_kw"] if len(rejectors) else r["total_kw"]),
                          (rejectors, r["total_kw"])):  # fmt: skip
        if len(sharing):
            caps = model.capacity_kw[sharing]
            unit_load[sharing] = heat * caps / max(float(caps.sum()), 1e-9)
    ids = project.items.ids
    cdu_names = [
        model.unit_ids[c] if c >= 0 else ("in-rack" if cap > 0 else "")
        for c, cap in zip(model.cdu, model.in_rack_kw, strict=True)
    ]
    return CoolingLoads(
        rack_ids=[ids[r] for r in model.rack_rows],
        load_kw=model.load_kw,
        air_kw=model.air_kw,
        liquid_kw=model.liquid_kw,
        airflow_m3s=np.asarray(airflow_m3s(model.air_kw, project.rules["air_delta_t_k"])),
        cdu=cdu_names,
        crah=[model.unit_ids[c] if c >= 0 else "" for c in crah],
        unit_ids=model.unit_ids,
        roles=model.roles,
        unit_load_kw=unit_load,
        capacity_kw=model.capacity_kw,
        rejection=r,
    )


def cooling_model(project: Project) -> CoolingModel:
    return build_model(project)


def cooling_loads(project: Project) -> CoolingLoads:
    """Per-rack heat split, airflow and units, and per-unit load and utilisation."""
    return compute_loads(project, build_model(project))


def model_of(context: CheckContext) -> CoolingModel:
    return context.memo("cooling.model", lambda: build_model(context.project))


def _loads(context: CheckContext) -> CoolingLoads:
    return context.once(
        "cooling.loads", lambda: compute_loads(context.project, model_of(context))
    )


def loads_of(context: CheckContext) -> CoolingLoads:
    """Per-rack and per-unit cooling loads of the context's project, computed once per check."""
    return _loads(context)


# -- rules -------------------------------------------------------------------------------------
@rule("cooling.cdu", "error", "Each rack's liquid heat has a CDU, within its capacity at the "
      "facility water temperature.")  # fmt: skip
def cdu(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = model_of(context)
    if not model.planned:
        return
    water = context.project.rules["facility_water_c"]

    def compute() -> list[tuple[str, tuple[str, ...], int]]:
        ids = context.project.items.ids
        found = [(m, i, r) for role, m, i, r in model.problems if role == "cdu"]
        in_row = model.cdu >= 0
        liquid = model.liquid_kw > 0
        for k in np.flatnonzero(liquid & ~in_row & (model.in_rack_kw <= 0)):
            row = int(model.rack_rows[k])
            found.append((f"{ids[row]} sends {model.liquid_kw[k]:,.1f} kW to liquid and has no "
                          "CDU (none in the rack, none assigned)", (ids[row],), row))  # fmt: skip
        over = liquid & ~in_row & (model.in_rack_kw > 0) & (model.liquid_kw > model.in_rack_kw)
        for k in np.flatnonzero(over):
            row = int(model.rack_rows[k])
            found.append((
                f"{ids[row]} sends {model.liquid_kw[k]:,.1f} kW to liquid; its in-rack CDU "
                f"takes {model.in_rack_kw[k]:,.1f} kW with {water:g} °C facility water "
                f"({model.liquid_kw[k] / model.in_rack_kw[k]:.0%})", (ids[row],), row,
            ))  # fmt: skip
        units = len(model.unit_rows)
        load = np.bincount(model.cdu[in_row], weights=model.liquid_kw[in_row], minlength=units)
        for k in np.flatnonzero(load > model.capacity_kw + 1e-9):
            found.append((
                f"{model.unit_ids[k]} takes {load[k]:,.1f} kW of liquid heat, over its "
                f"{model.capacity_kw[k]:,.1f} kW at {water:g} °C facility water "
                f"({load[k] / model.capacity_kw[k]:.0%})",
                (model.unit_ids[k],), int(model.unit_rows[k]),
            ))  # fmt: skip
        return found

    yield from emit(context, rule, context.memo(rule.id, compute))


@rule("cooling.cdu_loop", "warning", "A rack is within cdu_loop_m of the in-row CDU serving it.")
def cdu_loop(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = model_of(context)
    if not model.planned:
        return
    has = model.cdu >= 0
    racks, units = model.rack_rows[has], model.unit_rows[model.cdu[has]]
    carried = context.carried(rule.id)
    if carried is not None:
        yield from carried
        moved = context.rows_to_recheck
        redo = np.isin(racks, moved) | np.isin(units, moved)
        racks, units = racks[redo], units[redo]
    if len(racks) == 0:
        return
    items = context.project.items
    limit = context.project.rules["cdu_loop_m"]
    distance = shapely.distance(shapely.points(items.x[racks], items.y[racks]),
                                context.footprints[units])  # fmt: skip
    ids = items.ids
    for k in np.flatnonzero(distance > limit):
        yield rule.violation(
            f"{ids[racks[k]]} is {distance[k]:.1f} m from its CDU {ids[units[k]]} "
            f"(loop rule {limit:g} m)",
            (ids[racks[k]], ids[units[k]]),
            position_of(context, racks[k]),
        )


@rule("cooling.crah", "error", "Each CRAH's air heat (assigned or nearest racks) ≤ its capacity.")
def crah(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = model_of(context)
    if not model.planned:
        return

    def compute() -> list[tuple[str, tuple[str, ...], int]]:
        ids = context.project.items.ids
        found = [(m, i, r) for role, m, i, r in model.problems if role == "crah"]
        crahs = model.of_role("crah")
        if not len(crahs):
            air = np.flatnonzero(model.air_kw > 0)
            if len(air):
                found.append((
                    f"{len(air)} rack(s) give {model.air_kw[air].sum():,.1f} kW to air and no "
                    "CRAH takes it", tuple(ids[model.rack_rows[k]] for k in air),
                    int(model.rack_rows[air[0]]),
                ))  # fmt: skip
            return found
        loads = _loads(context)
        for k in crahs[loads.unit_load_kw[crahs] > model.capacity_kw[crahs] + 1e-9]:
            load, cap = loads.unit_load_kw[k], model.capacity_kw[k]
            found.append((
                f"{model.unit_ids[k]} takes {load:,.1f} kW of air heat from its racks, over its "
                f"{cap:,.1f} kW ({load / cap:.0%})", (model.unit_ids[k],), int(model.unit_rows[k]),
            ))  # fmt: skip
        return found

    if ((model.crah < 0) & (model.air_kw > 0)).any():
        # Racks go to their nearest CRAH: findings depend on positions, rebuild them.
        for message, items, row in compute():
            yield rule.violation(message, items, position_of(context, row))
    else:
        yield from emit(context, rule, context.memo(rule.id, compute))


@rule("cooling.air_limit", "warning", "A rack gives at most air_limit_kw of heat to the room air.")
def air_limit(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = model_of(context)
    if not model.planned:
        return

    def compute() -> list[tuple[str, tuple[str, ...], int]]:
        limit = context.project.rules["air_limit_kw"]
        delta_t = context.project.rules["air_delta_t_k"]
        ids = context.project.items.ids
        found: list[tuple[str, tuple[str, ...], int]] = []
        for k in np.flatnonzero(model.air_kw > limit + 1e-9):
            row = int(model.rack_rows[k])
            flow = float(airflow_m3s(model.air_kw[k], delta_t))
            found.append((
                f"{ids[row]} gives {model.air_kw[k]:,.1f} kW to air, above the {limit:g} kW air "
                f"limit (needs {flow:.2f} m³/s at ΔT {delta_t:g} K)",
                (ids[row],), row,
            ))  # fmt: skip
        return found

    yield from emit(context, rule, context.memo(rule.id, compute))


@rule("cooling.rejection", "error", "Chillers carry the air loop and towers/dry coolers all the "
      "heat, each with one unit spare (N+1).")  # fmt: skip
def rejection(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = model_of(context)
    chillers = model.of_role("chiller")
    rejectors = model.of_role(*REJECTION_ROLES)
    if not model.planned or not (len(chillers) or len(rejectors)):
        return
    r = _loads(context).rejection
    ids = context.project.items.ids

    def names(units: np.ndarray) -> tuple[str, ...]:
        return tuple(ids[model.unit_rows[k]] for k in units)

    checks = []
    if len(chillers):
        checks.append((chillers, "chillers", "air loop", r["air_loop_kw"],
                       r["chiller_capacity_n_kw"]))  # fmt: skip
    if len(rejectors):
        checks.append((rejectors, "towers and dry coolers", "total heat", r["total_kw"],
                       r["rejection_capacity_n_kw"]))  # fmt: skip
    else:
        checks.append((chillers, "chillers (no tower or dry cooler)", "total heat",
                       r["total_kw"], r["chiller_capacity_n_kw"]))  # fmt: skip
    for units, what, loop, heat, capacity in checks:
        if heat > capacity + 1e-6:
            yield rule.violation(
                f"{what}: {len(units)} units give {capacity:,.0f} kW with one spare, short of "
                f"the {loop} {heat:,.0f} kW (N+{SPARE_UNITS})",
                names(units),
                position_of(context, int(model.unit_rows[units[0]])),
            )


# -- summary ---------------------------------------------------------------------------------
@metric("cooling")
def cooling_metrics(context: CheckContext) -> Mapping[str, Any]:
    model = model_of(context)
    delta_t = context.project.rules["air_delta_t_k"]
    out: dict[str, Any] = {
        "heat_to_liquid_kw": round(float(model.liquid_kw.sum()), 1),
        "heat_to_air_kw": round(float(model.air_kw.sum()), 1),
        "airflow_required_m3s": round(float(airflow_m3s(model.air_kw.sum(), delta_t)), 1),
        "cooling_planned": model.planned,
    }
    if model.planned:
        loads = _loads(context)
        crahs = model.of_role("crah")
        out["crah_airflow_m3s"] = round(float(model.unit_airflow_m3s[crahs].sum()), 1)
        out["heat_rejection"] = {k: round(v, 1) if isinstance(v, float) else v
                                 for k, v in loads.rejection.items()}  # fmt: skip
        out["cooling_units_worst"] = loads.table(TOP_UNITS)
    return out


# -- what-if ---------------------------------------------------------------------------------
def what_if(project: Project, failed: Iterable[str]) -> CoolingLoss:
    """Cooling lost when units fail (directly, or when they lose their power feeds).

    Racks whose CDU fails lose their liquid cooling; the air heat of racks whose
    CRAH fails goes to the nearest live CRAH; heat rejection is checked N+1 again
    with the failed units gone (as the remaining N).
    """
    model = build_model(project)
    failed = set(failed)
    ids = project.items.ids
    unpowered = {ids[r] for r in unpowered_rows(project, failed)}
    down = failed | unpowered
    dead = np.array([u in down for u in model.unit_ids], dtype=bool)
    rack_ids = [ids[r] for r in model.rack_rows]
    catalog = project.catalog
    gpus = np.array([getattr(catalog[project.items.type_ids[r]], "gpus", 0)
                     for r in model.rack_rows], dtype=np.int64)  # fmt: skip
    rack_down = np.array([i in down for i in rack_ids], dtype=bool)
    in_row = model.cdu >= 0
    lost_liquid = (
        (model.liquid_kw > 0)
        & ~rack_down
        & (_flagged(model.cdu, dead) | (~in_row & (model.in_rack_kw <= 0)))
    )
    before = crah_of_racks(project, model)
    after = crah_of_racks(project, model, dead)
    moved = ~rack_down & (before >= 0) & (after != before)
    units = len(model.unit_rows)
    alive = ~rack_down & (after >= 0)
    crah_load = np.bincount(after[alive], weights=model.air_kw[alive], minlength=units)
    was = ~rack_down & (before >= 0)
    crah_before = np.bincount(before[was], weights=model.air_kw[was], minlength=units)
    crahs = model.of_role("crah")
    # Only CRAHs the failure pushed over (or further over) their capacity.
    over = [k for k in crahs if not dead[k] and crah_load[k] > model.capacity_kw[k] + 1e-9
            and crah_load[k] > crah_before[k] + 1e-9]  # fmt: skip
    no_air = ~rack_down & (model.air_kw > 0) & (after < 0)
    live = CoolingModel(**{**vars(model), "capacity_kw": np.where(dead, 0.0, model.capacity_kw)})
    r = rejection_figures(live)
    heat_short = []
    if model.of_role("chiller").size:
        # With failures the survivors must carry the loop without a further spare.
        caps = live.capacity_kw[model.of_role("chiller")].sum()
        if r["air_loop_kw"] > caps + 1e-6:
            heat_short.append(HeatRejectionShort("chillers", round(r["air_loop_kw"], 1),
                                                 round(float(caps), 1)))  # fmt: skip
    rejectors = model.of_role(*REJECTION_ROLES)
    if rejectors.size:
        caps = live.capacity_kw[rejectors].sum()
        if r["total_kw"] > caps + 1e-6:
            heat_short.append(HeatRejectionShort("towers and dry coolers",
                                                 round(r["total_kw"], 1),
                                                 round(float(caps), 1)))  # fmt: skip
    hot = np.zeros(len(rack_ids), dtype=bool)
    inlet: InletChange | None = None
    failed_crahs = frozenset(model.unit_ids[k] for k in crahs if dead[k])
    if failed_crahs:
        from physics.thermal import thermal_map  # thermal builds on this module

        then, now = thermal_map(project), thermal_map(project, failed_crahs)
        if then is not None and now is not None:
            allowable = project.rules["inlet_allowable_c"]
            hot = ~rack_down & (now.inlet_c > allowable + 1e-9) & ~(then.inlet_c > allowable + 1e-9)
            inlet = InletChange(
                worst_inlet_c_before=round(then.worst_inlet_c or 0.0, 2),
                worst_inlet_c_after=round(now.worst_inlet_c or 0.0, 2),
                racks_newly_above_allowable=tuple(rack_ids[k] for k in np.flatnonzero(hot)),
            )
    affected = lost_liquid | no_air | hot
    return CoolingLoss(
        units_down=tuple(model.unit_ids[k] for k in np.flatnonzero(dead)),
        racks_without_liquid_cooling=tuple(rack_ids[k] for k in np.flatnonzero(lost_liquid)),
        racks_without_air_cooling=tuple(rack_ids[k] for k in np.flatnonzero(no_air)),
        racks_moved_to_another_crah=int(moved.sum()),
        crahs_overloaded=tuple(
            OverloadedCrah(
                unit=model.unit_ids[k],
                load_kw=round(float(crah_load[k]), 1),
                capacity_kw=round(float(model.capacity_kw[k]), 1),
            )
            for k in over
        ),
        heat_rejection_short=tuple(heat_short),
        inlet=inlet,
        gpus_affected=int(gpus[affected].sum()),
        kw_lost=round(float(model.load_kw[affected].sum()), 1),
    )


@effect("cooling")
def _cooling_effect(project: Project, failed: list[str]) -> CoolingLoss | None:
    model = build_model(project)
    if not model.planned:
        return None
    report = what_if(project, failed)
    if not report.units_down:
        return None
    return report


__all__ = [
    "CoolingLoads",
    "CoolingModel",
    "airflow_m3s",
    "cooling_loads",
    "cooling_model",
    "heat_split",
    "loads_of",
    "rejection_figures",
    "what_if",
]
