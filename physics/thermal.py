"""Thermal screening map: estimated rack inlet temperatures on a 2D grid of the hall.

This is a *screening model*, not CFD. It finds racks that are likely to run
hot because the CRAH air near them does not match what they draw, so that a
planner knows where to look; it does not predict temperatures to a degree.
Owns the rule ``thermal.inlet``, the ``thermal`` summary figures (worst rack
inlet, RCI_HI) and :func:`thermal_map` for the GUI's heat-map overlay.

Model
-----
The hall's floor outline is covered by square cells of :data:`CELL_M` (larger
when the hall would need more than :data:`MAX_CELLS` cells). Two quantities
live on the cells:

1. **Return-air temperature rise** θ (K above the CRAH supply temperature,
   ``supply_air_c``): a steady heat balance on the cells,

       Σ_neighbours k (θ_i − θ_j) + g_i θ_i = s_i,

   where ``s_i`` is the air heat (kW) of racks whose exhaust point (rear face
   centre + :data:`SAMPLE_OFFSET_M`) lies in cell i; ``k`` = ρ·cp·
   :data:`MIXING_M3S` is the lateral mixing conductance between neighbouring
   cells (kW/K; it does not depend on the cell size, so the map does not either);
   and ``g_i`` = ρ·cp·V of each CRAH (its airflow, or capacity / (ρ·cp·ΔT)),
   spread over the cells under its footprint: a CRAH returns air at θ and
   supplies it at θ = 0, removing ρ·cp·V·θ. The walls are adiabatic, so summing
   the equations gives the energy balance: heat in = Σ g_i θ_i, heat removed by
   the CRAHs. The matrix is a symmetric M-matrix, solved with a sparse LU
   (scipy); more heat never cools a cell and more CRAH airflow never warms one.
2. **Recirculation share** r: within a square window of half-width
   :data:`THROW_M` around each cell, CRAH airflow supplied (at the CRAHs'
   centres) against the airflow racks draw (at their inlets, air heat /
   (ρ·cp·``air_delta_t_k``)); r = max(0, 1 − supply / demand). A rack whose
   neighbourhood draws more air than the CRAHs there deliver breathes the
   difference from the hot return air.

A rack's inlet temperature is ``supply_air_c + r · θ`` at the cell in front of
it (front face centre + :data:`SAMPLE_OFFSET_M`). Above ``inlet_recommended_c``
is a warning, above ``inlet_allowable_c`` an error. RCI_HI (Herrlin 2005) over
all rack intakes: [1 − Σ max(T − T_rec, 0) / (n · (T_all − T_rec))] × 100 %.

Assumptions and limits
----------------------
- Plan view only: no heights, no raised-floor plenum, no containment, no
  buoyancy; racks and other units do not block air; columns are ignored.
- Mixing, CRAH throw and sampling distances are the constants below, chosen
  as screening estimates (not measured for a particular hall). A hall whose
  CRAH airflow matches the racks' everywhere reads at the supply temperature.
- CRAH capacity limits are not in the field (``cooling.crah`` checks them);
  the field uses airflow.
- Cells outside the outline take no part; a rack whose sample point falls
  outside uses its own centre's cell, and one wholly outside has no estimate.

Speed: the matrix depends only on the floor and the CRAHs; its factorisation
is kept by a :class:`~physics.engine.Checker`, so moving racks costs one
forward/back substitution and two box filters.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from scipy.ndimage import uniform_filter
from scipy.sparse import coo_matrix, diags
from scipy.sparse.linalg import splu

from layout.geometry import front_direction, quarter_turns
from layout.project import Project
from physics.cooling import CP_AIR, RHO_AIR, CoolingModel, airflow_m3s, build_model
from physics.cooling import model_of as cooling_model_of
from physics.engine import CheckContext, RuleProvider, Violation, metric, position_of, rule

CELL_M = 0.6
"""Grid cell: one floor tile."""
MAX_CELLS = 100_000
"""Cells at most; larger halls get larger cells (the 1M-GPU hall about 0.75 m)."""
MIXING_M3S = 300.0
"""Lateral mixing of the return air (eddy diffusivity × mixing height, m³/s; estimate).
It stands in for the bulk return flow to the CRAHs, which a plan-view diffusion
model lacks: calibrated so that a hall whose CRAH airflow matches its racks'
returns air at about supply + ``air_delta_t_k`` (median within 1 K on the generated
halls), as a real CRAH loop does, rather than growing hotter with distance."""
THROW_M = 25.0
"""Half-width of the window in which CRAH supply airflow is set against rack demand:
CRAHs supply racks up to about 25 m away (perimeter CRAHs serve rooms about that
deep from one side; estimate)."""
SAMPLE_OFFSET_M = 0.3
"""How far in front of (behind) a rack its inlet (exhaust) is sampled."""
REGULARISATION = 1e-9
"""kW/K per cell, so that floor regions no CRAH reaches give large but finite values."""


@dataclass
class Grid:
    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int
    active: np.ndarray
    """(ny, nx) cells inside the outline."""
    index: np.ndarray
    """(ny, nx) unknown number of each active cell (-1 outside)."""

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Unknown number of the cell holding each point (-1: off the floor)."""
        ix = np.floor((np.asarray(x) - self.x0) / self.cell_m).astype(np.intp)
        iy = np.floor((np.asarray(y) - self.y0) / self.cell_m).astype(np.intp)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        out = np.full(len(ix), -1, dtype=np.intp)
        out[inside] = self.index[iy[inside], ix[inside]]
        return out

    @property
    def extent(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x0 + self.nx * self.cell_m, self.y0 + self.ny * self.cell_m)


