"""The cable bill of materials and the per-link table, as CSV or XLSX for a spreadsheet user.

Owns the two tables the build team and finance order from:

- **BOM**: links by medium × stock length, with count and indicative cost;
  exactly the ``cable_bom`` of ``check --json`` (both come from
  :meth:`physics.cabling.CablingResult.bom`).
- **Links**: one row per bundle of links between two racks: tier, rack A,
  rack B, links, routed length, medium, stock length, whether it follows
  the trays, cost.

CSV: the BOM goes to the file asked for and the links to a sibling
``NAME-links.csv`` (one table per file is what spreadsheet programs and
scripts read without surprises). XLSX (openpyxl): one workbook, sheets
``BOM`` and ``Links``, bold frozen header row, column widths and number
formats set, an autofilter on the links, and a ``Total`` row under the BOM.

Also holds :class:`ExportError`, raised by every exporter in ``report/`` when
an output cannot be written. Never imports Qt.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from layout.errors import CoherenceError, one_line
from layout.project import Project
from report.safe_text import csv_cell, is_formula_like, printable

BOM_COLUMNS = ("medium", "stock_length_m", "count", "cost_usd")
BOM_HEADERS = ("Medium", "Stock length (m)", "Count", "Cost (USD)")
LINK_COLUMNS = (
    "tier", "rack_a", "rack_a_name", "rack_b", "rack_b_name", "links", "length_m",
    "medium", "stock_length_m", "on_trays", "in_row", "cost_per_link_usd", "cost_usd",
)  # fmt: skip
LINK_HEADERS = (
    "Tier", "Rack A", "Rack A name", "Rack B", "Rack B name", "Links", "Length (m)",
    "Medium", "Stock length (m)", "On trays", "Along the row", "Cost per link (USD)",
    "Cost (USD)",
)  # fmt: skip
TOTAL_LABEL = "Total"


class ExportError(CoherenceError):
    """An export cannot be made or written (bad format, unwritable path, nothing to export)."""


def cable_tables(project: Project) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The BOM rows and the per-link rows of ``project`` (both empty without a fabric).

    Each BOM row has the keys of :data:`BOM_COLUMNS`, each link row those of
    :data:`LINK_COLUMNS`; links are sorted by tier, then rack A, then rack B.
    """
    from physics.cabling import route
    from physics.fabric import LINK_TIERS

    try:
        result = route(project)
    except CoherenceError as err:
        raise ExportError(f"cannot route the cables: {err}") from None
    if result is None:
        return [], []
    names = project.items.names
    links: list[dict[str, Any]] = []
    for tier in LINK_TIERS:
        bundle = result.bundles[tier]
        labels = [tier] * len(bundle.a)
        links += _link_rows(result, names, labels, (bundle.a, bundle.b, bundle.count),
                            result.tiers[tier])  # fmt: skip
    links += _other_network_links(result, names)
    return result.bom(), links


def _link_rows(
    result: Any, names: Sequence[str], labels: Sequence[str],
    ends: tuple[np.ndarray, np.ndarray, np.ndarray], cables: Any,
) -> list[dict[str, Any]]:  # fmt: skip
    """One row per bundle: ``ends`` are its racks and link count, ``cables`` its routed
    figures (:class:`~physics.cabling.TierCables` or :class:`~physics.cabling.OtherCables`)."""
    ids, rows = result.ids, []
    for k in range(len(ends[0])):
        a, b, count = int(ends[0][k]), int(ends[1][k]), int(ends[2][k])
        medium = int(cables.medium[k])
        cost = float(cables.cost_usd[k])
        rows.append({
            "tier": str(labels[k]),
            "rack_a": ids[a], "rack_a_name": names[a],
            "rack_b": ids[b], "rack_b_name": names[b],
            "links": count,
            "length_m": round(float(cables.length_m[k]), 2),
            "medium": result.media[medium].id if medium >= 0 else "",
            "stock_length_m": float(cables.stock_m[k]) if medium >= 0 else None,
            "on_trays": bool(cables.on_trays[k]),
            "in_row": bool(cables.in_row[k]),
            "cost_per_link_usd": round(cost, 2) if math.isfinite(cost) else None,
            "cost_usd": round(cost * count, 2) if math.isfinite(cost) else None,
        })  # fmt: skip
    return rows


