"""The palette, inspector and violations docks, driven offscreen as real widgets.

Small projects are built from items on a rectangular floor; feeds, cooling and
links come from a generated 4,096-GPU design. Figures are checked against the
catalog: a Colossus rack holds 8 servers × 8 GPUs = 64 GPUs and draws
8 × 10 kW + 1 kW (its in-rack CDU) = 81 kW, of which 80 × 0.8 = 64 kW goes to
liquid and 17 kW to air.
"""


import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from gui import icons
from gui.canvas import scene as floor_scene
from gui.docks.inspector import PENDING, InspectorDock, parse_property_value
from gui.docks.palette import EQUIPMENT_MIME_TYPE, PaletteDock
from gui.docks.violations import ViolationsDock, ViolationTableModel
from gui.undo import UndoStack
from layout.catalog import PLACEABLE_KINDS, default_catalog
from layout.floor import Floor
from layout.generator import ClusterRequest, generate
from layout.items import Item
from layout.project import Project, Waiver
from physics.engine import Results, Violation
from physics.solution import solve

COLOSSUS = "colossus-hgx-h100-lc"
DGX_H100 = "dgx-h100-air-4"


# -- fixtures ----------
@pytest.fixture
def catalog():
    return default_catalog()


@pytest.fixture
def palette(qtbot, catalog):
    dock = PaletteDock(catalog)
    qtbot.addWidget(dock)
    dock.resize(360, 700)
    dock.show()
    qtbot.waitExposed(dock)
    return dock


def small_project() -> Project:
    """Three Colossus racks in a row, a DGX rack and a CRAH on a 30 m × 12 m floor."""
    items = [
        Item("R1", COLOSSUS, 5.0, 6.0, 0.0, "Rack one"),
        Item("R2", COLOSSUS, 5.6, 6.0, 0.0, "Rack two", {"pod": 1}),
        Item("R3", COLOSSUS, 6.2, 6.0, 0.0, "Rack three", {"pod": 2}),
        Item("D1", DGX_H100, 12.0, 6.0, 90.0, "DGX"),
        Item("AH1", "crah-150kw", 20.0, 3.0, 0.0, "CRAH"),
    ]
    return Project(Floor.rectangle(30.0, 12.0), items=items)


@pytest.fixture
def project():
    return small_project()


@pytest.fixture
def inspector(qtbot, project):
    stack = UndoStack(project)
    dock = InspectorDock()
    qtbot.addWidget(dock)
    dock.set_context(project, stack)
    dock.resize(380, 900)
    dock.show()
    qtbot.waitExposed(dock)
    return dock


@pytest.fixture(scope="module")
def generated():
    return generate(ClusterRequest(gpus=4096))


