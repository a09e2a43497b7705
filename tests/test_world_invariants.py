"""Invariants every simulated world keeps, whatever its size, seed and settings: property tests (hypothesis)
over small worlds with report rates, measure effects and staffing drawn from wide ranges. The examples are
derandomised, so every run of the suite checks the same worlds."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.calendar import DAYS_PER_MONTH
from sim.measures import measure_spells
from sim.tables import Tables
from tests.conftest import run

WORLDS = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**31 - 1),
        "world.children": st.integers(300, 1500),
        "world.years": st.integers(1, 2),
        "world.burn_in_years": st.integers(0, 2),
        "world.reports.rate_multiplier": st.floats(0.3, 3.0),
        "world.measures.multiplier": st.floats(0.0, 2.0),
        "world.agency.caseworkers.per_1000_children": st.floats(0.3, 3.0),
    }
)
EPS = 1e-9


def simulated(overrides: dict) -> Tables:
    return Tables.from_result(run(["world=small", *(f"{k}={v}" for k, v in overrides.items())]))


def invariants_broken(t: Tables) -> list[str]:
    """Every invariant the world's tables break, in words (empty when all hold)."""
    broken = []
    ev = t.events
    time = ev["time"].to_numpy()
    if not ((np.diff(time) >= -EPS).all() and time.min() >= 0 and time.max() <= t.horizon + EPS):
        broken.append("event times run backwards or leave the simulated horizon")
    opened = ev[ev["event"] == "case_open"].groupby("case_id")["time"].min()
    closed = ev[ev["event"] == "case_close"].groupby("case_id")["time"].min()
    if not (closed.index.isin(opened.index).all() and (closed >= opened.reindex(closed.index) - EPS).all()):
        broken.append("a case closes before it opens, or without opening")
    in_case = ev.loc[ev["case_id"] >= 0, "case_id"].unique()
    if not pd.Index(in_case).isin(opened.index).all():
        broken.append("an event belongs to a case that never opened")
    spells = measure_spells(t).sort_values(["child_id", "start"])
    same_child = spells["child_id"].to_numpy()[1:] == spells["child_id"].to_numpy()[:-1]
    if (spells["start"].to_numpy()[1:][same_child] < spells["end"].to_numpy()[:-1][same_child] - EPS).any():
        broken.append("a child is in two measures at once")
    arrived = ev[ev["event"] == "report"].set_index("report_id")["time"]
    screened = ev[ev["event"] == "screening"]
    if (
        screened["report_id"].duplicated().any()
        or (screened["time"].to_numpy() < arrived.reindex(screened["report_id"]).to_numpy() - EPS).any()
    ):
        broken.append("a report is screened twice, or before it arrives")
    reports = t.reports
    age_at_month_start = reports["age"] - (reports["time"] - reports["month"] * DAYS_PER_MONTH) / DAYS_PER_MONTH / 12
    if (age_at_month_start >= 18).any() or (reports["age"] < 0).any():
        broken.append("a report on a child who was not under 18 when its month began")
    panel = t.panel
    if not panel["months_present"].between(1, 12).all():
        broken.append("a child-year with no month present, or more than 12")
    if (panel["placed_dec31"] & ~panel["present_dec31"]).any() or (
        panel["placed_dec31"] & panel["preventive_dec31"]
    ).any():
        broken.append("a child placed on 31 December who is not there, or placed and in a preventive measure")
    return broken


@settings(max_examples=6, deadline=None, derandomize=True)
@given(WORLDS)
def test_every_world_keeps_the_invariants_of_time_cases_measures_and_reports(overrides):
    assert invariants_broken(simulated(overrides)) == []


def _screened_twice(t: Tables) -> None:
    screening = t.events[t.events["event"] == "screening"].iloc[[0]].assign(time=t.horizon)
    t.events = pd.concat([t.events, screening], ignore_index=True)


def _backwards(t: Tables) -> None:
    t.events = t.events.iloc[::-1].reset_index(drop=True)


def _adult_report(t: Tables) -> None:
    t.reports = t.reports.assign(age=t.reports["age"] + 18.0)


def _empty_year(t: Tables) -> None:
    t.panel = t.panel.assign(months_present=t.panel["months_present"].where(t.panel.index != 0, 0))


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_screened_twice, "a report is screened twice, or before it arrives"),
        (_backwards, "event times run backwards or leave the simulated horizon"),
        (_adult_report, "a report on a child who was not under 18 when its month began"),
        (_empty_year, "a child-year with no month present, or more than 12"),
    ],
)
def test_the_invariant_check_can_fail(corrupt, message):
    t = simulated({"seed": 1, "world.children": 800, "world.years": 1, "world.burn_in_years": 1})
    assert invariants_broken(t) == []
    corrupt(t)
    assert message in invariants_broken(t)
