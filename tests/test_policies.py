"""Policies: each is selectable and composable, changes nothing at its neutral settings, and moves the world
the way its source document describes."""

import numpy as np
import pandas as pd
import pytest

from sim.calendar import DAYS_PER_MONTH
from sim.config import ConfigError, WorldConfig
from sim.model import simulate
from sim.policies import POLICIES
from sim.registry import compose_config
from sim.tables import Tables
from sim.truth import child_effects
from tests.conftest import SMALL, run

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


def test_two_policies_composed_in_one_world_both_act(baseline):
    """risk_tool + free_municipality in one world, each leaving its own footprint from the observation period on
    (their default start, January 2020, after the 2 burn-in years). The risk tool scores every report screened after
    it is trained at the end of the burn-in (one ``risk_tool:score`` per screening, none before). The free
    municipality staffs for a caseload of 24 instead of 30 from 2020: the pool is round(5,000 × 1.59 × 30/24 / 1,000)
    = 10 caseworkers against baseline's round(7.95) = 8 before, and the § 50 investigation becomes an assessment with
    a median of 1.5 months instead of 3.8. The lighter workload only shortens it more, so the ratio of the worlds'
    median durations, over investigations ending from 2021 (a year after the start, when hardly any investigation
    begun before it is still open: 12 months is 2.5 SDs above the 3.8-month median), is at most 1.5 / 3.8 up to
    sampling error: a sample median of a lognormal has SE ≈ 1.2533 σ / sqrt(n) on the log scale (σ = 0.45, ≈ 160
    investigations each), and z = 3 of it is allowed."""
    cfg = compose_config([*SHORT, "policy=[risk_tool,free_municipality]", "policy.risk_tool.adherence=0.5"])
    assert set(cfg.policy) == {"risk_tool", "free_municipality"}
    assert cfg.policy["risk_tool"].adherence == 0.5
    result = simulate(cfg, keep=True)
    ev = result.events
    start = 12 * cfg.world.burn_in_years * DAYS_PER_MONTH
    scored = ev[(ev["event"] == "policy") & (ev["kind"] == "risk_tool:score")]
    screened = ev[(ev["event"] == "screening") & (ev["time"] >= start)]
    assert len(screened) > 1000
    assert len(scored) == len(screened), "the risk tool scores every report screened after its training"
    assert set(scored["report_id"]) == set(screened["report_id"])

    free, cw = cfg.policy["free_municipality"], cfg.world.agency.caseworkers
    staff = round(cfg.world.children * cw.per_1000_children / 1000 * free.baseline_caseload / free.caseload)
    before = round(cfg.world.children * cw.per_1000_children / 1000)
    am = result.agency_monthly
    assert (am.loc[am["year"] >= cfg.world.start_year, "caseworkers"] == staff).all()
    assert (am.loc[am["year"] < cfg.world.start_year, "caseworkers"] == before).all()
    assert (baseline.agency_monthly["caseworkers"] == before).all()

    def completed(events):
        late = events["time"] >= start + 12 * DAYS_PER_MONTH
        return events[late & (events["event"] == "investigation_end") & (events["kind"] == "completed")]["value"]

    inv, ours, theirs = cfg.world.agency.investigation, completed(ev), completed(baseline.events)
    assert min(ours.size, theirs.size) > 100
    se = 1.2533 * inv.sigma * np.sqrt(1 / ours.size + 1 / theirs.size)
    assert np.log(ours.median() / theirs.median()) <= np.log(free.assessment_months / inv.median_months) + 3 * se


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


