"""The what-if report as readable lines: one text for ``check --fail`` and the GUI's dialog.

Owns how a :class:`~physics.whatif.WhatIfReport` reads: a headline naming the
failed units with their types, the GPUs affected (the worst section, with
its share of the project's GPUs), then one block per section (power,
cooling, fabric) of bulleted lines. Plain text, no Qt.
"""

from __future__ import annotations

from collections.abc import Sequence

from layout.project import Project
from physics.whatif import CoolingLoss, FabricLoss, PowerLoss, Section, WhatIfReport

LISTED = 8
"""Ids named before "and N more"."""
BULLET = "• "


def listed(ids: Sequence[str], limit: int = LISTED) -> str:
    """``ids`` joined, the first ``limit`` named and the rest counted."""
    ids = list(ids)
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit:,} more" if len(ids) > limit else "")


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def power_lines(found: PowerLoss) -> list[str]:
    lines = []
    if found.units_unpowered:
        lines.append(f"Power units losing power: {_count(len(found.units_unpowered), 'unit')} "
                     f"({listed(found.units_unpowered)})")  # fmt: skip
    if found.consumers_unpowered:
        lines.append(f"Equipment losing power: {_count(len(found.consumers_unpowered), 'item')} "
                     f"({listed(found.consumers_unpowered)})")  # fmt: skip
    lines.append(f"GPUs without power: {found.gpus_unpowered:,}; IT load lost "
                 f"{found.it_kw_lost:,.1f} kW (all load lost {found.kw_lost:,.1f} kW)")  # fmt: skip
    if found.on_one_feed:
        lines.append(f"Left on one feed (no redundancy): {_count(found.on_one_feed, 'item')}")
    for unit in found.overloaded:
        lines.append(
            f"Overloaded: {unit.unit} would carry {unit.load_kw:,.1f} kW "
            f"(was {unit.before_kw:,.1f}; limit {unit.limit_kw:,.1f} kW)"
        )
    return lines


def cooling_lines(found: CoolingLoss) -> list[str]:
    lines = []
    if found.units_down:
        lines.append(f"Cooling units down: {listed(found.units_down)}")
    newly_hot = found.inlet.racks_newly_above_allowable if found.inlet is not None else ()
    for racks, what in ((found.racks_without_liquid_cooling, "Racks losing liquid cooling"),
                        (found.racks_without_air_cooling, "Racks losing air cooling"),
                        (newly_hot, "Racks newly above the allowable inlet")):  # fmt: skip
        if racks:
            lines.append(f"{what}: {_count(len(racks), 'rack')} ({listed(racks)})")
    if found.racks_moved_to_another_crah:
        lines.append(f"Air heat of {_count(found.racks_moved_to_another_crah, 'rack')} "
                     "moves to another CRAH")  # fmt: skip
    for crah in found.crahs_overloaded:
        lines.append(f"Overloaded: {crah.unit} would take {crah.load_kw:,.1f} kW "
                     f"of air heat (capacity {crah.capacity_kw:,.1f} kW)")  # fmt: skip
    for short in found.heat_rejection_short:
        lines.append(f"Heat rejection short: {short.units} carry {short.capacity_kw:,.1f} "
                     f"of {short.heat_kw:,.1f} kW")  # fmt: skip
    if found.inlet is not None:
        lines.append(f"Worst rack inlet (estimate): {found.inlet.worst_inlet_c_before:.1f} → "
                     f"{found.inlet.worst_inlet_c_after:.1f} °C")  # fmt: skip
    lines.append(f"GPUs losing cooling: {found.gpus_affected:,} "
                 f"({found.kw_lost:,.1f} kW of load)")  # fmt: skip
    return lines


def fabric_lines(found: FabricLoss) -> list[str]:
    cut = found.racks_disconnected
    return [
        f"GPUs cut off from the fabric: {found.gpus_disconnected:,}"
        + (f" ({_count(len(cut), 'rack')}: {listed(cut)})" if cut else ""),
        f"Switch-to-switch links lost: {found.bisection_lost:.1%}",
    ]


def _gpus(section: Section) -> int:
    if isinstance(section, PowerLoss):
        return section.gpus_unpowered
    if isinstance(section, CoolingLoss):
        return section.gpus_affected
    return section.gpus_disconnected


def _section_lines(section: Section) -> list[str]:
    if isinstance(section, PowerLoss):
        return power_lines(section)
    if isinstance(section, CoolingLoss):
        return cooling_lines(section)
    return fabric_lines(section)


def what_if_lines(report: WhatIfReport, project: Project) -> list[str]:
    """The report as lines: headline, GPUs affected, then a bulleted block per section."""
    names = [
        f"{item_id} ({project.type_of(item_id).name})" if item_id in project.items else item_id
        for item_id in report.failed
    ]
    lines = [f"If {listed(names)} fail{'s' if len(report.failed) == 1 else ''}:"]
    titled = (("Power", report.power), ("Cooling", report.cooling), ("Fabric", report.fabric))
    sections: dict[str, Section] = {
        title: section for title, section in titled if section is not None
    }
    if not sections:
        lines.append("Nothing the solvers model depends on it: no power, cooling or fabric lost.")
        return lines
    affected = {title: _gpus(section) for title, section in sections.items()}
    worst = max(affected.values())
    total = project.gpu_count()
    share = f" ({worst / total:.1%} of {total:,})" if total else ""
    parts = ", ".join(f"{title.lower()} {n:,}" for title, n in affected.items())
    lines.append(f"GPUs affected: {worst:,}{share} — {parts}")
    for title, section in sections.items():
        lines.append("")
        lines.append(title)
        lines.extend(BULLET + line for line in _section_lines(section))
    return lines


def what_if_text(report: WhatIfReport, project: Project) -> str:
    """:func:`what_if_lines` as one text."""
    return "\n".join(what_if_lines(report, project))
