"""DXF floor plans: a building drawing made here with ezdxf reads as a floor with its
obstacles; the generator lays out around them; bad drawings give one-line errors;
the layout exported to DXF reads back with its floor, obstacles and items.

No Qt in this file: the import is model code and the DXF export is Qt-free.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import ezdxf
import numpy as np
import pytest
import shapely

from layout import dclayout
from layout.dxf_import import DxfImportError, read_floor
from layout.generator import ClusterRequest, generate
from layout.kinds import EQUIPMENT_KINDS
from layout.project import Project
from physics import check
from report.dxf_export import OBSTACLE_LAYERS, write_dxf

ROOT = Path(__file__).resolve().parent.parent

HALL_W_M, HALL_D_M = 120.0, 80.0
COLUMNS_M = [(x, y) for x in (30.0, 60.0, 90.0) for y in (20.0, 40.0, 60.0)]
"""Column centres in drawing coordinates (metres, y up)."""
COLUMN_SIDE_M = 0.8
WALL_X_M = 100.0
"""A single-line wall at x = 100 m from y = 0 to 30 m (drawing), buffered to 0.3 m."""
KEEPOUT_M = (5.0, 65.0, 15.0, 75.0)
"""A keep-out box (x0, y0, x1, y1) near the drawing's top-left corner."""


def building(path: Path, mm: bool = True) -> Path:
    """A hall in millimetres, the way architects draw: outline, walls, columns, keep-out,
    and furniture and text that belong to the underlay."""
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4 if mm else 6
    k = 1000.0 if mm else 1.0
    msp = doc.modelspace()
    # The outline as four separate LINEs (polygonized on import), offset from the origin
    # as survey-based drawings are.
    ox, oy = 5000.0 * k / 1000, 2000.0 * k / 1000
    corners = [(0, 0), (HALL_W_M, 0), (HALL_W_M, HALL_D_M), (0, HALL_D_M)]
    pts = [(ox + x * k, oy + y * k) for x, y in corners]
    for a, b in zip(pts, pts[1:] + pts[:1], strict=True):
        msp.add_line(a, b, dxfattribs={"layer": "A-AREA-OUTLINE"})
    # Columns: closed squares on S-COLS, one of them as a circle.
    half = COLUMN_SIDE_M / 2 * k
    for n, (x, y) in enumerate(COLUMNS_M):
        cx, cy = ox + x * k, oy + y * k
        if n == 0:
            msp.add_circle((cx, cy), half, dxfattribs={"layer": "S-COLS"})
        else:
            square = [(cx - half, cy - half), (cx + half, cy - half),
                      (cx + half, cy + half), (cx - half, cy + half)]  # fmt: skip
            msp.add_lwpolyline(square, close=True, dxfattribs={"layer": "S-COLS"})
    # A wall drawn as one line; a second wall drawn as a closed thin rectangle.
    msp.add_line((ox + WALL_X_M * k, oy), (ox + WALL_X_M * k, oy + 30 * k),
                 dxfattribs={"layer": "A-WALL"})  # fmt: skip
    msp.add_lwpolyline(
        [(ox, oy + 50 * k), (ox + 20 * k, oy + 50 * k), (ox + 20 * k, oy + 50.25 * k),
         (ox, oy + 50.25 * k)], close=True, dxfattribs={"layer": "A-WALL"},
    )  # fmt: skip
    x0, y0, x1, y1 = KEEPOUT_M
    msp.add_lwpolyline(
        [(ox + x0 * k, oy + y0 * k), (ox + x1 * k, oy + y0 * k), (ox + x1 * k, oy + y1 * k),
         (ox + x0 * k, oy + y1 * k)], close=True, dxfattribs={"layer": "KEEPOUT"},
    )  # fmt: skip
    # Underlay only: furniture and a title.
    msp.add_circle((ox + 50 * k, oy + 10 * k), 1 * k, dxfattribs={"layer": "A-FURN"})
    msp.add_text("HALL 1", dxfattribs={"layer": "A-ANNO", "height": 1 * k}).set_placement(
        (ox + 10 * k, oy + 10 * k)
    )
    doc.saveas(path)
    return path


