"""KORA-2014's before/after survey of caseworker training and its multilevel estimator: child-decisions clustered
within caseworkers, the training effect from the twin worlds, an estimate that recovers a known effect, one
clear message per bad data file, and the same estimate from the command line."""

import numpy as np
import pandas as pd
import pytest

from estimators import ESTIMATORS, DataError, SamplerConfig, to_frame
from estimators.multilevel_caseworker import COUNTS, caseworker_loglik, caseworker_patterns, marginal_risk
from sim.config.schema import PLACEMENT_TYPES
from sim.config.validate import ConfigError
from sim.registry import compose_config
from sim.trials import TRIALS
from sim.trials.caseworker_survey import caseworkers_in
from tests.conftest import analyse_from_cli

FAST = SamplerConfig(sampler="pymc", draws=300, tune=300, chains=2)
SURVEY = [
    "world=small",
    "world.children=10000",  # 16 caseworkers
    "world.years=4",
    "world.burn_in_years=2",
    "trial=caseworker_survey",
    "trial.training_year=2022",
    "trial.window_years=1",
    "trial.n_caseworkers=12",
    "trial.children_per_caseworker=10",
]


@pytest.fixture(scope="module")
def survey():
    """A small survey: 12 of 16 caseworkers, at most 10 child-decisions each in 2021 and in 2022."""
    run = compose_config(SURVEY)
    trial = TRIALS["caseworker_survey"](run.trial)
    return trial, trial.draw(trial.worlds(run), run.seed)


def test_caseworker_survey_has_the_documented_columns(survey):
    trial, data = survey
    df = data.data
    assert list(df.columns) == list(trial.columns)
    assert set(df["period"]) == {"before", "after"}
    assert (df["after"] == (df["period"] == "after").astype(int)).all()
    assert set(df["involved"]) == {0.0, 1.0}
    placed = df["decision"].isin(PLACEMENT_TYPES)
    assert df.loc[placed, "breakdown_12m"].notna().all() and df.loc[~placed, "breakdown_12m"].isna().all()
    assert df["faring_badly_12m"].notna().all()  # the follow-up fits in the observation period


def test_every_child_decision_belongs_to_one_caseworker_and_the_survey_has_the_configured_size(survey):
    _, data = survey
    df = data.data
    assert df["caseworker_id"].notna().all()
    assert df["caseworker_id"].nunique() == 12
    per_cell = df.groupby(["caseworker_id", "after"]).size()
    assert len(per_cell) == 24  # every caseworker is surveyed before and after
    assert per_cell.max() == 10 and per_cell.sum() == len(df) > 200
    assert not df.duplicated(["caseworker_id", "child_id", "period"]).any()  # a child once per caseworker and window


def test_the_truth_has_a_risk_difference_and_ratio_for_every_outcome(survey):
    trial, data = survey
    truth = data.truth.set_index(["outcome", "estimand"])
    for outcome in trial.outcomes:
        for estimand in ("risk_difference", "risk_ratio", "before_after_risk_difference", "before_after_risk_ratio"):
            assert (outcome, estimand) in truth.index
    rd, rr = truth.loc[("involved", "risk_difference")], truth.loc[("involved", "risk_ratio")]
    assert rd["caseworkers"] == 12  # over the surveyed caseworkers
    assert rd["value"] == pytest.approx(rd["risk"] - rd["reference_risk"])
    assert rr["value"] == pytest.approx(rr["risk"] / rr["reference_risk"])
    # Training halves the share not involved (1 in 3 before): about 10-20 points more involved.
    assert 0.08 < rd["value"] < 0.25
    assert 0.55 < rd["reference_risk"] < 0.8


@pytest.mark.parametrize(
    ("override", "key"),
    [("trial.training_year=2020", "trial.training_year"), ("trial.n_caseworkers=40", "trial.n_caseworkers")],
)
def test_a_survey_that_does_not_fit_the_world_is_refused_before_simulating(override, key):
    run = compose_config([*SURVEY, override])
    with pytest.raises(ConfigError) as err:
        TRIALS["caseworker_survey"](run.trial).worlds(run)
    assert str(err.value).startswith(key)


