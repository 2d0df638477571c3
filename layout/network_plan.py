"""Sizing of the hall's other networks: front-end, storage and out-of-band management.

Owns how many leaf, spine and core switches (in which network racks) the
front-end (north-south), storage and management networks of a new design
need, and how many storage racks it gets; the GPU back-end fabric is
:mod:`layout.fabric_plan`'s. It works in counts and catalog types only: the
generator (:mod:`layout.generator`) places what it returns, and the check
(:mod:`physics.networks`) derives links and port use from what is placed,
never from these counts.

Each network is a leaf-spine tree of its own switch types, sized from the
servers' NICs (:class:`~layout.catalog.GpuRackType`): ``extra_nics_per_server``
front-end ports at ``frontend_nic_speed_gbps``, ``storage_nics_per_server``
storage ports at ``storage_nic_speed_gbps`` and ``management_ports_per_server``
BMC ports at 1 GbE. Storage racks join the storage network, or the front-end
network where the servers have no storage NICs (storage over the front-end, as
published for xAI Colossus). The management network also takes one port per
switch of every other network rack and the storage racks' management ports.

Leaves stand in the GPU rows, in the middle with the fabric's leaves, sized
for the servers and switches of their row (a row's racks are cabled to their
row's leaves: short runs, and 1 GbE copper stays within its 100 m). Spines,
cores, the storage racks with their leaves and the management leaves for the
switches in the middle of the hall stand with the fabric's spines.

Port budget of a switch (the shared rule): ports used at several speeds fit a
switch whose port groups are splits of the same cages when
``sum(n_s / radix(s)) <= 1``; a switch with ``fixed_ports`` (the SN2201's
48 × 1 GbE plus 4 × 100G) keeps each speed within its own group. A leaf's
uplinks run at the highest speed its switch and the spine's switch share, and
number ``max(ceil(down Gb/s / (ratio × uplink Gb/s)), min_uplinks × switches)``
(:data:`NETWORK_RULES`). Two tiers hold as many leaf switches as a spine has
ports at the uplink speed (every leaf reaches every spine); beyond that a
third tier: pods of leaves with their spines, and cores joining the pods.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from layout.catalog import Catalog, GpuRackType, NetworkRackType, StorageRackType, SwitchType
from layout.errors import ChoiceError

NETWORKS = ("frontend", "storage", "management")
"""The networks besides the GPU back-end fabric (item property ``network``)."""
BACKEND = "backend"
NETWORK_TITLES = {"frontend": "Front-end", "storage": "Storage", "management": "Management"}
MANAGEMENT_SPEED_GBPS = 1.0
"""BMC and switch management ports: 1 GbE copper."""


@dataclass(frozen=True)
class NetworkRule:
    """How a network's leaves split their ports (planning choices, not published figures)."""

    oversubscription: float
    """Down:up bandwidth at the leaf (1: non-blocking)."""
    min_uplinks: int
    """Uplinks per leaf switch at least (2: each management switch to two spines)."""


NETWORK_RULES = {
    "frontend": NetworkRule(1.0, 1),
    "storage": NetworkRule(1.0, 1),
    "management": NetworkRule(1.0, 2),
}
"""Non-blocking front-end and storage leaves (checkpoints and data loading run at full
NIC speed); management switches with two uplinks each for redundancy."""

DEFAULT_STORAGE_GBYTES_S_PER_GPU = 1.0
"""Storage read bandwidth per GPU: DDN's "usual minimum of 1 GB/s/GPU for read and
write" (DDN blog on DGX B200 storage)."""


class NetworkPlanError(ChoiceError):
    """A network choice does not fit (wrong type, a switch without the needed ports)."""


