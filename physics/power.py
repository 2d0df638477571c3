"""Power: consumer loads, the distribution chain in its topology, a rule per unit type.

Owns the rules ``power.feeds``, ``power.chain``, ``power.topology``,
``power.capacity``, ``power.transformer``, ``power.ups``, ``power.utility``,
``power.generation``, ``power.sources``, ``power.battery`` and ``power.whip``,
the ``power`` summary figures, :func:`power_loads` for the GUI and reports, and
the ``power`` what-if.

Loads (kW, from the catalog; see :mod:`layout.facility`): a GPU rack draws its
nameplate (servers, in-rack CDU, other) × ``design_load_fraction``; a network
rack its installed switches (its ``switches`` property, else the type's count)
× switch kW + other kW; a cooling unit its own ``kw``. Units of the chain are
not consumers: their losses (``efficiency`` < 1) are added to what they draw
from upstream.

Chain: a consumer's feeds A and B name power units (busway, RPP, PDU, or any
unit); ``PowerPlan.upstream`` names each unit's upstream units and
``PowerPlan.standby`` the units it transfers to when all of those are lost
(a block-redundant catcher). A unit with several live upstream units shares
its draw among them in proportion to their rating (a utility service's
contracted capacity, a turbine's site rating). Batteries buffer swings and
ride-through; they never carry the continuous load, so they are left out of
the sharing (and a unit fed only by batteries is the top of its chain).

Scenarios, from the drawn chain and the project's topology
(``PowerPlan.topology``): *normal* (a consumer with two feeds draws half from
each); with 2N (and ``feeds_2n``) *feed A lost* and *feed B lost* (every
consumer draws all its load from the other feed); with distributed or block
redundancy, *block X lost* for every block: the units whose ``block``
property is X fail (or, where no unit has one, each lineup of distribution
units joined by upstream links), what they fed transfers to its standby or
loses power, and consumers draw from the feeds left. N+1 has one path: normal
only. A unit's worst load is the largest over its topology's scenarios, and
each unit is judged by the rule of its type, which names its standard:

- continuous-load gear (busway, RPP, PDU, switchgear): ≤ rating ×
  ``continuous_derating`` (NEC 210.19(A)/215.2(A)), or the full rating when the
  catalog lists it as ``rated_100_percent`` (``power.capacity``);
- transformers: load kW / ``load_power_factor`` ≤ kVA rating (IEEE C57.91,
  IEC 60076-7; ``power.transformer``);
- UPS: ≤ kW rating (IEC 62040-3; ``power.ups``);
- utility services (grid feeds): ≤ the contracted capacity, an item's
  ``contracted_kw`` (at most the type's rating), with no 80 % rule and no
  spare feeds (``power.utility``);
- turbines and generators: ≤ site rating = rating × ``site_derating``
  (ISO 3977-2, ISO 8528-1; ``power.generation``); and for each group of sources
  that share their load, without its ``spare_sources`` largest turbines the rest
  with the utility's contracted capacity carry the group's worst load
  (``power.sources``);
- batteries: for each group attached to the same units, power ≥
  ``training_swing`` × the IT load they back in the worst case and energy ≥
  ``ride_through_s`` × that load (``power.battery``).

``power.topology`` checks the drawn chain holds its topology: with 2N no unit
lies upstream of both sides' feeds, and in every scenario every consumer
keeps a live feed. Whips: a consumer farther than ``whip_length_m`` from the
busway, RPP or PDU feeding it (distance from its centre to the unit's
footprint) is flagged; feeders from medium-voltage gear to outdoor plant are
cables, not whips, and are not checked.

A project without any power unit and without feeds has no power plan yet: the
rules report nothing and the summary says ``power_planned: false``.

Everything that does not depend on positions is computed once per structure
(``CheckContext.memo``) with numpy over consumers (``np.bincount``) and a
sparse share matrix over units, for every scenario at once where it can; only
the whip distances depend on positions, and a re-check recomputes them for
moved consumers and units only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

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
GENERATION_ROLES = frozenset({"turbine", "generator"})
WHIP_ROLES = frozenset({"busway", "rpp", "pdu"})
IT_KINDS = ("gpu_rack", "network_rack", "storage_rack")
SCENARIOS = ("normal", "feed A lost", "feed B lost")
"""The scenarios of a 2N chain; distributed and block redundant chains add one per block."""
TOP_UNITS = 5
"""Units listed in the summary, worst utilisation first."""
LISTED = 6
"""Item ids a message lists before it says how many more there are."""

RULE_OF_ROLE: Mapping[str, str] = {
    "grid_feed": "power.utility",
    "turbine": "power.generation",
    "generator": "power.generation",
    "transformer": "power.transformer",
    "ups": "power.ups",
    "battery": "power.battery",
}
"""The rule that judges a unit's load, by role; any other role is continuous-load gear
(``power.capacity``)."""

STANDARD_OF_RULE: Mapping[str, str] = {
    "power.capacity": "NEC 210.19(A)/215.2(A) continuous load",
    "power.transformer": "IEEE C57.91 / IEC 60076-7 loading",
    "power.ups": "IEC 62040-3 rating",
    "power.utility": "contracted capacity of the utility service",
    "power.generation": "ISO 3977-2 / ISO 8528-1 site rating",
}


def listed(ids: Iterable[str]) -> str:
    """``A, B, C`` or ``A, B, C, … (12 in all)`` for a message."""
    ids = list(ids)
    shown = ", ".join(ids[:LISTED])
    return shown if len(ids) <= LISTED else f"{shown}, … ({len(ids):,} in all)"


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
Problem = tuple[str, str, tuple[str, ...], int, str]
"""A plan defect found while reading it: (rule, message, items, item row, severity)."""


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
    """The type's rating in kW (for a transformer, its kW at the type's power factor)."""
    efficiency: np.ndarray
    energy_kwh: np.ndarray
    up_from: np.ndarray
    """Upstream links: unit index ``up_from[k]`` draws from unit index ``up_to[k]``."""
    up_to: np.ndarray
    problems: list[Problem] = field(default_factory=list)
    """Plan defects found while reading it: (rule, message, items, item row, severity)."""
    rating_kw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """What the unit's rule judges it against, in kW: a grid feed's contracted capacity,
    a turbine's site rating, a transformer's kVA × the load's power factor, else the
    type's rating. Draws are shared among upstream units in proportion to it."""
    limit_kw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """The most load the unit's rule allows (0 for batteries: no continuous load)."""
    kva: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Apparent-power rating (transformers; 0 elsewhere)."""
    rated_100: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    standby_from: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    """Standby links: unit ``standby_from[k]`` transfers to ``standby_to[k]`` when all its
    upstream units are lost."""
    standby_to: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    block: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    """Per unit: index into ``block_names`` (-1: in no block)."""
    block_names: list[str] = field(default_factory=list)
    topology: str = "2n"

    @property
    def sources(self) -> np.ndarray:
        return np.flatnonzero(np.isin(self.roles, list(SOURCE_ROLES)))

    @property
    def batteries(self) -> np.ndarray:
        return np.flatnonzero(self.roles == "battery")

    @property
    def it_kw(self) -> float:
        return float(self.load_kw[self.it].sum())

    @property
    def rule_ids(self) -> list[str]:
        """The rule that judges each unit's load."""
        return [RULE_OF_ROLE.get(str(r), "power.capacity") for r in self.roles]


