"""Every reader refuses what is not a small regular file of plain data, quickly and in one line.

The cases that are not ordinary files (a FIFO, /dev/zero, a device, a symlink loop,
a /proc file whose size reads 0) and the files too large or too odd for the
corpus (billion-laughs YAML, 50,000-deep YAML and JSON, DXF block references
nested to 10^9 entities, 150 MB of empty lists) are made here at run time. For
each: the reader raises its own error with one line naming the file and the
limit, within seconds; the worst ones are also measured in a subprocess for time
and peak memory. The model only: no Qt here (see test_gui_bounded_read.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import ezdxf
import pytest

from layout import dclayout
from layout.bounded_read import parse_json, read_bounded
from layout.catalog import load_catalog_file
from layout.dxf_import import DxfImportError, read_floor
from layout.errors import CatalogError, CoherenceError, ProjectFileError, shortened, shown_path
from layout.floor import UnderlayPlacement
from layout.limits import MAX_DXF_ENTITIES, MAX_ITEMS, MAX_NESTING_DEPTH, MAX_YAML_NODES
from layout.netbox import NetboxImportError, read_devicetype
from layout.underlay import UnderlayError, read_linework

ROOT = Path(__file__).resolve().parent.parent
VALID = ROOT / "tests" / "data" / "overlap_and_column.dclayout"
MAX_MESSAGE_CHARS = 200
SECONDS = 10.0
"""Every worst case answers within this."""
PEAK_MB = 1024
"""... and within this much memory."""

_LAUGHS = (
    '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"  {c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
)
"""Nine levels of nine aliases: 400 bytes that expand to 9^9 (387 million) strings."""
BILLION_LAUGHS = {
    # Each is walked where the reader looks (a type's name, a device type's interfaces): it
    # used to take 34 s and run out of memory at 2.7 GB (catalog), 10 s and 630 MB (NetBox).
    "catalog": "description:\n" + _LAUGHS + "types:\n  - id: r\n    kind: gpu_rack\n    name: *i\n",
    "devicetype": "x:\n" + _LAUGHS + "manufacturer: M\nmodel: m\ninterfaces: *i\n",
}


def _one_line(err: BaseException, name: str) -> str:
    message = str(err)
    assert len(message.splitlines()) == 1, message
    assert message.strip() == message
    assert len(message) <= MAX_MESSAGE_CHARS, message
    assert name in message, message
    return message


def _finishes(call: Callable[[], object], seconds: float = SECONDS) -> BaseException | None:
    """Run ``call`` in a thread; the error it raised, failing the test if it hangs."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as err:  # handed to the test to judge
            outcome.append(err)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still reading after {seconds:g} s"
    return outcome[0]


