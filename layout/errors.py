"""Errors the model raises for bad input, and how validation failures are worded.

Every error a user can provoke through a file, a catalog entry or a typed value
is one of these, carrying a one-line message that names the place of the
problem (``items[12].x: expected a number, got "abc"``). Callers show the
message; they never show a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pydantic


class CoherenceError(Exception):
    """Base of every error raised for bad input; ``str(err)`` is the user's message."""


class CatalogError(CoherenceError):
    """A catalog file or entry is missing, malformed or inconsistent."""


class ProjectFileError(CoherenceError):
    """A project file cannot be read: not JSON, wrong shape, bad value, too big, too new."""


class EditError(CoherenceError):
    """An edit would make the project invalid (unknown item, bad value); nothing changed."""


class ChoiceError(CoherenceError):
    """A planner's choice does not fit; ``field`` names the choice at fault when there is
    one and ``detail`` is the message without it (a caller names the field its own way)."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {detail}" if field else detail)
        self.detail = detail
        self.field = field


def format_location(loc: Sequence[Any]) -> str:
    """Render a validation location as ``items[12].x``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = one_line(str(part))
            text += f".{key}" if text else key
    return text or "(top level)"


# Characters that would break a one-line message: C0 and C1 controls and the
# separators str.splitlines() breaks on.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """Text as it may appear inside a one-line message: control characters escaped."""
    return _CONTROL.sub(lambda m: json.dumps(m.group())[1:-1], text)


MAX_SHOWN_CHARS = 60
"""A value or key from a file is shown in a message with at most this many characters."""
MAX_SHOWN_PATH_CHARS = 100
"""A path is shown with at most this many characters (the middle is left out)."""
_PLAIN_PATH = re.compile(r"[\w./\\:+@%,=~-]+")


def shortened(text: str, limit: int = MAX_SHOWN_CHARS, *, middle: bool = False) -> str:
    """``text`` on one line in at most ``limit`` characters: cut at the end with "…", or in
    the middle when ``middle`` (a path keeps its file name). A 10 MB key costs no more
    than a short one: only the ends are looked at."""
    head = text[: limit + 1]
    if len(text) <= limit and len(one_line(head)) <= limit:
        return one_line(text)
    if middle:
        tail_chars = (limit - 1) // 2
        start = one_line(text[: limit - 1 - tail_chars])[: limit - 1 - tail_chars]
        end = one_line(text[-tail_chars:])[-tail_chars:] if tail_chars else ""
        return f"{start}…{end}"
    return one_line(head)[: limit - 1] + "…"


def shown_path(path: object, limit: int = MAX_SHOWN_PATH_CHARS) -> str:
    """A path (or file name) as a message shows it: one line, shortened in the middle to
    ``limit`` characters, and in double quotes unless it is plain (letters, digits and
    ``./\\:+@%,=~-`` only)."""
    text = str(path)
    short = shortened(text, limit, middle=True)
    if short == text and _PLAIN_PATH.fullmatch(text):
        return text
    return '"' + short.replace('"', '\\"') + '"'


def shown_key(key: object) -> str:
    """A key or name from a file as a message shows it: one line, at most
    :data:`MAX_SHOWN_CHARS` characters."""
    return shortened(str(key))


_EXPECTED = {
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected an object",
    "model_type": "expected an object",
    "missing": "missing",
    "extra_forbidden": "unknown field",
    "string_pattern_mismatch": "expected an id of lowercase letters, digits, '.', '_' and '-'",
}

_BOUNDS = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}


def shown(value: Any) -> str:
    """A value from a file as a message shows it: JSON spelling, one line, at most 40 chars."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        text = f"a {_digits(value):,}-digit number"
    elif isinstance(value, int) and not isinstance(value, bool):
        text = f"{value:,}"
    else:
        try:
            text = one_line(json.dumps(value, ensure_ascii=False, default=repr))
        except ValueError:
            text = one_line(repr(value))
    return text if len(text) <= 40 else text[:37] + "..."


def _digits(value: int) -> int:
    """Decimal digits of ``value`` without converting it to text (which Python refuses
    beyond 4,300 digits and which is slow for longer)."""
    magnitude = abs(value)
    estimate = max(1, int(magnitude.bit_length() * 0.30102999566398))
    # bit_length × log10(2) is the digit count or one short of it.
    return estimate + 1 if magnitude >= 10**estimate else estimate


def describe_validation_error(
    err: pydantic.ValidationError, prefix: str = "", skip_tags: Sequence[str] = ()
) -> str:
    """The first problem in a pydantic error as ``place: what was expected, got what``.

    ``prefix`` is put before the place (``"items"``); leading location parts in
    ``skip_tags`` (the tag of a tagged union) are left out.
    """
    first = err.errors(include_url=False)[0]
    loc = list(first["loc"])
    while loc and loc[0] in skip_tags:
        loc = loc[1:]
    place = format_location(loc)
    if prefix:
        place = prefix if not loc else prefix + (place if place.startswith("[") else "." + place)
    kind = first["type"]
    if kind in ("missing", "extra_forbidden"):
        return f"{place}: {_EXPECTED[kind]}"
    ctx = first.get("ctx", {})
    if kind == "too_short":
        return f"{place}: expected at least {ctx.get('min_length')} entries"
    if kind == "too_long":
        return f"{place}: expected at most {ctx.get('max_length')} entries"
    expected = _EXPECTED.get(kind)
    if kind in _BOUNDS:
        bound = next(iter(first.get("ctx", {}).values()), "?")
        bound_text = f"{bound:g}" if isinstance(bound, (int, float)) else str(bound)
        expected = f"expected a number {_BOUNDS[kind]} {bound_text}"
    elif expected is None:
        # pydantic's own wording is already specific for range and custom checks.
        expected = one_line(first["msg"].removeprefix("Value error, "))
        expected = expected[0].lower() + expected[1:]
    if kind in _EXPECTED or kind in _BOUNDS:
        return f"{place}: {expected}, got {shown(first.get('input'))}"
    return f"{place}: {expected}"


def first_duplicate(values: Iterable[str]) -> str | None:
    """The first value that occurs twice, or None."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            return value
        seen.add(value)
    return None
