"""The equipment-kind table and the plan geometry every drawing and check reads."""

from __future__ import annotations

import numpy as np
import pytest

from layout.catalog import KINDS, PLACEABLE_KINDS, default_catalog
from layout.geometry import (
    axis_aligned_rects,
    footprint_size,
    front_direction,
    is_quarter_turn,
    quarter_turns,
)
from layout.kinds import EQUIPMENT_KINDS, kind_info


def test_every_placeable_kind_has_one_entry_in_listing_order():
    assert tuple(EQUIPMENT_KINDS) == PLACEABLE_KINDS == ("gpu_rack", "network_rack", "power",
                                                         "cooling", "storage_rack")  # fmt: skip
    assert set(PLACEABLE_KINDS) < set(KINDS)
    placed = {t.kind for t in default_catalog().values() if t.kind in PLACEABLE_KINDS}
    assert placed == set(EQUIPMENT_KINDS)


@pytest.mark.parametrize(
    ("kind", "words", "looks"),
    [
        ("gpu_rack", ("GPU racks", "GPU rack", "GPU racks", "GPU racks"),
         ("R", "#3d7cc9", "GPU_RACKS", 5)),
        ("network_rack", ("Network racks", "network rack", "network racks", "Network racks"),
         ("N", "#8a5cc2", "NETWORK_RACKS", 6)),
        ("power", ("Power", "power unit", "power units", "Power units"),
         ("P", "#d99a1e", "POWER", 40)),
        ("cooling", ("Cooling", "cooling unit", "cooling units", "Cooling units"),
         ("K", "#23a393", "COOLING", 4)),
        ("storage_rack", ("Storage racks", "storage rack", "storage racks", "Storage racks"),
         ("ST", "#5a6e7f", "STORAGE_RACKS", 8)),
    ],
)  # fmt: skip
def test_kind_entries(kind, words, looks):
    entry = kind_info(kind)
    assert (entry.title, entry.singular, entry.plural, entry.plural_title) == words
    assert (entry.id_prefix, entry.colour, entry.dxf_layer, entry.dxf_colour) == looks


def test_a_kind_without_an_entry_gets_a_neutral_one():
    entry = kind_info("switch")
    assert (entry.title, entry.id_prefix, entry.colour, entry.dxf_layer) == (
        "switch", "X", "#8a8a8a", "0",
    )  # fmt: skip


def test_quarter_turns_and_fronts():
    degrees = np.array([0.0, 90.0, 180.0, 270.0, 359.9999999, 45.0, 30.0])
    assert is_quarter_turn(degrees).tolist() == [True] * 5 + [False] * 2
    assert quarter_turns(degrees[:5]).tolist() == [0, 1, 2, 3, 0]
    fx, fy = front_direction(degrees[:4])
    # The front faces -y at 0°, +x at 90°, +y at 180° and -x at 270° (clockwise, y down).
    assert list(zip(fx.tolist(), fy.tolist(), strict=True)) == [(0, -1), (1, 0), (0, 1), (-1, 0)]


def test_axis_aligned_rects_put_the_front_mark_on_the_front_edge():
    x, y = np.array([5.0, 5.0]), np.array([6.0, 6.0])
    width, depth = np.array([0.6, 0.6]), np.array([1.2, 1.2])
    quarter, rects, fronts = axis_aligned_rects(x, y, width, depth, np.array([0.0, 90.0]))
    assert quarter.tolist() == [True, True]
    assert np.allclose(rects, [[4.7, 5.4, 0.6, 1.2], [4.4, 5.7, 1.2, 0.6]])
    assert np.allclose(fronts, [[4.7, 5.4, 0.6, 0.15], [5.45, 5.7, 0.15, 0.6]])


def test_an_overhead_run_is_as_long_as_its_length_property():
    catalog = default_catalog()
    busway = catalog["busway-415v-60a"]
    rack = catalog["colossus-hgx-h100-lc"]
    assert footprint_size(busway) == (busway.footprint.width_m, busway.footprint.depth_m)
    assert footprint_size(busway, {"length_m": 12.5})[0] == 12.5
    assert footprint_size(busway, {"length_m": 0.0})[0] == 0.1
    assert footprint_size(busway, {"length_m": True})[0] == busway.footprint.width_m
    assert footprint_size(rack, {"length_m": 12.5}) == (0.6, 1.2)
