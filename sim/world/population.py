"""Households and children as struct-of-arrays, built once for the whole simulated horizon.

Demography does not depend on policy, so every child who will ever live in the municipality during the run
gets a *slot* up front: births are children whose birth month is still ahead, moves are each household's
residence interval. Time is in months since the start of burn-in (month 0).

Households form by a Poisson process (formation = first birth) from long before the start, so the population
at month 0 is already stationary: equal single-year cohorts. Each attribute is drawn from its own stream in
household order, so a longer horizon only appends households and never changes an earlier one.

Migration mirrors itself: a *native* household lives here from its formation and moves out at hazard
``move_rate_per_year``; an *in-mover* arrives at the same hazard counted back from when its youngest turns 18
and stays. Flows in and out then balance and the age structure stays flat (``docs/assumptions.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from sim.config.schema import WorldConfig
from sim.rng import Streams

MONTHS_PER_YEAR = 12
ADULT_MONTHS = 18 * MONTHS_PER_YEAR
MAX_CHILDREN = 4

# Purposes within the "population" component: one stream each, never reorder (append only).
_GAPS, _SIZE, _SPACING, _NATIVE, _MOVE, _Z, _FEATURES, _HIDDEN, _CHILD, _SEX, _SCALE = range(11)


@dataclass
class Population:
    """Every household and child slot of the run. Household arrays are indexed by household id, child
    arrays by child id (slot); ``child_household`` links them."""

    # households
    hh_formation: np.ndarray  # month of first birth
    hh_move_in: np.ndarray  # month the household arrives (-inf: always lived here)
    hh_move_out: np.ndarray  # month it leaves (+inf: never)
    hh_native: np.ndarray  # bool
    hh_disadvantage: np.ndarray  # latent z ~ N(0, 1): drives the recorded features
    hh_education: np.ndarray  # int8: 0 basic, 1 vocational, 2 higher
    hh_unemployed: np.ndarray  # bool
    hh_psychiatric: np.ndarray  # bool
    hh_single_parent: np.ndarray  # bool
    hh_hidden: np.ndarray  # hidden adversity ~ N(0, 1), correlated with z; not in any record
    hh_recorded_risk: np.ndarray  # standardised index of the recorded features
    hh_level: np.ndarray  # standardised household part of children's wellbeing level (higher = worse)
    hh_hidden_part: np.ndarray  # the part of hh_level due to hidden adversity
    hh_first_child: np.ndarray  # first child id of the household
    hh_n_children: np.ndarray
    # children
    child_household: np.ndarray
    child_birth: np.ndarray  # birth month
    child_sex: np.ndarray  # int8: 0 girl, 1 boy
    child_level: np.ndarray  # long-run mean of W (lower = worse)
    child_hidden_level: np.ndarray  # the part of child_level due to hidden adversity

    @property
    def n_households(self) -> int:
        return self.hh_formation.shape[0]

    @property
    def n_children(self) -> int:
        return self.child_birth.shape[0]

    def present(self, month: float) -> np.ndarray:
        """Children aged 0-17 living in the municipality at ``month``."""
        h = self.child_household
        return (
            (self.child_birth <= month)
            & (month < self.child_birth + ADULT_MONTHS)
            & (self.hh_move_in[h] <= month)
            & (month < self.hh_move_out[h])
        )


def _family(gen_size: np.random.Generator, gen_spacing: np.random.Generator, n: int, cfg: WorldConfig):
    """Number of children and birth offsets (months after the first birth) for ``n`` families."""
    pop = cfg.population
    size = 1 + np.searchsorted(np.cumsum(pop.family_size_shares), gen_size.random(n), side="right")
    size = np.minimum(size, MAX_CHILDREN)
    mean_extra = max(pop.birth_spacing_years - 1.0, 1e-9)
    spacing = 1.0 + gen_spacing.gamma(2.0, mean_extra / 2.0, size=(n, MAX_CHILDREN - 1))
    offsets = np.zeros((n, MAX_CHILDREN))
    offsets[:, 1:] = np.cumsum(spacing, axis=1) * MONTHS_PER_YEAR
    return size, offsets


def _residence(
    native: np.ndarray, move_u: np.ndarray, formation: np.ndarray, last_adult: np.ndarray, rate_per_month: float
):
    move_in = np.full(native.shape, -np.inf)
    move_out = np.full(native.shape, np.inf)
    if rate_per_month > 0:
        wait = -np.log1p(-move_u) / rate_per_month
        move_out = np.where(native, formation + wait, np.inf)
        move_in = np.where(native, -np.inf, last_adult - wait)
    return move_in, move_out


def _expected_child_months(cfg: WorldConfig, streams: Streams) -> float:
    """E[resident child-months at ages 0-17 per household], by Monte Carlo on a fixed auxiliary stream.

    Dividing the target number of children by this gives the household formation rate per month.
    """
    n = 100_000
    g = streams.generator("population", 0, _SCALE)
    size, offsets = _family(g, g, n, cfg)
    native = g.random(n) < 0.5
    formation = np.zeros(n)
    last_adult = offsets[np.arange(n), size - 1] + ADULT_MONTHS
    move_in, move_out = _residence(
        native, g.random(n), formation, last_adult, cfg.population.move_rate_per_year / MONTHS_PER_YEAR
    )
    total = 0.0
    for k in range(MAX_CHILDREN):
        born = offsets[:, k]
        lo = np.maximum(born, move_in)
        hi = np.minimum(born + ADULT_MONTHS, move_out)
        total += np.where(size > k, np.clip(hi - lo, 0.0, None), 0.0).sum()
    return total / n


def _threshold_feature(z: np.ndarray, noise: np.ndarray, loading: float, share: float) -> np.ndarray:
    """A binary record that is 1 for the top ``share`` of a latent propensity loading on ``z``."""
    latent = loading * z + np.sqrt(1.0 - loading**2) * noise
    return latent > ndtri(1.0 - share) if 0.0 < share < 1.0 else np.full(z.shape, share >= 1.0)


def _features(z: np.ndarray, noise: np.ndarray, hidden_noise: np.ndarray, cfg: WorldConfig):
    """Recorded features (thresholds on latent propensities loading on z), hidden adversity, raw risk index."""
    f = cfg.population.features
    edu_latent = f.loading * z + np.sqrt(1.0 - f.loading**2) * noise[:, 0]
    cut = ndtri(np.clip(np.cumsum(f.education_shares)[:-1], 1e-12, 1 - 1e-12))
    education = np.searchsorted(cut, -edu_latent).astype(np.int8)  # high latent (disadvantage) = basic
    unemployed = _threshold_feature(z, noise[:, 1], f.loading, f.unemployed_share)
    psychiatric = _threshold_feature(z, noise[:, 2], f.loading, f.psychiatric_share)
    single = _threshold_feature(z, noise[:, 3], f.loading, f.single_parent_share)
    hidden = f.hidden_correlation * z + np.sqrt(1.0 - f.hidden_correlation**2) * hidden_noise
    raw = (education == 0) * 1.0 + (education == 1) * 0.4 + unemployed + psychiatric + 0.6 * single
    return education, unemployed, psychiatric, single, hidden, raw


def _feature_scales(cfg: WorldConfig, streams: Streams) -> tuple[float, float, float]:
    """Mean and SD of the raw recorded-risk index and SD of the household level, on a fixed auxiliary
    sample, so standardising never depends on which households a given horizon happens to keep."""
    n = 100_000
    g = streams.generator("population", 1, _SCALE)
    *_, hidden, raw = _features(g.standard_normal(n), g.standard_normal((n, 5)), g.standard_normal(n), cfg)
    mean, sd = float(raw.mean()), float(raw.std()) or 1.0
    vis = cfg.wellbeing.visible_share
    level = np.sqrt(vis) * (raw - mean) / sd + np.sqrt(1.0 - vis) * hidden
    return mean, sd, float(level.std()) or 1.0


def build_population(cfg: WorldConfig, streams: Streams) -> Population:
    """Generate every household and child slot for months ``0 .. 12 * (burn_in_years + years)``."""
    pop = cfg.population
    horizon = MONTHS_PER_YEAR * (cfg.burn_in_years + cfg.years)
    start = -(ADULT_MONTHS + MONTHS_PER_YEAR * (MAX_CHILDREN - 1) * (pop.birth_spacing_years + 8.0))
    per_month = cfg.children / _expected_child_months(cfg, streams)
    expected = per_month * (horizon - start)
    n_draw = int(expected + 6.0 * np.sqrt(expected) + 100)

    gaps = streams.generator("population", 0, _GAPS).exponential(1.0 / per_month, size=n_draw)
    formation = start + np.cumsum(gaps)
    n = int(np.searchsorted(formation, horizon, side="left"))
    formation = formation[:n]

    size, offsets = _family(
        streams.generator("population", 0, _SIZE), streams.generator("population", 0, _SPACING), n, cfg
    )
    native = streams.generator("population", 0, _NATIVE).random(n) < 0.5
    last_adult = formation + offsets[np.arange(n), size - 1] + ADULT_MONTHS
    move_in, move_out = _residence(
        native,
        streams.generator("population", 0, _MOVE).random(n),
        formation,
        last_adult,
        pop.move_rate_per_year / MONTHS_PER_YEAR,
    )

    # Keep households with a child aged 0-17 living here at some point in [0, horizon).
    births = formation[:, None] + offsets
    valid = np.arange(MAX_CHILDREN)[None, :] < size[:, None]
    lo = np.maximum(np.maximum(births, move_in[:, None]), 0.0)
    hi = np.minimum(np.minimum(births + ADULT_MONTHS, move_out[:, None]), horizon)
    keep = (valid & (hi > lo)).any(axis=1)

    z = streams.generator("population", 0, _Z).standard_normal(n)
    noise = streams.generator("population", 0, _FEATURES).standard_normal((n, 5))
    hidden_noise = streams.generator("population", 0, _HIDDEN).standard_normal(n)
    education, unemployed, psychiatric, single, hidden, raw = _features(z, noise, hidden_noise, cfg)

    sel = np.flatnonzero(keep)
    formation, size, offsets = formation[sel], size[sel], offsets[sel]
    move_in, move_out, native = move_in[sel], move_out[sel], native[sel]
    z, education, unemployed, psychiatric, single, hidden, raw = (
        z[sel],
        education[sel],
        unemployed[sel],
        psychiatric[sel],
        single[sel],
        hidden[sel],
        raw[sel],
    )

    w = cfg.wellbeing
    raw_mean, raw_sd, level_sd = _feature_scales(cfg, streams)
    recorded = (raw - raw_mean) / raw_sd
    hh_level = (np.sqrt(w.visible_share) * recorded + np.sqrt(1.0 - w.visible_share) * hidden) / level_sd
    hh_hidden_part = np.sqrt(1.0 - w.visible_share) * hidden / level_sd

    # Children: household-major slots.
    n_h = sel.shape[0]
    child_household = np.repeat(np.arange(n_h, dtype=np.int32), size)
    rank = np.arange(child_household.shape[0]) - np.repeat(np.cumsum(size) - size, size)
    child_birth = formation[child_household] + offsets[child_household, rank]
    first = (np.cumsum(size) - size).astype(np.int64)
    # Child draws are made per household slot (MAX_CHILDREN each) so they too are prefix-stable.
    u_child = streams.generator("population", 0, _CHILD).standard_normal((n, MAX_CHILDREN))[sel]
    sex_u = streams.generator("population", 0, _SEX).random((n, MAX_CHILDREN))[sel]
    child_u = u_child[child_household, rank]
    hs = w.household_level_share
    sign = -np.sqrt(w.level_share)
    child_level = sign * (np.sqrt(hs) * hh_level[child_household] + np.sqrt(1.0 - hs) * child_u)
    child_hidden_level = sign * np.sqrt(hs) * hh_hidden_part[child_household]

    return Population(
        hh_formation=formation,
        hh_move_in=move_in,
        hh_move_out=move_out,
        hh_native=native,
        hh_disadvantage=z,
        hh_education=education,
        hh_unemployed=unemployed,
        hh_psychiatric=psychiatric,
        hh_single_parent=single,
        hh_hidden=hidden,
        hh_recorded_risk=recorded,
        hh_level=hh_level,
        hh_hidden_part=hh_hidden_part,
        hh_first_child=first,
        hh_n_children=size.astype(np.int8),
        child_household=child_household,
        child_birth=child_birth,
        child_sex=(sex_u[child_household, rank] < 0.512).astype(np.int8),
        child_level=child_level,
        child_hidden_level=child_hidden_level,
    )
