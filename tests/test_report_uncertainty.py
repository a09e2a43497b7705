"""The comparison report's "How sure can we be?": present when a PSA of the same comparison is in the store, in
both languages, its numbers those of the PSA's tables, shown by Chromium without errors."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from sim.runfolder import verify_manifest
from tests.conftest import cli
from tests.test_report import CHROMIUM, Page, assert_not_blank, images, needs_chromium, open_in_chromium, rerender

WORLD = ("world=small", "world.years=3", "world.burn_in_years=2", "seed=11")
SCENARIOS = "[baseline,free_municipality,daycare_social_workers]"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A PSA of 16 draws, then the comparison of the same world and scenarios (which finds it in the store) with its
    report again in Danish, and the same run folder without the PSA's tables, its report rendered again."""
    root = tmp_path_factory.mktemp("uncertainty")
    store = f"psa.store={root / 'store'}"
    psa = cli("experiment=psa", *WORLD, f"psa.scenarios={SCENARIOS}", "psa.draws=16", "psa.progress=false", store,
              f"hydra.run.dir={root / 'psa'}")  # fmt: skip
    assert psa.returncode == 0, psa.stderr
    compare = cli(*WORLD, f"compare.scenarios={SCENARIOS}", "compare.replications=2", store,
                  f"hydra.run.dir={root / 'compare'}")  # fmt: skip
    assert compare.returncode == 0, compare.stderr
    assert "How sure can we be?" in compare.stdout
    rerender(root / "compare", "da")
    without = root / "without"  # the same run folder without the PSA's tables, rendered again
    shutil.copytree(root / "compare", without)
    shutil.rmtree(without / "psa")
    rerender(without, "en")
    return {"psa": root / "psa", "compare": root / "compare", "without": root / "without"}


def sections(folder: Path, name: str = "report.html") -> list[str]:
    return Page((folder / name).read_text()).ids("section")


def test_a_comparison_with_a_psa_in_the_store_copies_its_decision_tables_into_its_run_folder(runs):
    copied = runs["compare"] / "psa"
    for name in ("evpi", "evppi", "acceptability", "ce_plane", "parameters"):
        pd.testing.assert_frame_equal(pd.read_parquet(copied / f"{name}.parquet"),
                                      pd.read_parquet(runs["psa"] / f"{name}.parquet"))  # fmt: skip
    assert verify_manifest(runs["compare"])
    assert "psa/evpi.parquet" in (runs["compare"] / "MANIFEST.json").read_text()


@pytest.mark.parametrize("name,title", [("report.html", "How sure can we be?"),
                                        ("report.da.html", "Hvor sikre kan vi være?")])  # fmt: skip
def test_the_report_gains_how_sure_can_we_be_between_costs_and_method(runs, name, title):
    ids = sections(runs["compare"], name)
    assert ids[ids.index("costs") + 1 : ids.index("costs") + 3] == ["uncertainty", "method"]
    assert title in Page((runs["compare"] / name).read_text()).plain


def test_without_a_psa_s_tables_the_report_has_no_such_section(runs):
    assert "uncertainty" not in sections(runs["without"], "report.en.html")


def test_a_comparison_with_the_section_switched_off_copies_no_psa(runs, tmp_path):
    from sim.experiments.compare import attach_psa
    from sim.registry import compose_config

    args = [*WORLD, f"compare.scenarios={SCENARIOS}", f"psa.store={runs['psa'].parent / 'store'}"]
    assert attach_psa(compose_config([*args, "report.uncertainty=false"]), tmp_path / "off") == []
    assert len(attach_psa(compose_config(args), tmp_path / "on")) == 6  # five tables and psa.json


def test_the_section_says_the_psa_s_choice_probability_and_evpi_in_plain_words(runs):
    evpi = pd.read_csv(runs["psa"] / "evpi.csv").query("headline").iloc[0]
    curves = pd.read_csv(runs["psa"] / "acceptability.csv")
    at = curves[(curves["axis"] == "faring_badly") & (curves["wtp"] == evpi["wtp_faring_badly"])]
    probability = at.set_index("scenario").loc[evpi["best"], "probability_best"]
    text = Page((runs["compare"] / "report.html").read_text()).plain
    names = {"free_municipality": "free municipality", "daycare_social_workers": "daycare", "baseline": "baseline"}
    sentence = text[text.index("best use of the money") - 200 : text.index("best use of the money")]
    assert names[evpi["best"]] in sentence.lower()
    assert f"in {round(100 * probability)}% of the draws" in text
    assert "16 times" in text and "500,000 DKK" in text
    if evpi["evpi_year"] > 0:
        assert f"{evpi['evpi_year'] / 1e6:,.1f} million DKK a year" in text
    assert "held at their calibrated values" in text  # no posterior: the world's doubt is left out, and it says so


def test_the_summary_points_to_the_section_for_the_doubt_its_intervals_leave_out(runs):
    text = Page((runs["compare"] / "report.html").read_text()).plain
    assert 'The section "How sure can we be?" adds that doubt' in text
    assert "adds that doubt" not in Page((runs["without"] / "report.en.html").read_text()).plain


@needs_chromium
@pytest.mark.parametrize("name", ["report.html", "report.da.html"])
def test_chromium_shows_the_section_and_its_pictures_without_errors(runs, tmp_path, name):
    assert CHROMIUM and shutil.which(CHROMIUM)
    load = open_in_chromium(runs["compare"] / name, tmp_path / name.replace(".html", ".png"))
    assert load.console == [] and load.failed == [] and load.requests == []
    dom = Page(load.dom)
    assert {"figure-acceptability", "figure-plane"} <= set(dom.ids("figure"))
    pictures = images(load.dom)
    order = dom.ids("figure")
    for key in ("figure-acceptability", "figure-plane"):
        assert_not_blank(pictures[order.index(key)])
