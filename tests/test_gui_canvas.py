"""The floor canvas as an editor: real mouse drags, drops, keys and the links overlay.

Each test builds a small project in code: a 20 m × 12 m hall, tiles of 0.6 m,
and GPU racks of 0.6 m × 1.2 m whose top-left corners sit on the tile grid
(R1 spans x 3.0-3.6, y 3.0-4.2). Snapping puts a footprint's top-left corner
on a tile corner, or an edge on a neighbour's edge within 0.15 m.
The view shows the hall at about 37 px per metre, so one pixel of mouse
rounding (0.03 m) never crosses a snapping boundary.
"""

import json
from dataclasses import dataclass, replace

import pytest
import shapely
from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QMouseEvent,
    QPainter,
)
from PySide6.QtWidgets import QApplication

from gui.canvas.editor import EQUIPMENT_TYPE_MIME, ITEMS_MIME, Editor, put_on_clipboard
from gui.canvas.modes import GhostItem, PlaceMode, SelectMode
from gui.canvas.overlays import LINK_COLOURS, LinksOverlay, clip_segments
from gui.canvas.scene import FloorScene
from gui.canvas.view import FloorView
from gui.undo import UndoStack
from layout import dclayout
from layout.floor import Floor, Obstacle
from layout.generator import ClusterRequest, generate
from layout.items import Item
from layout.project import Project
from physics.solution import solve

RACK = "colossus-hgx-h100-lc"  # 0.6 m × 1.2 m, on the floor
BUSWAY = "busway-415v-60a"  # 6.0 m × 0.3 m, overhead


@dataclass
class Canvas:
    project: Project
    scene: FloorScene
    view: FloorView
    stack: UndoStack
    editor: Editor
    messages: list[str]

    def at(self, x_m: float, y_m: float) -> QPoint:
        """Viewport pixel of a floor point."""
        return self.view.mapFromScene(QPointF(x_m, y_m))

    def xy(self, item_id: str) -> tuple[float, float]:
        item = self.project.items.get(item_id)
        return (item.x, item.y)

    def drag(self, qtbot, start: tuple[float, float], end: tuple[float, float],
             modifier=Qt.KeyboardModifier.NoModifier, release: bool = True) -> None:  # fmt: skip
        """A real left-button drag in four steps, as a hand would make it."""
        viewport = self.view.viewport()
        a, b = self.at(*start), self.at(*end)
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, modifier, a)
        for k in (1, 2, 3, 4):
            step = a + (b - a) * (k / 4)
            qtbot.mouseMove(viewport, step)
            if modifier != Qt.KeyboardModifier.NoModifier:
                # QTest's mouseMove carries no modifiers; send the move as a hand would.
                move = QMouseEvent(
                    QMouseEvent.Type.MouseMove, QPointF(step), QPointF(viewport.mapToGlobal(step)),
                    Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, modifier,
                )  # fmt: skip
                QApplication.sendEvent(viewport, move)
        if release:
            qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, modifier, b)


def make_canvas(qtbot, project: Project, area: QRectF | None = None) -> Canvas:
    scene = FloorScene(project)
    view = FloorView(scene)
    view.resize(800, 500)
    stack = UndoStack(project)
    editor = Editor(scene, view, stack)
    messages: list[str] = []
    view.status_message.connect(messages.append)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.show_area(area if area is not None else QRectF(0, 0, 20, 12))
    view.setFocus()
    return Canvas(project, scene, view, stack, editor, messages)


@pytest.fixture
def canvas(qtbot):
    floor = Floor.rectangle(
        20.0, 12.0,
        obstacles=(Obstacle("C1", "column", shapely.box(16.8, 9.0, 17.4, 9.6)),),
    )  # fmt: skip
    project = Project(
        floor,
        items=[
            Item("R1", RACK, 3.3, 3.6),
            Item("R2", RACK, 8.1, 3.6),
            # Off the grid on purpose: its left edge (11.75) is a neighbour's edge to snap to.
            Item("R3", RACK, 12.05, 3.6),
        ],
    )
    return make_canvas(qtbot, project)


def ghosts(scene: FloorScene) -> list[GhostItem]:
    return [i for i in scene.items() if isinstance(i, GhostItem)]


