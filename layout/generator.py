"""The cluster generator: from a GPU count to a laid-out, checked hall.

Owns how a new design is laid out; it returns a :class:`~layout.project.Project`
and never touches an existing one. Deterministic: the same request gives the
same project, byte for byte.

Sizing. A design holds the fewest whole GPU racks that hold the GPUs asked for
(100,000 GPUs in 64-GPU racks: 1,563 racks), grouped into arrays that fill a
leaf's down-ports; the last array may be partial, its leaf ports left free.
``ClusterRequest.whole_arrays`` rounds up to whole arrays instead. The project's
fabric spec records the GPUs requested. :func:`preview` gives these sizes
without laying anything out.

Layout. Racks stand in rows; two rows face each other across a cold aisle (a
*row pair*) and row pairs are separated by hot aisles. A GPU row is a
*segment* of two or more arrays with their leaf network racks in the middle,
so every GPU's leaf is at most half a segment away. Segments are
separated by cross aisles. One segment of a row pair is a *slot*; slots are
cut from the floor where they fit inside the outline with their aisles clear
of obstacles. The slots nearest the hall's centre hold the spine and core
network racks, so the longest (switch-to-switch) runs stay short; cooling
slots (CRAHs, in-row CDUs) are spread evenly among the GPU slots, which fill
the rest by distance from the centre.

Fabric. Rail-optimized fat tree: an array is one rail group, so GPU n of every
server in an array lands on leaf n of that array's leaves (one leaf per rail).
Leaf racks carry ``tier``/``pod``; spine racks ``tier``/``pod``; core racks
``tier``; a rack holding fewer switches than it fits says so in ``switches``.
The fabric spec's ``assignments`` map each leaf rack to the GPU racks it
serves. Links are derived from these, never stored.

Fabric shape. Each link tier (GPU-leaf, leaf-spine, spine-core) runs at the
request's speed or the NIC speed over the planes, and each tier's switch is
that of its own network rack type (spine and core racks default to the
leaves'): the sizing takes every tier's radix at its link speeds
(:class:`~layout.fabric_plan.TierPorts`), so a leaf may run 128 × 200G down and
64 × 400G up (Alibaba's HPN). Dual-homed, every NIC port has a link to two
leaves of its plane, at half the speed unless asked: a rail group has two
leaves per rail, in two leaf racks side by side that both serve the array (a
rack lost takes one home only). A fixed pod size (Meta's AI zones) makes pods
of whole leaf racks up to that many GPUs, with the spine tier's
oversubscription above them (a pod may hold less when the leaf racks do not
divide it). The spec records the link speeds, dual-homing and pod size only
when asked, so a design made without them is written as before.

Trays. An overhead tray runs along every row and along every cross aisle,
split where they cross, so they form one network; a ``tray_sizer`` given to
:func:`generate` sizes them for the cables routed over them.

Power and cooling: see :mod:`layout.facility`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pydantic
import shapely

from layout.catalog import Catalog, GpuRackType, NetworkRackType, SwitchType, default_catalog
from layout.errors import CoherenceError, EditError, describe_validation_error
from layout.fabric_plan import FabricError, FabricPlan, TierPorts, even_spines, plan_fabric
from layout.facility import (
    FacilityChoice,
    FacilityError,
    PowerChoice,
    Row,
    air_heat_kw,
    liquid_heat_kw,
    plan_plant,
    unit_count,
)
from layout.floor import Floor
from layout.items import Item, PropertyValue
from layout.kinds import EQUIPMENT_KINDS
from layout.limits import MAX_ITEMS, MAX_NAME_CHARS, checked_text
from layout.network_plan import (
    NetworkChoice,
    NetworkPlan,
    NetworkPlanError,
    PlannedRack,
    middle_pitch_m,
    plan_networks,
)
from layout.project import FabricSpec, Project, TrayPlan, TraySegment
from layout.rules import Rules

MAX_GPUS = 10_000_000
"""Ten times the largest cluster being planned; beyond it a request is a typo."""
HALL_ASPECT = 1.6
"""Width to depth of a generated hall, as in converted factories and purpose-built halls."""
EPS = 1e-9
DEFAULT_RACKS_PER_ARRAY = 8
"""Colossus: 8 racks of 64 GPUs make an array of 512 GPUs."""
PLANES = (1, 2, 4, 8)
"""Fabric planes a NIC can be split into (each plane a fat tree at NIC speed / planes)."""
SEGMENT_RACKS = 16
"""GPU racks a row segment holds at least (when the arrays come that many): two Colossus
arrays, about 10 m of row, so no rack is more than about 5 m from its leaf rack."""
MAX_TIERS_TRIES = 3
"""Re-plans of a tree for the leaves of its arrays: one per tier it may add."""
LINK_TIERS = ("GPU-leaf", "leaf-spine", "spine-core")
MAX_LINK_GBPS = 100_000
"""The fastest link a project file holds (``FabricSpec.link_speeds_gbps``)."""


FIELD_LABELS = {
    "gpus": "GPUs",
    "rack_type": "rack type",
    "racks_per_array": "racks per array",
    "network_rack_type": "network rack type",
    "nic_speed_gbps": "NIC speed",
    "tiers": "tiers",
    "planes": "planes",
    "oversubscription": "oversubscription",
    "hall_m": "hall",
    "cold_aisle_m": "cold aisle",
    "hot_aisle_m": "hot aisle",
    "cross_aisle_m": "cross aisle",
    "wall_margin_m": "wall margin",
    "floor": "floor",
    "name": "name",
    "whole_arrays": "whole arrays",
    "link_speeds_gbps": "link speeds",
    "dual_homed": "dual-homed",
    "pod_gpus": "pod size",
    "spine_rack_type": "spine rack type",
    "core_rack_type": "core rack type",
}
"""How a message names a :class:`ClusterRequest` field (facility fields by their own name)."""


class GeneratorError(CoherenceError):
    """The request cannot be laid out (bad option, hall too small, fabric too large).

    ``field`` names the request's field at fault (of :class:`ClusterRequest`,
    or of :class:`~layout.facility.FacilityChoice`), when there is one;
    ``detail`` is the message without the field's name, for a caller that
    names the field its own way (the command line names its option).
    """

    def __init__(self, detail: str, field: str | None = None) -> None:
        label = FIELD_LABELS.get(field, field) if field else ""
        # "the hall is too small" names its field already.
        named = not label or detail.startswith((label, f"the {label} "))
        super().__init__(detail if named else f"{label}: {detail}")
        self.detail = detail
        self.field = field


@dataclass(frozen=True)
class ClusterRequest:
    """What the planner asks for. Lengths in metres."""

    gpus: int
    rack_type: str = "colossus-hgx-h100-lc"
    racks_per_array: int | None = None
    """Racks per array (one rail group); None fills a leaf's down-ports (8 for Colossus)."""
    network_rack_type: str = "net-sn5600-8"
    nic_speed_gbps: float | None = None
    tiers: int | str = "auto"
    oversubscription: tuple[float, ...] = (1.0,)
    planes: int | str = "auto"
    hall_m: tuple[float, float] | None = None
    floor: Floor | None = None
    cold_aisle_m: float = 1.8
    hot_aisle_m: float = 1.2
    cross_aisle_m: float = 2.4
    wall_margin_m: float = 2.4
    facility: FacilityChoice = field(default_factory=FacilityChoice)
    power: PowerChoice = field(default_factory=PowerChoice)
    """The power chain's topology and its sources (2N by default)."""
    networks: NetworkChoice = field(default_factory=NetworkChoice)
    """The front-end, storage and management networks and the storage racks."""
    name: str = ""
    whole_arrays: bool = False
    """Round the racks up to whole arrays; by default the last array is partial (fewer
    racks, its leaf ports left free), so the design holds the GPUs asked for and no more."""
    link_speeds_gbps: tuple[float | None, ...] = ()
    """Speed of one link per link tier (GPU-leaf, leaf-spine, spine-core), in Gb/s, as
    Alibaba's HPN runs 200G down and 400G up from its ToRs. A missing or None entry is the
    NIC speed over the planes (half that for a dual-homed GPU link)."""
    dual_homed: bool = False
    """Each NIC port's link split over two leaf switches of the same plane (dual-ToR): a
    rail group has twice the rails' leaves, in two leaf racks side by side."""
    pod_gpus: int | None = None
    """A fixed pod size for 3 tiers (Meta's 3,072-GPU AI zones); the spine tier's
    oversubscription applies above it. None: pods as wide as a spine's down-ports."""
    spine_rack_type: str | None = None
    """The spine tier's network rack type; None: ``network_rack_type``."""
    core_rack_type: str | None = None
    """The core tier's network rack type; None: ``network_rack_type``."""