def contracted_kw(value: object, rating_kw: float) -> tuple[float, str | None]:
    """A grid feed's ``contracted_kw`` property as kW, or its rating and what is wrong."""
    if value is None:
        return rating_kw, None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return rating_kw, f"expected a number of kW, got {value!r}"
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        return rating_kw, f"expected a positive number of kW, got {value!r}"
    if number > rating_kw + 1e-9:
        return rating_kw, (
            f"{number:,.0f} kW is above the service's {rating_kw:,.0f} kW rating "
            "(raise the rating with a larger type)"
        )
    return number, None


def allowed_load(t: Any, rules: Mapping[str, float], properties: Mapping[str, Any]
                 ) -> tuple[float, str]:  # fmt: skip
    """The most continuous load a unit of type ``t`` may carry under its own rule, and the
    rule in a few words (for the inspector)."""
    role = t.role
    if role == "grid_feed":
        kw, _ = contracted_kw(properties.get("contracted_kw"), float(t.capacity_kw))
        return kw, "contracted"
    if role in GENERATION_ROLES:
        return t.capacity_kw * rules["site_derating"], "site rating"
    if role == "transformer":
        return t.rating_kva * rules["load_power_factor"], f"{t.rating_kva:,.0f} kVA"
    if role == "ups":
        return float(t.capacity_kw), "kW rating"
    if role == "battery":
        return float(t.capacity_kw), "power rating"
    if t.rated_100_percent:
        return float(t.capacity_kw), "continuous, 100 %-rated"
    return t.capacity_kw * rules["continuous_derating"], "continuous"


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
    problems: list[Problem] = []
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

    def links(table: Mapping[str, list[str]], what: str) -> tuple[np.ndarray, np.ndarray]:
        frm: list[int] = []
        to: list[int] = []
        for unit, upstream in table.items():
            row = row_of.get(unit)
            if row is None:
                continue
            if unit_of_row[row] < 0:
                problems.append(("power.chain", f"{unit} has {what} units but is not a power "
                                 "unit", (unit,), row, "error"))  # fmt: skip
                continue
            for ref in dict.fromkeys(upstream):
                if ref == unit:
                    problems.append(("power.chain", f"{unit} is fed from itself ({what})",
                                     (unit,), row, "error"))  # fmt: skip
                    continue
                k = unit_index(unit, row, ref, what, "power.chain")
                if k >= 0:
                    frm.append(int(unit_of_row[row]))
                    to.append(k)
        return np.asarray(frm, dtype=np.intp), np.asarray(to, dtype=np.intp)

    up_from, up_to = links(plan.upstream, "upstream")
    standby_from, standby_to = links(plan.standby, "standby")

    roles, capacity, kva, rated_100, rating, limit = _ratings(project, unit_rows, types, problems)
    block, block_names = _blocks(project, unit_rows, roles, (up_from, up_to))
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
        roles=roles,
        capacity_kw=capacity,
        efficiency=np.array([t.efficiency for t in types], dtype=float),
        energy_kwh=np.array([t.energy_kwh or 0.0 for t in types], dtype=float),
        up_from=up_from,
        up_to=up_to,
        problems=problems,
        rating_kw=rating,
        limit_kw=limit,
        kva=kva,
        rated_100=rated_100,
        standby_from=standby_from,
        standby_to=standby_to,
        block=block,
        block_names=block_names,
        topology=plan.topology,
    )