# -- dragging ----------------------------------------------------------------------------------
def test_drag_moves_the_rack_snapped_to_the_tile_grid_as_one_undo_step(canvas, qtbot):
    assert canvas.view.px_per_m() > 30
    # Grab R1 by its centre and let go 2.0 m right, 1.0 m down: its corner would be at
    # (5.0, 4.0), and goes to the nearest tile corner (4.8, 4.2).
    canvas.drag(qtbot, (3.3, 3.6), (5.3, 4.6))

    assert canvas.xy("R1") == (5.1, 4.8)
    assert canvas.scene.equipment_item("R1").pos() == QPointF(5.1, 4.8)
    assert canvas.stack.count() == 1
    assert ghosts(canvas.scene) == []
    assert canvas.scene.equipment_item("R1").opacity() == 1.0

    canvas.stack.undo()
    assert canvas.xy("R1") == (3.3, 3.6)
    canvas.stack.redo()
    assert canvas.xy("R1") == (5.1, 4.8)


def test_drag_does_not_touch_the_model_until_release(canvas, qtbot):
    moved = []
    canvas.project.item_moved.connect(moved.append)
    canvas.drag(qtbot, (3.3, 3.6), (5.3, 4.6), release=False)
    assert canvas.xy("R1") == (3.3, 3.6)
    assert moved == []
    (ghost,) = ghosts(canvas.scene)
    assert (ghost.pos().x(), ghost.pos().y()) == pytest.approx((1.8, 1.2))
    assert not ghost.illegal

    qtbot.keyClick(canvas.view, Qt.Key.Key_Escape)  # cancels the drag
    assert ghosts(canvas.scene) == []
    qtbot.mouseRelease(canvas.view.viewport(), Qt.MouseButton.LeftButton, pos=canvas.at(5.3, 4.6))
    assert canvas.xy("R1") == (3.3, 3.6)
    assert moved == []
    assert canvas.stack.count() == 0


def test_drag_snaps_an_edge_to_a_neighbours_edge(canvas, qtbot):
    # R1's right edge let go at 11.65 m, 0.10 m short of R3's left edge (11.75 m): it
    # aligns with it (centre 11.45) instead of the grid (which would give centre 11.1).
    canvas.drag(qtbot, (3.3, 3.6), (11.35, 3.6))
    assert canvas.xy("R1") == (11.45, 3.6)
    # Away from any neighbour the grid rules: the same x one row further down.
    canvas.drag(qtbot, (11.45, 3.6), (11.35, 6.0))
    assert canvas.xy("R1") == (11.1, 6.0)


def test_alt_drag_does_not_snap(canvas, qtbot):
    canvas.drag(qtbot, (3.3, 3.6), (5.3, 4.6), modifier=Qt.KeyboardModifier.AltModifier)
    x, y = canvas.xy("R1")
    one_px = 1.0 / canvas.view.px_per_m()
    assert (x, y) == pytest.approx((5.3, 4.6), abs=1.5 * one_px)
    assert (x, y) != (5.1, 4.8)


def test_drag_onto_another_rack_is_refused_and_shown_red(canvas, qtbot):
    canvas.drag(qtbot, (3.3, 3.6), (8.0, 3.8), release=False)
    (ghost,) = ghosts(canvas.scene)
    assert ghost.illegal
    qtbot.mouseRelease(canvas.view.viewport(), Qt.MouseButton.LeftButton, pos=canvas.at(8.0, 3.8))

    assert canvas.xy("R1") == (3.3, 3.6)
    assert canvas.stack.count() == 0
    assert canvas.messages[-1] == "Cannot place R1 there: overlaps R2"
    assert ghosts(canvas.scene) == []


def test_drag_onto_a_column_or_off_the_floor_is_refused(canvas, qtbot):
    canvas.drag(qtbot, (3.3, 3.6), (17.1, 9.3))
    assert canvas.messages[-1] == "Cannot place R1 there: stands on column C1"
    canvas.drag(qtbot, (3.3, 3.6), (19.9, 6.0))
    assert canvas.messages[-1] == "Cannot place R1 there: outside the floor"
    assert canvas.xy("R1") == (3.3, 3.6)
    assert canvas.stack.count() == 0


