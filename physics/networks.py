"""The hall's other networks as placed: front-end, storage and out-of-band management.

Owns the derivation of each network's links from what is placed, its rules
(``network.capacity``, ``network.connected``, ``network.reach``), the
``networks`` and ``storage_racks`` summary figures, and the provider that hands
the links to :mod:`physics.cabling` (routed on the same trays, counted in tray
fill and the cable BOM). None of it is part of the GPU fabric's coherence
verdict (:mod:`physics.fabric`).

What is placed
--------------
Network racks carry ``network`` (frontend, storage, management), ``tier``
(leaf, spine, core), ``pod`` and optionally ``switches``. A network is checked
once it has at least one rack; a design without any (an older file) has only
its GPU fabric. Endpoints:

- front-end: every GPU rack's servers × ``extra_nics_per_server`` at
  ``frontend_nic_speed_gbps``;
- storage: servers × ``storage_nics_per_server`` at ``storage_nic_speed_gbps``;
- a storage rack's ``nic_ports`` join the storage network when there is one,
  else the front-end network (storage over the front-end);
- management: servers × ``management_ports_per_server``, one port per switch of
  every network rack of another network (the GPU fabric's too), and each
  storage rack's ``management_ports``, all at 1 GbE.

Which leaf serves a rack: the nearest leaf rack of the network with free ports,
leaves in the rack's own row first (racks on one line up to an aisle: a row is cabled to its own
leaves), then any leaf by Manhattan distance between centres, among the
:data:`CANDIDATES` nearest. A leaf's ports go to its nearest racks first
(deferred acceptance: racks propose nearest first, a leaf keeps the nearest
that fit and turns the others away, who propose again). Assignments are
derived, never stored, so a hand edit is judged like a generated design.

Links: a rack's ports to its leaf rack; a leaf rack's uplinks
(:func:`layout.network_plan.uplinks_needed`) spread evenly over the spine racks
of its pod (every pod's spines when the network has no cores), by switch count;
a spine rack's uplinks (as many as its leaf links, non-blocking) spread evenly
over the core racks. Links between two switches run at the highest speed both
share.

Port budget: a switch rack of n switches using ``u_s`` ports at speed s is
within budget when ``sum(u_s / (n · radix(s))) <= 1``, or, for switches with
``fixed_ports``, when every ``u_s <= n · radix(s)``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from layout.catalog import GpuRackType, StorageRackType, SwitchType
from layout.network_plan import (
    MANAGEMENT_SPEED_GBPS,
    NETWORK_RULES,
    NETWORK_TITLES,
    NETWORKS,
    SPINE_RULE,
    port_share,
    uplink_speed,
    uplinks_needed,
)
from layout.project import Project
from physics.cabling import OTHER_LINKS, OtherLinks, routed
from physics.engine import CheckContext, RuleProvider, Violation, metric, rule
from physics.fabric import installed_switches

TIERS = ("leaf", "spine", "core")
CANDIDATES = 16
"""Leaves a rack considers beyond its own row's: the nearest this many."""
RUN_KINDS = ("gpu_rack", "network_rack", "storage_rack")
"""Kinds of rack that stand in a row of racks."""
ROW_TOLERANCE_M = 0.05
"""Racks whose centres' y differ by less than this stand on one line."""
ROW_GAP_M = 0.5
"""A gap wider than this between racks on one line parts two rows (an aisle is wider)."""
OTHER_ROW_M = 1e6
"""Added to the distance to a leaf in another row: a rack's own row comes first."""
_SHOWN = 5


@dataclass
class NetworkRacks:
    """One network's placed switch racks and endpoints (structure only: no positions)."""

    network: str
    rows: dict[str, np.ndarray]
    """Item rows of the network's racks by tier."""
    switches: np.ndarray
    """Installed switches per rack, aligned with ``all_rows``."""
    pods: np.ndarray
    switch_types: list[SwitchType]
    """The switch of each rack, aligned with ``all_rows``."""
    tier_of: np.ndarray
    """0 leaf, 1 spine, 2 core, aligned with ``all_rows``."""
    all_rows: np.ndarray
    over_capacity: list[tuple[str, int, int]] = field(default_factory=list)
    """Racks holding more switches than they fit: (id, installed, holds)."""
    endpoint_rows: np.ndarray = field(default_factory=lambda: np.empty(0, np.intp))
    endpoint_ports: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    endpoint_speed: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def has_cores(self) -> bool:
        return len(self.rows["core"]) > 0