def make_grid(project: Project) -> Grid:
    outline = project.floor.outline
    x0, y0, x1, y1 = outline.bounds
    area = max((x1 - x0) * (y1 - y0), 1e-6)
    cell = max(CELL_M, float(np.sqrt(area / MAX_CELLS)))
    nx, ny = max(1, int(np.ceil((x1 - x0) / cell))), max(1, int(np.ceil((y1 - y0) / cell)))
    cx = x0 + (np.arange(nx) + 0.5) * cell
    cy = y0 + (np.arange(ny) + 0.5) * cell
    gx, gy = np.meshgrid(cx, cy)
    active = shapely.contains_xy(outline, gx, gy)
    index = np.full((ny, nx), -1, dtype=np.intp)
    index[active] = np.arange(int(active.sum()))
    return Grid(x0, y0, cell, nx, ny, active, index)


def _faces(rows: np.ndarray, project: Project, depth: np.ndarray) -> tuple[np.ndarray, ...]:
    """Inlet and exhaust sample points of items (front faces -y at rotation 0)."""
    items = project.items
    fx, fy = front_direction(items.rotation[rows])
    reach = depth / 2 + SAMPLE_OFFSET_M
    x, y = items.x[rows], items.y[rows]
    return x + fx * reach, y + fy * reach, x - fx * reach, y - fy * reach


def _cells(grid: Grid, px: np.ndarray, py: np.ndarray, x: np.ndarray, y: np.ndarray
           ) -> np.ndarray:  # fmt: skip
    cells = grid.cell_of(px, py)
    off = cells < 0
    cells[off] = grid.cell_of(x[off], y[off])
    return cells


@dataclass
class Plant:
    """What the thermal field's matrix depends on: the grid and the CRAHs."""

    grid: Grid
    g: np.ndarray
    """CRAH conductance per unknown, kW/K."""
    supply_m3s: np.ndarray
    """(ny, nx) CRAH supply airflow placed at the CRAHs' centre cells."""
    crah_ids: list[str]
    crah_cells: list[np.ndarray]
    crah_conductance: np.ndarray


def make_plant(
    project: Project,
    model: CoolingModel,
    sizes: tuple[np.ndarray, np.ndarray],
    failed: frozenset[str] = frozenset(),
) -> Plant:
    grid = make_grid(project)
    items = project.items
    flat_of = np.flatnonzero(grid.active.ravel())
    n = int(grid.active.sum())
    g = np.zeros(n)
    supply = np.zeros((grid.ny, grid.nx))
    crahs = [k for k in model.of_role("crah")
             if model.floor_unit[k] and model.unit_ids[k] not in failed]  # fmt: skip
    w, d = sizes
    ids, cells_of, conductance = [], [], []
    for k in crahs:
        row = model.unit_rows[k]
        flow = model.unit_airflow_m3s[k]
        x, y = items.x[row], items.y[row]
        turned = bool(quarter_turns(items.rotation[row]) % 2 == 1)
        half_w, half_d = (d[row], w[row]) if turned else (w[row], d[row])
        ix0 = int(np.floor((x - half_w / 2 - grid.x0) / grid.cell_m))
        ix1 = int(np.floor((x + half_w / 2 - grid.x0) / grid.cell_m))
        iy0 = int(np.floor((y - half_d / 2 - grid.y0) / grid.cell_m))
        iy1 = int(np.floor((y + half_d / 2 - grid.y0) / grid.cell_m))
        block = grid.index[max(iy0, 0) : max(iy1 + 1, 0), max(ix0, 0) : max(ix1 + 1, 0)]
        cells = block[block >= 0]
        centre = grid.cell_of(np.array([x]), np.array([y]))
        if len(cells) == 0:
            cells = centre[centre >= 0]
        if len(cells) == 0:
            continue  # a CRAH off the floor serves no cell of it
        conductance_k = RHO_AIR * CP_AIR * flow
        np.add.at(g, cells, conductance_k / len(cells))
        supply_cell = int(centre[0]) if centre[0] >= 0 else int(cells[0])
        supply.ravel()[flat_of[supply_cell]] += flow
        ids.append(model.unit_ids[k])
        cells_of.append(cells)
        conductance.append(conductance_k)
    return Plant(grid, g, supply, ids, cells_of, np.asarray(conductance, dtype=float))


