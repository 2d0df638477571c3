"""The GPU fabric as placed: derived switches and links, coherence rules, metrics, what-if.

Owns the derivation of the back-end (GPU) fabric from what is placed, and the
checks on it. The derivation never reuses the generator's arithmetic and never
builds from the spec's targets: it reads

- each back-end network rack (``network`` property missing or ``"backend"``;
  front-end, storage and management racks are ignored): its ``tier`` (leaf,
  spine, core), ``pod``, ``plane``, its own type's switch type and how many
  switches are installed (``switches``, at most what the rack holds);
- each GPU rack: its servers' NIC ports (GPUs × the type's ``nics_per_gpu``)
  and NIC speed (the type's, or the item's ``nic_speed_gbps`` property when
  lower);
- the spec's ``assignments`` (leaf rack → the GPU racks it serves), planes,
  ``dual_homed`` and per-tier ``link_speeds_gbps`` (a missing entry is the NIC
  speed over the planes; GPU links of a dual-homed fabric run at half that).

Links are bundles between racks held as numpy arrays (rack row A, rack row B,
link count), never one object per cable:

- GPU → leaf: per plane, every NIC port of a rack gives one link (two when
  dual-homed), spread evenly over the plane's leaf racks serving the rack;
- leaf → spine: a leaf rack's uplinks are the ports its switches have left
  after its GPU links, under the port budget (a switch using ``n_s`` ports at
  speed ``s`` is within its radix when ``Σ n_s / radix(s) ≤ 1``), at the
  leaf-spine speed. They are shared max-min fairly (water-filling) over the
  ports of the spine racks of the leaf's pod and plane (pods group leaves
  and spines only in a 3-tier fabric), each leaf's share spread over those
  spine racks in proportion to their ports;
- spine → core: likewise, a spine rack's uplinks are the ports left after the
  leaf links it took, shared over the core racks of its plane. A spine's
  ports split into down and up by what its leaves use, never by the target.
  In a 3-tier plane a spine first keeps for the cores its share of their
  ports (in proportion to its own ports, and never more than half of them: an
  uplink beyond that has no downlink to feed it); its leaves share the rest.

A rack with nothing below it draws no uplinks (an idle switch carries nothing). A
leaf with spare down-ports (a partial array) draws its spare ports up too, as far
as its spines' ports go; its uplinks then count at the share its GPUs can fill.

Achieved oversubscription follows from what is drawn, per rack, in bandwidth:
down (the GPU links, or each downlink at the share of a link the rack below
can fill: a leaf with more uplinks than GPU links cannot fill them) over up.
The spec's ``oversubscription`` targets are only compared against.

A link's propagation delay comes from its routed length and medium
(:mod:`physics.cabling`); a project without trays falls back to the Manhattan
distance between the two racks' centres at ``fiber_ns_per_m``. Worst-case
path: up through leaf, spine and core and down again; latency = each hop's
switch latency (its switch type's ``latency_ns``, the rule
``per_hop_latency_ns`` when the type has none; the slowest type of a tier
counts for the tier) + twice the slowest link of each tier.

The fabric is *coherent* when none of the coherence rules
(:data:`COHERENCE_RULES`) that ran found a violation: a waiver does not make a
fabric coherent; disabling a rule leaves its property unchecked. Each
criterion, its figure and its limit are listed by
:func:`physics.fabric_figures.coherence`.

Derivation depends on the project's structure only (items, types,
properties, sections), never on positions: a :class:`~physics.engine.Checker`
keeps it (``context.memo``) while racks are only moved.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, shortest_path

from layout.catalog import GpuRackType, NetworkRackType, SwitchType
from layout.errors import CoherenceError
from layout.fabric_plan import MAX_RADIX, max_endpoints
from layout.project import FabricSpec, Project
from physics.engine import CheckContext, RuleProvider, Severity, Violation, metric, rule
from physics.whatif import FabricLoss, effect

TIERS = ("leaf", "spine", "core")
LINK_TIERS = ("gpu-leaf", "leaf-spine", "spine-core")
COUNT_CEILING = 2**31 - 1
"""A ``switches`` or ``plane`` property above this reads as this (a count so far past any
rack's that the rules report it all the same), so that arrays of counts never overflow."""
POD_CEILING = 999_999
"""Pod numbers above this read as this: pods are grouped by plane × 1,000,000 + pod."""
BACKEND = "backend"
"""The ``network`` property of the GPU fabric's racks (the default when it is missing)."""
EPS = 1e-9


@dataclass(frozen=True)
class LinkBundles:
    """Links between pairs of racks: ``count[i]`` links from row ``a[i]`` to row ``b[i]``."""

    a: np.ndarray
    b: np.ndarray
    count: np.ndarray

    @property
    def total(self) -> int:
        return int(self.count.sum())

    @staticmethod
    def empty() -> LinkBundles:
        return LinkBundles(np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0, np.int64))

    def per_rack(self, n_rows: int, side: str) -> np.ndarray:
        """Links per item row on side ``"a"`` or ``"b"``."""
        rows = self.a if side == "a" else self.b
        return np.bincount(rows, weights=self.count, minlength=n_rows).astype(np.int64)


