"""The population: stationary, equal cohorts, the published household sizes, births, 18th birthdays, moves."""

import numpy as np
import pytest

from sim.registry import compose_config
from sim.rng import Streams
from sim.world.institutions import build_institutions
from sim.world.population import ADULT_MONTHS, build_population


@pytest.fixture(scope="module")
def pop_cfg():
    return compose_config(["world.children=60000", "world.years=10", "world.burn_in_years=0"]).world


@pytest.fixture(scope="module")
def pop(pop_cfg):
    return build_population(pop_cfg, Streams(11))


def test_population_starts_at_the_configured_size(pop, pop_cfg):
    n0 = pop.present(0).sum()
    # The formation rate is set from a 100,000-household Monte Carlo; allow its error plus Poisson noise.
    assert abs(n0 / pop_cfg.children - 1) < 0.03


def test_population_is_stationary_over_the_horizon(pop):
    sizes = np.array([pop.present(m).sum() for m in range(0, 120, 12)])
    # Year-to-year changes of a stationary population of 60,000 children in ~32,000 households are a few
    # hundred; a drifting population would move by thousands.
    assert (sizes.max() - sizes.min()) / sizes.mean() < 0.03


def test_single_year_cohorts_are_equal(pop):
    present = pop.present(60)
    ages = ((60 - pop.child_birth[present]) // 12).astype(int)
    counts = np.bincount(ages, minlength=18)
    expected = present.sum() / 18
    # Births cluster within households, so allow 5 Poisson SDs of a cohort (~3,300 children: SD ≈ 58).
    assert np.abs(counts - expected).max() < 5 * np.sqrt(expected) + 0.02 * expected


def test_households_have_one_to_four_children_as_published(pop):
    present = pop.present(60)
    per_household = np.bincount(pop.child_household[present])
    per_household = per_household[per_household > 0]
    shares = np.bincount(per_household, minlength=5)[1:] / per_household.size
    np.testing.assert_allclose(shares, [0.40, 0.40, 0.15, 0.05], atol=0.02)


def test_births_moves_in_and_18th_birthdays_all_happen(pop):
    births = ((pop.child_birth > 0) & (pop.child_birth < 120)).sum()
    h = pop.child_household
    moves_in = (np.isfinite(pop.hh_move_in[h]) & (pop.hh_move_in[h] > 0) & (pop.hh_move_in[h] < 120)).sum()
    adults = ((pop.child_birth + ADULT_MONTHS > 0) & (pop.child_birth + ADULT_MONTHS < 120)).sum()
    assert births > 0.9 * 60000 * 10 / 18  # about one cohort a year
    assert adults > 0.5 * 60000 * 10 / 18
    assert moves_in > 0


def test_households_formed_here_move_out_at_the_configured_yearly_hazard(pop, pop_cfg):
    """A native household moves out after an exponential wait from its formation, at hazard
    ``move_rate_per_year`` (docs/model.md, migration mirror). The wait has no memory, so each native household
    living here with a child at month 0 still has an Exp(rate) wait from then on, and the number that leave
    within the T = 120 months is Binomial(N, 1 - exp(-rate · T)). With N ≈ 16,400, rate 0.03 a year: about
    4,250 ± 56; the count must lie within z = 4 binomial standard errors."""
    months = 120
    here = np.unique(pop.child_household[pop.present(0)])
    natives = here[pop.hh_native[here]]
    p = 1 - np.exp(-pop_cfg.population.move_rate_per_year / 12 * months)
    expected, se = natives.size * p, np.sqrt(natives.size * p * (1 - p))
    moved = (pop.hh_move_out[natives] < months).sum()
    assert abs(moved - expected) < 4 * se, (moved, expected, se)


def test_recorded_features_have_the_configured_shares(pop, pop_cfg):
    f = pop_cfg.population.features
    n = pop.n_households
    for observed, expected in (
        (pop.hh_unemployed.mean(), f.unemployed_share),
        (pop.hh_psychiatric.mean(), f.psychiatric_share),
        (pop.hh_single_parent.mean(), f.single_parent_share),
        ((pop.hh_education == 0).mean(), f.education_shares[0]),
        ((pop.hh_education == 2).mean(), f.education_shares[2]),
    ):
        assert abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / n)


def test_recorded_features_go_with_disadvantage_and_hidden_adversity(pop):
    assert np.corrcoef(pop.hh_recorded_risk, pop.hh_disadvantage)[0, 1] > 0.4
    assert np.corrcoef(pop.hh_recorded_risk, pop.hh_hidden)[0, 1] > 0.1


def test_same_seed_builds_the_same_population(pop_cfg):
    a, b = build_population(pop_cfg, Streams(3)), build_population(pop_cfg, Streams(3))
    np.testing.assert_array_equal(a.child_birth, b.child_birth)
    np.testing.assert_array_equal(a.child_level, b.child_level)


def test_institutions_differ_in_burden_and_every_child_has_one(pop, pop_cfg):
    inst = build_institutions(pop, pop_cfg, Streams(11))
    assert inst.child_daycare.max() < inst.n and inst.child_school.min() >= (inst.kind == 0).sum()
    schools = inst.burden[inst.kind == 1]
    assert schools.max() - schools.min() > 1.0  # segregation 0.5: the extremes differ by > 1 SD
    assert np.all((inst.burden_rank >= 0) & (inst.burden_rank <= 1))
