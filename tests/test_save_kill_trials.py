"""A save killed at any moment loses nothing: 1,000 SIGKILLs at random times.

A zygote process imports Coherence and generates two versions of a mid-size
project (32,768 and 24,576 GPUs, about 200 KB each) once. For each trial it
forks a child that saves the two versions alternately to the same file, over
and over, with :func:`layout.dclayout.save`; the test kills the child with
SIGKILL after a random delay (up to two saves long, so kills land in every
phase of a save: writing the temporary, flushing, staging the backup,
renaming), and then looks at the folder:

- the project file is byte for byte one of the two versions (each of which
  loads back equal to its project);
- the ``.bak``, whenever it exists, is one of the two versions too;
- at most the temporaries of one killed save are left (the next save removes
  the ones before), and after one more ordinary save none is left.

Forking a warm zygote makes a trial cost milliseconds rather than an
interpreter start. Figures (kills, outcomes, time) are printed (``-s``).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from layout import atomic_file, dclayout

ROOT = Path(__file__).resolve().parent.parent
KILLS = 1000
SEED = 11
BUDGET_S = 300.0

ZYGOTE = r"""
import os, sys, time
from layout import dclayout
from layout.generator import ClusterRequest, generate
from physics.tray_sizing import size_trays

target, expected_dir = sys.argv[1], sys.argv[2]
versions = [
    generate(ClusterRequest(gpus=32768, name="Kill trial A"), tray_sizer=size_trays),
    generate(ClusterRequest(gpus=24576, name="Kill trial B"), tray_sizer=size_trays),
]
for name, project in zip("AB", versions):
    with open(os.path.join(expected_dir, name), "w", encoding="utf-8", newline="\n") as out:
        out.write(dclayout.dumps(project))
started = time.perf_counter()
for k in range(6):
    dclayout.save(versions[k % 2], target)
print(f"ready {(time.perf_counter() - started) / 6:.6f}", flush=True)

for line in sys.stdin:
    command, argument = line.split()
    if command == "go":
        pid = os.fork()
        if pid == 0:
            try:
                k = int(argument)
                while True:
                    dclayout.save(versions[k % 2], target)
                    k += 1
            except BaseException as err:
                os.write(2, f"save failed: {type(err).__name__}: {err}\n".encode())
                os._exit(70)
        print(pid, flush=True)
    elif command == "reap":
        _, status = os.waitpid(int(argument), 0)
        print(status, flush=True)
"""


class Zygote:
    """The zygote process and the one save loop it may have running."""

    def __init__(self, target: Path, expected_dir: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
        self.process = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE, str(target), str(expected_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        self.child: int | None = None
        word, save_s = self._ask(None).split()
        assert word == "ready"
        self.save_s = float(save_s)

    def _ask(self, line: str | None) -> str:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        if line is not None:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the zygote ended (exit {self.process.poll()})"
        return answer.strip()

    def start_saving(self, first_version: int) -> None:
        self.child = int(self._ask(f"go {first_version}"))

    def kill(self) -> int:
        """SIGKILL the save loop; its wait status."""
        assert self.child is not None
        os.kill(self.child, signal.SIGKILL)
        status = int(self._ask(f"reap {self.child}"))
        self.child = None
        return status

    def close(self) -> None:
        if self.child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.child, signal.SIGKILL)
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill trials fork a warm zygote")
def test_a_thousand_saves_killed_at_random_moments_lose_nothing(tmp_path: Path) -> None:
    folder, expected_dir = tmp_path / "hall", tmp_path / "expected"
    folder.mkdir()
    expected_dir.mkdir()
    target = folder / "cluster.dclayout"
    backup = folder / "cluster.dclayout.bak"
    pattern = atomic_file.temporary_pattern(target)
    rng = random.Random(SEED)
    outcomes: Counter[str] = Counter()
    started = time.perf_counter()

    zygote = Zygote(target, expected_dir)
    try:
        versions = {(expected_dir / n).read_bytes(): n for n in "AB"}
        for text in versions:
            assert dclayout.dumps(dclayout.loads(text)).encode("utf-8") == text
        longest_delay = 2 * zygote.save_s
        for trial in range(KILLS):
            zygote.start_saving(rng.randrange(2))
            time.sleep(rng.uniform(0, longest_delay))
            status = zygote.kill()
            assert os.WIFSIGNALED(status), f"trial {trial}: the save loop ended by itself"
            assert os.WTERMSIG(status) == signal.SIGKILL

            current = target.read_bytes()
            assert current in versions, f"trial {trial}: the project file is neither version"
            outcomes[f"file is version {versions[current]}"] += 1
            if backup.exists():
                assert backup.read_bytes() in versions, f"trial {trial}: .bak is neither version"
                outcomes["a .bak existed and was a whole version"] += 1
            left = [n for n in os.listdir(folder) if pattern.fullmatch(n)]
            # Only the killed save's own temporaries: the new file's and the staged backup.
            assert len(left) <= 2, f"trial {trial}: temporaries pile up: {left}"
            if left:
                outcomes["killed mid-save (temporaries left)"] += 1
                sizes = {(folder / n).stat().st_size for n in left}
                if not sizes <= {len(t) for t in versions}:
                    outcomes["killed mid-write (a partial temporary left)"] += 1
            assert set(os.listdir(folder)) - set(left) == {target.name, backup.name}
            if trial % 100 == 0:
                assert dclayout.load(target).name.startswith("Kill trial")
    finally:
        zygote.close()

    final = dclayout.load(target)
    assert dclayout.dumps(final).encode("utf-8") in versions
    assert dclayout.dumps(dclayout.load(backup)).encode("utf-8") in versions
    dclayout.save(final, target)
    assert sorted(os.listdir(folder)) == [target.name, backup.name]
    seconds = time.perf_counter() - started
    print(
        f"\nkill trials: {KILLS} SIGKILLs in {seconds:.1f} s "
        f"(save {zygote.save_s * 1000:.1f} ms, kill within {longest_delay * 1000:.0f} ms); "
        + "; ".join(f"{name}: {count}" for name, count in sorted(outcomes.items()))
    )
    assert seconds < BUDGET_S
