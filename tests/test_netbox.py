"""NetBox interop: devicetype-library YAML imports as switch types, with what it lacks
reported; a layout exports as NetBox CSV import files with the forms' headers.

No Qt here.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from layout.catalog import (
    GpuRackType,
    NetworkRackType,
    StorageRackType,
    SwitchType,
    default_catalog,
)
from layout.generator import ClusterRequest, generate
from layout.netbox import NetboxImportError, interface_speed_gbps, read_devicetype, read_devicetypes
from physics.cabling import route
from report.netbox_export import CABLE_HEADERS, DEVICE_HEADERS, RACK_HEADERS, write_netbox

# Modelled on device-types/NVIDIA/MSN5600.yaml of netbox-community/devicetype-library:
# 64 OSFP cages at 800G, an out-of-band port, two PSUs.
SN5600_YAML = """\
---
manufacturer: NVIDIA
model: MSN5600
slug: nvidia-msn5600
part_number: MSN5600-VS2FC
u_height: 2
is_full_depth: true
airflow: front-to-rear
weight: 14.5
weight_unit: kg
comments: '[Spectrum-4 SN5600](https://www.nvidia.com/en-us/networking/ethernet-switching/)'
console-ports:
  - name: console
    type: rj-45
power-ports:
  - name: PSU1
    type: iec-60320-c20
    maximum_draw: 1500
  - name: PSU2
    type: iec-60320-c20
    maximum_draw: 1500
interfaces:
  - name: mgmt0
    type: 1000base-t
    mgmt_only: true
{ports}
""".format(ports="\n".join(f"  - name: swp{n}\n    type: 800gbase-x-osfp" for n in range(1, 65)))

# Modelled on device-types/Mellanox/MQM9700-NS2F.yaml: 32 twin-port OSFP cages = 64 NDR ports.
QM9700_YAML = """\
manufacturer: Mellanox
model: MQM9700-NS2F
slug: mellanox-mqm9700-ns2f
u_height: 1
weight: 32
weight_unit: lb
power-ports:
  - {{name: PSU1, type: iec-60320-c14, maximum_draw: 1720, allocated_draw: 850}}
  - {{name: PSU2, type: iec-60320-c14, maximum_draw: 1720, allocated_draw: 850}}
