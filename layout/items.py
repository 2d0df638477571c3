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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from layout.errors import EditError

PropertyValue = str | int | float | bool | None
ITEM_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")


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
        if not ITEM_ID_PATTERN.match(self.id):
            raise EditError(f"item id {self.id!r}: use 1-64 letters, digits and ._:/-")
        for coord, value in (("x", self.x), ("y", self.y), ("rotation", self.rotation)):
            if not math.isfinite(value):
                raise EditError(f"item {self.id}: {coord} must be a finite number, got {value}")
        object.__setattr__(self, "x", float(self.x))
        object.__setattr__(self, "y", float(self.y))
        object.__setattr__(self, "rotation", normalize_rotation(self.rotation))
        object.__setattr__(self, "properties", _frozen(self.properties))

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
        return Item(
            id=self._ids[row],
            type_id=self._type_ids[row],
            x=float(self._x[row]),
            y=float(self._y[row]),
            rotation=float(self._rot[row]),
            name=self._names[row],
            properties=self._props[row],
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
        rows = self.rows(item_ids)
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise EditError("positions must be finite numbers")
        self._x[rows] = x
        self._y[rows] = y
        self.version += 1

    def set_rotations(self, item_ids: Sequence[str], degrees: np.ndarray) -> None:
        rows = self.rows(item_ids)
        degrees = np.asarray(degrees, dtype=float)
        if not np.isfinite(degrees).all():
            raise EditError("rotations must be finite numbers")
        self._rot[rows] = np.mod(degrees, 360.0)
        self.version += 1

    def set_name(self, item_id: str, name: str) -> None:
        self._names[self.row(item_id)] = name
        self.version += 1

    def set_properties(self, item_id: str, properties: Mapping[str, PropertyValue]) -> None:
        self._props[self.row(item_id)] = _frozen(properties)
        self.version += 1

    def set_type(self, item_id: str, type_id: str) -> None:
        self._type_ids[self.row(item_id)] = type_id
        self.version += 1

    def _reindex(self, start: int) -> None:
        for row in range(start, len(self._ids)):
            self._row[self._ids[row]] = row
        for stale in set(self._row) - set(self._ids) if len(self._row) > len(self._ids) else ():
            del self._row[stale]
        self.version += 1


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