def test_dragging_a_selection_moves_all_of_it_keeping_offsets(canvas, qtbot):
    canvas.scene.select_ids(["R1", "R2"])
    canvas.drag(qtbot, (8.1, 3.6), (8.1, 7.2))  # R2 is the one dragged
    assert canvas.xy("R2") == (8.1, 7.2)
    assert canvas.xy("R1") == (3.3, 7.2)
    assert canvas.stack.count() == 1
    assert sorted(canvas.scene.selected_ids()) == ["R1", "R2"]


# -- selecting -----------------------------------------------------------------------------------
def test_click_shift_click_ctrl_click(canvas, qtbot):
    viewport = canvas.view.viewport()
    changes = []
    canvas.scene.selection_ids_changed.connect(changes.append)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=canvas.at(3.3, 3.6))
    assert canvas.scene.selected_ids() == ["R1"]
    assert changes[-1] == ["R1"]
    shift = Qt.KeyboardModifier.ShiftModifier
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, shift, canvas.at(8.1, 3.6))
    assert sorted(canvas.scene.selected_ids()) == ["R1", "R2"]
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, ctrl, canvas.at(3.3, 3.6))
    assert canvas.scene.selected_ids() == ["R2"]
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=canvas.at(10.0, 9.0))
    assert canvas.scene.selected_ids() == []
    assert changes[-1] == []


def test_rubber_band_selects_exactly_the_racks_inside(canvas, qtbot):
    # From bare floor at (2.5, 2.5) to (9.0, 5.0): R1 and R2 lie wholly inside, R3 not.
    canvas.drag(qtbot, (2.5, 2.5), (9.0, 5.0))
    assert sorted(canvas.scene.selected_ids()) == ["R1", "R2"]
    assert canvas.stack.count() == 0
    # A band that cuts through R2 leaves it out.
    canvas.drag(qtbot, (2.5, 2.5), (8.1, 5.0))
    assert canvas.scene.selected_ids() == ["R1"]
    # Shift adds to the selection.
    canvas.drag(qtbot, (11.5, 2.5), (12.6, 5.0), modifier=Qt.KeyboardModifier.ShiftModifier)
    assert sorted(canvas.scene.selected_ids()) == ["R1", "R3"]


def test_double_click_reports_the_item(canvas, qtbot):
    with qtbot.waitSignal(canvas.scene.item_double_clicked, timeout=1000) as blocker:
        qtbot.mouseDClick(
            canvas.view.viewport(), Qt.MouseButton.LeftButton, pos=canvas.at(8.1, 3.6)
        )
    assert blocker.args == ["R2"]


# -- keys ------------------------------------------------------------------------------------------
def test_r_rotates_the_selection_about_each_centre(canvas, qtbot):
    canvas.scene.select_ids(["R1", "R2"])
    qtbot.keyClick(canvas.view, Qt.Key.Key_R)
    for item_id, centre in (("R1", (3.3, 3.6)), ("R2", (8.1, 3.6))):
        item = canvas.project.items.get(item_id)
        assert (item.x, item.y, item.rotation) == (*centre, 90.0)
        assert canvas.scene.equipment_item(item_id).rotation() == 90.0
    assert canvas.stack.count() == 1
    qtbot.keyClick(canvas.view, Qt.Key.Key_R, Qt.KeyboardModifier.ShiftModifier)
    assert canvas.project.items.get("R1").rotation == 0.0
    assert canvas.stack.count() == 2