interfaces:
  - {{name: mgmt0, type: 1000base-t, mgmt_only: true}}
{ports}
""".format(ports="\n".join(f"  - {{name: IB{n}, type: infiniband-ndr}}" for n in range(1, 65)))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sn5600_imports_with_ports_power_and_what_it_lacks(tmp_path: Path) -> None:
    result = read_devicetype(write(tmp_path, "MSN5600.yaml", SN5600_YAML))
    assert result.skipped == []
    (switch,) = result.types
    assert isinstance(switch, SwitchType)
    assert switch.id == "nvidia-msn5600"
    assert (switch.vendor, switch.name) == ("NVIDIA", "MSN5600")
    assert switch.protocol == "ethernet"
    # 64 ports at 800G; the management port is left out.
    assert [(p.speed_gbps, p.count) for p in switch.ports] == [(800.0, 64)]
    assert switch.radix(800) == 64
    assert switch.u == 2
    assert switch.weight_kg == pytest.approx(14.5)
    # Two 1,500 W inlets: 3 kW at most. No allocated_draw: kw is that upper bound, and said so.
    assert switch.max_kw == pytest.approx(3.0)
    assert switch.kw == pytest.approx(3.0)
    assert switch.estimate
    assert [m.field for m in result.missing] == ["power-ports.allocated_draw"]
    assert "MSN5600.yaml (MSN5600): power-ports.allocated_draw" in str(result.missing[0])
    assert "maximum_draw" in (switch.notes or "")


def test_qm9700_infiniband_with_allocated_draw_and_pounds(tmp_path: Path) -> None:
    result = read_devicetype(write(tmp_path, "MQM9700-NS2F.yaml", QM9700_YAML))
    (switch,) = result.types
    assert switch.protocol == "infiniband"
    assert [(p.speed_gbps, p.count) for p in switch.ports] == [(400.0, 64)]
    assert switch.kw == pytest.approx(1.7)
    assert switch.max_kw == pytest.approx(3.44)
    assert switch.weight_kg == pytest.approx(32 * 0.45359237, abs=0.001)  # rounded to grams
    assert result.missing == []
    assert not switch.estimate
    # The imported type works in a catalog, in a network rack like the bundled QM9700 one.
    bundled = default_catalog()["net-qm9700-24"]
    rack = bundled.model_copy(update={"id": "net-imported-24", "switch": switch.id})
    catalog = default_catalog().overlaid([switch, rack])
    assert isinstance(catalog["net-imported-24"], NetworkRackType)
    assert catalog[catalog["net-imported-24"].switch].radix(400) == 64


def test_missing_power_draw_is_not_guessed(tmp_path: Path) -> None:
    text = SN5600_YAML.replace("    maximum_draw: 1500\n", "").replace("weight: 14.5\n", "")
    result = read_devicetype(write(tmp_path, "nopower.yaml", text))
    assert result.types == []
    assert result.skipped == ["nopower.yaml (MSN5600): no power draw (power-ports.maximum_draw)"]
    assert [m.field for m in result.missing] == ["power-ports.maximum_draw"]
    # Without weight but with power the type comes in, weight 0 and marked as an estimate.
    text = SN5600_YAML.replace("weight: 14.5\n", "")
    result = read_devicetype(write(tmp_path, "noweight.yaml", text))
    (switch,) = result.types
    assert switch.weight_kg == 0.0
    assert switch.estimate
    assert "weight" in [m.field for m in result.missing]


def test_servers_are_skipped_with_a_reason(tmp_path: Path) -> None:
    server = """\
manufacturer: NVIDIA
model: DGX H100
slug: nvidia-dgx-h100
u_height: 8
power-ports: [{name: PSU1, maximum_draw: 3300}]
interfaces:
  - {name: eth0, type: 400gbase-x-osfp}
  - {name: eth1, type: 400gbase-x-osfp}
  - {name: bmc, type: 1000base-t, mgmt_only: true}