@dataclass(frozen=True)
class _Types:
    """The catalog types a request names: its GPU rack and each tier's network rack."""

    rack: GpuRackType
    leaf: NetworkRackType
    spine: NetworkRackType
    core: NetworkRackType
    switches: tuple[SwitchType, SwitchType, SwitchType]
    """The switch of the leaf, spine and core racks."""


@dataclass
class _Sizes:
    rack: GpuRackType
    net: NetworkRackType
    """The leaf racks' type (and the spine and core racks' unless the request names theirs)."""
    plan: FabricPlan
    planes: int
    racks: int
    arrays: int
    arrays_per_leaf_rack: int
    leaf_racks: int
    """Leaf rack positions: each holds ``planes × homes`` leaf racks side by side."""
    leaf_rack_pods: list[int]
    spines_per_pod: list[int]
    cores: int
    racks_per_array: int
    spine_net: NetworkRackType
    core_net: NetworkRackType
    homes: int
    """Leaf switches per NIC port per plane: 2 when dual-homed, else 1."""
    ports: TierPorts
    """Each tier's radix at each link tier's speed, and those speeds."""
    networks: NetworkPlan = field(default_factory=lambda: NetworkPlan([], []))
    """The other networks' racks (:mod:`layout.network_plan`)."""

    @property
    def array_racks(self) -> list[int]:
        """GPU racks of each array: full arrays, then the last one with what is left."""
        return _chunks(self.racks, self.racks_per_array)

    @property
    def rails(self) -> int:
        """Leaves of an array in each leaf rack: one per rail (a dual-homed array has as many
        again in the rack beside it)."""
        return self.rack.gpus_per_server * self.rack.nics_per_gpu

    @property
    def leaf_stack(self) -> int:
        """Leaf racks side by side at one leaf rack position: one per plane and home."""
        return self.planes * self.homes

    @property
    def leaf_racks_per_segment(self) -> int:
        """Leaf rack positions in the middle of a row segment: enough for two arrays
        and for :data:`SEGMENT_RACKS` GPU racks (small arrays, as NVL72 racks make, would
        otherwise give short segments and a cross aisle every few metres)."""
        arrays = max(2, math.ceil(SEGMENT_RACKS / self.racks_per_array))
        return max(1, math.ceil(arrays / self.arrays_per_leaf_rack))

    @property
    def arrays_per_segment(self) -> int:
        return self.arrays_per_leaf_rack * self.leaf_racks_per_segment

    @property
    def segments(self) -> int:
        return math.ceil(self.arrays / self.arrays_per_segment)

    @property
    def spine_racks(self) -> list[tuple[int, int, int]]:
        """(plane, pod, switches) of each spine rack, filled plane by plane, pod by pod."""
        return [
            (plane, pod, n)
            for plane in range(self.planes)
            for pod, count in enumerate(self.spines_per_pod)
            for n in _chunks(count, self.spine_net.switches)
        ]

    @property
    def core_racks(self) -> list[tuple[int, int]]:
        """(plane, switches) of each core rack."""
        return [
            (plane, n)
            for plane in range(self.planes)
            for n in _chunks(self.cores, self.core_net.switches)
        ]

    @property
    def network_rack_counts(self) -> dict[str, tuple[NetworkRackType, int]]:
        """Network racks placed, by type id: (type, racks), leaf type first."""
        counts: dict[str, tuple[NetworkRackType, int]] = {}
        for net, n in (
            (self.net, self.leaf_racks * self.leaf_stack),
            (self.spine_net, len(self.spine_racks)),
            (self.core_net, len(self.core_racks)),
        ):
            counts[net.id] = (net, counts.get(net.id, (net, 0))[1] + n)
        return counts

    @property
    def row_depth_m(self) -> float:
        return max(
            self.rack.footprint.depth_m, self.net.footprint.depth_m,
            self.spine_net.footprint.depth_m, self.core_net.footprint.depth_m,
        )  # fmt: skip


def _chunks(total: int, size: int) -> list[int]:
    """``total`` split into full chunks of ``size`` and a remainder."""
    full, rest = divmod(total, size)
    return [size] * full + ([rest] if rest else [])


def _network_rack(catalog: Catalog, type_id: object, field: str) -> NetworkRackType:
    net = catalog.get(type_id) if isinstance(type_id, str) else None
    if not isinstance(net, NetworkRackType):
        choices = ", ".join(t.id for t in catalog.of_kind("network_rack"))
        raise GeneratorError(f"{type_id!r} is not a network rack type ({choices})", field)
    return net


def _check_request(request: ClusterRequest, catalog: Catalog) -> _Types:
    if isinstance(request.gpus, bool) or not isinstance(request.gpus, int):
        raise GeneratorError(f"expected a whole number, got {request.gpus!r}", "gpus")
    try:
        checked_text(request.name, "name", MAX_NAME_CHARS)
    except EditError as err:
        raise GeneratorError(str(err).removeprefix("name "), "name") from None
    if not 1 <= request.gpus <= MAX_GPUS:
        raise GeneratorError(f"{request.gpus:,} is outside 1..{MAX_GPUS:,}", "gpus")
    if not isinstance(request.whole_arrays, bool):
        raise GeneratorError(f"expected yes or no, got {request.whole_arrays!r}", "whole_arrays")
    rack = catalog.get(request.rack_type)
    if not isinstance(rack, GpuRackType):
        choices = ", ".join(t.id for t in catalog.of_kind("gpu_rack"))
        raise GeneratorError(
            f"{request.rack_type!r} is not a GPU rack type ({choices})", "rack_type"
        )
    net = _network_rack(catalog, request.network_rack_type, "network_rack_type")
    spine, core = (
        net if type_id is None else _network_rack(catalog, type_id, field)
        for type_id, field in (
            (request.spine_rack_type, "spine_rack_type"),
            (request.core_rack_type, "core_rack_type"),
        )
    )
    if request.planes != "auto" and request.planes not in PLANES:
        raise GeneratorError(
            f"expected auto or one of 1, 2, 4, 8, got {request.planes!r}", "planes"
        )
    if request.racks_per_array is None or not 1 <= request.racks_per_array <= 64:
        raise GeneratorError(f"{request.racks_per_array} is outside 1..64", "racks_per_array")
    speed = request.nic_speed_gbps
    if speed is not None and not (math.isfinite(speed) and speed > 0):
        raise GeneratorError(f"expected a speed > 0 Gb/s, got {speed:g}", "nic_speed_gbps")
    _check_fabric_shape(request)
    for name in ("cold_aisle_m", "hot_aisle_m", "cross_aisle_m", "wall_margin_m"):
        value = getattr(request, name)
        if not (math.isfinite(value) and 0 <= value <= 20):
            raise GeneratorError(f"{value} m is outside 0..20 m", name)
    switches = (catalog[net.switch], catalog[spine.switch], catalog[core.switch])
    assert all(isinstance(s, SwitchType) for s in switches)  # the catalog checks references
    for tier, upper, switch in (("spine", spine, switches[1]), ("core", core, switches[2])):
        if switch.protocol != switches[0].protocol:
            raise GeneratorError(
                f"{upper.id} holds {switch.protocol} switches ({switch.name}), but the leaves "
                f"are {switches[0].protocol} ({switches[0].name}); a fabric speaks one protocol",
                f"{tier}_rack_type",
            )
    return _Types(rack, net, spine, core, switches)


