"""Fat-tree sizing: the arithmetic of rail-optimized fat trees.

Owns how many leaves, spines and cores (and how many links between them) a
rail-optimized fat tree of one switch type needs for a number of NIC ports,
the largest fabric a switch, tier count and oversubscription can hold, and the
choice of the fewest tiers. It works in counts only: it never places a switch,
picks a rack, routes a cable or looks at a catalog (callers pass the radix,
``SwitchType.radix(nic_speed_gbps)``). No Qt, no ``gui/`` or ``physics/``.

Vocabulary
----------
k
    The switch radix at the NIC speed (ports per switch).
Tiers
    1: one switch. 2: leaves and spines. 3: leaves, spines and cores.
Oversubscription
    One target per tier below the top, ``(leaf,)`` or ``(leaf, spine)``: the
    ratio of a switch's down ports to its up ports, ≥ 1 (1 = non-blocking).
    With target r a switch splits its k ports as
    ``down = floor(k·r / (1 + r))`` and ``up = k − down``, so the ratio
    built, down/up, never exceeds r (for odd k and r = 1 it is slightly below
    1). Missing entries are 1; entries above the top tier are ignored.
Rails
    NIC ports per server (GPUs per server with one NIC each). Rail n of every
    server in a rail group goes to leaf n of that group, so a group is
    ``rails`` leaves serving ``leaf_down`` servers, and leaves come in whole
    groups. With one tier the only switch takes every rail.

Capacity (a derivation; Al-Fares, Loukissas, Vahdat, SIGCOMM 2008)
------------------------------------------------------------------
Write d₁/u₁ for the leaf down/up split and d₂/u₂ for the spine split.

* 1 tier: one switch, k endpoints.
* 2 tiers: every leaf links to every spine, so any two leaves share a spine
  (three switch hops). A spine has k ports, all facing leaves, so at most
  k leaves; a leaf has u₁ uplinks, one per spine, so u₁ spines serve k
  leaves: ``k · d₁`` endpoints, ``k + u₁`` switches. Non-blocking
  (d₁ = u₁ = k/2): k²/2 endpoints, 3k/2 switches.
* 3 tiers: a pod is a 2-tier tree one level down. Each spine links to every
  leaf of its pod with d₂ ports, so a pod has at most d₂ leaves, and
  ``d₂ · u₁ / d₂ = u₁`` spines. Every core must reach every pod, and a core
  has k ports, so at most k pods: ``k · d₂ · d₁`` endpoints,
  ``k·d₂`` leaves, ``k·u₁`` spines and ``k·u₁·u₂ / k = u₁·u₂`` cores.
  Non-blocking: k³/4 endpoints, k²/2 + k²/2 + k²/4 = 5k²/4 switches.

Oversubscribing a tier lets each of its switches take more downlinks (d > k/2)
and so lets the tree hold proportionally more endpoints: with a 3:1 leaf and
k = 64, d₁ = 48 and two tiers hold 64 · 48 = 3,072 instead of 2,048.

A partly filled tree
--------------------
``servers = ceil(endpoints / rails)``, ``groups = ceil(servers / d₁)``,
``leaves = groups · rails``. 2 tiers: ``spines = ceil(leaves · u₁ / k)``
(at most u₁ when leaves ≤ k, so every leaf still reaches every spine), raised
to the next divisor of u₁ so that every leaf has the same number of links to
each spine (:func:`even_spines`, as NVIDIA's SuperPOD tables do).
3 tiers: leaves fill pods of d₂ in order; a pod of n leaves gets
``ceil(n · u₁ / d₂)`` spines, raised likewise (at most u₁, so the pod stays
fully meshed);
``cores = ceil(spines · u₂ / k)``. A core only needs a path to every pod, not
to one spine position in each (any spine of a pod reaches all its leaves), so
cores need not be grouped by spine position as in the textbook wiring of the
full tree. A full tree gets exactly the textbook counts.

Mixed port speeds and switch types per tier
-------------------------------------------
A tier's switches may run their down- and up-links at different speeds, and
each tier may use its own switch: :class:`TierPorts` gives the radix of each
tier at the speed of each of its link tiers. A switch using ``n_s`` ports at
speed ``s`` is within its radix when ``Σ n_s / radix(s) ≤ 1`` (a port of
speed s takes 1/radix(s) of the switch). Oversubscription is then the ratio of
bandwidths, ``down · s_down / (up · s_up)``. Alibaba's HPN ToR, 128 × 200G down
and 60 × 400G up on a 51.2 Tb/s switch (256 × 200G or 128 × 400G), uses
128/256 + 60/128 = 0.97 of it at 25.6 : 24 = 1.067:1 (SIGCOMM 2024).

Fixed pods
----------
With ``pod_endpoints`` a 3-tier tree is built of pods of that many endpoints
(Meta's RoCE clusters: 3,072-GPU AI zones, SIGCOMM 2024) instead of pods as
wide as a spine's down-ports: a pod holds ``P`` leaves (whole rail groups for
the pod's servers, at most ``d₂``), each of its ``u₁`` spines uses ``P``
down-ports and as many up-ports as the spine tier's target needs,
``ceil(P · s₁ / (r₂ · s₂))``; at most ``radix(core)`` pods.

Because leaves come in whole rail groups, the rail-aware capacity is
``floor(L / rails) · d₁ · rails`` where L is the leaf limit above (k for
2 tiers, k·d₂ for 3); it equals the textbook figure whenever ``rails``
divides L (8 rails and any even k ≥ 16, for instance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real

from layout.errors import CoherenceError

__all__ = [
    "FabricError",
    "FabricPlan",
    "TierPorts",
    "even_spines",
    "max_endpoints",
    "plan_fabric",
    "split_mixed",
    "split_ports",
]

MAX_ENDPOINTS = 10**8
"""Beyond any fabric this tool plans (the stretch goal is 1M GPUs)."""

MAX_RADIX = 65_536
"""Beyond any switch made; keeps the arithmetic of typing mistakes out of the plan."""

MAX_TIERS = 3


class FabricError(CoherenceError):
    """A fabric cannot be sized: bad input, or more endpoints than the tiers hold."""


@dataclass(frozen=True)
class TierPorts:
    """Ports per switch of each tier at the speed of each of its link tiers.

    ``leaf_down`` is the leaf's radix at the GPU-leaf link speed, ``leaf_up`` and
    ``spine_down`` the leaf's and the spine's radix at the leaf-spine speed,
    ``spine_up`` and ``core`` at the spine-core speed. ``speeds_gbps`` are the
    three link tiers' speeds (only their ratios matter to oversubscription).
    """

    leaf_down: int
    leaf_up: int
    spine_down: int
    spine_up: int
    core: int
    speeds_gbps: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @staticmethod
    def uniform(radix: int) -> TierPorts:
        """One switch type and one speed throughout: every radix is ``radix``."""
        return TierPorts(radix, radix, radix, radix, radix)

    @property
    def is_uniform(self) -> bool:
        radixes = {self.leaf_down, self.leaf_up, self.spine_down, self.spine_up, self.core}
        return len(radixes) == 1 and len(set(self.speeds_gbps)) == 1


@dataclass(frozen=True)
class FabricPlan:
    """The switch and link counts of one rail-optimized fat tree.

    Attributes
    ----------
    endpoints
        NIC ports to connect (GPUs × NICs per GPU).
    radix
        Switch ports at the NIC speed.
    tiers
        1, 2 or 3.
    oversubscription
        The target per tier below the top, ``(leaf,)`` or ``(leaf, spine)``;
        ``()`` with one tier. ``achieved_oversubscription`` is what was built.
    rails
        NIC ports per server; rail n of every server → leaf n of its group.
    leaf_down, leaf_up
        Leaf ports facing GPUs and facing spines (``leaf_up`` 0 with 1 tier).
    spine_down, spine_up
        3 tiers: spine ports to leaves and to cores. 2 tiers: ``radix`` and 0.
        1 tier: 0 and 0.
    leaves, spines, cores
        Switch counts per tier (the one switch of a 1-tier fabric is a leaf).
    pods
        3 tiers: pods of ``spine_down`` leaves and their spines (the last one
        may be partly filled). 1 or 2 tiers: 1.
    group_servers
        Servers per rail group: ``leaf_down`` (one leaf per rail per group);
        with 1 tier, every server (one group on one switch).
    groups
        Rail groups, each of ``rails`` leaves (1 with 1 tier).
    links
        Link counts GPU→leaf, leaf→spine, spine→core.
    max_endpoints
        The largest fabric this switch, tier count, oversubscription and rail
        count hold (see the module docstring for when rails lower it below
        ``max_endpoints()``).
    """

    endpoints: int
    radix: int
    tiers: int
    oversubscription: tuple[float, ...]
    rails: int
    leaf_down: int
    leaf_up: int
    spine_down: int
    spine_up: int
    leaves: int
    spines: int
    cores: int
    pods: int
    group_servers: int
    groups: int
    links: tuple[int, int, int]
    max_endpoints: int
    ports: TierPorts | None = None
    """The radixes per tier, when they are not all ``radix``."""
    leaves_per_pod: int = 0
    """3 tiers: leaves in a full pod (``spine_down``, fewer with a fixed pod size)."""

    @property
    def switches(self) -> tuple[int, int, int]:
        """Switch counts per tier: (leaves, spines, cores)."""
        return (self.leaves, self.spines, self.cores)

    @property
    def total_switches(self) -> int:
        """All switches of the fabric."""
        return self.leaves + self.spines + self.cores

    @property
    def max_switch_hops(self) -> int:
        """Switches on the longest GPU-to-GPU path: up to the top tier and down again."""
        return 2 * self.tiers - 1

    @property
    def servers(self) -> int:
        """Servers connected: ``ceil(endpoints / rails)`` (the last may be partly used)."""
        return -(-self.endpoints // self.rails)

    @property
    def achieved_oversubscription(self) -> tuple[float, ...]:
        """Down:up bandwidth ratio built per tier below the top; each ≤ its target."""
        s0, s1, s2 = self.ports.speeds_gbps if self.ports else (1.0, 1.0, 1.0)
        ratios = [self.leaf_down * s0 / (self.leaf_up * s1)] if self.tiers >= 2 else []
        if self.tiers == 3:
            ratios.append(self.spine_down * s1 / (self.spine_up * s2))
        return tuple(ratios)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def split_ports(radix: int, ratio: float) -> tuple[int, int]:
    """Down and up ports of a switch with down:up target ``ratio``: down ≤ ratio · up."""
    # The small tolerance keeps a ratio like 1.1 from losing a port to float noise
    # when k·r/(1 + r) is a whole number.
    down = math.floor(radix * ratio / (1 + ratio) + 1e-9)
    return down, radix - down


def split_mixed(
    down_radix: int, up_radix: int, ratio: float, down_gbps: float = 1.0, up_gbps: float = 1.0
) -> tuple[int, int]:
    """Down and up ports of a switch whose down- and up-links may differ in speed.

    ``down_radix`` and ``up_radix`` are the switch's ports at each speed. The
    most down-ports such that the ports left for uplinks,
    ``floor(up_radix · (1 − down / down_radix))``, carry at least
    ``down · down_gbps / ratio`` of bandwidth. With one radix and one speed this
    is :func:`split_ports`.
    """
    if down_radix == up_radix and down_gbps == up_gbps:
        return split_ports(down_radix, ratio)
    scale = ratio * up_gbps * up_radix / down_gbps
    down = min(down_radix, math.floor(scale / (1 + scale / down_radix) + 1e-9))

    def up_of(d: int) -> int:
        return math.floor(up_radix * (1 - d / down_radix) + 1e-9)

    while down > 0 and down * down_gbps > ratio * up_of(down) * up_gbps * (1 + 1e-9):
        down -= 1
    return down, up_of(down)


def even_spines(leaves: int, uplinks: int, spine_ports: int) -> int:
    """Spines for ``leaves`` leaves of ``uplinks`` uplinks each, every leaf linked to every
    spine by the same number of links.

    The fewest spines whose ports take every uplink, raised until they divide
    ``uplinks`` (equal-cost paths need equal links per leaf-spine pair). NVIDIA's
    Quantum-X800 SuperPOD tables show it: 32 leaves of 72 uplinks need 16 spines of
    144 ports by count, but take 18 (4 links to each); 64 leaves take 36.
    """
    if leaves <= 0 or uplinks <= 0:
        return 0
    fewest = _ceil_div(leaves * uplinks, spine_ports)
    for spines in range(fewest, uplinks + 1):
        if uplinks % spines == 0:
            return spines
    return fewest


def _whole(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise FabricError(f"{name}: expected a whole number, got {value!r}")
    number = int(value)
    if not low <= number <= high:
        raise FabricError(
            f"{name}: expected a whole number from {low:,} to {high:,}, got {number:,}"
        )
    return number


def _ratios(oversubscription: Sequence[float] | float) -> tuple[float, float]:
    """The (leaf, spine) targets, missing ones 1.0, each checked to be a number ≥ 1."""
    if isinstance(oversubscription, Real) and not isinstance(oversubscription, bool):
        values: list[object] = [oversubscription]
    elif isinstance(oversubscription, Sequence) and not isinstance(oversubscription, str):
        values = list(oversubscription)
    else:
        raise FabricError(f"oversubscription: expected a list of ratios, got {oversubscription!r}")
    if len(values) > MAX_TIERS - 1:
        raise FabricError(
            f"oversubscription: expected at most {MAX_TIERS - 1} ratios (leaf, spine), "
            f"got {len(values)}"
        )
    ratios = []
    for index, value in enumerate(values):
        if (
            not isinstance(value, Real)
            or isinstance(value, bool)
            or not math.isfinite(float(value))
            or float(value) < 1
        ):
            raise FabricError(
                f"oversubscription[{index}]: expected a ratio ≥ 1 (1 = non-blocking), got {value!r}"
            )
        ratios.append(float(value))
    ratios += [1.0] * (MAX_TIERS - 1 - len(ratios))
    return ratios[0], ratios[1]


def _check_radix(radix: object, name: str = "switch radix") -> int:
    if isinstance(radix, Integral) and not isinstance(radix, bool) and int(radix) < 2:
        raise FabricError(
            f"{name}: needs at least 2 ports at the NIC speed, got {int(radix)} "
            "(0 means the switch has no ports at that speed)"
        )
    return _whole(name, radix, 2, MAX_RADIX)


def _check_ports(radix: int | TierPorts) -> TierPorts:
    """The radixes per tier, each checked; a plain radix is the same everywhere."""
    if not isinstance(radix, TierPorts):
        return TierPorts.uniform(_check_radix(radix))
    for name in ("leaf_down", "leaf_up", "spine_down", "spine_up", "core"):
        _check_radix(getattr(radix, name), f"{name.replace('_', ' ')} radix")
    for speed in radix.speeds_gbps:
        if not (isinstance(speed, Real) and math.isfinite(speed) and speed > 0):
            raise FabricError(f"link speeds: expected speeds > 0 Gb/s, got {speed!r}")
    return radix


def _check_tiers(tiers: object) -> int:
    return _whole("tiers", tiers, 1, MAX_TIERS)


def max_endpoints(
    radix: int | TierPorts, tiers: int, oversubscription: Sequence[float] | float = (1.0,)
) -> int:
    """The most NIC ports a fat tree holds.

    Parameters
    ----------
    radix
        Switch ports at the NIC speed (k), or :class:`TierPorts` per tier.
    tiers
        1, 2 or 3.
    oversubscription
        Down:up targets ``(leaf,)`` or ``(leaf, spine)``, each ≥ 1; missing
        entries are 1, entries above the top tier are ignored.

    Returns
    -------
    int
        1 tier: k. 2 tiers: ``k · d₁`` (at most k leaves, one per spine port).
        3 tiers: ``k · d₂ · d₁`` (at most k pods of d₂ leaves). Here
        ``d = floor(k·r / (1 + r))`` is a tier's down ports for target r, so a
        non-blocking tree gives k, k²/2 and k³/4 (Al-Fares et al. 2008); the
        module docstring has the derivation. Rails are not considered; see
        ``FabricPlan.max_endpoints`` for the rail-aligned figure.

    Raises
    ------
    FabricError
        For a radix below 2, a tier count other than 1–3 or a bad ratio.
    """
    ports = _check_ports(radix)
    tiers = _check_tiers(tiers)
    leaf_ratio, spine_ratio = _ratios(oversubscription)
    shape = _shape(ports, tiers, 1, (leaf_ratio, spine_ratio))
    return shape.leaf_limit * shape.leaf_down if tiers > 1 else ports.leaf_down


@dataclass(frozen=True)
class _Shape:
    """Port splits, pod width and the rail-aligned capacity of one tier count."""

    tiers: int
    leaf_down: int
    leaf_up: int
    spine_down: int
    spine_up: int
    leaves_per_pod: int
    leaf_limit: int
    capacity: int


def _shape(
    ports: TierPorts,
    tiers: int,
    rails: int,
    ratios: tuple[float, float],
    pod_endpoints: int | None = None,
) -> _Shape:
    leaf_ratio, spine_ratio = ratios
    s0, s1, s2 = ports.speeds_gbps
    if tiers == 1:
        # One switch takes every rail of every server; no grouping to round to.
        return _Shape(1, ports.leaf_down, 0, 0, 0, 1, 1, ports.leaf_down)
    leaf_down, leaf_up = split_mixed(ports.leaf_down, ports.leaf_up, leaf_ratio, s0, s1)
    if tiers == 2:
        # The top spines face leaves only: at most one leaf per spine port.
        limit = ports.spine_down
        return _Shape(2, leaf_down, leaf_up, ports.spine_down, 0, limit, limit,
                      limit // rails * leaf_down * rails)  # fmt: skip
    spine_down, spine_up = split_mixed(ports.spine_down, ports.spine_up, spine_ratio, s1, s2)
    per_pod = spine_down
    if pod_endpoints is not None and leaf_down > 0:
        servers = _ceil_div(pod_endpoints, rails)
        per_pod = _ceil_div(servers, leaf_down) * rails
        if per_pod > spine_down:
            raise FabricError(
                f"pod size: a pod of {pod_endpoints:,} endpoints needs {per_pod:,} leaves, "
                f"but a spine has {spine_down:,} down-ports at the spine tier's target; "
                f"at most {spine_down // rails * leaf_down * rails:,} endpoints per pod"
            )
        # A spine of a fixed pod cables the up-ports its target needs, no more.
        spine_down = per_pod
        spine_up = min(spine_up, math.ceil(per_pod * s1 / (spine_ratio * s2) - 1e-9))
    limit = per_pod * ports.core
    return _Shape(3, leaf_down, leaf_up, spine_down, spine_up, per_pod, limit,
                  limit // rails * leaf_down * rails)  # fmt: skip


def plan_fabric(
    endpoints: int,
    radix: int | TierPorts,
    rails: int,
    tiers: int | str = "auto",
    oversubscription: Sequence[float] | float = (1.0,),
    *,
    pod_endpoints: int | None = None,
) -> FabricPlan:
    """Size a rail-optimized fat tree.

    Parameters
    ----------
    endpoints
        NIC ports to connect (GPUs × NICs per GPU), 1 to 10⁸.
    radix
        Switch ports at the NIC speed, ≥ 2; or :class:`TierPorts` when tiers
        differ in switch type or link speed.
    rails
        NIC ports per server, 1 to the leaf's down radix.
    tiers
        1, 2, 3 or ``"auto"``: the fewest tiers that hold the endpoints.
    oversubscription
        Down:up targets ``(leaf,)`` or ``(leaf, spine)``, each ≥ 1.
    pod_endpoints
        A fixed pod size for 3 tiers (None: pods as wide as a spine's down-ports).

    Returns
    -------
    FabricPlan
        Counts for the tree, partly filled where the endpoints do not fill it.

    Raises
    ------
    FabricError
        For bad input, for a forced tier count that cannot hold the endpoints
        (naming the smallest that would), and for more endpoints than three
        tiers of this switch hold (naming that largest fabric).
    """
    ports = _check_ports(radix)
    k = ports.leaf_down
    endpoints = _whole("endpoints", endpoints, 1, MAX_ENDPOINTS)
    rails = _whole("rails", rails, 1, MAX_RADIX)
    if pod_endpoints is not None:
        pod_endpoints = _whole("pod size", pod_endpoints, 1, MAX_ENDPOINTS)
    if rails > k:
        raise FabricError(
            f"rails: {rails} rails need {rails} leaf ports per server, more than the "
            f"switch radix of {k}"
        )
    forced = None if isinstance(tiers, str) and tiers == "auto" else _check_tiers(tiers)
    leaf_ratio, spine_ratio = _ratios(oversubscription)
    if pod_endpoints is not None and forced not in (None, 3):
        raise FabricError(f"pod size: a fixed pod needs 3 tiers, not {forced}")
    shapes = [
        _shape(ports, t, rails, (leaf_ratio, spine_ratio), pod_endpoints if t == 3 else None)
        for t in range(1, MAX_TIERS + 1)
    ]
    if pod_endpoints is not None:
        shapes = shapes[2:]  # a fixed pod is the unit of a 3-tier tree

    def rail_note(shape: _Shape) -> str:
        textbook = shape.leaf_limit * shape.leaf_down if shape.tiers > 1 else shape.capacity
        return f" in whole groups of {rails} rails" if shape.capacity < textbook else ""

    radix_text = f"{k}-port" if ports.is_uniform else "these"
    fitting = next((s for s in shapes if endpoints <= s.capacity), None)
    if fitting is None:
        largest = shapes[-1].capacity
        raise FabricError(
            f"{endpoints:,} endpoints exceed the largest fabric of {radix_text} switches: "
            f"{MAX_TIERS} tiers hold at most {largest:,}{rail_note(shapes[-1])}"
        )
    shape = fitting if forced is None else shapes[forced - 1 - (MAX_TIERS - len(shapes))]
    if endpoints > shape.capacity:
        raise FabricError(
            f"{endpoints:,} endpoints do not fit {_tiers_text(shape.tiers)} of {radix_text} "
            f"switches, which hold at most {shape.capacity:,}{rail_note(shape)}; "
            f"{_tiers_text(fitting.tiers)} would hold them (up to {fitting.capacity:,})"
        )
    return _build(endpoints, ports, rails, shape, (leaf_ratio, spine_ratio))


def _tiers_text(tiers: int) -> str:
    return f"{tiers} tier" + ("s" if tiers > 1 else "")


def _build(
    endpoints: int, ports: TierPorts, rails: int, shape: _Shape, ratios: tuple[float, float]
) -> FabricPlan:
    servers = _ceil_div(endpoints, rails)
    if shape.tiers == 1:
        leaves, groups, group_servers = 1, 1, servers
        spines = cores = 0
        pods = 1
    else:
        group_servers = shape.leaf_down
        groups = _ceil_div(servers, group_servers)
        leaves = groups * rails
        cores = 0
        if shape.tiers == 2:
            pods = 1
            spines = even_spines(leaves, shape.leaf_up, ports.spine_down)
        else:
            # Leaves fill pods in order; only the last may be partial.
            full_pods, rest = divmod(leaves, shape.leaves_per_pod)
            pods = full_pods + (rest > 0)
            spines = full_pods * shape.leaf_up
            if rest:
                spines += even_spines(rest, shape.leaf_up, shape.leaves_per_pod)
            cores = _ceil_div(spines * shape.spine_up, ports.core)
    return FabricPlan(
        endpoints=endpoints,
        radix=ports.leaf_down,
        tiers=shape.tiers,
        oversubscription=ratios[: shape.tiers - 1],
        rails=rails,
        leaf_down=shape.leaf_down,
        leaf_up=shape.leaf_up,
        spine_down=shape.spine_down,
        spine_up=shape.spine_up,
        leaves=leaves,
        spines=spines,
        cores=cores,
        pods=pods,
        group_servers=group_servers,
        groups=groups,
        links=(endpoints, leaves * shape.leaf_up, spines * shape.spine_up),
        max_endpoints=shape.capacity,
        ports=None if ports.is_uniform else ports,
        leaves_per_pod=shape.leaves_per_pod if shape.tiers == 3 else leaves,
    )
