"""The floor's underlay: a building DXF made here with ezdxf imports with its placement,
the placement and a relative path survive save and load, the drawing's lines read back at
the right plan coordinates, the canvas draws them faint grey under the plan, and a missing
drawing is reported without failing the open.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import ezdxf
import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from gui.canvas.scene import FLOOR_COLOUR, FloorScene
from gui.canvas.underlay import UnderlayOverlay
from gui.main_window import MainWindow
from layout import dclayout
from layout.dxf_import import read_floor
from layout.errors import ProjectFileError
from layout.floor import Floor, UnderlayPlacement
from layout.project import Project
from layout.underlay import UnderlayError, read_linework, rebased, resolve

# The drawing, in millimetres (y up): a 30 m × 20 m hall offset from the origin.
X0_MM, Y0_MM = 10_000.0, 5_000.0
HALL_W_MM, HALL_D_MM = 30_000.0, 20_000.0
TOP_MM = Y0_MM + HALL_D_MM
"""The outline's top edge: plan y = 0 after the flip."""
FURNITURE_MM = ((15_000.0, TOP_MM - 5_025.0), (25_000.0, TOP_MM - 5_025.0))
"""A desk edge: in plan metres from (5, 5.025) to (15, 5.025)."""
DOOR_CENTRE_MM, DOOR_RADIUS_MM = (20_000.0, 10_000.0), 1_000.0
"""A door swing: a quarter arc around plan (10, 15), radius 1 m."""
PX_PER_M = 20


def drawing(path: Path) -> Path:
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4  # millimetres
    msp = doc.modelspace()
    msp.add_lwpolyline(
        [(X0_MM, Y0_MM), (X0_MM + HALL_W_MM, Y0_MM), (X0_MM + HALL_W_MM, TOP_MM), (X0_MM, TOP_MM)],
        close=True, dxfattribs={"layer": "OUTLINE"},
    )  # fmt: skip
    for cx, cy in ((X0_MM + 6_000, Y0_MM + 6_000), (X0_MM + 24_000, Y0_MM + 6_000)):
        square = [(cx - 300, cy - 300), (cx + 300, cy - 300), (cx + 300, cy + 300),
                  (cx - 300, cy + 300)]  # fmt: skip
        msp.add_lwpolyline(square, close=True, dxfattribs={"layer": "COLUMNS"})
    msp.add_line(*FURNITURE_MM, dxfattribs={"layer": "FURNITURE"})
    msp.add_arc(DOOR_CENTRE_MM, DOOR_RADIUS_MM, 0, 90, dxfattribs={"layer": "DOORS"})
    msp.add_text("ROOM 101", dxfattribs={"layer": "TEXT"}).set_placement((12_000, 8_000))
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.saveas(path)
    return path


@pytest.fixture
def imported(tmp_path: Path):
    return read_floor(drawing(tmp_path / "plans" / "hall.dxf"))


def test_import_stores_the_transform_it_used(imported) -> None:
    placement = imported.floor.underlay_placement
    assert placement == UnderlayPlacement(0.001, (X0_MM, TOP_MM), flip_y=True)
    assert placement == imported.transform.placement
    # The outline's corners land where the placement puts them.
    corners = placement.to_plan([(X0_MM, Y0_MM), (X0_MM + HALL_W_MM, TOP_MM)])
    np.testing.assert_allclose(corners, [[0.0, 20.0], [30.0, 0.0]])
    assert imported.floor.bounds == pytest.approx((0.0, 0.0, 30.0, 20.0))
    assert [o.kind for o in imported.floor.obstacles] == ["column", "column"]
    np.testing.assert_allclose(
        placement.to_drawing(corners), [(X0_MM, Y0_MM), (X0_MM + HALL_W_MM, TOP_MM)]
    )