@dataclass
class DerivedFabric:
    """Switches per tier (by network rack), link bundles per tier, and per-rack figures.

    Per-row arrays are indexed by item row and are 0 (or -1) for items they do not
    concern.
    """

    tiers: int
    """Switch tiers placed: 3 with core racks, 2 with spine racks, else 1."""
    planes: int
    link_speeds_gbps: tuple[float, float, float]
    """Speed of one link per link tier (gpu-leaf, leaf-spine, spine-core)."""
    links_per_nic_port: int
    """Links per GPU NIC port per plane: 2 when dual-homed, else 1."""
    gpu_ports: np.ndarray
    """GPU NIC ports per item row (0 for anything but GPU racks)."""
    nic_speed_gbps: np.ndarray
    """Each GPU rack's NIC speed (its type's, or its ``nic_speed_gbps`` property when lower)."""
    switch_rows: dict[str, np.ndarray]
    switches_in: np.ndarray
    """Installed switches per item row (0 for anything but back-end network racks)."""
    links: dict[str, LinkBundles]
    unassigned: list[str]
    plane_of: np.ndarray
    """The plane of each network rack, by item row (0 for everything else)."""
    switch_types: tuple[str, ...]
    """The switch types of the back-end network racks."""
    type_of: np.ndarray
    """Per item row: index into :attr:`switch_types` (-1 for all but back-end network racks)."""
    radix_at: np.ndarray
    """(switch types, link tiers): ports of each switch type at each link tier's speed."""
    switch_latency_ns: np.ndarray
    """Per switch type: its port-to-port latency (NaN where the catalog gives none)."""
    switch_protocols: tuple[str, ...]
    """Per switch type: its protocol (ethernet, infiniband)."""
    ends: np.ndarray
    """(rows, link tiers): link ends at each row per link tier (ports in use at its speed)."""
    budget_used: np.ndarray
    """Per row: the switches' worth of ports in use (``Σ n_s / radix(s)``; inf where a link
    runs at a speed the rack's switch has no port for)."""
    down_gbps: np.ndarray
    """Per row: bandwidth below a network rack that can reach its uplinks (Gb/s)."""
    up_gbps: np.ndarray
    """Per row: a network rack's uplink bandwidth (Gb/s)."""
    dangling: list[tuple[str, tuple[str, ...], Severity]] = field(default_factory=list)
    """Assignments naming what is not there: (message, items named, severity)."""

    @property
    def max_hops(self) -> int:
        """The switch hops of a clean tree of this many tiers: up to the top and down."""
        return 2 * self.tiers - 1

    @property
    def endpoints(self) -> int:
        """GPU NIC ports (per plane)."""
        return int(self.gpu_ports.sum())

    @property
    def switches(self) -> dict[str, int]:
        return {t: int(self.switches_in[rows].sum()) for t, rows in self.switch_rows.items()}

    @property
    def network_rows(self) -> np.ndarray:
        """Rows of the back-end network racks, in row order."""
        return np.flatnonzero(self.type_of >= 0)

    def ratio(self, rows: np.ndarray) -> np.ndarray:
        """Achieved down:up ratio of the racks at ``rows`` (inf: traffic below, no uplinks)."""
        down, up = self.down_gbps[rows], self.up_gbps[rows]
        out = np.where(down > EPS, np.inf, 0.0)
        return np.divide(down, up, out=out, where=up > EPS)

    def radix_of(self, rows: np.ndarray, tier: int) -> np.ndarray:
        """Ports of each row's switch type at the speed of link tier ``tier`` (0 off-type)."""
        types = self.type_of[rows]
        return np.where(types >= 0, self.radix_at[np.maximum(types, 0), tier], 0)


def installed_switches(project: Project, row: int) -> int:
    """Switches installed in the network rack at ``row``: its ``switches`` property or all."""
    t = project.catalog[project.items.type_ids[row]]
    if not isinstance(t, NetworkRackType):
        return 0
    value = switches_property(project.items.properties_at(row))
    return t.switches if value is None else value


def switches_property(properties: Mapping[str, object]) -> int | None:
    """A network rack's ``switches`` property (up to :data:`COUNT_CEILING`); None if not
    a whole number ≥ 0."""
    value = properties.get("switches")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return min(value, COUNT_CEILING)
    return None


def is_backend(properties: Mapping[str, object]) -> bool:
    """A network rack of the GPU (back-end) fabric: ``network`` missing or ``"backend"``."""
    return properties.get("network", BACKEND) == BACKEND


def link_speeds(spec: FabricSpec) -> tuple[float, float, float]:
    """Speed of one link per link tier: the spec's ``link_speeds_gbps`` where given, else
    the NIC speed over the planes (half that for a dual-homed fabric's GPU links)."""
    base = float(spec.nic_speed_gbps or 0.0) / spec.planes
    given = list(spec.link_speeds_gbps)
    defaults = [base / 2 if spec.dual_homed else base, base, base]
    speeds = [float(given[k]) if k < len(given) else defaults[k] for k in range(3)]
    return speeds[0], speeds[1], speeds[2]


@dataclass
class _NetworkRacks:
    rows_by_tier: dict[str, np.ndarray]
    switches_in: np.ndarray
    pods: np.ndarray
    plane_of: np.ndarray
    backend: np.ndarray
    """Per row: a back-end network rack (with or without a tier)."""
    type_of: np.ndarray
    switch_types: tuple[str, ...]
    radix_at: np.ndarray
    latency_ns: np.ndarray
    protocols: tuple[str, ...]
    speeds: tuple[float, float, float]


def _network_racks(
    project: Project, kinds: np.ndarray, speeds: tuple[float, float, float], leaf_ids: set[str]
) -> _NetworkRacks:
    """The back-end network racks: tier, installed switches, pod, plane and switch type.

    A back-end rack without a tier that the assignments name as a leaf is a leaf.
    """
    items, catalog = project.items, project.catalog
    n = len(items)
    by_tier: dict[str, list[int]] = {t: [] for t in TIERS}
    switches_in = np.zeros(n, np.int64)
    pods = np.zeros(n, np.int64)
    plane_of = np.zeros(n, np.int64)
    backend = np.zeros(n, bool)
    type_of = np.full(n, -1, np.intp)
    type_index: dict[str, int] = {}
    for row in np.flatnonzero(kinds == "network_rack").tolist():
        props = items.properties_at(row)
        if not is_backend(props):
            continue
        rack = catalog[items.type_ids[row]]
        backend[row] = True
        tier = props.get("tier")
        if tier not in by_tier and items.ids[row] in leaf_ids:
            tier = "leaf"
        if tier not in by_tier:
            continue
        by_tier[str(tier)].append(row)
        value = switches_property(props)
        # What is installed, never more than the rack holds (the radix rule names the excess).
        switches_in[row] = rack.switches if value is None else min(value, rack.switches)
        pods[row] = _whole(props.get("pod", 0), POD_CEILING)
        plane_of[row] = _whole(props.get("plane", 0), COUNT_CEILING)
        type_of[row] = type_index.setdefault(rack.switch, len(type_index))
    switch_types = tuple(type_index)
    radix_at = np.zeros((len(switch_types), 3), np.int64)
    latency = np.full(len(switch_types), np.nan)
    protocols = []
    for k, type_id in enumerate(switch_types):
        switch = catalog[type_id]
        assert isinstance(switch, SwitchType)
        radix_at[k] = [switch.radix(s) for s in speeds]
        if switch.latency_ns is not None:
            latency[k] = switch.latency_ns
        protocols.append(switch.protocol)
    rows = {t: np.asarray(r, dtype=np.intp) for t, r in by_tier.items()}
    return _NetworkRacks(rows, switches_in, pods, plane_of, backend, type_of, switch_types,
                         radix_at, latency, tuple(protocols), speeds)  # fmt: skip