def test_arrows_nudge_by_a_tile_ten_tiles_or_a_tenth_of_a_metre(canvas, qtbot):
    canvas.scene.select_ids(["R1"])
    qtbot.keyClick(canvas.view, Qt.Key.Key_Right)
    assert canvas.xy("R1") == (3.9, 3.6)
    qtbot.keyClick(canvas.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert canvas.xy("R1") == (3.9, 9.6)
    qtbot.keyClick(canvas.view, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert canvas.xy("R1") == (3.8, 9.6)
    assert canvas.stack.count() == 3
    canvas.stack.undo()
    assert canvas.xy("R1") == (3.9, 9.6)


def test_nudge_into_a_neighbour_is_refused(canvas, qtbot):
    canvas.project.add_items([Item("R4", RACK, 3.9, 3.6)])  # touching R1's right side
    canvas.scene.select_ids(["R1"])
    qtbot.keyClick(canvas.view, Qt.Key.Key_Right)
    assert canvas.xy("R1") == (3.3, 3.6)
    assert canvas.messages[-1] == "Cannot move R1 there: overlaps R4"


def test_delete_removes_and_undo_restores(canvas, qtbot):
    canvas.scene.select_ids(["R2"])
    qtbot.keyClick(canvas.view, Qt.Key.Key_Delete)
    assert "R2" not in canvas.project.items
    assert canvas.scene.equipment_item("R2") is None
    assert canvas.scene.selected_ids() == []
    canvas.stack.undo()
    assert canvas.xy("R2") == (8.1, 3.6)
    assert list(canvas.project.items.ids) == ["R1", "R2", "R3"]
    assert canvas.scene.equipment_item("R2") is not None


def test_copy_paste_at_the_cursor_with_fresh_ids(canvas, qtbot):
    canvas.scene.select_ids(["R1", "R2"])
    qtbot.keyClick(canvas.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    mime = QGuiApplication.clipboard().mimeData()
    payload = json.loads(bytes(mime.data(ITEMS_MIME).data()).decode("utf-8"))
    assert [(i["type"], i["x"], i["y"]) for i in payload["items"]] == [
        (RACK, 3.3, 3.6), (RACK, 8.1, 3.6),
    ]  # fmt: skip

    qtbot.mouseMove(canvas.view.viewport(), canvas.at(8.0, 8.0))
    qtbot.keyClick(canvas.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)

    assert list(canvas.project.items.ids) == ["R1", "R2", "R3", "R4", "R5"]
    assert sorted(canvas.scene.selected_ids()) == ["R4", "R5"]
    # The pair (bounds 3.0-8.4 × 3.0-4.2) centred on the cursor puts R-1's corner at
    # (5.3, 7.4), snapped to (5.4, 7.2); R-2 keeps its 4.8 m offset.
    assert canvas.xy("R4") == (5.7, 7.8)
    assert canvas.xy("R5") == (10.5, 7.8)
    assert canvas.xy("R1") == (3.3, 3.6)
    assert canvas.stack.count() == 1
    canvas.stack.undo()
    assert list(canvas.project.items.ids) == ["R1", "R2", "R3"]


def test_duplicate_offsets_by_two_tiles(canvas, qtbot):
    canvas.scene.select_ids(["R1"])
    qtbot.keyClick(canvas.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert canvas.scene.selected_ids() == ["R4"]
    assert canvas.xy("R4") == (4.5, 4.8)


def test_paste_of_foreign_clipboard_content_changes_nothing(canvas, qtbot):
    mime = QMimeData()
    mime.setData(ITEMS_MIME, b'{"format": "coherence.items", "items": [{"type": "nope"}]}')
    put_on_clipboard(mime)
    assert canvas.editor.paste() == []
    assert len(canvas.project.items) == 3
    assert "unknown equipment type" in canvas.messages[-1]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ('"x": 1' + "0" * 400, "clipboard items[0].x: a 401-digit number is beyond any usable"),
        ('"x": 1e300', "clipboard items[0].x: 1e+300 m is beyond ±100,000 m"),
        ('"rotation": -' + "9" * 400, "clipboard items[0].rotation: a 400-digit number"),
        ('"name": "' + "n" * 201 + '"', "clipboard items[0].name longer than 200 characters (201)"),
        ('"name": "\\udc80"', "clipboard items[0].name: not valid text"),
        ('"properties": {"serial": 1' + "0" * 400 + "}", "property serial: a 401-digit number"),
        ('"properties": {"' + "k" * 65 + '": 1}', "property name longer than 64 characters (65)"),
    ],
)
def test_paste_of_values_beyond_the_limits_is_refused_and_changes_nothing(
    canvas, qtbot, row, expected
):
    # The row's value stands in for x when it gives one (a key twice is refused on its own).
    x = "" if row.startswith('"x"') else '"x": 5, '
    payload = f'{{"format": "coherence.items", "items": [{{"type": "{RACK}", {x}{row}}}]}}'
    mime = QMimeData()
    mime.setData(ITEMS_MIME, payload.encode("utf-8"))
    put_on_clipboard(mime)
    before = dclayout.dumps(canvas.project)
    qtbot.mouseMove(canvas.view.viewport(), canvas.at(8.0, 8.0))
    qtbot.keyClick(canvas.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert dclayout.dumps(canvas.project) == before
    assert canvas.stack.count() == 0
    assert canvas.messages[-1].startswith("Cannot paste: ")
    assert expected in canvas.messages[-1]
    assert "\n" not in canvas.messages[-1]


def test_select_all_and_escape(canvas, qtbot):
    qtbot.keyClick(canvas.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert sorted(canvas.scene.selected_ids()) == ["R1", "R2", "R3"]
    qtbot.keyClick(canvas.view, Qt.Key.Key_Escape)
    assert canvas.scene.selected_ids() == []


# -- placing -----------------------------------------------------------------------------------
def drop_events(canvas: Canvas, type_id: str, x_m: float, y_m: float) -> None:
    mime = QMimeData()
    mime.setData(EQUIPMENT_TYPE_MIME, type_id.encode("utf-8"))
    point = QPointF(canvas.at(x_m, y_m))
    viewport = canvas.view.viewport()
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    assert len(ghosts(canvas.scene)) == 1
    move = QDragMoveEvent(point.toPoint(), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(viewport, move)
    assert move.isAccepted()
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(viewport, drop)
    assert ghosts(canvas.scene) == []


def test_palette_drop_adds_the_item_at_the_snapped_drop_point(canvas):
    drop_events(canvas, RACK, 14.0, 8.0)  # corner (13.7, 7.4) snaps to (13.8, 7.2)
    assert list(canvas.project.items.ids) == ["R1", "R2", "R3", "R4"]
    item = canvas.project.items.get("R4")
    assert (item.type_id, item.x, item.y, item.rotation) == (RACK, 14.1, 7.8, 0.0)
    assert canvas.scene.selected_ids() == ["R4"]
    assert canvas.stack.count() == 1

    drop_events(canvas, "net-sn5600-16", 10.0, 8.0)
    assert canvas.project.items.get("N00001").type_id == "net-sn5600-16"


def test_palette_drop_on_a_rack_is_refused_but_an_overhead_busway_is_not(canvas):
    drop_events(canvas, RACK, 8.1, 3.6)
    assert len(canvas.project.items) == 3
    assert canvas.messages[-1] == "Cannot place R4 there: overlaps R2"
    drop_events(canvas, BUSWAY, 8.1, 3.6)  # overhead units share no floor space
    assert canvas.project.items.get("P00001").type_id == BUSWAY


def test_click_to_place_mode_places_on_click_until_escape(canvas, qtbot):
    viewport = canvas.view.viewport()
    canvas.view.set_place_mode(RACK)
    assert isinstance(canvas.view.mode(), PlaceMode)
    qtbot.mouseMove(viewport, canvas.at(14.0, 8.0))
    (ghost,) = ghosts(canvas.scene)
    assert (ghost.pos().x(), ghost.pos().y()) == pytest.approx((14.1, 7.8))
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=canvas.at(14.0, 8.0))
    assert canvas.xy("R4") == (14.1, 7.8)
    # The same spot again is taken now: the ghost turns red and a click is refused.
    assert ghosts(canvas.scene)[0].illegal
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=canvas.at(14.0, 8.0))
    assert len(canvas.project.items) == 4
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=canvas.at(16.0, 2.0))
    assert canvas.xy("R5") == (15.9, 1.8)  # corner (15.7, 1.4) to (15.6, 1.2)
    qtbot.keyClick(canvas.view, Qt.Key.Key_Escape)
    assert isinstance(canvas.view.mode(), SelectMode)
    assert ghosts(canvas.scene) == []
    assert canvas.stack.count() == 2


def test_space_and_left_drag_pans_without_selecting(canvas, qtbot):
    viewport = canvas.view.viewport()
    start = canvas.at(3.3, 3.6)  # on R1: without Space this would drag it
    end = start + QPoint(100, 50)
    qtbot.keyPress(canvas.view, Qt.Key.Key_Space)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    qtbot.keyRelease(canvas.view, Qt.Key.Key_Space)
    under = canvas.view.mapToScene(end)
    assert (under.x(), under.y()) == pytest.approx((3.3, 3.6), abs=0.1)
    assert canvas.xy("R1") == (3.3, 3.6)
    assert canvas.stack.count() == 0


# -- overlays ----------------------------------------------------------------------------------
def count_colour(image: QImage, colour: QColor, tolerance: int = 40) -> int:
    want = (colour.red(), colour.green(), colour.blue())
    hits = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = image.pixelColor(x, y)
            if all(abs(a - b) <= tolerance for a, b in zip((c.red(), c.green(), c.blue()), want,
                                                          strict=True)):  # fmt: skip
                hits += 1
    return hits


def test_links_overlay_draws_the_selected_racks_links(qtbot):
    project = generate(ClusterRequest(gpus=4096))
    canvas = make_canvas(qtbot, project, QRectF(*project.floor.bounds[:2], 28.0, 19.8))
    scene = canvas.scene
    assert scene.overlay_names() == ["links"]
    links = scene.overlay("links")
    assert isinstance(links, LinksOverlay)
    # The links come from the latest solution; here one whose routing has not been kept, so
    # the lines are labelled with Manhattan lengths.
    scene.set_solved(replace(solve(project), cabling=None))

    rack = "R00001"
    leaves = [leaf for leaf, racks in project.fabric.assignments.items() if rack in racks]
    assert leaves
    scene.select_ids([rack])
    assert links.source_id == rack
    assert links.line_count() == len(leaves)
    x, y = canvas.xy(rack)
    expected = sorted(
        f"{abs(canvas.xy(leaf)[0] - x) + abs(canvas.xy(leaf)[1] - y):.1f} m" for leaf in leaves
    )
    assert sorted(text for _, text in links.labels()) == expected

    leaf = leaves[0]
    scene.select_ids([leaf])
    assert links.line_count() >= len(project.fabric.assignments[leaf])

    def render() -> QImage:
        image = QImage(560, 396, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.white)
        painter = QPainter(image)
        lx, ly = canvas.xy(leaf)
        scene.render(painter, QRectF(image.rect()), QRectF(lx - 14.0, ly - 9.9, 28.0, 19.8))
        painter.end()
        return image

    # The leaf's links run along its row to the 8 racks of its array: a few metres of
    # line at 20 px/m, drawn over the racks.
    assert count_colour(render(), LINK_COLOURS["gpu-leaf"]) > 15
    scene.select_ids([rack, leaf])
    assert links.line_count() == 0
    assert count_colour(render(), LINK_COLOURS["gpu-leaf"]) == 0
    scene.select_ids([leaf])
    scene.set_overlay_visible("links", False)
    assert count_colour(render(), LINK_COLOURS["gpu-leaf"]) == 0


def test_zoomed_out_overview_follows_moves_and_rotations(canvas, qtbot):
    scene = canvas.scene
    scene.set_view_scale(2.0)
    assert scene.overview_shown

    def colour_at(x_m: float, y_m: float) -> QColor:
        image = QImage(400, 240, QImage.Format.Format_ARGB32)  # 20 px per metre
        image.fill(Qt.GlobalColor.black)
        painter = QPainter(image)
        scene.render(painter, QRectF(image.rect()), QRectF(0, 0, 20, 12))
        painter.end()
        return image.pixelColor(round(x_m * 20), round(y_m * 20))

    rack_blue = colour_at(3.3, 3.8)  # the overview has drawn R1 once, so it patches moves
    assert rack_blue.blue() > 150
    assert rack_blue.red() < 100
    canvas.scene.select_ids(["R1"])
    canvas.editor.nudge(0.0, 3.0)
    canvas.scene.select_ids([])
    assert colour_at(3.3, 6.8) == rack_blue
    assert colour_at(3.3, 3.8) != rack_blue
    # Turned a quarter, R1 lies across: 1.2 m wide, 0.6 m deep.
    canvas.scene.select_ids(["R1"])
    canvas.editor.rotate_selected(90.0)
    canvas.scene.select_ids([])
    assert colour_at(3.3 - 0.5, 6.6) == rack_blue
    assert colour_at(3.3, 6.6 - 0.5) != rack_blue


# -- one legality: the inspector refuses what the canvas refuses, in the same words -------------
@pytest.fixture
def inspector(qtbot, canvas):
    from gui.docks.inspector import InspectorDock

    dock = InspectorDock()
    qtbot.addWidget(dock)
    dock.set_context(canvas.project, canvas.stack)
    dock.show()
    qtbot.waitExposed(dock)
    return dock


def type_into(qtbot, edit, text: str) -> None:
    edit.setFocus()
    edit.clear()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ((8.1, 4.2), "Cannot place R1 there: overlaps R2"),
        ((17.1, 9.3), "Cannot place R1 there: stands on column C1"),
        ((19.9, 9.3), "Cannot place R1 there: outside the floor"),
    ],
)
def test_the_inspector_refuses_a_position_the_drag_refuses_in_the_same_words(
    canvas, inspector, qtbot, target, says
):
    canvas.drag(qtbot, (3.3, 3.6), target, Qt.KeyboardModifier.AltModifier)
    dragged_to = canvas.messages[-1]
    assert dragged_to == says
    assert canvas.xy("R1") == (3.3, 3.6)

    inspector.show_items(["R1"])
    type_into(qtbot, inspector.y_edit, f"{target[1]:g}")  # clear floor at x 3.3
    assert inspector.message == ""
    type_into(qtbot, inspector.x_edit, f"{target[0]:g}")
    assert inspector.message == dragged_to
    assert canvas.xy("R1") == (3.3, target[1])
    assert canvas.stack.count() == 1  # the legal y only


