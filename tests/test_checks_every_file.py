"""Every loadable file checks: odd but loadable projects give violations, never exceptions.

Projects are made from two small real ones (``tests/data/overlap_and_column.dclayout``
and a generated 256-GPU design) by random edits at the data level that the loader
still accepts: units removed while feeds, upstream links, CDU/CRAH and fabric
assignments and waivers name them; sections emptied; numbers at their limits
(coordinates at ±100 km, 400-digit property values, rules at their bounds);
equipment types embedded with extreme but allowed fields (a radix past 65,536, a
stock step tiny against the reach, near-zero capacities, huge server powers);
fabric specs with no or no such switch; duplicate and crossed assignments; names
with control characters. :func:`physics.check`, :func:`physics.solution.solve`,
the HTML report and every export must finish, and ``check --json`` must be
strict JSON.
"""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layout import dclayout
from layout.catalog import default_catalog
from layout.errors import CoherenceError, ProjectFileError
from layout.generator import ClusterRequest, generate
from layout.limits import MAX_COORD_M, MAX_NAME_CHARS
from layout.rules import PARAMETERS
from physics import check, figures, whatif
from physics.solution import solve
from report.check_json import results_to_json

DATA = Path(__file__).parent / "data"
HUGE = 10**400
"""An integer far beyond any float."""

Data = dict[str, Any]


def _small() -> Data:
    data = json.loads((DATA / "overlap_and_column.dclayout").read_text(encoding="utf-8"))
    # Embed the rack's type so that edits can reach its fields.
    used = sorted({i["type"] for i in data["items"]})
    data["catalog"] = default_catalog().closure(used).to_data()
    return data


BASES: dict[str, Data] = {
    "small": _small(),
    "generated": dclayout.to_data(generate(ClusterRequest(gpus=256))),
}


def _kinds(data: Data) -> dict[str, str]:
    kinds = {t: default_catalog()[t].kind for t in default_catalog()}
    kinds |= {t["id"]: t["kind"] for t in data["catalog"]}
    return {i["id"]: kinds[i["type"]] for i in data["items"]}


def _set_items(data: Data, items: list[Data]) -> None:
    data["items"] = items
    data["item_count"] = len(items)


# -- the odd edits ---------------------------------------------------------------------------
def remove_kind(kind: str) -> Callable[[Data], None]:
    """Every unit of a kind removed; whatever referred to them still does."""

    def edit(data: Data) -> None:
        kinds = _kinds(data)
        _set_items(data, [i for i in data["items"] if kinds[i["id"]] != kind])

    return edit


def remove_some(picks: list[int]) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        items = data["items"]
        gone = {items[p % len(items)]["id"] for p in picks} if items else set()
        _set_items(data, [i for i in items if i["id"] not in gone])

    return edit


def empty_section(section: str) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        if section == "items":
            _set_items(data, [])
        elif section == "obstacles":
            data["floor"]["obstacles"] = []
        elif section == "catalog":
            data["catalog"] = []
        else:
            data[section] = {}

    return edit


def extreme_positions(picks: list[int], corner: tuple[float, float]) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        for p in picks:
            if data["items"]:
                item = data["items"][p % len(data["items"])]
                item["x"], item["y"] = corner[0] * MAX_COORD_M, corner[1] * MAX_COORD_M

    return edit


PROPERTY_VALUES = st.sampled_from([
    HUGE, -HUGE, 0, -1, 2**63, 1e308, -1e308, 5e-324, "", "core", "spine", "leaf",
    "\x1b[31m", True, None, 3,
])  # fmt: skip
PROPERTY_KEYS = st.sampled_from(["length_m", "switches", "tier", "pod", "plane", "note"])


def odd_properties(picks: list[int], props: dict[str, Any]) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        for p in picks:
            if data["items"]:
                item = data["items"][p % len(data["items"])]
                item["properties"] = {**item.get("properties", {}), **props}

    return edit


