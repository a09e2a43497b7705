"""The report of a fairness audit: every experiment=audit run writes report.html beside its tables, self-contained
and in English or Danish; it names the flagged groups in its summary and the alternatives it ran; and a real
headless Chromium opens it without a console message or a failed resource, showing every section and picture."""

from __future__ import annotations

import json

import pytest

from sim.report.audit import build_audit_context, load_audit_inputs
from sim.report.html import render_html
from tests.conftest import cli
from tests.test_audit import WORLD
from tests.test_report import Page, assert_not_blank, images, needs_chromium, open_in_chromium, rerender

#: A tool fully followed, audited with two of the default alternatives (two replications: a few seconds each).
AUDIT = [
    "experiment=audit",
    *WORLD,
    "policy.risk_tool.adherence=1",
    "audit.replications=2",
    "audit.workers=1",
    "~audit.scenarios.without_parent_data",
    "~audit.scenarios.without_psychiatric_unemployment",
    "~audit.scenarios.police_over_represented",
]
TABLES = ("fairness", "disparate_impact", "fairness_over_time", "calibration_by_group", "tradeoffs")
SECTIONS = ["summary", "inputs", "ranking", "errors", "impact", "retraining", "scenarios", "limits", "method"]
FIGURES = ["figure-calibration", "figure-fpr-ratio", "figure-over-time", "figure-tradeoff"]
LANGUAGES = {"report.html": "en", "report.da.html": "da"}


@pytest.fixture(scope="module")
def audit_run(tmp_path_factory):
    """``python -m sim experiment=audit`` as a user runs it, and its report again in Danish."""
    out = tmp_path_factory.mktemp("audit") / "run"
    proc = cli(*AUDIT, f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    rerender(out, "da")
    return out


def test_an_audit_writes_its_tables_and_report_into_the_manifest(audit_run):
    files = json.loads((audit_run / "MANIFEST.json").read_text())["files"]
    for name in [*(f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")), "report.html"]:
        assert name in files, name


def test_the_report_has_every_section_and_names_the_alternatives_it_ran(audit_run):
    page = Page((audit_run / "report.html").read_text())
    assert page.ids("section") == ["warnings", *SECTIONS]  # warned: 2 replications are few
    assert page.attrs("data-warning") == ["few_replications"]
    assert "Retrained every year" in page.plain and "Own thresholds for psychiatric contact" in page.plain
    assert "Without any parent data" not in page.plain  # not run
    danish = Page((audit_run / "report.da.html").read_text())
    assert "En gennemgang af risikoværktøjets ligebehandling" in danish.plain


def test_the_summary_names_a_flagged_group_and_says_when_none_is(audit_run):
    inputs = load_audit_inputs(audit_run)
    inputs.fairness["flagged"] = False
    assert "No group is flagged" in Page(render_html(build_audit_context(inputs, "en"))).plain
    row = (inputs.fairness["feature"] == "single_parent") & (inputs.fairness["level"] == "yes")
    inputs.fairness.loc[row & (inputs.fairness["metric"] == "fpr"), "flagged"] = True
    summary = build_audit_context(inputs, "en")["sections"][0].data["lead"]
    assert any("1 of the" in p and "Single parent: yes" in p for p in summary), summary


def test_the_summary_quotes_the_tools_auc_from_the_tradeoffs_table(audit_run):
    inputs = load_audit_inputs(audit_run)
    t = inputs.tradeoffs
    auc = t[(t["world"] == "tool") & (t["measure"] == "auc")]["value"].iloc[0]
    summary = build_audit_context(inputs, "en")["sections"][0].data["lead"][0]
    assert f"AUC of {auc:.3f}" in summary


@needs_chromium
@pytest.mark.parametrize("name", LANGUAGES)
def test_chromium_shows_the_audit_report_without_errors(audit_run, tmp_path, name):
    """Screenshots are left in the test's tmp dir (report.png, report.da.png) for a person to look at."""
    load = open_in_chromium(audit_run / name, tmp_path / name.replace(".html", ".png"))
    assert load.console == [], load.console
    assert load.failed == [], load.failed
    assert load.requests == [], load.requests
    dom = Page(load.dom)
    assert dom.ids("section") == ["warnings", *SECTIONS]
    assert dom.ids("figure") == FIGURES
    pictures = images(load.dom)
    assert len(pictures) == len(FIGURES)
    for picture in pictures:
        assert_not_blank(picture)
    assert dom.attrs("lang") == [LANGUAGES[name]]
