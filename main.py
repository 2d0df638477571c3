"""Coherence's command line; with no sub-command it opens the desktop application.

Usage::

    python main.py                      open the GUI on the bundled example
    python main.py FILE                 open FILE in the GUI
    python main.py new -o FILE --gpus N lay out a new cluster
    python main.py check FILE [--json]  check a project headless
    python main.py rules                list the rules a check runs

``check`` exits 0 when the project has no errors, 1 when it has errors and 2
when the file cannot be read (with a one-line reason). ``--json`` prints the
schema documented in README.md ("check --json"). No traceback ever reaches
the user: every expected failure is a :class:`~layout.errors.CoherenceError`
with a message, and anything else is reported in one line with exit 3.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE, EXIT_INTERNAL = 0, 1, 2, 3
CHECK_FORMAT = "coherence.check"
CHECK_VERSION = 1
EXAMPLES_DIR = Path(__file__).resolve().parent / "assets" / "examples"
SUBCOMMANDS = ("check", "new", "rules")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coherence",
        description=(
            "Lay out and check AI-training data centers: cable reach, fabric coherence, "
            "power and cooling. Without a sub-command, opens the desktop application."
        ),
        epilog="Run 'python main.py COMMAND --help' for a command's options.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="check a project file and report violations",
        description=(
            "Check a .dclayout project with every enabled rule. Exit status: 0 no errors, "
            "1 errors found, 2 the file cannot be read."
        ),
    )
    check.add_argument("file", type=Path, help="the .dclayout project file")
    check.add_argument("--json", action="store_true", help="print machine-readable JSON")
    check.add_argument(
        "--fail",
        metavar="ID",
        action="append",
        default=[],
        help="what-if: fail this unit (repeatable) and report what is lost",
    )
    check.add_argument(
        "--disable",
        metavar="RULE",
        action="append",
        default=[],
        help="skip a rule for this run (repeatable); see 'rules'",
    )

    new = commands.add_parser(
        "new",
        help="lay out a new cluster from a GPU count",
        description=(
            "Lay out a complete cluster: GPU racks in arrays, leaf racks beside their arrays, "
            "spine and core racks in the middle of the hall, and the rail-optimized fabric."
        ),
    )
    new.add_argument("-o", "--output", type=Path, required=True, help="project file to write")
    new.add_argument("--gpus", type=_positive_int, required=True, help="GPUs to place")
    new.add_argument(
        "--rack",
        default="colossus-hgx-h100-lc",
        metavar="TYPE",
        help="GPU rack type (colossus-hgx-h100-lc)",
    )
    new.add_argument(
        "--racks-per-array",
        type=_positive_int,
        metavar="N",
        help="racks per array, one rail group (default: fill a leaf; 8 for Colossus)",
    )
    new.add_argument("--switch", metavar="TYPE", help="switch type (picks its network rack)")
    new.add_argument("--network-rack", metavar="TYPE", help="network rack type (net-sn5600-16)")
    new.add_argument("--nic-speed", type=float, metavar="GBPS", help="NIC speed (default: rack's)")
    new.add_argument("--tiers", choices=["auto", "1", "2", "3"], default="auto")
    new.add_argument(
        "--planes",
        choices=["auto", "1", "2", "4", "8"],
        default="auto",
        help="fabric planes per NIC (auto: the fewest that hold the GPUs)",
    )
    new.add_argument(
        "--oversubscription",
        type=_ratios,
        default=(1.0,),
        metavar="R[,R]",
        help="down:up ratio of the leaf (and spine) tier; 1 = non-blocking",
    )
    new.add_argument("--hall", type=_hall, metavar="WxD", help="hall size in metres, e.g. 120x80")
    new.add_argument("--floor", type=Path, metavar="FILE", help="take the floor of a .dclayout")
    for aisle, default in (("cold", 1.8), ("hot", 1.2), ("cross", 2.4)):
        new.add_argument(f"--{aisle}-aisle", type=float, default=default, metavar="M",
                         help=f"{aisle} aisle width in metres (default {default})")  # fmt: skip
    plant = new.add_argument_group("power and cooling types")
    from layout.facility import FacilityChoice

    for option, default in vars(FacilityChoice()).items():
        plant.add_argument(f"--{option}", default=default, metavar="TYPE", help=f"({default})")
    new.add_argument("--name", default="", help="project name")

    commands.add_parser(
        "rules",
        help="list the rules a check runs and the design parameters",
        description="List every registered rule, and every design parameter with its default "
        "and source (a project overrides them in its rules).",
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 1, got {value}")
    return value


def _ratios(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ratios like 1 or 3,1, got {text!r}") from None
    return values


def _hall(text: str) -> tuple[float, float]:
    try:
        width, depth = (float(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxDEPTH in metres, got {text!r}") from None
    return width, depth


def _network_rack(args: argparse.Namespace) -> str:
    """The network rack type: as given, or the first that holds ``--switch``."""
    from layout.catalog import default_catalog
    from layout.errors import CoherenceError

    if args.switch is None:
        return args.network_rack or "net-sn5600-16"
    racks = [t for t in default_catalog().of_kind("network_rack") if t.switch == args.switch]
    if not racks:
        switches = ", ".join(t.id for t in default_catalog().of_kind("switch"))
        raise CoherenceError(f"--switch: no network rack holds {args.switch!r} ({switches})")
    if args.network_rack and args.network_rack not in {t.id for t in racks}:
        raise CoherenceError(f"--network-rack {args.network_rack} does not hold {args.switch}")
    return args.network_rack or racks[0].id


def run_new(args: argparse.Namespace) -> int:
    from layout import dclayout
    from layout.errors import CoherenceError
    from layout.facility import FacilityChoice
    from layout.generator import ClusterRequest, generate
    from physics import check

    try:
        request = ClusterRequest(
            gpus=args.gpus,
            rack_type=args.rack,
            racks_per_array=args.racks_per_array,
            network_rack_type=_network_rack(args),
            nic_speed_gbps=args.nic_speed,
            tiers=args.tiers if args.tiers == "auto" else int(args.tiers),
            planes=args.planes if args.planes == "auto" else int(args.planes),
            oversubscription=args.oversubscription,
            hall_m=args.hall,
            floor=dclayout.load(args.floor).floor if args.floor else None,
            cold_aisle_m=args.cold_aisle,
            hot_aisle_m=args.hot_aisle,
            cross_aisle_m=args.cross_aisle,
            facility=FacilityChoice(**{k: getattr(args, k) for k in vars(FacilityChoice())}),
            name=args.name,
        )
        project = generate(request)
        dclayout.save(project, args.output)
    except CoherenceError as err:
        print(f"coherence new: error: {err}", file=sys.stderr)
        return EXIT_UNREADABLE
    results = check(project)
    m = results.metrics
    x0, y0, x1, y1 = project.floor.bounds
    print(f"wrote {args.output}: {project.name}")
    print(
        f"  {m['gpus']:,} GPUs in {m['racks']:,} racks, {m['network_racks']:,} network racks; "
        f"hall {x1 - x0:.1f} x {y1 - y0:.1f} m"
    )
    if m.get("tiers"):
        per_tier = ", ".join(f"{n:,} {t}" for t, n in m["switches_per_tier"].items())
        planes = f" x {m['planes']} planes" if m.get("planes", 1) > 1 else ""
        print(
            f"  fabric: {m['tiers']} tiers{planes} ({per_tier} switches in all), "
            f"{m['max_switch_hops']} hops max, coherent: {'yes' if m['coherent'] else 'no'}"
        )
    print(f"  {results.errors} error(s), {results.warnings} warning(s)")
    return EXIT_OK


def results_to_json(file: str, results: Any) -> dict[str, Any]:
    """The documented ``check --json`` document."""
    summary = dict(results.metrics)
    summary |= {
        "errors": results.errors,
        "warnings": results.warnings,
        "infos": results.count("info"),
        "waived": len(results.waived),
    }
    return {
        "format": CHECK_FORMAT,
        "version": CHECK_VERSION,
        "file": file,
        "ok": results.errors == 0,
        "summary": summary,
        "violations": [v.to_json() for v in results.violations],
        "waived": [v.to_json() | {"reason": w.reason} for v, w in results.waived],
        "rules_run": results.rules_run,
        "seconds": round(results.seconds, 4),
    }


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [
        max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _print_check(file: str, results: Any) -> None:
    m = results.metrics
    print(
        f"{file}: {m['gpus']:,} GPUs in {m['racks']:,} racks, {m['network_racks']:,} network "
        f"racks, {m['power_units']:,} power and {m['cooling_units']:,} cooling units"
    )
    if results.violations:
        rows = [
            (
                v.severity,
                v.rule,
                ", ".join(v.items[:3]) + (" …" if len(v.items) > 3 else ""),
                v.message,
            )
            for v in results.violations
        ]
        print(_table(rows, ("SEVERITY", "RULE", "ITEMS", "MESSAGE")))
    waived = f" ({len(results.waived)} waived)" if results.waived else ""
    print(
        f"{results.errors} error(s), {results.warnings} warning(s), "
        f"{results.count('info')} info{waived}; {len(results.rules_run)} rules in "
        f"{results.seconds:.2f} s"
    )


def run_check(args: argparse.Namespace) -> int:
    from layout import dclayout
    from layout.errors import CoherenceError
    from physics import check
    from physics.engine import registered_rules

    known = {r.id for r in registered_rules()}
    unknown = [r for r in args.disable if r not in known]
    if unknown:
        print(f"coherence check: error: unknown rule {unknown[0]!r} (see 'rules')", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        project = dclayout.load(args.file)
    except CoherenceError as err:
        print(f"coherence check: error: {err}", file=sys.stderr)
        return EXIT_UNREADABLE
    results = check(project, disabled=args.disable)
    what_if = None
    if args.fail:
        from physics.whatif import fail

        try:
            what_if = fail(project, args.fail)
        except CoherenceError as err:
            print(f"coherence check: error: {err}", file=sys.stderr)
            return EXIT_UNREADABLE
    if args.json:
        document = results_to_json(str(args.file), results)
        if what_if is not None:
            document["what_if"] = what_if
        json.dump(document, sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        _print_check(str(args.file), results)
        if what_if is not None:
            _print_what_if(what_if)
    return EXIT_ERRORS if results.errors else EXIT_OK


def _print_what_if(report: dict[str, Any]) -> None:
    print(f"what if {', '.join(report['failed'])} fail(s):")
    fabric = report.get("fabric")
    if fabric:
        cut = fabric["racks_disconnected"]
        shown = ", ".join(cut[:5]) + (f" and {len(cut) - 5} more" if len(cut) > 5 else "")
        print(
            f"  fabric: {fabric['gpus_disconnected']:,} GPU ports cut off"
            + (f" ({shown})" if cut else "")
            + f"; {fabric['bisection_lost']:.1%} of switch-to-switch links lost"
        )
    if len(report) == 1:
        print("  nothing the solvers model depends on it")


def run_rules() -> int:
    from layout.rules import PARAMETERS
    from physics.engine import registered_rules

    rows = [(r.id, r.severity, r.description) for r in registered_rules()]
    print(_table(rows, ("RULE", "SEVERITY", "DESCRIPTION")))
    print()
    rows = [(p.key, f"{p.default:g}", p.unit, p.source) for p in PARAMETERS.values()]
    print(_table(rows, ("PARAMETER", "DEFAULT", "UNIT", "SOURCE")))
    return EXIT_OK


def run_gui(file: Path | None) -> int:
    from gui.app import run

    return run(file)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-") and argv[0] not in SUBCOMMANDS:
        if len(argv) > 1:
            build_parser().error(f"unexpected arguments after the file: {' '.join(argv[1:])}")
        return run_gui(Path(argv[0]))
    args = build_parser().parse_args(argv)
    if args.command == "check":
        return run_check(args)
    if args.command == "new":
        return run_new(args)
    if args.command == "rules":
        return run_rules()
    return run_gui(None)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(EXIT_OK)
    except Exception as err:
        print(f"coherence: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(EXIT_INTERNAL)
