"""Fabric shapes from ``new``: per-tier link speeds, dual-homed leaves, fixed pods and each
tier's own network rack type.

Every count is worked by hand from the catalog's port counts and the rules in
:mod:`layout.fabric_plan`'s docstring; nothing is read back from the generator to be
compared with itself. The checker is run on every design, but only its placement, power
and cooling rules are asserted here: the fabric rules are being taught these shapes.

Catalog figures used throughout: rack colossus-hgx-h100-lc holds 8 servers × 8 H100,
one 400G NIC per GPU (8 rails), 0.6 m wide; network rack net-sn5600-8 holds 8 ×
SN5600 (51.2 Tb/s: 256 × 200G, 128 × 400G or 64 × 800G), 0.8 m wide.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from layout import dclayout
from layout.catalog import default_catalog
from layout.generator import ClusterRequest, GeneratorError, generate, preview
from layout.project import Project
from main import option_of
from physics import check
from physics.tray_sizing import size_trays

ROOT = Path(__file__).resolve().parent.parent
COLOSSUS_RACK = "colossus-hgx-h100-lc"
RACK_GPUS = 64
SWITCHES_PER_NET_RACK = 8
NOT_FABRIC_RULES = ("placement.", "power.", "cooling.")


def _design(request: ClusterRequest, catalog=None) -> Project:
    return generate(request, catalog, tray_sizer=size_trays)


def _by_tier(project: Project) -> dict[str, list]:
    """The GPU fabric's network racks by tier (the front-end, storage and management
    networks' racks carry a ``network`` property and are left out)."""
    tiers: dict[str, list] = defaultdict(list)
    for item in project.items:
        if "tier" in item.properties and item.properties.get("network", "backend") == "backend":
            tiers[str(item.properties["tier"])].append(item)
    return tiers


def _switches(project: Project, items: list) -> int:
    """Switches installed in these network racks (their ``switches`` property, or full)."""
    return sum(
        int(i.properties.get("switches", project.catalog[i.type_id].switches)) for i in items
    )


def _no_site_errors(project: Project) -> list[str]:
    """Errors of the placement, power and cooling rules (the fabric rules are not asserted)."""
    results = check(project)
    return [
        f"{v.rule}: {v.message}"
        for v in results.violations
        if v.severity == "error" and v.rule.startswith(NOT_FABRIC_RULES)
    ]


def _saved_and_loaded(project: Project, tmp_path: Path) -> Project:
    path = tmp_path / "design.dclayout"
    dclayout.save(project, path)
    loaded = dclayout.load(path)
    assert dclayout.dumps(loaded) == dclayout.dumps(project)
    return loaded


# --- Alibaba HPN style: 200G down, 400G up, one 15:1 pod of 15 segments -----------------
# HPN (SIGCOMM 2024): each 400G NIC splits over two planes (200G each); a ToR on a
# 51.2 Tb/s switch runs 128 × 200G down and 400G up; a pod of 15 segments of 128 hosts
# (15,360 GPUs) sits under aggregation switches at 15:1 towards the core.
#
# Per plane: 200G GPU links. SN5600 leaf: 256 ports at 200G, 128 at 400G; non-blocking
#   in bandwidth, 128 × 200G down (25.6T) and 128 − 128·128/256 = 64 × 400G up (25.6T).
# Arrays: 128 down-ports = 128 servers = 16 racks (an HPN segment); 15,360 / 64 = 240
#   racks = 15 arrays, each 8 leaves (one per rail): 120 leaves per plane, one per
#   SN5600 in net-sn5600-8 racks: 15 leaf racks per plane, each serving one array.
# Pod: 15,360 GPUs = 1,920 servers = 15 groups = 120 leaves, one pod.
# Spines: a leaf's 64 uplinks, one to each of 64 spines (400G); a spine of 128 × 400G at
#   15:1 has floor(128·15/16) = 120 down and 8 up: the pod's 120 leaves exactly, 15:1.
# Cores: 64 spines × 8 uplinks / 128 ports = 4 per plane (in one rack of 4).
HPN = ClusterRequest(
    gpus=15_360,
    planes=2,
    link_speeds_gbps=(200, 400, 400),
    oversubscription=(1, 15),
    pod_gpus=15_360,
)


