"""Latent wellbeing: N(0, 1) without measures, the configured persistence and sibling correlation, and
measures that raise it by their effect a year."""

import numpy as np
import pytest

from sim.config.schema import MEASURE_TYPES
from sim.registry import compose_config
from sim.rng import Streams
from sim.world.population import build_population
from sim.world.wellbeing import NO_MEASURE, Wellbeing


@pytest.fixture(scope="module")
def setup():
    cfg = compose_config(["world.children=40000", "world.years=3", "world.burn_in_years=0"]).world
    pop = build_population(cfg, Streams(4))
    return cfg, pop


def run_months(wb, months, measure):
    for m in range(months):
        wb.step(m, measure)
    return wb.W.copy()


def test_wellbeing_is_standard_normal_without_measures(setup):
    cfg, pop = setup
    wb = Wellbeing(pop, cfg, Streams(4))
    W = run_months(wb, 24, np.full(pop.n_children, NO_MEASURE, dtype=np.int8))
    n = W.size
    assert abs(W.mean()) < 0.05  # household clustering inflates the SE of the mean well above 1/sqrt(n)
    assert abs(W.std() - 1) < 0.02
    assert abs(wb.faring_badly().mean() - cfg.wellbeing.faring_badly_quantile) < 0.01 + 3 / np.sqrt(n)


def test_twelve_month_autocorrelation_matches_the_ar1(setup):
    cfg, pop = setup
    wb = Wellbeing(pop, cfg, Streams(4))
    none = np.full(pop.n_children, NO_MEASURE, dtype=np.int8)
    a = run_months(wb, 12, none)
    for m in range(12, 24):
        wb.step(m, none)
    w = cfg.wellbeing
    expected = w.level_share + (1 - w.level_share) * w.persistence**12
    # SE of a correlation near 0.8 with ~70,000 children, inflated for household clustering: < 0.01.
    assert abs(np.corrcoef(a, wb.W)[0, 1] - expected) < 0.02


def test_siblings_correlate_as_configured(setup):
    cfg, pop = setup
    wb = Wellbeing(pop, cfg, Streams(4))
    W = run_months(wb, 36, np.full(pop.n_children, NO_MEASURE, dtype=np.int8))
    first = pop.hh_first_child[pop.hh_n_children >= 2]
    r = np.corrcoef(W[first], W[first + 1])[0, 1]
    w = cfg.wellbeing
    expected = w.level_share * w.household_level_share + (1 - w.level_share) * w.household_shock_share
    assert abs(r - expected) < 4 / np.sqrt(first.size)


@pytest.mark.parametrize("measure", ["preventive", "home_based", "foster_family", "institution"])
def test_a_year_of_a_measure_raises_wellbeing_by_its_effect(setup, measure):
    cfg, pop = setup
    code = MEASURE_TYPES.index(measure)
    none = np.full(pop.n_children, NO_MEASURE, dtype=np.int8)
    treated = none.copy()
    treated[:100] = code
    a, b = Wellbeing(pop, cfg, Streams(4)), Wellbeing(pop, cfg, Streams(4))
    for m in range(12):
        a.step(m, none)
        b.step(m, treated)
    gain = b.W - a.W  # same draws in both: the difference is exactly the measure's effect
    np.testing.assert_allclose(gain[:100], getattr(cfg.measures, measure), rtol=1e-9)
    assert np.all(gain[100:] == 0)


def test_effect_fades_at_the_persistence_after_the_measure_ends(setup):
    cfg, pop = setup
    none = np.full(pop.n_children, NO_MEASURE, dtype=np.int8)
    on = none.copy()
    on[0] = MEASURE_TYPES.index("home_based")
    a, b = Wellbeing(pop, cfg, Streams(4)), Wellbeing(pop, cfg, Streams(4))
    for m in range(24):
        a.step(m, none)
        b.step(m, on if m < 12 else none)
    assert b.W[0] - a.W[0] == pytest.approx(cfg.measures.home_based * cfg.wellbeing.persistence**12)
