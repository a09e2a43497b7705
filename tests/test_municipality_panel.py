"""The municipality panel of early prevention with staggered adoption (SST-2018) and its saturated
difference-in-differences."""

import numpy as np
import pandas as pd
import pytest

from estimators import ESTIMATORS, DataError, SamplerConfig, to_frame
from estimators.did_panel import naive_twfe, saturated_ols, staggered_panel
from sim.config.validate import ConfigError
from sim.registry import compose_config
from sim.trials import TRIALS
from tests.conftest import analyse_from_cli

FAST = SamplerConfig(sampler="nutpie", draws=500, tune=500, chains=2)
SMALL = [
    "world=small",
    "world.years=6",
    "trial=municipality_panel",
    "trial.municipalities=4",
    "trial.treated=2",
    "trial.start_years=[2022,2024]",
]


@pytest.fixture(scope="module")
def panel():
    run = compose_config(SMALL)
    trial = TRIALS["municipality_panel"](run.trial)
    return trial, trial.draw(trial.worlds(run), run.seed)


def test_the_panel_has_one_row_per_municipality_and_year_in_the_documented_columns(panel):
    trial, data = panel
    assert list(data.data.columns) == list(trial.columns)
    assert len(data.data) == 4 * 6
    assert not data.data.duplicated(["municipality", "year"]).any()


def test_two_municipalities_adopt_at_the_configured_years_and_stay_treated(panel):
    _, data = panel
    d = data.data
    assert sorted(d.loc[d["treated"] == 1, "start_year"].unique()) == [2022, 2024]
    assert ((d["post"] == 1) == (d["year"] >= d["start_year"].fillna(9999))).all()
    assert (d.loc[d["treated"] == 0, "post"] == 0).all()


def test_the_truth_is_the_mean_effect_over_treated_years_after_adoption(panel):
    _, data = panel
    truth = data.truth.set_index(["outcome", "estimand"])
    cells = truth.loc[("placed_per_1000", "att"), "cells"]
    assert cells == (2025 - 2022 + 1) + (2025 - 2024 + 1)  # 4 + 2 post years of the two adopters
    assert {"att", "att_event_0", "att_event_1"} <= set(truth.loc["institution_share"].index)


def test_the_saturated_model_recovers_a_growing_effect_that_one_post_dummy_misses():
    df, outcome = ESTIMATORS["did_panel"].example(seed=3, scale=3)
    truth = df.loc[df["post"] == 1, "true_effect"].mean()
    rows = to_frame(ESTIMATORS["did_panel"](FAST).fit(df, outcome)).set_index("estimand")
    att = rows.loc["att"]
    assert att["lower_95"] < truth < att["upper_95"]
    saturated = att["freq_estimate"]
    naive, _ = naive_twfe(df, outcome)
    assert abs(saturated - truth) < 0.5 * abs(naive - truth)  # Goodman-Bacon: the single dummy is biased


def test_without_noise_the_saturated_ols_recovers_every_cell_effect_exactly():
    df = staggered_panel(0, {None: 3, 2022: 2, 2024: 2}, range(2020, 2028), noise=0.0)
    res, names, weights, _ = saturated_ols(df, "institution_share")
    cells = df[df["post"] == 1].groupby(["start_year", "year"])["true_effect"].mean()
    np.testing.assert_allclose(res.params[names].to_numpy(), cells.to_numpy(), atol=1e-9)
    assert weights.sum() == (df["post"] == 1).sum()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="post"), "missing column(s) 'post'"),
        (
            lambda d: d.assign(post=np.where((d["municipality"] == "m05") & (d["year"] == 2027), 0, d["post"])),
            "column 'post' switches from 1 back to 0 in municipality m05",
        ),
        (lambda d: pd.concat([d, d.iloc[[0]]], ignore_index=True), "has more than one row for 2020"),
        (lambda d: d.assign(post=0), "no treated post cells"),
        (lambda d: d.assign(institution_share="high"), "column 'institution_share' must be a number"),
        (lambda d: d.assign(post=(d["year"] >= 2024).astype(int)), "no untreated comparison cells in 2024"),
    ],
)
def test_bad_panels_give_one_clear_message(change, message):
    df, outcome = ESTIMATORS["did_panel"].example()
    with pytest.raises(DataError) as err:
        ESTIMATORS["did_panel"](FAST).fit(change(df), outcome)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_analyse_from_the_command_line_matches_the_estimate_in_process(tmp_path):
    # the panel of the saturated-model test above (another seed): the same cells, so the same compiled model
    df, outcome = ESTIMATORS["did_panel"].example(seed=4, scale=3)
    from_cli, as_read = analyse_from_cli(
        tmp_path, "municipality_panel", df, outcome, "estimator.draws=500", "estimator.tune=500"
    )
    in_process = to_frame(ESTIMATORS["did_panel"](FAST).fit(as_read, outcome))
    assert from_cli["estimand"].iloc[0] == "att"
    np.testing.assert_allclose(from_cli["estimate"], in_process["estimate"], rtol=1e-5)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["trial.treated=4"], "at least one of the 4 municipalities must never adopt"),
        (["trial.start_years=[2022]"], "give one start year per treated municipality (2)"),
        (["trial.start_years=[2020,2022]"], "each must be after the first observed year"),
    ],
)
def test_an_impossible_panel_fails_at_start(overrides, message):
    run = compose_config([*SMALL, *overrides])
    with pytest.raises(ConfigError) as err:
        trial = TRIALS["municipality_panel"](run.trial)
        trial.check_years(run)
    assert message in str(err.value)
