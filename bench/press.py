"""Benchmark a mouse press and release on a rack in the real GUI (UI thread).

Usage::

    python3 bench/press.py                          # the bundled 100k-GPU example
    python3 bench/press.py /tmp/1m.dclayout         # any project file(s)
    python3 bench/press.py FILE --json              # the figures as JSON

Make a 1M-GPU project once with ``python3 main.py new -o /tmp/1m.dclayout
--gpus 1000000``.

Each file is measured in a fresh child process on the offscreen platform
(``QT_QPA_PLATFORM=offscreen``): the file is loaded into a
:class:`gui.main_window.MainWindow` (1440 x 900), shown, and left until its
first background check has landed. Then, for each of a few GPU racks spread
over the hall and a network rack of every tier, the view is zoomed to the
rack (untimed, and painted) and a real left press and release are sent to the
canvas at the rack's centre with ``QTest.mousePress`` / ``QTest.mouseRelease``.
Timed with :func:`time.perf_counter`: the press, the release, and the events
they left queued on the UI thread (repaints, zero-delay timers), processed
straight after. Each press must select the rack.

The ``gc`` column is the part of the total spent in Python's garbage
collector (a full collection of a large model's objects may fall on any
press). Also counted: derivations of the fabric (:func:`physics.fabric.derive`) on
the UI thread during the presses, which should be none (the background check
derives it).

Two kinds of press: *warm* presses follow one another with no edit between
them; a press *after an edit* follows a move of another rack (one command on
the undo stack) and the landing of the check it caused, so nothing the GUI
keeps for the previous model version is of use to it.

Budget (DESIGN.md, "Scale and speed"): a press and release on a rack within
30 ms at 100k GPUs and 50 ms at 1M, on the UI thread.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXAMPLE = ROOT / "assets" / "examples" / "colossus-100k.dclayout"
BUDGETS = {100_000: 0.030, 1_000_000: 0.050}
"""Seconds allowed for a press and release at each scale (a project is held to the
budget of the nearest scale: the bundled example has 100,032 GPUs)."""
GPU_RACKS = 6
EDITS = 3
FIRST_CHECK_TIMEOUT_S = 600.0
ZOOM_MARGIN_M = 6.0


def _budget(gpus: int) -> float:
    nearest = min(BUDGETS, key=lambda scale: abs(math.log(max(gpus, 1) / scale)))
    return BUDGETS[nearest]


def _wait(app: Any, done: Any, timeout_s: float) -> None:
    deadline = time.perf_counter() + timeout_s
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"still waiting after {timeout_s:.0f} s")
        app.processEvents()
        time.sleep(0.005)


def _racks(project: Any) -> list[str]:
    """GPU racks spread over the item order, then one network rack of each tier."""
    kinds = project.kinds()
    ids = project.items.ids
    gpu = [r for r in range(len(ids)) if kinds[r] == "gpu_rack"]
    chosen = [ids[gpu[round(k * (len(gpu) - 1) / (GPU_RACKS - 1))]] for k in range(GPU_RACKS)]
    seen: set[object] = set()
    for r in range(len(ids)):
        if kinds[r] != "network_rack":
            continue
        tier = project.items.properties_at(r).get("tier")
        if tier not in seen:
            seen.add(tier)
            chosen.append(ids[r])
    return chosen


class _Watch:
    """Counts fabric derivations on the UI thread and times the garbage collector."""

    def __init__(self) -> None:
        import physics.fabric

        self.ui_derivations = 0
        self.gc_seconds = 0.0
        self._gc_started = 0.0
        derive = physics.fabric.derive

        def counted_derive(project: Any) -> Any:
            if threading.current_thread() is threading.main_thread():
                self.ui_derivations += 1
            return derive(project)

        # Wherever the function is bound by name, too (``from physics.fabric import derive``).
        for module in list(sys.modules.values()):
            if getattr(module, "derive", None) is derive:
                module.derive = counted_derive  # type: ignore[attr-defined]
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_seconds += time.perf_counter() - self._gc_started


def measure_press(path: Path) -> dict[str, Any]:
    """Press and release timings on ``path`` (run in a child process, offscreen)."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from layout import dclayout
    from layout.commands import MoveItems

    watch = _Watch()  # after the imports: it replaces the names they bound
    app = QApplication.instance() or QApplication([])
    project = dclayout.load(path)
    window = MainWindow(project, path)
    window.resize(1440, 900)
    window.show()
    app.processEvents()
    started = time.perf_counter()

    def checked() -> bool:
        return window.results is not None and not window.checker.busy

    _wait(app, checked, FIRST_CHECK_TIMEOUT_S)
    first_check = time.perf_counter() - started
    view, scene = window.view, window.scene
    viewport = view.viewport()

    def press(item_id: str) -> dict[str, Any]:
        row = project.items.row(item_id)
        x, y = float(project.items.x[row]), float(project.items.y[row])
        view.show_area(QRectF(x - ZOOM_MARGIN_M, y - ZOOM_MARGIN_M, 2 * ZOOM_MARGIN_M,
                              2 * ZOOM_MARGIN_M))  # fmt: skip
        for _ in range(3):
            app.processEvents()
        spot = view.mapFromScene(QPointF(x, y))
        watch.gc_seconds = 0.0
        t0 = time.perf_counter()
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         spot)  # fmt: skip
        t1 = time.perf_counter()
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           spot)  # fmt: skip
        t2 = time.perf_counter()
        for _ in range(3):
            app.processEvents()
        t3 = time.perf_counter()
        selected = scene.selected_ids()
        if selected != [item_id]:
            raise RuntimeError(f"a press on {item_id} selected {selected}")
        kind = project.catalog[project.items.type_ids[row]].kind
        return {"rack": item_id, "kind": kind, "press": t1 - t0, "release": t2 - t1,
                "events": t3 - t2, "total": t3 - t0, "gc": watch.gc_seconds}  # fmt: skip

    racks = _racks(project)
    watch.ui_derivations = 0
    first = press(racks[0])
    warm = [press(r) for r in racks[1:]]
    # Clicking back onto racks already seen.
    warm += [press(r) for r in racks[:2]]

    after_edit = []
    kinds = project.kinds()
    movers = [project.items.ids[r] for r in range(len(project.items))
              if kinds[r] == "gpu_rack" and project.items.ids[r] not in racks][:EDITS]  # fmt: skip
    for k, mover in enumerate(movers):
        window.undo_stack.push_command(MoveItems.by(project, [mover], 0.0, 0.0 + 0.01 * (k + 1)))
        _wait(app, lambda: window.checker.busy, 5.0)
        _wait(app, checked, FIRST_CHECK_TIMEOUT_S)
        after_edit.append(press(racks[k % len(racks)]))
    derivations = watch.ui_derivations

    window.checker.shutdown()
    window.undo_stack.setClean()
    window.close()
    return {
        "file": str(path),
        "gpus": project.gpu_count(),
        "items": len(project.items),
        "first_check_s": first_check,
        "first": first,
        "warm": warm,
        "after_edit": after_edit,
        "ui_derivations": derivations,
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def report(figures: dict[str, Any]) -> str:
    gpus = figures["gpus"]
    budget = _budget(gpus)
    lines = [
        f"{figures['file']}: {gpus:,} GPUs, {figures['items']:,} items; first check landed "
        f"after {figures['first_check_s']:.1f} s",
        f"  {'press on':<22} {'press':>9} {'release':>9} {'events':>9} {'total':>9} "
        f"{'gc':>9}",
    ]
    every = [("first", figures["first"])]
    every += [("warm", f) for f in figures["warm"]]
    every += [("after an edit", f) for f in figures["after_edit"]]
    for label, f in every:
        what = f"{label}: {f['rack']}"
        lines.append(f"  {what:<22} {_ms(f['press']):>9} {_ms(f['release']):>9} "
                     f"{_ms(f['events']):>9} {_ms(f['total']):>9} {_ms(f['gc']):>9}")  # fmt: skip
    totals = [f["total"] for _, f in every]
    worst = max(totals)
    verdict = "ok" if worst <= budget else "OVER BUDGET"
    shown = _ms(budget)
    lines.append(f"  press + release + events: median {_ms(statistics.median(totals))}, "
                 f"worst {_ms(worst)}; budget {shown} {verdict}")  # fmt: skip
    lines.append(f"  fabric derivations on the UI thread during the presses: "
                 f"{figures['ui_derivations']}")  # fmt: skip
    return "\n".join(lines)


def _run_child(path: Path, timeout: float) -> dict[str, Any] | str:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    try:
        child = subprocess.run(
            [sys.executable, __file__, "--single", str(path)],
            capture_output=True, text=True, timeout=timeout, check=False, env=env,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"{path}: stopped after {timeout:.0f} s (timeout)"
    if child.returncode != 0:
        reason = (child.stderr.strip().splitlines() or ["no output"])[-1]
        return f"{path}: failed (exit {child.returncode}): {reason}"
    return json.loads(child.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=[EXAMPLE],
                        help="project files (default: the bundled 100k-GPU example)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per file")
    parser.add_argument("--single", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.single is not None:
        figures = measure_press(args.single)
        print()  # Qt may have written to stdout; the figures are the last line
        json.dump(figures, sys.stdout)
        return 0
    results = {str(path): _run_child(path, args.timeout) for path in args.files}
    failed = any(isinstance(f, str) for f in results.values())
    if args.json:
        json.dump(results, sys.stdout, indent=1)
        print()
        return 1 if failed else 0
    print("Mouse press and release on a rack, real GUI offscreen, after the first check; "
          "budgets from DESIGN.md 'Scale and speed'.")  # fmt: skip
    for outcome in results.values():
        print()
        print(outcome if isinstance(outcome, str) else report(outcome))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
