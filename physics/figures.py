"""The figures the inspector shows for an item, read from a :class:`~physics.solution.Solution`.

Owns the domain side of the inspector and of the canvas's links overlay:
which units feed an item and which items a unit feeds or supplies, which
racks a CDU or CRAH serves and the design load a power unit feeds directly;
a unit's worst-case utilisation; a rack's estimated inlet; a network rack's
switches (type, ports used and free, down:up); a rack's fabric links per tier
(with the racks at their other ends and the longest Manhattan distance to them)
and its routed cables (the longest, the media mix). Qt-free; the GUI only
formats what these functions return.

The reverse look-ups are a :class:`FigureIndex`, built once per solution by
:func:`index_of` when the solution is made (in the GUI, on the background
check's worker thread) and kept by a :class:`~physics.engine.Checker` while
the project's structure holds: a click reads dictionaries and slices, and
never derives the fabric or scans every feed. Per item row, the link bundles
touching it are a compressed index (:class:`LinkIndex`, both ends of every
bundle sorted by row with numpy), so a rack's links cost what it has, not
what the fabric has.

Every figure is of the solution's snapshot: after an edit and until the next
solution lands, the figures are those of the latest one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from layout.facility import design_load_kw
from layout.project import Project
from physics.engine import CheckContext
from physics.fabric import LINK_TIERS, DerivedFabric, LinkBundles
from physics.fabric_figures import SwitchRackFigures, rack_figures
from physics.power import PowerLoads
from physics.thermal import ThermalMap

if TYPE_CHECKING:
    from physics.solution import Solution

FIGURE_INDEX_MEMO = "figures.reverse"


@dataclass(frozen=True)
class LinkIndex:
    """The bundles of one link tier that touch each item row (both ends, row-major).

    The bundles at row ``r`` are ``bundle[start[r]:start[r + 1]]``, the rows at
    their other ends ``other[start[r]:start[r + 1]]``.
    """

    start: np.ndarray
    bundle: np.ndarray
    other: np.ndarray

    @staticmethod
    def of(bundles: LinkBundles, n_rows: int) -> LinkIndex:
        a, b = bundles.a, bundles.b
        ends = np.concatenate((a, b))
        order = np.argsort(ends, kind="stable")
        k = np.arange(len(a), dtype=np.intp)
        return LinkIndex(
            np.searchsorted(ends[order], np.arange(n_rows + 1)),
            np.concatenate((k, k))[order],
            np.concatenate((b, a))[order],
        )

    def at(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The bundles touching ``row`` and the rows at their other ends."""
        span = slice(int(self.start[row]), int(self.start[row + 1]))
        return self.bundle[span], self.other[span]


@dataclass(frozen=True)
class FigureIndex:
    """Reverse look-ups of one solution's snapshot (see the module docstring)."""

    feeds: dict[str, tuple[str, ...]]
    """Power unit → the consumers it feeds (on A or B)."""
    load_fed_kw: dict[str, float]
    """Power unit → the design load of the consumers it feeds directly."""
    supplies: dict[str, tuple[str, ...]]
    """Power unit → the units that name it upstream."""
    serves: dict[str, tuple[str, ...]]
    """CDU or CRAH → the racks assigned to it."""
    power_row: dict[str, int]
    """Power unit → its index in the solution's :class:`~physics.power.PowerLoads`."""
    thermal_row: np.ndarray
    """Per item row: its index in the thermal map's racks (-1 when it has none)."""
    links: dict[str, LinkIndex]
    """Per link tier, the bundles at each item row (empty without a fabric)."""
    rack_links: dict[str, RackLinks | None] = field(default_factory=dict, compare=False)
    """:func:`rack_links` answers already given for this solution (the inspector and the
    links overlay both ask for the rack just clicked)."""


@dataclass(frozen=True)
class _Reverse:
    """The part of a :class:`FigureIndex` that depends on the project's structure only."""

    feeds: dict[str, tuple[str, ...]]
    load_fed_kw: dict[str, float]
    supplies: dict[str, tuple[str, ...]]
    serves: dict[str, tuple[str, ...]]
    power_row: dict[str, int]
    links: dict[str, LinkIndex]