@dataclass
class DerivedNetwork:
    """One network as derived for the current positions."""

    racks: NetworkRacks
    leaf_of: np.ndarray
    """Per endpoint: index into ``racks.rows['leaf']`` (-1: none took it)."""
    a: np.ndarray
    b: np.ndarray
    count: np.ndarray
    speed: np.ndarray
    tier: np.ndarray
    """Per bundle: 0 endpoint-leaf, 1 leaf-spine, 2 spine-core."""
    ports_used: dict[float, np.ndarray]
    """Ports used per speed, per rack (aligned with ``racks.all_rows``)."""
    budget: np.ndarray
    """Share of each rack's port budget used (1 = full)."""
    no_speed: np.ndarray
    """Per endpoint: no leaf of the network runs at its speed."""

    @property
    def network(self) -> str:
        return self.racks.network


# -- structure -------------------------------------------------------------------------------
def _racks_of(project: Project) -> dict[str, NetworkRacks]:
    """Each network's racks and endpoints, for the networks that have at least one rack."""
    items, catalog = project.items, project.catalog
    kinds = project.kinds()
    found: dict[str, dict[str, list[int]]] = {}
    for row in np.flatnonzero(kinds == "network_rack").tolist():
        props = items.properties_at(row)
        network = props.get("network")
        if network in NETWORKS:
            tier = props.get("tier")
            tier = tier if tier in TIERS else "leaf"
            found.setdefault(str(network), {t: [] for t in TIERS})[str(tier)].append(row)
    out: dict[str, NetworkRacks] = {}
    for network in NETWORKS:
        if network not in found:
            continue
        rows = {t: np.asarray(r, np.intp) for t, r in found[network].items()}
        all_rows = np.concatenate([rows[t] for t in TIERS])
        tier_of = np.concatenate([np.full(len(rows[t]), k) for k, t in enumerate(TIERS)])
        types = [catalog[items.type_ids[r]] for r in all_rows.tolist()]
        switches = np.array([installed_switches(project, int(r)) for r in all_rows], np.int64)
        pods = np.array([_whole(items.properties_at(int(r)).get("pod", 0)) for r in all_rows],
                        np.int64)  # fmt: skip
        over = [(items.ids[r], int(n), t.switches)
                for r, n, t in zip(all_rows.tolist(), switches.tolist(), types, strict=True)
                if n > t.switches]  # fmt: skip
        # A rack holds no more switches than it has room for (``over`` reports the rest),
        # as the fabric's derivation reads them.
        switches = np.minimum(switches, np.array([t.switches for t in types], np.int64))
        out[network] = NetworkRacks(network, rows, switches, pods,
                                    [catalog[t.switch] for t in types], tier_of, all_rows, over)
    if not out:
        return out
    storage_network = "storage" if "storage" in out and _any_storage_nics(project) else "frontend"
    for racks in out.values():
        _endpoints(project, kinds, racks, storage_network, out)
    return out


def _any_storage_nics(project: Project) -> bool:
    return any(getattr(project.catalog[t], "storage_nics_per_server", 0) > 0
               for t in set(project.items.type_ids))  # fmt: skip


def _endpoints(project: Project, kinds: np.ndarray, racks: NetworkRacks, storage_network: str,
               networks: Mapping[str, NetworkRacks]) -> None:  # fmt: skip
    """Set the rows, port counts and speeds of what connects to ``racks``' leaves."""
    items, catalog = project.items, project.catalog
    network = racks.network
    per_type: dict[str, tuple[int, float]] = {}
    for type_id in set(items.type_ids):
        t = catalog[type_id]
        n_ports, speed_gbps = 0, 0.0
        if isinstance(t, GpuRackType):
            if network == "frontend":
                n_ports = t.servers * t.extra_nics_per_server
                speed_gbps = t.frontend_nic_speed_gbps or t.nic_speed_gbps
            elif network == "storage":
                n_ports = t.servers * t.storage_nics_per_server
                speed_gbps = t.storage_nic_speed_gbps or t.nic_speed_gbps
            else:
                n_ports = t.servers * t.management_ports_per_server
                speed_gbps = MANAGEMENT_SPEED_GBPS
        elif isinstance(t, StorageRackType):
            if network == "management":
                n_ports, speed_gbps = t.management_ports, MANAGEMENT_SPEED_GBPS
            elif network == storage_network:
                n_ports, speed_gbps = t.nic_ports, t.nic_speed_gbps
        per_type[type_id] = (n_ports, speed_gbps)
    ports = np.fromiter((per_type[t][0] for t in items.type_ids), np.int64, len(items))
    speed = np.fromiter((per_type[t][1] for t in items.type_ids), float, len(items))
    if network == "management":
        # One management port per switch of every other network rack (the GPU fabric's too).
        own = set(racks.all_rows.tolist())
        for row in np.flatnonzero(kinds == "network_rack").tolist():
            if row not in own:
                ports[row] = installed_switches(project, row)
                speed[row] = MANAGEMENT_SPEED_GBPS
    rows = np.flatnonzero(ports > 0)
    racks.endpoint_rows, racks.endpoint_ports, racks.endpoint_speed = rows, ports[rows], speed[rows]