def rules_at_bounds(low: list[bool]) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        data["rules"] = {
            p.key: (p.minimum if at_low else p.maximum)
            for p, at_low in zip(PARAMETERS.values(), low * len(PARAMETERS), strict=False)
        }

    return edit


TYPE_EXTREMES: dict[str, list[dict[str, Any]]] = {
    "gpu_rack": [
        {"servers": 1, "gpus_per_server": 100_000, "server_u": 1, "rack_u": 100_000},
        {"server_kw": 1e300, "other_kw": 1e300},
        {"server_kw": 5e-324, "liquid_fraction": 0.0, "in_rack_cdu": None},
        {"liquid_fraction": 1.0, "nic_speed_gbps": 1e300, "nics_per_gpu": 100_000},
        {"extra_nics_per_server": 64, "nic_speed_gbps": 5e-324},
    ],
    "switch": [
        {
            "ports": [
                {"speed_gbps": 400.0, "count": 100_000},
                {"speed_gbps": 800.0, "count": 100_000},
            ]
        },
        {"ports": [{"speed_gbps": 1.0, "count": 1}]},
        {"kw": 1e300, "max_kw": 1e300, "u": 100_000},
    ],
    "network_rack": [{"switches": 100_000, "rack_u": 100_000}, {"switches": 1, "other_kw": 1e300}],
    "power": [
        {"capacity_kw": 5e-324, "efficiency": 5e-324},
        {"capacity_kw": 1e300, "energy_kwh": 5e-324},
        {"efficiency": 1.0, "capacity_kw": 1e-9},
    ],
    "cooling": [
        {"capacity_kw": 5e-324, "kw": 1e300, "ratings": None},
        {"capacity_kw": 1e300, "airflow_m3s": 5e-324, "ratings": None},
    ],
}
MEDIA = [
    {"stock_step_m": 1e-6, "reach_m": 10_000.0, "cost_usd": 0.0, "cost_per_m_usd": 0.0},
    {"stock_step_m": 5e-324, "reach_m": 1e300, "cost_usd": 0.0},
    {"stock_step_m": 1e300, "reach_m": 5e-324, "cost_usd": 0.0},
]


def extreme_type(
    kind: str, fields: dict[str, Any], type_id: str | None = None
) -> Callable[[Data], None]:
    """A type used in the project (the first of its kind, or ``type_id``) embedded again with
    extreme fields."""

    def edit(data: Data) -> None:
        for entry in data["catalog"]:
            if entry["kind"] == kind and type_id in (None, entry["id"]):
                entry.update(fields)
                if kind == "gpu_rack" and entry.get("in_rack_cdu") is None:
                    entry.pop("in_rack_cdu", None)
                for key in [k for k, v in entry.items() if v is None]:
                    del entry[key]
                break

    return edit


def extreme_medium(fields: dict[str, Any]) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        data["catalog"].append({
            "id": "odd-medium", "kind": "medium", "name": "odd", "source": "test data",
            "family": "smf", "speeds_gbps": [100.0, 200.0, 400.0, 800.0], "diameter_mm": 3.0,
            "ns_per_m": 5.0, **fields,
        })  # fmt: skip

    return edit


def fabric_spec(spec: dict[str, Any]) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        data["fabric"] = {**data.get("fabric", {}), **spec}

    return edit


def crossed_references(picks: list[int], waiver: bool) -> Callable[[Data], None]:
    """Assignments, feeds and links between random items, duplicated, to themselves or to
    items that are not there; a waiver naming a missing item."""

    def edit(data: Data) -> None:
        ids = [i["id"] for i in data["items"]] + ["GONE1"]
        pick = lambda k: ids[picks[k % len(picks)] % len(ids)]  # noqa: E731
        a, b, c = pick(0), pick(1), pick(2)
        data["fabric"] = {**data.get("fabric", {}),
                          "assignments": {a: [b, b, c, a], c: [b], "GONE2": [a]}}  # fmt: skip
        data["power"] = {
            "feeds": {a: {"a": b, "b": b}, b: {"a": a}, "GONE3": {"a": c}},
            "upstream": {a: [a, b, "GONE4"], b: [a], c: [c]},
        }
        data["cooling"] = {"cdu": {a: b, b: "GONE5"}, "crah": {c: a, a: a}}
        if waiver:
            data["waivers"] = [{"rule": "power.feeds", "items": [a, "GONE6"], "reason": "test"}]

    return edit