def _ratings(
    project: Project, unit_rows: np.ndarray, types: list[Any], problems: list[Problem]
) -> tuple[np.ndarray, ...]:
    """Per unit: role, type rating, kVA, 100 %-rated flag, the rating its rule judges
    (``PowerModel.rating_kw``) and the most load that rule allows (``limit_kw``)."""
    items, rules, ids = project.items, project.rules, project.items.ids
    roles = np.array([t.role for t in types], dtype=object)
    capacity = np.array([t.capacity_kw for t in types], dtype=float)
    kva = np.array([t.rating_kva if t.role == "transformer" else 0.0 for t in types], float)
    rated_100 = np.array([t.rated_100_percent for t in types], dtype=bool)
    rating = capacity.copy()
    rating[roles == "transformer"] = kva[roles == "transformer"] * rules["load_power_factor"]
    generation = np.isin(roles, list(GENERATION_ROLES))
    rating[generation] *= rules["site_derating"]
    for k in np.flatnonzero(roles == "grid_feed"):
        row = int(unit_rows[k])
        value = items.properties_at(row).get("contracted_kw")
        rating[k], wrong = contracted_kw(value, float(capacity[k]))
        if wrong:
            problems.append(("power.utility", f"{ids[row]} contracted_kw: {wrong}",
                             (ids[row],), row, "error"))  # fmt: skip
    continuous = np.array([RULE_OF_ROLE.get(str(r)) is None for r in roles], dtype=bool)
    limit = rating.copy()
    limit[continuous & ~rated_100] *= rules["continuous_derating"]
    limit[roles == "battery"] = 0.0
    return roles, capacity, kva, rated_100, rating, limit


def _blocks(
    project: Project,
    unit_rows: np.ndarray,
    roles: np.ndarray,
    upstream: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, list[str]]:
    """Each unit's block: its ``block`` property; where no unit has one, the lineup of
    distribution units (not sources or batteries) joined by upstream links, named after
    its first unit. Only distributed and block redundant topologies have blocks."""
    units = len(unit_rows)
    block = np.full(units, -1, dtype=np.intp)
    if project.power.topology not in ("distributed_redundant", "block_redundant") or not units:
        return block, []
    items, ids = project.items, project.items.ids
    up_from, up_to = upstream
    labels = [items.properties_at(int(r)).get("block") for r in unit_rows.tolist()]
    if any(label is not None for label in labels):
        names: dict[str, int] = {}
        for k, label in enumerate(labels):
            if label is not None and not isinstance(label, bool):
                block[k] = names.setdefault(str(label), len(names))
        return block, list(names)
    distribution = ~np.isin(roles, [*SOURCE_ROLES, "battery"])
    keep = distribution[up_from] & distribution[up_to]
    graph = coo_matrix(
        (np.ones(int(keep.sum())), (up_from[keep], up_to[keep])), shape=(units, units)
    )
    _, component = connected_components(graph, directed=False)
    names_of: dict[int, int] = {}
    out: list[str] = []
    for unit in np.flatnonzero(distribution).tolist():
        c = int(component[unit])
        if c not in names_of:
            names_of[c] = len(out)
            out.append(f"lineup of {ids[int(unit_rows[unit])]}")
        block[unit] = names_of[c]
    return block, out


