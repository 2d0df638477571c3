"""HTML tables and number formats for the layout report (:mod:`report.report`).

Owns how a table and a number look in the report, nothing about what they
say. The HTML is the small subset that both a browser and Qt's
``QTextDocument`` (which lays out the PDF) render the same way: ``<table>``
with ``border``/``cellpadding``/``cellspacing`` attributes, a ``<thead>``
(Qt repeats it at the top of every page a long table runs onto), cell
``align`` attributes and ``bgcolor`` for highlighted rows. Never imports Qt.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

HEADER_BG = "#e6eaf0"
TOTAL_BG = "#f1f3f5"
BAD_BG = "#fde2e1"
WARN_BG = "#fff3cd"
GOOD_BG = "#e3f4e6"


def esc(text: object) -> str:
    """``text`` as HTML-escaped text."""
    return html.escape(str(text), quote=True)


def count(n: float | None) -> str:
    """A whole number with thousands separators (``88,118``); en dash for none."""
    if n is None or (isinstance(n, float) and not math.isfinite(n)):
        return "–"
    return f"{round(n):,}"


def number(x: float | None, digits: int = 1) -> str:
    """A decimal with thousands separators (``1,576.5``); en dash for none."""
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:,.{digits}f}"


def percent(share: float | None, digits: int = 0) -> str:
    """A share as a percentage (``0.8333`` → ``83 %``)."""
    if share is None or not math.isfinite(share):
        return "–"
    return f"{share * 100:,.{digits}f} %"


def megawatts(kw: float | None) -> str:
    """Kilowatts as megawatts with one or two decimals (``138,890.5`` → ``138.9 MW``)."""
    if kw is None or not math.isfinite(kw):
        return "–"
    mw = kw / 1000.0
    return f"{mw:,.2f} MW" if abs(mw) < 10 else f"{mw:,.1f} MW"


def usd(amount: float | None) -> str:
    """An indicative amount in dollars, whole (``$325,594,042``)."""
    if amount is None or not math.isfinite(amount):
        return "–"
    return f"${amount:,.0f}"


@dataclass
class Table:
    """A table to render as HTML: headers, rows of already formatted cells, a total row.

    ``numeric`` marks columns aligned right (figures). ``shades`` gives a
    background colour per row (``""`` for none), for rows over a limit.
    Cells are plain text (escaped on output) unless ``markup`` is set.
    """

    headers: Sequence[str]
    numeric: Sequence[bool] = ()
    rows: list[Sequence[str]] = field(default_factory=list)
    shades: list[str] = field(default_factory=list)
    total: Sequence[str] | None = None
    markup: bool = False
    widths: Sequence[int] = ()
    """Column widths in percent of the table (optional)."""

    def add(self, cells: Sequence[str], shade: str = "") -> None:
        self.rows.append(cells)
        self.shades.append(shade)

    def html(self) -> str:
        numeric = list(self.numeric) + [False] * (len(self.headers) - len(self.numeric))
        widths = list(self.widths) + [0] * (len(self.headers) - len(self.widths))

        def cell(tag: str, text: str, k: int, bold: bool = False) -> str:
            align = ' align="right"' if numeric[k] else ""
            width = f' width="{widths[k]}%"' if widths[k] and tag == "th" else ""
            body = text if self.markup and tag == "td" else esc(text)
            if bold:
                body = f"<b>{body}</b>"
            return f"<{tag}{align}{width}>{body}</{tag}>"

        out = [
            '<table class="data" width="100%" border="1" cellspacing="0" cellpadding="3">',
            f'<thead><tr bgcolor="{HEADER_BG}">',
            *(cell("th", h, k) for k, h in enumerate(self.headers)),
            "</tr></thead><tbody>",
        ]
        for row, shade in zip(self.rows, self.shades, strict=True):
            out.append(f'<tr bgcolor="{shade}">' if shade else "<tr>")
            out.extend(cell("td", c, k) for k, c in enumerate(row))
            out.append("</tr>")
        if self.total is not None:
            out.append(f'<tr class="total" bgcolor="{TOTAL_BG}">')
            out.extend(cell("td", c, k, bold=True) for k, c in enumerate(self.total))
            out.append("</tr>")
        out.append("</tbody></table>")
        return "".join(out)


def key_values(pairs: Sequence[tuple[str, str]], columns: int = 2) -> str:
    """Label–value pairs laid out in ``columns`` side-by-side pairs of cells."""
    out = ['<table class="kv" width="100%" border="0" cellspacing="0" cellpadding="3">']
    for start in range(0, len(pairs), columns):
        out.append("<tr>")
        chunk = list(pairs[start : start + columns])
        chunk += [("", "")] * (columns - len(chunk))
        for label, value in chunk:
            half = 50 // columns
            out.append(f'<td width="{half}%" class="label">{esc(label)}</td>')
            out.append(f'<td width="{half}%"><b>{esc(value)}</b></td>')
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)
