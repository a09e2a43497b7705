"""Recalibration by simulated method of moments: move free parameters until the world matches a targets file.

The objective is the sum over the chosen level targets of ((simulated - band centre) / half band)^2, each
simulated value the mean over a few worlds with fixed seeds. Fixed seeds (common random numbers) make the
objective a deterministic function of the parameters, so a derivative-free optimiser (bounded Nelder-Mead on
parameters scaled to [0, 1]) can follow it. The fitted world is then checked on fresh seeds, so a fit that
only matched the noise of its own seeds does not pass.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from sim.calibration.table import run_replications
from sim.config.paths import get_value, with_values
from sim.config.schema import Config, FreeParameterConfig
from sim.parallel import process_pool

_SCIPY_METHOD = {"nelder-mead": "Nelder-Mead", "powell": "Powell"}


@dataclass
class FitResult:
    """The fitted values, the objective at them, and every evaluation made."""

    values: dict[str, float]
    loss: float
    start_loss: float
    trace: pd.DataFrame
    config: Config


def targets_used(targets: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    levels = targets[targets["kind"] == "level"]
    if ids:
        unknown = sorted(set(ids) - set(levels["id"]))
        if unknown:
            raise ValueError(f"fit.target_ids not among the level targets: {', '.join(unknown)}")
        levels = levels[levels["id"].isin(ids)]
    return levels.reset_index(drop=True)


def loss_of(values: dict[str, float], targets: pd.DataFrame) -> float:
    """Sum of squared distances from band centres, in half bands; a missing value counts as far off."""
    total = 0.0
    for _, t in targets.iterrows():
        centre, half = (t["lower"] + t["upper"]) / 2, max((t["upper"] - t["lower"]) / 2, 1e-12)
        v = values.get(t["id"], math.nan)
        total += ((v - centre) / half) ** 2 if np.isfinite(v) else 100.0
    return total


def fit(
    cfg: Config,
    targets: pd.DataFrame,
    free: list[FreeParameterConfig],
    replications: int = 2,
    max_evaluations: int = 80,
    workers: int = 0,
    ids: list[str] | None = None,
    initial_points: int = 0,
    method: str = "nelder-mead",
    log=print,
) -> FitResult:
    """Fit ``free`` parameters of ``cfg`` to the level targets ``ids`` (all if empty) of ``targets``.

    With ``initial_points``, a Latin hypercube of that many points over the bounds (a fixed design) is
    evaluated first and the local search starts from the best point seen, so a start far from the answer or a
    rugged objective does not trap the fit in the nearest dip."""
    if not free:
        raise ValueError("a fit needs at least one free parameter (fit.parameters)")
    used = targets_used(targets, ids or [])
    metric_ids = list(used["id"])
    keys = [p.key for p in free]
    lo = np.array([p.lower for p in free], dtype=float)
    hi = np.array([p.upper for p in free], dtype=float)
    start = np.clip([float(get_value(cfg, p.key) if p.start is None else p.start) for p in free], lo, hi)
    trace: list[dict] = []
    workers = min(workers or os.cpu_count() or 1, replications)

    with process_pool(workers) as pool:

        def objective(z: np.ndarray) -> float:
            x = lo + np.clip(z, 0.0, 1.0) * (hi - lo)
            values = dict(zip(keys, x.tolist(), strict=True))
            runs = run_replications(with_values(cfg, values), metric_ids, replications, pool=pool)
            sim = {i: float(np.nanmean([r[i][0] for r in runs])) for i in metric_ids}
            loss = loss_of(sim, used)
            trace.append(
                {"evaluation": len(trace) + 1, **values, "loss": loss, **{f"sim:{k}": v for k, v in sim.items()}}
            )
            log(
                f"  evaluation {len(trace):3d}: loss {loss:9.3f}  "
                + "  ".join(f"{k}={v:.4g}" for k, v in values.items())
            )
            return loss

        z0 = (start - lo) / np.where(hi > lo, hi - lo, 1.0)
        start_loss = objective(z0)
        if initial_points:
            design = stats.qmc.LatinHypercube(d=len(keys), seed=12345).random(initial_points)
            losses = [objective(z) for z in design]
            if min(losses) < start_loss:
                z0 = design[int(np.argmin(losses))]
        budget = max(max_evaluations - 1 - initial_points, 1)
        bounds = [(0.0, 1.0)] * len(keys)
        if method == "powell":
            options = {"maxfev": budget, "xtol": 1e-3, "ftol": 1e-3}
        else:
            options = {"maxfev": budget, "xatol": 1e-3, "fatol": 1e-3, "initial_simplex": _simplex(z0)}
        # Every evaluation is in the trace; the best one recorded is the answer.
        optimize.minimize(objective, z0, method=_SCIPY_METHOD[method], bounds=bounds, options=options)
    table = pd.DataFrame(trace)
    i = int(table["loss"].idxmin())
    values = {k: float(table.loc[i, k]) for k in keys}
    return FitResult(
        values=values,
        loss=float(table.loc[i, "loss"]),
        start_loss=start_loss,
        trace=table,
        config=with_values(cfg, values),
    )


def _simplex(z0: np.ndarray, step: float = 0.15) -> np.ndarray:
    """A starting simplex around z0 that stays inside [0, 1]."""
    points = [z0]
    for j in range(z0.size):
        p = z0.copy()
        p[j] = p[j] + step if p[j] + step <= 1.0 else p[j] - step
        points.append(p)
    return np.array(points)