def double_click(qtbot, widget, pos: QPoint) -> None:
    """A real double-click: a click, then the second press that Qt reports as a double one."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(widget, Qt.MouseButton.LeftButton, pos=pos)


def snapshot(project: Project) -> list[Item]:
    return list(project.items)


# -- icons ----------
@pytest.mark.usefixtures("qapp")
def test_icon_colours_are_the_canvas_colours():
    for kind in PLACEABLE_KINDS:
        assert icons.kind_colour(kind) == floor_scene.equipment_colour(kind, "floor"), kind
        # A square footprint icon is filled with the kind colour at its centre.
        image = icons.footprint_pixmap(kind, 1.0, 1.0, 16).toImage()
        centre = image.pixelColor(8, 10)
        expected = floor_scene.equipment_colour(kind, "floor")
        assert (centre.red(), centre.green(), centre.blue()) == (
            expected.red(),
            expected.green(),
            expected.blue(),
        )


# -- palette ----------
def test_palette_lists_every_placeable_type_grouped_by_kind(palette, catalog):
    listed = palette.type_ids()
    assert list(listed) == list(PLACEABLE_KINDS)
    for kind in PLACEABLE_KINDS:
        assert listed[kind] == [t.id for t in catalog.of_kind(kind)], kind
    every = {t for ids in listed.values() for t in ids}
    assert not {t.id for t in catalog.of_kind("switch")} & every
    assert not {t.id for t in catalog.of_kind("medium")} & every


def test_palette_entries_have_icons_and_tooltips_with_figures(palette):
    entry = palette.entry(COLOSSUS)
    assert not entry.icon(0).isNull()
    tooltip = entry.toolTip(0)
    assert "64 × H100 SXM GPUs" in tooltip
    assert "81 kW" in tooltip
    assert "ServeTheHome" in tooltip  # the source
    assert "16 switches" in palette.entry("net-sn5600-16").toolTip(0)
    assert "capacity 150 kW" in palette.entry("crah-150kw").toolTip(0)
    assert "3,900 kWh" in palette.entry("battery-megapack").toolTip(0)


def test_palette_search_filters_by_id_name_and_vendor(palette, catalog):
    palette.search.setText("SN5600")
    shown = palette.type_ids(visible_only=True)
    assert shown == {
        "gpu_rack": [], "network_rack": ["net-sn5600-16", "net-sn5600-8"], "power": [],
        "cooling": [], "storage_rack": [],
    }  # fmt: skip
    assert not palette.empty_label.isVisibleTo(palette)

    palette.search.setText("tesla")  # vendor only
    assert palette.type_ids(visible_only=True)["power"] == ["battery-megapack"]

    palette.search.setText("crah")  # name and id, case-insensitive
    assert palette.type_ids(visible_only=True)["cooling"] == ["crah-150kw"]
    assert palette.type_ids(visible_only=True)["gpu_rack"] == []

    palette.search.setText("no such equipment")
    assert all(not ids for ids in palette.type_ids(visible_only=True).values())
    assert palette.empty_label.isVisibleTo(palette)

    palette.search.clear()
    assert palette.type_ids(visible_only=True) == palette.type_ids()
    assert sum(len(v) for v in palette.type_ids().values()) == sum(
        len(catalog.of_kind(k)) for k in PLACEABLE_KINDS
    )


def test_palette_drag_payload_is_the_type_id(palette):
    entry = palette.entry("net-sn5600-16")
    mime = palette.tree.mimeData([entry])
    assert mime.formats()[0] == EQUIPMENT_MIME_TYPE
    assert bytes(mime.data(EQUIPMENT_MIME_TYPE)).decode("utf-8") == "net-sn5600-16"
    # Kind headings carry nothing to drop.
    heading = entry.parent()
    assert palette.tree.mimeData([heading]) is None
    assert not heading.flags() & Qt.ItemFlag.ItemIsDragEnabled
    assert entry.flags() & Qt.ItemFlag.ItemIsDragEnabled


def test_palette_double_click_and_enter_request_placement(palette, qtbot):
    entry = palette.entry("crah-150kw")
    palette.tree.scrollToItem(entry)
    rect = palette.tree.visualItemRect(entry)
    with qtbot.waitSignal(palette.place_requested, timeout=1000) as blocker:
        double_click(qtbot, palette.tree.viewport(), rect.center())
    assert blocker.args == ["crah-150kw"]

    palette.tree.setCurrentItem(palette.entry(DGX_H100))
    palette.tree.setFocus()
    with qtbot.waitSignal(palette.place_requested, timeout=1000) as blocker:
        qtbot.keyClick(palette.tree, Qt.Key.Key_Return)
    assert blocker.args == [DGX_H100]

    # Double-clicking a kind heading places nothing.
    heading = entry.parent()
    rect = palette.tree.visualItemRect(heading)
    with qtbot.assertNotEmitted(palette.place_requested):
        double_click(qtbot, palette.tree.viewport(), rect.center())


def test_palette_enter_in_search_places_the_single_match(palette, qtbot):
    palette.search.setText("megapack")
    with qtbot.waitSignal(palette.place_requested, timeout=1000) as blocker:
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert blocker.args == ["battery-megapack"]


def test_palette_down_arrow_moves_from_search_into_the_list(palette, qtbot):
    palette.search.setText("busway")
    palette.search.setFocus()
    qtbot.keyClick(palette.search, Qt.Key.Key_Down)
    assert palette.tree.type_id_of(palette.tree.currentItem()) == "busway-415v-60a"
    with qtbot.waitSignal(palette.place_requested, timeout=1000) as blocker:
        qtbot.keyClick(palette.tree, Qt.Key.Key_Return)
    assert blocker.args == ["busway-415v-60a"]


def test_palette_set_catalog_replaces_the_list(palette, catalog):
    from layout.catalog import Catalog

    smaller = Catalog(catalog[t] for t in (COLOSSUS, "crah-150kw"))
    palette.set_catalog(smaller)
    assert palette.type_ids() == {
        "gpu_rack": [COLOSSUS],
        "network_rack": [],
        "power": [],
        "cooling": ["crah-150kw"],
        "storage_rack": [],
    }


# -- inspector: showing ----------
def test_inspector_shows_a_colossus_rack_from_the_catalog(inspector):
    inspector.show_items(["R1"])
    assert inspector.id_label.text() == "R1"
    assert inspector.name_edit.text() == "Rack one"
    assert inspector.type_combo.currentData() == COLOSSUS
    # The type combo offers GPU rack types only.
    offered = [inspector.type_combo.itemData(k) for k in range(inspector.type_combo.count())]
    assert offered == [t.id for t in default_catalog().of_kind("gpu_rack")]
    assert float(inspector.x_edit.text()) == 5.0
    assert float(inspector.y_edit.text()) == 6.0
    figures = inspector.figures()
    assert figures["Power"] == "81 kW"
    assert figures["Heat to liquid"] == "64 kW"
    assert figures["Heat to air"] == "17 kW"
    assert figures["GPUs"].startswith("64 × H100")
    assert figures["Feed A"] == "none"  # a hand-built project has no feeds
    assert figures["CDU"].startswith("in-rack")


def test_inspector_shows_feeds_cooling_and_links_of_a_generated_design(qtbot, generated):
    project = generated
    dock = InspectorDock()
    qtbot.addWidget(dock)
    dock.set_context(project, UndoStack(project))
    dock.set_solved(solve(project))
    rack = "R00001"
    dock.show_items([rack])
    figures = dock.figures()
    feed = project.power.feeds[rack]
    assert figures["Feed A"].startswith(feed.a)
    assert figures["Feed B"].startswith(feed.b)
    assert figures["CRAH"].startswith(project.cooling.crah[rack])
    leaf = next(k for k, racks in project.fabric.assignments.items() if rack in racks)
    nics = project.type_of(rack).gpus * project.fabric.nics_per_gpu
    assert figures["gpu-leaf"] == f"{nics} links with 1 rack: {leaf}"

    # The leaf rack: its GPU racks below and its spines above.
    dock.show_items([leaf])
    figures = dock.figures()
    served = project.fabric.assignments[leaf]
    assert figures["gpu-leaf"].startswith(f"{nics * len(served):,} links with {len(served)} racks")
    assert "leaf-spine" in figures
    assert figures["Role"].startswith("tier leaf")
    switches = project.type_of(leaf).switches
    assert figures["Switches"].startswith(f"{switches} of {switches} installed")
    # As the check derived it: 8 SN5600 take 512 GPU links (400G) and send their other
    # 8 × 128 - 512 = 512 ports up: every port in use, 1:1.
    assert figures["Switch type"] == "sn5600 × 8 in the fabric"
    assert figures["Ports"] == "1,024 × 400G used, 0 free at 400G (100% of budget)"
    assert figures["Down:up"] == "1.00:1 (target 1:1)"

    # A busway: what it feeds and the load on it.
    dock.show_items([feed.a])
    figures = dock.figures()
    fed = [c for c, f in project.power.feeds.items() if feed.a in (f.a, f.b)]
    assert figures["Feeds"].startswith(f"{len(fed):,}: ")
    assert "Load fed" in figures


def test_figures_of_the_solution_wait_for_it_and_never_derive_the_fabric(qtbot, generated,
                                                                        monkeypatch):  # fmt: skip
    import sys

    import physics.fabric

    derive = physics.fabric.derive
    calls: list[int] = []

    def counted(project):
        calls.append(1)
        return derive(project)

    def count_derivations() -> None:
        # The real function, counted wherever a module holds it by name.
        for module in list(sys.modules.values()):
            if getattr(module, "derive", None) is derive:
                monkeypatch.setattr(module, "derive", counted)

    project = generated
    dock = InspectorDock()
    qtbot.addWidget(dock)
    dock.set_context(project, UndoStack(project))
    leaf = next(iter(project.fabric.assignments))
    feed = project.power.feeds[project.fabric.assignments[leaf][0]]
    solution = solve(project)
    count_derivations()
    # Before the first solution: the solution's figures wait ("…"), the rest is shown.
    dock.show_items([leaf])
    figures = dock.figures()
    assert figures["Links"] == PENDING
    assert figures["Role"].startswith("tier leaf")
    dock.show_items([feed.a])
    assert dock.figures()["Feeds"] == PENDING
    assert dock.figures()["Load fed"] == PENDING
    # The solution lands: the shown item's figures fill in.
    dock.set_solved(solution)
    fed = [c for c, f in project.power.feeds.items() if feed.a in (f.a, f.b)]
    assert dock.figures()["Feeds"].startswith(f"{len(fed):,}: ")
    assert dock.figures()["Load fed"] != PENDING
    dock.show_items([leaf])
    served = project.fabric.assignments[leaf]
    nics = sum(project.type_of(r).gpus for r in served) * project.fabric.nics_per_gpu
    assert dock.figures()["gpu-leaf"].startswith(f"{nics:,} links with {len(served)} racks")
    assert calls == []


def test_inspector_lists_the_items_violations(inspector):
    violation = Violation("placement.overlap", "error", "R1 overlaps R2 by 0.1 m²", ("R1", "R2"))
    other = Violation("placement.outside_floor", "warning", "D1 is outside", ("D1",))
    inspector.show_items(["R1"])
    assert inspector.figures()["Status"] == "not checked yet"
    inspector.set_results(Results({}, [violation, other]))
    assert inspector.figures()["error"] == "placement.overlap: R1 overlaps R2 by 0.1 m²"
    assert "warning" not in inspector.figures()
    inspector.set_results(Results({}, []))
    assert inspector.figures()["Status"] == "no violations"


# -- inspector: editing ----------
def type_into(qtbot, edit, text: str) -> None:
    """Replace a line edit's text by typing, then press Enter."""
    edit.setFocus()
    edit.clear()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("abc", "not a number"),
        ("-5", "off the plan"),
        ("nan", "not a finite number"),
        ("inf", "not a finite number"),
        ("1e300", "beyond ±100 km"),
        ("100001", "beyond ±100 km"),
        ("", "not a number"),
    ],
)
def test_inspector_refuses_a_bad_x_and_changes_nothing(qtbot, inspector, project, typed, says):
    before = snapshot(project)
    inspector.show_items(["R1"])
    type_into(qtbot, inspector.x_edit, typed)
    assert says in inspector.message
    assert inspector.message.startswith("x:")
    assert inspector.error_label.isVisibleTo(inspector)
    assert snapshot(project) == before
    assert inspector.undo_stack.count() == 0


