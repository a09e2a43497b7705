"""The policymaker's report: ``report.html``, one self-contained file (pictures embedded, nothing fetched) in
English or Danish, written into every comparison's and every design diagnosis's run folder (and a diagnosis
sweep's folder) with the tables behind it as CSV.

``write_report(folder, language)`` reads a finished comparison's or diagnosis's folder and writes ``report.html``
and the ``report_*.csv`` tables; ``python -m sim.report <folder> --language da`` renders an existing run again.
"""

from __future__ import annotations

from sim.report.build import build_context, report_tables
from sim.report.html import render_html, write_report
from sim.report.inputs import ReportInputs, load_inputs

__all__ = ["ReportInputs", "build_context", "load_inputs", "render_html", "report_tables", "write_report"]
