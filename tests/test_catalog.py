"""The bundled equipment catalog and the catalog loader's handling of bad files.

The first half checks that ``assets/catalog/*.yaml`` loads and that its key
figures match their public sources (datasheets, user guides, standards). The
second half writes broken catalog files into a temporary directory and checks
that each is refused with a :class:`CatalogError` naming the file, the entry
and the field.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from layout.catalog import (
    KINDS,
    Catalog,
    GpuRackType,
    MediumType,
    load_catalog,
    parse_type,
)
from layout.errors import CatalogError

# --------------------------------------------------------------------------
# The bundled catalog
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_bundled_catalog_loads_with_every_kind(catalog: Catalog) -> None:
    for kind in KINDS:
        assert catalog.of_kind(kind), f"no {kind} in the bundled catalog"


def test_every_entry_has_a_source_and_estimates_say_how(catalog: Catalog) -> None:
    for t in catalog.values():
        assert t.source.strip(), t.id
        assert t.vendor, t.id
        if t.estimate:
            assert t.notes, f"{t.id} is an estimate without notes"
            assert t.notes.strip(), f"{t.id} is an estimate without notes"


def test_bundled_types_survive_embedding_in_a_project(catalog: Catalog) -> None:
    # A project embeds the types it uses as plain data; they must parse back identical.
    for data in catalog.to_data():
        assert parse_type(data, f"embedded {data['id']}") == catalog[data["id"]]


# --- GPU racks -------------------------------------------------------------


def test_colossus_rack_matches_the_public_tour(catalog: Catalog) -> None:
    rack = catalog["colossus-hgx-h100-lc"]
    assert isinstance(rack, GpuRackType)
    assert (rack.servers, rack.gpus_per_server, rack.server_u) == (8, 8, 4)
    assert rack.gpus == 64
    assert rack.gpu_model.startswith("H100")
    # 400 GbE per GPU plus one more per server: 3.6 Tb/s per server.
    per_server = rack.gpus_per_server * rack.nics_per_gpu + rack.extra_nics_per_server
    assert per_server * rack.nic_speed_gbps == 3600
    # 8 racks make one array of 512 GPUs.
    assert 8 * rack.gpus == 512
    assert rack.estimate
    assert 0.6 <= rack.liquid_fraction <= 0.9


def test_colossus_in_rack_cdu_ratings(catalog: Catalog) -> None:
    cdu = catalog["colossus-hgx-h100-lc"].in_rack_cdu
    assert cdu is not None
    assert cdu.u == 4
    assert cdu.capacity_kw(32) == pytest.approx(100)
    assert cdu.capacity_kw(40) == pytest.approx(60)
    assert cdu.capacity_kw(36) == pytest.approx(80)
    # Clamped outside the published ratings.
    assert cdu.capacity_kw(20) == pytest.approx(100)
    assert cdu.capacity_kw(45) == pytest.approx(60)


def test_dgx_racks_match_the_user_guides(catalog: Catalog) -> None:
    h100 = catalog["dgx-h100-air-4"]
    assert (h100.servers, h100.server_u, h100.gpus) == (4, 8, 32)
    assert h100.servers * h100.server_kw == pytest.approx(40.8)
    assert h100.liquid_fraction == 0
    assert h100.in_rack_cdu is None

    h200 = catalog["dgx-h200-air-4"]
    assert h200.server_kw == pytest.approx(10.2)
    assert h200.estimate

    b200 = catalog["dgx-b200-air-4"]
    assert (b200.servers, b200.server_u, b200.gpus) == (4, 10, 32)
    assert b200.server_kw == pytest.approx(14.3)
    assert b200.servers * b200.server_u <= b200.rack_u


def test_gb200_nvl72_matches_the_user_guide(catalog: Catalog) -> None:
    rack = catalog["gb200-nvl72"]
    assert rack.gpus == 72
    assert rack.servers == 18
    assert rack.it_kw == pytest.approx(120)
    assert rack.other_kw > 0  # the 9 NVLink switch trays
    assert rack.weight_kg == pytest.approx(1360)
    assert rack.estimate


def test_gpu_racks_fit_their_racks(catalog: Catalog) -> None:
    for rack in catalog.of_kind("gpu_rack"):
        cdu_u = rack.in_rack_cdu.u if rack.in_rack_cdu else 0
        assert rack.servers * rack.server_u + cdu_u <= rack.rack_u, rack.id
        assert rack.footprint.width_m == pytest.approx(0.6)
        assert rack.footprint.depth_m == pytest.approx(1.2)


# --- switches and network racks -------------------------------------------


def test_switch_radix_matches_the_datasheets(catalog: Catalog) -> None:
    sn5600 = catalog["sn5600"]
    assert sn5600.protocol == "ethernet"
    assert (sn5600.radix(800), sn5600.radix(400), sn5600.radix(200)) == (64, 128, 256)
    assert sn5600.u == 2

    qm9700 = catalog["qm9700"]
    assert qm9700.protocol == "infiniband"
    assert qm9700.radix(400) == 64
    assert qm9700.radix(800) == 0
    assert qm9700.u == 1

    q3400 = catalog["q3400"]
    assert q3400.radix(800) == 144
    assert q3400.u == 4
    assert q3400.max_kw == pytest.approx(8 * 0.875)


def test_switch_power_within_its_maximum(catalog: Catalog) -> None:
    for switch in catalog.of_kind("switch"):
        if switch.max_kw is not None:
            assert switch.kw <= switch.max_kw, switch.id


def test_network_racks_hold_their_switches(catalog: Catalog) -> None:
    racks = catalog.of_kind("network_rack")
    assert {r.switch for r in racks} == {"sn5600", "qm9700", "q3400", "sn5400", "sn2201"}
    for rack in racks:
        switch = catalog[rack.switch]
        assert switch.kind == "switch"
        # Switches leave room in the rack for patching and cable management.
        assert rack.switches * switch.u < rack.rack_u, rack.id
        assert rack.service_access == "front_rear"
        assert rack.mounting == "floor"


# --- power -----------------------------------------------------------------


def test_busway_capacity_is_computed_from_voltage_and_current(catalog: Catalog) -> None:
    for type_id, amps, kva, kva_80 in (
        ("busway-415v-60a", 60, 43.1, 34.5),
        ("busway-415v-100a", 100, 71.9, 57.5),
    ):
        busway = catalog[type_id]
        assert busway.role == "busway"
        assert (busway.voltage_v, busway.current_a, busway.phases) == (415, amps, 3)
        assert busway.capacity_kw == pytest.approx(415 * amps * math.sqrt(3) / 1000, abs=1e-3)
        assert busway.capacity_kw == pytest.approx(kva, abs=0.05)
        assert 0.8 * busway.capacity_kw == pytest.approx(kva_80, abs=0.05)


def test_power_units_match_the_references(catalog: Catalog) -> None:
    assert catalog["pdu-450kw"].capacity_kw == pytest.approx(450)
    assert catalog["switchgear-1600kw"].capacity_kw == pytest.approx(1600)
    assert catalog["turbine-gas-2500kw"].capacity_kw == pytest.approx(2500)
    assert catalog["grid-feed-150mw"].capacity_kw == pytest.approx(150_000)
    megapack = catalog["battery-megapack"]
    assert megapack.energy_kwh == pytest.approx(3900)
    assert megapack.capacity_kw == pytest.approx(1900)
    assert megapack.estimate
    roles = {u.role for u in catalog.of_kind("power")}
    assert roles >= {
        "busway", "rpp", "pdu", "transformer", "switchgear", "ups", "turbine",
        "battery", "grid_feed",
    }  # fmt: skip


def test_units_outside_the_white_space_need_no_service_aisles(catalog: Catalog) -> None:
    outdoor = ("turbine", "battery", "grid_feed", "transformer", "switchgear")
    for unit in catalog.of_kind("power"):
        if unit.role in outdoor:
            assert unit.service_access == "none", unit.id
            assert unit.mounting == "outdoor", unit.id
        if unit.role == "busway":
            assert unit.mounting == "overhead", unit.id


# --- cooling ---------------------------------------------------------------


def test_crah_airflow_follows_the_heat_equation(catalog: Catalog) -> None:
    crah = catalog["crah-150kw"]
    rho, cp, delta_t = 1.2, 1005.0, 11.0
    expected = crah.capacity_kw * 1000 / (rho * cp * delta_t)
    assert crah.airflow_m3s == pytest.approx(expected, rel=0.01)
    assert crah.airflow_m3s / crah.capacity_kw == pytest.approx(0.075, rel=0.01)


def test_cdus_derate_with_warmer_water(catalog: Catalog) -> None:
    cdus = [u for u in catalog.of_kind("cooling") if u.role == "cdu"]
    assert any(50 <= u.capacity_kw <= 200 for u in cdus), "no in-row CDU of 50–200 kW"
    assert any(1500 <= u.capacity_kw <= 2600 for u in cdus), "no platform-scale CDU"
    for cdu in cdus:
        assert cdu.ratings, cdu.id
        assert cdu.capacity_at(32) == pytest.approx(cdu.capacity_kw)
        assert cdu.capacity_at(40) < cdu.capacity_at(32)


def test_cooling_units_draw_less_than_they_move(catalog: Catalog) -> None:
    roles = set()
    for unit in catalog.of_kind("cooling"):
        roles.add(unit.role)
        assert 0 < unit.kw < 0.25 * unit.capacity_kw, unit.id
    assert roles == {"cdu", "crah", "chiller", "cooling_tower", "dry_cooler"}
    chiller = catalog["chiller-wc-1500kw"]
    assert 5 <= chiller.capacity_kw / chiller.kw <= 6  # COP


# --- cable media -----------------------------------------------------------

# Cheapest first at equal length; reach grows the same way.
FAMILY_ORDER = ("dac", "acc", "aoc", "mmf", "dr", "fr", "lr")
REACH_M = {"dac": 2, "acc": 5, "aoc": 30, "mmf": 50, "dr": 500, "fr": 2000, "lr": 10_000}
SPEEDS_GBPS = (200, 400, 800)


def _family(medium: MediumType) -> str:
    """The medium's family, with single-mode split by optics class (DR, FR, LR)."""
    if medium.family != "smf":
        return medium.family
    for optics in ("dr", "fr", "lr"):
        if f"{optics}4" in medium.id or f"{optics}8" in medium.id:
            return optics
    raise AssertionError(f"single-mode medium {medium.id} is not DR, FR or LR")


