"""The exact effects of a policy: compare the world under the policy with the world under baseline, simulated
with the same seed, so the two differ only where the policy acts (common random numbers, ``sim/rng.py``).

Every child lives in both worlds, so child-level effects are paired differences: the effect on a group is
the mean over its children of (outcome under policy - outcome under baseline), with no sampling error from
the world itself. Three groups:

- ``all``: every child living in the municipality in the observation period;
- ``reported``: children reported at least once in the observation period under baseline (those a policy at
  intake could reach);
- a trial's sample: any list of (child, time) units, e.g. the reports a trial enrolled, with outcomes in
  windows after each unit's time (:func:`sample_effects`).

World-level effects (time to decision, caseload, cost) are differences of the two worlds' summaries.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.calendar import DAYS_PER_YEAR
from sim.config.schema import PLACEMENT_TYPES
from sim.measures import measure_spells
from sim.tables import Tables

#: Child-level outcomes over the observation period: name -> (label, better direction).
CHILD_OUTCOMES: dict[str, tuple[str, str]] = {
    "faring_badly_share": ("share of months faring badly", "lower"),
    "ever_placed": ("placed at some time", "lower"),
    "months_placed": ("months placed", "lower"),
    "ever_in_measure": ("in a measure at some time", "none"),
    "absence": ("share of lessons missed", "lower"),
    "exam_taken": ("took the 9th-grade exams", "higher"),
    "exam_grade": ("9th-grade grade", "higher"),
    "charged": ("charged with a crime at some time", "lower"),
    "reports": ("reports", "none"),
}


def child_outcomes(t: Tables) -> pd.DataFrame:
    """One row per child living in the municipality in the observation period, outcomes as columns."""
    p = t.observed(t.panel)
    g = p.groupby("child_id")
    months = g["months_present"].sum()
    return pd.DataFrame(
        {
            "faring_badly_share": g["months_faring_badly"].sum() / months,
            "ever_placed": (g["months_placed"].sum() > 0).astype(float),
            "months_placed": g["months_placed"].sum().astype(float),
            "ever_in_measure": ((g["months_placed"].sum() + g["months_preventive"].sum()) > 0).astype(float),
            "absence": g["absence"].mean(),
            "exam_taken": g["exam_taken"].agg(lambda s: s.dropna().astype(float).mean() if s.notna().any() else np.nan),
            "exam_grade": g["exam_grade"].mean(),
            "charged": (g["crime_charges"].sum() > 0).astype(float),
            "reports": g["reports"].sum().astype(float),
        }
    )


def _paired(policy: pd.DataFrame, baseline: pd.DataFrame, group: str) -> list[dict]:
    rows = []
    for name in policy.columns:
        both = pd.concat([baseline[name].rename("b"), policy[name].rename("p")], axis=1, join="inner").dropna()
        diff = both["p"] - both["b"]
        n = len(both)
        rows.append(
            {
                "group": group,
                "outcome": name,
                "children": n,
                "baseline": float(both["b"].mean()) if n else np.nan,
                "policy": float(both["p"].mean()) if n else np.nan,
                "effect": float(diff.mean()) if n else np.nan,
                "se_over_children": float(diff.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan,
            }
        )
    return rows


def child_effects(policy: Tables, baseline: Tables, children: np.ndarray | None = None) -> pd.DataFrame:
    """Exact average effects on every child-level outcome for ``all`` children, ``reported`` children, and,
    if given, the children ``children``. ``se_over_children`` describes the spread of the effect across
    children, not uncertainty about the average (which is exact for this world)."""
    return paired_effects(child_outcomes(policy), child_outcomes(baseline), reported_children(baseline), children)


def reported_children(baseline: Tables) -> np.ndarray:
    """The children reported at least once in the observation period: the ``reported`` group of the effects."""
    return baseline.observed(baseline.reports)["child_id"].unique()


def paired_effects(
    a: pd.DataFrame, b: pd.DataFrame, reported: np.ndarray, children: np.ndarray | None = None
) -> pd.DataFrame:
    """:func:`child_effects` from the two worlds' :func:`child_outcomes` (``a`` under the policy, ``b`` under
    baseline) and baseline's :func:`reported_children`."""
    rows = _paired(a, b, "all")
    rows += _paired(a.reindex(reported), b.reindex(reported), "reported")
    if children is not None:
        rows += _paired(a.reindex(children), b.reindex(children), "sample")
    return pd.DataFrame(rows)


