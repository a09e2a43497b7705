"""The report of a design diagnosis: every experiment=diagnose run (and a sweep's summary) writes report.html,
self-contained and in English or Danish, with report_diagnosands.csv beside it; failed and non-converged fits are
said at the top and never shown as 0% power; text from configs and data shows as text; and a real headless
Chromium opens it without a console message or a failed resource, shows every section and every picture."""

from __future__ import annotations

import re
import shutil
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.diagnosis.diagnosands import DIAGNOSANDS, diagnose
from sim.report.diagnosis import build_diagnosis_context, load_diagnosis_inputs
from sim.report.html import render_html
from sim.report.i18n import Locale
from sim.runfolder import verify_manifest
from tests.conftest import cli
from tests.test_report import (
    SCRIPT,
    Page,
    assert_not_blank,
    images,
    needs_chromium,
    open_in_chromium,
    rerender,
)

FAST = ["experiment=diagnose", "trial=synthetic_household", "diagnose.fast=true", "diagnose.progress=false"]
RUN = (*FAST, "trial.households=80", "diagnose.replications=30")
SECTIONS = ["warnings", "summary", "diagnosands", "pictures", "method"]
SWEEP_SECTIONS = ["warnings", "summary", "points", "pictures", "method"]
FIGURES = ["figure-sampling", "figure-intervals"]
LANGUAGES = {"report.html": "en", "report.da.html": "da"}


