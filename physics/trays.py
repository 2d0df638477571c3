"""The overhead tray network: graph, attachment of racks, shortest paths and tray fill.

Owns the geometry of cable routing, nothing about media or rules. Tray
segments are split where they meet (end points, crossings, an end on another
segment's run), points closer than :data:`SNAP_M` are one node, and the
pieces between nodes are the graph's edges (weight = length). Distances and
predecessors between all nodes are computed once with scipy's Dijkstra on a
CSR matrix; they depend only on the trays, so a checker keeps them while racks
move.

A rack joins the network at the point of the nearest tray segment closest to
its centre. That point lies on one piece (between nodes ``u`` and ``v``), so
the tray path between two racks is the shortest of the four ways out of the
two pieces (``t₁ + D[u₁, u₂] + t₂`` and the like) or the run along their
common piece: exactly the shortest path of a graph whose pieces are split at
the racks' points, without rebuilding the graph when a rack moves.

Tray fill: a cable's cross-section is counted on the part of each segment it
runs along. Whole pieces on a shortest path get their loads by subtree sums
over each source node's shortest-path tree (no path is walked link by link);
the partial runs from a rack's point to the end of its piece are intervals
along the segment; a sweep over each segment gives its fullest point. Loads
are whole multiples of :data:`AREA_UNIT_MM2`, so sums and differences are
exact and an incremental update equals a full computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from layout.project import TrayPlan

SNAP_M = 0.01
"""Tray points closer than this (metres) are one node."""

AREA_UNIT_MM2 = 1e-3
"""Cable cross-sections are counted in whole multiples of this area."""


@dataclass(frozen=True)
class Attachment:
    """Where racks join the trays: piece, distance from the piece's ``u`` end, hop (m)."""

    piece: np.ndarray
    t: np.ndarray
    hop: np.ndarray


@dataclass(frozen=True)
class Paths:
    """Tray paths between pairs of attachments.

    ``length`` is the run along the trays (inf without a path); ``end1``/``end2``
    are the nodes where the path leaves the first piece and enters the second
    (-1 when it runs along one piece directly or has no path).
    """

    length: np.ndarray
    end1: np.ndarray
    end2: np.ndarray

    @property
    def found(self) -> np.ndarray:
        return np.isfinite(self.length)

    @property
    def direct(self) -> np.ndarray:
        return self.found & (self.end1 < 0)


