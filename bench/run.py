"""Benchmark the headless pipeline and the GUI against DESIGN.md's "Scale and speed" budgets.

Usage::

    python3 bench/run.py                          # 100,000 GPUs, then the GUI steps
    python3 bench/run.py --gpus 100000,1000000    # each scale in its own process
    python3 bench/run.py --gpus 100000 --json     # the figures as JSON
    python3 bench/run.py --no-gui                 # the headless steps only

For each scale, in a fresh process (so peak memory is that scale's own):
generate (``main.py new``'s layout + fabric + assignments + plant), a full
check, a re-check after moving one GPU rack with
:class:`layout.commands.MoveItems`, save, load, the file's size and the peak
resident memory (``ru_maxrss``). Sub-second steps are timed best of 3 with
:func:`time.perf_counter`.

GUI steps, in a child process with ``QT_QPA_PLATFORM=offscreen`` on the
bundled 100k-GPU example (:func:`measure_gui`): open to first paint (load the
file, build the main window, show it and paint it once fully; the imports are
timed apart), a full-view repaint (the scene rendered into a ``QImage`` of the
view's size, best of 3, at the opening zoom and zoomed in to single racks) and
moving one rack through the command path with its re-check
(``UndoStack.push_command(MoveItems)``, then a check of a snapshot with the
incremental checker the GUI's background check uses).

Baseline: the same coherence questions (one domain? hop diameter?) answered
the straightforward way, with networkx on a graph of every GPU and every
switch: ``is_connected`` plus a breadth-first search from every GPU. The
searches are timed on a sample of GPUs and extrapolated to all of them; the
ratio to our fabric derivation and connectivity check is printed.

A mouse press and release on a rack in the real GUI, at 100k and 1M GPUs, is
measured by ``bench/press.py``.

The default request (Colossus rack, SN5600) picks its own fabric planes: one
plane at 400G holds 128³/4 = 524,288 GPUs, so 1M GPUs run two planes at 200G.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# DESIGN.md, "Scale and speed" (2-core development machine): (100k, 1M).
BUDGETS: dict[str, tuple[float, float]] = {
    "new": (2.0, 15.0),
    "check": (1.0, 5.0),
    "recheck": (0.050, 0.100),
    "save": (1.0, 10.0),
    "load": (1.0, 10.0),
    "peak_mb": (1024.0, 4096.0),
}
BEST_OF = 3
SUB_SECOND = 1.0
# DESIGN.md, "Scale and speed": GUI open to first paint / full-view repaint, 100k GPUs.
GUI_BUDGETS: dict[str, float] = {
    "open_to_first_paint": 3.0,
    "repaint": 0.030,
    "repaint_zoomed": 0.030,
    "move_and_recheck": 0.050,
}
EXAMPLE = ROOT / "assets" / "examples" / "colossus-100k.dclayout"


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds for one call (best of 3 when a call takes under a second) and its last result."""
    started = time.perf_counter()
    result = function()
    best = time.perf_counter() - started
    if best < SUB_SECOND:
        for _ in range(BEST_OF - 1):
            started = time.perf_counter()
            result = function()
            best = min(best, time.perf_counter() - started)
    return best, result


def _request(gpus: int) -> Any:
    from layout.generator import ClusterRequest

    return ClusterRequest(gpus=gpus)


def _describe(project: Any) -> str:
    spec = project.fabric
    racks = next(iter(spec.assignments.values()), [])
    return (
        f"{project.catalog[project.items.type_ids[0]].id}, {spec.switch_type} at "
        f"{spec.nic_speed_gbps / spec.planes:g}G x {spec.planes} plane(s), "
        f"{len(racks)} racks per leaf rack"
    )


SAMPLE_SEARCHES = 8