def control_names(text: str) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        data["name"] = text
        for item in data["items"][:3]:
            item["name"] = text

    return edit


def odd_trays(corner: float) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        edge = corner * MAX_COORD_M
        data["trays"] = {"segments": [
            {"id": "T0", "a": [0.0, 0.0], "b": [0.0, 0.0]},
            {"id": "T1", "a": [edge, edge], "b": [-edge, edge], "width_m": 5.0, "depth_m": 1e-9},
            {"id": "T2", "a": [-edge, edge], "b": [0.0, 0.0]},
        ]}  # fmt: skip

    return edit


def odd_floor(tile_m: float, underlay: str | None, rotation: float) -> Callable[[Data], None]:
    """A tile at its bounds, an underlay that is not there, items turned off the quarters,
    every rule disabled but one and rules that do not exist waived and disabled."""

    def edit(data: Data) -> None:
        data["floor"]["tile_m"] = tile_m
        if underlay is not None:
            data["floor"]["underlay"] = underlay
        for item in data["items"]:
            item["rotation"] = rotation
        data["disabled_rules"] = ["no.such.rule"]
        data["waivers"] = [{"rule": "no.such.rule", "items": [], "reason": "test"}]

    return edit


def all_but_one_rule(keep: int) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        from physics.engine import registered_rules

        ids = [r.id for r in registered_rules()]
        data["disabled_rules"] = [r for k, r in enumerate(ids) if k != keep % len(ids)]

    return edit


picks = st.lists(st.integers(0, 10_000), min_size=1, max_size=4)
corners = st.tuples(st.sampled_from([-1.0, 1.0]), st.sampled_from([-1.0, 1.0]))
EDITS = st.one_of(
    st.sampled_from(["power", "cooling", "network_rack", "gpu_rack"]).map(remove_kind),
    picks.map(remove_some),
    st.sampled_from(["items", "obstacles", "power", "cooling", "fabric", "trays", "catalog"]).map(
        empty_section
    ),
    st.builds(extreme_positions, picks, corners),
    st.builds(odd_properties, picks, st.dictionaries(PROPERTY_KEYS, PROPERTY_VALUES, min_size=1)),
    st.lists(st.booleans(), min_size=1, max_size=3).map(rules_at_bounds),
    st.sampled_from([(k, f) for k, fs in TYPE_EXTREMES.items() for f in fs]).map(
        lambda kf: extreme_type(*kf)
    ),
    st.sampled_from(MEDIA).map(extreme_medium),
    st.sampled_from(
        [
            {"switch_type": None},
            {"switch_type": "no-such-switch"},
            {"switch_type": "colossus-hgx-h100-lc"},
            {"nic_speed_gbps": 1e300},
            {"nic_speed_gbps": 5e-324},
            {"planes": 8, "rails": 64, "nics_per_gpu": 16},
            {"oversubscription": [64.0, 64.0]},
            {"tiers": 3},
            {"tiers": 1},
        ]
    ).map(fabric_spec),
    st.builds(crossed_references, picks, st.booleans()),
    st.sampled_from(
        [
            "\x1b[2J\x1b[31mred",
            "a\nb\rc\x00\x07",
            "\u202eevil",
            "=cmd|' /C calc'!A0",
            "x" * MAX_NAME_CHARS,
        ]
    ).map(control_names),
    st.sampled_from([-1.0, 1.0]).map(odd_trays),
    st.builds(
        odd_floor,
        st.sampled_from([1e-9, 0.6, 10.0]),
        st.sampled_from([None, "no-such-file.png", "no-such.dxf", "../../etc/passwd"]),
        st.sampled_from([0.0, 45.0, 359.999, -360.0, 1e-7]),
    ),
    st.integers(0, 100).map(all_but_one_rule),
)


