"""The calibration metrics (``sim/calibration/metrics.py``) on tiny hand-made tables whose right answer can be
worked out by hand, and the checks of a targets file (``sim/calibration/targets.py``).

The tables of these tests: one burn-in year (2019), observation years 2020 and 2021, 36 simulated months.
Events and the panel are built through the simulator's own Arrow schemas, the reports like
``sim.agency.report_table.report_table``, so every frame has the columns and dtypes of ``docs/data-dictionary.md``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sim.agency.decisions import TRIAGE
from sim.calendar import DAYS_PER_MONTH
from sim.calibration.metrics import DIRECTIONS, METRICS
from sim.calibration.targets import COLUMNS, load_targets
from sim.config import CONF_DIR
from sim.config.schema import SOURCES
from sim.config.validate import ConfigError
from sim.eventlog import EVENT_TYPES
from sim.eventlog import SCHEMA as EVENT_SCHEMA
from sim.law import BARNETS_LOV
from sim.measures import report_age_order_holds
from sim.tables import TABLES, Tables
from sim.world.panel import SCHEMA as PANEL_SCHEMA

ROOT = Path(__file__).resolve().parents[1]
FIRST_YEAR, START_YEAR, MONTHS = 2019, 2020, 36
DEFAULT_BIRTH = -120.0  # ten years old at month 0
GROUPS = ("others", "preventive", "placed")


# ------------------------------------------------------------------ building tiny tables
def at(year: int, month: int = 1, days: float = 0.0) -> float:
    """Time (days since month 0) of the start of ``month`` (1 = January) of ``year``, plus ``days``."""
    return ((year - FIRST_YEAR) * 12 + month - 1) * DAYS_PER_MONTH + days


def born(year: int, month: int = 1) -> float:
    """``children.birth_month`` of a child born at the start of ``month`` of ``year``."""
    return float((year - FIRST_YEAR) * 12 + month - 1)


def ev(
    event: str,
    time: float,
    child: int = 0,
    *,
    case: int | None = None,
    kind: str | None = None,
    value: float | None = None,
    flag: bool | None = None,
    report: int | None = None,
) -> dict:
    """One row of the event log."""
    return {
        "time": time,
        "event": event,
        "child_id": child,
        "case_id": case,
        "kind": kind,
        "value": value,
        "flag": flag,
        "report_id": report,
    }


def measure(case: int, child: int, kind: str, start: float, end: float | None = None) -> list:
    """A measure as its ``measure_start`` and (unless still running at the horizon) ``measure_end`` events."""
    out = [ev("measure_start", start, child, case=case, kind=kind, flag=False)]
    if end is not None:
        out.append(ev("measure_end", end, child, case=case, kind="decision", value=end - start))
    return out


def exam(child: int, grade: float | None, year: int = 2021) -> dict:
    """The 9th-grade exam outcome (June): taken with ``grade``, or not taken (None)."""
    return ev("outcome", at(year, 6), child, kind="exam", value=grade, flag=grade is not None)


def cy(year: int, child: int = 0, *, placed: str | None = None, **cols: object) -> dict:
    """One child-year of the panel; ``placed`` = the placement type on 31 December."""
    row = {
        "year": year,
        "child_id": child,
        "household_id": child,
        "age": 10,
        "months_present": 12,
        "months_faring_badly": 0,
        "reports": 0,
        "months_preventive": 0,
        "months_placed": 12 if placed else 0,
        "present_dec31": True,
        "placed_jan1": False,
        "placed_dec31": placed is not None,
        "preventive_dec31": False,
        "placement_type_dec31": placed,
        "absence": None,
        "crime_charges": 0,
        "exam_taken": None,
        "exam_grade": None,
        "mean_wellbeing": 0.0,
    }
    row.update(cols)
    return row


def rep(time: float, child: int = 0, source: str = "other", screened: bool | None = True) -> dict:
    """A report; ``screened`` is ``screened_within_24h`` (None: not screened by the end of the run)."""
    return {"time": time, "child_id": child, "source": source, "screened": screened}


def events_frame(rows: list[dict]) -> pd.DataFrame:
    rows = sorted(rows, key=lambda r: r["time"])  # stable, like the log
    time = np.array([r["time"] for r in rows], dtype=np.float64)
    month = np.floor(time / DAYS_PER_MONTH + 1e-9).astype(np.int32)
    codes = pa.array([EVENT_TYPES.index(r["event"]) for r in rows], pa.int8())
    table = pa.table(
        {
            "time": time,
            "month": month,
            "year": (FIRST_YEAR + month // 12).astype(np.int16),
            "event": pa.DictionaryArray.from_arrays(codes, pa.array(EVENT_TYPES, pa.string())),
            "child_id": [r["child_id"] for r in rows],
            "household_id": [r["child_id"] for r in rows],
            "report_id": [r["report_id"] for r in rows],
            "case_id": [r["case_id"] for r in rows],
            "caseworker_id": [None if r["case_id"] is None else 0 for r in rows],
            "kind": [r["kind"] for r in rows],
            "value": [r["value"] for r in rows],
            "flag": [r["flag"] for r in rows],
            "basis": pa.array([BARNETS_LOV.basis_of(r["event"], r["kind"]) for r in rows], pa.string())
            .dictionary_encode()
            .cast(EVENT_SCHEMA.field("basis").type),
        },
        schema=EVENT_SCHEMA,
    )
    return table.to_pandas()


def reports_frame(rows: list[dict], birth: Callable[[np.ndarray], np.ndarray]) -> pd.DataFrame:
    rows = sorted(rows, key=lambda r: r["time"])  # report_id = arrival order
    n = len(rows)
    time = np.array([r["time"] for r in rows], dtype=np.float64)
    month = np.floor(time / DAYS_PER_MONTH + 1e-9).astype(np.int32)
    child = np.array([r["child_id"] for r in rows], dtype=np.int64)
    screened = [r["screened"] for r in rows]
    hours = np.array([np.nan if s is None else (2.0 if s else 48.0) for s in screened])
    triage = np.array([-1 if s is None else TRIAGE.index("advice") for s in screened], dtype=np.int64)
    return pd.DataFrame(
        {
            "report_id": np.arange(n, dtype=np.int64),
            "time": time,
            "month": month,
            "year": (FIRST_YEAR + month // 12).astype(np.int16),
            "child_id": child,
            "household_id": child,
            "source": pd.Categorical([r["source"] for r in rows], categories=list(SOURCES)),
            "sibling_report": np.zeros(n, dtype=bool),
            "age": ((time / DAYS_PER_MONTH - birth(child)) / 12.0).astype(np.float32),
            "sex": np.full(n, "girl", dtype=object),
            "prior_reports_child": np.zeros(n, dtype=np.int32),
            "prior_reports_household": np.zeros(n, dtype=np.int32),
            "prior_measure": np.zeros(n, dtype=bool),
            "open_case": np.zeros(n, dtype=bool),
            "months_since_last_report": np.full(n, np.nan),
            "parent_education": np.full(n, "vocational", dtype=object),
            "parent_unemployed": np.zeros(n, dtype=bool),
            "parent_psychiatric": np.zeros(n, dtype=bool),
            "single_parent": np.zeros(n, dtype=bool),
            "daycare_id": np.zeros(n, dtype=np.int32),
            "school_id": np.ones(n, dtype=np.int32),
            "screening_hours": hours,
            "triage": pd.Categorical.from_codes(triage, categories=list(TRIAGE)),
            "screened_within_24h": pd.array(screened, dtype="boolean"),
            "faring_badly_0m": np.zeros(n, dtype=bool),
            "faring_badly_3m": np.zeros(n),
            "faring_badly_12m": np.zeros(n),
            "rereport_12m": np.zeros(n),
            "placed_3m": np.zeros(n),
            "placed_12m": np.zeros(n),
            "true_wellbeing": np.zeros(n),
            "hidden_adversity": np.zeros(n),
            "screening_judgement": np.zeros(n),
        }
    )


def monthly_frame(caseload: Callable[[int], float]) -> pd.DataFrame:
    rows = [
        {
            "month": month,
            "year": FIRST_YEAR + month // 12,
            "time": month * DAYS_PER_MONTH,
            "children": 100,
            "placed": 1,
            "preventive": 3,
            "faring_badly": 10,
            "open_cases": 35,
            "cases_with_caseworker": 30,
            "caseworkers": 1,
            "caseload_mean": float(caseload(month)),
            "caseload_max": 30,
            "queue": 5,
            "open_investigations": 2,
        }
        for month in range(MONTHS)
    ]
    return pd.DataFrame(rows).astype({"month": np.int32, "year": np.int16})


def children_frame(ids: list[int], births: dict[int, float]) -> pd.DataFrame:
    birth = np.array([births.get(i, DEFAULT_BIRTH) for i in ids], dtype=np.float64)
    table = pa.table(
        {
            "child_id": np.array(ids, dtype=np.int64),
            "household_id": np.array(ids, dtype=np.int64),
            "birth_month": birth,
            "birth_year": (FIRST_YEAR + np.floor(birth / 12)).astype(np.int32),
            "sex": pa.array(["girl"] * len(ids)),
            "daycare_id": np.zeros(len(ids), dtype=np.int32),
            "school_id": np.ones(len(ids), dtype=np.int32),
            "wellbeing_level": np.zeros(len(ids)),
            "hidden_level": np.zeros(len(ids)),
        }
    )
    return table.to_pandas()


def make_tables(
    events: Iterable[dict] = (),
    reports: Iterable[dict] = (),
    panel: Iterable[dict] = (),
    births: dict[int, float] | None = None,
    caseload: Callable[[int], float] = lambda month: 30.0,
) -> Tables:
    """A world's tables from a few rows; ``births`` = ``children.birth_month`` by child (default: ten years old
    at month 0). Every child named anywhere gets a row in ``children``."""
    births = births or {}
    events, reports, panel = list(events), list(reports), list(panel)
    ids = sorted(
        {r["child_id"] for r in events}
        | {r["child_id"] for r in reports}
        | {r["child_id"] for r in panel}
        | set(births)
    )
    birth = children_frame(ids, births).set_index("child_id")["birth_month"]
    return Tables(
        events=events_frame(events),
        reports=reports_frame(reports, lambda c: birth.reindex(c).to_numpy()),
        panel=pa.Table.from_pylist(sorted(panel, key=lambda r: r["year"]), schema=PANEL_SCHEMA).to_pandas(),
        agency_monthly=monthly_frame(caseload),
        children=children_frame(ids, births),
        start_year=START_YEAR,
        months=MONTHS,
    )


def documented_columns(table: str) -> list[str]:
    """The columns of ``table`` in the column table of its section of the data dictionary."""
    text = (ROOT / "docs" / "data-dictionary.md").read_text()
    section = text.split(f"## {table}.parquet\n", 1)[1].split("\n## ", 1)[0]
    body = section.split("| column | type | unit / values | meaning |", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", body, flags=re.MULTILINE)


def test_the_test_tables_have_the_documented_columns():
    t = make_tables(
        events=[ev("report", at(2020), report=0, kind="school", flag=False)],
        reports=[rep(at(2020))],
        panel=[cy(2020)],
    )
    for name in TABLES:
        assert list(getattr(t, name).columns) == documented_columns(name), name
    assert t.horizon == pytest.approx(MONTHS * DAYS_PER_MONTH)


# ------------------------------------------------------------------ reports
def test_reports_per_1000_children_divides_observed_reports_by_child_years():
    t = make_tables(
        panel=[cy(2020, 0), cy(2020, 1, months_present=6), cy(2021, 0), cy(2019, 0), cy(2019, 1)],
        reports=[rep(at(2020, 3), 0), rep(at(2020, 5), 1), rep(at(2021, 2), 0), rep(at(2019, 4), 0)],
    )
    # 3 observed reports over 12 + 6 + 12 = 30 observed child-months; burn-in rows and reports are ignored
    assert METRICS["reports_per_1000_children"](t) == pytest.approx(1000 * 3 / 2.5)


def test_children_reported_per_1000_counts_a_child_once_per_year():
    t = make_tables(
        panel=[cy(y, c) for y in (2019, 2020, 2021) for c in (0, 1)],
        reports=[
            rep(at(2020, 2), 0),
            rep(at(2020, 8), 0),  # same child, same year: counted once
            rep(at(2021, 1), 0),  # same child, next year: counted again
            rep(at(2020, 3), 1),
            rep(at(2019, 3), 1),  # burn-in
        ],
    )
    assert METRICS["children_reported_per_1000"](t) == pytest.approx(1000 * 3 / 4)


POOLING = [
    rep(at(2020, 1), 0),
    rep(at(2020, 2), 0),
    rep(at(2020, 3), 0),  # child 0 in 2020: 3 reports
    rep(at(2021, 4), 0),  # child 0 in 2021: 1 report
    rep(at(2020, 5), 1),
    rep(at(2020, 6), 1),  # child 1 in 2020: 2 reports
    rep(at(2019, 6), 1),  # burn-in
    rep(at(2019, 7), 2),  # burn-in
]


def test_reports_per_reported_child_pools_reports_over_reported_child_years():
    t = make_tables(reports=POOLING)
    # 6 reports / 3 (year, child) pairs; not 6 / 2 children, not the mean of yearly ratios (2.5 and 1)
    assert METRICS["reports_per_reported_child"](t) == pytest.approx(2.0)


def test_share_reported_2plus_counts_reported_child_years_with_two_or_more():
    t = make_tables(reports=POOLING)
    assert METRICS["share_reported_2plus"](t) == pytest.approx(2 / 3)


def test_share_reported_2plus_does_not_add_reports_of_different_years():
    t = make_tables(reports=[rep(at(2020, 11), 0), rep(at(2021, 2), 0)])
    assert METRICS["share_reported_2plus"](t) == 0.0
    assert METRICS["reports_per_reported_child"](t) == pytest.approx(1.0)


SOURCED = [
    *(rep(at(2020, i + 1), i, s) for i, s in enumerate(["school", "school", "health", "hospital", "police"])),
    *(rep(at(2021, i + 1), i, s) for i, s in enumerate(["daycare", "anonymous", "family", "other", "other"])),
    *(rep(at(2019, i + 1), i, "school") for i in range(5)),  # burn-in
]


@pytest.mark.parametrize(
    ("target", "share"),
    [
        ("source_share_school", 2 / 10),
        ("source_share_health", 2 / 10),  # health + hospital
        ("source_share_police", 1 / 10),
        ("source_share_daycare", 1 / 10),
        ("source_share_anonymous", 1 / 10),
        ("source_share_other", 3 / 10),  # family + other
    ],
)
def test_source_shares_of_observed_reports(target, share):
    assert METRICS[target](make_tables(reports=SOURCED)) == pytest.approx(share)


def test_source_shares_add_up_to_one():
    t = make_tables(reports=SOURCED)
    assert sum(METRICS[k](t) for k in METRICS if k.startswith("source_share_")) == pytest.approx(1.0)


def test_report_age_order_is_five_shares_weighted_by_months_present():
    t = make_tables(
        panel=[
            cy(2020, 0, age=2),
            cy(2020, 1, age=4, reports=1),
            cy(2020, 2, age=5, months_present=6),  # 0-5: 12 / 30 months; 4-5: 12 / 18
            cy(2020, 3, age=6, reports=2),
            cy(2020, 4, age=9),
            cy(2020, 5, age=7, months_present=6, reports=1),  # 6-11: 18 / 30; 6-7: 18 / 18
            cy(2021, 6, age=12, reports=1),
            cy(2021, 7, age=17, months_present=3, reports=1),  # 12-17: 15 / 15
            cy(2021, 8, age=18, months_present=2),  # 18: in no group
            cy(2019, 9, age=3, reports=1),  # burn-in
        ]
    )
    v = METRICS["report_age_order"](t)
    assert v.shape == (5,)
    assert v == pytest.approx([12 / 30, 18 / 30, 1.0, 12 / 18, 1.0])
    assert DIRECTIONS["report_age_order"](v)


@pytest.mark.parametrize(
    ("shares", "holds"),
    [
        ([0.04, 0.06, 0.08, 0.05, 0.07], True),  # rises with age, jump at 6
        ([0.04, 0.06, 0.06, 0.05, 0.07], False),  # 12-17 not above 6-11
        ([0.06, 0.04, 0.08, 0.05, 0.07], False),  # 6-11 below 0-5
        ([0.04, 0.06, 0.08, 0.07, 0.07], False),  # no jump at school start
    ],
)
def test_report_age_order_holds_checks_rise_with_age_and_jump_at_6(shares, holds):
    assert report_age_order_holds(np.array(shares)) is holds
    assert DIRECTIONS["report_age_order"] is report_age_order_holds


# ------------------------------------------------------------------ the agency's process
def test_screened_within_24h_leaves_out_unscreened_reports():
    t = make_tables(
        reports=[
            rep(at(2020, 1), screened=True),
            rep(at(2020, 2), screened=True),
            rep(at(2021, 3), screened=False),
            rep(at(2021, 12, 30), screened=None),  # not screened by the end of the run
            rep(at(2019, 5), screened=False),  # burn-in
        ]
    )
    assert METRICS["screened_within_24h"](t) == pytest.approx(2 / 3)


def test_investigation_within_4m_counts_completed_investigations_only():
    t = make_tables(
        events=[
            ev("investigation_end", at(2020, 3), 0, case=0, kind="completed", value=2.0, flag=True),
            ev("investigation_end", at(2020, 9), 1, case=1, kind="completed", value=6.0, flag=False),
            ev("investigation_end", at(2021, 2), 2, case=2, kind="completed", value=3.5, flag=True),
            ev("investigation_end", at(2021, 4), 3, case=3, kind="left", value=1.0, flag=True),  # left
            ev("investigation_end", at(2019, 8), 4, case=4, kind="completed", value=9.0, flag=False),  # burn-in
        ]
    )
    assert METRICS["investigation_within_4m"](t) == pytest.approx(2 / 3)


def inv_start(case: int, time: float, child: int | None = None) -> dict:
    return ev("investigation_start", time, case if child is None else child, case=case, kind="investigation")


def test_measures_without_investigation_uses_an_investigation_from_burn_in():
    t = make_tables(
        events=[
            inv_start(0, at(2019, 10)),  # burn-in
            *measure(0, 0, "preventive", at(2020, 2)),
            *measure(1, 1, "home_based", at(2020, 3)),  # never investigated
        ]
    )
    assert METRICS["measures_without_investigation"](t) == pytest.approx(1 / 2)


def test_measures_without_investigation_counts_an_investigation_after_the_start_as_none():
    t = make_tables(events=[*measure(0, 0, "preventive", at(2020, 2), at(2020, 5)), inv_start(0, at(2020, 5))])
    assert METRICS["measures_without_investigation"](t) == 1.0


def test_measures_without_investigation_looks_in_the_same_case_only():
    t = make_tables(events=[inv_start(0, at(2019, 3), child=0), *measure(1, 0, "preventive", at(2020, 6))])
    assert METRICS["measures_without_investigation"](t) == 1.0


def test_measures_without_investigation_counts_observed_preventive_and_home_based_starts_only():
    t = make_tables(
        events=[
            *measure(0, 0, "institution", at(2020, 1)),  # a placement
            *measure(1, 1, "preventive", at(2019, 4)),  # started in burn-in
            inv_start(2, at(2020, 1)),
            *measure(2, 2, "home_based", at(2020, 4)),
            *measure(3, 3, "preventive", at(2021, 4)),
        ]
    )
    assert METRICS["measures_without_investigation"](t) == pytest.approx(1 / 2)


def test_followup_within_3m_ignores_later_followups_with_null_flag():
    t = make_tables(
        events=[
            ev("followup", at(2020, 3), 0, case=0, kind="scheduled", value=2.5, flag=True),
            ev("followup", at(2020, 9), 0, case=0, kind="scheduled", value=8.5, flag=None),
            ev("followup", at(2020, 4), 1, case=1, kind="scheduled", value=4.0, flag=False),
            ev("followup", at(2021, 2), 2, case=2, kind="review", value=1.0, flag=True),
            ev("followup", at(2021, 8), 2, case=2, kind="scheduled", value=7.0, flag=None),
            ev("followup", at(2019, 8), 3, case=3, kind="scheduled", value=6.0, flag=False),  # burn-in
        ]
    )
    assert METRICS["followup_within_3m"](t) == pytest.approx(2 / 3)


def test_child_not_involved_enough_is_the_share_of_decisions_and_escalations_without_involvement():
    t = make_tables(
        events=[
            ev("decision", at(2020, 2), 0, case=0, kind="preventive", value=1.0, flag=True),
            ev("decision", at(2020, 5), 1, case=1, kind="none", value=0.2, flag=False),
            ev("escalation", at(2021, 1), 0, case=0, kind="institution", value=2.5, flag=False),
            ev("decision", at(2021, 6), 2, case=2, kind="home_based", value=1.2, flag=True),
            ev("decision", at(2019, 6), 3, case=3, kind="preventive", value=1.0, flag=False),  # burn-in
            ev("measure_start", at(2020, 2), 0, case=0, kind="preventive", flag=False),  # other flags
            ev("followup", at(2020, 4), 0, case=0, kind="scheduled", value=2.0, flag=False),
        ]
    )
    assert METRICS["child_not_involved_enough"](t) == pytest.approx(2 / 4)


def test_caseload_per_caseworker_is_the_mean_over_observed_months():
    t = make_tables(caseload=lambda month: 100.0 if month < 12 else (30.0 if month % 2 else 36.0))
    assert METRICS["caseload_per_caseworker"](t) == pytest.approx(33.0)


# ------------------------------------------------------------------ 31 December stocks
def test_preventive_per_1000_is_a_31_december_stock_among_children_present():
    t = make_tables(
        panel=[
            cy(2020, 0, preventive_dec31=True, months_preventive=5),
            cy(2020, 1),
            cy(2020, 2, months_preventive=4),  # preventive during the year, not on 31 December
            cy(2020, 3, present_dec31=False),  # moved out: not in the denominator
            cy(2021, 0, preventive_dec31=True, months_preventive=12),
            cy(2021, 1),
            cy(2019, 0, preventive_dec31=True),  # burn-in
        ]
    )
    assert METRICS["preventive_per_1000"](t) == pytest.approx(1000 * 2 / 5)


def test_placed_per_1000_is_a_31_december_stock_among_children_present():
    t = make_tables(
        panel=[
            cy(2020, 0, placed="institution"),
            cy(2020, 1),
            cy(2020, 2, present_dec31=False, months_placed=6),  # placed, then moved out
            cy(2021, 0, placed="foster_family"),
            cy(2021, 1, months_placed=3),  # placed during the year, home by 31 December
            cy(2019, 0, placed="institution"),  # burn-in
            cy(2019, 1, placed="institution"),
        ]
    )
    assert METRICS["placed_per_1000"](t) == pytest.approx(1000 * 2 / 4)


def test_placed_share_12_17_among_children_placed_on_31_december():
    t = make_tables(
        panel=[
            cy(2020, 0, age=3, placed="foster_family"),
            cy(2020, 1, age=12, placed="institution"),
            cy(2021, 2, age=15, placed="opholdssted"),
            cy(2021, 3, age=17, placed="institution"),
            cy(2021, 4, age=14),  # not placed
            cy(2019, 5, age=2, placed="foster_family"),  # burn-in
        ]
    )
    assert METRICS["placed_share_12_17"](t) == pytest.approx(3 / 4)


PLACED_DEC31 = [
    cy(2020, 0, placed="network_foster"),
    cy(2020, 1, placed="foster_family"),
    cy(2020, 2, placed="foster_family"),
    cy(2021, 3, placed="foster_family"),
    cy(2020, 4, placed="institution"),
    cy(2021, 5, placed="institution"),
    cy(2021, 6, placed="opholdssted"),
    cy(2021, 7, placed="other_placement"),
    *(cy(2020, c) for c in range(10, 20)),  # not placed: null placement_type_dec31, not in the denominator
    cy(2019, 0, placed="network_foster"),  # burn-in
    cy(2019, 4, placed="institution"),
]


@pytest.mark.parametrize(
    ("target", "share"),
    [
        ("placement_share_family", 4 / 8),  # network + foster family
        ("placement_share_institution", 2 / 8),
        ("placement_share_opholdssted", 1 / 8),
        ("placement_share_other", 1 / 8),
        ("network_share_of_family_care", 1 / 4),
    ],
)
def test_placement_shares_are_among_children_placed_on_31_december(target, share):
    assert METRICS[target](make_tables(panel=PLACED_DEC31)) == pytest.approx(share)


# ------------------------------------------------------------------ placement flows
def breakdown(case: int, child: int, time: float, old: str, new: str) -> list:
    """A breakdown: ``breakdown``, the old placement's ``measure_end`` and the new placement, at one time."""
    return [
        ev("breakdown", time, child, case=case, kind=old),
        ev("measure_end", time, child, case=case, kind="breakdown", value=100.0),
        ev("measure_start", time, child, case=case, kind=new, flag=False),
    ]