def test_a_45_degree_turn_is_refused_by_the_canvas_and_the_inspector_alike(
    canvas, inspector, qtbot
):
    canvas.scene.select_ids(["R1"])
    assert not canvas.editor.rotate_selected(45.0)
    said = canvas.messages[-1]
    assert said == "Cannot rotate R1 there: not at a quarter turn (0°, 90°, 180° or 270°)"

    inspector.show_items(["R1"])
    type_into(qtbot, inspector.rotation_edit, "45")
    assert inspector.message == said
    assert canvas.project.items.get("R1").rotation == 0.0
    assert canvas.stack.count() == 0
    # A quarter turn is fine in both.
    type_into(qtbot, inspector.rotation_edit, "90")
    assert inspector.message == ""
    assert canvas.editor.rotate_selected(90.0)
    assert canvas.project.items.get("R1").rotation == 180.0


def test_a_turn_into_a_neighbour_is_refused_by_the_r_key_and_the_rotate_button_alike(
    canvas, inspector, qtbot
):
    canvas.project.add_items([Item("R4", RACK, 3.9, 3.6)])  # touching R1's right side
    canvas.scene.select_ids(["R1"])
    qtbot.keyClick(canvas.view, Qt.Key.Key_R)
    said = canvas.messages[-1]
    assert said == "Cannot rotate R1 there: overlaps R4"
    inspector.show_items(["R1"])
    qtbot.mouseClick(inspector.rotate_button, Qt.MouseButton.LeftButton)
    assert inspector.message == said
    assert canvas.project.items.get("R1").rotation == 0.0
    assert canvas.stack.count() == 0


