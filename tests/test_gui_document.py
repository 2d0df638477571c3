"""The open document without a window: open, edit, save, the clean flag, checks, and who
hears of a new project.

Works on copies of ``tests/data/overlap_and_column.dclayout``: five racks on a
30 m × 12 m floor; R1 and R2 overlap, R3 stands on column C1.
"""

import shutil
from pathlib import Path

import pytest

import physics
from gui.autosave import autosave_dir, find_autosaves
from gui.canvas.scene import FloorScene
from gui.docks.palette import PaletteDock
from gui.document import Document
from gui.main_window import MainWindow
from layout import dclayout
from layout.commands import MoveItems
from layout.floor import Floor
from layout.generator import ClusterRequest, generate
from layout.project import Project
from physics.solution import Solution

SAMPLE = Path(__file__).parent / "data" / "overlap_and_column.dclayout"
BROKEN = '{"format": "coherence.dclayout", "version": 1, "items": ['


@pytest.fixture
def sample(tmp_path) -> Path:
    path = tmp_path / "hall.dclayout"
    shutil.copyfile(SAMPLE, path)
    return path


@pytest.fixture
def document(qtbot):
    """A document on an empty hall with no file, closed after the test."""
    opened = Document(Project(Floor.rectangle(20.0, 10.0)), check_delay_ms=10)
    # The first check starts on its own once the event loop runs; let it end first.
    with qtbot.waitSignal(opened.checked, timeout=20000):
        pass
    yield opened
    opened.close()


class Heard:
    """Every emission of one signal, with what the document held at that moment."""

    def __init__(self, signal, document: Document) -> None:
        self.args: list[tuple] = []
        self.held: list[Project] = []
        self._document = document
        signal.connect(self._record)

    def _record(self, *args) -> None:
        self.args.append(args)
        self.held.append(self._document.project)


def test_open_edit_save_reports_unsaved_then_clean(qtbot, document, sample):
    replaced = Heard(document.project_replaced, document)
    paths = Heard(document.path_changed, document)
    clean = Heard(document.clean_changed, document)

    assert document.open_file(sample) is None
    assert len(replaced.args) == 1
    assert document.path == sample
    assert paths.args == [(sample,)]
    assert document.name == "hall.dclayout"
    assert sorted(document.project.items.ids) == ["R1", "R2", "R3", "R4", "R5"]
    assert not document.is_unsaved()

    document.undo_stack.push_command(MoveItems(["R5"], [22.0], [9.0]))
    assert document.is_unsaved()
    assert clean.args[-1] == (False,)
    before = sample.read_bytes()

    assert document.save() is None
    assert not document.is_unsaved()
    assert clean.args[-1] == (True,)
    assert dclayout.load(sample).items.get("R5").x == 22.0
    # The atomic save keeps the previous file beside it.
    assert sample.with_name(sample.name + ".bak").read_bytes() == before
    assert paths.args == [(sample,)]  # saved to its own file: the path did not change

    document.undo_stack.undo()
    assert document.is_unsaved()
    assert document.project.items.get("R5").x != 22.0


def test_project_replaced_fires_once_per_open_and_every_subscriber_sees_it(
    qtbot, document, sample, tmp_path
):
    other = tmp_path / "other.dclayout"
    shutil.copyfile(SAMPLE, other)
    scene = FloorScene(document.project)
    palette = PaletteDock(document.project.catalog)
    qtbot.addWidget(palette)
    document.project_replaced.connect(scene.set_project)
    document.project_replaced.connect(lambda p: palette.set_catalog(p.catalog))
    replaced = Heard(document.project_replaced, document)

    for count, path in enumerate((sample, other, sample), start=1):
        assert document.open_file(path) is None
        assert len(replaced.args) == count
        project = document.project
        assert replaced.args[-1] == (project,)
        assert replaced.held[-1] is project  # the document holds it before anyone hears
        assert scene.project is project
        assert palette.catalog is project.catalog
        assert sorted(scene.equipment_items()) == ["R1", "R2", "R3", "R4", "R5"]
        assert document.undo_stack.project is project
        assert document.undo_stack.count() == 0
        assert document.checker.project is project
        assert document.autosaver.project is project
        assert document.autosaver.original == path
    scene.detach()