def test_placement_and_relative_path_round_trip(imported, tmp_path: Path) -> None:
    project = Project(imported.floor)
    path = tmp_path / "projects" / "hall.dclayout"
    path.parent.mkdir()
    dclayout.save(project, path, relative_underlay=True)
    floor_data = json.loads(path.read_text("utf-8"))["floor"]
    assert floor_data["underlay"] == "../plans/hall.dxf"
    assert floor_data["underlay_scale"] == 0.001
    assert floor_data["underlay_origin"] == [X0_MM, TOP_MM]
    assert floor_data["underlay_flip_y"] is True

    loaded = dclayout.load(path)
    assert loaded.floor.underlay == "../plans/hall.dxf"
    assert loaded.floor.underlay_placement == imported.floor.underlay_placement
    # Deterministic: the loaded project saves to the same text.
    again = tmp_path / "projects" / "again.dclayout"
    dclayout.save(loaded, again, underlay_dir=path.parent, relative_underlay=True)
    assert again.read_text("utf-8") == path.read_text("utf-8")
    # Saved elsewhere, the relative path is rewritten for the new folder.
    (tmp_path / "elsewhere" / "deeper").mkdir(parents=True)
    moved = tmp_path / "elsewhere" / "deeper" / "hall.dclayout"
    dclayout.save(loaded, moved, underlay_dir=path.parent, relative_underlay=True)
    assert dclayout.load(moved).floor.underlay == "../../plans/hall.dxf"
    assert rebased("../plans/hall.dxf", path.parent, tmp_path) == "plans/hall.dxf"


def test_old_files_without_a_placement_still_load(imported, tmp_path: Path) -> None:
    data = dclayout.to_data(Project(imported.floor))
    for key in ("underlay_scale", "underlay_origin", "underlay_flip_y"):
        del data["floor"][key]
    project = dclayout.from_data(data)
    assert project.floor.underlay_placement is None
    assert project.floor.underlay == imported.floor.underlay


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("underlay_scale", 0, "floor.underlay_scale"),
        ("underlay_scale", "1", "floor.underlay_scale"),
        ("underlay_origin", [1.0], "floor.underlay_origin"),
        ("underlay_origin", [1.0, "x"], "floor.underlay_origin[1]"),
        ("underlay_flip_y", "yes", "floor.underlay_flip_y"),
    ],
)
def test_bad_placements_name_the_place(imported, key, value, expected) -> None:
    data = dclayout.to_data(Project(imported.floor))
    data["floor"][key] = value
    with pytest.raises(ProjectFileError, match="^" + re.escape(expected) + ":"):
        dclayout.from_data(data)


def test_origin_without_a_scale_is_refused(imported) -> None:
    data = dclayout.to_data(Project(imported.floor))
    del data["floor"]["underlay_scale"]
    with pytest.raises(ProjectFileError, match=r"^floor.underlay_origin: given without"):
        dclayout.from_data(data)


def test_linework_in_plan_metres(imported) -> None:
    floor = imported.floor
    lines = read_linework(floor.underlay, floor.underlay_placement)
    assert not lines.truncated
    segments = lines.segments
    assert segments.ndim == 3
    assert segments.shape[1:] == (2, 2)
    # The furniture line: scaled from mm, y flipped.
    desk = np.array([[5.0, 5.025], [15.0, 5.025]])
    assert np.isclose(segments, desk, atol=1e-9).all(axis=(1, 2)).any()
    # The door arc: every point of it 1 m from plan (10, 15), spanning a quarter turn.
    centre = np.array([10.0, 15.0])
    points = segments.reshape(-1, 2)
    on_arc = np.abs(np.hypot(*(points - centre).T) - 1.0) < 0.02
    arc_points = points[on_arc]
    assert len(arc_points) > 8
    assert arc_points[:, 0].min() == pytest.approx(10.0, abs=0.02)
    assert arc_points[:, 1].min() == pytest.approx(14.0, abs=0.02)  # y flipped: up is -y
    assert (arc_points[:, 1] <= 15.0 + 1e-9).all()
    # The outline too (the whole drawing is the underlay), all within the hall.
    assert lines.bounds == pytest.approx((0.0, 0.0, 30.0, 20.0))


def test_linework_is_capped(imported) -> None:
    floor = imported.floor
    lines = read_linework(floor.underlay, floor.underlay_placement, max_segments=3)
    assert len(lines) == 3
    assert lines.truncated


def test_reading_errors_are_one_line(imported, tmp_path: Path) -> None:
    placement = imported.floor.underlay_placement
    with pytest.raises(UnderlayError, match=r"^underlay gone.dxf: no such file"):
        read_linework(tmp_path / "gone.dxf", placement)
    junk = tmp_path / "junk.dxf"
    junk.write_text("not a drawing\n")
    with pytest.raises(UnderlayError, match=r"^underlay junk.dxf: not a readable DXF"):
        read_linework(junk, placement)
    with pytest.raises(UnderlayError, match="placement on the plan is not stored"):
        read_linework(imported.floor.underlay, None)