def _check_fabric_shape(request: ClusterRequest) -> None:
    """The link speeds, dual-homing and pod size are of the right kind and agree with the
    tiers asked for."""
    speeds = request.link_speeds_gbps
    if not isinstance(speeds, tuple) or len(speeds) > len(LINK_TIERS):
        got = f"{len(speeds)}" if isinstance(speeds, tuple) else repr(speeds)
        raise GeneratorError(
            f"expected at most {len(LINK_TIERS)} speeds ({', '.join(LINK_TIERS)}), got {got}",
            "link_speeds_gbps",
        )
    for speed in speeds:
        if speed is None:
            continue
        if (
            isinstance(speed, bool)
            or not isinstance(speed, (int, float))
            or not (math.isfinite(speed) and 0 < speed <= MAX_LINK_GBPS)
        ):
            raise GeneratorError(
                f"expected speeds above 0 and up to {MAX_LINK_GBPS:,} Gb/s, got {speed!r}",
                "link_speeds_gbps",
            )
    if not isinstance(request.dual_homed, bool):
        raise GeneratorError(f"expected yes or no, got {request.dual_homed!r}", "dual_homed")
    pod = request.pod_gpus
    if pod is not None:
        if isinstance(pod, bool) or not isinstance(pod, int) or not 1 <= pod <= MAX_GPUS:
            raise GeneratorError(
                f"expected a whole number of GPUs from 1 to {MAX_GPUS:,}, got {pod!r}", "pod_gpus"
            )
        if request.tiers not in {"auto", 3}:
            raise GeneratorError(
                f"a fixed pod needs 3 tiers, but {request.tiers} were asked for", "pod_gpus"
            )


def _plan(
    request: ClusterRequest,
    endpoints: int,
    ports: TierPorts,
    rails: int,
    *,
    pod_endpoints: int | None,
    per_gpu: int,
) -> FabricPlan:
    """The per-plane plan; ``per_gpu`` endpoints per GPU (NIC ports × homes) turn a pod's
    figures into GPUs in a message."""
    try:
        return plan_fabric(
            endpoints,
            ports.leaf_down if ports.is_uniform else ports,
            rails,
            tiers=request.tiers,
            oversubscription=request.oversubscription,
            pod_endpoints=pod_endpoints,
        )
    except FabricError as err:
        text = str(err)
        if text.startswith("pod size: "):
            text = _in_gpus(text, per_gpu)
        for prefix, field in (
            ("oversubscription", "oversubscription"),
            ("pod size: ", "pod_gpus"),
            ("link speeds: ", "link_speeds_gbps"),
        ):
            if text.startswith(prefix):
                raise GeneratorError(text.removeprefix(prefix), field) from None  # fmt: skip
        if text.startswith("tiers") or request.tiers != "auto":
            raise GeneratorError(text, "tiers") from None
        if pod_endpoints is not None:
            # With a fixed pod the largest fabric is that pod times a core's ports.
            raise GeneratorError(text, "pod_gpus") from None
        raise GeneratorError(text, "network_rack_type") from None


def _in_gpus(text: str, per_gpu: int) -> str:
    """``text`` with its endpoint counts as GPUs (``per_gpu`` endpoints each, rounded down)."""
    return re.sub(
        r"(\d[\d,]*) endpoints",
        lambda m: f"{int(m.group(1).replace(',', '')) // per_gpu:,} GPUs",
        text,
    )


def _racks_for(request: ClusterRequest, rack: GpuRackType, racks_per_array: int) -> int:
    """GPU racks for the request: the fewest that hold its GPUs, or, when it asks for
    whole arrays, that rounded up to a whole number of arrays."""
    racks = math.ceil(request.gpus / rack.gpus)
    if request.whole_arrays:
        racks = math.ceil(racks / racks_per_array) * racks_per_array
    return racks


def _homes(request: ClusterRequest) -> int:
    return 2 if request.dual_homed else 1


def _nic_gbps(request: ClusterRequest, rack: GpuRackType) -> float:
    return request.nic_speed_gbps if request.nic_speed_gbps is not None else rack.nic_speed_gbps


def _sizes(request: ClusterRequest, catalog: Catalog, racks: int | None = None) -> _Sizes:
    types = _check_request(request, catalog)
    rack, net, switch = types.rack, types.leaf, types.switches[0]
    per_array = _racks_per_array(request)
    if racks is None:
        racks = _racks_for(request, rack, per_array)
    arrays = math.ceil(racks / per_array)
    rails = rack.gpus_per_server * rack.nics_per_gpu
    homes = _homes(request)
    planes, plan, ports = _planes(request, types, racks * rack.gpus, arrays)
    servers_per_array = per_array * rack.servers
    if rack.servers > plan.leaf_down:
        raise GeneratorError(
            f"a {rack.id} rack's {rack.servers} servers need {rack.servers} ports per leaf (one "
            f"per rail) but a leaf of {switch.id} has {plan.leaf_down} at "
            f"{ports.speeds_gbps[0]:g}G; choose more planes or a switch with more ports",
            "network_rack_type",
        )
    if servers_per_array > plan.leaf_down:
        most = plan.leaf_down // rack.servers
        raise GeneratorError(
            f"an array of {servers_per_array} servers needs {servers_per_array} ports per leaf "
            f"but a leaf has {plan.leaf_down}; use at most {most} racks per array",
            "racks_per_array",
        )
    if net.switches < rails:
        raise GeneratorError(
            f"{net.id} holds {net.switches} switches, fewer than the {rails} "
            "leaves (one per rail) an array needs",
            "network_rack_type",
        )
    arrays_per_leaf_rack = net.switches // rails
    leaf_racks = math.ceil(arrays / arrays_per_leaf_rack)
    # The leaves at each leaf rack position (both homes of a dual-homed array share a pod).
    leaves = [min(arrays_per_leaf_rack, arrays - k * arrays_per_leaf_rack) * rails * homes
              for k in range(leaf_racks)]  # fmt: skip
    pods, spines_per_pod, cores = _upper_tiers(plan, leaves)
    sizes = _Sizes(rack, net, plan, planes, racks, arrays, arrays_per_leaf_rack, leaf_racks,
                   pods, spines_per_pod, cores, per_array, types.spine, types.core, homes,
                   ports)  # fmt: skip
    sizes.networks = _networks(request, catalog, sizes)
    return sizes


def _networks(request: ClusterRequest, catalog: Catalog, s: _Sizes) -> NetworkPlan:
    """The other networks' racks: per GPU row (its racks and fabric leaves) and the middle's."""
    rows, arrays_left = [], s.arrays
    while arrays_left > 0:
        here = min(s.arrays_per_segment, arrays_left)
        arrays_left -= here
        fabric_leaves = [min(n * s.rails, s.net.switches)
                         for n in _chunks(here, s.arrays_per_leaf_rack) for _ in range(s.planes)]
        rows.append((here * s.racks_per_array, fabric_leaves))
    middle = [n for *_, n in s.spine_racks] + [n for _, n in s.core_racks]
    s.networks = NetworkPlan([])  # the fabric's part of the geometry, without the others
    base = _geometry(request, s).segment_w

    widest = max((s.net, s.spine_net, s.core_net), key=lambda t: t.footprint.width_m)

    def per_middle_row(others_w: float) -> int:
        return _fits(base + others_w, middle_pitch_m(catalog, request.networks, widest))

    try:
        return plan_networks(catalog, request.networks, rack=s.rack, rows=rows,
                             middle_fabric=middle, gpus=s.racks * s.rack.gpus,
                             middle_per_row=per_middle_row)  # fmt: skip
    except NetworkPlanError as err:
        raise GeneratorError(err.detail, err.field) from None


