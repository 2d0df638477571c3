"""The equipment catalog: every type a planner can place or a solver can use.

Owns the schema of equipment types (GPU racks, switches, network racks, power
units, cooling units, cable media), their loading from ``assets/catalog/*.yaml``
(plain YAML data only, within bounds: :func:`layout.bounded_read.read_yaml`) and their
validation. A file with a missing or
wrong field is refused with a :class:`~layout.errors.CatalogError` naming the
file, the entry and the field.

Each type carries its public figures and a ``source``; ``estimate: true`` marks
figures that are derived or only secondary. Types are immutable values; a
project embeds the ones it uses so that it opens the same anywhere.

Footprint convention: ``width_m`` runs along x and ``depth_m`` along y at
rotation 0, where the front of the unit faces -y (up on the screen).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import ConfigDict, Field, model_validator

from layout.bounded_read import read_yaml
from layout.errors import CatalogError, describe_validation_error, shown, shown_key, shown_path
from layout.kinds import EQUIPMENT_KINDS
from layout.limits import MAX_CATALOG_FILE_BYTES

CATALOG_DIR = Path(__file__).resolve().parent.parent / "assets" / "catalog"


TypeId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$")]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=1, le=100_000)]


class _Strict(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Footprint(_Strict):
    """Plan size of a unit in metres: width along x, depth along y at rotation 0."""

    width_m: Annotated[float, Field(gt=0, le=100)]
    depth_m: Annotated[float, Field(gt=0, le=100)]


class _TypeBase(_Strict):
    id: TypeId
    name: Annotated[str, Field(min_length=1, max_length=200)]
    source: Annotated[str, Field(min_length=3)]
    vendor: str | None = None
    estimate: bool = False
    notes: str | None = None


class _Placeable(_TypeBase):
    footprint: Footprint
    height_m: Annotated[float, Field(gt=0, le=50)] | None = None
    weight_kg: NonNegative
    service_access: Literal["front_rear", "front", "none"] = "front_rear"
    """Which faces need a clear service aisle (front faces -y at rotation 0)."""
    mounting: Literal["floor", "overhead", "outdoor"] = "floor"
    """Where the unit stands: on the hall floor, overhead (busways; they share no
    floor space) or outdoors in the yard (outside the hall outline)."""


class PortGroup(_Strict):
    """How many ports a switch offers at one speed (its radix at that speed)."""

    speed_gbps: Positive
    count: Count


class WaterRating(_Strict):
    """A CDU's heat capacity at one facility-water supply temperature."""

    water_c: Annotated[float, Field(ge=0, le=80)]
    capacity_kw: Positive


def _sorted_ratings(ratings: list[WaterRating]) -> list[WaterRating]:
    if not ratings:
        raise ValueError("needs at least one rating")
    temps = [r.water_c for r in ratings]
    if temps != sorted(set(temps)):
        raise ValueError("water temperatures must be distinct and ascending")
    return ratings


def capacity_at_water(ratings: list[WaterRating], water_c: float) -> float:
    """CDU capacity at a facility water temperature, interpolated linearly and clamped."""
    temps = [r.water_c for r in ratings]
    caps = [r.capacity_kw for r in ratings]
    if water_c <= temps[0]:
        return caps[0]
    if water_c >= temps[-1]:
        return caps[-1]
    for (t0, c0), (t1, c1) in zip(
        zip(temps, caps, strict=True), zip(temps[1:], caps[1:], strict=True), strict=False
    ):
        if t0 <= water_c <= t1:
            return c0 + (c1 - c0) * (water_c - t0) / (t1 - t0)
    return caps[-1]


class InRackCdu(_Strict):
    """A coolant distribution unit built into a GPU rack."""

    u: Count
    kw: NonNegative
    ratings: list[WaterRating]

    @model_validator(mode="after")
    def _check(self) -> InRackCdu:
        _sorted_ratings(self.ratings)
        return self

    def capacity_kw(self, water_c: float) -> float:
        return capacity_at_water(self.ratings, water_c)


