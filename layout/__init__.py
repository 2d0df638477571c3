"""The model of a hall being planned: catalog, floor, items, edits and project files.

Never imports Qt or anything from ``gui/``; solvers and the command line use it
headless, and a test enforces that.
"""
