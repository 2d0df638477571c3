"""NetBox devicetype-library YAML files as catalog types.

Owns reading the community's device type definitions
(https://github.com/netbox-community/devicetype-library, ``device-types/<Vendor>/<model>.yaml``)
into :class:`~layout.catalog.SwitchType` entries. YAML is read as plain data only, within
bounds (:func:`layout.bounded_read.read_yaml`: size, nesting, aliases); files are small, so
anything large is refused.

Mapping
    ``manufacturer`` → ``vendor``; ``model`` → ``name``; ``slug`` → ``id``;
    ``u_height`` → ``u``; ``weight`` with ``weight_unit`` (kg, g, lb, oz) →
    ``weight_kg``; the non-management ``interfaces`` counted by speed →
    ``ports`` (the speed read from the interface type: ``400gbase-x-osfp`` is
    400 Gb/s, ``infiniband-ndr`` 400 Gb/s); ``power-ports``' ``maximum_draw``
    (W) summed → ``max_kw``, their ``allocated_draw`` summed → ``kw``.

    A device with at least :data:`MIN_FABRIC_PORTS` interfaces of
    :data:`MIN_FABRIC_GBPS` or more is a switch. Anything else (servers, PDUs,
    management switches) is not a catalog type on its own and is listed as
    skipped.

Nothing is guessed silently. What a file lacks is reported in
:attr:`DeviceTypeImport.missing`, and the type's ``notes`` say it too:

- no ``maximum_draw`` on any power port: the type is **not** imported (the
  power solver would plan for a switch that draws nothing);
- no ``allocated_draw``: ``kw`` is the sum of ``maximum_draw`` (an upper
  bound) and the type is marked ``estimate``;
- no weight: ``weight_kg`` 0, marked ``estimate``;
- no ``u_height``: 1 U, marked ``estimate``;
- only the native port speeds are listed: breakout radices (2 × 400G from one
  800G port) are not in the files and are not invented.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from layout.bounded_read import read_yaml
from layout.catalog import SwitchType, parse_type
from layout.errors import CatalogError, shown, shown_path
from layout.limits import MAX_DEVICETYPE_BYTES

MIN_FABRIC_GBPS = 100.0
MIN_FABRIC_PORTS = 8
WEIGHT_KG = {"kg": 1.0, "g": 0.001, "lb": 0.45359237, "oz": 0.028349523125}
INFINIBAND_GBPS = {
    "sdr": 10.0, "ddr": 20.0, "qdr": 40.0, "fdr10": 40.0, "fdr": 56.0, "edr": 100.0,
    "hdr": 200.0, "ndr": 400.0, "xdr": 800.0,
}  # fmt: skip
_ETHERNET = re.compile(r"^(\d+(?:\.\d+)?)(g|m)base-")
_ID_BAD = re.compile(r"[^a-z0-9._-]+")


class NetboxImportError(CatalogError):
    """A devicetype file cannot be read (not YAML, wrong shape, missing model)."""


@dataclass(frozen=True)
class Missing:
    """A field a devicetype file lacks, and what the import did about it."""

    file: str
    model: str
    field: str
    action: str

    def __str__(self) -> str:
        return f"{self.file} ({self.model}): {self.field}: {self.action}"


@dataclass
class DeviceTypeImport:
    """Catalog types read from devicetype files, with what each file lacked."""

    types: list[SwitchType] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Files not imported, each with the reason (not a switch, no power draw)."""

    def extend(self, other: DeviceTypeImport) -> None:
        self.types.extend(other.types)
        self.missing.extend(other.missing)
        self.skipped.extend(other.skipped)


def interface_speed_gbps(interface_type: str) -> float | None:
    """The speed of a NetBox interface type (``400gbase-x-osfp`` → 400), None if not a data port.

    >>> interface_speed_gbps("800gbase-x-osfp"), interface_speed_gbps("1000base-t")
    (800.0, 1.0)
    """
    text = interface_type.strip().lower()
    if text.startswith("infiniband-"):
        return INFINIBAND_GBPS.get(text.removeprefix("infiniband-"))
    match = _ETHERNET.match(text)
    if match:
        value = float(match[1])
        return value if match[2] == "g" else value / 1000.0
    match = re.match(r"^(\d+)base-", text)  # 1000base-t, 100base-tx: megabits
    if match:
        return float(match[1]) / 1000.0
    return None


def read_devicetypes(paths: Iterable[str | Path]) -> DeviceTypeImport:
    """Read several devicetype files; see :func:`read_devicetype`."""
    result = DeviceTypeImport()
    seen: dict[str, str] = {}
    for path in paths:
        one = read_devicetype(path)
        for t in one.types:
            if t.id in seen:
                raise NetboxImportError(
                    f"{Path(path).name}: slug {t.id!r} is already used by {seen[t.id]}"
                )
            seen[t.id] = Path(path).name
        result.extend(one)
    return result


def read_devicetype(path: str | Path) -> DeviceTypeImport:
    """Read one devicetype-library YAML file.

    Raises
    ------
    NetboxImportError
        The file cannot be read, is not YAML, or is not a device type.
    """
    name = shown_path(Path(path).name)
    data = read_yaml(path, MAX_DEVICETYPE_BYTES, NetboxImportError, what="device type", label=name)
    return parse_devicetype(data, name)


