"""Edit commands: every change to a project, as an object that can be undone.

Owns the edit vocabulary (add, remove, move, rotate, rename, set property,
change type, replace a section, group) and a Qt-free :class:`CommandStack`.
A command captures what it needs on its first ``do`` and stores absolute old
and new values, never deltas, so undo then redo restores the project exactly.
Commands call only :class:`~layout.project.Project` mutators. The GUI wraps
them in ``QUndoCommand``s; the command line and tests use ``CommandStack``.

Every command keeps the project within :mod:`layout.limits` (positions, text
lengths, counts, what a section may hold), so whatever an edit leaves can be
saved and read back; an edit beyond them is refused with an
:class:`~layout.errors.EditError` naming what and the limit, and nothing changes.
The items and the floor check their own values; the commands add what only an
edit must respect (reserved property names, a property's size) and check a
replaced section as the loader would read it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pydantic

from layout.errors import EditError, describe_validation_error, one_line, shown
from layout.items import Item, PropertyValue
from layout.limits import (
    MAX_ID_CHARS,
    MAX_PROPERTY_INT,
    MAX_PROPERTY_TEXT_CHARS,
    MAX_REASON_CHARS,
    MAX_RULE_ID_CHARS,
    checked_number,
    checked_text,
)
from layout.project import Project, Waiver

RESERVED_PROPERTY_KEYS = frozenset({"id", "type", "x", "y", "rotation", "name"})


class Command:
    """An undoable edit. ``text`` is what Edit → Undo shows."""

    text = "Edit"

    def do(self, project: Project) -> None:
        raise NotImplementedError

    def undo(self, project: Project) -> None:
        raise NotImplementedError


@dataclass
class AddItems(Command):
    """Place new items (appended; undo removes them, redo puts them back at the same rows)."""

    items: Sequence[Item]
    _rows: list[int] | None = field(default=None, init=False)

    @property
    def text(self) -> str:  # type: ignore[override]
        return "Add " + (
            self.items[0].name or self.items[0].id
            if len(self.items) == 1
            else f"{len(self.items)} items"
        )

    def do(self, project: Project) -> None:
        if self._rows is None:
            for item in self.items:
                if not isinstance(item, Item):
                    raise EditError(f"expected items to add, got {shown(item)}")
                for key, value in item.properties.items():
                    check_property(key, value, f"item {item.id}: ")
        project.add_items(self.items, self._rows)
        if self._rows is None:
            self._rows = project.items.rows(i.id for i in self.items).tolist()

    def undo(self, project: Project) -> None:
        project.remove_items([i.id for i in self.items])


@dataclass
class RemoveItems(Command):
    """Delete items; undo re-inserts them at their former rows, unchanged."""

    item_ids: Sequence[str]
    _rows: list[int] = field(default_factory=list, init=False)
    _removed: list[Item] = field(default_factory=list, init=False)

    @property
    def text(self) -> str:  # type: ignore[override]
        return f"Delete {len(self.item_ids)} item" + ("s" if len(self.item_ids) != 1 else "")

    def do(self, project: Project) -> None:
        self._rows, self._removed = project.remove_items(self.item_ids)

    def undo(self, project: Project) -> None:
        project.add_items(self._removed, self._rows)


@dataclass
class MoveItems(Command):
    """Put items at new centre positions (one step for a whole drag)."""

    item_ids: Sequence[str]
    x: Sequence[float]
    y: Sequence[float]
    _old: tuple[np.ndarray, np.ndarray] | None = field(default=None, init=False)

    text = "Move"

    @classmethod
    def by(cls, project: Project, item_ids: Sequence[str], dx: float, dy: float) -> MoveItems:
        rows = project.items.rows(item_ids)
        dx, dy = checked_number(dx, "move: x offset"), checked_number(dy, "move: y offset")
        return cls(item_ids, project.items.x[rows] + dx, project.items.y[rows] + dy)

    def do(self, project: Project) -> None:
        rows = project.items.rows(self.item_ids)
        if self._old is None:
            self._old = (project.items.x[rows].copy(), project.items.y[rows].copy())
        project.set_positions(self.item_ids, self.x, self.y)

    def undo(self, project: Project) -> None:
        assert self._old is not None
        project.set_positions(self.item_ids, *self._old)


@dataclass
class RotateItems(Command):
    """Set items' rotations (degrees clockwise), each about its own centre."""

    item_ids: Sequence[str]
    degrees: Sequence[float]
    _old: np.ndarray | None = field(default=None, init=False)

    text = "Rotate"

    @classmethod
    def by(cls, project: Project, item_ids: Sequence[str], turn: float) -> RotateItems:
        rows = project.items.rows(item_ids)
        turn = checked_number(turn, "rotate: turn")
        return cls(item_ids, np.mod(project.items.rotation[rows] + turn, 360.0))

    def do(self, project: Project) -> None:
        if self._old is None:
            self._old = project.items.rotation[project.items.rows(self.item_ids)].copy()
        project.set_rotations(self.item_ids, self.degrees)

    def undo(self, project: Project) -> None:
        assert self._old is not None
        project.set_rotations(self.item_ids, self._old)