class TrayNetwork:
    """The graph of a tray plan; build it once per plan with :meth:`build`."""

    def __init__(self, trays: TrayPlan) -> None:
        a, b, width, depth = trays.arrays()
        self.segment_ids = [s.id for s in trays.segments]
        self.seg_a, self.seg_b = a, b
        self.width, self.depth = width, depth
        self.lines = shapely.linestrings(np.stack([a, b], axis=1)) if len(a) else np.empty(0)
        self.seg_length = np.hypot(*(b - a).T) if len(a) else np.empty(0)
        self._split()
        self._shortest_paths()

    @staticmethod
    def build(trays: TrayPlan) -> TrayNetwork:
        return TrayNetwork(trays)

    # -- construction ------------------------------------------------------------
    def _split(self) -> None:
        """Nodes (snapped split points) and pieces (edges between consecutive nodes)."""
        n_seg = len(self.segment_ids)
        seg = [np.arange(n_seg), np.arange(n_seg)]
        off = [np.zeros(n_seg), self.seg_length]
        if n_seg > 1:
            tree = shapely.STRtree(self.lines)
            i, j = tree.query(self.lines, predicate="intersects")
            keep = i < j
            i, j = i[keep], j[keep]
            meet = shapely.intersection(self.lines[i], self.lines[j])
            coords, pair = shapely.get_coordinates(meet, return_index=True)
            points = shapely.points(coords)
            for side in (i, j):
                lines = self.lines[side[pair]]
                seg.append(side[pair])
                off.append(shapely.line_locate_point(lines, points))
        seg_all = np.concatenate(seg)
        off_all = np.clip(np.concatenate(off), 0, self.seg_length[seg_all])
        direction = np.zeros((n_seg, 2))
        nonzero = self.seg_length > 0
        direction[nonzero] = (self.seg_b - self.seg_a)[nonzero] / self.seg_length[nonzero, None]
        xy = self.seg_a[seg_all] + direction[seg_all] * off_all[:, None]
        # Snap: points within SNAP_M of each other (transitively) are one node.
        if len(xy):
            close = cKDTree(xy).query_pairs(SNAP_M, output_type="ndarray")
            graph = coo_matrix(
                (np.ones(len(close)), (close[:, 0], close[:, 1])), shape=(len(xy), len(xy))
            )
            _, label = connected_components(graph, directed=False)
        else:
            label = np.empty(0, np.intp)
        _, first, node = np.unique(label, return_index=True, return_inverse=True)
        self.node_xy = xy[first]
        self.n_nodes = len(first)
        # Pieces: consecutive split points of a segment with different nodes.
        order = np.lexsort((off_all, seg_all))
        s, o, nd = seg_all[order], off_all[order], node[order]
        same_seg = s[1:] == s[:-1]
        real = same_seg & (nd[1:] != nd[:-1])
        self.piece_seg = s[:-1][real]
        self.piece_start = o[:-1][real]
        self.piece_end = o[1:][real]
        self.piece_u = nd[:-1][real]
        self.piece_v = nd[1:][real]
        self.piece_length = self.piece_end - self.piece_start
        counts = np.bincount(self.piece_seg, minlength=n_seg)
        self.seg_first_piece = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
        self.seg_pieces = counts
        # Canonical edges: one per node pair (the shortest piece joining them).
        lo = np.minimum(self.piece_u, self.piece_v)
        hi = np.maximum(self.piece_u, self.piece_v)
        key = lo.astype(np.int64) * max(self.n_nodes, 1) + hi
        by_key = np.lexsort((self.piece_length, key))
        unique_key, first_of_key = np.unique(key[by_key], return_index=True)
        self.edge_key = unique_key
        self.edge_piece = by_key[first_of_key]
        """The piece carrying each canonical edge's loads."""

    def _shortest_paths(self) -> None:
        n = self.n_nodes
        p = self.edge_piece
        u, v, w = self.piece_u[p], self.piece_v[p], self.piece_length[p]
        self.csr = csr_matrix((w, (u, v)), shape=(n, n))
        if n:
            self.dist, pred = dijkstra(self.csr, directed=False, return_predecessors=True)
            self.pred = pred.astype(np.int32)
        else:
            self.dist = np.empty((0, 0))
            self.pred = np.empty((0, 0), np.int32)

    @cached_property
    def far_first(self) -> np.ndarray:
        """Per source node, every node from the farthest (unreachable first) to the source."""
        return np.argsort(-self.dist, axis=1, kind="stable").astype(np.int32)

    @cached_property
    def _attach_rows(self) -> np.ndarray:
        return np.flatnonzero(self.seg_pieces > 0)

    @cached_property
    def _attach_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.lines[self._attach_rows])

    @cached_property
    def _piece_key(self) -> np.ndarray:
        span = float(self.seg_length.max(initial=0.0)) + 1.0
        return self.piece_seg * span + self.piece_start

    def to_networkx(self) -> Any:
        """The tray graph as a networkx graph (nodes with ``pos``, edges with ``weight``)."""
        import networkx as nx

        graph = nx.Graph()
        for k, (x, y) in enumerate(self.node_xy):
            graph.add_node(k, pos=(float(x), float(y)))
        p = self.edge_piece
        for u, v, w, s in zip(self.piece_u[p], self.piece_v[p], self.piece_length[p],
                              self.piece_seg[p], strict=True):  # fmt: skip
            graph.add_edge(int(u), int(v), weight=float(w), segment=self.segment_ids[s])
        return graph

    # -- racks -----------------------------------------------------------------------
    @property
    def empty(self) -> bool:
        return len(self.piece_seg) == 0

    def attach(self, xy: np.ndarray) -> Attachment:
        """Join points (racks' centres) to their nearest tray points."""
        n = len(xy)
        if n == 0 or self.empty:
            return Attachment(np.full(n, -1, np.intp), np.zeros(n), np.zeros(n))
        points = shapely.points(xy)
        (which, hit), distance = self._attach_tree.query_nearest(
            points, all_matches=True, return_distance=True
        )
        seg = self._attach_rows[hit]
        # Equidistant segments: the first in plan order, whatever else is queried.
        order = np.lexsort((seg, which))
        _, first = np.unique(which[order], return_index=True)
        pick = order[first]
        seg, hop = seg[pick], distance[pick]
        offset = shapely.line_locate_point(self.lines[seg], points)
        span = float(self.seg_length.max(initial=0.0)) + 1.0
        piece = np.searchsorted(self._piece_key, seg * span + offset, side="right") - 1
        piece = np.clip(piece, self.seg_first_piece[seg],
                        self.seg_first_piece[seg] + self.seg_pieces[seg] - 1)  # fmt: skip
        t = np.clip(offset - self.piece_start[piece], 0.0, self.piece_length[piece])
        return Attachment(piece.astype(np.intp), t, hop)

    def paths(self, first: Attachment, second: Attachment) -> Paths:
        """Shortest tray paths between attachments, pairwise (vectorised)."""
        n = len(first.piece)
        length = np.full(n, np.inf)
        end1 = np.full(n, -1, np.intp)
        end2 = np.full(n, -1, np.intp)
        ok = (first.piece >= 0) & (second.piece >= 0)
        if not ok.any():
            return Paths(length, end1, end2)
        p1, p2 = first.piece[ok], second.piece[ok]
        t1, t2 = first.t[ok], second.t[ok]
        ends1 = np.stack([self.piece_u[p1], self.piece_v[p1]])
        ends2 = np.stack([self.piece_u[p2], self.piece_v[p2]])
        out1 = np.stack([t1, self.piece_length[p1] - t1])
        out2 = np.stack([t2, self.piece_length[p2] - t2])
        # Four ways out: (u1|v1) x (u2|v2); candidate k = 2 * side1 + side2.
        cand = np.stack([
            out1[i] + self.dist[ends1[i], ends2[j]] + out2[j] for i in (0, 1) for j in (0, 1)
        ])  # fmt: skip
        best = np.argmin(cand, axis=0)
        cols = np.arange(len(p1))
        best_length = cand[best, cols]
        e1, e2 = ends1[best // 2, cols], ends2[best % 2, cols]
        along = p1 == p2
        direct = along & (np.abs(t1 - t2) <= best_length)
        best_length = np.where(direct, np.abs(t1 - t2), best_length)
        e1 = np.where(direct | ~np.isfinite(best_length), -1, e1)
        e2 = np.where(direct | ~np.isfinite(best_length), -1, e2)
        length[ok], end1[ok], end2[ok] = best_length, e1, e2
        return Paths(length, end1, end2)

    # -- fill ----------------------------------------------------------------------------
    def edge_loads(self, source: np.ndarray, target: np.ndarray, load: np.ndarray) -> np.ndarray:
        """Load on every canonical edge from ``load[i]`` sent along the shortest path
        ``source[i] → target[i]`` (nodes; integer loads, may be negative).

        Subtree sums over each source's shortest-path tree: nodes are visited
        from the farthest to the source, each adding its load to its
        predecessor; the edge to the predecessor carries the node's subtree.
        """
        out = np.zeros(len(self.edge_key), np.int64)
        keep = (source >= 0) & (target >= 0) & (source != target) & (load != 0)
        if not keep.any():
            return out
        sources, row = np.unique(source[keep], return_inverse=True)
        n = self.n_nodes
        w = np.zeros((len(sources), n), np.int64)
        np.add.at(w, (row, target[keep]), load[keep])
        order = self.far_first[sources]
        pred = self.pred[sources]
        rows = np.arange(len(sources))
        # Start at the farthest rank that holds a load in any tree.
        loaded = np.take_along_axis(w, order, axis=1) != 0
        start = int(loaded.argmax(axis=1).min())
        for k in range(start, n - 1):
            node = order[:, k]
            parent = pred[rows, node]
            has = parent >= 0
            if not has.all():
                r = rows[has]
                w[r, parent[has]] += w[r, node[has]]
            else:
                w[rows, parent] += w[rows, node]
        r, node = np.nonzero(w)
        parent = pred[r, node]
        valid = parent >= 0
        r, node, parent = r[valid], node[valid], parent[valid]
        lo, hi = np.minimum(parent, node), np.maximum(parent, node)
        edge = np.searchsorted(self.edge_key, lo.astype(np.int64) * max(n, 1) + hi)
        np.add.at(out, edge, w[r, node])
        return out

    def piece_intervals(self, edge_load: np.ndarray) -> tuple[np.ndarray, ...]:
        """Canonical edges' loads as intervals (segment, start, end, load) along segments."""
        p = self.edge_piece
        return self.piece_seg[p], self.piece_start[p], self.piece_end[p], edge_load

    def partial_intervals(
        self, at: Attachment, end: np.ndarray, other: Attachment | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The run along an attachment's piece to node ``end`` (segment, start, end offsets).

        With ``end`` = -1 and ``other`` given: the direct run between the two
        attachments on their common piece. No attachment: segment -1.
        """
        piece = at.piece
        valid = piece >= 0
        if self.empty or not valid.any():
            return np.full(len(piece), -1, np.intp), np.zeros(len(piece)), np.zeros(len(piece))
        p = np.where(valid, piece, 0)
        start, stop = self.piece_start[p], self.piece_end[p]
        point = start + at.t
        to_u = end == self.piece_u[p]
        lo = np.where(to_u, start, point)
        hi = np.where(to_u, point, stop)
        if other is not None:
            direct = (end < 0) & valid
            other_point = start + other.t
            lo = np.where(direct, np.minimum(point, other_point), lo)
            hi = np.where(direct, np.maximum(point, other_point), hi)
        seg = np.where(valid, self.piece_seg[p], -1)
        return seg, lo, hi


_KEY_PER_M = 1e6
_POSITION_BITS = 33
"""Positions along a segment in a sort key: micrometres, up to 2**33 µm (about 8.6 km)."""


@dataclass(frozen=True)
class FillEvents:
    """Intervals along segments as sorted events: an integer key (segment, position in
    micrometres, removal before addition) and the load each adds (positive) or removes."""

    key: np.ndarray
    load: np.ndarray

    def merged(self, other: FillEvents) -> FillEvents:
        """Both sets of events in one order (loads add, so intervals may come in parts)."""
        key = np.concatenate([self.key, other.key])
        # Two sorted runs: a stable (merging) sort joins them in linear time.
        order = np.argsort(key, kind="stable")
        return FillEvents(key[order], np.concatenate([self.load, other.load])[order])

    def peaks(self, n_segments: int) -> np.ndarray:
        """Largest total load at any point of each segment."""
        peak = np.zeros(n_segments, np.int64)
        if len(self.key) == 0:
            return peak
        running = np.cumsum(self.load)
        seg = self.key >> (_POSITION_BITS + 1)
        starts = np.flatnonzero(np.concatenate([[True], seg[1:] != seg[:-1]]))
        peak[seg[starts]] = np.maximum(np.maximum.reduceat(running, starts), 0)
        return peak


def fill_events(
    seg: np.ndarray, lo: np.ndarray, hi: np.ndarray, load: np.ndarray
) -> FillEvents | None:
    """The intervals as :class:`FillEvents`; None when a position or segment number does
    not fit the key (then :func:`sweep_fill` sorts on three keys)."""
    keep = (seg >= 0) & (hi - lo > 1e-9) & (load != 0)
    s, a, b, w = seg[keep].astype(np.int64), lo[keep], hi[keep], load[keep]
    micrometres = np.round(np.concatenate([a, b]) * _KEY_PER_M)
    if len(s) and not (
        micrometres.min() >= 0 and micrometres.max() < 2**_POSITION_BITS
        and s.max() < 2 ** (62 - _POSITION_BITS)
    ):  # fmt: skip
        return None
    event_seg = np.concatenate([s, s])
    adds = np.concatenate([np.ones(len(s), np.int64), np.zeros(len(s), np.int64)])
    key = (event_seg << (_POSITION_BITS + 1)) | (micrometres.astype(np.int64) << 1) | adds
    order = np.argsort(key)
    return FillEvents(key[order], np.concatenate([w, -w]).astype(np.int64)[order])


def sweep_fill(
    n_segments: int,
    seg: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    load: np.ndarray,
    *,
    only: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Largest total load at any point of each segment from intervals along segments.

    Returns (segments computed, their largest loads): every segment, or those
    in ``only``. Intervals of zero length or load and those off every segment
    (segment -1) are ignored. At a point where one interval ends and another
    starts, the ending one is removed first (positions within a micrometre are
    one point).
    """
    segments = np.arange(n_segments) if only is None else np.asarray(only, np.intp)
    if only is not None:
        kept = np.isin(seg, only)
        seg, lo, hi, load = seg[kept], lo[kept], hi[kept], load[kept]
    events = fill_events(seg, lo, hi, load)
    if events is not None:
        return segments, events.peaks(n_segments)[segments]
    keep = (seg >= 0) & (hi - lo > 1e-9) & (load != 0)
    s, a, b, w = seg[keep], lo[keep], hi[keep], load[keep]
    event_seg = np.concatenate([s, s]).astype(np.int64)
    event_pos = np.concatenate([a, b])
    event_load = np.concatenate([w, -w])
    adds = np.concatenate([np.ones(len(s), np.int8), np.zeros(len(s), np.int8)])
    order = np.lexsort((adds, event_pos, event_seg))
    # Each segment's events sum to zero, so the running total restarts at every segment.
    running = np.cumsum(event_load[order])
    sorted_seg = event_seg[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_seg[1:] != sorted_seg[:-1]]))
    peak = np.zeros(n_segments, np.int64)
    peak[sorted_seg[starts]] = np.maximum(np.maximum.reduceat(running, starts), 0)
    return segments, peak[segments]
