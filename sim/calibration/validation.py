"""Policy validation: what a policy should reproduce from its source, checked on paired worlds.

``conf/targets/policies/<policy>.csv`` lists the policy's validation rows (a targets file whose rows have the role
``validation``, or ``input`` for figures the policy is built to reproduce). Each replication simulates the world
with the policy and its twin without it (same seed, the months before the policy starts simulated once), and
computes every row's metric in both. A row's kind says what must hold:

- ``level``: the mean over replications of the metric in the policy's world lies in [lower, upper];
- ``ratio``: the mean of the paired ratios (policy ÷ baseline) lies in [lower, upper];
- ``lower`` / ``higher``: the 95% Monte Carlo interval of the paired difference (policy − baseline) lies wholly
  below / above zero (a direction the source reports without a size; too few replications to resolve it is a
  FAIL, not a PASS).

A metric is a calibration metric (:data:`sim.calibration.metrics.METRICS`), an outcome of the comparison
(:data:`sim.summary.BY_NAME`) or one of the policy-specific quantities in :data:`POLICY_METRICS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.metrics import METRICS
from sim.calibration.table import simulated_ids
from sim.calibration.targets import load_targets
from sim.config.load import CONF_DIR
from sim.config.schema import Config
from sim.config.validate import ConfigError
from sim.model import simulate_variants
from sim.parallel import parallel_map
from sim.policies.daycare_social_workers import CONCERNS
from sim.rng import replication_seeds
from sim.scenarios import mc_interval
from sim.summary import BY_NAME
from sim.tables import Tables

POLICY_TARGETS = CONF_DIR / "targets" / "policies"
#: Pilot scale of the daycare social workers (KK-2012 midterm evaluation): inquiries over 8 months.
PILOT_MONTHS = 8


def _risk_tool_auc(t: Tables, horizon: int) -> float:
    """The risk tool's held-out AUC for its target at ``horizon`` months (all reports of the first replication's
    scoring; NaN without the tool)."""
    perf = t.policy_results.get("risk_tool_performance")
    if perf is None or perf.empty:
        return math.nan
    row = perf[(perf["group"] == "all") & (perf["horizon_months"] == horizon)]
    return float(row["auc"].iloc[0]) if len(row) else math.nan


def _daycare_inquiries(t: Tables) -> pd.DataFrame:
    ev = t.observed(t.events)
    return ev[(ev["event"] == "policy") & ev["kind"].str.contains(":inquiry:", regex=False)]


def _inquiries_per_institution_year(t: Tables) -> float:
    """Inquiries to the daycare social workers a year per participating institution."""
    institutions = int(t.policy_results.get("institutions", 0))  # the policy's results: institutions it serves
    return math.nan if institutions == 0 else len(_daycare_inquiries(t)) / len(t.years) / institutions


def _unknown_families(t: Tables) -> float:
    """Share of inquiries about a household with no report to the agency before the inquiry."""
    inquiries = _daycare_inquiries(t)
    if inquiries.empty:
        return math.nan
    first_report = t.events[t.events["event"] == "report"].groupby("household_id")["time"].min()
    known = first_report.reindex(inquiries["household_id"]).to_numpy() < inquiries["time"].to_numpy()
    return float(1 - known.mean())


def _inquiry_share(t: Tables, column: str) -> float:
    inquiries = _daycare_inquiries(t)
    return math.nan if inquiries.empty else float(inquiries[column].mean())


def _concern_share(t: Tables, concern: str) -> float:
    inquiries = _daycare_inquiries(t)
    if inquiries.empty:
        return math.nan
    return float((inquiries["kind"].str.split(":").str[-1] == concern).mean())


#: The concerns the pilot published a share for (every one but "other").
DAYCARE_CONCERNS = tuple(c for c in CONCERNS if c != "other")

#: Quantities only a policy's world has.
POLICY_METRICS: dict[str, Callable[[Tables], float]] = {
    "risk_tool_auc_12m": partial(_risk_tool_auc, horizon=12),
    "risk_tool_auc_3m": partial(_risk_tool_auc, horizon=3),
    "daycare_inquiries_per_institution_year": _inquiries_per_institution_year,
    "daycare_inquiries_taken_on": partial(_inquiry_share, column="flag"),
    "daycare_unknown_families": _unknown_families,
    **{f"daycare_concern_{c}": partial(_concern_share, concern=c) for c in DAYCARE_CONCERNS},
}


def metric(name: str) -> Callable[[Tables], float | np.ndarray]:
    """The function computing a validation row's quantity from a world's tables."""
    if name in POLICY_METRICS:
        return POLICY_METRICS[name]
    if name in BY_NAME:
        return BY_NAME[name].compute
    return METRICS[name]


def known_metrics() -> set[str]:
    return {*METRICS, *BY_NAME, *POLICY_METRICS}


def policy_targets_path(policy: str) -> Path:
    return POLICY_TARGETS / f"{policy}.csv"


def load_policy_targets(policy: str) -> pd.DataFrame:
    """A policy's validation rows; a :class:`ConfigError` if the policy has none."""
    path = policy_targets_path(policy)
    if not path.exists():
        have = ", ".join(sorted(p.stem for p in POLICY_TARGETS.glob("*.csv")))
        raise ConfigError(f"policy {policy!r} has no validation rows ({path} does not exist; policies with: {have})")
    return load_targets(str(path), metrics=known_metrics(), paired=True)


