"""What-if failures: fail units and report what each solver loses.

Owns the report's types and the dispatch: each solver registers a function
with :func:`effect` that, given the project and the failed item ids, returns
its section of the report (:class:`FabricLoss`, :class:`PowerLoss` or
:class:`CoolingLoss`; None when the failure does not concern it).
:func:`fail` gathers them in a :class:`WhatIfReport`, whose ``to_json()`` is
the ``what_if`` of ``check --fail ID --json``. Nothing here changes the
project.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from layout.errors import CoherenceError
from layout.project import Project


@dataclass(frozen=True)
class FabricLoss:
    """Network racks failed: GPU ports cut off and the share of switch links lost."""

    gpus_disconnected: int
    racks_disconnected: tuple[str, ...]
    """GPU racks newly cut off from the rest of the fabric."""
    bisection_lost: float
    """The largest share of links lost at any switch tier (leaf-spine or spine-core)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "gpus_disconnected": self.gpus_disconnected,
            "racks_disconnected": list(self.racks_disconnected),
            "bisection_lost": self.bisection_lost,
        }


@dataclass(frozen=True)
class OverloadedPowerUnit:
    """A live power unit pushed over capacity × derating by the failure."""

    unit: str
    load_kw: float
    before_kw: float
    limit_kw: float
    utilisation: float
    """Load after the failure over the unit's capacity."""

    def to_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "load_kw": self.load_kw,
            "before_kw": self.before_kw,
            "limit_kw": self.limit_kw,
            "utilisation": self.utilisation,
        }


@dataclass(frozen=True)
class PowerLoss:
    """What loses power, and which units the survivors' extra load overloads."""

    units_unpowered: tuple[str, ...]
    """Power units (not failed themselves) left without a live upstream."""
    consumers_unpowered: tuple[str, ...]
    """Consumers (not failed themselves) that lost their last feed."""
    gpus_unpowered: int
    it_kw_lost: float
    kw_lost: float
    on_one_feed: int
    """Consumers with two feeds left on one."""
    overloaded: tuple[OverloadedPowerUnit, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "units_unpowered": list(self.units_unpowered),
            "consumers_unpowered": list(self.consumers_unpowered),
            "gpus_unpowered": self.gpus_unpowered,
            "it_kw_lost": self.it_kw_lost,
            "kw_lost": self.kw_lost,
            "on_one_feed": self.on_one_feed,
            "overloaded": [unit.to_json() for unit in self.overloaded],
        }


@dataclass(frozen=True)
class OverloadedCrah:
    """A live CRAH taking more air heat than its capacity after the failure."""

    unit: str
    load_kw: float
    capacity_kw: float

    def to_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "load_kw": self.load_kw, "capacity_kw": self.capacity_kw}


@dataclass(frozen=True)
class HeatRejectionShort:
    """Heat-rejection units whose survivors no longer carry their loop."""

    units: str
    """Which units, in words ("chillers", "towers and dry coolers")."""
    heat_kw: float
    capacity_kw: float

    def to_json(self) -> dict[str, Any]:
        return {"units": self.units, "heat_kw": self.heat_kw, "capacity_kw": self.capacity_kw}


@dataclass(frozen=True)
class InletChange:
    """The thermal screening map before and after CRAHs fail."""

    worst_inlet_c_before: float
    worst_inlet_c_after: float
    racks_newly_above_allowable: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "worst_inlet_c_before": self.worst_inlet_c_before,
            "worst_inlet_c_after": self.worst_inlet_c_after,
            "racks_newly_above_allowable": list(self.racks_newly_above_allowable),
        }


@dataclass(frozen=True)
class CoolingLoss:
    """Cooling units down (failed or unpowered) and what their racks lose."""

    units_down: tuple[str, ...]
    racks_without_liquid_cooling: tuple[str, ...]
    racks_without_air_cooling: tuple[str, ...]
    racks_moved_to_another_crah: int
    crahs_overloaded: tuple[OverloadedCrah, ...]
    heat_rejection_short: tuple[HeatRejectionShort, ...]
    inlet: InletChange | None
    """Set when CRAHs fail and the hall has a thermal map."""
    gpus_affected: int
    kw_lost: float

    def to_json(self) -> dict[str, Any]:
        return {
            "units_down": list(self.units_down),
            "racks_without_liquid_cooling": list(self.racks_without_liquid_cooling),
            "racks_without_air_cooling": list(self.racks_without_air_cooling),
            "racks_moved_to_another_crah": self.racks_moved_to_another_crah,
            "crahs_overloaded": [unit.to_json() for unit in self.crahs_overloaded],
            "heat_rejection_short": [short.to_json() for short in self.heat_rejection_short],
            **(self.inlet.to_json() if self.inlet is not None else {}),
            "gpus_affected": self.gpus_affected,
            "kw_lost": self.kw_lost,
        }


Section = FabricLoss | PowerLoss | CoolingLoss
_S = TypeVar("_S", FabricLoss, PowerLoss, CoolingLoss)


@dataclass(frozen=True)
class WhatIfReport:
    """What is lost when ``failed`` fail: one section per solver the failure concerns."""

    failed: tuple[str, ...]
    fabric: FabricLoss | None = None
    power: PowerLoss | None = None
    cooling: CoolingLoss | None = None

    @property
    def sections(self) -> dict[str, Section]:
        """The sections present, by name, in the order the JSON lists them."""
        found = {"cooling": self.cooling, "fabric": self.fabric, "power": self.power}
        return {name: section for name, section in found.items() if section is not None}

    def to_json(self) -> dict[str, Any]:
        """The ``what_if`` of ``check --fail ID --json``."""
        document: dict[str, Any] = {"failed": list(self.failed)}
        for name, section in self.sections.items():
            document[name] = section.to_json()
        return document


EffectFunction = Callable[[Project, list[str]], Section | None]
EFFECTS: dict[str, EffectFunction] = {}


def effect(section: str) -> Callable[[EffectFunction], EffectFunction]:
    """Register ``function`` as the what-if of one solver, reported under ``section``
    (a field of :class:`WhatIfReport`)."""

    def register(function: EffectFunction) -> EffectFunction:
        EFFECTS[section] = function
        return function

    return register


def fail(project: Project, item_ids: Iterable[str]) -> WhatIfReport:
    """What is lost when ``item_ids`` fail; raises :class:`CoherenceError` for unknown ids."""
    from physics.engine import load_providers

    load_providers()  # importing the solvers registers their effects

    failed = list(dict.fromkeys(item_ids))
    for item_id in failed:
        if item_id not in project.items:
            raise CoherenceError(f"no item {item_id!r} in the project")
    found = [EFFECTS[section](project, failed) for section in sorted(EFFECTS)]
    return WhatIfReport(
        tuple(failed),
        fabric=_one(found, FabricLoss),
        power=_one(found, PowerLoss),
        cooling=_one(found, CoolingLoss),
    )


def _one(found: list[Section | None], kind: type[_S]) -> _S | None:
    return next((section for section in found if isinstance(section, kind)), None)