def test_new_placements_per_1000_excludes_the_re_placement_after_a_breakdown():
    t = make_tables(
        panel=[cy(2020, 0), cy(2020, 1), cy(2021, 0), cy(2021, 1), cy(2019, 0), cy(2019, 1)],
        events=[
            ev("measure_start", at(2020, 2), 0, case=0, kind="foster_family", flag=True),  # new
            *breakdown(0, 0, at(2020, 9, 3.5), "foster_family", "institution"),  # not new
            *measure(1, 1, "preventive", at(2020, 3), at(2021, 5)),  # not a placement
            ev("escalation", at(2021, 5), 1, case=1, kind="opholdssted", value=2.0, flag=True),
            ev("measure_start", at(2021, 5), 1, case=1, kind="opholdssted", flag=False),  # new
            ev("measure_start", at(2019, 5), 2, case=2, kind="institution", flag=True),  # burn-in
        ],
    )
    assert METRICS["new_placements_per_1000"](t) == pytest.approx(1000 * 2 / 4)


def test_new_placements_excludes_only_the_same_case_at_the_same_time():
    t = make_tables(
        panel=[cy(2020, 0), cy(2020, 1)],
        events=[
            ev("measure_start", at(2020, 1), 0, case=0, kind="institution", flag=False),
            *breakdown(0, 0, at(2020, 6, 2.0), "institution", "home_based"),
            ev("measure_start", at(2020, 6, 2.0), 1, case=1, kind="foster_family", flag=True),  # other case
            ev("measure_start", at(2020, 10), 0, case=0, kind="foster_family", flag=False),  # later escalation
        ],
    )
    assert METRICS["new_placements_per_1000"](t) == pytest.approx(1000 * 3 / 2)


