"""Every broken project file in tests/corpus/ is refused cleanly.

Each corpus file has one problem, named by its file name. ``expected.json``
maps the file name to a substring the error message must contain: the place
of the problem (``items[1].x``, ``line 16, column 52``, ``byte 0``). A list
means any one of its substrings will do (a NaN can be placed by its field or
by its line).

For every file: the loader raises ProjectFileError with a one-line message
naming the place; the file and its folder are left exactly as they were; an
open project is untouched; and ``main.py check FILE`` exits 2 with one line on
stderr and no traceback. The CLI runs in-process for every file and as a real
subprocess for a handful (each subprocess costs about half a second).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import main as cli
from layout import dclayout
from layout.errors import ProjectFileError

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
VALID = ROOT / "tests" / "data" / "overlap_and_column.dclayout"
EXPECTED: dict[str, str | list[str]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))
FILES = sorted(p.name for p in CORPUS.glob("*.dclayout"))
MAX_MESSAGE_CHARS = 200
"""A message echoes values shortened, so it stays short enough to read in one line."""

# Run as real subprocesses: one per kind of failure (bytes, JSON, shape,
# semantics, size), plus the file whose loader bug shows as exit 3.
SUBPROCESS_FILES = [
    "empty_file.dclayout",
    "not_json_png_header.dclayout",
    "truncated_json.dclayout",
    "nan_literal.dclayout",
    "item_x_text.dclayout",
    "version_99.dclayout",
    "item_count_10e12.dclayout",
    "item_count_beyond_float.dclayout",
]


def _alternatives(name: str) -> list[str]:
    expected = EXPECTED[name]
    return [expected] if isinstance(expected, str) else list(expected)


def _assert_names_the_place(name: str, message: str) -> None:
    wanted = _alternatives(name)
    assert any(w in message for w in wanted), (
        f"{name}: the message does not name the place of the problem\n"
        f"  message: {message!r}\n  wanted one of: {wanted!r}"
    )


def _snapshot(path: Path) -> tuple[bytes, int, list[str]]:
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


def test_corpus_and_expectations_match() -> None:
    assert len(FILES) >= 25
    assert sorted(EXPECTED) == FILES
    for name in FILES:
        assert all(isinstance(w, str) and w for w in _alternatives(name)), name


def test_subprocess_files_are_in_the_corpus() -> None:
    assert set(SUBPROCESS_FILES) <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_load_refuses_with_one_line_naming_the_place(name: str) -> None:
    path = CORPUS / name
    before = _snapshot(path)
    with pytest.raises(ProjectFileError) as caught:
        dclayout.load(path)
    message = str(caught.value)
    assert type(caught.value) is ProjectFileError
    assert message
    assert message.strip() == message
    assert len(message.splitlines()) == 1, message
    assert len(message) <= MAX_MESSAGE_CHARS, message
    assert name in message, f"the message does not name the file: {message!r}"
    _assert_names_the_place(name, message)
    # Reading changed nothing: same bytes, same mtime, no .bak or .tmp beside it.
    assert _snapshot(path) == before


@pytest.mark.parametrize("name", FILES)
def test_open_project_is_untouched_by_a_failed_load(name: str) -> None:
    project = dclayout.load(VALID)
    text, data = dclayout.dumps(project), dclayout.to_data(project)
    items, rules, waivers = list(project.items), dict(project.rules), project.waivers
    with pytest.raises(ProjectFileError):
        dclayout.load(CORPUS / name)
    assert dclayout.dumps(project) == text
    assert dclayout.to_data(project) == data
    assert list(project.items) == items
    assert dict(project.rules) == rules
    assert project.waivers == waivers


@pytest.mark.parametrize("name", FILES)
def test_check_command_in_process_exits_2_with_one_line(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = CORPUS / name
    before = _snapshot(path)
    code = cli.main(["check", str(path)])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_UNREADABLE == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert name in lines[0]
    _assert_names_the_place(name, lines[0])
    assert _snapshot(path) == before


def _run_check(path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, "main.py", "check", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("name", SUBPROCESS_FILES)
def test_check_command_subprocess_exits_2_without_traceback(name: str) -> None:
    path = CORPUS / name
    before = _snapshot(path)
    result = _run_check(path)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    _assert_names_the_place(name, lines[0])
    assert _snapshot(path) == before


def test_check_command_subprocess_reads_the_valid_file() -> None:
    # The harness itself is sound: a readable file with two errors exits 1, not 2.
    result = _run_check(VALID)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert "2 error(s)" in result.stdout
