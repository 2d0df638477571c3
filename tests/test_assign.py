"""Automatic re-assignment of leaves, feeds and cooling on an edited layout."""

from __future__ import annotations

import pytest

from layout.assign import auto_assign_fabric, auto_assign_plant
from layout.commands import CommandStack, MoveItems, ReplaceSection
from layout.facility import design_load_kw
from layout.generator import ClusterRequest, generate
from physics import check
from physics.tray_sizing import size_trays


@pytest.fixture(scope="module")
def project():
    return generate(ClusterRequest(gpus=4_096), tray_sizer=size_trays)


def test_regenerated_fabric_keeps_the_design_coherent(project):
    spec = auto_assign_fabric(project)
    served = sorted(r for racks in spec.assignments.values() for r in racks)
    gpu_racks = sorted(i.id for i in project.items if i.type_id == "colossus-hgx-h100-lc")
    assert served == gpu_racks
    copy = project.snapshot()
    CommandStack(copy).push(ReplaceSection("fabric", spec))
    assert check(copy).metrics["coherent"] is True


def test_leaf_follows_a_rack_moved_next_to_another_leaf(project):
    copy = project.snapshot()
    stack = CommandStack(copy)
    # Empty L00002's arrays: its racks must go to the leaf racks with room (L00001 is full).
    leaves = dict(copy.fabric.assignments)
    moved = leaves["L00002"][0]
    stack.push(
        ReplaceSection(
            "fabric",
            copy.fabric.model_copy(
                update={"assignments": {k: [r for r in v if r != moved] for k, v in leaves.items()}}
            ),
        )
    )
    assert check(copy).metrics["coherent"] is False
    spec = auto_assign_fabric(copy)
    assert any(moved in racks for racks in spec.assignments.values())
    stack.push(ReplaceSection("fabric", spec))
    assert check(copy).metrics["coherent"] is True


def test_feeds_are_nearest_busways_within_their_derated_rating(project):
    power, cooling = auto_assign_plant(project)
    catalog = project.catalog
    load: dict[str, float] = {}
    for consumer, feed in power.feeds.items():
        if project.catalog[project.items.get(consumer).type_id].kind == "power":
            continue
        t = catalog[project.items.get(consumer).type_id]
        if t.kind in ("gpu_rack", "network_rack"):
            assert feed.a, consumer
            assert feed.b, consumer
            assert feed.a != feed.b, consumer
            assert project.items.get(feed.a).properties["side"] == "A"
            assert project.items.get(feed.b).properties["side"] == "B"
        for bus in (feed.a, feed.b):
            if bus and catalog[project.items.get(bus).type_id].role == "busway":
                load[bus] = load.get(bus, 0.0) + design_load_kw(t, catalog)
    for bus, kw in load.items():
        rating = catalog[project.items.get(bus).type_id].capacity_kw
        assert kw <= 0.8 * rating + 1e-6, bus
    # Every rack's air heat has a CRAH; the Colossus rack's liquid stays in its own CDU.
    racks = [i.id for i in project.items if i.type_id == "colossus-hgx-h100-lc"]
    assert set(racks) <= set(cooling.crah)
    assert not set(racks) & set(cooling.cdu)


def test_a_moved_rack_is_fed_from_its_new_row(project):
    import shapely

    copy = project.snapshot()
    other = copy.items.get("R00064")
    # Put R00001 into the hot aisle behind R00064's row, far from its own row.
    CommandStack(copy).push(MoveItems(["R00001"], [other.x], [other.y + 1.5]))
    power, _ = auto_assign_plant(copy)
    chosen = power.feeds["R00001"].a
    spot = shapely.Point(other.x, other.y + 1.5)
    footprints = dict(zip(copy.items.ids, copy.footprints(), strict=True))
    side_a = [i.id for i in copy.items if i.properties.get("side") == "A"]
    nearest = min(side_a, key=lambda b: spot.distance(footprints[b]))
    assert spot.distance(footprints[chosen]) == pytest.approx(spot.distance(footprints[nearest]))
    assert chosen != project.power.feeds["R00001"].a
