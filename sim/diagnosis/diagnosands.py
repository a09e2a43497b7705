"""Diagnosands: named summaries of a table of replications, each with its Monte Carlo standard error (MCSE).

One row of the replications table is one replication: ``estimate``, ``lower_90``/``upper_90``,
``lower_95``/``upper_95``, ``p_benefit``, ``null`` (the estimand's value of no effect), ``truth``, and
``failed``/``converged``. The formulas follow Morris, White & Crowther (2019), "Using simulation studies to
evaluate statistical methods", Stat Med 38, table 6, with n the replications used:

- a proportion p (power, coverage, type-S): MCSE sqrt(p (1 - p) / n);
- a mean (bias, interval width, true effect): MCSE sd / sqrt(n);
- RMSE: sqrt(MSE), MCSE by the delta method from the MSE's, sd(error^2) / sqrt(n) / (2 RMSE).

Replications spread over fewer worlds than there are replications (``diagnose.worlds`` > 1 but < R) are not
independent: those of one world share its children and history. Their MCSEs are then clustered by world (the
sandwich estimator: the variance of a mean is G / (G - 1) times the sum over worlds of the squared sum of
deviations, over n squared), which can be several times the textbook one. With a single world the diagnosands
are conditional on it and the textbook formulas hold for that conditional target.

Replications that failed, or whose fit failed its convergence checks, are never counted as "no effect". Power
is the design's as it would run: such a replication reaches no decision, so it counts in the denominator and
never as a detection (``power``, over every replication); ``power_conditional`` is the share among the usable
fits, as a reader who reruns a failed analysis until it works would see it. Every other diagnosand is over the
usable fits. Non-converged fits are usable with ``include_nonconverged``; failures never are; both are counted
in ``n_failed`` and ``n_nonconverged``. With no usable fit, every diagnosand is NaN and the note says why: never
0% power.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

#: decision rule -> (what it means, function of the replications table giving a boolean "significant")
RULES: dict[str, tuple[str, Callable[[pd.DataFrame], np.ndarray]]] = {
    "interval95_excludes_null": (
        "the 95% interval excludes no effect",
        lambda d: ((d["lower_95"] > d["null"]) | (d["upper_95"] < d["null"])).to_numpy(),
    ),
    "interval90_excludes_null": (
        "the 90% interval excludes no effect",
        lambda d: ((d["lower_90"] > d["null"]) | (d["upper_90"] < d["null"])).to_numpy(),
    ),
    "p_benefit_975": ("the probability of benefit exceeds 0.975", lambda d: (d["p_benefit"] > 0.975).to_numpy()),
    "p_benefit_95": ("the probability of benefit exceeds 0.95", lambda d: (d["p_benefit"] > 0.95).to_numpy()),
}

#: every diagnosand, in the order of diagnosands.csv
DIAGNOSANDS: tuple[str, ...] = (
    "power",
    "power_conditional",
    "bias",
    "rmse",
    "coverage_90",
    "coverage_95",
    "type_s_rate",
    "exaggeration_ratio",
    "mean_width_95",
    "mean_estimate",
    "mean_truth",
    "n_replications",
    "n_used",
    "n_failed",
    "n_nonconverged",
)


def _clustered_se(x: np.ndarray, worlds: np.ndarray) -> float:
    """Standard error of the mean of ``x`` whose values are correlated within worlds (cluster-robust sandwich
    with the small-sample factor G / (G - 1)); NaN with a single world."""
    labels, index = np.unique(worlds, return_inverse=True)
    if labels.size < 2:
        return np.nan
    sums = np.bincount(index, weights=x - x.mean(), minlength=labels.size)
    return float(np.sqrt(labels.size / (labels.size - 1) * (sums**2).sum()) / x.size)


def _clustered(worlds: np.ndarray | None) -> bool:
    """Whether replications share worlds (more than one world, fewer worlds than replications)."""
    return worlds is not None and 1 < np.unique(worlds).size < worlds.size


def _proportion(x: np.ndarray, worlds: np.ndarray | None = None) -> tuple[float, float]:
    n = x.size
    if n == 0:
        return np.nan, np.nan
    p = float(x.mean())
    if _clustered(worlds):
        return p, _clustered_se(x.astype(float), worlds)
    return p, float(np.sqrt(p * (1.0 - p) / n))


def _mean(x: np.ndarray, worlds: np.ndarray | None = None) -> tuple[float, float]:
    n = x.size
    if n == 0:
        return np.nan, np.nan
    if n == 1:
        return float(x[0]), np.nan
    if np.ptp(x) == 0:
        return float(x.mean()), 0.0  # a constant: exactly 0, not 1e-18
    if _clustered(worlds):
        return float(x.mean()), _clustered_se(x, worlds)
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(n))


def _rmse(error: np.ndarray, worlds: np.ndarray | None = None) -> tuple[float, float]:
    n = error.size
    if n == 0:
        return np.nan, np.nan
    sq = error**2
    rmse = float(np.sqrt(sq.mean()))
    mcse_mse = _mean(sq, worlds)[1] if n > 1 else np.nan
    return rmse, (mcse_mse / (2.0 * rmse) if rmse > 0 else np.nan)


def usable(reps: pd.DataFrame, include_nonconverged: bool = False) -> pd.Series:
    """Replications that enter the diagnosands: not failed, with a known truth, and converged (unless
    ``include_nonconverged``)."""
    ok = ~reps["failed"].astype(bool) & reps["truth"].notna() & reps["estimate"].notna()
    return ok if include_nonconverged else ok & reps["converged"].astype(bool)


def diagnose(reps: pd.DataFrame, rule: str, include_nonconverged: bool = False) -> pd.DataFrame:
    """One design point's diagnosands: columns ``diagnosand``, ``value``, ``mcse``, ``n`` (replications the
    value is computed over) and ``note``."""
    if rule not in RULES:
        raise ValueError(f"unknown decision rule {rule!r}; choose one of {', '.join(RULES)}")
    failed = reps["failed"].astype(bool)
    nonconverged = ~failed & ~reps["converged"].astype(bool)
    use = usable(reps, include_nonconverged).to_numpy()
    used = reps[use]
    n = len(used)
    est, truth, null = (used[c].to_numpy(dtype=float) for c in ("estimate", "truth", "null"))
    error = est - truth
    significant = RULES[rule][1](used) if n else np.zeros(0, dtype=bool)
    sig_est, sig_truth, sig_null = est[significant], truth[significant], null[significant]
    known_truth = reps.loc[reps["truth"].notna(), "truth"].to_numpy(dtype=float)
    mean_effect = float(np.mean(truth - null)) if n else np.nan
    wrong_sign = np.sign(sig_est - sig_null) != np.sign(sig_truth - sig_null)
    world = reps["world"].to_numpy() if "world" in reps else None  # records name their world; hand-made tables may not
    w_used = world[use] if world is not None else None
    w_sig = w_used[significant] if w_used is not None else None
    exaggeration = (
        _mean(np.abs(sig_est - sig_null) / abs(mean_effect), w_sig)
        if n and abs(mean_effect) > 1e-12
        else (np.nan, np.nan)
    )
    detected = np.zeros(len(reps), dtype=bool)  # failed or unusable: no decision
    detected[use] = significant
    w_truth = world[reps["truth"].notna().to_numpy()] if world is not None else None
    covered_90 = ((used["lower_90"] <= used["truth"]) & (used["truth"] <= used["upper_90"])).to_numpy()
    covered_95 = ((used["lower_95"] <= used["truth"]) & (used["truth"] <= used["upper_95"])).to_numpy()
    values: dict[str, tuple[float, float, int]] = {
        "power": (*(_proportion(detected, world) if n else (np.nan, np.nan)), len(reps)),
        "power_conditional": (*_proportion(significant, w_used), n),
        "bias": (*_mean(error, w_used), n),
        "rmse": (*_rmse(error, w_used), n),
        "coverage_90": (*_proportion(covered_90, w_used), n),
        "coverage_95": (*_proportion(covered_95, w_used), n),
        "type_s_rate": (*_proportion(wrong_sign, w_sig), int(significant.sum())),
        "exaggeration_ratio": (*exaggeration, int(significant.sum())),
        "mean_width_95": (*_mean((used["upper_95"] - used["lower_95"]).to_numpy(dtype=float), w_used), n),
        "mean_estimate": (*_mean(est, w_used), n),
        "mean_truth": (*_mean(known_truth, w_truth), known_truth.size),
        "n_replications": (float(len(reps)), np.nan, len(reps)),
        "n_used": (float(n), np.nan, len(reps)),
        "n_failed": (float(failed.sum()), np.nan, len(reps)),
        "n_nonconverged": (float(nonconverged.sum()), np.nan, len(reps)),
    }
    note = note_for(reps, n, int(failed.sum()), int(nonconverged.sum()), include_nonconverged)
    rows = []
    for name in DIAGNOSANDS:
        value, mcse, count = values[name]
        rows.append({"diagnosand": name, "value": value, "mcse": mcse, "n": count, "note": ""})
    rows[0]["note"] = note
    if n and not significant.any():
        for r in rows[6:8]:
            r["note"] = "no replication met the decision rule"
    return pd.DataFrame(rows)


def note_for(reps: pd.DataFrame, used: int, failed: int, nonconverged: int, include_nonconverged: bool) -> str:
    """What the power row must say: every fit failed (power unknown, not 0), or how many were left out."""
    total = len(reps)
    if used == 0:
        errors = reps.loc[reps["failed"].astype(bool), "error"].dropna()
        first = f"; first error: {errors.iloc[0]}" if len(errors) else ""
        if failed == total:
            return f"every one of the {total} fits failed: power unknown (not 0){first}"
        return f"no usable fit ({failed} failed, {nonconverged} not converged of {total}): power unknown (not 0){first}"
    parts = []
    if failed:
        parts.append(f"{failed} failed")
    if nonconverged:
        parts.append(f"{nonconverged} not converged" + (" (included)" if include_nonconverged else ""))
    if not parts:
        return ""
    left_out = failed + (0 if include_nonconverged else nonconverged)
    if not left_out:
        return parts[0]
    return (
        f"{', '.join(parts)} of {total}: counted as no decision; the other diagnosands are over the other "
        f"{total - left_out}"
    )


def wide(diagnosands: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Diagnosands as one row per design point with ``<diagnosand>`` and ``<diagnosand>_mcse`` columns."""
    indexed = diagnosands.set_index([*by, "diagnosand"])
    values = indexed["value"].unstack("diagnosand")
    mcse = indexed["mcse"].unstack("diagnosand").add_suffix("_mcse")
    return values.join(mcse).reset_index()


def describe(row: dict[str, Any]) -> str:
    """One diagnosand as text: value with its MCSE."""
    value, mcse = row["value"], row["mcse"]
    if not np.isfinite(value):
        return "n/a"
    if row["diagnosand"].startswith("n_"):
        return f"{value:.0f}"
    return f"{value:.4g}" + (f" ± {mcse:.2g}" if np.isfinite(mcse) else "")
