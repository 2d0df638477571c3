"""Text from a project as it may go into an output a person or a program reads back.

Names, ids and descriptions come from files anyone can write. Owns the one rule
for putting such text into an output so that it cannot be turned against the
reader:

- :func:`printable`: control characters (C0, C1, DEL), Unicode line and
  paragraph separators, bidirectional overrides, lone surrogates and the XML
  non-characters U+FFFE/U+FFFF are escaped the way JSON spells them
  (``\\u001b``, ``\\n``). Such text is one line, cannot move a terminal's
  cursor or recolour it, is legal in XML 1.0 (SVG, XLSX), encodes as UTF-8
  and keeps a DXF tag on its line. The text stays readable and nothing is
  silently dropped.
- :func:`printable_markup`: the same for a whole generated document (HTML),
  where the line breaks and tabs of the markup itself are kept.
- :func:`literal_markup`: text for a widget that guesses whether text is
  markup (Qt's message boxes and tool tips guess from a ``<``): text that
  could pass for markup is given as markup with the text escaped, so
  ``<img src=...>`` in a name shows as written; other text is unchanged.
- :func:`spreadsheet_text` and :func:`is_formula_like`: a CSV cell that a
  spreadsheet program would run as a formula (OWASP's "CSV injection":
  text beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage return)
  gets a leading single quote; XLSX writers keep the text and store the
  cell as a string instead (see :mod:`report.bom`).

Never imports Qt.
"""

from __future__ import annotations

import html
import json
import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet program read a cell as a formula."""

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff\ufffe\uffff]")
_UNSAFE_IN_MARKUP = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff\ufffe\uffff]"
)


def _escaped(match: re.Match[str]) -> str:
    return json.dumps(match.group())[1:-1]


def printable(text: str) -> str:
    """``text`` with every character that could act on the reader escaped (``\\u001b``)."""
    return _UNSAFE.sub(_escaped, text)


def printable_markup(document: str) -> str:
    """A generated document (HTML) with unsafe characters escaped; its own line breaks kept."""
    return _UNSAFE_IN_MARKUP.sub(_escaped, document)


def literal_markup(text: str) -> str:
    """``text`` for a widget that guesses its format, shown literally with its line breaks."""
    text = printable_markup(text)
    if "<" not in text and "&" not in text:
        return text  # nothing a widget could take for a tag or an entity
    escaped = html.escape(text, quote=False)
    return f'<p style="white-space: pre-wrap">{escaped}</p>'


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet program would read ``text`` in a cell as a formula."""
    return text.startswith(FORMULA_STARTS)


def spreadsheet_text(text: str) -> str:
    """``text`` for a CSV cell: printable, and inert (a leading ``'``) if formula-like."""
    safe = printable(text)
    return "'" + safe if is_formula_like(text) or is_formula_like(safe) else safe


def csv_cell(value: object) -> object:
    """A CSV cell's value: text made inert with :func:`spreadsheet_text`, numbers unchanged."""
    return spreadsheet_text(value) if isinstance(value, str) else value


__all__ = [
    "FORMULA_STARTS",
    "csv_cell",
    "is_formula_like",
    "literal_markup",
    "printable",
    "printable_markup",
    "spreadsheet_text",
]
