"""Reports and exports: PDF/HTML reports, CSV/XLSX bills of materials, PNG/SVG/DXF.

Renders a project together with its check results. It may use Qt's GUI module
headless (offscreen) for PDF and pictures, never widgets.
"""