@dataclass(frozen=True)
class NetworkChoice:
    """Which catalog types the front-end, storage and management networks use."""

    frontend_rack: str = "net-sn5400-8"
    storage_network_rack: str = "net-sn5400-8"
    management_rack: str = "net-sn2201-8"
    management_spine_rack: str = "net-sn5400-8"
    storage_rack: str = "storage-ai400x2-8"
    storage_gbytes_s_per_gpu: float = DEFAULT_STORAGE_GBYTES_S_PER_GPU
    """0: no storage racks."""
    enabled: bool = True
    """False: only the GPU fabric (no other networks, no storage racks)."""

    def types(self, catalog: Catalog) -> dict[str, Any]:
        """The chosen types by field, checked: network racks and a storage rack."""
        out: dict[str, Any] = {}
        for name in ("frontend_rack", "storage_network_rack", "management_rack",
                     "management_spine_rack"):  # fmt: skip
            type_id = getattr(self, name)
            t = catalog.get(type_id)
            if not isinstance(t, NetworkRackType):
                raise NetworkPlanError(f"{type_id!r} is not a network rack type", name)
            out[name] = t
        t = catalog.get(self.storage_rack)
        if not isinstance(t, StorageRackType):
            raise NetworkPlanError(f"{self.storage_rack!r} is not a storage rack type",
                                   "storage_rack")  # fmt: skip
        out["storage_rack"] = t
        rate = self.storage_gbytes_s_per_gpu
        if not (isinstance(rate, (int, float)) and math.isfinite(rate) and 0 <= rate <= 1_000):
            raise NetworkPlanError(f"{rate!r} GB/s is outside 0..1,000", "storage_gbytes_s_per_gpu")
        return out


# -- port arithmetic -------------------------------------------------------------------------
def uplink_speed(leaf: SwitchType, spine: SwitchType) -> float:
    """The highest speed both switches run (0 when they share none)."""
    shared = {p.speed_gbps for p in leaf.ports} & {p.speed_gbps for p in spine.ports}
    return max(shared, default=0.0)


def uplinks_needed(down_gbps: float, switches: int, up_gbps: float, rule: NetworkRule) -> int:
    """Uplinks of a leaf rack carrying ``down_gbps`` of edge ports on ``switches`` switches."""
    if switches <= 0 or up_gbps <= 0:
        return 0
    by_bandwidth = math.ceil(down_gbps / (rule.oversubscription * up_gbps) - 1e-9)
    return max(by_bandwidth, rule.min_uplinks * switches)


def leaf_down_ports(leaf: SwitchType, edge_gbps: float, up_gbps: float, rule: NetworkRule) -> int:
    """Edge ports one leaf switch takes at ``edge_gbps`` with its uplinks within its budget."""
    k_edge = leaf.radix(edge_gbps)
    if k_edge == 0:
        return 0
    if up_gbps <= 0:
        return k_edge
    k_up = leaf.radix(up_gbps)
    if leaf.fixed_ports:
        return k_edge if k_up >= rule.min_uplinks or edge_gbps == up_gbps else 0
    for down in range(k_edge, -1, -1):
        up = uplinks_needed(down * edge_gbps, 1, up_gbps, rule)
        share = down / k_edge + up / k_up if k_up else math.inf
        if edge_gbps == up_gbps:
            share = (down + up) / k_edge
        if share <= 1 + 1e-9:
            return down
    return 0


def port_share(switch: SwitchType, speed: float, up: float, network: str) -> float:
    """Share of one leaf switch an edge port at ``speed`` takes with its share of uplinks
    (inf: the switch has no such ports); the check fills leaves by this share."""
    k = switch.radix(speed)
    if k == 0:
        return math.inf
    if switch.fixed_ports or up <= 0:
        return 1.0 / k
    k_up = switch.radix(up)
    rule = NETWORK_RULES[network]
    return 1.0 / k + (speed / (rule.oversubscription * up)) / max(k_up, 1)


def leaf_switches_for(sizes: Sequence[int], share: float, rack_switches: int) -> list[int]:
    """Switches of each leaf rack so that racks of ``sizes`` ports each find a leaf.

    A rack's ports all go to one leaf rack, so leaves fill by whole racks: a leaf rack
    of n switches turns a rack away only once it holds more than ``n - largest`` (in
    shares of a switch), and holds ``floor(n / size)`` racks when all are one size.
    The racks are sized for what they hold for certain, not for the ports' sum.
    """
    weights = [n * share for n in sizes if n > 0]
    if not weights:
        return []
    largest, total = max(weights), sum(weights)
    same = max(weights) - min(weights) < 1e-9

    def holds(n: int) -> float:
        if same:
            return math.floor(n / largest + 1e-9) * largest
        return max(0.0, n - largest)

    full = holds(rack_switches)
    if full <= 1e-9:
        return []
    out: list[int] = []
    while total > full + 1e-9:
        out.append(rack_switches)
        total -= full
    out.append(next(n for n in range(1, rack_switches + 1) if holds(n) >= total - 1e-9))
    return out