def test_new_placements_share_under5_uses_the_exact_age_at_the_start():
    t = make_tables(
        births={0: born(2015, 11), 1: born(2015, 2), 2: born(2018, 6), 3: born(2016, 1), 4: born(2016, 4)},
        events=[
            # 4 years 4 months old, although 2020 - birth year = 5
            ev("measure_start", at(2020, 3), 0, case=0, kind="foster_family", flag=False),
            ev("measure_start", at(2020, 6), 1, case=1, kind="institution", flag=False),  # 5 years 4 months
            ev("measure_start", at(2021, 1), 2, case=2, kind="network_foster", flag=False),  # 2 years 7 months
            ev("measure_start", at(2021, 4), 4, case=4, kind="institution", flag=False),  # exactly 5: not under 5
            ev("measure_start", at(2019, 6), 3, case=3, kind="foster_family", flag=False),  # burn-in, aged 3
        ],
    )
    assert METRICS["new_placements_share_under5"](t) == pytest.approx(2 / 4)


def test_placement_exit_rate_among_children_placed_on_1_january():
    t = make_tables(
        panel=[
            cy(2020, 0, placed_jan1=True, placed="institution"),
            cy(2020, 1, placed_jan1=True, placed="foster_family"),
            cy(2021, 0, placed_jan1=True, placed="institution"),
            cy(2021, 1, placed_jan1=True, months_placed=4),  # went home
            cy(2021, 2, placed_jan1=True, months_placed=6, present_dec31=False),  # moved out or turned 18
            cy(2021, 3, placed="opholdssted"),  # placed during the year: not at risk
            cy(2019, 0, placed_jan1=True, months_placed=2),  # burn-in
        ]
    )
    assert METRICS["placement_exit_rate"](t) == pytest.approx(2 / 5)


