"""The layout report: the PDF read back with pypdf (pages, headings, page numbers, the cover's
GPU count, the BOM equal to ``check --json``), the HTML parsed with one inlined ``<img>`` per
figure, what the report cuts and says it cut, and ``main.py report`` exiting 0 or failing in
one line with exit 2.

Tests that draw take pytest-qt's ``qapp`` so the application the report paints with is the
QApplication the GUI tests also need.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from layout import dclayout
from layout.generator import ClusterRequest, generate
from layout.project import Waiver
from physics import check
from physics.tray_sizing import size_trays
from report import report as report_module
from report.bom import ExportError
from report.report import SECTIONS, build_report, write_report

pypdf = pytest.importorskip("pypdf")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def project():
    return generate(ClusterRequest(gpus=4096), tray_sizer=size_trays)


@pytest.fixture(scope="module")
def saved(project, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "cluster.dclayout"
    dclayout.save(project, path)
    return path


@pytest.fixture(scope="module")
def pdf(qapp, project, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "cluster.pdf"
    assert write_report(project, out, overlays=("violations", "heat")) == out
    return out


@pytest.fixture(scope="module")
def pdf_pages(pdf: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(pdf).pages]


@pytest.fixture(scope="module")
def html_file(qapp, project, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "cluster.html"
    write_report(project, out, overlays=("links", "fill"))
    return out


def words(text: str) -> list[str]:
    return text.split()


def contains_run(tokens: list[str], run: list[str]) -> bool:
    n = len(run)
    return any(tokens[k : k + n] == run for k in range(len(tokens) - n + 1))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )  # fmt: skip


# -- PDF ---------------------------------------------------------------------------------
def test_pdf_has_pages_headings_and_page_numbers(pdf: Path, pdf_pages: list[str]) -> None:
    assert pdf.read_bytes().startswith(b"%PDF")
    assert len(pdf_pages) >= 4
    text = "\n".join(pdf_pages)
    flat = " ".join(words(text))
    for heading in SECTIONS:
        assert heading in flat, heading
    for k, page in enumerate(pdf_pages, start=1):
        assert f"Page {k} of {len(pdf_pages)}" in " ".join(words(page))


def test_pdf_sections_start_on_their_own_pages(pdf_pages: list[str]) -> None:
    firsts = [" ".join(words(page))[:400] for page in pdf_pages]
    for heading in SECTIONS[1:]:
        assert any(heading in first for first in firsts), heading


def test_pdf_cover_has_name_and_headline_figures(project, pdf_pages: list[str]) -> None:
    cover = " ".join(words(pdf_pages[0]))
    results = check(project)
    m = results.metrics
    assert f"{m['gpus']:,}" in cover
    assert f"{project.gpu_count():,}" in cover
    assert project.name in cover
    for label in ("GPU racks", "Switches", "IT load", "Facility load", "PUE", "Coherent fabric",
                  "Errors", "Warnings"):  # fmt: skip
        assert label in cover, label
    assert f"{m['it_kw'] / 1000:,.2f} MW" in cover
    assert f"{m['pue']:.3f}" in cover


def test_pdf_bom_equals_check_json(saved: Path, pdf_pages: list[str]) -> None:
    result = run("check", str(saved), "--json")
    assert result.returncode == 0, result.stderr
    bom = json.loads(result.stdout)["summary"]["cable_bom"]
    assert bom
    start = next(k for k, p in enumerate(pdf_pages) if "Bill of materials" in " ".join(words(p)))
    tokens = words("\n".join(pdf_pages[start : start + 4]))
    for row in bom:
        line = [row["medium"], f"{row['stock_length_m']:g}", f"{row['count']:,}",
                f"${row['cost_usd']:,.0f}"]  # fmt: skip
        assert contains_run(tokens, line), line
    total = sum(r["count"] for r in bom)
    assert contains_run(tokens, ["Total", f"{total:,}"])


def test_pdf_embeds_the_figures(pdf: Path) -> None:
    images = 0
    for page in pypdf.PdfReader(pdf).pages:
        objects = page["/Resources"].get_object().get("/XObject")
        if objects is not None:
            objects = objects.get_object()
            images += sum(objects[name].get_object()["/Subtype"] == "/Image" for name in objects)
    assert images >= 5  # hall plan, link lengths, power and cooling utilisation, heat map


# -- HTML --------------------------------------------------------------------------------
class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "h2", "h3"):
            self._in = tag
            self.headings.append("")
        elif tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in:
            self.headings[-1] += data


def test_html_parses_with_headings_and_an_inlined_image_per_figure(
    project, html_file: Path
) -> None:
    source = html_file.read_text(encoding="utf-8")
    assert source.startswith("<!DOCTYPE html>")
    outline = _Outline()
    outline.feed(source)
    outline.close()
    for heading in SECTIONS:
        assert heading in outline.headings, heading
    assert project.name in outline.headings
    captions = re.findall(r"Figure (\d+)\. ", "".join(outline.text))
    assert len(captions) >= 5
    assert len(outline.images) == len(captions)
    for image in outline.images:
        src = image["src"] or ""
        assert src.startswith(("data:image/png;base64,", "data:image/svg+xml;base64,")), src[:40]
        assert image.get("alt")
    assert "fig:" not in source  # every placeholder replaced: the file stands alone


def test_html_names_what_it_cuts_waivers_and_overrides(qapp, project, monkeypatch) -> None:
    """Long unit lists are cut to the most utilised and say so; waivers show their reason."""
    changed = project.snapshot()  # sections are replaced, never changed in place
    changed.replace_section("rules", changed.rules.with_value("latency_budget_ns", 1000.0))
    found = [v for v in check(changed).violations if v.rule == "fabric.latency"]
    assert found
    reason = "accepted for the pilot hall: one-tier traffic only"
    changed.replace_section("waivers", (Waiver("fabric.latency", found[0].items, reason),))
    monkeypatch.setattr(report_module, "TOP_UNITS", 5)
    report = build_report(changed)
    html = report.document()
    assert reason in html
    assert "The 5 most utilised units of" in html
    assert "latency_budget_ns" in html
    assert "<b>1,000</b> (10,000)" in html  # the override, with its default
    results = check(changed)
    assert len(results.waived) == 1
    assert f"{results.metrics['gpus']:,}" in html


def test_cover_shows_the_gpus_requested_and_built(qapp) -> None:
    # 4,000 GPUs: 62 racks of 64 hold 3,968, so 63 racks, 4,032 GPUs (504 servers).
    asked = generate(ClusterRequest(gpus=4_000))
    html = build_report(asked).document()
    assert "GPUs built" in html
    assert "4,032" in html
    assert "4,000 requested, 504 servers" in html
    # A file that does not say what was asked for shows the servers alone.
    unknown = asked.fabric.model_copy(update={"requested_gpus": None})
    asked.replace_section("fabric", unknown)
    html = build_report(asked).document()
    assert "requested" not in html.split("GPUs built", 1)[1].split("GPU racks", 1)[0]
    assert ">504 servers<" in html


# -- errors and the command line ------------------------------------------------------------
def test_write_report_refuses_bad_paths_and_overlays(project, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    with pytest.raises(ExportError, match=r"\.pdf or \.html"):
        write_report(project, tmp_path / "report.docx")
    with pytest.raises(ExportError, match="no folder"):
        write_report(project, tmp_path / "missing" / "report.pdf")
    with pytest.raises(ExportError, match="unknown overlay"):
        write_report(project, tmp_path / "report.pdf", overlays=("smoke",))
    assert not list(tmp_path.iterdir())


def test_report_command_writes_the_pdf(saved: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "out.pdf"
    out.parent.mkdir()
    result = run("report", str(saved), "-o", str(out), "--overlay", "violations,heat")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF")
    assert f"wrote {out}" in result.stdout
    assert [p.name for p in out.parent.iterdir()] == ["out.pdf"]  # no temporary left behind


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("missing-folder/out.pdf", "no folder"),
        ("out.docx", "unknown format"),
    ],
)
def test_report_command_bad_output_is_one_line_exit_2(
    saved: Path, tmp_path: Path, output: str, message: str
) -> None:
    result = run("report", str(saved), "-o", str(tmp_path / output))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_the_report_reads_the_one_solve(project):
    from physics.solution import Solution, solve

    gathered = report_module.gather(project)
    assert isinstance(gathered, Solution)
    fresh = solve(project)
    assert gathered.results.metrics == fresh.results.metrics
    assert gathered.cabling.bom() == fresh.cabling.bom()
    assert gathered.power.table() == fresh.power.table()
    assert gathered.cooling.table() == fresh.cooling.table()
    assert gathered.thermal.worst_inlet_c == fresh.thermal.worst_inlet_c
    # Given results are the report's results; nothing is checked again.
    results = check(project)
    assert report_module.gather(project, results).results is results


def test_html_lists_the_coherence_criteria_and_the_tier_figures(qapp, project) -> None:
    """The report shows the same criteria as ``check --json`` and says which failed."""
    changed = project.snapshot()
    changed.replace_section("rules", changed.rules.with_value("latency_budget_ns", 1000.0))
    html = build_report(changed).document()
    coherence = check(changed).metrics["coherence"]
    assert "<h3>Coherence</h3>" in html
    for criterion in coherence["criteria"]:
        assert criterion["title"].replace("'", "&#x27;") in html, criterion["title"]
        assert criterion["figure_text"] in html
    # Latency over a 1,000 ns budget is the one criterion failing.
    assert [c["id"] for c in coherence["criteria"] if c["pass"] is False] == ["latency"]
    assert "The fabric is not coherent" in html
    # Per tier: 64 leaves, 1:1 worst and mean against a 1:1 target; ports per switch type:
    # 96 SN5600, every one of their 12,288 ports at 400G in use.
    assert "<h3>Ports per switch type</h3>" in html
    assert "12,288 × 400G" in html
    assert "1.00:1" in html
    assert "1,638.4 Tb/s" in html  # 4,096 GPUs × 400G cross the leaf tier
