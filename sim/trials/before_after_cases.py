"""The case-file review of the free-municipality experiment (VIVE-2019: VIVE's midterm evaluation, 2019).

VIVE read 75 case files started before the experiment and 75 started during it and compared how long cases
took. This design does the same in a simulated municipality where ``free_municipality`` starts in January of
``reform_year``: it draws ``n_before`` cases at random from those started in the ``window_years`` before the
reform and ``n_during`` from those started in its first ``window_years``, and reads each file on one review
date, ``review_months`` after the end of the during window. From each file: days from the report to the first
decision and from the decision to the first measure, right-censored where the event had not happened by the
review date (or by the case's closure, if the child moved away or turned 18 first: a closed file does not keep
waiting).

The files are the cases a report opened for a § 50 investigation (the assessment that replaces it under the
reform), the cases the exemption is about: cases opened as an acute placement start their measure before the
decision, and cases opened for § 11 advice are decided within hours of the screening, so neither has the two
intervals the review measures.

Two worlds, both with the run's seed: the reform world, and its twin without the reform (baseline). The
estimands compare the two worlds over ALL cases started in the during window, not just the sample: the
difference and ratio of the median days. Medians are Kaplan-Meier medians over each case's complete history to
the end of the simulation (a case closed before the event is censored at its closure). The truth also gives
the population before/after contrast in the reform world (``before_after_*``): what the review estimates when
the sample is its only source of error; the gap between the two is the before/after design's own bias.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from sim.calendar import DAYS_PER_MONTH
from sim.config.fields import count, duration, positive_count, positive_duration
from sim.config.schema import Config
from sim.config.validate import ConfigError
from sim.model import simulate_variants
from sim.summary import case_timeline
from sim.tables import Tables
from sim.trials.base import Trial, TrialConfig, TrialData, register, with_policy, without_policies

OUTCOMES = ("days_to_decision", "days_decision_to_measure")
#: The event indicator of each outcome.
EVENTS = {"days_to_decision": "decision_observed", "days_decision_to_measure": "measure_observed"}
ORIGIN = "investigation"  # cases a report opened for a § 50 investigation


@dataclass
class BeforeAfterCasesConfig(TrialConfig):
    """VIVE-2019's case-file review: 75 cases started before the reform against 75 started during it."""

    reform_year: int = count(
        2024, "calendar year the free-municipality reform starts (January); the windows and review must fit"
    )
    window_years: float = positive_duration(2.0, "years of each window: cases started before / during the reform")
    n_before: int = positive_count(75, "case files sampled from the before window (VIVE-2019: 75)")
    n_during: int = positive_count(75, "case files sampled from the during window (VIVE-2019: 75)")
    review_months: float = duration(6.0, "months from the end of the during window to the review date")


def case_files(t: Tables) -> pd.DataFrame:
    """Every investigation case opened in the observation period, with its complete history: ``opened``,
    ``report_time``, first ``decision`` and its ``decision_kind``, first ``measure`` start and ``closed``
    (days; NaN where it never happened before the end of the simulation)."""
    ev = t.events
    timeline = case_timeline(t)
    opened = ev[ev["event"] == "case_open"].set_index("case_id")
    first_decision = ev[ev["event"] == "decision"].sort_values("time").drop_duplicates("case_id")
    kind = first_decision.set_index("case_id")["kind"]
    closed = ev[ev["event"] == "case_close"].groupby("case_id")["time"].min()
    cases = timeline.rename(columns={"time": "opened"}).assign(
        household_id=opened["household_id"].reindex(timeline["case_id"]).to_numpy(),
        origin=opened["kind"].reindex(timeline["case_id"]).astype(str).to_numpy(),
        decision_kind=kind.reindex(timeline["case_id"]).astype(object).to_numpy(),
        closed=closed.reindex(timeline["case_id"]).to_numpy(),
    )
    cases = cases[cases["origin"] == ORIGIN].drop(columns="origin")
    return cases.astype({"case_id": np.int64, "child_id": np.int64, "household_id": np.int64}).reset_index(drop=True)