def test_placement_breakdown_rate_is_breakdowns_per_child_year_placed():
    t = make_tables(
        panel=[
            cy(2020, 0, placed="foster_family"),
            cy(2020, 1, months_placed=1),
            cy(2021, 0, placed="institution"),
            cy(2021, 1, months_placed=3),
            cy(2021, 2),  # never placed
            cy(2019, 0, placed="foster_family"),  # burn-in
        ],
        events=[
            *breakdown(0, 0, at(2020, 3), "foster_family", "institution"),
            *breakdown(0, 0, at(2020, 8), "institution", "foster_family"),
            *breakdown(1, 1, at(2021, 6), "institution", "home_based"),
            *breakdown(0, 0, at(2019, 6), "foster_family", "foster_family"),  # burn-in
        ],
    )
    assert METRICS["placement_breakdown_rate"](t) == pytest.approx(3 / 4)


def test_placement_breakdown_share_13_17_uses_the_exact_age_at_the_breakdown():
    t = make_tables(
        births={0: born(2007, 9), 1: born(2007, 1), 2: born(2004, 6), 3: born(2004, 1)},
        events=[
            *breakdown(0, 0, at(2020, 6), "institution", "opholdssted"),  # 12 years 9 months (13 in the panel)
            *breakdown(1, 1, at(2020, 3), "institution", "opholdssted"),  # 13 years 2 months
            *breakdown(2, 2, at(2021, 1), "foster_family", "institution"),  # 16 years 7 months
            *breakdown(3, 3, at(2019, 8), "foster_family", "institution"),  # burn-in
        ],
    )
    assert METRICS["placement_breakdown_share_13_17"](t) == pytest.approx(2 / 3)


