"""Summary figures every check reports: counts of what is placed and the floor's size."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

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
        "racks": kinds.get("gpu_rack", 0),
        "network_racks": kinds.get("network_rack", 0),
        "power_units": kinds.get("power", 0),
        "cooling_units": kinds.get("cooling", 0),
        "floor_area_m2": round(project.floor.area_m2, 2),
    }

