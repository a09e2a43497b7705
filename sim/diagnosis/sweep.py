"""A diagnosis sweep's design points side by side: every run's diagnosands gathered, which settings vary, and
where power crosses a target (the minimum detectable effect per size, the size for a target power per effect),
interpolated as :mod:`sim.diagnosis.power` says. The sweep's files and report are written by
:mod:`sim.experiments.diagnose_summary`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.diagnosis.power import crossing

#: The columns that describe a design point besides its trial settings.
DESIGN = ("trial", "estimator", "mode", "outcome", "estimand", "rule", "world_name", "run_seed", "worlds")


def gather(sweep: Path) -> pd.DataFrame:
    """Every run's ``diagnosands.csv`` below ``sweep`` (not the sweep's own), one table."""
    sweep = Path(sweep)
    files = sorted(p for p in sweep.rglob("diagnosands.csv") if p.parent != sweep)
    if not files:
        raise FileNotFoundError(f"no diagnosands.csv below {sweep}: is it a diagnosis sweep folder?")
    frames = [pd.read_csv(f).assign(run=str(f.parent.relative_to(sweep))) for f in files]
    return pd.concat(frames, ignore_index=True).drop_duplicates(["point", "rule", "diagnosand"])


def varying(points: pd.DataFrame) -> list[str]:
    """Design columns whose value differs between points."""
    candidates = [c for c in points.columns if c.startswith("trial.") or c in DESIGN]
    return [c for c in candidates if points[c].astype(str).nunique() > 1]


def choose(points: pd.DataFrame, size: str | None, effect: str | None) -> tuple[str, str | None, list[str]]:
    """The size column, the effect column (if any) and the other columns that tell lines apart."""
    vary = varying(points)
    trial_vary = [c for c in vary if c.startswith("trial.")]
    size = size or ("trial.n_reports" if "trial.n_reports" in points else (trial_vary[0] if trial_vary else None))
    if size is None or size not in points:
        raise ValueError(f"no size column to plot against (have {', '.join(trial_vary) or 'no varying setting'})")
    if effect is None:
        rest = [c for c in trial_vary if c != size]
        effect = "trial.assumed_risk_ratio" if "trial.assumed_risk_ratio" in rest else (rest[0] if rest else None)
    others = [c for c in vary if c not in (size, effect)]
    return size, effect, others


def mde_table(points: pd.DataFrame, size: str, effect: str | None, others: list[str], target: float) -> pd.DataFrame:
    """Per size (and other setting): the effect at which power reaches ``target``, interpolated over effects."""
    rows = []
    for key, group in points.groupby([size, *others], dropna=False):
        g = group.assign(abs_effect=(group["mean_truth"] - group["null"]).abs()).sort_values("abs_effect")
        value, note = crossing(g["abs_effect"], g["power"], target)
        row = dict(zip([size, *others], key if isinstance(key, tuple) else (key,), strict=True))
        row.update(power_target=target, effects_tried=len(g), mde=value, note=note)
        if effect is not None:
            setting = np.interp(value, g["abs_effect"], g[effect]) if np.isfinite(value) else np.nan
            row[f"mde_{effect.removeprefix('trial.')}"] = setting
        rows.append(row)
    return pd.DataFrame(rows)


def size_table(points: pd.DataFrame, size: str, lines: list[str], target: float) -> pd.DataFrame:
    """Per line (effect size and other settings): the size at which power reaches ``target``."""
    rows = []
    groups = points.groupby(lines, dropna=False) if lines else [((), points)]
    for key, group in groups:
        g = group.sort_values(size)
        value, note = crossing(g[size], g["power"], target, sqrt_scale=True)
        row = dict(zip(lines, key if isinstance(key, tuple) else (key,), strict=True))
        row.update(power_target=target, sizes_tried=len(g), size=value, note=note)
        rows.append(row)
    return pd.DataFrame(rows)
