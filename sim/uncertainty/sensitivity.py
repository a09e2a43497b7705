"""Which parameters the headline differences hang on: first-order variance-based sensitivity indices (the share
of a difference's variance over the draws that one parameter explains alone), by RBD-FAST (``SALib``), which reads
them off the PSA's own draws instead of needing a design of its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
from SALib.analyze import rbd_fast

from sim.scenarios import BASELINE
from sim.uncertainty.decision import Prices, component_matrices, net_benefit_matrix
from sim.uncertainty.parameters import UncertainParameter

#: The headline differences of a policy from baseline, a year for the municipality.
DIFFERENCES = ("net_benefit", "extra_cost", "child_years_faring_badly_avoided")


def headline_differences(table: pd.DataFrame, scenarios: list[str], prices: Prices) -> dict[str, np.ndarray]:
    """Per difference, a draws x scenarios matrix of each scenario's difference from baseline."""
    components = component_matrices(table, scenarios)
    nb = net_benefit_matrix(components, prices)
    cost, bad = components["cost_total"], components["child_years_faring_badly"]
    return {
        "net_benefit": nb - nb[:, :1],
        "extra_cost": cost - cost[:, :1],
        "child_years_faring_badly_avoided": bad[:, :1] - bad,
    }


def first_order_indices(
    table: pd.DataFrame, scenarios: list[str], parameters: list[UncertainParameter], prices: Prices, seed: int = 0
) -> pd.DataFrame:
    """Per policy scenario, headline difference and varied parameter: RBD-FAST's first-order index ``S1`` (bias
    corrected, so a parameter without influence is near 0, not exactly) and its 95% bootstrap half-width. A
    difference that does not vary over the draws has every index 0."""
    varied = [p for p in parameters if not p.fixed]
    inputs = table[table["scenario"] == BASELINE].set_index("draw").sort_index()
    x = inputs[[p.key for p in varied]].to_numpy(dtype=float)
    problem = {"num_vars": len(varied), "names": [p.key for p in varied], "bounds": [[p.low, p.high] for p in varied]}
    rows = []
    for name, matrix in headline_differences(table, scenarios, prices).items():
        for j, s in enumerate(scenarios):
            if s == BASELINE:
                continue
            y = matrix[:, j]
            if not varied:
                continue
            if y.max() == y.min():
                s1, conf = np.zeros(len(varied)), np.zeros(len(varied))
            else:
                result = rbd_fast.analyze(problem, x, y, seed=seed)
                s1, conf = np.asarray(result["S1"], dtype=float), np.asarray(result["S1_conf"], dtype=float)
            rows += [
                {
                    "scenario": s,
                    "difference": name,
                    "parameter": p.key,
                    "group": p.group,
                    "grade": p.grade,
                    "s1": float(s1[i]),
                    "s1_half_width": float(conf[i]),
                }
                for i, p in enumerate(varied)
            ]
    return pd.DataFrame(rows)