@pytest.fixture(scope="module")
def hpn() -> Project:
    return _design(HPN)


def test_hpn_style_switch_counts(hpn):
    tiers = _by_tier(hpn)
    assert _switches(hpn, tiers["leaf"]) == 2 * 120
    assert _switches(hpn, tiers["spine"]) == 2 * 64
    assert _switches(hpn, tiers["core"]) == 2 * 4
    assert len(tiers["leaf"]) == 2 * 15
    assert len(tiers["spine"]) == 2 * 64 // SWITCHES_PER_NET_RACK
    assert len(tiers["core"]) == 2
    assert {i.properties.get("switches") for i in tiers["core"]} == {4}
    assert sum(1 for i in hpn.items if i.type_id == COLOSSUS_RACK) == 240


def test_hpn_style_rack_properties_and_spec(hpn, tmp_path):
    tiers = _by_tier(hpn)
    for tier in ("leaf", "spine"):
        assert {i.properties["pod"] for i in tiers[tier]} == {0}, tier  # one pod
    for tier in ("leaf", "spine", "core"):
        per_plane = Counter(i.properties["plane"] for i in tiers[tier])
        assert sorted(per_plane) == [0, 1], tier
        assert per_plane[0] == per_plane[1], tier
    # Each leaf rack holds one array's 8 leaves and serves its 16 racks.
    assert {len(racks) for racks in hpn.fabric.assignments.values()} == {16}
    spec = _saved_and_loaded(hpn, tmp_path).fabric
    assert spec.link_speeds_gbps == [200, 400, 400]
    assert spec.pod_gpus == 15_360
    assert spec.planes == 2
    assert spec.oversubscription == [1, 15]
    assert spec.dual_homed is False
    assert spec.switch_type == "sn5600"


def test_hpn_style_preview_names_the_ports(hpn):
    line = preview(HPN).describe_fabric()
    assert line == (
        "3 tiers × 2 planes: 240 leaves (128 × 200G down, 64 × 400G up), "
        "128 spines (120 down, 8 × 400G up), 8 cores, 1 pod per plane"
    )


def test_hpn_style_site_checks_hold(hpn):
    assert _no_site_errors(hpn) == []


# --- Meta RoCE style: fixed 3,072-GPU pods, 1:7 above them ------------------------------
# Meta (SIGCOMM 2024): AI zones of 3,072 GPUs, non-blocking inside, 1:7 from the zone's
# switches to the aggregation tier; 24k GPUs = 8 zones. Here with SN5600 at 400G (k = 128):
# leaves 64 down / 64 up, an array of 8 racks = 64 servers; 24,576 / 64 = 384 racks =
# 48 arrays = 384 leaves. A pod: 3,072 GPUs = 384 servers = 6 arrays = 48 leaves, 8 pods.
# Spines: 64 per pod (a leaf's 64 uplinks, one each), 512 in all; each uses 48 down-ports
# and ceil(48 / 7) = 7 up (48:7 = 6.9:1 ≤ 7). Cores: ceil(512 × 7 / 128) = 28.
# Racks: 48 leaf racks (6 per pod), 512 / 8 = 64 spine racks (8 per pod), 28 cores in
# racks of 8, 8, 8 and 4.
META = ClusterRequest(gpus=24_576, pod_gpus=3_072, oversubscription=(1, 7))


@pytest.fixture(scope="module")
def meta() -> Project:
    return _design(META)


def test_meta_style_switch_counts_and_pods(meta, tmp_path):
    tiers = _by_tier(meta)
    assert _switches(meta, tiers["leaf"]) == 384
    assert _switches(meta, tiers["spine"]) == 512
    assert _switches(meta, tiers["core"]) == 28
    assert len(tiers["leaf"]) == 48
    assert len(tiers["spine"]) == 64
    assert sorted(int(i.properties.get("switches", 8)) for i in tiers["core"]) == [4, 8, 8, 8]
    assert Counter(i.properties["pod"] for i in tiers["leaf"]) == dict.fromkeys(range(8), 6)
    assert Counter(i.properties["pod"] for i in tiers["spine"]) == dict.fromkeys(range(8), 8)
    # A pod's leaf racks serve 6 arrays of 8 racks: 3,072 GPUs.
    pod_gpus = Counter()
    for leaf in tiers["leaf"]:
        pod_gpus[leaf.properties["pod"]] += len(meta.fabric.assignments[leaf.id]) * RACK_GPUS
    assert set(pod_gpus.values()) == {3_072}
    spec = _saved_and_loaded(meta, tmp_path).fabric
    assert spec.pod_gpus == 3_072
    assert spec.oversubscription == [1, 7]
    assert spec.link_speeds_gbps == []  # not asked: the NIC speed everywhere
    assert spec.tiers == "auto"


