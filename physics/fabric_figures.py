"""What the derived fabric comes to: per-tier figures, a network rack's figures, and the
list of coherence criteria with their figures and limits.

Owns the fabric figures every user shows alike (``check --json``, the report, the
inspector and the status bar): per switch tier the achieved down:up ratio (worst
rack and bandwidth-weighted mean, overall and per plane) against its target; the
bisection bandwidth; switches and links per tier; ports used and free per switch
type; and :func:`coherence`, one entry per criterion of a coherent fabric with its
figure, its limit and whether it passed. Figures are read from the
:class:`~physics.fabric.DerivedFabric` (derived once per structure) and from the
check's own findings; nothing here derives the fabric or formats for a screen
beyond the short ``figure_text``/``limit_text`` every user prints the same way.

Definitions
-----------
Down:up ratio
    Per network rack, in bandwidth: what can come up from below over its uplinks
    (:mod:`physics.fabric`). The tier's worst is its worst rack, its mean
    Σ down / Σ up over the tier's racks. Only tiers below the top have one.
Bisection
    The least up-capacity crossing any switch tier (Tb/s, one direction, summed
    over planes): per tier, Σ over its racks of min(down, up), i.e. what all GPUs
    below can push up through it at once. A full-bisection tree shows the GPUs'
    total link bandwidth; a balanced cut of it carries half of that each way.
A criterion passes
    when none of its rules found a violation (waived or not); it is ``None``
    (not checked) when none of its rules ran.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from layout.project import Project
from physics.engine import CheckContext, metric
from physics.fabric import (
    COHERENCE_RULES,
    EPS,
    LINK_TIERS,
    TIERS,
    DerivedFabric,
    domains_of,
    fabric_of,
    hops_of,
    tier_targets,
    worst_latency_ns,
)


def _finite(value: float, digits: int = 3) -> float:
    return round(float(value), digits) if np.isfinite(value) else float(value)


def _ratio_text(value: float) -> str:
    return "no uplinks" if not np.isfinite(value) else f"{value:.2f}:1"


def _mean(fabric: DerivedFabric, rows: np.ndarray) -> float:
    down, up = float(fabric.down_gbps[rows].sum()), float(fabric.up_gbps[rows].sum())
    return down / up if up > EPS else (float("inf") if down > EPS else 0.0)


def oversubscription(project: Project, fabric: DerivedFabric) -> dict[str, Any]:
    """Per switch tier below the top: worst and mean down:up, the target, and per plane."""
    out: dict[str, Any] = {}
    targets = tier_targets(project)
    for k, tier in enumerate(TIERS[: fabric.tiers - 1]):
        rows = fabric.switch_rows[tier]
        ratio = fabric.ratio(rows)
        planes = []
        for plane in np.unique(fabric.plane_of[rows]).tolist():
            mine = fabric.plane_of[rows] == plane
            planes.append({
                "plane": int(plane),
                "worst": _finite(ratio[mine].max()),
                "mean": _finite(_mean(fabric, rows[mine])),
            })  # fmt: skip
        out[tier] = {
            "worst": _finite(ratio.max()) if len(rows) else 0.0,
            "mean": _finite(_mean(fabric, rows)),
            "target": targets[k],
            "per_plane": planes,
        }
    return out


def bisection_tbps(fabric: DerivedFabric) -> float:
    """The least up-capacity crossing any switch tier, summed over planes (Tb/s)."""
    if fabric.tiers == 1:
        return round(float(fabric.down_gbps[fabric.switch_rows["leaf"]].sum()) / 1000, 3)
    crossing = []
    for tier in TIERS[: fabric.tiers - 1]:
        rows = fabric.switch_rows[tier]
        crossing.append(float(np.minimum(fabric.down_gbps[rows], fabric.up_gbps[rows]).sum()))
    return round(min(crossing) / 1000, 3)


@dataclass(frozen=True)
class SwitchPorts:
    """The ports of a set of switches of one type: in use per speed and free."""

    switches: int
    used: dict[float, int]
    """Ports in use per speed (Gb/s)."""
    use: float
    """The share of the switches' ports in use (port budget; 1 = full, inf: a link at a
    speed the switch lacks)."""
    free: int
    """Ports free at ``free_speed_gbps``."""
    free_speed_gbps: float


def _ports(fabric: DerivedFabric, rows: np.ndarray, k: int) -> SwitchPorts:
    switches = int(fabric.switches_in[rows].sum())
    used: dict[float, int] = {}
    for tier, speed in enumerate(fabric.link_speeds_gbps):
        n = int(fabric.ends[rows, tier].sum())
        if n:
            used[speed] = used.get(speed, 0) + n
    budget = float(fabric.budget_used[rows].sum())
    radix = dict(zip(fabric.link_speeds_gbps, fabric.radix_at[k].tolist(), strict=True))
    usable = [s for s in used if radix.get(s, 0) > 0] or [s for s, r in radix.items() if r > 0]
    speed = max(usable, key=lambda s: (used.get(s, 0), s)) if usable else 0.0
    free = (switches - budget) * radix.get(speed, 0) if np.isfinite(budget) else 0.0
    use = budget / switches if switches else (float("inf") if budget > 0 else 0.0)
    return SwitchPorts(switches, used, use, max(0, int(np.floor(free + EPS))), speed)


def ports_by_switch_type(fabric: DerivedFabric) -> dict[str, dict[str, Any]]:
    """Per switch type of the back-end racks: switches, ports used per speed, ports free."""
    out: dict[str, dict[str, Any]] = {}
    rows = fabric.network_rows
    for k, type_id in enumerate(fabric.switch_types):
        ports = _ports(fabric, rows[fabric.type_of[rows] == k], k)
        out[type_id] = {
            "switches": ports.switches,
            "ports_used": {f"{s:g}G": n for s, n in sorted(ports.used.items())},
            "ports_free": ports.free,
            "free_at_gbps": ports.free_speed_gbps,
            "port_use": _finite(ports.use, 4),
        }
    return out


def tier_figures(project: Project, fabric: DerivedFabric) -> dict[str, Any]:
    """The fabric summary's per-tier figures (see the module docstring)."""
    return {
        "link_speeds_gbps": dict(
            zip(LINK_TIERS[: fabric.tiers], fabric.link_speeds_gbps, strict=False)
        ),
        "oversubscription": oversubscription(project, fabric),
        "bisection_tbps": bisection_tbps(fabric),
        "ports_by_switch_type": ports_by_switch_type(fabric),
    }


