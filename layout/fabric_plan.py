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
(at most u₁ when leaves ≤ k, so every leaf still reaches every spine).
3 tiers: leaves fill pods of d₂ in order; a pod of n leaves gets
``ceil(n · u₁ / d₂)`` spines (at most u₁, so the pod stays fully meshed);
``cores = ceil(spines · u₂ / k)``. A core only needs a path to every pod, not
to one spine position in each (any spine of a pod reaches all its leaves), so
cores need not be grouped by spine position as in the textbook wiring of the
full tree. A full tree gets exactly the textbook counts.

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

__all__ = ["FabricError", "FabricPlan", "max_endpoints", "plan_fabric"]

MAX_ENDPOINTS = 10**8
"""Beyond any fabric this tool plans (the stretch goal is 1M GPUs)."""

MAX_RADIX = 65_536
"""Beyond any switch made; keeps the arithmetic of typing mistakes out of the plan."""

MAX_TIERS = 3


class FabricError(CoherenceError):
    """A fabric cannot be sized: bad input, or more endpoints than the tiers hold."""


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
        """Down:up port ratio built per tier below the top; each ≤ its target."""
        ratios = [self.leaf_down / self.leaf_up] if self.tiers >= 2 else []
        if self.tiers == 3:
            ratios.append(self.spine_down / self.spine_up)
        return tuple(ratios)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def split_ports(radix: int, ratio: float) -> tuple[int, int]:
    """Down and up ports of a switch with down:up target ``ratio``: down ≤ ratio · up."""
    # The small tolerance keeps a ratio like 1.1 from losing a port to float noise
    # when k·r/(1 + r) is a whole number.
    down = math.floor(radix * ratio / (1 + ratio) + 1e-9)
    return down, radix - down


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


def _check_radix(radix: object) -> int:
    if isinstance(radix, Integral) and not isinstance(radix, bool) and int(radix) < 2:
        raise FabricError(
            f"switch radix: needs at least 2 ports at the NIC speed, got {int(radix)} "
            "(0 means the switch has no ports at that speed)"
        )
    return _whole("switch radix", radix, 2, MAX_RADIX)


def _check_tiers(tiers: object) -> int:
    return _whole("tiers", tiers, 1, MAX_TIERS)


def _leaf_limit(radix: int, tiers: int, spine_down: int) -> int:
    """Most leaves a tree holds: 1 switch; k (one per spine port); k pods of d₂."""
    return (1, radix, radix * spine_down)[tiers - 1]


def max_endpoints(
    radix: int, tiers: int, oversubscription: Sequence[float] | float = (1.0,)
) -> int:
    """The most NIC ports a fat tree of one switch type holds.

    Parameters
    ----------
    radix
        Switch ports at the NIC speed (k).
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
    radix = _check_radix(radix)
    tiers = _check_tiers(tiers)
    leaf_ratio, spine_ratio = _ratios(oversubscription)
    if tiers == 1:
        return radix
    leaf_down, _ = split_ports(radix, leaf_ratio)
    spine_down = split_ports(radix, spine_ratio)[0] if tiers == 3 else radix
    return _leaf_limit(radix, tiers, spine_down) * leaf_down


@dataclass(frozen=True)
class _Shape:
    """Port splits and the rail-aligned capacity of one tier count."""

    tiers: int
    leaf_down: int
    leaf_up: int
    spine_down: int
    spine_up: int
    capacity: int


def _shape(radix: int, tiers: int, rails: int, leaf_ratio: float, spine_ratio: float) -> _Shape:
    if tiers == 1:
        # One switch takes every rail of every server; no grouping to round to.
        return _Shape(1, radix, 0, 0, 0, radix)
    leaf_down, leaf_up = split_ports(radix, leaf_ratio)
    if tiers == 2:
        spine_down, spine_up = radix, 0
    else:
        spine_down, spine_up = split_ports(radix, spine_ratio)
    max_groups = _leaf_limit(radix, tiers, spine_down) // rails
    capacity = max_groups * leaf_down * rails
    return _Shape(tiers, leaf_down, leaf_up, spine_down, spine_up, capacity)


def plan_fabric(
    endpoints: int,
    radix: int,
    rails: int,
    tiers: int | str = "auto",
    oversubscription: Sequence[float] | float = (1.0,),
) -> FabricPlan:
    """Size a rail-optimized fat tree.

    Parameters
    ----------
    endpoints
        NIC ports to connect (GPUs × NICs per GPU), 1 to 10⁸.
    radix
        Switch ports at the NIC speed, ≥ 2.
    rails
        NIC ports per server, 1 to ``radix``.
    tiers
        1, 2, 3 or ``"auto"``: the fewest tiers that hold the endpoints.
    oversubscription
        Down:up targets ``(leaf,)`` or ``(leaf, spine)``, each ≥ 1.

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
    radix = _check_radix(radix)
    endpoints = _whole("endpoints", endpoints, 1, MAX_ENDPOINTS)
    rails = _whole("rails", rails, 1, MAX_RADIX)
    if rails > radix:
        raise FabricError(
            f"rails: {rails} rails need {rails} leaf ports per server, more than the "
            f"switch radix of {radix}"
        )
    forced = None if isinstance(tiers, str) and tiers == "auto" else _check_tiers(tiers)
    leaf_ratio, spine_ratio = _ratios(oversubscription)
    shapes = [_shape(radix, t, rails, leaf_ratio, spine_ratio) for t in range(1, MAX_TIERS + 1)]

    def rail_note(shape: _Shape) -> str:
        textbook = max_endpoints(radix, shape.tiers, (leaf_ratio, spine_ratio))
        return f" in whole groups of {rails} rails" if shape.capacity < textbook else ""

    fitting = next((s for s in shapes if endpoints <= s.capacity), None)
    if fitting is None:
        largest = shapes[-1].capacity
        raise FabricError(
            f"{endpoints:,} endpoints exceed the largest fabric of {radix}-port switches: "
            f"{MAX_TIERS} tiers hold at most {largest:,}{rail_note(shapes[-1])}"
        )
    shape = fitting if forced is None else shapes[forced - 1]
    if endpoints > shape.capacity:
        raise FabricError(
            f"{endpoints:,} endpoints do not fit {_tiers_text(shape.tiers)} of {radix}-port "
            f"switches, which hold at most {shape.capacity:,}{rail_note(shape)}; "
            f"{_tiers_text(fitting.tiers)} would hold them (up to {fitting.capacity:,})"
        )
    return _build(endpoints, radix, rails, shape, (leaf_ratio, spine_ratio))


def _tiers_text(tiers: int) -> str:
    return f"{tiers} tier" + ("s" if tiers > 1 else "")


def _build(
    endpoints: int, radix: int, rails: int, shape: _Shape, ratios: tuple[float, float]
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
            spines = _ceil_div(leaves * shape.leaf_up, radix)
        else:
            # Leaves fill pods of spine_down in order; only the last may be partial.
            full_pods, rest = divmod(leaves, shape.spine_down)
            pods = full_pods + (rest > 0)
            spines = full_pods * shape.leaf_up + _ceil_div(rest * shape.leaf_up, shape.spine_down)
            cores = _ceil_div(spines * shape.spine_up, radix)
    return FabricPlan(
        endpoints=endpoints,
        radix=radix,
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
    )
