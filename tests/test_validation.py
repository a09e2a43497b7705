"""Policy validation rows: what each policy should reproduce from its source, checked on the world with the policy
against its twin without (``python -m sim experiment=calibrate policy=<name>``)."""

import math

import numpy as np
import pandas as pd
import pytest

from sim.calibration.targets import load_targets
from sim.calibration.validation import (
    POLICY_TARGETS,
    load_policy_targets,
    render_validation,
    summarise_pairs,
    validation_table,
)
from sim.config import ConfigError
from sim.policies import POLICIES
from sim.registry import compose_config
from tests.conftest import cli
from tests.test_outputs import documented_columns

SOURCED = ("risk_tool", "early_prevention", "child_participation", "free_municipality", "daycare_social_workers")


def rows(*specs: tuple[str, str, float, float, str]) -> pd.DataFrame:
    """Validation targets (id, kind, lower, upper, role) with the other columns filled in."""
    return pd.DataFrame(
        [
            {
                "id": i,
                "quantity": i,
                "published": "-",
                "lower": lo,
                "upper": hi,
                "unit": "share",
                "kind": kind,
                "year": "2020",
                "source": "X",
                "role": role,
            }
            for i, kind, lo, hi, role in specs
        ]
    )


@pytest.mark.parametrize("policy", SOURCED)
def test_every_policy_from_a_source_document_has_validation_rows_each_citing_a_source(policy):
    targets = load_policy_targets(policy)
    assert len(targets) >= 1
    assert set(targets["role"]) <= {"validation", "input"}
    assert (targets["source"].str.len() > 0).all()
    assert policy in POLICIES


def test_a_policy_without_validation_rows_fails_at_start_naming_it():
    proc = cli("experiment=calibrate", "policy=staffing", "world=small", "calibration.replications=2")
    assert proc.returncode == 2
    assert "policy 'staffing' has no validation rows" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_ratio_row_passes_on_the_mean_of_the_paired_ratios():
    runs = [{"x": (10.0, 4.0)}, {"x": (20.0, 10.0)}, {"x": (10.0, 5.0)}]  # ratios 0.4, 0.5, 0.5
    table = summarise_pairs(rows(("x", "ratio", 0.3, 0.45, "validation")), runs).set_index("id")
    assert table.loc["x", "simulated"] == pytest.approx(1.4 / 3)
    assert table.loc["x", "status"] == "FAIL"  # 0.467 > 0.45, though the ratio of the means (19 / 40) is too
    table = summarise_pairs(rows(("x", "ratio", 0.3, 0.5, "validation")), runs).set_index("id")
    assert table.loc["x", "status"] == "PASS"


def test_a_direction_passes_only_when_the_whole_interval_of_the_paired_difference_is_on_its_side():
    resolved = [{"x": (0.5, 0.4)}, {"x": (0.5, 0.41)}, {"x": (0.5, 0.39)}]
    unresolved = [{"x": (0.5, 0.4)}, {"x": (0.5, 0.6)}, {"x": (0.5, 0.38)}]  # mean -0.04, interval reaches +0.3
    lower = rows(("x", "lower", math.nan, math.nan, "validation"))
    assert summarise_pairs(lower, resolved).loc[0, "status"] == "PASS"
    assert summarise_pairs(lower, unresolved).loc[0, "status"] == "FAIL"
    higher = rows(("x", "higher", math.nan, math.nan, "validation"))
    assert summarise_pairs(higher, resolved).loc[0, "status"] == "FAIL"


def test_an_input_row_shows_its_value_but_is_not_a_pass():
    runs = [{"x": (math.nan, 0.3)}, {"x": (math.nan, 0.32)}]
    table = summarise_pairs(rows(("x", "level", 0.27, 0.37, "input")), runs)
    assert table.loc[0, "status"] == "input"
    assert table.loc[0, "simulated"] == pytest.approx(0.31)
    assert "0 PASS, 0 FAIL, 1 input" in render_validation(table)


def test_the_baseline_targets_mark_the_figures_the_world_is_built_to_reproduce_as_inputs():
    targets = load_targets("denmark").set_index("id")
    assert sorted(targets.index[targets["role"] == "input"]) == ["child_not_involved_enough", "heavy_problems_0_6"]
    assert set(targets["role"]) == {"check", "input"}


def test_a_targets_file_with_an_unknown_role_or_a_paired_kind_outside_a_policy_file_is_refused(tmp_path):
    base = pd.read_csv(POLICY_TARGETS / "free_municipality.csv")
    wrong_role = tmp_path / "role.csv"
    base.assign(role=["validation", "check", "guess", "validation"]).to_csv(wrong_role, index=False)
    with pytest.raises(ConfigError, match=r"row 4 \(caseload\): role = 'guess' is not allowed"):
        load_targets(str(wrong_role), metrics=set(base["id"]), paired=True)
    paired = tmp_path / "paired.csv"
    base.to_csv(paired, index=False)
    with pytest.raises(ConfigError, match=r"row 2 \(days_report_to_decision\): kind = 'ratio' is not allowed"):
        load_targets(str(paired), metrics=set(base["id"]))


@pytest.fixture(scope="module")
def free_municipality() -> pd.DataFrame:
    """The free municipality's validation table on the small world: 2 paired replications of 3 observed years."""
    cfg = compose_config(["world=small", "world.years=3", "world.burn_in_years=2", "policy=free_municipality"])
    return validation_table(cfg, "free_municipality", load_policy_targets("free_municipality"), 2, workers=1)


def test_the_free_municipality_more_than_halves_the_time_to_decision_against_its_twin(free_municipality):
    """Every row passes; the time to decision falls to 0.3-0.6 of its twin's (HF-2019)."""
    by_id = free_municipality.set_index("id")
    assert by_id["status"].to_dict() == {
        "days_report_to_decision": "PASS",
        "days_decision_to_measure": "PASS",
        "caseload": "PASS",
        "child_involved": "PASS",
    }
    ratio = by_id.loc["days_report_to_decision"]
    assert ratio["simulated"] == pytest.approx(ratio["policy"] / ratio["baseline"], rel=0.05)
    assert np.isfinite(by_id[["baseline", "policy"]].to_numpy()).all()


def test_the_validation_table_has_the_documented_columns(free_municipality):
    assert list(free_municipality.columns) == list(documented_columns()["validation_<policy>.csv"])
