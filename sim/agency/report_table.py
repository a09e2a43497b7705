"""The report table: one row per report with what intake had when it arrived, what screening decided and the
outcomes that followed (``reports.parquet``; columns in ``docs/data-dictionary.md``). Built from the world's and
the agency's records at the end of a run, or as of any month (the risk tool trains on what was known then)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.agency.agency import Agency
from sim.agency.decisions import TRIAGE
from sim.calendar import DAYS_PER_MONTH, DAYS_PER_YEAR
from sim.config.schema import SOURCES
from sim.world.world import World


def report_table(world: World, agency: Agency, as_of_month: int | None = None) -> pd.DataFrame:
    """One row per report: what intake had when it arrived, what screening decided, and the outcomes.

    ``as_of_month``: outcomes as known at the start of that month (default: the end of the run); later
    windows are null."""
    ro = world.report_outcomes
    n = ro.n
    arrival_cols = [
        "report_id",
        "source",
        "sibling_of",
        "prior_reports_child",
        "prior_reports_household",
        "prior_measure",
        "open_case",
        "months_since_last_report",
    ]
    arrived = pd.DataFrame(agency.arrivals, columns=arrival_cols).set_index("report_id")
    screened = pd.DataFrame(agency.screenings, columns=["report_id", "screening_hours", "triage", "judgement"])
    df = arrived.join(screened.set_index("report_id")).reindex(np.arange(n))
    pop, inst = world.pop, world.inst
    child = ro.child[:n]
    hh = pop.child_household[child]
    out = pd.DataFrame(
        {
            "report_id": np.arange(n, dtype=np.int64),
            "time": ro.time[:n].copy(),
            "month": ro.month[:n].astype(np.int32),
            "year": (world.first_year + ro.month[:n] // 12).astype(np.int16),
            "child_id": child.astype(np.int64),
            "household_id": hh.astype(np.int64),
            "source": pd.Categorical.from_codes(df["source"].to_numpy(dtype=np.int64), categories=list(SOURCES)),
            "sibling_report": df["sibling_of"].to_numpy() >= 0,
        }
    )
    out["age"] = ((out["time"] / DAYS_PER_MONTH - pop.child_birth[child]) / 12.0).astype(np.float32)
    out["sex"] = np.where(pop.child_sex[child] == 1, "boy", "girl")
    out["prior_reports_child"] = df["prior_reports_child"].to_numpy(dtype=np.int32)
    out["prior_reports_household"] = df["prior_reports_household"].to_numpy(dtype=np.int32)
    out["prior_measure"] = df["prior_measure"].to_numpy(dtype=bool)
    out["open_case"] = df["open_case"].to_numpy(dtype=bool)
    out["months_since_last_report"] = df["months_since_last_report"].to_numpy(dtype=np.float64)
    out["parent_education"] = np.array(["basic", "vocational", "higher"], dtype=object)[pop.hh_education[hh]]
    out["parent_unemployed"] = pop.hh_unemployed[hh]
    out["parent_psychiatric"] = pop.hh_psychiatric[hh]
    out["single_parent"] = pop.hh_single_parent[hh]
    out["daycare_id"] = inst.child_daycare[child]
    out["school_id"] = inst.child_school[child]
    out["screening_hours"] = df["screening_hours"].to_numpy(dtype=np.float64)
    triage = df["triage"].fillna(-1).to_numpy(dtype=np.int64)
    out["triage"] = pd.Categorical.from_codes(triage, categories=list(TRIAGE))
    within = pd.array(out["screening_hours"] <= 24.0, dtype="boolean")
    within[triage < 0] = pd.NA
    out["screened_within_24h"] = within
    fb3, fb12 = ro.final(world.months if as_of_month is None else as_of_month + 1)
    out["faring_badly_0m"] = ro.fb0[:n].astype(bool)
    out["faring_badly_3m"] = fb3
    out["faring_badly_12m"] = fb12
    horizon = (world.months if as_of_month is None else as_of_month) * DAYS_PER_MONTH
    out["rereport_12m"] = rereport_within(out["child_id"].to_numpy(), out["time"].to_numpy(), horizon, DAYS_PER_YEAR)
    starts = np.array(agency.placement_starts, dtype=float).reshape(-1, 2)
    for months in (3, 12):
        out[f"placed_{months}m"] = placed_within(
            out["child_id"].to_numpy(), out["time"].to_numpy(), starts, horizon, months * DAYS_PER_MONTH
        )
    out["true_wellbeing"] = ro.wellbeing[:n]
    out["hidden_adversity"] = pop.hh_hidden[hh]
    out["screening_judgement"] = df["judgement"].to_numpy(dtype=np.float64)
    return out


def placed_within(child: np.ndarray, time: np.ndarray, starts: np.ndarray, horizon: float, window: float) -> np.ndarray:
    """1 if a placement of the same child starts within ``window`` days after the report (the published risk
    tool's target: removal from home), 0 if none does, NaN while the window reaches past ``horizon``, even after a
    placement in it: a sample of known outcomes must not favour the reports placed early (the tool trains on
    them). ``starts``: rows (child, day) of every placement start up to the horizon."""
    out = np.where(time + window <= horizon, 0.0, np.nan)
    if len(starts) == 0 or len(child) == 0:
        return out
    # One sorted key per (child, day): days stay below 1e5 in any run, so the child dominates the order.
    keys = starts[:, 0] * 1e5 + starts[:, 1]
    order = np.argsort(keys, kind="stable")
    keys, start_child, start_day = keys[order], starts[order, 0], starts[order, 1]
    nxt = np.searchsorted(keys, child * 1e5 + time, side="right")
    found = nxt < len(keys)
    k = np.minimum(nxt, len(keys) - 1)
    hit = found & (start_child[k] == child) & (start_day[k] - time <= window)
    out[hit & (time + window <= horizon)] = 1.0
    return out


def rereport_within(child: np.ndarray, time: np.ndarray, horizon: float, window: float) -> np.ndarray:
    """1 if the same child has another report within ``window`` days after this one, 0 if not, NaN if the
    window reaches past ``horizon`` without one (censored)."""
    n = child.shape[0]
    out = np.full(n, np.nan)
    if n == 0:
        return out
    order = np.lexsort((time, child))
    c, t = child[order], time[order]
    nxt = np.full(n, np.inf)
    same = c[1:] == c[:-1]
    nxt[:-1][same] = t[1:][same]
    gap = nxt - t
    res = np.where(gap <= window, 1.0, np.where(t + window <= horizon, 0.0, np.nan))
    out[order] = res
    return out