def _link_cost(medium: MediumType, length_m: float) -> float | None:
    """Cost of one link of ``length_m`` in this medium, or None when out of reach."""
    if length_m > medium.reach_m:
        return None
    if medium.stock_lengths_m is not None:
        cut = next(s for s in medium.stock_lengths_m if s >= length_m)
    else:
        cut = math.ceil(length_m / medium.stock_step_m) * medium.stock_step_m
    return medium.cost_usd + medium.cost_per_m_usd * cut


def _fabric_media(catalog: Catalog) -> list[MediumType]:
    """Media at the GPU fabric's speeds (the other networks' 1G and 100G media apart)."""
    return [m for m in catalog.of_kind("medium") if set(m.speeds_gbps) & set(SPEEDS_GBPS)]


def test_media_reach_matches_the_references(catalog: Catalog) -> None:
    media = _fabric_media(catalog)
    for medium in media:
        assert medium.reach_m == REACH_M[_family(medium)], medium.id
    for speed in SPEEDS_GBPS:
        families = {_family(m) for m in media if speed in m.speeds_gbps}
        assert families == set(FAMILY_ORDER), f"{speed}G lacks {set(FAMILY_ORDER) - families}"


def test_media_stock_lengths_and_propagation(catalog: Catalog) -> None:
    for medium in _fabric_media(catalog):
        family = _family(medium)
        if family == "dac":
            assert medium.stock_lengths_m == [0.5, 1, 1.5, 2]
        elif family == "acc":
            assert medium.stock_lengths_m == [4, 5]
        elif family == "aoc":
            assert medium.stock_lengths_m == [3, 5, 10, 15, 20, 30]
        else:
            assert medium.stock_step_m == 1, medium.id
        copper = family in ("dac", "acc")
        assert medium.ns_per_m == pytest.approx(4.5 if copper else 4.9), medium.id


