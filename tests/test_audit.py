"""The risk tool's fairness audit: group metrics as a direct count gives them, no impact where the tool is not
followed, and a planted bias found while an audit without it finds nothing (``sim/audit.py``)."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from sim.audit import decided_reports, disparate_impact_table, fairness_table, group_metrics, run_audit
from sim.model import simulate
from sim.registry import compose_config
from sim.tables import Tables
from tests.test_outputs import documented_columns

#: The small world with the tool trained on the last 3 of 4 burn-in years and 3 observed years.
WORLD = ["world=small", "world.years=3", "world.burn_in_years=4", "policy=risk_tool"]


@pytest.fixture(scope="module")
def tool_world() -> Tables:
    return Tables.from_result(simulate(compose_config(WORLD), keep=True))


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


@pytest.fixture(scope="module")
def unfollowed() -> list[dict]:
    return run_audit(compose_config([*WORLD, "policy.risk_tool.adherence=0"]), replications=2, workers=1)


def test_a_tool_nobody_follows_has_no_disparate_impact_at_all(unfollowed):
    impact = disparate_impact_table(unfollowed)
    assert len(impact) > 0
    assert (impact["effect"] == 0).all() and (impact["baseline"] == impact["tool"]).all()
    fpr = fairness_table(unfollowed).query("metric == 'fpr'")
    np.testing.assert_array_equal(fpr["ratio"].round(12), fpr["twin_ratio"].round(12))
    assert not fpr["flagged"].any()


def test_the_audit_tables_have_the_documented_columns(unfollowed):
    docs = documented_columns()
    assert list(fairness_table(unfollowed).columns) == list(docs["fairness.csv"])
    assert list(disparate_impact_table(unfollowed).columns) == list(docs["disparate_impact.csv"])


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