def durations(cases: pd.DataFrame, until: float) -> pd.DataFrame:
    """Both intervals of each case as (days, observed) read on day ``until``: an event after ``until`` or never
    is censored at ``until`` or at the case's closure, whichever came first. The decision-to-measure interval
    is empty where there is no decision by then or the decision was no measure."""
    stop = np.fmin(cases["closed"].to_numpy(dtype=float), until)
    decision = cases["decision"].to_numpy(dtype=float)
    report = cases["report_time"].to_numpy(dtype=float)
    decided = decision <= until  # False for NaN
    measure = cases["measure"].to_numpy(dtype=float)
    kind = cases["decision_kind"].to_numpy(dtype=object)
    decided_measure = np.where(decided, (kind != "none").astype(float), np.nan)
    started = measure <= until
    has_interval = decided_measure == 1.0
    return pd.DataFrame(
        {
            "days_to_decision": np.where(decided, decision, stop) - report,
            "decision_observed": decided.astype(int),
            "decided_measure": decided_measure,
            "days_decision_to_measure": np.where(has_interval, np.where(started, measure, stop) - decision, np.nan),
            "measure_observed": np.where(has_interval, started.astype(float), np.nan),
        },
        index=cases.index,
    )


def km_median(days: np.ndarray, observed: np.ndarray) -> float:
    """The Kaplan-Meier median: the first time the share still waiting is at most one half (inf if never)."""
    days, observed = np.asarray(days, dtype=float), np.asarray(observed, dtype=float)
    order = np.lexsort((1.0 - observed, days))  # at ties, events before censorings
    d, e = days[order], observed[order]
    survival = np.cumprod(1.0 - e / np.arange(d.size, 0, -1))
    below = np.flatnonzero(survival <= 0.5)
    return float(d[below[0]]) if below.size else float("inf")


def population_medians(cases: pd.DataFrame, horizon: float) -> dict[str, tuple[float, int]]:
    """Per outcome: the Kaplan-Meier median over every case (complete histories, read at the end of the
    simulation) and the number of cases it is over."""
    d = durations(cases, horizon)
    out = {}
    for outcome in OUTCOMES:
        known = d[d[outcome].notna()]
        out[outcome] = (km_median(known[outcome].to_numpy(), known[EVENTS[outcome]].to_numpy()), len(known))
    return out