def _on_live(side: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Per consumer: its feed on this side names a live unit."""
    if len(live) == 0:
        return np.zeros(len(side), dtype=bool)
    return (side >= 0) & live[np.maximum(side, 0)]


# -- flows -----------------------------------------------------------------------------------
def _consumer_draw(
    model: PowerModel, load: np.ndarray, a: np.ndarray, b: np.ndarray
) -> list[np.ndarray]:
    """Direct load on each unit: normal, feed A lost and feed B lost, for feeds ``a``/``b``."""
    units = len(model.unit_rows)
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


def scenario_bases(model: PowerModel, powered: np.ndarray | None = None) -> list[np.ndarray]:
    """Direct load on each unit in the normal, feed-A-lost and feed-B-lost scenarios.

    ``powered`` (per unit, optional) marks units that still have power: a consumer
    draws only from live feeds (what-if).
    """
    a, b = model.feed_a, model.feed_b
    if powered is not None:
        a = np.where(_on_live(a, powered), a, -1)
        b = np.where(_on_live(b, powered), b, -1)
    return _consumer_draw(model, model.load_kw, a, b)


def share_matrix(model: PowerModel, alive: np.ndarray | None = None) -> csr_matrix:
    """``M[up, u]``: the share of unit u's draw that its upstream unit ``up`` supplies.

    With ``alive`` (per unit), only live units supply, and a unit whose upstream units
    are all dead draws from its live standby units instead.
    """
    units = len(model.unit_rows)
    rating = model.rating_kw if len(model.rating_kw) == units else model.capacity_kw
    frm, to = model.up_from, model.up_to
    usable = model.roles[to] != "battery"
    if alive is not None:
        usable &= alive[to]
    weight = rating[to] * usable
    if alive is not None and len(model.standby_from):
        total = np.bincount(frm, weights=weight, minlength=units)
        s_frm, s_to = model.standby_from, model.standby_to
        cut_off = total[s_frm] <= 0
        s_weight = rating[s_to] * alive[s_to] * cut_off * (model.roles[s_to] != "battery")
        frm = np.concatenate([frm, s_frm])
        to = np.concatenate([to, s_to])
        weight = np.concatenate([weight, s_weight])
    total = np.bincount(frm, weights=weight, minlength=units)
    share = np.divide(weight, total[frm], out=np.zeros(len(frm)), where=total[frm] > 0)
    return coo_matrix((share, (to, frm)), shape=(units, units)).tocsr()


def through(model: PowerModel, base: np.ndarray, shares: csr_matrix) -> tuple[np.ndarray, bool]:
    """Load carried by every unit (its direct load plus its downstream units' draws).

    ``base`` is one load per unit, or a column of them per case (units × cases).
    Returns the loads and whether they settled (False: the upstream links loop).
    """
    draw = 1.0 / model.efficiency
    if base.ndim == 2:
        draw = draw[:, None]
    x = base.copy()
    for _ in range(len(base) + 2):
        nxt = base + shares @ (x * draw)
        if np.array_equal(nxt, x):
            return x, True
        x = nxt
    return x, False


@dataclass
class Scenario:
    """One case the chain must hold: normal, a side's feeds lost, or a block lost."""

    name: str
    side: int = -1
    """Feed side lost at every consumer (0: A, 1: B; -1: none)."""
    failed: np.ndarray | None = None
    """Per unit: failed in this scenario (a block lost)."""


def scenarios(model: PowerModel, feeds_2n: bool) -> list[Scenario]:
    """The scenarios of the model's topology (see the module docstring)."""
    out = [Scenario("normal")]
    if model.topology == "2n" and feeds_2n:
        out += [Scenario(SCENARIOS[1], side=0), Scenario(SCENARIOS[2], side=1)]
    elif model.topology in ("distributed_redundant", "block_redundant"):
        for k, name in enumerate(model.block_names):
            out.append(Scenario(f"block {name} lost", failed=model.block == k))
    return out


@dataclass
class Flows:
    """Loads of every unit in every scenario (scenarios × units), all and IT only."""

    names: list[str]
    total: np.ndarray
    it: np.ndarray
    unpowered: list[np.ndarray]
    """Per scenario: consumers (indices) that had a feed and have no live one."""
    settled: bool


def without_loops(model: PowerModel) -> PowerModel:
    """The model without the links that close a loop (``power.chain`` reports them): what
    a loop's units carry from below is still counted, nothing goes round."""
    members = loops(model)
    if not members:
        return model
    loop = np.full(len(model.unit_rows), -1, dtype=np.intp)
    for k, units in enumerate(members):
        loop[units] = k

    def kept(frm: np.ndarray, to: np.ndarray) -> np.ndarray:
        return (loop[frm] < 0) | (loop[frm] != loop[to])

    up, standby = kept(model.up_from, model.up_to), kept(model.standby_from, model.standby_to)
    return PowerModel(**{
        **vars(model),
        "up_from": model.up_from[up], "up_to": model.up_to[up],
        "standby_from": model.standby_from[standby], "standby_to": model.standby_to[standby],
    })  # fmt: skip


def scenario_flows(model: PowerModel, feeds_2n: bool) -> Flows:
    """Every scenario's loads, all consumers and IT only (see :class:`Flows`)."""
    model = without_loops(model)
    units = len(model.unit_rows)
    normal_shares = share_matrix(model)
    load, it_load = model.load_kw, model.load_kw * model.it
    a, b = model.feed_a, model.feed_b
    had = (a >= 0) | (b >= 0)
    total_rows, it_rows, unpowered, names = [], [], [], []
    settled = True
    for case in scenarios(model, feeds_2n):
        if case.failed is None:
            pick = 0 if case.side < 0 else 1 + case.side
            base = np.column_stack([_consumer_draw(model, load, a, b)[pick],
                                    _consumer_draw(model, it_load, a, b)[pick]])  # fmt: skip
            shares = normal_shares
            lost = np.zeros(len(a), dtype=bool)
            if case.side == 0:
                lost = had & (b < 0)
            elif case.side == 1:
                lost = had & (a < 0)
        else:
            live = live_units(model, case.failed)
            la = np.where(_on_live(a, live), a, -1)
            lb = np.where(_on_live(b, live), b, -1)
            base = np.column_stack([_consumer_draw(model, load, la, lb)[0],
                                    _consumer_draw(model, it_load, la, lb)[0]])  # fmt: skip
            shares = share_matrix(model, live)
            lost = had & (la < 0) & (lb < 0)
        x, ok = through(model, base, shares) if units else (base, True)
        settled &= ok
        total_rows.append(x[:, 0])
        it_rows.append(x[:, 1])
        unpowered.append(np.flatnonzero(lost))
        names.append(case.name)
    return Flows(
        names=names,
        total=np.vstack(total_rows) if units else np.zeros((len(names), 0)),
        it=np.vstack(it_rows) if units else np.zeros((len(names), 0)),
        unpowered=unpowered,
        settled=settled,
    )


@dataclass
class PowerLoads:
    """Per power unit (in item order): loads, capacity and utilisation.

    ``worst_kw`` is the largest load over the topology's scenarios (``worst_case``
    names it); ``utilisation`` is ``worst_kw / capacity_kw``; ``limit_kw`` is what
    the unit's own rule allows (``rule``) and ``limit`` the continuous derating of
    breakers and busways. Batteries carry no continuous load (0 here).
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
    limit_kw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rule: list[str] = field(default_factory=list)
    flows: Flows | None = None

    @property
    def utilisation(self) -> np.ndarray:
        return utilisation(self.worst_kw, self.capacity_kw)

    @property
    def limit_fraction(self) -> np.ndarray:
        """Per unit: the share of its capacity its rule allows (0 without a capacity)."""
        return utilisation(self.limit_kw, self.capacity_kw)

    def table(self, top: int | None = None) -> list[dict[str, Any]]:
        """Every unit (or the ``top`` worst) as a row, worst against its limit first."""
        u = self.utilisation
        against = utilisation(self.worst_kw, self.limit_kw)
        return [
            {
                "unit": self.ids[k],
                "role": str(self.roles[k]),
                "rule": self.rule[k],
                "load_kw": round(float(self.load_kw[k]), 1),
                "worst_kw": round(float(self.worst_kw[k]), 1),
                "worst_case": self.worst_case[k],
                "capacity_kw": round(float(self.capacity_kw[k]), 1),
                "limit_kw": round(float(self.limit_kw[k]), 1),
                "utilisation": round(float(u[k]), 4),
            }
            for k in worst_first(against, top)
        ]


def compute_loads(project: Project, model: PowerModel) -> PowerLoads:
    rules = project.rules
    flows = scenario_flows(model, rules["feeds_2n"] >= 0.5)
    stacked = flows.total.copy()
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
        worst_case=[flows.names[k] for k in worst_case],
        capacity_kw=np.where(battery, 0.0, model.capacity_kw),
        limit=rules["continuous_derating"],
        settled=flows.settled,
        it_kw=model.it_kw,
        facility_kw=consumers + losses,
        losses_kw=losses,
        cooling_kw=float(model.load_kw[~model.it].sum()),
        limit_kw=model.limit_kw,
        rule=model.rule_ids,
        flows=flows,
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
Finding = tuple[str, tuple[str, ...], int, str]


def _problems(context: CheckContext, rule_id: str) -> list[Finding]:
    return [(m, i, r, s) for rid, m, i, r, s in _model(context).problems if rid == rule_id]


def dual_feeds_required(model: PowerModel, feeds_2n: bool) -> bool:
    """Whether every consumer needs A and B feeds: 2N and distributed redundant chains
    (block redundant and N+1 chains feed consumers on one path)."""
    return feeds_2n and model.topology in ("2n", "distributed_redundant")


@rule(
    "power.feeds",
    "error",
    "Every consumer has its feeds to power units: A and B with 2N or distributed redundancy "
    "(feeds_2n), one with block redundancy or N+1.",
)
def feeds(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = _model(context)
    if not model.planned:
        return

    def compute() -> list[Finding]:
        found = _problems(context, rule.id)
        ids = context.project.items.ids
        two = dual_feeds_required(model, context.project.rules["feeds_2n"] >= 0.5)
        a, b = model.feed_a, model.feed_b
        bad = (a < 0) & (b < 0)
        if two:
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


def _link_graph(model: PowerModel) -> csr_matrix:
    """``G[up, u] = 1`` for every upstream and standby link of unit u."""
    units = len(model.unit_rows)
    frm = np.concatenate([model.up_from, model.standby_from])
    to = np.concatenate([model.up_to, model.standby_to])
    return coo_matrix((np.ones(len(frm)), (to, frm)), shape=(units, units)).tocsr()


def loops(model: PowerModel) -> list[list[int]]:
    """Sets of units whose upstream (or standby) links lead back to themselves."""
    units = len(model.unit_rows)
    if not units or not len(model.up_from) + len(model.standby_from):
        return []
    count, label = connected_components(_link_graph(model), directed=True, connection="strong")
    sizes = np.bincount(label, minlength=count)
    return [np.flatnonzero(label == c).tolist() for c in np.flatnonzero(sizes > 1)]


@rule(
    "power.chain",
    "error",
    "Every power unit's upstream links name power units, without loops or a unit fed from "
    "itself, and every loaded unit traces to a source.",
)
def chain(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = _model(context)
    if not model.planned:
        return

    def compute() -> list[Finding]:
        found = _problems(context, rule.id)
        loads = _loads(context)
        for members in loops(model):
            names = [model.unit_ids[k] for k in members]
            found.append((
                f"{listed(names)} feed each other in a loop (upstream links): a unit's "
                "supply cannot be traced to a source", tuple(names),
                int(model.unit_rows[members[0]]), "error",
            ))  # fmt: skip
        if not loads.settled and not loops(model):
            found.append(("the upstream links of the power units do not settle",
                          (), -1, "error"))  # fmt: skip
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


def reached(model: PowerModel, seeds: np.ndarray) -> np.ndarray:
    """Per unit: it is one of ``seeds`` or lies upstream (or on standby) of one."""
    graph = _link_graph(model)
    reach = seeds.copy()
    for _ in range(len(reach) + 1):
        nxt = reach | (graph @ reach.astype(float) > 0)
        if np.array_equal(nxt, reach):
            break
        reach = nxt
    return reach


def sides(model: PowerModel) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: on the path of some consumer's feed A, and of some feed B."""
    units = len(model.unit_rows)
    seeds = []
    for side in (model.feed_a, model.feed_b):
        seed = np.zeros(units, dtype=bool)
        seed[side[side >= 0]] = True
        seeds.append(reached(model, seed) if units else seed)
    return seeds[0], seeds[1]


@rule(
    "power.topology",
    "error",
    "The drawn chain holds its topology (Schneider Electric white paper 75): with 2N no unit "
    "serves both sides; with any one side or block lost every consumer keeps a live feed.",
)
def topology(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = _model(context)
    if not model.planned:
        return

    def compute() -> list[Finding]:
        found: list[Finding] = []
        feeds_2n = context.project.rules["feeds_2n"] >= 0.5
        if model.topology == "2n" and feeds_2n and len(model.unit_rows):
            side_a, side_b = sides(model)
            for k in np.flatnonzero(side_a & side_b):
                found.append((
                    f"{model.unit_ids[k]} ({model.roles[k]}) serves both side A and side B: "
                    "2N sides must share no unit from source to rack",
                    (model.unit_ids[k],), int(model.unit_rows[k]), "error",
                ))  # fmt: skip
        flows = _loads(context).flows
        if flows is None:
            return found
        ids = context.project.items.ids
        gpus = _gpus(context.project, model)
        for name, lost in zip(flows.names, flows.unpowered, strict=True):
            if name == "normal" or not len(lost):
                continue
            names = [ids[int(model.consumer_rows[k])] for k in lost]
            found.append((
                f"with {name}, {len(names):,} consumers ({int(gpus[lost].sum()):,} GPUs, "
                f"{model.load_kw[lost].sum():,.1f} kW) lose power: {listed(names)}",
                tuple(names), int(model.consumer_rows[lost[0]]), "error",
            ))  # fmt: skip
        return found

    yield from emit(context, rule, context.memo(rule.id, compute))


def _gpus(project: Project, model: PowerModel) -> np.ndarray:
    catalog, type_ids = project.catalog, project.items.type_ids
    per_type = {t: getattr(catalog[t], "gpus", 0) for t in set(type_ids)}
    return np.array([per_type[type_ids[r]] for r in model.consumer_rows], dtype=np.int64)


Describe = Callable[[PowerModel, PowerLoads, int], str]
"""What a unit-type rule says about overloaded unit ``k``, after the common head."""


def _unit_rule(
    context: CheckContext, rule: RuleProvider, describe: Describe,
    *, also: Callable[[], list[Finding]] | None = None,
) -> Iterator[Violation]:  # fmt: skip
    """A rule over one type of unit: each unit it judges whose worst load passes its limit,
    worded by ``describe`` (with ``also``'s findings first); memoised per structure."""
    model = _model(context)
    if not model.planned:
        return

    def compute() -> list[Finding]:
        return [*(also() if also else []), *_overloads(context, rule.id, describe)]

    yield from emit(context, rule, context.memo(rule.id, compute))


def _overloads(context: CheckContext, rule_id: str, describe: Describe) -> list[Finding]:
    """Units judged by ``rule_id`` whose worst load passes their limit, one line each."""
    model = _model(context)
    loads = _loads(context)
    mine = np.array([r == rule_id for r in loads.rule], dtype=bool)
    over = np.flatnonzero(mine & (loads.worst_kw > loads.limit_kw + 1e-9))
    found: list[Finding] = []
    for k in over.tolist():
        case = loads.worst_case[k]
        when = " in normal operation" if case == "normal" else f" with {case}"
        head = f"{model.unit_ids[k]} ({model.roles[k]}) carries {loads.worst_kw[k]:,.1f} kW{when}"
        found.append((f"{head}: {describe(model, loads, k)}", (model.unit_ids[k],),
                      int(model.unit_rows[k]), "error"))  # fmt: skip
    return found


@rule(
    "power.capacity",
    "error",
    "Each breaker, switchgear, busway, RPP and PDU: worst load (any side or block lost) ≤ "
    "rating × continuous_derating (NEC 210.19(A)/215.2(A): 80 %), or ≤ rating when listed "
    "for 100 %.",
)
def capacity(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    def describe(model: PowerModel, loads: PowerLoads, k: int) -> str:
        share = f"{loads.utilisation[k]:.0%} of its {loads.capacity_kw[k]:,.1f} kW rating"
        if model.rated_100[k]:
            return f"{share}, above its 100 % continuous rating (gear listed for 100 %)"
        return (f"{share}, above the {loads.limit:.0%} continuous limit "
                f"({loads.limit_kw[k]:,.1f} kW; NEC 210.19(A)/215.2(A))")  # fmt: skip

    yield from _unit_rule(context, rule, describe)


@rule(
    "power.transformer",
    "error",
    "Each transformer: worst load kW / load_power_factor ≤ its kVA rating (IEEE C57.91, "
    "IEC 60076-7: loading at nameplate).",
)
def transformer(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    pf = context.project.rules["load_power_factor"]

    def describe(model: PowerModel, loads: PowerLoads, k: int) -> str:
        kva = loads.worst_kw[k] / pf
        return (f"{kva:,.1f} kVA at power factor {pf:g}, {kva / model.kva[k]:.0%} of its "
                f"{model.kva[k]:,.0f} kVA rating (IEEE C57.91 / IEC 60076-7)")  # fmt: skip

    yield from _unit_rule(context, rule, describe)


@rule("power.ups", "error", "Each UPS: worst load ≤ its kW rating (IEC 62040-3).")
def ups(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    def describe(model: PowerModel, loads: PowerLoads, k: int) -> str:
        return (f"{loads.worst_kw[k] / model.capacity_kw[k]:.0%} of its "
                f"{model.capacity_kw[k]:,.1f} kW rating (IEC 62040-3)")  # fmt: skip

    yield from _unit_rule(context, rule, describe)


@rule(
    "power.utility",
    "error",
    "Each utility service (grid feed): worst load ≤ its contracted capacity (its "
    "contracted_kw, at most its rating); no 80 % rule and no spare feeds: the utility "
    "interconnection is sized to the contracted demand.",
)
def utility(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    def describe(model: PowerModel, loads: PowerLoads, k: int) -> str:
        return (f"{loads.worst_kw[k] / model.rating_kw[k]:.0%} of its contracted "
                f"{model.rating_kw[k]:,.0f} kW (utility service sized to its contracted "
                "demand)")  # fmt: skip

    yield from _unit_rule(context, rule, describe, also=lambda: _problems(context, rule.id))


@rule(
    "power.generation",
    "error",
    "Each turbine or generator: worst load ≤ its site rating, rating × site_derating "
    "(ISO 3977-2, ISO 8528-1).",
)
def generation(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    derating = context.project.rules["site_derating"]

    def describe(model: PowerModel, loads: PowerLoads, k: int) -> str:
        return (f"{loads.worst_kw[k] / model.rating_kw[k]:.0%} of its site rating "
                f"{model.rating_kw[k]:,.0f} kW ({model.capacity_kw[k]:,.0f} kW × site "
                f"derating {derating:g}; ISO 3977-2 / ISO 8528-1)")  # fmt: skip

    yield from _unit_rule(context, rule, describe)


def _groups(model: PowerModel, members: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Units of ``members`` (a mask) that share the units they feed, as groups: each
    (member indices, indices of the units they feed directly)."""
    units = len(model.unit_rows)
    linked = members[model.up_to]
    frm, to = model.up_from[linked], model.up_to[linked]
    graph = coo_matrix((np.ones(len(frm)), (frm, to)), shape=(units, units))
    _, label = connected_components(graph, directed=False)
    out = []
    for c in np.unique(label[members]):
        group = np.flatnonzero(members & (label == c))
        fed = np.unique(frm[label[to] == c])
        out.append((group, fed))
    return out


def source_groups(model: PowerModel, loads: PowerLoads, spare: int) -> list[dict[str, Any]]:
    """Each group of sources that share their load: the units, its worst load (and the
    scenario) and what it gives without its ``spare`` largest turbines or generators."""
    out = []
    flows = loads.flows
    for group, _ in _groups(model, np.isin(model.roles, list(SOURCE_ROLES))):
        generation = group[np.isin(model.roles[group], list(GENERATION_ROLES))]
        utility = group[model.roles[group] == "grid_feed"]
        site = np.sort(model.rating_kw[generation])[::-1]
        lost = min(spare, len(site))
        carried = flows.total[:, group].sum(axis=1) if flows is not None else np.zeros(1)
        worst = int(np.argmax(carried))
        out.append({
            "units": [model.unit_ids[k] for k in group],
            "row": int(model.unit_rows[group[0]]),
            "utility": len(utility),
            "utility_kw": float(model.rating_kw[utility].sum()),
            "generation": len(generation),
            "generation_kw": float(site.sum()),
            "spare": lost,
            "without_spares_kw": float(model.rating_kw[utility].sum() + site[lost:].sum()),
            "load_kw": float(carried[worst]),
            "case": flows.names[worst] if flows is not None else "normal",
        })  # fmt: skip
    return out


def source_check(model: PowerModel, loads: PowerLoads, spare: int, derating: float = 1.0
                 ) -> dict[str, Any]:  # fmt: skip
    """The tightest source group (see :func:`source_groups`) in the summary's terms:
    sources, capacity_kw, spare, without_spares_kw, load_kw, groups. ``derating`` is
    kept for callers of the former rule; sources are no longer derated."""
    groups = source_groups(model, loads, spare)
    if not groups:
        return {"sources": 0, "capacity_kw": 0.0, "spare": spare, "without_spares_kw": 0.0,
                "load_kw": 0.0, "groups": 0}  # fmt: skip
    g = max(groups, key=lambda g: g["load_kw"] / max(g["without_spares_kw"], 1e-9))
    return {
        "sources": len(g["units"]),
        "capacity_kw": g["utility_kw"] + g["generation_kw"],
        "spare": g["spare"],
        "without_spares_kw": g["without_spares_kw"],
        "load_kw": g["load_kw"],
        "groups": len(groups),
    }


@rule(
    "power.sources",
    "error",
    "Each group of sources carries its worst load without its spare_sources largest turbines "
    "or generators (N+1, Schneider Electric white paper 75), utility services at their "
    "contracted capacity.",
)
def sources(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = _model(context)
    if not model.planned:
        return

    def compute() -> list[Finding]:
        rules = context.project.rules
        loads = _loads(context)
        spare = round(rules["spare_sources"])
        if not len(model.sources):
            if not len(model.batteries) and not np.isin(model.roles, ["transformer", "switchgear",
                                                                      "ups"]).any():  # fmt: skip
                return []  # a plan of the white space only: no site plant to check yet
            return [(f"no source (grid feed, turbine or generator) carries the facility's "
                     f"{loads.facility_kw:,.0f} kW", (), -1, "error")]  # fmt: skip
        found: list[Finding] = []
        for g in source_groups(model, loads, spare):
            if g["load_kw"] <= g["without_spares_kw"] + 1e-6:
                continue
            parts = []
            if g["utility"]:
                parts.append(f"{g['utility']} utility service(s) contracted for "
                             f"{g['utility_kw']:,.0f} kW")  # fmt: skip
            if g["generation"]:
                parts.append(f"{g['generation'] - g['spare']} of {g['generation']} turbines or "
                             f"generators at site rating")  # fmt: skip
            lost = f" with the largest {g['spare']} lost" if g["spare"] else ""
            found.append((
                f"sources {listed(g['units'])}{lost} give {g['without_spares_kw']:,.0f} kW "
                f"({' + '.join(parts)}), short of the {g['load_kw']:,.0f} kW they carry"
                f"{'' if g['case'] == 'normal' else ' with ' + g['case']} (N+{spare} over "
                "turbines and generators)",
                tuple(g["units"]), g["row"], "error",
            ))  # fmt: skip
        return found

    yield from emit(context, rule, context.memo(rule.id, compute))


def battery_groups(model: PowerModel, loads: PowerLoads, rules: Mapping[str, float]
                   ) -> list[dict[str, Any]]:  # fmt: skip
    """Each group of batteries attached to the same units: power and energy, and what the
    IT load they back in its worst scenario needs."""
    flows = loads.flows
    out = []
    for group, fed in _groups(model, model.roles == "battery"):
        backed = flows.it[:, fed].sum(axis=1) if flows is not None and len(fed) else np.zeros(1)
        worst = int(np.argmax(backed))
        it_kw = float(backed[worst])
        out.append({
            "units": [model.unit_ids[k] for k in group],
            "row": int(model.unit_rows[group[0]]),
            "batteries": len(group),
            "power_kw": float(model.capacity_kw[group].sum()),
            "energy_kwh": float(model.energy_kwh[group].sum()),
            "it_kw": it_kw,
            "case": flows.names[worst] if flows is not None else "normal",
            "swing_kw": rules["training_swing"] * it_kw,
            "ride_through_kwh": rules["ride_through_s"] * it_kw / 3600.0,
        })  # fmt: skip
    return out


def battery_figures(model: PowerModel, rules: Mapping[str, float],
                    loads: PowerLoads | None = None) -> dict[str, float]:  # fmt: skip
    """Batteries in all and the swing and ride-through of the whole IT load; with
    ``loads``, the tightest battery group's figures instead."""
    it_kw = model.it_kw
    batteries = model.batteries
    whole = {
        "batteries": len(batteries),
        "power_kw": float(model.capacity_kw[batteries].sum()),
        "energy_kwh": float(model.energy_kwh[batteries].sum()),
        "swing_kw": rules["training_swing"] * it_kw,
        "ride_through_kwh": rules["ride_through_s"] * it_kw / 3600.0,
    }
    groups = battery_groups(model, loads, rules) if loads is not None else []
    if not groups:
        return whole
    g = max(groups, key=lambda g: max(g["swing_kw"] / g["power_kw"],
                                      g["ride_through_kwh"] / g["energy_kwh"]))  # fmt: skip
    return {k: float(g[k]) for k in whole} | {"groups": float(len(groups))}


@rule(
    "power.battery",
    "error",
    "Each group of batteries gives power ≥ training_swing × the IT load it backs in its worst "
    "case and energy ≥ ride_through_s × that load (IEC 62040-3 stored-energy time).",
)
def battery(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    model = _model(context)
    if not model.planned or not (len(model.batteries) or len(model.sources)):
        return

    def compute() -> list[Finding]:
        rules = context.project.rules
        loads = _loads(context)
        groups = battery_groups(model, loads, rules)
        if not groups:
            f = battery_figures(model, rules)
            groups = [{**f, "units": [], "row": -1, "it_kw": model.it_kw, "case": "normal"}]
        found: list[Finding] = []
        for g in groups:
            ids, row = tuple(g["units"]), g["row"]
            who = f"batteries {listed(ids)}" if ids else "no battery"
            when = "" if g["case"] == "normal" else f" with {g['case']}"
            it = f"{g['it_kw']:,.0f} kW of IT they back{when}"
            if g["power_kw"] + 1e-6 < g["swing_kw"]:
                found.append((
                    f"{who}: {g['power_kw']:,.0f} kW, short of the training swing "
                    f"{g['swing_kw']:,.0f} kW ({rules['training_swing']:.0%} of {it})",
                    ids, row, "error",
                ))  # fmt: skip
            if g["energy_kwh"] + 1e-6 < g["ride_through_kwh"]:
                found.append((
                    f"{who}: {g['energy_kwh']:,.0f} kWh, short of {g['ride_through_kwh']:,.0f} "
                    f"kWh ({rules['ride_through_s']:g} s of {it})",
                    ids, row, "error",
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


def lineups(model: PowerModel) -> dict[str, dict[str, int]]:
    """Power units by role in each side (2N: A, B and any shared), block, or in all."""

    def count(mask: np.ndarray) -> dict[str, int]:
        roles, n = np.unique(model.roles[mask].astype(str), return_counts=True)
        return {str(r): int(c) for r, c in zip(roles, n, strict=True)}

    if not len(model.unit_rows):
        return {}
    if model.topology == "2n":
        side_a, side_b = sides(model)
        out = {"A": count(side_a & ~side_b), "B": count(side_b & ~side_a)}
        if (side_a & side_b).any():
            out["shared"] = count(side_a & side_b)
        return out
    if model.block_names:
        out = {name: count(model.block == k) for k, name in enumerate(model.block_names)}
        if (model.block < 0).any():
            out["outside blocks"] = count(model.block < 0)
        return out
    return {"all": count(np.ones(len(model.unit_rows), dtype=bool))}


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
        plan = context.project.power
        out["power_topology"] = {
            "topology": plan.topology,
            "blocks": plan.blocks,
            "scenarios": loads.flows.names if loads.flows is not None else ["normal"],
            "lineups": lineups(model),
        }
        out["power_units_worst"] = loads.table(TOP_UNITS)
        out["battery"] = {k: round(v, 1) for k, v in battery_figures(model, rules, loads).items()}
        s = source_check(model, loads, round(rules["spare_sources"]))
        out["sources"] = {k: round(v, 1) if isinstance(v, float) else v for k, v in s.items()}
    return out


# -- what-if ---------------------------------------------------------------------------------
def live_units(model: PowerModel, failed: np.ndarray) -> np.ndarray:
    """Per unit: still powered when the units marked in ``failed`` fail.

    A unit is live when it has not failed and it has no upstream unit (it is the
    top of its chain), or at least one live upstream unit other than a battery, or
    (all those lost) a live standby unit.
    """
    units = len(model.unit_rows)
    usable = model.roles[model.up_to] != "battery"
    frm, to = model.up_from[usable], model.up_to[usable]
    standby = model.roles[model.standby_to] != "battery"
    s_frm, s_to = model.standby_from[standby], model.standby_to[standby]
    has_up = np.bincount(frm, minlength=units) > 0
    live = ~failed
    for _ in range(units + 1):
        fed = np.bincount(frm, weights=live[to].astype(float), minlength=units) > 0
        fed |= np.bincount(s_frm, weights=live[s_to].astype(float), minlength=units) > 0
        nxt = ~failed & (~has_up | fed)
        if np.array_equal(nxt, live):
            break
        live = nxt
    return live


def what_if(project: Project, failed: Iterable[str]) -> PowerLoss:
    """What loses power when the given units or consumers fail, and what gets overloaded.

    Consumers on a dead feed draw all their load from the other one, and units whose
    upstream units all fail transfer to their standby units: units whose new load
    passes what their rule allows (and is higher than before) are reported as
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
    gpus = _gpus(project, model)
    # Loads after the failure: consumers on one live feed draw everything from it.
    shares = share_matrix(model, live)
    kept = model.load_kw * ~lost_or_failed
    still = PowerModel(**{**vars(model), "load_kw": kept})
    base = scenario_bases(still, powered=live)[0]
    after, _ = through(still, base, shares)
    before = compute_loads(project, model).load_kw
    limit = model.limit_kw
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
    "allowed_load",
    "battery_figures",
    "battery_groups",
    "consumer_loads",
    "lineups",
    "loads_of",
    "power_loads",
    "power_model",
    "scenario_flows",
    "source_groups",
    "unpowered_rows",
    "what_if",
]