def _render(scene: FloorScene) -> QImage:
    image = QImage(30 * PX_PER_M, 20 * PX_PER_M, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    scene.render(painter, QRectF(0, 0, image.width(), image.height()), QRectF(0, 0, 30, 20))
    painter.end()
    return image


def test_scene_draws_the_underlay_under_the_plan(qtbot, imported, tmp_path: Path) -> None:
    project = Project(imported.floor)
    scene = FloorScene(project)
    overlay = scene.overlay("underlay")
    assert isinstance(overlay, UnderlayOverlay)
    assert "underlay" in scene.overlay_names()
    assert scene.underlay_message == ""
    # Under obstacles and equipment, above the floor fill (the background).
    assert 0 < overlay.zValue() < 10

    image = _render(scene)
    x_px = 10 * PX_PER_M  # the desk line runs at y = 5.025 m from x = 5 to 15 m
    on_line = [QColor(image.pixel(x_px, row)) for row in (99, 100, 101)]
    darkest = min(on_line, key=lambda c: c.lightness())
    assert darkest.lightness() < FLOOR_COLOUR.lightness() - 40
    assert abs(darkest.red() - darkest.blue()) < 40  # grey, not a kind colour
    off_line = QColor(image.pixel(x_px, int(5.2 * PX_PER_M)))
    assert off_line.rgb() == FLOOR_COLOUR.rgb()

    # Hidden from the Layers list: the floor shows bare.
    scene.set_overlay_visible("underlay", False)
    image = _render(scene)
    assert all(QColor(image.pixel(x_px, r)).rgb() == FLOOR_COLOUR.rgb() for r in (99, 100, 101))
    scene.detach()


def test_missing_underlay_is_reported_not_fatal(qtbot, imported, tmp_path: Path) -> None:
    project = Project(imported.floor)
    path = tmp_path / "projects" / "hall.dclayout"
    path.parent.mkdir()
    dclayout.save(project, path, relative_underlay=True)
    (tmp_path / "plans" / "hall.dxf").unlink()

    win = MainWindow(dclayout.load(path), path, check_delay_ms=10)
    qtbot.addWidget(win)
    assert win.scene.overlay("underlay") is None
    assert "underlay" not in win.layer_states()
    assert win.scene.floor_rect() == QRectF(0, 0, 30, 20)
    message = win.statusBar().currentMessage()
    assert message.startswith("underlay hall.dxf: no such file")
    assert "\n" not in message


def test_window_lists_the_underlay_layer_after_an_import(qtbot, tmp_path: Path) -> None:
    dxf = drawing(tmp_path / "plans" / "hall.dxf")
    win = MainWindow(Project(Floor.rectangle(20.0, 10.0)), None, check_delay_ms=10)
    qtbot.addWidget(win)
    assert "underlay" not in win.layer_states()
    assert win.import_floor(dxf)
    assert win.layer_states().get("underlay") is True
    win.set_layer_visible("underlay", False)
    assert not win.scene.overlay_visible("underlay")
    win.undo_stack.undo()
    assert "underlay" not in win.layer_states()


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("plans/ha\x00ll.dxf", "the path holds a NUL character"),
        ("plans/" + "h" * 300 + ".dxf", "304 bytes long, more than the 255"),
        ("~no-such-user-here/hall.dxf", "no home folder for ~no-such-user-here"),
    ],
)
def test_an_underlay_path_no_file_can_have_is_reported_not_fatal(
    qtbot, imported, tmp_path: Path, stored: str, expected: str
) -> None:
    floor = Floor(imported.floor.outline, imported.floor.obstacles, underlay=stored,
                  underlay_placement=imported.floor.underlay_placement)  # fmt: skip
    path = tmp_path / "hall.dclayout"
    dclayout.save(Project(floor), path, relative_underlay=True)
    project = dclayout.load(path)
    assert project.floor.underlay == stored

    reports: list[str] = []
    scene = FloorScene(project, underlay_dir=tmp_path)
    scene.underlay_status.connect(reports.append)
    assert scene.overlay("underlay") is None
    assert expected in scene.underlay_message
    assert "\n" not in scene.underlay_message

    win = MainWindow(project, path, check_delay_ms=10)
    qtbot.addWidget(win)
    assert win.scene.overlay("underlay") is None
    message = win.statusBar().currentMessage()
    assert message.startswith("underlay ")
    assert expected in message
    assert "\n" not in message
    with pytest.raises(UnderlayError, match=re.escape(expected[:20])):
        read_linework(resolve(stored, tmp_path), floor.underlay_placement)
