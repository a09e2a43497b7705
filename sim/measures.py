"""What a world's tables say: one small function per quantity (a rate per 1,000 child-years, a share, a stock on
31 December, the measure spells), computed from :class:`sim.tables.Tables` over the observation period. The
calibration targets (:mod:`sim.calibration.metrics`), the comparison's outcomes (:mod:`sim.summary`), the costs,
the truth and the trial designs all read the world through these, so each quantity is defined once.

Rates and shares are pooled over the observation years of one replication (ratios of sums), so years with few
events do not get the same weight as busy ones. Stocks are counted on 31 December. The "group" of a child for
the outcome gaps is the measure it had in the prior 12 months, placement over preventive (a planning assumption;
the sources give no definition): for exams the 12 months before the exam, for yearly outcomes the calendar year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.calendar import DAYS_PER_YEAR
from sim.config.schema import PLACEMENT_TYPES
from sim.tables import Tables

PREVENTIVE_KINDS = ("preventive", "home_based")
FAMILY = ("network_foster", "foster_family")


def ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


# ------------------------------------------------------------------ shared building blocks
def child_years(t: Tables) -> float:
    """Child-years lived in the municipality during the observation period."""
    return t.observed(t.panel)["months_present"].sum() / 12.0


def reports_by_child_year(t: Tables) -> pd.Series:
    """Number of reports per (year, child) among children reported in the observation period."""
    return t.observed(t.reports).groupby(["year", "child_id"]).size()


def events_of(t: Tables, *types: str, observed: bool = True) -> pd.DataFrame:
    ev = t.observed(t.events) if observed else t.events
    return ev[ev["event"].isin(types)]


def measure_spells(t: Tables) -> pd.DataFrame:
    """Every measure as a spell: child_id, case_id, kind, start, end (days; end = horizon if still running).

    A case runs one measure at a time and logs measure_end before the next measure_start, so the i-th start
    of a case pairs with its i-th end.
    """
    ev = t.events
    starts = ev[ev["event"] == "measure_start"][["child_id", "case_id", "kind", "time"]].copy()
    ends = ev[ev["event"] == "measure_end"][["case_id", "time"]].copy()
    starts["n"] = starts.groupby("case_id").cumcount()
    ends["n"] = ends.groupby("case_id").cumcount()
    spells = starts.merge(ends.rename(columns={"time": "end"}), on=["case_id", "n"], how="left")
    spells = spells.rename(columns={"time": "start"}).drop(columns="n")
    spells["end"] = spells["end"].fillna(t.horizon)
    return spells


def new_placements(t: Tables) -> pd.DataFrame:
    """Placement starts that begin a placement episode (not the re-placement after a breakdown), with the
    child's age at the start. Observation period only."""
    ev = t.events
    starts = ev[(ev["event"] == "measure_start") & ev["kind"].isin(PLACEMENT_TYPES)]
    breakdowns = ev[ev["event"] == "breakdown"].set_index(["case_id", "time"]).index
    first = ~starts.set_index(["case_id", "time"]).index.isin(breakdowns)
    out = t.observed(starts[first])
    return out.assign(age=t.age_at(out["child_id"], out["time"]))


def group_in_year(panel: pd.DataFrame) -> pd.Series:
    """placed / preventive / others for each child-year: the measure in that calendar year."""
    preventive_or_none = np.where(panel["months_preventive"] > 0, "preventive", "others")
    return pd.Series(np.where(panel["months_placed"] > 0, "placed", preventive_or_none), index=panel.index)


def exams_with_group(t: Tables) -> pd.DataFrame:
    """Exams in the observation period with the group from measures in the 12 months before the exam."""
    exams = t.observed(t.events)
    exams = exams[(exams["event"] == "outcome") & (exams["kind"] == "exam")][["child_id", "time", "value", "flag"]]
    spells = measure_spells(t)
    spells = spells[spells["child_id"].isin(exams["child_id"])]
    joined = exams.reset_index().merge(spells, on="child_id", how="left", suffixes=("", "_m"))
    overlap = (joined["start"] < joined["time"]) & (joined["end"] > joined["time"] - DAYS_PER_YEAR)
    joined["placed"] = overlap & joined["kind"].isin(PLACEMENT_TYPES)
    joined["measure"] = overlap
    flags = joined.groupby("index")[["placed", "measure"]].any()
    exams = exams.join(flags)
    exams["group"] = np.where(exams["placed"], "placed", np.where(exams["measure"], "preventive", "others"))
    return exams.rename(columns={"value": "grade", "flag": "taken"})


# ------------------------------------------------------------------ reports
def reports_per_1000_children(t: Tables) -> float:
    return 1000 * ratio(len(t.observed(t.reports)), child_years(t))


def children_reported_per_1000(t: Tables) -> float:
    return 1000 * ratio(len(reports_by_child_year(t)), child_years(t))


def reports_per_reported_child(t: Tables) -> float:
    counts = reports_by_child_year(t)
    return ratio(counts.sum(), len(counts))


def share_reported_2plus(t: Tables) -> float:
    counts = reports_by_child_year(t)
    return ratio((counts >= 2).sum(), len(counts))


def source_share(t: Tables, sources: tuple[str, ...]) -> float:
    """Share of the reports that come from ``sources``."""
    rep = t.observed(t.reports)
    return ratio(rep["source"].isin(sources).sum(), len(rep))


def share_reported_at_ages(t: Tables, lo: int, hi: int) -> float:
    """Share of children aged lo..hi (age reached in the year) with a report in the year."""
    panel = t.observed(t.panel)
    panel = panel[(panel["age"] >= lo) & (panel["age"] <= hi)]
    reported = panel["reports"] > 0
    return ratio((reported * panel["months_present"]).sum(), panel["months_present"].sum())