def matrix(plant: Plant) -> Any:
    grid = plant.grid
    idx = grid.index
    k = RHO_AIR * CP_AIR * MIXING_M3S
    pairs = []
    for a, b in ((idx[:, :-1], idx[:, 1:]), (idx[:-1, :], idx[1:, :])):
        both = (a >= 0) & (b >= 0)
        pairs.append((a[both], b[both]))
    a = np.concatenate([p[0] for p in pairs])
    b = np.concatenate([p[1] for p in pairs])
    n = len(plant.g)
    off = coo_matrix((np.full(len(a), -k), (a, b)), shape=(n, n))
    off = (off + off.T).tocsc()
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    return (off + diags(k * degree + plant.g + REGULARISATION)).tocsc()


@dataclass
class ThermalMap:
    """Result of the screening model (see the module docstring).

    ``grid`` is the estimated air temperature at rack inlet height (°C; NaN off
    the floor), ``return_grid`` the return-air temperature, both (ny, nx) with
    row 0 at ``extent``'s y0 (y grows downwards as on the canvas).
    """

    extent: tuple[float, float, float, float]
    cell_m: float
    grid: np.ndarray
    return_grid: np.ndarray
    rack_ids: list[str]
    rack_rows: np.ndarray
    inlet_c: np.ndarray
    """Per rack (GPU and network racks with heat); NaN when off the floor."""
    heat_in_kw: float
    heat_removed_kw: float
    crah_ids: list[str]
    removed_kw: np.ndarray
    """Heat each CRAH (``crah_ids``) removes, kW."""
    supply_c: float

    @property
    def removed_by_crah_kw(self) -> dict[str, float]:
        return dict(zip(self.crah_ids, self.removed_kw.tolist(), strict=True))

    @property
    def worst_inlet_c(self) -> float | None:
        values = self.inlet_c[np.isfinite(self.inlet_c)]
        return float(values.max()) if len(values) else None


def rci_hi(inlets: np.ndarray, recommended_c: float, allowable_c: float) -> float:
    """Rack Cooling Index, high side (Herrlin 2005), in percent."""
    inlets = np.asarray(inlets, dtype=float)
    inlets = inlets[np.isfinite(inlets)]
    if len(inlets) == 0 or allowable_c <= recommended_c:
        return 100.0
    over = np.clip(inlets - recommended_c, 0.0, None).sum()
    return float((1.0 - over / (len(inlets) * (allowable_c - recommended_c))) * 100.0)


def solve(
    project: Project, model: CoolingModel, sizes: tuple[np.ndarray, np.ndarray], plant: Plant,
    lu: Any,
) -> ThermalMap:  # fmt: skip
    """The field for the project's racks with a factorised plant matrix."""
    rules = project.rules
    grid = plant.grid
    rows = model.rack_rows
    _, depth = sizes
    ix, iy, ex, ey = _faces(rows, project, depth[rows])
    x, y = project.items.x[rows], project.items.y[rows]
    inlet_cell = _cells(grid, ix, iy, x, y)
    exhaust_cell = _cells(grid, ex, ey, x, y)
    n = len(plant.g)
    heat = model.air_kw
    placed = exhaust_cell >= 0
    s = np.bincount(exhaust_cell[placed], weights=heat[placed], minlength=n)
    theta = lu.solve(s) if n else np.zeros(0)
    demand = np.zeros(grid.ny * grid.nx)
    has_inlet = inlet_cell >= 0
    flat_of = np.flatnonzero(grid.active.ravel())
    np.add.at(demand, flat_of[inlet_cell[has_inlet]],
              np.asarray(airflow_m3s(heat[has_inlet], rules["air_delta_t_k"])))  # fmt: skip
    size = 2 * max(1, round(THROW_M / grid.cell_m)) + 1
    supplied = uniform_filter(plant.supply_m3s, size=size, mode="constant")
    drawn = uniform_filter(demand.reshape(grid.ny, grid.nx), size=size, mode="constant")
    ratio = np.divide(supplied, drawn, out=np.ones_like(drawn), where=drawn > 1e-12)
    recirculation = np.clip(1.0 - ratio, 0.0, 1.0)
    supply_c = rules["supply_air_c"]
    field_return = np.full((grid.ny, grid.nx), np.nan)
    field_return[grid.active] = supply_c + theta
    field_inlet = np.full((grid.ny, grid.nx), np.nan)
    field_inlet[grid.active] = supply_c + recirculation[grid.active] * theta
    inlet = np.full(len(rows), np.nan)
    inlet[has_inlet] = field_inlet.ravel()[flat_of[inlet_cell[has_inlet]]]
    owner = np.repeat(np.arange(len(plant.crah_cells)), [len(c) for c in plant.crah_cells])
    cells = np.concatenate(plant.crah_cells) if plant.crah_cells else np.zeros(0, np.intp)
    share = (plant.crah_conductance / [len(c) for c in plant.crah_cells])[owner]
    removed = np.bincount(owner, weights=share * theta[cells], minlength=len(plant.crah_ids))
    ids = project.items.ids
    return ThermalMap(
        extent=grid.extent,
        cell_m=grid.cell_m,
        grid=field_inlet,
        return_grid=field_return,
        rack_ids=[ids[r] for r in rows],
        rack_rows=rows,
        inlet_c=inlet,
        heat_in_kw=float(s.sum()),
        heat_removed_kw=float((plant.g * theta).sum()),
        crah_ids=plant.crah_ids,
        removed_kw=removed,
        supply_c=supply_c,
    )