def test_meta_style_site_checks_hold(meta):
    assert _no_site_errors(meta) == []


def test_a_pod_forces_three_tiers_on_a_small_cluster():
    # 4,096 GPUs fit two tiers of SN5600 (8,192), but a fixed pod is a 3-tier unit:
    # pods of 1,024 GPUs = 16 leaves, 4 pods; 64 spines each (one per leaf uplink).
    sized = preview(ClusterRequest(gpus=4_096, pod_gpus=1_024))
    assert sized.tiers == 3
    assert sized.pods == 4
    assert sized.switches[:2] == (64, 256)


# --- Dual-homed leaves ------------------------------------------------------------------
# Each NIC port splits over two leaves of its plane at half speed: 200G GPU links, so a
# leaf has 256 ports at 200G and 128 at 400G: 128 × 200G down, 64 × 400G up (as HPN).
# With arrays of 8 racks (64 servers) an array has 16 leaves, two per rail, in two
# 8-switch racks side by side: 4,096 GPUs = 64 racks = 8 arrays → 128 leaves in 16 leaf
# racks, twice the single-homed 64 leaves in 8 racks. Spines: 128 leaves × 64 uplinks /
# 128 ports = 64 (single-homed: 64 × 64 / 128 = 32).
def test_dual_homed_doubles_the_leaves_of_an_array(tmp_path):
    single = _design(ClusterRequest(gpus=4_096, racks_per_array=8))
    dual = _design(ClusterRequest(gpus=4_096, racks_per_array=8, dual_homed=True))
    single_tiers, dual_tiers = _by_tier(single), _by_tier(dual)
    assert _switches(single, single_tiers["leaf"]) == 64
    assert _switches(dual, dual_tiers["leaf"]) == 128 == 2 * 64
    assert (len(single_tiers["leaf"]), len(dual_tiers["leaf"])) == (8, 16)
    assert (_switches(single, single_tiers["spine"]), _switches(dual, dual_tiers["spine"])) == (
        32, 64,
    )  # fmt: skip
    # Every GPU rack is served by exactly two leaf racks, which stand side by side and
    # serve the same racks.
    assignments = dual.fabric.assignments
    serving = defaultdict(list)
    for leaf_id, racks in assignments.items():
        for rack_id in racks:
            serving[rack_id].append(leaf_id)
    gpu_racks = [i.id for i in dual.items if i.type_id == COLOSSUS_RACK]
    assert sorted(serving) == sorted(gpu_racks)
    for rack_id, leaves in serving.items():
        assert len(leaves) == 2, rack_id
        a, b = (dual.items.get(leaf) for leaf in leaves)
        assert assignments[a.id] == assignments[b.id]
        assert a.y == b.y
        assert abs(a.x - b.x) == pytest.approx(0.8)
    spec = _saved_and_loaded(dual, tmp_path).fabric
    assert spec.dual_homed is True
    assert spec.link_speeds_gbps == []
    assert _no_site_errors(dual) == []


def test_dual_homed_arrays_fill_the_leaves_at_half_speed():
    # Left to fill a leaf, a dual-homed array takes 128 servers = 16 racks: as many
    # leaves as single-homed in all (the same bandwidth through switches of the same
    # size), 4 arrays × 16 = 64, in 8 racks, half of them each array's second homes.
    single = preview(ClusterRequest(gpus=4_096))
    dual = preview(ClusterRequest(gpus=4_096, dual_homed=True))
    assert (single.racks_per_array, dual.racks_per_array) == (8, 16)
    assert single.switches == dual.switches == (64, 32, 0)
    assert dual.link_speeds_gbps == (200, 400, 400)
    assert dual.describe_fabric().startswith("2 tiers, dual-homed: 64 leaves (128 × 200G down")