class GpuRackType(_Placeable):
    """A rack of GPU servers. Power per server is the nameplate maximum."""

    kind: Literal["gpu_rack"]
    gpu_model: Annotated[str, Field(min_length=1)]
    servers: Count
    gpus_per_server: Count
    server_kw: Positive
    server_u: Count
    rack_u: Count
    nic_speed_gbps: Positive
    nics_per_gpu: Count = 1
    extra_nics_per_server: Annotated[int, Field(ge=0, le=64)] = 0
    """Front-end (north-south) NIC ports per server, at ``frontend_nic_speed_gbps``."""
    frontend_nic_speed_gbps: Positive | None = None
    """None: the compute NIC speed."""
    storage_nics_per_server: Annotated[int, Field(ge=0, le=64)] = 0
    storage_nic_speed_gbps: Positive | None = None
    """None: the compute NIC speed."""
    management_ports_per_server: Annotated[int, Field(ge=0, le=8)] = 1
    """Out-of-band management (BMC) ports per server, 1 GbE."""
    scale_up_gpus: Count | None = None
    """GPUs in one NVLink (scale-up) domain; None: one server's GPUs. 72 for an NVL72 rack."""
    other_kw: NonNegative = 0.0
    liquid_fraction: Fraction
    in_rack_cdu: InRackCdu | None = None

    @property
    def gpus(self) -> int:
        return self.servers * self.gpus_per_server

    @property
    def it_kw(self) -> float:
        """Nameplate power of the rack: servers, in-rack CDU and anything else in it."""
        cdu_kw = self.in_rack_cdu.kw if self.in_rack_cdu else 0.0
        return self.servers * self.server_kw + cdu_kw + self.other_kw

    @model_validator(mode="after")
    def _fits(self) -> GpuRackType:
        used = self.servers * self.server_u + (self.in_rack_cdu.u if self.in_rack_cdu else 0)
        if used > self.rack_u:
            raise ValueError(f"{used} U of servers and CDU do not fit in {self.rack_u} U")
        return self


class SwitchType(_TypeBase):
    """A network switch; a component installed in network racks, not placed alone."""

    kind: Literal["switch"]
    protocol: Literal["ethernet", "infiniband"]
    ports: list[PortGroup]
    kw: Positive
    max_kw: Positive | None = None
    u: Count
    weight_kg: NonNegative
    latency_ns: Positive | None = None
    """Port-to-port latency of one hop through the switch; None: the project rule
    ``per_hop_latency_ns``."""
    fixed_ports: bool = False
    """True: every port group is there at once, each within its own count (48 × 1G copper
    and 4 × 100G uplinks); False: the groups are splits of the same cages, and ports used
    at several speeds must keep sum(n_s / radix(s)) <= 1."""

    @model_validator(mode="after")
    def _check(self) -> SwitchType:
        if not self.ports:
            raise ValueError("needs at least one port group")
        speeds = [p.speed_gbps for p in self.ports]
        if len(set(speeds)) != len(speeds):
            raise ValueError("port speeds must be distinct")
        return self

    def radix(self, speed_gbps: float) -> int:
        """Ports at ``speed_gbps`` (the switch's radix at that speed); 0 when unsupported."""
        for group in self.ports:
            if math.isclose(group.speed_gbps, speed_gbps):
                return group.count
        return 0


class NetworkRackType(_Placeable):
    """A rack holding switches of one type."""

    kind: Literal["network_rack"]
    switch: TypeId
    switches: Count
    rack_u: Count
    other_kw: NonNegative = 0.0


PowerRole = Literal[
    "busway", "rpp", "pdu", "transformer", "switchgear", "ups",
    "generator", "turbine", "battery", "grid_feed",
]  # fmt: skip


class PowerUnitType(_Placeable):
    """A unit of the power chain. ``capacity_kw`` is the continuous rating before derating.

    When ``capacity_kw`` is omitted it is computed from the three-phase rating
    ``voltage_v`` x ``current_a`` x sqrt(3) x ``power_factor``.
    """

    kind: Literal["power"]
    role: PowerRole
    capacity_kw: Positive | None = None
    voltage_v: Positive | None = None
    current_a: Positive | None = None
    phases: Literal[1, 3] = 3
    power_factor: Annotated[float, Field(gt=0, le=1)] = 1.0
    efficiency: Annotated[float, Field(gt=0, le=1)] = 1.0
    energy_kwh: Positive | None = None
    rated_100_percent: bool = False
    """Continuous-load gear (breakers, switchgear, busways, panels) listed for 100 % of its
    rating under continuous load; without it the continuous-load rule (80 %) applies."""

    @property
    def rating_kva(self) -> float:
        """Apparent-power rating: ``capacity_kw`` is the kW at ``power_factor`` (a 2,500 kVA
        transformer states 2,250 kW at 0.9)."""
        return float(self.capacity_kw or 0.0) / self.power_factor

    @model_validator(mode="after")
    def _capacity(self) -> PowerUnitType:
        if self.capacity_kw is None:
            if self.voltage_v is None or self.current_a is None:
                raise ValueError("needs capacity_kw, or voltage_v and current_a")
            factor = math.sqrt(3) if self.phases == 3 else 1.0
            kw = self.voltage_v * self.current_a * factor * self.power_factor / 1000.0
            if not math.isfinite(kw) or kw > 1e9:
                raise ValueError("voltage_v × current_a gives no sensible capacity")
            object.__setattr__(self, "capacity_kw", round(kw, 3))
        if self.role == "battery" and self.energy_kwh is None:
            raise ValueError("a battery needs energy_kwh")
        return self