def model_point(x: float, y: float) -> tuple[float, float]:
    """A drawing point (metres from the outline's corner, y up) in the model (y down)."""
    return x, HALL_D_M - y


def test_drawing_imports_with_its_obstacles(tmp_path: Path) -> None:
    imported = read_floor(building(tmp_path / "hall.dxf"))
    floor = imported.floor
    assert floor.bounds == pytest.approx((0.0, 0.0, HALL_W_M, HALL_D_M))
    assert floor.area_m2 == pytest.approx(HALL_W_M * HALL_D_M)
    assert imported.units == "mm"
    kinds = [o.kind for o in floor.obstacles]
    assert kinds.count("column") == len(COLUMNS_M)
    assert kinds.count("wall") == 2
    assert kinds.count("keepout") == 1
    # y is flipped: each column lies where the drawing put it, measured from the top.
    columns = [o.polygon for o in floor.obstacles if o.kind == "column"]
    for x, y in COLUMNS_M:
        mx, my = model_point(x, y)
        hit = [c for c in columns if c.contains(shapely.Point(mx, my))]
        assert len(hit) == 1, (x, y)
        assert hit[0].area == pytest.approx(COLUMN_SIDE_M**2, rel=0.25)  # the circle is smaller
    keepout = next(o.polygon for o in floor.obstacles if o.kind == "keepout")
    x0, y0, x1, y1 = KEEPOUT_M
    assert keepout.bounds == pytest.approx((x0, HALL_D_M - y1, x1, HALL_D_M - y0))
    # The single-line wall got the default 0.2 m thickness; the drawn one keeps its 0.25 m.
    walls = sorted((o.polygon for o in floor.obstacles if o.kind == "wall"), key=lambda p: p.area)
    assert walls[0].area == pytest.approx(20 * 0.25, rel=1e-6)
    assert walls[1].area == pytest.approx(30 * 0.2, rel=1e-6)
    assert walls[1].bounds[0] == pytest.approx(WALL_X_M - 0.1)
    # The rest is underlay: the drawing itself, and its layers are listed as such.
    assert floor.underlay == str(tmp_path / "hall.dxf")
    assert imported.layers["A-FURN"] == "underlay"
    assert imported.layers["S-COLS"] == "column"


def test_layer_override_and_scale_override(tmp_path: Path) -> None:
    path = building(tmp_path / "hall.dxf")
    # Columns switched off, walls taken from the columns' layer instead.
    imported = read_floor(path, layers={"column": [], "wall": ["S-COLS"]})
    kinds = [o.kind for o in imported.floor.obstacles]
    assert "column" not in kinds
    # Squares 0.8 m wide are thin enough to be walls; all nine land on the wall role.
    assert kinds.count("wall") == len(COLUMNS_M)
    # A scale override wins over $INSUNITS: centimetres make the hall ten times smaller.
    small = read_floor(path, scale=0.0001)
    assert small.floor.bounds == pytest.approx((0.0, 0.0, HALL_W_M / 10, HALL_D_M / 10))


def test_generator_avoids_the_drawings_obstacles(tmp_path: Path) -> None:
    floor = read_floor(building(tmp_path / "hall.dxf")).floor
    project = generate(ClusterRequest(gpus=4096, floor=floor))
    results = check(project)
    placement = [v for v in results.violations if v.rule.startswith("placement.")]
    assert placement == []
    assert results.metrics["gpus"] >= 4096
    footprints = project.footprints()
    tree = shapely.STRtree(footprints)
    for obstacle in floor.obstacles:
        hits = tree.query(obstacle.polygon, predicate="intersects")
        overlap = sum(shapely.intersection(footprints[h], obstacle.polygon).area for h in hits)
        assert overlap == pytest.approx(0.0, abs=1e-9), obstacle.id