def networkx_baseline(project: Any) -> dict[str, float]:
    """Connectivity and hop diameter by graph search over every GPU and switch."""
    import networkx as nx
    import numpy as np

    from physics.fabric import derive

    fabric = derive(project)
    started = time.perf_counter()
    graph = nx.Graph()
    first_switch: dict[int, int] = {}
    next_node = 0
    for row in np.flatnonzero(fabric.switches_in):
        first_switch[int(row)] = next_node
        next_node += int(fabric.switches_in[row])
    gpu_node = next_node
    gpus = []
    to_leaf = fabric.links["gpu-leaf"]
    for b, count in zip(to_leaf.b, to_leaf.count, strict=True):
        n_leaf = int(fabric.switches_in[b])
        for k in range(int(count)):
            # Rail-optimized: GPU k of the rack lands on leaf k mod the rack's leaves.
            graph.add_edge(gpu_node, first_switch[int(b)] + k % n_leaf)
            gpus.append(gpu_node)
            gpu_node += 1
    for tier in ("leaf-spine", "spine-core"):
        bundle = fabric.links[tier]
        for a, b, count in zip(bundle.a, bundle.b, bundle.count, strict=True):
            na, nb = int(fabric.switches_in[a]), int(fabric.switches_in[b])
            for k in range(int(count)):
                graph.add_edge(first_switch[int(a)] + k % na, first_switch[int(b)] + (k // na) % nb)
    built = time.perf_counter() - started
    started = time.perf_counter()
    connected = nx.is_connected(graph)
    connectivity = time.perf_counter() - started
    step = max(1, len(gpus) // SAMPLE_SEARCHES)
    sample = gpus[::step][:SAMPLE_SEARCHES]
    started = time.perf_counter()
    diameter = 0
    for source in sample:
        lengths = nx.single_source_shortest_path_length(graph, source)
        diameter = max(diameter, *lengths.values())
    per_search = (time.perf_counter() - started) / len(sample)
    return {
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "build_s": built,
        "connected": connected,
        "connectivity_s": connectivity,
        "search_s": per_search,
        "all_searches_s": per_search * len(gpus),
        # A GPU-to-GPU path of e edges passes e - 1 switches.
        "hop_diameter_sampled": diameter - 1,
        "total_s": built + connectivity + per_search * len(gpus),
    }


def ours(project: Any) -> float:
    """Our answer to the same questions: derive the fabric, find cut-off racks and the hop
    diameter (shortest paths between every pair of leaf racks, by classes of racks)."""
    from physics.fabric import cut_off_rows, derive, switch_hops

    fabric = derive(project)
    cut_off_rows(fabric, len(project.items))
    return switch_hops(fabric).worst


def _one_rack_move(project: Any, there: bool = True) -> Any:
    """A MoveItems that shifts one GPU rack 0.3 m into its cold aisle (still clear),
    or back when ``there`` is false."""
    from layout.commands import MoveItems

    kinds = project.kinds()
    row = next(r for r in range(len(project.items)) if kinds[r] == "gpu_rack")
    item = project.items.item_at(row)
    # Row A (180°) has its cold aisle below (+y), row B (0°) above.
    dy = 0.3 if item.rotation == 180.0 else -0.3
    return MoveItems.by(project, [item.id], 0.0, dy if there else -dy)


class _Mover:
    """Each call moves the rack the other way and re-checks, so every timed re-check
    follows a real move (never a repeat of an unchanged project)."""

    def __init__(self, project: Any, push: Any, check: Any) -> None:
        self.project, self.push, self.check, self.there = project, push, check, True

    def __call__(self) -> Any:
        self.push(_one_rack_move(self.project, self.there))
        self.there = not self.there
        return self.check(self.project.snapshot())


def measure(gpus: int) -> dict[str, Any]:
    """Every figure for one scale (run in its own process for a fair peak memory)."""
    from layout import dclayout
    from layout.commands import CommandStack
    from layout.generator import generate
    from physics import Checker, check
    from physics.tray_sizing import size_trays

    request = _request(gpus)
    out: dict[str, Any] = {"gpus_requested": gpus}
    out["new"], project = _timed(lambda: generate(request, tray_sizer=size_trays))
    out["request"] = _describe(project)
    out["check"], results = _timed(lambda: check(project))
    m = results.metrics
    out |= {
        "gpus": m["gpus"],
        "racks": m["racks"],
        "network_racks": m["network_racks"],
        "tiers": m["tiers"],
        "coherent": m["coherent"],
        "violations": len(results.violations),
    }

    stack = CommandStack(project)
    checker = Checker()
    checker.check(project)
    out["recheck"], moved = _timed(_Mover(project, stack.push, checker.check))
    out["recheck_violations"] = len(moved.violations)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.dclayout"
        out["save"], _ = _timed(lambda: dclayout.save(project, path))
        out["file_mb"] = path.stat().st_size / 2**20
        out["load"], loaded = _timed(lambda: dclayout.load(path))
        out["load_items_match"] = len(loaded.items) == len(project.items)
    # Linux reports ru_maxrss in kilobytes; taken before the baseline's big graph.
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["ours_s"], out["ours_max_hops"] = _timed(lambda: ours(project))
    out["networkx"] = networkx_baseline(project)
    from bench.cabling import measure_cabling
    from bench.plant import measure_plant

    out["cabling"] = measure_cabling(project)
    out["plant"] = measure_plant(project)
    return out


def measure_gui(path: Path = EXAMPLE) -> dict[str, Any]:
    """GUI figures on ``path`` (run in a child process with the offscreen platform)."""
    started = time.perf_counter()
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication

    import physics
    from gui.main_window import MainWindow
    from layout import dclayout

    app = QApplication.instance() or QApplication([])
    out: dict[str, Any] = {"imports": time.perf_counter() - started}

    started = time.perf_counter()
    project = dclayout.load(path)
    window = MainWindow(project, path)
    window.resize(1440, 900)
    window.show()
    app.processEvents()
    window.repaint()  # one full, synchronous paint of the window and the canvas
    out["open_to_first_paint"] = time.perf_counter() - started
    out["items"] = len(project.items)
    out["gpus"] = project.gpu_count()

    view, scene = window.view, window.scene
    size = view.viewport().size()
    out["view_px"] = [size.width(), size.height()]

    def repaint() -> QImage:
        image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
        painter = QPainter(image)
        painter.setRenderHints(view.renderHints())
        visible = view.mapToScene(view.viewport().rect()).boundingRect()
        scene.render(painter, QRectF(image.rect()), visible)
        painter.end()
        return image

    out["px_per_m"] = view.px_per_m()
    out["repaint"], _ = _timed(repaint)
    hall = scene.floor_rect()
    view.show_area(QRectF(hall.center().x() - 12, hall.center().y() - 7, 24, 14))
    out["px_per_m_zoomed"] = view.px_per_m()
    out["repaint_zoomed"], _ = _timed(repaint)

    # The check the GUI runs after an edit: the incremental checker, warmed once.
    engine = physics.Checker()
    engine.check(project.snapshot())
    mover = _Mover(project, window.undo_stack.push_command, engine.check)
    out["move_and_recheck"], results = _timed(mover)
    out["move_violations"] = len(results.violations)
    out["incremental"] = True
    window.checker.shutdown()
    window.undo_stack.setClean()
    window.close()
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def gui_report(figures: dict[str, Any]) -> str:
    width, height = figures["view_px"]
    lines = [
        f"GUI on the bundled example ({figures['gpus']:,} GPUs, {figures['items']:,} items), "
        f"offscreen, canvas {width} x {height} px",
        _row("step", "measured", "budget", ""),
    ]
    steps = (
        ("open_to_first_paint", "open to first paint"),
        ("repaint", f"full-view repaint ({figures['px_per_m']:.1f} px/m)"),
        ("repaint_zoomed", f"full-view repaint ({figures['px_per_m_zoomed']:.0f} px/m)"),
        ("move_and_recheck", "move one rack + re-check"),
    )
    for step, label in steps:
        value, budget = figures[step], GUI_BUDGETS[step]
        verdict = "ok" if value <= budget else "OVER BUDGET"
        lines.append(_row(label, _seconds(value), _seconds(budget), verdict))
    lines.append(_row("imports (PySide6, numpy, ...)", _seconds(figures["imports"]), "—", ""))
    cold = figures["imports"] + figures["open_to_first_paint"]
    budget = GUI_BUDGETS["open_to_first_paint"]
    lines.append(
        _row("process start to first paint", _seconds(cold), _seconds(budget),
             "ok" if cold <= budget else "OVER BUDGET")
    )  # fmt: skip
    lines.append(_row("peak memory (ru_maxrss)", f"{figures['peak_mb']:,.0f} MB", "—", ""))
    kind = "incremental physics.Checker" if figures["incremental"] else "physics.check"
    lines.append(
        f"  re-check by {kind} on a snapshot, as the GUI's background check does; "
        f"{figures['move_violations']} violation(s) after the move"
    )
    return "\n".join(lines)


def _run_gui_child(timeout: float) -> dict[str, Any] | str:
    import os

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    try:
        child = subprocess.run(
            [sys.executable, __file__, "--gui-single"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return f"GUI: stopped after {timeout:.0f} s (timeout)"
    if child.returncode != 0:
        reason = (child.stderr.strip().splitlines() or ["no output"])[-1]
        return f"GUI: failed (exit {child.returncode}): {reason}"
    return json.loads(child.stdout.strip().splitlines()[-1])


def _budget(step: str, gpus: int) -> float | None:
    small, large = BUDGETS[step]
    if gpus <= 100_000:
        return small
    if gpus <= 1_000_000:
        return large
    return None


def _seconds(value: float) -> str:
    return f"{value * 1000:,.1f} ms" if value < 1 else f"{value:,.2f} s"


def _row(label: str, figure: str, budget: str, verdict: str) -> str:
    return f"  {label:<34} {figure:>12}   {budget:>10}   {verdict}"


def report(figures: dict[str, Any]) -> str:
    gpus = figures["gpus_requested"]
    lines = [
        f"{gpus:,} GPUs requested: {figures['gpus']:,} GPUs in {figures['racks']:,} racks, "
        f"{figures['network_racks']:,} network racks, {figures['tiers']} tiers, "
        f"coherent {figures['coherent']}, {figures['violations']} violation(s)",
        f"  ({figures['request']})",
        _row("step", "measured", "budget", ""),
    ]
    for step, label in (
        ("new", "generate (new)"),
        ("check", "full check"),
        ("recheck", "re-check after moving one rack"),
        ("save", "save"),
        ("load", "load"),
    ):
        value = figures[step]
        budget = _budget(step, gpus)
        verdict = "" if budget is None else ("ok" if value <= budget else "OVER BUDGET")
        lines.append(
            _row(label, _seconds(value), "—" if budget is None else _seconds(budget), verdict)
        )
    lines.append(_row("file size", f"{figures['file_mb']:,.1f} MB", "—", "(loader max 512 MB)"))
    budget = _budget("peak_mb", gpus)
    verdict = "" if budget is None else ("ok" if figures["peak_mb"] <= budget else "OVER BUDGET")
    lines.append(
        _row(
            "peak memory (ru_maxrss)",
            f"{figures['peak_mb']:,.0f} MB",
            "—" if budget is None else f"{budget:,.0f} MB",
            verdict,
        )
    )
    share = figures["recheck"] / figures["check"] if figures["check"] else 1.0
    lines.append(
        f"  re-check by physics.Checker after a move: {share:.0%} of a full check; "
        f"{figures['recheck_violations']} violation(s) after the move"
    )
    cab = figures["cabling"]
    nx_cab = cab["networkx"]
    ratio = nx_cab["all_links_s"] / cab["route_s"] if cab["route_s"] else float("inf")
    lines.append(
        f"  cabling: {cab['links']:,} links in {cab['bundles']:,} rack-pair bundles routed in "
        f"{_seconds(cab['route_s'])}, BOM {_seconds(cab['bom_s'])} ({cab['bom_links']:,} links); "
        f"networkx one link at a time: {_seconds(nx_cab['per_link_s'])} a link x every link = "
        f"{_seconds(nx_cab['all_links_s'])} ({ratio:,.0f}x; "
        f"{nx_cab['length_mismatches']} length mismatches in {nx_cab['sampled_links']:,} sampled)"
    )
    plant = figures["plant"]
    lines.append(
        f"  power {_seconds(plant['power_s'])}, cooling {_seconds(plant['cooling_s'])}, thermal "
        f"{_seconds(plant['thermal_s'])} ({plant['thermal_cells']:,} cells of "
        f"{plant['thermal_cell_m']} m); PUE {plant['pue']}, worst inlet "
        f"{plant['worst_rack_inlet_c']} °C, RCI_HI {plant['rci_hi']}"
    )
    base = figures["networkx"]
    lines.append(
        f"  coherence by networkx over {base['nodes']:,} GPUs and switches, "
        f"{base['edges']:,} links: build {_seconds(base['build_s'])}, is_connected "
        f"{_seconds(base['connectivity_s'])}, one search {_seconds(base['search_s'])} x every "
        f"GPU = {_seconds(base['all_searches_s'])} (extrapolated from {SAMPLE_SEARCHES})"
    )
    connectivity_only = base["build_s"] + base["connectivity_s"]
    lines.append(
        f"  ours (derive + connectivity): {_seconds(figures['ours_s'])}; networkx takes "
        f"{connectivity_only / figures['ours_s']:,.0f}x as long for connectivity alone and "
        f"{base['total_s'] / figures['ours_s']:,.0f}x with the hop diameter; "
        f"hop diameter {figures['ours_max_hops']} switches (sampled search: "
        f"{base['hop_diameter_sampled']})"
    )
    if not figures["load_items_match"]:
        lines.append("  WARNING: the loaded project has a different item count")
    return "\n".join(lines)


def _run_child(gpus: int, timeout: float) -> dict[str, Any] | str:
    started = time.perf_counter()
    try:
        child = subprocess.run(
            [sys.executable, __file__, "--single", str(gpus)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"{gpus:,} GPUs: stopped after {time.perf_counter() - started:.0f} s (timeout)"
    if child.returncode != 0:
        reason = (child.stderr.strip().splitlines() or ["no output"])[-1]
        return f"{gpus:,} GPUs: failed (exit {child.returncode}): {reason}"
    return json.loads(child.stdout)


def _scales(text: str) -> list[int]:
    try:
        values = [int(v.replace("_", "")) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected GPU counts like 100000,1000000: {text!r}"
        ) from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive GPU counts, got {text!r}")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--gpus",
        type=_scales,
        default=[100_000],
        metavar="N[,N]",
        help="GPU counts, comma-separated (default 100000)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds allowed per scale (default 600)"
    )
    parser.add_argument("--no-gui", action="store_true", help="skip the GUI steps")
    parser.add_argument("--gui-only", action="store_true", help="only the GUI steps")
    parser.add_argument("--single", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--gui-single", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.single is not None:
        json.dump(measure(args.single), sys.stdout)
        return 0
    if args.gui_single:
        figures = measure_gui()
        print()  # Qt may have written to stdout; the figures are the last line
        json.dump(figures, sys.stdout)
        return 0

    gpu_scales = [] if args.gui_only else args.gpus
    results: dict[Any, Any] = {gpus: _run_child(gpus, args.timeout) for gpus in gpu_scales}
    if not args.no_gui:
        results["gui"] = _run_gui_child(args.timeout)
    failed = any(isinstance(figures, str) for figures in results.values())
    if args.json:
        json.dump({str(k): v for k, v in results.items()}, sys.stdout, indent=1)
        print()
        return 1 if failed else 0
    print(
        "Coherence bench: budgets from DESIGN.md 'Scale and speed' (100k column up to "
        "100,000 GPUs, 1M column up to 1,000,000); sub-second steps best of 3."
    )
    for key, figures in results.items():
        print()
        if isinstance(figures, str):
            print(figures)
        else:
            print(gui_report(figures) if key == "gui" else report(figures))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