def _whole(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return min(value, 999_999)
    return 0


def racks_in_rows(project: Project, sizes: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Each item's row of racks (GPU, network and storage racks; -1: none).

    Racks whose centres share a line along x stand in one row until a gap wider than
    :data:`ROW_GAP_M` (an aisle) parts it, so a cross aisle parts two rows on one line
    while a narrow rack set at a wider rack's pitch stays in its row.
    """
    items = project.items
    run = np.full(len(items), -1, np.intp)
    rows = np.flatnonzero(np.isin(project.kinds(), RUN_KINDS))
    if len(rows) == 0:
        return run
    width, depth = sizes
    across = (np.round(items.rotation[rows] / 90.0).astype(np.int64) % 2) == 1
    span = np.where(across, depth[rows], width[rows])
    key = np.round(items.y[rows] / ROW_TOLERANCE_M).astype(np.int64)
    x = items.x[rows]
    order = np.lexsort((x, key))
    key, x, span = key[order], x[order], span[order]
    gap = (x[1:] - span[1:] / 2) - (x[:-1] + span[:-1] / 2)
    new = np.concatenate([[True], (key[1:] != key[:-1]) | (gap > ROW_GAP_M)])
    run[rows[order]] = np.cumsum(new) - 1
    return run


# -- derivation (positions) ------------------------------------------------------------------
def _assign(  # noqa: PLR0915 - candidates, weights, then the rounds, in one place
        x: np.ndarray, y: np.ndarray, run: np.ndarray, racks: NetworkRacks,
        leaf_up: np.ndarray) -> tuple[
        np.ndarray, np.ndarray]:  # fmt: skip
    """Leaf (index into the leaf racks) of each endpoint, by deferred acceptance; and which
    endpoints no leaf of the network can take at their speed."""
    leaves = racks.rows["leaf"]
    n_e, n_l = len(racks.endpoint_rows), len(leaves)
    leaf_of = np.full(n_e, -1, np.intp)
    if n_e == 0 or n_l == 0:
        return leaf_of, np.ones(n_e, bool) if n_l == 0 else np.zeros(0, bool)
    ex, ey = x[racks.endpoint_rows], y[racks.endpoint_rows]
    lx, ly = x[leaves], y[leaves]
    # Candidates: the leaves of the endpoint's own row (run of touching racks), then the
    # nearest ones.
    leaf_run, end_run = run[leaves], run[racks.endpoint_rows]
    in_run = np.flatnonzero(leaf_run >= 0)
    order = in_run[np.argsort(leaf_run[in_run], kind="stable")]
    keys, starts, sizes = np.unique(leaf_run[order], return_index=True, return_counts=True)
    width = int(sizes.max()) if len(sizes) else 0
    table = np.full((len(keys), width), -1, np.intp)
    for k in range(len(keys)):
        table[k, : sizes[k]] = order[starts[k] : starts[k] + sizes[k]]
    mine = np.minimum(np.searchsorted(keys, end_run), max(len(keys) - 1, 0))
    mine_ok = (end_run >= 0) & (len(keys) > 0)
    if len(keys):
        mine_ok &= keys[mine] == end_run
    same_row = (np.where(mine_ok[:, None], table[mine], -1) if width
                else np.empty((n_e, 0), np.intp))  # fmt: skip
    near = min(CANDIDATES, n_l)
    _, nearest = cKDTree(np.column_stack([lx, ly])).query(np.column_stack([ex, ey]), k=near, p=1)
    nearest = np.asarray(nearest, np.intp).reshape(n_e, near)
    cand = np.concatenate([same_row, nearest], axis=1)
    valid = cand >= 0
    c = np.where(valid, cand, 0)
    cost = np.abs(ex[:, None] - lx[c]) + np.abs(ey[:, None] - ly[c])
    own = (end_run[:, None] >= 0) & (leaf_run[c] == end_run[:, None])
    cost += np.where(own, 0.0, OTHER_ROW_M)
    # Share of a leaf switch each endpoint's ports take on each candidate leaf.
    speeds = np.unique(racks.endpoint_speed)
    cache: dict[tuple[str, float], list[float]] = {}
    unit = np.empty((n_l, len(speeds)))
    for k in range(n_l):
        t = racks.switch_types[k]
        key = (t.id, float(leaf_up[k]))
        if key not in cache:
            cache[key] = [port_share(t, float(s), float(leaf_up[k]), racks.network) for s in speeds]
        unit[k] = cache[key]
    speed_index = np.searchsorted(speeds, racks.endpoint_speed)
    weight = racks.endpoint_ports[:, None] * unit[c, speed_index[:, None]]
    cost[~valid | ~np.isfinite(weight)] = np.inf
    no_speed = ~np.isfinite(cost).any(axis=1)
    capacity = racks.switches[: n_l].astype(float)
    held = np.full(n_e, -1, np.intp)  # candidate column each endpoint holds
    for _ in range(n_l + cand.shape[1] + 1):
        free = np.flatnonzero((held < 0) & np.isfinite(cost).any(axis=1))
        if len(free) == 0:
            break
        choice = np.argmin(cost[free], axis=1)
        proposers = np.concatenate([np.flatnonzero(held >= 0), free])
        columns = np.concatenate([held[held >= 0], choice])
        leaf = c[proposers, columns]
        dist = cost[proposers, columns]
        w = weight[proposers, columns]
        by = np.lexsort((proposers, dist, leaf))
        leaf, proposers, columns, w = leaf[by], proposers[by], columns[by], w[by]
        total = np.cumsum(w)
        first = np.searchsorted(leaf, leaf, side="left")
        before = np.where(first > 0, total[np.maximum(first - 1, 0)], 0.0)
        keep = (total - before) <= capacity[leaf] + 1e-9
        held[proposers[keep]] = columns[keep]
        turned = proposers[~keep]
        held[turned] = -1
        # A leaf that turned a rack away is no candidate for it any more.
        away = leaf[~keep]
        cost[turned[:, None], np.arange(cand.shape[1])[None, :]] = np.where(
            c[turned] == away[:, None], np.inf, cost[turned])
        if len(turned) == 0:
            break
    has = held >= 0
    leaf_of[has] = c[np.flatnonzero(has), held[has]]
    return leaf_of, no_speed


def _spread(lower: np.ndarray, uplinks: np.ndarray, upper: np.ndarray,
            weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Each lower rack's uplinks spread over the upper racks by weighted round-robin.

    The upper racks' ports (``weights``: switches) are dealt in turn, one port of each
    rack per round; the lower racks' uplinks take them in order, continuing where the
    previous rack stopped. So every upper rack gets its share of all the uplinks within
    one round, and each lower rack spreads over the upper racks as evenly as its count
    allows.
    """
    w = np.asarray(weights, np.int64)
    total_w = int(w.sum())
    if len(lower) == 0 or len(upper) == 0 or total_w <= 0:
        return np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0, np.int64)
    m = len(upper)
    rounds = np.arange(int(w.max()))
    owner = np.nonzero(w[None, :] > rounds[:, None])[1]  # slot -> upper, round by round
    cum = np.zeros((m, total_w + 1), np.int64)
    cum[owner, np.arange(total_w) + 1] = 1
    cum = np.cumsum(cum, axis=1)
    uplinks = np.asarray(uplinks, np.int64)
    start = (np.cumsum(uplinks) - uplinks) % total_w
    cycles, rem = np.divmod(uplinks, total_w)
    end = start + rem
    wrapped = end > total_w
    within = cum[:, np.minimum(end, total_w)] - cum[:, start]
    within += np.where(wrapped[None, :], cum[:, np.maximum(end - total_w, 0)], 0)
    counts = cycles[:, None] * w[None, :] + within.T
    i, j = np.nonzero(counts)
    return lower[i], upper[j], counts[i, j]


def _pair_speeds(racks: NetworkRacks, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Speed of the links between racks ``a[i]`` and ``b[i]`` (indices into the network's
    racks): the highest both switches run, looked up per pair of switch types."""
    kinds = list({t.id: t for t in racks.switch_types}.values())
    ids = {t.id: k for k, t in enumerate(kinds)}
    table = np.array([[uplink_speed(x, y) for y in kinds] for x in kinds], float)
    index = np.array([ids[t.id] for t in racks.switch_types], np.intp)
    return table[index[a], index[b]]


def derive_network(project: Project, racks: NetworkRacks,
                   run: np.ndarray | None = None) -> DerivedNetwork:  # fmt: skip
    """Links, port use and budget of one network for the project's current positions
    (``run``: each item's run of touching racks, :func:`racks_in_rows`)."""
    items = project.items
    if run is None:
        run = racks_in_rows(project, project.sizes())
    x, y = items.x, items.y
    n_racks = len(racks.all_rows)
    leaves, spines, cores = (racks.rows[t] for t in TIERS)
    n_l, n_s = len(leaves), len(spines)
    index = np.arange(n_racks)
    leaf_idx, spine_idx, core_idx = index[:n_l], index[n_l:n_l + n_s], index[n_l + n_s:]
    spine_switch = racks.switch_types[spine_idx[0]] if n_s else None
    leaf_up = np.array([uplink_speed(racks.switch_types[k], spine_switch) if spine_switch else 0.0
                        for k in leaf_idx])  # fmt: skip
    leaf_of, no_speed = _assign(x, y, run, racks, leaf_up)
    rule = NETWORK_RULES[racks.network]
    parts_a, parts_b, parts_n, parts_s, parts_t = [], [], [], [], []
    has = leaf_of >= 0
    parts_a.append(racks.endpoint_rows[has])
    parts_b.append(leaves[leaf_of[has]])
    parts_n.append(racks.endpoint_ports[has])
    parts_s.append(racks.endpoint_speed[has])
    parts_t.append(np.zeros(int(has.sum()), np.int8))
    down_gbps = np.bincount(leaf_of[has], weights=racks.endpoint_ports[has]
                            * racks.endpoint_speed[has], minlength=n_l)  # fmt: skip
    uplinks = np.array([uplinks_needed(float(down_gbps[k]), int(racks.switches[k]),
                                       float(leaf_up[k]), rule) for k in leaf_idx],
                       np.int64)  # fmt: skip
    spine_in_gbps = np.zeros(n_s)
    if n_s:
        for pod in np.unique(racks.pods[leaf_idx]):
            lower = leaf_idx[racks.pods[leaf_idx] == pod]
            upper = spine_idx[racks.pods[spine_idx] == pod] if racks.has_cores else spine_idx
            a, b, n = _spread(lower, uplinks[lower], upper, racks.switches[upper].astype(float))
            s = _pair_speeds(racks, a, b)
            parts_a.append(racks.all_rows[a])
            parts_b.append(racks.all_rows[b])
            parts_n.append(n)
            parts_s.append(s)
            parts_t.append(np.ones(len(a), np.int8))
            spine_in_gbps += np.bincount(b - n_l, weights=n * s, minlength=n_s)
    if n_s and len(cores):
        core_switch = racks.switch_types[core_idx[0]]
        core_up = np.array([uplink_speed(racks.switch_types[k], core_switch) for k in spine_idx])
        spine_up = np.array([uplinks_needed(float(spine_in_gbps[k]), int(racks.switches[j]),
                                            float(core_up[k]), SPINE_RULE)
                             for k, j in enumerate(spine_idx)], np.int64)  # fmt: skip
        a, b, n = _spread(spine_idx, spine_up, core_idx, racks.switches[core_idx].astype(float))
        parts_a.append(racks.all_rows[a])
        parts_b.append(racks.all_rows[b])
        parts_n.append(n)
        parts_s.append(_pair_speeds(racks, a, b))
        parts_t.append(np.full(len(a), 2, np.int8))
    a_rows, b_rows = np.concatenate(parts_a), np.concatenate(parts_b)
    count, speed = np.concatenate(parts_n).astype(np.int64), np.concatenate(parts_s)
    tier = np.concatenate(parts_t)
    # Ports used per speed on each switch rack (a switch-to-switch link takes one at each end).
    position = np.full(len(items), -1, np.intp)
    position[racks.all_rows] = index
    ports_used: dict[float, np.ndarray] = {}
    for s in np.unique(speed):
        at = speed == s
        used = np.zeros(n_racks, np.int64)
        for rows in (a_rows[at], b_rows[at]):
            k = position[rows]
            on = k >= 0
            used += np.bincount(k[on], weights=count[at][on], minlength=n_racks).astype(np.int64)
        ports_used[float(s)] = used
    budget = _budget(racks, ports_used)
    return DerivedNetwork(racks, leaf_of, a_rows, b_rows, count, speed, tier, ports_used,
                          budget, no_speed)  # fmt: skip


def _budget(racks: NetworkRacks, ports_used: Mapping[float, np.ndarray]) -> np.ndarray:
    """Share of each rack's port budget in use (inf: ports at a speed its switch lacks)."""
    n = len(racks.all_rows)
    share = np.zeros(n)
    for s, used in ports_used.items():
        radix = np.array([t.radix(s) for t in racks.switch_types], float) * racks.switches
        with np.errstate(divide="ignore", invalid="ignore"):
            part = np.where(used > 0, used / radix, 0.0)
        fixed = np.array([t.fixed_ports for t in racks.switch_types], bool)
        share = np.where(fixed, np.maximum(share, part), share + part)
    return share


# -- shared per check ------------------------------------------------------------------------
def networks_of(context: CheckContext) -> dict[str, DerivedNetwork]:
    """Every placed network, derived once per check."""
    return context.once("networks.derived", lambda: _derive_all(context))


def _derive_all(context: CheckContext) -> dict[str, DerivedNetwork]:
    racks = context.memo("networks.racks", lambda: _racks_of(context.project))
    run = racks_in_rows(context.project, context.sizes)
    return {name: derive_network(context.project, r, run) for name, r in racks.items()}


def _other_links(context: CheckContext) -> OtherLinks | None:
    derived = networks_of(context)
    if not derived:
        return None
    nets = list(derived.values())
    tiers = ("endpoint-leaf", "leaf-spine", "spine-core")
    # One label per network and tier, picked by code: no string built per bundle.
    names = np.array([f"{d.network}: {t}" for d in nets for t in tiers], dtype=object)
    codes = np.concatenate([k * len(tiers) + d.tier.astype(np.intp) for k, d in enumerate(nets)])
    return OtherLinks(
        np.concatenate([d.a for d in nets]).astype(np.intp),
        np.concatenate([d.b for d in nets]).astype(np.intp),
        np.concatenate([d.count for d in nets]).astype(np.int64),
        np.concatenate([d.speed for d in nets]).astype(float),
        names[codes],
    )


OTHER_LINKS.append(_other_links)


def _cables_of(context: CheckContext) -> dict[str, slice]:
    """Where each network's bundles sit in the routed other links (same order)."""
    out, start = {}, 0
    for name, d in networks_of(context).items():
        out[name] = slice(start, start + len(d.a))
        start += len(d.a)
    return out


def _ids(context: CheckContext, rows: np.ndarray) -> list[str]:
    ids = context.project.items.ids
    return [ids[int(r)] for r in rows]


def _shown(ids: list[str]) -> str:
    return ", ".join(ids[:_SHOWN]) + (f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else "")


def _where(context: CheckContext, row: int) -> tuple[float, float]:
    items = context.project.items
    return (float(items.x[row]), float(items.y[row]))


def _ports_text(racks: NetworkRacks, used: Mapping[float, np.ndarray], k: int) -> str:
    t = racks.switch_types[k]
    n = int(racks.switches[k])
    uses = ", ".join(f"{int(u[k]):,} × {s:g}G" for s, u in sorted(used.items()) if u[k])
    has = ", ".join(f"{n * g.count:,} × {g.speed_gbps:g}G" for g in t.ports)
    return f"{uses or 'no ports'} on {n} × {t.id} ({has}{', fixed' if t.fixed_ports else ''})"


# -- rules -----------------------------------------------------------------------------------
@rule("network.capacity", "error", "Each front-end, storage and management switch uses ports "
      "within its budget, and every rack finds a leaf with free ports.")  # fmt: skip
def capacity(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    for name, d in networks_of(context).items():
        racks = d.racks
        title = NETWORK_TITLES[name].lower()
        for rack_id, installed, holds in racks.over_capacity:
            row = context.project.items.row(rack_id)
            yield rule.violation(f"{title} network: {rack_id} has {installed} switches installed "
                                 f"but holds {holds}", (rack_id,), _where(context, row))
        for k in np.flatnonzero(d.budget > 1 + 1e-9):
            row = int(racks.all_rows[k])
            rack_id = context.project.items.ids[row]
            tier = TIERS[int(racks.tier_of[k])]
            share = "no such ports" if not np.isfinite(d.budget[k]) else f"{d.budget[k]:.0%}"
            yield rule.violation(
                f"{title} network: {tier} rack {rack_id} is over its port budget ({share}): "
                f"{_ports_text(racks, d.ports_used, int(k))}",
                (rack_id,), _where(context, row),
            )  # fmt: skip
        left = np.flatnonzero((d.leaf_of < 0) & ~d.no_speed)
        if len(left) and len(racks.rows["leaf"]):
            rows = racks.endpoint_rows[left]
            ports = int(racks.endpoint_ports[left].sum())
            speeds = "/".join(f"{s:g}G" for s in np.unique(racks.endpoint_speed[left]))
            ids = _ids(context, rows)
            yield rule.violation(
                f"{title} network: {len(ids)} rack(s) with {ports:,} {speeds} ports find no "
                f"leaf with free ports among their row's and the {CANDIDATES} nearest: "
                f"{_shown(ids)}", ids, _where(context, int(rows[0])),
            )  # fmt: skip


@rule("network.connected", "error", "Every server and storage rack reaches its front-end, "
      "storage and management network, and each network is one domain.")  # fmt: skip
def connected(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    n = len(context.project.items)
    for name, d in networks_of(context).items():
        racks = d.racks
        title = NETWORK_TITLES[name].lower()
        if len(racks.endpoint_rows) == 0:
            continue
        if len(racks.rows["leaf"]) == 0:
            ids = _ids(context, racks.endpoint_rows)
            first = int(racks.endpoint_rows[0])
            yield rule.violation(f"{title} network: no leaf rack for {len(ids)} rack(s): "
                                 f"{_shown(ids)}", ids, _where(context, first))
            continue
        if d.no_speed.any():
            rows = racks.endpoint_rows[d.no_speed]
            ids = _ids(context, rows)
            speeds = "/".join(f"{s:g}G" for s in np.unique(racks.endpoint_speed[d.no_speed]))
            yield rule.violation(f"{title} network: no leaf runs at {speeds} for {len(ids)} "
                                 f"rack(s): {_shown(ids)}", ids, _where(context, int(rows[0])))
        graph = coo_matrix((np.ones(len(d.a)), (d.a, d.b)), shape=(n, n))
        _, label = connected_components(graph, directed=False)
        has = d.leaf_of >= 0
        rows = racks.endpoint_rows[has]
        if len(rows) == 0:
            continue
        weight = np.bincount(label[rows], weights=racks.endpoint_ports[has])
        main = int(np.argmax(weight))
        cut = rows[label[rows] != main]
        if len(cut):
            ids = _ids(context, cut)
            yield rule.violation(
                f"{title} network: {len(ids)} rack(s) are cut off from the rest of the network "
                f"(no path through the spines): {_shown(ids)}", ids, _where(context, int(cut[0])),
            )  # fmt: skip
        if len(racks.rows["spine"]) == 0 and len(racks.rows["leaf"]) > 1:
            leaves = _ids(context, racks.rows["leaf"])
            first = int(racks.rows["leaf"][0])
            yield rule.violation(f"{title} network: {len(leaves)} leaf racks and no spine rack "
                                 "joins them", leaves[:1], _where(context, first))


@rule("network.reach", "error", "Every front-end, storage and management link has an allowed "
      "medium that reaches its length.")  # fmt: skip
def reach(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    result = routed(context)
    if result is None or result.others is None:
        return
    others = result.others
    ids = context.project.items.ids
    for name, part in _cables_of(context).items():
        medium = others.medium[part]
        bad = np.flatnonzero(medium < 0)
        for k in bad[:50]:
            j = part.start + int(k)
            a, b = int(others.links.a[j]), int(others.links.b[j])
            speed = float(others.links.speed_gbps[j])
            longest = result.table.longest_reach(speed)
            yield rule.violation(
                f"{NETWORK_TITLES[name].lower()} network: {int(others.links.count[j]):,} "
                f"{speed:g}G link(s) {ids[a]}–{ids[b]} of {others.length_m[j]:.1f} m: no allowed "
                f"medium reaches that far (longest reach {longest:g} m)",
                (ids[a], ids[b]), _where(context, a),
            )  # fmt: skip
        if len(bad) > 50:
            yield rule.violation(f"{NETWORK_TITLES[name].lower()} network: {len(bad) - 50} more "
                                 "bundles without a medium that reaches")


# -- summary ---------------------------------------------------------------------------------
def network_summary(context: CheckContext) -> dict[str, dict[str, Any]]:
    """Per network: racks, switches (per tier), links (per tier), ports and kW.

    ``ports_used`` counts switch ports in use by speed (a link between two switches
    uses one at each end); ``ports_free`` is what each rack's unused budget holds at
    the speed it uses most (its fastest speed when it uses none); ``kw`` is the
    switches at their maximum draw plus the racks' other load, as the power check
    counts them.
    """
    project = context.project
    out: dict[str, dict[str, Any]] = {}
    for name, d in networks_of(context).items():
        racks = d.racks
        switches = {t: int(racks.switches[racks.tier_of == k].sum()) for k, t in enumerate(TIERS)}
        kw, free = 0.0, 0
        for k, t in enumerate(racks.switch_types):
            n = int(racks.switches[k])
            rack_type = project.catalog[project.items.type_ids[int(racks.all_rows[k])]]
            kw += n * (t.max_kw or t.kw) + getattr(rack_type, "other_kw", 0.0)
            free += _free_ports(t, n, {sp: int(u[k]) for sp, u in d.ports_used.items() if u[k]},
                                float(d.budget[k]))  # fmt: skip
        links = {t: int(d.count[d.tier == k].sum())
                 for k, t in enumerate(("endpoint-leaf", "leaf-spine", "spine-core"))}  # fmt: skip
        out[name] = {
            "racks": len(racks.all_rows),
            "switches": sum(switches.values()),
            "switches_per_tier": switches,
            "tiers": 3 if switches["core"] else 2 if switches["spine"] else 1,
            "links": int(d.count.sum()),
            "links_per_tier": links,
            "endpoint_ports": int(racks.endpoint_ports.sum()),
            "ports_used": {f"{sp:g}G": int(u.sum()) for sp, u in sorted(d.ports_used.items())},
            "ports_free": free,
            "kw": round(kw, 1),
        }
    return out


def _free_ports(switch: SwitchType, n: int, used: Mapping[float, int], budget: float) -> int:
    """Ports left on a rack of ``n`` switches, at the speed it uses most."""
    if used:
        main = max(used, key=lambda speed: used[speed])
    else:
        main = max(g.speed_gbps for g in switch.ports)
    if switch.fixed_ports:
        return max(0, n * switch.radix(main) - used.get(main, 0))
    left = max(0.0, 1.0 - budget) if math.isfinite(budget) else 0.0
    return math.floor(left * n * switch.radix(main) + 1e-9)


@metric("networks")
def networks_metrics(context: CheckContext) -> Mapping[str, Any]:
    summary = network_summary(context)
    storage = _storage_summary(context)
    out: dict[str, Any] = {}
    if summary:
        out["networks"] = summary
    if storage["racks"]:
        out["storage_racks"] = storage
    return out


def _storage_summary(context: CheckContext) -> dict[str, Any]:
    project = context.project
    racks, kw, read, capacity = 0, 0.0, 0.0, 0.0
    for type_id, n in Counter(project.items.type_ids).items():
        t = project.catalog[type_id]
        if isinstance(t, StorageRackType):
            racks += n
            kw += n * t.kw
            read += n * t.read_gbytes_s
            capacity += n * t.usable_capacity_tb
    gpus = project.gpu_count()
    return {
        "racks": racks, "kw": round(kw, 1), "read_gbytes_s": round(read, 1),
        "usable_capacity_tb": round(capacity, 1),
        "read_gbytes_s_per_gpu": round(read / gpus, 3) if gpus else None,
    }  # fmt: skip


__all__ = [
    "DerivedNetwork",
    "NetworkRacks",
    "derive_network",
    "network_summary",
    "networks_of",
]
