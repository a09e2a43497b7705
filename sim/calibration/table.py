"""The calibration table: every target of a targets file, published against simulated, over replications.

Each replication is an independent world (its own seed, derived from the run's seed); a target's simulated
value is the mean over replications of the metric, and its Monte Carlo interval is mean ± t(0.975, R-1)
standard errors across replications. A level target passes when the mean lies in the published band. A row
whose role is ``input`` (a figure the world is built to reproduce) gets the status ``input``, not PASS or FAIL.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import stats

from sim.calibration.metrics import DIRECTIONS, METRICS
from sim.config.schema import Config
from sim.model import simulate
from sim.parallel import parallel_map
from sim.rng import replication_seeds
from sim.tables import Tables


def replicate(cfg: Config, seed: int, ids: list[str]) -> dict[str, np.ndarray]:
    """Simulate one world with ``seed`` and compute the metrics ``ids``."""
    tables = Tables.from_result(simulate(replace(cfg, seed=seed), keep=True))
    return {i: np.atleast_1d(np.asarray(METRICS[i](tables), dtype=float)) for i in ids}


def run_replications(
    cfg: Config,
    ids: list[str],
    replications: int,
    workers: int = 0,
    progress: bool = False,
    pool: Executor | None = None,
) -> list[dict[str, np.ndarray]]:
    """Metrics of ``replications`` independent worlds, in parallel over ``workers`` processes (0: all cores)
    or on an existing ``pool``."""
    seeds = replication_seeds(cfg.seed, replications)
    runs = parallel_map(replicate, [cfg] * replications, seeds, [ids] * replications, workers=workers, pool=pool)
    return list(_progress(runs, replications, progress))


def _progress(it, total: int, on: bool):
    if not on:
        return it
    from tqdm import tqdm

    return tqdm(it, total=total, desc="replications", unit="world")


def summarise(targets: pd.DataFrame, runs: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """One row per target: published band, simulated mean, Monte Carlo interval, status."""
    r = len(runs)
    t_crit = float(stats.t.ppf(0.975, r - 1)) if r > 1 else math.nan
    rows = []
    for _, tg in targets.iterrows():
        row = {k: tg[k] for k in ("id", "quantity", "published", "lower", "upper", "unit", "kind", "year", "source")}
        row["role"] = tg.get("role", "check")
        if tg["kind"] == "na":
            rows.append(
                {
                    **row,
                    "simulated": math.nan,
                    "mc_lower": math.nan,
                    "mc_upper": math.nan,
                    "se": math.nan,
                    "detail": "needs youth followed past 17",
                    "status": "n/a",
                }
            )
            continue
        values = np.vstack([run[tg["id"]] for run in runs])  # replications x components
        mean, se = _mean_and_se(values)
        if tg["kind"] == "direction":
            status = "PASS" if DIRECTIONS[tg["id"]](mean) else "FAIL"
            detail = " ".join(f"{m:.4g}" for m in mean)
            rows.append(
                {
                    **row,
                    "simulated": math.nan,
                    "mc_lower": math.nan,
                    "mc_upper": math.nan,
                    "se": math.nan,
                    "detail": detail,
                    "status": status,
                }
            )
            continue
        m, s = float(mean[0]), float(se[0])
        status = "PASS" if tg["lower"] <= m <= tg["upper"] else "FAIL"
        rows.append(
            {
                **row,
                "simulated": m,
                "mc_lower": m - t_crit * s,
                "mc_upper": m + t_crit * s,
                "se": s,
                "detail": "",
                "status": status,
            }
        )
    out = pd.DataFrame(rows)
    out.loc[(out["role"] == "input") & (out["status"] != "n/a"), "status"] = "input"
    out.attrs["replications"] = r
    return out


def _mean_and_se(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means over replications, and their standard errors where at least two replications have a value
    (a metric can be undefined in a small world, e.g. no breakdown in a year)."""
    finite = np.isfinite(values)
    n = finite.sum(axis=0)
    filled = np.where(finite, values, 0.0)
    mean = np.where(n > 0, filled.sum(axis=0) / np.maximum(n, 1), math.nan)
    dev = np.where(finite, values - mean, 0.0)
    var = np.where(n > 1, (dev**2).sum(axis=0) / np.maximum(n - 1, 1), math.nan)
    return mean, np.sqrt(var / np.maximum(n, 1))


def simulated_ids(targets: pd.DataFrame) -> list[str]:
    """The ids of the targets a world computes (every kind but ``na``)."""
    return [i for i, k in zip(targets["id"], targets["kind"], strict=True) if k != "na"]


def calibration_table(
    cfg: Config, targets: pd.DataFrame, replications: int, workers: int = 0, progress: bool = False
) -> pd.DataFrame:
    """Simulate and summarise: the side-by-side table for ``cfg.world``."""
    return summarise(targets, run_replications(cfg, simulated_ids(targets), replications, workers, progress))


def _fmt(value: float, unit: str) -> str:
    if not np.isfinite(value):
        return "-"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit in ("per_1000", "cases"):
        return f"{value:.1f}"
    return f"{value:.2f}"


def render(table: pd.DataFrame) -> str:
    """The table as aligned text for the terminal."""
    lines = []
    header = ("id", "published", "band", "simulated", "MC 95% interval", "status")
    body = []
    for _, row in table.iterrows():
        unit = row["unit"]
        band = "-" if row["kind"] != "level" else f"{_fmt(row['lower'], unit)} - {_fmt(row['upper'], unit)}"
        if row["kind"] == "direction":
            sim, mc = row["detail"], ""
        else:
            sim = _fmt(row["simulated"], unit)
            mc = (
                ""
                if not np.isfinite(row["mc_lower"])
                else f"{_fmt(row['mc_lower'], unit)} - {_fmt(row['mc_upper'], unit)}"
            )
        published = str(row["published"])
        body.append((row["id"], published[:34], band, sim, mc, row["status"]))
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(len(header))]
    for line in [header, *body]:
        lines.append("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    counts = table["status"].value_counts()
    inputs = f", {counts.get('input', 0)} input" if "input" in counts else ""
    lines.append(
        f"{counts.get('PASS', 0)} PASS, {counts.get('FAIL', 0)} FAIL{inputs}, {counts.get('n/a', 0)} n/a "
        f"({table.attrs.get('replications', '?')} replications)"
    )
    return "\n".join(lines)