def odd_project(base: str, edits: list[Callable[[Data], None]]) -> Any:
    """The base project with the edits applied, or None when the loader refuses the result
    (the edits aim at loadable files; a refusal is not what is tested here)."""
    data = copy.deepcopy(BASES[base])
    for edit in edits:
        edit(data)
    try:
        return dclayout.from_data(data)
    except ProjectFileError:
        return None


projects = st.builds(
    odd_project, st.sampled_from(sorted(BASES)), st.lists(EDITS, min_size=1, max_size=4)
).filter(lambda p: p is not None)


def _strict_json(document: Any) -> str:
    return json.dumps(document, allow_nan=False, ensure_ascii=False)


# -- the tests -------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects)
def test_odd_but_loadable_projects_check_and_solve(project):
    results = check(project)
    _strict_json(results_to_json("odd.dclayout", results))
    solution = solve(project)
    assert solution.results.rules_run == results.rules_run
    assert solution.problems == {}
    for item_id in project.items.ids[:12]:
        figures.utilisation(solution, item_id)
        figures.feeds(solution, item_id)
        figures.load_fed_kw(solution, item_id)
        figures.supplies(solution, item_id)
        figures.serves(solution, item_id)
        figures.inlet_c(solution, item_id)
        figures.rack_links(solution, item_id)
    kinds = project.kinds()
    for kind in sorted(set(kinds)):
        first = project.items.ids[list(kinds).index(kind)]
        results_to_json("odd.dclayout", results, whatif.fail(project, [first]))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(project=projects)
def test_odd_but_loadable_projects_report_and_export(tmp_path_factory, qapp, project):
    from report.exporters import EXPORTERS, ExportOptions
    from report.report import write_report

    out = tmp_path_factory.mktemp("odd")
    write_report(project, out / "report.html")
    options = ExportOptions(source="odd.dclayout")
    for exporter in EXPORTERS:
        target = out / (exporter.name + (exporter.suffixes[0] if exporter.suffixes else ""))
        refusal = ""
        try:
            exporter.write(project, target, options)
        except CoherenceError as err:
            # A refusal in one line (a picture too large at the default scale) is an answer.
            refusal = str(err)
        assert "\n" not in refusal


KNOWN_CRASHES = {
    "all power units removed under their feeds": [remove_kind("power")],
    "a 400-digit busway length": [odd_properties(list(range(40)), {"length_m": HUGE})],
    "a radix beyond 65,536": [extreme_type("switch", TYPE_EXTREMES["switch"][0], "sn5600")],
    "a stock step tiny against the reach": [extreme_medium(MEDIA[0])],
    "dangling references": [remove_kind("power"), remove_kind("cooling"), remove_some([0])],
}


@pytest.mark.parametrize("case", sorted(KNOWN_CRASHES))
def test_known_crashes_are_violations(case):
    project = odd_project("generated", KNOWN_CRASHES[case])
    assert project is not None
    results = check(project)
    _strict_json(results_to_json("odd.dclayout", results))
    solve(project)


def test_a_radix_beyond_the_plannable_is_a_violation():
    project = odd_project("generated", KNOWN_CRASHES["a radix beyond 65,536"])
    messages = [v.message for v in check(project).violations if v.rule == "fabric.radix"]
    assert any("100,000" in m and "65,536" in m for m in messages)


def test_feeds_to_removed_units_name_the_item_and_the_unit():
    project = odd_project("generated", [remove_kind("power")])
    found = [v for v in check(project).violations if v.rule == "power.feeds"]
    assert any(v.items == ("R00001",) and "BWA0001" in v.message for v in found)


