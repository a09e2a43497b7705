"""A synthetic household-randomised trial with a binary outcome, drawn without any simulated world.

``households`` households of ``household_size`` reports each; exactly round(``share_treated`` x households) of
them, chosen at random, are treated (complete randomisation by household). A household's risk is drawn from a
beta distribution with mean ``control_risk`` or ``treated_risk`` (by its arm) and intra-household correlation
``icc`` (beta-binomial: Beta(p (1 - icc) / icc, (1 - p) (1 - icc) / icc), so two reports of one household have
outcome correlation exactly ``icc``), and each report's outcome is Bernoulli with that risk.

What it is for: checking the design-diagnosis machinery where theory has the answer. The variance of an arm's
event rate is p (1 - p) (1 + (m - 1) icc) / n, the design effect, so the power of a two-sided Wald test of the risk
difference is :func:`design_effect_power`. The estimands are the population values: ``risk_difference`` =
treated_risk - control_risk and ``risk_ratio`` = treated_risk / control_risk. The columns are the household
RCT's (``analysed_as``), so its estimators analyse it (``logistic_household``: the model, its Laplace fast fit,
or its GEE counterpart).

    python -m sim experiment=diagnose trial=synthetic_household diagnose.fast=true diagnose.fast_method=frequentist
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from sim.config.fields import positive_count, probability
from sim.config.schema import Config
from sim.trials.base import Trial, TrialConfig, TrialData, register

OUTCOME = "faring_badly_12m"


@dataclass
class SyntheticHouseholdConfig(TrialConfig):
    """A two-arm trial randomised by household, binary outcome, known cluster size and ICC; no world."""

    households: int = positive_count(300, "households enrolled (the clusters)")
    household_size: int = positive_count(3, "reports per household (cluster size m)")
    share_treated: float = probability(0.5, "share of households treated (exactly round(share x households))")
    control_risk: float = probability(0.3, "risk of the outcome in the control arm")
    treated_risk: float = probability(0.2, "risk of the outcome in the treated arm")
    icc: float = probability(0.1, "intra-household correlation of the outcome (beta-binomial)")


def normal_power(effect: float, se: float, alpha: float = 0.05) -> float:
    """Two-sided power of a Wald test of ``effect`` with standard error ``se``."""
    z = ndtri(1 - alpha / 2)
    return float(ndtr(abs(effect) / se - z) + ndtr(-abs(effect) / se - z))


def design_effect_power(cfg: SyntheticHouseholdConfig, alpha: float = 0.05) -> float:
    """Power of the two-sided Wald test of the risk difference by the design-effect formula: each arm's
    effective size n / (1 + (m - 1) icc), normal approximation."""
    treated = round(cfg.share_treated * cfg.households) * cfg.household_size
    control = cfg.households * cfg.household_size - treated
    deff = 1.0 + (cfg.household_size - 1) * cfg.icc
    p1, p0 = cfg.treated_risk, cfg.control_risk
    se = np.sqrt(deff * (p1 * (1 - p1) / treated + p0 * (1 - p0) / control))
    return normal_power(p1 - p0, float(se), alpha)


@register
class SyntheticHousehold(Trial):
    name = "synthetic_household"
    Config = SyntheticHouseholdConfig
    estimator = "logistic_household"
    analysed_as = "household_rct"
    outcomes = (OUTCOME,)
    world_keys = ()
    columns: ClassVar[dict[str, str]] = {
        "report_id": "the report (unit of analysis)",
        "household_id": "the household (unit of randomisation)",
        "treated": "1 if the household was randomised to treatment, 0 if not",
        OUTCOME: "0/1: the binary outcome",
    }

    def worlds(self, run: Config) -> dict[str, Any]:
        return {}

    def draw(self, worlds: dict[str, Any], seed: int) -> TrialData:
        c = self.cfg
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5E7A]))
        k, m = c.households, c.household_size
        arm = np.zeros(k, dtype=int)
        arm[rng.permutation(k)[: round(c.share_treated * k)]] = 1
        mean = np.where(arm == 1, c.treated_risk, c.control_risk)
        risk = mean.copy()
        inside = (mean > 0) & (mean < 1)
        if c.icc > 0:
            a = mean[inside] * (1 - c.icc) / c.icc
            risk[inside] = rng.beta(a, (1 - mean[inside]) * (1 - c.icc) / c.icc) if c.icc < 1 else mean[inside]
        y = (rng.random((k, m)) < risk[:, None]).astype(int)
        household = np.repeat(np.arange(k), m)
        data = pd.DataFrame(
            {"report_id": np.arange(k * m), "household_id": household, "treated": arm[household], OUTCOME: y.ravel()}
        )
        p1, p0 = c.treated_risk, c.control_risk
        truth = pd.DataFrame(
            [
                {"outcome": OUTCOME, "estimand": "risk_difference", "value": p1 - p0},
                {"outcome": OUTCOME, "estimand": "risk_ratio", "value": p1 / p0 if p0 > 0 else np.nan},
            ]
        )
        return TrialData(data=data, truth=truth, meta={"households": k})
