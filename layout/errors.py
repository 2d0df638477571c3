"""Errors the model raises for bad input, and how validation failures are worded.

Every error a user can provoke through a file, a catalog entry or a typed value
is one of these, carrying a one-line message that names the place of the
problem (``items[12].x: expected a number, got "abc"``). Callers show the
message; they never show a traceback.
"""

from __future__ import annotations

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


def format_location(loc: Sequence[Any]) -> str:
    """Render a validation location as ``items[12].x``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


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


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 40 else text[:37] + "..."


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
    expected = _EXPECTED.get(kind)
    if kind in _BOUNDS:
        bound = next(iter(first.get("ctx", {}).values()), "?")
        shown = f"{bound:g}" if isinstance(bound, (int, float)) else str(bound)
        expected = f"expected a number {_BOUNDS[kind]} {shown}"
    elif expected is None:
        # pydantic's own wording is already specific for range and custom checks.
        expected = first["msg"].removeprefix("Value error, ")
        expected = expected[0].lower() + expected[1:]
    if kind in _EXPECTED or kind in _BOUNDS:
        return f"{place}: {expected}, got {_shown(first.get('input'))}"
    return f"{place}: {expected}"


def first_duplicate(values: Iterable[str]) -> str | None:
    """The first value that occurs twice, or None."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            return value
        seen.add(value)
    return None