def _any_in_window(units: pd.DataFrame, events: pd.DataFrame, overlap: bool = False) -> np.ndarray:
    """For each unit (child_id, time): does the child have an event (child_id, start[, end]) in the 12 months
    after ``time``? With ``overlap`` a spell counts if it overlaps the window, else if it starts in it."""
    joined = units.reset_index().merge(events, on="child_id")
    end = joined["time"] + DAYS_PER_YEAR
    if overlap:
        hit = (joined["start"] <= end) & (joined["end"] > joined["time"])
    else:
        hit = (joined["start"] > joined["time"]) & (joined["start"] <= end)
    return units.reset_index()["index"].isin(joined.loc[hit, "index"]).to_numpy()


def unit_outcomes(t: Tables, child: np.ndarray, time: np.ndarray) -> pd.DataFrame:
    """Outcomes of (child, time) units in windows after ``time`` in world ``t``: faring badly within 3 and 12
    months, placed within 12 months, any measure started within 12 months, re-reported within 12 months, and
    charged with a crime within 12 months where the child is 15 by the window's end. NaN where the window
    passes the horizon (or the child is too young to be charged)."""
    child = np.asarray(child, dtype=np.int64)
    time = np.asarray(time, dtype=float)
    units = pd.DataFrame({"child_id": child, "time": time})
    out = pd.DataFrame(
        {
            "faring_badly_3m": t.faring_badly_within(child, time, 3),
            "faring_badly_12m": t.faring_badly_within(child, time, 12),
        }
    )
    complete = time + DAYS_PER_YEAR <= t.horizon
    spells = measure_spells(t)
    placed = spells[spells["kind"].isin(PLACEMENT_TYPES)][["child_id", "start", "end"]]
    out["placed_12m"] = np.where(complete, _any_in_window(units, placed, overlap=True), np.nan)
    out["measure_12m"] = np.where(complete, _any_in_window(units, spells[["child_id", "start"]]), np.nan)
    reports = t.reports[["child_id", "time"]].rename(columns={"time": "start"})
    out["rereport_12m"] = np.where(complete, _any_in_window(units, reports), np.nan)
    ev = t.events
    charges = ev[(ev["event"] == "outcome") & (ev["kind"] == "crime_charge")][["child_id", "time"]]
    old_enough = t.age_at(child, time + DAYS_PER_YEAR) >= 15
    out["charged_12m"] = np.where(
        complete & old_enough, _any_in_window(units, charges.rename(columns={"time": "start"})), np.nan
    )
    return out


def sample_effects(policy: Tables, baseline: Tables, child: np.ndarray, time: np.ndarray) -> pd.DataFrame:
    """The exact effect for a trial's sample of (child, time) units (e.g. the reports it enrolled): mean over
    units of the outcome after ``time`` under the policy minus under baseline, for each unit outcome."""
    a, b = unit_outcomes(policy, child, time), unit_outcomes(baseline, child, time)
    rows = []
    for name in a.columns:
        ok = a[name].notna() & b[name].notna()
        diff = a.loc[ok, name] - b.loc[ok, name]
        rows.append(
            {
                "outcome": name,
                "units": int(ok.sum()),
                "baseline": float(b.loc[ok, name].mean()),
                "policy": float(a.loc[ok, name].mean()),
                "effect": float(diff.mean()),
                "risk_ratio": float(a.loc[ok, name].mean() / b.loc[ok, name].mean())
                if b.loc[ok, name].mean() > 0
                else np.nan,
            }
        )
    return pd.DataFrame(rows)
