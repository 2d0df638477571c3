"""Every GPU rack type of the default catalog, generated at 1,000, 10,000 and 100,000
GPUs and checked by the real checker: each design holds exactly the racks the GPUs
need, remembers what was asked for, and passes its own checks without an error.

The design's figures are read from the placed items and the check, never from the
generator's own arithmetic: the rack count asked of each is worked out here as
``ceil(N / GPUs per rack)`` (whole racks; the last array may be partial).
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from layout.catalog import GpuRackType, default_catalog
from layout.generator import ClusterRequest, generate
from physics import check
from physics.tray_sizing import size_trays

CATALOG = default_catalog()
RACK_TYPES = [t.id for t in CATALOG.of_kind("gpu_rack")]
SIZES = [1_000, 10_000, 100_000]
"""The 100k designs take 0.5-1.5 s each to lay out and check: fast enough for every run."""
ALLOWED_WARNINGS = {
    # The air-cooled DGX racks put 40-57 kW into the air, above an ordinary rack's limit:
    # the rack type's own, reported on every rack (catalog notes say so).
    "cooling.air_limit",
    # NVL72 racks need about one 200 kW in-row CDU each; in the largest halls a few racks
    # end up just beyond the 30 m loop rule from theirs.
    "cooling.cdu_loop",
    # The screening model finds a few racks beside the network block above the
    # recommended (not the allowable) inlet temperature.
    "thermal.inlet",
}


def test_the_matrix_covers_every_rack_type_of_the_catalog():
    assert set(RACK_TYPES) == {
        "colossus-hgx-h100-lc", "dgx-h100-air-4", "dgx-h200-air-4", "dgx-b200-air-4",
        "gb200-nvl72", "gb300-nvl72",
    }  # fmt: skip


@pytest.mark.parametrize(("rack_type", "gpus"), [(t, n) for t in RACK_TYPES for n in SIZES])
def test_generated_design_holds_the_gpus_asked_for_and_checks_clean(rack_type, gpus):
    rack = CATALOG[rack_type]
    assert isinstance(rack, GpuRackType)
    project = generate(ClusterRequest(gpus=gpus, rack_type=rack_type), tray_sizer=size_trays)
    results = check(project)
    m = results.metrics

    racks = math.ceil(gpus / rack.gpus)
    placed = Counter(item.type_id for item in project.items)
    assert placed[rack_type] == m["racks"] == racks
    assert m["gpus"] == racks * rack.gpus >= gpus > (racks - 1) * rack.gpus
    assert project.fabric.requested_gpus == m["gpus_requested"] == gpus

    # Coherent: one domain, within radix, capacity, oversubscription, reach and latency.
    assert m["coherent"] is True
    assert m["links_per_tier"]["gpu-leaf"] == m["gpus"] * rack.nics_per_gpu * m["planes"]
    assert m["max_switch_hops"] == 2 * m["tiers"] - 1
    # Every GPU rack is served by a leaf rack in every plane.
    served = Counter(r for served in project.fabric.assignments.values() for r in served)
    assert set(served.values()) == {m["planes"]}
    assert len(served) == racks

    # NVLink domains: a whole NVL72 rack, else one server.
    domain = rack.scale_up_gpus or rack.gpus_per_server
    assert m["scale_up_gpus"] == domain
    assert m["scale_up_domains"] == racks * rack.gpus // domain

    errors = [f"{v.rule}: {v.message}" for v in results.violations if v.severity == "error"]
    assert errors == []
    assert {v.rule for v in results.violations} <= ALLOWED_WARNINGS

    # Every run of in-hall cooling units (side by side in a row, between cross aisles)
    # holds both kinds where the design has both: CRAHs bunched in some runs leave the
    # air heat of racks far from them without supply air (an NVL72 rack still puts 15 %
    # of its heat into the air), CDUs bunched leave racks beyond their loop distance.
    kinds = {t.id for t in CATALOG.of_kind("cooling") if t.role in {"crah", "cdu"}}
    by_row: dict[float, list[tuple[float, float, str]]] = {}
    for item in project.items:
        if item.type_id in kinds:
            width = CATALOG[item.type_id].footprint.width_m
            by_row.setdefault(round(item.y, 3), []).append((item.x, width, item.type_id))
    runs: list[set[str]] = []
    for units in by_row.values():
        units.sort()
        end = -math.inf
        for x, width, type_id in units:
            if x - width / 2 > end + 0.01:
                runs.append(set())
            runs[-1].add(type_id)
            end = x + width / 2
    in_hall = set().union(*runs)
    assert runs
    assert all(run == in_hall for run in runs)
