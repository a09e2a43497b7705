"""The one result type every estimator returns: the effect on the estimand's scale with its intervals, the
probability of benefit, sampler diagnostics, the InferenceData, the frequentist cross-check, and a sentence.

``Estimate.row()`` gives the columns of ``estimate.csv`` (documented in ``docs/data-dictionary.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Diagnostics a posterior must meet before its intervals are trusted (Vehtari et al. 2021).
RHAT_MAX = 1.01
ESS_MIN = 400


@dataclass
class Estimate:
    """One estimand of one fit."""

    estimator: str
    estimand: str  # e.g. risk_difference, risk_ratio, difference_in_median_days
    outcome: str
    estimate: float  # posterior mean on the estimand's scale
    lower_90: float
    upper_90: float
    lower_95: float
    upper_95: float
    p_benefit: float  # posterior probability that the effect goes the beneficial way
    better: str  # "lower", "higher" or "none": which direction is a benefit for this outcome
    rhat_max: float
    ess_min: float
    divergences: int
    freq_estimate: float = math.nan  # the statsmodels counterpart
    freq_lower_95: float = math.nan
    freq_upper_95: float = math.nan
    freq_method: str = ""
    n: int = 0
    warnings: list[str] = field(default_factory=list)
    idata: Any = field(default=None, repr=False)
    method: str = "nuts"  # how it was computed: nuts, laplace, or the statsmodels method (fast fits)
    null: float = math.nan  # the estimand's value of no effect (0 for a difference, 1 for a ratio)

    @classmethod
    def from_draws(
        cls,
        draws: np.ndarray,
        *,
        estimator: str,
        estimand: str,
        outcome: str,
        better: str,
        null: float,
        rhat_max: float,
        ess_min: float,
        divergences: int,
        n: int,
        **freq: Any,
    ) -> Estimate:
        """Summarise posterior draws of the estimand (flattened over chains). ``null`` is the value of no
        effect (0 for a difference, 1 for a ratio)."""
        draws = np.asarray(draws, dtype=float).ravel()
        q = np.quantile(draws, [0.05, 0.95, 0.025, 0.975])
        benefit = (draws < null) if better == "lower" else (draws > null) if better == "higher" else np.full(1, np.nan)
        est = cls(
            estimator=estimator,
            estimand=estimand,
            outcome=outcome,
            estimate=float(draws.mean()),
            lower_90=float(q[0]),
            upper_90=float(q[1]),
            lower_95=float(q[2]),
            upper_95=float(q[3]),
            p_benefit=float(benefit.mean()),
            better=better,
            rhat_max=rhat_max,
            ess_min=ess_min,
            divergences=divergences,
            n=n,
            null=null,
            **freq,
        )
        est.warnings = est.diagnose()
        return est

    def diagnose(self) -> list[str]:
        """Plain warnings when the sampler's diagnostics fail."""
        out = []
        if not self.rhat_max <= RHAT_MAX:
            out.append(f"R-hat {self.rhat_max:.3f} > {RHAT_MAX}: the chains disagree; do not trust this estimate")
        if not self.ess_min >= ESS_MIN:
            out.append(f"effective sample size {self.ess_min:.0f} < {ESS_MIN}: too few independent draws")
        if self.divergences:
            out.append(f"{self.divergences} divergent transitions: the posterior may be biased")
        return out

    @property
    def converged(self) -> bool:
        return not self.warnings

    def row(self) -> dict[str, Any]:
        """The ``estimate.csv`` row."""
        return {
            "estimand": self.estimand,
            "outcome": self.outcome,
            "estimate": self.estimate,
            "lower_90": self.lower_90,
            "upper_90": self.upper_90,
            "lower_95": self.lower_95,
            "upper_95": self.upper_95,
            "p_benefit": self.p_benefit,
            "rhat_max": self.rhat_max,
            "ess_min": self.ess_min,
            "divergences": self.divergences,
            "freq_estimate": self.freq_estimate,
            "freq_lower_95": self.freq_lower_95,
            "freq_upper_95": self.freq_upper_95,
            "freq_method": self.freq_method,
            "estimator": self.estimator,
            "n": self.n,
            "converged": self.converged,
            "warnings": "; ".join(self.warnings),
        }

    def sentence(self) -> str:
        """The result in one plain sentence (what a report can print)."""
        scale = {"risk_difference": "percentage points", "difference_in_median_days": "days"}.get(self.estimand, "")
        factor = 100.0 if self.estimand == "risk_difference" else 1.0
        direction = "lower" if self.estimate < 0 else "higher"
        size = abs(self.estimate) * factor
        return (
            f"{self.outcome.replace('_', ' ')}: {size:.2g} {scale} {direction} ({self.estimand.replace('_', ' ')}; "
            f"95% interval {self.lower_95 * factor:.2g} to {self.upper_95 * factor:.2g}); probability of benefit "
            f"{self.p_benefit:.0%}" + ("" if self.converged else f"; WARNING: {self.warnings[0]}")
        )


def to_frame(estimates: list[Estimate]) -> pd.DataFrame:
    """``estimate.csv``: one row per estimand, in the order given (the risk difference first)."""
    return pd.DataFrame([e.row() for e in estimates])
