"""The household-randomised trial of the risk tool (TRYG-2019: "Underretninger i fokus").

About 2,000 incoming reports are enrolled over a window; the tool is shown for about half of them; the
randomisation is by household, so all reports on a child and on its siblings are in the same arm. Outcomes:
faring badly within 3 and 12 months, measures received, re-reports within 12 months, and later school absence,
exam results and crime charges where the child is old enough.

Three worlds, all with the run's seed: the trial world (the tool shown to a random ``share_shown`` of
households), and two twins: the tool shown to every household, and to none. The trial enrols the first
``n_reports`` reports of the trial world from the start of ``enrolment_year``; each report's outcomes are read
from the trial world. The estimand for each outcome is the exact average effect over the enrolled reports:
the mean of (outcome in the all-shown world - outcome in the none-shown world) at the same child and time.

``assumed_risk_ratio`` plants an effect on faring badly for power analyses (the tool was never run on real
cases, so its effect is unknown: TFBC-2022): a treated report that would fare badly does not, with
probability 1 - risk ratio, by a keyed draw per report; the truth takes the same draws.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sim.calendar import DAYS_PER_YEAR
from sim.config.fields import count, nonnegative, positive_count, probability
from sim.config.schema import Config
from sim.model import simulate_variants
from sim.policies.risk_tool import RiskToolConfig
from sim.rng import Streams
from sim.tables import Tables
from sim.trials.base import Trial, TrialConfig, TrialData, register
from sim.truth import unit_outcomes

BINARY_OUTCOMES = ("faring_badly_3m", "faring_badly_12m", "rereport_12m", "placed_12m", "measure_12m", "charged_12m")
PLANTED = ("faring_badly_3m", "faring_badly_12m")


@dataclass
class HouseholdRctConfig(TrialConfig):
    """TRYG-2019's trial: reports randomised by household to see the risk score or not."""

    n_reports: int = positive_count(2000, "reports enrolled (TRYG-2019: about 2,000)")
    share_shown: float = probability(0.5, "share of households whose reports show the score (TRYG-2019: about half)")
    enrolment_year: int = count(0, "calendar year enrolment starts; 0: the first year of the observation period")
    adherence: float = probability(0.3, "weight caseworkers give the score (planning assumption: 0.3)")
    assumed_risk_ratio: float = nonnegative(
        1.0, "planted effect on faring badly among treated reports (1: none; the real effect is unknown)"
    )


def _risk_tool(run: Config, **settings: Any) -> Config:
    cfg = copy.deepcopy(run)
    cfg.policy = {"risk_tool": RiskToolConfig(**settings)}
    return cfg


