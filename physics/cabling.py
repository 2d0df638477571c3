"""Cabling: every fabric link routed along its row or over the trays, with its medium,
latency and tray fill.

Owns the rules ``cabling.reach``, ``cabling.no_tray_path`` and
``cabling.tray_fill``, the ``cabling`` summary figures (links by medium,
longest link, cable BOM, total length and cost, worst tray fill) and
:func:`route`, which the GUI uses for overlays and the inspector.

A link runs from its port on rack A up to the tray, along the shortest tray
path (:mod:`physics.trays`) and down to rack B::

    length = (rise + hop_a + tray path + hop_b + drop) × (1 + cable_slack)
             + 2 × service_loop_m,   rise = drop = |tray_height_m − port_height_m|

where a hop is the horizontal run from a rack's centre to its tray point.

Short runs stay in the row. Two racks standing in one row, touching along
it (gaps up to :data:`~layout.geometry.SLACK_M`) or joined by a chain of
racks that touch, are cabled rack to rack through their side cable managers
and rack tops, never up to the tray::

    length = (along-row distance between centres + 2 × in_rack_vertical_m)
             × (1 + cable_slack) + 2 × in_rack_loop_m

when that is at most ``in_row_run_max_m``; longer ones take the trays. A row
runs along a rack's width (x at 0° and 180°, y at 90° and 270°); only GPU and
network racks at quarter turns form rows, so an aisle, a gap, a cooling unit
or a rack turned across the row ends one. Runs along a row load no tray.
The front-end, storage and management networks' links (:data:`OTHER_LINKS`)
are routed the same way, in rows and over the trays, and share the fill.

Without a tray path (no trays, or racks on trays that do not meet) the tray
path and hops are replaced by the Manhattan distance between the racks'
centres, and ``cabling.no_tray_path`` warns. The medium is the cheapest
allowed one at the link speed (NIC speed / planes) whose reach covers the
length (:mod:`physics.media`); none → ``cabling.reach``.

Everything works on the fabric's link bundles (rack pairs × counts), as numpy
arrays over all bundles; no Python loop runs over links. A :class:`Checker`
re-check after racks moved or turned re-routes only the bundles touching them
and those whose racks the move joined into one row or parted (the runs of
touching racks are found afresh at each check, a few milliseconds at 100k
GPUs): the tray graph and its shortest paths are kept while the structure is
unchanged, and loads on the trays are updated by difference (exact integers).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from layout.geometry import SLACK_M, axis_aligned_rects, is_quarter_turn, quarter_turns
from layout.project import Project
from physics.engine import CheckContext, RuleProvider, Violation, load_providers, metric, rule
from physics.fabric import LINK_TIERS, DerivedFabric, LinkBundles
from physics.media import Choice, MediaTable, bill_of_materials
from physics.trays import (
    AREA_UNIT_MM2,
    Attachment,
    FillEvents,
    TrayNetwork,
    fill_events,
    sweep_fill,
)

_SHOWN = 5
_EPS = 1e-9
ROW_KINDS = ("gpu_rack", "network_rack")
"""Kinds of unit whose side cable managers and tops carry cables along a row."""


@dataclass(frozen=True)
class TierCables:
    """Per bundle of one link tier (aligned with the fabric's :class:`LinkBundles`)."""

    length_m: np.ndarray
    """Length of each link of the bundle (m): routed, slack and loops included."""
    medium: np.ndarray
    """Index into :attr:`CablingResult.media`; -1 when no allowed medium reaches."""
    stock_m: np.ndarray
    """Stock length ordered (m); nan without a medium."""
    cost_usd: np.ndarray
    """Indicative cost of one link; nan without a medium."""
    latency_ns: np.ndarray
    """Propagation delay of one link (the medium's ns/m, or ``fiber_ns_per_m``)."""
    on_trays: np.ndarray
    """True where the link follows the trays; False along a row or for a Manhattan estimate."""
    in_row: np.ndarray
    """True where the link runs along its row, rack to rack, without the tray."""


@dataclass(frozen=True)
class CablingResult:
    """Routed cables of a project: per tier, per bundle; per tray segment, its fill."""

    media: tuple[Any, ...]
    """The catalog's media (:class:`~layout.catalog.MediumType`), indexed by ``medium``."""
    speed_gbps: float
    bundles: dict[str, LinkBundles]
    tiers: dict[str, TierCables]
    segment_ids: list[str]
    fill: np.ndarray
    """Each tray segment's fullest point: cables' cross-section / (width × depth)."""
    fill_limit: float
    ids: Sequence[str]
    """Item ids by row, for naming racks."""
    has_trays: bool
    table: MediaTable
    """The media as arrays (stock-length slots for the BOM)."""
    _flat: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    others: OtherCables | None = None
    """The other networks' cables on the same trays (in ``fill`` and the BOM too)."""

    def flat(self, name: str) -> np.ndarray:
        """One per-bundle field (or ``a``, ``b``, ``count``) over every tier, in tier order."""
        cached = self._flat.get(name)
        if cached is None:
            cached = np.concatenate([
                getattr(self.bundles[t], name) if name in ("a", "b", "count")
                else getattr(self.tiers[t], name)
                for t in LINK_TIERS
            ])  # fmt: skip
            self._flat[name] = cached
        return cached

    @property
    def links(self) -> int:
        return int(sum(b.total for b in self.bundles.values()))

    def bom(self) -> list[dict[str, Any]]:
        """Links by medium × stock length: count and indicative cost, sorted (the other
        networks' links included)."""
        slot, count = self.flat("slot"), self.flat("count")
        if self.others is not None:
            slot = np.concatenate([slot, self.others.slot])
            count = np.concatenate([count, self.others.links.count])
        return bill_of_materials(self.table, slot, count)

    def links_by_medium(self) -> dict[str, int]:
        medium, count = self.flat("medium"), self.flat("count")
        if self.others is not None:
            medium = np.concatenate([medium, self.others.medium])
            count = np.concatenate([count, self.others.links.count])
        totals = np.bincount(medium[medium >= 0], weights=count[medium >= 0],
                             minlength=len(self.media))  # fmt: skip
        return {self.media[k].id: int(totals[k]) for k in np.flatnonzero(totals)}

    def longest_link(self) -> dict[str, Any] | None:
        length = self.flat("length_m")
        if len(length) == 0:
            return None
        k = int(np.argmax(length))
        medium = int(self.flat("medium")[k])
        return {
            "length_m": round(float(length[k]), 2),
            "medium": self.media[medium].id if medium >= 0 else None,
            "racks": [self.ids[int(self.flat("a")[k])], self.ids[int(self.flat("b")[k])]],
        }

    def worst_fill(self) -> dict[str, Any] | None:
        if len(self.fill) == 0:
            return None
        k = int(np.argmax(self.fill))
        return {"segment": self.segment_ids[k], "fill": round(float(self.fill[k]), 4)}


def rack_cables(result: CablingResult, row: int) -> dict[str, Any]:
    """One rack's cables: link count, its longest cable and its media mix.

    ``cables`` lists each bundle touching the rack (other rack, tier, links,
    length, medium), longest first.
    """
    rows: list[dict[str, Any]] = []
    for tier in LINK_TIERS:
        bundle, cables = result.bundles[tier], result.tiers[tier]
        mine = np.flatnonzero((bundle.a == row) | (bundle.b == row))
        for k in mine:
            other = int(bundle.b[k] if bundle.a[k] == row else bundle.a[k])
            medium = int(cables.medium[k])
            rows.append({
                "to": result.ids[other],
                "tier": tier,
                "links": int(bundle.count[k]),
                "length_m": round(float(cables.length_m[k]), 2),
                "medium": result.media[medium].id if medium >= 0 else None,
                "on_trays": bool(cables.on_trays[k]),
                "in_row": bool(cables.in_row[k]),
            })  # fmt: skip
    rows.sort(key=lambda r: (-r["length_m"], r["to"]))
    mix: dict[str, int] = {}
    for r in rows:
        key = r["medium"] or "none"
        mix[key] = mix.get(key, 0) + r["links"]
    return {
        "links": sum(r["links"] for r in rows),
        "longest": rows[0] if rows else None,
        "media": dict(sorted(mix.items(), key=lambda kv: (-kv[1], kv[0]))),
        "cables": rows,
    }


# -- routing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    """Everything one routing computed, kept by a checker to update after moves."""

    fabric: DerivedFabric
    net: TrayNetwork
    table: MediaTable
    x: np.ndarray
    y: np.ndarray
    rotation: np.ndarray
    attach: Attachment
    """Per item row (piece -1 for rows not in any bundle or without trays)."""
    a: np.ndarray
    b: np.ndarray
    count: np.ndarray
    length: np.ndarray
    on_trays: np.ndarray
    in_row: np.ndarray
    end1: np.ndarray
    end2: np.ndarray
    medium: np.ndarray
    stock: np.ndarray
    cost: np.ndarray
    slot: np.ndarray
    load: np.ndarray
    """Cross-section of the bundle's cables in AREA_UNIT_MM2 (0 without a medium)."""
    intervals: tuple[np.ndarray, ...]
    """(segment, start, end) of the partial runs at each end: 6 arrays over bundles."""
    edge_load: np.ndarray
    peak: np.ndarray
    """Largest load at any point of each segment (AREA_UNIT_MM2)."""
    serial: int = 0
    """This routing's number; an update numbers its result afresh."""
    parent: int = -1
    """The serial of the routing this one updated (-1 for a full routing)."""
    affected: np.ndarray | None = None
    """Segments whose load changed since ``parent`` (None: every segment)."""
    events: FillEvents | None = None
    """A full routing's loads as sorted events, to merge the other networks' into."""


_SERIALS = itertools.count(1)


class _Params:
    def __init__(self, project: Project) -> None:
        rules = project.rules
        self.rise = abs(rules["tray_height_m"] - rules["port_height_m"])
        self.stretch = 1.0 + rules["cable_slack"]
        self.loops = 2.0 * rules["service_loop_m"]
        self.fiber_ns = rules["fiber_ns_per_m"]
        self.fill_limit = rules["tray_fill_limit"]
        self.in_row_max = rules["in_row_run_max_m"]
        self.in_rack = 2.0 * rules["in_rack_vertical_m"]
        self.in_rack_loops = 2.0 * rules["in_rack_loop_m"]
        spec = project.fabric
        self.speed = float(spec.nic_speed_gbps or 0.0) / spec.planes


def _scatter(n: int, pieces: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """One array of ``n`` from pieces (rows, values) that cover it."""
    out = np.empty(n, dtype=pieces[0][1].dtype)
    for rows, values in pieces:
        out[rows] = values
    return out


def _flat_speeds(fabric: DerivedFabric) -> np.ndarray:
    """Each bundle's link speed (Gb/s), in the order of :func:`_flat_bundles`."""
    return np.concatenate([
        np.full(len(fabric.links[t].a), fabric.link_speeds_gbps[k], dtype=float)
        for k, t in enumerate(LINK_TIERS)
    ])  # fmt: skip


def _flat_bundles(fabric: DerivedFabric) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts = [fabric.links[t] for t in LINK_TIERS]
    return (
        np.concatenate([p.a for p in parts]).astype(np.intp),
        np.concatenate([p.b for p in parts]).astype(np.intp),
        np.concatenate([p.count for p in parts]).astype(np.int64),
    )


def _attach_rows(net: TrayNetwork, xy: np.ndarray, rows: np.ndarray, into: Attachment) -> None:
    found = net.attach(xy[rows])
    into.piece[rows], into.t[rows], into.hop[rows] = found.piece, found.t, found.hop


@dataclass(frozen=True)
class RowRuns:
    """Racks standing side by side in rows, by item row.

    ``chain`` numbers each run of racks that touch along a row (-1 for items in
    none); ``along`` is a rack's centre coordinate along its row (x for a row
    along x, y for a row along y).
    """

    chain: np.ndarray
    along: np.ndarray


def row_runs(project: Project, sizes: tuple[np.ndarray, np.ndarray], racks: np.ndarray) -> RowRuns:
    """The runs of touching racks in the project's rows (``racks``: which rows may join one).

    Two racks are neighbours in a row when they stand at quarter turns with
    their rows along the same axis, their spans across the row overlap, and
    their spans along it touch (within :data:`~layout.geometry.SLACK_M`); a
    run is a connected set of neighbours.
    """
    items = project.items
    n = len(items)
    chain = np.full(n, -1, np.intp)
    along = np.zeros(n)
    rotation = items.rotation
    rows = np.flatnonzero(racks & is_quarter_turn(rotation))
    if len(rows) == 0:
        return RowRuns(chain, along)
    width, depth = sizes
    x, y = items.x[rows], items.y[rows]
    _, rects, _ = axis_aligned_rects(x, y, width[rows], depth[rows], rotation[rows])
    left, top, span_x, span_y = rects.T
    # A rack's row runs along its width: x at 0° and 180°, y at 90° and 270°.
    along_y = quarter_turns(rotation[rows]) % 2 == 1
    lo = np.where(along_y, top, left)
    hi = lo + np.where(along_y, span_y, span_x)
    across_lo = np.where(along_y, left, top)
    across_hi = across_lo + np.where(along_y, span_x, span_y)
    # Neighbours' centres are at most one span apart along and across the row (Chebyshev).
    centres = np.column_stack((left + span_x / 2, top + span_y / 2))
    reach = float(np.max(np.maximum(span_x, span_y))) + 2 * SLACK_M
    pairs = cKDTree(centres).query_pairs(reach, p=np.inf, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    keep = along_y[i] == along_y[j]
    i, j = i[keep], j[keep]
    gap = np.maximum(lo[i], lo[j]) - np.minimum(hi[i], hi[j])
    shared = np.minimum(across_hi[i], across_hi[j]) - np.maximum(across_lo[i], across_lo[j])
    beside = (np.abs(gap) <= SLACK_M) & (shared > SLACK_M)
    m = len(rows)
    graph = coo_matrix((np.ones(int(beside.sum())), (i[beside], j[beside])), shape=(m, m))
    _, label = connected_components(graph, directed=False)
    chain[rows] = label
    along[rows] = np.where(along_y, y, x)
    return RowRuns(chain, along)


def _in_row(
    runs: RowRuns, params: _Params, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which bundles run along their row, and the length a run along the row would have."""
    same = (runs.chain[a] >= 0) & (runs.chain[a] == runs.chain[b])
    distance = np.abs(runs.along[a] - runs.along[b])
    length = (distance + params.in_rack) * params.stretch + params.in_rack_loops
    return same & (length <= params.in_row_max + _EPS), length


def _route_bundles(
    net: TrayNetwork, table: MediaTable, params: _Params, xy: np.ndarray, attach: Attachment,
    *, a: np.ndarray, b: np.ndarray, count: np.ndarray, in_row: np.ndarray,
    row_length: np.ndarray, speed: np.ndarray | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Lengths, media, loads and partial runs of some bundles (all arrays over them).

    Bundles ``in_row`` take ``row_length`` and stay off the trays: no ends, no
    partial runs, no load.
    """
    first = Attachment(attach.piece[a], attach.t[a], attach.hop[a])
    second = Attachment(attach.piece[b], attach.t[b], attach.hop[b])
    paths = net.paths(first, second)
    found = paths.found
    manhattan = np.abs(xy[a] - xy[b]).sum(axis=1)
    run = np.where(found, paths.length + first.hop + second.hop, manhattan)
    length = (2 * params.rise + run) * params.stretch + params.loops
    length = np.where(in_row, row_length, length)
    if speed is None or len(np.unique(speed)) <= 1:
        one = params.speed if speed is None or len(speed) == 0 else float(speed[0])
        choice = table.choose(length, one)
    else:
        # Tiers may run at different speeds (a leaf's down- and up-links): media per speed.
        parts = {float(v): np.flatnonzero(speed == v) for v in np.unique(speed)}
        chosen = {v: table.choose(length[rows], v) for v, rows in parts.items()}
        choice = Choice(
            *(
                _scatter(len(length), [(parts[v], getattr(c, f)) for v, c in chosen.items()])
                for f in ("medium", "stock_m", "cost_usd", "slot")
            )
        )
    on_trays = found & ~in_row
    has = (choice.medium >= 0) & on_trays
    load = np.where(has, table.area_units[np.maximum(choice.medium, 0)], 0) * count
    seg1, lo1, hi1 = net.partial_intervals(first, paths.end1, second)
    seg2, lo2, hi2 = net.partial_intervals(second, paths.end2)
    seg1 = np.where(on_trays, seg1, -1)
    seg2 = np.where(on_trays & ~paths.direct, seg2, -1)
    return {
        "length": length, "on_trays": on_trays, "in_row": in_row,
        "end1": np.where(in_row, -1, paths.end1), "end2": np.where(in_row, -1, paths.end2),
        "medium": choice.medium, "stock": choice.stock_m, "cost": choice.cost_usd,
        "slot": choice.slot, "load": load,
        "intervals": (seg1, lo1, hi1, seg2, lo2, hi2),
    }  # fmt: skip


def _all_intervals(
    net: TrayNetwork,
    bundle_intervals: tuple[np.ndarray, ...],
    load: np.ndarray,
    edge_load: np.ndarray,
    only: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every run along the trays (bundles' partial runs, loaded pieces): segment, start,
    end, load; only those on the segments ``only`` when given."""
    seg1, lo1, hi1, seg2, lo2, hi2 = bundle_intervals
    pseg, plo, phi, pload = net.piece_intervals(edge_load)
    parts = [(seg1, lo1, hi1, load), (seg2, lo2, hi2, load), (pseg, plo, phi, pload)]
    if only is not None:
        kept = [np.isin(part[0], only) for part in parts]
        parts = [(s[keep], a[keep], b[keep], w[keep])
                 for (s, a, b, w), keep in zip(parts, kept, strict=True)]  # fmt: skip
    segment, start, end, weight = (np.concatenate([part[k] for part in parts]) for k in range(4))
    return segment, start, end, weight


def _full(
    project: Project, fabric: DerivedFabric, net: TrayNetwork, table: MediaTable, runs: RowRuns
) -> _State:
    params = _Params(project)
    items = project.items
    xy = items.xy
    a, b, count = _flat_bundles(fabric)
    n = len(items)
    attach = Attachment(np.full(n, -1, np.intp), np.zeros(n), np.zeros(n))
    rows = np.unique(np.concatenate([a, b]))
    _attach_rows(net, xy, rows, attach)
    in_row, row_length = _in_row(runs, params, a, b)
    r = _route_bundles(net, table, params, xy, attach, a=a, b=b, count=count, in_row=in_row,
                       row_length=row_length, speed=_flat_speeds(fabric))  # fmt: skip
    edge_load = net.edge_loads(r["end1"], r["end2"], r["load"])
    seg, lo, hi, load = _all_intervals(net, r["intervals"], r["load"], edge_load)
    events = fill_events(seg, lo, hi, load)
    if events is not None:
        peak = events.peaks(len(net.segment_ids))
    else:
        _, peak = sweep_fill(len(net.segment_ids), seg, lo, hi, load)
    return _State(
        fabric, net, table, items.x.copy(), items.y.copy(), items.rotation.copy(), attach,
        a, b, count, r["length"], r["on_trays"], r["in_row"], r["end1"], r["end2"],
        r["medium"], r["stock"], r["cost"], r["slot"], r["load"], r["intervals"], edge_load,
        peak, next(_SERIALS), events=events,
    )  # fmt: skip


def _update(project: Project, state: _State, runs: RowRuns) -> _State:
    """``state`` after racks moved or turned: only the bundles touching them, and those
    whose racks a move joined into one row or parted, are routed again."""
    items = project.items
    moved = np.flatnonzero(
        (state.x != items.x) | (state.y != items.y) | (state.rotation != items.rotation)
    )
    if len(moved) == 0:
        return state
    params = _Params(project)
    n = len(items)
    flag = np.zeros(n, bool)
    flag[moved] = True
    in_row, row_length = _in_row(runs, params, state.a, state.b)
    changed = np.flatnonzero(flag[state.a] | flag[state.b] | (in_row != state.in_row))
    if len(changed) == 0:
        return replace(state, x=items.x.copy(), y=items.y.copy(), rotation=items.rotation.copy(),
                       serial=next(_SERIALS), parent=state.serial,
                       affected=np.empty(0, np.intp), events=None)  # fmt: skip
    net = state.net
    xy = items.xy
    attach = Attachment(state.attach.piece.copy(), state.attach.t.copy(), state.attach.hop.copy())
    _attach_rows(net, xy, moved, attach)
    a, b, count = state.a[changed], state.b[changed], state.count[changed]
    r = _route_bundles(net, state.table, params, xy, attach, a=a, b=b, count=count,
                       in_row=in_row[changed], row_length=row_length[changed],
                       speed=_flat_speeds(state.fabric)[changed])  # fmt: skip
    delta = net.edge_loads(
        np.concatenate([state.end1[changed], r["end1"]]),
        np.concatenate([state.end2[changed], r["end2"]]),
        np.concatenate([-state.load[changed], r["load"]]),
    )
    edge_load = state.edge_load + delta
    fields: dict[str, Any] = {}
    for name in ("length", "on_trays", "in_row", "end1", "end2", "medium", "stock", "cost",
                 "slot", "load"):  # fmt: skip
        column = getattr(state, name).copy()
        column[changed] = r[name]
        fields[name] = column
    intervals = []
    for old, new in zip(state.intervals, r["intervals"], strict=True):
        column = old.copy()
        column[changed] = new
        intervals.append(column)
    affected = np.unique(np.concatenate([
        state.intervals[0][changed], state.intervals[3][changed],
        r["intervals"][0], r["intervals"][3], net.piece_seg[net.edge_piece[delta != 0]],
    ]))  # fmt: skip
    affected = affected[affected >= 0]
    peak = state.peak
    if len(affected):
        seg, lo, hi, load = _all_intervals(net, tuple(intervals), fields["load"], edge_load,
                                           affected)  # fmt: skip
        segments, values = sweep_fill(len(net.segment_ids), seg, lo, hi, load, only=affected)
        peak = peak.copy()
        peak[segments] = values
    return replace(
        state, x=items.x.copy(), y=items.y.copy(), rotation=items.rotation.copy(),
        attach=attach, intervals=tuple(intervals), edge_load=edge_load, peak=peak,
        serial=next(_SERIALS), parent=state.serial, affected=affected, events=None, **fields,
    )  # fmt: skip


def _result(project: Project, state: _State) -> CablingResult:
    params = _Params(project)
    ns_per_m = np.append(state.table.ns_per_m, params.fiber_ns)
    latency = state.length * ns_per_m[np.where(state.medium >= 0, state.medium, -1)]
    net = state.net
    area_m2 = net.width * net.depth
    fill = state.peak * AREA_UNIT_MM2 * 1e-6 / np.where(area_m2 > 0, area_m2, np.inf)
    tiers: dict[str, TierCables] = {}
    start = 0
    for tier in LINK_TIERS:
        n = len(state.fabric.links[tier].a)
        part = slice(start, start + n)
        tiers[tier] = TierCables(
            state.length[part], state.medium[part], state.stock[part], state.cost[part],
            latency[part], state.on_trays[part], state.in_row[part],
        )  # fmt: skip
        start += n
    flat = {
        "a": state.a, "b": state.b, "count": state.count, "length_m": state.length,
        "medium": state.medium, "stock_m": state.stock, "cost_usd": state.cost,
        "latency_ns": latency, "on_trays": state.on_trays, "in_row": state.in_row,
        "slot": state.slot,
    }  # fmt: skip
    return CablingResult(
        state.table.media, params.speed, dict(state.fabric.links), tiers, net.segment_ids, fill,
        params.fill_limit, project.items.ids, not net.empty, state.table, flat,
    )  # fmt: skip


def _trays(project: Project) -> TrayNetwork:
    return TrayNetwork(project.trays)


def route(project: Project) -> CablingResult | None:
    """Route every link of the project's fabric (None without a fabric spec)."""
    return routed(CheckContext(project))


def routed(context: CheckContext) -> CablingResult | None:
    """The routing of the context's project, computed once per check.

    With a checker's memory, the tray graph and the media table are kept
    while the structure is unchanged, and the previous routing is updated
    for the racks moved since.
    """
    return _routing(context)[0]


def _routing(context: CheckContext) -> tuple[CablingResult | None, _State | None]:
    """The routed links and the state the next check updates, once per check."""
    return context.once("cabling.routing", lambda: _route_once(context))


def _route_once(context: CheckContext) -> tuple[CablingResult | None, _State | None]:
    from physics.fabric import fabric_of

    project = context.project
    fabric = fabric_of(context)
    result: CablingResult | None = None
    state: _State | None = None
    if fabric is not None:
        net = context.memo("cabling.trays", lambda: _trays(project))
        table = context.memo("cabling.media", lambda: MediaTable.of(project.catalog, project.rules))
        previous = context.recall("cabling.state")
        racks = context.memo("cabling.row_kinds", lambda: np.isin(context.kinds, ROW_KINDS))
        runs = row_runs(project, context.sizes, racks)
        if (
            isinstance(previous, _State)
            and previous.fabric is fabric and previous.net is net and previous.table is table
            and len(previous.x) == len(project.items)
        ):  # fmt: skip
            state = _update(project, previous, runs)
        else:
            state = _full(project, fabric, net, table, runs)
        result = _with_other_networks(context, _result(project, state), state, runs)
    context.remember("cabling.state", state)
    return result, state


def worst_link_latency_ns(context: CheckContext) -> dict[str, float] | None:
    """Per link tier, the largest routed link latency (ns); None when there are no trays."""
    result = routed(context)
    if result is None or not result.has_trays:
        return None
    return {
        tier: float(cables.latency_ns.max())
        for tier, cables in result.tiers.items()
        if len(cables.latency_ns)
    }


# -- rules ----------------------------------------------------------------------------------


def _middle(context: CheckContext, row_a: int, row_b: int) -> tuple[float, float]:
    x, y = context.project.items.x, context.project.items.y
    return ((x[row_a] + x[row_b]) / 2, (y[row_a] + y[row_b]) / 2)


def _links(count: int) -> str:
    return f"{count:,} link" + ("s" if count != 1 else "")


def _per_bundle(
    context: CheckContext,
    rule: RuleProvider,
    result: CablingResult,
    bundles: np.ndarray,
    message: Callable[[str, str, str, float], str],
) -> Iterator[Violation]:
    """A violation for each of the link ``bundles`` (flat indices), placed between its racks;
    ``message(rack_a, rack_b, links, length_m)`` says what is wrong with it."""
    a, b = result.flat("a"), result.flat("b")
    count, length = result.flat("count"), result.flat("length_m")
    ids = result.ids
    for k in bundles:
        first, second = ids[a[k]], ids[b[k]]
        yield rule.violation(
            message(first, second, _links(int(count[k])), float(length[k])),
            (first, second),
            _middle(context, int(a[k]), int(b[k])),
        )


@rule("cabling.reach", "error", "Every link has an allowed medium that reaches its length.")
def reach(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    result, state = _routing(context)
    if result is None or state is None:
        return
    medium, count = result.flat("medium"), result.flat("count")
    bad = np.flatnonzero(medium < 0)
    if len(bad) == 0:
        return
    table = state.table
    speed = result.speed_gbps
    longest = table.longest_reach(speed)
    if longest == 0.0:
        yield rule.violation(
            f"no allowed medium runs at {speed:g}G: {_links(int(count[bad].sum()))} have no medium"
        )
        return
    yield from _per_bundle(context, rule, result, bad, lambda a, b, links, length_m: (
        f"{links} {a}–{b} of {length_m:.1f} m: no allowed {speed:g}G medium reaches that far "
        f"(longest reach {longest:g} m)"
    ))  # fmt: skip


@rule("cabling.no_tray_path", "warning", "Every link has a path along the cable trays.")
def no_tray_path(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    result = routed(context)
    if result is None:
        return
    on_trays, count = result.flat("on_trays"), result.flat("count")
    off = np.flatnonzero(~on_trays & ~result.flat("in_row"))
    if len(off) == 0:
        return
    if not result.has_trays:
        every = "all " if len(off) == len(on_trays) else ""
        yield rule.violation(
            f"the project has no cable trays: {every}{_links(int(count[off].sum()))} are "
            "estimated as Manhattan runs at tray height"
        )
        return
    yield from _per_bundle(context, rule, result, off, lambda a, b, links, length_m: (
        f"no tray connects {a} and {b}: {links} estimated as a {length_m:.1f} m Manhattan run "
        "at tray height"
    ))  # fmt: skip


@rule("cabling.tray_fill", "error", "Cables fill each tray segment at most to the fill limit.")
def tray_fill(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    result, state = _routing(context)
    if result is None or state is None:
        return
    net = state.net
    over = np.flatnonzero(result.fill > result.fill_limit + 1e-12)
    for k in over:
        middle = (net.seg_a[k] + net.seg_b[k]) / 2
        yield rule.violation(
            f"tray {result.segment_ids[k]} is {result.fill[k]:.0%} full at its fullest point "
            f"(limit {result.fill_limit:.0%} of {net.width[k]:g} × {net.depth[k]:g} m)",
            (result.segment_ids[k],),
            (float(middle[0]), float(middle[1])),
        )


@metric("cabling")
def cabling_metrics(context: CheckContext) -> Mapping[str, Any]:
    result = routed(context)
    if result is None:
        return {}
    medium, count = result.flat("medium"), result.flat("count")
    length, cost = result.flat("length_m"), result.flat("cost_usd")
    has = medium >= 0
    total_m = float((length * count).sum())
    cost_usd = float((cost[has] * count[has]).sum())
    if result.others is not None:  # the other networks' cables are bought too
        o = result.others
        total_m += float((o.length_m * o.links.count).sum())
        cost_usd += float(np.nansum(o.cost_usd * o.links.count))
    return {
        "links_by_medium": result.links_by_medium(),
        "links_without_medium": int(count[~has].sum()),
        "longest_link": result.longest_link(),
        "cable_bom": result.bom(),
        "cable_total_m": round(total_m, 1),
        "cable_cost_usd": round(cost_usd, 2),
        "worst_tray_fill": result.worst_fill(),
    }


__all__ = ["CablingResult", "RowRuns", "TierCables", "rack_cables", "route", "routed", "row_runs"]


# -- the other networks' links on the same trays ----------------------------------------------


@dataclass(frozen=True)
class OtherLinks:
    """Links of the hall's other networks (front-end, storage, management): bundles of
    ``count[i]`` links from row ``a[i]`` to row ``b[i]``, each at ``speed_gbps[i]``."""

    a: np.ndarray
    b: np.ndarray
    count: np.ndarray
    speed_gbps: np.ndarray
    label: np.ndarray
    """What each bundle is, for tables (``frontend: endpoint-leaf``)."""


@dataclass(frozen=True)
class OtherCables:
    """The other networks' links routed like the fabric's (arrays aligned with ``links``)."""

    links: OtherLinks
    length_m: np.ndarray
    medium: np.ndarray
    """Index into :attr:`CablingResult.media`; -1 when no allowed medium reaches."""
    stock_m: np.ndarray
    cost_usd: np.ndarray
    slot: np.ndarray
    on_trays: np.ndarray
    in_row: np.ndarray
    """Cabled along a row of touching racks (no tray)."""


OTHER_LINKS: list[Callable[[CheckContext], OtherLinks | None]] = []
"""Providers of other networks' links (:mod:`physics.networks` registers one): routed with
the fabric's, counted in tray fill and the BOM, checked by their own rules."""


_ROUTED = ("length", "on_trays", "in_row", "end1", "end2", "medium", "stock", "cost", "slot",
           "load")  # fmt: skip


@dataclass(frozen=True)
class _OtherState:
    """The other networks' routing of one check, kept to update after moves."""

    fabric_serial: int
    net: TrayNetwork
    table: MediaTable
    x: np.ndarray
    y: np.ndarray
    rotation: np.ndarray
    links: OtherLinks
    routed: dict[str, np.ndarray]
    intervals: tuple[np.ndarray, ...]
    edge_load: np.ndarray
    """The other networks' load on every canonical tray edge."""
    peak: np.ndarray
    """Largest load of fabric and other cables together at any point of each segment."""


def _with_other_networks(
    context: CheckContext, result: CablingResult, state: _State, runs: RowRuns
) -> CablingResult:
    """``result`` with the other networks' links routed, and the tray fill of the segments
    they run on recomputed with them.

    After a move only the bundles that changed (a rack of theirs moved, or the
    derivation dealt them differently) are routed again, and only the segments
    whose loads changed, the fabric's or the other networks', are swept again.
    """
    load_providers()  # the providers register on import (physics.networks)
    parts = [links for provider in OTHER_LINKS if (links := provider(context)) is not None]
    parts = [p for p in parts if len(p.a)]
    if not parts:
        context.remember("cabling.other_state", None)
        return result
    links = OtherLinks(*(np.concatenate([getattr(p, f) for p in parts])
                         for f in ("a", "b", "count", "speed_gbps", "label")))  # fmt: skip
    items = context.project.items
    previous = context.recall("cabling.other_state")
    if (
        isinstance(previous, _OtherState)
        and previous.fabric_serial in (state.serial, state.parent)
        and previous.net is state.net and previous.table is state.table
        and len(previous.x) == len(items) and len(previous.links.a) == len(links.a)
    ):  # fmt: skip
        other = _update_others(context, state, previous, links, runs)
    else:
        other = _route_others(context, state, links, runs)
    context.remember("cabling.other_state", other)
    net = state.net
    area_m2 = net.width * net.depth
    fill = other.peak * AREA_UNIT_MM2 * 1e-6 / np.where(area_m2 > 0, area_m2, np.inf)
    r = other.routed
    cables = OtherCables(links, r["length"], r["medium"], r["stock"], r["cost"], r["slot"],
                         r["on_trays"], r["in_row"])  # fmt: skip
    return replace(result, fill=fill, others=cables)


def _route_some(
    context: CheckContext, state: _State, links: OtherLinks, which: np.ndarray, runs: RowRuns
) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    """Route the bundles ``which`` of ``links``, one speed at a time (arrays over ``which``);
    racks touching in a row are cabled along it, as the fabric's are."""
    project = context.project
    params, xy = _Params(project), project.items.xy
    a, b = links.a[which], links.b[which]
    in_row, row_length = _in_row(runs, params, a, b)
    attach = _other_attachments(context, state, np.unique(np.concatenate([a, b])))
    speeds = links.speed_gbps[which]
    n = len(which)
    out: dict[str, np.ndarray] = {}
    intervals: list[np.ndarray] = []
    for speed in np.unique(speeds):
        mine = np.flatnonzero(speeds == speed)
        params.speed = float(speed)
        r = _route_bundles(state.net, state.table, params, xy, attach, a=a[mine], b=b[mine],
                           count=links.count[which][mine], in_row=in_row[mine],
                           row_length=row_length[mine])  # fmt: skip
        for name in _ROUTED:
            column = out.setdefault(name, np.zeros(n, dtype=np.asarray(r[name]).dtype))
            column[mine] = r[name]
        if not intervals:
            intervals = [np.zeros(n, dtype=np.asarray(v).dtype) for v in r["intervals"]]
        for column, value in zip(intervals, r["intervals"], strict=True):
            column[mine] = value
    return out, intervals


def _combined_peak(
    state: _State, edge_load: np.ndarray, intervals: Sequence[np.ndarray], load: np.ndarray,
    *, base: np.ndarray, segments: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """``base`` with the peaks of ``segments`` swept again over fabric and other cables
    (``edge_load``, ``intervals`` and ``load``: the other networks')."""
    net = state.net
    segments = segments[segments >= 0]
    if net.empty or len(segments) == 0:
        return base
    seg, lo, hi, fabric_load = _all_intervals(net, state.intervals, state.load,
                                              state.edge_load + edge_load, segments)  # fmt: skip
    seg1, lo1, hi1, seg2, lo2, hi2 = intervals
    done, values = sweep_fill(
        len(net.segment_ids),
        np.concatenate([seg, seg1, seg2]), np.concatenate([lo, lo1, lo2]),
        np.concatenate([hi, hi1, hi2]), np.concatenate([fabric_load, load, load]),
        only=segments,
    )  # fmt: skip
    peak = base.copy()
    peak[done] = values
    return peak


def _other_events(
    net: TrayNetwork, edge_load: np.ndarray, intervals: Sequence[np.ndarray], load: np.ndarray
) -> FillEvents | None:
    """The other networks' own loads on the trays as sorted events."""
    pseg, plo, phi, pload = net.piece_intervals(edge_load)
    seg1, lo1, hi1, seg2, lo2, hi2 = intervals
    return fill_events(
        np.concatenate([pseg, seg1, seg2]), np.concatenate([plo, lo1, lo2]),
        np.concatenate([phi, hi1, hi2]), np.concatenate([pload, load, load]),
    )  # fmt: skip


def _route_others(
    context: CheckContext, state: _State, links: OtherLinks, runs: RowRuns
) -> _OtherState:
    items = context.project.items
    routed, intervals = _route_some(context, state, links, np.arange(len(links.a)), runs)
    net = state.net
    edge_load = np.zeros(len(net.edge_key), np.int64)
    peak = state.peak
    if not net.empty:
        edge_load = net.edge_loads(routed["end1"], routed["end2"], routed["load"])
        ours = _other_events(net, edge_load, intervals, routed["load"])
        if state.events is not None and ours is not None:
            # Loads add: the fabric's sorted events and ours merge without a full sort.
            peak = state.events.merged(ours).peaks(len(net.segment_ids))
        else:
            touched = np.unique(np.concatenate([
                intervals[0], intervals[3], net.piece_seg[net.edge_piece[edge_load != 0]],
            ]))  # fmt: skip
            peak = _combined_peak(state, edge_load, intervals, routed["load"], base=state.peak,
                                  segments=touched)  # fmt: skip
    return _OtherState(state.serial, net, state.table, items.x.copy(), items.y.copy(),
                       items.rotation.copy(), links, routed, tuple(intervals), edge_load,
                       peak)  # fmt: skip


def _update_others(
    context: CheckContext, state: _State, previous: _OtherState, links: OtherLinks,
    runs: RowRuns,
) -> _OtherState:  # fmt: skip
    items = context.project.items
    old = previous.links
    moved = ((previous.x != items.x) | (previous.y != items.y)
             | (previous.rotation != items.rotation))  # fmt: skip
    in_row, _ = _in_row(runs, _Params(context.project), links.a, links.b)
    same = (
        (old.a == links.a) & (old.b == links.b) & (old.count == links.count)
        & (old.speed_gbps == links.speed_gbps) & ~moved[links.a] & ~moved[links.b]
        & (previous.routed["in_row"] == in_row)
    )  # fmt: skip
    changed = np.flatnonzero(~same)
    fabric_segments = (np.empty(0, np.intp) if state.serial == previous.fabric_serial
                       else state.affected)  # fmt: skip
    if fabric_segments is None:
        return _route_others(context, state, links, runs)
    routed = {name: column.copy() for name, column in previous.routed.items()}
    intervals = [column.copy() for column in previous.intervals]
    net = state.net
    edge_load = previous.edge_load
    segments = [fabric_segments]
    if len(changed):
        fresh, fresh_intervals = _route_some(context, state, links, changed, runs)
        if not net.empty:
            delta = net.edge_loads(
                np.concatenate([routed["end1"][changed], fresh["end1"]]),
                np.concatenate([routed["end2"][changed], fresh["end2"]]),
                np.concatenate([-routed["load"][changed], fresh["load"]]),
            )  # fmt: skip
            edge_load = edge_load + delta
            segments += [intervals[0][changed], intervals[3][changed], fresh_intervals[0],
                         fresh_intervals[3], net.piece_seg[net.edge_piece[delta != 0]]]  # fmt: skip
        for name in _ROUTED:
            routed[name][changed] = fresh[name]
        for column, value in zip(intervals, fresh_intervals, strict=True):
            column[changed] = value
    # The fabric's changed pieces show in its edge loads; its partial runs in ``affected``.
    touched = np.unique(np.concatenate(segments)).astype(np.intp)
    peak = _combined_peak(state, edge_load, intervals, routed["load"], base=previous.peak,
                          segments=touched)  # fmt: skip
    return _OtherState(state.serial, net, state.table, items.x.copy(), items.y.copy(),
                       items.rotation.copy(), links, routed, tuple(intervals), edge_load,
                       peak)  # fmt: skip


def _other_attachments(context: CheckContext, state: _State, rows: np.ndarray) -> Attachment:
    """Where ``rows`` join the trays: the fabric routing's attachments, the previous
    check's for racks that have not moved since, and new ones for the rest."""
    items = context.project.items
    attach = Attachment(state.attach.piece.copy(), state.attach.t.copy(), state.attach.hop.copy())
    previous = context.recall("cabling.other_attach")
    todo = rows[attach.piece[rows] < 0]
    if previous is not None and previous[0] is state.net and len(previous[1]) == len(items):
        _, x, y, known, old = previous
        still = known[todo] & (x[todo] == items.x[todo]) & (y[todo] == items.y[todo])
        kept = todo[still]
        attach.piece[kept], attach.t[kept], attach.hop[kept] = (
            old.piece[kept],
            old.t[kept],
            old.hop[kept],
        )
        todo = todo[~still]
    if len(todo):
        _attach_rows(state.net, items.xy, todo, attach)
    known = np.zeros(len(items), bool)
    known[rows] = True
    context.remember("cabling.other_attach", (state.net, items.x.copy(), items.y.copy(), known,
                                              attach))  # fmt: skip
    return attach
