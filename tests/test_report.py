"""The policymaker's report: every comparison writes report.html, self-contained and in English or Danish, with
the tables behind it as CSV; text from configs and data shows as text; and a real headless Chromium opens it
without a console message or a failed resource, shows every section and every picture."""

from __future__ import annotations

import base64
import io
import re
import shlex
import shutil
import string
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.config.validate import ConfigError
from sim.registry import compose_config
from sim.report.build import Change, build_context, change_words, law_name, report_tables
from sim.report.html import render_html
from sim.report.i18n import Locale, texts
from sim.report.inputs import load_inputs
from sim.runfolder import verify_manifest
from tests.conftest import IN_CI, ROOT, cli

SECTIONS = ("summary", "outcomes", "pictures", "costs", "method")
REPORT_CSVS = ("report_headlines", "report_flow", "report_over_time", "report_costs", "report_calibration")
FIGURES = ("figure-flow", "figure-over-time", "figure-caseload", "figure-costs")
SMALL_COMPARE = (
    "world=small",
    "world.years=2",
    "world.burn_in_years=2",
    "world.law=serviceloven",
    "compare.scenarios=[baseline,free_municipality,daycare_social_workers]",
    "compare.replications=2",
)


def rerender(folder: Path, language: str) -> None:
    """``python -m sim.report <folder> --language <language>``, as a user re-renders a finished run."""
    args = [sys.executable, "-m", "sim.report", str(folder), "--language", language]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    """``python -m sim`` on the small world with three scenarios, two replications and a short horizon, and the
    same report rendered again in Danish (``report.da.html``) by ``python -m sim.report``."""
    out = tmp_path_factory.mktemp("report") / "run"
    proc = cli(*SMALL_COMPARE, f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    rerender(out, "da")
    return out


@pytest.fixture(scope="module")
def default_run(tmp_path_factory) -> Path:
    """The default job exactly as a user runs it, ``python -m sim``, and its report again in Danish."""
    out = tmp_path_factory.mktemp("default") / "run"
    proc = cli(f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    rerender(out, "da")
    return out


class Page(HTMLParser):
    """What a reader sees: the elements with their attributes, and the text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.hidden = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self.hidden = tag in ("style", "script", "title")

    def handle_endtag(self, tag: str) -> None:
        self.hidden = False

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.text.append(data)

    def ids(self, tag: str) -> list[str]:
        return [a["id"] for t, a in self.tags if t == tag and "id" in a]

    def attrs(self, name: str) -> list[str]:
        return [a[name] for _, a in self.tags if name in a]

    @property
    def plain(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))


def images(html: str) -> list:
    """Every embedded picture, decoded."""
    from PIL import Image

    out = []
    for _, attrs in Page(html).tags:
        src = attrs.get("src", "")
        if src:
            assert src.startswith("data:image/png;base64,"), src[:60]
            out.append(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))
    return out


def assert_not_blank(image, min_size: tuple[int, int] = (300, 150)) -> None:
    """A picture with a real size and more than a flat colour: something is drawn on it."""
    assert image.size[0] >= min_size[0] and image.size[1] >= min_size[1], image.size
    pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 5, "the picture is (nearly) one colour"
    assert (pixels < 128).mean() > 0.002, "nothing dark is drawn: no text or lines"


# ------------------------------------------------------------------ the run folder
def test_every_comparison_writes_the_report_and_its_tables_into_the_manifest(small_run):
    manifest = yaml.safe_load((small_run / "MANIFEST.json").read_text())["files"]
    for name in ("report.html", *(f"{t}.csv" for t in REPORT_CSVS), "comparison.csv", "truth.csv"):
        assert (small_run / name).exists(), name
        assert name in manifest, name
    assert verify_manifest(small_run), "re-rendering in Danish must not touch the run's files"
    assert (small_run / "report.da.html").exists()


def test_the_report_tables_hold_the_numbers_the_report_shows(small_run):
    flow = pd.read_csv(small_run / "report_flow.csv")
    assert list(flow["stage"].unique()) == ["reports", "screened", "investigations", "measures", "placements"]
    base = flow[flow["scenario"] == "baseline"].set_index("stage")["per_year"]
    assert base["reports"] > base["screened"] > base["placements"] > 0  # a funnel
    comparison = pd.read_csv(small_run / "comparison.csv")
    reports = comparison[(comparison["scenario"] == "baseline") & (comparison["outcome"] == "reports_per_1000")]
    assert base["reports"] == pytest.approx(reports["mean"].iloc[0] * 5000 / 1000, rel=1e-5)
    costs = pd.read_csv(small_run / "report_costs.csv").set_index("scenario")
    total = comparison[(comparison["outcome"] == "cost_total")].set_index("scenario")["mean"]
    assert costs["cost_total"].to_dict() == pytest.approx(total.to_dict(), rel=1e-5)
    assert (costs["cost_per_child_helped"] * costs["children_helped"]).to_dict() == pytest.approx(
        total.to_dict(), rel=1e-5
    )
    over = pd.read_csv(small_run / "report_over_time.csv")
    assert set(over["year"]) == {2020, 2021}
    headlines = pd.read_csv(small_run / "report_headlines.csv")
    assert set(headlines["scenario"]) == {"free_municipality", "daycare_social_workers"}
    free = headlines[(headlines["scenario"] == "free_municipality") & (headlines["headline"] == "caseload")].iloc[0]
    assert free["difference"] < 0 and free["verdict"] == "better"  # more caseworkers: fewer cases each


def test_every_report_table_is_in_the_data_dictionary(small_run):
    from tests.test_outputs import documented_columns

    documented = documented_columns()
    for name in REPORT_CSVS:
        columns = list(pd.read_csv(small_run / f"{name}.csv").columns)
        assert list(documented[f"{name}.csv"]) == columns, name


# ------------------------------------------------------------------ content, languages, numbers
@pytest.mark.parametrize("name", ["report.html", "report.da.html"])
def test_the_report_has_every_section_and_picture(small_run, name):
    html = (small_run / name).read_text(encoding="utf-8")
    page = Page(html)
    assert page.ids("section") == ["warnings", *SECTIONS]
    assert page.ids("figure") == list(FIGURES)
    pictures = images(html)
    assert len(pictures) == len(FIGURES)
    for picture in pictures:
        assert_not_blank(picture)


def test_the_report_speaks_the_configured_language(small_run):
    en = Page((small_run / "report.html").read_text(encoding="utf-8"))
    da = Page((small_run / "report.da.html").read_text(encoding="utf-8"))
    assert ("html", {"lang": "en"}) in en.tags and ("html", {"lang": "da"}) in da.tags
    assert "Summary in plain words" in en.plain and "Sammenfatning i almindelige ord" in da.plain
    assert "5,000 children" in en.plain and "5.000 børn" in da.plain
    # the same numbers, each in its language's format
    assert re.search(r"\b\d+\.\d\b", en.plain) and re.search(r"\b\d+,\d\b", da.plain)
    for english in ("Summary", "Outcomes", "How this was made", "likely between", "Baseline"):
        assert english not in da.plain, english


def test_a_scenario_s_headlines_rest_on_the_assumed_parameters_of_every_policy_it_names():
    from sim.report.build import assumed_parameters

    assert assumed_parameters("staffing") == []  # its one number is a setting
    combined = assumed_parameters("risk_tool+staffing")
    assert combined == ["policy.risk_tool.adherence", "policy.risk_tool.cost_per_year_dkk"]
    assert "policy.early_prevention.followup_months" not in assumed_parameters("early_prevention")  # published


@pytest.mark.parametrize(("name", "words"), [("report.html", "set by assumption"), ("report.da.html", "antaget")])
def test_the_report_marks_every_headline_that_rests_on_an_assumed_effect_size(small_run, name, words):
    headlines = pd.read_csv(small_run / "report_headlines.csv", keep_default_na=False)
    free = headlines[headlines["scenario"] == "free_municipality"]
    assert set(free["assumed_parameters"]) == {
        "policy.free_municipality.assessment_months;policy.free_municipality.assessment_start_days;"
        "policy.free_municipality.caseload;policy.free_municipality.assessment_hidden_revealed;"
        "policy.free_municipality.followup_months;"
        "policy.free_municipality.start_delay_factor;policy.free_municipality.review_noise_factor;"
        "policy.free_municipality.involvement_reduction"
    }
    html = (small_run / name).read_text(encoding="utf-8")
    article = re.search(r'<article class="policy" data-scenario="free_municipality">.*?</article>', html, re.S)
    assert article is not None
    marked = re.findall(r"<li>.*?</li>", article.group(0), re.S)
    assert len(marked) == len(free) and all('<sup class="assumed">†</sup>' in li for li in marked)
    note = Page(article.group(0)).plain
    assert words in note and "free_municipality.start_delay_factor" in note


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_report_names_the_law_the_agency_worked_under(small_run):
    """The small run works under the Social Services Act; the default is barnets lov."""
    en = Page((small_run / "report.html").read_text(encoding="utf-8")).plain
    da = Page((small_run / "report.da.html").read_text(encoding="utf-8")).plain
    assert "working under the Social Services Act (serviceloven, SEL), over 2 years" in en
    assert "der arbejder efter serviceloven (SEL), over 2 år" in da
    assert law_name(Locale("en"), {"law": "barnets_lov"}) == "the Children's Act (barnets lov, BL)"
    assert law_name(Locale("da"), {}) == "barnets lov (BL)"


#: The sections the report cites for an investigation, a preventive measure and help at home, by regime.
SECTIONS_CITED = {"serviceloven": ("§ 50", "§ 11", "§ 52"), "barnets_lov": ("§ 20", "§ 30", "§ 32")}


@pytest.mark.parametrize("language", ["en", "da"])
@pytest.mark.parametrize(("law", "other"), [("barnets_lov", "serviceloven"), ("serviceloven", "barnets_lov")])
def test_the_texts_cite_the_sections_of_the_law_in_force_and_no_other(language, law, other):
    every = " ".join(str(v) for v in texts(language, law).values())
    assert "[[" not in every
    assert all(section in every for section in SECTIONS_CITED[law])
    assert not any(section in every for section in SECTIONS_CITED[other])


def test_a_report_under_serviceloven_counts_section_50_investigations(small_run):
    en = Page((small_run / "report.html").read_text(encoding="utf-8")).plain
    da = Page((small_run / "report.da.html").read_text(encoding="utf-8")).plain
    assert "§ 50 investigations" in en and "§ 20" not in en
    assert "§ 50-undersøgelser" in da and "§ 20" not in da


@pytest.mark.slow
def test_the_default_report_counts_section_20_investigations_under_barnets_lov(default_run):
    en = Page((default_run / "report.html").read_text(encoding="utf-8")).plain
    da = Page((default_run / "report.da.html").read_text(encoding="utf-8")).plain
    assert "§ 20 investigations" in en and "§ 50" not in en
    assert "§ 20-undersøgelser" in da and "§ 50" not in da


@pytest.mark.slow
def test_the_default_report_says_what_the_risk_tool_predicts_how_common_it_is_and_its_held_out_auc(default_run):
    performance = pd.read_parquet(default_run / "results" / "risk_tool" / "risk_tool_performance.parquet")
    row = performance[(performance["group"] == "all") & (performance["horizon_months"] == 12)].iloc[0]
    assert row["target"] == "placed_12m"
    en = Page((default_run / "report.html").read_text(encoding="utf-8")).plain
    da = Page((default_run / "report.da.html").read_text(encoding="utf-8")).plain
    assert f"predicts a placement within 12 months of a report, which followed {100 * row['observed']:.1f}%" in en
    assert f"AUC of {row['auc']:.2f}" in en
    assert f"AUC på {row['auc']:.2f}".replace(".", ",") in da and "forudsiger en anbringelse" in da


def test_the_risk_tool_sentence_falls_back_to_3_months_in_a_run_too_short_for_12():
    from sim.report.build import tool_sentence

    short = pd.DataFrame(
        {
            "target": ["placed_3m", "placed_12m"],
            "group": ["all", "all"],
            "horizon_months": [3, 12],
            "reports": [400, 0],
            "auc": [0.71, np.nan],
            "observed": [0.03, np.nan],
        }
    )
    text = tool_sentence(Locale("en"), short)
    assert "a placement within 3 months of a report, which followed 3.0% of the 400 reports" in text
    assert "AUC of 0.71" in text
    assert tool_sentence(Locale("en"), None) == tool_sentence(Locale("en"), short.iloc[:0]) == ""


def test_every_text_is_in_both_languages_with_the_same_placeholders():
    en, da = texts("en"), texts("da")
    assert set(en) == set(da)
    for key, text in en.items():
        if isinstance(text, str):
            assert placeholders(text) == placeholders(da[key]), key
        else:
            assert len(text) == len(da[key]), key


def test_every_outcome_cost_item_and_policy_has_a_label_in_both_languages():
    from sim.config.schema import MEASURE_TYPES
    from sim.hooks import Policy
    from sim.policies import POLICIES
    from sim.report.build import BREACHES
    from sim.summary import OUTCOMES

    for language in ("en", "da"):
        t = texts(language)
        for o in OUTCOMES:
            assert f"outcomes.labels.{BREACHES.get(o.name, o.name)}" in t, o.name
            assert f"outcomes.units.{o.unit}" in t, o.unit
        for item in ("caseworkers", "investigations", *MEASURE_TYPES, "total"):
            assert f"costs.items.{item}" in t, item
        for name, policy in POLICIES.items():
            assert f"scenarios.{name}" in t and f"describe.{name}" in t, name
            if policy.yearly_costs is not Policy.yearly_costs:  # a running cost of its own, item named after it
                assert f"costs.items.{name}" in t, name
            for label in policy.unit_costs.values():  # its unit costs in the table of unit costs used
                assert f"costs.unit_items.{label}" in t, label


def test_numbers_are_written_the_way_each_language_writes_them():
    en, da = Locale("en"), Locale("da")
    assert en.number(1234.5, 1) == "1,234.5" and da.number(1234.5, 1) == "1.234,5"
    assert en.number(-0.25, 2) == "−0.25" and da.number(-0.25, 2, signed=True) == "−0,25"
    assert en.number(3, 0, signed=True) == "+3" and en.number(-0.004, 2) == "0.00"
    assert en.percent(0.123) == "12.3%" and da.percent(0.123) == "12,3 %"
    assert en.money_millions(47_120_000) == "47.1 million DKK" and da.money_millions(47_120_000) == "47,1 mio. kr."
    assert en.money(1_160_000) == "1,160,000 DKK" and da.money(1_160_000) == "1.160.000 kr."
    assert en.about(40.3) == "40" and en.about(0.897) == "0.9" and da.about(1234) == "1.200"


def test_a_change_is_said_in_words_with_its_uncertainty():
    en, da = Locale("en"), Locale("da")
    fewer = Change(10.0, 8.0, 12.0, -40.0, -55.0, -25.0, "lower", 3)
    assert change_words(en, fewer, "count") == "down by about 40, likely between 25 and 55"
    assert change_words(da, fewer, "count") == "ned med omkring 40, sandsynligvis mellem 25 og 55"
    assert fewer.verdict == "better"
    unclear = Change(10.0, 8.0, 12.0, 2.0, -1.5, 5.5, "lower", 3)
    assert change_words(en, unclear, "days") == "no clear change: somewhere between 1.5 down and 5.5 up days"
    assert unclear.verdict == "unclear"
    single = Change(10.0, np.nan, np.nan, 0.3, np.nan, np.nan, "higher", 1)
    assert change_words(en, single, "dkk") == "up by about 0.3 million DKK (one replication: no interval)"
    assert single.verdict == "unclear"
    same = Change(10.0, 10.0, 10.0, 0.0, 0.0, 0.0, "lower", 3)
    assert change_words(en, same, "count") == "no change" and same.verdict == "same"


# ------------------------------------------------------------------ warnings at the top
def test_warnings_come_first_and_say_in_plain_words_what_is_wrong(small_run):
    inputs = load_inputs(small_run)
    html = render_html(build_context(inputs, "en"))
    page = Page(html)
    assert page.ids("section")[0] == "warnings"
    kinds = page.attrs("data-warning")
    assert "not_settled" in kinds  # two years of burn-in: the world had not settled
    assert "single_replication" not in kinds

    one = inputs.comparison.copy()
    one["replications"] = 1
    one[["mc_lower", "mc_upper", "difference_lower", "difference_upper"]] = np.nan
    inputs.comparison = one
    base = (one["scenario"] == "baseline") & (one["outcome"] == "placed_per_1000")
    one.loc[base, "mean"] = 100.0  # far outside the published 9-12 per 1,000
    inputs.convergence_failures = ["R-hat 1.3 for the treatment effect"]
    page = Page(render_html(build_context(inputs, "en", report_tables(inputs))))
    kinds = page.attrs("data-warning")
    assert kinds[:4] == ["single_replication", "calibration_failed", "not_settled", "convergence_failed"]
    assert "a single simulated world (one replication)" in page.plain
    assert "children placed on 31 December" in page.plain
    assert "R-hat 1.3 for the treatment effect" in page.plain


def test_without_event_logs_the_report_says_what_is_missing(small_run):
    inputs = load_inputs(small_run)
    inputs.monthly, inputs.taken_further = {}, {}
    html = render_html(build_context(inputs, "da", report_tables(inputs)))
    page = Page(html)
    assert "no_event_logs" in page.attrs("data-warning")
    assert page.ids("figure") == list(FIGURES)
    assert len(images(html)) == 2  # the flow (without its screening step) and the costs
    assert page.plain.count("Ikke tilgængelig for denne kørsel.") == 2


# ------------------------------------------------------------------ escaping, offline, size
SCRIPT = "<script>alert(1)</script>"


def test_text_from_configs_and_data_is_shown_as_text(small_run, tmp_path):
    """Scenario names are checked against the policies (``compare.scenarios``), so a hostile name can only come
    from an edited table; the world's name is free text in the config. Both must show as text."""
    with pytest.raises(ConfigError, match=r"compare\.scenarios\[1\]"):
        compose_config(["compare.scenarios=[baseline,'<script>alert(1)</script>']"])
    folder = tmp_path / "run"
    shutil.copytree(small_run, folder)
    table = pd.read_parquet(folder / "comparison.parquet")
    table["scenario"] = table["scenario"].replace("free_municipality", SCRIPT)
    table.to_parquet(folder / "comparison.parquet")
    config = (folder / "config.yaml").read_text()
    (folder / "config.yaml").write_text(config.replace("name: small", "name: <img src=x onerror=alert(2)>", 1))
    html = render_html(build_context(load_inputs(folder), "en"))
    page = Page(html)
    assert not [t for t, _ in page.tags if t in ("script", "iframe", "object", "embed")]
    assert [a for _, a in page.tags if "onerror" in a] == []
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert SCRIPT in page.plain  # the reader sees the name itself
    assert "<img src=x onerror=alert(2)>" in page.plain


@pytest.mark.parametrize("name", ["report.html", "report.da.html"])
def test_the_report_fetches_nothing(small_run, name):
    page = Page((small_run / name).read_text(encoding="utf-8"))
    for url in page.attrs("src"):
        assert url.startswith("data:image/png;base64,"), url[:60]
    for url in page.attrs("href"):
        assert url.startswith("#"), url
    assert not [t for t, _ in page.tags if t in ("script", "link", "iframe")]
    assert not re.search(r"https?://", " ".join(page.attrs("src") + page.attrs("href") + page.attrs("style")))
    assert "@import" not in (small_run / name).read_text() and "url(" not in (small_run / name).read_text()


def test_the_report_is_small(small_run):
    assert (small_run / "report.html").stat().st_size < 1_500_000


@pytest.mark.slow
def test_the_default_runs_report_is_under_5_mb(default_run):
    for name in ("report.html", "report.da.html"):
        assert (default_run / name).stat().st_size < 5_000_000


def test_the_report_language_is_checked_at_start():
    assert compose_config(["report.language=da"]).report.language == "da"
    with pytest.raises(ConfigError, match=r"report\.language = 'fr' is not allowed: choose one of en, da"):
        compose_config(["report.language=fr"])
    proc = cli("report.language=sv")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: report.language = 'sv' is not allowed: choose one of en, da"


def test_the_report_names_the_command_that_reproduces_it(small_run, tmp_path):
    command = "python -m sim " + " ".join(shlex.quote(o) for o in SMALL_COMPARE)
    page = Page((small_run / "report.html").read_text(encoding="utf-8"))
    assert command in page.plain
    # without Hydra's record of the overrides (a run started from Python), the config's differences say the same
    shutil.copytree(small_run, tmp_path / "run", ignore=shutil.ignore_patterns(".hydra", "scenarios"))
    assert load_inputs(tmp_path / "run").command == command


# ------------------------------------------------------------------ a real browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: In CI (.ci/run) the browser tests must run, and fail if Chromium is missing.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not IN_CI,
    reason="Debian's chromium is not installed here (.ci/run installs it: apt-get install chromium)",
)
#: The browser's own background requests (sign-in, updates, clock), not the page's.
BROWSER_HOSTS = re.compile(r"^https?://([\w.-]+\.)?(google\.com|googleapis\.com|gstatic\.com|gvt1\.com)(/|$)")


@dataclass
class PageLoad:
    """What headless Chromium did with a page: the DOM after loading, console messages, failed resources, every
    URL the page asked for besides itself, and the screenshot."""

    dom: str
    console: list[str]
    failed: list[str]
    requests: list[str]
    screenshot: Path


def open_in_chromium(page: Path, screenshot: Path) -> PageLoad:
    """Load ``page`` in headless Chromium with the network off, logging to stderr: console messages are
    ``CONSOLE`` lines, and every file or network request is logged at ``--v=1`` (FileURLLoader,
    NotifyBeforeURLRequest)."""
    assert CHROMIUM, "Chromium is required in CI (CHILDWELFARE_CI=1): apt-get install chromium"
    profile = screenshot.parent / f"{screenshot.stem}-profile"
    args = [
        CHROMIUM,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        "--disable-extensions",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-background-networking",
        "--disable-component-update",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # the network is off
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=1",
        f"--screenshot={screenshot}",
        "--window-size=1280,4000",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    own = page.resolve().as_uri()
    log = proc.stderr.splitlines()
    files = [m.group(1) for line in log if (m := re.search(r"FileURLLoader::Start: (\S+)", line))]
    network = [m.group(1) for line in log if (m := re.search(r"NotifyBeforeURLRequest: (\S+)", line))]
    return PageLoad(
        dom=proc.stdout,
        console=[line for line in log if re.search(r":CONSOLE[:(]", line)],
        failed=[line for line in log if "Failed to load resource" in line],
        requests=[u for u in files if u != own] + [u for u in network if not BROWSER_HOSTS.match(u)],
        screenshot=screenshot,
    )


@needs_chromium
def test_the_browser_check_catches_console_errors_and_missing_resources(tmp_path):
    """The check itself: a broken page must fail it, or a clean result would mean nothing."""
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<!DOCTYPE html><html><body><img src="missing.png"><img src="http://example.invalid/x.png">'
        '<script>console.error("boom")</script></body></html>'
    )
    load = open_in_chromium(broken, tmp_path / "broken.png")
    assert any("boom" in line for line in load.console)
    assert any(u.endswith("/missing.png") for u in load.requests)
    assert "http://example.invalid/x.png" in load.requests


def check_in_chromium(folder: Path, tmp_path: Path, name: str) -> None:
    load = open_in_chromium(folder / name, tmp_path / name.replace(".html", ".png"))
    assert load.console == [], load.console
    assert load.failed == [], load.failed
    assert load.requests == [], load.requests
    dom = Page(load.dom)
    assert dom.ids("section") == ["warnings", *SECTIONS] or dom.ids("section") == list(SECTIONS)
    assert dom.ids("figure") == list(FIGURES)
    pictures = images(load.dom)
    assert len(pictures) == len(FIGURES)
    for picture in pictures:
        assert_not_blank(picture)
    from PIL import Image

    shot = Image.open(load.screenshot)
    assert shot.size == (1280, 4000)
    assert_not_blank(shot)


@needs_chromium
@pytest.mark.parametrize("name", ["report.html", "report.da.html"])
def test_chromium_shows_the_report_without_errors(small_run, tmp_path, name):
    """Screenshots are left in the test's tmp dir (report.png, report.da.png) for a person to look at."""
    check_in_chromium(small_run, tmp_path, name)


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("name", ["report.html", "report.da.html"])
def test_chromium_shows_the_default_runs_report_without_errors(default_run, tmp_path, name):
    check_in_chromium(default_run, tmp_path, name)
