"""Policies: each is selectable and composable, changes nothing at its neutral settings, and moves the world
the way its source document describes."""

import numpy as np
import pandas as pd
import pytest

from sim.calendar import DAYS_PER_MONTH
from sim.config import ConfigError
from sim.model import simulate
from sim.policies import POLICIES
from sim.registry import compose_config
from sim.tables import Tables
from sim.truth import child_effects

SHORT = ["world=small", "world.years=3", "world.burn_in_years=2"]


@pytest.fixture(scope="module")
def baseline():
    return simulate(compose_config(SHORT), keep=True)


def without_policy_records(events: pd.DataFrame) -> pd.DataFrame:
    return events[events["event"] != "policy"].reset_index(drop=True)


def test_the_five_policies_of_the_seeds_are_registered():
    assert set(POLICIES) >= {
        "risk_tool",
        "early_prevention",
        "child_participation",
        "free_municipality",
        "daycare_social_workers",
    }


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_a_policy_at_its_neutral_settings_changes_nothing(name, baseline):
    cfg = compose_config(SHORT)
    cfg.policy = {name: POLICIES[name].neutral()}
    result = simulate(cfg, keep=True)
    pd.testing.assert_frame_equal(without_policy_records(result.events), without_policy_records(baseline.events))
    effects = child_effects(Tables.from_result(result), Tables.from_result(baseline))
    assert (effects["effect"].fillna(0.0) == 0.0).all()


def test_policies_compose():
    cfg = compose_config([*SHORT, "policy=[risk_tool,free_municipality]", "policy.risk_tool.adherence=0.5"])
    assert set(cfg.policy) == {"risk_tool", "free_municipality"}
    assert cfg.policy["risk_tool"].adherence == 0.5
    assert cfg.policy["free_municipality"].caseload == 24.0


def test_a_misspelt_policy_setting_names_the_key():
    with pytest.raises(
        ConfigError, match=r"unknown config key 'policy\.risk_tool\.adherance' \(did you mean 'adherence'\?\)"
    ):
        compose_config(["policy=risk_tool", "+policy.risk_tool.adherance=0.5"])


def test_an_out_of_range_policy_setting_names_the_key():
    with pytest.raises(ConfigError, match=r"policy\.risk_tool\.adherence = 1\.5 is not allowed: must be a share"):
        compose_config(["policy=risk_tool", "policy.risk_tool.adherence=1.5"])


def test_an_unknown_policy_lists_the_policies():
    with pytest.raises(ConfigError, match="unknown option 'nonsense' for 'policy'; allowed: child_participation"):
        compose_config(["policy=nonsense"])


def test_an_unknown_comparison_scenario_is_refused():
    with pytest.raises(ConfigError, match=r"compare\.scenarios\[1\] = 'risk_tool\+nonsense' is not allowed"):
        compose_config(["compare.scenarios=[baseline,risk_tool+nonsense]"])


# ---------------------------------------------------------------- the risk tool
@pytest.fixture(scope="module")
def risk_world():
    """The default world with the tool shown to half of the households (TRYG-2019's trial)."""
    cfg = compose_config(["policy=risk_tool", "policy.risk_tool.assignment=household"])
    result = simulate(cfg, keep=True)
    return result, Tables.from_result(result)


def test_risk_tool_uses_only_what_intake_knew_when_the_report_arrived(risk_world):
    """Recompute each intake feature from the event log cut at the report's arrival: they must agree."""
    from sim.policies.risk_tool import INTAKE_COLUMNS

    _, t = risk_world
    ev, rep = t.events, t.reports.sort_values("time")
    past = rep.set_index("report_id")
    reports = ev[ev["event"] == "report"][["report_id", "child_id", "household_id", "time"]].sort_values("time")
    prior_child = reports.groupby("child_id").cumcount()
    prior_household = reports.groupby("household_id").cumcount() - prior_child
    last = reports.groupby("child_id")["time"].shift()
    check = pd.DataFrame(
        {
            "prior_reports_child": prior_child.to_numpy(),
            "prior_reports_household": prior_household.to_numpy(),
            "months_since_last_report": ((reports["time"] - last) / (DAYS_PER_MONTH)).to_numpy(),
        },
        index=reports["report_id"].to_numpy(),
    )
    recorded = past.loc[check.index]
    np.testing.assert_array_equal(recorded["prior_reports_child"], check["prior_reports_child"])
    np.testing.assert_array_equal(recorded["prior_reports_household"], check["prior_reports_household"])
    np.testing.assert_allclose(recorded["months_since_last_report"], check["months_since_last_report"], equal_nan=True)
    # A measure or an open case counts only if it started before the report arrived.
    starts = ev[ev["event"] == "measure_start"].groupby("child_id")["time"].min()
    first_measure = starts.reindex(recorded["child_id"]).to_numpy()
    np.testing.assert_array_equal(recorded["prior_measure"].to_numpy(), first_measure < recorded["time"].to_numpy())
    assert set(INTAKE_COLUMNS) <= set(rep.columns)
    assert not {"faring_badly_3m", "faring_badly_12m", "rereport_12m", "true_wellbeing", "triage"} & set(INTAKE_COLUMNS)