# -- what the generator places ---------------------------------------------------------------
@dataclass(frozen=True)
class PlannedRack:
    """A rack to place: type, network and tier (None for a storage rack), pod, switches."""

    type_id: str
    network: str | None
    tier: str | None
    pod: int = 0
    switches: int | None = None
    """Switches installed when fewer than the rack holds (None: full)."""

    @property
    def prefix(self) -> str:
        """Id letters: F(ront-end), S(torage network), M(anagement) + L/S/C; ST storage."""
        if self.network is None:
            return "ST"
        return {"frontend": "F", "storage": "SN", "management": "M"}[self.network] + (
            {"leaf": "L", "spine": "S", "core": "C"}[self.tier or "leaf"]
        )

    @property
    def label(self) -> str:
        if self.network is None:
            return "Storage rack"
        return f"{NETWORK_TITLES[self.network]} {self.tier} rack"

    def properties(self) -> dict[str, Any]:
        if self.network is None:
            return {}
        props: dict[str, Any] = {"network": self.network, "tier": self.tier, "pod": self.pod}
        if self.switches is not None:
            props["switches"] = self.switches
        return props


@dataclass
class NetworkSizing:
    """One network's switch counts, as placed."""

    network: str
    edge_gbps: float
    uplink_gbps: float
    leaf_switches: int = 0
    spine_switches: int = 0
    core_switches: int = 0
    tiers: int = 0


SPINE_RULE = NetworkRule(1.0, 1)
"""Spines are non-blocking: as much bandwidth up to the cores as comes up from the leaves."""


@dataclass
class NetworkPlan:
    """The other networks of a design: leaf racks per GPU row, rows for the middle."""

    rows: list[list[PlannedRack]]
    """Per GPU row (segment), in the order the generator fills them: its leaf racks."""
    middle: list[list[PlannedRack | int]] = field(default_factory=list)
    """Rows of the middle of the hall; an int ``k`` is the fabric's k-th middle rack (its
    spines, then its cores, as the caller listed them)."""
    sizing: dict[str, NetworkSizing] = field(default_factory=dict)
    storage_racks: int = 0
    storage_network: str | None = None
    """Which network the storage racks join (None without storage racks)."""
    types: dict[str, Any] = field(default_factory=dict)
    """The catalog types of the racks planned, by id."""

    def width_m(self, racks: Sequence[PlannedRack]) -> float:
        """Racks side by side (m)."""
        return sum(self.types[r.type_id].footprint.width_m for r in racks)

    @property
    def row_width_m(self) -> float:
        """The widest GPU row's leaf racks, side by side (m): the room each row keeps."""
        return max((self.width_m(row) for row in self.rows), default=0.0)

    @property
    def central(self) -> list[PlannedRack]:
        """Every rack planned for the middle (not the fabric's)."""
        return [r for row in self.middle for r in row if isinstance(r, PlannedRack)]

    def counts(self) -> list[tuple[Any, int]]:
        """(type, count) of every rack planned: the cooling units' sizing."""
        counts: dict[str, int] = {}
        for rack in [*(r for row in self.rows for r in row), *self.central]:
            counts[rack.type_id] = counts.get(rack.type_id, 0) + 1
        return [(self.types[t], n) for t, n in sorted(counts.items())]


def _chunks(total: int, size: int) -> list[int]:
    full, rest = divmod(total, size)
    return [size] * full + ([rest] if rest else [])


def _racks_of(rack: NetworkRackType, network: str, tier: str, switches: int,
              pod: int = 0) -> list[PlannedRack]:  # fmt: skip
    return [
        PlannedRack(rack.id, network, tier, pod, None if n == rack.switches else n)
        for n in _chunks(switches, rack.switches)
    ]


def _edge(rack: GpuRackType, network: str) -> tuple[int, float]:
    """Edge ports per server and their speed for ``network``."""
    if network == "frontend":
        return rack.extra_nics_per_server, rack.frontend_nic_speed_gbps or rack.nic_speed_gbps
    if network == "storage":
        return rack.storage_nics_per_server, rack.storage_nic_speed_gbps or rack.nic_speed_gbps
    return rack.management_ports_per_server, MANAGEMENT_SPEED_GBPS