def diagnosis(out, store, *overrides: str) -> None:
    proc = cli(*overrides, f"diagnose.store={store}", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A small fast diagnosis (80 households, 30 replications: seconds), and its report again in Danish."""
    root = tmp_path_factory.mktemp("diagnose")
    diagnosis(root / "run", root / "store", *RUN)
    rerender(root / "run", "da")
    return root / "run"


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    """A design point where every fit fails: one household, so every trial has a single arm."""
    root = tmp_path_factory.mktemp("failing")
    diagnosis(root / "run", root / "store", *FAST, "trial.households=1", "diagnose.replications=5")
    rerender(root / "run", "da")
    return root / "run"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A sweep over two sizes and two effects, its report in Danish (report.language=da) and again in English."""
    root = tmp_path_factory.mktemp("sweep")
    sizes = ("trial.households=40,120", "trial.treated_risk=0.2,0.25")
    proc = cli("-m", *FAST, "diagnose.replications=20", *sizes, "report.language=da",
               f"diagnose.store={root / 'store'}", f"hydra.sweep.dir={root / 'sweep'}")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rerender(root / "sweep", "en")
    return root / "sweep"


def page(folder, name="report.html") -> Page:
    return Page((folder / name).read_text(encoding="utf-8"))


def power(folder) -> pd.Series:
    return pd.read_csv(folder / "diagnosands.csv").set_index("diagnosand").loc["power"]


# ------------------------------------------------------------------ the run folder
def test_every_diagnosis_writes_the_report_and_its_table_into_the_manifest(run):
    manifest = yaml.safe_load((run / "MANIFEST.json").read_text())["files"]
    for name in ("report.html", "report_diagnosands.csv", "diagnosands.csv", "replications.parquet"):
        assert (run / name).exists() and name in manifest, name
    assert verify_manifest(run), "re-rendering in Danish must not touch the run's files"


def test_the_report_table_holds_every_diagnosand_in_the_reports_units(run):
    from tests.test_outputs import documented_columns

    table = pd.read_csv(run / "report_diagnosands.csv")
    source = pd.read_csv(run / "diagnosands.csv").set_index("diagnosand")
    assert list(table["diagnosand"]) == list(DIAGNOSANDS)
    rows = table.set_index("diagnosand")
    assert rows.loc["power", "unit"] == "percent"
    assert rows.loc["power", "value"] == pytest.approx(100 * source.loc["power", "value"])
    assert rows.loc["power", "mc_lower"] == pytest.approx(
        max(0, 100 * (source.loc["power", "value"] - 1.96 * source.loc["power", "mcse"])), rel=1e-5
    )
    assert rows.loc["bias", "unit"] == "percentage_points"  # a risk difference
    assert rows.loc["bias", "mcse"] == pytest.approx(100 * source.loc["bias", "mcse"])
    assert rows.loc["n_used", "unit"] == "count" and np.isnan(rows.loc["n_used", "mcse"])
    described = [c if not c.startswith("trial.") else "trial.<setting>" for c in table.columns]
    assert list(dict.fromkeys(described)) == list(documented_columns()["report_diagnosands.csv"])


# ------------------------------------------------------------------ content, languages, numbers
@pytest.mark.parametrize("name", LANGUAGES)
def test_the_report_has_every_section_and_picture(run, name):
    html = (run / name).read_text(encoding="utf-8")
    p = Page(html)
    assert ("html", {"lang": LANGUAGES[name]}) in p.tags
    assert p.ids("section") == SECTIONS
    assert p.ids("figure") == FIGURES
    pictures = images(html)
    assert len(pictures) == len(FIGURES)
    for picture in pictures:
        assert_not_blank(picture)
    rows = [a["data-diagnosand"] for t, a in p.tags if t == "tr" and "data-diagnosand" in a]
    assert rows == list(DIAGNOSANDS)


def test_the_summary_says_in_plain_words_how_often_the_design_detects_the_effect(run):
    row = power(run)
    source = pd.read_csv(run / "diagnosands.csv").set_index("diagnosand")
    coverage = source.loc["coverage_90"]
    for name, language in LANGUAGES.items():
        t = Locale(language)
        text = page(run, name).plain
        pct, pm = t.percent(row["value"], 1), t.number(196 * row["mcse"], 1)
        cov = t.percent(coverage["value"], 1)
        if language == "en":
            assert (f"With 80 households of 3 reports each, randomised by household, this design detects an "
                    f"effect of this size {pct} of the time (Monte Carlo uncertainty ±{pm} percentage points)"
                    ) in text  # fmt: skip
            assert 'risk difference −10.0 percentage points in "faring badly within 12 months of a report"' in text
            assert f"The 90% interval contains the truth {cov} of the time" in text
            assert "On average the estimate is off by" in text
        else:
            assert (f"Med 80 husstande med 3 underretninger hver, lodtrukket efter husstand opdager dette design en "
                    f"virkning af denne størrelse i {pct} af tilfældene (Monte Carlo-usikkerhed ±{pm} procentpoint)"
                    ) in text  # fmt: skip
            assert 'risikoforskel −10,0 procentpoint i "i mistrivsel inden for 12 måneder' in text
            assert f"90 %-intervallet indeholder den sande værdi i {cov} af tilfældene" in text
            for english in ("Summary", "Power", "percentage points", "of the time", "Bias"):
                assert english not in text, english
            assert re.search(r"\b\d+,\d\b", text)


def test_the_report_names_the_command_that_reproduces_it(run, tmp_path):
    store = yaml.safe_load((run / "config.yaml").read_text())["diagnose"]["store"]
    command = "python -m sim " + " ".join([*RUN, f"diagnose.store={store}"])
    assert command in page(run).plain
    # without Hydra's record (a run started from Python), the config's differences name the same run
    shutil.copytree(run, tmp_path / "run", ignore=shutil.ignore_patterns(".hydra"))
    again = load_diagnosis_inputs(tmp_path / "run").meta.command.split()
    assert set(again) == set(command.split())


# ------------------------------------------------------------------ warnings at the top
def test_too_few_replications_are_said_at_the_top(run):
    p = page(run)
    assert p.attrs("data-warning") == ["few_replications"]
    assert "Only 30 simulated trials could be used" in p.plain
    assert "diagnose.replications=" in p.plain


def test_failed_and_nonconverged_fits_are_counted_at_the_top(run):
    inputs = load_diagnosis_inputs(run)
    reps = inputs.replications.copy()
    reps.loc[:2, ["failed", "converged"]] = [True, False]
    reps.loc[:2, "error"] = "step fit: DataError: the treated arm has no units"
    reps.loc[3:4, "converged"] = False
    reps.loc[3:4, "warnings"] = "R-hat 1.05 > 1.01"
    table = diagnose(reps, "interval95_excludes_null")
    design = inputs.diagnosands.drop(columns=["diagnosand", "value", "mcse", "n", "note"]).iloc[: len(table)]
    inputs.diagnosands = pd.concat([design.reset_index(drop=True), table], axis=1)
    inputs.replications = reps
    for language, words in (("en", ("3 of the 30", "2 of the 30", "R-hat 1.05", "not counted as")),
                            ("da", ("3 af de 30", "2 af de 30", "R-hat 1.05", "tælles ikke som"))):  # fmt: skip
        p = Page(render_html(build_diagnosis_context(inputs, language)))
        assert p.ids("section")[0] == "warnings"
        assert p.attrs("data-warning") == ["failed", "nonconverged", "few_replications"]
        for word in words:
            assert word in p.plain, (language, word)
        assert "the treated arm has no units" in p.plain


@pytest.mark.parametrize("name", LANGUAGES)
def test_a_point_where_every_fit_fails_says_so_first_and_shows_no_zero_power(failing, name):
    assert np.isnan(power(failing)["value"])
    html = (failing / name).read_text(encoding="utf-8")
    p = Page(html)
    assert p.ids("section") == SECTIONS
    assert p.attrs("data-warning") == ["all_failed"]
    (warning,) = re.findall(r'<li data-warning="all_failed">(.*?)</li>', html, re.S)
    unknown = {"en": "power is unknown. It is not 0%", "da": "styrke er ukendt. Den er ikke 0 %"}[LANGUAGES[name]]
    assert unknown in " ".join(warning.split())
    assert "arm" in warning  # the first error, as the estimator said it
    zero = {"en": r"\b0(\.0)?%", "da": r"\b0(,0)? %"}[LANGUAGES[name]]
    said = re.findall(zero, p.plain)
    assert len(said) == 2, said  # "not 0%" in the warning and in the summary, never 0% as a value
    value = re.search(r'data-diagnosand="power"><td>[^<]*</td><td class="value">([^<]*)<', html)
    assert value.group(1) == {"en": "unknown", "da": "ukendt"}[LANGUAGES[name]]
    assert images((failing / name).read_text(encoding="utf-8")) == []  # no picture of estimates that do not exist
    assert p.ids("figure") == FIGURES


# ------------------------------------------------------------------ escaping, offline
def test_text_from_configs_and_data_is_shown_as_text(failing, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(failing, folder)
    reps = pd.read_parquet(folder / "replications.parquet")
    reps["error"] = SCRIPT
    reps.to_parquet(folder / "replications.parquet")
    table = pd.read_csv(folder / "diagnosands.csv")
    table["outcome"] = "<img src=x onerror=alert(2)>"
    table["trial.households"] = "<b>1</b>"
    table.to_csv(folder / "diagnosands.csv", index=False)
    config = (folder / "config.yaml").read_text()
    (folder / "config.yaml").write_text(config.replace("name: default", "name: <iframe src=x></iframe>", 1))
    for language in LANGUAGES.values():
        html = render_html(build_diagnosis_context(load_diagnosis_inputs(folder), language))
        p = Page(html)
        assert not [t for t, _ in p.tags if t in ("script", "iframe", "object", "embed", "b")]
        assert [a for _, a in p.tags if "onerror" in a] == []
        assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert SCRIPT in p.plain  # the reader sees the error message itself
        assert "<iframe src=x></iframe>" in p.plain and "<b>1</b>" in p.plain


@pytest.mark.parametrize("name", LANGUAGES)
def test_the_report_fetches_nothing(run, name):
    text = (run / name).read_text(encoding="utf-8")
    p = Page(text)
    assert all(u.startswith("data:image/png;base64,") for u in p.attrs("src"))
    assert all(u.startswith("#") for u in p.attrs("href"))
    assert not [t for t, _ in p.tags if t in ("script", "link", "iframe")]
    assert "@import" not in text and "url(" not in text and not re.search(r"(src|href)=\"https?://", text)


# ------------------------------------------------------------------ a sweep
@pytest.mark.parametrize("name", ["report.html", "report.en.html"])
def test_a_sweep_writes_one_summary_report_with_the_power_curve(sweep, name):
    html = (sweep / name).read_text(encoding="utf-8")
    p = Page(html)
    assert p.ids("section") == SWEEP_SECTIONS
    assert p.ids("figure") == ["figure-power-curve"]
    (curve,) = images(html)
    assert_not_blank(curve)
    assert "few_replications" in p.attrs("data-warning")
    if name == "report.html":  # report.language=da
        assert ("html", {"lang": "da"}) in p.tags and "Styrke efter størrelse" in p.plain
        assert "med 40 husstande opdager designet den i" in p.plain
    else:
        assert "with 40 households the design detects it" in p.plain
    assert "python -m sim -m experiment=diagnose" in p.plain
    rows = [t for t, a in p.tags if t == "tr"]
    assert len(rows) >= 5  # four design points and the header
    table = pd.read_csv(sweep / "report_diagnosands.csv")
    assert table["point"].nunique() == 4
    for run_folder in ("0", "1", "2", "3"):  # each point has its own report, in the sweep's language
        assert ("html", {"lang": "da"}) in page(sweep / run_folder).tags


def test_a_sweep_point_where_every_fit_failed_is_named_at_the_top_and_left_out_of_the_curve(sweep):
    inputs = load_diagnosis_inputs(sweep)
    long = inputs.diagnosands
    dead, some = list(dict.fromkeys(long["point"]))[:2]
    usable = ~long["diagnosand"].str.startswith("n_")
    long.loc[(long["point"] == dead) & usable, ["value", "mcse"]] = np.nan
    for point, used, failed in ((dead, 0, 20), (some, 17, 3)):
        for diagnosand, value in (("n_used", used), ("n_failed", failed)):
            long.loc[(long["point"] == point) & (long["diagnosand"] == diagnosand), "value"] = value
    html = render_html(build_diagnosis_context(inputs, "en"))
    p = Page(html)
    assert p.attrs("data-warning") == ["all_failed", "failed", "few_replications"]
    assert "At 1 of the 4 design points every simulated trial failed, so the power there is unknown (not 0%)" in p.plain
    assert "At 1 of the 4 design points some simulated trials failed" in p.plain and ": 3 of 20" in p.plain
    assert len(re.findall(r'<tr class="unknown">', html)) == 1
    assert p.plain.count("unknown") >= 4  # the dead point's power, bias, RMSE and coverage
    (curve,) = images(html)
    assert_not_blank(curve)


# ------------------------------------------------------------------ a real browser
def check_in_chromium(folder, tmp_path, name, sections, figures) -> None:
    load = open_in_chromium(folder / name, tmp_path / name.replace(".html", ".png"))
    assert load.console == [], load.console
    assert load.failed == [], load.failed
    assert load.requests == [], load.requests
    dom = Page(load.dom)
    assert dom.ids("section") == sections
    assert dom.ids("figure") == figures
    for picture in images(load.dom):
        assert_not_blank(picture)
    from PIL import Image

    shot = Image.open(load.screenshot)
    assert_not_blank(shot)


@needs_chromium
@pytest.mark.parametrize("name", LANGUAGES)
def test_chromium_shows_the_diagnosis_report_without_errors(run, tmp_path, name):
    """Screenshots are left in the test's tmp dir (report.png, report.da.png) for a person to look at."""
    check_in_chromium(run, tmp_path, name, SECTIONS, FIGURES)


@needs_chromium
@pytest.mark.parametrize("name", ["report.html", "report.en.html"])
def test_chromium_shows_the_sweep_report_without_errors(sweep, tmp_path, name):
    check_in_chromium(sweep, tmp_path, name, SWEEP_SECTIONS, ["figure-power-curve"])


@needs_chromium
def test_chromium_shows_a_failed_diagnosis_without_errors(failing, tmp_path):
    check_in_chromium(failing, tmp_path, "report.da.html", SECTIONS, FIGURES)


def test_python_m_sim_report_refuses_a_folder_that_is_no_run(tmp_path):
    import subprocess

    from tests.conftest import ROOT

    proc = subprocess.run([sys.executable, "-m", "sim.report", str(tmp_path)], capture_output=True, text=True,
                          cwd=ROOT, check=False)  # fmt: skip
    assert proc.returncode == 2
    assert "neither comparison.parquet, diagnosands.csv nor fairness.parquet" in proc.stderr


@pytest.mark.slow  # simulates the default world's twins (about 20 s)
def test_a_default_size_household_rct_diagnosis_report_is_complete_and_small(tmp_path):
    """``python -m sim experiment=diagnose trial=household_rct diagnose.fast=true``: 200 replications of 2,000
    reports in the default world."""
    out = tmp_path / "run"
    diagnosis(out, tmp_path / "store", "experiment=diagnose", "trial=household_rct", "diagnose.fast=true",
              "diagnose.progress=false")  # fmt: skip
    rerender(out, "da")
    for name in LANGUAGES:
        html = (out / name).read_text(encoding="utf-8")
        assert (out / name).stat().st_size < 1_000_000
        p = Page(html)
        assert p.ids("section")[-4:] == SECTIONS[1:] and p.ids("figure") == FIGURES
        for picture in images(html):
            assert_not_blank(picture)
    assert "With 2,000 reports randomised by household, this design detects" in page(out).plain