def test_inspector_refuses_a_bad_rotation(qtbot, inspector, project):
    before = snapshot(project)
    inspector.show_items(["R1"])
    type_into(qtbot, inspector.rotation_edit, "ninety")
    assert inspector.message == "rotation: 'ninety' is not a number"
    assert snapshot(project) == before


def test_a_good_x_is_one_undo_step(qtbot, inspector, project):
    inspector.show_items(["R1"])
    type_into(qtbot, inspector.x_edit, "abc")
    assert inspector.message
    type_into(qtbot, inspector.x_edit, "16.5")  # clear floor (D1 stands at 12)
    assert inspector.message == ""
    assert project.items.get("R1").x == 16.5
    assert project.items.get("R1").y == 6.0
    stack = inspector.undo_stack
    assert stack.count() == 1
    # Focus leaving the field afterwards does not apply it a second time.
    inspector.y_edit.setFocus()
    assert stack.count() == 1
    stack.undo()
    assert project.items.get("R1").x == 5.0
    # The inspector follows the model's event.
    qtbot.waitUntil(lambda: inspector.x_edit.text() == "5")


def test_the_models_refusal_is_shown_and_changes_nothing(qtbot, inspector, project):
    before = snapshot(project)
    inspector.show_items(["R1"])
    type_into(qtbot, inspector.name_edit, "n" * 201)
    assert "name longer than 200 characters" in inspector.message
    inspector.new_key_edit.setText("rotation")  # a reserved name
    inspector.new_value_edit.setText("3")
    qtbot.mouseClick(inspector.add_button, Qt.MouseButton.LeftButton)
    assert inspector.message == "property name 'rotation' is not allowed"
    assert snapshot(project) == before
    assert inspector.undo_stack.count() == 0


