"""KK-2012's daycare comparison: participating against other daycare institutions before and after the social
workers start, its exact truth from the twin world, and the negative binomial difference-in-differences that
analyses it (simulated and real data files in the same columns)."""

import numpy as np
import pandas as pd
import pytest

from estimators import ESTIMATORS, DataError, SamplerConfig, to_frame
from sim.config.validate import ConfigError
from sim.registry import compose_config
from sim.trials import TRIALS
from tests.conftest import analyse_from_cli

QUICK = SamplerConfig(draws=300, tune=300, chains=2)
WORLD = ["world=small", "world.years=4", "world.burn_in_years=2"]


@pytest.fixture(scope="module")
def comparison():
    """The small world from 2020 with social workers from 2022 that refer most of what they take on (a planted
    effect on reports), and its twin; two years before and two after."""
    run = compose_config(
        [
            *WORLD,
            "policy=daycare_social_workers",
            "policy.daycare_social_workers.refer_share=0.9",
            "trial=daycare_comparison",
            "trial.start_year=2022",
        ]
    )
    trial = TRIALS["daycare_comparison"](run.trial)
    worlds = trial.worlds(run)
    return trial, worlds, trial.draw(worlds, run.seed)


def test_the_comparison_has_the_documented_columns(comparison):
    trial, worlds, data = comparison
    df = data.data
    assert list(df.columns) == list(trial.columns)
    assert len(df) == 2 * worlds["daycares"].size  # every daycare institution, before and after
    assert set(df.groupby("institution_id")["period"].apply(lambda p: "".join(sorted(p)))) == {"afterbefore"}
    assert (df["after"] == (df["period"] == "after")).all()
    assert (df["child_years"] > 0).all() and (df["years"] == 2).all()
    assert df["reports"].sum() > 0 and df["first_reports"].sum() > 0


def test_the_participating_institutions_are_the_policys(comparison):
    _, worlds, data = comparison
    df = data.data
    chosen = set(df.loc[df["participating"] == 1, "institution_id"])
    assert chosen == set(worlds["participating"])
    assert len(chosen) == worlds["policy"].policy_results["institutions"]  # as many as the policy visited
    inquired = df[df["inquiries"] > 0]
    # Inquiries happen only where the policy sends a social worker, and each visited institution has some (about
    # 7 in two years): the institutions with inquiries are exactly the ones the policy chose.
    assert set(inquired["institution_id"]) == chosen
    assert (inquired["after"] == 1).all()  # and only once it has started


def test_the_participating_institutions_report_more_before_the_start(comparison):
    """They are the most burdened, not a random choice: the before period is what the design compares with."""
    _, _, data = comparison
    before = data.data[data.data["after"] == 0].groupby("participating")[["reports", "child_years"]].sum()
    rate = before["reports"] / before["child_years"]
    assert rate[1] > rate[0]


def test_the_truth_is_the_planted_effect_over_every_participating_institution(comparison):
    _, worlds, data = comparison
    truth = data.truth.set_index(["outcome", "estimand"])
    df = data.data
    treated = df[(df["participating"] == 1) & (df["after"] == 1)]
    reports = truth.loc[("reports", "rate_ratio")]
    assert reports["value"] > 1.0
    assert reports["with_policy"] == treated["reports"].sum()
    assert reports["institutions"] == worlds["participating"].size
    difference = truth.loc[("reports", "difference_per_institution_year"), "value"]
    assert difference == pytest.approx((reports["with_policy"] - reports["without"]) / (2 * len(treated)))
    assert difference > 0


def test_the_windows_must_fit_the_observation_period():
    run = compose_config([*WORLD, "trial=daycare_comparison", "trial.start_year=2021"])
    with pytest.raises(ConfigError, match=r"trial.start_year = 2021 does not fit"):
        TRIALS["daycare_comparison"](run.trial).worlds(run)