def _other_network_links(result: Any, names: Sequence[str]) -> list[dict[str, Any]]:
    """Rows for the front-end, storage and management networks' links (tier: the network
    and its link tier), after the fabric's."""
    others = result.others
    if others is None:
        return []
    links = others.links
    rows = _link_rows(result, names, links.label, (links.a, links.b, links.count), others)
    rows.sort(key=lambda r: (r["tier"], r["rack_a"], r["rack_b"]))
    return rows


def write_bom(project: Project, path: str | Path) -> list[Path]:
    """Write the BOM and link tables to ``path`` (``.csv`` or ``.xlsx``); return the files written.

    Raises
    ------
    ExportError
        Unknown suffix, or a file cannot be written.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ExportError(
            f"{one_line(path.name)}: a BOM is written as .csv or .xlsx, not {suffix or 'no suffix'}"
        )
    bom, links = cable_tables(project)
    if suffix == ".csv":
        links_path = path.with_name(path.stem + "-links.csv")
        _write_csv(path, BOM_COLUMNS, BOM_HEADERS, bom)
        _write_csv(links_path, LINK_COLUMNS, LINK_HEADERS, links)
        return [path, links_path]
    _write_xlsx(path, project.name, bom, links)
    return [path]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _write_csv(
    path: Path, columns: Sequence[str], headers: Sequence[str], rows: list[dict[str, Any]]
) -> None:
    try:
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(headers)
            for row in rows:
                writer.writerow([csv_cell(_cell(row[c])) for c in columns])
    except OSError as err:
        raise ExportError(f"{one_line(str(path))}: cannot write ({err.strerror or err})") from None


def _text_cell(value: Any) -> Any:
    """An XLSX cell's value: text printable (XML has no control characters), numbers unchanged."""
    return printable(value) if isinstance(value, str) else value


_BOM_WIDTHS = (22, 17, 12, 16)
_LINK_WIDTHS = (12, 10, 18, 10, 18, 8, 12, 18, 17, 9, 14, 19, 14)
_FORMATS = {
    "stock_length_m": "0.0",
    "length_m": "0.00",
    "count": "#,##0",
    "links": "#,##0",
    "cost_usd": "#,##0.00",
    "cost_per_link_usd": "#,##0.00",
}


def _write_xlsx(
    path: Path, title: str, bom: list[dict[str, Any]], links: list[dict[str, Any]]
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    bold = Font(bold=True)

    def sheet(ws: Any, columns: Sequence[str], headers: Sequence[str],
              widths: Sequence[int], rows: list[dict[str, Any]]) -> None:  # fmt: skip
        ws.append(list(headers))
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append([_text_cell(_cell(row[c])) for c in columns])
            # openpyxl stores text beginning with "=" as a formula; a name is never one.
            # The quote prefix keeps formula-like text as text when the cell is edited.
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                    if is_formula_like(cell.value):
                        cell.quotePrefix = True
        for k, (column, width) in enumerate(zip(columns, widths, strict=True), start=1):
            letter = get_column_letter(k)
            ws.column_dimensions[letter].width = width
            fmt = _FORMATS.get(column)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=2, min_col=k, max_col=k):
                    cell.number_format = fmt
        ws.freeze_panes = "A2"

    bom_sheet = workbook.active
    bom_sheet.title = "BOM"
    sheet(bom_sheet, BOM_COLUMNS, BOM_HEADERS, _BOM_WIDTHS, bom)
    if bom:
        # Values, not formulas: a formula has no value until a spreadsheet program
        # recalculates it, and scripts reading the file would see nothing.
        count = sum(r["count"] for r in bom)
        cost = round(sum(r["cost_usd"] for r in bom), 2)
        bom_sheet.append([TOTAL_LABEL, None, count, cost])
        total = bom_sheet.max_row
        for cell in bom_sheet[total]:
            cell.font = bold
        bom_sheet.cell(total, 3).number_format = _FORMATS["count"]
        bom_sheet.cell(total, 4).number_format = _FORMATS["cost_usd"]
    links_sheet = workbook.create_sheet("Links")
    sheet(links_sheet, LINK_COLUMNS, LINK_HEADERS, _LINK_WIDTHS, links)
    if links:
        links_sheet.auto_filter.ref = links_sheet.dimensions
    workbook.properties.title = f"{printable(title)}: cable bill of materials"
    workbook.properties.creator = "Coherence"
    try:
        workbook.save(path)
    except OSError as err:
        raise ExportError(f"{one_line(str(path))}: cannot write ({err.strerror or err})") from None