CoolingRole = Literal["cdu", "crah", "chiller", "cooling_tower", "dry_cooler"]


class CoolingUnitType(_Placeable):
    """A unit of the cooling chain. ``kw`` is the power it draws itself."""

    kind: Literal["cooling"]
    role: CoolingRole
    capacity_kw: Positive
    kw: NonNegative
    ratings: list[WaterRating] | None = None
    airflow_m3s: Positive | None = None

    @model_validator(mode="after")
    def _check(self) -> CoolingUnitType:
        if self.ratings is not None:
            _sorted_ratings(self.ratings)
        return self

    def capacity_at(self, water_c: float) -> float:
        """Heat capacity at a facility-water temperature (the nominal one without ratings)."""
        return capacity_at_water(self.ratings, water_c) if self.ratings else self.capacity_kw


class MediumType(_TypeBase):
    """A cable medium. Either fixed ``stock_lengths_m`` or cut-to-length in ``stock_step_m``."""

    kind: Literal["medium"]
    family: Literal["dac", "acc", "aoc", "mmf", "smf", "utp"]
    """``utp``: twisted-pair copper (Cat6A) for 1 GbE, such as BMC ports."""
    speeds_gbps: list[Positive]
    reach_m: Positive
    stock_lengths_m: list[Positive] | None = None
    stock_step_m: Positive | None = None
    diameter_mm: Positive
    cost_usd: NonNegative
    cost_per_m_usd: NonNegative = 0.0
    ns_per_m: Positive

    @model_validator(mode="after")
    def _stock(self) -> MediumType:
        if not self.speeds_gbps:
            raise ValueError("needs at least one speed")
        if (self.stock_lengths_m is None) == (self.stock_step_m is None):
            raise ValueError("needs exactly one of stock_lengths_m and stock_step_m")
        if self.stock_lengths_m is not None:
            lengths = self.stock_lengths_m
            if not lengths or lengths != sorted(set(lengths)):
                raise ValueError("stock_lengths_m must be distinct and ascending")
            if lengths[-1] > self.reach_m + 1e-9:
                raise ValueError("a stock length is longer than the reach")
        return self


class StorageRackType(_Placeable):
    """A rack of storage appliances (all-flash, parallel file system) on a network.

    ``nic_ports`` at ``nic_speed_gbps`` join the storage network (or the front-end
    network where the servers have no storage NICs); ``management_ports`` (1 GbE)
    join the out-of-band management network.
    """

    kind: Literal["storage_rack"]
    appliances: Count
    appliance_u: Count = 2
    kw: Positive
    """Loaded draw of the whole rack (appliances and anything else in it)."""
    rack_u: Count
    nic_ports: Count
    nic_speed_gbps: Positive
    management_ports: Annotated[int, Field(ge=0, le=1_000)] = 0
    usable_capacity_tb: Positive
    read_gbytes_s: Positive
    """Sustained read bandwidth of the rack, GB/s."""


EquipmentType = Annotated[
    GpuRackType | SwitchType | NetworkRackType | PowerUnitType | CoolingUnitType | MediumType
    | StorageRackType,
    Field(discriminator="kind"),
]
PlaceableType = GpuRackType | NetworkRackType | PowerUnitType | CoolingUnitType | StorageRackType
PLACEABLE_KINDS = tuple(EQUIPMENT_KINDS)
"""Kinds a planner can place, in listing order (their names, titles and looks:
:mod:`layout.kinds`)."""
KINDS = (*PLACEABLE_KINDS, "switch", "medium")

_type_adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(EquipmentType)


def parse_type(data: Any, where: str) -> Any:
    """Validate one catalog entry; ``where`` prefixes the error (``file: types[3] (id)``)."""
    if not isinstance(data, Mapping):
        raise CatalogError(f"{where}: expected an object, got {type(data).__name__}")
    kind = data.get("kind")
    if kind is None:
        raise CatalogError(f"{where}.kind: missing")
    if kind not in KINDS:
        got = shown(kind)
        raise CatalogError(f"{where}.kind: expected one of {', '.join(KINDS)}, got {got}")
    try:
        return _type_adapter.validate_python(data)
    except pydantic.ValidationError as err:
        raise CatalogError(describe_validation_error(err, where, skip_tags=KINDS)) from None


