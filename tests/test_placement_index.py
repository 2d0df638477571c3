"""The shared placement index follows the model: after any run of edits it answers as an
index built afresh would, without building itself again for each edit."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from layout.floor import Floor
from layout.items import Item
from layout.project import Project
from physics.placement import SIDE_TREE_MAX, PlacementIndex

RACK = "colossus-hgx-h100-lc"  # 0.6 m x 1.2 m, on the floor
BUSWAY = "busway-415v-60a"  # overhead; its length is its length_m property
SWITCH_TYPES = (RACK, BUSWAY)


def grid_project(n: int) -> Project:
    items = [Item(f"R{k}", RACK if k % 5 else BUSWAY, 2.0 + 1.5 * (k % 10), 2.0 + 2.0 * (k // 10))
             for k in range(n)]  # fmt: skip
    return Project(Floor.rectangle(40.0, 40.0), items=items)


def assert_same_as_built_afresh(project: Project) -> None:
    kept = PlacementIndex.for_project(project)
    fresh = PlacementIndex(project).refresh()
    n = len(project.items)
    assert len(kept.footprints) == len(fresh.footprints) == n
    assert shapely.equals_exact(kept.footprints, fresh.footprints, tolerance=0.0).all()
    assert np.array_equal(kept.bounds, fresh.bounds)
    assert np.array_equal(kept.ground, fresh.ground)
    assert kept.outline.equals(fresh.outline)
    # The same answers to point, box and many-shape queries, hits in the same order.
    spots = np.linspace(0, 30, 13)
    probes = [shapely.points(x, y) for x in spots for y in spots]
    probes += [
        shapely.box(x, y, x + 3.0, y + 2.5) for x in range(0, 30, 4) for y in range(0, 30, 5)
    ]
    for probe in probes:
        assert np.array_equal(kept.tree.query(probe, predicate="intersects"),
                              fresh.tree.query(probe, predicate="intersects"))  # fmt: skip
        assert np.array_equal(kept.tree.query(probe, predicate="contains"),
                              fresh.tree.query(probe, predicate="contains"))  # fmt: skip
    many = np.array(probes, dtype=object)
    assert np.array_equal(kept.tree.query(many, predicate="intersects"),
                          fresh.tree.query(many, predicate="intersects"))  # fmt: skip
    assert np.array_equal(kept.tree.query(kept.footprints, predicate="intersects"),
                          fresh.tree.query(fresh.footprints, predicate="intersects"))  # fmt: skip


coordinate = st.floats(0.5, 32.0, allow_nan=False)
edit = st.one_of(
    st.tuples(st.just("move"), st.lists(st.integers(0, 10_000), min_size=1, max_size=4),
              coordinate, coordinate),
    st.tuples(st.just("turn"), st.lists(st.integers(0, 10_000), min_size=1, max_size=4),
              st.sampled_from([0.0, 90.0, 180.0, 270.0, 30.0])),
    st.tuples(st.just("add"), st.integers(1, 3), coordinate, coordinate, st.integers(0, 10_000)),
    st.tuples(st.just("remove"), st.lists(st.integers(0, 10_000), min_size=1, max_size=3)),
    st.tuples(st.just("type"), st.integers(0, 10_000), st.sampled_from(SWITCH_TYPES)),
    st.tuples(st.just("length"), st.integers(0, 10_000), st.floats(1.0, 12.0)),
    st.tuples(st.just("name"), st.integers(0, 10_000)),
)  # fmt: skip


def apply(project: Project, step: tuple, serial: list[int]) -> None:
    items = project.items
    n = len(items)
    kind = step[0]
    if kind == "add":
        _, count, x, y, at = step
        new = []
        for k in range(count):
            serial[0] += 1
            new.append(Item(f"N{serial[0]}", RACK if k % 2 else BUSWAY, x + 0.7 * k, y))
        start = at % (n + 1)
        project.add_items(new, list(range(start, start + count)))
        return
    if n == 0:
        return
    if kind == "move":
        ids = sorted({items.ids[r % n] for r in step[1]})
        ys = [step[3] - 0.4 * k for k in range(len(ids))]
        project.set_positions(ids, [step[2]] * len(ids), ys)
    elif kind == "turn":
        ids = sorted({items.ids[r % n] for r in step[1]})
        project.set_rotations(ids, [step[2]] * len(ids))
    elif kind == "remove":
        project.remove_items(sorted({items.ids[r % n] for r in step[1]}))
    elif kind == "type":
        project.set_item_type(items.ids[step[1] % n], step[2])
    elif kind == "length":
        item_id = items.ids[step[1] % n]
        project.set_item_properties(item_id, {"length_m": step[2]})
    else:
        project.set_item_name(items.ids[step[1] % n], "renamed")


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 40), st.lists(edit, max_size=12))
def test_the_index_kept_up_to_date_equals_one_built_afresh(n, edits):
    project = grid_project(n)
    index = PlacementIndex.for_project(project)
    serial = [0]
    for step in edits:
        apply(project, step, serial)
        assert PlacementIndex.for_project(project) is index
        assert_same_as_built_afresh(project)


def test_a_move_updates_the_index_without_building_it_again():
    project = grid_project(30)
    index = PlacementIndex.for_project(project)
    built = index.tree
    project.set_positions(["R3"], [25.0], [30.0])
    assert PlacementIndex.for_project(project) is index
    assert index.side_count == 1
    assert index.tree is not built  # a new view of the footprints, over the same big tree
    assert index.tree.query(shapely.points(25.0, 30.0), predicate="intersects").tolist() == [3]
    assert index.tree.query(shapely.points(6.5, 2.5), predicate="intersects").tolist() == []
    project.remove_items(["R0"])
    assert index.side_count == 1
    assert index.tree.query(shapely.points(25.0, 30.0), predicate="intersects").tolist() == [2]
    assert_same_as_built_afresh(project)


def test_the_big_tree_is_built_again_once_many_footprints_changed():
    project = grid_project(40)
    index = PlacementIndex.for_project(project)
    ids = list(project.items.ids)
    for step in range(SIDE_TREE_MAX // len(ids) + 2):
        project.set_positions(ids, [2.0 + 0.75 * k for k in range(len(ids))],
                              [20.0 + 0.01 * step] * len(ids))  # fmt: skip
    assert PlacementIndex.for_project(project) is index
    assert index.side_count == 0
    assert_same_as_built_afresh(project)


def test_a_change_the_index_did_not_hear_of_makes_it_build_again():
    project = grid_project(10)
    index = PlacementIndex.for_project(project)
    project.items.set_positions(["R1"], [30.0], [30.0])  # under the project's events
    assert PlacementIndex.for_project(project) is index
    assert_same_as_built_afresh(project)
    assert index.tree.query(shapely.points(30.0, 30.0), predicate="intersects").tolist() == [1]
