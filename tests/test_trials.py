"""Trial designs and their estimators: the data a real evaluation would have, its estimand from the truth, and
an estimate that can be checked against it; real data files in the same columns."""

import numpy as np
import pandas as pd
import pytest

from estimators import ESTIMATORS, DataError, SamplerConfig, to_frame
from sim.registry import compose_config
from sim.trials import TRIALS
from sim.trials.household_rct import BINARY_OUTCOMES
from tests.conftest import analyse_from_cli, cli

FAST = SamplerConfig(sampler="pymc", draws=300, tune=300, chains=2)


@pytest.fixture(scope="module")
def rct():
    """A small household RCT with a planted effect (risk ratio 0.7 on faring badly)."""
    run = compose_config(
        [
            "world=small",
            "world.years=3",
            "world.burn_in_years=4",
            "trial=household_rct",
            "trial.n_reports=400",
            "trial.assumed_risk_ratio=0.7",
        ]
    )
    trial = TRIALS["household_rct"](run.trial)
    return trial, trial.draw(trial.worlds(run), run.seed)


def test_household_rct_has_the_documented_columns(rct):
    trial, data = rct
    assert list(data.data.columns) == list(trial.columns)
    assert len(data.data) == 400
    assert set(data.data["treated"]) == {0, 1}


def test_every_report_of_a_household_is_in_the_same_arm(rct):
    _, data = rct
    assert (data.data.groupby("household_id")["treated"].nunique() == 1).all()
    assert data.data["household_id"].nunique() < len(data.data)  # households report more than once


def test_the_truth_has_a_risk_difference_and_ratio_for_every_outcome(rct):
    trial, data = rct
    truth = data.truth.set_index(["outcome", "estimand"])["value"]
    for outcome in trial.outcomes:
        assert ("risk_difference" in truth[outcome].index) and ("risk_ratio" in truth[outcome].index)
    assert truth[("faring_badly_12m", "risk_ratio")] == pytest.approx(0.7, abs=0.08)  # the planted effect


def synthetic(n_households=800, effect=-0.5, seed=3):
    rng = np.random.default_rng(seed)
    hh = np.repeat(np.arange(n_households), 1 + rng.poisson(0.5, n_households))
    treated = (rng.random(n_households) < 0.5)[hh].astype(int)
    u = rng.normal(0, 1.0, n_households)[hh]
    p = 1 / (1 + np.exp(-(0.5 + effect * treated + u)))
    return pd.DataFrame(
        {
            "household_id": hh,
            "child_id": np.arange(hh.size),
            "report_id": np.arange(hh.size),
            "treated": treated,
            "faring_badly_12m": (rng.random(hh.size) < p).astype(int),
        }
    )


def test_logistic_household_recovers_a_known_odds_ratio_and_agrees_with_gee():
    df = synthetic(n_households=1500)
    rows = to_frame(ESTIMATORS["logistic_household"](FAST).fit(df, "faring_badly_12m")).set_index("estimand")
    assert rows.loc["odds_ratio", "lower_95"] < np.exp(-0.5) < rows.loc["odds_ratio", "upper_95"]
    rd = rows.loc["risk_difference"]
    se = (rd["upper_95"] - rd["lower_95"]) / (2 * 1.96)
    assert abs(rd["estimate"] - rd["freq_estimate"]) < se  # Bayesian and GEE within one standard error
    assert rd["rhat_max"] < 1.01 and rd["divergences"] == 0


def test_prior_predictive_check_is_available_and_weakly_informative():
    prior = ESTIMATORS["logistic_household"](FAST).prior_predictive(synthetic(), "faring_badly_12m")
    rd = prior.set_index("estimand").loc["risk_difference"]
    # Any plausible effect of a screening tool (a risk difference of 20 points either way) is inside the prior's
    # 95% range, and the prior does not lean either way.
    assert rd["prior_lower_95"] < -0.2 and rd["prior_upper_95"] > 0.2
    assert abs(rd["prior_median"]) < 0.02


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="treated"), "missing column(s) 'treated'"),
        (lambda d: d.rename(columns={"treated": "Treated"}), "'treated' looks misnamed as 'Treated'"),
        (lambda d: d.assign(faring_badly_12m=d["faring_badly_12m"] * 2), "column 'faring_badly_12m' must be 0 or 1"),
        (lambda d: d.assign(treated=0), "the treated arm (treated = 1) has no units"),
        (lambda d: d.assign(faring_badly_12m=np.nan), "column 'faring_badly_12m' has no known values"),
        (lambda d: d.assign(treated=np.arange(len(d)) % 2), "column 'treated' varies within household_id"),
    ],
)
def test_bad_data_gives_one_clear_message(change, message):
    with pytest.raises(DataError) as err:
        ESTIMATORS["logistic_household"](FAST).fit(change(synthetic()), "faring_badly_12m")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_analyse_from_the_command_line_matches_the_estimate_in_process(tmp_path):
    df = synthetic()
    from_cli, _ = analyse_from_cli(
        tmp_path,
        "household_rct",
        df,
        "faring_badly_12m",
        "estimator=logistic_household",
        "estimator.sampler=pymc",
        "estimator.draws=300",
        "estimator.tune=300",
    )
    in_process = to_frame(ESTIMATORS["logistic_household"](FAST).fit(df, "faring_badly_12m"))
    assert list(from_cli["estimand"]) == ["risk_difference", "risk_ratio", "odds_ratio"]
    assert {
        "estimand",
        "estimate",
        "lower_90",
        "upper_90",
        "lower_95",
        "upper_95",
        "p_benefit",
        "rhat_max",
        "ess_min",
        "divergences",
        "freq_estimate",
    } <= set(from_cli.columns)
    np.testing.assert_allclose(from_cli["estimate"], in_process["estimate"], rtol=1e-5)