def _racks_per_array(request: ClusterRequest) -> int:
    """The request's racks per array, once resolved (see :func:`_resolved`)."""
    if request.racks_per_array is None:
        raise GeneratorError("not resolved to a number of racks", "racks_per_array")
    return request.racks_per_array


def _tier_ports(request: ClusterRequest, types: _Types, planes: int) -> TierPorts:
    """Each tier's radix at each link tier's speed with ``planes`` planes.

    A link tier's speed is the request's, or the NIC speed over the planes (half that for
    a dual-homed GPU link). Raises :class:`GeneratorError` for a GPU link faster than the
    NIC gives it, or a speed a tier's switch has no ports for, naming what set it.
    """
    nic = _nic_gbps(request, types.rack)
    per_plane, homes = nic / planes, _homes(request)
    given = request.link_speeds_gbps
    defaults = (per_plane / homes, per_plane, per_plane)
    explicit = [k < len(given) and given[k] is not None for k in range(3)]
    speeds = [float(given[k] or 0) if explicit[k] else defaults[k] for k in range(3)]
    if speeds[0] * homes > per_plane * (1 + EPS):
        links = (
            f"two {speeds[0]:g}G GPU links (dual-homed)" if homes > 1
            else f"a {speeds[0]:g}G GPU link"
        )  # fmt: skip
        verb = "exceed" if homes > 1 else "exceeds"
        nic_text = f"the {nic:g}G NIC" + (f"'s {per_plane:g}G per plane" if planes > 1 else "")
        raise GeneratorError(f"{links} {verb} {nic_text}", "link_speeds_gbps")
    leaf, spine, core = types.switches
    radixes = []
    # (tier, switch, link tier): the leaf's down- and up-links, the spine's, the core's.
    for tier, switch, link in (("leaf", leaf, 0), ("leaf", leaf, 1), ("spine", spine, 1),
                               ("spine", spine, 2), ("core", core, 2)):  # fmt: skip
        radix = switch.radix(speeds[link])
        if radix == 0:
            own_rack = {"spine": request.spine_rack_type, "core": request.core_rack_type}
            whose = f"the {tier}'s " if switch.id != leaf.id else ""
            if explicit[link]:
                field = "link_speeds_gbps"
            elif own_rack.get(tier) is not None and switch.id != leaf.id:
                field, whose = f"{tier}_rack_type", ""
            else:
                field = "planes" if planes > 1 else "nic_speed_gbps"
            offered = ", ".join(f"{p.speed_gbps:g}G" for p in switch.ports)
            raise GeneratorError(
                f"{whose}{switch.name} has no {speeds[link]:g}G ports ({offered})", field
            )
        radixes.append(radix)
    leaf_down, leaf_up, spine_down, spine_up, core_radix = radixes
    return TierPorts(leaf_down, leaf_up, spine_down, spine_up, core_radix,
                     speeds_gbps=(speeds[0], speeds[1], speeds[2]))  # fmt: skip


def _planes(
    request: ClusterRequest, types: _Types, gpus: int, arrays: int | None = None
) -> tuple[int, FabricPlan, TierPorts]:
    """The plane count, per-plane plan and radixes: the fewest planes whose tree holds
    ``gpus``.

    Splitting a NIC into p planes runs each plane at speed / p, where a switch
    has p times the radix, so a 3-tier tree holds p³ times as many endpoints.
    Every GPU NIC port is one endpoint per plane, two when dual-homed (so a rail
    group has two leaves per rail). With ``arrays`` the tree must also connect
    their leaves (one per rail per array, see :func:`_holding_arrays`).
    """
    rack, homes = types.rack, _homes(request)
    rails = rack.gpus_per_server * rack.nics_per_gpu * homes
    endpoints = gpus * rack.nics_per_gpu * homes
    per_gpu = rack.nics_per_gpu * homes
    pod = None if request.pod_gpus is None else request.pod_gpus * per_gpu
    choices = PLANES if request.planes == "auto" else (int(request.planes),)
    first_error: GeneratorError | None = None
    for planes in choices:
        try:
            ports = _tier_ports(request, types, planes)
        except GeneratorError as err:
            if request.planes != "auto" or planes == 1:
                first_error = first_error or err
            continue
        try:
            plan = _plan(request, endpoints, ports, rails, pod_endpoints=pod, per_gpu=per_gpu)
            if arrays is not None:
                plan = _holding_arrays(request, plan, arrays, ports, (pod, per_gpu))
            return planes, plan, ports
        except GeneratorError as err:
            first_error = first_error or err
    assert first_error is not None
    raise first_error


def _holding_arrays(
    request: ClusterRequest,
    plan: FabricPlan,
    arrays: int,
    ports: TierPorts,
    pod: tuple[int | None, int],
) -> FabricPlan:
    """``plan``, or one with more tiers, whose tree connects the leaves of ``arrays``.

    Every array has one leaf per rail however few racks it holds, so arrays that do
    not fill their leaves (a partial last array; servers per rack that do not divide
    a leaf's down-ports, as the 18 of an NVL72 rack) can need more leaves than the
    GPUs alone would: a 2-tier tree connects at most one leaf per spine port.
    """
    if plan.tiers == 1:
        return plan  # one switch: no leaf groups to connect
    for _ in range(MAX_TIERS_TRIES):
        max_groups = plan.max_endpoints // (plan.leaf_down * plan.rails)
        if arrays <= max_groups:
            return plan
        if request.tiers != "auto":
            raise GeneratorError(
                f"{arrays:,} arrays need {arrays * plan.rails:,} leaves (one per rail each), "
                f"more than the {max_groups * plan.rails:,} that {plan.tiers} tiers of "
                f"{plan.radix}-port switches connect; use more racks per array or more tiers",
                "tiers",
            )
        # Size the tree for the leaf ports the arrays bring, full or not.
        endpoints = arrays * plan.leaf_down * plan.rails
        plan = _plan(request, endpoints, ports, plan.rails, pod_endpoints=pod[0], per_gpu=pod[1])
    return plan


def _upper_tiers(plan: FabricPlan, leaves: list[int]) -> tuple[list[int], list[int], int]:
    """Pod of each leaf rack position, spine switches per pod and core switches.

    ``leaves`` holds the leaf switches of each leaf rack position (of one plane). A
    pod takes whole positions up to ``leaves_per_pod`` leaves (one down-port of each
    of its spines per leaf), so a rack's leaves share their spines.
    """
    if plan.tiers == 1:
        return [0] * len(leaves), [], 0
    ports = plan.ports or TierPorts.uniform(plan.radix)
    if plan.tiers == 2:
        return [0] * len(leaves), [even_spines(sum(leaves), plan.leaf_up, ports.spine_down)], 0
    pods, in_pod = [], [0]
    for n in leaves:
        if in_pod[-1] and in_pod[-1] + n > plan.leaves_per_pod:
            in_pod.append(0)
        in_pod[-1] += n
        pods.append(len(in_pod) - 1)
    spines = [even_spines(n, plan.leaf_up, plan.leaves_per_pod) for n in in_pod]
    return pods, spines, math.ceil(sum(spines) * plan.spine_up / ports.core)


