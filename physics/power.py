"""Power: consumer loads, the distribution chain with 2N feeds and N+1 sources, batteries.

Owns the rules ``power.feeds``, ``power.chain``, ``power.capacity``,
``power.sources``, ``power.battery`` and ``power.whip``, the ``power`` summary
figures, :func:`power_loads` for the GUI and reports, and the ``power`` what-if.

Loads (kW, from the catalog; see :mod:`layout.facility`): a GPU rack draws its
nameplate (servers, in-rack CDU, other) × ``design_load_fraction``; a network
rack its installed switches (its ``switches`` property, else the type's count)
× switch kW + other kW; a cooling unit its own ``kw``. Units of the chain are
not consumers: their losses (``efficiency`` < 1) are added to what they draw
from upstream.

Chain: a consumer's feeds A and B name power units (busway, RPP, PDU, or any
unit); ``PowerPlan.upstream`` names each unit's upstream units. A unit with
several upstream units shares its draw among them in proportion to their
capacity. Batteries buffer swings and ride-through; they never carry the
continuous load, so they are left out of the sharing (and a unit fed only by
batteries is the top of its chain).

Scenarios: *normal* (a consumer with two feeds draws half from each), and,
when ``feeds_2n`` is set, *feed A lost* and *feed B lost* (every consumer draws
all its load from the other feed). A unit's worst load is the largest of these;
it must be ≤ capacity × ``continuous_derating``. Sources (grid feeds,
turbines, generators): without the ``spare_sources`` largest, the rest carry
the facility load within the derating. Batteries: power ≥ ``training_swing`` ×
IT load, energy ≥ ``ride_through_s`` × IT load. Whips: a consumer farther than
``whip_length_m`` from the busway, RPP or PDU feeding it (distance from its
centre to the unit's footprint) is flagged; feeders from medium-voltage gear
to outdoor plant are cables, not whips, and are not checked.

A project without any power unit and without feeds has no power plan yet: the
rules report nothing and the summary says ``power_planned: false``.

Everything that does not depend on positions is computed once per structure
(``CheckContext.memo``) with numpy over consumers (``np.bincount``) and a
sparse share matrix over units; only the whip distances depend on positions,
and a re-check recomputes them for moved consumers and units only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.sparse import csr_matrix

from layout.catalog import CoolingUnitType, GpuRackType, NetworkRackType, StorageRackType
from layout.facility import design_load_kw
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
from physics.fabric import switches_property
from physics.whatif import OverloadedPowerUnit, PowerLoss, effect

SOURCE_ROLES = frozenset({"grid_feed", "turbine", "generator"})
WHIP_ROLES = frozenset({"busway", "rpp", "pdu"})
IT_KINDS = ("gpu_rack", "network_rack", "storage_rack")
SCENARIOS = ("normal", "feed A lost", "feed B lost")
TOP_UNITS = 5
"""Units listed in the summary, worst utilisation first."""


# -- loads --------------------------------------------------------------------------------
def consumer_loads(project: Project) -> np.ndarray:
    """Design electrical load (kW) of every item, by row; 0 for power units and others."""
    catalog, items = project.catalog, project.items
    fraction = project.rules["design_load_fraction"]
    per_type: dict[str, float] = {}
    for type_id in set(items.type_ids):
        t = catalog[type_id]
        if isinstance(t, GpuRackType):
            per_type[type_id] = design_load_kw(t, catalog) * fraction
        elif isinstance(t, (NetworkRackType, CoolingUnitType, StorageRackType)):
            per_type[type_id] = design_load_kw(t, catalog)
        else:
            per_type[type_id] = 0.0
    loads = np.fromiter((per_type[t] for t in items.type_ids), float, len(items))
    for row in network_rack_rows(project):
        t = catalog[items.type_ids[row]]
        installed = switches_property(items.properties_at(row))
        if installed is not None:
            switch = catalog[t.switch]
            loads[row] = installed * (switch.max_kw or switch.kw) + t.other_kw
    return loads


def network_rack_rows(project: Project) -> np.ndarray:
    kinds = {t: project.catalog[t].kind for t in set(project.items.type_ids)}
    return np.flatnonzero([kinds[t] == "network_rack" for t in project.items.type_ids])


# -- the model (structure only) ------------------------------------------------------------
@dataclass
class PowerModel:
    """The power plan as arrays: consumers, units, feeds and upstream links."""

    planned: bool
    consumer_rows: np.ndarray
    """Item rows of consumers (items with a load > 0)."""
    load_kw: np.ndarray
    it: np.ndarray
    """Per consumer: whether it is IT load (GPU or network rack)."""
    feed_a: np.ndarray
    """Per consumer: index into the units of feed A (-1: none)."""
    feed_b: np.ndarray
    unit_rows: np.ndarray
    unit_ids: list[str]
    roles: np.ndarray
    capacity_kw: np.ndarray
    efficiency: np.ndarray
    energy_kwh: np.ndarray
    up_from: np.ndarray
    """Upstream links: unit index ``up_from[k]`` draws from unit index ``up_to[k]``."""
    up_to: np.ndarray
    problems: list[tuple[str, str, tuple[str, ...], int, str]] = field(default_factory=list)
    """Plan defects found while reading it: (rule, message, items, item row, severity)."""

    @property
    def sources(self) -> np.ndarray:
        return np.flatnonzero(np.isin(self.roles, list(SOURCE_ROLES)))

    @property
    def batteries(self) -> np.ndarray:
        return np.flatnonzero(self.roles == "battery")

    @property
    def it_kw(self) -> float:
        return float(self.load_kw[self.it].sum())


def build_model(project: Project) -> PowerModel:
    """Read the project's power plan into arrays (see :class:`PowerModel`)."""
    items, catalog = project.items, project.catalog
    n = len(items)
    loads = consumer_loads(project)
    kinds = project.kinds()
    consumer_rows = np.flatnonzero(loads > 0)
    unit_rows = np.flatnonzero(kinds == "power")
    unit_of_row = np.full(n, -1, dtype=np.intp)
    unit_of_row[unit_rows] = np.arange(len(unit_rows))
    types = [catalog[items.type_ids[r]] for r in unit_rows.tolist()]
    ids = items.ids
    row_of = {item_id: r for r, item_id in enumerate(ids)}
    problems: list[tuple[str, str, tuple[str, ...], int, str]] = []
    plan = project.power

    def unit_index(owner: str, owner_row: int, ref: str | None, what: str, rule_id: str) -> int:
        if ref is None:
            return -1
        row = row_of.get(ref)
        if row is None:
            problems.append((rule_id, f"{owner} {what}: no item {ref!r} in the project",
                             (owner,), owner_row, "error"))  # fmt: skip
            return -1
        if unit_of_row[row] < 0:
            problems.append((rule_id, f"{owner} {what}: {ref} is not a power unit",
                             (owner, ref), owner_row, "error"))  # fmt: skip
            return -1
        return int(unit_of_row[row])

    consumer_of_row = np.full(n, -1, dtype=np.intp)
    consumer_of_row[consumer_rows] = np.arange(len(consumer_rows))
    feed_a = np.full(len(consumer_rows), -1, dtype=np.intp)
    feed_b = np.full(len(consumer_rows), -1, dtype=np.intp)
    for consumer, feed in plan.feeds.items():
        row = row_of.get(consumer)
        if row is None or consumer_of_row[row] < 0:
            continue  # feeds of removed items or of items that draw nothing
        k = consumer_of_row[row]
        feed_a[k] = unit_index(consumer, row, feed.a, "feed A", "power.feeds")
        feed_b[k] = unit_index(consumer, row, feed.b, "feed B", "power.feeds")
    up_from: list[int] = []
    up_to: list[int] = []
    for unit, upstream in plan.upstream.items():
        row = row_of.get(unit)
        if row is None:
            continue
        if unit_of_row[row] < 0:
            problems.append(("power.chain", f"{unit} has upstream units but is not a power unit",
                             (unit,), row, "error"))  # fmt: skip
            continue
        for ref in dict.fromkeys(upstream):
            k = unit_index(unit, row, ref, "upstream", "power.chain")
            if k >= 0:
                up_from.append(int(unit_of_row[row]))
                up_to.append(k)
    it = np.isin(kinds[consumer_rows], IT_KINDS) if len(consumer_rows) else np.zeros(0, bool)
    return PowerModel(
        planned=bool(len(unit_rows)) or bool(plan.feeds),
        consumer_rows=consumer_rows,
        load_kw=loads[consumer_rows],
        it=np.asarray(it, dtype=bool),
        feed_a=feed_a,
        feed_b=feed_b,
        unit_rows=unit_rows,
        unit_ids=[ids[r] for r in unit_rows.tolist()],
        roles=np.array([t.role for t in types], dtype=object),
        capacity_kw=np.array([t.capacity_kw for t in types], dtype=float),
        efficiency=np.array([t.efficiency for t in types], dtype=float),
        energy_kwh=np.array([t.energy_kwh or 0.0 for t in types], dtype=float),
        up_from=np.asarray(up_from, dtype=np.intp),
        up_to=np.asarray(up_to, dtype=np.intp),
        problems=problems,
    )