"""
    result = read_devicetype(write(tmp_path, "dgx.yaml", server))
    assert result.types == []
    assert "only fabric switches" in result.skipped[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model: [unclosed\n", "bad.yaml: not valid YAML at line"),
        ("- just\n- a list\n", "bad.yaml: expected a device type"),
        ("manufacturer: NVIDIA\n", "bad.yaml: model: missing"),
        ("!!python/object/apply:os.system ['true']\n", "bad.yaml: not valid YAML"),
        (SN5600_YAML.replace("weight_unit: kg", "weight_unit: stone"), "bad.yaml: weight_unit"),
        (SN5600_YAML.replace("interfaces:\n", "interfaces: 5\nx:\n"), "bad.yaml: interfaces"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(NetboxImportError) as err:
        read_devicetype(write(tmp_path, "bad.yaml", text))
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_duplicate_slugs_across_files(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", SN5600_YAML)
    b = write(tmp_path, "b.yaml", SN5600_YAML)
    with pytest.raises(NetboxImportError, match=r"b\.yaml: slug 'nvidia-msn5600' is already used"):
        read_devicetypes([a, b])


def test_interface_speeds() -> None:
    assert interface_speed_gbps("400gbase-x-osfp") == 400
    assert interface_speed_gbps("100gbase-x-qsfp28") == 100
    assert interface_speed_gbps("2.5gbase-t") == 2.5
    assert interface_speed_gbps("1000base-t") == 1
    assert interface_speed_gbps("infiniband-xdr") == 800
    assert interface_speed_gbps("virtual") is None


# -- export -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project():
    return generate(ClusterRequest(gpus=4096))


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def test_netbox_csv_export(project, tmp_path: Path) -> None:
    paths = write_netbox(project, tmp_path / "netbox", site="Memphis")
    headers, racks = read_csv(paths["racks"])
    # RackImportForm's required fields: site, name, status, width.
    assert headers == list(RACK_HEADERS)
    assert {"name", "site", "status", "width"} <= set(headers)
    catalog = project.catalog
    rack_rows = [
        r for r, t in enumerate(project.items.type_ids)
        if isinstance(catalog[t], (GpuRackType, NetworkRackType, StorageRackType))
    ]  # fmt: skip
    assert [r["name"] for r in racks] == [project.items.ids[r] for r in rack_rows]
    assert {r["site"] for r in racks} == {"Memphis"}
    assert {r["status"] for r in racks} == {"planned"}

    headers, devices = read_csv(paths["devices"])
    # DeviceImportForm's required fields: name, role, manufacturer, device_type, status, site.
    assert headers == list(DEVICE_HEADERS)
    expected = 0
    for r in rack_rows:
        t = catalog[project.items.type_ids[r]]
        held = project.items.properties_at(r).get("switches", None)
        if isinstance(t, StorageRackType):
            expected += t.appliances
        else:
            expected += t.servers if isinstance(t, GpuRackType) else (held or t.switches)
    assert len(devices) == expected
    assert len({d["name"] for d in devices}) == len(devices)
    per_rack = Counter(d["rack"] for d in devices)
    assert set(per_rack) == {r["name"] for r in racks}
    assert all(d["manufacturer"] and d["device_type"] and d["role"] for d in devices)
    assert {d["role"] for d in devices} >= {"GPU server", "Leaf switch", "Spine switch"}
    # The other networks' switches name their network; storage racks hold appliances.
    assert {d["role"] for d in devices} >= {
        "Front-end leaf switch", "Front-end spine switch", "Management leaf switch",
        "Storage appliance",
    }  # fmt: skip
    appliances = [d for d in devices if d["role"] == "Storage appliance"]
    assert appliances[0]["name"].endswith("-A01")
    assert [int(d["position"]) for d in appliances[:3]] == [1, 3, 5]  # 2U each

    headers, cables = read_csv(paths["cables"])
    assert headers[:6] == [
        "side_a_device", "side_a_type", "side_a_name",
        "side_b_device", "side_b_type", "side_b_name",
    ]  # fmt: skip
    assert headers == list(CABLE_HEADERS)
    routed = route(project)
    others = routed.others
    assert others is not None
    assert len(cables) == routed.links + int(others.links.count.sum())
    # The other networks' links follow the fabric's, labelled with their network.
    labels = Counter(c["label"] for c in cables)
    assert labels["management: endpoint-leaf"] > 0
    assert labels["frontend: endpoint-leaf"] > 0
    assert labels["frontend: leaf-spine"] > 0
    # At 4,096 GPUs the storage appliances hang off the front-end network.
    cabled = {c["side_a_device"] for c in cables} | {c["side_b_device"] for c in cables}
    assert {d["name"] for d in devices if d["role"] == "Storage appliance"} <= cabled
    names = {d["name"] for d in devices}
    ends = Counter()
    for c in cables:
        assert c["side_a_device"] in names
        assert c["side_b_device"] in names
        assert c["side_a_type"] == c["side_b_type"] == "dcim.interface"
        ends[(c["side_a_device"], c["side_a_name"])] += 1
        ends[(c["side_b_device"], c["side_b_name"])] += 1
        assert float(c["length"]) > 0
        assert c["length_unit"] == "m"
        assert c["type"] in ("dac-passive", "dac-active", "aoc", "mmf-om4", "smf-os2", "cat6a")
    # No interface carries two cables.
    assert max(ends.values()) == 1


def test_netbox_export_to_an_unwritable_place(project, tmp_path: Path) -> None:
    from report.bom import ExportError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="cannot create"):
        write_netbox(project, blocker / "netbox")