def parse_devicetype(data: Any, name: str) -> DeviceTypeImport:
    """A parsed devicetype document as catalog types; ``name`` names it in messages."""
    if not isinstance(data, Mapping):
        raise NetboxImportError(f"{name}: expected a device type (a mapping), got {shown(data)}")
    model = _text(data, "model", name)
    manufacturer = _text(data, "manufacturer", name)
    result = DeviceTypeImport()

    def lack(field_name: str, action: str) -> None:
        result.missing.append(Missing(name, model, field_name, action))

    speeds = _port_speeds(data, name, model, lack)
    fabric = {s: n for s, n in speeds.items() if s >= MIN_FABRIC_GBPS}
    if sum(fabric.values()) < MIN_FABRIC_PORTS:
        result.skipped.append(
            f"{name} ({model}): {sum(fabric.values())} interfaces of {MIN_FABRIC_GBPS:g}G or "
            f"more; only fabric switches ({MIN_FABRIC_PORTS}+) are imported as catalog types"
        )
        return result
    max_w, allocated_w = _power(data, name)
    if max_w is None:
        lack("power-ports.maximum_draw", "not given; the type is not imported")
        result.skipped.append(f"{name} ({model}): no power draw (power-ports.maximum_draw)")
        return result
    notes: list[str] = []
    estimate = False
    if allocated_w is None:
        lack("power-ports.allocated_draw", "not given; kw is the sum of maximum_draw")
        notes.append("kw is the sum of the power ports' maximum_draw (an upper bound)")
        kw = max_w / 1000.0
        estimate = True
    else:
        kw = allocated_w / 1000.0
    weight = _weight_kg(data, name)
    if weight is None:
        lack("weight", "not given; weight_kg set to 0")
        notes.append("weight not in the devicetype file")
        weight = 0.0
        estimate = True
    u_height = data.get("u_height")
    if not _is_number(u_height) or u_height <= 0:
        lack("u_height", "not given; 1 U assumed")
        notes.append("height not in the devicetype file; 1 U assumed")
        u, estimate = 1, True
    else:
        u = max(1, math.ceil(float(u_height)))
    protocol = "infiniband" if _any_infiniband(data) else "ethernet"
    entry = {
        "id": _type_id(data, manufacturer, model),
        "kind": "switch",
        "name": model,
        "vendor": manufacturer,
        "source": f"NetBox devicetype-library: {name}",
        "estimate": estimate,
        "protocol": protocol,
        "ports": [{"speed_gbps": s, "count": n} for s, n in sorted(fabric.items())],
        "kw": round(kw, 4),
        "max_kw": round(max_w / 1000.0, 4),
        "u": u,
        "weight_kg": round(weight, 3),
    }
    if notes:
        entry["notes"] = "; ".join(notes)
    try:
        result.types.append(parse_type(entry, name))
    except CatalogError as err:
        raise NetboxImportError(str(err)) from None
    return result


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(data: Mapping[str, Any], key: str, name: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        got = "missing" if value is None else f"expected text, got {shown(value)}"
        raise NetboxImportError(f"{name}: {key}: {got}")
    return value.strip()


def _type_id(data: Mapping[str, Any], manufacturer: str, model: str) -> str:
    slug = data.get("slug")
    base = slug if isinstance(slug, str) and slug.strip() else f"{manufacturer}-{model}"
    text = _ID_BAD.sub("-", base.strip().lower()).strip("-._")
    return (text or "netbox-device")[:80]


def _items(data: Mapping[str, Any], key: str, name: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise NetboxImportError(f"{name}: {key}: expected a list, got {shown(value)}")
    for index, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            raise NetboxImportError(
                f"{name}: {key}[{index}]: expected a mapping, got {shown(entry)}"
            )
    return value


def _port_speeds(data: Mapping[str, Any], name: str, model: str, lack: Any) -> dict[float, int]:
    speeds: dict[float, int] = {}
    unknown: set[str] = set()
    for entry in _items(data, "interfaces", name):
        if entry.get("mgmt_only"):
            continue
        kind = entry.get("type")
        if not isinstance(kind, str):
            continue
        speed = interface_speed_gbps(kind)
        if speed is None:
            if kind not in ("virtual", "lag", "bridge"):
                unknown.add(kind)
            continue
        speeds[speed] = speeds.get(speed, 0) + 1
    if unknown:
        lack("interfaces.type", f"speed unknown for {', '.join(sorted(unknown))}; not counted")
    return speeds


def _any_infiniband(data: Mapping[str, Any]) -> bool:
    interfaces = data.get("interfaces") or []
    return any(
        isinstance(i, Mapping) and str(i.get("type", "")).startswith("infiniband-")
        for i in interfaces
    )


def _power(data: Mapping[str, Any], name: str) -> tuple[float | None, float | None]:
    """Sums of the power ports' maximum_draw and allocated_draw (W); None where none gives one."""
    ports = _items(data, "power-ports", name)
    maximum = [p.get("maximum_draw") for p in ports]
    allocated = [p.get("allocated_draw") for p in ports]
    max_w = sum(v for v in maximum if _is_number(v) and v > 0) or None
    allocated_w = sum(v for v in allocated if _is_number(v) and v > 0) or None
    if max_w is not None and allocated_w is not None and allocated_w > max_w:
        allocated_w = max_w
    return max_w, allocated_w


def _weight_kg(data: Mapping[str, Any], name: str) -> float | None:
    weight = data.get("weight")
    if weight is None:
        return None
    if not _is_number(weight) or weight < 0:
        raise NetboxImportError(f"{name}: weight: expected a number ≥ 0, got {shown(weight)}")
    unit = data.get("weight_unit", "kg")
    factor = WEIGHT_KG.get(str(unit).lower())
    if factor is None:
        raise NetboxImportError(
            f"{name}: weight_unit: expected one of {', '.join(WEIGHT_KG)}, got {shown(unit)}"
        )
    return float(weight) * factor
