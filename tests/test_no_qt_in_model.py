"""The model and the solvers never import Qt (nor the GUI package).

Checked in a fresh interpreter, so nothing this test session already imported
can hide an import: every module under layout/ and physics/ is imported and
then sys.modules must hold no PySide6, shiboken6 or gui.
"""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PROBE = """
import importlib, json, pkgutil, sys

imported = []
for name in ("layout", "physics"):
    package = importlib.import_module(name)
    imported.append(name)
    for info in pkgutil.walk_packages(package.__path__, prefix=name + "."):
        importlib.import_module(info.name)
        imported.append(info.name)

forbidden = sorted(
    mod for mod in sys.modules
    if mod.split(".")[0] in ("PySide6", "shiboken6", "gui")
)
print(json.dumps({"imported": imported, "forbidden": forbidden}))
"""


def test_layout_and_physics_import_without_qt():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "layout" in report["imported"]
    assert "physics" in report["imported"]
    assert report["forbidden"] == [], (
        f"Qt or the GUI was imported by the model: {report['forbidden']}"
    )