# ------------------------------------------------------------------ wellbeing, exams, absence, crime
def test_heavy_problems_0_6_is_the_share_of_month_starts_faring_badly_at_ages_0_6():
    t = make_tables(
        panel=[
            cy(2020, 0, age=0, months_present=6, months_faring_badly=3),
            cy(2021, 1, age=6, months_faring_badly=0),
            cy(2020, 2, age=7, months_faring_badly=12),  # too old
            cy(2019, 0, age=3, months_faring_badly=12),  # burn-in
        ]
    )
    assert METRICS["heavy_problems_0_6"](t) == pytest.approx(3 / 18)


def exam_group(events: list) -> str:
    """The group the exam of child 0 (June 2021, taken) is counted in, read off the exam_taken_* metrics."""
    t = make_tables(events=[exam(0, 7.0), *events])
    found = [g for g in GROUPS if not math.isnan(METRICS[f"exam_taken_{g}"](t))]
    assert len(found) == 1, found
    return found[0]


def test_exam_group_is_others_without_a_measure():
    assert exam_group([]) == "others"


def test_exam_group_counts_a_measure_from_burn_in_still_running():
    assert exam_group(measure(0, 0, "preventive", at(2019, 2))) == "preventive"


@pytest.mark.parametrize(("months_before", "group"), [(13, "others"), (11, "preventive")])
def test_exam_group_counts_a_measure_ended_within_the_year_before_the_exam(months_before, group):
    exam_time = at(2021, 6)
    ended = exam_time - months_before * DAYS_PER_MONTH
    assert exam_group(measure(0, 0, "home_based", at(2019, 1), ended)) == group