@pytest.fixture
def fifo(tmp_path: Path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    path = tmp_path / "pipe.dclayout"
    os.mkfifo(path)
    yield path
    # Release a reader that blocked despite everything (the test has failed by then).
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass


# -- files that are not regular files ---------------------------------------------------------
@pytest.mark.parametrize(
    ("reader", "error"),
    [
        (dclayout.load, ProjectFileError),
        (load_catalog_file, CatalogError),
        (read_devicetype, NetboxImportError),
        (read_floor, DxfImportError),
    ],
)
def test_a_fifo_is_refused_without_blocking(fifo: Path, reader, error) -> None:
    caught = _finishes(lambda: reader(fifo))
    assert isinstance(caught, error), caught
    assert "pipe (FIFO)" in _one_line(caught, "pipe.dclayout")


def test_a_fifo_as_underlay_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "pipe.dxf"
    os.mkfifo(path)
    placement = UnderlayPlacement(0.001, (0.0, 0.0), flip_y=True)
    caught = _finishes(lambda: read_linework(path, placement))
    assert isinstance(caught, UnderlayError), caught
    assert "pipe (FIFO)" in _one_line(caught, "pipe.dxf")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_refused(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    caught = _finishes(lambda: dclayout.load(device))
    assert isinstance(caught, ProjectFileError), caught
    assert "is a device, not a project file" in _one_line(caught, device)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProjectFileError) as caught:
        dclayout.load(tmp_path)
    assert "is a folder" in _one_line(caught.value, tmp_path.name)


def test_a_file_whose_size_reads_0_is_still_capped() -> None:
    # /proc files are regular files of size 0 with content: the cap holds anyway.
    proc = Path("/proc/self/maps")
    if not proc.exists() or proc.stat().st_size != 0:
        pytest.skip("no /proc file of size 0 here")
    with pytest.raises(ProjectFileError) as caught:
        read_bounded(proc, 100, ProjectFileError, what="project file")
    assert "more than the 100 bytes a project file may be" in _one_line(caught.value, "maps")
    assert read_bounded(proc, 10 * 2**20, ProjectFileError).startswith(b"")


def test_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.dclayout").symlink_to(tmp_path / "b.dclayout")
    (tmp_path / "b.dclayout").symlink_to(tmp_path / "a.dclayout")
    with pytest.raises(ProjectFileError) as caught:
        dclayout.load(tmp_path / "a.dclayout")
    assert "cannot read" in _one_line(caught.value, "a.dclayout")


def test_a_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    link = tmp_path / "link.dclayout"
    link.symlink_to(VALID)
    assert len(dclayout.load(link).items) == len(dclayout.load(VALID).items)


def test_a_path_with_a_newline_or_a_nul_is_one_line(tmp_path: Path) -> None:
    strange = tmp_path / "two\nlines.dclayout"
    strange.write_bytes(b"")
    with pytest.raises(ProjectFileError) as caught:
        dclayout.load(strange)
    message = _one_line(caught.value, "two\\nlines.dclayout")
    assert '"two\\nlines.dclayout": the file is empty' in message
    with pytest.raises(ProjectFileError) as caught:
        dclayout.load(str(tmp_path / "nul\0.dclayout"))
    assert "NUL" in _one_line(caught.value, "nul")


# -- JSON -------------------------------------------------------------------------------------
def _timed_subprocess(code: str, timeout: float = 60) -> dict[str, float | str]:
    """Run ``code`` in a fresh interpreter that prints the error of the read it does; its
    wall time and peak memory (ru_maxrss) come back with the message."""
    script = (
        "import json, resource, sys, time\n"
        "start = time.perf_counter()\n"
        "try:\n"
        + "".join(f"    {line}\n" for line in code.splitlines())
        + "    message = 'read without error'\n"
        "except Exception as err:\n"
        "    message = f'{type(err).__name__}: {err}'\n"
        "seconds = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'message': message, 'seconds': seconds, 'peak_mb': peak}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, cwd=ROOT, timeout=timeout, check=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    return json.loads(result.stdout.splitlines()[-1])


def test_150_mb_of_empty_lists_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "empty_lists.dclayout"
    with path.open("wb") as out:
        out.write(b'{"format": "coherence.dclayout", "version": 1, "items": [')
        out.write(b"[]," * (50 * 2**20))
        out.write(b"[]]}")
    measured = _timed_subprocess(f"from layout import dclayout\ndclayout.load({str(path)!r})")
    message = str(measured["message"])
    assert message.startswith("ProjectFileError: empty_lists.dclayout: its structure would take")
    assert "more than the 512 MB allowed" in message
    assert float(measured["seconds"]) < SECONDS
    assert float(measured["peak_mb"]) < PEAK_MB


def test_50000_deep_json_is_refused_quickly_naming_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "deep.dclayout"
    deep = b"[" * 50_000 + b"]" * 50_000
    path.write_bytes(b'{"format": "coherence.dclayout", "x": ' + deep + b"}")
    start = time.perf_counter()
    with pytest.raises(ProjectFileError) as caught:
        dclayout.load(path)
    assert time.perf_counter() - start < SECONDS
    message = _one_line(caught.value, "deep.dclayout")
    assert f"at most {MAX_NESTING_DEPTH}" in message
    assert "50,001 levels" in message


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"name": "[" * 500, "items": [{"x": "{{{" * 100}]})
    assert parse_json(text)["name"] == "[" * 500


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ('{"a": 1, "b": {"x": 1,\n "x": 2}}', 'line 2: the key "x" appears twice in one object'),
        ('{"a": 1,\n\n "a": 2}', 'line 3: the key "a" appears twice in the top-level object'),
    ],
)
def test_a_key_twice_in_one_object_is_refused_naming_the_line(text: str, place: str) -> None:
    with pytest.raises(ValueError, match=place):
        parse_json(text)
    # The same key in two different objects is fine.
    assert parse_json('[{"x": 1}, {"x": 2}]') == [{"x": 1}, {"x": 2}]