def test_the_estimator_recovers_a_known_rate_ratio_and_agrees_with_gee():
    estimator = ESTIMATORS["count_daycare"](QUICK)
    df, outcome = estimator.example(seed=5, scale=4.0)  # 256 institutions, rate ratio 1.4
    rows = to_frame(estimator.fit(df, outcome)).set_index("estimand")
    assert list(rows.index) == ["difference_per_institution_year", "rate_ratio"]
    rr = rows.loc["rate_ratio"]
    assert rr["lower_95"] < 1.4 < rr["upper_95"]
    for name in rows.index:
        r = rows.loc[name]
        se = (r["upper_95"] - r["lower_95"]) / (2 * 1.96)
        assert abs(r["estimate"] - r["freq_estimate"]) < se  # Bayesian and GEE within one standard error
    assert rr["rhat_max"] < 1.02 and rr["divergences"] == 0


def test_the_prior_allows_any_plausible_effect_either_way():
    df, outcome = ESTIMATORS["count_daycare"].example(seed=1)
    prior = ESTIMATORS["count_daycare"](QUICK).prior_predictive(df, outcome).set_index("estimand")
    rr = prior.loc["rate_ratio"]
    # A scheme that cut reports to a fifth or raised them fivefold is inside the prior's 95% range, and the prior
    # does not lean either way (its median is 1 up to the noise of 500 draws).
    assert rr["prior_lower_95"] < 0.2 and rr["prior_upper_95"] > 5.0
    assert abs(np.log(rr["prior_median"])) < 0.25


def example():
    return ESTIMATORS["count_daycare"].example(seed=2)[0]


def no_participating_after(d: pd.DataFrame) -> pd.DataFrame:
    return d[(d["participating"] == 0) | (d["after"] == 0)].reset_index(drop=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="child_years"), "missing column(s) 'child_years'"),
        (lambda d: d.rename(columns={"participating": "Participating"}), "'participating' looks misnamed"),
        (lambda d: d.assign(reports=d["reports"] - 5), "column 'reports' must be a whole number >= 0 (a count)"),
        (lambda d: d.assign(reports=d["reports"] + 0.5), "column 'reports' must be a whole number >= 0 (a count)"),
        (lambda d: d.assign(reports="many"), "column 'reports' must be a number in every row; row 2 has 'many'"),
        (lambda d: d.assign(participating=2), "column 'participating' must be 0 or 1"),
        (lambda d: d.assign(after=d["after"].map({0: "no", 1: "yes"})), "column 'after' must be 0 or 1"),
        (no_participating_after, "the participating institutions (participating = 1) have no rows in the after"),
        (lambda d: d.assign(participating=0), "the participating institutions (participating = 1) have no rows"),
        (lambda d: d.assign(child_years=0.0), "column 'child_years' must be positive (the exposure)"),
        (lambda d: d.assign(reports=0), "column 'reports' is 0 in every row"),
        (
            lambda d: d.assign(participating=np.where(d["after"] == 1, 1, d["participating"])),
            "column 'participating' varies within institution_id",
        ),
        (lambda d: d.assign(after=0), "has more than one row with after = 0"),
        (lambda d: d.assign(institution_id=np.nan), "column 'institution_id' is empty in row 2"),
    ],
)
def test_bad_data_gives_one_clear_message(change, message):
    with pytest.raises(DataError) as err:
        ESTIMATORS["count_daycare"](QUICK).fit(change(example()), "reports")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_analyse_from_the_command_line_matches_the_estimate_in_process(comparison, tmp_path):
    _, _, data = comparison
    from_cli, as_read = analyse_from_cli(
        tmp_path, "daycare_comparison", data.data, "reports", "estimator.draws=300", "estimator.tune=300"
    )
    in_process = to_frame(ESTIMATORS["count_daycare"](QUICK).fit(as_read, "reports"))
    assert list(from_cli["estimand"]) == ["difference_per_institution_year", "rate_ratio"]
    assert (from_cli["estimator"] == "count_daycare").all()
    np.testing.assert_allclose(from_cli["estimate"], in_process["estimate"], rtol=1e-5)
    np.testing.assert_allclose(from_cli["freq_estimate"], in_process["freq_estimate"], rtol=1e-5)
