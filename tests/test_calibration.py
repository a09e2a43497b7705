"""Calibration: the default world meets every published figure, the check can fail, and recalibration to
another municipality's figures works."""

import math
from dataclasses import replace

import numpy as np
import pytest

from sim.calibration.fit import fit, loss_of
from sim.calibration.table import calibration_table, run_replications, summarise
from sim.calibration.targets import load_targets
from sim.config import CONF_DIR, ConfigError
from sim.config.paths import get_value, with_values
from sim.config.schema import FreeParameterConfig
from sim.registry import compose_config
from tests.test_outputs import documented_columns

Z = 3.0  # Monte Carlo standard errors allowed beyond a band: about 1 in 370 for a value exactly on an edge


def check(table, skip=()):
    """Every level row inside its band up to Z Monte Carlo standard errors; every direction row holds."""
    failures = []
    for _, row in table.iterrows():
        if row["kind"] == "na" or row["id"] in skip:
            continue
        if row["kind"] == "direction":
            if row["status"] != "PASS":
                failures.append(f"{row['id']}: order does not hold ({row['detail']})")
            continue
        tol = Z * row["se"]
        if not (row["lower"] - tol <= row["simulated"] <= row["upper"] + tol):
            failures.append(f"{row['id']}: {row['simulated']:.4g} outside [{row['lower']}, {row['upper']}] ± {tol:.2g}")
    return failures


@pytest.mark.slow
def test_the_readmes_calibration_command_passes_every_row_it_prints():
    """``python -m sim experiment=calibrate`` as the README runs it: the default world and seed, the configured
    replications; every row it prints is PASS (or n/a: youth past 17 is not simulated)."""
    cfg = compose_config(["experiment=calibrate"])
    c = cfg.calibration
    table = calibration_table(cfg, load_targets(c.targets), c.replications, workers=1)
    assert table.loc[table["status"] == "FAIL", "id"].tolist() == []
    assert (table["status"] == "n/a").sum() == 5


@pytest.mark.slow
def test_default_world_meets_every_published_figure():
    cfg = compose_config(["seed=2027"])  # not a seed used in tuning
    table = calibration_table(cfg, load_targets("denmark"), replications=8)
    assert check(table) == []
    assert (table["status"] == "n/a").sum() == 5  # youth past 17 is not simulated


#: Rows a preset misses on purpose: Copenhagen's daycare institutions report less (1 in 17 against 1 in 6 elsewhere,
#: BUPL-2012), so the national daycare share does not apply to it.
DEVIATIONS = {"copenhagen": ("source_share_daycare",)}
#: Presets larger than this are for scale runs, not for a check in CI (denmark: 1.15 million children).
LARGEST_CHECKED = 200_000
#: Child-years of simulated worlds that make each preset's Monte Carlo error about that of 20 small worlds.
CHILDREN_CHECKED = 100_000


def presets() -> list[tuple[str, int]]:
    """Every world preset of conf/world/ but the default (checked above) and the scale presets, with the number
    of worlds that gives each a comparable Monte Carlo error (at least 3)."""
    out = []
    for path in sorted((CONF_DIR / "world").glob("*.yaml")):
        children = compose_config([f"world={path.stem}"]).world.children
        if path.stem != "default" and children <= LARGEST_CHECKED:
            out.append((path.stem, max(3, math.ceil(CHILDREN_CHECKED / children))))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("preset", "replications"), presets())
def test_presets_meet_every_published_rate(preset, replications):
    cfg = compose_config([f"world={preset}", "seed=2028"])
    table = calibration_table(cfg, load_targets("denmark"), replications=replications)
    assert check(table, DEVIATIONS.get(preset, ())) == []


@pytest.fixture(scope="module")
def small_runs():
    cfg = compose_config(["world=small", "world.years=3", "world.burn_in_years=3"])
    targets = load_targets("denmark")
    ids = [i for i, k in zip(targets["id"], targets["kind"], strict=True) if k != "na"]
    return targets, run_replications(cfg, ids, replications=2, workers=1)


def test_a_changed_published_value_makes_its_row_fail(small_runs):
    targets, runs = small_runs
    simulated = float(np.mean([r["reports_per_1000_children"][0] for r in runs]))
    around = targets.copy()
    around.loc[around["id"] == "reports_per_1000_children", ["lower", "upper"]] = [simulated - 1, simulated + 1]
    doubled = targets.copy()
    doubled.loc[doubled["id"] == "reports_per_1000_children", ["lower", "upper"]] = [
        2 * simulated - 20,
        2 * simulated + 20,
    ]
    status = {
        name: summarise(t, runs).set_index("id").loc["reports_per_1000_children", "status"]
        for name, t in (("around", around), ("doubled", doubled))
    }
    assert status == {"around": "PASS", "doubled": "FAIL"}


def test_the_calibration_table_has_the_documented_columns(small_runs):
    _, runs = small_runs
    table = summarise(load_targets("denmark"), runs)
    assert list(table.columns) == list(documented_columns()["calibration.csv"])
    assert (table.set_index("id").loc[["child_not_involved_enough", "heavy_problems_0_6"], "status"] == "input").all()