# -- one network rack ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SwitchRackFigures:
    """A back-end network rack as derived: its switches, their ports and its down:up."""

    tier: str
    switch_type: str
    switch_name: str
    switches: int
    """Installed (at most what the rack holds)."""
    holds: int
    ports: SwitchPorts
    down_gbps: float
    up_gbps: float
    ratio: float | None
    """Down:up (inf: traffic below and no uplinks); None at the top tier."""
    target: float | None


def rack_figures(project: Project, fabric: DerivedFabric, row: int) -> SwitchRackFigures | None:
    """The figures of the back-end network rack at ``row`` (None for anything else)."""
    k = int(fabric.type_of[row]) if 0 <= row < len(fabric.type_of) else -1
    if k < 0:
        return None
    tier = next((t for t in TIERS if row in set(fabric.switch_rows[t].tolist())), "")
    switch = project.catalog.get(fabric.switch_types[k])
    level = TIERS.index(tier) if tier else fabric.tiers
    below_top = level < fabric.tiers - 1
    ratio = float(fabric.ratio(np.array([row]))[0]) if below_top else None
    return SwitchRackFigures(
        tier, fabric.switch_types[k], getattr(switch, "name", fabric.switch_types[k]),
        int(fabric.switches_in[row]), int(project.catalog[project.items.type_ids[row]].switches),
        _ports(fabric, np.array([row]), k), float(fabric.down_gbps[row]),
        float(fabric.up_gbps[row]), ratio, tier_targets(project)[level] if below_top else None,
    )  # fmt: skip


# -- coherence --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Criterion:
    """One property of a coherent fabric and the rules that check it."""

    id: str
    title: str
    rules: tuple[str, ...]


CRITERIA = (
    Criterion("connected", "One connected domain per plane", ("fabric.connected",)),
    Criterion("hops", "Switch hops within 2·tiers − 1", ("fabric.hops",)),
    Criterion("port_budget", "Every switch within its port budget", ("fabric.radix",)),
    Criterion("link_speed", "Every NIC and switch port runs its link's speed",
              ("fabric.link_speed",)),
    Criterion("oversubscription", "Each tier's down:up within its target",
              ("fabric.oversubscription",)),
    Criterion("reach", "Every link has a medium that reaches", ("cabling.reach",)),
    Criterion("tray_fill", "Every tray the links use within its fill limit",
              ("cabling.tray_fill",)),
    Criterion("latency", "Worst GPU-to-GPU latency within budget", ("fabric.latency",)),
)  # fmt: skip
"""The criteria of a coherent fabric, in the order they are shown."""
assert {r for c in CRITERIA for r in c.rules} == COHERENCE_RULES

Figure = tuple[Any, Any, str, str]
"""(figure, limit, figure as text, limit as text)."""


def _connected(context: CheckContext, fabric: DerivedFabric) -> Figure:
    found = domains_of(context)
    worst = max(found[1]) if found and found[1] else 0
    return worst, 1, f"{worst} domain{'s' * (worst != 1)} in the worst plane", "1 per plane"


def _hops(context: CheckContext, fabric: DerivedFabric) -> Figure:
    from physics.fabric import _hop_limit

    found = hops_of(context)
    worst = found.worst if found is not None else 0
    limit = _hop_limit(context.project, fabric)
    return worst, limit, f"{worst} switches", f"{limit} ({(limit + 1) // 2} tiers)"


def _budget(context: CheckContext, fabric: DerivedFabric) -> Figure:
    rows = fabric.network_rows
    if not len(rows):
        return 0.0, 1.0, "no switches", "100% of ports"
    share = fabric.budget_used[rows] / np.maximum(fabric.switches_in[rows], 1)
    share[(fabric.switches_in[rows] == 0) & (fabric.budget_used[rows] > 0)] = np.inf
    k = int(np.argmax(share))
    worst = float(share[k])
    shown = "a link at a speed it lacks" if not np.isfinite(worst) else f"{worst:.0%} of ports"
    return (_finite(worst, 4), 1.0, f"{shown} ({context.project.items.ids[rows[k]]})",
            "100% of ports")  # fmt: skip


