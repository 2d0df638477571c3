"""Placed equipment: the items of a project, held column by column.

Owns item records and their storage. Positions and rotations live in numpy
arrays so that solvers read every rack's position at once; names, types and
free-form properties live in lists beside them. Rows keep insertion order, and
removal followed by re-insertion at the same rows restores the exact order,
which is what makes undo exact.

The store emits no events and checks nothing about the catalog; the
:class:`~layout.project.Project` does both.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from layout.errors import EditError, shown
from layout.limits import (
    MAX_COORD_M,
    MAX_FILE_INT_DIGITS,
    MAX_ID_CHARS,
    MAX_ITEMS,
    MAX_NAME_CHARS,
    MAX_TYPE_ID_CHARS,
    checked_coordinate,
    checked_number,
    checked_text,
)

PropertyValue = str | int | float | bool | None
ITEM_ID_PATTERN = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._:/-]{{0,{MAX_ID_CHARS - 1}}}$")
_FILE_INT_BOUND = 10**MAX_FILE_INT_DIGITS
_FIELDS = ("id", "type_id", "x", "y", "rotation", "name", "properties")


def _frozen(props: Mapping[str, PropertyValue]) -> Mapping[str, PropertyValue]:
    return MappingProxyType(dict(sorted(props.items())))


@dataclass(frozen=True)
class Item:
    """One placed unit: ``x, y`` is its centre in metres, ``rotation`` in degrees clockwise."""

    id: str
    type_id: str
    x: float
    y: float
    rotation: float = 0.0
    name: str = ""
    properties: Mapping[str, PropertyValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # What a project file can hold (layout.limits), so every item can be saved and read back.
        checked_text(self.id, "item id", MAX_ID_CHARS, min_chars=1)
        if not ITEM_ID_PATTERN.match(self.id):
            raise EditError(
                f"item id {shown(self.id)}: use 1-{MAX_ID_CHARS} letters, digits and ._:/-"
            )
        where = f"item {self.id}"
        checked_text(self.type_id, f"{where}: type", MAX_TYPE_ID_CHARS, min_chars=1)
        object.__setattr__(self, "x", checked_coordinate(self.x, f"{where}: x"))
        object.__setattr__(self, "y", checked_coordinate(self.y, f"{where}: y"))
        rotation = checked_number(self.rotation, f"{where}: rotation")
        object.__setattr__(self, "rotation", normalize_rotation(rotation))
        checked_text(self.name, f"{where}: name", MAX_NAME_CHARS)
        object.__setattr__(self, "properties", _frozen(checked_properties(self.properties, where)))

    @classmethod
    def _stored(
        cls, fields: tuple[str, str, float, float, float, str, Mapping[str, PropertyValue]]
    ) -> Item:
        """An item from an :class:`ItemStore`'s columns (id, type, x, y, rotation, name,
        properties), which hold only checked values: made without checking them again."""
        item = object.__new__(cls)
        for key, value in zip(_FIELDS, fields, strict=True):
            object.__setattr__(item, key, value)
        return item

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Item):
            return NotImplemented
        return (self.id, self.type_id, self.x, self.y, self.rotation, self.name) == (
            other.id, other.type_id, other.x, other.y, other.rotation, other.name,
        ) and dict(self.properties) == dict(other.properties)  # fmt: skip

    def __hash__(self) -> int:
        return hash((self.id, self.type_id, self.x, self.y, self.rotation))


def normalize_rotation(degrees: float) -> float:
    """Rotation folded into [0, 360)."""
    folded = float(degrees) % 360.0
    return 0.0 if folded == 360.0 else folded


def checked_properties(
    properties: Mapping[str, PropertyValue], where: str
) -> dict[str, PropertyValue]:
    """Properties as a project file can hold them: names of 1-:data:`MAX_ID_CHARS`
    characters, values text, true/false, a finite number, a whole number a file can
    hold, or null; numpy scalars become Python ones. Else an :class:`EditError`."""
    if not isinstance(properties, Mapping):
        raise EditError(f"{where}: properties must be a mapping, got {shown(properties)}")
    checked: dict[str, PropertyValue] = {}
    for key, given in properties.items():
        checked_text(key, f"{where}: property name", MAX_ID_CHARS, min_chars=1)
        value = given.item() if isinstance(given, np.generic) else given
        if isinstance(value, str):
            checked_text(value, f"{where}: property {key}", len(value))
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise EditError(f"{where}: property {key}: expected a finite number, got {value}")
        elif isinstance(value, int) and not isinstance(value, bool):
            if abs(value) >= _FILE_INT_BOUND:
                raise EditError(
                    f"{where}: property {key}: {shown(value)} has more than the "
                    f"{MAX_FILE_INT_DIGITS:,} digits a file can hold"
                )
        elif value is not None and not isinstance(value, bool):
            raise EditError(
                f"{where}: property {key}: expected text, a number, true/false or null, "
                f"got {shown(value)}"
            )
        checked[key] = value
    return checked


class ItemStore:
    """Columns of placed items, addressed by id or by row."""

    def __init__(self, items: Iterable[Item] = ()) -> None:
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._type_ids: list[str] = []
        self._names: list[str] = []
        self._props: list[Mapping[str, PropertyValue]] = []
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._rot = np.empty(0)
        self.version = 0
        """Incremented on every change; caches compare it."""
        self.insert(list(items))

    # -- reading ---------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._row

    def __iter__(self) -> Iterator[Item]:
        return (self.item_at(row) for row in range(len(self._ids)))

    @property
    def ids(self) -> Sequence[str]:
        return self._ids

    @property
    def type_ids(self) -> Sequence[str]:
        return self._type_ids

    @property
    def x(self) -> np.ndarray:
        """Centre x of every item, by row (read-only view)."""
        return _readonly(self._x)

    @property
    def y(self) -> np.ndarray:
        return _readonly(self._y)

    @property
    def rotation(self) -> np.ndarray:
        return _readonly(self._rot)

    @property
    def xy(self) -> np.ndarray:
        """Centres as an (n, 2) array."""
        return np.column_stack((self._x, self._y))

    def row(self, item_id: str) -> int:
        try:
            return self._row[item_id]
        except KeyError:
            raise EditError(f"no item {item_id!r} in the project") from None

    def rows(self, item_ids: Iterable[str]) -> np.ndarray:
        return np.fromiter((self.row(i) for i in item_ids), dtype=np.intp)

    def item_at(self, row: int) -> Item:
        return Item._stored(
            (
                self._ids[row],
                self._type_ids[row],
                float(self._x[row]),
                float(self._y[row]),
                float(self._rot[row]),
                self._names[row],
                self._props[row],
            )
        )

    def properties_at(self, row: int) -> Mapping[str, PropertyValue]:
        return self._props[row]

    @property
    def property_maps(self) -> Sequence[Mapping[str, PropertyValue]]:
        """Every item's (immutable) property map, by row."""
        return self._props

    @property
    def names(self) -> Sequence[str]:
        return self._names

    def get(self, item_id: str) -> Item:
        return self.item_at(self.row(item_id))

    def copy(self) -> ItemStore:
        """An independent store with the same items in the same rows."""
        other = ItemStore()
        other._ids = list(self._ids)
        other._row = dict(self._row)
        other._type_ids = list(self._type_ids)
        other._names = list(self._names)
        other._props = list(self._props)
        other._x, other._y, other._rot = self._x.copy(), self._y.copy(), self._rot.copy()
        other.version = self.version
        return other

    # -- changing --------------------------------------------------------
    def insert(self, items: Sequence[Item], rows: Sequence[int] | None = None) -> None:
        """Add items, appended or at the given final rows (ascending), as undo needs."""
        if not items:
            return
        if len(self._ids) + len(items) > MAX_ITEMS:
            raise EditError(
                f"{len(self._ids) + len(items):,} items is more than the {MAX_ITEMS:,} "
                "a project may hold"
            )
        stray = next((it for it in items if not isinstance(it, Item)), None)
        if stray is not None:
            raise EditError(f"expected items to add, got {shown(stray)}")
        new_ids = [it.id for it in items]
        clash = next((i for i in new_ids if i in self._row), None)
        if clash is None and len(set(new_ids)) != len(new_ids):
            clash = next(i for i in new_ids if new_ids.count(i) > 1)
        if clash is not None:
            raise EditError(f"an item with id {clash!r} already exists")
        if rows is None:
            rows = range(len(self._ids), len(self._ids) + len(items))
        order = list(rows)
        if len(order) != len(items) or order != sorted(order):
            raise EditError("insert rows must match the items and ascend")
        for row, it in zip(order, items, strict=True):
            self._ids.insert(row, it.id)
            self._type_ids.insert(row, it.type_id)
            self._names.insert(row, it.name)
            self._props.insert(row, it.properties)
        # np.insert takes indices in the original array: shift by earlier insertions.
        before = np.asarray(order) - np.arange(len(order))
        self._x = np.insert(self._x, before, [it.x for it in items])
        self._y = np.insert(self._y, before, [it.y for it in items])
        self._rot = np.insert(self._rot, before, [it.rotation for it in items])
        self._reindex(min(order))

    def delete(self, item_ids: Iterable[str]) -> tuple[list[int], list[Item]]:
        """Remove items; returns their former rows (ascending) and records for re-insertion."""
        rows = sorted(set(self.rows(item_ids).tolist()))
        removed = [self.item_at(r) for r in rows]
        for r in reversed(rows):
            del self._ids[r], self._type_ids[r], self._names[r], self._props[r]
        self._x = np.delete(self._x, rows)
        self._y = np.delete(self._y, rows)
        self._rot = np.delete(self._rot, rows)
        self._reindex(rows[0] if rows else len(self._ids))
        return rows, removed

    def set_positions(self, item_ids: Sequence[str], x: np.ndarray, y: np.ndarray) -> None:
        """Put items at (x, y), each within ±:data:`~layout.limits.MAX_COORD_M`; all or none."""
        item_ids = list(item_ids)
        rows = self.rows(item_ids)
        x = _column(item_ids, x, "x", checked_coordinate)
        y = _column(item_ids, y, "y", checked_coordinate)
        for axis, values in (("x", x), ("y", y)):
            beyond = np.flatnonzero(np.abs(values) > MAX_COORD_M)
            if len(beyond):
                k = int(beyond[0])
                checked_coordinate(float(values[k]), f"item {item_ids[k]}: {axis}")
        self._x[rows] = x
        self._y[rows] = y
        self.version += 1

    def set_rotations(self, item_ids: Sequence[str], degrees: np.ndarray) -> None:
        """Turn items to ``degrees`` (any finite number, folded into [0, 360))."""
        item_ids = list(item_ids)
        rows = self.rows(item_ids)
        folded = np.mod(_column(item_ids, degrees, "rotation", checked_number), 360.0)
        folded[folded == 360.0] = 0.0  # -1e-20 % 360 rounds to 360
        self._rot[rows] = folded
        self.version += 1

    def set_name(self, item_id: str, name: str) -> None:
        row = self.row(item_id)
        self._names[row] = checked_text(name, f"item {item_id}: name", MAX_NAME_CHARS)
        self.version += 1

    def set_properties(self, item_id: str, properties: Mapping[str, PropertyValue]) -> None:
        row = self.row(item_id)
        self._props[row] = _frozen(checked_properties(properties, f"item {item_id}"))
        self.version += 1

    def set_type(self, item_id: str, type_id: str) -> None:
        row = self.row(item_id)
        checked_text(type_id, f"item {item_id}: type", MAX_TYPE_ID_CHARS, min_chars=1)
        self._type_ids[row] = type_id
        self.version += 1

    def _reindex(self, start: int) -> None:
        for row in range(start, len(self._ids)):
            self._row[self._ids[row]] = row
        for stale in set(self._row) - set(self._ids) if len(self._row) > len(self._ids) else ():
            del self._row[stale]
        self.version += 1