def test_other_networks_media_match_the_references(catalog: Catalog) -> None:
    # 1000BASE-T: 100 m over Cat6A; 100GBASE-SR4: 100 m on OM4; CWDM4: 2 km.
    reach = {m.id: (m.family, m.speeds_gbps, m.reach_m) for m in catalog.of_kind("medium")
             if not set(m.speeds_gbps) & set(SPEEDS_GBPS)}  # fmt: skip
    assert reach == {
        "utp-cat6a-1g": ("utp", [1.0], 100.0),
        "mmf-sr4-100g": ("mmf", [100.0], 100.0),
        "smf-cwdm4-100g": ("smf", [100.0], 2000.0),
    }


def test_media_costs_rise_with_reach_at_equal_length(catalog: Catalog) -> None:
    media = catalog.of_kind("medium")
    lengths = [0.5, 1, 2, 3, 4.5, 5, 8, 20, 30, 31, 50, 120, 500, 501, 1500, 2000, 9000, 10_000]
    for speed in SPEEDS_GBPS:
        ranked = sorted(
            (m for m in media if speed in m.speeds_gbps),
            key=lambda m: FAMILY_ORDER.index(_family(m)),
        )
        for length in lengths:
            costs = [(m.id, c) for m in ranked if (c := _link_cost(m, length)) is not None]
            assert costs, f"no {speed}G medium reaches {length} m"
            values = [c for _, c in costs]
            assert values == sorted(values), f"{speed}G at {length} m: {costs}"
            assert len(set(values)) == len(values), f"{speed}G at {length} m: {costs}"