def _gpu_racks(project: Project, kinds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NIC ports and NIC speed of every GPU rack, by row (0 elsewhere)."""
    items, catalog = project.items, project.catalog
    n = len(items)
    ports_of: dict[str, int] = {}
    speed_of: dict[str, float] = {}
    for type_id in set(items.type_ids):
        t = catalog[type_id]
        if isinstance(t, GpuRackType):
            ports_of[type_id] = t.gpus * t.nics_per_gpu
            speed_of[type_id] = float(t.nic_speed_gbps)
    ports = np.fromiter((ports_of.get(t, 0) for t in items.type_ids), np.int64, n)
    speed = np.fromiter((speed_of.get(t, 0.0) for t in items.type_ids), float, n)
    ports[kinds != "gpu_rack"] = 0
    for row in np.flatnonzero(ports).tolist():
        value = items.properties_at(row).get("nic_speed_gbps")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            speed[row] = min(speed[row], float(value))
    return ports, speed


def derive(project: Project) -> DerivedFabric | None:
    """The fabric placed in the project (see the module docstring); None without a NIC speed
    in the fabric spec (no fabric planned yet)."""
    spec = project.fabric
    if spec.nic_speed_gbps is None:
        return None
    planes = spec.planes
    speeds = link_speeds(spec)
    per_port = 2 if spec.dual_homed else 1
    items = project.items
    n = len(items)
    kinds = project.kinds()
    net = _network_racks(project, kinds, speeds, set(spec.assignments))
    gpu_ports, nic_speed = _gpu_racks(project, kinds)
    gpu_links, served, dangling = _gpu_links(project, kinds, net, gpu_ports * per_port)
    tiers = 3 if len(net.rows_by_tier["core"]) else 2 if len(net.rows_by_tier["spine"]) else 1

    radix = np.zeros((n, 3), np.int64)
    has_type = net.type_of >= 0
    radix[has_type] = net.radix_at[net.type_of[has_type]]
    ends = np.zeros((n, 3), np.int64)
    ends[:, 0] = gpu_links.per_rack(n, "b")
    links = {"gpu-leaf": gpu_links, "leaf-spine": LinkBundles.empty(),
             "spine-core": LinkBundles.empty()}  # fmt: skip
    leaves, spines, cores = (net.rows_by_tier[t] for t in TIERS)
    if tiers > 1:
        # Pods only group leaves with spines in a 3-tier tree; planes never mix.
        pod_of = net.pods if tiers == 3 else np.zeros(n, np.int64)
        group = net.plane_of * 1_000_000 + pod_of
        down, _ = _bandwidth(links, speeds, n)
        reserve = _core_reserve(net, radix, ends, spines, cores) if tiers == 3 else None
        links["leaf-spine"] = _uplinks(
            leaves, _ports_left(net, radix, ends, leaves, 1, below_gbps=down[leaves]),
            spines, _ports_left(net, radix, ends, spines, 1, reserve=reserve), group,
        )
        ends[:, 1] = links["leaf-spine"].per_rack(n, "a") + links["leaf-spine"].per_rack(n, "b")
    if tiers == 3:
        down, _ = _bandwidth(links, speeds, n)
        links["spine-core"] = _uplinks(
            spines, _ports_left(net, radix, ends, spines, 2, below_gbps=down[spines]),
            cores, _ports_left(net, radix, ends, cores, 2), net.plane_of,
        )
        ends[:, 2] = links["spine-core"].per_rack(n, "a") + links["spine-core"].per_rack(n, "b")
    budget = _budget(ends, radix)
    down, up = _bandwidth(links, speeds, n)
    unassigned = [items.ids[r]
                  for r in np.flatnonzero((gpu_ports > 0) & ~served.all(axis=0)).tolist()]
    return DerivedFabric(
        tiers, planes, speeds, per_port, gpu_ports, nic_speed, net.rows_by_tier,
        net.switches_in, links, unassigned, net.plane_of, net.switch_types, net.type_of,
        net.radix_at, net.latency_ns, net.protocols, ends, budget, down, up, dangling,
    )  # fmt: skip


def _budget(ends: np.ndarray, radix: np.ndarray) -> np.ndarray:
    """Per row, the switches' worth of ports its links use (inf for a link at a speed the
    switch lacks)."""
    share = np.divide(ends, radix, out=np.zeros(ends.shape), where=radix > 0)
    share[(ends > 0) & (radix == 0)] = np.inf
    return share.sum(axis=1)


def _ports_left(
    net: _NetworkRacks, radix: np.ndarray, ends: np.ndarray, rows: np.ndarray, tier: int,
    *, below_gbps: np.ndarray | None = None, reserve: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """Ports at link tier ``tier``'s speed the racks at ``rows`` have left after the links
    they already have (and after ``reserve``, switches' worth kept for another tier).

    With ``below_gbps`` (the bandwidth below each rack), these are uplinks, and a rack with
    nothing below draws none (an idle switch carries nothing).
    """
    if len(rows) == 0:
        return np.zeros(0, np.int64)
    used = _budget(ends[rows], radix[rows])
    if reserve is not None:
        used = used + reserve
    left = net.switches_in[rows] - used
    # A rack over its budget at a speed its switch lacks (inf used) has nothing left.
    free = np.floor(np.where(np.isfinite(left), left, 0.0) * radix[rows, tier] + EPS)
    if below_gbps is not None:
        free[below_gbps <= EPS] = 0
    return np.maximum(free, 0).astype(np.int64)


def _core_reserve(
    net: _NetworkRacks, radix: np.ndarray, ends: np.ndarray, spines: np.ndarray,
    cores: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Switches' worth of each spine rack's ports kept for the cores, before its leaves take
    theirs: its share of its plane's core ports (by its own ports at the spine-core speed),
    at most half its ports (an uplink beyond that has no downlink to feed it)."""
    free = np.maximum(net.switches_in[spines] - _budget(ends[spines], radix[spines]), 0.0)
    free = np.where(np.isfinite(free), free, 0.0)
    r2 = radix[spines, 2].astype(float)
    ports = free * r2
    core_ports = _ports_left(net, radix, ends, cores, 2).astype(float)
    # Plane numbers may be huge (odd data): count per plane over the planes present.
    planes, index = np.unique(np.concatenate([net.plane_of[spines], net.plane_of[cores]]),
                              return_inverse=True)  # fmt: skip
    plane, core_plane = index[: len(spines)], index[len(spines) :]
    offered = np.bincount(core_plane, weights=core_ports, minlength=len(planes))
    wanted = np.bincount(plane, weights=ports, minlength=len(planes))
    share = np.divide(offered[plane] * ports, wanted[plane], out=np.zeros(len(spines)),
                      where=wanted[plane] > 0)  # fmt: skip
    # Whole ports: a spine keeps no fraction of a port from its leaves.
    kept = np.divide(np.floor(share + EPS), r2, out=np.zeros(len(spines)), where=r2 > 0)
    return np.minimum(kept, free / 2)


def _uplinks(
    lower: np.ndarray, want: np.ndarray, upper: np.ndarray, capacity: np.ndarray,
    group: np.ndarray,
) -> LinkBundles:  # fmt: skip
    """Each lower rack's wanted uplinks shared over the upper racks of its group."""
    parts = []
    upper_group = group[upper]
    for g in np.unique(group[lower]):
        mine = lower[group[lower] == g]
        theirs = np.flatnonzero(upper_group == g)
        if len(theirs) == 0:
            continue
        counts = water_fill(want[group[lower] == g], capacity[theirs])
        i, j = np.nonzero(counts)
        parts.append(LinkBundles(mine[i], upper[theirs][j], counts[i, j]))
    return _concat(parts)


def water_fill(want: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Whole links from each lower rack (rows) to each upper rack (columns).

    The upper racks' ports are shared max-min fairly: each lower rack gets what it
    wants or the common level, whichever is less, the level set so the ports suffice.
    Each share is spread over the upper racks in proportion to their ports, rounded
    so that no row gets more than its share and no column more than its ports
    (every entry within one link of the exact proportion).
    """
    want = np.asarray(want, np.int64)
    capacity = np.asarray(capacity, np.int64)
    counts = np.zeros((len(want), len(capacity)), np.int64)
    total = int(capacity.sum())
    if total <= 0 or int(want.sum()) <= 0:
        return counts
    grant = want.copy()
    if int(want.sum()) > total:
        order = np.argsort(want, kind="stable")
        ordered = want[order]
        before = np.concatenate(([0], np.cumsum(ordered)[:-1]))
        rest = len(want) - np.arange(len(want))
        # The level is reached at the first rack whose want, given to it and every
        # larger one, exceeds the ports left.
        k = int(np.searchsorted(before + ordered * rest, total, side="left"))
        k = min(k, len(want) - 1)
        level = (total - int(before[k])) // int(rest[k])
        grant = np.minimum(want, level)
        extra = total - int(grant.sum())
        if extra > 0:
            short = order[want[order] > grant[order]][:extra]
            grant[short] += 1
    exact = np.outer(grant, capacity) / total
    counts = np.floor(exact + EPS).astype(np.int64)
    need = grant - counts.sum(axis=1)
    if need.any():
        slack = capacity - counts.sum(axis=0)
        fraction = exact - counts
        for i in np.flatnonzero(need > 0).tolist():
            # Most ports left first (keeps the columns even), then the largest remainder.
            order = np.lexsort((-fraction[i], -slack))
            order = order[slack[order] > 0][: need[i]]
            counts[i, order] += 1
            slack[order] -= 1
    return counts


def _bandwidth(
    links: dict[str, LinkBundles], speeds: tuple[float, float, float], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Down and up bandwidth per row: a downlink counts at the share of a link the rack
    below can fill (its own down over up, at most 1)."""
    down = np.zeros(n)
    up = np.zeros(n)
    gpu = links["gpu-leaf"]
    down += np.bincount(gpu.b, weights=gpu.count * speeds[0], minlength=n)
    for tier, speed in ((1, speeds[1]), (2, speeds[2])):
        bundle = links[LINK_TIERS[tier]]
        up += np.bincount(bundle.a, weights=bundle.count * speed, minlength=n)
    for tier, speed in ((1, speeds[1]), (2, speeds[2])):
        bundle = links[LINK_TIERS[tier]]
        if not len(bundle.a):
            continue
        below_down, below_up = down[bundle.a], up[bundle.a]
        fill = np.minimum(1.0, np.divide(below_down, below_up, out=np.zeros(len(bundle.a)),
                                         where=below_up > 0))  # fmt: skip
        down += np.bincount(bundle.b, weights=bundle.count * speed * fill, minlength=n)
    return down, up


def _gpu_links(
    project: Project, kinds: np.ndarray, net: _NetworkRacks, links_per_plane: np.ndarray
) -> tuple[LinkBundles, np.ndarray, list[tuple[str, tuple[str, ...], Severity]]]:
    """GPU rack → leaf rack bundles from the assignments, which racks each plane serves, and
    the assignments that name what is not there.

    A rack's links in a plane are spread evenly over that plane's leaf racks serving it.
    """
    items, planes = project.items, project.fabric.planes
    is_gpu_rack = kinds == "gpu_rack"
    served = np.zeros((planes, len(items)), bool)
    a: list[int] = []
    b: list[int] = []
    dangling: list[tuple[str, tuple[str, ...], Severity]] = []
    for leaf_id, racks in sorted(project.fabric.assignments.items()):
        present = [r for r in dict.fromkeys(racks) if r in items]
        missing = [r for r in dict.fromkeys(racks) if r not in items]
        leaf_row = items.row(leaf_id) if leaf_id in items else -1
        if leaf_row < 0 or kinds[leaf_row] != "network_rack" or not net.backend[leaf_row]:
            what = (
                "which is not in the project" if leaf_row < 0
                else "not a network rack" if kinds[leaf_row] != "network_rack"
                else "not a rack of the GPU fabric (its network is "
                f"{items.properties_at(leaf_row).get('network')!r})"
            )  # fmt: skip
            dangling.append((
                f"leaf rack {leaf_id!r} of {_shown_ids(present or missing)}: {what}",
                tuple(present), "warning" if present else "info",
            ))  # fmt: skip
            continue
        if missing:
            dangling.append((
                f"leaf rack {leaf_id} serves {_shown_ids(missing)}, not in the project",
                (leaf_id,), "info",
            ))  # fmt: skip
        plane = int(net.plane_of[leaf_row])
        if plane >= planes:
            continue
        rows = [r for r in (items.row(i) for i in present) if is_gpu_rack[r]]
        served[plane, rows] = True
        a.extend(rows)
        b.extend([leaf_row] * len(rows))
    if not a:
        return LinkBundles.empty(), served, dangling
    a_arr, b_arr = np.asarray(a, np.intp), np.asarray(b, np.intp)
    # Per (rack, plane): how many leaf racks share its links, and this one's place among them.
    key = a_arr * planes + net.plane_of[b_arr]
    order = np.lexsort((b_arr, key))
    a_arr, b_arr, key = a_arr[order], b_arr[order], key[order]
    first = np.r_[True, key[1:] != key[:-1]]
    start = np.flatnonzero(first)
    sharing = np.diff(np.r_[start, len(key)])
    group = np.cumsum(first) - 1
    place = np.arange(len(key)) - start[group]
    total = links_per_plane[a_arr]
    share, rest = total // sharing[group], total % sharing[group]
    count = share + (place < rest)
    keep = count > 0
    return LinkBundles(a_arr[keep], b_arr[keep], count[keep].astype(np.int64)), served, dangling


def _whole(value: object, ceiling: int) -> int:
    """A whole number ≥ 0 up to ``ceiling`` (larger ones read as it); anything else 0."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return min(value, ceiling)
    return 0


def _concat(parts: Iterable[LinkBundles]) -> LinkBundles:
    parts = [p for p in parts if len(p.a)]
    if not parts:
        return LinkBundles.empty()
    return LinkBundles(
        np.concatenate([p.a for p in parts]),
        np.concatenate([p.b for p in parts]),
        np.concatenate([p.count for p in parts]),
    )


# -- connectivity and hops --------------------------------------------------------------------
_NETWORK_END = {"gpu-leaf": "b", "leaf-spine": "a", "spine-core": "a"}
"""Which end of a bundle of each tier is a network rack whose plane the bundle is in."""


def _plane_edges(
    fabric: DerivedFabric, plane: int, tiers: Iterable[str] = LINK_TIERS
) -> tuple[np.ndarray, np.ndarray]:
    a_parts, b_parts = [], []
    for tier in tiers:
        bundle = fabric.links[tier]
        ends = bundle.b if _NETWORK_END[tier] == "b" else bundle.a
        mine = (fabric.plane_of[ends] == plane) & (bundle.count > 0)
        a_parts.append(bundle.a[mine])
        b_parts.append(bundle.b[mine])
    return np.concatenate(a_parts), np.concatenate(b_parts)


def domains(
    fabric: DerivedFabric, n_rows: int, removed: Iterable[int] = ()
) -> tuple[np.ndarray, list[int]]:
    """GPU rack rows missing from the main domain (the component with most GPU ports) of a
    plane, and per plane the number of domains the GPU racks fall into."""
    removed = np.asarray(list(removed), dtype=np.intp)
    gpu_rows = np.flatnonzero(fabric.gpu_ports > 0)
    if len(removed):
        gpu_rows = gpu_rows[~np.isin(gpu_rows, removed)]
    if len(gpu_rows) == 0:
        return gpu_rows, [0] * fabric.planes
    cut = np.zeros(n_rows, bool)
    counts = []
    for plane in range(fabric.planes):
        a, b = _plane_edges(fabric, plane)
        if len(removed):
            keep = ~(np.isin(a, removed) | np.isin(b, removed))
            a, b = a[keep], b[keep]
        graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n_rows, n_rows))
        _, label = connected_components(graph, directed=False)
        weight = np.bincount(label[gpu_rows], weights=fabric.gpu_ports[gpu_rows])
        main = int(np.argmax(weight))
        cut[gpu_rows[label[gpu_rows] != main]] = True
        counts.append(len(np.unique(label[gpu_rows])))
    return np.flatnonzero(cut), counts


def cut_off_rows(fabric: DerivedFabric, n_rows: int, removed: Iterable[int] = ()) -> np.ndarray:
    """GPU rack rows missing from the main domain (the component with most GPUs) of a plane."""
    return domains(fabric, n_rows, removed)[0]


@dataclass(frozen=True)
class Hops:
    """The most switches a GPU-to-GPU path crosses, over every plane (shortest paths)."""

    worst: int
    """0 without GPU links."""
    between: tuple[int, int] | None
    """Rows of two leaf racks whose GPUs need that many hops (None within one rack)."""
    plane: int


def switch_hops(fabric: DerivedFabric) -> Hops:
    """The hop diameter of the derived fabric: over every pair of leaf racks serving GPUs in
    a plane, the fewest switches a path between their GPUs crosses.

    Within one leaf rack a path crosses one switch, or three (up to a spine and back)
    when the rack's GPUs land on several switches that have uplinks: a rail-optimized
    rack puts each rail on its own switch. Between racks it is the shortest rack-level
    path plus one. Racks with the same neighbours (a pod's leaves, its spines, the
    cores) are at the same distance from everything else, so the search runs on
    those classes: a few per pod, whatever the fabric's size.
    """
    best = Hops(0, None, 0)
    gpu = fabric.links["gpu-leaf"]
    rng = np.random.default_rng(20_240_501)
    for plane in range(fabric.planes):
        leaves = np.unique(gpu.b[fabric.plane_of[gpu.b] == plane])
        if len(leaves) == 0:
            continue
        a, b = _plane_edges(fabric, plane, LINK_TIERS[1:])
        nodes = np.unique(np.concatenate([leaves, a, b]))
        m = len(nodes)
        ia, ib = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
        adjacency = csr_matrix((np.ones(len(a)), (ia, ib)), shape=(m, m))
        adjacency = ((adjacency + adjacency.T) > 0).astype(float)
        degree = np.asarray(adjacency.sum(axis=1)).ravel()
        # Twins (same neighbours) share a key: a random weight per neighbour, summed.
        key = adjacency @ rng.random(m)
        tier_code = np.zeros(m)
        for k, tier in enumerate(TIERS):
            tier_code[np.isin(nodes, fabric.switch_rows[tier])] = k + 1
        _, label = np.unique(np.column_stack([tier_code, key]), axis=0, return_inverse=True)
        label = label.ravel()
        classes = int(label.max()) + 1
        member = csr_matrix((np.ones(m), (np.arange(m), label)), shape=(m, classes))
        quotient = (member.T @ adjacency @ member) > 0
        quotient.setdiag(False)
        leaf_nodes = np.searchsorted(nodes, leaves)
        leaf_classes = np.unique(label[leaf_nodes])
        distance = shortest_path(quotient.astype(float), unweighted=True, directed=False,
                                 indices=leaf_classes)[:, leaf_classes]  # fmt: skip
        worst, between = 1, None
        np.fill_diagonal(distance, np.inf)
        finite = np.isfinite(distance)
        if finite.any():
            i, j = np.unravel_index(np.argmax(np.where(finite, distance, -1)), distance.shape)
            worst = int(distance[i, j]) + 1
            first = leaves[label[leaf_nodes] == leaf_classes[i]][0]
            second = leaves[label[leaf_nodes] == leaf_classes[j]][0]
            between = (int(first), int(second))
        connected = degree[leaf_nodes] > 0
        shared = np.bincount(label[leaf_nodes][connected], minlength=classes) > 1
        many = (fabric.switches_in[leaves] > 1) & connected
        if worst < 3 and (shared.any() or many.any()):
            worst, between = 3, None
        if worst > best.worst:
            best = Hops(worst, between, plane)
    return best


def hops_of(context: CheckContext) -> Hops | None:
    """The fabric's hop diameter (kept by a checker while the structure holds)."""
    fabric = fabric_of(context)
    if fabric is None:
        return None
    hops: Hops = context.memo("fabric.hops", lambda: switch_hops(fabric))
    return hops


def domains_of(context: CheckContext) -> tuple[np.ndarray, list[int]] | None:
    """Cut-off GPU rack rows and domains per plane (kept while the structure holds)."""
    fabric = fabric_of(context)
    if fabric is None:
        return None
    n = len(context.project.items)
    found: tuple[np.ndarray, list[int]] = context.memo("fabric.domains",
                                                       lambda: domains(fabric, n))  # fmt: skip
    return found


# -- the check's view --------------------------------------------------------------------------
class _FabricView:
    """The derived fabric and what several rules share, cached on a check context."""

    def __init__(self, context: CheckContext) -> None:
        self.context = context
        self.fabric = context.memo("fabric.derive", lambda: derive(context.project))
        self._longest: dict[str, tuple[float, int]] | None = None

    @property
    def longest(self) -> dict[str, tuple[float, int]]:
        """Per link tier: the longest estimated length (m) and its bundle index."""
        if self._longest is None:
            self._longest = {}
            xy = self.context.project.items.xy
            assert self.fabric is not None
            for tier, bundle in self.fabric.links.items():
                if len(bundle.a) == 0:
                    continue
                d = np.abs(xy[bundle.a] - xy[bundle.b]).sum(axis=1)
                k = int(np.argmax(d))
                self._longest[tier] = (float(d[k]), k)
        return self._longest


def _view(context: CheckContext) -> _FabricView:
    return context.once("fabric.view", lambda: _FabricView(context))


def fabric_of(context: CheckContext) -> DerivedFabric | None:
    """The fabric derived for the context's project (None without a fabric spec); a checker
    keeps it while the structure holds."""
    return _view(context).fabric


def tier_latency_ns(fabric: DerivedFabric, per_hop_ns: float) -> list[float]:
    """Per switch tier placed, the slowest hop through it: the latency of the slowest switch
    type in the tier (``per_hop_ns`` for a type without one)."""
    out = []
    for tier in TIERS[: fabric.tiers]:
        rows = fabric.switch_rows[tier]
        types = np.unique(fabric.type_of[rows][fabric.switches_in[rows] > 0])
        values = fabric.switch_latency_ns[types] if len(types) else np.array([np.nan])
        out.append(float(np.max(np.where(np.isnan(values), per_hop_ns, values))))
    return out


def switch_latency_ns(fabric: DerivedFabric, per_hop_ns: float, hops: int) -> float:
    """The switches' part of the worst path: up through every tier and down again
    (each tier twice, the top once); hops beyond a clean tree's at the slowest tier's."""
    per_tier = tier_latency_ns(fabric, per_hop_ns)
    total = 2 * sum(per_tier[:-1]) + per_tier[-1]
    return total + max(0, hops - fabric.max_hops) * max(per_tier)


def worst_latency_ns(context: CheckContext) -> float | None:
    """Each hop's switch latency plus twice the slowest link of each tier.

    Links are routed over the trays with their real media when the project
    has trays (:mod:`physics.cabling`); without trays the longest Manhattan
    estimate of each tier at ``fiber_ns_per_m`` stands in.
    """
    from physics.cabling import worst_link_latency_ns  # cabling imports this module

    view = _view(context)
    if view.fabric is None:
        return None
    rules = context.project.rules
    routed = worst_link_latency_ns(context)
    if routed is not None:
        propagation = 2 * sum(routed.values())
    else:
        longest = sum(length for length, _ in view.longest.values())
        propagation = 2 * longest * rules["fiber_ns_per_m"]
    hops = hops_of(context)
    worst_hops = hops.worst if hops is not None else view.fabric.max_hops
    return switch_latency_ns(view.fabric, rules["per_hop_latency_ns"], worst_hops) + propagation


def spec_radix(project: Project, fabric: DerivedFabric) -> int:
    """The radix of the spec's switch type at the GPU links' speed (0 without one): the
    planning figure for the largest fabric, not what the placed racks hold."""
    switch = project.catalog.get(project.fabric.switch_type or "")
    return switch.radix(fabric.link_speeds_gbps[0]) if isinstance(switch, SwitchType) else 0


def _largest_fabric(project: Project, fabric: DerivedFabric) -> int:
    radix = spec_radix(project, fabric)
    if not 2 <= radix <= MAX_RADIX:
        return 0
    ratio = tuple(project.fabric.oversubscription[: fabric.tiers - 1])
    return max_endpoints(radix, fabric.tiers, ratio)


@metric("fabric")
def fabric_metrics(context: CheckContext) -> Mapping[str, Any]:
    view = _view(context)
    fabric = view.fabric
    if fabric is None:
        return {"tiers": 0, "coherent": None}
    project = context.project
    servers = context.memo("fabric.servers", lambda: sum(
        project.catalog[t].servers
        for t, ports in zip(project.items.type_ids, fabric.gpu_ports, strict=True)
        if ports
    ))  # fmt: skip
    hops = hops_of(context)
    nics = max(1, project.fabric.nics_per_gpu)
    return {
        "servers": servers,
        "planes": fabric.planes,
        "tiers": fabric.tiers,
        "switches_per_tier": {t: fabric.switches[t] for t in TIERS[: fabric.tiers]},
        "links_per_tier": {t: fabric.links[t].total for t in LINK_TIERS[: fabric.tiers]},
        "max_switch_hops": hops.worst if hops is not None else fabric.max_hops,
        "worst_latency_ns": round(worst_latency_ns(context) or 0.0, 1),
        "largest_fabric_gpus": _largest_fabric(project, fabric) // nics,
        "coherent": not any(v.rule in COHERENCE_RULES for v in context.found),
    }


def _shown_ids(ids: list[str], limit: int = 5) -> str:
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _position(context: CheckContext, item_id: str) -> tuple[float, float]:
    item = context.project.items.get(item_id)
    return (item.x, item.y)


def _speed(gbps: float) -> str:
    return f"{gbps:g}G"


# -- rules ----------------------------------------------------------------------------------------
@rule("fabric.connected", "error", "Every GPU reaches every other GPU: one domain per plane.")
def connected(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    fabric = _view(context).fabric
    if fabric is None:
        return
    ids = context.project.items.ids
    if fabric.unassigned:
        yield rule.violation(
            f"{len(fabric.unassigned)} GPU rack(s) have no leaf switch: "
            f"{_shown_ids(fabric.unassigned)}",
            fabric.unassigned,
            _position(context, fabric.unassigned[0]),
        )
    for message, named, severity in fabric.dangling:
        where = _position(context, named[0]) if named else None
        yield rule.violation(message, named, where, severity)
    assigned = set(fabric.unassigned)
    found = domains_of(context)
    assert found is not None
    rows, per_plane = found
    cut = [ids[r] for r in rows if ids[r] not in assigned]
    if cut:
        gpus = int(fabric.gpu_ports[[context.project.items.row(i) for i in cut]].sum())
        worst = max(per_plane)
        yield rule.violation(
            f"{len(cut)} GPU rack(s) ({gpus:,} GPU ports) are cut off from the rest of the "
            f"fabric ({worst} domains in a plane): {_shown_ids(cut)}",
            cut,
            _position(context, cut[0]),
        )


@rule("fabric.hops", "error", "No GPU-to-GPU path crosses more than 2·tiers − 1 switches.")
def hops(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    fabric = _view(context).fabric
    found = hops_of(context)
    if fabric is None or found is None:
        return
    limit = _hop_limit(context.project, fabric)
    if found.worst <= limit:
        return
    ids = context.project.items.ids
    named: tuple[str, ...] = ()
    where = ""
    if found.between is not None:
        named = (ids[found.between[0]], ids[found.between[1]])
        where = f": GPUs of {named[0]} and {named[1]}"
    tiers = f"{(limit + 1) // 2}-tier"
    yield rule.violation(
        f"a GPU-to-GPU path crosses {found.worst} switches, more than the {limit} of a "
        f"{tiers} fat tree{where}",
        named,
        _position(context, named[0]) if named else None,
    )


def _hop_limit(project: Project, fabric: DerivedFabric) -> int:
    """2·tiers − 1, with the spec's tier count when it fixes one, else the tiers placed."""
    tiers = project.fabric.tiers
    return 2 * (tiers if isinstance(tiers, int) else fabric.tiers) - 1


def _ports_text(fabric: DerivedFabric, row: int) -> str:
    """What a rack's links take, by link tier: ``1,536 × 400G down, 0 up``."""
    parts = []
    for k, name in enumerate(("GPU", "leaf-spine", "spine-core")):
        n = int(fabric.ends[row, k])
        if n:
            parts.append(f"{n:,} × {_speed(fabric.link_speeds_gbps[k])} {name} links")
    return ", ".join(parts) or "no links"


@rule("fabric.radix", "error", "No switch uses more ports than its radix (the port budget).")
def radix(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    fabric = _view(context).fabric
    if fabric is None:
        return
    project = context.project
    items = project.items
    ids = items.ids
    for k, type_id in enumerate(fabric.switch_types):
        biggest = int(fabric.radix_at[k].max())
        if biggest > MAX_RADIX:
            yield rule.violation(
                f"{type_id} has {biggest:,} ports at the fabric's speeds, more than the "
                f"{MAX_RADIX:,} a fabric is planned for"
            )
    rows = fabric.network_rows
    for row in rows.tolist():
        value = switches_property(items.properties_at(row))
        capacity = project.catalog[items.type_ids[row]].switches
        if value is not None and value > capacity:
            yield rule.violation(
                f"{ids[row]} has {value} switches installed but holds {capacity}",
                (ids[row],),
                _position(context, ids[row]),
            )
    used = fabric.budget_used[rows]
    over = rows[np.isfinite(used) & (used > fabric.switches_in[rows] + EPS)]
    for row in over.tolist():
        switches = int(fabric.switches_in[row])
        share = fabric.budget_used[row] / max(switches, 1)
        type_id = fabric.switch_types[fabric.type_of[row]]
        yield rule.violation(
            f"{ids[row]} is over its port budget: {_ports_text(fabric, row)} on "
            f"{switches} × {type_id} use {share:.0%} of its ports",
            (ids[row],),
            _position(context, ids[row]),
        )


@rule("fabric.link_speed", "error",
      "Every link runs at a speed its GPU NICs and switch ports have.")  # fmt: skip
def link_speed(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    fabric = _view(context).fabric
    if fabric is None:
        return
    ids = context.project.items.ids
    needed = fabric.links_per_nic_port * fabric.link_speeds_gbps[0] * fabric.planes
    gpu_rows = np.flatnonzero(fabric.gpu_ports > 0)
    slow = gpu_rows[fabric.nic_speed_gbps[gpu_rows] < needed - EPS]
    if len(slow):
        speeds = fabric.nic_speed_gbps[slow]
        for speed in np.unique(speeds):
            racks = [ids[r] for r in slow[speeds == speed]]
            yield rule.violation(
                f"{len(racks)} GPU rack(s) with {_speed(speed)} NICs, slower than the "
                f"fabric's {_speed(needed)} per NIC ({_link_words(fabric)}): "
                f"{_shown_ids(racks)}",
                racks,
                _position(context, racks[0]),
            )
    for k, type_id in enumerate(fabric.switch_types):
        mine = fabric.network_rows[fabric.type_of[fabric.network_rows] == k]
        # Per speed the type lacks: the racks that carry (or would carry) links at it.
        lacking: dict[float, tuple[list[str], np.ndarray]] = {}
        for tier, name in enumerate(LINK_TIERS):
            if fabric.radix_at[k, tier] > 0:
                continue
            rows = mine[fabric.ends[mine, tier] > 0]
            if tier > 0 and fabric.tiers > tier:
                # A leaf's uplinks and a spine's downlinks; a spine's uplinks and a core's.
                carrying = {1: ("leaf", "spine"), 2: ("spine", "core")}[tier]
                rows = np.union1d(rows, np.intersect1d(
                    mine, np.concatenate([fabric.switch_rows[t] for t in carrying])))  # fmt: skip
            if len(rows) == 0:
                continue
            speed = fabric.link_speeds_gbps[tier]
            names, before = lacking.get(speed, ([], np.empty(0, np.intp)))
            lacking[speed] = ([*names, name], np.union1d(before, rows))
        for speed, (names, rows) in lacking.items():
            racks = [ids[r] for r in rows]
            yield rule.violation(
                f"{type_id} has no {_speed(speed)} ports, the speed of the fabric's "
                f"{' and '.join(names)} links: {_shown_ids(racks)}",
                racks,
                _position(context, racks[0]),
            )
    yield from _protocol_mismatches(context, rule, fabric)


def _protocol_mismatches(
    context: CheckContext, rule: RuleProvider, fabric: DerivedFabric
) -> Iterator[Violation]:
    """Switch-to-switch links whose two switches speak different protocols (an InfiniBand
    switch cannot take an Ethernet link): one violation per rack of the rarer protocol."""
    if len(set(fabric.switch_protocols)) <= 1:
        return
    ids = context.project.items.ids
    a = np.concatenate([fabric.links[t].a for t in LINK_TIERS[1:]])
    b = np.concatenate([fabric.links[t].b for t in LINK_TIERS[1:]])
    protocol = np.array([*fabric.switch_protocols, ""], dtype=object)
    pa, pb = protocol[fabric.type_of[a]], protocol[fabric.type_of[b]]
    wrong = np.flatnonzero(pa != pb)
    if len(wrong) == 0:
        return
    rows = fabric.network_rows
    by_protocol = {p: int(fabric.switches_in[rows[protocol[fabric.type_of[rows]] == p]].sum())
                   for p in fabric.switch_protocols}  # fmt: skip
    odd_rows = sorted({int(r) for k in wrong for r in (a[k], b[k])
                       if by_protocol[protocol[fabric.type_of[r]]]
                       == min(by_protocol[pa[k]], by_protocol[pb[k]])})  # fmt: skip
    for row in odd_rows:
        mine = wrong[(a[wrong] == row) | (b[wrong] == row)]
        peers = sorted({int(r) for k in mine for r in (a[k], b[k]) if r != row})
        own = fabric.switch_types[fabric.type_of[row]]
        other = sorted({fabric.switch_types[fabric.type_of[r]] for r in peers})
        yield rule.violation(
            f"{ids[row]} holds {own} ({protocol[fabric.type_of[row]]}) but links to "
            f"{', '.join(other)} ({protocol[fabric.type_of[peers[0]]]}) in "
            f"{_shown_ids([ids[r] for r in peers])}",
            (ids[row],),
            _position(context, ids[row]),
        )


def _link_words(fabric: DerivedFabric) -> str:
    """How a NIC's bandwidth is split: ``2 planes × 200G``, ``dual-homed 2 × 200G``."""
    per_plane = fabric.links_per_nic_port
    words = []
    if fabric.planes > 1:
        words.append(f"{fabric.planes} planes")
    if per_plane > 1:
        words.append("dual-homed")
    words.append(f"{fabric.planes * per_plane} × {_speed(fabric.link_speeds_gbps[0])} links")
    return ", ".join(words)


@rule("fabric.capacity", "warning",
      "The GPUs fit the largest fabric of the spec's switch type and tier count "
      "(a planning figure; the placed network is what the coherence rules check).")  # fmt: skip
def capacity(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    fabric = _view(context).fabric
    if fabric is None:
        return
    project = context.project
    largest = _largest_fabric(project, fabric)
    if largest and fabric.endpoints > largest:
        yield rule.violation(
            f"{fabric.endpoints:,} GPU ports per plane exceed the {largest:,} a "
            f"{fabric.tiers}-tier fabric of {project.fabric.switch_type} (radix "
            f"{spec_radix(project, fabric)}) holds"
        )


def tier_targets(project: Project) -> list[float]:
    """The oversubscription target of each switch tier (leaf, spine; 1 where not given)."""
    return [*project.fabric.oversubscription, 1.0, 1.0][:2]


@rule("fabric.oversubscription", "error", "Each tier's down:up ratio is within its target.")
def oversubscription(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    fabric = _view(context).fabric
    if fabric is None or fabric.tiers < 2:
        return
    ids = context.project.items.ids
    for k, target in enumerate(tier_targets(context.project)[: fabric.tiers - 1]):
        tier = TIERS[k]
        rows = fabric.switch_rows[tier]
        ratio = fabric.ratio(rows)
        bad = np.flatnonzero(ratio > target + 1e-6)
        if len(bad) == 0:
            continue
        worst = bad[np.argmax(ratio[bad])]
        shown = "no uplinks" if np.isinf(ratio[worst]) else f"{ratio[worst]:.2f}:1"
        bad_ids = [ids[rows[j]] for j in bad]
        yield rule.violation(
            f"{len(bad)} {tier} rack(s) oversubscribed beyond {target:g}:1, worst "
            f"{ids[rows[worst]]} at {shown}: {_shown_ids(bad_ids)}",
            bad_ids,
            _position(context, ids[rows[worst]]),
        )


@rule("fabric.latency", "warning", "The worst GPU-to-GPU latency is within the latency budget.")
def latency(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    worst = worst_latency_ns(context)
    if worst is None:
        return
    budget = context.project.rules["latency_budget_ns"]
    if worst > budget:
        yield rule.violation(
            f"worst GPU-to-GPU latency {worst:,.0f} ns exceeds the {budget:,.0f} ns budget"
        )


COHERENCE_RULES = frozenset({
    "fabric.connected", "fabric.hops", "fabric.radix", "fabric.link_speed",
    "fabric.oversubscription", "fabric.latency", "cabling.reach", "cabling.tray_fill",
})  # fmt: skip
"""The rules whose violations (waived or not) make a fabric not coherent."""


# -- what-if ------------------------------------------------------------------------------------
def what_if(
    project: Project,
    failed: Iterable[str] = (),
    failed_links: Iterable[tuple[str, str]] = (),
    *,
    derived: DerivedFabric | None = None,
) -> FabricLoss:
    """Fail network racks (or single links between two racks): GPUs cut off, bisection lost.

    ``bisection_lost`` is the largest share of links lost at any switch tier
    (leaf-spine or spine-core): the fabric's cross-section shrinks by at least that.
    ``derived`` is the project's fabric when the caller has derived it already.
    """
    fabric = derived if derived is not None else derive(project)
    if fabric is None:
        raise CoherenceError("the project has no fabric spec")
    failed = list(failed)
    rows = []
    for item_id in failed:
        if not isinstance(project.type_of(item_id), NetworkRackType):
            raise CoherenceError(f"{item_id} is not a network rack")
        rows.append(project.items.row(item_id))
    links = dict(fabric.links)
    for a_id, b_id in failed_links:
        a, b = project.items.row(a_id), project.items.row(b_id)
        for tier, bundle in links.items():
            hit = ((bundle.a == a) & (bundle.b == b)) | ((bundle.a == b) & (bundle.b == a))
            if hit.any():
                count = bundle.count.copy()
                count[np.flatnonzero(hit)[0]] -= 1
                links[tier] = LinkBundles(bundle.a, bundle.b, count)
                break
        else:
            raise CoherenceError(f"no link between {a_id} and {b_id}")
    for tier, bundle in links.items():
        keep = bundle.count > 0
        links[tier] = LinkBundles(bundle.a[keep], bundle.b[keep], bundle.count[keep])
    changed = DerivedFabric(**{**vars(fabric), "links": links})
    n = len(project.items)
    cut = cut_off_rows(changed, n, rows)
    already = cut_off_rows(fabric, n)
    newly = np.setdiff1d(cut, already)
    lost = 0.0
    removed = np.asarray(rows, dtype=np.intp)
    for tier in LINK_TIERS[1:]:
        before = fabric.links[tier].total
        if not before:
            continue
        bundle = links[tier]
        alive = ~(np.isin(bundle.a, removed) | np.isin(bundle.b, removed))
        lost = max(lost, 1 - int(bundle.count[alive].sum()) / before)
    ids = project.items.ids
    return FabricLoss(
        gpus_disconnected=int(fabric.gpu_ports[newly].sum()),
        racks_disconnected=tuple(ids[r] for r in newly),
        bisection_lost=round(lost, 6),
    )


@effect("fabric")
def _fabric_effect(project: Project, failed: list[str]) -> FabricLoss | None:
    racks = [i for i in failed if isinstance(project.type_of(i), NetworkRackType)]
    if not racks:
        return None
    fabric = derive(project)  # None without a fabric spec
    return None if fabric is None else what_if(project, racks, derived=fabric)


def fail_switch_rack(project: Project, rack_id: str) -> dict[str, Any]:
    """What-if for one network rack (see :func:`what_if`), with its tier."""
    report = what_if(project, [rack_id])
    tier = project.items.get(rack_id).properties.get("tier")
    return {
        "rack": rack_id,
        "tier": tier,
        "gpus_disconnected": report.gpus_disconnected,
        "bisection_lost": report.bisection_lost,
    }


__all__ = [
    "COHERENCE_RULES", "LINK_TIERS", "TIERS", "DerivedFabric", "Hops", "LinkBundles",
    "cut_off_rows", "derive", "domains", "fabric_of", "hops_of", "installed_switches",
    "link_speeds", "switch_hops", "water_fill", "worst_latency_ns",
]  # fmt: skip
