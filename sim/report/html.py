"""Render the report's context with jinja2 (autoescaped: text from configs and data shows as text) and write
``report.html`` and its tables into the run folder atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.report.build import build_context, report_tables
from sim.report.inputs import ReportInputs, load_inputs
from sim.runfolder import atomic_write_text

TEMPLATES = Path(__file__).resolve().parent / "templates"


def environment() -> Any:
    """The jinja2 environment: templates from ``templates/``, every ``{{ value }}`` HTML-escaped."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(context: dict[str, Any]) -> str:
    """The report as one HTML document."""
    return environment().get_template("report.html.j2").render(**context)


def render_inputs(inputs: ReportInputs, language: str) -> tuple[str, dict[str, Any]]:
    """The HTML in ``language`` and the tables behind it."""
    tables = report_tables(inputs)
    return render_html(build_context(inputs, language, tables)), tables


def write_report(folder: Path, language: str = "en", name: str = "report.html", tables: bool = True) -> list[Path]:
    """Write ``report.html`` (or ``name``) and, with ``tables``, the ``report_*.csv`` tables beside it, from a
    finished comparison's folder. Returns the paths written."""
    folder = Path(folder)
    html, frames = render_inputs(load_inputs(folder), language)
    written = [atomic_write_text(folder / name, html)]
    if tables:
        for key, frame in frames.items():
            written.append(atomic_write_text(folder / f"{key}.csv", frame.to_csv(index=False, float_format="%.6g")))
    return written
