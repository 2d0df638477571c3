"""The application shell, driven offscreen: title and unsaved state, closing, files,
autosave and recovery, undo/redo, the background checker, the violations dock, the
New Cluster wizard, Tools → Auto-assign and the rack elevation.

Works on a copy of ``tests/data/overlap_and_column.dclayout``: five racks on a
30 m × 12 m floor; R1 and R2 overlap, R3 stands on column C1, R4 and R5 touch.
"""

import shutil
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QMessageBox, QWizard

import physics
from gui import app as gui_app
from gui.autosave import RecoveryDialog, autosave_dir, find_autosaves, write_autosave
from gui.checker import BackgroundChecker
from gui.dialogs.elevation import ElevationDialog, rack_slots
from gui.dialogs.wizard import NewClusterWizard
from gui.docks.violations import VIOLATION_ROLE
from gui.main_window import MainWindow
from layout import dclayout
from layout.commands import MoveItems, ReplaceSection
from layout.generator import ClusterRequest, generate
from layout.project import PowerPlan
from physics.solution import Solution

SAMPLE = Path(__file__).parent / "data" / "overlap_and_column.dclayout"
Buttons = QMessageBox.StandardButton


@pytest.fixture
def answers(monkeypatch):
    """QMessageBox.question answers from this list (Discard once it is empty); the
    questions asked are recorded. Closing windows at teardown then never blocks."""
    script: list = []
    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return script.pop(0) if script else Buttons.Discard

    monkeypatch.setattr(QMessageBox, "question", question)
    return script, asked


@pytest.fixture
def criticals(monkeypatch):
    calls = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *args, **kw: calls.append(args))
    return calls


@pytest.fixture
def sample(tmp_path) -> Path:
    path = tmp_path / "hall.dclayout"
    shutil.copyfile(SAMPLE, path)
    return path


def open_window(qtbot, project, path=None, **options) -> MainWindow:
    window = MainWindow(project, path, check_delay_ms=10, **options)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    wait_for_check(qtbot, window)
    return window


@pytest.fixture
def window(qtbot, sample, answers):
    return open_window(qtbot, dclayout.load(sample), sample)


def wait_for_check(qtbot, window: MainWindow) -> None:
    """Until the checker is idle and has delivered results for the project as it is."""
    qtbot.waitUntil(lambda: not window.checker.busy and window.results is not None, timeout=20000)


def position(project, item_id):
    item = project.items.get(item_id)
    return item.x, item.y


def violation_rows(window):
    return [(v.rule, v.items) for v in window.violations_dock.shown_violations()]


# -- title, closing, files -------------------------------------------------------------------
def test_title_shows_unsaved_after_an_edit_and_clears_on_save(window, sample):
    assert window.windowTitle() == "hall.dclayout[*] — Coherence"
    assert not window.isWindowModified()
    window.undo_stack.push_command(MoveItems(["R5"], [22.0], [9.0]))
    assert window.isWindowModified()
    assert window.save_to(sample)
    assert not window.isWindowModified()
    assert dclayout.load(sample).items.get("R5").x == 22.0


def test_close_with_unsaved_changes_asks_and_cancel_keeps_the_window(window, answers, sample):
    script, asked = answers
    window.undo_stack.push_command(MoveItems(["R5"], [22.0], [9.0]))

    script.append(Buttons.Cancel)
    assert window.close() is False
    assert window.isVisible()
    assert len(asked) == 1
    assert "hall.dclayout has unsaved changes" in asked[0]

    script.append(Buttons.Save)
    assert window.close() is True
    assert len(asked) == 2
    assert dclayout.load(sample).items.get("R5").x == 22.0  # Save wrote the edit


def test_open_another_file_asks_first_and_cancel_keeps_the_project(window, answers, tmp_path):
    script, asked = answers
    other = tmp_path / "other.dclayout"
    shutil.copyfile(SAMPLE, other)
    window.undo_stack.push_command(MoveItems(["R5"], [22.0], [9.0]))
    project = window.project
    script.append(Buttons.Cancel)
    assert window.open_file(other) is False
    assert window.project is project
    assert len(asked) == 1
    assert window.open_file(other) is True  # Discard
    assert window.path == other
    assert not window.isWindowModified()
    assert window.undo_stack.count() == 0


def test_save_close_reopen_gives_an_equal_project(qtbot, window, tmp_path):
    window.undo_stack.push_command(MoveItems(["R2"], [8.0], [6.0]))
    window.undo_stack.push_command(MoveItems(["R5"], [21.4], [9.0]))
    expected = dclayout.dumps(window.project)
    copy = tmp_path / "copy.dclayout"
    assert window.save_to(copy)
    assert window.close()

    reopened = open_window(qtbot, dclayout.load(copy), copy)
    assert dclayout.dumps(reopened.project) == expected
    assert reopened.recent.paths()[0] == copy.absolute()