def test_risk_tool_held_out_auc_is_in_the_published_range(risk_world):
    result, _ = risk_world
    perf = result.policy_results["risk_tool_performance"]
    overall = perf[(perf["group"] == "all")].set_index("horizon_months")["auc"]
    assert 0.83 <= overall[12] <= 0.92  # PLOS-2024, LA-2022: held-out AUC 0.83-0.92
    assert 0.83 <= overall[3] <= 0.92


def test_observed_risk_rises_with_the_score_decile(risk_world):
    result, _ = risk_world
    cal = result.policy_results["risk_tool_calibration"]
    cal = cal[cal["horizon_months"] == 12].sort_values("decile")
    se = np.sqrt(cal["observed"] * (1 - cal["observed"]) / cal["reports"]).to_numpy()
    steps = np.diff(cal["observed"].to_numpy())
    assert (steps >= -3 * np.hypot(se[1:], se[:-1])).all()  # rises, up to sampling error between deciles
    assert cal["observed"].iloc[-1] - cal["observed"].iloc[0] > 0.5


def test_risk_tool_is_calibrated_in_the_large(risk_world):
    """Mean predicted risk equals the observed rate up to the sampling error of the training and the test
    means (four standard errors, inflated by 1.5 for repeat reports on the same child)."""
    result, _ = risk_world
    perf = result.policy_results["risk_tool_performance"]
    row = perf[(perf["group"] == "all") & (perf["horizon_months"] == 12)].iloc[0]
    p = row["observed"]
    n_test, n_train = row["reports"], result.policy_results["risk_tool_training"]["reports"].iloc[0]
    se = 1.5 * np.sqrt(p * (1 - p) * (1 / n_test + 1 / n_train))
    assert abs(row["calibration_in_the_large"]) <= 4 * se


def test_risk_tool_changes_who_gets_a_case_according_to_risk(risk_world):
    """Where the score is shown, the chance that a report opens a case rises more steeply with its decile."""
    result, t = risk_world
    scores = result.policy_results["risk_scores"]
    rep = t.reports.merge(scores, on="report_id")
    rep = rep[~rep["open_case"]]
    opened = rep["triage"].isin(["investigation", "acute"]).astype(float)
    slope = {}
    for shown, part in rep.assign(opened=opened).groupby("shown"):
        slope[shown] = np.polyfit(part["decile"], part["opened"], 1)[0]
    assert slope[True] > slope[False] > 0


@pytest.mark.parametrize("name", ["free_municipality", "daycare_social_workers", "risk_tool"])
def test_a_policy_starting_mid_run_leaves_everything_before_its_start_as_baseline(name, baseline):
    start_year = 2021  # SHORT: burn-in 2018-2019, observed 2020-2022
    cfg = compose_config([*SHORT, f"policy={name}", f"policy.{name}.start_year={start_year}"])
    result = simulate(cfg, keep=True)
    events = result.events
    start = events[(events["event"] == "policy") & (events["kind"] == f"{name}:start")]
    assert len(start) == 1 and int(start["year"].iloc[0]) == start_year
    t0 = float(start["time"].iloc[0])
    before = without_policy_records(events[events["time"] < t0])
    pd.testing.assert_frame_equal(before, without_policy_records(baseline.events[baseline.events["time"] < t0]))
    after = without_policy_records(events[events["time"] >= t0])
    assert not after.equals(without_policy_records(baseline.events[baseline.events["time"] >= t0]))


def test_a_reform_adds_caseworkers_when_it_starts():
    cfg = compose_config([*SHORT, "policy=free_municipality", "policy.free_municipality.start_year=2021"])
    monthly = simulate(cfg, keep=True).agency_monthly.groupby("year")["caseworkers"].max()
    assert monthly[2021] > monthly[2020]