def _has_crahs(model: CoolingModel) -> bool:
    crahs = model.of_role("crah")
    return bool(len(crahs)) and bool(model.floor_unit[crahs].any())


def thermal_map(project: Project, failed: frozenset[str] = frozenset()) -> ThermalMap | None:
    """The screening map of ``project`` (None when no CRAH stands in the hall).

    ``failed`` CRAH ids are left out (what-if).
    """
    model = build_model(project)
    if not _has_crahs(model):
        return None
    sizes = project.sizes()
    plant = make_plant(project, model, sizes, failed)
    if not plant.crah_ids:
        return None
    return solve(project, model, sizes, plant, splu(matrix(plant)))


def _plant_key(project: Project, model: CoolingModel) -> tuple[Any, ...]:
    """What the plant matrix depends on besides the structure: the CRAHs' positions."""
    rows = model.unit_rows[model.of_role("crah")]
    items = project.items
    return (items.x[rows].tobytes(), items.y[rows].tobytes(), items.rotation[rows].tobytes())


def _context_map(context: CheckContext) -> ThermalMap | None:
    return context.once("thermal.map", lambda: _map(context))


def _map(context: CheckContext) -> ThermalMap | None:
    project = context.project
    result = None
    model = cooling_model_of(context)
    if _has_crahs(model):
        key = _plant_key(project, model)
        kept = context.recall("thermal.plant")
        if kept is not None and kept[0] == key:
            _, plant, lu = kept
        else:
            plant = make_plant(project, model, context.sizes)
            lu = splu(matrix(plant)) if plant.crah_ids else None
        context.remember("thermal.plant", (key, plant, lu))
        if lu is not None:
            result = solve(project, model, context.sizes, plant, lu)
    return result


def map_of(context: CheckContext) -> ThermalMap | None:
    """The screening map of the context's project, computed once per check (None without a
    CRAH in the hall); a checker keeps the factorised plant while the CRAHs stay put."""
    return _context_map(context)


@rule("thermal.inlet", "warning", "Estimated rack inlet (screening model) within the ASHRAE "
      "recommended limit; above the allowable limit is an error.")  # fmt: skip
def inlet(context: CheckContext, rule: RuleProvider) -> Iterator[Violation]:
    found = _context_map(context)
    if found is None:
        return
    rules = context.project.rules
    recommended, allowable = rules["inlet_recommended_c"], rules["inlet_allowable_c"]
    hot = np.flatnonzero(found.inlet_c > recommended + 1e-9)
    for k in hot:
        row = found.rack_rows[k]
        t = found.inlet_c[k]
        error = t > allowable + 1e-9
        limit = (f"the allowable {allowable:g} °C" if error
                 else f"the recommended {recommended:g} °C")  # fmt: skip
        yield rule.violation(
            f"{found.rack_ids[k]}: estimated inlet {t:.1f} °C, above {limit} (screening model)",
            (found.rack_ids[k],),
            position_of(context, row),
            "error" if error else None,
        )


@metric("thermal")
def thermal_metrics(context: CheckContext) -> Mapping[str, Any]:
    found = _context_map(context)
    if found is None:
        return {"worst_rack_inlet_c": None, "rci_hi": None}
    rules = context.project.rules
    worst = found.worst_inlet_c
    return {
        "worst_rack_inlet_c": None if worst is None else round(worst, 2),
        "rci_hi": round(
            rci_hi(found.inlet_c, rules["inlet_recommended_c"], rules["inlet_allowable_c"]), 2
        ),
        "thermal_heat_in_kw": round(found.heat_in_kw, 1),
        "thermal_heat_removed_kw": round(found.heat_removed_kw, 1),
    }


__all__ = ["ThermalMap", "make_grid", "map_of", "rci_hi", "thermal_map"]
