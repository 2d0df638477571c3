"""The layout as NetBox CSV import files: racks, devices and cables.

Owns writing the three files NetBox's bulk import (Organization → Racks →
Import, Devices → Import, Connections → Cables → Import) reads. The headers
are the import forms' field names (``dcim/forms/bulk_import.py``:
``RackImportForm``, ``DeviceImportForm``, ``CableImportForm``); every
required field is filled.

- ``racks.csv``: one row per GPU rack, network rack and storage rack: ``name`` (the item
  id, unique), ``site``, ``status`` (planned), ``role``, ``width`` (19 in),
  ``u_height``, ``facility_id``, ``description`` (the item's name and
  position on the floor).
- ``devices.csv``: one row per server in a GPU rack, per switch in a network
  rack (the front-end, storage and management networks' roles name their
  network: ``Management leaf switch``) and per appliance in a storage rack:
  ``name`` (``R00001-S01``, ``L00001-SW01``, ``ST00001-A01``), ``role``,
  ``manufacturer``, ``device_type``, ``status``, ``site``, ``rack``,
  ``position`` (lowest U), ``face``.
- ``cables.csv``: one row per link, the GPU fabric's (each bundle of the
  derived fabric expanded) and then the front-end, storage and management
  networks': ``side_a_device``, ``side_a_type`` (``dcim.interface``),
  ``side_a_name``, the same for side B, ``type`` (from the medium's family),
  ``status``, ``label`` (the tier, or the network and its tier:
  ``management: endpoint-leaf``), ``length`` and ``length_unit`` (the
  routed length in metres).

Ports are allocated deterministically, spread the way a rail-optimized
fabric is cabled: the k-th link of a GPU rack uses server ``k mod servers``,
NIC ``k div servers`` (so NIC 1 of every server goes to the same leaf); the
k-th link of a network rack uses switch ``k mod switches``, port ``k div
switches``. A rack's other-network links take the interfaces after its
fabric links. Interface names (``nic1``, ``swp1`` / ``ib1``) and device type
models are this program's: the site, roles, manufacturers, device types and
their interfaces must exist in NetBox under those names before the import
(or rename them here with ``device_types=``).

Power and cooling units are not racks or devices in NetBox's sense and are
left out. Never imports Qt.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from layout.catalog import GpuRackType, NetworkRackType, StorageRackType
from layout.errors import CoherenceError, one_line
from layout.project import Project
from report.bom import ExportError
from report.safe_text import csv_cell

RACK_HEADERS = (
    "name", "site", "status", "role", "width", "u_height", "facility_id", "description",
)  # fmt: skip
DEVICE_HEADERS = (
    "name", "role", "manufacturer", "device_type", "status", "site", "rack", "position", "face",
)  # fmt: skip
CABLE_HEADERS = (
    "side_a_device", "side_a_type", "side_a_name", "side_b_device", "side_b_type", "side_b_name",
    "type", "status", "label", "length", "length_unit",
)  # fmt: skip
CABLE_TYPES = {
    "dac": "dac-passive",
    "acc": "dac-active",
    "aoc": "aoc",
    "mmf": "mmf-om4",
    "smf": "smf-os2",
    "utp": "cat6a",
}
"""NetBox cable types (``CableTypeChoices``) by medium family."""
TIER_ROLES = {"leaf": "Leaf switch", "spine": "Spine switch", "core": "Core switch"}
NETWORK_ROLES = {"frontend": "Front-end", "storage": "Storage", "management": "Management"}
"""Device roles of the other networks' switches lead with the network (``Front-end leaf
switch``); the GPU fabric's keep the tier alone."""
MAX_CABLE_ROWS = 5_000_000
STATUS = "planned"


def write_netbox(
    project: Project,
    folder: str | Path,
    *,
    site: str | None = None,
    device_types: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Write ``racks.csv``, ``devices.csv`` and ``cables.csv`` into ``folder`` (created).

    Parameters
    ----------
    site
        The NetBox site's name (default: the project's name).
    device_types
        Catalog type id → NetBox device type model, replacing the catalog
        name for switches and the ``<GPU> server`` model of GPU racks.

    Returns
    -------
    The paths written, by kind (``racks``, ``devices``, ``cables``).
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ExportError(f"{one_line(str(folder))}: cannot create ({err.strerror})") from None
    site = site or project.name or "Coherence"
    racks, devices, ports = _racks_and_devices(project, site, device_types or {})
    cables = _cables(project, ports)
    paths = {k: folder / f"{k}.csv" for k in ("racks", "devices", "cables")}
    _write(paths["racks"], RACK_HEADERS, racks)
    _write(paths["devices"], DEVICE_HEADERS, devices)
    _write(paths["cables"], CABLE_HEADERS, cables)
    return paths