# --- Each tier its own rack and switch --------------------------------------------------
@pytest.fixture(scope="module")
def with_sn5400():
    # The catalog's SN5400 (64 × 400G, NVIDIA SN5000 manual) in its 8-switch rack.
    catalog = default_catalog()
    assert catalog["sn5400"].radix(400) == 64
    return catalog


def test_larger_spines_keep_small_leaves_on_two_tiers(with_sn5400, tmp_path):
    # SN5400 leaves at 400G: 64 ports, 32 down / 32 up; an array = 32 servers = 4 racks.
    # All SN5400: 2 tiers hold 64 leaves (a spine's ports) = 8 groups × 32 × 8 = 2,048
    # GPUs, so 4,096 take 3 tiers. SN5600 spines (128 × 400G) hold 128 leaves: 4,096
    # GPUs = 64 racks = 16 arrays = 128 leaves on 2 tiers, 128 × 32 / 128 = 32 spines,
    # in two net-sn5600-16 racks.
    small = ClusterRequest(gpus=4_096, network_rack_type="net-sn5400-8")
    assert preview(small, with_sn5400).tiers == 3
    mixed = _design(
        ClusterRequest(gpus=4_096, network_rack_type="net-sn5400-8",
                       spine_rack_type="net-sn5600-16"),
        with_sn5400,
    )  # fmt: skip
    tiers = _by_tier(mixed)
    assert "core" not in tiers
    assert {i.type_id for i in tiers["leaf"]} == {"net-sn5400-8"}
    assert {i.type_id for i in tiers["spine"]} == {"net-sn5600-16"}
    assert _switches(mixed, tiers["leaf"]) == 128
    assert len(tiers["leaf"]) == 16
    assert _switches(mixed, tiers["spine"]) == 32
    assert len(tiers["spine"]) == 2
    assert {len(r) for r in mixed.fabric.assignments.values()} == {4}
    loaded = _saved_and_loaded(mixed, tmp_path)
    assert loaded.fabric.switch_type == "sn5400"
    assert "net-sn5600-16" in loaded.catalog
    assert "sn5400" in loaded.catalog
    assert _no_site_errors(mixed) == []


def test_spine_and_core_racks_of_their_own_type(with_sn5400):
    # 16,384 GPUs on SN5600 leaves (64 down / 64 up at 400G): 256 racks = 32 arrays =
    # 256 leaves. Spines in 600 mm SN5400 racks: 64 × 400G split 32 down / 32 up, so a
    # pod is 32 leaves: 8 pods of 64 spines (a leaf's 64 uplinks) = 512 spines in 64
    # racks; cores: 512 × 32 / 128 = 128 SN5600 in 16 racks.
    request = ClusterRequest(gpus=16_384, spine_rack_type="net-sn5400-8", tiers=3)
    project = _design(request, with_sn5400)
    tiers = _by_tier(project)
    assert _switches(project, tiers["spine"]) == 512
    assert len(tiers["spine"]) == 64
    assert _switches(project, tiers["core"]) == 128
    assert len(tiers["core"]) == 16
    spines = sorted(tiers["spine"], key=lambda i: (i.y, i.x))
    assert {i.type_id for i in spines} == {"net-sn5400-8"}
    assert {i.type_id for i in tiers["core"]} == {"net-sn5600-8"}
    # The middle rows space their racks at the widest type standing there (the 0.8 m
    # SN5600 racks), so racks of every network line up (racks of another slot in line
    # stand a cross aisle away).
    gaps = {
        round(b.x - a.x, 4) for a, b in itertools.pairwise(spines) if a.y == b.y and b.x - a.x < 1.0
    }
    assert gaps == {0.8}
    assert _no_site_errors(project) == []