def test_open_recent_drops_a_missing_file_with_a_message(window, tmp_path, monkeypatch):
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kw: warned.append(args[2]))
    gone = tmp_path / "gone.dclayout"
    shutil.copyfile(SAMPLE, gone)
    window.recent.add(gone)
    gone.unlink()
    assert window.open_recent(gone.absolute()) is False
    assert len(warned) == 1
    assert "no longer exists" in warned[0]
    assert gone.absolute() not in window.recent.paths()


# -- autosave and recovery -----------------------------------------------------------------
def test_autosave_writes_after_an_edit_and_recovery_restores_it(qtbot, window, sample):
    window.autosaver.timer.timeout.emit()  # nothing unsaved: nothing written
    assert find_autosaves(autosave_dir()) == []

    window.undo_stack.push_command(MoveItems(["R5"], [22.0], [9.0]))
    window.autosaver.timer.timeout.emit()
    entries = find_autosaves(autosave_dir())
    assert len(entries) == 1
    assert entries[0].original == sample
    edited = dclayout.dumps(window.project)

    # A crash leaves the autosave behind; the next start recovers it into a new window.
    recovered = gui_app.recover(entries)
    assert len(recovered) == 1
    new = recovered[0]
    qtbot.addWidget(new)
    assert dclayout.dumps(new.project) == edited
    assert new.path == sample
    assert new.isWindowModified()
    assert dclayout.load(sample).items.get("R5").x != 22.0  # the original file is untouched

    # Saving the recovered project writes the original file and deletes the autosave.
    assert new.save()
    assert dclayout.load(sample).items.get("R5").x == 22.0
    assert find_autosaves(autosave_dir()) == []


def test_clean_save_and_close_delete_the_autosave(window, sample):
    window.undo_stack.push_command(MoveItems(["R5"], [22.0], [9.0]))
    written = window.document.autosave_now()
    assert written is not None
    assert written.is_file()
    assert window.save_to(sample)
    assert not written.exists()

    window.undo_stack.push_command(MoveItems(["R5"], [21.4], [9.0]))
    assert window.document.autosave_now() is not None
    assert window.close()  # Discard
    assert find_autosaves(autosave_dir()) == []


def test_recovery_dialog_discard_deletes_the_autosaves(qtbot, window):
    window.undo_stack.push_command(MoveItems(["R5"], [22.0], [9.0]))
    window.document.autosave_now()
    entries = find_autosaves(autosave_dir())
    dialog = RecoveryDialog(entries)
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 1
    assert "hall.dclayout" in dialog.list.item(0).text()
    dialog.discard()
    assert dialog.choice == RecoveryDialog.DISCARD
    assert find_autosaves(autosave_dir()) == []


# -- undo and redo ---------------------------------------------------------------------------
def test_undo_redo_actions_restore_exact_positions(window):
    project = window.project
    before = {i: position(project, i) for i in project.items.ids}
    window.scene.select_ids(["R4", "R5"])
    assert window.editor.nudge(0.0, 1.1)
    window.scene.select_ids(["R5"])
    assert window.editor.nudge(0.7, 0.0)
    after = {i: position(project, i) for i in project.items.ids}
    assert after["R5"] != before["R5"]

    undo, redo = window.actions["undo"], window.actions["redo"]
    assert undo.text() == "&Undo Move"
    undo.trigger()
    undo.trigger()
    assert {i: position(project, i) for i in project.items.ids} == before
    assert not window.isWindowModified()
    redo.trigger()
    redo.trigger()
    assert {i: position(project, i) for i in project.items.ids} == after
    assert window.isWindowModified()


# -- the background checker -----------------------------------------------------------------
def test_checker_delivers_results_for_a_snapshot(qtbot, sample):
    project = dclayout.load(sample)
    checker = BackgroundChecker(project, delay_ms=10)
    with qtbot.waitSignal(checker.results_ready, timeout=10000) as blocker:
        checker.request()
    # The check and every solver's output, as the GUI's one solve.
    solution = blocker.args[0]
    assert isinstance(solution, Solution)
    assert solution.project is not project  # a snapshot
    results = solution.results
    assert sorted(v.items for v in results.violations) == [("R1", "R2"), ("R3",)]
    assert results.metrics["gpus"] == project.gpu_count()
    checker.shutdown()


