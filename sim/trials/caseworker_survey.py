"""The before/after survey of caseworker training in child participation (KORA-2014: Børns Vilkår, evaluated by
KORA, 2014-16).

About 100 caseworkers in three municipalities were trained to involve children in their cases; KORA measured
"before and after among children and caseworkers": about 6,000 children, no control group. This design does
the same in a simulated municipality where ``child_participation`` starts in January of ``training_year``. Its
unit is a child-decision: a child's first decision (or escalation) by a caseworker in a window, read from the
event log, which records for every decision the caseworker who made it and whether the child was sufficiently
involved. Caseworkers with decisions in both windows (``window_years`` before and after training) are
eligible; ``n_caseworkers`` of them are drawn at random, and for each of them at most
``children_per_caseworker`` child-decisions in each window. Every row belongs to one caseworker (the cluster);
a child can appear once per caseworker and window.

Outcomes: ``involved`` (the child was sufficiently involved in the decision: what the survey measures),
``faring_badly_12m`` (the child fared badly at a month start in the 12 months after the decision) and
``breakdown_12m`` (a placement decided broke down within 12 months; empty for other decisions). The last two
need 12 months of follow-up after the after window, which must fit in the observation period.

Two worlds, both with the run's seed: the training world and its twin without training (baseline). Until
``training_year`` they are identical (common random numbers). The estimand of each outcome is the effect of
training in the after window over the sampled caseworkers: the policy world minus the no-policy world, each a
mean over the caseworkers of the caseworker's share (a typical caseworker's share, which is what the
multilevel model's marginal risk is), as a risk difference and a risk ratio; over every child-decision of
those caseworkers in the window, not only the sampled ones.

**The before/after contrast is not the effect.** The survey compares after with before in the training world;
that equals the twin effect only if nothing else changed between the windows. The truth also gives that
population contrast (``before_after_risk_difference``, ``before_after_risk_ratio``: the training world, after
minus before, over the same caseworkers) so the design's own bias can be read off. In the design's world
(``world=three_municipalities``, 100 caseworkers) the agency is stationary after burn-in and involvement has no
secular trend: the two agree for ``involved`` within about a percentage point (0.164 against 0.155: the
windows' noise). They differ for the outcomes of the children: the training's effect on ``faring_badly_12m``
is tiny (through better-fitting measures only) while the children decided on in the two windows differ, so its
before/after contrast is mostly noise and drift in who comes to a decision (-0.006 against 0.0004), and that
of ``breakdown_12m`` (a few hundred placements) was +0.039 against an effect of -0.010.

With ``policy.child_participation.trained_share`` below 1 the survey does not know who was trained: every
sampled caseworker counts, trained or not (the effect of the municipality's training programme).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from sim.calendar import DAYS_PER_MONTH, DAYS_PER_YEAR
from sim.config.fields import count, positive_count, positive_duration
from sim.config.schema import PLACEMENT_TYPES, Config
from sim.config.validate import ConfigError
from sim.model import simulate_variants
from sim.tables import Tables
from sim.trials.base import Trial, TrialConfig, TrialData, register, with_policy, without_policies

OUTCOMES = ("involved", "faring_badly_12m", "breakdown_12m")
#: The events that log a decision with whether the child was involved (``child_not_involved_enough``).
DECISION_EVENTS = ("decision", "escalation")
FOLLOW_UP_MONTHS = 12


@dataclass
class CaseworkerSurveyConfig(TrialConfig):
    """KORA-2014's survey: about 100 caseworkers and 6,000 children, before and after training."""

    training_year: int = count(
        2024,
        "calendar year the caseworkers are trained (January; child_participation starts); the before window, "
        "the after window and 12 months of follow-up must fit in the observation period",
    )
    window_years: float = positive_duration(
        2.0, "years of each window, before and after training (KORA-2014: the project ran 2014-16)"
    )
    n_caseworkers: int = positive_count(
        100, "caseworkers surveyed (KORA-2014: about 100); the world must have at least this many"
    )
    children_per_caseworker: int = positive_count(
        30, "child-decisions surveyed per caseworker in each window, at most (KORA-2014: 6,000 children / 100 / 2)"
    )


def caseworkers_in(run: Config) -> int:
    """The size of the world's caseworker pool (as ``sim.agency.agency.Agency`` computes it)."""
    w = run.world
    return max(1, round(w.children * w.agency.caseworkers.per_1000_children / 1000))


def survey_units(t: Tables, start: float, end: float) -> pd.DataFrame:
    """Every child's first decision (or escalation) by each caseworker in ``[start, end)`` days, with the
    design's outcomes: one row per (caseworker, child)."""
    ev = t.events
    d = ev[ev["event"].isin(DECISION_EVENTS) & ev["caseworker_id"].notna() & (ev["time"] >= start) & (ev["time"] < end)]
    d = d.sort_values("time", kind="stable").drop_duplicates(["caseworker_id", "child_id"])
    units = pd.DataFrame(
        {
            "child_id": d["child_id"].to_numpy(dtype=np.int64),
            "caseworker_id": d["caseworker_id"].to_numpy(dtype=np.int64),
            "case_id": d["case_id"].to_numpy(dtype=np.int64),
            "time": d["time"].to_numpy(dtype=float),
            "decision": d["kind"].astype(str).to_numpy(),
            "involved": d["flag"].astype(float).to_numpy(),
        }
    )
    units["faring_badly_12m"] = t.faring_badly_within(units["child_id"], units["time"], FOLLOW_UP_MONTHS)
    units["breakdown_12m"] = _breakdowns(t, units)
    return units