def test_exam_group_ignores_a_measure_starting_after_the_exam():
    assert exam_group(measure(0, 0, "institution", at(2021, 6, 10.0))) == "others"


def test_exam_group_placed_beats_preventive():
    events = [
        *measure(0, 0, "institution", at(2020, 3), at(2021, 1)),
        *measure(1, 0, "preventive", at(2021, 1, 20.0)),  # a later case
    ]
    assert exam_group(events) == "placed"


def test_exam_group_pairs_the_ith_start_of_a_case_with_its_ith_end():
    events = [
        *measure(0, 0, "institution", at(2019, 1), at(2020, 1)),  # ended 17 months before the exam
        *measure(0, 0, "preventive", at(2020, 1), at(2021, 3)),  # same case, from the same time
    ]
    assert exam_group(events) == "preventive"


def exams_table() -> Tables:
    events = [
        exam(10, 8.0),
        exam(11, 10.0),
        exam(12, None),  # others: 2 of 3 taken, mean grade 9
        exam(13, 0.0, year=2019),  # burn-in
        exam(20, 6.0),
        exam(21, None),  # preventive: 1 of 2 taken, mean grade 6
        *measure(20, 20, "preventive", at(2020, 9)),
        *measure(21, 21, "home_based", at(2020, 1), at(2021, 2)),
        exam(30, 4.0),
        exam(31, 5.0),
        exam(32, None),  # placed: 2 of 3 taken, mean grade 4.5
        *measure(30, 30, "foster_family", at(2019, 9)),
        *measure(31, 31, "preventive", at(2020, 1), at(2020, 8)),
        *measure(32, 31, "institution", at(2020, 8)),
        *measure(33, 32, "opholdssted", at(2020, 10), at(2021, 3)),
    ]
    return make_tables(events=events)


