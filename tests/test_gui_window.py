"""The main window, driven offscreen on a small sample with known violations.

``tests/data/overlap_and_column.dclayout`` holds five racks on a 30 m × 12 m
floor: R1 and R2 overlap, R3 stands on column C1, R4 and R5 touch (allowed).
"""

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QWheelEvent
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox

from gui import app as gui_app
from gui.canvas.scene import FLOOR_COLOUR, EquipmentItem, equipment_colour
from gui.main_window import MainWindow
from layout import dclayout
from layout.items import Item

SAMPLE = Path(__file__).parent / "data" / "overlap_and_column.dclayout"
RACK_W, RACK_D = 0.6, 1.2  # colossus-hgx-h100-lc footprint

# Rendering the 30 m × 12 m floor into 600 × 240 px puts 20 px on a metre.
RENDER_PX_PER_M = 20
# A point inside R1 (x 4.7-5.3, y 5.4-6.6) that R2 (x 5.0-5.6) does not cover,
# away from R1's outline and front mark.
R1_ONLY = (4.85, 6.2)
# Bare floor between grid lines (tiles of 0.6 m: lines at x 24.6 / 25.2, y 1.8 / 2.4).
EMPTY_FLOOR = (25.0, 2.0)


@pytest.fixture
def window(qtbot):
    win = MainWindow(dclayout.load(SAMPLE), SAMPLE, check_delay_ms=10)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    wait_for_check(qtbot, win)
    return win


def wait_for_check(qtbot, win) -> None:
    """Until the background check of the project as it is now has been shown."""
    qtbot.waitUntil(lambda: not win.checker.busy and win.results is not None, timeout=20000)


def shown_rows(win) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(v.severity, v.rule, v.items) for v in win.violations_dock.shown_violations()]


@pytest.fixture
def record_critical(monkeypatch):
    """Replace the blocking QMessageBox.critical with a recorder of its arguments."""
    calls = []

    def critical(*args, **kwargs):
        calls.append(args)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", critical)
    return calls


def render_floor(scene) -> QImage:
    image = QImage(30 * RENDER_PX_PER_M, 12 * RENDER_PX_PER_M, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.black)
    painter = QPainter(image)
    scene.render(painter, QRectF(image.rect()), QRectF(0, 0, 30, 12))
    painter.end()
    return image


def pixel_at(image: QImage, x_m: float, y_m: float) -> QColor:
    return image.pixelColor(round(x_m * RENDER_PX_PER_M), round(y_m * RENDER_PX_PER_M))


def assert_colour(actual: QColor, expected: QColor, tolerance: int = 3) -> None:
    got = (actual.red(), actual.green(), actual.blue())
    want = (expected.red(), expected.green(), expected.blue())
    assert all(abs(g - w) <= tolerance for g, w in zip(got, want, strict=True)), (got, want)


def test_one_graphics_item_per_project_item_at_its_position(window):
    project, scene = window.project, window.scene
    shown = [i for i in scene.items() if isinstance(i, EquipmentItem)]
    assert sorted(i.item_id for i in shown) == sorted(project.items.ids)
    for item_id in project.items.ids:
        model = project.items.get(item_id)
        item = scene.equipment_item(item_id)
        assert (item.pos().x(), item.pos().y()) == pytest.approx((model.x, model.y))
        bounds = item.sceneBoundingRect()
        assert (bounds.width(), bounds.height()) == pytest.approx((RACK_W, RACK_D))
        assert bounds.center().x() == pytest.approx(model.x)
    assert window.windowTitle() == "overlap_and_column.dclayout[*] — Coherence"
    assert not window.isWindowModified()


def test_violations_dock_lists_the_two_violations(window):
    assert sorted(shown_rows(window)) == [
        ("error", "placement.on_obstacle", ("R3",)),
        ("error", "placement.overlap", ("R1", "R2")),
    ]
    violated = {i for i, item in window.scene.equipment_items().items() if item.violated}
    assert violated == {"R1", "R2", "R3"}
    assert window.check_label.text() == "2 errors, 0 warnings"
    assert window.gpu_label.text() == "320 GPUs"
    assert window.power_label.text() == "0.4 MW IT"  # five 81 kW racks
    assert window.checked_label.text().startswith("checked ")


