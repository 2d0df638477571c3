"""The command line as a user runs it: a real subprocess, real files, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "overlap_and_column.dclayout"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def test_check_reports_exactly_the_overlap_and_the_column() -> None:
    result = run("check", str(SAMPLE))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    error_lines = [line for line in lines if line.startswith("error")]
    assert len(error_lines) == 2
    assert any("placement.overlap" in line and "R1, R2" in line for line in error_lines)
    assert any(
        "placement.on_obstacle" in line and "R3" in line and "C1" in line for line in error_lines
    )
    assert "2 error(s)" in lines[-1]


def test_check_json_lists_the_violations() -> None:
    result = run("check", str(SAMPLE), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["format"] == "coherence.check"
    assert report["ok"] is False
    assert report["summary"]["racks"] == 5
    assert report["summary"]["gpus"] == 5 * 64
    assert report["summary"]["errors"] == 2
    got = sorted((v["rule"], tuple(v["items"])) for v in report["violations"])
    assert got == [("placement.on_obstacle", ("R3",)), ("placement.overlap", ("R1", "R2"))]
    overlap = next(v for v in report["violations"] if v["rule"] == "placement.overlap")
    assert overlap["position"] == pytest.approx([5.15, 6.0])


def test_clean_project_exits_zero(tmp_path: Path) -> None:
    data = json.loads(SAMPLE.read_text())
    data["items"] = [i for i in data["items"] if i["id"] in ("R1", "R4")]
    data["item_count"] = 2
    clean = tmp_path / "clean.dclayout"
    clean.write_text(json.dumps(data))
    result = run("check", str(clean))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s)" in result.stdout


def test_disable_skips_a_rule_and_unknown_rule_is_named() -> None:
    result = run("check", str(SAMPLE), "--disable", "placement.overlap", "--json")
    assert [v["rule"] for v in json.loads(result.stdout)["violations"]] == ["placement.on_obstacle"]
    bad = run("check", str(SAMPLE), "--disable", "placement.nope")
    assert bad.returncode == 2
    assert "placement.nope" in bad.stderr


def test_help_and_unknown_flags() -> None:
    top = run("--help")
    assert top.returncode == 0
    assert "check" in top.stdout
    assert "rules" in top.stdout
    sub = run("check", "--help")
    assert "--json" in sub.stdout
    assert "Exit status" in sub.stdout
    wrong = run("check", str(SAMPLE), "--jsn")
    assert wrong.returncode == 2
    assert "unrecognized arguments: --jsn" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_rules_lists_every_rule() -> None:
    result = run("rules")
    assert result.returncode == 0
    for rule_id in (
        "placement.outside_floor",
        "placement.overlap",
        "placement.on_obstacle",
        "placement.service_aisle",
    ):
        assert rule_id in result.stdout


def test_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run("check", str(tmp_path / "absent.dclayout"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "absent.dclayout: no such file" in result.stderr


# -- usage errors and printed names ---------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("new", "-o", "x.dclayout", "--gpus", "8", "--bogus"), "unrecognized arguments: --bogus"),
        (("new", "--gpus", "8"), "the following arguments are required: -o/--output"),
        (("new", "-o", "x.dclayout", "--gpus", "abc"), "argument --gpus: "),
        (("new", "-o", "x.dclayout", "--gpus", "8", "--tiers", "9"), "argument --tiers: "),
    ],
)
def test_new_usage_errors_are_one_line_with_a_hint(args: tuple[str, ...], says: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("coherence new: error: ")
    assert says in lines[0]
    assert lines[0].endswith("; see 'python main.py new --help'")
    assert "usage:" not in result.stderr
    assert result.stdout == ""


def test_usage_errors_of_the_other_commands_name_them() -> None:
    wrong = run("check", str(SAMPLE), "--jsn")
    assert wrong.stderr == (
        "coherence check: error: unrecognized arguments: --jsn; see 'python main.py check --help'\n"
    )
    top = run("--frobnicate")
    assert top.returncode == 2
    assert top.stderr == (
        "coherence: error: unrecognized arguments: --frobnicate; see 'python main.py --help'\n"
    )
    long = run("check", str(SAMPLE), "--" + "x" * 5000 + "\x1b[2J")
    assert len(long.stderr.splitlines()) == 1
    assert len(long.stderr) < 300
    assert "\x1b" not in long.stderr


def test_printed_names_and_paths_carry_no_control_characters(tmp_path: Path) -> None:
    project = tmp_path / "p.dclayout"
    new = run("new", "-o", str(project), "--gpus", "64", "--name", "red\x1b[31m\x07")
    assert new.returncode == 0, new.stderr
    assert "wrote " in new.stdout
    assert "red\\u001b[31m\\u0007" in new.stdout
    exported = run("export", str(project), "-o", str(tmp_path / "a\x1b[2Jb.csv"))
    assert exported.returncode == 0, exported.stderr
    assert "a\\u001b[2Jb.csv" in exported.stdout
    for output in (new.stdout, exported.stdout):
        assert "\x1b" not in output
        assert "\x07" not in output
