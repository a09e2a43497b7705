"""Participating against other daycare institutions, before and after the start (KK-2012: social workers in
Copenhagen's daycare institutions, 2010-12; the scheme was extended to the most burdened third).

KK-2012 says the social workers brought "much earlier attention and action" on concerns about young children,
against a background of few reports from Copenhagen's daycare institutions and a "boom" in reports when children
start school. What a municipality can measure is that: reports of concern from each daycare institution, and
how young children are when they are first reported. This design compares the institutions that got a social
worker (participating) with the others, in the ``years_before`` calendar years before ``start_year`` and the
``years_after`` years from it: one row per institution and period with the children enrolled (child-years),
the reports the institution made, and the children first reported before school age.

The participating institutions are not a random choice: the policy gives a social worker to the most burdened
``policy.daycare_social_workers.share_institutions`` of them, which report more to begin with. The comparison
is a difference in differences: the before period measures each group's own level and the other institutions'
change over time stands in for what the participating ones would have seen without the scheme (parallel
trends on the log-rate scale). It does not assume the groups are alike, only that their reports would have
moved in parallel.

Two worlds, both with the run's seed: the world with ``daycare_social_workers`` from January of
``start_year`` (the run's own settings of the policy if it selected ``policy=daycare_social_workers``, else the
defaults) and its twin without it. Children, households and institutions do not depend on policy, so both
worlds have the same institutions and children. The estimands are exact, over all participating institutions
in the after period: the counts with the policy against the same counts in the twin (the rate ratio, and the
difference in counts per institution-year), and the difference in the mean age at first report.

Every institution is observed, so a draw does not depend on its seed: replications need worlds of their own
(in design diagnosis, as many worlds as replications). Resampling the institutions of one pair of worlds would
give every replication the same realisation of the counts' noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sim.config.fields import count, positive_count
from sim.config.schema import Config
from sim.config.validate import ConfigError
from sim.model import simulate_variants
from sim.tables import Tables
from sim.trials.base import Trial, TrialConfig, TrialData, register, with_policy, without_policies

POLICY = "daycare_social_workers"
COUNTS = ("reports", "first_reports")  # analysed by the count estimator
OUTCOMES = (*COUNTS, "mean_age_first_report")
SCHOOL_AGE = 6.0  # children below this age are in daycare (the policy's age_limit_years)


@dataclass
class DaycareComparisonConfig(TrialConfig):
    """KK-2012's comparison: daycare institutions with a social worker against the others, before and after."""

    start_year: int = count(
        2024, "calendar year the social workers start (January); both windows must fit the observation period"
    )
    years_before: int = positive_count(
        2, "calendar years before the start compared (KK-2012: the pilot was a 2-year project, 2010-12)"
    )
    years_after: int = positive_count(
        2, "calendar years from the start compared (KK-2012: the 2-year project; the midterm evaluation came a year in)"
    )


def participating(institutions: pd.DataFrame, share: float) -> np.ndarray:
    """The daycare institutions that get a social worker: the most burdened ``share`` of them, by the policy's
    own rule (``DaycareSocialWorkers.attach``: ranked by ``burden_rank``, ties in id order)."""
    daycares = institutions[institutions["kind"] == "daycare"].sort_values("institution_id")
    ids = daycares["institution_id"].to_numpy()
    k = round(share * ids.size)
    ranked = ids[np.argsort(-daycares["burden_rank"].to_numpy(), kind="stable")]
    return np.sort(ranked[:k]).astype(np.int64)


