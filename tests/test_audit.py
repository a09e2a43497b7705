"""The risk tool's fairness audit: group metrics as a direct count gives them, no impact where the tool is not
followed, and a planted bias found while an audit without it finds nothing (``sim/audit.py``)."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from sim.audit import (
    OUTCOMES,
    calibration_table,
    decided_reports,
    disparate_impact_table,
    fairness_table,
    group_counts,
    group_metrics,
    over_time_table,
    run_audit,
    tradeoff_table,
    yearly_metrics,
)
from sim.config.validate import ConfigError
from sim.model import simulate
from sim.registry import compose_config
from sim.tables import Tables
from tests.test_outputs import documented_columns

#: The small world with the tool trained on the last 3 of 4 burn-in years and 3 observed years.
WORLD = ["world=small", "world.years=3", "world.burn_in_years=4", "policy=risk_tool"]


@pytest.fixture(scope="module")
def tool_result():
    return simulate(compose_config(WORLD), keep=True)


@pytest.fixture(scope="module")
def tool_world(tool_result) -> Tables:
    return Tables.from_result(tool_result)


def test_group_metrics_agree_with_a_direct_count_from_the_event_log(tool_world):
    t = tool_world
    metrics = group_metrics(decided_reports(t, "placed_12m"), intersections=False)
    got = metrics.set_index(["feature", "level", "metric"])["group"]
    ev = t.observed(t.events)
    triage = ev[ev["event"] == "screening"].set_index("report_id")["kind"]
    r = t.observed(t.reports).set_index("report_id")
    r = r[r["placed_12m"].notna()]
    r = r.assign(triage=triage.reindex(r.index).astype(object))
    r = r[r["triage"].notna() & (r["triage"] != "open_case")]
    single = r[r["single_parent"]]
    investigated = single["triage"].isin(["investigation", "acute"])
    placed = single["placed_12m"] == 1
    assert got[("single_parent", "yes", "fpr")] == pytest.approx(investigated[~placed].mean(), abs=1e-12)
    assert got[("single_parent", "yes", "fnr")] == pytest.approx((~investigated[placed]).mean(), abs=1e-12)
    assert got[("single_parent", "yes", "investigation_rate")] == pytest.approx(investigated.mean(), abs=1e-12)
    scores = t.policy_results["risk_scores"].set_index("report_id")["risk_12m"].reindex(single.index)
    assert got[("single_parent", "yes", "auc")] == pytest.approx(roc_auc_score(placed, scores), abs=1e-12)
    girls = r[r["sex"] == "girl"]
    taken = girls["triage"].isin(["advice", "investigation", "acute"])
    assert got[("sex", "girl", "screen_in_rate")] == pytest.approx(taken.mean(), abs=1e-12)


def test_group_counts_agree_with_a_direct_count_from_the_tables(tool_result, tool_world):
    t = tool_world
    counts = group_counts(t, tool_result.population["households"]).set_index(["feature", "level"])
    single = counts.loc[("single_parent", "yes")]
    reports = t.observed(t.reports)
    assert single["rereports"] == ((reports["prior_reports_child"] > 0) & reports["single_parent"]).sum()
    panel = t.observed(t.panel)
    households = tool_result.population["households"].set_index("household_id")["single_parent"]
    of_single = households.reindex(panel["household_id"]).to_numpy(dtype=bool)
    assert single["child_years"] == pytest.approx(panel.loc[of_single, "months_present"].sum() / 12, rel=1e-12)
    assert single["years_faring_badly"] == pytest.approx(panel.loc[of_single, "months_faring_badly"].sum() / 12)
    events = t.observed(t.events)
    starts = events[events["event"] == "investigation_start"]
    assert single["investigations"] == households.reindex(starts["household_id"]).to_numpy(dtype=bool).sum()


def test_yearly_metrics_are_the_group_metrics_of_each_years_reports(tool_world):
    r = decided_reports(tool_world, "placed_12m")
    yearly = yearly_metrics(r).set_index(["year", "feature", "level", "metric"])["group"]
    assert sorted(yearly.index.get_level_values("year").unique()) == sorted(r["year"].unique())
    for year, part in r.groupby("year"):
        single = part[part["single_parent"]]
        fpr = single.loc[single["y"] == 0, "investigated"].mean()
        assert yearly[(year, "single_parent", "yes", "fpr")] == pytest.approx(fpr, abs=1e-12)


def test_an_audit_scenario_that_changes_an_unknown_setting_fails_at_start_naming_it():
    with pytest.raises(ConfigError, match=r"audit\.scenarios\.mine\.threshold is not allowed"):
        compose_config(["experiment=audit", "+audit.scenarios.mine={threshold: 2}"])
    with pytest.raises(ConfigError, match=r"audit\.scenarios\.retrained\.retrain_every_years = -1 is not allowed"):
        compose_config(["experiment=audit", "audit.scenarios.retrained.retrain_every_years=-1"])


@pytest.fixture(scope="module")
def unfollowed() -> list[dict]:
    """Two replications of a tool nobody follows, and beside it the same tool retrained every year."""
    cfg = compose_config([*WORLD, "policy.risk_tool.adherence=0"])
    retrained = compose_config([*WORLD, "policy.risk_tool.adherence=0", "policy.risk_tool.retrain_every_years=1"])
    return run_audit(cfg, replications=2, workers=1, also={"retrained": retrained})


def test_a_tool_nobody_follows_has_no_disparate_impact_at_all(unfollowed):
    for world in ("tool", "retrained"):
        impact = disparate_impact_table(unfollowed, world)
        assert set(impact["outcome"]) == {f"{o}_per_1000" for o in OUTCOMES}
        assert (impact["effect"] == 0).all() and (impact["baseline"] == impact["tool"]).all()
        fpr = fairness_table(unfollowed, world).query("metric == 'fpr'")
        np.testing.assert_array_equal(fpr["ratio"].round(12), fpr["twin_ratio"].round(12))
        assert not fpr["flagged"].any()
    tradeoffs = tradeoff_table(unfollowed, ["tool", "retrained"]).set_index(["world", "feature", "level", "measure"])
    effects = tradeoffs.xs("investigations_effect_per_1000", level="measure")["value"]
    assert len(effects) == 2 * 14 and (effects == 0).all()
    largest = tradeoffs.xs("largest_fpr_ratio", level="measure")["value"]
    assert largest.xs("tool").to_dict() == pytest.approx(largest.xs("baseline").to_dict(), rel=1e-12)


def test_the_audit_tables_have_the_documented_columns(unfollowed):
    docs = documented_columns()
    assert list(fairness_table(unfollowed).columns) == list(docs["fairness.csv"])
    assert list(disparate_impact_table(unfollowed).columns) == list(docs["disparate_impact.csv"])
    assert list(over_time_table(unfollowed).columns) == list(docs["fairness_over_time.csv"])
    assert list(calibration_table(unfollowed).columns) == list(docs["calibration_by_group.csv"])
    assert list(tradeoff_table(unfollowed, ["tool", "retrained"]).columns) == list(docs["tradeoffs.csv"])


@pytest.mark.slow
def test_a_planted_bias_is_flagged_and_an_audit_without_it_flags_nothing():
    """A tool fully followed, and beside it the same tool with the score of every report on a single parent's
    child raised by 2 log-odds, no link to need (6 replications of the small world, the twin without the tool
    shared). With the plant, the single parents' false-positive rate ratio rises past 1.25, clearly and because of
    the tool (measured: 7.3, 4.9 to 10.9, against the twin's 1.7); without it, no group is flagged (Holm over
    each family of groups, 5% family-wise; the single parents' ratio 2.3, 1.3 to 3.9, not clearly the tool's)."""
    tool = compose_config([*WORLD, "policy.risk_tool.adherence=1", "seed=77"])
    plant = compose_config([*WORLD, "policy.risk_tool.adherence=1", "policy.risk_tool.planted_bias=2", "seed=77"])
    runs = run_audit(tool, replications=6, workers=2, also={"planted": plant})
    with_plant = fairness_table(runs, "planted").set_index(["feature", "level", "metric"])
    row = with_plant.loc[("single_parent", "yes", "fpr")]
    assert row["ratio"] > 1.25 and row["ratio_lower"] > 1 and row["flagged"]
    assert row["change_lower"] > 1  # the tool made it: above the twin's own ratio
    without = fairness_table(runs, "tool")
    assert not without["flagged"].any(), without[without["flagged"]]