def test_open_of_a_broken_file_keeps_the_project_and_the_file(qtbot, document, sample, tmp_path):
    assert document.open_file(sample) is None
    document.undo_stack.push_command(MoveItems(["R5"], [22.0], [9.0]))
    project, steps = document.project, document.undo_stack.count()
    broken = tmp_path / "broken.dclayout"
    broken.write_text(BROKEN, "utf-8")
    replaced = Heard(document.project_replaced, document)
    paths = Heard(document.path_changed, document)

    message = document.open_file(broken)

    assert message is not None
    assert message.startswith("broken.dclayout:")
    assert "\n" not in message
    assert document.project is project
    assert document.path == sample
    assert document.undo_stack.count() == steps
    assert document.is_unsaved()
    assert project.items.get("R5").x == 22.0
    assert replaced.args == []
    assert paths.args == []
    assert broken.read_text("utf-8") == BROKEN


def test_failed_save_returns_the_message_and_keeps_path_and_changes(document, sample, tmp_path):
    assert document.open_file(sample) is None
    document.undo_stack.push_command(MoveItems(["R5"], [22.0], [9.0]))
    message = document.save(tmp_path / "no such folder" / "plan.dclayout")
    assert message is not None
    assert "cannot write" in message
    assert document.path == sample
    assert document.is_unsaved()
    assert dclayout.load(sample).items.get("R5").x != 22.0


def test_save_as_adds_the_suffix_and_moves_the_document_to_the_new_file(document, tmp_path):
    paths = Heard(document.path_changed, document)
    assert document.save() is not None  # no file yet: nothing written
    assert document.save_as(tmp_path / "plan") is None
    target = tmp_path / "plan.dclayout"
    assert document.path == target
    assert paths.args == [(target,)]
    assert dclayout.load(target).floor.bounds == (0.0, 0.0, 20.0, 10.0)


def test_new_hall_and_a_generated_project(document):
    generated = generate(ClusterRequest(gpus=4096))
    document.open_generated(generated)
    assert document.project is generated
    assert document.path is None
    assert document.is_unsaved()  # generated: nothing of it is in a file
    assert document.name == (generated.name or "Untitled")

    document.new_hall(30.0, 15.0)
    assert document.project.floor.bounds == (0.0, 0.0, 30.0, 15.0)
    assert len(document.project.items) == 0
    assert not document.is_unsaved()  # nothing to lose yet


def test_checks_arrive_as_solver_outputs_then_results(qtbot, document, sample):
    heard: list[tuple[str, object]] = []
    document.solved_changed.connect(lambda s: heard.append(("solved", s)))
    document.checked.connect(lambda r: heard.append(("checked", r)))
    document.check_started.connect(lambda: heard.append(("started", None)))

    with qtbot.waitSignal(document.checked, timeout=20000):
        assert document.open_file(sample) is None
    kinds = [kind for kind, _ in heard]
    assert kinds == ["solved", "started", "solved", "checked"]
    assert heard[0][1] is None  # another project: the old outputs are gone at once
    assert isinstance(heard[2][1], Solution)
    results = heard[3][1]
    assert isinstance(results, physics.Results)
    assert document.results is results
    assert document.solved is heard[2][1]
    assert sorted(v.items for v in results.violations) == [("R1", "R2"), ("R3",)]


def test_autosave_while_unsaved_and_gone_after_a_save(document, sample):
    assert document.open_file(sample) is None
    assert document.autosave_now() is None  # nothing unsaved: nothing written
    document.undo_stack.push_command(MoveItems(["R5"], [22.0], [9.0]))
    written = document.autosave_now()
    assert written is not None
    assert [e.original for e in find_autosaves(autosave_dir())] == [sample]
    assert dclayout.load(sample).items.get("R5").x != 22.0  # the file itself is untouched
    assert document.save() is None
    assert not written.exists()
    assert find_autosaves(autosave_dir()) == []


def test_every_part_of_the_window_follows_an_open(qtbot, sample, tmp_path):
    window = MainWindow(dclayout.load(sample), sample, check_delay_ms=10)
    qtbot.addWidget(window)
    other = tmp_path / "other.dclayout"
    shutil.copyfile(SAMPLE, other)
    replaced = Heard(window.document.project_replaced, window.document)

    assert window.open_file(other)
    assert len(replaced.args) == 1
    project = window.document.project
    assert window.project is project
    assert window.scene.project is project
    assert window.editor.project is project
    assert window.inspector.project is project
    assert window.inspector.undo_stack is window.document.undo_stack
    assert window.palette.catalog is project.catalog
    assert window.violations_dock.results is None
    assert window.windowTitle() == "other.dclayout[*] — Coherence"
    qtbot.waitUntil(lambda: window.violations_dock.results is not None, timeout=20000)
    assert window.violations_dock.results is window.document.results
    assert window.inspector.results is window.document.results
    assert window.scene.equipment_item("R1").violated