# --------------------------------------------------------------------------
# Bad catalog files
# --------------------------------------------------------------------------

SWITCH: dict[str, Any] = {
    "id": "sw-a",
    "kind": "switch",
    "name": "Switch A",
    "source": "a datasheet",
    "protocol": "ethernet",
    "ports": [{"speed_gbps": 400, "count": 64}],
    "kw": 1.5,
    "u": 1,
    "weight_kg": 15,
}

RACK: dict[str, Any] = {
    "id": "rack-b",
    "kind": "gpu_rack",
    "name": "Rack B",
    "source": "a user guide",
    "footprint": {"width_m": 0.6, "depth_m": 1.2},
    "weight_kg": 700,
    "gpu_model": "H100 SXM",
    "servers": 4,
    "gpus_per_server": 8,
    "server_kw": 10.2,
    "server_u": 8,
    "rack_u": 48,
    "nic_speed_gbps": 400,
    "liquid_fraction": 0,
}

PDU: dict[str, Any] = {
    "id": "pdu-c",
    "kind": "power",
    "role": "pdu",
    "name": "PDU C",
    "source": "an example",
    "footprint": {"width_m": 1.6, "depth_m": 1.0},
    "weight_kg": 2000,
    "capacity_kw": 450,
}

NETWORK_RACK: dict[str, Any] = {
    "id": "net-d",
    "kind": "network_rack",
    "name": "Network rack D",
    "source": "a design",
    "footprint": {"width_m": 0.8, "depth_m": 1.2},
    "weight_kg": 600,
    "switch": "sw-a",
    "switches": 16,
    "rack_u": 48,
}


def _write(directory: Path, name: str, types: list[Any]) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump({"description": "test", "types": types}, sort_keys=False))
    return path


def _refused(directory: Path) -> str:
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    return str(info.value)


def test_the_valid_baseline_loads(tmp_path: Path) -> None:
    # Every bad case below breaks exactly one thing in these entries.
    _write(tmp_path, "good.yaml", [SWITCH, RACK, PDU, NETWORK_RACK])
    loaded = load_catalog(tmp_path)
    assert sorted(loaded) == ["net-d", "pdu-c", "rack-b", "sw-a"]


def _without(entry: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != field}


@pytest.mark.parametrize(
    ("entry", "field", "fragments"),
    [
        pytest.param(_without(RACK, "server_kw"), "server_kw", ["missing"], id="missing"),
        pytest.param(
            {**RACK, "servers": "eight"}, "servers", ["whole number", '"eight"'], id="wrong-type"
        ),
        pytest.param({**RACK, "servers": 4.5}, "servers", ["whole number", "4.5"], id="fraction"),
        pytest.param({**RACK, "colour": "red"}, "colour", ["unknown field"], id="unknown-field"),
        pytest.param({**RACK, "kind": "gpu"}, "kind", ["gpu_rack", "gpu"], id="unknown-kind"),
        pytest.param(
            {**RACK, "footprint": {"width_m": "0.6", "depth_m": 1.2}},
            "footprint.width_m",
            ["expected a number", '"0.6"'],
            id="string-for-number",
        ),
        pytest.param(
            {**RACK, "liquid_fraction": 1.5}, "liquid_fraction", ["1.5"], id="fraction-above-one"
        ),
        pytest.param(
            {**PDU, "id": "rack-b", "capacity_kw": -5}, "capacity_kw", ["-5"], id="negative"
        ),
        pytest.param({**PDU, "id": "rack-b", "capacity_kw": 0}, "capacity_kw", ["> 0"], id="zero"),
    ],
)
def test_bad_entry_names_file_entry_and_field(
    tmp_path: Path, entry: dict[str, Any], field: str, fragments: list[str]
) -> None:
    _write(tmp_path, "a_good.yaml", [PDU])
    _write(tmp_path, "bad.yaml", [SWITCH, entry])
    message = _refused(tmp_path)
    assert message.startswith("bad.yaml: types[1] (rack-b)"), message
    assert f".{field}:" in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_nan_is_refused(tmp_path: Path) -> None:
    text = yaml.safe_dump({"types": [SWITCH, PDU]}, sort_keys=False)
    text = text.replace("capacity_kw: 450", "capacity_kw: .nan")
    assert ".nan" in text
    (tmp_path / "nan.yaml").write_text(text)
    message = _refused(tmp_path)
    assert message.startswith("nan.yaml: types[1] (pdu-c).capacity_kw:"), message
    assert "finite" in message