def test_rename_and_type_change_are_undoable(qtbot, inspector, project):
    inspector.show_items(["R1"])
    type_into(qtbot, inspector.name_edit, "Row A rack 1")
    assert project.items.get("R1").name == "Row A rack 1"
    index = inspector.type_combo.findData(DGX_H100)
    inspector.type_combo.activated.emit(index)
    assert project.items.get("R1").type_id == DGX_H100
    assert inspector.undo_stack.count() == 2
    inspector.undo_stack.undo()
    inspector.undo_stack.undo()
    assert project.items.get("R1") == small_project().items.get("R1")


def test_a_property_on_three_racks_is_one_undo_step(qtbot, inspector, project):
    ids = ["R1", "R2", "R3"]
    inspector.show_items(ids)
    assert inspector.title_label.text() == "3 items selected"
    assert inspector.figures()["Power"] == "243 kW"  # 3 × 81 kW
    assert inspector.figures()["GPUs"] == "192"
    inspector.new_key_edit.setText("row")
    inspector.new_value_edit.setText("7")
    qtbot.keyClick(inspector.new_value_edit, Qt.Key.Key_Return)
    assert [project.items.get(i).properties.get("row") for i in ids] == [7, 7, 7]
    assert inspector.undo_stack.count() == 1
    inspector.undo_stack.undo()
    assert all("row" not in project.items.get(i).properties for i in ids)


