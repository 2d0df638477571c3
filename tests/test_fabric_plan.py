"""Fat-tree sizing: textbook sizes, the Colossus case, errors, and invariants of every plan."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layout.catalog import default_catalog
from layout.errors import CoherenceError
from layout.fabric_plan import (
    FabricError,
    FabricPlan,
    TierPorts,
    even_spines,
    max_endpoints,
    plan_fabric,
    split_mixed,
    split_ports,
)

COLOSSUS_GPUS = 100_000  # xAI Colossus, 2024 (NVIDIA press statements)


def _radix(switch: str, speed_gbps: float) -> int:
    return default_catalog()[switch].radix(speed_gbps)


# Al-Fares, Loukissas, Vahdat (SIGCOMM 2008), table of fat-tree sizes:
# k³/4 hosts and 5k²/4 switches (k²/2 leaves, k²/2 spines, k²/4 cores).
@pytest.mark.parametrize(
    ("radix", "rails", "hosts", "switches"),
    [(4, 2, 16, 20), (48, 8, 27_648, 2_880), (64, 8, 65_536, 5_120)],
)
def test_three_tier_textbook_sizes(radix, rails, hosts, switches):
    assert max_endpoints(radix, 3) == hosts == radix**3 // 4
    plan = plan_fabric(hosts, radix, rails, tiers=3)
    assert plan.total_switches == switches == 5 * radix**2 // 4
    assert plan.switches == (radix**2 // 2, radix**2 // 2, radix**2 // 4)
    assert plan.pods == radix
    assert plan.max_endpoints == hosts
    assert plan.max_switch_hops == 5
    # Non-blocking: as many links up each tier as endpoints below it.
    assert plan.links == (hosts, hosts, hosts)
    assert plan.achieved_oversubscription == (1.0, 1.0)


def test_auto_picks_three_tiers_for_a_full_textbook_tree():
    assert plan_fabric(65_536, 64, 8).tiers == 3


@pytest.mark.parametrize("radix", [4, 8, 48, 64, 128])
def test_two_tier_textbook_size(radix):
    # k²/2 endpoints on k leaves and k/2 spines (3k/2 switches).
    assert max_endpoints(radix, 2) == radix**2 // 2
    plan = plan_fabric(radix**2 // 2, radix, 2, tiers=2)
    assert plan.switches == (radix, radix // 2, 0)
    assert plan.total_switches == 3 * radix // 2
    assert (plan.spine_down, plan.spine_up, plan.pods) == (radix, 0, 1)
    assert plan.max_switch_hops == 3


def test_two_tiers_of_64_ports():
    plan = plan_fabric(2_048, 64, 8)
    assert plan.tiers == 2
    assert plan.switches == (64, 32, 0)
    assert plan.total_switches == 96
    assert plan.links == (2_048, 2_048, 0)


def test_one_tier_is_one_switch():
    plan = plan_fabric(64, 128, 8)
    assert plan.tiers == 1
    assert plan.switches == (1, 0, 0)
    assert (plan.leaf_down, plan.leaf_up, plan.groups, plan.group_servers) == (128, 0, 1, 8)
    assert plan.oversubscription == ()
    assert plan.links == (64, 0, 0)
    assert plan.max_switch_hops == 1
    assert max_endpoints(128, 1) == 128


def test_catalog_radixes():
    assert _radix("sn5600", 400) == 128
    assert _radix("qm9700", 400) == 64
    assert _radix("q3400", 800) == 144


def test_sn5600_at_400g_needs_three_tiers_for_colossus():
    radix = _radix("sn5600", 400)
    assert max_endpoints(radix, 2) == 8_192
    assert max_endpoints(radix, 3) == 524_288
    assert plan_fabric(COLOSSUS_GPUS, radix, 8).tiers == 3


def test_colossus_worked_by_hand():
    # 100,000 GPUs, 8 rails (8 GPUs per HGX server, one 400G NIC each), SN5600 k = 128,
    # non-blocking, so every switch splits 64 down / 64 up:
    #   servers = ceil(100,000 / 8)            = 12,500
    #   groups  = ceil(12,500 / 64)            = 196 (195 full, the last with 20 servers)
    #   leaves  = 196 groups × 8 rails         = 1,568
    #   pods    = ceil(1,568 / 64)             = 25 (24 full pods of 64 leaves, 1 of 32)
    #   spines  = 24 × ceil(64 × 64 / 64) + ceil(32 × 64 / 64) = 24 × 64 + 32 = 1,568
    #   cores   = ceil(1,568 × 64 / 128)       = 784
    #   switches = 1,568 + 1,568 + 784         = 3,920
    #   links: GPU→leaf 100,000; leaf→spine 1,568 × 64 = 100,352; spine→core 1,568 × 64 = 100,352
    # (the full tree would be 8,192 + 8,192 + 4,096 switches for 524,288 GPUs).
    plan = plan_fabric(COLOSSUS_GPUS, 128, 8)
    assert plan.servers == 12_500
    assert (plan.leaf_down, plan.leaf_up, plan.spine_down, plan.spine_up) == (64, 64, 64, 64)
    assert (plan.group_servers, plan.groups) == (64, 196)
    assert plan.pods == 25
    assert plan.switches == (1_568, 1_568, 784)
    assert plan.total_switches == 3_920
    assert plan.links == (100_000, 100_352, 100_352)
    assert plan.max_endpoints == 524_288
    assert plan.max_switch_hops == 5


def test_qm9700_cannot_hold_colossus():
    radix = _radix("qm9700", 400)
    assert max_endpoints(radix, 3) == 65_536
    with pytest.raises(FabricError, match=r"100,000 endpoints.*65,536"):
        plan_fabric(COLOSSUS_GPUS, radix, 8)
    with pytest.raises(FabricError, match="largest fabric"):
        plan_fabric(COLOSSUS_GPUS, radix, 8, tiers=3)


def test_q3400_at_800g():
    radix = _radix("q3400", 800)
    assert max_endpoints(radix, 3) == 746_496
    assert plan_fabric(746_496, radix, 8).total_switches == 5 * 144**2 // 4


def test_leaf_oversubscription_three_to_one():
    # down:up = 3:1 on 64 ports: 48 down, 16 up; 64 leaves × 48 = 3,072 endpoints.
    assert max_endpoints(64, 2, (3.0,)) == 3_072 > max_endpoints(64, 2)
    plan = plan_fabric(3_072, 64, 8, tiers=2, oversubscription=(3,))
    assert (plan.leaf_down, plan.leaf_up) == (48, 16)
    assert plan.switches == (64, 16, 0)
    assert plan.oversubscription == (3.0,)
    assert plan.achieved_oversubscription == (3.0,)
    assert plan.max_endpoints == 3_072
    # The non-blocking 2-tier tree holds only 2,048.
    with pytest.raises(FabricError, match="2,048"):
        plan_fabric(3_072, 64, 8, tiers=2)


def test_spine_oversubscription_widens_the_pods():
    # 3:1 at the spine: pods of 48 leaves, 64 pods × 48 × 32 endpoints.
    assert max_endpoints(64, 3, (1, 3)) == 98_304
    plan = plan_fabric(98_304, 64, 8, tiers=3, oversubscription=(1, 3))
    assert (plan.spine_down, plan.spine_up) == (48, 16)
    assert plan.pods == 64
    assert plan.switches == (3_072, 2_048, 512)


def test_uneven_split_never_exceeds_the_target():
    assert max_endpoints(5, 2) == 5 * 2  # 2 down, 3 up
    assert max_endpoints(64, 2, (1.5,)) == 64 * 38  # 38.4 rounds down
    plan = plan_fabric(10, 64, 1, tiers=2, oversubscription=(1.5,))
    assert plan.achieved_oversubscription[0] <= 1.5


def test_forced_tiers_too_small_names_counts_and_the_fix():
    with pytest.raises(FabricError) as caught:
        plan_fabric(COLOSSUS_GPUS, 128, 8, tiers=2)
    message = str(caught.value)
    assert "100,000 endpoints" in message
    assert "2 tiers" in message
    assert "8,192" in message
    assert "3 tiers would hold them" in message
    with pytest.raises(FabricError, match=r"1 tier of 64-port.*64; 2 tiers would"):
        plan_fabric(65, 64, 8, tiers=1)


def test_rails_that_do_not_divide_the_radix_lose_leaf_ports():
    # 3 rails on 64 leaves: only 21 whole groups fit, 21 × 3 × 32 = 2,016.
    with pytest.raises(FabricError, match=r"2,016 in whole groups of 3 rails"):
        plan_fabric(2_048, 64, 3, tiers=2)
    assert plan_fabric(2_016, 64, 3).tiers == 2
    assert plan_fabric(2_017, 64, 3).tiers == 3


@pytest.mark.parametrize(
    ("args", "kwargs", "text"),
    [
        ((100, 1, 1), {}, "radix"),
        ((100, 0, 1), {}, "no ports at that speed"),
        ((0, 64, 8), {}, "endpoints"),
        ((10**8 + 1, 64, 8), {}, "endpoints"),
        ((100.5, 64, 8), {}, "whole number"),
        ((True, 64, 8), {}, "whole number"),
        ((100, 64.0, 8), {}, "whole number"),
        ((100, 64, 65), {}, "rails"),
        ((100, 64, 0), {}, "rails"),
        ((100, 64, 8), {"tiers": 4}, "tiers"),
        ((100, 64, 8), {"tiers": "three"}, "tiers"),
        ((100, 64, 8), {"oversubscription": (0.5,)}, "oversubscription"),
        ((100, 64, 8), {"oversubscription": (math.nan,)}, "oversubscription"),
        ((100, 64, 8), {"oversubscription": (1, 1, 1)}, "oversubscription"),
        ((100, 64, 8), {"oversubscription": "3:1"}, "oversubscription"),
    ],
)
def test_bad_input_is_a_fabric_error(args, kwargs, text):
    with pytest.raises(FabricError, match=text):
        plan_fabric(*args, **kwargs)


def test_fabric_error_is_a_coherence_error():
    assert issubclass(FabricError, CoherenceError)
    with pytest.raises(CoherenceError):
        max_endpoints(1, 2)


@st.composite
def _fabrics(draw):
    radix = draw(st.integers(2, 160))
    rails = draw(st.integers(1, min(radix, 16)))
    ratios = draw(st.lists(st.sampled_from([1.0, 1.5, 2.0, 3.0, 4.0]), min_size=0, max_size=2))
    largest = max(
        plan_fabric(1, radix, rails, tiers=tiers, oversubscription=ratios).max_endpoints
        for tiers in (1, 2, 3)
    )
    endpoints = draw(st.integers(1, largest))
    return endpoints, radix, rails, ratios


def _check_plan(plan: FabricPlan) -> None:
    k = plan.radix
    assert plan.endpoints <= plan.max_endpoints
    # No switch over its radix.
    assert plan.leaf_down + plan.leaf_up <= k
    assert plan.spine_down + plan.spine_up <= k
    # Every endpoint has a leaf port, on the leaf of its rail in its group.
    assert plan.leaves * plan.leaf_down >= plan.endpoints
    assert plan.groups * plan.group_servers >= plan.servers
    if plan.tiers == 1:
        assert plan.switches == (1, 0, 0)
        assert plan.endpoints <= k
        return
    assert plan.leaves == plan.groups * plan.rails
    # Spine ports take every leaf uplink; core ports take every spine uplink.
    assert plan.spines * plan.spine_down >= plan.links[1] == plan.leaves * plan.leaf_up
    assert plan.cores * k >= plan.links[2] == plan.spines * plan.spine_up
    for built, target in zip(plan.achieved_oversubscription, plan.oversubscription, strict=True):
        assert built <= target
    if plan.tiers == 2:
        # Every leaf links to every spine: at most k leaves, at most leaf_up spines.
        assert plan.leaves <= k
        assert plan.spines <= plan.leaf_up
        assert plan.cores == 0
    else:
        # Pods of at most spine_down leaves, each fully meshed; every core reaches every pod.
        assert plan.pods == math.ceil(plan.leaves / plan.spine_down) <= k
        assert plan.spines <= plan.pods * plan.leaf_up


@settings(max_examples=300, deadline=None)
@given(_fabrics())
def test_every_plan_is_consistent_and_minimal(fabric):
    endpoints, radix, rails, ratios = fabric
    plan = plan_fabric(endpoints, radix, rails, oversubscription=ratios)
    _check_plan(plan)
    assert max_endpoints(radix, plan.tiers, ratios) >= plan.max_endpoints
    # Auto picks the fewest tiers: every smaller forced count refuses.
    for fewer in range(1, plan.tiers):
        with pytest.raises(FabricError, match=f"{plan.tiers} tiers would hold them"):
            plan_fabric(endpoints, radix, rails, tiers=fewer, oversubscription=ratios)
    # Any larger forced count holds them too, with a consistent plan. (Below 4 ports
    # whole rail groups can make 2 tiers hold fewer than one switch: k = 3, 2 rails.)
    for more in range(plan.tiers + 1, 4 if radix >= 4 else plan.tiers + 1):
        _check_plan(plan_fabric(endpoints, radix, rails, tiers=more, oversubscription=ratios))


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 200).filter(lambda k: k % 2 == 0), st.sampled_from([1, 2, 4, 8]))
def test_full_non_blocking_trees_match_the_textbook(radix, rails):
    if radix % (2 * rails):
        rails = 1
    plan = plan_fabric(radix**3 // 4, radix, rails, tiers=3)
    assert plan.switches == (radix**2 // 2, radix**2 // 2, radix**2 // 4)
    two = plan_fabric(radix**2 // 2, radix, rails, tiers=2)
    assert two.switches == (radix, radix // 2, 0)


def test_one_endpoint_more_than_two_tiers_hold_forces_three():
    # Radix 64, non-blocking: two tiers hold 64²/2 = 2,048 endpoints.
    assert plan_fabric(2_048, 64, rails=8).tiers == 2
    assert plan_fabric(2_049, 64, rails=8).tiers == 3


# NVIDIA DGX SuperPOD reference architecture (DGX B200 / H100, Quantum-2 QM9700 at NDR
# 400 Gb/s, 64 ports): "Larger DGX SuperPOD component counts", 8 GPUs and 8 rails per
# DGX node. Columns: GPUs, leaf, spine, core switches, node-leaf, leaf-spine, spine-core
# cables.
SUPERPOD_QM9700 = [
    (512, 16, 8, 0, 512, 512, 0),
    (1_024, 32, 16, 0, 1_024, 1_024, 0),
    (2_048, 64, 32, 0, 2_048, 2_048, 0),
    (4_096, 128, 128, 64, 4_096, 4_096, 4_096),
    (8_192, 256, 256, 128, 8_192, 8_192, 8_192),
    (16_384, 512, 512, 256, 16_384, 16_384, 16_384),
]


@pytest.mark.parametrize("row", SUPERPOD_QM9700)
def test_superpod_qm9700_table(row):
    gpus, *switches_and_links = row
    plan = plan_fabric(gpus, _radix("qm9700", 400), rails=8)
    assert [*plan.switches, *plan.links] == switches_and_links


# NVIDIA DGX SuperPOD with DGX B300 and Quantum-X800 (Q3400, 144 × 800 Gb/s): "Example
# Compute Fabric Components". 4 SUs (2,304 GPUs) take 18 spines, not the 16 whose ports
# would do: each leaf's 72 uplinks must split evenly over the spines (72 / 18 = 4 each).
SUPERPOD_Q3400 = [
    (576, 8, 4),
    (1_152, 16, 8),
    (2_304, 32, 18),
    (4_608, 64, 36),
    (10_368, 144, 72),
]


@pytest.mark.parametrize(("gpus", "leaf", "spine"), SUPERPOD_Q3400)
def test_superpod_quantum_x800_table(gpus, leaf, spine):
    plan = plan_fabric(gpus, _radix("q3400", 800), rails=8)
    assert plan.tiers == 2
    assert plan.switches == (leaf, spine, 0)
    assert plan.links == (gpus, gpus, 0)
    assert plan.leaf_up % plan.spines == 0  # the same links from every leaf to every spine


def test_even_spines_divide_the_uplinks():
    assert even_spines(32, 72, 144) == 18  # 16 by ports; 72 % 16 ≠ 0
    assert even_spines(16, 32, 64) == 8
    assert even_spines(1, 72, 144) == 1
    assert even_spines(0, 72, 144) == 0


def test_mixed_speeds_split_by_bandwidth():
    # A 51.2 Tb/s switch: 256 × 200G or 128 × 400G. Non-blocking with 200G down and 400G
    # up: 128 down (25.6 Tb/s) and 64 up (25.6 Tb/s), using 128/256 + 64/128 = all of it.
    assert split_mixed(256, 128, 1.0, 200, 400) == (128, 64)
    # One speed and one radix: the plain split.
    assert split_mixed(64, 64, 3.0) == split_ports(64, 3.0) == (48, 16)
    # 2:1 with 200G down, 400G up: down·200 ≤ 2·up·400 and down/256 + up/128 ≤ 1.
    down, up = split_mixed(256, 128, 2.0, 200, 400)
    assert down * 200 <= 2 * up * 400
    assert down / 256 + up / 128 <= 1
    assert (down + 1) * 200 > 2 * math.floor(128 * (1 - (down + 1) / 256)) * 400


def test_hpn_style_dual_plane_pod():
    # Alibaba HPN (SIGCOMM 2024): each 400G NIC splits into two 200G ports, one per plane
    # (dual-ToR, dual-plane); ToRs run 200G down and 400G up on a 51.2 Tb/s chip;
    # aggregation switches (128 × 400G) run 15:1 towards the core; a pod holds 15
    # segments of 128 hosts × 8 GPUs = 15,360 GPUs. Per plane the pod is 15,360 NIC ports.
    ports = TierPorts(256, 128, 128, 128, 128, speeds_gbps=(200, 400, 400))
    plan = plan_fabric(15_360, ports, rails=8, tiers=3, oversubscription=(1, 15),
                       pod_endpoints=15_360)  # fmt: skip
    # ToR: 128 × 200G down, 64 × 400G up (HPN cables 60 and keeps 4 × 400G spare).
    assert (plan.leaf_down, plan.leaf_up) == (128, 64)
    # 1,920 hosts / 128 per segment = 15 segments × 8 rails = 120 ToRs per plane, on
    # aggregation switches of 120 down / 8 up = 15:1, as published.
    assert plan.leaves == plan.leaves_per_pod == 120
    assert (plan.spine_down, plan.spine_up) == (120, 8)
    assert plan.pods == 1
    assert plan.spines == 64
    assert plan.achieved_oversubscription == (1.0, 15.0)


def test_meta_style_fixed_pods():
    # Meta's RoCE training clusters (SIGCOMM 2024): a rack's 16 GPUs (400G each) on one
    # top-of-rack switch (RTSW), non-blocking inside a 3,072-GPU AI zone, 1:7 from the
    # zone's cluster switches (CTSW) to the aggregation tier (ATSW); 24k GPUs = 8 zones.
    # A ToR-per-rack fabric is one rail (every NIC of the rack on the same leaf). Radixes:
    # ToR 32 × 400G (16 down, 16 up), CTSW and ATSW modular 576 × 400G chassis.
    ports = TierPorts(32, 32, 576, 576, 576)
    plan = plan_fabric(24_576, ports, rails=1, oversubscription=(1, 7), pod_endpoints=3_072)
    assert plan.tiers == 3
    assert (plan.leaf_down, plan.leaf_up) == (16, 16)
    # 3,072 / 16 = 192 ToRs per zone; 16 CTSWs per zone, each 192 down and
    # ceil(192 / 7) = 28 up; 8 zones; ATSWs: ceil(128 × 28 / 576) = 7.
    assert plan.leaves_per_pod == 192
    assert plan.pods == 8
    assert plan.switches == (1_536, 128, 7)
    assert (plan.spine_down, plan.spine_up) == (192, 28)
    assert plan.achieved_oversubscription[0] == 1.0
    assert plan.achieved_oversubscription[1] == pytest.approx(192 / 28)
    assert plan.achieved_oversubscription[1] <= 7


def test_pod_wider_than_a_spine_is_refused():
    with pytest.raises(FabricError, match=r"pod size: a pod of 100,000 endpoints needs"):
        plan_fabric(200_000, 128, 8, pod_endpoints=100_000)
    with pytest.raises(FabricError, match="pod size: a fixed pod needs 3 tiers"):
        plan_fabric(1_000, 128, 8, tiers=2, pod_endpoints=512)
