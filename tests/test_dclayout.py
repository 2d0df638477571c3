"""The .dclayout file layer: round trip, deterministic output, atomic saves, the
embedded catalog, version refusal, and a fuzzed loader that only ever raises
ProjectFileError."""

from __future__ import annotations

import copy
import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layout import dclayout
from layout.catalog import default_catalog
from layout.errors import ProjectFileError
from layout.floor import Floor, Obstacle
from layout.items import Item
from layout.project import (
    CoolingPlan,
    FabricSpec,
    Feed,
    PowerPlan,
    Project,
    TrayPlan,
    TraySegment,
    Waiver,
)
from layout.rules import Rules

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "overlap_and_column.dclayout"
GPU_RACK = "colossus-hgx-h100-lc"

ITEMS = [
    Item("R1", GPU_RACK, 3.0, 4.2, 0.0, "Row A rack 1", {"row": "A", "slot": 1}),
    Item(
        "R2",
        GPU_RACK,
        3.6,
        4.2,
        180.0,
        "Row A rack 2",
        {"row": "A", "slot": 2, "hot": True, "cap_kw": 72.5, "note": None},
    ),
    Item("R10", GPU_RACK, 9.0, 4.2, 90.0, "Row B rack 10", {"row": "B"}),
    Item("N1", "net-sn5600-16", 12.0, 9.0, 270.0, "Spine 1"),
    Item("P1", "busway-415v-60a", 6.0, 2.0, 0.0, "Busway A"),
    Item("P2", "busway-415v-100a", 6.0, 7.0, 0.0, "Busway B"),
    Item("CDU1", "cdu-inrow-200kw", 1.5, 4.2, 0.0),
    Item("CRAH1", "crah-150kw", 20.0, 14.0, 45.0, "CRAH north"),
]


def build_project(order: list[str] | None = None) -> Project:
    """A project with every section set away from its default."""
    hole = [(30.0, 15.0), (32.0, 15.0), (32.0, 17.0), (30.0, 17.0)]
    outline = shapely.Polygon([(0, 0), (40, 0), (40, 20), (0, 20)], [hole])
    floor = Floor(
        outline,
        (
            Obstacle("C1", "column", shapely.box(15.0, 5.7, 15.6, 6.3)),
            Obstacle("W1", "wall", shapely.box(25.0, 0.0, 25.3, 8.0)),
            Obstacle("K1", "keepout", shapely.box(2.0, 16.0, 6.0, 19.0)),
        ),
        tile_m=0.6,
        underlay="plans/hall-b.dxf",
    )
    by_id = {i.id: i for i in ITEMS}
    items = [by_id[i] for i in order] if order else list(ITEMS)
    return Project(
        floor,
        name="Hall B",
        description="Phase 1: two rows of Colossus racks.",
        items=items,
        rules=Rules({"service_aisle_m": 1.5, "overlap_tolerance_m2": 0.001}),
        fabric=FabricSpec(
            tiers=2,
            switch_type="sn5600",
            nic_speed_gbps=400.0,
            nics_per_gpu=1,
            oversubscription=[1.0, 2.0],
            rails=8,
            assignments={"N1": ["R1", "R2", "R10"]},
        ),
        power=PowerPlan(
            feeds={"R1": Feed(a="P1", b="P2"), "R2": Feed(a="P1", b="P2")},
            upstream={"P1": ["P2"]},
        ),
        cooling=CoolingPlan(cdu={"R1": "CDU1", "R2": "CDU1"}, crah={"N1": "CRAH1"}),
        waivers=[Waiver("placement.overlap", ("R2", "R1"), "Temporary staging, moved in May")],
        disabled_rules=["placement.on_obstacle"],
    )