def test_a_shared_property_cell_edits_all_at_once(qtbot, inspector, project):
    ids = ["R2", "R3"]  # both have "pod", with different values
    inspector.show_items(ids)
    table = inspector.properties_table
    assert table.rowCount() == 1
    assert table.item(0, 0).text() == "pod"
    assert table.item(0, 1).text() == "(mixed)"
    table.item(0, 1).setText("4")
    assert [project.items.get(i).properties["pod"] for i in ids] == [4, 4]
    assert inspector.undo_stack.count() == 1
    qtbot.waitUntil(lambda: table.item(0, 1) is not None and table.item(0, 1).text() == "4")
    # An emptied value removes the property from all.
    table.item(0, 1).setText("")
    assert all("pod" not in project.items.get(i).properties for i in ids)
    assert inspector.undo_stack.count() == 2


def test_rotation_and_type_of_several_items_are_one_step_each(qtbot, inspector, project):
    ids = ["R1", "R2", "R3"]
    inspector.show_items(ids)
    type_into(qtbot, inspector.rotation_edit, "180")
    assert [project.items.get(i).rotation for i in ids] == [180.0] * 3
    inspector.type_combo.activated.emit(inspector.type_combo.findData(DGX_H100))
    assert [project.items.get(i).type_id for i in ids] == [DGX_H100] * 3
    stack = inspector.undo_stack
    assert stack.count() == 2
    stack.undo()
    assert [project.items.get(i).type_id for i in ids] == [COLOSSUS] * 3
    stack.undo()
    assert [project.items.get(i).rotation for i in ids] == [0.0] * 3