@dataclass
class RenameItem(Command):
    item_id: str
    name: str
    _old: str | None = field(default=None, init=False)

    text = "Rename"

    def do(self, project: Project) -> None:
        if self._old is None:
            self._old = project.items.get(self.item_id).name
        project.set_item_name(self.item_id, self.name)

    def undo(self, project: Project) -> None:
        assert self._old is not None
        project.set_item_name(self.item_id, self._old)


@dataclass
class SetItemType(Command):
    item_id: str
    type_id: str
    _old: str | None = field(default=None, init=False)

    text = "Change type"

    def do(self, project: Project) -> None:
        if self._old is None:
            self._old = project.items.get(self.item_id).type_id
        project.set_item_type(self.item_id, self.type_id)

    def undo(self, project: Project) -> None:
        assert self._old is not None
        project.set_item_type(self.item_id, self._old)


def check_property(key: str, value: object, where: str = "") -> PropertyValue:
    """A property value as an edit may set it, or an :class:`EditError` saying what is
    wrong (``where`` is put before the message: ``"item R1: "``)."""
    checked_text(key, f"{where}property name", MAX_ID_CHARS, min_chars=1)
    if key in RESERVED_PROPERTY_KEYS:
        raise EditError(f"{where}property name {key!r} is not allowed")
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return checked_text(value, f"{where}property {key}", MAX_PROPERTY_TEXT_CHARS)
    if isinstance(value, int):
        if abs(value) > MAX_PROPERTY_INT:
            raise EditError(
                f"{where}property {key}: {shown(value)} is beyond ±{MAX_PROPERTY_INT:,} "
                "(give it as text or a decimal number)"
            )
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EditError(f"{where}property {key}: expected a finite number, got {value}")
        return value
    raise EditError(
        f"{where}property {key}: expected text, a number or true/false, got {shown(value)}"
    )


@dataclass
class SetProperty(Command):
    """Set (or with ``value=None`` clear) one property on one or more items."""

    item_ids: Sequence[str]
    key: str
    value: PropertyValue
    _old: list[Mapping[str, PropertyValue]] = field(default_factory=list, init=False)

    @property
    def text(self) -> str:  # type: ignore[override]
        return f"Set {self.key}"

    def do(self, project: Project) -> None:
        value = check_property(self.key, self.value)
        if not self._old:
            self._old = [dict(project.items.get(i).properties) for i in self.item_ids]
        for item_id, old in zip(self.item_ids, self._old, strict=True):
            new = dict(old)
            if value is None:
                new.pop(self.key, None)
            else:
                new[self.key] = value
            project.set_item_properties(item_id, new)

    def undo(self, project: Project) -> None:
        for item_id, old in zip(self.item_ids, self._old, strict=True):
            project.set_item_properties(item_id, old)


