"""The outcomes of one world over its observation period, as the scenario comparison and the report show them.

``OUTCOMES`` lists each outcome once, with its unit, the direction that is better for children (or for the
agency), a plain label, and the function that computes it from a world's tables. Calibration metrics are
reused where the quantity is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import measures as m
from sim.calendar import DAYS_PER_YEAR
from sim.config.schema import PLACEMENT_TYPES
from sim.tables import Tables


@dataclass(frozen=True)
class Outcome:
    name: str
    label: str
    unit: str  # share, per_1000, days, years, grade, cases, dkk, sd
    better: str  # lower, higher, or none
    group: str  # children, measures, targeting, process, long_run, costs
    compute: Callable[[Tables], float]


# ------------------------------------------------------------------ building blocks
def _report_outcome(t: Tables, column: str) -> float:
    return float(t.observed(t.reports)[column].mean())


def _starts_per_1000(t: Tables, *kinds: str) -> float:
    starts = m.events_of(t, "measure_start")
    return 1000 * m.ratio(starts["kind"].isin(kinds).sum(), m.child_years(t))


def _investigations_per_1000(t: Tables) -> float:
    return 1000 * m.ratio(len(m.events_of(t, "investigation_start")), m.child_years(t))


def case_timeline(t: Tables) -> pd.DataFrame:
    """Per case opened in the observation period: report time, first decision, first measure start (days)."""
    ev = t.events
    opened = m.events_of(t, "case_open")[["case_id", "report_id", "child_id", "time"]]
    report_time = t.reports.set_index("report_id")["time"]
    decision = ev[ev["event"] == "decision"].groupby("case_id")["time"].min()
    measure = ev[ev["event"] == "measure_start"].groupby("case_id")["time"].min()
    return opened.assign(
        report_time=report_time.reindex(opened["report_id"]).to_numpy(),
        decision=decision.reindex(opened["case_id"]).to_numpy(),
        measure=measure.reindex(opened["case_id"]).to_numpy(),
    )


def case_composition(t: Tables) -> pd.DataFrame:
    """Per case opened in the observation period, who it reached: the opening report's ``need`` (minus the child's
    wellbeing W then, SD units: higher = worse off), the household's ``hidden`` adversity (SD units, in no record),
    whether the child was ``faring_badly`` at the report (all three hidden truth), and whether the case was
    ``investigated``, got a measure (``measured``) or a placement (``placed``)."""
    opened = m.events_of(t, "case_open")[["case_id", "report_id"]]
    reports = t.reports.set_index("report_id").reindex(opened["report_id"])
    ev = t.events
    starts = ev[ev["event"] == "measure_start"]
    cases = opened["case_id"]
    return pd.DataFrame(
        {
            "need": -reports["true_wellbeing"].to_numpy(dtype=float),
            "hidden": reports["hidden_adversity"].to_numpy(dtype=float),
            "faring_badly": reports["faring_badly_0m"].to_numpy(dtype=bool),
            "investigated": cases.isin(ev.loc[ev["event"] == "investigation_start", "case_id"]).to_numpy(),
            "measured": cases.isin(starts["case_id"]).to_numpy(),
            "placed": cases.isin(starts.loc[starts["kind"].isin(PLACEMENT_TYPES), "case_id"]).to_numpy(),
        }
    )


def composition(t: Tables, column: str, step: str) -> float:
    """Mean of ``column`` (``need``, ``hidden`` or ``faring_badly``) over the cases that reached ``step``."""
    if "case_composition" not in t.cache:  # seven outcomes read it: build it once per world
        t.cache["case_composition"] = case_composition(t)
    cases = t.cache["case_composition"]
    chosen = cases.loc[cases[step], column]
    return float(chosen.mean()) if len(chosen) else float("nan")


def days_report_to_decision(t: Tables) -> float:
    c = case_timeline(t)
    return float(np.nanmedian(c["decision"] - c["report_time"])) if len(c) else float("nan")


def days_decision_to_measure(t: Tables) -> float:
    c = case_timeline(t)
    return float(np.nanmedian(c["measure"] - c["decision"])) if len(c) else float("nan")


def faring_badly_share(t: Tables) -> float:
    p = t.observed(t.panel)
    return m.ratio(p["months_faring_badly"].sum(), p["months_present"].sum())


def after_home_based(t: Tables) -> pd.DataFrame:
    """Home-based measures started in the observation period at least 12 months before the horizon, with
    whether the child was placed within 12 months and whether it was in any measure 12 months later."""
    spells = m.measure_spells(t)
    starts = spells[(spells["kind"] == "home_based") & (spells["start"] >= t.observation_start)]
    starts = starts[starts["start"] + DAYS_PER_YEAR <= t.horizon]
    later = spells[["child_id", "kind", "start", "end"]]
    joined = starts[["child_id", "start"]].reset_index().merge(later, on="child_id", suffixes=("", "_l"))
    placed = (
        joined["kind"].isin(PLACEMENT_TYPES)
        & (joined["start_l"] > joined["start"])
        & (joined["start_l"] <= joined["start"] + DAYS_PER_YEAR)
    )
    in_measure = (joined["start_l"] <= joined["start"] + DAYS_PER_YEAR) & (
        joined["end"] > joined["start"] + DAYS_PER_YEAR
    )
    flags = joined.assign(placed=placed, in_measure=in_measure).groupby("index")[["placed", "in_measure"]].any()
    return starts.join(flags)


def placed_after_home_based(t: Tables) -> float:
    a = after_home_based(t)
    return float(a["placed"].mean()) if len(a) else float("nan")


def neither_placed_nor_in_measure(t: Tables) -> float:
    a = after_home_based(t)
    return float((~a["placed"] & ~a["in_measure"]).mean()) if len(a) else float("nan")


def first_age(t: Tables, event: str, below: float = 7.0) -> float:
    """Mean age (years) at a child's first event of this type in the observation period, among children whose
    first one came before age ``below`` (the young children daycare social workers see)."""
    ev = t.events[t.events["event"] == event].sort_values("time").drop_duplicates("child_id")
    ev = t.observed(ev)
    age = t.age_at(ev["child_id"], ev["time"])
    age = age[age < below]
    return float(age.mean()) if age.size else float("nan")


def young_reported_per_1000(t: Tables) -> float:
    """Children 0-6 with a report or a daycare inquiry in a year, per 1,000 children 0-6 (KK-2013's 'identified')."""
    p = t.observed(t.panel)
    young = p[p["age"] <= 6]
    ev = t.observed(t.events)
    inquiries = ev[(ev["event"] == "policy") & ev["kind"].str.contains(":inquiry:", na=False)]
    reports = t.observed(t.reports)
    seen = pd.MultiIndex.from_arrays(
        [
            np.concatenate([reports["year"].to_numpy(np.int64), inquiries["year"].to_numpy(np.int64)]),
            np.concatenate([reports["child_id"].to_numpy(np.int64), inquiries["child_id"].to_numpy(np.int64)]),
        ]
    )
    identified = pd.MultiIndex.from_arrays([young["year"].to_numpy(np.int64), young["child_id"].to_numpy(np.int64)])
    hits = int(identified.isin(seen).sum())
    return 1000 * m.ratio(hits, young["months_present"].sum() / 12)


def mean_absence(t: Tables) -> float:
    return float(t.observed(t.panel)["absence"].mean())


def exam_taken_all(t: Tables) -> float:
    p = t.observed(t.panel)
    return float(p["exam_taken"].dropna().astype(float).mean())


def exam_grade_all(t: Tables) -> float:
    return float(t.observed(t.panel)["exam_grade"].mean())


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("faring_badly_share", "child-months faring badly", "share", "lower", "children", faring_badly_share),
    Outcome(
        "faring_badly_3m",
        "faring badly within 3 months of a report",
        "share",
        "lower",
        "children",
        lambda t: _report_outcome(t, "faring_badly_3m"),
    ),
    Outcome(
        "faring_badly_12m",
        "faring badly within 12 months of a report",
        "share",
        "lower",
        "children",
        lambda t: _report_outcome(t, "faring_badly_12m"),
    ),
    Outcome(
        "rereport_12m",
        "re-reported within 12 months",
        "share",
        "lower",
        "children",
        lambda t: _report_outcome(t, "rereport_12m"),
    ),
    Outcome(
        "placed_12m",
        "placed within 12 months of a report",
        "share",
        "none",
        "children",
        lambda t: _report_outcome(t, "placed_12m"),
    ),
    Outcome(
        "reports_per_1000",
        "reports a year per 1,000 children",
        "per_1000",
        "none",
        "children",
        m.reports_per_1000_children,
    ),
    Outcome(
        "young_identified_per_1000",
        "children 0-6 reported or inquired about a year, per 1,000",
        "per_1000",
        "none",
        "children",
        young_reported_per_1000,
    ),
    Outcome(
        "age_first_report_0_6",
        "age at first report, children under 7",
        "years",
        "lower",
        "children",
        lambda t: first_age(t, "report"),
    ),
    Outcome(
        "investigations_per_1000",
        "child investigations (SEL § 50, BL § 20) started a year per 1,000",
        "per_1000",
        "none",
        "measures",
        _investigations_per_1000,
    ),
    Outcome(
        "preventive_starts_per_1000",
        "preventive measures (SEL § 11, BL § 30) started a year per 1,000",
        "per_1000",
        "none",
        "measures",
        lambda t: _starts_per_1000(t, "preventive"),
    ),
    Outcome(
        "home_based_starts_per_1000",
        "home-based measures (SEL § 52, BL § 32) started a year per 1,000",
        "per_1000",
        "none",
        "measures",
        lambda t: _starts_per_1000(t, "home_based"),
    ),
    Outcome(
        "new_placements_per_1000",
        "placements started a year per 1,000",
        "per_1000",
        "lower",
        "measures",
        m.new_placements_per_1000,
    ),
    *(
        Outcome(
            f"{k}_starts_per_1000",
            f"placements in {k.replace('_', ' ')} started a year per 1,000",
            "per_1000",
            "none",
            "measures",
            lambda t, k=k: _starts_per_1000(t, k),
        )
        for k in PLACEMENT_TYPES
    ),
    Outcome(
        "preventive_per_1000",
        "in a § 11 or § 52 measure on 31 December, per 1,000",
        "per_1000",
        "none",
        "measures",
        m.preventive_per_1000,
    ),
    Outcome("placed_per_1000", "placed on 31 December, per 1,000", "per_1000", "lower", "measures", m.placed_per_1000),
    Outcome(
        "institution_share",
        "share of placements in institutions",
        "share",
        "lower",
        "measures",
        lambda t: m.placement_share(t, ("institution",)),
    ),
    Outcome(
        "network_share",
        "network foster care's share of family care",
        "share",
        "higher",
        "measures",
        m.network_share_of_family_care,
    ),
    Outcome(
        "placed_after_home_based",
        "placed within a year of a home-based measure",
        "share",
        "lower",
        "measures",
        placed_after_home_based,
    ),
    Outcome(
        "neither_placed_nor_in_measure",
        "neither placed nor in a measure a year after a home-based measure",
        "share",
        "higher",
        "measures",
        neither_placed_nor_in_measure,
    ),
    Outcome(
        "age_first_investigation_0_6",
        "age at first § 50, children under 7",
        "years",
        "lower",
        "measures",
        lambda t: first_age(t, "investigation_start"),
    ),
    Outcome(
        "age_first_measure_0_6",
        "age at first measure, children under 7",
        "years",
        "lower",
        "measures",
        lambda t: first_age(t, "measure_start"),
    ),
    Outcome(
        "investigation_hit_rate",
        "investigations of a child faring badly at the report",
        "share",
        "higher",
        "targeting",
        lambda t: composition(t, "faring_badly", "investigated"),
    ),
    *(
        Outcome(
            f"{what}_{step}",
            f"{words} of the children {step}",
            "sd",
            "higher",
            "targeting",
            lambda t, what=what, step=step: composition(t, what, step),
        )
        for what, words in (("need", "mean need"), ("hidden", "mean hidden adversity"))
        for step in ("investigated", "measured", "placed")
    ),
    Outcome(
        "days_report_to_decision",
        "days from report to decision (median)",
        "days",
        "lower",
        "process",
        days_report_to_decision,
    ),
    Outcome(
        "days_decision_to_measure",
        "days from decision to measure (median)",
        "days",
        "lower",
        "process",
        days_decision_to_measure,
    ),
    Outcome(
        "screened_within_24h", "reports screened within 24 hours", "share", "higher", "process", m.screened_within_24h
    ),
    Outcome(
        "investigation_within_4m",
        "§ 50 investigations finished within 4 months",
        "share",
        "higher",
        "process",
        m.investigation_within_4m,
    ),
    Outcome("caseload", "open cases per caseworker", "cases", "lower", "process", m.caseload_per_caseworker),
    Outcome(
        "child_involved",
        "decisions with the child sufficiently involved",
        "share",
        "higher",
        "process",
        lambda t: 1.0 - m.child_not_involved_enough(t),
    ),
    Outcome(
        "placement_breakdown_rate",
        "placements breaking down a year",
        "share",
        "lower",
        "process",
        m.placement_breakdown_rate,
    ),
    Outcome("absence", "share of lessons missed, ages 6-16", "share", "lower", "long_run", mean_absence),
    Outcome("exam_taken", "took the 9th-grade exams", "share", "higher", "long_run", exam_taken_all),
    Outcome("exam_grade", "mean 9th-grade grade", "grade", "higher", "long_run", exam_grade_all),
    Outcome(
        "youth_crime_10_17",
        "10-17-year-olds charged in a year",
        "share",
        "lower",
        "long_run",
        lambda t: m.charged(t, 10, 17, None),
    ),
)
BY_NAME = {o.name: o for o in OUTCOMES}


def summarise_world(t: Tables) -> dict[str, float]:
    """Every outcome of ``OUTCOMES`` for one world."""
    return {o.name: float(o.compute(t)) for o in OUTCOMES}
