"""Benchmark cable routing: routing + BOM, the incremental re-check, and a networkx baseline.

Usage::

    python3 bench/cabling.py                          # 100,000 GPUs
    python3 bench/cabling.py --gpus 100000,1000000    # each scale in turn
    python3 bench/cabling.py --json

:func:`measure_cabling` takes a generated project and returns its figures:

- ``route_s``: :func:`physics.cabling.route` from scratch (tray graph, all-pairs
  shortest paths over tray nodes, attachment, lengths, media, tray fill),
  ``bom_s`` the BOM from the routed arrays;
- ``check_s``: a full :func:`physics.check` (every solver), ``recheck_s``: a
  :class:`physics.Checker` re-check after moving one GPU rack 0.3 m, and
  ``recheck_without_cabling_s`` the same with the cabling rules and figures
  left out (by disabling its rules; its figures still route, so the difference
  is an upper bound of what cabling adds);
- ``networkx``: :func:`networkx_side_by_side`.

Sub-second steps are timed best of 3 with :func:`time.perf_counter`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BEST_OF = 3
SAMPLE_LINKS = 200


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    best = time.perf_counter() - started
    if best < 1.0:
        for _ in range(BEST_OF - 1):
            started = time.perf_counter()
            result = function()
            best = min(best, time.perf_counter() - started)
    return best, result


def _one_rack_move(project: Any) -> tuple[str, float, float]:
    kinds = project.kinds()
    row = int(np.flatnonzero(kinds == "gpu_rack")[0])
    item = project.items.item_at(row)
    dy = 0.3 if item.rotation == 180.0 else -0.3
    return item.id, item.x, item.y + dy


def measure_cabling(project: Any) -> dict[str, Any]:
    """Routing, BOM and incremental re-check figures for ``project`` (left as it was)."""
    from layout.commands import CommandStack, MoveItems
    from physics import Checker, check
    from physics.cabling import route

    out: dict[str, Any] = {"gpus": project.gpu_count(), "trays": len(project.trays.segments)}
    out["route_s"], result = _timed(lambda: route(project))
    out["bom_s"], bom = _timed(result.bom)
    out["bundles"] = int(sum(len(b.a) for b in result.bundles.values()))
    out["links"] = result.links
    out["bom_links"] = sum(e["count"] for e in bom)
    out["links_by_medium"] = result.links_by_medium()
    out["worst_tray_fill"] = result.worst_fill()
    out["check_s"], _ = _timed(lambda: check(project))

    rack_id, x, y = _one_rack_move(project)
    home = project.items.get(rack_id)
    stack = CommandStack(project)

    def recheck(disabled: tuple[str, ...] = ()) -> float:
        checker = Checker()
        checker.check(project, disabled)
        best = np.inf
        for k in range(BEST_OF * 2):
            stack.push(MoveItems([rack_id], [x if k % 2 == 0 else home.x],
                                 [y if k % 2 == 0 else home.y]))  # fmt: skip
            started = time.perf_counter()
            checker.check(project, disabled)
            best = min(best, time.perf_counter() - started)
        for _ in range(BEST_OF * 2):
            stack.undo()
        return float(best)

    out["recheck_s"] = recheck()
    cabling_rules = ("cabling.reach", "cabling.no_tray_path", "cabling.tray_fill")
    out["recheck_without_cabling_rules_s"] = recheck(cabling_rules)
    out["networkx"] = networkx_side_by_side(project, result)
    return out


def networkx_side_by_side(project: Any, result: Any = None) -> dict[str, Any]:
    """Route links one at a time with networkx on the same tray graph, racks as split points.

    The graph is built the straightforward way (every segment split at the
    racks' tray points, one networkx edge per piece), then one
    ``nx.shortest_path`` per link for a sample of :data:`SAMPLE_LINKS` links,
    walking each path to add the link to its trays. The time per link is
    extrapolated to every link (cables, not bundles). Also checks that the
    sampled lengths equal ours for the links we route over the trays (those run
    along a row never reach the tray; they are counted apart).
    """
    import networkx as nx

    from physics.cabling import _Params, route
    from physics.trays import TrayNetwork

    if result is None:
        result = route(project)
    started = time.perf_counter()
    net = TrayNetwork(project.trays)
    graph = net.to_networkx()
    rows = np.unique(np.concatenate([result.flat("a"), result.flat("b")]))
    attach = net.attach(project.items.xy[rows])
    node_of: dict[int, Any] = {}
    # Split each piece at its racks' points, in order along the piece.
    by_piece: dict[int, list[tuple[float, int]]] = {}
    for row, piece, t in zip(rows, attach.piece, attach.t, strict=True):
        by_piece.setdefault(int(piece), []).append((float(t), int(row)))
    for piece, racks in by_piece.items():
        u, v = int(net.piece_u[piece]), int(net.piece_v[piece])
        length = float(net.piece_length[piece])
        chain = [(0.0, u)] + [(t, ("rack", row)) for t, row in sorted(racks)] + [(length, v)]
        if (
            graph.has_edge(u, v)
            and int(
                net.edge_piece[np.searchsorted(net.edge_key, min(u, v) * net.n_nodes + max(u, v))]
            )
            == piece
        ):
            graph.remove_edge(u, v)
        for (t1, n1), (t2, n2) in itertools.pairwise(chain):
            graph.add_edge(n1, n2, weight=t2 - t1)
        for _, row in racks:
            node_of[row] = ("rack", row)
    built = time.perf_counter() - started
    a, b, count = result.flat("a"), result.flat("b"), result.flat("count")
    ours, in_row = result.flat("length_m"), result.flat("in_row")
    params = _Params(project)
    hop = dict(zip(rows.tolist(), attach.hop.tolist(), strict=True))
    step = max(1, len(a) // SAMPLE_LINKS)
    sample = np.arange(0, len(a), step)[:SAMPLE_LINKS]
    load: dict[tuple[Any, Any], int] = {}
    mismatches = 0
    along_rows = 0
    started = time.perf_counter()
    links_routed = 0
    for k in sample:
        # One route per cable: the baseline has no notion of bundles.
        for _ in range(min(int(count[k]), 4)):
            path = nx.shortest_path(graph, node_of[int(a[k])], node_of[int(b[k])],
                                    weight="weight")  # fmt: skip
            for e in itertools.pairwise(path):
                load[e] = load.get(e, 0) + 1
            links_routed += 1
        run = nx.path_weight(graph, path, "weight") + hop[int(a[k])] + hop[int(b[k])]
        length = (2 * params.rise + run) * params.stretch + params.loops
        along_rows += bool(in_row[k])
        mismatches += not in_row[k] and not np.isclose(length, ours[k], atol=1e-6)
    per_link = (time.perf_counter() - started) / max(links_routed, 1)
    total = built + per_link * result.links
    return {
        "graph_nodes": graph.number_of_nodes(),
        "graph_edges": graph.number_of_edges(),
        "build_s": built,
        "per_link_s": per_link,
        "sampled_links": links_routed,
        "length_mismatches": int(mismatches),
        "sampled_bundles_along_rows": int(along_rows),
        "all_links_s": total,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpus", default="100000")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from layout.generator import ClusterRequest, generate
    from physics.tray_sizing import size_trays

    report = []
    for gpus in (int(g) for g in args.gpus.split(",")):
        project = generate(ClusterRequest(gpus=gpus), tray_sizer=size_trays)
        figures = measure_cabling(project)
        figures["ratio_networkx_to_ours"] = figures["networkx"]["all_links_s"] / figures["route_s"]
        report.append(figures)
        if not args.json:
            nxf = figures["networkx"]
            print(
                f"{figures['gpus']:,} GPUs: {figures['links']:,} links in "
                f"{figures['bundles']:,} bundles, {figures['trays']:,} tray segments\n"
                f"  route {figures['route_s'] * 1e3:.1f} ms, BOM {figures['bom_s'] * 1e3:.1f} ms, "
                f"full check {figures['check_s'] * 1e3:.0f} ms\n"
                f"  re-check after moving one rack {figures['recheck_s'] * 1e3:.1f} ms "
                f"({figures['recheck_without_cabling_rules_s'] * 1e3:.1f} ms without the "
                "cabling rules)\n"
                f"  networkx, one shortest path per link: {nxf['per_link_s'] * 1e6:.0f} µs/link, "
                f"{nxf['all_links_s']:.1f} s for all links (extrapolated from "
                f"{nxf['sampled_links']}; {nxf['length_mismatches']} length mismatches) → "
                f"{figures['ratio_networkx_to_ours']:,.0f}× ours\n"
                f"  media: {figures['links_by_medium']}; worst tray fill "
                f"{figures['worst_tray_fill']}"
            )
    if args.json:
        json.dump(report, sys.stdout, indent=1, default=float)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