def test_more_items_than_the_cap_are_refused_by_estimate_or_count(tmp_path: Path) -> None:
    data = dclayout.to_data(dclayout.load(VALID))
    row = data["items"][0]
    rows = [dict(row, id=f"Z{k}") for k in range(MAX_ITEMS + 1)]
    path = tmp_path / "too_many.dclayout"
    path.write_text(json.dumps(dict(data, items=rows, item_count=len(rows))))
    measured = _timed_subprocess(f"from layout import dclayout\ndclayout.load({str(path)!r})")
    assert f"more than the {MAX_ITEMS:,}" in str(measured["message"])
    assert float(measured["peak_mb"]) < PEAK_MB


# -- YAML -------------------------------------------------------------------------------------
YAML_READERS = [(load_catalog_file, CatalogError), (read_devicetype, NetboxImportError)]


@pytest.mark.parametrize(
    ("reader", "error", "document"),
    [
        (load_catalog_file, CatalogError, BILLION_LAUGHS["catalog"]),
        (read_devicetype, NetboxImportError, BILLION_LAUGHS["devicetype"]),
    ],
)
def test_billion_laughs_yaml_is_refused_at_once(tmp_path: Path, reader, error, document) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(document)
    assert path.stat().st_size < 500
    start = time.perf_counter()
    with pytest.raises(error) as caught:
        reader(path)
    assert time.perf_counter() - start < 1.0
    message = _one_line(caught.value, "laughs.yaml")
    assert f"more than {MAX_YAML_NODES:,} values once its aliases" in message


@pytest.mark.parametrize(("reader", "error"), YAML_READERS)
def test_an_alias_inside_itself_is_refused(tmp_path: Path, reader, error) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("types: &t [*t]\n")
    with pytest.raises(error) as caught:
        reader(path)
    _one_line(caught.value, "loop.yaml")


@pytest.mark.parametrize(("reader", "error"), YAML_READERS)
@pytest.mark.parametrize("style", ["flow", "block"])
def test_deep_yaml_is_refused_naming_the_limit(tmp_path: Path, reader, error, style) -> None:
    path = tmp_path / "deep.yaml"
    if style == "flow":
        path.write_text("types: " + "[" * 50_000 + "]" * 50_000 + "\n")
    else:
        path.write_text("".join(" " * k + "- \n" for k in range(1000)))
    start = time.perf_counter()
    with pytest.raises(error) as caught:
        reader(path)
    assert time.perf_counter() - start < SECONDS
    assert f"nested deeper than {MAX_NESTING_DEPTH} levels" in _one_line(caught.value, "deep.yaml")


def test_yaml_aliases_within_the_cap_still_load(tmp_path: Path) -> None:
    # Anchors and aliases are ordinary YAML: a modest use of them reads as before.
    path = tmp_path / "anchors.yaml"
    path.write_text("a: &x [1, 2]\nb: *x\n")
    with pytest.raises(NetboxImportError, match="model"):  # read fine, not a device type
        read_devicetype(path)


# -- DXF --------------------------------------------------------------------------------------
def _nested_blocks(path: Path, levels: int = 8, fan_out: int = 10) -> Path:
    """A few kB of DXF whose block references, expanded, draw ``fan_out ** (levels + 1)``
    lines."""
    doc = ezdxf.new("R2010")
    doc.blocks.new("B0").add_line((0, 0), (1, 1), dxfattribs={"layer": "OUTLINE"})
    for level in range(1, levels + 1):
        block = doc.blocks.new(f"B{level}")
        for k in range(fan_out):
            block.add_blockref(f"B{level - 1}", (k, 0))
    for k in range(fan_out):
        doc.modelspace().add_blockref(f"B{levels}", (0, k), dxfattribs={"layer": "OUTLINE"})
    doc.saveas(path)
    return path


