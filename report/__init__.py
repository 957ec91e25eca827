"""report.html: the one page a recruiter opens for a session, rendered from its record folder.

    python -m report sessions/<id>        # (re)writes sessions/<id>/report.html

The page is self-contained (inline CSS, SVG and a few lines of script; no network) and plays
`recording.wav` from beside it. Reading the record tolerates missing or corrupt files: the
page then says what is missing instead of failing. Modules: `record` (reading the folder),
`timing` (recording clock and seek times), `scorecard`, `timeline`, `latency`, `cost`
(one view each), `render` (Jinja2, autoescaped).
"""

from report.render import REPORT_FILE, render_report, write_report

__all__ = ["REPORT_FILE", "render_report", "write_report"]