# --- Bad input: one line naming the option, exit 2, nothing written ----------------------
@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"link_speeds_gbps": (300,)}, "link_speeds_gbps",
         "SN5600 (Ethernet) has no 300G ports (200G, 400G, 800G)"),
        ({"link_speeds_gbps": (400, 300)}, "link_speeds_gbps", "has no 300G ports"),
        ({"link_speeds_gbps": (800,)}, "link_speeds_gbps",
         "a 800G GPU link exceeds the 400G NIC"),
        ({"link_speeds_gbps": (400,), "planes": 2}, "link_speeds_gbps",
         "a 400G GPU link exceeds the 400G NIC's 200G per plane"),
        ({"link_speeds_gbps": (400,), "dual_homed": True}, "link_speeds_gbps",
         "two 400G GPU links (dual-homed) exceed the 400G NIC"),
        ({"link_speeds_gbps": (200, 400, 400, 400)}, "link_speeds_gbps", "at most 3 speeds"),
        ({"link_speeds_gbps": (0,)}, "link_speeds_gbps", "above 0"),
        ({"pod_gpus": 8_192, "gpus": 100_000, "planes": 1}, "pod_gpus",
         "a pod of 8,192 GPUs needs 128 leaves, but a spine has 64 down-ports"),
        ({"pod_gpus": 1_024, "tiers": 2}, "pod_gpus", "a fixed pod needs 3 tiers"),
        ({"pod_gpus": 0}, "pod_gpus", "expected a whole number of GPUs"),
        ({"spine_rack_type": COLOSSUS_RACK}, "spine_rack_type", "is not a network rack type"),
        ({"core_rack_type": "nope"}, "core_rack_type", "is not a network rack type"),
        ({"spine_rack_type": "net-q3400-8"}, "spine_rack_type",
         "holds infiniband switches"),
        ({"dual_homed": "yes"}, "dual_homed", "expected yes or no"),
    ],
)  # fmt: skip
def test_bad_fabric_shapes_name_their_field(changes, field, says):
    request = ClusterRequest(**({"gpus": 4_096} | changes))
    with pytest.raises(GeneratorError) as caught:
        preview(request)
    assert caught.value.field == field
    assert says in caught.value.detail


def test_a_dual_homed_pod_is_counted_in_gpus():
    # Dual-homed, a pod's 8,192 GPUs are 16,384 leaf ports on 16 rails: 1,024 servers,
    # 128 a group (128 × 200G down per leaf), 8 groups of 16 leaves = 128 leaves, more
    # than a spine's 64 down-ports (128 × 400G at 1:1). The message counts GPUs.
    with pytest.raises(GeneratorError) as caught:
        preview(ClusterRequest(gpus=100_000, pod_gpus=8_192, dual_homed=True, planes=1))
    assert caught.value.field == "pod_gpus"
    assert "a pod of 8,192 GPUs" in caught.value.detail
    assert "endpoints" not in caught.value.detail


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--link-speeds", "300"),
         "--link-speeds: NVIDIA Spectrum-4 SN5600 (Ethernet) has no 300G ports "
         "(200G, 400G, 800G)"),
        (("--link-speeds", "800"), "--link-speeds: a 800G GPU link exceeds the 400G NIC"),
        (("--gpus", "100000", "--pod-gpus", "100000"), "--pod-gpus: a pod of 100,000 GPUs"),
        (("--pod-gpus", "1024", "--tiers", "2"),
         "--pod-gpus: a fixed pod needs 3 tiers, but 2 were asked for"),
        (("--spine-rack", COLOSSUS_RACK), f"--spine-rack: '{COLOSSUS_RACK}' is not a network"),
        (("--core-rack", "net-qm9700-16"), "--core-rack: net-qm9700-16 holds infiniband"),
        (("--link-speeds", "fast"), "argument --link-speeds: expected speeds in Gb/s"),
    ],
)  # fmt: skip
def test_cli_refuses_bad_shapes_in_one_line(tmp_path, args, says):
    out = tmp_path / "x.dclayout"
    argv = ["--gpus", "4096", *args] if "--gpus" not in args else list(args)
    run = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "new", "-o", str(out), *argv],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert says in lines[0], lines[0]
    assert "Traceback" not in run.stderr
    assert not out.exists()


def test_every_new_field_has_its_option():
    for field in ("link_speeds_gbps", "dual_homed", "pod_gpus", "spine_rack_type",
                  "core_rack_type"):  # fmt: skip
        assert option_of(field) is not None, field


def test_cli_writes_the_hpn_style_design(tmp_path):
    out = tmp_path / "hpn.dclayout"
    run = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "new", "-o", str(out), "--gpus", "15360",
         "--planes", "2", "--link-speeds", "200,400,400", "--oversubscription", "1,15",
         "--pod-gpus", "15360"],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert dclayout.dumps(dclayout.load(out)) == dclayout.dumps(_design(HPN))
