"""Every export format: its name, menu title, file suffixes and writer.

Owns the list :data:`EXPORTERS`, read by ``main.py export`` and ``report``
(their ``-o`` outputs and named options) and by the GUI's File → Export menu.
A new format is one :class:`Exporter` here and its writer; the command line
and the menu pick it up.

Each writer takes the project, the output path (a folder for the formats
without suffixes) and :class:`ExportOptions`, and returns :class:`Written`:
the paths it wrote and one line per path for the command line. Writers raise
:class:`~layout.errors.CoherenceError` (``ExportError``) with a one-line
message when they cannot write. The modules that draw and write are imported
when a writer runs, so reading the registry costs nothing at start-up. An
output file that exists and is not a regular file (a device, a FIFO, a folder)
is refused before anything is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from layout.atomic_file import check_target

if TYPE_CHECKING:
    from layout.project import Project
    from physics.engine import Results


@dataclass(frozen=True)
class ExportOptions:
    """What a writer may be told besides the project and the path; each uses what concerns it."""

    scale_px_per_m: float | None = None
    """Pictures: pixels per metre (None: ``report.pictures.DEFAULT_PX_PER_M``)."""
    overlays: tuple[str, ...] = ()
    """Pictures and reports: overlays drawn on the plan (``report.pictures.OVERLAYS``)."""
    extent: str = "all"
    """Pictures: the hall and the yard's plant (all) or the hall alone."""
    site: str | None = None
    """NetBox: the site's name (None: the project's name)."""
    results: Results | None = None
    """Reports: a check of the project already made (None: the report checks it)."""
    source: str | None = None
    """Reports: the project file's name, shown in the report."""


@dataclass(frozen=True)
class Written:
    """What a writer wrote: the paths, and one line per path for the command line."""

    paths: tuple[Path, ...]
    lines: tuple[str, ...]


Writer = Callable[["Project", Path, ExportOptions], Written]


@dataclass(frozen=True)
class Exporter:
    """One export format."""

    name: str
    title: str
    """The File → Export menu's entry (without "…")."""
    suffixes: tuple[str, ...]
    """Suffixes of the file it writes, lower case, the first the usual one; none: a folder."""
    write: Writer
    group: str
    """Formats of one kind share a group (``bom``: CSV and XLSX); the command line's
    named option for the group is ``--<group>``."""
    description: str
    """What it writes, for help texts and tooltips."""

    @property
    def writes_folder(self) -> bool:
        return not self.suffixes

    def accepts(self, path: Path) -> bool:
        """Whether ``path`` names an output of this format (a folder: no suffix)."""
        return path.suffix.lower() in self.suffixes if self.suffixes else not path.suffix


def _picture(project: Project, out: Path, options: ExportOptions) -> Written:
    from report.pictures import DEFAULT_PX_PER_M, render_png, render_svg

    check_target(out)
    render = render_svg if out.suffix.lower() == ".svg" else render_png
    scale = DEFAULT_PX_PER_M if options.scale_px_per_m is None else options.scale_px_per_m
    g = render(project, out, scale, options.overlays, options.extent)
    return Written((out,), (f"wrote {out}: {g.width_px:,} x {g.height_px:,} px at {scale:g} px/m",))


def _dxf(project: Project, out: Path, options: ExportOptions) -> Written:
    from report.dxf_export import write_dxf

    check_target(out)
    write_dxf(project, out)
    items, trays = len(project.items), len(project.trays.segments)
    return Written((out,), (f"wrote {out}: {items:,} items, {trays} trays",))


def _files(paths: Sequence[Path]) -> Written:
    return Written(tuple(paths), tuple(f"wrote {path}" for path in paths))


def _bom(project: Project, out: Path, options: ExportOptions) -> Written:
    from report.bom import write_bom

    check_target(out)
    return _files(write_bom(project, out))


def _netbox(project: Project, out: Path, options: ExportOptions) -> Written:
    from report.netbox_export import write_netbox

    return _files(list(write_netbox(project, out, site=options.site).values()))


def _report(project: Project, out: Path, options: ExportOptions) -> Written:
    from report.report import write_report

    check_target(out)
    written = write_report(
        project, out, results=options.results, overlays=options.overlays, source=options.source
    )
    return _files([written])


PICTURE = "picture of the floor"
BOM = "cable bill of materials and per-link table"
REPORT = "the layout report: figures, plan, fabric, BOM, power, cooling, violations"

EXPORTERS: tuple[Exporter, ...] = (
    Exporter(
        name="png",
        title="PNG Picture",
        suffixes=(".png",),
        write=_picture,
        group="png",
        description=PICTURE,
    ),
    Exporter(
        name="svg",
        title="SVG Drawing",
        suffixes=(".svg",),
        write=_picture,
        group="svg",
        description=f"{PICTURE}, vectors",
    ),
    Exporter(
        name="dxf",
        title="DXF Drawing",
        suffixes=(".dxf",),
        write=_dxf,
        group="dxf",
        description="drawing with a layer per kind",
    ),
    Exporter(
        name="bom-csv",
        title="BOM (CSV)",
        suffixes=(".csv",),
        write=_bom,
        group="bom",
        description=f"{BOM} (CSV: also OUT-links.csv)",
    ),
    Exporter(
        name="bom-xlsx",
        title="BOM (Excel)",
        suffixes=(".xlsx",),
        write=_bom,
        group="bom",
        description=f"{BOM} (XLSX: a sheet each)",
    ),
    Exporter(
        name="netbox",
        title="NetBox CSV",
        suffixes=(),
        write=_netbox,
        group="netbox",
        description="racks.csv, devices.csv and cables.csv for NetBox's bulk import, in a folder",
    ),
    Exporter(
        name="report-pdf",
        title="Report (PDF)",
        suffixes=(".pdf",),
        write=_report,
        group="report",
        description=REPORT,
    ),
    Exporter(
        name="report-html",
        title="Report (HTML)",
        suffixes=(".html", ".htm"),
        write=_report,
        group="report",
        description=f"{REPORT}, one self-contained file",
    ),
)
"""Every export format, in the order of the File → Export menu."""


def exporter_named(name: str) -> Exporter:
    """The exporter called ``name`` (KeyError if none)."""
    for exporter in EXPORTERS:
        if exporter.name == name:
            return exporter
    raise KeyError(name)


def of_group(group: str) -> tuple[Exporter, ...]:
    """The exporters of one group, in registry order."""
    return tuple(e for e in EXPORTERS if e.group == group)


def groups() -> tuple[str, ...]:
    """Every group, in registry order."""
    return tuple(dict.fromkeys(e.group for e in EXPORTERS))


def exporter_for(path: Path, among: Sequence[Exporter] = EXPORTERS) -> Exporter | None:
    """The exporter (of ``among``) that writes ``path``, by its suffix; None if none does."""
    return next((e for e in among if e.accepts(path)), None)


def suffixes_of(among: Sequence[Exporter] = EXPORTERS) -> tuple[str, ...]:
    """Every suffix the exporters of ``among`` write."""
    return tuple(s for e in among for s in e.suffixes)


__all__ = [
    "EXPORTERS",
    "ExportOptions",
    "Exporter",
    "Written",
    "exporter_for",
    "exporter_named",
    "groups",
    "of_group",
    "suffixes_of",
]