def middle_pitch_m(catalog: Catalog, choice: NetworkChoice, fabric_rack: NetworkRackType) -> float:
    """Spacing of the racks in the middle's rows: the widest of the types standing there."""
    widths = [fabric_rack.footprint.width_m]
    if choice.enabled:
        widths += [t.footprint.width_m for t in choice.types(catalog).values()]
    return max(widths)


def plan_networks(  # noqa: PLR0915 - one pass over the three networks, in order
    catalog: Catalog,
    choice: NetworkChoice,
    *,
    rack: GpuRackType,
    rows: Sequence[tuple[int, Sequence[int]]],
    middle_fabric: Sequence[int],
    gpus: int,
    middle_per_row: Callable[[float], int],
) -> NetworkPlan:
    """The other networks of a design.

    Parameters
    ----------
    rack
        The GPU rack type of every GPU row.
    rows
        Per GPU row, in the order the generator fills them: (GPU racks, switches of
        each fabric leaf rack standing in the row).
    middle_fabric
        Switches of each of the fabric's racks in the middle (spines, cores), in order.
    gpus
        GPUs placed, for the storage racks' count.
    middle_per_row
        Racks a middle row holds, given the room the GPU rows keep for these
        networks' leaves (it widens every segment).
    """
    if not choice.enabled:
        fabric: list[Any] = list(range(len(middle_fabric)))
        return NetworkPlan([[] for _ in rows], _rows_of(fabric, middle_per_row(0.0)))
    types = choice.types(catalog)
    storage_type: StorageRackType = types["storage_rack"]
    storage_racks = 0
    if choice.storage_gbytes_s_per_gpu > 0:
        storage_racks = math.ceil(gpus * choice.storage_gbytes_s_per_gpu
                                  / storage_type.read_gbytes_s - 1e-9)  # fmt: skip
    storage_network = None
    if storage_racks:
        storage_network = "storage" if rack.storage_nics_per_server > 0 else "frontend"
    fields = {"frontend": "frontend_rack", "storage": "storage_network_rack",
              "management": "management_rack"}  # fmt: skip
    rack_types: dict[str, NetworkRackType] = {n: types[f] for n, f in fields.items()}
    spine_types = dict(rack_types, management=types["management_spine_rack"])
    plan = NetworkPlan([[] for _ in rows])
    plan.storage_racks, plan.storage_network = storage_racks, storage_network
    plan.types = {t.id: t for t in types.values()}
    for network in NETWORKS:
        leaf = catalog[rack_types[network].switch]
        up = uplink_speed(leaf, catalog[spine_types[network].switch])
        if up <= 0:
            raise NetworkPlanError(f"{leaf.name} and the spines' switch share no port speed",
                                   fields[network])  # fmt: skip
        plan.sizing[network] = NetworkSizing(network, _edge(rack, network)[1], up)

    def leaves_for(network: str, ports: int, edge: float) -> int:
        sizing = plan.sizing[network]
        return _switches_for(ports, catalog[rack_types[network].switch], edge, sizing.uplink_gbps,
                             rule=NETWORK_RULES[network], field_name=fields[network])  # fmt: skip

    def _leaf_racks(network: str, sizes: list[int], edge: float) -> list[PlannedRack]:
        """Leaf racks serving racks of ``sizes`` ports each, filled by whole racks."""
        leaf_rack = rack_types[network]
        leaves_for(network, sum(sizes), edge)  # a switch without such ports: one clear line
        leaf = catalog[leaf_rack.switch]
        share = port_share(leaf, edge, plan.sizing[network].uplink_gbps, network)
        counts = leaf_switches_for(sizes, share, leaf_rack.switches)
        if sum(sizes) > 0 and not counts:
            raise NetworkPlanError(f"a rack's {max(sizes)} × {edge:g}G ports do not fit one "
                                   f"{leaf_rack.id}", fields[network])  # fmt: skip
        return [PlannedRack(leaf_rack.id, network, "leaf", 0,
                            None if n == leaf_rack.switches else n) for n in counts]

    # GPU rows: front-end and storage leaves for the servers, then management leaves for the
    # servers' BMCs and every switch in the row.
    for (racks, fabric_switches), placed in zip(rows, plan.rows, strict=True):
        for network in NETWORKS:
            per_server, edge = _edge(rack, network)
            sizes = [rack.servers * per_server] * racks
            if network == "management":
                sizes += [*fabric_switches, *(_switches(r, rack_types) for r in placed)]
            placed.extend(_leaf_racks(network, sizes, edge))
    # The middle: the fabric's racks, the storage racks with their leaves, then the front-end
    # and storage spines and cores.
    # Blocks that stay in one row: a fabric rack, a storage leaf with its storage racks.
    middle: list[list[PlannedRack | int]] = [[k] for k in range(len(middle_fabric))]
    uppers: list[PlannedRack] = []
    for network in ("frontend", "storage"):
        leaves: list[PlannedRack] = []
        if network == storage_network:
            leaves = _leaf_racks(network, [storage_type.nic_ports] * storage_racks,
                                 storage_type.nic_speed_gbps)
        leaves, upper = _upper_tiers(catalog, network, leaf_rack=rack_types[network],
                                     spine_rack=spine_types[network], middle_leaves=leaves,
                                     plan=plan)  # fmt: skip
        if network == storage_network:
            middle += _storage_blocks(storage_type, storage_racks, leaves)
        uppers += upper
    middle += [[r] for r in uppers]
    # Each middle row gets management leaves for the switches and storage racks in it.
    mgmt_rack = rack_types["management"]
    per_row = max(2, middle_per_row(plan.row_width_m))

    def mgmt_ports(entry: PlannedRack | int) -> int:
        if isinstance(entry, int):
            return middle_fabric[entry]
        if entry.network is None:
            return storage_type.management_ports
        return _switches(entry, rack_types)

    middle_rows: list[list[PlannedRack | int]] = []
    left = middle
    while left:
        extra = 1
        while True:
            take = _whole_blocks(left, max(1, per_row - extra))
            mgmt_leaves = _leaf_racks("management", [mgmt_ports(e) for block in take
                                                     for e in block], MANAGEMENT_SPEED_GBPS)
            if len(mgmt_leaves) <= extra or len(take) == 1:
                break
            extra += 1
        left = left[len(take):]
        row = [e for block in take for e in block]
        middle_rows.append([*row, *mgmt_leaves])
    mgmt_middle = [r for row in middle_rows for r in row
                   if isinstance(r, PlannedRack) and r.network == "management"]  # fmt: skip
    mgmt_middle, upper = _upper_tiers(catalog, "management", leaf_rack=mgmt_rack,
                                      spine_rack=spine_types["management"],
                                      middle_leaves=mgmt_middle, plan=plan)  # fmt: skip
    # The pods _upper_tiers gave the middle's management leaves, in the same order.
    podded = iter(mgmt_middle)
    middle_rows = [[next(podded) if isinstance(r, PlannedRack) and r.network == "management"
                    else r for r in row] for row in middle_rows]  # fmt: skip
    middle_rows += _rows_of(list(upper), per_row)
    plan.middle = middle_rows
    return plan