def _breakdowns(t: Tables, units: pd.DataFrame) -> np.ndarray:
    """1.0 if the placement decided broke down within 12 months (a ``breakdown`` event in the case), 0.0 if
    not (also if it ended earlier), NaN where the decision was not a placement."""
    placed = units["decision"].isin(PLACEMENT_TYPES).to_numpy()
    ev = t.events
    breaks = ev.loc[ev["event"] == "breakdown", ["case_id", "time"]].astype({"case_id": np.int64})
    joined = units[["case_id", "time"]].reset_index().merge(breaks, on="case_id", suffixes=("", "_break"))
    within = joined[(joined["time_break"] > joined["time"]) & (joined["time_break"] <= joined["time"] + DAYS_PER_YEAR)]
    out = np.zeros(len(units))
    out[within["index"].unique()] = 1.0
    return np.where(placed, out, np.nan)


def caseworker_mean(units: pd.DataFrame, outcome: str) -> tuple[float, int, int]:
    """The mean over caseworkers of each caseworker's share of ``outcome`` (over its units with a known value),
    and the numbers of caseworkers and units it is over."""
    known = units[units[outcome].notna()]
    shares = known.groupby("caseworker_id")[outcome].mean()
    return (float(shares.mean()) if len(shares) else float("nan")), len(shares), len(known)


