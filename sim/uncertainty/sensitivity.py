"""Which parameters the headline differences hang on: first-order variance-based sensitivity indices (the share
of a difference's variance over the draws that one parameter explains alone), by RBD-FAST (``SALib``), which reads
them off the PSA's own draws instead of needing a design of its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
from SALib.analyze import rbd_fast

from sim.scenarios import BASELINE
from sim.uncertainty.decision import Prices, component_matrices, net_benefit_matrix, relevant_parameters
from sim.uncertainty.parameters import UncertainParameter

#: The headline differences of a policy from baseline, a year for the municipality.
DIFFERENCES = ("net_benefit", "extra_cost", "child_years_faring_badly_avoided")
#: RBD-FAST's harmonics (SALib's default); with no more draws than twice as many, no index is estimated.
RBD_HARMONICS = 10
COLUMNS = ["scenario", "difference", "parameter", "group", "grade", "s1", "s1_half_width"]


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
    """Per policy scenario, headline difference and varied parameter it can depend on (its own policies'
    settings, the unit costs, the world's: :func:`sim.uncertainty.decision.relevant_parameters`): RBD-FAST's
    first-order index ``S1`` (bias corrected, so a parameter without influence is near 0, not exactly) and its
    95% bootstrap half-width. A
    difference that does not vary over the draws has every index 0; with too few draws (at most 20) none is
    estimated (null)."""
    inputs = table[table["scenario"] == BASELINE].set_index("draw").sort_index()
    rows = []
    for name, matrix in headline_differences(table, scenarios, prices).items():
        for j, s in enumerate(scenarios):
            if s == BASELINE:
                continue
            used = relevant_parameters(parameters, s)
            if not used:
                continue
            x = inputs[[p.key for p in used]].to_numpy(dtype=float)
            problem = {"num_vars": len(used), "names": [p.key for p in used], "bounds": [[p.low, p.high] for p in used]}
            y = matrix[:, j]
            if y.max() == y.min():
                s1, conf = np.zeros(len(used)), np.zeros(len(used))
            elif len(y) <= 2 * RBD_HARMONICS:
                s1, conf = np.full(len(used), np.nan), np.full(len(used), np.nan)
            else:
                result = rbd_fast.analyze(problem, x, y, M=RBD_HARMONICS, seed=seed)
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
                for i, p in enumerate(used)
            ]
    return pd.DataFrame(rows, columns=COLUMNS)