def child_years(t: Tables, years: list[int]) -> pd.Series:
    """Child-years at ages under 6 in the given calendar years, per daycare institution: the months present of
    children aged 0-5 all year, and of children turning 6 in the year the months before the birthday (they are
    taken to be present in the year's first months)."""
    panel = t.panel[t.panel["year"].isin(years)]
    panel = panel.merge(t.children[["child_id", "daycare_id", "birth_month"]], on="child_id")
    first_year = int(t.agency_monthly["year"].min())  # the year of month 0
    months = panel["months_present"].to_numpy(dtype=float)
    turning = panel["age"].to_numpy() == SCHOOL_AGE
    birthday = panel["birth_month"].to_numpy() + 12 * SCHOOL_AGE - 12 * (panel["year"].to_numpy() - first_year)
    months = np.where(turning, np.minimum(months, np.clip(birthday, 0.0, 12.0)), months)
    months = np.where(panel["age"].to_numpy() > SCHOOL_AGE, 0.0, months)
    return pd.Series(months / 12.0, index=panel.index).groupby(panel["daycare_id"].to_numpy()).sum()


def young_reports(t: Tables, years: list[int]) -> pd.DataFrame:
    """Reports in the given years on children under 6, with their daycare institution."""
    r = t.reports
    return r[r["year"].isin(years) & (r["age"] < SCHOOL_AGE)]


def period_counts(t: Tables, years: list[int]) -> pd.DataFrame:
    """Per daycare institution over the given years: child-years, reports from the institution, children first
    reported (and the sum of their ages at that report), and inquiries to a social worker."""
    reports = young_reports(t, years)
    own = reports[(reports["source"] == "daycare") & ~reports["sibling_report"].astype(bool)]
    first = reports[reports["prior_reports_child"] == 0]
    ev = t.events
    inquiries = ev[
        (ev["event"] == "policy") & ev["kind"].str.startswith(f"{POLICY}:inquiry:", na=False) & ev["year"].isin(years)
    ]
    inquiry_daycare = t.children.set_index("child_id")["daycare_id"].reindex(inquiries["child_id"]).to_numpy()
    return pd.DataFrame(
        {
            "child_years": child_years(t, years),
            "reports": own.groupby("daycare_id").size(),
            "first_reports": first.groupby("daycare_id").size(),
            "age_sum": first["age"].astype(float).groupby(first["daycare_id"]).sum(),
            "inquiries": pd.Series(1, index=inquiry_daycare).groupby(level=0).size(),
        }
    )


