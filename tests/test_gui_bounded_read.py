"""The GUI's readers of outside data stay up: the clipboard, autosave notes, the underlay path.

Pasting goes through the real editor and clipboard; the recovery list reads real
sidecar files in the (per-test) autosave folder; the scene is built with the
underlay paths a hand-edited file can hold. Each used to raise; each now says what
is wrong in one line and carries on.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QRectF

from gui.autosave import AutosaveEntry, autosave_dir, find_autosaves, write_autosave
from gui.canvas.editor import ITEMS_MIME, Editor, put_on_clipboard
from gui.canvas.scene import FloorScene
from gui.canvas.view import FloorView
from gui.undo import UndoStack
from layout import dclayout
from layout.floor import Floor, UnderlayPlacement
from layout.items import Item
from layout.limits import MAX_NESTING_DEPTH
from layout.project import Project

ROOT = Path(__file__).resolve().parent.parent
VALID = ROOT / "tests" / "data" / "overlap_and_column.dclayout"
RACK = "colossus-hgx-h100-lc"
MAX_MESSAGE_CHARS = 200


@pytest.fixture
def editor(qtbot):
    project = Project(Floor.rectangle(20.0, 12.0), items=[Item("R1", RACK, 3.3, 3.6)])
    scene = FloorScene(project)
    view = FloorView(scene)
    view.resize(800, 500)
    editor = Editor(scene, view, UndoStack(project))
    messages: list[str] = []
    view.status_message.connect(messages.append)
    qtbot.addWidget(view)
    view.show()
    view.show_area(QRectF(0, 0, 20, 12))
    return editor, project, messages


def _paste(editor, payload: bytes) -> tuple[list[str], str]:
    ed, _, messages = editor
    mime = QMimeData()
    mime.setData(ITEMS_MIME, payload)
    put_on_clipboard(mime)
    added = ed.paste()
    return added, messages[-1] if messages else ""


def _row(**changes: object) -> dict[str, object]:
    return {"id": "R9", "type": RACK, "x": 5.0, "y": 5.0, "rotation": 0.0, **changes}


def _payload(*rows: dict[str, object]) -> bytes:
    return json.dumps({"format": "coherence.items", "version": 1, "items": list(rows)}).encode()


@pytest.mark.parametrize(
    ("payload", "said"),
    [
        (_payload(_row(x=10**400)), "items[0].x: a 401-digit number is beyond any usable number"),
        (_payload(_row(y=-(10**308))), "items[0].y: -1e+308 m is beyond ±100,000 m"),
        (_payload(_row(rotation=math.inf)), "items[0].rotation: expected a finite number, got inf"),
        (b'{"format": "coherence.items", "items": [{"x": ' + b"9" * 5000 + b"}]}", "too long"),
        (b"[" * 100_000 + b"]" * 100_000, f"at most {MAX_NESTING_DEPTH}"),
        (b'{"format": "coherence.items", "format": "x", "items": []}', 'key "format" appears'),
        (_payload(_row(type="t" * 100_000)), "unknown equipment type"),
        (_payload(_row(properties={"k" * 100_000: 1})), "longer than 64 characters"),
    ],
    ids=[
        "400-digit-x", "huge-negative-y", "infinite-rotation", "5000-digit-number",
        "100000-deep", "duplicate-key", "100-kB-type", "100-kB-property-name",
    ],
)  # fmt: skip
def test_pasting_hostile_json_changes_nothing_and_says_why(editor, payload, said) -> None:
    _, project, _ = editor
    before = dclayout.dumps(project)
    start = time.perf_counter()
    added, message = _paste(editor, payload)
    assert time.perf_counter() - start < 5.0
    assert added == []
    assert dclayout.dumps(project) == before
    assert message.startswith("Cannot paste: clipboard")
    assert said in message
    assert len(message.splitlines()) == 1
    assert len(message) <= MAX_MESSAGE_CHARS


def test_pasting_ordinary_items_still_works(editor) -> None:
    added, _ = _paste(editor, _payload(_row(x=6.0, y=6.0)))
    assert len(added) == 1


@pytest.mark.parametrize("saved_at", [1e300, -1e300, 10**400, "soon", None, True])
def test_a_sidecar_time_that_cannot_be_shown_falls_back_to_the_file_time(saved_at) -> None:
    folder = autosave_dir()
    entry = write_autosave(dclayout.load(VALID), None, folder, "hall-1234")
    note = json.loads(entry.sidecar.read_text("utf-8"))
    note["saved_at"] = saved_at
    entry.sidecar.write_text(json.dumps(note), "utf-8")
    [found] = find_autosaves(folder)
    assert found.saved_at == pytest.approx(entry.path.stat().st_mtime)
    assert "autosaved" in found.describe()


def test_a_hostile_sidecar_still_lists_the_autosave(tmp_path: Path) -> None:
    folder = autosave_dir()
    entry = write_autosave(dclayout.load(VALID), None, folder, "hall-5678")
    entry.sidecar.write_bytes(b"[" * 100_000)
    [found] = find_autosaves(folder)
    assert isinstance(found, AutosaveEntry)
    assert math.isfinite(found.saved_at)
    name = "n" * 10_000
    note = {"format": "coherence.autosave", "original": "a\0b", "saved_at": 1.0, "name": name}
    entry.sidecar.write_text(json.dumps(note), "utf-8")
    [found] = find_autosaves(folder)
    assert found.original is None
    assert found.saved_at == 1.0  # the note was read: its time is used
    assert len(found.describe()) < 300


@pytest.mark.parametrize("stored", ["plans/nul\0.dxf", "plans/" + "x" * 300 + ".dxf"])
def test_an_unusable_underlay_path_leaves_the_scene_up(qtbot, stored: str) -> None:
    placement = UnderlayPlacement(1.0, (0.0, 0.0), flip_y=True)
    floor = replace(Floor.rectangle(20.0, 12.0), underlay=stored, underlay_placement=placement)
    scene = FloorScene(Project(floor))
    assert scene.overlay("underlay") is None
    message = scene.underlay_message
    assert message.startswith("underlay ")
    assert len(message.splitlines()) == 1
    assert len(message) <= MAX_MESSAGE_CHARS
