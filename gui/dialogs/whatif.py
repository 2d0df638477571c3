"""The what-if dialog: what is lost when units fail, as text, with the raw report under Details.

Owns the dialog only; the text is :func:`report.whatif_text.what_if_text`, the
same that ``main.py check --fail`` prints, and the details are the report's
JSON as ``check --fail --json`` gives it.
"""

from __future__ import annotations

import json

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget

from layout.project import Project
from physics.whatif import WhatIfReport
from report.whatif_text import what_if_text

TITLE_IDS = 3
"""Failed ids named in the window title before "…"."""


class WhatIfDialog(QDialog):
    """A what-if report: readable text, and the raw report under Details."""

    def __init__(
        self, report: WhatIfReport, project: Project, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.report = report
        failed = report.failed
        more = " …" if len(failed) > TITLE_IDS else ""
        self.setWindowTitle(f"What-if: {', '.join(failed[:TITLE_IDS])}{more} — Coherence")
        layout = QVBoxLayout(self)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setPlainText(what_if_text(report, project))
        self.text.setMinimumSize(560, 300)
        layout.addWidget(self.text)
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setPlainText(json.dumps(report.to_json(), indent=1, ensure_ascii=False))
        self.details.hide()
        layout.addWidget(self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        toggle = buttons.addButton("Details…", QDialogButtonBox.ButtonRole.ActionRole)
        toggle.clicked.connect(lambda: self.details.setVisible(self.details.isHidden()))
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
