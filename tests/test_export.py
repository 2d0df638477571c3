"""Exports: PNG/SVG pictures read back with racks where the model has them, the cable BOM
as XLSX/CSV with the counts of ``check --json``, and ``main.py export`` failing in one
line with exit 2.

Picture tests take pytest-qt's ``qapp`` so the application they draw with is the
QApplication the GUI tests also need.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from layout import dclayout
from layout.generator import ClusterRequest, generate
from layout.kinds import EQUIPMENT_KINDS
from physics import check
from report.bom import BOM_HEADERS, LINK_HEADERS, TOTAL_LABEL, ExportError, write_bom
from report.check_json import results_to_json
from report.exporters import EXPORTERS, exporter_for
from report.pictures import (
    FLOOR_COLOUR,
    nice_length,
    render_png,
    render_svg,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def project():
    return generate(ClusterRequest(gpus=4096))


@pytest.fixture(scope="module")
def saved(project, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("export") / "cluster.dclayout"
    dclayout.save(project, path)
    return path


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[k : k + 2], 16) for k in (1, 3, 5)])


def image_array(path: Path) -> np.ndarray:
    """The PNG as an (h, w, 3) RGB array, read back with QImage."""
    from PySide6.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull()
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    bpl = image.bytesPerLine()
    data = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(image.height(), bpl)
    return data[:, : image.width() * 3].reshape(image.height(), image.width(), 3)


def share_of(pixels: np.ndarray, hex_colour: str, tolerance: int = 40) -> float:
    """The share of ``pixels`` (n, 3) within ``tolerance`` of the colour."""
    distance = np.abs(pixels.astype(int) - rgb(hex_colour)).max(axis=-1)
    return float((distance <= tolerance).mean())


def test_png_has_racks_where_the_model_has_them(qapp, project, tmp_path: Path) -> None:
    out = tmp_path / "plan.png"
    g = render_png(project, out, px_per_m=20)
    pixels = image_array(out)
    assert pixels.shape[:2] == (g.height_px, g.width_px)
    kinds = project.kinds()
    width, depth = project.sizes()
    x, y = project.items.x, project.items.y
    rotation = np.asarray(project.items.rotation)
    for kind in ("gpu_rack", "network_rack", "cooling"):
        rows = np.flatnonzero((kinds == kind) & np.isclose(np.mod(rotation, 180), 0))
        assert len(rows), kind
        for row in rows[:: max(1, len(rows) // 25)]:
            # The rack's footprint, less its edge and front mark, is mostly its kind's colour.
            left, top = g.to_px(x[row] - width[row] / 2, y[row] - depth[row] / 2)
            right, bottom = g.to_px(x[row] + width[row] / 2, y[row] + depth[row] / 2)
            inner = pixels[int(top) + 5 : int(bottom) - 5, int(left) + 2 : int(right) - 2]
            assert inner.size, project.items.ids[row]
            share = share_of(inner.reshape(-1, 3), EQUIPMENT_KINDS[kind].colour)
            assert share > 0.5, (project.items.ids[row], kind, share)
    # The floor between rows is floor-coloured, beyond the outline is outside-coloured.
    gx, gy = g.to_px(project.floor.bounds[0] + 0.5, project.floor.bounds[1] + 0.5)
    assert share_of(pixels[int(gy), int(gx)][None], FLOOR_COLOUR, 6) == 1.0
    assert share_of(pixels[int(g.top) + 2, int(g.left) - 2][None], "#ffffff", 0) == 1.0


def test_png_of_the_hall_only_and_with_overlays(qapp, project, tmp_path: Path) -> None:
    whole = render_png(project, tmp_path / "all.png", px_per_m=5)
    hall = render_png(project, tmp_path / "hall.png", px_per_m=5, extent="hall",
                      overlays=["links", "fill", "violations"])  # fmt: skip
    # The yard's plant stands outside the hall: the hall-only picture is shorter.
    assert hall.height_px < whole.height_px
    x0, y0, x1, y1 = project.floor.bounds
    assert (hall.x0, hall.y0, hall.x1, hall.y1) == (x0, y0, x1, y1)
    pixels = image_array(tmp_path / "hall.png")
    # Link lines are drawn in their tier colours somewhere over the plan.
    plan = pixels[int(hall.top) : int(hall.top + (y1 - y0) * 5), int(hall.left) : -200]
    assert share_of(plan.reshape(-1, 3), "#e8590c", 50) > 0.001


def test_svg_reads_back_with_racks(qapp, project, tmp_path: Path) -> None:
    out = tmp_path / "plan.svg"
    g = render_svg(project, out, px_per_m=10)
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    assert root.get("viewBox") == f"0 0 {g.width_px} {g.height_px}"
    fills = [e.get("fill") for e in root.iter() if e.get("fill")]
    for kind in ("gpu_rack", "network_rack", "power", "cooling"):
        assert EQUIPMENT_KINDS[kind].colour in fills, kind
    rects = sum(1 for e in root.iter() if e.tag.endswith("rect"))
    assert rects >= len(project.items)
    text = "".join(e.text or "" for e in root.iter())
    assert project.name in text
    assert "Legend" in text


def test_picture_errors(qapp, project, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"--scale: at 1000 px per metre .* use a smaller"):
        render_png(project, tmp_path / "big.png", px_per_m=1000)
    with pytest.raises(ExportError, match=r"--overlay: unknown overlay 'heat'"):
        render_png(project, tmp_path / "x.png", overlays=["heat"])
    with pytest.raises(ExportError, match=r"cannot write the PNG \(no folder"):
        render_png(project, tmp_path / "missing" / "x.png", px_per_m=2)
    with pytest.raises(ExportError, match=r"cannot write the SVG \(no folder"):
        render_svg(project, tmp_path / "missing" / "x.svg", px_per_m=2)


def test_scale_bar_lengths() -> None:
    assert [nice_length(v) for v in (0.7, 1.0, 3.3, 16.0, 49.0, 230.0)] == [
        0.5, 1.0, 2.0, 10.0, 20.0, 200.0,
    ]  # fmt: skip


# -- BOM ---------------------------------------------------------------------------------------


def test_xlsx_bom_has_the_counts_of_check_json(project, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    expected = results_to_json("x", check(project))["summary"]["cable_bom"]
    assert expected, "the generated project has cables"
    (out,) = write_bom(project, tmp_path / "bom.xlsx")
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["BOM", "Links"]
    bom = workbook["BOM"]
    assert [c.value for c in bom[1]] == list(BOM_HEADERS)
    assert all(c.font.bold for c in bom[1])
    assert bom.column_dimensions["A"].width > 10
    assert bom.freeze_panes == "A2"
    rows = [r for r in bom.iter_rows(min_row=2, values_only=True) if r[0] != TOTAL_LABEL]
    got = [{"medium": r[0], "stock_length_m": float(r[1]), "count": r[2], "cost_usd": r[3]}
           for r in rows]  # fmt: skip
    assert got == expected
    total = next(r for r in bom.iter_rows(min_row=2, values_only=True) if r[0] == TOTAL_LABEL)
    assert total[2] == sum(e["count"] for e in expected)

    links = workbook["Links"]
    assert [c.value for c in links[1]] == list(LINK_HEADERS)
    assert all(c.font.bold for c in links[1])
    link_rows = list(links.iter_rows(min_row=2, values_only=True))
    count = LINK_HEADERS.index("Links")
    assert sum(r[count] for r in link_rows) == sum(e["count"] for e in expected)
    tiers = {r[0] for r in link_rows}
    metrics = check(project).metrics
    # The fabric's link tiers, and the other networks' as "network: tier".
    others = {f"{network}: {tier}" for network, n in metrics.get("networks", {}).items()
              for tier, links in n["links_per_tier"].items() if links}  # fmt: skip
    assert tiers == set(metrics["links_per_tier"]) | others


def test_csv_bom_and_links(project, tmp_path: Path) -> None:
    expected = check(project).metrics["cable_bom"]
    bom_path, links_path = write_bom(project, tmp_path / "bom.csv")
    assert links_path.name == "bom-links.csv"
    with bom_path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(BOM_HEADERS)
    assert [(r[0], float(r[1]), int(r[2])) for r in rows[1:]] == [
        (e["medium"], e["stock_length_m"], e["count"]) for e in expected
    ]
    with links_path.open(newline="", encoding="utf-8") as f:
        links = list(csv.DictReader(f))
    assert sum(int(r["Links"]) for r in links) == sum(e["count"] for e in expected)
    with pytest.raises(ExportError, match=r"bom\.pdf: a BOM is written as \.csv or \.xlsx"):
        write_bom(project, tmp_path / "bom.pdf")


# -- the command line ----------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )  # fmt: skip


def test_export_command_writes_every_format(saved: Path, tmp_path: Path) -> None:
    result = run(
        "export", str(saved), "--png", str(tmp_path / "a.png"), "--svg", str(tmp_path / "a.svg"),
        "--dxf", str(tmp_path / "a.dxf"), "--bom", str(tmp_path / "a.xlsx"),
        "-o", str(tmp_path / "b.csv"), "--netbox", str(tmp_path / "nb"), "--scale", "4",
        "--overlay", "links,violations",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name in ("a.png", "a.svg", "a.dxf", "a.xlsx", "b.csv", "b-links.csv",
                 "nb/racks.csv", "nb/devices.csv", "nb/cables.csv"):  # fmt: skip
        assert (tmp_path / name).stat().st_size > 0, name
    # The BOM of the spreadsheet is the BOM of check --json.
    checked = run("check", str(saved), "--json")
    document = json.loads(checked.stdout)
    with (tmp_path / "b.csv").open(newline="", encoding="utf-8") as f:
        counts = [int(r["Count"]) for r in csv.DictReader(f)]
    assert counts == [e["count"] for e in document["summary"]["cable_bom"]]


def test_every_registered_format_is_written_by_export_o(saved: Path, tmp_path: Path) -> None:
    # The registry is the command line's list: each entry's usual suffix (a folder for
    # NetBox) given to -o writes that format, in one run.
    outputs = {e.name: tmp_path / f"out-{e.name}{e.suffixes[0] if e.suffixes else ''}"
               for e in EXPORTERS}  # fmt: skip
    args = [a for out in outputs.values() for a in ("-o", str(out))]
    result = run("export", str(saved), *args)
    assert result.returncode == 0, result.stderr
    for exporter in EXPORTERS:
        out = outputs[exporter.name]
        assert exporter_for(out) is exporter
        written = [out / n for n in ("racks.csv", "devices.csv", "cables.csv")] \
            if exporter.writes_folder else [out]  # fmt: skip
        for path in written:
            assert path.stat().st_size > 0, path
            assert f"wrote {path}" in result.stdout
    # Each group is a named option too, taking its formats' suffixes.
    help_text = run("export", "--help").stdout
    for group in {e.group for e in EXPORTERS}:
        assert f"--{group}" in help_text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "OUT/plan.jpg"], "-o OUT/plan.jpg: unknown format .jpg"),
        (["--png", "OUT/plan.svg"], "--png OUT/plan.svg: unknown format .svg (use .png)"),
        (["--bom", "OUT/bom.pdf"], "--bom OUT/bom.pdf: unknown format .pdf"),
        ([], "nothing to export"),
        (["--png", "OUT/missing/plan.png"], "cannot write the PNG (no folder"),
        (["--bom", "OUT/missing/bom.xlsx"], "cannot write"),
        (["--dxf", "OUT/missing/plan.dxf"], "cannot write"),
        (["--png", "OUT/plan.png", "--scale", "-3"], "--scale: -3 px per metre"),
    ],
)
def test_export_errors_are_one_line_exit_2(
    saved: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    args = [a.replace("OUT", str(tmp_path)) for a in args]
    result = run("export", str(saved), *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("coherence export: error: ")
    assert message.replace("OUT", str(tmp_path)) in result.stderr


def test_export_of_a_bad_project(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dclayout"
    bad.write_text("{not json", encoding="utf-8")
    result = run("export", str(bad), "--png", str(tmp_path / "x.png"))
    assert result.returncode == 2
    assert result.stderr.startswith("coherence export: error: ")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "x.png").exists()
