"""The GPU fabric as placed: derived switches and links, coherence rules and metrics.

Owns the derivation of the rail-optimized fat tree from a project's fabric
spec and network racks (``tier``/``pod`` properties and the leaf assignments)
and the checks on it. Links are bundles between racks held as numpy arrays
(rack row A, rack row B, link count, tier), never one object per cable.

Until cables are routed over trays, a link's length is estimated as the
Manhattan distance between the two racks' centres, and its propagation delay
uses the fiber figure (``fiber_ns_per_m``).

Worst-case path: up every tier and down again, ``2·tiers − 1`` switch hops;
latency = hops × ``per_hop_latency_ns`` + the longest link of each tier, twice,
× ``fiber_ns_per_m``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from layout.catalog import NetworkRackType
from layout.errors import CoherenceError
from layout.fabric_plan import max_endpoints
from layout.project import Project
from physics.engine import CheckContext, Violation, metric, rule

TIERS = ("leaf", "spine", "core")
LINK_TIERS = ("gpu-leaf", "leaf-spine", "spine-core")


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


@dataclass
class DerivedFabric:
    """Switches per tier (by network rack) and link bundles per tier."""

    radix: int
    tiers: int
    leaf_down: int
    leaf_up: int
    spine_down: int
    spine_up: int
    endpoints: int
    switch_rows: dict[str, np.ndarray]
    switches: dict[str, int]
    links: dict[str, LinkBundles]
    unassigned: list[str]
    overloaded_leaf_racks: list[tuple[str, int, int]]

    @property
    def max_hops(self) -> int:
        return 2 * self.tiers - 1


def _network_tiers(project: Project) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {t: [] for t in TIERS}
    kinds = project.kinds()
    for row in np.flatnonzero(kinds == "network_rack"):
        tier = project.items.item_at(row).properties.get("tier")
        if tier in rows:
            rows[str(tier)].append(int(row))
    return rows


def derive(project: Project) -> DerivedFabric | None:
    """The fabric the project's spec and network racks describe; None without a spec."""
    spec = project.fabric
    if spec.switch_type is None or spec.nic_speed_gbps is None:
        return None
    switch = project.catalog.get(spec.switch_type)
    if switch is None or switch.kind != "switch":
        return None
    radix = switch.radix(spec.nic_speed_gbps)
    items = project.items
    tiers_rows = {t: np.asarray(r, dtype=np.intp) for t, r in _network_tiers(project).items()}
    n_switches = {
        t: int(sum(project.catalog[items.type_ids[r]].switches for r in rows))
        for t, rows in tiers_rows.items()
    }
    tiers = 3 if n_switches["core"] else 2 if n_switches["spine"] else 1
    ratio = spec.oversubscription[0] if spec.oversubscription else 1.0
    leaf_down = int(radix * ratio // (1 + ratio)) if tiers > 1 else radix
    leaf_up = radix - leaf_down if tiers > 1 else 0
    spine_down = radix // 2 if tiers == 3 else radix
    spine_up = radix - spine_down if tiers == 3 else 0

    gpu_rows = np.flatnonzero(project.kinds() == "gpu_rack")
    row_of = {items.ids[r]: r for r in gpu_rows}
    gpus_of = {t: getattr(project.catalog[t], "gpus", 0) for t in set(items.type_ids)}
    per_rack = np.fromiter((gpus_of[t] for t in items.type_ids), np.int64, len(items))
    per_rack = per_rack * spec.nics_per_gpu
    served = set()
    a, b, overloaded = [], [], []
    for leaf_id, racks in sorted(spec.assignments.items()):
        if leaf_id not in items:
            continue
        leaf_row = items.row(leaf_id)
        rows = [row_of[r] for r in racks if r in row_of]
        served.update(rows)
        a.extend(rows)
        b.extend([leaf_row] * len(rows))
        ports = int(per_rack[rows].sum())
        capacity = project.catalog[items.type_ids[leaf_row]].switches * leaf_down
        if ports > capacity:
            overloaded.append((leaf_id, ports, capacity))
    a_arr, b_arr = np.asarray(a, np.intp), np.asarray(b, np.intp)
    links = {"gpu-leaf": LinkBundles(a_arr, b_arr, per_rack[a_arr])}
    links["leaf-spine"] = (
        _leaf_spine(project, tiers_rows, leaf_up, spine_down) if tiers > 1 else LinkBundles.empty()
    )
    links["spine-core"] = (
        _spine_core(project, tiers_rows, spine_up, radix) if tiers == 3 else LinkBundles.empty()
    )
    unassigned = [items.ids[r] for r in gpu_rows if r not in served]
    endpoints = int(per_rack[gpu_rows].sum())
    return DerivedFabric(
        radix, tiers, leaf_down, leaf_up, spine_down, spine_up, endpoints, tiers_rows,
        n_switches, links, unassigned, overloaded,
    )  # fmt: skip


def _pods(project: Project, rows: np.ndarray) -> np.ndarray:
    return np.array(
        [int(project.items.item_at(r).properties.get("pod", 0) or 0) for r in rows], dtype=np.int64
    )


def _switch_counts(project: Project, rows: np.ndarray) -> np.ndarray:
    return np.array([project.catalog[project.items.type_ids[r]].switches for r in rows], np.int64)


def _spread(uplinks: int, weights: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Whole link counts proportional to ``weights`` summing to ``uplinks``.

    Remainders go to the racks with the most free ports, and ``free`` is
    reduced in place, so no rack is given more links than it has ports.
    """
    share = uplinks * weights / weights.sum()
    counts = np.floor(share).astype(np.int64)
    extra = uplinks - int(counts.sum())
    if extra > 0:
        order = np.argsort(-(free - counts), kind="stable")[:extra]
        counts[order] += 1
    free -= counts
    return counts


def _bundles(
    rows_a: np.ndarray, ups: np.ndarray, rows_b: np.ndarray, b_ports: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    a, b, count = [], [], []
    free = b_ports.astype(np.int64).copy()
    for row, up in zip(rows_a, ups, strict=True):
        counts = _spread(int(up), b_ports.astype(float), free)
        a.append(np.full(len(rows_b), row, np.intp))
        b.append(rows_b)
        count.append(counts)
    return a, b, count


def _leaf_spine(
    project: Project, tiers_rows: dict[str, np.ndarray], leaf_up: int, spine_down: int
) -> LinkBundles:
    """Each leaf rack spreads its uplinks over the spine racks of its pod."""
    leaves, spines = tiers_rows["leaf"], tiers_rows["spine"]
    if len(leaves) == 0 or len(spines) == 0:
        return LinkBundles.empty()
    leaf_pod, spine_pod = _pods(project, leaves), _pods(project, spines)
    leaf_n, spine_n = _switch_counts(project, leaves), _switch_counts(project, spines)
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for pod in np.unique(leaf_pod):
        in_pod = spine_pod == pod
        if not in_pod.any():
            continue
        mine = leaf_pod == pod
        got = _bundles(
            leaves[mine], leaf_n[mine] * leaf_up, spines[in_pod], spine_n[in_pod] * spine_down
        )
        for part, new in zip(parts, got, strict=True):
            part.extend(new)
    return _concat(*parts)


def _spine_core(
    project: Project, tiers_rows: dict[str, np.ndarray], spine_up: int, core_ports: int
) -> LinkBundles:
    """Each spine rack spreads its uplinks over the core racks."""
    spines, cores = tiers_rows["spine"], tiers_rows["core"]
    if len(spines) == 0 or len(cores) == 0:
        return LinkBundles.empty()
    spine_n, core_n = _switch_counts(project, spines), _switch_counts(project, cores)
    return _concat(*_bundles(spines, spine_n * spine_up, cores, core_n * core_ports))


def _concat(a: list[np.ndarray], b: list[np.ndarray], count: list[np.ndarray]) -> LinkBundles:
    if not a:
        return LinkBundles.empty()
    counts = np.concatenate(count)
    keep = counts > 0
    return LinkBundles(np.concatenate(a)[keep], np.concatenate(b)[keep], counts[keep])


class _FabricView:
    """The derived fabric and its link lengths, cached on a check context."""

    def __init__(self, context: CheckContext) -> None:
        self.context = context
        self.fabric = derive(context.project)

    @cached_property
    def longest(self) -> dict[str, tuple[float, int]]:
        """Per link tier: the longest estimated length (m) and its bundle index."""
        out = {}
        xy = self.context.project.items.xy
        assert self.fabric is not None
        for tier, bundle in self.fabric.links.items():
            if len(bundle.a) == 0:
                continue
            d = np.abs(xy[bundle.a] - xy[bundle.b]).sum(axis=1)
            k = int(np.argmax(d))
            out[tier] = (float(d[k]), k)
        return out


def _view(context: CheckContext) -> _FabricView:
    cached = getattr(context, "_fabric_view", None)
    if cached is None:
        cached = _FabricView(context)
        context._fabric_view = cached  # type: ignore[attr-defined]
    return cached


def worst_latency_ns(context: CheckContext) -> float | None:
    view = _view(context)
    if view.fabric is None:
        return None
    rules = context.project.rules
    propagation = 2 * sum(length for length, _ in view.longest.values()) * rules["fiber_ns_per_m"]
    return view.fabric.max_hops * rules["per_hop_latency_ns"] + propagation


@metric("fabric")
def fabric_metrics(context: CheckContext) -> Mapping[str, Any]:
    view = _view(context)
    fabric = view.fabric
    if fabric is None:
        return {"tiers": 0, "coherent": None}
    gpu_racks = context.project.kinds() == "gpu_rack"
    servers = sum(
        context.project.catalog[t].servers
        for t, is_gpu in zip(context.project.items.type_ids, gpu_racks, strict=True) if is_gpu
    )  # fmt: skip
    ratio = context.project.fabric.oversubscription
    largest = max_endpoints(fabric.radix, fabric.tiers, tuple(ratio)) if fabric.radix else 0
    return {
        "servers": servers,
        "tiers": fabric.tiers,
        "switches_per_tier": {t: fabric.switches[t] for t in TIERS[: fabric.tiers]},
        "links_per_tier": {t: fabric.links[t].total for t in LINK_TIERS[: fabric.tiers]},
        "max_switch_hops": fabric.max_hops,
        "worst_latency_ns": round(worst_latency_ns(context) or 0.0, 1),
        "largest_fabric_gpus": largest // max(1, context.project.fabric.nics_per_gpu),
        "coherent": _coherent(context),
    }


def _coherent(context: CheckContext) -> bool:
    return not any(True for r in _FABRIC_RULES for _ in r(context))


@rule(
    "fabric.connected", "error", "Every GPU rack is served by a leaf, so all GPUs form one domain."
)
def connected(context: CheckContext) -> Iterator[Violation]:
    fabric = _view(context).fabric
    if fabric is None:
        return
    provider = context.provider("fabric.connected")
    if fabric.unassigned:
        shown = ", ".join(fabric.unassigned[:5]) + (" …" if len(fabric.unassigned) > 5 else "")
        yield provider.violation(
            f"{len(fabric.unassigned)} GPU rack(s) have no leaf switch: {shown}",
            fabric.unassigned,
            _position(context, fabric.unassigned[0]),
        )
    for tier, below in (("spine", "leaf"), ("core", "spine")):
        if (
            fabric.switches[below]
            and not fabric.switches[tier]
            and fabric.tiers > TIERS.index(below) + 1
        ):
            yield provider.violation(f"{below} switches have no {tier} switches above them")


@rule("fabric.radix", "error", "No switch uses more ports than its radix at the NIC speed.")
def radix(context: CheckContext) -> Iterator[Violation]:
    fabric = _view(context).fabric
    if fabric is None:
        return
    provider = context.provider("fabric.radix")
    if fabric.radix == 0:
        spec = context.project.fabric
        yield provider.violation(
            f"{spec.switch_type} has no {spec.nic_speed_gbps:g}G ports", severity="error"
        )
        return
    for leaf_id, ports, capacity in fabric.overloaded_leaf_racks:
        yield provider.violation(
            f"leaf rack {leaf_id}: {ports} GPU ports on {capacity} leaf down-ports",
            (leaf_id,),
            _position(context, leaf_id),
        )
    for tier, up, down_per_switch in (
        ("spine", "leaf-spine", fabric.spine_down),
        ("core", "spine-core", fabric.radix),
    ):
        if not fabric.switches[tier]:
            continue
        bundle = fabric.links[up]
        needed = bundle.total
        have = fabric.switches[tier] * down_per_switch
        if needed > have:
            yield provider.violation(
                f"{needed:,} {up} links need more ports than the {fabric.switches[tier]:,} "
                f"{tier} switches have ({have:,})"
            )


@rule(
    "fabric.capacity",
    "error",
    "The endpoints fit the largest fabric of this switch and tier count.",
)
def capacity(context: CheckContext) -> Iterator[Violation]:
    fabric = _view(context).fabric
    if fabric is None or fabric.radix == 0:
        return
    ratio = tuple(context.project.fabric.oversubscription)
    largest = max_endpoints(fabric.radix, fabric.tiers, ratio)
    if fabric.endpoints > largest:
        yield context.provider("fabric.capacity").violation(
            f"{fabric.endpoints:,} GPU ports exceed the {largest:,} a {fabric.tiers}-tier fabric "
            f"of radix {fabric.radix} holds"
        )


@rule("fabric.oversubscription", "error", "Each tier's down:up ratio is within the target.")
def oversubscription(context: CheckContext) -> Iterator[Violation]:
    fabric = _view(context).fabric
    if fabric is None or fabric.tiers < 2 or fabric.leaf_up == 0:
        return
    target = (
        context.project.fabric.oversubscription[0]
        if context.project.fabric.oversubscription
        else 1.0
    )
    actual = fabric.leaf_down / fabric.leaf_up
    if actual > target + 1e-9:
        yield context.provider("fabric.oversubscription").violation(
            f"leaf tier oversubscribed {actual:.2f}:1, target {target:g}:1"
        )


@rule("fabric.latency", "warning", "The worst GPU-to-GPU latency is within the latency budget.")
def latency(context: CheckContext) -> Iterator[Violation]:
    worst = worst_latency_ns(context)
    if worst is None:
        return
    budget = context.project.rules["latency_budget_ns"]
    if worst > budget:
        yield context.provider("fabric.latency").violation(
            f"worst GPU-to-GPU latency {worst:,.0f} ns exceeds the {budget:,.0f} ns budget"
        )


_FABRIC_RULES = (connected, radix, capacity, oversubscription)


def _position(context: CheckContext, item_id: str) -> tuple[float, float]:
    item = context.project.items.get(item_id)
    return (item.x, item.y)


def fail_switch_rack(project: Project, rack_id: str) -> dict[str, Any]:
    """What-if: lose one network rack. GPUs cut off and the share of bisection lost."""
    fabric = derive(project)
    if fabric is None:
        raise CoherenceError("the project has no fabric spec")
    row = project.items.row(rack_id)
    t = project.type_of(rack_id)
    if not isinstance(t, NetworkRackType):
        raise CoherenceError(f"{rack_id} is not a network rack")
    tier = project.items.get(rack_id).properties.get("tier")
    gpu_links = fabric.links["gpu-leaf"]
    lost_gpus = int(gpu_links.count[gpu_links.b == row].sum()) if tier == "leaf" else 0
    lost_share = 0.0
    if tier in ("spine", "core") and fabric.switches[str(tier)]:
        lost_share = t.switches / fabric.switches[str(tier)]
    return {"rack": rack_id, "tier": tier, "gpus_disconnected": lost_gpus,
            "bisection_lost": round(lost_share, 6)}  # fmt: skip