def test_rotate_button_turns_a_quarter_in_one_step(qtbot, inspector, project):
    inspector.show_items(["AH1", "D1"])  # at 0° and 90°
    qtbot.mouseClick(inspector.rotate_button, Qt.MouseButton.LeftButton)
    assert (project.items.get("AH1").rotation, project.items.get("D1").rotation) == (90.0, 180.0)
    assert inspector.undo_stack.count() == 1


def test_rotate_button_refuses_a_turn_into_a_neighbour(qtbot, inspector, project):
    before = snapshot(project)
    inspector.show_items(["R1", "D1"])  # R1 turned would reach into R2 beside it
    qtbot.mouseClick(inspector.rotate_button, Qt.MouseButton.LeftButton)
    assert inspector.message == "Cannot rotate R1 there: overlaps R2"
    assert snapshot(project) == before
    assert inspector.undo_stack.count() == 0


def test_racks_turned_together_into_each_other_are_refused(qtbot, inspector, project):
    before = snapshot(project)
    inspector.show_items(["R1", "R2", "R3"])  # side by side, 0.6 m wide, 1.2 m deep
    type_into(qtbot, inspector.rotation_edit, "90")  # each about its centre: into the next
    assert inspector.message == "Cannot rotate R2 there: overlaps R1 (and 1 more)"
    assert snapshot(project) == before
    type_into(qtbot, inspector.y_edit, "9")  # a shift keeps them apart
    assert inspector.message == ""
    assert [project.items.get(i).y for i in ("R1", "R2", "R3")] == [9.0] * 3


def test_several_items_share_only_common_fields(inspector):
    inspector.show_items(["R1", "D1"])
    assert not inspector.name_edit.isEnabled()
    assert not inspector.x_edit.isEnabled()  # 5.0 and 12.0 differ
    assert inspector.y_edit.isEnabled()  # both at y = 6.0
    assert inspector.rotation_edit.placeholderText() == "(mixed)"
    assert inspector.type_combo.currentData() is None  # mixed GPU rack types
    inspector.show_items(["R1", "AH1"])
    assert not inspector.type_combo.isEnabled()  # a rack and a CRAH: no common type


def test_inspector_refreshes_only_for_the_items_shown(qtbot, inspector, project):
    from layout.commands import MoveItems, RemoveItems

    inspector.show_items(["R1"])
    stack = inspector.undo_stack
    inspector.x_edit.setText("33")  # a draft, not yet committed
    stack.push_command(MoveItems(["R2"], [8.0], [6.0]))
    qtbot.wait(20)
    assert inspector.x_edit.text() == "33"
    stack.push_command(MoveItems(["R1"], [9.0], [6.0]))
    qtbot.waitUntil(lambda: inspector.x_edit.text() == "9")
    stack.push_command(RemoveItems(["R1"]))
    assert inspector.shown_ids == []
    qtbot.waitUntil(lambda: inspector.title_label.text() == "Nothing selected")


def test_parse_property_value():
    assert parse_property_value("") is None
    assert parse_property_value("  ") is None
    assert parse_property_value("3") == 3
    assert isinstance(parse_property_value("3"), int)
    assert parse_property_value("-2.5") == -2.5
    assert parse_property_value("1e3") == 1000.0
    assert parse_property_value("TRUE") is True
    assert parse_property_value("false") is False
    assert parse_property_value("nan") == "nan"
    assert parse_property_value("1e999") == "1e999"
    assert parse_property_value("spine") == "spine"
    assert parse_property_value("٣") == "٣"  # only ASCII digits make numbers
    # A whole number an edit cannot store as one (beyond 64 bits, or too long to read) is text.
    assert parse_property_value("9223372036854775807") == 2**63 - 1
    assert parse_property_value("-9223372036854775808") == "-9223372036854775808"
    assert parse_property_value("1" * 5000) == "1" * 5000
    assert parse_property_value("-0000000000000000000000001") == -1