@pytest.mark.parametrize(
    ("target", "value"),
    [
        ("exam_taken_others", 2 / 3),
        ("exam_taken_preventive", 1 / 2),
        ("exam_taken_placed", 2 / 3),
        ("exam_grade_others", 9.0),
        ("exam_grade_gap_preventive", 9.0 - 6.0),
        ("exam_grade_gap_placed", 9.0 - 4.5),
    ],
)
def test_exam_metrics_by_group(target, value):
    assert METRICS[target](exams_table()) == pytest.approx(value)


def test_absence_groups_child_years_by_measure_months_in_the_year():
    t = make_tables(
        panel=[
            cy(2020, 0, absence=0.05),
            cy(2021, 1, absence=0.07),  # others: 0.06
            cy(2020, 2, absence=0.10, months_preventive=3),  # preventive: 0.10
            cy(2020, 3, absence=0.08, months_preventive=6, months_placed=2),  # placed beats preventive
            cy(2021, 4, absence=0.06, months_placed=12),  # placed: 0.07
            cy(2020, 5, age=3, absence=None),  # no school-age month
            cy(2019, 6, absence=0.50),  # burn-in
        ]
    )
    assert METRICS["absence_others"](t) == pytest.approx(0.06)
    assert METRICS["absence_preventive"](t) == pytest.approx(0.10)
    assert METRICS["absence_placed"](t) == pytest.approx(0.07)


