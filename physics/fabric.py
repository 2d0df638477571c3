"""The GPU fabric as placed: derived switches and links, coherence rules, metrics, what-if.

Owns the derivation of the rail-optimized fat tree from a project's fabric
spec and its network racks, and the checks on it. Network racks carry a
``tier`` property (leaf, spine, core), a ``pod`` (leaf and spine racks of a
3-tier fabric) and optionally ``switches`` (how many are installed, when fewer
than the rack holds). The spec's ``assignments`` map each leaf rack to the GPU
racks it serves.

Links are bundles between racks held as numpy arrays (rack row A, rack row B,
link count), never one object per cable:

- GPU → leaf: every GPU NIC of a rack to the leaf rack serving it;
- leaf → spine: each leaf rack's uplinks spread evenly over the spine racks of
  its pod, never more than a spine rack has down-ports;
- spine → core: each spine rack's uplinks spread evenly over the core racks.

Port splits follow the spec's oversubscription targets (leaf, spine); a
network short of spine or core ports gets fewer uplinks, which the
oversubscription rule then reports.

A link's propagation delay comes from its routed length and medium
(:mod:`physics.cabling`); a project without trays falls back to the Manhattan
distance between the two racks' centres at ``fiber_ns_per_m``. Worst-case
path: up every tier and down again, ``2·tiers − 1`` switch hops; latency =
hops × ``per_hop_latency_ns`` + twice the slowest link of each tier.

The fabric is *coherent* when every GPU is in one domain, no switch is over its
radix, the endpoints fit the tier count, every tier is within its
oversubscription target, every link has a medium that reaches and the worst
latency is within budget: when none of
the coherence rules that ran found a violation (a waiver does not make a
fabric coherent; disabling a rule leaves its property unchecked).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from layout.catalog import NetworkRackType
from layout.errors import CoherenceError
from layout.fabric_plan import MAX_RADIX, max_endpoints, split_ports
from layout.project import Project
from physics.engine import CheckContext, RuleProvider, Severity, Violation, metric, rule
from physics.whatif import FabricLoss, effect

TIERS = ("leaf", "spine", "core")
LINK_TIERS = ("gpu-leaf", "leaf-spine", "spine-core")
COUNT_CEILING = 2**31 - 1
"""A ``switches`` or ``plane`` property above this reads as this (a count so far past any
rack's that the rules report it all the same), so that arrays of counts never overflow."""
POD_CEILING = 999_999
"""Pod numbers above this read as this: pods are grouped by plane × 1,000,000 + pod."""


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
    """Switches per tier (by network rack) and link bundles per tier."""

    radix: int
    tiers: int
    leaf_down: int
    leaf_up: int
    spine_down: int
    spine_up: int
    gpu_ports: np.ndarray
    """GPU NIC ports per item row (0 for anything but GPU racks)."""
    switch_rows: dict[str, np.ndarray]
    switches_in: np.ndarray
    """Installed switches per item row (0 for anything but network racks)."""
    links: dict[str, LinkBundles]
    unassigned: list[str]
    plane_of: np.ndarray
    """The plane of each network rack, by item row (0 for everything else)."""
    planes: int
    link_speed_gbps: float
    """The speed of one fabric link: the NIC speed split over the planes."""
    dangling: list[tuple[str, tuple[str, ...], Severity]] = field(default_factory=list)
    """Assignments naming what is not there: (message, items named, severity)."""

    @property
    def max_hops(self) -> int:
        return 2 * self.tiers - 1

    @property
    def endpoints(self) -> int:
        return int(self.gpu_ports.sum())

    @property
    def switches(self) -> dict[str, int]:
        return {t: int(self.switches_in[rows].sum()) for t, rows in self.switch_rows.items()}


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


def derive(project: Project) -> DerivedFabric | None:
    """The fabric the project's spec and network racks describe; None without a spec."""
    spec = project.fabric
    if spec.switch_type is None or spec.nic_speed_gbps is None:
        return None
    switch = project.catalog.get(spec.switch_type)
    if switch is None or switch.kind != "switch":
        return None
    link_speed_gbps = spec.nic_speed_gbps / spec.planes
    radix = switch.radix(link_speed_gbps)
    items = project.items
    n = len(items)
    kinds = project.kinds()
    rows_by_tier, switches_in, pods, plane_of = _network_racks(project, kinds)
    tiers = 3 if len(rows_by_tier["core"]) else 2 if len(rows_by_tier["spine"]) else 1
    ratios = [*spec.oversubscription, 1.0, 1.0]
    leaf_down, leaf_up = split_ports(radix, ratios[0]) if tiers > 1 else (radix, 0)
    spine_down, spine_up = split_ports(radix, ratios[1]) if tiers == 3 else (radix, 0)

    gpus_of = {t: getattr(project.catalog[t], "gpus", 0) for t in set(items.type_ids)}
    gpu_ports = np.fromiter((gpus_of[t] for t in items.type_ids), np.int64, n)
    gpu_ports = gpu_ports * spec.nics_per_gpu
    is_gpu_rack = kinds == "gpu_rack"
    gpu_ports[~is_gpu_rack] = 0
    planes = spec.planes
    a, b, served, dangling = _gpu_links(project, kinds, plane_of)
    a_arr, b_arr = np.asarray(a, np.intp), np.asarray(b, np.intp)
    links = {"gpu-leaf": LinkBundles(a_arr, b_arr, gpu_ports[a_arr])}
    leaves, spines, cores = rows_by_tier["leaf"], rows_by_tier["spine"], rows_by_tier["core"]
    links["leaf-spine"] = LinkBundles.empty()
    links["spine-core"] = LinkBundles.empty()
    if tiers > 1:
        parts = []
        # Pods only group leaves with spines in a 3-tier tree; planes never mix.
        leaf_group = plane_of[leaves] * 1_000_000 + (pods[leaves] if tiers == 3 else 0)
        spine_group = plane_of[spines] * 1_000_000 + (pods[spines] if tiers == 3 else 0)
        for group in np.unique(leaf_group):
            pod_spines = spines[spine_group == group]
            pod_leaves = leaves[leaf_group == group]
            parts.append(
                _spread_uplinks(pod_leaves, switches_in[pod_leaves] * leaf_up,
                                pod_spines, switches_in[pod_spines] * spine_down)
            )  # fmt: skip
        links["leaf-spine"] = _concat(parts)
    if tiers == 3:
        parts = []
        for plane in np.unique(plane_of[spines]):
            plane_spines = spines[plane_of[spines] == plane]
            plane_cores = cores[plane_of[cores] == plane]
            parts.append(
                _spread_uplinks(plane_spines, switches_in[plane_spines] * spine_up,
                                plane_cores, switches_in[plane_cores] * radix)
            )  # fmt: skip
        links["spine-core"] = _concat(parts)
    unassigned = [items.ids[r] for r in np.flatnonzero(is_gpu_rack & ~served.all(axis=0)).tolist()]
    return DerivedFabric(
        radix, tiers, leaf_down, leaf_up, spine_down, spine_up, gpu_ports, rows_by_tier,
        switches_in, links, unassigned, plane_of, planes, link_speed_gbps, dangling,
    )  # fmt: skip


def _gpu_links(
    project: Project, kinds: np.ndarray, plane_of: np.ndarray
) -> tuple[list[int], list[int], np.ndarray, list[tuple[str, tuple[str, ...], Severity]]]:
    """GPU rack rows and their leaf rows from the assignments, which racks each plane
    serves, and the assignments that name what is not there."""
    items, planes = project.items, project.fabric.planes
    is_gpu_rack = kinds == "gpu_rack"
    served = np.zeros((planes, len(items)), bool)
    a: list[int] = []
    b: list[int] = []
    dangling: list[tuple[str, tuple[str, ...], Severity]] = []
    for leaf_id, racks in sorted(project.fabric.assignments.items()):
        present = [r for r in dict.fromkeys(racks) if r in items]
        missing = [r for r in dict.fromkeys(racks) if r not in items]
        if leaf_id not in items or kinds[items.row(leaf_id)] != "network_rack":
            what = "which is not in the project" if leaf_id not in items else "not a network rack"
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
        leaf_row = items.row(leaf_id)
        plane = int(plane_of[leaf_row])
        if plane >= planes:
            continue
        rows = [items.row(r) for r in present]
        rows = [r for r in rows if is_gpu_rack[r] and not served[plane, r]]
        served[plane, rows] = True
        a.extend(rows)
        b.extend([leaf_row] * len(rows))
    return a, b, served, dangling


def _network_racks(
    project: Project, kinds: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """Rows of network racks by tier, and installed switches, pod and plane by row."""
    n = len(project.items)
    switch_rows: dict[str, list[int]] = {t: [] for t in TIERS}
    switches_in = np.zeros(n, np.int64)
    pods = np.zeros(n, np.int64)
    plane_of = np.zeros(n, np.int64)
    for row in np.flatnonzero(kinds == "network_rack").tolist():
        props = project.items.properties_at(row)
        tier = props.get("tier")
        if props.get("network", "backend") != "backend":
            continue  # the front-end, storage and management networks: physics.networks
        if tier in switch_rows:
            switch_rows[str(tier)].append(int(row))
            switches_in[row] = installed_switches(project, int(row))
            pods[row] = _whole(props.get("pod", 0), POD_CEILING)
            plane_of[row] = _whole(props.get("plane", 0), COUNT_CEILING)
    rows = {t: np.asarray(r, dtype=np.intp) for t, r in switch_rows.items()}
    return rows, switches_in, pods, plane_of


def _whole(value: object, ceiling: int) -> int:
    """A whole number ≥ 0 up to ``ceiling`` (larger ones read as it); anything else 0."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return min(value, ceiling)
    return 0


def _spread_uplinks(
    lower: np.ndarray, uplinks: np.ndarray, upper: np.ndarray, down_ports: np.ndarray
) -> LinkBundles:
    """Each lower rack's uplinks spread evenly over the upper racks' free down-ports.

    Counts are whole links; remainders go to the racks with the most free ports,
    and no upper rack gets more links than it has ports.
    """
    if len(lower) == 0 or len(upper) == 0:
        return LinkBundles.empty()
    free = down_ports.astype(np.int64).copy()
    counts = np.zeros((len(lower), len(upper)), np.int64)
    for k, wanted in enumerate(uplinks):
        total_free = int(free.sum())
        give = min(int(wanted), total_free)
        if give <= 0:
            continue
        share = np.floor(give * free / total_free).astype(np.int64)
        extra = give - int(share.sum())
        if extra:
            share[np.argsort(-(free - share), kind="stable")[:extra]] += 1
        counts[k] = share
        free -= share
    i, j = np.nonzero(counts)
    return LinkBundles(lower[i], upper[j], counts[i, j])


def _concat(parts: Iterable[LinkBundles]) -> LinkBundles:
    parts = [p for p in parts if len(p.a)]
    if not parts:
        return LinkBundles.empty()
    return LinkBundles(
        np.concatenate([p.a for p in parts]),
        np.concatenate([p.b for p in parts]),
        np.concatenate([p.count for p in parts]),
    )


def cut_off_rows(fabric: DerivedFabric, n_rows: int, removed: Iterable[int] = ()) -> np.ndarray:
    """GPU rack rows missing from the main domain (the component with most GPUs) of a plane."""
    removed = np.asarray(list(removed), dtype=np.intp)
    gpu_rows = np.flatnonzero(fabric.gpu_ports > 0)
    if len(removed):
        gpu_rows = gpu_rows[~np.isin(gpu_rows, removed)]
    if len(gpu_rows) == 0:
        return gpu_rows
    cut = np.zeros(n_rows, bool)
    network_end = {"gpu-leaf": "b", "leaf-spine": "a", "spine-core": "a"}
    for plane in range(fabric.planes):
        a_parts, b_parts = [], []
        for tier, bundle in fabric.links.items():
            ends = bundle.b if network_end[tier] == "b" else bundle.a
            mine = fabric.plane_of[ends] == plane
            a_parts.append(bundle.a[mine])
            b_parts.append(bundle.b[mine])
        a, b = np.concatenate(a_parts), np.concatenate(b_parts)
        if len(removed):
            keep = ~(np.isin(a, removed) | np.isin(b, removed))
            a, b = a[keep], b[keep]
        graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n_rows, n_rows))
        _, label = connected_components(graph, directed=False)
        weight = np.bincount(label[gpu_rows], weights=fabric.gpu_ports[gpu_rows])
        main = int(np.argmax(weight))
        cut[gpu_rows[label[gpu_rows] != main]] = True
    return np.flatnonzero(cut)


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


def worst_latency_ns(context: CheckContext) -> float | None:
    """Switch hops plus twice the slowest link of each tier.

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
    return view.fabric.max_hops * rules["per_hop_latency_ns"] + propagation


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
    ratio = tuple(project.fabric.oversubscription[: fabric.tiers - 1])
    largest = max_endpoints(fabric.radix, fabric.tiers, ratio) if _plannable(fabric) else 0
    return {
        "servers": servers,
        "planes": fabric.planes,
        "tiers": fabric.tiers,
        "switches_per_tier": {t: fabric.switches[t] for t in TIERS[: fabric.tiers]},
        "links_per_tier": {t: fabric.links[t].total for t in LINK_TIERS[: fabric.tiers]},
        "max_switch_hops": fabric.max_hops,
        "worst_latency_ns": round(worst_latency_ns(context) or 0.0, 1),
        "largest_fabric_gpus": largest // max(1, project.fabric.nics_per_gpu),
        "coherent": not any(v.rule in COHERENCE_RULES for v in context.found),
    }


def _plannable(fabric: DerivedFabric) -> bool:
    """The switch's radix is one a fat tree is planned for (the radix rule reports others)."""
    return 2 <= fabric.radix <= MAX_RADIX


def _shown_ids(ids: list[str], limit: int = 5) -> str:
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _position(context: CheckContext, item_id: str) -> tuple[float, float]:
    item = context.project.items.get(item_id)
    return (item.x, item.y)


@rule("fabric.connected", "error", "Every GPU reaches every other GPU: one domain.")
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
    # Which racks are cut off depends on the links alone, not on positions.
    rows = context.memo("fabric.cut_off", lambda: cut_off_rows(fabric, len(ids)))
    cut = [ids[r] for r in rows if ids[r] not in assigned]
    if cut:
        gpus = int(fabric.gpu_ports[[context.project.items.row(i) for i in cut]].sum())
        yield rule.violation(
            f"{len(cut)} GPU rack(s) ({gpus:,} GPU ports) are cut off from the rest of the "
            f"fabric: {_shown_ids(cut)}",
            cut,
            _position(context, cut[0]),
        )


@rule("fabric.radix", "error", "No switch uses more ports than its radix at the NIC speed.")
def radix(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    fabric = _view(context).fabric
    if fabric is None:
        return
    project = context.project
    spec = project.fabric
    if fabric.radix < 2:
        yield rule.violation(f"{spec.switch_type} has no {fabric.link_speed_gbps:g}G ports")
        return
    if fabric.radix > MAX_RADIX:
        yield rule.violation(
            f"{spec.switch_type} has {fabric.radix:,} {fabric.link_speed_gbps:g}G ports, more "
            f"than the {MAX_RADIX:,} a fabric is planned for"
        )
    ids = project.items.ids
    for rows in fabric.switch_rows.values():
        for row in rows:
            capacity = project.catalog[project.items.type_ids[row]].switches
            if fabric.switches_in[row] > capacity:
                yield rule.violation(
                    f"{ids[row]} has {fabric.switches_in[row]} switches installed but holds "
                    f"{capacity}",
                    (ids[row],),
                    _position(context, ids[row]),
                )
    gpu_on_leaf = fabric.links["gpu-leaf"].per_rack(len(ids), "b")
    for row in fabric.switch_rows["leaf"]:
        ports = fabric.switches_in[row] * fabric.leaf_down
        if gpu_on_leaf[row] > ports:
            yield rule.violation(
                f"leaf rack {ids[row]}: {gpu_on_leaf[row]:,} GPU links on {ports:,} leaf "
                "down-ports",
                (ids[row],),
                _position(context, ids[row]),
            )


@rule("fabric.capacity", "error", "The GPUs fit the largest fabric of this switch and tier count.")
def capacity(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    fabric = _view(context).fabric
    if fabric is None or not _plannable(fabric):
        return
    ratio = tuple(context.project.fabric.oversubscription[: fabric.tiers - 1])
    largest = max_endpoints(fabric.radix, fabric.tiers, ratio)
    if fabric.endpoints > largest:
        yield rule.violation(
            f"{fabric.endpoints:,} GPU ports per plane exceed the {largest:,} a "
            f"{fabric.tiers}-tier fabric of radix {fabric.radix} holds"
        )


@rule("fabric.oversubscription", "error", "Each tier's down:up ratio is within its target.")
def oversubscription(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    fabric = _view(context).fabric
    if fabric is None or fabric.tiers < 2:
        return
    ids = context.project.items.ids
    n = len(ids)
    targets = [*context.project.fabric.oversubscription, 1.0, 1.0]
    checks = [
        (
            "leaf",
            fabric.links["gpu-leaf"].per_rack(n, "b"),
            fabric.links["leaf-spine"].per_rack(n, "a"),
            targets[0],
        )
    ]
    if fabric.tiers == 3:
        checks.append(
            (
                "spine",
                fabric.links["leaf-spine"].per_rack(n, "b"),
                fabric.links["spine-core"].per_rack(n, "a"),
                targets[1],
            )
        )
    for tier, down_all, up_all, target in checks:
        rows = fabric.switch_rows[tier]
        down, up = down_all[rows], up_all[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(up > 0, down / np.maximum(up, 1), np.where(down > 0, np.inf, 0.0))
        bad = np.flatnonzero(ratio > target + 1e-9)
        if len(bad) == 0:
            continue
        worst = bad[np.argmax(ratio[bad])]
        shown = "no uplinks" if np.isinf(ratio[worst]) else f"{ratio[worst]:.2f}:1"
        bad_ids = [ids[rows[k]] for k in bad]
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
    "cabling.reach", "fabric.connected", "fabric.radix", "fabric.capacity",
    "fabric.oversubscription", "fabric.latency",
})  # fmt: skip
"""The rules whose violations (waived or not) make a fabric not coherent."""


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
    fabric = derive(project)  # None without a spec, or with a switch type not in the catalog
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