@register
class DaycareComparison(Trial):
    name = "daycare_comparison"
    Config = DaycareComparisonConfig
    estimator = "count_daycare"
    outcomes = OUTCOMES
    world_keys = ("start_year",)  # the windows only change what is read from the worlds
    draws_depend_on_seed = False  # every institution is observed: one data set per pair of worlds
    columns: ClassVar[dict[str, str]] = {
        "institution_id": "the daycare institution",
        "participating": "1 if the institution got a social worker (the most burdened share), 0 if not",
        "period": "'before': the years before the start; 'after': the years from the start",
        "after": "1 in the after period, 0 in the before period",
        "years": "calendar years in the period (the institution's exposure in years)",
        "child_years": "child-years of the institution's children under 6 in the period (months present / 12)",
        "reports": "reports of concern the institution made on its children under 6 in the period "
        "(source daycare; sibling co-reports not counted)",
        "first_reports": "children of the institution first reported (any source; no earlier report on record) "
        "in the period, before age 6",
        "mean_age_first_report": "their mean age in years at that first report; empty where first_reports is 0",
        "inquiries": "inquiries registered by the institution's social worker in the period (0 where there is none)",
    }

    def check(self, run: Config) -> None:
        """Both windows must fall in the observation period."""
        c, w = self.cfg, run.world
        first, end = w.start_year, w.start_year + w.years
        if c.start_year - c.years_before < first or c.start_year + c.years_after > end:
            raise ConfigError(
                f"trial.start_year = {c.start_year} does not fit with trial.years_before = {c.years_before} and "
                f"trial.years_after = {c.years_after}: the windows run {c.start_year - c.years_before}-"
                f"{c.start_year + c.years_after - 1} and must lie within the observation period {first}-{end - 1} "
                "(world.start_year, world.years)"
            )

    def worlds(self, run: Config) -> dict[str, Any]:
        self.check(run)
        world = with_policy(run, POLICY, start_year=self.cfg.start_year)
        settings = world.policy[POLICY]
        result, baseline = simulate_variants([world, without_policies(run)])
        institutions = result.population["institutions"]
        daycares = np.sort(institutions.loc[institutions["kind"] == "daycare", "institution_id"].to_numpy(np.int64))
        chosen = participating(institutions, settings.share_institutions)
        if chosen.size in (0, daycares.size):
            raise ConfigError(
                f"policy.{POLICY}.share_institutions = {settings.share_institutions:g} leaves "
                f"{'no' if chosen.size == 0 else 'every'} daycare institution participating: the comparison "
                "needs both groups"
            )
        return {
            "policy": Tables.from_result(result),
            "baseline": Tables.from_result(baseline),
            "participating": chosen,
            "daycares": daycares,
        }

    def windows(self) -> dict[str, list[int]]:
        """The calendar years of each period."""
        s = self.cfg.start_year
        return {"before": list(range(s - self.cfg.years_before, s)), "after": list(range(s, s + self.cfg.years_after))}

    def table(self, t: Tables, daycares: np.ndarray, chosen: np.ndarray) -> pd.DataFrame:
        """The design's data from one world: one row per daycare institution and period."""
        frames = []
        for period, years in self.windows().items():
            counts = period_counts(t, years).reindex(daycares).fillna(0.0)
            first = counts["first_reports"].to_numpy(dtype=int)
            frames.append(
                pd.DataFrame(
                    {
                        "institution_id": daycares,
                        "participating": np.isin(daycares, chosen).astype(int),
                        "period": period,
                        "after": int(period == "after"),
                        "years": len(years),
                        "child_years": counts["child_years"].to_numpy(),
                        "reports": counts["reports"].to_numpy(dtype=int),
                        "first_reports": first,
                        "mean_age_first_report": np.where(
                            first > 0, counts["age_sum"].to_numpy() / np.maximum(first, 1), np.nan
                        ),
                        "inquiries": counts["inquiries"].to_numpy(dtype=int),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)[list(self.columns)]

    def draw(self, worlds: dict[str, Any], seed: int) -> TrialData:
        """The comparison's data from the policy world, and its estimands against the twin. Every institution is
        observed, so the data set does not depend on ``seed``."""
        chosen, daycares = worlds["participating"], worlds["daycares"]
        data = self.table(worlds["policy"], daycares, chosen)
        twin = self.table(worlds["baseline"], daycares, chosen)
        return TrialData(
            data=data,
            truth=effects(data, twin),
            meta={
                "start_year": self.cfg.start_year,
                "windows": self.windows(),
                "participating": int(chosen.size),
                "institutions": int(daycares.size),
            },
        )


def effects(data: pd.DataFrame, twin: pd.DataFrame) -> pd.DataFrame:
    """The exact effects over the participating institutions in the after period: each count with the policy
    against the twin (rate ratio; difference per institution-year), and the difference in mean age at first
    report (pooled over the children first reported)."""
    cells = (data["participating"] == 1) & (data["after"] == 1)
    treated, counter = data[cells], twin[cells.to_numpy()]
    institution_years = float(treated["years"].sum())
    base = {"institutions": len(treated), "institution_years": institution_years}
    rows = []
    for outcome in COUNTS:
        y1, y0 = float(treated[outcome].sum()), float(counter[outcome].sum())
        for estimand, value in (
            ("difference_per_institution_year", (y1 - y0) / institution_years),
            ("rate_ratio", y1 / y0 if y0 > 0 else np.nan),
        ):
            rows.append(
                {"outcome": outcome, "estimand": estimand, "value": value, "with_policy": y1, "without": y0, **base}
            )
    ages = []
    for frame in (treated, counter):
        n = frame["first_reports"].to_numpy(dtype=float)
        ages.append(float(np.nansum(frame["mean_age_first_report"].to_numpy() * n) / n.sum()) if n.sum() else np.nan)
    rows.append(
        {
            "outcome": "mean_age_first_report",
            "estimand": "difference_in_mean_age",
            "value": ages[0] - ages[1],
            "with_policy": ages[0],
            "without": ages[1],
            **base,
        }
    )
    return pd.DataFrame(rows)
