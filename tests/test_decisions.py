"""Caseworkers' decision rules as pure functions, and what they imply in a simulated run."""

import pytest

from sim.agency import decisions as dec
from sim.registry import compose_config
from tests.conftest import run

CFG = compose_config([]).world.agency
D, F, S = CFG.decision, CFG.followup, CFG.screening


@pytest.mark.parametrize(
    ("judgement", "expected"),
    [
        (S.acute_threshold, dec.ACUTE),
        (S.investigation_threshold, dec.INVESTIGATION),
        (S.advice_threshold, dec.ADVICE),
        (S.advice_threshold - 0.01, dec.NO_ACTION),
    ],
)
def test_triage_follows_the_thresholds(judgement, expected):
    assert dec.triage(judgement, S) == expected


def test_a_placed_child_goes_home_to_a_home_based_measure_when_need_falls():
    assert dec.review(dec.LEVEL_PLACED, F.step_down_threshold - 0.01, D, F) == dec.LEVEL_HOME
    assert dec.review(dec.LEVEL_PLACED, F.step_down_threshold + 0.01, D, F) == dec.LEVEL_PLACED


def test_an_in_home_measure_closes_when_need_falls():
    assert dec.review(dec.LEVEL_HOME, F.close_threshold - 0.01, D, F) == dec.CLOSE
    assert dec.review(dec.LEVEL_PREVENTIVE, F.close_threshold + 0.01, D, F) == dec.LEVEL_PREVENTIVE


def test_an_in_home_measure_escalates_only_past_the_margin():
    just_below = D.home_based_threshold + F.escalate_margin - 0.01
    assert dec.review(dec.LEVEL_PREVENTIVE, just_below, D, F) == dec.LEVEL_PREVENTIVE
    assert dec.review(dec.LEVEL_PREVENTIVE, just_below + 0.02, D, F) == dec.LEVEL_HOME
    at_15 = dec.placement_threshold(D, 15.0) + F.escalate_margin
    assert dec.review(dec.LEVEL_HOME, at_15 - 0.01, D, F, age_years=15.0) == dec.LEVEL_HOME
    assert dec.review(dec.LEVEL_HOME, at_15, D, F, age_years=15.0) == dec.LEVEL_PLACED


def test_young_children_are_placed_only_at_higher_need():
    assert dec.placement_threshold(D, 3.0) == D.placement_threshold + D.placement_age_offset[0]
    assert dec.placement_threshold(D, 3.0) > dec.placement_threshold(D, 15.0)
    judgement = S.acute_threshold + D.placement_age_offset[2]
    assert dec.triage(judgement, S, dec.placement_offset(D, 15.0)) == dec.ACUTE
    assert dec.triage(judgement, S, dec.placement_offset(D, 3.0)) != dec.ACUTE


def test_placement_type_follows_the_age_band_shares():
    codes = [dec.placement_type(3, (i + 0.5) / 1000, D) for i in range(1000)]
    foster = codes.count(dec.MEASURE_TYPES.index("foster_family")) / 1000
    assert foster == pytest.approx(D.placement_type_0_5[1], abs=0.002)


def test_after_a_breakdown_the_new_placement_is_never_family_care():
    family = {dec.MEASURE_TYPES.index("network_foster"), dec.MEASURE_TYPES.index("foster_family")}
    assert (
        not {dec.placement_type(age, (i + 0.5) / 200, D, breakdown=True) for age in (2, 9, 15) for i in range(200)}
        & family
    )


@pytest.mark.parametrize("caseworker_load", [0.5, 1.0])
def test_involvement_is_the_base_rate_at_or_below_the_nominal_caseload(caseworker_load):
    assert dec.involvement_probability(0.67, 0.5, caseworker_load) == pytest.approx(0.67)


def test_involvement_falls_when_the_caseload_doubles():
    p = dec.involvement_probability(0.67, 0.5, 2.0)
    assert p == pytest.approx(1 / (1 + (0.33 / 0.67) * 2.718281828459045**0.5))


def test_a_decision_on_no_measure_closes_the_case_at_once(small):
    ev = small.events
    none = ev[(ev["event"] == "decision") & (ev["kind"] == "none")]
    closes = ev[ev["event"] == "case_close"].set_index("case_id")["time"]
    assert len(none) > 0
    assert (closes.reindex(none["case_id"]).to_numpy() == none["time"].to_numpy()).all()


@pytest.fixture(scope="module")
def default_world():
    """The default world, 10 years of burn-in and 10 observed: about 80 step-downs (the small one has 1)."""
    return run([])


def test_placed_children_step_down_to_home_based_measures(default_world):
    """Every step-down ends a placement and, at the same moment in the same case, a decision on a home-based
    measure (§ 52) is logged and that measure starts: placement -> home_based, in that order."""
    ev = default_world.events
    ev = ev[ev["event"].isin(["decision", "measure_start", "measure_end"])]  # the log's order: stable by time
    case = ev.groupby("case_id")
    before, after = case[["event", "kind", "time"]].shift(1), case[["event", "kind", "time"]].shift(-1)
    started = ev["event"] == "measure_start"
    running = ev[["kind", "time"]].where(started).groupby(ev["case_id"]).ffill()  # the measure that was running
    steps = ev.index[(ev["event"] == "measure_end") & (ev["kind"] == "step_down")]
    assert len(steps) >= 20
    assert set(running.loc[steps, "kind"]) <= set(dec.PLACEMENT_TYPES)
    assert (ev.loc[steps, "value"] - (ev.loc[steps, "time"] - running.loc[steps, "time"])).abs().max() < 1e-6
    for neighbour, event in ((before, "decision"), (after, "measure_start")):
        moved = neighbour.loc[steps]
        assert (moved["event"] == event).all(), moved["event"].value_counts().to_dict()
        assert (moved["kind"] == "home_based").all(), moved["kind"].value_counts().to_dict()
        assert (moved["time"] == ev.loc[steps, "time"]).all()