def test_checker_drops_the_results_of_an_outdated_snapshot(qtbot, sample):
    project = dclayout.load(sample)
    release = threading.Event()
    checked_r2_x = []

    def slow_check(snapshot):
        checked_r2_x.append(snapshot.items.get("R2").x)
        release.wait(10)
        return physics.check(snapshot)

    checker = BackgroundChecker(project, delay_ms=10, check=slow_check)
    delivered = []
    checker.results_ready.connect(delivered.append)
    checker.run_now()
    qtbot.waitUntil(lambda: len(checked_r2_x) == 1)
    project.set_positions(["R2"], [8.0], [6.0])  # R2 leaves R1 while the check runs
    release.set()

    qtbot.waitUntil(lambda: len(delivered) == 1, timeout=10000)
    qtbot.wait(50)
    assert len(checked_r2_x) == 2
    assert checked_r2_x[1] == 8.0
    assert len(delivered) == 1  # the first, outdated result was dropped
    assert [v.items for v in delivered[0].violations] == [("R3",)]
    checker.shutdown()


# -- violations live -----------------------------------------------------------------------
def test_overlap_appears_after_a_move_and_disappears_on_undo(qtbot, window):
    assert ("placement.overlap", ("R4", "R5")) not in violation_rows(window)
    r4 = window.project.items.get("R4")
    window.undo_stack.push_command(MoveItems(["R5"], [r4.x + 0.3], [r4.y]))
    qtbot.waitUntil(lambda: ("placement.overlap", ("R4", "R5")) in violation_rows(window))
    assert window.scene.equipment_item("R5").violated
    assert window.check_label.text() == "3 errors, 0 warnings"

    window.actions["undo"].trigger()
    qtbot.waitUntil(lambda: ("placement.overlap", ("R4", "R5")) not in violation_rows(window))
    assert not window.scene.equipment_item("R5").violated
    assert window.check_label.text() == "2 errors, 0 warnings"