class _ReferenceError(CatalogError):
    """A type refers to a type the catalog lacks; the loader adds where it was defined."""

    def __init__(self, type_id: str, field: str, detail: str) -> None:
        super().__init__(f"{type_id}.{field}: {detail}")
        self.type_id, self.field, self.detail = type_id, field, detail


class Catalog(Mapping[str, Any]):
    """An immutable collection of equipment types by id, checked for consistency."""

    def __init__(self, types: Iterable[Any] = ()) -> None:
        self._types: dict[str, Any] = {}
        for t in types:
            if t.id in self._types:
                raise CatalogError(f"duplicate type id {t.id!r}")
            self._types[t.id] = t
        self._check_references()

    def _check_references(self) -> None:
        for t in self._types.values():
            if isinstance(t, NetworkRackType):
                switch = self._types.get(t.switch)
                if not isinstance(switch, SwitchType):
                    raise _ReferenceError(
                        t.id, "switch", f"no switch type {t.switch!r} in the catalog"
                    )

    def __getitem__(self, type_id: str) -> Any:
        try:
            return self._types[type_id]
        except KeyError:
            raise CatalogError(f"unknown equipment type {type_id!r}") from None

    def get(self, type_id: str, default: Any = None) -> Any:
        return self._types.get(type_id, default)

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._types

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def of_kind(self, kind: str) -> list[Any]:
        """Types of one kind, in catalog order."""
        return [t for t in self._types.values() if t.kind == kind]

    def closure(self, type_ids: Iterable[str]) -> Catalog:
        """A catalog of these types plus the types they refer to (switches of network racks)."""
        wanted: dict[str, Any] = {}
        for type_id in type_ids:
            t = self[type_id]
            wanted[t.id] = t
            if isinstance(t, NetworkRackType):
                wanted[t.switch] = self[t.switch]
        return Catalog(wanted[k] for k in sorted(wanted))

    def overlaid(self, other: Iterable[Any]) -> Catalog:
        """A catalog with ``other``'s types added, replacing types of the same id.

        A project's embedded types overlay the bundled catalog, so a project
        keeps the figures it was planned with after the bundled catalog changes.
        """
        types = dict(self._types)
        types.update((t.id, t) for t in other)
        return Catalog(types.values())

    def to_data(self) -> list[dict[str, Any]]:
        """Plain data for saving, sorted by id, without fields left at their defaults."""
        rows = []
        for key in sorted(self._types):
            t = self._types[key]
            rows.append(
                {"id": t.id, "kind": t.kind} | t.model_dump(mode="json", exclude_defaults=True)
            )
        return rows


def load_catalog_file(path: Path) -> list[Any]:
    """Types in one catalog YAML file (``types:`` list); errors name the file and entry."""
    name = shown_path(path.name)
    data = read_yaml(path, MAX_CATALOG_FILE_BYTES, CatalogError, what="catalog file", label=name)
    if not isinstance(data, dict) or not isinstance(data.get("types"), list):
        raise CatalogError(f"{name}: expected a mapping with a 'types' list")
    extra = set(data) - {"types", "description"}
    if extra:
        field_name = shown_key(sorted(map(str, extra))[0])
        raise CatalogError(f"{name}: unknown top-level field {field_name!r}")
    types = []
    for index, entry in enumerate(data["types"]):
        label = entry.get("id") if isinstance(entry, dict) else None
        where = f"{name}: types[{index}]" + (f" ({label})" if isinstance(label, str) else "")
        types.append(parse_type(entry, where))
    return types


def load_catalog(directory: Path = CATALOG_DIR) -> Catalog:
    """Every ``*.yaml`` file in ``directory`` as one catalog (ids unique across files)."""
    types: list[Any] = []
    where: dict[str, str] = {}
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise CatalogError(f"{directory}: no catalog files")
    for path in paths:
        for index, t in enumerate(load_catalog_file(path)):
            place = f"{path.name}: types[{index}] ({t.id})"
            if t.id in where:
                raise CatalogError(f"{place}.id: already defined at {where[t.id]}")
            where[t.id] = place
            types.append(t)
    try:
        return Catalog(types)
    except _ReferenceError as err:
        raise CatalogError(f"{where[err.type_id]}.{err.field}: {err.detail}") from None


_default: Catalog | None = None


def default_catalog() -> Catalog:
    """The bundled catalog, loaded once."""
    global _default  # noqa: PLW0603 - a process-wide cache of immutable data
    if _default is None:
        _default = load_catalog()
    return _default
