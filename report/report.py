"""The layout report: one HTML document, written as a PDF or as a self-contained HTML file.

Owns what the build team reads: a cover with the headline figures, the floor
plan (with the overlays asked for), the fabric summary, the cable bill of
materials with a link-length histogram, the power chain and cooling tables
with utilisation charts and the thermal heat map, the violations and waivers,
and the design rules used with their sources. It reads a project and its
check results; it never changes the project.

How it is made, and why:

- The report is written once, as HTML (:class:`Report`), and rendered two
  ways. ``.html``: the figures are inlined as ``data:`` URIs (PNG pictures,
  SVG charts), so the one file can be mailed and opened anywhere. ``.pdf``:
  Qt's ``QTextDocument`` lays out the same HTML in pages and ``QPdfWriter``
  draws them, with a header and "Page k of n" on every page. Qt because it is
  already the application's toolkit (no second layout engine to keep in step
  with the HTML, no extra dependency), it runs headless on the offscreen
  platform with the GUI module only (no widgets, no ``QPrinter``), it embeds
  fonts with their text so the PDF is searchable, and it repeats a long
  table's ``<thead>`` on every page the table runs onto. reportlab would give
  finer typographic control but a second description of every table.
- Charts come from :mod:`report.charts` (matplotlib, Agg); the floor plan
  from :func:`report.pictures.paint_plan`, painted at three device pixels per
  layout pixel so that it stays sharp on paper. The ``heat`` overlay (the
  thermal screening map over the plan) is painted here, on top of that plan.
- Long tables are cut on purpose: the per-unit power and cooling tables show
  the :data:`TOP_UNITS` most utilised units under a per-role total of every
  unit; the violation details show :data:`DETAILS_PER_RULE` per rule under a
  per-rule count of every violation. The report says so where it cuts.

``write_report(project, path, results=None, overlays=())`` is the entry point
for ``main.py report`` and the GUI's File → Export Report. It may run off the
GUI thread: it paints on a ``QImage`` and a ``QPdfWriter`` only.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from layout.errors import one_line
from layout.kinds import kind_info
from layout.project import Project
from report import tables as t
from report.bom import ExportError
from report.safe_text import printable, printable_markup
from report.tables import Table, esc, key_values

if TYPE_CHECKING:
    from physics.engine import Results
    from physics.solution import Solution

REPORT_SUFFIXES = (".pdf", ".html", ".htm")
SECTIONS = (
    "Summary",
    "Floor plan",
    "Fabric",
    "Cable bill of materials",
    "Power chain",
    "Cooling",
    "Networks",
    "Violations",
    "Rules used",
)
"""The report's section headings, in order (the cover is "Summary")."""
HEAT_OVERLAY = "heat"
TOP_UNITS = 40
"""Power and cooling units listed one by one (the most utilised); totals cover all."""
DETAILS_PER_RULE = 20
"""Violations listed one by one per rule; the per-rule counts cover all."""
POWER_ROLES = (
    "grid_feed", "turbine", "generator", "switchgear", "ups", "transformer",
    "rpp", "pdu", "busway", "battery",
)  # fmt: skip
"""Power roles from the sources down the chain, the order of the report's tables."""
COOLING_ROLES = ("cooling_tower", "dry_cooler", "chiller", "cdu", "crah")

PAGE_W_MM, PAGE_H_MM = 210.0, 297.0
MARGIN_MM = 15.0
HEADER_MM, FOOTER_MM = 12.0, 12.0
LAYOUT_DPI = 96.0
"""The HTML is laid out in CSS pixels (96 per inch) and scaled onto the PDF page."""
CONTENT_W_PX = (PAGE_W_MM - 2 * MARGIN_MM) / 25.4 * LAYOUT_DPI
CONTENT_H_PX = (PAGE_H_MM - 2 * MARGIN_MM - HEADER_MM - FOOTER_MM) / 25.4 * LAYOUT_DPI
PLAN_W_PX = 900
"""Layout width of the floor-plan picture; it is shown at the text width, so its
own text (title, legend, scale bar) prints at about 75 % of its pixel size."""
PLAN_PIXEL_RATIO = 3
SITE_MIN_W_PX = 640
PDF_DPI = 300
FIGURE_SRC = "fig:"

CSS = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 9pt;
       color: #1d1f23; }