def _files(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder of its own (conftest puts user dirs in tmp_path)."""
    path = tmp_path / "work"
    path.mkdir()
    return path


# -- round trip --------------------------------------------------------------
def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    project = build_project()
    # The sections really are away from their defaults, so the round trip proves something.
    assert project.fabric != FabricSpec()
    assert project.power != PowerPlan()
    assert project.cooling != CoolingPlan()
    assert project.rules.overrides

    path = tmp_path / "hall.dclayout"
    dclayout.save(project, path)
    loaded = dclayout.load(path)

    assert dclayout.dumps(loaded) == dclayout.dumps(project)
    assert dclayout.to_data(loaded) == dclayout.to_data(project)
    assert path.read_text("utf-8") == dclayout.dumps(project)

    assert loaded.name == "Hall B"
    assert loaded.description == project.description
    assert loaded.floor.outline.equals(project.floor.outline)
    assert len(loaded.floor.outline.interiors) == 1
    assert [(o.id, o.kind) for o in loaded.floor.obstacles] == [
        ("C1", "column"),
        ("W1", "wall"),
        ("K1", "keepout"),
    ]
    assert all(
        a.polygon.equals(b.polygon)
        for a, b in zip(loaded.floor.obstacles, project.floor.obstacles, strict=True)
    )
    assert loaded.floor.tile_m == 0.6
    assert loaded.floor.underlay == "plans/hall-b.dxf"
    assert {i.id: i for i in loaded.items} == {i.id: i for i in ITEMS}
    r2 = loaded.items.get("R2")
    assert (r2.rotation, r2.name) == (180.0, "Row A rack 2")
    assert dict(r2.properties) == {"cap_kw": 72.5, "hot": True, "note": None, "row": "A", "slot": 2}
    assert loaded.rules.overrides == {"service_aisle_m": 1.5, "overlap_tolerance_m2": 0.001}
    assert loaded.rules["service_aisle_m"] == 1.5
    assert loaded.fabric == project.fabric
    assert loaded.power == project.power
    assert loaded.cooling == project.cooling
    assert loaded.waivers == project.waivers
    assert loaded.waivers[0].items == ("R1", "R2")
    assert loaded.disabled_rules == frozenset({"placement.on_obstacle"})
    assert loaded.gpu_count() == project.gpu_count() == 3 * 64


def test_saved_file_embeds_the_types_it_uses() -> None:
    data = dclayout.to_data(build_project())
    embedded = [t["id"] for t in data["catalog"]]
    # Every placed type, plus the switch its network rack holds, and nothing else.
    assert embedded == sorted({i.type_id for i in ITEMS} | {"sn5600"})
    assert data["item_count"] == len(ITEMS)


# -- deterministic output ----------------------------------------------------
def test_same_project_saved_twice_gives_identical_bytes(tmp_path: Path) -> None:
    project = build_project()
    dclayout.save(project, tmp_path / "a.dclayout")
    dclayout.save(project, tmp_path / "b.dclayout")
    assert (tmp_path / "a.dclayout").read_bytes() == (tmp_path / "b.dclayout").read_bytes()


def test_items_are_written_in_natural_id_order_whatever_the_insertion_order() -> None:
    forward = build_project()
    backward = build_project(order=[i.id for i in reversed(ITEMS)])
    shuffled = build_project(order=["R10", "CRAH1", "R2", "P2", "N1", "R1", "CDU1", "P1"])
    assert list(backward.items.ids) != list(forward.items.ids)
    ids = [row["id"] for row in dclayout.to_data(shuffled)["items"]]
    assert ids == ["CDU1", "CRAH1", "N1", "P1", "P2", "R1", "R2", "R10"]
    assert ids.index("R2") < ids.index("R10")
    assert dclayout.dumps(forward) == dclayout.dumps(backward) == dclayout.dumps(shuffled)


# -- atomic save ---------------------------------------------------------------
def test_save_keeps_the_previous_file_as_bak_and_leaves_no_temporary(folder: Path) -> None:
    path = folder / "hall.dclayout"
    project = build_project()
    dclayout.save(project, path)
    first = path.read_bytes()
    assert _files(folder) == ["hall.dclayout"]

    project.set_item_name("R1", "Renamed")
    dclayout.save(project, path)
    second = path.read_bytes()
    assert second != first
    assert (folder / "hall.dclayout.bak").read_bytes() == first
    assert _files(folder) == ["hall.dclayout", "hall.dclayout.bak"]

    project.set_item_name("R1", "Renamed again")
    dclayout.save(project, path)
    assert (folder / "hall.dclayout.bak").read_bytes() == second
    assert dclayout.load(path).items.get("R1").name == "Renamed again"
    assert _files(folder) == ["hall.dclayout", "hall.dclayout.bak"]


def test_save_into_a_missing_folder_raises_project_file_error(folder: Path) -> None:
    target = folder / "no-such-folder" / "hall.dclayout"
    with pytest.raises(ProjectFileError, match="cannot write"):
        dclayout.save(build_project(), target)
    assert not target.parent.exists()
    assert _files(folder) == []


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0,
    reason="needs POSIX permissions that bind (root writes anywhere)",
)
def test_save_into_a_read_only_folder_keeps_the_existing_file(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "hall.dclayout"
    project = build_project()
    dclayout.save(project, path)
    old = path.read_bytes()
    project.set_item_name("R1", "Changed")
    folder.chmod(0o555)
    try:
        with pytest.raises(ProjectFileError, match="cannot write"):
            dclayout.save(project, path)
    finally:
        folder.chmod(0o755)
    assert path.read_bytes() == old
    assert _files(folder) == ["hall.dclayout"]


def test_failing_rename_leaves_the_old_file_and_no_temporary(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = folder / "hall.dclayout"
    project = build_project()
    dclayout.save(project, path)
    old = path.read_bytes()
    project.set_item_name("R1", "Changed")

    def failing_replace(src: Any, dst: Any) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ProjectFileError, match="cannot write"):
        dclayout.save(project, path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert not [n for n in _files(folder) if n.endswith(".tmp")]
    assert set(_files(folder)) <= {"hall.dclayout", "hall.dclayout.bak"}


def test_project_that_cannot_be_written_leaves_the_old_file(folder: Path) -> None:
    path = folder / "hall.dclayout"
    project = build_project()
    dclayout.save(project, path)
    old = path.read_bytes()
    # Items refuse a NaN, but a section copied with changes (model_copy) is not validated,
    # and a NaN cannot be written as JSON.
    segment = TraySegment(id="T1", a=[0.0, 0.0], b=[1.0, 1.0])
    trays = TrayPlan(segments=[segment.model_copy(update={"width_m": float("nan")})])
    project.replace_section("trays", trays)
    with pytest.raises(ProjectFileError, match="cannot save"):
        dclayout.save(project, path)
    assert path.read_bytes() == old
    assert _files(folder) == ["hall.dclayout"]


# -- embedded catalog ------------------------------------------------------------
def test_embedded_type_overrides_the_bundled_type(tmp_path: Path) -> None:
    bundled = default_catalog()[GPU_RACK]
    data = dclayout.to_data(dclayout.load(SAMPLE))
    entry = next(t for t in data["catalog"] if t["id"] == GPU_RACK)
    entry["servers"] = 4
    entry["server_kw"] = 12.5
    assert (bundled.servers, bundled.server_kw) != (4, 12.5)

    project = dclayout.from_data(data)
    planned = project.catalog[GPU_RACK]
    assert (planned.servers, planned.server_kw) == (4, 12.5)
    assert project.gpu_count() == 5 * 4 * 8
    assert default_catalog()[GPU_RACK] == bundled  # the bundled catalog is not changed

    path = tmp_path / "planned.dclayout"
    dclayout.save(project, path)
    again = dclayout.load(path)
    assert (again.catalog[GPU_RACK].servers, again.catalog[GPU_RACK].server_kw) == (4, 12.5)
    assert again.gpu_count() == 160


# -- versions --------------------------------------------------------------------
def test_newer_version_is_refused_saying_a_newer_coherence_wrote_it(tmp_path: Path) -> None:
    data = dclayout.to_data(build_project())
    data["version"] = dclayout.VERSION + 1
    path = tmp_path / "future.dclayout"
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(ProjectFileError) as caught:
        dclayout.load(path)
    message = str(caught.value)
    assert f"version {dclayout.VERSION + 1}" in message
    assert "newer Coherence" in message
    assert "future.dclayout" in message
    assert "\n" not in message


# -- fuzzing -----------------------------------------------------------------------
BASE_DATA = dclayout.to_data(build_project())
BASE_BYTES = dclayout.dumps(build_project()).encode("utf-8")


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


ALL_PATHS = _paths(BASE_DATA)[1:]
TOP_PATHS = [p for p in ALL_PATHS if len(p) == 1]
LEAF_PATHS = [p for p in ALL_PATHS if not isinstance(_get(BASE_DATA, p), (dict, list))]
KEY_PATHS = [p for p in ALL_PATHS if isinstance(_get(BASE_DATA, p[:-1]), dict)]
SPECIAL_NUMBERS = [
    0,
    -1,
    1,
    2**31,
    2**63,
    10**12,
    -(10**12),
    10**400,
    -(10**400),
    1e308,
    -1e308,
    5e-324,
    1e-9,
    0.5,
    -0.0,
    360,
    100_000.1,
]

numbers = (
    st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(SPECIAL_NUMBERS)
)
texts = st.text(max_size=12) | st.sampled_from(
    ["", "abc", "R1", "R2", GPU_RACK, "sn5600", "column", "auto", "é ☃ \x00", "x" * 300]
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)


def _same_kind(value: Any) -> st.SearchStrategy[Any]:
    """A replacement of the same JSON kind, so that more mutants get past the schema."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, (int, float)):
        return numbers
    if isinstance(value, str):
        return texts
    return st.none()


@st.composite
def structural_mutants(draw: st.DrawFn, plausible: bool = False) -> dict[str, Any]:
    """The base data with 1-3 values replaced or keys deleted."""
    data = copy.deepcopy(BASE_DATA)
    for _ in range(draw(st.integers(1, 3))):
        action = "same" if plausible else draw(st.sampled_from(["same", "any", "top", "delete"]))
        try:
            if action == "same":
                path = draw(st.sampled_from(LEAF_PATHS))
                _get(data, path[:-1])[path[-1]] = draw(_same_kind(_get(BASE_DATA, path)))
            elif action in ("any", "top"):
                path = draw(st.sampled_from(ALL_PATHS if action == "any" else TOP_PATHS))
                _get(data, path[:-1])[path[-1]] = draw(json_values)
            else:
                path = draw(st.sampled_from(KEY_PATHS))
                del _get(data, path[:-1])[path[-1]]
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed or replaced this place
    return data


@st.composite
def damaged_bytes(draw: st.DrawFn) -> bytes:
    """Text of a (possibly mutated) file, then truncated and/or with bytes overwritten."""
    data = draw(structural_mutants()) if draw(st.booleans()) else BASE_DATA
    raw = bytearray(json.dumps(data, ensure_ascii=False).encode("utf-8"))
    how = draw(st.sampled_from(["truncate", "overwrite", "both"]))
    if how != "truncate":
        # Mostly printable ASCII, so that the JSON parser, not the UTF-8 decoder, is fuzzed.
        byte = st.integers(32, 126) | st.integers(0, 255)
        for _ in range(draw(st.integers(1, 8))):
            raw[draw(st.integers(0, len(raw) - 1))] = draw(byte)
    if how != "overwrite":
        raw = raw[: draw(st.integers(0, len(raw)))]
    return bytes(raw)


def _encoded(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _load_or_refuse(raw: bytes) -> Project | None:
    try:
        return dclayout.loads(raw)
    except ProjectFileError as err:
        message = str(err)
        assert message
        assert len(message.splitlines()) == 1, message
        return None


def test_base_of_the_fuzz_loads() -> None:
    assert _load_or_refuse(BASE_BYTES) is not None
    assert _load_or_refuse(_encoded(BASE_DATA)) is not None
    assert len(LEAF_PATHS) > 100


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.one_of(structural_mutants().map(_encoded), damaged_bytes()))
def test_fuzzed_file_loads_or_raises_project_file_error(raw: bytes) -> None:
    _load_or_refuse(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=structural_mutants(plausible=True))
def test_whatever_loads_can_be_saved_and_loads_the_same(data: dict[str, Any]) -> None:
    project = _load_or_refuse(_encoded(data))
    if project is None:
        return
    text = dclayout.dumps(project)
    assert dclayout.dumps(dclayout.loads(text)) == text


def test_embedded_power_unit_whose_rating_overflows_can_still_be_saved() -> None:
    # A file that loads must save: here the computed capacity_kw overflows to inf.
    data = copy.deepcopy(BASE_DATA)
    entry = next(t for t in data["catalog"] if t["id"] == "busway-415v-60a")
    entry.pop("capacity_kw", None)
    entry["voltage_v"] = 1e300
    entry["current_a"] = 1e300
    try:
        project = dclayout.from_data(data)
    except ProjectFileError as err:
        refusal = str(err)
    else:
        text = dclayout.dumps(project)
        assert dclayout.dumps(dclayout.loads(text)) == text
        return
    assert "catalog[" in refusal  # refusing the file, naming the entry, is fine too