@dataclass(frozen=True)
class _Geometry:
    segment_w: float
    slot_h: float
    pitch_x: float
    pitch_y: float


def _geometry(request: ClusterRequest, s: _Sizes) -> _Geometry:
    racks_per_segment = s.arrays_per_segment * s.racks_per_array
    leaf_racks = s.leaf_racks_per_segment * s.leaf_stack
    segment_w = racks_per_segment * s.rack.footprint.width_m + leaf_racks * s.net.footprint.width_m
    segment_w += s.networks.row_width_m
    slot_h = 2 * s.row_depth_m + request.cold_aisle_m
    return _Geometry(
        segment_w, slot_h, segment_w + request.cross_aisle_m, slot_h + request.hot_aisle_m
    )


def _fits(length: float, width: float) -> int:
    """How many units of ``width`` fit in ``length`` (robust to float noise)."""
    return max(1, math.floor(length / width + EPS))


@dataclass
class _Cooling:
    """The cooling units that stand in the hall: CRAHs and (when racks lack one) CDUs."""

    units: list[tuple[str, float]]
    """(type id, width) of each unit, in placement order."""
    cdus: int

    def rows(self, segment_w: float) -> list[list[tuple[str, float]]]:
        """The units packed densely into rows of ``segment_w``, every row with its share of
        each kind (see :func:`_mixed_rows`)."""
        return _mixed_rows(self.units, segment_w, math.inf)

    def spread(self, available: int, segment_w: float) -> list[list[tuple[str, float]]]:
        """The units in at most ``available`` rows of ``segment_w``, as evenly as they go.

        Rows are filled to an equal share of the units' total width, so wide CRAHs and
        narrow CDUs share the rows by width, not by count; none is wider than a segment.
        Where that takes too many rows, the units go as dense as they pack. Either way
        every row takes its share of CRAHs and of CDUs: CRAHs bunched in some rows would
        leave the air heat of the racks far from them without supply air, and CDUs
        bunched would leave racks beyond their loop distance.
        """
        share = sum(width for _, width in self.units) / max(1, available)
        rows = _mixed_rows(self.units, segment_w, share)
        return rows if len(rows) <= available else self.rows(segment_w)


def _mixed_rows(
    units: list[tuple[str, float]], segment_w: float, share: float
) -> list[list[tuple[str, float]]]:
    """``units`` into rows no wider than ``segment_w``, each closed once it holds
    ``share`` of width (``math.inf``: once no unit left fits it).

    Each next unit is of the kind (type id) furthest behind its share of the units
    placed so far, so every row holds the kinds in about the proportion of the whole;
    where that kind no longer fits a row, another kind that does fills the rest of it.
    So the rows pack about as densely as the kinds would one after the other, without
    one kind's rows bunched in one part of the hall. A single kind keeps its order: the
    rows are the units in order, each row filled while they fit.
    """
    queues: dict[str, list[tuple[str, float]]] = {}
    for unit in units:
        queues.setdefault(unit[0], []).append(unit)
    total = {kind: len(q) for kind, q in queues.items()}
    placed = dict.fromkeys(queues, 0)
    rows: list[list[tuple[str, float]]] = []
    used = math.inf
    for _ in range(len(units)):
        # The kinds that still have units, furthest behind their share first (then in order).
        behind = sorted((k for k in queues if placed[k] < total[k]),
                        key=lambda k: placed[k] / total[k])  # fmt: skip
        fitting = [k for k in behind if used + queues[k][placed[k]][1] <= segment_w + EPS]
        if not fitting or used >= share - EPS:
            rows.append([])
            used = 0.0
            fitting = behind
        kind = fitting[0]
        unit = queues[kind][placed[kind]]
        placed[kind] += 1
        rows[-1].append(unit)
        used += unit[1]
    return rows


def _cooling(request: ClusterRequest, s: _Sizes, catalog: Catalog) -> _Cooling:
    types = request.facility.types(catalog)
    crah, cdu = types["crah"], types["cdu"]
    air = [(air_heat_kw(s.rack, catalog), s.racks)]
    air += [(air_heat_kw(net, catalog), n) for net, n in s.network_rack_counts.values()]
    air += [(air_heat_kw(t, catalog), n) for t, n in s.networks.counts()]
    units = [(crah.id, crah.footprint.width_m)] * unit_count(air, crah)
    cdus = 0
    if s.rack.in_rack_cdu is None and s.rack.liquid_fraction > 0:
        cdus = unit_count([(liquid_heat_kw(s.rack, catalog), s.racks)], cdu)
        units += [(cdu.id, cdu.footprint.width_m)] * cdus
    return _Cooling(units, cdus)


def _slots_needed(s: _Sizes, g: _Geometry, cooling: _Cooling) -> tuple[int, int, int]:
    net_rows = len(s.networks.middle)
    return (
        math.ceil(s.segments / 2),
        math.ceil(net_rows / 2),
        math.ceil(len(cooling.rows(g.segment_w)) / 2),
    )


def _middle_pitch(s: _Sizes) -> float:
    """Spacing of the racks in the middle's rows: the widest type standing there."""
    fabric = (s.net, s.spine_net, s.core_net)
    return max([*(t.footprint.width_m for t in fabric),
                *(t.footprint.width_m for t in s.networks.types.values())])  # fmt: skip


def _auto_hall(request: ClusterRequest, g: _Geometry, slots: int) -> Floor:
    def size(columns: int) -> tuple[float, float]:
        rows = math.ceil(slots / columns)
        width = 2 * request.wall_margin_m + columns * g.pitch_x - request.cross_aisle_m
        depth = 2 * request.wall_margin_m + rows * g.pitch_y - request.hot_aisle_m
        return width, depth

    columns = min(
        range(1, slots + 1), key=lambda c: abs(math.log(size(c)[0] / size(c)[1] / HALL_ASPECT))
    )
    width, depth = size(columns)
    # Round up to a tenth of a metre so the hall holds what was sized.
    return Floor.rectangle(math.ceil(width * 10 - EPS) / 10, math.ceil(depth * 10 - EPS) / 10)


def _candidate_slots(request: ClusterRequest, floor: Floor, g: _Geometry) -> np.ndarray:
    """Top-left corners of slots that fit the floor, nearest the centre first.

    Where the floor has obstacles, the slot grid is shifted to the phase (a
    fraction of the slot pitch each way) that fits the most slots between them.
    """
    phases = [0.0] if not floor.obstacles else [k / 8 for k in range(8)]
    best = np.empty((0, 2))
    for px, py in itertools.product(phases, phases):
        grid = _slot_grid(request, floor, g, px * g.pitch_x, py * g.pitch_y)
        if len(grid) > len(best):
            best = grid
    centroid = floor.outline.centroid
    centre = best + np.array([g.segment_w / 2, g.slot_h / 2])
    distance = np.hypot(centre[:, 0] - centroid.x, centre[:, 1] - centroid.y)
    order = np.lexsort((best[:, 0], best[:, 1], np.round(distance, 6)))
    return best[order]


