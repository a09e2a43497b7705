"""Latent wellbeing W of every child: a monthly AR(1), vectorised over all child slots.

    W[i, t] = level[i] + M[i, t] + D[i, t]
    D[i, t] = rho * D[i, t-1] + s * (sqrt(h) * eta[household(i), t] + sqrt(1 - h) * xi[i, t])
    M[i, t] = rho * M[i, t-1] + delta[measure running for i at t]

``level`` is the child's long-run mean (household part, recorded and hidden, plus its own part), ``D`` the
shocks, with share ``h`` of their variance shared by siblings, and ``M`` the accumulated effect of measures,
which fades at the same persistence once a measure ends. ``s`` makes Var(D) = 1 - level_share, so W is
N(0, 1) in the population without measures. ``delta`` is chosen so a measure running 12 months raises W by its
configured effect (SD a year). Lower W is worse; W below the ``faring_badly_quantile`` is "faring badly".
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from sim.config.schema import MEASURE_TYPES, WorldConfig
from sim.rng import Streams
from sim.world.population import Population

NO_MEASURE = -1


def monthly_effects(cfg: WorldConfig) -> np.ndarray:
    """Monthly increment of M for each measure code, with the last entry (code -1) zero."""
    rho = cfg.wellbeing.persistence
    me = cfg.measures
    per_year = np.array([getattr(me, name) for name in MEASURE_TYPES] + [0.0]) * me.multiplier
    gain_12 = (1.0 - rho**12) / (1.0 - rho) if rho > 0 else 1.0
    return per_year / gain_12


class Wellbeing:
    """State and monthly update of W for every child slot."""

    def __init__(self, pop: Population, cfg: WorldConfig, streams: Streams) -> None:
        w = cfg.wellbeing
        self.pop = pop
        self.streams = streams
        self.rho = w.persistence
        self.h = w.household_shock_share
        self.dev_sd = np.sqrt(1.0 - w.level_share)
        self.innovation_sd = self.dev_sd * np.sqrt(1.0 - self.rho**2)
        self.threshold = float(ndtri(w.faring_badly_quantile))
        self.delta = monthly_effects(cfg)
        self.D = self.dev_sd * self._shock(-1)
        self.M = np.zeros(pop.n_children)
        self.W = pop.child_level + self.D

    def _shock(self, month: int) -> np.ndarray:
        eta = self.streams.monthly("wellbeing", month, 0).standard_normal(self.pop.n_households)
        xi = self.streams.monthly("wellbeing", month, 1).standard_normal(self.pop.n_children)
        return np.sqrt(self.h) * eta[self.pop.child_household] + np.sqrt(1.0 - self.h) * xi

    def step(
        self, month: int, measure: np.ndarray, gain: np.ndarray | None = None, extra: np.ndarray | None = None
    ) -> np.ndarray:
        """Advance to ``month`` given the measure code running for each child (-1: none), an optional
        per-child multiplier ``gain`` on the measure's effect and an optional ``extra`` monthly increment of M
        (light support outside the agency's measures); returns W."""
        self.D *= self.rho
        self.D += self.innovation_sd * self._shock(month)
        self.M *= self.rho
        self.M += self.delta[measure] if gain is None else self.delta[measure] * gain
        if extra is not None:
            self.M += extra
        np.add(self.pop.child_level, self.D, out=self.W)
        self.W += self.M
        return self.W

    def faring_badly(self) -> np.ndarray:
        return self.W < self.threshold