def replicate_pair(cfg: Config, policy: str, seed: int, ids: list[str]) -> dict[str, tuple[float, float]]:
    """Simulate ``policy``'s world and its twin baseline with ``seed``; each metric's (baseline, policy) value."""
    with_policy = replace(cfg, seed=seed, policy={policy: cfg.policy[policy]})
    baseline = replace(cfg, seed=seed, policy={})

    def measure(result) -> dict[str, float]:
        t = Tables.from_result(result)
        return {i: float(np.asarray(metric(i)(t), dtype=float).ravel()[0]) for i in ids}

    base, pol = simulate_variants([baseline, with_policy], reduce=[measure, measure], concurrent=False)
    return {i: (base[i], pol[i]) for i in ids}


def run_pairs(
    cfg: Config, policy: str, ids: list[str], replications: int, workers: int = 0, pool: Executor | None = None
) -> list[dict[str, tuple[float, float]]]:
    """``replications`` paired replications, in parallel over ``workers`` processes (0: all cores)."""
    seeds = replication_seeds(cfg.seed, replications)
    args = ([cfg] * replications, [policy] * replications, seeds, [ids] * replications)
    return list(parallel_map(replicate_pair, *args, workers=workers, pool=pool))


def _interval(values: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, 95% Monte Carlo interval and standard error of the finite values."""
    v = values[np.isfinite(values)]
    se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan
    return (*mc_interval(values), se)


def summarise_pairs(targets: pd.DataFrame, runs: list[dict[str, tuple[float, float]]]) -> pd.DataFrame:
    """One row per validation target: the baseline and policy means, the compared quantity with its Monte Carlo
    interval, and PASS / FAIL (``input`` for input rows, ``n/a`` for rows the world cannot produce)."""
    rows = []
    for _, tg in targets.iterrows():
        row = {k: tg[k] for k in ("id", "quantity", "published", "lower", "upper", "unit", "kind", "year", "source")}
        row["role"] = tg["role"]
        if tg["kind"] == "na":
            nothing = dict.fromkeys(("baseline", "policy", "simulated", "mc_lower", "mc_upper", "se"), math.nan)
            rows.append({**row, **nothing, "status": "n/a"})
            continue
        pairs = np.array([run[tg["id"]] for run in runs], dtype=float)  # replications x (baseline, policy)
        base, pol = pairs[:, 0], pairs[:, 1]
        if tg["kind"] == "level":
            compared = pol
        elif tg["kind"] == "ratio":
            compared = pol / base
        else:
            compared = pol - base
        mean, lo, hi, se = _interval(compared)
        if tg["kind"] in ("level", "ratio"):
            ok = tg["lower"] <= mean <= tg["upper"]
        elif tg["kind"] == "lower":
            ok = hi < 0
        else:
            ok = lo > 0
        status = "input" if tg["role"] == "input" else ("PASS" if ok else "FAIL")
        rows.append(
            {
                **row,
                "baseline": float(np.nanmean(base)) if np.isfinite(base).any() else math.nan,
                "policy": float(np.nanmean(pol)) if np.isfinite(pol).any() else math.nan,
                "simulated": mean,
                "mc_lower": lo,
                "mc_upper": hi,
                "se": se,
                "status": status,
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["replications"] = len(runs)
    return out


def validation_table(
    cfg: Config, policy: str, targets: pd.DataFrame, replications: int, workers: int = 0
) -> pd.DataFrame:
    """Simulate the pairs and summarise: the validation table of ``policy`` in ``cfg.world``."""
    return summarise_pairs(targets, run_pairs(cfg, policy, simulated_ids(targets), replications, workers))


def _fmt(value: float, unit: str) -> str:
    if not np.isfinite(value):
        return "-"
    if unit == "share":
        return f"{100 * value:.1f}%"
    return f"{value:.3g}"


def render_validation(table: pd.DataFrame) -> str:
    """The validation table as aligned text: what is compared, the band or direction, the value, the status."""
    header = ("id", "kind", "published", "band", "baseline", "policy", "compared (MC 95%)", "status")
    body = []
    for _, r in table.iterrows():
        unit = "ratio" if r["kind"] == "ratio" else r["unit"]
        if r["kind"] in ("level", "ratio"):
            band = f"{_fmt(r['lower'], unit)} - {_fmt(r['upper'], unit)}"
        else:
            band = {"lower": "< 0", "higher": "> 0"}.get(r["kind"], "-")
        compared = _fmt(r["simulated"], unit)
        if np.isfinite(r.get("mc_lower", math.nan)):
            compared += f" ({_fmt(r['mc_lower'], unit)} to {_fmt(r['mc_upper'], unit)})"
        body.append(
            (
                r["id"],
                r["kind"],
                str(r["published"])[:30],
                band,
                _fmt(r["baseline"], r["unit"]),
                _fmt(r["policy"], r["unit"]),
                compared,
                r["status"],
            )
        )
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in [header, *body]]
    counts = table["status"].value_counts()
    lines.append(
        f"{counts.get('PASS', 0)} PASS, {counts.get('FAIL', 0)} FAIL, {counts.get('input', 0)} input, "
        f"{counts.get('n/a', 0)} n/a ({table.attrs.get('replications', '?')} paired replications)"
    )
    return "\n".join(lines)