def _slot_grid(
    request: ClusterRequest, floor: Floor, g: _Geometry, dx: float, dy: float
) -> np.ndarray:
    x0, y0, x1, y1 = floor.bounds
    m = request.wall_margin_m
    xs = np.arange(x0 + m + dx, x1 - m - g.segment_w + EPS, g.pitch_x)
    ys = np.arange(y0 + m + dy, y1 - m - g.slot_h + EPS, g.pitch_y)
    if len(xs) == 0 or len(ys) == 0:
        return np.empty((0, 2))
    grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    inside = shapely.box(grid[:, 0], grid[:, 1], grid[:, 0] + g.segment_w, grid[:, 1] + g.slot_h)
    ok = shapely.covered_by(inside, floor.outline)
    if floor.obstacles:
        # The aisles around a slot must be clear over their whole width: the hot
        # aisle behind each row and the cross aisles at the ends serve its racks.
        cross, hot = request.cross_aisle_m, request.hot_aisle_m
        clear = shapely.box(
            grid[:, 0] - cross, grid[:, 1] - hot,
            grid[:, 0] + g.segment_w + cross, grid[:, 1] + g.slot_h + hot,
        )  # fmt: skip
        hit, _ = floor.obstacle_tree.query(clear, predicate="intersects")
        ok[np.unique(hit)] = False
    return grid[ok]


COOLING_REACH_M = 20.0
"""Every slot has a cooling slot within this distance (centre to centre): CRAHs throw
supply air about 25 m, and a slot is about 5 m deep."""


