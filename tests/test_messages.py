"""The model and the solvers speak in their own terms: no command-line option in a message.

Read from the source (no import, no import contract): every string in the code
of layout/ and physics/ that is not a docstring must not name a ``--option``.
The command line (main.py) puts the option in front of a message where one
applies, from the error's field (see ``main.option_of``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
"""A long option as the command line spells it: ``--gpus``, ``--network-rack``."""


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are docstrings (first statement of a module, class or def)
    or other bare string statements (attribute docs)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            found.add(id(node.value))
    return found


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
    ]


SOURCES = sorted((REPO / "layout").rglob("*.py")) + sorted((REPO / "physics").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_command_line_option_in_messages(path: Path) -> None:
    named = [f"{path.name}:{line}: {text!r}" for line, text in _strings(path)
             if OPTION.search(text)]  # fmt: skip
    assert named == []


def test_the_scan_finds_an_option_in_a_message() -> None:
    # The pattern catches what it is for, in an f-string's literal part too.
    tree = ast.parse('raise ValueError(f"--gpus: {n} is outside 1..10")')
    texts = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert any(OPTION.search(t) for t in texts)
    assert not OPTION.search("a 2--3 range and an em—dash")