@register
class BeforeAfterCases(Trial):
    name = "before_after_cases"
    Config = BeforeAfterCasesConfig
    estimator = "survival_cases"
    outcomes = OUTCOMES
    columns: ClassVar[dict[str, str]] = {
        "case_id": "the case (one case file)",
        "child_id": "the child the case is about",
        "household_id": "the child's household",
        "period": "'before' if the case started in the window before the reform, 'during' if in its first window",
        "during": "1 if the case started during the reform, 0 if before",
        "report_time": "days since the start of the simulation when the report that opened the case arrived",
        "age": "the child's age in years at the report",
        "days_to_decision": "days from the report to the first decision, or to censoring (see decision_observed)",
        "decision_observed": "1 if the decision was made by the review date; 0 if censored at the review date, "
        "or at the case's closure if it closed first",
        "decided_measure": "1 if the decision was a measure, 0 if it was no measure; empty where no decision",
        "days_decision_to_measure": "days from the decision to the start of the measure, or to censoring; "
        "empty where there is no decision by the review date or the decision was no measure",
        "measure_observed": "1 if the measure had started by the review date; 0 if censored at the review date, "
        "or at the case's closure if it closed first; empty where days_decision_to_measure is",
    }

    def check(self, run: Config) -> None:
        """The windows and the review date must fall in the observation period."""
        c, w = self.cfg, run.world
        first, end = w.start_year, w.start_year + w.years
        if c.reform_year - c.window_years < first or c.reform_year + c.window_years + c.review_months / 12 > end:
            raise ConfigError(
                f"trial.reform_year = {c.reform_year} does not fit: the before window starts "
                f"{c.window_years:g} years earlier and the review is {c.window_years:g} years and "
                f"{c.review_months:g} months later, all within the observation period {first}-{end - 1}"
            )

    def worlds(self, run: Config) -> dict[str, Tables]:
        self.check(run)
        reform, baseline = simulate_variants(
            [with_policy(run, "free_municipality", start_year=self.cfg.reform_year), without_policies(run)]
        )
        return {"reform": Tables.from_result(reform), "baseline": Tables.from_result(baseline)}

    def windows(self, t: Tables) -> tuple[float, float, float, float]:
        """Start of the before window, the reform's start, end of the during window, and the review date
        (days since month 0)."""
        am = t.agency_monthly
        reform = float(am.loc[am["year"] >= self.cfg.reform_year, "time"].min())
        width = self.cfg.window_years * 12 * DAYS_PER_MONTH
        return reform - width, reform, reform + width, reform + width + self.cfg.review_months * DAYS_PER_MONTH

    def draw(self, worlds: dict[str, Tables], seed: int) -> TrialData:
        reform, baseline = worlds["reform"], worlds["baseline"]
        start, middle, end, review = self.windows(reform)
        cases = case_files(reform)
        periods = {
            "before": cases[(cases["opened"] >= start) & (cases["opened"] < middle)],
            "during": cases[(cases["opened"] >= middle) & (cases["opened"] < end)],
        }
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x003CA5E]))
        sampled = []
        for period, n in (("before", self.cfg.n_before), ("during", self.cfg.n_during)):
            pool = periods[period]
            if len(pool) < n:
                raise ConfigError(
                    f"only {len(pool)} investigation cases started in the {period} window; the review needs {n}: "
                    "use a larger world, longer windows or fewer case files"
                )
            rows = np.sort(rng.choice(len(pool), size=n, replace=False))
            sampled.append(pool.iloc[rows].assign(period=period))
        files = pd.concat(sampled, ignore_index=True)
        data = pd.DataFrame(
            {
                "case_id": files["case_id"].to_numpy(),
                "child_id": files["child_id"].to_numpy(),
                "household_id": files["household_id"].to_numpy(),
                "period": files["period"].to_numpy(),
                "during": (files["period"] == "during").astype(int).to_numpy(),
                "report_time": files["report_time"].to_numpy(),
                "age": reform.age_at(files["child_id"], files["report_time"]),
            }
        ).join(durations(files, review))
        base_cases = case_files(baseline)
        base_during = base_cases[(base_cases["opened"] >= middle) & (base_cases["opened"] < end)]
        medians = {
            "during": population_medians(periods["during"], reform.horizon),
            "before": population_medians(periods["before"], reform.horizon),
            "baseline": population_medians(base_during, baseline.horizon),
        }
        return TrialData(
            data=data[list(self.columns)],
            truth=_truth(medians),
            meta={
                "reform_year": self.cfg.reform_year,
                "windows": (start, middle, end),
                "review_time": review,
                "cases_before": len(periods["before"]),
                "cases_during": len(periods["during"]),
            },
        )


def _truth(medians: dict[str, dict[str, tuple[float, int]]]) -> pd.DataFrame:
    """Per outcome: reform against baseline in the during window (the effect), and during against before in
    the reform world (the before/after contrast a review of every case would find)."""
    rows = []
    for outcome in OUTCOMES:
        during, n = medians["during"][outcome]
        for prefix, reference, label in (
            ("", "baseline", "baseline world, during window"),
            ("before_after_", "before", "reform world, before window"),
        ):
            ref, n_ref = medians[reference][outcome]
            for estimand, value in (("difference_in_median_days", during - ref), ("ratio_of_medians", during / ref)):
                rows.append(
                    {
                        "outcome": outcome,
                        "estimand": prefix + estimand,
                        "value": value,
                        "median": during,
                        "cases": n,
                        "reference": label,
                        "reference_median": ref,
                        "reference_cases": n_ref,
                    }
                )
    return pd.DataFrame(rows)