def _reverse(project: Project, fabric: DerivedFabric | None, power: PowerLoads | None
             ) -> _Reverse:  # fmt: skip
    items, catalog = project.items, project.catalog
    load_of_type: dict[str, float] = {}
    fed: dict[str, list[str]] = {}
    load_fed: dict[str, float] = {}
    for consumer, feed in project.power.feeds.items():
        load = 0.0
        if consumer in items:
            type_id = items.type_ids[items.row(consumer)]
            if type_id not in load_of_type:
                load_of_type[type_id] = design_load_kw(catalog[type_id], catalog)
            load = load_of_type[type_id]
        for unit in dict.fromkeys((feed.a, feed.b)):
            if unit is not None:
                fed.setdefault(unit, []).append(consumer)
                load_fed[unit] = load_fed.get(unit, 0.0) + load
    supplies: dict[str, list[str]] = {}
    for unit, ups in project.power.upstream.items():
        for up in dict.fromkeys(ups):
            supplies.setdefault(up, []).append(unit)
    serves: dict[str, list[str]] = {}
    for rack, unit in (*project.cooling.cdu.items(), *project.cooling.crah.items()):
        serves.setdefault(unit, []).append(rack)
    links = {} if fabric is None else {
        tier: LinkIndex.of(bundles, len(items)) for tier, bundles in fabric.links.items()
    }  # fmt: skip
    return _Reverse(
        {unit: tuple(racks) for unit, racks in fed.items()}, load_fed,
        {unit: tuple(units) for unit, units in supplies.items()},
        {unit: tuple(racks) for unit, racks in serves.items()},
        {} if power is None else {unit: k for k, unit in enumerate(power.ids)},
        links,
    )  # fmt: skip


def index_of(context: CheckContext, fabric: DerivedFabric | None, power: PowerLoads | None,
             thermal: ThermalMap | None) -> FigureIndex:  # fmt: skip
    """The look-ups of the context's project with these solver outputs (its structural part
    kept by a checker while the structure holds)."""
    project = context.project
    reverse: _Reverse = context.memo(FIGURE_INDEX_MEMO, lambda: _reverse(project, fabric, power))
    thermal_row = np.full(len(project.items), -1, dtype=np.intp)
    if thermal is not None:
        thermal_row[thermal.rack_rows] = np.arange(len(thermal.rack_rows))
    return FigureIndex(reverse.feeds, reverse.load_fed_kw, reverse.supplies, reverse.serves,
                       reverse.power_row, thermal_row, reverse.links)  # fmt: skip


# -- power and cooling --------------------------------------------------------------------------
@dataclass(frozen=True)
class Utilisation:
    """A power unit's worst-case load against its rating."""

    fraction: float
    """Worst-case load / capacity."""
    worst_case: str
    """The scenario of the worst case (normal, A lost, B lost)."""
    limit: float
    """The share of its rating the unit's own rule allows (80 % for continuous-load gear,
    100 % for a transformer at the load's power factor, a UPS, a turbine's site rating…)."""

    @property
    def over(self) -> bool:
        return self.fraction > self.limit + 1e-9


def utilisation(solution: Solution, unit_id: str) -> Utilisation | None:
    """The unit's worst-case utilisation; None without power loads or a rating."""
    power = solution.power
    k = solution.figures.power_row.get(unit_id)
    if power is None or k is None or power.capacity_kw[k] <= 0:
        return None
    fraction = float(power.worst_kw[k] / power.capacity_kw[k])  # one unit of power.utilisation
    limit = power.limit_fraction[k] if len(power.limit_kw) == len(power.ids) else power.limit
    return Utilisation(fraction, power.worst_case[k], float(limit))


def feeds(solution: Solution, unit_id: str) -> tuple[str, ...]:
    """The consumers the power unit feeds, on A or B."""
    return solution.figures.feeds.get(unit_id, ())


def load_fed_kw(solution: Solution, unit_id: str) -> float:
    """The design load of the consumers the power unit feeds directly (kW)."""
    return solution.figures.load_fed_kw.get(unit_id, 0.0)


def supplies(solution: Solution, unit_id: str) -> tuple[str, ...]:
    """The power units that name this one upstream."""
    return solution.figures.supplies.get(unit_id, ())


def serves(solution: Solution, unit_id: str) -> tuple[str, ...]:
    """The racks whose CDU or CRAH this cooling unit is."""
    return solution.figures.serves.get(unit_id, ())


def inlet_c(solution: Solution, rack_id: str) -> float | None:
    """The rack's estimated inlet temperature (°C; NaN off the floor), None without one."""
    row = solution.row(rack_id)
    thermal = solution.thermal
    if thermal is None or row is None:
        return None
    k = int(solution.figures.thermal_row[row])
    return None if k < 0 else float(thermal.inlet_c[k])