h1 { font-size: 22pt; color: #1d3557; margin-bottom: 2px; }
h2 { font-size: 15pt; color: #1d3557; margin-top: 0px; margin-bottom: 6px; }
h3 { font-size: 11pt; color: #1d3557; margin-top: 14px; margin-bottom: 4px; }
h4 { font-size: 9pt; color: #1d3557; margin-top: 10px; margin-bottom: 3px; }
p { margin-top: 3px; margin-bottom: 5px; }
p.note { color: #5a6069; font-size: 8pt; }
p.figure { margin-top: 6px; margin-bottom: 12px; }
span.caption { color: #5a6069; font-size: 8pt; }
p.subtitle { font-size: 12pt; color: #4a4f57; }
table.data { border-collapse: collapse; border-color: #b8bec7; font-size: 8pt;
             margin-bottom: 6px; }
table.data th { font-weight: bold; }
table.kv td.label { color: #5a6069; }
td.tile { font-size: 8pt; color: #5a6069; }
span.big { font-size: 15pt; color: #1d1f23; font-weight: bold; }
code { font-family: "DejaVu Sans Mono", monospace; }
"""
BROWSER_CSS = """
body { max-width: 190mm; margin: 12mm auto; line-height: 1.35; }
table.data { border: 1px solid #b8bec7; }
table.data td, table.data th { border: 1px solid #b8bec7; }
img { max-width: 100%; height: auto; }
h2.section { border-top: 2px solid #1d3557; padding-top: 8px; margin-top: 28px; }
@media print { h2.section { border-top: none; } }
"""


# -- the content -----------------------------------------------------------------------------
@dataclass
class ReportFigure:
    """One figure: a picture (PNG bytes) or a chart (matplotlib figure, rendered on demand)."""

    name: str
    number: int
    caption: str
    width_px: float
    """Shown width in CSS pixels (at most the text width)."""
    height_px: float
    png: bytes | None = None
    chart: Any = None

    def png_bytes(self) -> bytes:
        if self.png is None:
            from report.charts import to_png

            self.png = to_png(self.chart)
        return self.png

    def data_uri(self) -> str:
        """The figure for a browser: SVG for charts (sharp at any zoom), PNG for pictures."""
        if self.chart is not None:
            from report.charts import to_svg

            data, mime = to_svg(self.chart), "image/svg+xml"
        else:
            data, mime = self.png_bytes(), "image/png"
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass
class Report:
    """The report as HTML with figure placeholders, ready to write as PDF or HTML."""

    title: str
    created: str
    body: str
    figures: list[ReportFigure] = field(default_factory=list)

    def html(self, src: Callable[[ReportFigure], str]) -> str:
        body = self.body
        for figure in self.figures:
            body = body.replace(f'src="{FIGURE_SRC}{figure.name}"', f'src="{src(figure)}"')
        return body

    def document(self, browser: bool = True) -> str:
        """A whole HTML document; ``browser`` inlines the figures and adds screen styles."""
        style = CSS + (BROWSER_CSS if browser else "")
        body = self.html(ReportFigure.data_uri) if browser else self.body
        # Names from the project are escaped as HTML where they are put in; control
        # characters (and text UTF-8 cannot encode) are escaped here, once for all.
        return printable_markup(
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="Coherence"><title>{esc(self.title)}</title>'
            f"<style>{style}</style></head>\n<body>\n{body}\n</body></html>\n"
        )


def gather(project: Project, results: Results | None = None) -> Solution:
    """Check the project (unless ``results`` are given) and run the solvers the tables need."""
    from physics.solution import solve

    return solve(project, results=results)


class _Builder:
    """Writes the sections of one report, numbering figures as they come."""

    def __init__(self, data: Solution, overlays: Sequence[str], source: str | None) -> None:
        self.d = data
        self.m = dict(data.results.metrics)
        self.overlays = list(overlays)
        self.source = source
        self.parts: list[str] = []
        self.figures: list[ReportFigure] = []
        self.created = dt.datetime.now().astimezone()

    # -- helpers ---------------------------------------------------------------------------
    def add(self, *html: str) -> None:
        self.parts.extend(html)

    def section(self, title: str) -> None:
        self.add(f'<h2 class="section" style="page-break-before: always">{esc(title)}</h2>')

    def para(self, text: str, cls: str = "") -> None:
        attr = f' class="{cls}"' if cls else ""
        self.add(f"<p{attr}>{esc(text)}</p>")

    def figure(self, name: str, caption: str, width: float, height: float, *,
               png: bytes | None = None, chart: Any = None) -> None:  # fmt: skip
        number = len(self.figures) + 1
        if chart is not None:
            w_in, h_in = chart.get_size_inches()
            width, height = CONTENT_W_PX, CONTENT_W_PX * h_in / w_in
        scale = min(1.0, CONTENT_W_PX / width, CONTENT_H_PX * 0.85 / height)
        w, h = width * scale, height * scale
        fig = ReportFigure(name, number, caption, w, h, png=png, chart=chart)
        self.figures.append(fig)
        # One paragraph for the picture and its caption: the page breaks between
        # lines, so a caption is never left at the foot of a page above its picture.
        self.add(
            f'<p class="figure" align="center"><img src="{FIGURE_SRC}{name}" width="{w:.0f}" '
            f'height="{h:.0f}" alt="{esc(caption)}"><br>'
            f'<span class="caption">Figure {number}. {esc(caption)}</span></p>'
        )

    # -- sections --------------------------------------------------------------------------
    def build(self) -> Report:
        self.cover()
        self.floor_plan()
        self.fabric()
        self.cables()
        self.power()
        self.cooling()
        self.networks()
        self.violations()
        self.rules()
        return Report(
            self.d.project.name or "Untitled project",
            self.created.strftime("%Y-%m-%d %H:%M"),
            "\n".join(self.parts),
            self.figures,
        )

    def cover(self) -> None:
        p, m, r = self.d.project, self.m, self.d.results
        self.add(f"<h1>{esc(p.name or 'Untitled project')}</h1>")
        self.add('<p class="subtitle">Data-center layout report</p>')
        made = f"Made by Coherence on {self.created.strftime('%d %B %Y, %H:%M %Z')}"
        self.para(made + (f" from {self.source}" if self.source else "") + ".")
        if p.description:
            self.para(p.description)
        self.add(f"<h2>{esc(SECTIONS[0])}</h2>")
        coherent = m.get("coherent")
        verdict_ok = r.errors == 0
        colour = t.GOOD_BG if verdict_ok else t.BAD_BG
        verdict = (
            "The design checks clean: no errors." if verdict_ok
            else f"The design does not check clean: {r.errors:,} error(s) to fix "
            "(see Violations)."
        )  # fmt: skip
        self.add(
            f'<table width="100%" border="0" cellpadding="8" cellspacing="0"><tr>'
            f'<td bgcolor="{colour}"><b>{esc(verdict)}</b> {r.errors:,} error(s), '
            f"{r.warnings:,} warning(s), {r.count('info'):,} info, {len(r.waived):,} waived; "
            f"{len(r.rules_run)} rules run.</td></tr></table>"
        )
        switches = m.get("switches_per_tier") or {}
        per_tier = ", ".join(f"{n:,} {tier}" for tier, n in switches.items())
        x0, y0, x1, y1 = p.floor.bounds
        requested = m.get("gpus_requested")
        servers = f"{t.count(m.get('servers'))} servers"
        tiles = [
            # Whole racks can hold a few more GPUs than were asked for: say both.
            ("GPUs built", t.count(m.get("gpus")),
             f"{t.count(requested)} requested, {servers}" if requested else servers),
            ("GPU racks", t.count(m.get("racks")), ""),
            ("Network racks", t.count(m.get("network_racks")), ""),
            ("Switches", t.count(sum(switches.values())) if switches else "–", per_tier),
            ("IT load", t.megawatts(m.get("it_kw")), "design load of GPU and network racks"),
            ("Facility load", t.megawatts(m.get("facility_kw")), "IT + cooling + losses"),
            ("PUE", t.number(m.get("pue"), 3) if m.get("pue") else "–", "facility / IT"),
            (
                "Coherent fabric",
                "–" if coherent is None else ("yes" if coherent else "no"),
                f"{m.get('tiers', 0)} tiers, {m.get('max_switch_hops', 0)} hops max"
                if m.get("tiers") else "no fabric",
            ),
            ("Errors", t.count(r.errors), "must be fixed"),
            ("Warnings", t.count(r.warnings), f"{len(r.waived):,} waived"),
            ("Cable links", t.count(sum((m.get("links_by_medium") or {}).values())),
             t.usd(m.get("cable_cost_usd")) + " indicative"),
            ("Hall", f"{x1 - x0:,.0f} × {y1 - y0:,.0f} m",
             f"{t.number(m.get('floor_area_m2'), 0)} m² of floor"),
        ]  # fmt: skip
        shades = {"Errors": t.BAD_BG if r.errors else t.GOOD_BG,
                  "Coherent fabric": t.GOOD_BG if coherent else t.BAD_BG if coherent is False
                  else ""}  # fmt: skip
        out = ['<table class="tiles" width="100%" border="0" cellspacing="4" cellpadding="6">']
        for start in range(0, len(tiles), 4):
            out.append("<tr>")
            for label, value, sub in tiles[start : start + 4]:
                bg = shades.get(label) or "#f1f3f5"
                out.append(
                    f'<td class="tile" width="25%" bgcolor="{bg}">{esc(label)}<br>'
                    f'<span class="big">{esc(value)}</span><br>{esc(sub)}</td>'
                )
            out.append("</tr>")
        out.append("</table>")
        self.add("".join(out))
        self.add("<h3>Contents</h3>")
        self.add("<ol>" + "".join(f"<li>{esc(s)}</li>" for s in SECTIONS[1:]) + "</ol>")
        self.para(
            "Loads are design loads (nameplate × the design-load fraction rule); costs are "
            "indicative catalog prices; the thermal figures come from a screening model, "
            "not CFD. Every number the checks use is listed with its source under Rules used.",
            "note",
        )

    # -- floor plan ------------------------------------------------------------------------
    def floor_plan(self) -> None:
        from report.pictures import plan_bounds

        p = self.d.project
        self.section(SECTIONS[1])
        shown = list(self.overlays)
        what = ", ".join(_OVERLAY_WORDS[o] for o in shown) if shown else "no overlays"
        hall = plan_bounds(p, "hall")
        site = plan_bounds(p, "all")
        png, w, h, scale = plan_picture(self.d, self.overlays, "hall")
        self.figure(
            "plan-hall",
            f"The hall at {scale:.3g} px/m ({what}). Racks' darker edge is their front.",
            w, h, png=png,
        )  # fmt: skip
        if self.overlays and HEAT_OVERLAY in self.overlays:
            self.para(_heat_overlay_note(self.d), "note")
        counts: dict[str, int] = {}
        for kind in p.kinds().tolist():
            counts[kind] = counts.get(kind, 0) + 1
        self.add(key_values([
            (kind_info(k).plural_title, t.count(n)) for k, n in sorted(counts.items())
        ] + [("Cable tray segments", t.count(len(p.trays.segments))),
             ("Obstacles", t.count(len(p.floor.obstacles)))], columns=3))  # fmt: skip
        grown = max(abs(a - b) for a, b in zip(hall, site, strict=True))
        if grown > 1.0:
            png, w, h, scale = plan_picture(self.d, [o for o in self.overlays
                                                     if o != HEAT_OVERLAY], "all")  # fmt: skip
            self.figure(
                "plan-site",
                f"The whole site, the yard's power and cooling plant included ({scale:.3g} px/m).",
                w, h, png=png,
            )  # fmt: skip

    # -- fabric ----------------------------------------------------------------------------
    def fabric(self) -> None:
        from physics.fabric import LINK_TIERS, TIERS

        self.section(SECTIONS[2])
        f, m, p = self.d.fabric, self.m, self.d.project
        if f is None:
            self.para("This project has no fabric spec yet (no switch type or NIC speed).")
            return
        spec = p.fabric
        rules = p.rules
        latency = m.get("worst_latency_ns") or 0.0
        budget = rules["latency_budget_ns"]
        coherent = m.get("coherent")
        speeds = " / ".join(f"{s:g}G" for s in f.link_speeds_gbps[: f.tiers])
        types = (
            ", ".join(f"{getattr(p.catalog.get(k), 'name', k)}" for k in f.switch_types)
            or "none placed"
        )
        hops = m.get("max_switch_hops", f.max_hops)
        self.add(key_values([
            ("Coherent", "yes" if coherent else "no"),
            ("Topology", "rail-optimized fat tree"),
            ("Switches placed", types),
            ("Link speed per tier", speeds),
            ("NIC speed", f"{spec.nic_speed_gbps:g} Gb/s × {spec.nics_per_gpu} per GPU"
             + (", dual-homed" if spec.dual_homed else "")),
            ("Planes", f"{f.planes}"),
            ("Rails", f"{spec.rails}" if spec.rails else "–"),
            ("Tiers", f"{f.tiers}" + (" (auto)" if spec.tiers == "auto" else "")),
            ("GPU ports (endpoints)", t.count(f.endpoints)),
            ("Largest fabric (spec's switch)", f"{t.count(m.get('largest_fabric_gpus'))} GPUs"),
            ("Max switch hops", f"{hops} (clean tree: {f.max_hops})"),
            ("Bisection", f"{t.number(m.get('bisection_tbps'), 1)} Tb/s"),
            ("Worst GPU-to-GPU latency",
             f"{t.count(latency)} ns (budget {t.count(budget)} ns)"),
        ]))  # fmt: skip
        self.para(
            "The fabric is derived from what is placed: each network rack's own switches, "
            "each GPU rack's NICs and the assignments. A leaf's uplinks are the ports it has "
            "left after its GPU links, shared fairly over its pod's spines; a spine's ports "
            "split into down and up by what its leaves take. Worst latency = each switch "
            "hop's latency (its switch type's, or "
            f"{rules['per_hop_latency_ns']:g} ns where the catalog has none) on the path up "
            "through every tier and down, + twice the slowest link of each tier (routed "
            "length × the medium's ns/m). Bisection: the least up-capacity crossing a tier.",
            "note",
        )
        self.coherence_list()
        self.add("<h3>Switches per tier</h3>")
        ratios = m.get("oversubscription") or {}
        table = Table(
            ("Tier", "Network racks", "Switches", "Links up", "Worst down:up", "Mean down:up",
             "Target"),
            numeric=(False, True, True, True, True, True, True),
        )  # fmt: skip
        for k, tier in enumerate(TIERS[: f.tiers]):
            rows = f.switch_rows[tier]
            up = LINK_TIERS[k + 1] if k + 1 < f.tiers else None
            entry = ratios.get(tier)
            worst = mean = target = "–"
            if entry is not None:
                worst, mean = _ratio_of(entry["worst"]), _ratio_of(entry["mean"])
                target = f"{entry['target']:g}:1"
                if len(entry["per_plane"]) > 1:
                    worst += " (" + ", ".join(f"plane {e['plane']} {_ratio_of(e['worst'])}"
                                              for e in entry["per_plane"]) + ")"  # fmt: skip
            table.add((tier, t.count(len(rows)), t.count(f.switches[tier]),
                       t.count(f.links[up].total) if up else "–", worst, mean,
                       target))  # fmt: skip
        self.add(table.html())
        self.add("<h3>Ports per switch type</h3>")
        table = Table(("Switch type", "Switches", "Ports used", "Ports free", "Port budget used"),
                      numeric=(False, True, False, True, True))  # fmt: skip
        for type_id, ports in (m.get("ports_by_switch_type") or {}).items():
            in_use = ", ".join(f"{n:,} × {s}" for s, n in ports["ports_used"].items()) or "–"
            use = ports["port_use"]
            shown = "over" if use is None or not np.isfinite(use) else f"{use:.0%}"
            free = f"{ports['ports_free']:,} at {ports['free_at_gbps']:g}G"
            table.add((type_id, t.count(ports["switches"]), in_use, free, shown))
        self.add(table.html())
        self.add("<h3>Links per tier</h3>")
        c = self.d.cabling
        table = Table(
            ("Link tier", "Links", "Rack pairs", "Longest (m)", "Slowest link (ns)", "Media"),
            numeric=(False, True, True, True, True, False),
        )
        for tier in LINK_TIERS[: f.tiers]:
            bundle = f.links[tier]
            longest = slowest = None
            media = ""
            if c is not None and len(c.tiers[tier].length_m):
                cab = c.tiers[tier]
                longest = float(cab.length_m.max())
                slowest = float(cab.latency_ns.max())
                used = np.bincount(cab.medium[cab.medium >= 0],
                                   weights=bundle.count[cab.medium >= 0],
                                   minlength=len(c.media))  # fmt: skip
                media = ", ".join(f"{c.media[k].id} {int(used[k]):,}"
                                  for k in np.flatnonzero(used))  # fmt: skip
            table.add((tier, t.count(bundle.total), t.count(len(bundle.a)),
                       t.number(longest), t.number(slowest, 0), media))  # fmt: skip
        self.add(table.html())
        fabric_rules = sorted({v.rule for v in self.d.results.violations
                               if v.rule.startswith("fabric.")})  # fmt: skip
        if fabric_rules:
            self.para("Fabric rules broken: " + ", ".join(fabric_rules) + " (see Violations).")

    # -- coherence ------------------------------------------------------------------------
    def coherence_list(self) -> None:
        """Every criterion of a coherent fabric: its figure, its limit and the verdict (the
        list ``check --json`` gives under ``coherence`` and the status bar's tooltip)."""
        from physics.fabric_figures import VERDICT_WORDS

        coherence = self.m.get("coherence")
        if not coherence:
            return
        self.add("<h3>Coherence</h3>")
        table = Table(("Criterion", "Figure", "Limit", "Verdict", "Rules"),
                      numeric=(False, True, True, False, False))  # fmt: skip
        for c in coherence["criteria"]:
            shade = t.GOOD_BG if c["pass"] else t.BAD_BG if c["pass"] is False else ""
            table.add((c["title"], c["figure_text"], c["limit_text"],
                       VERDICT_WORDS[c["pass"]], ", ".join(c["rules"])), shade)  # fmt: skip
        self.add(table.html())
        verdict = "coherent" if coherence["coherent"] else "not coherent"
        self.para(f"The fabric is {verdict}: coherent means every criterion passes (a waived "
                  "violation still fails its criterion; a disabled rule leaves it unchecked).",
                  "note")  # fmt: skip

    # -- cables ----------------------------------------------------------------------------
    def cables(self) -> None:
        from report.charts import length_histogram

        self.section(SECTIONS[3])
        c, m = self.d.cabling, self.m
        if c is None:
            self.para("No cables to route: the project has no fabric spec yet.")
            return
        longest = m.get("longest_link") or {}
        fill = m.get("worst_tray_fill") or {}
        self.add(key_values([
            ("Links", t.count(c.links)),
            ("Cable length (routed)", f"{t.number(m.get('cable_total_m', 0) / 1000, 1)} km"),
            ("Indicative cost", t.usd(m.get("cable_cost_usd"))),
            ("Links no medium reaches", t.count(m.get("links_without_medium", 0))),
            ("Longest link",
             f"{t.number(longest.get('length_m'))} m, {longest.get('medium') or 'none'}, "
             f"{' – '.join(longest.get('racks', []))}" if longest else "–"),
            ("Fullest tray",
             f"{fill['segment']} at {t.percent(fill['fill'])} (limit "
             f"{t.percent(c.fill_limit)})" if fill else "–"),
        ]))  # fmt: skip
        if not c.has_trays:
            self.para("The project has no cable trays: lengths are Manhattan estimates.", "note")
        length, count, medium = c.flat("length_m"), c.flat("count"), c.flat("medium")
        cost = c.flat("cost_usd")
        self.add("<h3>By medium</h3>")
        table = Table(("Medium", "Family", "Reach (m)", "Links", "Routed length (km)",
                       "Cost (USD)"), numeric=(False, False, True, True, True, True))  # fmt: skip
        for k, medium_type in enumerate(c.media):
            mine = medium == k
            links = int(count[mine].sum())
            if not links:
                continue
            table.add((medium_type.id, medium_type.family, f"{medium_type.reach_m:g}",
                       t.count(links), t.number(float((length * count)[mine].sum()) / 1000, 2),
                       t.usd(float((cost * count)[mine].sum()))))  # fmt: skip
        self.add(table.html())
        chart = length_histogram(length, count, medium,
                                 [(mt.id, mt.reach_m) for mt in c.media])  # fmt: skip
        self.figure("link-lengths", "Links by routed length, by medium; dashed: each medium's "
                    "reach.", 0, 0, chart=chart)  # fmt: skip
        self.add("<h3>Bill of materials: medium × stock length</h3>")
        bom = c.bom()
        table = Table(("Medium", "Stock length (m)", "Count", "Indicative cost (USD)"),
                      numeric=(False, True, True, True), widths=(40, 20, 20, 20))  # fmt: skip
        for row in bom:
            table.add((row["medium"], f"{row['stock_length_m']:g}", t.count(row["count"]),
                       t.usd(row["cost_usd"])))  # fmt: skip
        table.total = ("Total", "", t.count(sum(r["count"] for r in bom)),
                       t.usd(sum(r["cost_usd"] for r in bom)))  # fmt: skip
        self.add(table.html())
        self.para(
            "Counts are links (one cable each) at the next stock length at or above the routed "
            "length. The per-link table (racks, length, medium, stock length) is in "
            "'python main.py export FILE --bom OUT.xlsx'.",
            "note",
        )

    # -- power -----------------------------------------------------------------------------
    def power(self) -> None:
        from report.charts import utilisation_strip

        self.section(SECTIONS[4])
        loads, m, rules = self.d.power, self.m, self.d.project.rules
        if loads is None:
            self.para("This project has no power plan yet (no power units or feeds).")
            return
        limit = loads.limit
        self.add(key_values([
            ("IT load", t.megawatts(m.get("it_kw"))),
            ("Facility load", t.megawatts(m.get("facility_kw"))),
            ("Cooling plant draw", t.megawatts(m.get("cooling_kw"))),
            ("Distribution losses", t.megawatts(m.get("power_losses_kw"))),
            ("PUE (design)", t.number(m.get("pue"), 3) if m.get("pue") else "–"),
            ("Power topology", _topology_words(self.d.project.power)),
            ("Continuous derating (breakers, busways)", t.percent(limit)),
            ("Feeds", "2N (A and B, either carries all)" if rules["feeds_2n"] >= 0.5
             else "single"),
            ("Source redundancy", f"N+{rules['spare_sources']:g} over turbines"),
        ]))  # fmt: skip
        sources, battery = m.get("sources"), m.get("battery")
        if sources or battery:
            self.add("<h3>Sources and batteries</h3>")
            table = Table(
                ("Check", "Needed", "Available", "Holds"),
                numeric=(False, True, True, False),
                widths=(46, 18, 18, 18),
            )
            if sources:
                # The tightest source group (each 2N side and block has its own).
                need, have = sources["load_kw"], sources["without_spares_kw"]
                table.add((f"Worst load of the tightest source group ({sources['sources']} "
                           f"sources), its {sources['spare']} largest turbines lost",
                           t.megawatts(need),
                           t.megawatts(have), _yes(have >= need)),
                          "" if have >= need else t.BAD_BG)  # fmt: skip
            if battery:
                for what, need, have, unit in (
                    (f"Battery power for the training swing ({t.percent(rules['training_swing'])}"
                     " of IT)", battery["swing_kw"], battery["power_kw"], "kW"),
                    (f"Battery energy for {rules['ride_through_s']:g} s ride-through",
                     battery["ride_through_kwh"], battery["energy_kwh"], "kWh"),
                ):  # fmt: skip
                    table.add((what, f"{t.count(need)} {unit}", f"{t.count(have)} {unit}",
                               _yes(have + 1e-6 >= need)),
                              "" if have + 1e-6 >= need else t.BAD_BG)  # fmt: skip
            self.add(table.html())
        util = loads.utilisation
        self.add("<h3>Units by role</h3>")
        table = Table(
            ("Role", "Units", "Load, normal", "Rating", "Worst utilisation", "Over the limit"),
            numeric=(False, True, True, True, True, True),
        )
        roles = _ordered(loads.roles, POWER_ROLES)
        for role in roles:
            mine = loads.roles == role
            over = int((loads.worst_kw[mine] > loads.limit_kw[mine] + 1e-9).sum())
            table.add((_words(role), t.count(int(mine.sum())),
                       t.megawatts(float(loads.load_kw[mine].sum())),
                       t.megawatts(float(loads.capacity_kw[mine].sum())) if role != "battery"
                       else "–", t.percent(float(util[mine].max()), 1) if mine.any() else "–",
                       t.count(over)), t.BAD_BG if over else "")  # fmt: skip
        self.add(table.html())
        total = len(loads.ids)
        rows = loads.table(TOP_UNITS)
        self.add(f"<h3>{_most_utilised(total)}</h3>")
        self.para(
            f"{_shown_units(total)} Worst case: the largest load over "
            "normal operation and the loss of any one side (2N) or block (distributed and "
            "block redundant). A unit is over when its worst load exceeds what its own rule "
            f"allows: {t.percent(limit)} of the rating for breakers, switchgear and busways "
            "(NEC 210.19(A)/215.2(A)) unless listed for 100 %, the kVA rating for "
            "transformers, the kW rating for UPS, the site rating for turbines and the "
            "contracted capacity for utility services (shaded red; within 10 % of it, amber).",
            "note",
        )
        table = Table(("Unit", "Role", "Load, normal (kW)", "Worst (kW)", "Worst case",
                       "Rating (kW)", "Limit (kW)", "Utilisation"),
                      numeric=(False, False, True, True, False, True, True, True))  # fmt: skip
        for row in rows:
            table.add((row["unit"], _words(row["role"]), t.number(row["load_kw"]),
                       t.number(row["worst_kw"]), row["worst_case"], t.number(row["capacity_kw"]),
                       t.number(row["limit_kw"]), t.percent(row["utilisation"], 1)),
                      _shade(row["worst_kw"], row["limit_kw"]))  # fmt: skip
        self.add(table.html())
        has = loads.capacity_kw > 0
        if has.any():
            chart = utilisation_strip(_role_words(loads.roles[has]), util[has], limit,
                                      f"continuous limit {t.percent(limit)}")  # fmt: skip
            self.figure("power-utilisation", "Worst-case utilisation of every power unit "
                        "(batteries left out: they carry no continuous load); red: over the "
                        "continuous limit.", 0, 0, chart=chart)  # fmt: skip

    # -- cooling ---------------------------------------------------------------------------
    def cooling(self) -> None:
        from report.charts import utilisation_strip

        self.section(SECTIONS[5])
        loads, m, rules = self.d.cooling, self.m, self.d.project.rules
        self.add(key_values([
            ("Heat to liquid", t.megawatts(m.get("heat_to_liquid_kw"))),
            ("Heat to air", t.megawatts(m.get("heat_to_air_kw"))),
            ("Airflow the racks need", f"{t.number(m.get('airflow_required_m3s'))} m³/s"),
            ("CRAH airflow", f"{t.number(m.get('crah_airflow_m3s'))} m³/s"
             if m.get("crah_airflow_m3s") is not None else "–"),
            ("PUE (design)", t.number(m.get("pue"), 3) if m.get("pue") else "–"),
            ("Facility water", f"{rules['facility_water_c']:g} °C"),
            ("Worst rack inlet (estimate)", f"{t.number(m.get('worst_rack_inlet_c'))} °C"
             if m.get("worst_rack_inlet_c") is not None else "–"),
            ("RCI high side", t.number(m.get("rci_hi")) + " %" if m.get("rci_hi") is not None
             else "–"),
        ]))  # fmt: skip
        if loads is None:
            self.para("This project has no cooling plan yet (no cooling units).")
            return
        rejection = m.get("heat_rejection") or {}
        if rejection:
            self.add("<h3>Heat rejection, N+1</h3>")
            table = Table(
                ("Loop", "Heat (kW)", "Units", "Capacity N+1 (kW)", "Holds"),
                numeric=(False, True, True, True, False),
            )
            towers = rejection.get("rejection_units", 0)
            air_need = rejection["air_loop_kw"] if towers else rejection["total_kw"]
            rows = [("Chillers: air loop (air heat + CRAH fans)" if towers
                     else "Chillers: everything", air_need, rejection["chillers"],
                     rejection["chiller_capacity_n_kw"])]  # fmt: skip
            if towers:
                rows.append(
                    (
                        "Towers / dry coolers: liquid + air loops + chiller compressors",
                        rejection["total_kw"],
                        towers,
                        rejection["rejection_capacity_n_kw"],
                    )
                )
            for what, need, units, have in rows:
                table.add((what, t.count(need), t.count(units), t.count(have),
                           _yes(have >= need)), "" if have >= need else t.BAD_BG)  # fmt: skip
            self.add(table.html())
            self.para(
                f"Liquid loop {t.megawatts(rejection['liquid_loop_kw'])}, air loop "
                f"{t.megawatts(rejection['air_loop_kw'])}, chiller compressors "
                f"{t.megawatts(rejection['chiller_draw_kw'])}. N+1: the largest unit of each "
                "kind is left out of the capacity.",
                "note",
            )
        util = loads.utilisation
        self.add("<h3>Units by role</h3>")
        table = Table(
            ("Role", "Units", "Heat taken", "Capacity", "Worst utilisation", "Over capacity"),
            numeric=(False, True, True, True, True, True),
        )
        for role in _ordered(loads.roles, COOLING_ROLES):
            mine = loads.roles == role
            over = int((util[mine] > 1.0 + 1e-9).sum())
            table.add((_words(role), t.count(int(mine.sum())),
                       t.megawatts(float(loads.unit_load_kw[mine].sum())),
                       t.megawatts(float(loads.capacity_kw[mine].sum())),
                       t.percent(float(util[mine].max()), 1), t.count(over)),
                      t.BAD_BG if over else "")  # fmt: skip
        self.add(table.html())
        total = len(loads.unit_ids)
        self.add(f"<h3>{_most_utilised(total)}</h3>")
        self.para(
            f"{_shown_units(total)} CDUs and CRAHs take the heat of the racks assigned to "
            "them (CDU capacity at the facility water temperature); chillers and towers share "
            "their loop in proportion to capacity. Over 100 % is shaded red.",
            "note",
        )
        table = Table(
            ("Unit", "Role", "Heat taken (kW)", "Capacity (kW)", "Utilisation"),
            numeric=(False, False, True, True, True),
            widths=(24, 22, 18, 18, 18),
        )
        for row in loads.table(TOP_UNITS):
            table.add((row["unit"], _words(row["role"]), t.number(row["load_kw"]),
                       t.number(row["capacity_kw"]), t.percent(row["utilisation"], 1)),
                      _shade(row["utilisation"], 1.0))  # fmt: skip
        self.add(table.html())
        has = loads.capacity_kw > 0
        if has.any():
            chart = utilisation_strip(_role_words(loads.roles[has]), util[has], 1.0, "capacity")
            self.figure("cooling-utilisation", "Utilisation of every cooling unit; red: over "
                        "capacity.", 0, 0, chart=chart)  # fmt: skip
        self.heat_map()

    def heat_map(self) -> None:
        from report.charts import heat_map

        tm, rules = self.d.thermal, self.d.project.rules
        self.add('<h3 style="page-break-before: always">Thermal screening map</h3>')
        if tm is None:
            self.para("No CRAH stands in the hall, so there is no thermal map.")
            return
        outline = self.d.project.floor.outline
        rings = [np.asarray(g.exterior.coords) for g in getattr(outline, "geoms", [outline])]
        rings += [np.asarray(r.coords) for g in getattr(outline, "geoms", [outline])
                  for r in g.interiors]  # fmt: skip
        hot_rows = tm.rack_rows[np.nan_to_num(tm.inlet_c, nan=-1e9)
                                > rules["inlet_recommended_c"] + 1e-9]  # fmt: skip
        items = self.d.project.items
        hot = np.column_stack((items.x[hot_rows], items.y[hot_rows]))
        limits = (tm.supply_c, rules["inlet_recommended_c"], rules["inlet_allowable_c"])
        chart = heat_map(tm.grid, tm.extent, rings, limits, hot)
        self.figure(
            "heat-map",
            f"Estimated rack inlet air temperature ({tm.cell_m:.2g} m cells; screening model, "
            f"not CFD). Blue line: the recommended {limits[1]:g} °C; black marks on the bar: "
            f"recommended and allowable ({limits[2]:g} °C). {len(hot_rows):,} rack(s) above "
            "the recommended limit." + _uniform_note(tm.grid),
            0, 0, chart=chart,
        )  # fmt: skip

    # -- networks --------------------------------------------------------------------------
    def networks(self) -> None:
        """The front-end, storage and management networks and the storage racks."""
        self.section(SECTIONS[6])
        nets = self.m.get("networks") or {}
        storage = self.m.get("storage_racks")
        if not nets and not storage:
            self.para(
                "This design has only the GPU fabric: no front-end, storage or "
                "out-of-band management network and no storage racks are placed."
            )
            return
        self.para(
            "Besides the GPU fabric, each network is a leaf-spine tree of its own "
            "switches, sized from the servers' NICs: front-end (north-south) ports, "
            "storage ports and 1 GbE BMC ports, plus one management port per switch "
            "and the storage racks' ports. A rack is cabled to the nearest leaf of the "
            "network with free ports, its own row first."
        )
        table = Table(
            ("Network", "Racks", "Switches (leaf / spine / core)", "Links", "Ports used",
             "Ports free", "kW"),
            numeric=(False, True, True, True, False, True, True),
        )  # fmt: skip
        for name, n in nets.items():
            tiers = n["switches_per_tier"]
            used = ", ".join(f"{v:,} × {k}" for k, v in n["ports_used"].items())
            table.add((name, t.count(n["racks"]),
                       f"{n['switches']:,} ({tiers['leaf']:,} / {tiers['spine']:,} / "
                       f"{tiers['core']:,})", t.count(n["links"]), used, t.count(n["ports_free"]),
                       t.number(n["kw"], 1)))  # fmt: skip
        self.add(table.html())
        if storage:
            per_gpu = storage.get("read_gbytes_s_per_gpu")
            self.para(
                f"Storage: {storage['racks']:,} storage racks, {storage['read_gbytes_s']:,.0f} "
                f"GB/s read ({per_gpu if per_gpu is not None else '–'} GB/s per GPU), "
                f"{storage['usable_capacity_tb']:,.0f} TB usable, {storage['kw']:,.1f} kW."
            )
        broken = sorted({v.rule for v in self.d.results.violations
                         if v.rule.startswith("network.")})  # fmt: skip
        if broken:
            self.para("Network rules broken: " + ", ".join(broken) + " (see Violations).")

    # -- violations ------------------------------------------------------------------------
    def violations(self) -> None:
        from physics.engine import RULES

        self.section(SECTIONS[7])
        r, p = self.d.results, self.d.project
        self.add(key_values([
            ("Errors", t.count(r.errors)), ("Warnings", t.count(r.warnings)),
            ("Info", t.count(r.count("info"))), ("Waived", t.count(len(r.waived))),
            ("Rules run", t.count(len(r.rules_run))),
            ("Rules disabled", ", ".join(sorted(p.disabled_rules)) or "none"),
        ], columns=3))  # fmt: skip
        if not r.violations:
            self.para("No violations: every rule that ran is satisfied.")
        else:
            by_rule: dict[str, list[Any]] = {}
            for v in r.violations:
                by_rule.setdefault(v.rule, []).append(v)
            self.add("<h3>By rule</h3>")
            table = Table(
                ("Rule", "Severity", "Count", "What it checks"),
                numeric=(False, False, True, False),
                widths=(22, 12, 10, 56),
            )
            for rule_id, found in by_rule.items():
                severity = _worst_severity(found)
                provider = RULES.get(rule_id)
                table.add((rule_id, severity, t.count(len(found)),
                           provider.description if provider else ""),
                          t.BAD_BG if severity == "error" else
                          t.WARN_BG if severity == "warning" else "")  # fmt: skip
            self.add(table.html())
            self.add("<h3>Details</h3>")
            self.para(
                f"Up to {DETAILS_PER_RULE} per rule, errors first; 'python main.py check FILE' "
                "lists every one, and the GUI's violations list zooms to each.",
                "note",
            )
            for rule_id, found in by_rule.items():
                shown = found[:DETAILS_PER_RULE]
                more = f", the first {len(shown)}" if len(found) > len(shown) else ""
                self.add(f"<h4>{esc(rule_id)}: {len(found):,} "
                         f"{esc(_worst_severity(found))}(s){more}</h4>")  # fmt: skip
                table = Table(("Severity", "Items", "Message"), widths=(10, 18, 72))
                for v in shown:
                    table.add((v.severity, _items(v.items), v.message),
                              t.BAD_BG if v.severity == "error" else "")  # fmt: skip
                if len(found) > len(shown):
                    table.add(("", "", f"… and {len(found) - len(shown):,} more"))
                self.add(table.html())
        self.add("<h3>Waivers</h3>")
        if not p.waivers:
            self.para("The project waives nothing.")
            return
        matched: dict[int, int] = {}
        for _, w in r.waived:
            matched[id(w)] = matched.get(id(w), 0) + 1
        table = Table(
            ("Rule", "Items", "Reason", "Waives now"),
            numeric=(False, False, False, True),
            widths=(20, 24, 44, 12),
        )
        for w in p.waivers:
            table.add((w.rule, _items(w.items), w.reason, t.count(matched.get(id(w), 0))))
        self.add(table.html())
        self.para("A waiver with 0 matches no longer applies to anything in the design.", "note")

    # -- rules -----------------------------------------------------------------------------
    def rules(self) -> None:
        from layout.rules import PARAMETERS
        from physics.engine import registered_rules

        self.section(SECTIONS[8])
        p = self.d.project
        overrides = p.rules.overrides
        self.para(
            f"The design parameters the checks used: {len(PARAMETERS)} in all, "
            f"{len(overrides)} set by this project (shaded, default in brackets); the rest are "
            "the defaults, with their sources."
        )
        table = Table(
            ("Parameter", "Value", "Unit", "Source"),
            numeric=(False, True, False, False),
            widths=(40, 12, 10, 38),
            markup=True,
        )
        for key, param in PARAMETERS.items():
            value = p.rules[key]
            shown = f"{value:,g}"
            if key in overrides:
                shown = f"<b>{shown}</b> ({param.default:,g})"
            table.add((f'<b>{esc(key)}</b><br><span class="caption">{esc(param.description)}'
                       "</span>", shown, esc(param.unit), esc(param.source)),
                      t.WARN_BG if key in overrides else "")  # fmt: skip
        self.add(table.html())
        self.add("<h3>Rules checked</h3>")
        ran = set(self.d.results.rules_run)
        table = Table(
            ("Rule", "Severity", "Description", "Ran"),
            numeric=(False, False, False, False),
            widths=(22, 10, 58, 10),
        )
        for rule in registered_rules():
            table.add((rule.id, rule.severity, rule.description,
                       "yes" if rule.id in ran else "disabled"),
                      "" if rule.id in ran else t.WARN_BG)  # fmt: skip
        self.add(table.html())


_OVERLAY_WORDS = {
    "links": "fabric links by tier",
    "fill": "tray fill",
    "violations": "items with errors and warnings outlined",
    HEAT_OVERLAY: "estimated inlet temperature",
}


def _words(role: str) -> str:
    return {"ups": "UPS", "rpp": "RPP", "pdu": "PDU", "cdu": "CDU", "crah": "CRAH"}.get(
        role, role.replace("_", " ")
    )


def _most_utilised(total: int) -> str:
    if total <= TOP_UNITS:
        return f"All {total:,} units, most utilised first"
    return f"The {TOP_UNITS} most utilised units of {total:,}"


def _shown_units(total: int) -> str:
    if total <= TOP_UNITS:
        return ""
    return (
        f"Only the {TOP_UNITS} units with the highest utilisation are listed; the role totals "
        f"above cover all {total:,}."
    )


def _role_words(roles: np.ndarray) -> np.ndarray:
    return np.array([_words(str(r)) for r in roles], dtype=object)


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def _ordered(roles: np.ndarray, order: Sequence[str]) -> list[str]:
    present = {str(r) for r in roles}
    return [r for r in order if r in present] + sorted(present - set(order))


def _topology_words(plan: Any) -> str:
    words = {"2n": "2N (A and B independent from source to rack)",
             "distributed_redundant": "distributed redundant",
             "block_redundant": "block redundant with a catcher",
             "n+1": "N+1 sources, one path"}[plan.topology]  # fmt: skip
    if plan.blocks and plan.topology == "distributed_redundant":
        words += f", {plan.blocks}-make-{plan.blocks - 1}"
    elif plan.blocks:
        words += f", {plan.blocks} active blocks"
    return words


def _shade(utilisation: float, limit: float) -> str:
    if utilisation > limit + 1e-9:
        return t.BAD_BG
    if utilisation > 0.9 * limit:
        return t.WARN_BG
    return ""


def _ratio_of(value: float | None) -> str:
    """A down:up figure of ``check --json`` (None: not finite, no uplinks)."""
    if value is None or not np.isfinite(value):
        return "no uplinks"
    return f"{value:.2f}:1"


def _items(ids: Sequence[str], shown: int = 3) -> str:
    if not ids:
        return "–"
    more = f" +{len(ids) - shown:,}" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


def _worst_severity(found: Sequence[Any]) -> str:
    for severity in ("error", "warning", "info"):
        if any(v.severity == severity for v in found):
            return severity
    return "info"


def _uniform_note(grid: np.ndarray) -> str:
    finite = grid[np.isfinite(grid)]
    if len(finite) and float(finite.max() - finite.min()) < 0.1:
        return (
            f" The whole hall reads {float(finite.max()):.1f} °C: the CRAHs supply the air the "
            "racks draw everywhere."
        )
    return ""


def _heat_overlay_note(data: Solution) -> str:
    if data.thermal is None:
        return "Heat overlay: no thermal map (no CRAH stands in the hall)."
    rules = data.project.rules
    return (
        f"Heat overlay: estimated inlet air from {data.thermal.supply_c:g} °C (clear) to "
        f"{rules['inlet_allowable_c']:g} °C and above (dark red); the colour scale is the "
        "thermal screening map's, under Cooling."
    )


# -- pictures --------------------------------------------------------------------------------
def plan_picture(
    data: Solution, overlays: Sequence[str], extent: str
) -> tuple[bytes, float, float, float]:
    """The floor plan as PNG bytes, its layout width and height (px) and its scale (px/m).

    The scale is chosen so that the picture is :data:`PLAN_W_PX` wide (or as tall
    as a page allows); it is painted at :data:`PLAN_PIXEL_RATIO` device pixels per
    layout pixel.
    """
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage, QPainter

    from report.pictures import (
        FOOTER_PX,
        LEGEND_W_PX,
        MARGIN_PX,
        TITLE_PX,
        ensure_gui_app,
        paint_plan,
        plan_bounds,
        plan_geometry,
    )

    ensure_gui_app()
    project = data.project
    x0, y0, x1, y1 = plan_bounds(project, extent)
    room_w = PLAN_W_PX - 2 * MARGIN_PX - LEGEND_W_PX
    shown_scale = CONTENT_W_PX / PLAN_W_PX
    room_h = CONTENT_H_PX * 0.8 / shown_scale - TITLE_PX - FOOTER_PX - MARGIN_PX
    scale = min(room_w / max(x1 - x0, 1e-3), room_h / max(y1 - y0, 1e-3), 200.0)
    # A tall site keeps a width that holds the picture's title; the figure is then
    # shown smaller to fit the page.
    scale = max(scale, (SITE_MIN_W_PX - 2 * MARGIN_PX - LEGEND_W_PX) / max(x1 - x0, 1e-3))
    scale = _round_down(scale)
    geometry = plan_geometry(project, scale, extent)
    ratio = PLAN_PIXEL_RATIO
    image = QImage(geometry.width_px * ratio, geometry.height_px * ratio,
                   QImage.Format.Format_RGB32)  # fmt: skip
    if image.isNull():
        raise ExportError("not enough memory for the floor-plan picture")
    image.setDevicePixelRatio(ratio)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    try:
        paint_plan(painter, project, geometry, [o for o in overlays if o != HEAT_OVERLAY])
        if HEAT_OVERLAY in overlays:
            _paint_heat(painter, data, geometry)
    finally:
        painter.end()
    buffer = QByteArray()
    device = QBuffer(buffer)
    device.open(QIODevice.OpenModeFlag.WriteOnly)
    # PySide6 takes the format as text at run time although its stubs say bytes.
    image.save(device, "PNG")  # type: ignore[call-overload]
    device.close()
    return bytes(buffer.data()), geometry.width_px, geometry.height_px, scale


def _round_down(scale: float) -> float:
    """``scale`` rounded down to two significant figures, for a readable px/m."""
    digits = 1 - int(np.floor(np.log10(scale)))
    step = 10.0**-digits
    return float(np.floor(scale / step + 1e-9) * step) if scale > 0 else scale


def _paint_heat(painter: Any, data: Solution, g: Any) -> None:
    """The thermal map over the plan, half transparent, in the heat map's colours."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QTransform

    from report.charts import heat_rgba

    tm = data.thermal
    if tm is None:
        return
    rules = data.project.rules
    finite = tm.grid[np.isfinite(tm.grid)]
    vmax = max(rules["inlet_allowable_c"], float(finite.max()) if len(finite) else 0.0)
    rgba = heat_rgba(tm.grid, tm.supply_c, vmax, alpha=170, fade=True)
    ny, nx = tm.grid.shape
    image = QImage(rgba.data, nx, ny, nx * 4, QImage.Format.Format_RGBA8888).copy()
    x0, y0, x1, y1 = tm.extent
    painter.save()
    painter.setClipRect(QRectF(g.left, g.top, (g.x1 - g.x0) * g.px_per_m,
                               (g.y1 - g.y0) * g.px_per_m))  # fmt: skip
    world = QTransform()
    world.translate(g.left - g.x0 * g.px_per_m, g.top - g.y0 * g.px_per_m)
    world.scale(g.px_per_m, g.px_per_m)
    painter.setWorldTransform(world)
    painter.drawImage(QRectF(x0, y0, x1 - x0, y1 - y0), image)
    painter.restore()


# -- writing ---------------------------------------------------------------------------------
def build_report(
    project: Project, results: Any = None, overlays: Sequence[str] = (), *,
    source: str | None = None,
) -> Report:  # fmt: skip
    """The report of ``project`` (checked now unless ``results`` are given)."""
    check_overlays(overlays)
    return _Builder(gather(project, results), overlays, source).build()


def check_overlays(overlays: Sequence[str]) -> None:
    """Raise :class:`ExportError` for an overlay the report does not know."""
    from report.pictures import OVERLAYS

    known = (*OVERLAYS, HEAT_OVERLAY)
    for name in overlays:
        if name not in known:
            raise ExportError(f"--overlay: unknown overlay {name!r} ({', '.join(known)})")


def write_report(
    project: Project, path: str | Path, results: Any = None, overlays: Sequence[str] = (), *,
    source: str | None = None,
) -> Path:  # fmt: skip
    """Write the report of ``project`` to ``path``: ``.pdf``, or ``.html`` / ``.htm``.

    Parameters
    ----------
    project
        The project; it is not changed.
    path
        The file to write; its suffix picks the format. It is replaced whole or
        not at all (written beside it, then renamed).
    results
        The project's check results when the caller has them (the GUI does);
        checked afresh when None.
    overlays
        Overlays on the floor plan: ``links``, ``fill``, ``violations``, ``heat``.
    source
        The project file's name, for the cover.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ExportError
        Unknown suffix or overlay, a folder that does not exist, or a file that
        cannot be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        raise ExportError(
            f"{one_line(path.name)}: a report is written as .pdf or .html, "
            f"not {suffix or 'a file without a suffix'}"
        )
    check_overlays(overlays)
    _check_writable(path)
    report = build_report(project, results, overlays, source=source)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        if suffix == ".pdf":
            write_pdf(report, Path(temporary))
        else:
            Path(temporary).write_text(report.document(browser=True), encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; keep the usual mode
        os.replace(temporary, path)
    except OSError as err:
        raise ExportError(
            f"{one_line(str(path))}: cannot write the report ({err.strerror or err})"
        ) from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def _check_writable(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    problem = ""
    if not parent.is_dir():
        problem = f"no folder {parent}"
    elif path.is_dir():
        problem = "it is a folder"
    elif not os.access(parent, os.W_OK):
        problem = "permission denied"
    if problem:
        raise ExportError(f"{one_line(str(path))}: cannot write the report ({problem})")


def write_pdf(report: Report, path: Path) -> int:
    """Lay out the report's HTML in A4 pages and write them as a PDF; returns the page count."""
    from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt, QUrl
    from PySide6.QtGui import (
        QColor,
        QFont,
        QImage,
        QPageLayout,
        QPageSize,
        QPainter,
        QPdfWriter,
        QTextDocument,
    )

    from report.pictures import ensure_gui_app

    ensure_gui_app()
    document = QTextDocument()
    font = QFont("DejaVu Sans")
    font.setPointSizeF(9.0)
    document.setDefaultFont(font)
    document.setDocumentMargin(0)
    for figure in report.figures:
        image = QImage()
        image.loadFromData(figure.png_bytes(), "PNG")
        document.addResource(QTextDocument.ResourceType.ImageResource,
                             QUrl(f"{FIGURE_SRC}{figure.name}"), image)  # fmt: skip
    document.setHtml(report.document(browser=False))
    document.setPageSize(QSizeF(CONTENT_W_PX, CONTENT_H_PX))
    pages = document.pageCount()

    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)
    writer.setResolution(PDF_DPI)
    writer.setTitle(f"{printable(report.title)}: layout report")
    writer.setCreator("Coherence")
    painter = QPainter()
    if not painter.begin(writer):
        raise ExportError(f"{one_line(str(path))}: cannot write the PDF")
    mm = LAYOUT_DPI / 25.4
    left, top = MARGIN_MM * mm, (MARGIN_MM + HEADER_MM) * mm
    small = QFont("DejaVu Sans")
    small.setPixelSize(10)
    grey = QColor("#5a6069")
    try:
        for page in range(pages):
            if page:
                writer.newPage()
            painter.save()
            painter.scale(PDF_DPI / LAYOUT_DPI, PDF_DPI / LAYOUT_DPI)
            painter.setFont(small)
            painter.setPen(grey)
            if page:
                header = QRectF(left, MARGIN_MM * mm, CONTENT_W_PX, HEADER_MM * mm * 0.6)
                painter.drawText(header, Qt.AlignmentFlag.AlignLeft, printable(report.title))
                painter.drawText(header, Qt.AlignmentFlag.AlignRight, "Coherence layout report")
                painter.drawLine(QPointF(left, header.bottom()),
                                 QPointF(left + CONTENT_W_PX, header.bottom()))  # fmt: skip
            footer = QRectF(left, top + CONTENT_H_PX + FOOTER_MM * mm * 0.4, CONTENT_W_PX, 14)
            painter.drawText(footer, Qt.AlignmentFlag.AlignLeft, report.created)
            painter.drawText(footer, Qt.AlignmentFlag.AlignRight, f"Page {page + 1} of {pages}")
            painter.translate(left, top - page * CONTENT_H_PX)
            document.drawContents(painter, QRectF(0, page * CONTENT_H_PX, CONTENT_W_PX,
                                                  CONTENT_H_PX))  # fmt: skip
            painter.restore()
    finally:
        painter.end()
    return pages


__all__ = [
    "REPORT_SUFFIXES",
    "SECTIONS",
    "Report",
    "ReportFigure",
    "build_report",
    "check_overlays",
    "write_pdf",
    "write_report",
]
