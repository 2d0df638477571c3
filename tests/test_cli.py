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
        (
            ("new", "-o", "x.dclayout", "--gpus", "0"),
            "argument --gpus: expected a number ≥ 1, got 0",
        ),
        (
            ("new", "-o", "x.dclayout", "--gpus", "-64"),
            "argument --gpus: expected a number ≥ 1, got -64",
        ),
        (
            ("new", "-o", "x.dclayout", "--gpus", "1e5"),
            "argument --gpus: expected a whole number, got '1e5'",
        ),
        (
            ("new", "-o", "x.dclayout", "--gpus", "64", "--whole-arrays=maybe"),
            "argument --whole-arrays: expected yes or no, got 'maybe'",
        ),
        (
            ("new", "-o", "x.dclayout", "--gpus", "64", "--whole-arrays", "maybe"),
            "argument --whole-arrays: expected yes or no, got 'maybe'",
        ),
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


@pytest.mark.parametrize(
    ("args", "says"),
    [
        # 1,563 racks of 64 GPUs do not fit a 30 × 30 m hall with their aisles.
        (("--gpus", "100000", "--hall", "30x30"), "--hall: the hall is too small: it fits "),
        # 2 tiers of 128-port switches hold 128²/2 = 8,192 GPUs.
        (
            ("--gpus", "100000", "--tiers", "2"),
            "--tiers: 100,032 endpoints do not fit 2 tiers of 128-port switches",
        ),
        # A 64-port leaf takes 3 NVL72 racks of 18 trays (54 ports), not 4 (72).
        (
            ("--gpus", "1000", "--rack", "gb200-nvl72", "--racks-per-array", "4"),
            "--racks-per-array: an array of 72 servers needs 72 ports per leaf but a leaf has 64; "
            "use at most 3 racks per array",
        ),
        (("--gpus", "20000000"), "--gpus: 20,000,000 is outside 1..10,000,000"),
        (("--gpus", "1000", "--rack", "no-such-rack"), "--rack: 'no-such-rack' is not a GPU rack"),
    ],
)
def test_new_refuses_an_impossible_request_in_one_line(
    tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "x.dclayout"
    result = run("new", "-o", str(out), "--whole-arrays", "no", *args)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"coherence new: error: {says}"), lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert list(folder.iterdir()) == []


def test_new_says_what_was_asked_and_what_is_built(tmp_path: Path) -> None:
    # 100 GPUs: one 64-GPU rack holds 64, so 2 racks (128 GPUs); whole arrays change
    # nothing here (2 racks fill less than one 8-rack array, which is then the array).
    out = tmp_path / "small.dclayout"
    made = run("new", "-o", str(out), "--gpus", "100")
    assert made.returncode == 0, made.stderr
    assert "  100 GPUs requested, 128 built in 2 racks, " in made.stdout
    checked = run("check", str(out), "--json")
    summary = json.loads(checked.stdout)["summary"]
    assert (summary["gpus_requested"], summary["gpus"], summary["racks"]) == (100, 128, 2)
    assert (summary["scale_up_domains"], summary["scale_up_gpus"]) == (2 * 8, 8)
    untouched = run("check", str(SAMPLE), "--json")
    assert json.loads(untouched.stdout)["summary"]["gpus_requested"] is None


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
