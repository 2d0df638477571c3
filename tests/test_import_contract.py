"""The import contract of DESIGN.md, checked by import-linter over the real import graph.

Data flows one way: gui → report → physics → layout. Any import against that
flow (layout→physics, layout→report, layout→gui, physics→gui, physics→report,
report→gui), lazy ones inside functions included, and any Qt import in the
model or the solvers, breaks the contract. The contracts live in
pyproject.toml; a second test runs the same contracts over a small tree with
one wrong import of each kind, so the contract is known to bite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = REPO / "pyproject.toml"


def lint_imports(root: Path, config: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the packages under ``root`` with the contracts in ``config``."""
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
         f"sys.exit(lint_imports(config_filename={str(config)!r}, no_cache=True))"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_project_keeps_its_import_contract() -> None:
    result = lint_imports(REPO, PYPROJECT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def _tree(root: Path, modules: dict[str, str]) -> None:
    for package in ("layout", "physics", "report", "gui"):
        (root / package).mkdir()
        (root / package / "__init__.py").write_text("")
    for name, body in modules.items():
        (root / f"{name.replace('.', '/')}.py").write_text(textwrap.dedent(body))


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("layout", "physics"),
        ("layout", "report"),
        ("layout", "gui"),
        ("physics", "gui"),
        ("physics", "report"),
        ("report", "gui"),
    ],
)
def test_an_import_against_the_flow_breaks_the_contract(
    tmp_path: Path, importer: str, imported: str
) -> None:
    # The import sits inside a function: lazy imports count as much as top-level ones.
    _tree(tmp_path, {
        f"{imported}.target": "VALUE = 1\n",
        f"{importer}.source": (
            f"def use():\n    from {imported}.target import VALUE\n    return VALUE\n"
        ),
    })  # fmt: skip
    config = tmp_path / "pyproject.toml"
    config.write_text(PYPROJECT.read_text(encoding="utf-8"), encoding="utf-8")
    result = lint_imports(tmp_path, config)
    assert result.returncode != 0, result.stdout
    assert f"{importer}.source -> {imported}.target" in result.stdout


def test_the_allowed_direction_keeps_the_contract(tmp_path: Path) -> None:
    _tree(tmp_path, {
        "layout.model": "VALUE = 1\n",
        "physics.solver": "from layout.model import VALUE\n",
        "report.writer": "from physics.solver import VALUE\n",
        "gui.window": "from report.writer import VALUE\n",
    })  # fmt: skip
    config = tmp_path / "pyproject.toml"
    config.write_text(PYPROJECT.read_text(encoding="utf-8"), encoding="utf-8")
    result = lint_imports(tmp_path, config)
    assert result.returncode == 0, result.stdout + result.stderr