def test_non_finite_figures_are_null_and_flagged():
    from physics.engine import Results

    results = Results({"pue": math.inf, "worst": {"load": math.nan}, "ok": 1.5}, [])
    document = results_to_json("x.dclayout", results)
    text = _strict_json(document)
    assert document["summary"]["pue"] is None
    assert document["summary"]["worst"]["load"] is None
    assert document["summary"]["ok"] == 1.5
    assert document["non_finite"] == ["summary.pue", "summary.worst.load"]
    assert "NaN" not in text
    assert "Infinity" not in text


def test_finite_documents_have_no_non_finite_key():
    project = dclayout.from_data(copy.deepcopy(BASES["small"]))
    assert "non_finite" not in results_to_json("small.dclayout", check(project))


def test_assignments_to_removed_racks_name_the_leaf_and_the_racks():
    def drop(ids: set[str]) -> Callable[[Data], None]:
        def edit(data: Data) -> None:
            _set_items(data, [i for i in data["items"] if i["id"] not in ids])

        return edit

    found = check(odd_project("generated", [drop({"R00002"})])).violations
    assert any(
        v.rule == "fabric.connected" and v.items == ("L00001",) and "R00002" in v.message
        for v in found
    )
    found = check(odd_project("generated", [drop({"L00001"})])).violations
    assert any(
        v.rule == "fabric.connected"
        and v.items == ("R00001", "R00002", "R00003", "R00004")
        and "L00001" in v.message
        for v in found
    )


def test_a_waiver_naming_a_removed_item_is_reported():
    project = odd_project("generated", [crossed_references([0, 1, 2], waiver=True)])
    results = check(project)
    dead = [v for v in results.violations if "waiver names GONE6" in v.message]
    assert [(v.rule, v.severity) for v in dead] == [("power.feeds", "info")]


def test_the_background_check_of_an_odd_project_delivers_a_solution(qtbot):
    from gui.checker import BackgroundChecker
    from physics.solution import Solution

    edits = [remove_kind("power"), remove_some([3, 7]), crossed_references([1, 5, 9], True)]
    edits += [odd_properties([0, 1, 2], {"length_m": HUGE, "switches": HUGE})]
    edits += [extreme_type("switch", TYPE_EXTREMES["switch"][0]), extreme_medium(MEDIA[0])]
    project = odd_project("generated", edits)
    assert project is not None
    checker = BackgroundChecker(project, delay_ms=10)
    failures: list[str] = []
    checker.failed.connect(failures.append)
    with qtbot.waitSignal(checker.results_ready, timeout=20_000) as blocker:
        checker.request()
    assert isinstance(blocker.args[0], Solution)
    assert blocker.args[0].results.violations
    assert failures == []
    checker.shutdown()


def _main(*args: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parent.parent
    return subprocess.run(
        [sys.executable, str(root / "main.py"), *args],
        capture_output=True, text=True, cwd=root, timeout=120, check=False,
    )  # fmt: skip


def _reject_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_check_json_of_non_finite_figures_is_strict_json(tmp_path):
    data = copy.deepcopy(BASES["generated"])
    extreme_type("power", TYPE_EXTREMES["power"][0])(data)
    path = tmp_path / "odd.dclayout"
    path.write_text(json.dumps(data), encoding="utf-8")
    run = _main("check", str(path), "--json")
    assert run.returncode in (0, 1), run.stderr
    document = json.loads(run.stdout, parse_constant=_reject_constant)
    assert "summary.pue" in document["non_finite"]
    assert document["summary"]["pue"] is None


def test_check_shows_control_characters_in_names_escaped(tmp_path):
    data = copy.deepcopy(BASES["small"])
    data["name"] = data["items"][0]["name"] = "\x1b[2J"
    data["power"] = {"feeds": {"R1": {"a": "B\x1b[2J\x9b"}}}
    path = tmp_path / "odd\x1b[31m.dclayout"
    path.write_text(json.dumps(data), encoding="utf-8")
    run = _main("check", str(path))
    assert run.returncode == 1, run.stderr
    assert "\x1b" not in run.stdout
    assert "\x9b" not in run.stdout
    assert "odd\\x1b[31m.dclayout" in run.stdout