@register
class HouseholdRct(Trial):
    name = "household_rct"
    Config = HouseholdRctConfig
    estimator = "logistic_household"
    outcomes = BINARY_OUTCOMES
    world_keys = ("adherence", "share_shown")
    policy_settings: ClassVar[dict[str, str]] = {"adherence": "policy.risk_tool.adherence"}
    columns: ClassVar[dict[str, str]] = {
        "report_id": "the report (unit of enrolment)",
        "household_id": "the household (unit of randomisation)",
        "child_id": "the child the report is about",
        "time": "days since the start of the simulation when the report arrived",
        "treated": "1 if the score was shown for this report's household, 0 if not",
        "age": "the child's age in years at the report",
        "source": "who reported",
        "prior_reports_child": "earlier reports on the child",
        "risk_decile": "the score's decile (1-10), computed for every report, shown only to the treated",
        **{o: f"0/1: {o.replace('_', ' ')} (empty where not known)" for o in BINARY_OUTCOMES},
        "absence_next_year": "share of lessons missed in the calendar year after the report (school ages)",
        "exam_grade": "9th-grade mean grade if the child sat the exam within 3 years of the report",
    }

    def worlds(self, run: Config) -> dict[str, Tables]:
        c = self.cfg
        settings = {"adherence": c.adherence, "assignment": "household", "share_shown": c.share_shown}
        variants = {"trial": settings, "all": {**settings, "share_shown": 1.0}, "none": {**settings, "adherence": 0.0}}
        results = simulate_variants([_risk_tool(run, **s) for s in variants.values()])  # sharing their burn-in
        return {name: Tables.from_result(r) for name, r in zip(variants, results, strict=True)}

    def enrol(self, trial: Tables) -> pd.DataFrame:
        """The first ``n_reports`` reports from the enrolment year on, with the score's arm and decile."""
        scores = trial.policy_results["risk_scores"]
        start_year = self.cfg.enrolment_year or trial.start_year
        reports = trial.reports[trial.reports["year"] >= start_year].sort_values("time")
        enrolled = reports.merge(scores, on="report_id", how="inner").head(self.cfg.n_reports)
        if len(enrolled) < self.cfg.n_reports:
            raise ValueError(
                f"only {len(enrolled)} reports arrive from {start_year} on; the trial needs "
                f"{self.cfg.n_reports}: use a larger world or more years"
            )
        return enrolled

    def draw(self, worlds: dict[str, Tables], seed: int) -> TrialData:
        trial, all_shown, none_shown = worlds["trial"], worlds["all"], worlds["none"]
        enrolled = self.enrol(trial)
        child, time = enrolled["child_id"].to_numpy(), enrolled["time"].to_numpy()
        observed = unit_outcomes(trial, child, time)
        treated = enrolled["shown"].astype(int).to_numpy()
        y1, y0 = unit_outcomes(all_shown, child, time), unit_outcomes(none_shown, child, time)
        flips = self._planted(enrolled["report_id"].to_numpy(), seed)
        for name in PLANTED:
            observed[name] = np.where((treated == 1) & flips, 0.0, observed[name].to_numpy()) * np.where(
                observed[name].isna(), np.nan, 1.0
            )
            y1[name] = np.where(flips, 0.0, y1[name].to_numpy()) * np.where(y1[name].isna(), np.nan, 1.0)
        data = pd.DataFrame(
            {
                "report_id": enrolled["report_id"].to_numpy(),
                "household_id": enrolled["household_id"].to_numpy(),
                "child_id": child,
                "time": time,
                "treated": treated,
                "age": enrolled["age"].to_numpy(),
                "source": enrolled["source"].astype(str).to_numpy(),
                "prior_reports_child": enrolled["prior_reports_child"].to_numpy(),
                "risk_decile": enrolled["decile"].to_numpy(),
            }
        )
        for name in BINARY_OUTCOMES:
            data[name] = observed[name].to_numpy()
        data = data.join(_later_school(trial, enrolled))
        return TrialData(
            data=data,
            truth=_sample_effects(y1, y0),
            meta={
                "enrolment_start_year": int(self.cfg.enrolment_year or trial.start_year),
                "households": int(data["household_id"].nunique()),
            },
        )

    def replication_worlds(self, run: Config) -> dict[str, Any]:
        """The twins only (all shown, none shown), reduced to their potential-outcomes table: all that
        :meth:`draw_potential` needs, small enough to cache and to send to worker processes."""
        c = self.cfg
        settings = {"adherence": c.adherence, "assignment": "household", "share_shown": c.share_shown}
        all_shown, none_shown = simulate_variants(
            [_risk_tool(run, **{**settings, "share_shown": 1.0}), _risk_tool(run, **{**settings, "adherence": 0.0})]
        )
        twins = {"all": Tables.from_result(all_shown), "none": Tables.from_result(none_shown)}
        return {"potential": self.potential_outcomes(twins)}

    def potential_outcomes(self, worlds: dict[str, Tables]) -> pd.DataFrame:
        """Every report of the observation period in the none-shown twin, in time order, with each outcome
        under both arms: ``y1_<outcome>`` from the all-shown twin (before any planted effect) and
        ``y0_<outcome>`` from the none-shown twin, at the same child and time."""
        all_shown, none_shown = worlds["all"], worlds["none"]
        reports = none_shown.observed(none_shown.reports).sort_values("time")
        child, time = reports["child_id"].to_numpy(), reports["time"].to_numpy()
        y1, y0 = unit_outcomes(all_shown, child, time), unit_outcomes(none_shown, child, time)
        table = reports[["report_id", "household_id", "child_id", "time"]].reset_index(drop=True)
        for name in BINARY_OUTCOMES:
            table[f"y1_{name}"] = y1[name].to_numpy()
            table[f"y0_{name}"] = y0[name].to_numpy()
        table["complete"] = time + DAYS_PER_YEAR <= none_shown.horizon  # 12 months of follow-up in the worlds
        return table

    def population_effects(self, worlds: dict[str, Any]) -> pd.DataFrame:
        """The effects over every report of the observation period with 12 months of follow-up, the population
        :meth:`draw_potential`'s enrolment windows come from, with the planted effect at its expectation (each
        event kept with probability ``assumed_risk_ratio``). This is what the trial's estimators estimate: each
        sample's own effect (its ``truth``) varies around it, and an interval calibrated for it covers the
        sample's effect more often than its level whenever the unit effects vary (Neyman's conservative
        variance)."""
        if "potential" not in worlds:
            worlds["potential"] = self.potential_outcomes(worlds)
        table = worlds["potential"][worlds["potential"]["complete"]]
        y1 = pd.DataFrame({name: table[f"y1_{name}"].to_numpy() for name in BINARY_OUTCOMES})
        y0 = pd.DataFrame({name: table[f"y0_{name}"].to_numpy() for name in BINARY_OUTCOMES})
        for name in PLANTED:
            y1[name] = y1[name] * min(self.cfg.assumed_risk_ratio, 1.0)
        return _sample_effects(y1, y0)

    def draw_potential(self, worlds: dict[str, Any], seed: int) -> TrialData:
        """A trial drawn from the twins' potential outcomes, for replications: a random enrolment window among the
        reports of the observation period with 12 months of follow-up (so every replication analyses as many
        reports as a completed trial would), a random household assignment, and each report's outcome from the
        twin matching its arm (all-shown if treated, none-shown if not). Assumes no interference between
        households (their link through caseloads is small); the truth is then the exact average effect of this
        very sample. Only the twins are needed, so one pair of worlds serves any number of trials: ``worlds`` holds the
        twins (``all``, ``none``) or their :meth:`potential_outcomes` table (``potential``), which is computed
        on the first call and kept in ``worlds`` for the next."""
        if "potential" not in worlds:
            worlds["potential"] = self.potential_outcomes(worlds)
        table = worlds["potential"][worlds["potential"]["complete"]]
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x7417]))
        latest = len(table) - self.cfg.n_reports
        if latest < 0:
            raise ValueError(
                f"only {len(table)} reports in the observation period have 12 months of follow-up; the trial needs "
                f"{self.cfg.n_reports}"
            )
        enrolled = table.iloc[(first := int(rng.integers(0, latest + 1))) : first + self.cfg.n_reports]
        households = enrolled["household_id"].unique()
        arm = dict(zip(households, (rng.random(households.size) < self.cfg.share_shown).astype(int), strict=True))
        treated = enrolled["household_id"].map(arm).to_numpy()
        y1 = pd.DataFrame({name: enrolled[f"y1_{name}"].to_numpy() for name in BINARY_OUTCOMES})
        y0 = pd.DataFrame({name: enrolled[f"y0_{name}"].to_numpy() for name in BINARY_OUTCOMES})
        flips = self._planted(enrolled["report_id"].to_numpy(), seed)
        for name in PLANTED:
            y1[name] = np.where(flips, 0.0, y1[name].to_numpy()) * np.where(y1[name].isna(), np.nan, 1.0)
        data = pd.DataFrame(
            {
                "report_id": enrolled["report_id"].to_numpy(),
                "household_id": enrolled["household_id"].to_numpy(),
                "child_id": enrolled["child_id"].to_numpy(),
                "time": enrolled["time"].to_numpy(),
                "treated": treated,
            }
        )
        for name in BINARY_OUTCOMES:
            data[name] = np.where(treated == 1, y1[name].to_numpy(), y0[name].to_numpy())
        return TrialData(data=data, truth=_sample_effects(y1, y0), meta={"first_report": first})

    def _planted(self, report_ids: np.ndarray, seed: int) -> np.ndarray:
        """Which enrolled reports lose a faring-badly event under treatment (probability 1 - risk ratio)."""
        rr = self.cfg.assumed_risk_ratio
        if rr >= 1.0:
            return np.zeros(report_ids.size, dtype=bool)
        u = Streams(seed).keyed("policy", "household_rct:planted").uniforms(report_ids, 0, 0, 0, 1)[:, 0]
        return u < 1.0 - rr


