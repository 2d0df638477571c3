"""The cluster generator: from a GPU count to a laid-out hall with its fabric.

Owns how a new design is laid out; it returns a :class:`~layout.project.Project`
and never touches an existing one.

Layout. GPU racks stand in rows; two rows face each other across a cold aisle
(a *row pair*), and row pairs are separated by hot aisles. A row is cut into
*segments* of ``arrays_per_leaf_rack`` arrays with their leaf network rack in
the middle, so each GPU's leaf is at most half a segment away. Segments are
separated by cross aisles. One segment of a row pair is a *slot*; slots are
cut from the floor where they fit inside the outline and clear of obstacles.
The slots nearest the hall's centre hold the spine and core network racks,
so the longest (switch-to-switch) runs stay short; GPU slots follow by
distance from the centre.

Fabric. Rail-optimized fat tree: an array is one rail group, so GPU n of
every server in an array lands on leaf n of that array's leaves (one leaf per
rail). Switch counts per tier come from :mod:`layout.fabric_plan`. Leaf racks
carry ``tier``/``pod`` properties; spine racks carry ``tier``/``pod``; core
racks ``tier``. The fabric spec's ``assignments`` map each leaf rack to the
GPU racks it serves. Links are derived from these, never stored.

Deterministic: the same request gives the same project, byte for byte.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely

from layout.catalog import Catalog, GpuRackType, NetworkRackType, default_catalog
from layout.errors import CoherenceError
from layout.fabric_plan import FabricPlan, plan_fabric
from layout.floor import Floor
from layout.items import Item
from layout.project import FabricSpec, Project

MAX_GPUS = 10_000_000
"""Ten times the largest cluster being planned; beyond it a request is a typo."""
HALL_ASPECT = 1.6
"""Width to depth of a generated hall, as in converted factories and purpose-built halls."""


class GeneratorError(CoherenceError):
    """The request cannot be laid out (bad option, hall too small, fabric too large)."""


@dataclass(frozen=True)
class ClusterRequest:
    """What the planner asks for. Lengths in metres."""

    gpus: int
    rack_type: str = "colossus-hgx-h100-lc"
    racks_per_array: int = 8
    network_rack_type: str = "net-sn5600-16"
    nic_speed_gbps: float | None = None
    tiers: int | str = "auto"
    oversubscription: tuple[float, ...] = (1.0,)
    hall_m: tuple[float, float] | None = None
    floor: Floor | None = None
    cold_aisle_m: float = 1.8
    hot_aisle_m: float = 1.2
    cross_aisle_m: float = 2.4
    wall_margin_m: float = 2.4
    name: str = ""


@dataclass
class _Sizes:
    rack: GpuRackType
    net: NetworkRackType
    plan: FabricPlan
    racks: int
    arrays: int
    arrays_per_leaf_rack: int
    leaf_racks: int
    spine_racks: int
    core_racks: int
    row_depth_m: float = field(init=False)

    def __post_init__(self) -> None:
        self.row_depth_m = max(self.rack.footprint.depth_m, self.net.footprint.depth_m)


def _check_request(
    request: ClusterRequest, catalog: Catalog
) -> tuple[GpuRackType, NetworkRackType]:
    if isinstance(request.gpus, bool) or not isinstance(request.gpus, int):
        raise GeneratorError(f"--gpus: expected a whole number, got {request.gpus!r}")
    if not 1 <= request.gpus <= MAX_GPUS:
        raise GeneratorError(f"--gpus: {request.gpus:,} is outside 1..{MAX_GPUS:,}")
    rack = catalog.get(request.rack_type)
    if not isinstance(rack, GpuRackType):
        choices = ", ".join(t.id for t in catalog.of_kind("gpu_rack"))
        raise GeneratorError(f"--rack: {request.rack_type!r} is not a GPU rack type ({choices})")
    net = catalog.get(request.network_rack_type)
    if not isinstance(net, NetworkRackType):
        choices = ", ".join(t.id for t in catalog.of_kind("network_rack"))
        raise GeneratorError(
            f"--network-rack: {request.network_rack_type!r} is not a network rack type ({choices})"
        )
    if not 1 <= request.racks_per_array <= 64:
        raise GeneratorError(f"--racks-per-array: {request.racks_per_array} is outside 1..64")
    for label, value in (
        ("cold aisle", request.cold_aisle_m),
        ("hot aisle", request.hot_aisle_m),
        ("cross aisle", request.cross_aisle_m),
        ("wall margin", request.wall_margin_m),
    ):
        if not (math.isfinite(value) and 0 <= value <= 20):
            raise GeneratorError(f"{label}: {value} m is outside 0..20 m")
    return rack, net


def _sizes(request: ClusterRequest, catalog: Catalog) -> _Sizes:
    rack, net = _check_request(request, catalog)
    switch = catalog[net.switch]
    speed = request.nic_speed_gbps or rack.nic_speed_gbps
    radix = switch.radix(speed)
    if radix == 0:
        speeds = ", ".join(f"{p.speed_gbps:g}G" for p in switch.ports)
        raise GeneratorError(f"--nic-speed: {switch.name} has no {speed:g}G ports ({speeds})")
    racks = math.ceil(request.gpus / rack.gpus)
    arrays = math.ceil(racks / request.racks_per_array)
    racks = arrays * request.racks_per_array
    rails = rack.gpus_per_server * rack.nics_per_gpu
    endpoints = racks * rack.gpus * rack.nics_per_gpu
    plan = plan_fabric(
        endpoints, radix, rails, tiers=request.tiers, oversubscription=request.oversubscription
    )
    servers_per_array = request.racks_per_array * rack.servers
    if servers_per_array > plan.leaf_down:
        most = plan.leaf_down // rack.servers
        raise GeneratorError(
            f"--racks-per-array: an array of {servers_per_array} servers needs {servers_per_array} "
            f"ports per leaf but a leaf has {plan.leaf_down}; use at most {most} racks per array"
        )
    if net.switches < rails:
        raise GeneratorError(
            f"--network-rack: {net.id} holds {net.switches} switches, fewer than the {rails} "
            "leaves (one per rail) an array needs"
        )
    arrays_per_leaf_rack = net.switches // rails
    leaf_racks = math.ceil(arrays / arrays_per_leaf_rack)
    leaves = arrays * rails
    spines, cores = _upper_tiers(plan, leaves)
    return _Sizes(
        rack, net, plan, racks, arrays, arrays_per_leaf_rack, leaf_racks,
        math.ceil(spines / net.switches), math.ceil(cores / net.switches),
    )  # fmt: skip


def _upper_tiers(plan: FabricPlan, leaves: int) -> tuple[int, int]:
    """Spine and core switch counts for ``leaves`` leaves (arrays are whole rail groups)."""
    if plan.tiers == 1:
        return 0, 0
    if plan.tiers == 2:
        return math.ceil(leaves * plan.leaf_up / plan.radix), 0
    per_pod = plan.radix // 2
    pods = math.ceil(leaves / per_pod)
    spines = 0
    for pod in range(pods):
        in_pod = min(per_pod, leaves - pod * per_pod)
        spines += math.ceil(in_pod * plan.leaf_up / plan.spine_down)
    return spines, math.ceil(spines * plan.spine_up / plan.radix)


@dataclass(frozen=True)
class _Geometry:
    segment_w: float
    slot_h: float
    pitch_x: float
    pitch_y: float


def _geometry(request: ClusterRequest, s: _Sizes) -> _Geometry:
    racks_per_segment = s.arrays_per_leaf_rack * request.racks_per_array
    segment_w = racks_per_segment * s.rack.footprint.width_m + s.net.footprint.width_m
    slot_h = 2 * s.row_depth_m + request.cold_aisle_m
    return _Geometry(
        segment_w, slot_h, segment_w + request.cross_aisle_m, slot_h + request.hot_aisle_m
    )


def _slots_needed(s: _Sizes, g: _Geometry) -> tuple[int, int]:
    gpu_segments = s.leaf_racks
    per_net_segment = max(1, int(g.segment_w // s.net.footprint.width_m))
    net_segments = math.ceil((s.spine_racks + s.core_racks) / per_net_segment)
    return math.ceil(gpu_segments / 2), math.ceil(net_segments / 2)


def _auto_hall(request: ClusterRequest, g: _Geometry, slots: int) -> Floor:
    best: tuple[float, int, int] | None = None
    for columns in range(1, slots + 1):
        rows = math.ceil(slots / columns)
        width = 2 * request.wall_margin_m + columns * g.pitch_x - request.cross_aisle_m
        depth = 2 * request.wall_margin_m + rows * g.pitch_y - request.hot_aisle_m
        score = abs(math.log(width / depth / HALL_ASPECT))
        if best is None or score < best[0]:
            best = (score, columns, rows)
    assert best is not None
    _, columns, rows = best
    width = 2 * request.wall_margin_m + columns * g.pitch_x - request.cross_aisle_m
    depth = 2 * request.wall_margin_m + rows * g.pitch_y - request.hot_aisle_m
    return Floor.rectangle(round(width, 1) + 0.0, round(depth + 0.05, 1))


def _candidate_slots(request: ClusterRequest, floor: Floor, g: _Geometry) -> np.ndarray:
    """Top-left corners of slots that fit the floor, nearest the centre first."""
    x0, y0, x1, y1 = floor.bounds
    m = request.wall_margin_m
    xs = np.arange(x0 + m, x1 - m - g.segment_w + 1e-9, g.pitch_x)
    ys = np.arange(y0 + m, y1 - m - g.slot_h + 1e-9, g.pitch_y)
    if len(xs) == 0 or len(ys) == 0:
        return np.empty((0, 2))
    grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    # A slot with its share of the aisles around it must fit.
    half_cross, half_hot = request.cross_aisle_m / 2, request.hot_aisle_m / 2
    boxes = shapely.box(
        grid[:, 0] - half_cross, grid[:, 1] - half_hot,
        grid[:, 0] + g.segment_w + half_cross, grid[:, 1] + g.slot_h + half_hot,
    )  # fmt: skip
    inside = shapely.box(grid[:, 0], grid[:, 1], grid[:, 0] + g.segment_w, grid[:, 1] + g.slot_h)
    ok = shapely.covered_by(inside, floor.outline)
    if floor.obstacles:
        hit, _ = floor.obstacle_tree.query(boxes, predicate="intersects")
        ok[np.unique(hit)] = False
    grid = grid[ok]
    cx, cy = floor.outline.centroid.x, floor.outline.centroid.y
    centre = grid + np.array([g.segment_w / 2, g.slot_h / 2])
    distance = np.hypot(centre[:, 0] - cx, centre[:, 1] - cy)
    order = np.lexsort((grid[:, 0], grid[:, 1], np.round(distance, 6)))
    return grid[order]


def generate(request: ClusterRequest, catalog: Catalog | None = None) -> Project:
    """Lay out the requested cluster; raises :class:`GeneratorError` when it cannot."""
    catalog = catalog if catalog is not None else default_catalog()
    sizes = _sizes(request, catalog)
    geometry = _geometry(request, sizes)
    gpu_slots, net_slots = _slots_needed(sizes, geometry)
    if request.floor is not None:
        floor = request.floor
    elif request.hall_m is not None:
        width, depth = request.hall_m
        if not (
            math.isfinite(width)
            and math.isfinite(depth)
            and 0 < width <= 10_000
            and 0 < depth <= 10_000
        ):
            raise GeneratorError(f"--hall: {width:g} x {depth:g} m is outside 0..10,000 m")
        floor = Floor.rectangle(width, depth)
    else:
        floor = _auto_hall(request, geometry, gpu_slots + net_slots)
    slots = _candidate_slots(request, floor, geometry)
    if len(slots) < gpu_slots + net_slots:
        fits = max(0, len(slots) - net_slots) * 2 * sizes.arrays_per_leaf_rack
        fits_racks = fits * request.racks_per_array
        fits_gpus = fits_racks * sizes.rack.gpus
        raise GeneratorError(
            f"the hall is too small: it fits {fits_racks:,} racks ({fits_gpus:,} GPUs) with "
            f"their aisles and network, but {sizes.racks:,} racks are needed"
        )
    items, assignments = _place(request, sizes, geometry, slots[:net_slots], slots[net_slots:])
    plan = sizes.plan
    fabric = FabricSpec(
        tiers=plan.tiers if request.tiers != "auto" else "auto",
        switch_type=sizes.net.switch,
        nic_speed_gbps=float(request.nic_speed_gbps or sizes.rack.nic_speed_gbps),
        nics_per_gpu=sizes.rack.nics_per_gpu,
        oversubscription=list(request.oversubscription),
        rails=sizes.rack.gpus_per_server,
        assignments=assignments,
    )
    name = request.name or f"{request.gpus:,} × {sizes.rack.gpu_model} cluster"
    return Project(floor, name=name, catalog=catalog, items=items, fabric=fabric)


def _row_items(  # noqa: PLR0917 - a private helper called with one row's values
    prefix_counter: dict[str, int], type_id: str, prefix: str, xs: np.ndarray, y: float,
    rotation: float, props: dict[str, object], name: str,
) -> list[Item]:  # fmt: skip
    out = []
    for x in xs:
        prefix_counter[prefix] += 1
        n = prefix_counter[prefix]
        out.append(Item(f"{prefix}{n:05d}", type_id, round(float(x), 4), round(y, 4), rotation,
                        f"{name} {n}", dict(props)))  # fmt: skip
    return out


def _place(
    request: ClusterRequest, s: _Sizes, g: _Geometry, net_slots: np.ndarray, gpu_slots: np.ndarray
) -> tuple[list[Item], dict[str, list[str]]]:
    rack_w, net_w, depth = s.rack.footprint.width_m, s.net.footprint.width_m, s.row_depth_m
    counter = {"R": 0, "L": 0, "S": 0, "C": 0}
    items: list[Item] = []
    assignments: dict[str, list[str]] = {}
    # Each slot has two rows: A at the top facing down (180°), B below facing up (0°).
    rows = []
    for x0, y0 in gpu_slots:
        rows.append((x0, y0 + depth / 2, 180.0))
        rows.append((x0, y0 + depth + request.cold_aisle_m + depth / 2, 0.0))
    arrays_left = s.arrays
    per_pod = s.plan.radix // 2 if s.plan.tiers == 3 else 10**9
    leaves_per_rack = s.arrays_per_leaf_rack * s.rack.gpus_per_server * s.rack.nics_per_gpu
    for x0, y, rotation in rows:
        if arrays_left <= 0:
            break
        arrays_here = min(s.arrays_per_leaf_rack, arrays_left)
        arrays_left -= arrays_here
        racks_here = arrays_here * request.racks_per_array
        left = math.ceil(arrays_here / 2) * request.racks_per_array
        leaf_x = x0 + left * rack_w + net_w / 2
        xs = np.concatenate([
            x0 + rack_w / 2 + rack_w * np.arange(left),
            x0 + left * rack_w + net_w + rack_w / 2 + rack_w * np.arange(racks_here - left),
        ])  # fmt: skip
        leaf_index = counter["L"]
        pod = (leaf_index * leaves_per_rack) // per_pod if s.plan.tiers == 3 else 0
        racks = _row_items(counter, s.rack.id, "R", xs, y, rotation, {}, "GPU rack")
        (leaf,) = _row_items(counter, s.net.id, "L", np.array([leaf_x]), y, rotation,
                             {"tier": "leaf", "pod": pod}, "Leaf rack")  # fmt: skip
        items.extend(racks)
        items.append(leaf)
        assignments[leaf.id] = [r.id for r in racks]
    # Network slots: spine racks first (by pod), then core racks, packed along rows.
    per_segment = max(1, int(g.segment_w // net_w))
    upper = [("S", "spine", k) for k in range(s.spine_racks)] + [
        ("C", "core", k) for k in range(s.core_racks)
    ]
    spine_pods = _spine_pods(s)
    positions = []
    for x0, y0 in net_slots:
        for y, rotation in (
            (y0 + depth / 2, 180.0),
            (y0 + depth + request.cold_aisle_m + depth / 2, 0.0),
        ):
            positions.extend((x0 + net_w / 2 + net_w * k, y, rotation) for k in range(per_segment))
    for (prefix, tier, k), (x, y, rotation) in zip(upper, positions, strict=False):
        props: dict[str, object] = {"tier": tier}
        if tier == "spine":
            props["pod"] = spine_pods[k]
        label = "Spine rack" if tier == "spine" else "Core rack"
        items.extend(
            _row_items(counter, s.net.id, prefix, np.array([x]), y, rotation, props, label)
        )
    return items, assignments


def _spine_pods(s: _Sizes) -> list[int]:
    """The pod of each spine rack (spine racks are filled pod by pod)."""
    if s.plan.tiers != 3:
        return [0] * s.spine_racks
    per_pod = s.plan.radix // 2
    leaves = s.arrays * s.rack.gpus_per_server * s.rack.nics_per_gpu
    pods = []
    for pod in range(math.ceil(leaves / per_pod)):
        in_pod = min(per_pod, leaves - pod * per_pod)
        spines = math.ceil(in_pod * s.plan.leaf_up / s.plan.spine_down)
        pods.extend([pod] * spines)
    racks = []
    for k in range(s.spine_racks):
        racks.append(pods[min(k * s.net.switches, len(pods) - 1)])
    return racks