def _rows_of(entries: list[Any], per_row: int) -> list[list[Any]]:
    return [entries[k : k + per_row] for k in range(0, len(entries), max(per_row, 1))]


def _switches(rack: PlannedRack, rack_types: Mapping[str, NetworkRackType]) -> int:
    if rack.network is None:
        return 0
    return rack.switches or rack_types[rack.network].switches


def _storage_blocks(storage_type: StorageRackType, count: int,
                    leaves: list[PlannedRack]) -> list[list[PlannedRack | int]]:  # fmt: skip
    """Storage racks in groups, each with the leaf rack serving it in its middle."""
    rack = PlannedRack(storage_type.id, None, None)
    if not leaves:
        return [[rack] for _ in range(count)]
    per_leaf = max(1, math.ceil(count / len(leaves)))
    blocks: list[list[PlannedRack | int]] = []
    for k, leaf in enumerate(leaves):
        group = max(0, min(per_leaf, count - k * per_leaf))
        blocks.append([*[rack] * (group // 2), leaf, *[rack] * (group - group // 2)])
    return blocks


def _whole_blocks(blocks: list[list[Any]], room: int) -> list[list[Any]]:
    """The leading blocks that fit in ``room`` racks (at least one)."""
    taken, used = 0, 0
    for block in blocks:
        if taken and used + len(block) > room:
            break
        taken += 1
        used += len(block)
    return blocks[:taken]


def _switches_for(ports: int, leaf: SwitchType, edge: float, up: float, *, rule: NetworkRule,
                  field_name: str) -> int:  # fmt: skip
    if ports <= 0:
        return 0
    per_switch = leaf_down_ports(leaf, edge, up, rule)
    if per_switch <= 0:
        raise NetworkPlanError(f"{leaf.name} has no {edge:g}G ports with room for uplinks",
                               field_name)  # fmt: skip
    return math.ceil(ports / per_switch)


def _upper_tiers(
    catalog: Catalog,
    network: str,
    *,
    leaf_rack: NetworkRackType,
    spine_rack: NetworkRackType,
    middle_leaves: list[PlannedRack],
    plan: NetworkPlan,
) -> tuple[list[PlannedRack], list[PlannedRack]]:
    """Pods for the network's leaf racks (set in place in the GPU rows; returned for the
    middle's ``middle_leaves``), and its spine and core racks."""
    rule = NETWORK_RULES[network]
    sizing = plan.sizing[network]
    leaf_switch: SwitchType = catalog[leaf_rack.switch]
    spine: SwitchType = catalog[spine_rack.switch]
    up = sizing.uplink_gbps
    k_spine = spine.radix(up)
    # (row index or -1 for the middle, position) of every leaf rack, in order.
    where = [(k, j) for k, row in enumerate(plan.rows) for j, r in enumerate(row)
             if r.network == network and r.tier == "leaf"]  # fmt: skip
    where += [(-1, j) for j in range(len(middle_leaves))]

    def rack_at(k: int, j: int) -> PlannedRack:
        return plan.rows[k][j] if k >= 0 else middle_leaves[j]

    switches = [rack_at(k, j).switches or leaf_rack.switches for k, j in where]
    total = sum(switches)
    sizing.leaf_switches = total
    if total == 0:
        return middle_leaves, []
    # Uplinks per leaf rack, as the check counts them for full leaves (the most).
    per_switch = leaf_down_ports(leaf_switch, sizing.edge_gbps, up, rule)
    uplinks = [uplinks_needed(n * per_switch * sizing.edge_gbps, n, up, rule) for n in switches]
    if total <= k_spine:
        sizing.tiers = 2
        sizing.spine_switches = math.ceil(sum(uplinks) / k_spine)
        return middle_leaves, _racks_of(spine_rack, network, "spine", sizing.spine_switches)
    sizing.tiers = 3
    core_speed = uplink_speed(spine, spine)  # spines and cores: the same switch type
    spine_down = leaf_down_ports(spine, up, core_speed, SPINE_RULE)
    pods: list[list[int]] = [[]]
    in_pod = 0
    for k, n in enumerate(switches):
        if pods[-1] and in_pod + n > spine_down:
            pods.append([])
            in_pod = 0
        pods[-1].append(k)
        in_pod += n
    upper: list[PlannedRack] = []
    spine_uplinks = 0
    middle = list(middle_leaves)
    for pod, members in enumerate(pods):
        pod_up = sum(uplinks[k] for k in members)
        spines = math.ceil(pod_up / spine_down)
        sizing.spine_switches += spines
        racks = _racks_of(spine_rack, network, "spine", spines, pod)
        # As the check counts them: each spine rack's share of the pod's uplinks, rounded up.
        for r in racks:
            n = r.switches or spine_rack.switches
            spine_uplinks += uplinks_needed(math.ceil(pod_up * n / spines) * up, n, core_speed,
                                            SPINE_RULE)  # fmt: skip
        upper += racks
        for k in members:
            row, j = where[k]
            r = rack_at(row, j)
            podded = PlannedRack(r.type_id, r.network, r.tier, pod, r.switches)
            if row >= 0:
                plan.rows[row][j] = podded
            else:
                middle[j] = podded
    sizing.core_switches = math.ceil(spine_uplinks / spine.radix(core_speed))
    upper += _racks_of(spine_rack, network, "core", sizing.core_switches)
    return middle, upper


__all__ = [
    "BACKEND",
    "DEFAULT_STORAGE_GBYTES_S_PER_GPU",
    "MANAGEMENT_SPEED_GBPS",
    "NETWORKS",
    "NETWORK_RULES",
    "NETWORK_TITLES",
    "NetworkChoice",
    "NetworkPlan",
    "NetworkPlanError",
    "NetworkRule",
    "NetworkSizing",
    "PlannedRack",
    "leaf_down_ports",
    "leaf_switches_for",
    "middle_pitch_m",
    "plan_networks",
    "port_share",
    "uplink_speed",
    "uplinks_needed",
]
