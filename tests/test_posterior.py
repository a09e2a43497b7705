"""The calibration posterior (``fit.method=emulator``): an emulator that reproduces what it was trained on, a
posterior that finds known parameters, and 90% credible intervals that cover the truth in 80-98% of 20 synthetic
targets files generated from known parameters."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from sim.calibration.posterior import (
    Emulator,
    Posterior,
    cross_validate,
    run_design,
    synthetic_targets,
    to_values,
    unit_design,
)
from sim.config.schema import FreeParameterConfig
from sim.registry import compose_config


def toy(z: np.ndarray) -> pd.DataFrame:
    """Two smooth 'targets' of two parameters on the unit square."""
    return pd.DataFrame({"a": 3.0 + 2.0 * z[:, 0] + 0.5 * z[:, 1], "b": 1.0 + np.exp(z[:, 1]) + 0.3 * z[:, 0]})


@pytest.fixture(scope="module")
def toy_emulator() -> tuple[np.ndarray, Emulator]:
    z = unit_design(2, 40, seed=1)
    return z, Emulator.fit(z, toy(z))


def test_the_emulator_predicts_a_smooth_function_between_its_design_points(toy_emulator):
    _, em = toy_emulator
    fresh = np.random.default_rng(5).uniform(0.05, 0.95, (50, 2))
    mean, var = em.predict(fresh)
    assert np.abs(mean - toy(fresh).to_numpy()).max() < 0.02
    assert (var >= 0).all() and var.max() < 1e-3


def test_cross_validation_finds_a_good_emulator_good_and_a_wrong_one_wrong():
    z = unit_design(2, 40, seed=1)
    good = cross_validate(z, toy(z), half=np.array([0.2, 0.2]))
    assert (good["rmse_half_bands"] < 0.1).all()
    scrambled = toy(z).sample(frac=1.0, random_state=3).reset_index(drop=True)  # outputs no longer of their inputs
    bad = cross_validate(z, scrambled, half=np.array([0.2, 0.2]))
    assert (bad["rmse_half_bands"] > 1.0).all()


def test_the_posterior_concentrates_on_the_parameters_that_made_the_targets(toy_emulator):
    _, em = toy_emulator
    truth = np.array([[0.3, 0.6]])
    centre = toy(truth).to_numpy()[0]
    draws, diagnostics = Posterior(em).sample(centre, half=np.array([0.05, 0.05]), draws=500, tune=500, seed=2)
    assert diagnostics["r_hat_max"] < 1.01 and diagnostics["divergences"] == 0
    assert np.abs(np.median(draws, axis=0) - truth[0]).max() < 0.05
    lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
    assert ((lo < truth[0]) & (truth[0] < hi)).all()


FREE = [
    FreeParameterConfig("world.reports.rate_multiplier", 0.7, 1.5),
    FreeParameterConfig("world.agency.screening.investigation_threshold", 2.6, 3.6),
]
IDS = ["reports_per_1000_children", "children_reported_per_1000", "preventive_per_1000", "caseload_per_caseworker"]
REPEATS = 20


@pytest.mark.slow  # about a minute: a design of simulated worlds, 20 truths simulated, 20 posteriors
def test_90_percent_credible_intervals_cover_known_parameters_in_80_to_98_percent_of_20_synthetic_targets_files():
    cfg = compose_config(["world=small", "world.years=3", "world.burn_in_years=2", "seed=3"])
    z = unit_design(len(FREE), 48, seed=3)
    design = run_design(cfg, FREE, IDS, z, replications=1).groupby("point")[IDS].mean()
    posterior = Posterior(Emulator.fit(z, design, seed=3))
    rng = np.random.default_rng(2026)
    covered = []
    for repeat in range(REPEATS):
        truth = rng.uniform(0.1, 0.9, len(FREE))
        runs = run_design(replace(cfg, seed=1000 + repeat), FREE, IDS, truth[None, :], replications=2)
        centre, half = synthetic_targets(runs, IDS, relative_sd=0.03, rng=rng)
        draws, diagnostics = posterior.sample(centre, half, draws=400, tune=400, seed=repeat)
        assert diagnostics["r_hat_max"] < 1.05
        lo, hi = np.quantile(to_values(FREE, draws), [0.05, 0.95], axis=0)
        value = to_values(FREE, truth)
        covered += list((lo <= value) & (value <= hi))
    coverage = float(np.mean(covered))
    assert 0.80 <= coverage <= 0.98, f"coverage {coverage:.3f} of {len(covered)} intervals"