def test_risk_tool_predicts_placement_and_ranks_held_out_reports_no_better_than_its_training_reports(risk_world):
    """The default target is the published tool's: a placement within 12 months of the report, a rare outcome.
    The held-out AUC is clearly informative (a useless score gives 0.5 ± 0.01 on these ≈12,800 reports) and,
    with nothing leaking from the future, no higher than the in-sample AUC plus 3 Hanley-McNeil standard errors.
    It lies below the published 0.83-0.92 (PLOS-2024, LA-2022): in this world even a model given every child's
    true wellbeing and hidden adversity reaches only ≈0.78 (docs/policies/risk_tool.md)."""
    result, _ = risk_world
    training = result.policy_results["risk_tool_training"].iloc[0]
    assert training["target"] == "placed_12m" and 0.01 < training["base_rate_12m"] < 0.15
    perf = result.policy_results["risk_tool_performance"]
    overall = perf[(perf["group"] == "all") & (perf["horizon_months"] == 12)].iloc[0]
    assert overall["target"] == "placed_12m"
    auc, p, n = overall["auc"], overall["observed"], overall["reports"]
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    positives, negatives = p * n, (1 - p) * n
    se = np.sqrt(
        (auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)) / (positives * negatives)
    )
    assert 0.65 < auc <= training["auc_12m_train"] + 3 * se


def test_observed_risk_rises_with_the_score_decile(risk_world):
    result, _ = risk_world
    cal = result.policy_results["risk_tool_calibration"]
    cal = cal[cal["horizon_months"] == 12].sort_values("decile")
    se = np.sqrt(cal["observed"] * (1 - cal["observed"]) / cal["reports"]).to_numpy()
    steps = np.diff(cal["observed"].to_numpy())
    assert (steps >= -3 * np.hypot(se[1:], se[:-1])).all()  # rises, up to sampling error between deciles
    assert cal["observed"].iloc[-1] - cal["observed"].iloc[0] > 5 * np.hypot(se[-1], se[0])  # the score separates


def test_risk_tool_is_calibrated_in_the_large(risk_world):
    """Mean predicted risk equals the observed rate on the held-out reports, within z = 3 standard errors of
    calibration-in-the-large = mean(predicted - observed). Its variance has two parts:

    - the test mean's: the scored reports' residuals summed by household (siblings' and repeat reports share
      their outcomes), V = sum_h (sum of centred residuals in h)^2 / n^2, a cluster-robust variance;
    - the training mean's, which sets the intercept (not penalised, so the training reports are calibrated in
      the large exactly): the same variance per report over the n_train training reports, V · n / n_train.

    se = sqrt(V · (1 + n / n_train)). At the default seed, for a placement within 12 months: V ≈ 3.6 p(1 - p) / n
    (placements cluster in households and repeat reports), n = 12,762, n_train = 2,760, se ≈ 0.0097, and the
    calibration is -0.0137 (1.4 SE: the base rate is 4.9% in training and 6.4% held out); at 3 months -0.0074
    against se ≈ 0.0049."""
    result, t = risk_world
    perf = result.policy_results["risk_tool_performance"]
    n_train = result.policy_results["risk_tool_training"]["reports"].iloc[0]
    scored = result.policy_results["risk_scores"].merge(t.reports, on="report_id")
    for h in (3, 12):
        row = perf[(perf["group"] == "all") & (perf["horizon_months"] == h)].iloc[0]
        known = scored[scored[f"placed_{h}m"].notna()]
        residual = known[f"risk_{h}m"] - known[f"placed_{h}m"].astype(float)
        n = residual.size
        assert n == row["reports"]
        v = ((residual - residual.mean()).groupby(known["household_id"]).sum() ** 2).sum() / n**2
        se = np.sqrt(v * (1 + n / n_train))
        assert abs(row["calibration_in_the_large"]) <= 3 * se, (h, row["calibration_in_the_large"], se)


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


@pytest.mark.parametrize("name", sorted(POLICIES))
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


# ---------------------------------------------------------------- the free municipality
def test_the_free_municipalities_assessment_is_not_reported_against_the_4_month_limit():
    """VIVE-2019: the exemption replaces the § 50 investigation with a short assessment. Its ends carry no
    within-the-limit flag, so no compliance figure is computed for it, while the baseline's investigations
    keep theirs."""
    from sim.summary import BY_NAME

    base = run([*SMALL, "world.burn_in_years=2", "world.years=2"])
    free = run([*SMALL, "world.burn_in_years=2", "world.years=2", "policy=free_municipality"])
    for result, flagged in ((base, True), (free, False)):
        t = Tables.from_result(result)
        ends = t.observed(t.events)
        ends = ends[ends["event"] == "investigation_end"]
        assert len(ends) > 50
        assert ends["flag"].notna().all() if flagged else ends["flag"].isna().all()
    assert np.isnan(BY_NAME["investigation_within_4m"].compute(Tables.from_result(free)))


