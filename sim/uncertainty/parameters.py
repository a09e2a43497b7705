"""The uncertain parameters of a probabilistic sensitivity analysis and their draws.

Every number that carries an :class:`~sim.config.evidence.Evidence` other than ``setting`` is uncertain: each
numeric setting of the scenarios' policies (``policy.<name>.<key>``) and the unit costs (``costs.<key>``). Their
distributions follow the evidence grade (docs/uncertainty.md):

- ``assumed``: uniform over the plausible range (no figure to favour one value over another);
- ``published`` and ``derived``: PERT (a beta distribution) over the range with its mode at the run's value, so
  values near the figure are likelier than the ends of its source's band.

``width`` scales every range around the run's value (1: the evidence range; 0: every parameter fixed). World
parameters come as whole rows of a calibration posterior (``posterior.parquet``: one column per config key), so
their dependence is kept.

Draws are a scrambled Sobol' sequence over the unit cube pushed through each distribution's quantile function:
space-filling (fewer draws for the same precision) and prefix-stable (the first k draws do not depend on how many
are asked for, so a store of 200 draws is the start of one of 400).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.config.schema import Config
from sim.policies import POLICIES
from sim.policies.base import evidence_of
from sim.rng import sobol_points
from sim.scenarios import BASELINE


@dataclass(frozen=True)
class UncertainParameter:
    """One parameter to draw: its config key, group (a policy's name, ``costs`` or ``world``), evidence grade, the
    run's value and the range drawn from (after ``width``), and whether it is a whole number."""

    key: str
    group: str
    grade: str
    value: float
    low: float
    high: float
    integer: bool = False

    @property
    def fixed(self) -> bool:
        return self.low == self.high

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The values at probabilities ``u`` of this parameter's distribution."""
        u = np.asarray(u, dtype=float)
        if self.fixed:
            return np.full(u.shape, self.value)
        if self.grade == "assumed":
            x = self.low + u * (self.high - self.low)
        else:
            a, b = _pert(self.low, self.value, self.high)
            x = self.low + stats.beta.ppf(u, a, b) * (self.high - self.low)
        return np.round(x) if self.integer else x


def _pert(low: float, mode: float, high: float) -> tuple[float, float]:
    """The beta shape parameters of a PERT distribution on [low, high] with its mode at ``mode``."""
    span = high - low
    return 1.0 + 4.0 * (mode - low) / span, 1.0 + 4.0 * (high - mode) / span


def scenario_policy_names(scenarios: list[str]) -> list[str]:
    """The policies the scenarios name, in order of first appearance."""
    names: list[str] = []
    for s in scenarios:
        for n in [] if s == BASELINE else s.split("+"):
            if n not in names:
                names.append(n)
    return names


def _scaled(evidence, value: float, width: float) -> tuple[float, float]:
    return value - width * (value - evidence.low), value + width * (evidence.high - value)


def uncertain_parameters(cfg: Config, scenarios: list[str], width: float = 1.0) -> list[UncertainParameter]:
    """The uncertain policy settings of ``scenarios`` and the unit costs, at the run's values (a policy the run
    did not configure at its defaults), each with its range scaled by ``width`` around the run's value."""
    if width < 0:
        raise ValueError(f"psa.width must be >= 0, got {width}")
    out = []
    for name in scenario_policy_names(scenarios):
        policy = cfg.policy.get(name) or POLICIES[name].Config()
        for key, evidence in evidence_of(POLICIES[name]).items():
            if evidence is None or not evidence.uncertain:
                continue
            value = float(getattr(policy, key))
            low, high = _scaled(evidence, value, width)
            integer = isinstance(getattr(policy, key), int)
            out.append(UncertainParameter(f"policy.{name}.{key}", name, evidence.grade, value, low, high, integer))
    for f in dataclasses.fields(cfg.costs):
        evidence = f.metadata.get("evidence")
        if evidence is not None and evidence.uncertain:
            value = float(getattr(cfg.costs, f.name))
            low, high = _scaled(evidence, value, width)
            out.append(UncertainParameter(f"costs.{f.name}", "costs", evidence.grade, value, low, high))
    return out


def unit_draws(dimensions: int, draws: int, seed: int) -> np.ndarray:
    """``draws`` points of a scrambled Sobol' sequence in [0, 1)^dimensions (prefix-stable in ``draws``)."""
    return sobol_points(dimensions, draws, seed)


def draw_parameters(
    parameters: list[UncertainParameter], draws: int, seed: int, posterior: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per draw (index ``draw``), one column per parameter key: policy settings and costs from their
    distributions, and, with a ``posterior``, world parameters as whole rows of it (the Sobol' sequence's last
    coordinate picks the row)."""
    extra = 1 if posterior is not None and len(posterior) else 0
    u = unit_draws(len(parameters) + extra, draws, seed)
    table = pd.DataFrame({p.key: p.quantile(u[:, j]) for j, p in enumerate(parameters)}, index=range(draws))
    if extra:
        rows = np.minimum((u[:, -1] * len(posterior)).astype(int), len(posterior) - 1)
        world = posterior.iloc[rows].reset_index(drop=True)
        table = pd.concat([table, world.set_axis(table.index)], axis=1)
    table.index.name = "draw"
    return table


def posterior_parameters(posterior: pd.DataFrame) -> list[UncertainParameter]:
    """The world parameters of a calibration posterior, as rows of the parameter list (grade ``calibrated``,
    range the posterior's own), so every table lists every parameter that varied."""
    return [
        UncertainParameter(
            str(k), "world", "calibrated", float(posterior[k].median()), posterior[k].min(), posterior[k].max()
        )
        for k in posterior.columns
    ]