CRIME = [
    cy(2020, 0, age=12, months_preventive=2, crime_charges=1),
    cy(2020, 1, age=14, months_placed=12),
    cy(2021, 2, age=13, months_preventive=12, crime_charges=2),  # with measures: 2 of 3 charged
    cy(2020, 3, age=12),
    cy(2020, 4, age=13, crime_charges=1),
    cy(2021, 5, age=14),
    cy(2021, 6, age=14),  # others: 1 of 4 charged
    cy(2020, 7, age=11, crime_charges=1),
    cy(2021, 8, age=15, crime_charges=3, months_placed=5),
    cy(2021, 9, age=17),
    cy(2021, 10, age=10),
    cy(2020, 11, age=9, crime_charges=1),  # too young for any
    cy(2021, 12, age=18, crime_charges=1),  # too old for any
    cy(2019, 13, age=13, crime_charges=1),  # burn-in
    cy(2019, 14, age=13, crime_charges=1, months_placed=3),  # burn-in
]


@pytest.mark.parametrize(
    ("target", "share"),
    [
        ("charged_12_14_measures", 2 / 3),
        ("charged_12_14_others", 1 / 4),
        ("youth_crime_10_17", 5 / 11),  # ages 10-17: the 7 rows above, 11, 15, 17 and 10
    ],
)
def test_charged_shares_of_child_years(target, share):
    assert METRICS[target](make_tables(panel=CRIME)) == pytest.approx(share)


# ------------------------------------------------------------------ targets files
def test_every_denmark_target_with_a_figure_has_a_metric():
    targets = pd.read_csv(CONF_DIR / "targets" / "denmark.csv")
    computable = set(targets.loc[targets["kind"] != "na", "id"])
    assert computable - set(METRICS) == set()
    assert list(load_targets("denmark")["id"]) == list(targets["id"])


GOOD = [
    {"id": "caseload_per_caseworker", "quantity": "open cases per caseworker", "published": "33", "lower": 28,
     "upper": 36, "unit": "cases", "kind": "level", "year": "2019", "source": "DS-2023"},
    {"id": "report_age_order", "quantity": "share reported by age", "published": "rises", "lower": None,
     "upper": None, "unit": "share", "kind": "direction", "year": "2012", "source": "KL-2023"},
    {"id": "youth_edu_21_placed", "quantity": "youth education by 21", "published": "22%", "lower": 0.16,
     "upper": 0.28, "unit": "share", "kind": "na", "year": "recent", "source": "SBST-2022"},
]  # fmt: skip


def write_targets(tmp_path: Path, rows: list[dict], drop: tuple[str, ...] = ()) -> str:
    path = tmp_path / "tiny.csv"
    pd.DataFrame(rows, columns=list(COLUMNS)).drop(columns=list(drop)).to_csv(path, index=False)
    return str(path)


def test_load_targets_accepts_a_good_file_with_a_metric_free_na_row(tmp_path):
    df = load_targets(write_targets(tmp_path, GOOD))
    assert list(df["id"]) == [r["id"] for r in GOOD]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "levels"}, "kind = 'levels' is not allowed"),
        ({"unit": "percent"}, "unit = 'percent' is not allowed"),
        ({"lower": 36, "upper": 28}, "lower <= upper"),
        ({"upper": None}, "lower <= upper"),
        ({"id": "no_such_figure"}, "no metric computes 'no_such_figure'"),
        ({"kind": "direction"}, "no direction rule"),
    ],
)
def test_load_targets_rejects_a_bad_row_naming_it(tmp_path, change, message):
    rows = [GOOD[0], GOOD[1], {**GOOD[0], **change}]
    with pytest.raises(ConfigError) as err:
        load_targets(write_targets(tmp_path, rows))
    assert f"tiny.csv row 4 ({rows[2]['id']})" in str(err.value)
    assert message in str(err.value)


def test_load_targets_rejects_a_missing_column_naming_it(tmp_path):
    with pytest.raises(ConfigError, match=r"tiny\.csv: missing column\(s\) unit"):
        load_targets(write_targets(tmp_path, GOOD, drop=("unit",)))


def test_load_targets_rejects_a_duplicate_id_naming_its_row(tmp_path):
    with pytest.raises(ConfigError, match=r"tiny\.csv row 5 \(caseload_per_caseworker\): duplicate id"):
        load_targets(write_targets(tmp_path, [*GOOD, GOOD[0]]))