def test_double_click_on_a_violation_selects_and_frames_its_items(window, qtbot):
    table = window.violations_dock.table
    rules = [v.rule for v in window.violations_dock.shown_violations()]
    row = table.model().index(rules.index("placement.overlap"), 1)
    scale_before = window.view.px_per_m()
    assert window.scene.selected_ids() == []

    # A real double-click arrives as press, release, double-click, release; QTest's
    # mouseDClick sends only the last two, which an item view takes for a first press.
    point = table.visualRect(row).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.scene.selected_ids() == []  # one click only picks the row
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=point)

    assert sorted(window.scene.selected_ids()) == ["R1", "R2"]
    assert window.view.px_per_m() > 1.5 * scale_before
    view_rect = window.view.viewport().rect()
    centre = window.view.mapToScene(view_rect.center())
    assert (centre.x(), centre.y()) == pytest.approx((5.15, 6.0), abs=0.1)
    visible = window.view.mapToScene(view_rect).boundingRect()
    for item_id in ("R1", "R2"):
        assert visible.contains(window.scene.equipment_item(item_id).sceneBoundingRect())


def test_render_shows_racks_in_their_colour_on_the_floor(window):
    image = render_floor(window.scene)
    assert_colour(pixel_at(image, *R1_ONLY), equipment_colour("gpu_rack", "floor"))
    assert_colour(pixel_at(image, *EMPTY_FLOOR), FLOOR_COLOUR)


def test_zoomed_out_overview_draws_the_same_racks_and_keeps_selection(window):
    window.scene.select_ids(["R1"])
    window.scene.set_view_scale(2.0)
    assert window.scene.overview_shown
    assert window.scene.selected_ids() == ["R1"]
    assert window.scene.equipment_item("R4").opacity() == 0.0

    window.scene.clearSelection()
    image = render_floor(window.scene)
    assert_colour(pixel_at(image, *R1_ONLY), equipment_colour("gpu_rack", "floor"))
    assert_colour(pixel_at(image, 20.0, 6.2), equipment_colour("gpu_rack", "floor"))  # R4
    assert_colour(pixel_at(image, *EMPTY_FLOOR), FLOOR_COLOUR)

    window.scene.set_view_scale(50.0)
    assert not window.scene.overview_shown
    assert window.scene.equipment_item("R4").opacity() == 1.0


def test_open_broken_file_reports_and_keeps_the_project(window, tmp_path, record_critical):
    broken = tmp_path / "broken.dclayout"
    broken.write_text('{"format": "coherence.dclayout", "version": 1, "items": [', "utf-8")
    project, title = window.project, window.windowTitle()

    assert window.open_file(broken) is False

    assert len(record_critical) == 1
    message = record_critical[0][2]
    assert message.startswith("broken.dclayout:")
    assert "\n" not in message
    assert window.project is project
    assert window.path == SAMPLE
    assert window.windowTitle() == title
    assert len(window.scene.equipment_items()) == 5
    assert len(shown_rows(window)) == 2


def test_save_then_open_the_copy(window, qtbot, tmp_path, record_critical):
    copy = tmp_path / "copy.dclayout"
    assert window.save_to(copy) is True
    assert window.open_file(copy) is True
    assert record_critical == []
    assert window.path == copy
    assert window.windowTitle() == "copy.dclayout[*] — Coherence"
    assert sorted(window.scene.equipment_items()) == ["R1", "R2", "R3", "R4", "R5"]
    wait_for_check(qtbot, window)
    assert len(shown_rows(window)) == 2


def test_failed_save_reports_and_keeps_the_path(window, tmp_path, record_critical):
    assert window.save_to(tmp_path / "no such folder" / "plan.dclayout") is False
    assert len(record_critical) == 1
    assert "cannot write" in record_critical[0][2]
    assert window.path == SAMPLE