def test_a_pasted_unit_at_45_degrees_is_refused(canvas, qtbot):
    turned = {"id": "R9", "type": RACK, "x": 10.0, "y": 8.0, "rotation": 45.0}
    payload = {"format": "coherence.items", "version": 1, "items": [turned]}
    mime = QMimeData()
    mime.setData(ITEMS_MIME, json.dumps(payload).encode())
    put_on_clipboard(mime)
    assert canvas.editor.paste() == []
    assert canvas.messages[-1].startswith("Cannot paste R")
    assert canvas.messages[-1].endswith(" there: not at a quarter turn (0°, 90°, 180° or 270°)")
    assert len(canvas.project.items) == 3


def test_link_lines_are_cut_to_the_painted_area():
    import numpy as np

    area = QRectF(2.0, -1.0, 3.0, 2.0)  # x 2..5, y -1..1
    # From (0, 0): along x through the area, straight up past it, and to a point inside it.
    x1 = np.array([10.0, 0.0, 4.0, 3.0])
    y1 = np.array([0.0, 10.0, 0.5, 4.0])
    cut = clip_segments(0.0, 0.0, x1, y1, area)
    np.testing.assert_allclose(cut, [
        [2.0, 0.0, 5.0, 0.0],  # enters at x = 2, leaves at x = 5
        [2.0, 0.25, 4.0, 0.5],  # enters at x = 2 (y = 0.25), ends inside
    ])  # fmt: skip
    # Segments starting inside keep their start: straight up, and to (30, 20), leaving the
    # area at y = 1, where x = 3 + 27 / 20.
    inside = clip_segments(3.0, 0.0, np.array([3.0, 30.0]), np.array([-5.0, 20.0]), area)
    np.testing.assert_allclose(inside, [[3.0, 0.0, 3.0, -1.0], [3.0, 0.0, 4.35, 1.0]])
    # Wholly outside, even running parallel to an edge: nothing is drawn.
    outside = clip_segments(0.0, 5.0, np.array([10.0, 0.0]), np.array([5.0, -5.0]), area)
    assert outside.shape == (0, 4)