def _sample_effects(y1: pd.DataFrame, y0: pd.DataFrame) -> pd.DataFrame:
    """The exact risk difference and ratio per outcome over the units known in both twins (``y1`` may hold
    expected values between 0 and 1)."""
    rows = []
    for name in BINARY_OUTCOMES:
        ok = y1[name].notna() & y0[name].notna()
        p1, p0 = float(y1.loc[ok, name].mean()), float(y0.loc[ok, name].mean())
        for estimand, value in (("risk_difference", p1 - p0), ("risk_ratio", p1 / p0 if p0 > 0 else np.nan)):
            rows.append({"outcome": name, "estimand": estimand, "value": value, "units": int(ok.sum())})
    return pd.DataFrame(rows)


def _later_school(t: Tables, enrolled: pd.DataFrame) -> pd.DataFrame:
    """Absence in the calendar year after the report, and the exam grade if sat within 3 years of it."""
    panel = t.panel.set_index(["child_id", "year"])
    next_year = list(zip(enrolled["child_id"], enrolled["year"] + 1, strict=True))
    absence = panel["absence"].reindex(next_year).to_numpy(dtype=float)
    ev = t.events
    exams = ev[(ev["event"] == "outcome") & (ev["kind"] == "exam")][["child_id", "time", "value"]]
    joined = enrolled[["child_id", "time"]].reset_index().merge(exams, on="child_id", suffixes=("", "_exam"))
    joined = joined[
        (joined["time_exam"] > joined["time"]) & (joined["time_exam"] <= joined["time"] + 3 * DAYS_PER_YEAR)
    ]
    grade = pd.Series(np.nan, index=enrolled.reset_index().index)
    grade[joined["index"]] = joined["value"].to_numpy()
    return pd.DataFrame(
        {"absence_next_year": absence, "exam_grade": grade.to_numpy()}, index=enrolled.index
    ).reset_index(drop=True)