def _on_live(side: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Per consumer: its feed on this side names a live unit."""
    if len(live) == 0:
        return np.zeros(len(side), dtype=bool)
    return (side >= 0) & live[np.maximum(side, 0)]


# -- flows -----------------------------------------------------------------------------------
def scenario_bases(model: PowerModel, powered: np.ndarray | None = None) -> list[np.ndarray]:
    """Direct load on each unit in the normal, feed-A-lost and feed-B-lost scenarios.

    ``powered`` (per unit, optional) marks units that still have power: a consumer
    draws only from live feeds (what-if).
    """
    units = len(model.unit_rows)
    a, b, load = model.feed_a, model.feed_b, model.load_kw
    if powered is not None:
        a = np.where(_on_live(a, powered), a, -1)
        b = np.where(_on_live(b, powered), b, -1)
    both = (a >= 0) & (b >= 0) & (a != b)
    only_a = (a >= 0) & ~both
    only_b = (b >= 0) & ~both & (a < 0)

    def on(index: np.ndarray, weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(index[mask], weights=weights[mask], minlength=units).astype(float)

    normal = on(a, load / 2, both) + on(b, load / 2, both) + on(a, load, only_a)
    normal += on(b, load, only_b)
    # Feed A lost: everything that has a B feed draws from it, the rest stays on A.
    a_lost = on(b, load, b >= 0) + on(a, load, (b < 0) & (a >= 0))
    b_lost = on(a, load, a >= 0) + on(b, load, (a < 0) & (b >= 0))
    return [normal, a_lost, b_lost]


def share_matrix(model: PowerModel, alive: np.ndarray | None = None) -> csr_matrix:
    """``M[up, u]``: the share of unit u's draw that its upstream unit ``up`` supplies."""
    units = len(model.unit_rows)
    frm, to = model.up_from, model.up_to
    usable = model.roles[to] != "battery"
    if alive is not None:
        usable &= alive[to]
    weight = model.capacity_kw[to] * usable
    total = np.bincount(frm, weights=weight, minlength=units)
    share = np.divide(weight, total[frm], out=np.zeros(len(frm)), where=total[frm] > 0)
    return csr_matrix((share, (to, frm)), shape=(units, units))


def through(model: PowerModel, base: np.ndarray, shares: csr_matrix) -> tuple[np.ndarray, bool]:
    """Load carried by every unit (its direct load plus its downstream units' draws).

    Returns the loads and whether they settled (False: the upstream links loop).
    """
    draw = 1.0 / model.efficiency
    x = base.copy()
    for _ in range(len(base) + 2):
        nxt = base + shares @ (x * draw)
        if np.array_equal(nxt, x):
            return x, True
        x = nxt
    return x, False


@dataclass
class PowerLoads:
    """Per power unit (in item order): loads, capacity and utilisation.

    ``worst_kw`` is the largest load over the scenarios (normal and, with 2N
    feeds, either feed lost; ``worst_case`` names it); ``utilisation`` is
    ``worst_kw / capacity_kw`` and ``limit`` the continuous derating it must stay
    within. Batteries carry no continuous load (0 here).
    """

    ids: list[str]
    roles: np.ndarray
    load_kw: np.ndarray
    worst_kw: np.ndarray
    worst_case: list[str]
    capacity_kw: np.ndarray
    limit: float
    settled: bool
    it_kw: float
    facility_kw: float
    losses_kw: float
    cooling_kw: float

    @property
    def limit_kw(self) -> np.ndarray:
        return self.capacity_kw * self.limit

    @property
    def utilisation(self) -> np.ndarray:
        return utilisation(self.worst_kw, self.capacity_kw)

    def table(self, top: int | None = None) -> list[dict[str, Any]]:
        """Every unit (or the ``top`` worst) as a row, worst utilisation first, for reports."""
        u = self.utilisation
        return [
            {
                "unit": self.ids[k],
                "role": str(self.roles[k]),
                "load_kw": round(float(self.load_kw[k]), 1),
                "worst_kw": round(float(self.worst_kw[k]), 1),
                "worst_case": self.worst_case[k],
                "capacity_kw": round(float(self.capacity_kw[k]), 1),
                "limit_kw": round(float(self.capacity_kw[k] * self.limit), 1),
                "utilisation": round(float(u[k]), 4),
            }
            for k in worst_first(u, top)
        ]


def compute_loads(project: Project, model: PowerModel) -> PowerLoads:
    rules = project.rules
    shares = share_matrix(model)
    bases = scenario_bases(model)
    if rules["feeds_2n"] < 0.5:
        bases = bases[:1]
    flows = []
    settled = True
    for base in bases:
        x, ok = through(model, base, shares)
        flows.append(x)
        settled &= ok
    stacked = np.vstack(flows)
    battery = model.roles == "battery"
    stacked[:, battery] = 0.0
    worst_case = np.argmax(stacked, axis=0)
    normal = stacked[0]
    losses = float((normal * (1.0 / model.efficiency - 1.0)).sum())
    consumers = float(model.load_kw.sum())
    return PowerLoads(
        ids=model.unit_ids,
        roles=model.roles,
        load_kw=normal,
        worst_kw=stacked.max(axis=0) if len(normal) else normal,
        worst_case=[SCENARIOS[k] for k in worst_case],
        capacity_kw=np.where(battery, 0.0, model.capacity_kw),
        limit=rules["continuous_derating"],
        settled=settled,
        it_kw=model.it_kw,
        facility_kw=consumers + losses,
        losses_kw=losses,
        cooling_kw=float(model.load_kw[~model.it].sum()),
    )


def _model(context: CheckContext) -> PowerModel:
    return context.memo("power.model", lambda: build_model(context.project))


def _loads(context: CheckContext) -> PowerLoads:
    return context.memo("power.loads", lambda: compute_loads(context.project, _model(context)))


def loads_of(context: CheckContext) -> PowerLoads:
    """Per-unit loads of the context's project, as the check computed them (a checker keeps
    them while the structure holds: loads depend on no position)."""
    return _loads(context)


def power_model(project: Project) -> PowerModel:
    """The project's power plan as arrays (see :class:`PowerModel`)."""
    return build_model(project)


def power_loads(project: Project) -> PowerLoads:
    """Per-unit load, capacity and utilisation (see :class:`PowerLoads`)."""
    return compute_loads(project, build_model(project))


# -- rules -------------------------------------------------------------------------------------
def _problems(context: CheckContext, rule_id: str) -> list[tuple[str, tuple[str, ...], int, str]]:
    return [(m, i, r, s) for rid, m, i, r, s in _model(context).problems if rid == rule_id]


@rule("power.feeds", "error", "Every consumer has its feeds (A and B with 2N) to power units.")
def feeds(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = _model(context)
    if not model.planned:
        return

    def compute() -> list[tuple[str, tuple[str, ...], int, str]]:
        found = _problems(context, rule.id)
        ids = context.project.items.ids
        two_n = context.project.rules["feeds_2n"] >= 0.5
        a, b = model.feed_a, model.feed_b
        bad = (a < 0) & (b < 0)
        if two_n:
            bad |= (a < 0) | (b < 0) | (a == b)
        for k in np.flatnonzero(bad):
            row = int(model.consumer_rows[k])
            load = model.load_kw[k]
            if a[k] < 0 and b[k] < 0:
                what = "has no power feed"
            elif a[k] == b[k]:
                what = f"has feeds A and B on the same unit {model.unit_ids[a[k]]} (2N needs two)"
            else:
                has = "A" if a[k] >= 0 else "B"
                what = f"has only feed {has} (2N needs A and B)"
            found.append((f"{ids[row]} ({load:,.1f} kW) {what}", (ids[row],), row, "error"))
        return found

    yield from emit(context, rule, context.memo(rule.id, compute))


@rule("power.chain", "error", "Every power unit's upstream links name power units, without loops.")
def chain(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = _model(context)
    if not model.planned:
        return

    def compute() -> list[tuple[str, tuple[str, ...], int, str]]:
        found = _problems(context, rule.id)
        loads = _loads(context)
        if not loads.settled:
            found.append(("the upstream links of the power units form a loop", (), -1, "error"))
        has_up = np.zeros(len(model.unit_rows), bool)
        usable = model.roles[model.up_to] != "battery"
        has_up[model.up_from[usable]] = True
        roots = ~has_up & ~np.isin(model.roles, [*SOURCE_ROLES, "battery"]) & (loads.load_kw > 0)
        for k in np.flatnonzero(roots):
            row = int(model.unit_rows[k])
            found.append((
                f"{model.unit_ids[k]} ({model.roles[k]}) carries {loads.load_kw[k]:,.1f} kW "
                "but has no upstream unit: its load is not traced to a source",
                (model.unit_ids[k],), row, "warning",
            ))  # fmt: skip
        return found

    yield from emit(context, rule, context.memo(rule.id, compute))


@rule(
    "power.capacity",
    "error",
    "Each power unit's worst load (either feed lost with 2N) ≤ capacity × continuous derating.",
)
def capacity(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = _model(context)
    if not model.planned:
        return

    def compute() -> list[tuple[str, tuple[str, ...], int, str]]:
        loads = _loads(context)
        limit = loads.limit_kw
        over = np.flatnonzero((loads.worst_kw > limit + 1e-9) & (model.roles != "battery"))
        found: list[tuple[str, tuple[str, ...], int, str]] = []
        for k in over:
            case = loads.worst_case[k]
            when = "" if case == "normal" else f" with {case}"
            found.append((
                f"{model.unit_ids[k]} ({model.roles[k]}) carries {loads.worst_kw[k]:,.1f} kW"
                f"{when}: {loads.utilisation[k]:.0%} of its {loads.capacity_kw[k]:,.1f} kW "
                f"rating, above the {loads.limit:.0%} continuous limit ({limit[k]:,.1f} kW)",
                (model.unit_ids[k],), int(model.unit_rows[k]), "error",
            ))  # fmt: skip
        return found

    yield from emit(context, rule, context.memo(rule.id, compute))


def source_check(
    model: PowerModel, loads: PowerLoads, spare: int, derating: float
) -> dict[str, Any]:
    """N+spare sources: the facility load against the sources left without the largest."""
    sources = model.sources
    caps = np.sort(model.capacity_kw[sources])[::-1]
    remaining = float(caps[spare:].sum()) * derating
    demand = float(loads.load_kw[sources].sum()) if len(sources) else 0.0
    return {
        "sources": len(sources),
        "capacity_kw": float(caps.sum()),
        "spare": spare,
        "without_spares_kw": remaining,
        "load_kw": demand,
    }


@rule(
    "power.sources", "error", "Without the largest spare_sources sources the rest carry the load."
)
def sources(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = _model(context)
    if not model.planned:
        return

    def compute() -> list[tuple[str, tuple[str, ...], int, str]]:
        rules = context.project.rules
        loads = _loads(context)
        spare = round(rules["spare_sources"])
        derating = rules["continuous_derating"]
        s = source_check(model, loads, spare, derating)
        ids = tuple(model.unit_ids[k] for k in model.sources)
        if not s["sources"]:
            if not len(model.batteries) and not np.isin(model.roles, ["transformer", "switchgear",
                                                                      "ups"]).any():  # fmt: skip
                return []  # a plan of the white space only: no site plant to check yet
            return [(f"no source (grid feed, turbine or generator) carries the facility's "
                     f"{loads.facility_kw:,.0f} kW", (), -1, "error")]  # fmt: skip
        if s["load_kw"] > s["without_spares_kw"] + 1e-6:
            lost = "" if spare == 0 else f" with the largest {spare} lost"
            return [(
                f"sources{lost} give {s['without_spares_kw']:,.0f} kW "
                f"({s['sources'] - spare} of {s['sources']} at {derating:.0%}), "
                f"short of the {s['load_kw']:,.0f} kW they carry (N+{spare})",
                ids, int(model.unit_rows[model.sources[0]]), "error",
            )]  # fmt: skip
        return []

    yield from emit(context, rule, context.memo(rule.id, compute))


def battery_figures(model: PowerModel, rules: Mapping[str, float]) -> dict[str, float]:
    it_kw = model.it_kw
    batteries = model.batteries
    return {
        "batteries": len(batteries),
        "power_kw": float(model.capacity_kw[batteries].sum()),
        "energy_kwh": float(model.energy_kwh[batteries].sum()),
        "swing_kw": rules["training_swing"] * it_kw,
        "ride_through_kwh": rules["ride_through_s"] * it_kw / 3600.0,
    }


@rule(
    "power.battery",
    "error",
    "Batteries give training_swing × IT load of power and ride_through_s × IT load of energy.",
)
def battery(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = _model(context)
    if not model.planned or not (len(model.batteries) or len(model.sources)):
        return

    def compute() -> list[tuple[str, tuple[str, ...], int, str]]:
        rules = context.project.rules
        f = battery_figures(model, rules)
        ids = tuple(model.unit_ids[k] for k in model.batteries)
        row = int(model.unit_rows[model.batteries[0]]) if ids else -1
        found = []
        if f["power_kw"] + 1e-6 < f["swing_kw"]:
            found.append((
                f"batteries give {f['power_kw']:,.0f} kW, short of the training swing "
                f"{f['swing_kw']:,.0f} kW ({rules['training_swing']:.0%} of "
                f"{model.it_kw:,.0f} kW IT)", ids, row, "error",
            ))  # fmt: skip
        if f["energy_kwh"] + 1e-6 < f["ride_through_kwh"]:
            found.append((
                f"batteries hold {f['energy_kwh']:,.0f} kWh, short of "
                f"{f['ride_through_kwh']:,.0f} kWh ({rules['ride_through_s']:g} s of "
                f"{model.it_kw:,.0f} kW IT)", ids, row, "error",
            ))  # fmt: skip
        return found

    yield from emit(context, rule, context.memo(rule.id, compute))


def _whip_pairs(context: CheckContext) -> tuple[np.ndarray, np.ndarray]:
    """(consumer row, unit row) of every feed from a busway, RPP or PDU, each pair once."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        model = _model(context)
        whip = np.isin(model.roles, list(WHIP_ROLES))
        c, u = [], []
        for side in (model.feed_a, model.feed_b):
            ok = _on_live(side, whip)
            c.append(model.consumer_rows[ok])
            u.append(model.unit_rows[side[ok]])
        pairs = np.unique(np.column_stack([np.concatenate(c), np.concatenate(u)]), axis=0)
        return pairs[:, 0].astype(np.intp), pairs[:, 1].astype(np.intp)

    return context.memo("power.whip_pairs", compute)


@rule(
    "power.whip", "warning", "A consumer is within whip_length_m of the busway/RPP/PDU feeding it."
)
def whip(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    if not _model(context).planned:
        return
    consumers, units = _whip_pairs(context)
    carried = context.carried(rule.id)
    if carried is not None:
        yield from carried
        moved = context.rows_to_recheck
        redo = np.isin(consumers, moved) | np.isin(units, moved)
        consumers, units = consumers[redo], units[redo]
    if len(consumers) == 0:
        return
    items = context.project.items
    limit = context.project.rules["whip_length_m"]
    points = shapely.points(items.x[consumers], items.y[consumers])
    distance = shapely.distance(points, context.footprints[units])
    ids = items.ids
    for k in np.flatnonzero(distance > limit):
        c, u = consumers[k], units[k]
        yield rule.violation(
            f"{ids[c]} is {distance[k]:.1f} m from {ids[u]}, which feeds it "
            f"(whip length rule {limit:g} m)",
            (ids[c], ids[u]),
            position_of(context, c),
        )


# -- summary --------------------------------------------------------------------------------
@metric("power")
def power_metrics(context: CheckContext) -> Mapping[str, Any]:
    return context.memo("power.metrics", lambda: _power_metrics(context))


def _power_metrics(context: CheckContext) -> dict[str, Any]:
    model = _model(context)
    rules = context.project.rules
    loads = _loads(context)
    out: dict[str, Any] = {
        "power_planned": model.planned,
        # Design load of the GPU and network racks, with installed switches.
        "it_kw": round(loads.it_kw, 1),
        "facility_kw": round(loads.facility_kw, 1),
        "cooling_kw": round(loads.cooling_kw, 1),
        "power_losses_kw": round(loads.losses_kw, 1),
        "pue": round(loads.facility_kw / loads.it_kw, 3) if loads.it_kw > 0 else None,
    }
    if model.planned:
        out["power_units_worst"] = loads.table(TOP_UNITS)
        out["battery"] = {k: round(v, 1) for k, v in battery_figures(model, rules).items()}
        s = source_check(model, loads, round(rules["spare_sources"]), rules["continuous_derating"])
        out["sources"] = {k: round(v, 1) if isinstance(v, float) else v for k, v in s.items()}
    return out


# -- what-if ---------------------------------------------------------------------------------
def live_units(model: PowerModel, failed: np.ndarray) -> np.ndarray:
    """Per unit: still powered when the units marked in ``failed`` fail.

    A unit is live when it has not failed and it has no upstream unit (it is the
    top of its chain) or at least one live upstream unit other than a battery.
    """
    units = len(model.unit_rows)
    usable = model.roles[model.up_to] != "battery"
    frm, to = model.up_from[usable], model.up_to[usable]
    has_up = np.bincount(frm, minlength=units) > 0
    live = ~failed
    for _ in range(units + 1):
        fed = np.bincount(frm, weights=live[to].astype(float), minlength=units) > 0
        nxt = ~failed & (~has_up | fed)
        if np.array_equal(nxt, live):
            break
        live = nxt
    return live


def what_if(project: Project, failed: Iterable[str]) -> PowerLoss:
    """What loses power when the given units or consumers fail, and what gets overloaded.

    Consumers on a dead feed draw all their load from the other one: units whose
    new load passes capacity × derating (and is higher than before) are reported as
    ``overloaded``.
    """
    model = build_model(project)
    failed = set(failed)
    dead_unit = np.array([u in failed for u in model.unit_ids], dtype=bool)
    live = live_units(model, dead_unit)
    a, b = model.feed_a, model.feed_b
    a_ok, b_ok = _on_live(a, live), _on_live(b, live)
    ids = project.items.ids
    consumer_ids = [ids[r] for r in model.consumer_rows]
    failed_consumer = np.array([i in failed for i in consumer_ids], dtype=bool)
    had_feed = (a >= 0) | (b >= 0)
    lost = had_feed & ~a_ok & ~b_ok & ~failed_consumer
    lost_or_failed = lost | failed_consumer
    rows = model.consumer_rows
    catalog = project.catalog
    gpus_per_type = {t: getattr(catalog[t], "gpus", 0) for t in set(project.items.type_ids)}
    gpus = np.array([gpus_per_type[project.items.type_ids[r]] for r in rows], dtype=np.int64)
    # Loads after the failure: consumers on one live feed draw everything from it.
    shares = share_matrix(model, live)
    kept = model.load_kw * ~lost_or_failed
    still = PowerModel(**{**vars(model), "load_kw": kept})
    base = scenario_bases(still, powered=live)[0]
    after, _ = through(still, base, shares)
    before = compute_loads(project, model).load_kw
    limit = model.capacity_kw * project.rules["continuous_derating"]
    pushed = (after > limit + 1e-9) & (after > before + 1e-9)
    over = np.flatnonzero(live & pushed & (model.roles != "battery"))
    dead_units = np.flatnonzero(~live & ~dead_unit)
    return PowerLoss(
        units_unpowered=tuple(model.unit_ids[k] for k in dead_units),
        consumers_unpowered=tuple(consumer_ids[k] for k in np.flatnonzero(lost)),
        gpus_unpowered=int(gpus[lost_or_failed].sum()),
        it_kw_lost=round(float(model.load_kw[lost_or_failed & model.it].sum()), 1),
        kw_lost=round(float(model.load_kw[lost_or_failed].sum()), 1),
        on_one_feed=int((a_ok ^ b_ok)[~lost_or_failed & (a >= 0) & (b >= 0)].sum()),
        overloaded=tuple(
            OverloadedPowerUnit(
                unit=model.unit_ids[k],
                load_kw=round(float(after[k]), 1),
                before_kw=round(float(before[k]), 1),
                limit_kw=round(float(limit[k]), 1),
                utilisation=round(float(after[k] / model.capacity_kw[k]), 4),
            )
            for k in over
        ),
    )


def unpowered_rows(project: Project, failed: Iterable[str]) -> np.ndarray:
    """Item rows of consumers that lose their last feed when ``failed`` fail."""
    model = build_model(project)
    failed = set(failed)
    live = live_units(model, np.array([u in failed for u in model.unit_ids], dtype=bool))
    a, b = model.feed_a, model.feed_b
    a_ok, b_ok = _on_live(a, live), _on_live(b, live)
    return model.consumer_rows[((a >= 0) | (b >= 0)) & ~a_ok & ~b_ok]


@effect("power")
def _power_effect(project: Project, failed: list[str]) -> PowerLoss | None:
    model = build_model(project)
    if not model.planned:
        return None
    mine = set(model.unit_ids) | {project.items.ids[r] for r in model.consumer_rows}
    if not mine.intersection(failed):
        return None
    return what_if(project, failed)


__all__ = [
    "PowerLoads",
    "PowerModel",
    "battery_figures",
    "consumer_loads",
    "loads_of",
    "power_loads",
    "power_model",
    "unpowered_rows",
    "what_if",
]
