"""Reproducibility and common random numbers: the same config and seed give byte-identical files; a change
to one mechanism changes only what that mechanism draws."""

import hashlib

import numpy as np
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


@pytest.fixture(scope="module")
def two_seeds():
    return run(SHORT), run([*SHORT, "seed=1"])


def test_a_different_seed_gives_a_different_world(two_seeds):
    """Not just another length: the event logs share almost no row (under 1%: only a coincidence such as a
    birth in the same slot and month can repeat), no report arrives on the same child at the same time, and
    the number of children present differs in nearly every month."""
    a, b = two_seeds
    shared = len(a.events.merge(b.events, on=list(a.events.columns), how="inner"))
    rows = min(len(a.events), len(b.events))
    assert shared < 0.01 * rows, f"{shared} of {rows} event rows are the same"
    assert a.reports.merge(b.reports, on=["child_id", "time"]).empty
    children = a.agency_monthly["children"].to_numpy(), b.agency_monthly["children"].to_numpy()
    assert (children[0] != children[1]).mean() > 0.9


def test_two_seeds_draw_uncorrelated_children_and_households(two_seeds):
    """Different seeds are independent replications (the DeclareDesign check): slot by slot, a child's sex
    (its own Bernoulli draw) and a household's disadvantage z (its own normal draw) correlate across the two
    worlds only by chance. Under independence r has standard error 1/sqrt(n) (n ≈ 8,000 children, ≈ 3,500
    households: 0.011 and 0.017); |r| must stay within z = 4 of them. Birth months are not a draw to test:
    slots are in household-formation order, so they correlate by construction."""
    a, b = two_seeds
    draws = {
        "sex": lambda world: (world.population["children"]["sex"] == "boy").to_numpy(dtype=float),
        "disadvantage": lambda world: world.population["households"]["disadvantage"].to_numpy(),
    }
    for name, draw in draws.items():
        x, y = draw(a), draw(b)
        n = min(x.size, y.size)
        r = np.corrcoef(x[:n], y[:n])[0, 1]
        assert abs(r) < 4 / np.sqrt(n), (name, r, n)


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
