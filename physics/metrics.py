"""Summary figures every check reports: counts of what is placed, the GPUs asked for,
the scale-up (NVLink) domains and the floor's size."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from physics.engine import CheckContext, metric


@metric("inventory")
def inventory(context: CheckContext) -> Mapping[str, Any]:
    return context.memo("inventory", lambda: _inventory(context))


def _inventory(context: CheckContext) -> dict[str, Any]:
    project = context.project
    kinds = Counter(context.kinds.tolist())
    return {
        "items": len(project.items),
        "gpus": project.gpu_count(),
        "gpus_requested": project.fabric.requested_gpus,
        "racks": kinds.get("gpu_rack", 0),
        "network_racks": kinds.get("network_rack", 0),
        "power_units": kinds.get("power", 0),
        "cooling_units": kinds.get("cooling", 0),
        "floor_area_m2": round(project.floor.area_m2, 2),
    }


@metric("scale_up")
def scale_up(context: CheckContext) -> Mapping[str, Any]:
    """NVLink (scale-up) domains of the placed GPU racks and the GPUs of the largest.

    A rack type's domain is its ``scale_up_gpus`` (72 for an NVL72 rack), else one
    server's GPUs; a rack holds ``ceil(gpus / domain)`` domains.
    """
    return context.memo("scale_up", lambda: _scale_up(context))


def _scale_up(context: CheckContext) -> dict[str, Any]:
    project = context.project
    type_ids = np.asarray(project.items.type_ids, dtype=object)[context.kinds == "gpu_rack"]
    domains, largest = 0, 0
    for type_id, count in zip(*np.unique(type_ids.astype(str), return_counts=True), strict=True):
        rack = project.catalog[type_id]
        size = getattr(rack, "scale_up_gpus", None) or rack.gpus_per_server
        domains += int(count) * -(-rack.gpus // size)
        largest = max(largest, min(size, rack.gpus))
    return {"scale_up_domains": domains, "scale_up_gpus": largest}
