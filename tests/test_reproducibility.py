"""Reproducibility and common random numbers: the same config and seed give byte-identical files; a change
to one mechanism changes only what that mechanism draws."""

import hashlib

import pandas as pd
import pytest

from tests.conftest import SMALL, run

SHORT = ["world=small", "world.years=3", "world.burn_in_years=1"]


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.parquet"))}


def test_same_config_and_seed_give_byte_identical_parquet(tmp_path):
    run(SHORT, tmp_path / "a")
    run(SHORT, tmp_path / "b")
    a, b = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert set(a) == {
        "events.parquet",
        "panel.parquet",
        "reports.parquet",
        "agency_monthly.parquet",
        "children.parquet",
        "households.parquet",
        "institutions.parquet",
    }
    assert a == b


def test_a_different_seed_gives_a_different_world(tmp_path):
    a = run(SHORT, tmp_path / "a")
    b = run([*SHORT, "seed=1"], tmp_path / "b")
    assert len(a.reports) != len(b.reports) or not a.reports["time"].equals(b.reports["time"])


def without(events, kind):
    return events[events["kind"] != kind].reset_index(drop=True)


@pytest.fixture(scope="module")
def base():
    return run(SMALL)


def test_changing_youth_crime_changes_only_crime_events(base):
    other = run(
        [*SMALL, "world.outcomes.crime_need_sensitivity=2.0", "world.outcomes.crime_rate_per_year=[0.01,0.02,0.03]"]
    )
    assert (other.events["kind"] == "crime_charge").sum() > (base.events["kind"] == "crime_charge").sum()
    pd.testing.assert_frame_equal(without(base.events, "crime_charge"), without(other.events, "crime_charge"))


def test_changing_the_exam_model_changes_only_exam_results(base):
    other = run([*SMALL, "world.outcomes.exam_grade_mean=6.0", "world.outcomes.exam_taken=0.7"])
    assert not base.events[base.events["kind"] == "exam"]["value"].equals(
        other.events[other.events["kind"] == "exam"]["value"]
    )
    pd.testing.assert_frame_equal(without(base.events, "exam"), without(other.events, "exam"))


def test_a_no_op_change_leaves_the_event_log_identical(base):
    """The caseload cap only acts when a caseworker is full; in this world none ever is."""
    assert base.agency_monthly["caseload_max"].max() < 45
    other = run([*SMALL, "world.agency.caseworkers.max_caseload=60"])
    pd.testing.assert_frame_equal(base.events, other.events)
    pd.testing.assert_frame_equal(base.reports, other.reports)


def test_stronger_measures_leave_households_without_cases_untouched(base):
    """Measures act only on treated children, so a household the agency never opened a case for has the same
    reports, screenings and outcomes in both worlds."""
    other = run([*SMALL, "world.measures.multiplier=2.0"])
    touched = set(base.events.loc[base.events["event"] == "case_open", "household_id"]) | set(
        other.events.loc[other.events["event"] == "case_open", "household_id"]
    )

    def untouched(events):
        ev = events[~events["household_id"].isin(touched) & events["event"].isin(["report", "screening", "outcome"])]
        return ev.drop(columns=["report_id"]).reset_index(drop=True)  # report ids count all reports

    a, b = untouched(base.events), untouched(other.events)
    assert len(a) > 0.5 * (base.events["event"] == "report").sum()
    pd.testing.assert_frame_equal(a, b)
    assert not base.events.equals(other.events)