def test_a_reversed_order_makes_the_direction_row_fail(small_runs):
    targets, runs = small_runs
    flipped = [{**r, "report_age_order": r["report_age_order"][::-1]} for r in runs]
    assert summarise(targets, flipped).set_index("id").loc["report_age_order", "status"] == "FAIL"


def test_table_reports_a_monte_carlo_interval_around_the_mean(small_runs):
    targets, runs = small_runs
    row = summarise(targets, runs).set_index("id").loc["screened_within_24h"]
    assert row["mc_lower"] < row["simulated"] < row["mc_upper"]
    assert row["se"] > 0


def test_loss_is_zero_at_band_centres_and_grows_in_half_bands():
    targets = load_targets("denmark")
    rows = targets[targets["id"].isin(["placed_per_1000", "caseload_per_caseworker"])]
    centre = {r["id"]: (r["lower"] + r["upper"]) / 2 for _, r in rows.iterrows()}
    assert loss_of(centre, rows) == 0
    one_half_band_off = {**centre, "placed_per_1000": 12.0}  # band 9-12: centre 10.5, half band 1.5
    assert loss_of(one_half_band_off, rows) == pytest.approx(1.0)
    assert loss_of({}, rows) == 200  # a missing value counts as far off


def test_config_values_are_read_and_set_by_dotted_key():
    cfg = compose_config([])
    changed = with_values(cfg, {"world.reports.rate_multiplier": 2.0, "world.outcomes.crime_rate_per_year[1]": 0.02})
    assert get_value(changed, "world.reports.rate_multiplier") == 2.0
    assert get_value(changed, "world.outcomes.crime_rate_per_year[1]") == 0.02
    assert get_value(cfg, "world.reports.rate_multiplier") != 2.0  # the original is untouched
    with pytest.raises(ConfigError, match=r"unknown config key 'world\.reports\.nope'"):
        get_value(cfg, "world.reports.nope")


def test_a_fit_parameter_must_name_a_numeric_config_value():
    with pytest.raises(ConfigError, match=r"fit.parameters\[0\].key = 'world.name' is not allowed"):
        compose_config(
            ["experiment=recalibrate", "fit=placements", "fit.parameters=[{key:world.name,lower:0,upper:1}]"]
        )
    with pytest.raises(ConfigError, match="need lower < upper"):
        compose_config(["fit.parameters=[{key:world.reports.rate_multiplier,lower:2,upper:1}]"])


def test_a_fit_moves_a_parameter_towards_its_target():
    """One free parameter and one target: the report rate multiplier recovers a known report rate."""
    cfg = compose_config(["world=small", "world.years=2", "world.burn_in_years=1"])
    targets = load_targets("denmark")
    target = targets[targets["id"] == "reports_per_1000_children"].copy()
    target[["lower", "upper"]] = [170.0, 190.0]  # about 1.6 times the default world's rate
    free = [FreeParameterConfig("world.reports.rate_multiplier", 0.5, 3.0)]
    result = fit(cfg, target, free, replications=1, max_evaluations=16, workers=1, log=lambda _: None)
    assert result.loss < result.start_loss
    sim = result.trace.loc[result.trace["loss"].idxmin(), "sim:reports_per_1000_children"]
    assert 170 - 10 <= sim <= 190 + 10
    assert not math.isnan(result.values["world.reports.rate_multiplier"])


#: The recalibration test's world: the small preset over 3 observed years after 3 of burn-in. Recalibration does not
#: depend on the world's size or on a fully settled world (the fit and its check on fresh seeds run the same world),
#: so each evaluation costs about an eighth of the default world's 10 + 10 years; the check on fresh seeds takes
#: its tolerance from this world's own Monte Carlo error. Measured (6 December 2026): with one world an evaluation
#: the fit's loss falls from 4.8 to 1.6 in its 110 evaluations (57 s on one core), and the fitted world passes
#: every row on 5 fresh seeds; with the command's two worlds an evaluation, from 4.0 to 0.54 in twice the CPU.
RECALIBRATION_WORLD = ["world=small", "world.years=3", "world.burn_in_years=3"]


@pytest.mark.slow
def test_recalibration_to_a_second_targets_file_passes_its_own_table():
    cfg = compose_config(["experiment=recalibrate", "fit=double_reports", *RECALIBRATION_WORLD])
    f = cfg.fit
    targets = load_targets(f.targets)
    result = fit(
        cfg,
        targets,
        f.parameters,
        1,  # one world an evaluation (the command's default is 2): half the CPU, and still a world that passes
        f.max_evaluations,
        0,
        f.target_ids,
        f.initial_points,
        f.method,  # as experiment=recalibrate runs it (powell)
        log=lambda _: None,
    )
    checked = calibration_table(replace(result.config, seed=cfg.seed + 1), targets, replications=5)
    assert check(checked) == []