def test_analyse_refuses_bad_data_with_one_line_and_writes_no_estimate(tmp_path):
    path = tmp_path / "bad.csv"
    synthetic().drop(columns="household_id").to_csv(path, index=False)
    out = tmp_path / "run"
    proc = cli(
        "experiment=analyse", "trial=household_rct", f"data={path}", "outcome=faring_badly_12m", f"hydra.run.dir={out}"
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: bad.csv: missing column(s) 'household_id'")
    assert not (out / "estimate.csv").exists()


def test_analyse_needs_an_existing_file():
    proc = cli("experiment=analyse", "trial=household_rct", "data=/nonexistent.csv")
    assert proc.returncode == 2
    assert "no such file" in proc.stderr


def test_every_column_of_estimate_csv_is_in_the_data_dictionary():
    from tests.test_outputs import documented_columns

    estimates = to_frame(ESTIMATORS["logistic_household"](FAST).fit(synthetic(n_households=200), "faring_badly_12m"))
    assert list(documented_columns()["estimate.csv"]) == list(estimates.columns)


@pytest.mark.parametrize("name", sorted(TRIALS))
def test_every_design_documents_each_of_its_columns_on_its_own_page(name):
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "trials" / f"{name}.md"
    text = page.read_text()
    assert [c for c in TRIALS[name].columns if f"`{c}`" not in text] == []


def test_the_household_rcts_population_effect_takes_the_planted_effect_at_its_expectation():
    """Over a hand-made potential-outcomes table: the planted ratio 0.8 keeps 80% of the treated events in
    expectation (planted outcomes only); units unknown in either twin are left out."""
    trial = TRIALS["household_rct"](compose_config(["trial=household_rct", "trial.assumed_risk_ratio=0.8"]).trial)
    y1 = np.array([1.0, 1.0, 0.0, 1.0, np.nan])
    y0 = np.array([1.0, 0.0, 0.0, 0.0, 1.0])
    table = pd.DataFrame({f"{arm}_{o}": v for o in BINARY_OUTCOMES for arm, v in (("y1", y1), ("y0", y0))})
    table["complete"] = True
    effects = trial.population_effects({"potential": table}).set_index(["outcome", "estimand"])["value"]
    assert effects[("faring_badly_12m", "risk_difference")] == pytest.approx(0.8 * 3 / 4 - 1 / 4)
    assert effects[("faring_badly_12m", "risk_ratio")] == pytest.approx(0.8 * 3)
    assert effects[("rereport_12m", "risk_difference")] == pytest.approx(3 / 4 - 1 / 4)


def test_the_household_rcts_enrolment_windows_hold_only_reports_with_their_whole_follow_up():
    """Windows never reach into the last 12 months, where outcomes are unknown: every replication analyses as many
    reports as a completed trial would (before, 65 of 1,000 windows at 500 reports reached past the end)."""
    trial = TRIALS["household_rct"](compose_config(["trial=household_rct", "trial.n_reports=4"]).trial)
    n = 10
    table = pd.DataFrame(
        {
            "report_id": np.arange(n),
            "household_id": np.arange(n),
            "child_id": np.arange(n),
            "time": np.arange(n) * 100.0,
            **{f"{arm}_{o}": np.zeros(n) for o in BINARY_OUTCOMES for arm in ("y1", "y0")},
            "complete": np.arange(n) < 6,  # the last 4 reports lack 12 months of follow-up
        }
    )
    enrolled = {tuple(trial.draw_potential({"potential": table}, seed).data["report_id"]) for seed in range(200)}
    assert enrolled == {(0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5)}
    with pytest.raises(ValueError, match="only 6 reports in the observation period have 12 months of follow-up"):
        TRIALS["household_rct"](compose_config(["trial=household_rct", "trial.n_reports=7"]).trial).draw_potential(
            {"potential": table}, 0
        )
