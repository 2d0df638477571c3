"""The vectorised tray paths equal networkx shortest paths on random small layouts.

The reference is built the straightforward way: every tray segment split at
the points where other segments meet it and where racks join it, one
networkx edge per piece, then one Dijkstra per link.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from layout.project import TrayPlan, TraySegment
from physics.trays import TrayNetwork

coordinate = st.integers(0, 12)


@st.composite
def layouts(draw):
    """Axis-aligned trays on a 1 m grid (crossings, T-joins, loose pieces) and rack points."""
    segments = []
    for k in range(draw(st.integers(1, 9))):
        fixed, start = draw(coordinate), draw(coordinate)
        end = draw(coordinate.filter(lambda v, s=start: v != s))
        if draw(st.booleans()):
            a, b = (start, fixed), (end, fixed)
        else:
            a, b = (fixed, start), (fixed, end)
        segments.append(TraySegment(id=f"T{k}", a=list(map(float, a)), b=list(map(float, b))))
    points = draw(st.lists(st.tuples(st.floats(-1, 13), st.floats(-1, 13)), min_size=2,
                           max_size=8))  # fmt: skip
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, len(points) - 1), st.integers(0, len(points) - 1)),
            min_size=1,
            max_size=12,
        )
    )
    return TrayPlan(segments=segments), np.array(points), pairs


def _reference(plan: TrayPlan, points: np.ndarray):
    """networkx graph with segments split at crossings and rack points; each point's node."""
    lines = [shapely.LineString([s.a, s.b]) for s in plan.segments]
    # Each point joins the nearest segment (the first one on a tie).
    joins = []
    for x, y in points:
        p = shapely.Point(x, y)
        distances = [line.distance(p) for line in lines]
        k = int(np.argmin(distances))
        joins.append((k, lines[k].project(p), distances[k]))
    graph = nx.Graph()
    nodes = []
    for k, line in enumerate(lines):
        offsets = {0.0, line.length}
        for other in lines:
            meet = line.intersection(other)
            offsets.update(line.project(shapely.Point(c)) for c in shapely.get_coordinates(meet))
        offsets.update(off for j, off, _ in joins if j == k)
        ordered = sorted(offsets)
        keys = [_key(line.interpolate(o)) for o in ordered]
        for (o1, k1), (o2, k2) in itertools.pairwise(zip(ordered, keys, strict=True)):
            if k1 != k2:
                w = o2 - o1
                if not graph.has_edge(k1, k2) or graph[k1][k2]["weight"] > w:
                    graph.add_edge(k1, k2, weight=w)
    for k, off, hop in joins:
        nodes.append((_key(lines[k].interpolate(off)), hop))
    return graph, nodes


def _key(point: shapely.Point) -> tuple[float, float]:
    return (round(point.x, 6), round(point.y, 6))


@settings(max_examples=40, deadline=None)
@given(layouts())
def test_vectorised_paths_equal_networkx_shortest_paths(layout):
    plan, points, pairs = layout
    net = TrayNetwork(plan)
    attach = net.attach(points)
    first, second = zip(*pairs, strict=True)
    i, j = np.array(first), np.array(second)
    from physics.trays import Attachment

    paths = net.paths(
        Attachment(attach.piece[i], attach.t[i], attach.hop[i]),
        Attachment(attach.piece[j], attach.t[j], attach.hop[j]),
    )
    graph, nodes = _reference(plan, points)
    for k, (a, b) in enumerate(pairs):
        assert attach.hop[a] == pytest.approx(nodes[a][1], abs=1e-9)
        try:
            expected = nx.shortest_path_length(graph, nodes[a][0], nodes[b][0], weight="weight")
        except nx.NetworkXNoPath:
            expected = np.inf
        assert paths.length[k] == pytest.approx(expected, abs=1e-6)


def test_crossing_trays_are_joined():
    # A plus sign of two trays drawn without a split: they meet in the middle.
    plan = TrayPlan(segments=[
        TraySegment(id="H", a=[0.0, 5.0], b=[10.0, 5.0]),
        TraySegment(id="V", a=[5.0, 0.0], b=[5.0, 10.0]),
    ])  # fmt: skip
    net = TrayNetwork(plan)
    assert net.n_nodes == 5
    attach = net.attach(np.array([[0.0, 5.0], [5.0, 0.0]]))
    from physics.trays import Attachment

    paths = net.paths(
        Attachment(attach.piece[:1], attach.t[:1], attach.hop[:1]),
        Attachment(attach.piece[1:], attach.t[1:], attach.hop[1:]),
    )
    assert paths.length[0] == pytest.approx(10.0)
    assert nx.is_connected(net.to_networkx())


def test_ends_closer_than_a_centimetre_snap_together():
    plan = TrayPlan(segments=[
        TraySegment(id="A", a=[0.0, 0.0], b=[5.0, 0.0]),
        TraySegment(id="B", a=[5.004, 0.003], b=[10.0, 0.0]),
    ])  # fmt: skip
    net = TrayNetwork(plan)
    assert net.n_nodes == 3
    assert nx.is_connected(net.to_networkx())
