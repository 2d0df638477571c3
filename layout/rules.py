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

from layout.errors import EditError, shown, shown_key


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
            "Share of the rating that a continuous load may use on breakers, switchgear, "
            "busways, RPPs and PDUs (not on gear listed for 100 %, transformers, UPS, "
            "turbines or utility services, which have their own rules).",
            "NEC 210.19(A)/215.2(A) and 210.20(A): overcurrent devices and conductors at "
            "125 % of the continuous load, i.e. loads at most 80 % of the rating, unless "
            "the assembly is listed for 100 %",
        ),
        RuleParameter(
            "training_swing", 0.3, "× IT", 0.0, 2.0,
            "Share of the IT load that synchronous training phases swing; batteries cover it.",
            "Vertiv; Microsoft/OpenAI/NVIDIA arXiv 2508.14318 (swings of the whole IT load); "
            "30 % as a design default",
        ),
        # -- cabling ------------------------------------------------------------
        RuleParameter(
            "tray_height_m", 3.0, "m", 0.5, 20.0,
            "Height of the overhead cable trays above the floor.",
            "design choice: trays above 2.3 m racks with clearance for containment",
        ),
        RuleParameter(
            "port_height_m", 1.2, "m", 0.0, 5.0,
            "Mean height of a rack's ports above the floor (rise and drop start there).",
            "half of a 48U rack (about 2.3 m), rounded",
        ),
        RuleParameter(
            "cable_slack", 0.10, "×", 0.0, 1.0,
            "Extra length on top of the routed path, as a share of it.",
            "common design practice: 10 % slack",
        ),
        RuleParameter(
            "service_loop_m", 0.5, "m", 0.0, 10.0,
            "Service loop left at each end of a cable.",
            "common design practice: 0.5 m per end",
        ),
        RuleParameter(
            "in_row_run_max_m", 5.0, "m", 0.0, 30.0,
            "Longest cable run along a row, through the racks' side cable managers and "
            "rack tops instead of up to the tray, between two racks of one row that touch "
            "or are joined by touching racks; 0 sends every link over the trays.",
            "Oracle Exadata multi-rack cabling guides: adjacent racks are cabled rack to "
            "rack with 1–5 m cables, optical cables only beyond 5 m, longer cables where "
            "racks are apart or cables use overhead trays; NVIDIA LinkX active copper "
            "reaches 5 m (MCP7Y00 use cases)",
        ),
        RuleParameter(
            "in_rack_vertical_m", 0.4, "m", 0.0, 3.0,
            "Cable inside each rack of a run along a row: from the port into the side "
            "cable manager and along it to the other end's height, per end.",
            "estimate: ports spread over about 2.1 m of a 48U rack are on average a third "
            "of that (0.7 m) apart in height, shared by the two ends and rounded up for "
            "dressing; Oracle Exadata cabling tables use 1 m cables between switches two "
            "units apart in one rack",
        ),
        RuleParameter(
            "in_rack_loop_m", 0.1, "m", 0.0, 2.0,
            "Slack left at each end of a run along a row (it takes the place of the "
            "service loop coiled at a tray drop).",
            "estimate: cords inside racks are dressed along the cable managers with small, "
            "intentional service loops rather than coils (rack patch-cord practice); "
            "10 cm per end",
        ),
        RuleParameter(
            "tray_fill_limit", 0.5, "×", 0.05, 1.0,
            "Largest share of a tray's cross-section that cables may fill.",
            "NEC 392 / TIA-569: about 50 % fill for cable trays",
        ),
        *(
            RuleParameter(
                f"allow_{family}", 1.0, "yes/no", 0.0, 1.0,
                f"Whether {label} may be chosen for links (1 yes, 0 no).",
                "planner's choice",
            )
            for family, label in (
                ("dac", "passive copper (DAC)"), ("acc", "active copper (ACC/AEC)"),
                ("aoc", "active optical cables (AOC)"), ("mmf", "multimode fiber optics"),
                ("smf", "single-mode fiber optics"), ("utp", "twisted-pair copper (Cat6A)"),
            )
        ),
        # -- power ----------------------------------------------------------------
        RuleParameter(
            "design_load_fraction", 1.0, "× nameplate", 0.1, 1.5,
            "Design load as a share of nameplate power (1 = nameplate maximum).",
            "nameplate by default; DGX H100 in training peaks near 76 % of 10.2 kW "
            "(arXiv 2506.14551)",
        ),
        RuleParameter(
            "ride_through_s", 300.0, "s", 0.0, 86_400.0,
            "Time the batteries of a lineup must carry the IT load it backs in its worst case "
            "(energy ≥ this × load).",
            "common design value: 5 minutes of ride-through (estimate)",
        ),
        RuleParameter(
            "whip_length_m", 15.0, "m", 0.5, 200.0,
            "Longest distance from a consumer to the power unit feeding it.",
            "design choice for power whips and tap-off cables (estimate)",
        ),
        RuleParameter(
            "feeds_2n", 1.0, "yes/no", 0.0, 1.0,
            "Whether every consumer must have A and B feeds, each able to carry it alone "
            "(2N and distributed redundant topologies; block redundant and N+1 feed racks on "
            "one path).",
            "Schneider Electric white paper 75 (2N)",
        ),
        RuleParameter(
            "spare_sources", 1.0, "units", 0.0, 10.0,
            "Turbines or generators of a source group that may be lost while the rest, with "
            "the group's utility services at their contracted capacity, carry its load "
            "(N+1 = 1). Utility services are not counted as spares.",
            "Schneider Electric white paper 75 (N+1)",
        ),
        RuleParameter(
            "site_derating", 1.0, "× rating", 0.3, 1.0,
            "Share of a turbine's or generator's rating available at the site (ambient "
            "temperature, altitude): its site rating.",
            "ISO 3977-2 rates gas turbines at 15 °C and sea level; ISO 8528-1 generating "
            "sets at 25 °C and 100 kPa; output falls on a hotter or higher site (project "
            "choice; 1 = rated conditions)",
        ),
        RuleParameter(
            "load_power_factor", 0.9, "pf", 0.5, 1.0,
            "Power factor of the load a transformer carries: its kVA is the load kW / this.",
            "server PSUs run at pf ≈ 0.99; 0.9 is a conservative design value for IT and "
            "mechanical loads together (estimate)",
        ),
        # -- cooling --------------------------------------------------------------
        RuleParameter(
            "facility_water_c", 32.0, "°C", 5.0, 60.0,
            "Facility water supply temperature to CDUs (sets their capacity).",
            "Supermicro at Hot Chips 2024: in-rack CDU about 100 kW at 32 °C, 60 kW at 40 °C",
        ),
        RuleParameter(
            "cdu_loop_m", 30.0, "m", 1.0, 500.0,
            "Longest distance from a rack to the in-row CDU serving it.",
            "design choice for secondary-loop piping (estimate)",
        ),
        RuleParameter(
            "air_limit_kw", 30.0, "kW", 1.0, 200.0,
            "Largest air-cooled heat a rack may give to the room.",
            "air-cooled racks top out around 25–30 kW (industry figure)",
        ),
        RuleParameter(
            "air_delta_t_k", 11.0, "K", 2.0, 30.0,
            "Air temperature rise across racks, for airflow Q = P / (ρ · cp · ΔT).",
            "about 0.075 m³/s (160 CFM) per kW at ΔT = 11 K",
        ),
        RuleParameter(
            "supply_air_c", 20.0, "°C", 10.0, 30.0,
            "Air temperature CRAHs supply to the cold aisles.",
            "ASHRAE TC 9.9: recommended inlet 18–27 °C; a common supply set point (estimate)",
        ),
        RuleParameter(
            "inlet_recommended_c", 27.0, "°C", 10.0, 45.0,
            "Rack inlet temperature above which a warning is raised.",
            "ASHRAE TC 9.9 recommended range 18–27 °C",
        ),
        RuleParameter(
            "inlet_allowable_c", 32.0, "°C", 15.0, 50.0,
            "Rack inlet temperature above which an error is raised (class A1: 32 °C).",
            "ASHRAE TC 9.9 allowable: A1 32, A2 35, A3 40, A4 45 °C",
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
            raise EditError(f"rules.{shown_key(key)}: unknown rule")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise EditError(f"rules.{key}: expected a number, got {shown(value)}")
        number = float(value) if abs(value) < 1e308 else math.inf
        if not math.isfinite(number):
            raise EditError(f"rules.{key}: expected a finite number, got {shown(value)}")
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