@dataclass
class ReplaceSection(Command):
    """Replace the floor, rules, waivers, fabric spec, power plan or cooling plan."""

    section: str
    value: Any
    _old: Any = field(default=None, init=False)
    _captured: bool = field(default=False, init=False)

    @property
    def text(self) -> str:  # type: ignore[override]
        return f"Change {self.section}"

    def do(self, project: Project) -> None:
        if not self._captured:
            check_section(self.section, self.value)
            self._old = getattr(project, self.section)
            self._captured = True
        project.replace_section(self.section, self.value)

    def undo(self, project: Project) -> None:
        project.replace_section(self.section, self._old)


def check_section(section: str, value: object) -> None:
    """An :class:`EditError` unless ``value`` is a section a project file can hold.

    The floor and the rules check themselves when made; the planner's sections
    (fabric, power, cooling, trays) are read back as the loader reads them,
    since a copy made with changes (``model_copy``) is not validated.
    """
    if section == "waivers":
        for waiver in value if isinstance(value, tuple) else ():
            if not isinstance(waiver, Waiver):
                raise EditError(f"waivers: expected waivers, got {shown(waiver)}")
            checked_text(waiver.rule, "waiver: rule", MAX_RULE_ID_CHARS, min_chars=1)
            for item_id in waiver.items:
                checked_text(item_id, f"waiver of {waiver.rule}: item", MAX_ID_CHARS, min_chars=1)
            checked_text(waiver.reason, f"waiver of {waiver.rule}: reason", MAX_REASON_CHARS)
    elif section == "disabled_rules":
        for rule in value if isinstance(value, frozenset) else ():
            checked_text(rule, "disabled rule", MAX_RULE_ID_CHARS, min_chars=1)
    elif isinstance(value, pydantic.BaseModel) and section in _MODEL_SECTIONS:
        try:
            text = json.dumps(value.model_dump(mode="json", exclude_defaults=True),
                              ensure_ascii=False, allow_nan=False)  # fmt: skip
            text.encode("utf-8")
            type(value).model_validate(json.loads(text))
        except pydantic.ValidationError as err:
            raise EditError(describe_validation_error(err, section)) from None
        except (ValueError, TypeError, ArithmeticError) as err:
            raise EditError(f"{section}: cannot be saved ({one_line(str(err))[:80]})") from None


_MODEL_SECTIONS = frozenset({"fabric", "power", "cooling", "trays"})


@dataclass
class CommandGroup(Command):
    """Several commands as one undo step; undone in reverse order.

    If a command fails part-way through ``do``, those already done are undone
    before the error propagates, so a group applies wholly or not at all.
    """

    commands: Sequence[Command]
    label: str = "Edit"

    @property
    def text(self) -> str:  # type: ignore[override]
        return self.label

    def do(self, project: Project) -> None:
        done: list[Command] = []
        try:
            for command in self.commands:
                command.do(project)
                done.append(command)
        except Exception:
            for command in reversed(done):
                command.undo(project)
            raise

    def undo(self, project: Project) -> None:
        for command in reversed(self.commands):
            command.undo(project)


class CommandStack:
    """A Qt-free undo stack: ``push`` does a command, ``undo``/``redo`` walk the history."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._done: list[Command] = []
        self._undone: list[Command] = []
        self._clean_index: int | None = 0

    def push(self, command: Command) -> None:
        command.do(self.project)
        self._done.append(command)
        self._undone.clear()
        if self._clean_index is not None and self._clean_index > len(self._done) - 1:
            self._clean_index = None

    def push_all(self, commands: Iterable[Command], label: str = "Edit") -> None:
        self.push(CommandGroup(list(commands), label))

    def can_undo(self) -> bool:
        return bool(self._done)

    def can_redo(self) -> bool:
        return bool(self._undone)

    def undo(self) -> None:
        if not self._done:
            raise EditError("nothing to undo")
        command = self._done.pop()
        command.undo(self.project)
        self._undone.append(command)

    def redo(self) -> None:
        if not self._undone:
            raise EditError("nothing to redo")
        command = self._undone.pop()
        command.do(self.project)
        self._done.append(command)

    def set_clean(self) -> None:
        self._clean_index = len(self._done)

    def is_clean(self) -> bool:
        return self._clean_index == len(self._done)