def test_the_short_assessment_sees_less_of_the_hidden_adversity():
    policy = POLICIES["free_municipality"](POLICIES["free_municipality"].Config())
    world = policy.adjust(WorldConfig())
    assert world.agency.investigation.hidden_revealed == 0.5
    assert not world.agency.investigation.legal_limit
    neutral = POLICIES["free_municipality"](POLICIES["free_municipality"].neutral()).adjust(WorldConfig())
    assert neutral.agency.investigation == WorldConfig().agency.investigation


# ---------------------------------------------------------------- social workers in daycare
def test_every_inquiry_about_violence_or_abuse_is_taken_on_and_referred():
    """Professionals' stricter duty to report: such a concern never ends with advice (KK-2012: 6% of inquiries)."""
    t = Tables.from_result(run([*SMALL, "world.years=3", "policy=daycare_social_workers"]))
    inquiries = t.events[t.events["kind"].astype(str).str.startswith("daycare_social_workers:inquiry:")]
    violence = inquiries[inquiries["kind"] == "daycare_social_workers:inquiry:violence_or_abuse"]
    assert len(violence) >= 5
    assert (violence["value"] == 2.0).all() and violence["flag"].all()
    assert (inquiries["value"] < 2.0).any()  # other concerns are often resolved without a case


def test_a_case_a_referral_opened_waits_less_and_breaks_down_less_but_is_not_judged_higher():
    from types import SimpleNamespace

    policy = POLICIES["daycare_social_workers"](POLICIES["daycare_social_workers"].Config())
    policy.referrals, policy.referral_reports = {(3, 7)}, set()
    referral = SimpleNamespace(child=3, month=7, source=1, report_id=11)  # source 1: daycare
    assert policy.screening(referral, 2.0) == 2.0 and policy.referral_reports == {11}
    referred, other = SimpleNamespace(report_id=11), SimpleNamespace(report_id=12)
    assert policy.delay(referred, 14.0) == 7.0 and policy.delay(other, 14.0) == 14.0
    assert policy.breakdown_rate(referred, 0.1) == pytest.approx(0.08) and policy.breakdown_rate(other, 0.1) == 0.1


def test_child_participation_makes_decisions_with_the_child_track_its_need_more_closely():
    """``noise_reduction`` shrinks the caseworker's error at decisions made with the child involved: with all of
    it removed (1.0 against 0), the correlation of the assessed need at those decisions with the opening report's
    true need rises (measured: 0.464 → 0.547 over about 480 decisions), while decisions without the child stay
    as they were (0.389 → 0.387). The other effects are off, so only the assessment differs."""

    def correlations(noise_reduction: float) -> dict[bool, float]:
        t = Tables.from_result(
            run(
                [
                    *SMALL[:1],
                    "world.years=3",
                    "world.burn_in_years=2",
                    "seed=1",
                    "policy=child_participation",
                    f"policy.child_participation.noise_reduction={noise_reduction}",
                    "policy.child_participation.effect_gain=0",
                    "policy.child_participation.breakdown_reduction=0",
                ]
            )
        )
        ev = t.events
        opening = ev.loc[ev["event"] == "case_open", ["case_id", "report_id"]].rename(columns={"report_id": "opening"})
        decisions = ev[ev["event"] == "decision"].merge(opening, on="case_id")
        need = -t.reports.set_index("report_id")["true_wellbeing"].reindex(decisions["opening"]).to_numpy()
        return {
            flag: float(
                np.corrcoef(decisions.loc[decisions["flag"] == flag, "value"], need[decisions["flag"] == flag])[0, 1]
            )
            for flag in (True, False)
        }

    noisy, clear = correlations(0.0), correlations(1.0)
    assert clear[True] - noisy[True] > 0.04
    assert abs(clear[False] - noisy[False]) < 0.02