def test_a_click_in_the_overview_repaints_only_the_racks_whose_marks_change(canvas, qtbot):
    from PySide6.QtCore import QEvent, QObject

    view, scene = canvas.view, canvas.scene
    view.show_area(QRectF(-40, -30, 100, 72))  # about 8 px per metre: the overview draws
    assert scene.overview_shown
    scene.select_ids(["R1"])
    qtbot.wait(50)
    painted: list = []

    class Painted(QObject):
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint:
                painted.append(event.region())
            return False

    spy = Painted()
    view.viewport().installEventFilter(spy)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=canvas.at(8.1, 3.6))
    qtbot.waitUntil(lambda: bool(painted))
    qtbot.wait(50)
    view.viewport().removeEventFilter(spy)
    assert scene.selected_ids() == ["R2"]
    region = painted[0]
    for others in painted[1:]:
        region = region.united(others)
    for item_id in ("R1", "R2"):  # the old mark goes, the new one comes
        rect = view.mapFromScene(scene.equipment_item(item_id).sceneBoundingRect()).boundingRect()
        assert region.contains(rect)
    # Not the whole view: only around the two racks.
    viewport_area = view.viewport().width() * view.viewport().height()
    assert sum(r.width() * r.height() for r in region) < viewport_area / 20
    assert not region.contains(canvas.at(12.05, 3.6))  # R3, unchanged