def test_negative_cdu_rating_names_the_nested_field(tmp_path: Path) -> None:
    rack = copy.deepcopy(RACK)
    rack["in_rack_cdu"] = {
        "u": 4,
        "kw": 1.0,
        "ratings": [{"water_c": 32, "capacity_kw": 100}, {"water_c": 40, "capacity_kw": -60}],
    }
    _write(tmp_path, "cdu.yaml", [rack])
    message = _refused(tmp_path)
    assert message.startswith("cdu.yaml: types[0] (rack-b).in_rack_cdu.ratings[1].capacity_kw:")
    assert "-60" in message


def test_rack_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "full.yaml", [{**RACK, "servers": 7}])
    message = _refused(tmp_path)
    assert message.startswith("full.yaml: types[0] (rack-b):"), message
    assert "56 U" in message
    assert "48 U" in message


def test_unknown_kind_without_id_names_the_index(tmp_path: Path) -> None:
    _write(tmp_path, "kinds.yaml", [SWITCH, {"kind": "toaster"}])
    message = _refused(tmp_path)
    assert message.startswith("kinds.yaml: types[1].kind:"), message
    assert "toaster" in message


def test_duplicate_ids_across_files_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "one.yaml", [SWITCH])
    _write(tmp_path, "two.yaml", [PDU, {**SWITCH, "name": "Switch A again"}])
    message = _refused(tmp_path)
    assert "(sw-a).id" in message
    assert "already defined" in message


def test_duplicate_id_message_names_both_files(tmp_path: Path) -> None:
    _write(tmp_path, "one.yaml", [SWITCH])
    _write(tmp_path, "two.yaml", [PDU, {**SWITCH, "name": "Switch A again"}])
    message = _refused(tmp_path)
    assert "one.yaml" in message
    assert "two.yaml" in message
    assert "types[1]" in message


def test_network_rack_with_unknown_switch_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "net.yaml", [SWITCH, {**NETWORK_RACK, "switch": "sw-missing"}])
    message = _refused(tmp_path)
    assert "net-d" in message
    assert ".switch" in message
    assert "sw-missing" in message


def test_network_rack_pointing_at_a_non_switch_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "net.yaml", [SWITCH, PDU, {**NETWORK_RACK, "switch": "pdu-c"}])
    message = _refused(tmp_path)
    assert "net-d" in message
    assert "pdu-c" in message


def test_unknown_switch_message_names_the_file_and_index(tmp_path: Path) -> None:
    _write(tmp_path, "net.yaml", [SWITCH, {**NETWORK_RACK, "switch": "sw-missing"}])
    message = _refused(tmp_path)
    assert message.startswith("net.yaml: types[1] (net-d).switch:"), message


def test_not_yaml_is_refused_with_the_line(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("types:\n  - id: a\n    name: [unclosed\n  - :\n")
    message = _refused(tmp_path)
    assert message.startswith("broken.yaml:"), message
    assert "line" in message
    assert "YAML" in message


def test_binary_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00types\x00\x81")
    message = _refused(tmp_path)
    assert message.startswith("binary.yaml:"), message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("# nothing but a comment\n", id="comment-only"),
        pytest.param("- a\n- b\n", id="list"),
        pytest.param("types: 3\n", id="types-not-a-list"),
        pytest.param("just text\n", id="scalar"),
    ],
)
def test_file_without_a_types_list_is_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "hollow.yaml").write_text(text)
    message = _refused(tmp_path)
    assert message.startswith("hollow.yaml:"), message
    assert "types" in message


def test_unknown_top_level_field_is_refused(tmp_path: Path) -> None:
    (tmp_path / "top.yaml").write_text(
        yaml.safe_dump({"types": [SWITCH], "version": 2}, sort_keys=False)
    )
    message = _refused(tmp_path)
    assert message.startswith("top.yaml:"), message
    assert "version" in message


def test_entry_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "scalar.yaml", [SWITCH, "sw-b"])
    message = _refused(tmp_path)
    assert message.startswith("scalar.yaml: types[1]:"), message


def test_python_object_tag_is_refused_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (tmp_path / "exploit.yaml").write_text(
        "types:\n"
        f"  - !!python/object/apply:os.system ['touch {marker}']\n"
        "  - !!python/object:layout.catalog.Catalog {}\n"
    )
    message = _refused(tmp_path)
    assert message.startswith("exploit.yaml:"), message
    assert not marker.exists()


def test_empty_directory_is_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path)
    assert tmp_path.name in message