def test_wheel_zooms_in_about_the_cursor(window):
    view = window.view
    viewport = view.viewport()
    position = QPointF(viewport.rect().center()) + QPointF(150, 60)
    under_cursor = view.mapToScene(position.toPoint())
    scale_before = view.px_per_m()

    wheel = QWheelEvent(
        position,
        QPointF(viewport.mapToGlobal(position.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)

    assert view.px_per_m() == pytest.approx(scale_before * 1.25)
    after = view.mapToScene(position.toPoint())
    one_px = 1.0 / view.px_per_m()
    assert after.x() == pytest.approx(under_cursor.x(), abs=2 * one_px)
    assert after.y() == pytest.approx(under_cursor.y(), abs=2 * one_px)


def test_status_bar_shows_the_cursor_position_in_metres(window, qtbot):
    view = window.view
    target = view.mapFromScene(QPointF(12.3, 4.2))
    qtbot.mouseMove(view.viewport(), target)
    spot = view.mapToScene(target)
    assert window.cursor_label.text() == f"x {spot.x():.2f} m, y {spot.y():.2f} m"
    assert spot.x() == pytest.approx(12.3, abs=0.1)


def test_scene_and_violations_follow_project_events(window, qtbot):
    project, scene = window.project, window.scene
    project.add_items([Item("R9", "colossus-hgx-h100-lc", 25.0, 9.0, 90.0, name="spare")])
    added = scene.equipment_item("R9")
    assert (added.pos().x(), added.pos().y(), added.rotation()) == (25.0, 9.0, 90.0)

    project.set_positions(["R2"], [8.0], [6.0])  # R2 no longer overlaps R1
    assert scene.equipment_item("R2").pos() == QPointF(8.0, 6.0)
    qtbot.waitUntil(lambda: len(shown_rows(window)) == 1)
    assert not scene.equipment_item("R1").violated

    project.remove_items(["R9"])
    assert scene.equipment_item("R9") is None
    assert added.scene() is None


def test_start_up_project(tmp_path, monkeypatch):
    monkeypatch.setattr(gui_app, "EXAMPLE", tmp_path / "no-example.dclayout")
    project, path, error = gui_app.first_project(None)
    assert (path, error, len(project.items)) == (None, None, 0)
    assert project.floor.bounds == (0.0, 0.0, 60.0, 40.0)

    project, path, error = gui_app.first_project(tmp_path / "missing.dclayout")
    assert path is None
    assert "no such file" in error
    assert project.floor.bounds == (0.0, 0.0, 60.0, 40.0)

    project, path, error = gui_app.first_project(SAMPLE)
    assert (path, error, len(project.items)) == (SAMPLE, None, 5)


def test_middle_button_drag_pans_by_the_drag(window, qtbot):
    view, viewport = window.view, window.view.viewport()
    start = viewport.rect().center()
    end = start + QPoint(-120, 80)
    before = view.mapToScene(start)

    qtbot.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=start)
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=end)

    # The floor point that was under the cursor followed it.
    after = view.mapToScene(end)
    one_px = 1.0 / view.px_per_m()
    assert after.x() == pytest.approx(before.x(), abs=2 * one_px)
    assert after.y() == pytest.approx(before.y(), abs=2 * one_px)


def test_view_menu_zooms_and_fits(window):
    actions = {a.text(): a for m in window.menuBar().findChildren(QMenu) for a in m.actions()}
    fitted = window.view.px_per_m()
    actions["Zoom &In"].trigger()
    assert window.view.px_per_m() == pytest.approx(fitted * 1.25)
    actions["&Fit"].trigger()
    assert window.view.px_per_m() == pytest.approx(fitted)
    actions["Zoom &Out"].trigger()
    assert window.view.px_per_m() == pytest.approx(fitted / 1.25)
    assert actions["Zoom &In"].shortcut() == QKeySequence(QKeySequence.StandardKey.ZoomIn)
