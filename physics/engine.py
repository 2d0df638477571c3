"""The check engine: a registry of rule providers, violations, waivers and results.

Owns how checks are run, never what they check. Each rule is a small provider
registered with :func:`rule` (id, severity, description, function); each
summary figure comes from a provider registered with :func:`metric`. Rule
functions take a :class:`CheckContext`, which holds the project and caches
derived data (footprints, spatial index) shared between rules, and their own
:class:`RuleProvider`, which builds their violations; metric functions take
the context. :func:`emit` and :func:`position_of` are the helpers rules of
every solver share. Every module of the ``physics`` package that registers
rules is found and imported on the first check (:func:`load_providers`), so
a new rule module needs no list to be added to. :func:`check` runs every
enabled rule, sets aside waived violations and returns :class:`Results`.
Nothing here changes the project.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
import shapely

from layout.geometry import rotated_rectangles
from layout.project import Project, Waiver

if TYPE_CHECKING:
    from physics.solution import Solution

T = TypeVar("T")

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Violation:
    """A broken rule: which, how bad, what happened, which items, and where (metres)."""

    rule: str
    severity: Severity
    message: str
    items: tuple[str, ...] = ()
    position: tuple[float, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "items": list(self.items),
            "position": None
            if self.position is None
            else [round(self.position[0], 3), round(self.position[1], 3)],
        }


RuleFunction = Callable[["CheckContext", "RuleProvider"], Iterable[Violation]]
MetricFunction = Callable[["CheckContext"], Mapping[str, Any]]


@dataclass(frozen=True)
class RuleProvider:
    """A registered rule: ``run(context)`` yields its violations.

    The rule's function receives its provider, so it names its id only once,
    where it is registered, and builds violations with :meth:`violation`.
    """

    id: str
    severity: Severity
    description: str
    function: RuleFunction

    def run(self, context: CheckContext) -> Iterable[Violation]:
        return self.function(context, self)

    def violation(
        self,
        message: str,
        items: Iterable[str] = (),
        position: tuple[float, float] | None = None,
        severity: Severity | None = None,
    ) -> Violation:
        """A violation of this rule (at the rule's severity unless told otherwise)."""
        if position is not None:
            position = (float(position[0]), float(position[1]))
        return Violation(self.id, severity or self.severity, message, tuple(items), position)


RULES: dict[str, RuleProvider] = {}
METRICS: dict[str, MetricFunction] = {}


def rule(
    rule_id: str, severity: Severity, description: str
) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule function under ``rule_id``; it receives the context and its provider."""

    def register(function: RuleFunction) -> RuleFunction:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} registered twice")
        RULES[rule_id] = RuleProvider(rule_id, severity, description, function)
        return function

    return register


def metric(name: str) -> Callable[[MetricFunction], MetricFunction]:
    """Register a function contributing summary figures (a mapping) under ``name``."""

    def register(function: MetricFunction) -> MetricFunction:
        METRICS[name] = function
        return function

    return register


class CheckContext:
    """The project being checked plus derived data that several rules share.

    ``once`` shares a solver's output between the rules and metrics of one
    check; ``memo`` keeps results that depend only on the project's structure
    (which items exist, their types and properties, the sections), not on
    positions, across the checks of one :class:`Checker`.
    """

    def __init__(self, project: Project, memory: dict[str, Any] | None = None) -> None:
        self.project = project
        self._memory = memory if memory is not None else {}
        self._this_check: dict[str, Any] = {}
        self._structure: tuple[Any, ...] | None = None
        self.found: list[Violation] = []
        """Every violation the rules found (before waivers), once the rules have run."""
        self.rules_run: list[str] = []
        """The ids of the rules that ran, once they have."""

    def structure(self) -> tuple[Any, ...]:
        """What position-independent results depend on; equal tuples mean equal structure."""
        if self._structure is None:
            p = self.project
            self._structure = (
                list(p.items.ids), list(p.items.type_ids), list(p.items.names),
                # Property maps are immutable and replaced on change: the list of
                # them compares by identity first, so equal structures compare fast.
                list(p.items.property_maps),
                p.catalog, p.fabric, p.power, p.cooling, p.trays, p.rules, p.floor,
            )  # fmt: skip
        return self._structure

    def once(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()``, run at most once in this check (its value may be None)."""
        if name not in self._this_check:
            self._this_check[name] = compute()
        value: T = self._this_check[name]
        return value

    def memo(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, reused from an earlier check while the structure is unchanged."""
        key = self.structure()
        cached = self._memory.get(name)
        if cached is not None and _same(cached[0], key):
            return cached[1]
        value = compute()
        self._memory[name] = (key, value)
        return value

    @property
    def ids(self) -> np.ndarray:
        return np.asarray(self.project.items.ids, dtype=object)

    @cached_property
    def sizes(self) -> tuple[np.ndarray, np.ndarray]:
        """Footprint width and depth by row (see :meth:`Project.sizes`)."""
        return self.memo("sizes", self.project.sizes)

    @cached_property
    def moved_rows(self) -> np.ndarray | None:
        """Rows moved or turned since this checker's previous check of the same structure.

        None when there is no such check (first check, or items, types,
        properties or sections changed): then every rule checks everything.
        """
        previous = self._memory.get("geometry")
        if previous is None or not _same(previous.structure, self.structure()):
            return None
        items = self.project.items
        changed = previous.x != items.x
        changed |= previous.y != items.y
        changed |= previous.rotation != items.rotation
        return np.flatnonzero(changed)

    @cached_property
    def rows_to_recheck(self) -> np.ndarray:
        """The moved rows (:attr:`moved_rows`), or every row when there is nothing to compare."""
        moved = self.moved_rows
        return np.arange(len(self.project.items)) if moved is None else moved

    @cached_property
    def moved_ids(self) -> frozenset[str]:
        moved = self.moved_rows
        ids = self.project.items.ids
        return frozenset() if moved is None else frozenset(ids[r] for r in moved)

    def previous(self, rule_id: str) -> list[Violation] | None:
        """What ``rule_id`` found at the previous check, when only positions changed since."""
        if self.moved_rows is None:
            return None
        return self._memory.get("found", {}).get(rule_id)

    def carried(self, rule_id: str) -> list[Violation] | None:
        """The previous findings of ``rule_id`` that name no moved item (None: check all)."""
        previous = self.previous(rule_id)
        if previous is None:
            return None
        moved = self.moved_ids
        return [v for v in previous if moved.isdisjoint(v.items)]

    def remember(self, name: str, value: Any) -> None:
        """Keep ``value`` for the next check of this checker (see :meth:`recall`)."""
        self._memory.setdefault("extra", {})[name] = value

    def recall(self, name: str) -> Any:
        """A value a rule remembered at the previous check, when only positions changed."""
        if self.moved_rows is None:
            return None
        return self._memory.get("extra", {}).get(name)

    @cached_property
    def footprints(self) -> np.ndarray:
        moved = self.moved_rows
        if moved is None:
            return self.project.footprints()
        footprints = self._memory["geometry"].footprints.copy()
        if len(moved):
            items = self.project.items
            w, d = self.sizes
            footprints[moved] = rotated_rectangles(
                items.x[moved], items.y[moved], w[moved], d[moved], items.rotation[moved]
            )
        return footprints

    def keep_geometry(self) -> None:
        """Store this check's positions and footprints for the next check's comparison."""
        items = self.project.items
        self._memory["geometry"] = _Geometry(
            self.structure(), items.x.copy(), items.y.copy(), items.rotation.copy(),
            self.footprints,
        )  # fmt: skip

    @cached_property
    def footprint_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.footprints)

    @cached_property
    def mountings(self) -> np.ndarray:
        """Where each item stands (floor, overhead, outdoor), by row."""
        catalog, type_ids = self.project.catalog, self.project.items.type_ids
        by_type = {t: getattr(catalog[t], "mounting", "floor") for t in set(type_ids)}
        return np.array([by_type[t] for t in type_ids], dtype=object)

    @cached_property
    def ground_rows(self) -> np.ndarray:
        """Rows of items that take ground space (all but overhead ones)."""
        return np.flatnonzero(self.mountings != "overhead")

    @cached_property
    def ground_footprints(self) -> np.ndarray:
        return self.footprints[self.ground_rows]

    @cached_property
    def ground_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.ground_footprints)

    @cached_property
    def kinds(self) -> np.ndarray:
        return self.project.kinds()


@dataclass
class Results:
    """What a check found: summary metrics, violations, and those set aside by waivers."""

    metrics: dict[str, Any]
    violations: list[Violation]
    waived: list[tuple[Violation, Waiver]] = field(default_factory=list)
    rules_run: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, severity: Severity) -> int:
        return sum(1 for v in self.violations if v.severity == severity)

    @property
    def errors(self) -> int:
        return self.count("error")

    @property
    def warnings(self) -> int:
        return self.count("warning")


def utilisation(load_kw: np.ndarray, capacity_kw: np.ndarray) -> np.ndarray:
    """Load over capacity per unit; 0 for a unit without capacity."""
    out = np.zeros(len(load_kw))
    return np.divide(load_kw, capacity_kw, out=out, where=capacity_kw > 0)


def worst_first(utilisations: np.ndarray, top: int | None = None) -> list[int]:
    """Indices of the units by falling utilisation (ties in their order), the ``top`` first."""
    order = np.lexsort((np.arange(len(utilisations)), -utilisations))
    return order[:top].tolist() if top is not None else order.tolist()


def position_of(context: CheckContext, row: int) -> tuple[float, float]:
    """Centre of the item at ``row`` (the item columns read once per check)."""
    xy = context.__dict__.get("_item_xy")
    if xy is None:
        items = context.project.items
        xy = context.__dict__["_item_xy"] = (items.x, items.y)
    return (float(xy[0][row]), float(xy[1][row]))


Finding = tuple[Any, ...]
"""What a rule found, kept per structure: (message, items, row[, severity]); row -1: nowhere."""


def emit(
    context: CheckContext, rule: RuleProvider, found: Iterable[Finding]
) -> Iterator[Violation]:
    """Violations of ``rule`` from its findings (see :data:`Finding`).

    The position is the item at ``row`` (none for -1). After a move, the previous
    violations that name no moved item are carried over and only the others rebuilt.
    """
    carried = context.carried(rule.id)
    moved = context.moved_ids if carried is not None else frozenset()
    if carried is not None:
        yield from carried
    for finding in found:
        message, items, row = finding[:3]
        if carried is not None and moved.isdisjoint(items):
            continue
        severity = finding[3] if len(finding) > 3 else None
        position = None if row < 0 else position_of(context, row)
        yield rule.violation(message, items, position, severity)


def _dead_waivers(project: Project, rule_id: str) -> list[Violation]:
    """Waivers of ``rule_id`` that name items no longer in the project: they can never
    match, which the planner is told (naming the items still there)."""
    found = []
    for w in project.waivers:
        if w.rule != rule_id:
            continue
        missing = [i for i in w.items if i not in project.items]
        if missing:
            present = tuple(i for i in w.items if i in project.items)
            shown = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
            message = f"a waiver names {shown}, not in the project; it waives nothing"
            found.append(Violation(rule_id, "info", message, present, None))
    return found


@cache
def load_providers() -> None:
    """Import every module of the ``physics`` package, so its rules, metrics and what-if
    effects register themselves (once per process).

    Found on disk rather than listed: a new solver module registers its rules by
    being there. Modules that register nothing cost one import each.
    """
    import physics

    for module in pkgutil.iter_modules(physics.__path__, "physics."):
        if module.name != __name__:
            importlib.import_module(module.name)


def registered_rules() -> list[RuleProvider]:
    """Every known rule, sorted by id."""
    load_providers()
    return [RULES[k] for k in sorted(RULES)]


@dataclass(frozen=True)
class _Geometry:
    structure: tuple[Any, ...]
    x: np.ndarray
    y: np.ndarray
    rotation: np.ndarray
    footprints: np.ndarray


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    # Sections are immutable values replaced on change: identity is enough for them.
    return all(x is y or (isinstance(x, list) and x == y) for x, y in zip(a, b, strict=True))


class Checker:
    """Checks a project again and again, reusing what an edit did not touch.

    Moving racks changes positions only, so the fabric's derivation is reused
    and only geometry is re-checked. Give it the same project or snapshots of it.
    """

    def __init__(self) -> None:
        self._memory: dict[str, Any] = {}

    def check(self, project: Project, disabled: Iterable[str] = ()) -> Results:
        return check(project, disabled, _memory=self._memory)

    def solve(self, project: Project, disabled: Iterable[str] = ()) -> Solution:
        """Check ``project`` and keep every solver's output (see :mod:`physics.solution`).

        The outputs are those the check itself computed (the routing, the power
        and cooling loads, the thermal map), so this costs little more than
        :meth:`check`.
        """
        from physics.solution import collect

        context = CheckContext(project, self._memory)
        return collect(context, check_context(context, disabled, keep=True))


def check(
    project: Project, disabled: Iterable[str] = (), *, _memory: dict[str, Any] | None = None
) -> Results:
    """Run every enabled rule on ``project``; a pure function of the project."""
    return check_context(CheckContext(project, _memory), disabled, keep=_memory is not None)


def check_context(
    context: CheckContext, disabled: Iterable[str] = (), *, keep: bool = False
) -> Results:
    """Run every enabled rule on the context's project, leaving its derived data on ``context``.

    ``keep`` stores what the next check with the same memory compares against.
    """
    load_providers()
    started = time.perf_counter()
    project = context.project
    skip = set(disabled) | set(project.disabled_rules)
    found: list[Violation] = []
    run: list[str] = []
    by_rule: dict[str, list[Violation]] = {}
    for rule_id in sorted(RULES):
        if rule_id in skip:
            continue
        by_rule[rule_id] = list(RULES[rule_id].run(context))
        found.extend(by_rule[rule_id])
        found.extend(_dead_waivers(project, rule_id))
        run.append(rule_id)
    if keep:
        context._memory["found"] = by_rule
        context.keep_geometry()
    # Metrics come after the rules so that they can summarise what the rules found.
    context.found = found
    context.rules_run = run
    metrics: dict[str, Any] = {}
    for name in sorted(METRICS):
        metrics.update(METRICS[name](context))
    active: list[Violation] = []
    waived: list[tuple[Violation, Waiver]] = []
    waivers_by_rule: dict[str, list[Waiver]] = {}
    for w in project.waivers:
        waivers_by_rule.setdefault(w.rule, []).append(w)
    for v in found:
        match = next(
            (w for w in waivers_by_rule.get(v.rule, ()) if w.matches(v.rule, v.items)), None
        )
        if match is None:
            active.append(v)
        else:
            waived.append((v, match))
    order = {s: k for k, s in enumerate(SEVERITIES)}
    active.sort(key=lambda v: (order[v.severity], v.rule, v.items))
    return Results(metrics, active, waived, run, time.perf_counter() - started)
