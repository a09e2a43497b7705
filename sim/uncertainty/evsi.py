"""The value of a trial: for every PSA draw, the data a trial design would collect in that draw's world at each
sample size, summarised by its estimator's fast-mode estimate; regressed on, they give the expected value of
sample information (:func:`sim.uncertainty.voi.evsi`, Strong et al. 2015) and, with the trial's cost, the
expected net benefit of sampling.

A draw's trial is simulated from the worlds of the PSA draw itself (the same parameters and the same seed), so
the trial's data and the decision's net benefits share their truth; its sample is drawn with a seed of the draw's
own, the same at every size (a larger trial sees what a smaller one sees and more).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from estimators import ESTIMATORS, SamplerConfig
from sim.config.paths import with_values
from sim.trials import TRIALS
from sim.uncertainty import voi
from sim.uncertainty.psa import PsaPlan, draw_config


@dataclasses.dataclass(frozen=True)
class TrialSpec:
    """What ``experiment=evsi`` runs in each draw: the design's config (a dict of ``trial.*`` values), its estimator,
    outcome and estimand, the sizes and the config key of the size."""

    trial: dict[str, Any]
    estimator: str
    outcome: str
    estimand: str
    sizes: tuple[int, ...]
    size_key: str


def sample_seed(root: int, draw: int) -> int:
    return int(np.random.SeedSequence(root, spawn_key=(0xE751, draw)).generate_state(1)[0])


def draw_statistics(plan: PsaPlan, spec: TrialSpec, draw: int) -> dict[str, Any]:
    """One draw's trial estimates at every size (NaN where a fit failed): ``{"estimates": {size: estimate}}``."""
    values = {k: float(v) for k, v in plan.draws.loc[draw].items()}
    run = draw_config(plan.cfg, plan.scenarios, values)
    trial_cls = TRIALS[spec.trial["name"]]
    trial_values = dict(spec.trial)
    for setting, policy_key in trial_cls.policy_settings.items():
        if policy_key in values:
            trial_values[setting] = values[policy_key]
    run = dataclasses.replace(run, seed=plan.seeds(draw)[0], trial=trial_cls.Config(**trial_values))
    worlds = trial_cls(run.trial).replication_worlds(run)
    estimator = ESTIMATORS[spec.estimator](SamplerConfig())
    seed = sample_seed(plan.cfg.seed, draw)
    estimates = {}
    for n in spec.sizes:
        sized = with_values(run, {spec.size_key: n}).trial
        try:
            data = trial_cls(sized).draw_replication(worlds, seed)
            fits = estimator.fit_fast(data.data, spec.outcome, seed=seed % (2**31 - 1) + 1)
            estimate = next(e.estimate for e in fits if e.estimand == (spec.estimand or fits[0].estimand))
        except Exception:  # a failed fit is a study that reports nothing usable: left out of that size's regression
            estimate = math.nan
        estimates[str(n)] = float(estimate)
    return {"estimates": estimates}


def evsi_table(
    net_benefit: np.ndarray,
    statistics: pd.DataFrame,
    horizon_factor: float,
    fixed_cost: float,
    cost_per_unit: float,
) -> pd.DataFrame:
    """Per size: the EVSI a year and over the horizon (draws whose fit failed left out), the trial's cost, the
    expected net benefit of sampling (EVSI over the horizon minus the cost) and the draws used."""
    rows = []
    for size in statistics.columns:
        t = statistics[size].to_numpy(dtype=float)
        ok = np.isfinite(t)
        value = voi.evsi(net_benefit[ok], t[ok, None]) if ok.sum() > 2 else math.nan
        cost = fixed_cost + cost_per_unit * int(size)
        rows.append(
            {
                "size": int(size),
                "evsi_year": value,
                "evsi_horizon": value * horizon_factor,
                "trial_cost": cost,
                "net_benefit_of_sampling": value * horizon_factor - cost,
                "draws": int(ok.sum()),
            }
        )
    return pd.DataFrame(rows)
