"""The main window's docks: equipment palette, inspector and violations list."""
