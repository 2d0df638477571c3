"""A picture of the main window on the bundled 100k-GPU example, checked where it matters.

The window is grabbed to a PNG (kept in the test's tmp folder to look at); racks
must be drawn where the model says they are, in their kind's colour, and bare
floor in the floor colour.
"""

import numpy as np
import pytest
import shapely
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QMessageBox

from gui.app import EXAMPLE
from gui.canvas.scene import FLOOR_COLOUR, equipment_colour
from gui.main_window import MainWindow
from layout import dclayout

COLOUR_TOLERANCE = 12
"""Per channel; antialiasing and the grid's faint lines stay well inside it."""


@pytest.fixture
def window(qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    win = MainWindow(dclayout.load(EXAMPLE), EXAMPLE, check_delay_ms=10)
    qtbot.addWidget(win)
    win.resize(1440, 900)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.results is not None, timeout=30000)
    return win


def close_to(actual: QColor, expected: QColor) -> bool:
    got = (actual.red(), actual.green(), actual.blue())
    want = (expected.red(), expected.green(), expected.blue())
    return all(abs(g - w) <= COLOUR_TOLERANCE for g, w in zip(got, want, strict=True))


def window_pixel(window: MainWindow, image: QImage, x_m: float, y_m: float) -> QColor:
    """The grabbed window's pixel showing the floor point (x_m, y_m)."""
    in_view = window.view.mapFromScene(QPointF(x_m, y_m))
    in_window = window.view.viewport().mapTo(window, in_view)
    ratio = image.devicePixelRatio()
    return image.pixelColor(QPoint(round(in_window.x() * ratio), round(in_window.y() * ratio)))


def test_main_window_screenshot_shows_racks_where_the_model_has_them(window, qtbot, tmp_path):
    # The whole hall, as the window opens: a real picture, not a blank one.
    image = window.grab().toImage()
    path = tmp_path / "main-window-100k.png"
    assert image.save(str(path))
    assert path.stat().st_size > 10_000
    small = image.scaled(240, 150, Qt.AspectRatioMode.IgnoreAspectRatio)
    colours = {small.pixel(x, y) for x in range(small.width()) for y in range(small.height())}
    assert len(colours) > 50
    hall = window.scene.floor_rect()
    assert window.view.mapToScene(window.view.viewport().rect()).boundingRect().contains(hall)

    # Zoomed in where GPU rows meet the central network block, racks are drawn one by
    # one: each where it stands. Of the leaf racks nearest the centre, the first with GPU
    # racks close around it has both kinds in view.
    project = window.project
    leaves = [
        i for i in project.items
        if i.properties.get("tier") == "leaf"
        and i.properties.get("network", "backend") == "backend"
    ]  # fmt: skip
    centre = hall.center()
    kinds = project.kinds()
    gpu_rows = np.flatnonzero(kinds == "gpu_rack")
    gpu_x, gpu_y = project.items.x[gpu_rows], project.items.y[gpu_rows]
    leaf = min(
        (i for i in leaves if ((abs(gpu_x - i.x) < 10.0) & (abs(gpu_y - i.y) < 5.0)).sum() >= 4),
        key=lambda i: (i.x - centre.x()) ** 2 + (i.y - centre.y()) ** 2,
    )
    middle = QPointF(leaf.x, leaf.y)
    area = QRectF(middle - QPointF(12.0, 7.0), middle + QPointF(12.0, 7.0))
    window.view.show_area(area)
    qtbot.wait(10)
    image = window.grab().toImage()
    assert image.save(str(tmp_path / "main-window-100k-zoomed.png"))
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    inside = visible.adjusted(1.0, 1.0, -1.0, -1.0)
    rng = np.random.default_rng(7)
    for kind in ("gpu_rack", "network_rack"):
        rows = [
            r
            for r in np.flatnonzero(kinds == kind).tolist()
            if inside.contains(QPointF(float(project.items.x[r]), float(project.items.y[r])))
        ]
        assert len(rows) >= 4, kind
        for row in rng.choice(rows, size=4, replace=False).tolist():
            x, y = float(project.items.x[row]), float(project.items.y[row])
            colour = window_pixel(window, image, x, y)
            expected = equipment_colour(kind, "floor")
            assert close_to(colour, expected), (kind, project.items.ids[row], colour)

    # Bare floor: the middle of a visible tile at least 0.5 m from any item.
    floor = project.floor
    shown = shapely.box(inside.left(), inside.top(), inside.right(), inside.bottom())
    taken = shapely.union_all(shapely.buffer(project.footprints(), 0.5))
    free = floor.outline.intersection(shown).difference(taken)
    tile = floor.tile_m
    x0, y0, x1, y1 = free.bounds
    centres = [
        (x, y)
        for x in np.arange(np.floor(x0 / tile) + 0.5, x1 / tile, 1.0) * tile
        for y in np.arange(np.floor(y0 / tile) + 0.5, y1 / tile, 1.0) * tile
    ]
    spots = [c for c in centres if free.contains(shapely.Point(c))]
    assert spots
    x, y = spots[len(spots) // 2]
    assert close_to(window_pixel(window, image, x, y), FLOOR_COLOUR)