def _column(
    item_ids: Sequence[str], values: Any, what: str, check: Callable[[object, str], float]
) -> np.ndarray:
    """One value per item as a float array, finite; else an :class:`EditError` naming the
    first item whose value is not (``check`` words it)."""
    values = list(values) if not isinstance(values, np.ndarray) else values
    if len(values) != len(item_ids):
        raise EditError(f"{what}: {len(values)} values given for {len(item_ids)} items")
    try:
        column = np.asarray(values, dtype=float).reshape(len(item_ids))
    except (TypeError, ValueError, OverflowError):
        column = None
    if column is None or not np.isfinite(column).all():
        for item_id, value in zip(item_ids, values, strict=True):
            check(value, f"item {item_id}: {what}")
        raise EditError(f"{what}: expected one number per item")
    return column


def _readonly(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key that puts ``R2`` before ``R10``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


class IdAllocator:
    """Fresh item ids in the project's style: a prefix and a zero-padded number that
    continues after the highest one in use (``R01569`` after ``R01568``)."""

    def __init__(self, taken: Iterable[str]) -> None:
        self._taken = set(taken)
        self._next: dict[str, tuple[int, int]] = {}
        for item_id in self._taken:
            match = re.fullmatch(r"([A-Za-z]*)(\d+)", item_id)
            if match:
                prefix, digits = match.groups()
                number, width = self._next.get(prefix, (1, 0))
                self._next[prefix] = (max(number, int(digits) + 1), max(width, len(digits)))

    def __call__(self, prefix: str) -> str:
        number, width = self._next.get(prefix, (1, 5))
        while (new := f"{prefix}{number:0{width}d}") in self._taken:
            number += 1
        self._taken.add(new)
        self._next[prefix] = (number + 1, width)
        return new


def unique_id(prefix: str, taken: Mapping[str, Any] | Iterable[str], start: int = 1) -> str:
    """The first ``prefix-N`` id not in ``taken``."""
    taken_set = taken if isinstance(taken, (set, dict)) else set(taken)
    n = start
    while f"{prefix}-{n}" in taken_set:
        n += 1
    return f"{prefix}-{n}"