def test_links_overlay_past_the_label_limit_draws_lines_without_labels(qtbot, monkeypatch):
    from gui.canvas import overlays

    project = generate(ClusterRequest(gpus=4096))
    canvas = make_canvas(qtbot, project, QRectF(*project.floor.bounds[:2], 28.0, 19.8))
    scene, links = canvas.scene, canvas.scene.overlay("links")
    scene.set_solved(replace(solve(project), cabling=None))
    leaf = next(iter(project.fabric.assignments))
    scene.select_ids([leaf])
    peers = links.line_count()
    assert len(links.labels()) == peers > 3

    # A switch rack with more peers than labels can be read: its lines, but no labels.
    monkeypatch.setattr(overlays, "LINK_LABEL_MAX", peers - 1)
    monkeypatch.setattr(overlays, "LINK_SMOOTH_MAX", peers - 1)
    scene.select_ids([])
    scene.select_ids([leaf])
    assert links.line_count() == peers
    assert links.labels() == []
    image = QImage(560, 396, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    lx, ly = canvas.xy(leaf)
    scene.render(painter, QRectF(image.rect()), QRectF(lx - 14.0, ly - 9.9, 28.0, 19.8))
    painter.end()
    assert count_colour(image, LINK_COLOURS["gpu-leaf"]) > 15


def test_palette_drop_places_and_draws_a_storage_rack(canvas):
    drop_events(canvas, "storage-ai400x2-8", 14.0, 8.0)
    item = canvas.project.items.get("ST00001")
    assert item.type_id == "storage-ai400x2-8"
    drawn = canvas.scene.equipment_item("ST00001")
    assert drawn is not None
    assert drawn.kind == "storage_rack"
    assert drawn.boundingRect().width() == pytest.approx(0.6, abs=0.05)