@register
class CaseworkerSurvey(Trial):
    name = "caseworker_survey"
    Config = CaseworkerSurveyConfig
    estimator = "multilevel_caseworker"
    outcomes = OUTCOMES
    columns: ClassVar[dict[str, str]] = {
        "child_id": "the child; one row per child, caseworker and window (the child's first decision by that "
        "caseworker in the window)",
        "caseworker_id": "the caseworker who made the decision (the cluster)",
        "case_id": "the child's case",
        "period": "'before' if the decision was in the window before training, 'after' if in the window after",
        "after": "1 if the decision was after training, 0 if before",
        "time": "days since the start of the simulation when the decision was made",
        "age": "the child's age in years at the decision",
        "decision": "the measure decided: preventive, home_based, a placement type, or none",
        "involved": "1 if the child was sufficiently involved in the decision, 0 if not",
        "faring_badly_12m": "1 if the child fared badly at any month start in the 12 months after the decision, "
        "0 if not",
        "breakdown_12m": "1 if the placement decided broke down within 12 months, 0 if not; empty where the "
        "decision was not a placement",
    }

    def check(self, run: Config) -> None:
        """Both windows and the follow-up must fall in the observation period, and the world must have the
        caseworkers to survey."""
        c, w = self.cfg, run.world
        first, end = w.start_year, w.start_year + w.years
        if c.training_year - c.window_years < first or c.training_year + c.window_years + 1 > end:
            raise ConfigError(
                f"trial.training_year = {c.training_year} does not fit: the before window starts "
                f"{c.window_years:g} years earlier and the after window and its 12 months of follow-up end "
                f"{c.window_years + 1:g} years later, all within the observation period {first}-{end - 1}"
            )
        available = caseworkers_in(run)
        if available < c.n_caseworkers:
            children = int(np.ceil(c.n_caseworkers / w.agency.caseworkers.per_1000_children) * 1000)
            raise ConfigError(
                f"trial.n_caseworkers = {c.n_caseworkers} but world '{w.name}' has {available} caseworkers "
                f"({w.children:,} children): use a larger world (world=three_municipalities, world=copenhagen, or "
                f"world.children={children}) "
                "or fewer caseworkers"
            )

    def worlds(self, run: Config) -> dict[str, Tables]:
        self.check(run)
        training, baseline = simulate_variants(
            [with_policy(run, "child_participation", start_year=self.cfg.training_year), without_policies(run)]
        )
        return {"training": Tables.from_result(training), "baseline": Tables.from_result(baseline)}

    def windows(self, t: Tables) -> tuple[float, float, float]:
        """Start of the before window, the training (start of the after window) and the end of the after
        window, in days since month 0."""
        am = t.agency_monthly
        training = float(am.loc[am["year"] >= self.cfg.training_year, "time"].min())
        width = self.cfg.window_years * 12 * DAYS_PER_MONTH
        return training - width, training, training + width

    def draw(self, worlds: dict[str, Tables], seed: int) -> TrialData:
        trained, baseline = worlds["training"], worlds["baseline"]
        start, training, end = self.windows(trained)
        before, after = survey_units(trained, start, training), survey_units(trained, training, end)
        eligible = np.intersect1d(before["caseworker_id"].unique(), after["caseworker_id"].unique())
        n, k = self.cfg.n_caseworkers, self.cfg.children_per_caseworker
        if eligible.size < n:
            raise ConfigError(
                f"trial.n_caseworkers = {n} but only {eligible.size} caseworkers made decisions in both windows: "
                "use a larger world, longer windows or fewer caseworkers"
            )
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x002CA5E]))
        chosen = np.sort(rng.choice(eligible, size=n, replace=False))
        sampled = []
        for period, units in (("before", before), ("after", after)):
            pool = units[units["caseworker_id"].isin(chosen)]
            pool = pool.assign(_order=rng.random(len(pool))).sort_values(["caseworker_id", "_order"])
            sampled.append(pool.groupby("caseworker_id").head(k).drop(columns="_order").assign(period=period))
        rows = pd.concat(sampled, ignore_index=True)
        rows = rows.assign(after=(rows["period"] == "after").astype(int)).sort_values(
            ["after", "caseworker_id", "time"], kind="stable", ignore_index=True
        )
        data = rows.assign(age=trained.age_at(rows["child_id"], rows["time"]))[list(self.columns)]
        untrained = survey_units(baseline, training, end)
        population = {
            "after": after[after["caseworker_id"].isin(chosen)],
            "before": before[before["caseworker_id"].isin(chosen)],
            "baseline": untrained[untrained["caseworker_id"].isin(chosen)],
        }
        return TrialData(
            data=data,
            truth=_truth(population),
            meta={
                "training_year": self.cfg.training_year,
                "windows": (start, training, end),
                "caseworkers": n,
                "eligible_caseworkers": int(eligible.size),
                "units_before": len(population["before"]),
                "units_after": len(population["after"]),
            },
        )

    def draw_potential(self, worlds: dict[str, Tables], seed: int) -> TrialData:
        """A survey drawn from the twins' potential outcomes in the after window, for replications: a two-stage
        bootstrap of the simulated population. ``n_caseworkers`` caseworkers are drawn with replacement from
        those with decisions in the after window in both worlds (one drawn twice counts as two: ``caseworker_id``
        numbers the draws), and for each ``children_per_caseworker`` child-decisions with replacement from its
        baseline units (labelled before) and as many from its training-world units (labelled after). The draws
        are then independent and identically distributed from a population whose effect is known exactly: the
        mean over every caseworker of its training-world share minus its baseline share. There is no secular
        trend by construction (both periods are the same window), so this checks the estimator, not the
        design's before/after assumption. One pair of worlds serves any number of surveys. The truth is exact
        for outcomes known for every unit (``involved``, ``faring_badly_12m``)."""
        trained, baseline = worlds["training"], worlds["baseline"]
        _, training, end = self.windows(trained)
        after, before = survey_units(trained, training, end), survey_units(baseline, training, end)
        pool = np.intersect1d(before["caseworker_id"].unique(), after["caseworker_id"].unique())
        before, after = before[before["caseworker_id"].isin(pool)], after[after["caseworker_id"].isin(pool)]
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x002B007]))
        picks = rng.choice(pool, size=self.cfg.n_caseworkers, replace=True)
        k = self.cfg.children_per_caseworker
        parts = []
        for period, units in (("before", before), ("after", after)):
            positions = units.groupby("caseworker_id").indices
            picked = np.concatenate([rng.choice(positions[cw], size=k, replace=True) for cw in picks])
            parts.append(
                units.iloc[picked].assign(
                    caseworker_id=np.repeat(np.arange(picks.size), k), period=period, after=int(period == "after")
                )
            )
        rows = pd.concat(parts, ignore_index=True)
        data = rows.assign(age=trained.age_at(rows["child_id"], rows["time"]))[list(self.columns)]
        return TrialData(
            data=data,
            truth=_truth({"after": after, "baseline": before}),
            meta={"pool_caseworkers": int(pool.size)},
        )


def _truth(population: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per outcome: the training world against baseline in the after window (the effect), and, where the before
    window is given, after against before in the training world (the contrast a survey of every child-decision
    would find). Each side is a mean over caseworkers of the caseworker's share."""
    rows = []
    for outcome in OUTCOMES:
        risk, caseworkers, units = caseworker_mean(population["after"], outcome)
        for prefix, reference, label in (
            ("", "baseline", "baseline world, after window"),
            ("before_after_", "before", "training world, before window"),
        ):
            if reference not in population:
                continue
            ref, ref_caseworkers, ref_units = caseworker_mean(population[reference], outcome)
            for estimand, value in (
                ("risk_difference", risk - ref),
                ("risk_ratio", risk / ref if ref > 0 else np.nan),
            ):
                rows.append(
                    {
                        "outcome": outcome,
                        "estimand": prefix + estimand,
                        "value": value,
                        "risk": risk,
                        "caseworkers": caseworkers,
                        "units": units,
                        "reference": label,
                        "reference_risk": ref,
                        "reference_caseworkers": ref_caseworkers,
                        "reference_units": ref_units,
                    }
                )
    return pd.DataFrame(rows)
