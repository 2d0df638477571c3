"""File → New Hall: the size of a new, empty rectangular hall.

Owns the question only (width and depth in metres, with the size a new hall
is offered with); the document makes the project from the answer.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QWidget

EMPTY_HALL_M = (60.0, 40.0)
"""Width and depth a new empty hall is offered with (and opens with at start-up)."""
SMALLEST_HALL_M = 2.0
LARGEST_HALL_M = 5000.0


class HallSizeDialog(QDialog):
    """File → New: the width and depth of a new rectangular hall."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New Hall — Coherence")
        form = QFormLayout(self)
        self.width_m = self._metres(EMPTY_HALL_M[0])
        self.depth_m = self._metres(EMPTY_HALL_M[1])
        form.addRow("&Width:", self.width_m)
        form.addRow("&Depth:", self.depth_m)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _metres(self, value: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setRange(SMALLEST_HALL_M, LARGEST_HALL_M)
        spin.setDecimals(1)
        spin.setSuffix(" m")
        spin.setValue(value)
        return spin

    def size_m(self) -> tuple[float, float]:
        """The width and depth chosen, in metres."""
        return self.width_m.value(), self.depth_m.value()