def test_a_typed_number_of_thousands_of_digits_is_stored_as_text(qtbot, inspector, project):
    inspector.show_items(["R1"])
    inspector.new_key_edit.setText("serial")
    inspector.new_value_edit.setText("7" * 5000)
    qtbot.mouseClick(inspector.add_button, Qt.MouseButton.LeftButton)
    assert project.items.get("R1").properties["serial"] == "7" * 5000
    inspector.new_key_edit.setText("note")
    inspector.new_value_edit.setText("n" * 10_001)
    qtbot.mouseClick(inspector.add_button, Qt.MouseButton.LeftButton)
    assert inspector.message == "property note longer than 10,000 characters (10,001)"
    assert "note" not in project.items.get("R1").properties


# -- violations ----------
def sample_results() -> Results:
    violations = [
        Violation("placement.overlap", "error", "R1 overlaps R2", ("R1", "R2")),
        Violation("fabric.radix", "error", "L1 over its radix", ("L1",)),
        Violation("placement.service_aisle", "warning", "R7 front aisle 0.9 m", ("R7",)),
        Violation("fabric.latency", "info", "worst latency 3 µs", ()),
    ]
    waived_v = Violation("placement.outside_floor", "error", "T1 outside", ("T1",))
    waived = [(waived_v, Waiver("placement.outside_floor", ("T1",), "stands in the yard"))]
    return Results({}, violations, waived)


@pytest.fixture
def violations_dock(qtbot):
    dock = ViolationsDock()
    qtbot.addWidget(dock)
    dock.resize(900, 300)
    dock.show()
    qtbot.waitExposed(dock)
    dock.show_results(sample_results())
    return dock


def rules_shown(dock) -> list[str]:
    return [v.rule for v in dock.shown_violations()]


def test_violations_are_listed_errors_first_with_waived_at_the_bottom(violations_dock):
    assert rules_shown(violations_dock) == [
        "fabric.radix",
        "placement.overlap",
        "placement.service_aisle",
        "fabric.latency",
        "placement.outside_floor",
    ]
    assert violations_dock.summary_label.text() == "2 errors, 1 warning, 1 info, 1 waived"
    assert violations_dock.severity_buttons["error"].text() == "Errors 2"
    model = violations_dock.model
    last = violations_dock.proxy.index(4, ViolationTableModel.MESSAGE)
    assert last.data() == "T1 outside — waived: stands in the yard"
    assert last.data(Qt.ItemDataRole.ForegroundRole) == QColor(icons.WAIVED_COLOUR)
    assert model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is None


def test_violations_sort_by_a_column_keeping_waived_last(violations_dock):
    violations_dock.sort_by(ViolationTableModel.RULE, Qt.SortOrder.AscendingOrder)
    assert rules_shown(violations_dock) == [
        "fabric.latency",
        "fabric.radix",
        "placement.overlap",
        "placement.service_aisle",
        "placement.outside_floor",
    ]
    violations_dock.sort_by(ViolationTableModel.RULE, Qt.SortOrder.DescendingOrder)
    assert rules_shown(violations_dock) == [
        "placement.service_aisle",
        "placement.overlap",
        "fabric.radix",
        "fabric.latency",
        "placement.outside_floor",
    ]
    violations_dock.sort_by(ViolationTableModel.SEVERITY, Qt.SortOrder.DescendingOrder)
    assert [v.severity for v in violations_dock.shown_violations()] == [
        "info",
        "warning",
        "error",
        "error",
        "error",  # the waived one
    ]


def test_violations_clicking_a_header_sorts(violations_dock, qtbot):
    header = violations_dock.table.horizontalHeader()
    x = header.sectionViewportPosition(ViolationTableModel.ITEMS) + 10
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    items = [v.items for v in violations_dock.shown_violations()]
    order = header.sortIndicatorOrder()
    active = items[:4]
    expected = sorted(active, key=lambda i: (i[0] if i else "", len(i)))
    if order == Qt.SortOrder.DescendingOrder:
        expected.reverse()
    assert header.sortIndicatorSection() == ViolationTableModel.ITEMS
    assert active == expected
    assert items[4] == ("T1",)


