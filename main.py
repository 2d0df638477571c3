"""Coherence's command line; with no sub-command it opens the desktop application.

Usage::

    python main.py                      open the GUI on the bundled example
    python main.py FILE                 open FILE in the GUI
    python main.py new -o FILE --gpus N lay out a new cluster
    python main.py check FILE [--json]  check a project headless
    python main.py rules                list the rules a check runs
    python main.py export FILE -o OUT.png|.svg|.dxf|.csv|.xlsx|.pdf|.html|DIR  (or --png ...)
    python main.py report FILE -o OUT.pdf|OUT.html [--overlay NAME]  the layout report

``new --floor`` takes the floor of a ``.dclayout`` project or of a building's
``.dxf`` drawing (layers picked by name; see ``--dxf-layer``).

``check`` exits 0 when the project has no errors, 1 when it has errors and 2
when the file cannot be read (with a one-line reason). ``--json`` prints the
schema documented in README.md ("check --json"). No traceback ever reaches
the user: every expected failure is a :class:`~layout.errors.CoherenceError`
with a message, and anything else is reported in one line with exit 3.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from report.safe_text import printable

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE, EXIT_INTERNAL = 0, 1, 2, 3
EXAMPLES_DIR = Path(__file__).resolve().parent / "assets" / "examples"
SUBCOMMANDS = ("check", "new", "rules", "export", "report")
REQUEST_OPTIONS = {
    "gpus": "--gpus",
    "rack_type": "--rack",
    "racks_per_array": "--racks-per-array",
    "network_rack_type": "--network-rack",
    "nic_speed_gbps": "--nic-speed",
    "tiers": "--tiers",
    "planes": "--planes",
    "oversubscription": "--oversubscription",
    "hall_m": "--hall",
    "cold_aisle_m": "--cold-aisle",
    "hot_aisle_m": "--hot-aisle",
    "cross_aisle_m": "--cross-aisle",
    "floor": "--floor",
    "name": "--name",
    "whole_arrays": "--whole-arrays",
    "frontend_rack": "--frontend-rack",
    "storage_network_rack": "--storage-network-rack",
    "management_rack": "--management-rack",
    "management_spine_rack": "--management-spine-rack",
    "storage_rack": "--storage-rack",
    "storage_gbytes_s_per_gpu": "--storage-gbytes-per-gpu",
    "link_speeds_gbps": "--link-speeds",
    "dual_homed": "--dual-homed",
    "pod_gpus": "--pod-gpus",
    "spine_rack_type": "--spine-rack",
    "core_rack_type": "--core-rack",
    "topology": "--power-topology",
    "blocks": "--blocks",
    "utility_kw": "--utility-mw",
    "turbines": "--turbines",
    "batteries": "--batteries",
}
"""``new``'s option for each field of the cluster request (the facility's: ``--<field>``)."""


USAGE_MESSAGE_CHARS = 160
"""A usage error's own text is shortened to this (a pasted value can be any length)."""


class CommandLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and a hint to ``--help``.

    argparse's own error prints the whole usage first (11 lines for ``new``),
    which hides the one line that says what is wrong.
    """

    command: str | None = None
    """The sub-command being parsed, for errors the top-level parser reports."""

    def error(self, message: str) -> NoReturn:
        name = self.prog.split(" ", 1)[1] if " " in self.prog else self.command
        prog = f"coherence {name}" if name else "coherence"
        text = printable(message)
        if len(text) > USAGE_MESSAGE_CHARS:
            text = text[: USAGE_MESSAGE_CHARS - 1] + "…"
        hint = f"python main.py {name} --help" if name else "python main.py --help"
        self.exit(EXIT_UNREADABLE, f"{prog}: error: {text}; see '{hint}'\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with ``command`` (the sub-command about to run), the
    options of the others that read the catalog (``new``'s plant types) are left out,
    so that ``check --help`` and ``check`` start without loading it."""
    parser = CommandLineParser(
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
    new.add_argument(
        "--gpus", type=_positive_int, required=True,
        help="GPUs to build: the fewest whole racks that hold them",
    )  # fmt: skip
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
    new.add_argument(
        "--whole-arrays",
        type=_yes_no,
        nargs="?",
        const=True,
        default=False,
        metavar="yes|no",
        help="round the racks up to whole arrays (default: no, the last array is partial "
        "and the design holds the GPUs asked for)",
    )
    new.add_argument("--switch", metavar="TYPE", help="switch type (picks its network rack)")
    new.add_argument("--network-rack", metavar="TYPE", help="network rack type (net-sn5600-8)")
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
    shape = new.add_argument_group("fabric shape")
    shape.add_argument(
        "--link-speeds", type=_link_speeds, default=(), metavar="GBPS[,GBPS[,GBPS]]",
        help="speed of one link per link tier: GPU-leaf, leaf-spine, spine-core, e.g. "
        "200,400,400 (default, or auto: the NIC speed / planes; half that for dual-homed "
        "GPU links)",
    )  # fmt: skip
    shape.add_argument(
        "--dual-homed", type=_yes_no, nargs="?", const=True, default=False, metavar="yes|no",
        help="split each NIC port's link over two leaf switches of its plane (two leaf "
        "racks side by side per array)",
    )  # fmt: skip
    shape.add_argument(
        "--pod-gpus", type=_positive_int, metavar="N",
        help="fixed pod size in GPUs (3 tiers); the spine oversubscription applies above it",
    )  # fmt: skip
    for tier in ("spine", "core"):
        shape.add_argument(
            f"--{tier}-rack",
            metavar="TYPE",
            help=f"network rack type of the {tier}s (default: --network-rack's)",
        )
    new.add_argument("--hall", type=_hall, metavar="WxD", help="hall size in metres, e.g. 120x80")
    new.add_argument(
        "--floor", type=Path, metavar="FILE",
        help="take the floor of a .dclayout project or a building's .dxf drawing",
    )  # fmt: skip
    dxf = new.add_argument_group("DXF floor plans (--floor plan.dxf)")
    dxf.add_argument(
        "--dxf-layer", action="append", default=[], metavar="ROLE=LAYER[,LAYER]",
        help="layers (names or patterns like A-WALL*) for a role: outline, wall, column or "
        "keepout (repeatable; default: common layer names)",
    )  # fmt: skip
    dxf.add_argument(
        "--dxf-scale", type=float, metavar="M",
        help="metres per drawing unit (default: from the drawing's $INSUNITS)",
    )  # fmt: skip
    dxf.add_argument(
        "--wall-thickness", type=float, default=0.2, metavar="M",
        help="thickness of walls drawn as single lines (default 0.2)",
    )  # fmt: skip
    for aisle, default in (("cold", 1.8), ("hot", 1.2), ("cross", 2.4)):
        new.add_argument(f"--{aisle}-aisle", type=float, default=default, metavar="M",
                         help=f"{aisle} aisle width in metres (default {default})")  # fmt: skip
    if command in (None, "new"):
        plant = new.add_argument_group("power and cooling types")
        from layout.facility import FacilityChoice

        for option, default in vars(FacilityChoice()).items():
            plant.add_argument(f"--{option}", default=default, metavar="TYPE", help=f"({default})")
        from layout.facility import POWER_PRESETS, TOPOLOGIES

        chain = new.add_argument_group(
            "power topology and sources (counts per source group: each 2N side, each block, "
            "or the one group of N+1)"
        )
        chain.add_argument(
            "--power-topology", dest="topology", type=_topology, default=None,
            metavar="|".join(t.replace("_", "-") for t in TOPOLOGIES),
            help="2n (A and B independent from source to rack, default), distributed-redundant "
            "(A/B feeds from two of N blocks, any one may fail), block-redundant (N active "
            "blocks and a catcher by static transfer) or n+1 (one path, N+1 turbines)",
        )  # fmt: skip
        chain.add_argument(
            "--blocks", type=_positive_int, metavar="N",
            help="blocks: in all for distributed-redundant (4: 4-make-3), active ones for "
            "block-redundant (4, plus the catcher)",
        )  # fmt: skip
        chain.add_argument(
            "--utility-mw", type=_non_negative, metavar="MW",
            help="contracted capacity of each group's one utility service (0: none); default: "
            "enough 150 MW services, contracted for the load they carry",
        )  # fmt: skip
        chain.add_argument(
            "--turbines",
            type=_count,
            metavar="N",
            help="gas turbines per group beside the utility (--turbine type)",
        )
        chain.add_argument("--batteries", type=_count, metavar="N",
                           help="batteries per group (default: enough for the training swing "
                           "and the ride-through)")  # fmt: skip
        chain.add_argument(
            "--power-preset", choices=sorted(POWER_PRESETS), metavar="|".join(POWER_PRESETS),
            help="a documented set of the options above (colossus: xAI Colossus as built, "
            "n+1 with one 150 MW utility service, 14 gas turbines of 2.5 MW and 79 Megapacks); "
            "options given beside it win",
        )  # fmt: skip
        from layout.network_plan import NetworkChoice

        others = new.add_argument_group("front-end, storage and management networks")
        for field, default in vars(NetworkChoice()).items():
            if isinstance(default, str):
                others.add_argument(REQUEST_OPTIONS[field], dest=field, default=default,
                                    metavar="TYPE", help=f"({default})")  # fmt: skip
        others.add_argument(
            "--storage-gbytes-per-gpu", dest="storage_gbytes_s_per_gpu", type=float,
            default=NetworkChoice().storage_gbytes_s_per_gpu, metavar="GBS",
            help="storage read bandwidth per GPU in GB/s, which sizes the storage racks "
            "(1, DDN's usual minimum; 0: no storage racks)",
        )  # fmt: skip
        others.add_argument("--no-networks", action="store_true",
                            help="lay out the GPU fabric only: no front-end, storage or "
                            "management network, no storage racks")  # fmt: skip
    new.add_argument("--name", default="", help="project name")

    _add_export(commands)
    _add_report(commands)

    commands.add_parser(
        "rules",
        help="list the rules a check runs and the design parameters",
        description="List every registered rule, and every design parameter with its default "
        "and source (a project overrides them in its rules).",
    )
    parser.command = command
    return parser


def _add_export(commands: Any) -> None:
    from report.exporters import EXPORTERS, groups, of_group, suffixes_of

    titles = ", ".join(e.title for e in EXPORTERS)
    export = commands.add_parser(
        "export",
        help="export pictures, DXF, the cable BOM, NetBox CSV files or the report",
        description=(
            f"Export a project: {titles}. Give one or more outputs. Exit status: 0 written, "
            "2 the project cannot be read or an output cannot be written."
        ),
    )
    export.add_argument("file", type=Path, help="the .dclayout project file")
    export.add_argument(
        "-o", "--output", type=Path, action="append", default=[], metavar="OUT",
        help=f"an output whose format is its suffix: {', '.join(suffixes_of())}, or a folder "
        "(no suffix) for NetBox CSV files (repeatable)",
    )  # fmt: skip
    for group in groups():
        formats = of_group(group)
        metavar = "|".join(f"OUT{s}" for e in formats for s in e.suffixes[:1]) or "DIR"
        export.add_argument(
            f"--{group}", type=Path, metavar=metavar, help=formats[0].description
        )
    export.add_argument("--site", metavar="NAME", help="NetBox site name (default: project name)")
    export.add_argument(
        "--scale", type=float, default=10.0, metavar="PX_PER_M",
        help="picture scale in pixels per metre (default 10)",
    )  # fmt: skip
    export.add_argument(
        "--extent", choices=["all", "hall"], default="all",
        help="picture the hall and the yard's plant (all, default) or the hall alone",
    )  # fmt: skip
    export.add_argument(
        "--overlay", action="append", default=[], metavar="NAME",
        help="draw an overlay on pictures: links, fill (tray fill) or violations (repeatable)",
    )  # fmt: skip


def _add_report(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="write the layout report (PDF or HTML) for the build team",
        description=(
            "Write the layout report: headline figures, the floor plan, the fabric, the cable "
            "bill of materials, power and cooling tables with charts and the heat map, the "
            "violations and the rules used. The format is the output's suffix: .pdf, or .html "
            "(one self-contained file). Exit status: 0 written, 2 the project cannot be read or "
            "the report cannot be written."
        ),
    )
    report.add_argument("file", type=Path, help="the .dclayout project file")
    report.add_argument(
        "-o", "--output", type=Path, required=True, metavar="OUT.pdf|OUT.html",
        help="the report to write",
    )  # fmt: skip
    report.add_argument(
        "--overlay", action="append", default=[], metavar="NAME",
        help="draw an overlay on the floor plan: links, fill (tray fill), violations or heat "
        "(repeatable, or comma-separated)",
    )  # fmt: skip


def _whole_number_from(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a number ≥ {minimum}, got {value}")
        return value

    return parse


_positive_int = _whole_number_from(1)
_count = _whole_number_from(0)


YES_NO = {"yes": True, "true": True, "on": True, "1": True,
          "no": False, "false": False, "off": False, "0": False}  # fmt: skip


def _yes_no(text: str) -> bool:
    try:
        return YES_NO[text.strip().lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"expected yes or no, got {text!r}") from None


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number ≥ 0, got {text}")
    return value


def _topology(text: str) -> str:
    from layout.facility import TOPOLOGIES

    word = text.strip().lower().replace("-", "_")
    if word not in TOPOLOGIES:
        shown = ", ".join(t.replace("_", "-") for t in TOPOLOGIES)
        raise argparse.ArgumentTypeError(f"expected one of {shown}, got {text!r}")
    return word


def _power_choice(args: argparse.Namespace) -> Any:
    """The power chain the options ask for: the preset's, with the options given on top."""
    from layout.facility import POWER_PRESETS, PowerChoice

    base = POWER_PRESETS[args.power_preset] if args.power_preset else PowerChoice()
    given = {
        "topology": args.topology,
        "blocks": args.blocks,
        "utility_kw": None if args.utility_mw is None else args.utility_mw * 1000.0,
        "turbines": args.turbines,
        "batteries": args.batteries,
    }
    return dataclasses.replace(base, **{k: v for k, v in given.items() if v is not None})


def _ratios(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ratios like 1 or 3,1, got {text!r}") from None
    return values


def _link_speeds(text: str) -> tuple[float | None, ...]:
    """``"200,400,400"`` → ``(200.0, 400.0, 400.0)``; ``auto`` (or nothing) keeps a tier's
    default, as in ``auto,800``."""
    speeds: list[float | None] = []
    for part in text.split(","):
        word = part.strip().lower()
        if word in ("", "auto"):
            speeds.append(None)
            continue
        try:
            speeds.append(float(word.removesuffix("g")))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected speeds in Gb/s like 200,400,400, got {text!r}"
            ) from None
    return tuple(speeds)


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
    from layout.generator import ClusterRequest

    if args.switch is None:
        return args.network_rack or ClusterRequest.network_rack_type
    racks = [t for t in default_catalog().of_kind("network_rack") if t.switch == args.switch]
    if not racks:
        switches = ", ".join(t.id for t in default_catalog().of_kind("switch"))
        raise CoherenceError(f"--switch: no network rack holds {args.switch!r} ({switches})")
    if args.network_rack and args.network_rack not in {t.id for t in racks}:
        raise CoherenceError(f"--network-rack {args.network_rack} does not hold {args.switch}")
    return args.network_rack or racks[0].id


def _dxf_layers(specs: Sequence[str]) -> dict[str, list[str]]:
    from layout.errors import CoherenceError

    layers: dict[str, list[str]] = {}
    for spec in specs:
        role, sep, names = spec.partition("=")
        if not sep or role.strip() not in ("outline", "wall", "column", "keepout"):
            raise CoherenceError(
                f"--dxf-layer: expected ROLE=LAYER with ROLE outline, wall, column or keepout, "
                f"got {spec!r}"
            )
        layers.setdefault(role.strip(), []).extend(n.strip() for n in names.split(",") if n)
    return layers


def _floor(args: argparse.Namespace) -> Any:
    """The floor of ``--floor``: a .dclayout project's, or one read from a .dxf drawing."""
    import os

    from layout import dclayout
    from layout.errors import CoherenceError

    suffix = args.floor.suffix.lower()
    if suffix == ".dxf":
        from layout.dxf_import import read_floor

        # The underlay path is stored relative to the project file, as Floor documents.
        try:
            underlay = os.path.relpath(args.floor, args.output.resolve().parent)
        except ValueError:  # another drive on Windows
            underlay = str(args.floor.resolve())
        imported = read_floor(
            args.floor, layers=_dxf_layers(args.dxf_layer), scale=args.dxf_scale,
            wall_thickness_m=args.wall_thickness, underlay=underlay,
        )  # fmt: skip
        print(printable(f"read {args.floor}: {imported.summary()}"))
        return imported.floor
    if suffix in (".dclayout", ".json", ".bak"):
        return dclayout.load(args.floor).floor
    raise CoherenceError(
        f"--floor: {args.floor.name}: expected a .dclayout project or a .dxf drawing"
    )


def option_of(field: str | None) -> str | None:
    """The ``new`` option that sets a field of the request or of its facility choice."""
    from layout.facility import FacilityChoice

    if field in REQUEST_OPTIONS:
        return REQUEST_OPTIONS[field]
    return f"--{field}" if field in vars(FacilityChoice()) else None


def _naming_option(err: Exception) -> str:
    """The message of a generator error, led by the option to change rather than the field."""
    option = option_of(getattr(err, "field", None))
    return f"{option}: {getattr(err, 'detail', err)}" if option else str(err)


def run_new(args: argparse.Namespace) -> int:
    from layout import atomic_file, dclayout
    from layout.errors import CoherenceError
    from layout.facility import FacilityChoice
    from layout.generator import ClusterRequest, generate
    from layout.network_plan import NetworkChoice
    from physics import check
    from physics.tray_sizing import size_trays

    try:
        # A device, FIFO or folder at -o is refused before the layout is generated.
        atomic_file.check_target(args.output)
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
            floor=_floor(args) if args.floor else None,
            cold_aisle_m=args.cold_aisle,
            hot_aisle_m=args.hot_aisle,
            cross_aisle_m=args.cross_aisle,
            facility=FacilityChoice(**{k: getattr(args, k) for k in vars(FacilityChoice())}),
            power=_power_choice(args),
            networks=NetworkChoice(
                **{k: getattr(args, k) for k in vars(NetworkChoice()) if k != "enabled"},
                enabled=not args.no_networks,
            ),
            name=args.name,
            whole_arrays=args.whole_arrays,
            link_speeds_gbps=args.link_speeds,
            dual_homed=args.dual_homed,
            pod_gpus=args.pod_gpus,
            spine_rack_type=args.spine_rack,
            core_rack_type=args.core_rack,
        )
        project = generate(request, tray_sizer=size_trays)
        dclayout.save(project, args.output)
    except CoherenceError as err:
        print(f"coherence new: error: {_naming_option(err)}", file=sys.stderr)
        return EXIT_UNREADABLE
    results = check(project)
    m = results.metrics
    x0, y0, x1, y1 = project.floor.bounds
    print(printable(f"wrote {args.output}: {project.name}"))
    print(
        f"  {request.gpus:,} GPUs requested, {m['gpus']:,} built in {m['racks']:,} racks, "
        f"{m['network_racks']:,} network racks; hall {x1 - x0:.1f} x {y1 - y0:.1f} m"
    )
    if m.get("tiers"):
        per_tier = ", ".join(f"{n:,} {t}" for t, n in m["switches_per_tier"].items())
        planes = f" x {m['planes']} planes" if m.get("planes", 1) > 1 else ""
        print(
            f"  fabric: {m['tiers']} tiers{planes} ({per_tier} switches in all), "
            f"{m['max_switch_hops']} hops max, coherent: {'yes' if m['coherent'] else 'no'}"
            + _failing_criteria(m)
        )
    for network, n in m.get("networks", {}).items():
        print(f"  {network}: {n['switches']:,} switches in {n['racks']:,} racks, "
              f"{n['links']:,} links, {n['kw']:,.1f} kW")  # fmt: skip
    if m.get("storage_racks"):
        st = m["storage_racks"]
        print(f"  storage: {st['racks']:,} racks, {st['read_gbytes_s']:,.0f} GB/s read, "
              f"{st['kw']:,.1f} kW")  # fmt: skip
    if m.get("power_topology"):
        print(f"  power: {_power_line(m)}")
    print(f"  {results.errors} error(s), {results.warnings} warning(s)")
    return EXIT_OK


POWER_ROLE_WORDS = {"grid_feed": "utility", "turbine": "turbines", "generator": "generators",
                    "ups": "UPS", "transformer": "transformers", "switchgear": "switchgear",
                    "battery": "batteries"}  # fmt: skip


def _power_line(metrics: dict[str, Any]) -> str:
    """``2n, 164.0 MW facility (144.5 MW IT); A: 2 utility, 209 UPS, …; B: …``."""
    topology = metrics["power_topology"]
    parts = []
    for lineup, roles in topology["lineups"].items():
        counts = ", ".join(f"{roles[r]:,} {w}" for r, w in POWER_ROLE_WORDS.items() if r in roles)
        parts.append(f"{lineup}: {counts or 'busways only'}")
    name = topology["topology"].replace("_", "-")
    blocks = f" ({topology['blocks']} blocks)" if topology.get("blocks") else ""
    return (f"{name}{blocks}, {metrics['facility_kw'] / 1000:,.1f} MW facility "
            f"({metrics['it_kw'] / 1000:,.1f} MW IT); " + "; ".join(parts))  # fmt: skip


def _failing_criteria(metrics: dict[str, Any]) -> str:
    """`` (failing: …)`` naming the coherence criteria that failed, or nothing."""
    from physics.fabric_figures import failing

    failed = failing((metrics.get("coherence") or {}).get("criteria", []))
    return f" (failing: {'; '.join(failed)})" if failed else ""


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [
        max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _print_check(file: str, results: Any) -> None:
    import re

    # Names come from the file: control characters (a raw ESC would drive the terminal)
    # are shown escaped, as Python writes them.
    def shown(text: str) -> str:
        return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda c: repr(c[0])[1:-1], text)

    m = results.metrics
    print(
        f"{shown(file)}: {m['gpus']:,} GPUs in {m['racks']:,} racks, "
        f"{m['network_racks']:,} network racks, {m['power_units']:,} power and "
        f"{m['cooling_units']:,} cooling units"
    )
    if results.violations:
        rows = [
            (
                v.severity,
                shown(v.rule),
                shown(", ".join(v.items[:3]) + (" …" if len(v.items) > 3 else "")),
                shown(v.message),
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
            print(f"coherence check: error: --fail: {err}", file=sys.stderr)
            return EXIT_UNREADABLE
    if args.json:
        from report.check_json import results_to_json

        document = results_to_json(str(args.file), results, what_if)
        json.dump(document, sys.stdout, indent=1, ensure_ascii=False, allow_nan=False)
        print()
    else:
        _print_check(str(args.file), results)
        if what_if is not None:
            from report.whatif_text import what_if_lines

            print()
            for line in what_if_lines(what_if, project):
                print(line)
    return EXIT_ERRORS if results.errors else EXIT_OK


def _unknown_format(option: str, out: Path, suffixes: Sequence[str], joiner: str) -> str:
    return (
        f"{option} {out}: unknown format {out.suffix or '(no suffix)'} "
        f"(use {joiner.join(suffixes)})"
    )


def _export_jobs(args: argparse.Namespace) -> list[tuple[Any, Path]]:
    """(exporter, path) of every output asked for; formats checked against suffixes."""
    from layout.errors import CoherenceError
    from report.exporters import exporter_for, groups, of_group, suffixes_of

    jobs: list[tuple[Any, Path]] = []
    for out in args.output:
        exporter = exporter_for(out)
        if exporter is None:
            raise CoherenceError(_unknown_format("-o", out, suffixes_of(), ", "))
        jobs.append((exporter, out))
    for group in groups():
        out = getattr(args, group)
        if out is None:
            continue
        formats = of_group(group)
        exporter = exporter_for(out, formats)
        if exporter is None:
            raise CoherenceError(_unknown_format(f"--{group}", out, suffixes_of(formats), " or "))
        jobs.append((exporter, out))
    if not jobs:
        options = ", ".join(f"--{g}" for g in groups())
        raise CoherenceError(f"nothing to export: give {options} or -o")
    return jobs


def _overlays(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(o.strip() for spec in args.overlay for o in spec.split(",") if o.strip())


def run_export(args: argparse.Namespace) -> int:
    from layout import dclayout
    from layout.errors import CoherenceError
    from report.exporters import ExportOptions

    try:
        jobs = _export_jobs(args)
        project = dclayout.load(args.file)
        options = ExportOptions(
            scale_px_per_m=args.scale, overlays=_overlays(args), extent=args.extent,
            site=args.site, source=args.file.name,
        )  # fmt: skip
        for exporter, out in jobs:
            for line in exporter.write(project, out, options).lines:
                print(printable(line))
    except CoherenceError as err:
        print(f"coherence export: error: {err}", file=sys.stderr)
        return EXIT_UNREADABLE
    return EXIT_OK


def run_report(args: argparse.Namespace) -> int:
    import time

    from layout import dclayout
    from layout.errors import CoherenceError
    from report.exporters import ExportOptions, exporter_for, of_group
    from report.report import check_overlays

    started = time.perf_counter()
    try:
        formats = of_group("report")
        exporter = exporter_for(args.output, formats)
        if exporter is None:
            suffixes = [e.suffixes[0] for e in formats]
            raise CoherenceError(_unknown_format("-o", args.output, suffixes, " or "))
        overlays = _overlays(args)
        check_overlays(overlays)
        project = dclayout.load(args.file)
        options = ExportOptions(overlays=overlays, source=args.file.name)
        exporter.write(project, args.output, options)
    except CoherenceError as err:
        print(f"coherence report: error: {err}", file=sys.stderr)
        return EXIT_UNREADABLE
    print(printable(f"wrote {args.output} in {time.perf_counter() - started:.1f} s"))
    return EXIT_OK


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
    args = build_parser(argv[0] if argv and argv[0] in SUBCOMMANDS else None).parse_args(argv)
    if args.command == "check":
        return run_check(args)
    if args.command == "new":
        return run_new(args)
    if args.command == "rules":
        return run_rules()
    if args.command == "export":
        return run_export(args)
    if args.command == "report":
        return run_report(args)
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