def test_the_default_survey_runs_on_a_world_with_its_100_caseworkers():
    run = compose_config(["experiment=trial", "trial=caseworker_survey"])
    assert run.world.name == "three_municipalities"
    assert caseworkers_in(run) >= run.trial.n_caseworkers == 100


def test_a_world_named_on_the_command_line_replaces_the_surveys_own():
    assert compose_config(["trial=caseworker_survey", "world=copenhagen"]).world.name == "copenhagen"


def brute_force_loglik(counts: tuple[int, int, int, int], alpha, beta, sigma, tau) -> float:
    """A caseworker's log-likelihood integrated over (z, w) on a fine grid."""
    n0, s0, n1, s1 = counts
    grid = np.linspace(-8, 8, 801)
    z, w = np.meshgrid(grid, grid, indexing="ij")
    eta0, eta1 = alpha + sigma * z, alpha + beta + sigma * z + tau * w
    terms = s0 * eta0 - n0 * np.logaddexp(0, eta0) + s1 * eta1 - n1 * np.logaddexp(0, eta1) - (z**2 + w**2) / 2
    top = terms.max()
    return float(top + np.log(np.exp(terms - top).sum() * (grid[1] - grid[0]) ** 2 / (2 * np.pi)))


@pytest.mark.parametrize(
    "case",
    [
        ((30, 20, 30, 25), 0.7, 0.9, 0.5, 0.25),
        ((30, 8, 0, 0), 0.7, 0.9, 1.0, 0.5),
        ((12, 12, 30, 29), 0.0, 1.0, 0.05, 0.01),
        ((60, 30, 60, 55), -0.5, 2.0, 2.0, 1.0),
    ],
)
def test_the_adaptive_quadrature_matches_brute_force_integration(case):
    counts, *theta = case
    arrays = {k: np.array([float(v)]) for k, v in zip(COUNTS, counts, strict=True)}
    assert caseworker_loglik(arrays, *theta)[0] == pytest.approx(brute_force_loglik(counts, *theta), abs=2e-3)


def test_the_adaptive_quadrature_is_within_0_003_of_brute_force_over_random_patterns_and_parameters():
    """40 random caseworkers (0-60 child-decisions a period) and parameters (sigma up to 3, tau up to 2): the 4 x 4
    rule's largest error over 150 such draws was 0.0024."""
    rng = np.random.default_rng(11)
    errors = []
    for _ in range(40):
        n0, n1 = rng.integers(0, 61, size=2)
        counts = (int(n0), int(rng.integers(0, n0 + 1)), int(n1), int(rng.integers(0, n1 + 1)))
        theta = (rng.uniform(-1.5, 1.5), rng.uniform(-1.0, 2.0), rng.uniform(0.02, 3.0), rng.uniform(0.01, 2.0))
        arrays = {k: np.array([float(v)]) for k, v in zip(COUNTS, counts, strict=True)}
        errors.append(abs(caseworker_loglik(arrays, *theta)[0] - brute_force_loglik(counts, *theta)))
    assert max(errors) < 0.003


def test_caseworkers_are_compressed_to_their_counts():
    df = pd.DataFrame(
        {"caseworker_id": [1, 1, 1, 2, 2, 3, 3], "after": [0, 1, 1, 0, 1, 0, 1], "involved": [1, 0, 1, 0, 1, 0, 1]}
    )
    arrays = caseworker_patterns(df, "involved")
    rows = sorted(zip(*(arrays[k] for k in (*COUNTS, "count")), strict=True))
    assert rows == [(1, 0, 1, 1, 2), (1, 1, 2, 1, 1)]  # caseworkers 2 and 3 share a pattern