def test_violations_severity_and_text_filters(violations_dock, qtbot):
    dock = violations_dock
    qtbot.mouseClick(dock.severity_buttons["error"], Qt.MouseButton.LeftButton)
    assert rules_shown(dock) == ["placement.service_aisle", "fabric.latency"]
    assert dock.summary_label.text().endswith("showing 2 of 5")
    dock.set_severity_shown("error", True)
    dock.set_severity_shown("info", False)
    assert "fabric.latency" not in rules_shown(dock)
    dock.set_severity_shown("info", True)

    dock.set_text_filter("PLACEMENT")  # rule, case-insensitive
    assert rules_shown(dock) == [
        "placement.overlap",
        "placement.service_aisle",
        "placement.outside_floor",
    ]
    dock.set_text_filter("L1")  # an item id
    assert rules_shown(dock) == ["fabric.radix"]
    dock.set_text_filter("µs")  # the message
    assert rules_shown(dock) == ["fabric.latency"]
    dock.set_text_filter("yard")  # waived rows' reasons are not searched, their messages are
    assert rules_shown(dock) == []
    # Typing filters after a short pause, without pressing Enter.
    dock.filter_edit.clear()
    qtbot.keyClicks(dock.filter_edit, "overlap")
    qtbot.waitUntil(lambda: rules_shown(dock) == ["placement.overlap"], timeout=2000)


def test_double_click_and_enter_emit_the_violation(violations_dock, qtbot):
    dock = violations_dock
    table = dock.table
    expected = dock.shown_violations()[2]
    rect = table.visualRect(dock.proxy.index(2, 1))
    with qtbot.waitSignal(dock.violation_activated, timeout=1000) as blocker:
        double_click(qtbot, table.viewport(), rect.center())
    assert blocker.args == [expected]
    assert isinstance(blocker.args[0], Violation)

    table.setCurrentIndex(dock.proxy.index(0, 0))
    table.setFocus()
    with qtbot.waitSignal(dock.violation_activated, timeout=1000) as blocker:
        qtbot.keyClick(table, Qt.Key.Key_Return)
    assert blocker.args == [dock.shown_violations()[0]]


def test_no_violations_says_so(qtbot):
    dock = ViolationsDock()
    qtbot.addWidget(dock)
    dock.show()
    assert dock.summary_label.text() == "Not checked yet"
    dock.show_results(Results({}, [], seconds=0.25))
    assert dock.summary_label.text() == "0 errors, 0 warnings, 0 info"
    assert dock.empty_label.text() == "No violations (checked in 0.25 s)"
    assert dock.empty_label.isVisibleTo(dock)
    dock.show_results(None)
    assert dock.model.rowCount() == 0


def test_100k_violations_load_sort_and_filter(qtbot):
    # Speed is measured by bench/, not asserted here; this checks the model holds them.
    severities = ("error", "warning", "info")
    violations = [
        Violation(
            f"rule.{k % 37}",
            severities[k % 3],
            f"rack R{k:06d} breaks rule {k % 37}",
            (f"R{k:06d}",),
            (float(k % 500), float(k // 500)),
        )
        for k in range(100_000)
    ]
    dock = ViolationsDock()
    qtbot.addWidget(dock)
    dock.resize(900, 400)
    dock.show()
    qtbot.waitExposed(dock)
    dock.show_results(Results({}, violations))
    dock.table.viewport().repaint()
    assert dock.proxy.rowCount() == 100_000
    assert dock.summary_label.text().startswith("33,334 errors, 33,333 warnings, 33,333 info")

    dock.set_text_filter("R012345")
    assert rules_shown(dock) == ["rule.24"]

    dock.set_text_filter("")
    dock.sort_by(ViolationTableModel.MESSAGE, Qt.SortOrder.DescendingOrder)
    first = dock.proxy.index(0, ViolationTableModel.MESSAGE).data()
    assert first == "rack R099999 breaks rule 25"  # 99,999 mod 37 = 25


@given(st.text(alphabet="ACLRSab-_ 0123456789٣", max_size=12))
def test_the_inspectors_quick_natural_order_is_the_natural_order(item_id):
    from gui.docks.inspector import _natural_key
    from layout.items import natural_key

    assert _natural_key(item_id) == natural_key(item_id)