# -- fabric and cables --------------------------------------------------------------------------
@dataclass(frozen=True)
class TierLinks:
    """A rack's links of one tier."""

    tier: str
    links: int
    peers: tuple[str, ...]
    """The racks at the other ends, in row order."""
    longest_m: float
    """The longest Manhattan distance between the rack's centre and a peer's (m)."""


@dataclass(frozen=True)
class Cable:
    """The routed cables of one bundle at a rack: all alike, ``links`` of them."""

    to: str
    tier: str
    links: int
    length_m: float
    """Routed length, slack and service loops included (m, to the centimetre)."""
    medium: str | None
    """The medium's id; None when no allowed medium reaches."""
    on_trays: bool
    """False where the cables run along the row or the route is a Manhattan estimate."""
    in_row: bool
    """True where the cables run along the row, rack to rack, without the tray."""


@dataclass(frozen=True)
class RackLinks:
    """A rack's fabric links per tier and, once routed, its cables."""

    tiers: tuple[TierLinks, ...]
    """The tiers it has links in, in tier order."""
    cables: tuple[Cable, ...]
    """Longest first (then by the other rack); empty without a routing."""
    unassigned: bool
    """A GPU rack that no leaf rack serves."""

    @property
    def longest_m(self) -> float:
        return max((t.longest_m for t in self.tiers), default=0.0)

    @property
    def longest_cable(self) -> Cable | None:
        return self.cables[0] if self.cables else None

    @property
    def media(self) -> dict[str, int]:
        """Links by medium ("none" where no medium reaches), most first."""
        mix: dict[str, int] = {}
        for cable in self.cables:
            key = cable.medium or "none"
            mix[key] = mix.get(key, 0) + cable.links
        return dict(sorted(mix.items(), key=lambda kv: (-kv[1], kv[0])))


def rack_links(solution: Solution, item_id: str) -> RackLinks | None:
    """The item's links and cables; None without a fabric or when the snapshot lacks it."""
    known = solution.figures.rack_links
    if item_id not in known:
        known[item_id] = _rack_links(solution, item_id)
    return known[item_id]


def _rack_links(solution: Solution, item_id: str) -> RackLinks | None:
    fabric, row = solution.fabric, solution.row(item_id)
    if fabric is None or row is None:
        return None
    items = solution.project.items
    ids, x, y = items.ids, items.x, items.y
    cabling = solution.cabling
    tiers: list[TierLinks] = []
    cables: list[Cable] = []
    for tier in LINK_TIERS:
        bundles, index = fabric.links.get(tier), solution.figures.links.get(tier)
        if bundles is None or index is None:
            continue
        mine, others = index.at(row)
        if not len(mine):
            continue
        peers = np.unique(others)
        distance = np.abs(x[others] - x[row]) + np.abs(y[others] - y[row])
        tiers.append(TierLinks(tier, int(bundles.count[mine].sum()), tuple(ids[r] for r in peers),
                               float(distance.max())))  # fmt: skip
        if cabling is not None and cabling.bundles.get(tier) is bundles:
            routed = cabling.tiers[tier]
            for k in np.unique(mine).tolist():
                other = int(bundles.b[k] if bundles.a[k] == row else bundles.a[k])
                medium = int(routed.medium[k])
                cables.append(Cable(
                    ids[other], tier, int(bundles.count[k]), round(float(routed.length_m[k]), 2),
                    cabling.media[medium].id if medium >= 0 else None, bool(routed.on_trays[k]),
                    bool(routed.in_row[k]),
                ))  # fmt: skip
    cables.sort(key=lambda c: (-c.length_m, c.to))
    unassigned = not tiers and item_id in fabric.unassigned
    return RackLinks(tuple(tiers), tuple(cables), unassigned)


def switch_figures(solution: Solution, item_id: str) -> SwitchRackFigures | None:
    """A back-end network rack's switches as derived: switch type, ports used and free, and
    its down:up ratio against its tier's target; None for anything else (or without a
    fabric). Read from the solution's derived fabric, never derived again."""
    fabric, row = solution.fabric, solution.row(item_id)
    if fabric is None or row is None:
        return None
    return rack_figures(solution.project, fabric, row)


__all__ = [
    "Cable",
    "FigureIndex",
    "LinkIndex",
    "RackLinks",
    "TierLinks",
    "Utilisation",
    "feeds",
    "index_of",
    "inlet_c",
    "load_fed_kw",
    "rack_links",
    "serves",
    "supplies",
    "switch_figures",
    "utilisation",
]
