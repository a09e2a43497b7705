"""Render the report's context with jinja2 (autoescaped: text from configs and data shows as text) and write
``report.html`` and its tables into the run folder atomically: a comparison's report, or a design diagnosis's
(a run's or a sweep's), by what the folder holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.report.audit import build_audit_context, is_audit, load_audit_inputs
from sim.report.build import build_context, report_tables
from sim.report.diagnosis import build_diagnosis_context, diagnosis_tables, is_diagnosis, load_diagnosis_inputs
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


def render_folder(folder: Path, language: str, inputs: Any = None) -> tuple[str, dict[str, Any]]:
    """The HTML and tables of a finished run folder: a comparison's (``comparison.parquet``), an audit's
    (``fairness.parquet``) or a design diagnosis's (``diagnosands.csv``; ``inputs`` as already read, e.g. with a
    sweep's chosen size)."""

    folder = Path(folder)
    if inputs is None and (folder / "comparison.parquet").exists():
        return render_inputs(load_inputs(folder), language)
    if inputs is None and is_audit(folder):
        audit = load_audit_inputs(folder)
        return render_html(build_audit_context(audit, language)), {}  # every number is in its tables
    if inputs is None and not is_diagnosis(folder):
        raise FileNotFoundError(
            f"{folder} holds neither comparison.parquet, diagnosands.csv nor fairness.parquet: not a comparison's, "
            "a diagnosis's or an audit's run folder"
        )
    inputs = inputs if inputs is not None else load_diagnosis_inputs(folder)
    tables = diagnosis_tables(inputs)
    return render_html(build_diagnosis_context(inputs, language, tables)), tables


def write_report(
    folder: Path, language: str = "en", name: str = "report.html", tables: bool = True, inputs: Any = None
) -> list[Path]:
    """Write ``report.html`` (or ``name``) and, with ``tables``, the ``report_*.csv`` tables beside it, from a
    finished comparison's or diagnosis's folder. Returns the paths written."""
    folder = Path(folder)
    html, frames = render_folder(folder, language, inputs)
    written = [atomic_write_text(folder / name, html)]
    if tables:
        for key, frame in frames.items():
            written.append(atomic_write_text(folder / f"{key}.csv", frame.to_csv(index=False, float_format="%.6g")))
    return written