class _Ports:
    """A rack's devices and the interfaces handed out, in the spread order of the docstring."""

    def __init__(self, devices: list[str], per_device: int, prefix: str) -> None:
        self.devices = devices
        self.per_device = max(per_device, 1)
        self.prefix = prefix
        self.next = 0

    def take(self, count: int) -> tuple[list[str], list[str]]:
        k = np.arange(self.next, self.next + count)
        self.next += count
        n = max(len(self.devices), 1)
        device = [self.devices[i] for i in (k % n).tolist()] if self.devices else [""] * count
        port = [f"{self.prefix}{p}" for p in (k // n + 1).tolist()]
        return device, port


def _racks_and_devices(
    project: Project, site: str, names: Mapping[str, str]
) -> tuple[list[list[Any]], list[list[Any]], dict[int, _Ports]]:
    items = project.items
    catalog = project.catalog
    racks: list[list[Any]] = []
    devices: list[list[Any]] = []
    ports: dict[int, _Ports] = {}
    for row in range(len(items)):
        t = catalog[items.type_ids[row]]
        if not isinstance(t, (GpuRackType, NetworkRackType, StorageRackType)):
            continue
        rack = items.ids[row]
        props = items.properties_at(row)
        where = f"at ({items.x[row]:.2f}, {items.y[row]:.2f}) m"
        label = items.names[row] or rack
        if isinstance(t, GpuRackType):
            role, model, manufacturer = "GPU", names.get(t.id, f"{t.gpu_model} server"), t.vendor
            count, unit = t.servers, t.server_u
            start = 1 + (t.in_rack_cdu.u if t.in_rack_cdu else 0)
            device_role, suffix = "GPU server", "S"
            per_device = t.gpus_per_server * t.nics_per_gpu + t.extra_nics_per_server
            prefix = "nic"
        elif isinstance(t, StorageRackType):
            role, model, manufacturer = "Storage", names.get(t.id, t.name), t.vendor
            count, unit, start = t.appliances, t.appliance_u, 1
            device_role, suffix = "Storage appliance", "A"
            per_device, prefix = max(1, t.nic_ports // t.appliances), "nic"
        else:
            switch = catalog[t.switch]
            role, model, manufacturer = "Network", names.get(switch.id, switch.name), switch.vendor
            held = props.get("switches")
            count = int(held) if isinstance(held, int) and 0 < held <= t.switches else t.switches
            unit, start = switch.u, 1
            device_role = TIER_ROLES.get(str(props.get("tier", "")), "Fabric switch")
            network = props.get("network")
            if network in NETWORK_ROLES:  # the front-end, storage and management networks
                device_role = f"{NETWORK_ROLES[network]} {device_role[:1].lower()}{device_role[1:]}"
            suffix = "SW"
            per_device = max((p.count for p in switch.ports), default=1)
            prefix = "ib" if switch.protocol == "infiniband" else "swp"
        racks.append([rack, site, STATUS, role, 19, t.rack_u, rack, f"{label} {where}"])
        names_here = [f"{rack}-{suffix}{k + 1:02d}" for k in range(count)]
        for k, device in enumerate(names_here):
            devices.append([
                device, device_role, manufacturer or "Unknown", model, STATUS, site, rack,
                start + k * unit, "front",
            ])  # fmt: skip
        ports[row] = _Ports(names_here, per_device, prefix)
    return racks, devices, ports


def _cables(project: Project, ports: dict[int, _Ports]) -> list[list[Any]]:
    from physics.cabling import route
    from physics.fabric import LINK_TIERS

    try:
        result = route(project)
    except CoherenceError as err:
        raise ExportError(f"cannot route the cables: {err}") from None
    if result is None:
        return []
    others = result.others
    total = result.links + (int(others.links.count.sum()) if others is not None else 0)
    if total > MAX_CABLE_ROWS:
        raise ExportError(f"{total:,} links is more than the {MAX_CABLE_ROWS:,} cable rows written")
    rows: list[list[Any]] = []
    for tier in LINK_TIERS:
        bundle, cables = result.bundles[tier], result.tiers[tier]
        labels = np.full(len(bundle.a), tier, dtype=object)
        ends = (bundle.a, bundle.b, bundle.count)
        _bundle_rows(rows, result, ports, ends, (cables.medium, cables.length_m, labels))
    if others is not None:
        links = others.links
        ends = (links.a, links.b, links.count)
        _bundle_rows(rows, result, ports, ends, (others.medium, others.length_m, links.label))
    return rows


def _bundle_rows(
    rows: list[list[Any]],
    result: Any,
    ports: dict[int, _Ports],
    ends: tuple[np.ndarray, np.ndarray, np.ndarray],
    cables: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Append one cable row per link of each bundle: ``ends`` are its rack rows and link
    count, ``cables`` its medium, routed length and label."""
    a_rows, b_rows, counts = ends
    media, lengths, labels = cables
    for k in range(len(a_rows)):
        a, b, count = int(a_rows[k]), int(b_rows[k]), int(counts[k])
        if a not in ports or b not in ports:
            continue
        medium = int(media[k])
        kind = CABLE_TYPES.get(result.media[medium].family, "") if medium >= 0 else ""
        length = round(float(lengths[k]), 2)
        dev_a, port_a = ports[a].take(count)
        dev_b, port_b = ports[b].take(count)
        label = str(labels[k])
        for j in range(count):
            rows.append([
                dev_a[j], "dcim.interface", port_a[j], dev_b[j], "dcim.interface", port_b[j],
                kind, STATUS, label, length, "m",
            ])  # fmt: skip


def _write(path: Path, headers: tuple[str, ...], rows: list[list[Any]]) -> None:
    try:
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(headers)
            # Names and ids come from the project: a spreadsheet opening the file must
            # not run one as a formula.
            writer.writerows([csv_cell(value) for value in row] for row in rows)
    except OSError as err:
        raise ExportError(f"{one_line(str(path))}: cannot write ({err.strerror or err})") from None