def test_new_with_a_dxf_floor_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    drawing = building(tmp_path / "plans" / "hall.dxf")
    out = tmp_path / "out" / "hall.dclayout"
    out.parent.mkdir()
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "new", "--floor", str(drawing), "--gpus", "2048",
         "-o", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "9 columns" in result.stdout
    project = dclayout.load(out)
    assert len(project.floor.obstacles) == 12
    # The underlay is stored relative to the project file.
    assert project.floor.underlay == os.path.join("..", "plans", "hall.dxf")
    violations = check(project).violations
    assert [v for v in violations if v.rule.startswith("placement.")] == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "hall.dxf: the file is empty"),
        (b"this is not a drawing\n", "hall.dxf: not a readable DXF drawing"),
        (b"0\nSECTION\n2\nENTITIES\n0\nLINE\n8\n0\n10\nabc\n", "hall.dxf: not a readable DXF"),
    ],
)
def test_malformed_dxf_is_one_clear_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "hall.dxf"
    path.write_bytes(content)
    with pytest.raises(DxfImportError) as err:
        read_floor(path)
    message = str(err.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_drawing_without_outline_is_refused(tmp_path: Path) -> None:
    doc = ezdxf.new("R2010")
    doc.modelspace().add_line((0, 0), (10, 10), dxfattribs={"layer": "A-FURN"})
    doc.saveas(tmp_path / "empty.dxf")
    with pytest.raises(DxfImportError, match=r"^empty\.dxf: no outline found: no layer matches"):
        read_floor(tmp_path / "empty.dxf")
    # An outline layer holding only an open line closes no shape.
    doc = ezdxf.new("R2010")
    doc.modelspace().add_line((0, 0), (10, 10), dxfattribs={"layer": "OUTLINE"})
    doc.saveas(tmp_path / "open.dxf")
    with pytest.raises(DxfImportError, match=r"^open\.dxf: no outline found: .*no closed shape"):
        read_floor(tmp_path / "open.dxf")


def test_absurd_sizes_name_the_units(tmp_path: Path) -> None:
    # Millimetre coordinates declared as metres: a 120 km hall.
    path = building(tmp_path / "hall.dxf")
    doc = ezdxf.readfile(path)
    doc.header["$INSUNITS"] = 6
    doc.saveas(path)
    with pytest.raises(DxfImportError, match=r"larger than any hall \(units m; give the scale"):
        read_floor(path)
    with pytest.raises(DxfImportError, match=r"smaller than any hall"):
        read_floor(path, scale=1e-6)
    with pytest.raises(DxfImportError, match=r"scale -1 m per drawing unit"):
        read_floor(path, scale=-1)
    with pytest.raises(DxfImportError, match=r"unknown layer role 'door'"):
        read_floor(path, layers={"door": ["A-DOOR"]})


def test_export_then_import_keeps_floor_obstacles_and_items(tmp_path: Path) -> None:
    floor = read_floor(building(tmp_path / "hall.dxf")).floor
    project = generate(ClusterRequest(gpus=2048, floor=floor))
    out = tmp_path / "layout.dxf"
    write_dxf(project, out)

    again = read_floor(out).floor
    assert again.bounds == pytest.approx(floor.bounds)
    assert shapely.symmetric_difference(again.outline, floor.outline).area == pytest.approx(0.0)
    assert sorted(o.kind for o in again.obstacles) == sorted(o.kind for o in floor.obstacles)
    for original in floor.obstacles:
        matches = [
            o for o in again.obstacles
            if o.kind == original.kind
            and shapely.symmetric_difference(o.polygon, original.polygon).area < 1e-6
        ]  # fmt: skip
        assert matches, original.id

    doc = ezdxf.readfile(out)
    layers = {layer.dxf.name for layer in doc.layers}
    kind_layers = {kind.dxf_layer for kind in EQUIPMENT_KINDS.values()}
    assert kind_layers | set(OBSTACLE_LAYERS.values()) | {"FLOOR", "TRAYS"} <= layers
    inserts = doc.modelspace().query("INSERT")
    found = {}
    for insert in inserts:
        attribs = {a.dxf.tag: a.dxf.text for a in insert.attribs}
        found[attribs["ID"]] = (insert.dxf.layer, insert.dxf.insert.x, insert.dxf.insert.y,
                                insert.dxf.rotation, attribs["TYPE"])  # fmt: skip
    assert set(found) == set(project.items.ids)
    kinds = project.kinds()
    for row, item_id in enumerate(project.items.ids):
        layer, x, y, rotation, type_id = found[item_id]
        assert layer == EQUIPMENT_KINDS[kinds[row]].dxf_layer
        assert type_id == project.items.type_ids[row]
        # y flipped back; a clockwise turn on screen is a counter-clockwise one in the drawing.
        assert (x, -y) == pytest.approx((project.items.x[row], project.items.y[row]))
        assert math.isclose((rotation + project.items.rotation[row]) % 360.0, 0.0, abs_tol=1e-9) \
            or math.isclose((rotation + project.items.rotation[row]) % 360.0, 360.0)  # fmt: skip
    trays = doc.modelspace().query('LWPOLYLINE[layer=="TRAYS"]')
    assert len(trays) == len(project.trays.segments)
    widths = np.array([t.dxf.const_width for t in trays])
    assert np.allclose(widths, [s.width_m for s in project.trays.segments])


# -- a floor the project file can hold ---------------------------------------------------------
def _outline_drawing(path: Path, points: np.ndarray) -> Path:
    """A unitless (metres) drawing of one closed outline, written by ezdxf's streaming R12
    writer (its document writer takes minutes over a 100,000-point polyline)."""
    from ezdxf.addons import r12writer

    with r12writer(str(path)) as dxf:
        dxf.add_polyline_2d(points.tolist(), closed=True, layer="OUTLINE")
    return path


def test_an_outline_of_too_many_vertices_is_simplified_to_what_a_project_holds(
    tmp_path: Path,
) -> None:
    from layout.limits import MAX_VERTICES

    count = MAX_VERTICES + 20_000
    angles = np.linspace(0, 2 * math.pi, count, endpoint=False)
    circle = np.column_stack((60 + 50 * np.cos(angles), 60 + 50 * np.sin(angles)))
    floor = read_floor(_outline_drawing(tmp_path / "round.dxf", circle)).floor
    vertices = len(floor.outline.exterior.coords) - 1
    assert 3 < vertices <= MAX_VERTICES
    assert floor.outline.area == pytest.approx(math.pi * 50**2, rel=1e-3)
    text = dclayout.dumps(Project(floor))
    assert dclayout.dumps(dclayout.loads(text)) == text


def test_an_outline_that_cannot_be_simplified_enough_is_refused_naming_the_limit(
    tmp_path: Path,
) -> None:

    # A comb with 15,000 teeth 20 cm wide along each long side: no 10 cm grid merges them.
    teeth = 15_000
    left = np.arange(teeth) * 0.4
    top = np.column_stack((np.repeat(left, 4) + np.tile([0, 0, 0.2, 0.2], teeth),
                           np.tile([10, 12, 12, 10], teeth)))  # fmt: skip
    bottom = top[::-1] * [1, -1] + [0, 10]
    ring = np.vstack((top, bottom))
    with pytest.raises(DxfImportError) as refused:
        read_floor(_outline_drawing(tmp_path / "comb.dxf", ring))
    message = str(refused.value)
    assert message.startswith("comb.dxf: the outline has 120,000 vertices, ")
    assert "more than the 100,000 a project may store" in message
    assert "\n" not in message