def _link_speed(context: CheckContext, fabric: DerivedFabric) -> Figure:
    named = {i for v in context.found if v.rule == "fabric.link_speed" for i in v.items}
    unnamed = any(v.rule == "fabric.link_speed" and not v.items for v in context.found)
    count = len(named) + unnamed
    return count, 0, f"{count} rack{'s' * (count != 1)} short of the speed", "0"


def _oversubscription(context: CheckContext, fabric: DerivedFabric) -> Figure:
    tiers = oversubscription(context.project, fabric)
    figure = {t: v["worst"] for t, v in tiers.items()}
    limit = {t: v["target"] for t, v in tiers.items()}
    if not tiers:
        return figure, limit, "one tier: none", "–"
    text = ", ".join(f"{t} {_ratio_text(v)}" for t, v in figure.items())
    return figure, limit, text, ", ".join(f"{t} {v:g}:1" for t, v in limit.items())


def _reach(context: CheckContext, fabric: DerivedFabric) -> Figure:
    from physics.cabling import routed

    result = routed(context)
    missing = 0
    if result is not None:
        missing = int(result.flat("count")[result.flat("medium") < 0].sum())
    return missing, 0, f"{missing:,} link{'s' * (missing != 1)} without a medium", "0"


def _tray_fill(context: CheckContext, fabric: DerivedFabric) -> Figure:
    from physics.cabling import routed

    limit = float(context.project.rules["tray_fill_limit"])
    result = routed(context)
    worst = result.worst_fill() if result is not None else None
    if worst is None:
        return 0.0, limit, "no trays", f"{limit:.0%}"
    return (worst["fill"], limit, f"{worst['fill']:.0%} ({worst['segment']})",
            f"{limit:.0%}")  # fmt: skip


def _latency(context: CheckContext, fabric: DerivedFabric) -> Figure:
    worst = round(worst_latency_ns(context) or 0.0, 1)
    budget = float(context.project.rules["latency_budget_ns"])
    return worst, budget, f"{worst:,.0f} ns", f"{budget:,.0f} ns"


FIGURES: Mapping[str, Callable[[CheckContext, DerivedFabric], Figure]] = {
    "connected": _connected, "hops": _hops, "port_budget": _budget,
    "link_speed": _link_speed, "oversubscription": _oversubscription, "reach": _reach,
    "tray_fill": _tray_fill, "latency": _latency,
}  # fmt: skip


def coherence(context: CheckContext) -> dict[str, Any] | None:
    """Every criterion of a coherent fabric with its figure, limit and verdict; None
    without a fabric. ``coherent`` is their conjunction (criteria not checked aside)."""
    fabric = fabric_of(context)
    if fabric is None:
        return None
    broken = {v.rule for v in context.found}
    ran = set(context.rules_run)
    criteria = []
    for criterion in CRITERIA:
        figure, limit, figure_text, limit_text = FIGURES[criterion.id](context, fabric)
        checked = any(r in ran for r in criterion.rules)
        passed = None if not checked else not any(r in broken for r in criterion.rules)
        criteria.append({
            "id": criterion.id,
            "title": criterion.title,
            "rules": list(criterion.rules),
            "figure": figure,
            "limit": limit,
            "figure_text": figure_text,
            "limit_text": limit_text,
            "pass": passed,
        })  # fmt: skip
    return {
        "coherent": all(c["pass"] is not False for c in criteria),
        "criteria": criteria,
    }


VERDICT_WORDS = {True: "pass", False: "FAIL", None: "not checked"}
"""How a criterion's verdict reads, the same in the status bar, the report and the CLI."""


def criterion_line(criterion: Mapping[str, Any]) -> str:
    """One criterion as a plain line: ``pass  One connected domain per plane: 1 … (limit …)``."""
    verdict = VERDICT_WORDS[criterion.get("pass")]
    return (f"{verdict}: {criterion['title']}: {criterion['figure_text']} "
            f"(limit {criterion['limit_text']})")  # fmt: skip


def failing(criteria: Sequence[Mapping[str, Any]]) -> list[str]:
    """The titles of the criteria that failed."""
    return [str(c["title"]) for c in criteria if c.get("pass") is False]


@metric("fabric_figures")
def fabric_figure_metrics(context: CheckContext) -> Mapping[str, Any]:
    fabric = fabric_of(context)
    if fabric is None:
        return {}
    figures = context.memo("fabric.figures", lambda: tier_figures(context.project, fabric))
    return {**figures, "coherence": coherence(context)}


__all__ = [
    "CRITERIA", "VERDICT_WORDS", "Criterion", "SwitchPorts", "SwitchRackFigures",
    "bisection_tbps", "coherence", "criterion_line", "failing", "oversubscription",
    "ports_by_switch_type", "rack_figures", "tier_figures",
]  # fmt: skip