def _split_slots(
    slots: np.ndarray, gpu: int, net: int, cool: int, g: _Geometry
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cooling, network and GPU slots out of the candidates (nearest the centre first).

    Cooling slots come in whole rows spread evenly over the depth of the used floor,
    spread along each row; then, where a slot would have no cooling slot within
    :data:`COOLING_REACH_M`, the farthest such slot becomes a cooling slot too and
    the next candidate joins. Network slots are the rest nearest the centre.
    """
    count = gpu + net + cool
    used = slots[:count]
    is_cool = np.zeros(len(used), bool)
    if cool:
        is_cool[_cooling_rows(used, cool)] = True
        centre = np.array([g.segment_w / 2, g.slot_h / 2])
        while True:
            cooling = used[is_cool] + centre
            others = np.flatnonzero(~is_cool)
            if len(others) == 0:
                break
            offsets = used[others, None, :] + centre - cooling[None]
            gap = np.hypot(offsets[..., 0], offsets[..., 1]).min(axis=1)
            if gap.max() <= COOLING_REACH_M:
                break
            if count >= len(slots):
                break  # no slot left to make room: the check reports the warm racks
            is_cool[others[int(np.argmax(gap))]] = True
            used = slots[: count + 1]
            is_cool = np.append(is_cool, False)
            count += 1
    rest = used[~is_cool]
    return rest[:net], rest[net:], used[is_cool]


def _cooling_rows(used: np.ndarray, cool: int) -> list[int]:
    """``cool`` slots in whole rows at evenly spaced depths, each spread along its row."""
    row_ys = np.unique(used[:, 1])
    per_row = {y: np.flatnonzero(used[:, 1] == y) for y in row_ys}
    widest = max(len(v) for v in per_row.values())
    rows_needed = min(len(row_ys), math.ceil(cool / widest))
    ranks = [int((k + 0.5) * len(row_ys) / rows_needed) for k in range(rows_needed)]
    order = [row_ys[r] for r in ranks] + [y for k, y in enumerate(row_ys) if k not in ranks]
    share = math.ceil(cool / rows_needed)
    picks: list[int] = []
    for y in order:
        in_row = per_row[y][np.argsort(used[per_row[y], 0], kind="stable")]
        want = min(share, cool - len(picks), len(in_row))
        picks += [int(in_row[int((k + 0.5) * len(in_row) / want)]) for k in range(want)]
        if len(picks) == cool:
            break
    return picks


def _floor(request: ClusterRequest, g: _Geometry, slots: int) -> Floor:
    if request.floor is not None:
        return request.floor
    if request.hall_m is not None:
        width, depth = request.hall_m
        if not all(math.isfinite(v) and 0 < v <= 10_000 for v in (width, depth)):
            raise GeneratorError(f"{width:g} x {depth:g} m is outside 0..10,000 m", "hall_m")
        return Floor.rectangle(width, depth)
    return _auto_hall(request, g, slots)


def _resolved(request: ClusterRequest, catalog: Catalog) -> ClusterRequest:
    """The request with its automatic choices made: an array fills a leaf's down-ports,
    but holds no more racks than the GPUs need.

    The leaf's down-ports come from the tree that holds the GPUs asked for, which does
    not depend on the array size; an array takes as many whole racks of servers as
    they fill (3 NVL72 racks of 18 compute trays on a 64-port leaf). Where that array
    cannot be laid out (whole arrays that need a larger tree), the next smaller one
    is tried; when none can, the first is kept and laying it out says why.
    """
    if request.racks_per_array is not None:
        return request
    types = _check_request(dataclasses.replace(request, racks_per_array=1), catalog)
    rack = types.rack
    needed = math.ceil(request.gpus / rack.gpus)
    try:
        _, plan, _ = _planes(request, types, needed * rack.gpus)
        best = max(1, min(64, needed, plan.leaf_down // rack.servers))
    except GeneratorError:
        best = min(DEFAULT_RACKS_PER_ARRAY, needed)  # laying it out reports the fabric's error
    for per_array in range(best, 0, -1):
        candidate = dataclasses.replace(request, racks_per_array=per_array)
        try:
            _sizes(candidate, catalog)
        except GeneratorError:
            continue
        return candidate
    return dataclasses.replace(request, racks_per_array=best)


@dataclass(frozen=True)
class SizePreview:
    """What a request builds, before any of it is laid out (see :func:`preview`)."""

    requested_gpus: int
    gpus: int
    """GPUs built: whole racks of them."""
    racks: int
    arrays: int
    racks_per_array: int
    last_array_racks: int
    """Racks of the last array (fewer than ``racks_per_array`` when it is partial)."""
    gpus_per_rack: int
    tiers: int
    planes: int
    switches: tuple[int, int, int] = (0, 0, 0)
    """Leaf, spine and core switches of every plane."""
    leaf_ports: tuple[int, int] = (0, 0)
    """A leaf's ports down (to GPUs) and up (to spines)."""
    spine_ports: tuple[int, int] = (0, 0)
    """3 tiers: a spine's ports down (to leaves) and up (to cores)."""
    link_speeds_gbps: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Speed of one link per link tier: GPU-leaf, leaf-spine, spine-core."""
    dual_homed: bool = False
    pods: int = 1
    """Pods per plane (3 tiers)."""

    def describe(self) -> str:
        """One line, e.g. ``requested 100,000 GPUs → builds 100,032 GPUs in 1,563 racks
        (196 arrays)``."""
        return (
            f"requested {_counted(self.requested_gpus, 'GPU')} → builds "
            f"{_counted(self.gpus, 'GPU')} in {_counted(self.racks, 'rack')} "
            f"({_counted(self.arrays, 'array')})"
        )

    def describe_fabric(self) -> str:
        """One line, e.g. ``3 tiers × 2 planes: 240 leaves (128 × 200G down, 64 × 400G up),
        128 spines (120 down, 8 × 400G up), 8 cores, 1 pod per plane``."""
        leaves, spines, cores = self.switches
        down, up = self.leaf_ports
        s0, s1, s2 = self.link_speeds_gbps
        shape = _counted(self.tiers, "tier")
        if self.planes > 1:
            shape += f" × {self.planes} planes"
        if self.dual_homed:
            shape += ", dual-homed"
        if self.tiers == 1:
            return f"{shape}: {leaves:,} switch" + ("es" if leaves != 1 else "")
        parts = [f"{leaves:,} leaves ({down} × {s0:g}G down, {up} × {s1:g}G up)"]
        if self.tiers == 2:
            parts.append(f"{spines:,} spines")
        else:
            spine_down, spine_up = self.spine_ports
            parts += [
                f"{spines:,} spines ({spine_down} down, {spine_up} × {s2:g}G up)",
                f"{cores:,} cores",
                _counted(self.pods, "pod") + (" per plane" if self.planes > 1 else ""),
            ]
        return f"{shape}: {', '.join(parts)}"


def _counted(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("s" if n != 1 else "")


def preview(request: ClusterRequest, catalog: Catalog | None = None) -> SizePreview:
    """The sizes :func:`generate` builds for ``request``, without laying out the hall.

    Cheap (milliseconds at a million GPUs): it resolves the array size and sizes the
    fabric the same way :func:`generate` does, and places nothing. Raises
    :class:`GeneratorError` for a request whose racks or fabric cannot be sized (a
    hall that is too small is only found by laying it out).
    """
    catalog = catalog if catalog is not None else default_catalog()
    sizes = _sizes(_resolved(request, catalog), catalog)
    return SizePreview(
        requested_gpus=request.gpus,
        gpus=sizes.racks * sizes.rack.gpus,
        racks=sizes.racks,
        arrays=sizes.arrays,
        racks_per_array=sizes.racks_per_array,
        last_array_racks=sizes.array_racks[-1],
        gpus_per_rack=sizes.rack.gpus,
        tiers=sizes.plan.tiers,
        planes=sizes.planes,
        switches=(
            sizes.plan.leaves * sizes.planes,
            sum(n for *_, n in sizes.spine_racks),
            sum(n for _, n in sizes.core_racks),
        ),
        leaf_ports=(sizes.plan.leaf_down, sizes.plan.leaf_up),
        spine_ports=(sizes.plan.spine_down, sizes.plan.spine_up),
        link_speeds_gbps=sizes.ports.speeds_gbps,
        dual_homed=sizes.homes > 1,
        pods=len(sizes.spines_per_pod) if sizes.plan.tiers == 3 else 1,
    )


TraySizer = Callable[[Project], TrayPlan]
"""Sizes the trays of a laid-out project (``physics.tray_sizing.size_trays``)."""


def generate(
    request: ClusterRequest,
    catalog: Catalog | None = None,
    *,
    tray_sizer: TraySizer | None = None,
) -> Project:
    """Lay out the requested cluster; raises :class:`GeneratorError` when it cannot.

    Without ``tray_sizer`` every tray has the default size; with it, the trays
    are sized by it once everything is placed (the layout cannot route cables
    itself, so the caller hands in the solver that can).
    """
    catalog = catalog if catalog is not None else default_catalog()
    request = _resolved(request, catalog)
    try:
        request.facility.types(catalog)
        request.power.validated()
    except FacilityError as err:
        raise GeneratorError(err.detail, err.field) from None
    sizes = _sizes(request, catalog)
    geometry = _geometry(request, sizes)
    cooling = _cooling(request, sizes, catalog)
    gpu_n, net_n, cool_n = _slots_needed(sizes, geometry, cooling)
    floor = _floor(request, geometry, gpu_n + net_n + cool_n)
    slots = _candidate_slots(request, floor, geometry)
    if len(slots) < gpu_n + net_n + cool_n:
        where = "hall_m" if request.floor is None else "floor"
        raise GeneratorError(_too_small(request, catalog, sizes, len(slots)), where)
    net_slots, gpu_slots, cool_slots = _split_slots(slots, gpu_n, net_n, cool_n, geometry)
    layout = _Layout(request, sizes, geometry)
    layout.place_gpu_rows(gpu_slots)
    layout.place_network(net_slots)
    layout.place_cooling(cool_slots, cooling)
    rules = Rules()
    try:
        plant = plan_plant(
            catalog,
            request.facility,
            layout.rows,
            layout.cooling_items,
            layout.consumers,
            floor.bounds,
            rules["continuous_derating"],
            rules["training_swing"],
            power=request.power,
            rules=rules,
        )
    except FacilityError as err:
        raise GeneratorError(err.detail, err.field) from None
    # Validated like a loaded file's: the plan's tier and plane counts are among the allowed.
    try:
        fabric = FabricSpec.model_validate({
            "tiers": "auto" if request.tiers == "auto" else sizes.plan.tiers,
            "switch_type": sizes.net.switch,
            "nic_speed_gbps": float(request.nic_speed_gbps or sizes.rack.nic_speed_gbps),
            "nics_per_gpu": sizes.rack.nics_per_gpu,
            "oversubscription": list(request.oversubscription),
            "planes": sizes.planes,
            "rails": sizes.rack.gpus_per_server,
            "assignments": layout.assignments,
            "requested_gpus": request.gpus,
            # As asked (a None before a given speed is the speed it resolved to); the
            # defaults stay out of the file.
            "link_speeds_gbps": list(sizes.ports.speeds_gbps[: len(request.link_speeds_gbps)]),
            "dual_homed": request.dual_homed,
            "pod_gpus": request.pod_gpus,
        })  # fmt: skip
    except pydantic.ValidationError as err:
        # A request field beyond what a project file holds (oversubscription above 64:1).
        field = str(err.errors()[0]["loc"][0])
        detail = describe_validation_error(err).split(": ", 1)[-1]
        raise GeneratorError(detail, field if field in FIELD_LABELS else None) from None
    name = request.name or f"{sizes.racks * sizes.rack.gpus:,} × {sizes.rack.gpu_model} cluster"
    items = layout.items + plant.items
    if len(items) > MAX_ITEMS:
        raise GeneratorError(
            f"the design needs {len(items):,} items, more than the {MAX_ITEMS:,} a project "
            "may hold", "gpus"
        )  # fmt: skip
    try:
        # Items and trays check that they lie within the limits a project file holds.
        project = Project(
            floor,
            name=name,
            catalog=catalog,
            items=items,
            fabric=fabric,
            power=plant.power,
            cooling=plant.cooling,
            trays=_trays(layout.rows, geometry, request),
        )
    except (EditError, pydantic.ValidationError) as err:
        detail = str(err) if isinstance(err, EditError) else describe_validation_error(err, "trays")
        raise GeneratorError(f"the design does not fit what a project may hold: {detail}") from None
    if tray_sizer is not None:
        project.replace_section("trays", tray_sizer(project))
    return project


def _too_small(request: ClusterRequest, catalog: Catalog, sizes: _Sizes, available: int) -> str:
    """The message for a hall that is too small, with the most racks that do fit (in
    whole arrays when the request asks for them)."""
    geometry = _geometry(request, sizes)
    unit = sizes.racks_per_array if request.whole_arrays else 1

    def fits(units: int) -> bool:
        try:
            s = _sizes(request, catalog, units * unit)
        except GeneratorError:
            return False
        return sum(_slots_needed(s, geometry, _cooling(request, s, catalog))) <= available

    low, high = 0, math.ceil(sizes.racks / unit)
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if fits(mid) else (low, mid - 1)
    racks = low * unit
    return (
        f"the hall is too small: it fits {racks:,} racks ({racks * sizes.rack.gpus:,} GPUs) "
        f"with their aisles, network and cooling, but {sizes.racks:,} racks are needed"
    )


class _Layout:
    """Places racks row by row and records rows for the power plant and trays."""

    def __init__(self, request: ClusterRequest, sizes: _Sizes, geometry: _Geometry) -> None:
        self.request, self.s, self.g = request, sizes, geometry
        self.items: list[Item] = []
        self.consumers: list[Item] = []
        self.cooling_items: list[Item] = []
        self.rows: list[Row] = []
        self.assignments: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {}

    def _row_positions(self, slots: np.ndarray) -> list[tuple[float, float, float]]:
        """(x start, centre y, rotation) of both rows of each slot: A faces down, B up."""
        depth, cold = self.s.row_depth_m, self.request.cold_aisle_m
        out = []
        for x0, y0 in slots:
            out.append((float(x0), float(y0) + depth / 2, 180.0))
            out.append((float(x0), float(y0) + depth + cold + depth / 2, 0.0))
        return out

    def _item(  # noqa: PLR0917 - every placement passes these same seven values
        self,
        prefix: str,
        type_id: str,
        x: float,
        y: float,
        rotation: float,
        label: str,
        props: dict[str, PropertyValue] | None = None,
    ) -> Item:
        n = self.counts[prefix] = self.counts.get(prefix, 0) + 1
        item = Item(
            f"{prefix}{n:05d}",
            type_id,
            round(x, 4),
            round(y, 4),
            rotation,
            f"{label} {n}",
            props or {},
        )
        self.items.append(item)
        return item

    def _row(self, members: list[Item], x_start: float, x_end: float, y: float, rot: float) -> None:
        self.rows.append(Row([m.id for m in members], y, x_start, x_end, rot))

    def place_gpu_rows(self, slots: np.ndarray) -> None:
        s = self.s
        rack_w, net_w = s.rack.footprint.width_m, s.net.footprint.width_m
        array_racks = s.array_racks
        placed_arrays = 0
        for row_index, (x0, y, rotation) in enumerate(self._row_positions(slots)):
            if placed_arrays >= s.arrays:
                break
            # The other networks' leaves stand beside the fabric's (layout.network_plan).
            others = s.networks.rows[row_index] if row_index < len(s.networks.rows) else []
            arrays_here = min(s.arrays_per_segment, s.arrays - placed_arrays)
            racks_of = array_racks[placed_arrays : placed_arrays + arrays_here]
            placed_arrays += arrays_here
            # Arrays split around the leaf racks: leaf rack k serves arrays k·n .. k·n + n - 1.
            groups = _chunks(arrays_here, s.arrays_per_leaf_rack)
            left = sum(racks_of[: math.ceil(arrays_here / 2)])
            leaves_w = len(groups) * s.leaf_stack * net_w
            others_w = s.networks.width_m(others)
            xs = [x0 + rack_w * (k + 0.5) for k in range(left)]
            right = sum(racks_of) - left
            xs += [x0 + left * rack_w + leaves_w + others_w + rack_w * (k + 0.5)
                   for k in range(right)]  # fmt: skip
            prefix = EQUIPMENT_KINDS["gpu_rack"].id_prefix
            racks = [self._item(prefix, s.rack.id, x, y, rotation, "GPU rack") for x in xs]
            leaves = []
            first = first_array = 0
            for k, arrays in enumerate(groups):
                # A partial array still has one leaf per rail; its free ports stay free.
                served_racks = sum(racks_of[first_array : first_array + arrays])
                served = racks[first : first + served_racks]
                first += served_racks
                first_array += arrays
                pod = s.leaf_rack_pods[self.counts.get("L", 0) // s.leaf_stack]
                # A dual-homed array's two leaves per rail stand in two racks side by side,
                # each serving every rack of the array (a rack lost takes one home only).
                for plane, home in itertools.product(range(s.planes), range(s.homes)):
                    props: dict[str, PropertyValue] = {"tier": "leaf", "pod": pod}
                    if s.planes > 1:
                        props["plane"] = plane
                    if arrays * s.rails < s.net.switches:
                        props["switches"] = arrays * s.rails
                    position = (k * s.planes + plane) * s.homes + home
                    x = x0 + left * rack_w + net_w * (position + 0.5)
                    leaf = self._item("L", s.net.id, x, y, rotation, "Leaf rack", props)
                    self.assignments[leaf.id] = [r.id for r in served]
                    leaves.append(leaf)
            leaves += self._place_others(others, x0 + left * rack_w + leaves_w, y, rotation)
            members = [*racks[:left], *leaves, *racks[left:]]
            self.consumers.extend(members)
            self._row(members, x0, x0 + len(xs) * rack_w + leaves_w + others_w, y, rotation)

    def _place_others(self, racks: list[PlannedRack], x: float, y: float,
                      rotation: float) -> list[Item]:  # fmt: skip
        """The other networks' racks side by side from ``x`` (their left edge)."""
        placed = []
        for rack in racks:
            width = self.s.networks.types[rack.type_id].footprint.width_m
            placed.append(self._item(rack.prefix, rack.type_id, x + width / 2, y, rotation,
                                     rack.label, rack.properties()))  # fmt: skip
            x += width
        return placed

    def place_network(self, slots: np.ndarray) -> None:
        s, net_w = self.s, _middle_pitch(self.s)

        def props(tier: str, plane: int) -> dict[str, PropertyValue]:
            return {"tier": tier} | ({"plane": plane} if s.planes > 1 else {})

        def full(n: int, net: NetworkRackType) -> dict[str, PropertyValue]:
            return {"switches": n} if n < net.switches else {}

        fabric = [("S", s.spine_net.id, "Spine rack",
                   props("spine", p) | {"pod": pod} | full(n, s.spine_net))
                  for p, pod, n in s.spine_racks]  # fmt: skip
        fabric += [("C", s.core_net.id, "Core rack", props("core", p) | full(n, s.core_net))
                   for p, n in s.core_racks]  # fmt: skip
        # Rows as the network plan laid them out (its racks beside the fabric's).
        rows = [[fabric[r] if isinstance(r, int) else (r.prefix, r.type_id, r.label,
                                                       r.properties()) for r in row]
                for row in s.networks.middle]  # fmt: skip
        for (x0, y, rotation), here in zip(self._row_positions(slots), rows, strict=False):
            members = []
            for k, (prefix, type_id, label, rack_props) in enumerate(here):
                x = x0 + net_w * (k + 0.5)
                members.append(self._item(prefix, type_id, x, y, rotation, label, rack_props))
            self.consumers.extend(members)
            self._row(members, x0, x0 + len(here) * net_w, y, rotation)

    def place_cooling(self, slots: np.ndarray, cooling: _Cooling) -> None:
        """The cooling units spread evenly over the rows of the cooling slots."""
        positions = self._row_positions(slots)
        if not positions:
            return
        rows = cooling.spread(len(positions), self.g.segment_w)
        # The cooling slots were counted for the packed rows, so every row has a place.
        assert len(rows) <= len(positions)
        for (x0, y, rotation), units in zip(positions, rows, strict=False):
            used_w = sum(width for _, width in units)
            # Centre the units in the segment, so they serve both ends of it.
            x = x0 + (self.g.segment_w - used_w) / 2
            start, members = x, []
            for type_id, width in units:
                prefix, label = (
                    ("AH", "CRAH")
                    if type_id == self.request.facility.crah
                    else ("CDU", "In-row CDU")
                )
                members.append(self._item(prefix, type_id, x + width / 2, y, rotation, label))
                x += width
            self.cooling_items.extend(members)
            self._row(members, start, x, y, rotation)


def _trays(rows: list[Row], g: _Geometry, request: ClusterRequest) -> TrayPlan:
    """Trays along every row and every cross aisle, split where they cross."""
    if not rows:
        return TrayPlan()
    starts = sorted({round(r.x_start, 4) for r in rows})
    cross_xs = sorted(
        {round(x - request.cross_aisle_m / 2, 4) for x in starts}
        | {round(starts[-1] + g.segment_w + request.cross_aisle_m / 2, 4)}
    )
    row_ys = sorted({round(r.y, 4) for r in rows})
    segments: list[TraySegment] = []

    def add(a: tuple[float, float], b: tuple[float, float], prefix: str) -> None:
        segments.append(TraySegment(id=f"{prefix}{len(segments) + 1:05d}", a=list(a), b=list(b)))

    for y in row_ys:
        for x_a, x_b in itertools.pairwise(cross_xs):
            add((x_a, y), (x_b, y), "TR")
    for x in cross_xs:
        for y_a, y_b in itertools.pairwise(row_ys):
            add((x, y_a), (x, y_b), "TC")
    return TrayPlan(segments=segments)
