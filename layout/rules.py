"""Design rules: the numbers a project may change, with defaults and their sources.

Owns the list of rule parameters (key, default, unit, bounds, source) and a
project's overrides of them. Only overrides are saved, so a project follows
improved defaults unless the planner pinned a value. Solvers read values with
``rules["service_aisle_m"]``; they never hard-code these numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from layout.errors import EditError, one_line


@dataclass(frozen=True)
class RuleParameter:
    """One adjustable number of the design rules."""

    key: str
    default: float
    unit: str
    minimum: float
    maximum: float
    description: str
    source: str


PARAMETERS: Mapping[str, RuleParameter] = MappingProxyType({
    p.key: p
    for p in (
        RuleParameter(
            "service_aisle_m", 1.2, "m", 0.0, 10.0,
            "Minimum clear width of the aisle in front of and behind a rack.",
            "TIA-942 data-center standard: at least 1.2 m (4 ft) front clearance",
        ),
        RuleParameter(
            "per_hop_latency_ns", 600.0, "ns", 0.0, 100_000.0,
            "Latency through one switch, port to port, used for the worst GPU-to-GPU path.",
            "estimate for 400G/800G Ethernet and InfiniBand switches under load",
        ),
        RuleParameter(
            "latency_budget_ns", 10_000.0, "ns", 0.0, 10_000_000.0,
            "Largest acceptable worst-case GPU-to-GPU latency across the fabric.",
            "planner's choice; a default that a 3-tier fabric in one hall meets",
        ),
        RuleParameter(
            "fiber_ns_per_m", 4.9, "ns/m", 0.0, 100.0,
            "Propagation delay in fiber, for link lengths before cables are routed.",
            "refractive index about 1.468 (speed of light / n ≈ 4.9 ns/m)",
        ),
        RuleParameter(
            "continuous_derating", 0.8, "×", 0.1, 1.0,
            "Share of a power unit's rating that a continuous load may use.",
            "NEC: continuous loads at most 80 % of the circuit rating",
        ),
        RuleParameter(
            "training_swing", 0.3, "× IT", 0.0, 2.0,
            "Share of the IT load that synchronous training phases swing; batteries cover it.",
            "Vertiv; Microsoft/OpenAI/NVIDIA arXiv 2508.14318 (swings of the whole IT load); "
            "30 % as a design default",
        ),
        RuleParameter(
            "overlap_tolerance_m2", 1e-4, "m²", 0.0, 1.0,
            "Shared area below which two footprints count as touching, not overlapping.",
            "numerical tolerance (1 cm²)",
        ),
    )
})  # fmt: skip


class Rules(Mapping[str, float]):
    """A project's rule values: defaults with the project's overrides on top."""

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        self._overrides: dict[str, float] = {}
        for key, value in (overrides or {}).items():
            self._overrides[key] = self.validated(key, value)

    @staticmethod
    def validated(key: str, value: object) -> float:
        """``value`` as a float within the parameter's bounds, or an :class:`EditError`."""
        parameter = PARAMETERS.get(key)
        if parameter is None:
            raise EditError(f"rules.{one_line(key)}: unknown rule")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise EditError(f"rules.{key}: expected a number, got {value!r}")
        number = float(value)
        if not math.isfinite(number):
            raise EditError(f"rules.{key}: expected a finite number, got {value!r}")
        if not parameter.minimum <= number <= parameter.maximum:
            raise EditError(
                f"rules.{key}: {number:g} {parameter.unit} is outside "
                f"{parameter.minimum:g}..{parameter.maximum:g} {parameter.unit}"
            )
        return number

    def __getitem__(self, key: str) -> float:
        if key in self._overrides:
            return self._overrides[key]
        return PARAMETERS[key].default

    def __iter__(self) -> Iterator[str]:
        return iter(PARAMETERS)

    def __len__(self) -> int:
        return len(PARAMETERS)

    @property
    def overrides(self) -> Mapping[str, float]:
        return MappingProxyType(self._overrides)

    def with_value(self, key: str, value: float | None) -> Rules:
        """A copy with ``key`` set (or reset to its default when ``value`` is None)."""
        overrides = dict(self._overrides)
        if value is None:
            overrides.pop(key, None)
        else:
            overrides[key] = self.validated(key, value)
        return Rules(overrides)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rules) and self._overrides == other._overrides

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._overrides.items())))
