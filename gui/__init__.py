"""The Qt user interface: main window, floor-plan canvas, palette, inspector and docks.

Only this package (and ``report``, for offscreen rendering) imports Qt. It
never edits the model directly: every change goes through a command object
from ``layout`` wrapped in a ``QUndoStack``.
"""