def report_age_order(t: Tables) -> np.ndarray:
    """Shares reported at 0-5, 6-11, 12-17, 4-5 and 6-7 (direction target: rises with age, jump at 6)."""
    return np.array([share_reported_at_ages(t, lo, hi) for lo, hi in ((0, 5), (6, 11), (12, 17), (4, 5), (6, 7))])


def report_age_order_holds(v: np.ndarray) -> bool:
    return bool(v[0] < v[1] < v[2] and v[4] > v[3])


# ------------------------------------------------------------------ the agency's process
def screened_within_24h(t: Tables) -> float:
    return float(t.observed(t.reports)["screened_within_24h"].astype("float").mean())


def investigation_within_4m(t: Tables) -> float:
    ends = events_of(t, "investigation_end")
    return float(ends.loc[ends["kind"] == "completed", "flag"].astype(float).mean())


def measures_without_investigation(t: Tables) -> float:
    """Preventive (§ 11 and § 52) measures started in a case that had no § 50 investigation before."""
    starts = events_of(t, "measure_start")
    starts = starts[starts["kind"].isin(PREVENTIVE_KINDS)]
    inv = events_of(t, "investigation_start", observed=False).groupby("case_id")["time"].min()
    first_inv = inv.reindex(starts["case_id"]).to_numpy()
    without = ~(first_inv <= starts["time"].to_numpy())  # NaN (never investigated) counts as without
    return ratio(without.sum(), len(starts))


def followup_within_3m(t: Tables) -> float:
    fu = events_of(t, "followup")
    return float(fu["flag"].dropna().astype(float).mean())


def child_not_involved_enough(t: Tables) -> float:
    decisions = events_of(t, "decision", "escalation")
    return 1.0 - float(decisions["flag"].dropna().astype(float).mean())


def caseload_per_caseworker(t: Tables) -> float:
    return float(t.observed(t.agency_monthly)["caseload_mean"].mean())


# ------------------------------------------------------------------ measures and placements (31 December stocks)
def dec31(t: Tables) -> pd.DataFrame:
    panel = t.observed(t.panel)
    return panel[panel["present_dec31"]]


def preventive_per_1000(t: Tables) -> float:
    stock = dec31(t)
    return 1000 * ratio(stock["preventive_dec31"].sum(), len(stock))


def placed_per_1000(t: Tables) -> float:
    stock = dec31(t)
    return 1000 * ratio(stock["placed_dec31"].sum(), len(stock))


def placed_share_12_17(t: Tables) -> float:
    placed = dec31(t)
    placed = placed[placed["placed_dec31"]]
    return ratio((placed["age"] >= 12).sum(), len(placed))


def placement_share(t: Tables, kinds: tuple[str, ...]) -> float:
    """Share of the children placed on 31 December who are in a placement of ``kinds``."""
    placed = dec31(t)["placement_type_dec31"].dropna()
    return ratio(placed.isin(kinds).sum(), len(placed))


def network_share_of_family_care(t: Tables) -> float:
    placed = dec31(t)["placement_type_dec31"].dropna()
    return ratio((placed == "network_foster").sum(), placed.isin(FAMILY).sum())


def new_placements_per_1000(t: Tables) -> float:
    return 1000 * ratio(len(new_placements(t)), child_years(t))


def new_placements_share_under5(t: Tables) -> float:
    starts = new_placements(t)
    return ratio((starts["age"] < 5).sum(), len(starts))


def placement_exit_rate(t: Tables) -> float:
    """Placed on 1 January and not placed on 31 December (ageing out or moving away included)."""
    jan = t.observed(t.panel)
    jan = jan[jan["placed_jan1"]]
    return ratio((~jan["placed_dec31"]).sum(), len(jan))


def placement_breakdown_rate(t: Tables) -> float:
    """Breakdowns in a year per child placed at some time in that year."""
    placed = t.observed(t.panel)
    return ratio(len(events_of(t, "breakdown")), (placed["months_placed"] > 0).sum())


def placement_breakdown_share_13_17(t: Tables) -> float:
    breakdowns = events_of(t, "breakdown")
    age = t.age_at(breakdowns["child_id"], breakdowns["time"])
    return ratio((age >= 13).sum(), len(age))


# ------------------------------------------------------------------ wellbeing and long-run outcomes
def heavy_problems_0_6(t: Tables) -> float:
    young = t.observed(t.panel)
    young = young[young["age"] <= 6]
    return ratio(young["months_faring_badly"].sum(), young["months_present"].sum())


def exam_taken(t: Tables, group: str) -> float:
    exams = exams_with_group(t)
    return float(exams.loc[exams["group"] == group, "taken"].astype(float).mean())


def exam_grade(t: Tables, group: str) -> float:
    exams = exams_with_group(t)
    return float(exams.loc[(exams["group"] == group) & exams["taken"].astype(bool), "grade"].mean())


def absence(t: Tables, group: str) -> float:
    panel = t.observed(t.panel)
    panel = panel[panel["absence"].notna()]
    return float(panel.loc[group_in_year(panel) == group, "absence"].mean())


def charged(t: Tables, lo: int, hi: int, measures: bool | None) -> float:
    panel = t.observed(t.panel)
    panel = panel[(panel["age"] >= lo) & (panel["age"] <= hi)]
    if measures is not None:
        had = (panel["months_placed"] + panel["months_preventive"]) > 0
        panel = panel[had == measures]
    return ratio((panel["crime_charges"] > 0).sum(), len(panel))
