"""Cable media: the cheapest allowed medium for each link, stock lengths and the BOM.

Owns the choice of medium, nothing about routing. A medium can carry a link
when the rules allow its family (``allow_dac`` … ``allow_smf``), it runs at
the link's speed and its reach covers the length. A link's cost is
``cost_usd + cost_per_m_usd × stock length``, the stock length being the
next of the medium's ``stock_lengths_m`` at or above the length, or the
length rounded up to its ``stock_step_m``. The cheapest usable medium wins
(ties: catalog order). Everything is vectorised over links: one array per
medium, an argmin over media.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from layout.catalog import Catalog, MediumType
from physics.trays import AREA_UNIT_MM2

FAMILIES = ("dac", "acc", "aoc", "mmf", "smf", "utp")
_EPS = 1e-9
MAX_STOCK_STEPS = 2**40
"""Most stock lengths a cut-to-length medium offers: a step tiny against the reach
offers this many steps and no longer lengths (stock lengths are computed, never tabled)."""


@dataclass(frozen=True)
class Choice:
    """Per link: medium index (-1: none reaches), stock length (m) and cost (USD), nan if none.

    ``slot`` numbers the (medium, stock length) pairs of the table in BOM order (-1: none).
    """

    medium: np.ndarray
    stock_m: np.ndarray
    cost_usd: np.ndarray
    slot: np.ndarray


class MediaTable:
    """The catalog's media as arrays, with the families the rules allow."""

    def __init__(self, media: Sequence[MediumType], rules: Mapping[str, float]) -> None:
        self.media = tuple(media)
        self.ids = [m.id for m in self.media]
        self.allowed = np.array(
            [rules.get(f"allow_{m.family}", 1.0) >= 0.5 for m in self.media], dtype=bool
        )
        self.reach = np.array([m.reach_m for m in self.media], dtype=float)
        self.ns_per_m = np.array([m.ns_per_m for m in self.media], dtype=float)
        diameter = np.array([m.diameter_mm for m in self.media], dtype=float)
        self.area_mm2 = np.pi * diameter**2 / 4
        self.area_units = np.round(self.area_mm2 / AREA_UNIT_MM2).astype(np.int64)
        # Every (medium, stock length) pair a link can get is a slot, numbered by medium
        # then length: a medium's slots start at its offset.
        counts = np.array([_stock_count(m) for m in self.media], dtype=np.int64)
        self.slot_offset = np.concatenate([[0], np.cumsum(counts)])[:-1].astype(np.int64)

    def slot_of(self, slot: int) -> tuple[MediumType, float]:
        """The medium and stock length (m) of a slot."""
        k = int(np.searchsorted(self.slot_offset, slot, side="right")) - 1
        medium = self.media[k]
        return medium, float(_stock_at(medium, np.array([slot - self.slot_offset[k]]))[0])

    @staticmethod
    def of(catalog: Catalog, rules: Mapping[str, float]) -> MediaTable:
        return MediaTable(catalog.of_kind("medium"), rules)

    def usable_for(self, speed_gbps: float) -> np.ndarray:
        """Media allowed and running at ``speed_gbps`` (whatever the length)."""
        runs = np.array(
            [any(abs(s - speed_gbps) < 1e-6 for s in m.speeds_gbps) for m in self.media], bool
        )
        return self.allowed & runs

    def longest_reach(self, speed_gbps: float) -> float:
        usable = self.usable_for(speed_gbps)
        return float(self.reach[usable].max()) if usable.any() else 0.0

    def choose(self, length_m: np.ndarray, speed_gbps: float) -> Choice:
        """The cheapest usable medium for each length at one speed."""
        length = np.asarray(length_m, dtype=float)
        n = len(length)
        best_cost = np.full(n, np.inf)
        medium = np.full(n, -1, np.intp)
        stock = np.full(n, np.nan)
        slot = np.full(n, -1, np.intp)
        for k in np.flatnonzero(self.usable_for(speed_gbps)):
            m = self.media[k]
            cut, index = _stock(m, length)
            cost = m.cost_usd + m.cost_per_m_usd * cut
            cost[~(length <= m.reach_m + _EPS) | np.isnan(cut)] = np.inf
            better = cost < best_cost
            best_cost[better] = cost[better]
            medium[better] = k
            stock[better] = cut[better]
            slot[better] = self.slot_offset[k] + index[better]
        cost = np.where(np.isfinite(best_cost), best_cost, np.nan)
        return Choice(medium, stock, cost, slot)


def stock_lengths(medium: MediumType, length_m: np.ndarray) -> np.ndarray:
    """``length_m`` rounded up to the medium's stock (nan beyond its longest stock length)."""
    return _stock(medium, np.asarray(length_m, dtype=float))[0]


def _stock(medium: MediumType, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stock lengths and their index among the medium's stock lengths (nan and -1 past
    the last)."""
    count = _stock_count(medium)
    if medium.stock_lengths_m is not None:
        lengths = np.asarray(medium.stock_lengths_m, dtype=float)
        k = np.searchsorted(lengths, length - _EPS, side="left")
    else:
        step = float(medium.stock_step_m or 1.0)
        with np.errstate(over="ignore", invalid="ignore"):
            k = np.maximum(np.ceil(length / step - _EPS), 1.0) - 1
        k = np.where(np.isfinite(k), np.minimum(k, count), count).astype(np.int64)
    beyond = k >= count
    k = np.where(beyond, -1, k)
    return np.where(beyond, np.nan, _stock_at(medium, np.maximum(k, 0))), k


def _stock_count(medium: MediumType) -> int:
    """How many stock lengths a medium offers up to its reach."""
    if medium.stock_lengths_m is not None:
        return len(medium.stock_lengths_m)
    step = float(medium.stock_step_m or 1.0)
    with np.errstate(over="ignore"):
        steps = np.ceil(medium.reach_m / step - _EPS)
    return int(min(max(1.0, steps), MAX_STOCK_STEPS))


def _stock_at(medium: MediumType, index: np.ndarray) -> np.ndarray:
    """The medium's stock lengths at these indices (ascending order, from 0)."""
    if medium.stock_lengths_m is not None:
        return np.asarray(medium.stock_lengths_m, dtype=float)[index]
    step = float(medium.stock_step_m or 1.0)
    return np.round((index + 1) * step, 6)


def bill_of_materials(
    table: MediaTable, slot: np.ndarray, count: np.ndarray
) -> list[dict[str, Any]]:
    """Links grouped by medium and stock length, with counts and indicative cost.

    Sorted by medium (catalog order) and stock length; links without a medium
    (slot -1) are left out.
    """
    has = slot >= 0
    used, weights = slot[has], count[has]
    top = int(used.max()) + 1 if len(used) else 0
    if top <= 4 * len(used) + 4096:
        # Slots are small integers in practice: counting beats sorting a million of them.
        totals = np.bincount(used, weights=weights, minlength=top)
        slots = np.arange(top)
    else:
        slots, where = np.unique(used, return_inverse=True)
        totals = np.bincount(where, weights=weights, minlength=len(slots))
    rows = []
    for k in np.flatnonzero(totals):
        m, stock = table.slot_of(int(slots[k]))
        n = int(totals[k])
        rows.append({
            "medium": m.id,
            "stock_length_m": stock,
            "count": n,
            "cost_usd": round((m.cost_usd + m.cost_per_m_usd * stock) * n, 2),
        })  # fmt: skip
    return rows