def test_nested_block_references_are_counted_before_expanding(tmp_path: Path) -> None:
    path = _nested_blocks(tmp_path / "nested.dxf")
    assert path.stat().st_size < 64 * 2**10
    measured = _timed_subprocess(
        f"from layout.dxf_import import read_floor\nread_floor({str(path)!r})"
    )
    message = str(measured["message"])
    assert message.startswith("DxfImportError: nested.dxf: more than")
    assert f"{MAX_DXF_ENTITIES:,} entities once its block references are expanded" in message
    assert float(measured["seconds"]) < SECONDS
    assert float(measured["peak_mb"]) < PEAK_MB


def test_nested_block_references_as_underlay_are_refused(tmp_path: Path) -> None:
    path = _nested_blocks(tmp_path / "nested.dxf")
    placement = UnderlayPlacement(0.001, (0.0, 0.0), flip_y=True)
    caught = _finishes(lambda: read_linework(path, placement))
    assert isinstance(caught, UnderlayError), caught
    assert "entities once its block references" in _one_line(caught, "underlay nested.dxf")


def test_few_nested_references_still_read(tmp_path: Path) -> None:
    path = _nested_blocks(tmp_path / "small.dxf", levels=2, fan_out=3)
    placement = UnderlayPlacement(1.0, (0.0, 0.0), flip_y=True)
    assert len(read_linework(path, placement)) == 3**3


@pytest.mark.parametrize("component", ["nul\0.dxf", "x" * 300 + ".dxf"])
def test_an_unusable_underlay_path_is_one_line(tmp_path: Path, component: str) -> None:
    placement = UnderlayPlacement(1.0, (0.0, 0.0), flip_y=True)
    with pytest.raises(UnderlayError) as caught:
        read_linework(str(tmp_path / component), placement)
    message = _one_line(caught.value, "underlay")
    assert "…" in message or "NUL" in message


# -- messages ---------------------------------------------------------------------------------
def test_shortened_values_keep_one_line_and_the_limit() -> None:
    ten_mb = "k" * 10 * 2**20
    start = time.perf_counter()
    short = shortened(ten_mb)
    assert time.perf_counter() - start < 0.5
    assert len(short) <= 60
    assert short.endswith("…")
    assert shortened("a\nb") == "a\\nb"
    middle = shown_path("/" + "d" * 300 + "/hall.dxf")
    assert middle.startswith('"/ddd')
    assert middle.endswith('/hall.dxf"')
    assert "…" in middle
    assert shown_path("/plans/hall.dxf") == "/plans/hall.dxf"
    assert shown_path("my plans/hall.dxf") == '"my plans/hall.dxf"'


def test_unknown_rule_key_of_10_mb_is_shortened(tmp_path: Path) -> None:
    data = dclayout.to_data(dclayout.load(VALID))
    path = tmp_path / "rules.dclayout"
    path.write_text(json.dumps(dict(data, rules={"k" * 10 * 2**20: 1.0})))
    with pytest.raises(ProjectFileError) as caught:
        dclayout.load(path)
    assert "unknown rule" in _one_line(caught.value, "rules.dclayout")


def test_every_refusal_is_a_coherence_error() -> None:
    for error in (ProjectFileError, CatalogError, NetboxImportError, DxfImportError, UnderlayError):
        assert issubclass(error, CoherenceError)


def test_a_binary_dxf_reads_as_its_ascii_twin(tmp_path: Path) -> None:
    # The drawing is parsed from the bounded bytes, not by ezdxf.readfile: both forms still read.
    ascii_path = tmp_path / "hall.dxf"
    doc = ezdxf.new("R2010")
    doc.modelspace().add_lwpolyline(
        [(0, 0), (30, 0), (30, 20), (0, 20)], close=True, dxfattribs={"layer": "OUTLINE"}
    )
    doc.saveas(ascii_path)
    doc.saveas(tmp_path / "hall_bin.dxf", fmt="bin")
    assert (tmp_path / "hall_bin.dxf").read_bytes().startswith(b"AutoCAD Binary DXF")
    ascii_floor = read_floor(ascii_path, scale=1.0).floor
    binary_floor = read_floor(tmp_path / "hall_bin.dxf", scale=1.0).floor
    assert ascii_floor.bounds == binary_floor.bounds == pytest.approx((0.0, 0.0, 30.0, 20.0))