def test_double_click_in_the_violations_dock_selects_the_racks(qtbot, window):
    table = window.violations_dock.table
    model = table.model()
    rows = [
        r
        for r in range(model.rowCount())
        if model.index(r, 0).data(VIOLATION_ROLE).items == ("R1", "R2")
    ]
    assert len(rows) == 1
    point = table.visualRect(table.model().index(rows[0], 2)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.scene.selected_ids() == []
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert sorted(window.scene.selected_ids()) == ["R1", "R2"]
    qtbot.waitUntil(lambda: sorted(window.inspector.shown_ids) == ["R1", "R2"])


# -- New Cluster wizard ----------------------------------------------------------------------
def test_wizard_generates_a_4096_gpu_cluster_into_the_window(qtbot, window):
    wizard = NewClusterWizard(None, window.project.floor, window)
    qtbot.addWidget(wizard)
    wizard.set_request(ClusterRequest(gpus=4096))
    wizard.show()
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.error is None
    assert wizard.result() == QWizard.DialogCode.Accepted
    assert wizard.project is not None
    assert wizard.project.gpu_count() == 4096

    assert window.open_generated(wizard.project)
    assert window.project is wizard.project
    assert window.path is None
    assert window.isWindowModified()
    wait_for_check(qtbot, window)
    assert window.gpu_label.text() == "4,096 GPUs"
    # The status bar says whether the fabric is coherent and lists every criterion.
    assert window.coherence_label.text() == "fabric coherent"
    tip = window.coherence_label.toolTip()
    assert "pass: One connected domain per plane: 1 domain in the worst plane" in tip
    assert "pass: Switch hops within 2·tiers − 1: 3 switches (limit 3 (2 tiers))" in tip
    assert tip.count("pass: ") == 8


def test_wizard_shows_a_too_small_hall_inline_and_stays_open(qtbot):
    wizard = NewClusterWizard()
    qtbot.addWidget(wizard)
    wizard.set_request(ClusterRequest(gpus=4096, hall_m=(20.0, 10.0)))
    wizard.show()
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.isVisible()
    assert wizard.project is None
    assert "hall is too small" in wizard.error
    label = wizard.currentPage().error
    assert label.isVisible()
    assert "hall is too small" in label.text()


def test_wizard_refuses_bad_oversubscription_on_its_page(qtbot):
    wizard = NewClusterWizard()
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    page = wizard.fabric_page
    page.oversubscription.setText("three")
    assert not page.isComplete()
    assert page.error.isVisible()
    assert "oversubscription" in page.error.text()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    page.oversubscription.setText("3,1")
    assert page.isComplete()
    assert not page.error.isVisible()


def test_wizard_says_what_the_answers_build_as_the_planner_types(qtbot):
    wizard = NewClusterWizard()
    qtbot.addWidget(wizard)
    wizard.show()
    page = wizard.cluster_page
    page.gpus.selectAll()
    qtbot.keyClicks(page.gpus, "2056")
    # 32 racks of 64 hold 2,048: 33 racks (2,112 GPUs) in arrays of 8, the fifth of one rack.
    assert page.summary.text().startswith(
        "requested 2,056 GPUs → builds 2,112 GPUs in 33 racks (5 arrays), about "
    )
    page.whole_arrays.click()
    assert page.summary.text().startswith(
        "requested 2,056 GPUs → builds 2,560 GPUs in 40 racks (5 arrays)"
    )
    assert wizard.request().whole_arrays is True
    # The fabric's answers size the arrays too: 3:1 leaves have 96 down-ports, 12 racks.
    wizard.fabric_page.oversubscription.setText("3")
    assert "builds 2,304 GPUs in 36 racks (3 arrays)" in page.summary.text()
    wizard.fabric_page.oversubscription.setText("three")
    assert page.summary.text().startswith("Cannot size this cluster: oversubscription")


# -- Tools -----------------------------------------------------------------------------------
def test_auto_assign_is_one_undo_step(qtbot, answers):
    project = generate(ClusterRequest(gpus=4096))
    window = open_window(qtbot, project)
    window.undo_stack.push_command(ReplaceSection("power", PowerPlan()))
    assert window.project.power.feeds == {}
    steps = window.undo_stack.count()

    window.actions["auto_assign"].trigger()
    assert window.undo_stack.count() == steps + 1
    assert window.undo_stack.undoText() == "Auto-assign power and cooling"
    assert len(window.project.power.feeds) > 0
    assigned = (window.project.power, window.project.cooling)

    window.actions["undo"].trigger()
    assert window.project.power.feeds == {}
    window.actions["redo"].trigger()
    assert (window.project.power, window.project.cooling) == assigned


def test_regenerate_fabric_is_one_undo_step(qtbot, answers):
    project = generate(ClusterRequest(gpus=4096))
    original = project.fabric
    window = open_window(qtbot, project)
    steps = window.undo_stack.count()
    window.actions["regenerate_fabric"].trigger()
    assert window.undo_stack.count() == steps + 1
    assert window.project.fabric.assignments
    window.actions["undo"].trigger()
    assert window.project.fabric is original


# -- elevation -------------------------------------------------------------------------------
def test_elevation_of_a_gpu_rack_has_its_servers_and_cdu(qtbot, window):
    elevation = rack_slots(window.project, "R1")
    kinds = [s.kind for s in elevation.slots]
    assert kinds == ["cdu"] + ["server"] * 8  # the colossus rack: 4U CDU, 8 × 4U servers
    assert [s.u for s in elevation.slots] == [1, 5, 9, 13, 17, 21, 25, 29, 33]
    assert elevation.rack_u == 48
    assert elevation.free_u == 12

    window.scene.item_double_clicked.emit("R1")
    dialogs = [d for d in window.findChildren(ElevationDialog) if d.isVisible()]
    assert len(dialogs) == 1
    assert dialogs[0].item_id == "R1"
    assert "R1" in dialogs[0].windowTitle()


def test_elevation_of_a_network_rack_counts_installed_switches(qtbot, answers):
    project = generate(ClusterRequest(gpus=4096))
    leaf = next(
        i
        for i, t in zip(project.items.ids, project.items.type_ids, strict=True)
        if project.catalog[t].kind == "network_rack"
    )
    rack_type = project.type_of(leaf)
    installed = project.items.get(leaf).properties.get("switches", rack_type.switches)
    elevation = rack_slots(project, leaf)
    switch_u = project.catalog[rack_type.switch].u
    assert [s.kind for s in elevation.slots] == ["switch"] * installed
    assert elevation.free_u == rack_type.rack_u - installed * switch_u


# -- start-up --------------------------------------------------------------------------------
@pytest.fixture
def started(qtbot, monkeypatch):
    """gui.app.start, with the windows it opens closed after the test."""
    monkeypatch.setattr(gui_app, "_windows", [])

    def start(file):
        windows = gui_app.start(file)
        for window in windows:
            qtbot.addWidget(window)
        return windows

    return start


def test_start_with_a_bad_file_shows_the_error_and_an_empty_hall(started, criticals, tmp_path):
    bad = tmp_path / "bad.dclayout"
    bad.write_text("{not json", "utf-8")
    windows = started(bad)
    assert len(windows) == 1
    assert len(windows[0].project.items) == 0
    assert windows[0].project.floor.bounds == (0.0, 0.0, 60.0, 40.0)
    assert windows[0].path is None
    assert len(criticals) == 1
    assert criticals[0][2].startswith("bad.dclayout:")
    assert "\n" not in criticals[0][2]


def test_start_after_a_crash_offers_recovery(started, answers, sample, monkeypatch):
    edited = dclayout.load(sample)
    edited.set_positions(["R5"], [22.0], [9.0])
    write_autosave(edited, sample, autosave_dir(), "hall-crashed")
    offered = []

    def exec_recover(dialog):
        offered.append([e.original for e in dialog.entries])
        dialog.recover()
        return 1

    monkeypatch.setattr(RecoveryDialog, "exec", exec_recover)
    windows = started(None)
    assert offered == [[sample]]
    assert len(windows) == 1  # the recovered project instead of the example
    assert windows[0].path == sample
    assert windows[0].project.items.get("R5").x == 22.0
    assert windows[0].isWindowModified()


def test_excepthook_shows_the_one_line_error(criticals, capsys):
    try:
        raise ValueError("rack R7 has no type\nsecond line")
    except ValueError as err:
        gui_app.excepthook(type(err), err, err.__traceback__)
    assert len(criticals) == 1
    message = criticals[0][2]
    assert "ValueError: rack R7 has no type" in message
    assert "second line" not in message
    assert "Traceback" in capsys.readouterr().err


# -- real keys and clicks --------------------------------------------------------------------
def test_shortcuts_reach_the_editor_and_the_undo_stack_once(qtbot, window):
    window.activateWindow()
    window.view.setFocus()
    qtbot.waitUntil(window.view.hasFocus)
    window.undo_stack.push_command(MoveItems(["R5"], [24.0], [9.0]))  # room to turn
    window.scene.select_ids(["R5"])
    before = window.project.items.get("R5").rotation
    qtbot.keyClick(window.view, Qt.Key.Key_R)
    assert window.project.items.get("R5").rotation == (before + 90.0) % 360.0
    assert window.undo_stack.count() == 2  # the menu action took the key, the view did not
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.project.items.get("R5").rotation == before
    assert window.undo_stack.index() == 1


def test_double_clicking_a_rack_on_the_floor_opens_its_elevation(qtbot, window):
    r4 = window.project.items.get("R4")
    window.view.show_area(QRectF(r4.x - 3, r4.y - 2, 6, 4))
    point = window.view.mapFromScene(QPointF(r4.x, r4.y))
    qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    dialogs = [d for d in window.findChildren(ElevationDialog) if d.isVisible()]
    assert [d.item_id for d in dialogs] == ["R4"]
    assert dialogs[0].elevation.summary.startswith("48U: 8 servers × 4U (64 GPUs")


@pytest.mark.parametrize(
    "sidecar",
    [
        '{"format": "coherence.autosave", "original": "%s", "saved_at": 1e300, "name": "Hall"}',
        '{"format": "coherence.autosave", "original": "%s", "saved_at": NaN, "name": "Hall"}',
        '{"format": "coherence.autosave", "original": "%s", "saved_at": -Infinity}',
        '{"format": "coherence.autosave", "original": "%s", "saved_at": 1' + "0" * 400 + "}",
        '{"format": "coherence.autosave", "original": "%s", "saved_at": "today", "name": 7}',
        '{"format": "coherence.autosave", "original": "%s\\u0000x", "name": "a\\nb\\udc80"}',
        '{"format": "coherence.autosave", "original": ["%s"], "name": "' + "n" * 5000 + '"}',
        '["coherence.autosave", "%s"]',
    ],
)
def test_a_broken_autosave_sidecar_is_listed_not_fatal(qtbot, window, sample, sidecar):
    window.undo_stack.push_command(MoveItems(["R5"], [22.0], [9.0]))
    written = window.document.autosave_now()
    assert written is not None
    mtime = written.stat().st_mtime
    written.with_suffix(".json").write_text(sidecar.replace("%s", str(sample)), "utf-8")

    entries = find_autosaves(autosave_dir())
    assert [e.path for e in entries] == [written]
    entry = entries[0]
    assert entry.saved_at == mtime
    assert len(entry.name) <= 200
    assert entry.original in (None, sample)
    dialog = RecoveryDialog(entries)
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 1
    line = dialog.list.item(0).text()
    assert "autosaved 2" in line  # the autosave file's own time, as a date
    assert "\n" not in line