def test_multilevel_caseworker_recovers_a_known_effect_and_agrees_with_gee():
    estimator = ESTIMATORS["multilevel_caseworker"]
    df, outcome = estimator.example(seed=3)
    assert len(df) == 6000 and df["caseworker_id"].nunique() == 100
    rows = to_frame(estimator(FAST).fit(df, outcome)).set_index("estimand")
    one = np.ones(1)
    true_rd = float(marginal_risk(0.7 * one, 0.9 * one, 0.5 * one, 0.25 * one, 1.0)[0]) - float(
        marginal_risk(0.7 * one, 0.9 * one, 0.5 * one, 0.25 * one, 0.0)[0]
    )
    rd = rows.loc["risk_difference"]
    assert rd["lower_95"] < true_rd < rd["upper_95"]
    assert rows.loc["odds_ratio", "lower_95"] < np.exp(0.9) < rows.loc["odds_ratio", "upper_95"]
    se = (rd["upper_95"] - rd["lower_95"]) / (2 * 1.96)
    assert abs(rd["estimate"] - rd["freq_estimate"]) < se  # Bayesian and GEE within one standard error
    rr = rows.loc["risk_ratio"]
    assert abs(rr["estimate"] - rr["freq_estimate"]) < (rr["upper_95"] - rr["lower_95"]) / (2 * 1.96)
    assert rd["rhat_max"] < 1.02 and rd["divergences"] == 0


def example():
    return ESTIMATORS["multilevel_caseworker"].example(seed=1, scale=0.2)[0]


def test_the_prior_is_weakly_informative_on_the_risk_difference():
    prior = ESTIMATORS["multilevel_caseworker"](FAST).prior_predictive(example(), "involved")
    rd = prior.set_index("estimand").loc["risk_difference"]
    # Any plausible effect of training (20 points either way) is inside the prior's 95% range, with no lean.
    assert rd["prior_lower_95"] < -0.2 and rd["prior_upper_95"] > 0.2
    assert abs(rd["prior_median"]) < 0.03


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="caseworker_id"), "missing column(s) 'caseworker_id'"),
        (lambda d: d.rename(columns={"after": "After"}), "'after' looks misnamed as 'After'"),
        (lambda d: d.assign(involved=d["involved"] * 2), "column 'involved' must be 0 or 1"),
        (lambda d: d.assign(after=d["after"].astype(str) + "x"), "column 'after' must be 0 or 1"),
        (lambda d: d.assign(involved=np.nan), "column 'involved' has no known values"),
        (lambda d: d.assign(after=0, period="before"), "the after period (after = 1) has no child-decisions"),
        (lambda d: d.assign(caseworker_id=d["caseworker_id"].where(d.index != 5)), "'caseworker_id' is empty in row 7"),
        (lambda d: d.assign(period="before"), "column 'period' is 'before' in row"),
    ],
)
def test_bad_data_gives_one_clear_message(change, message):
    with pytest.raises(DataError) as err:
        ESTIMATORS["multilevel_caseworker"](FAST).fit(change(example()), "involved")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_analyse_from_the_command_line_matches_the_estimate_in_process(survey, tmp_path):
    _, data = survey
    from_cli, as_read = analyse_from_cli(
        tmp_path,
        "caseworker_survey",
        data.data,
        "involved",
        "estimator.sampler=pymc",
        "estimator.draws=300",
        "estimator.tune=300",
    )
    in_process = to_frame(ESTIMATORS["multilevel_caseworker"](FAST).fit(as_read, "involved"))
    assert list(from_cli["estimand"]) == ["risk_difference", "risk_ratio", "odds_ratio"]
    assert (from_cli["estimator"] == "multilevel_caseworker").all() and (from_cli["n"] == len(data.data)).all()
    np.testing.assert_allclose(from_cli["estimate"], in_process["estimate"], rtol=1e-5)
    np.testing.assert_allclose(from_cli["freq_estimate"].iloc[:2], in_process["freq_estimate"].iloc[:2], rtol=1e-5)
