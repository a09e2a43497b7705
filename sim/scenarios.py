"""Scenarios side by side: baseline and policies simulated with the same seeds, summarised, costed, and compared
with the exact truth.

A scenario is ``baseline``, a policy name, or policy names joined by ``+``. Within a replication every scenario
uses the same seed, so differences from baseline are paired: they differ only where the policies act.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.config.schema import Config
from sim.costs import yearly_costs, yearly_quantities
from sim.model import Paused, SimulationResult, simulate_variants
from sim.parallel import process_pool
from sim.policies import POLICIES
from sim.rng import replication_seeds
from sim.summary import BY_NAME, summarise_world
from sim.tables import Tables
from sim.truth import child_outcomes, paired_effects, reported_children

BASELINE = "baseline"


def scenario_policies(cfg: Config, scenario: str) -> dict:
    """The typed policy configs of a scenario: the run's own settings for a policy it selected, else the
    policy's defaults."""

    names = [] if scenario == BASELINE else scenario.split("+")
    return {n: cfg.policy[n] if n in cfg.policy else POLICIES[n].Config() for n in names}


def scenario_config(cfg: Config, scenario: str, seed: int) -> Config:
    out = replace(cfg, seed=seed, policy=scenario_policies(cfg, scenario))
    out.output = replace(cfg.output, panel=False, population=False)
    return out


def _summarise(cfg: Config, scenario: str) -> Callable[[SimulationResult], dict]:
    """What a replication keeps of one scenario's world (in the process that simulated it): its summary with
    costs, every child's outcomes (for the exact effects), baseline's reported children, the policies' tables."""

    def with_costs(tables: Tables, result: SimulationResult) -> dict[str, float]:
        costs = yearly_costs(tables, cfg.costs, result.policy_costs)
        return {**summarise_world(tables), **{f"cost_{k}": v for k, v in costs.items()}}

    def summarise(result: SimulationResult) -> dict:
        tables = Tables.from_result(result)
        first = cfg.compare.first_years
        return {
            "summary": with_costs(tables, result),
            "first_years": with_costs(tables.first_years(first), result) if 0 < first < cfg.world.years else None,
            "outcomes": child_outcomes(tables),
            "reported": reported_children(tables) if scenario == BASELINE else None,
            "results": {k: v for k, v in result.policy_results.items() if isinstance(v, pd.DataFrame)},
        }

    return summarise


def run_replication(
    cfg: Config, scenarios: list[str], seed: int, write_to: Path | None = None, concurrent: bool = True
) -> dict:
    """Every scenario with one seed: world summaries and costs, exact child-level effects against baseline,
    and the policies' own result tables. The scenarios share their months before the first policy starts
    (:func:`sim.model.simulate_variants`); ``concurrent`` runs their forked copies side by side (off inside a
    process pool, whose workers already fill the cores)."""
    order = [BASELINE, *[s for s in scenarios if s != BASELINE]]
    out_dirs = [None if write_to is None else Path(write_to) / s for s in order]
    kept = simulate_variants(
        [scenario_config(cfg, s, seed) for s in order],
        out_dirs,
        reduce=[_summarise(cfg, s) for s in order],
        concurrent=concurrent,
    )
    base = kept[0]
    effects = [
        paired_effects(k["outcomes"], base["outcomes"], base["reported"]).assign(scenario=s)
        for s, k in zip(order[1:], kept[1:], strict=True)
    ]
    return {
        "seed": seed,
        "summaries": {s: k["summary"] for s, k in zip(order, kept, strict=True)},
        "first_years": {s: k["first_years"] for s, k in zip(order, kept, strict=True) if k["first_years"] is not None},
        "effects": pd.concat(effects, ignore_index=True) if effects else pd.DataFrame(),
        "results": {f"{s}/{name}": t for s, k in zip(order, kept, strict=True) for name, t in k["results"].items()},
    }


def decision_summary(result: SimulationResult) -> dict:
    """What a probabilistic sensitivity analysis keeps of one world: its summary (no costs), what it uses a year
    per cost item (:func:`sim.costs.yearly_quantities`, priced later with each draw's unit costs) and its
    policies' own running costs."""
    tables = Tables.from_result(result)
    return {
        "summary": summarise_world(tables),
        "quantities": yearly_quantities(tables),
        "policy_costs": dict(result.policy_costs),
    }


def scenario_summaries(
    cfg: Config, scenarios: list[str], seed: int, paused: Paused | None = None, skip: tuple[str, ...] = ()
) -> dict[str, dict]:
    """:func:`decision_summary` of every scenario but ``skip`` for one seed: forked one after the other from
    their shared months, or from ``paused`` (a world paused at the end of its burn-in with this seed)."""
    order = [s for s in [BASELINE, *[s for s in scenarios if s != BASELINE]] if s not in skip]
    cfgs = [scenario_config(cfg, s, seed) for s in order]
    if paused is not None:
        return {s: paused.go_on(c, decision_summary) for s, c in zip(order, cfgs, strict=True)}
    kept = simulate_variants(cfgs, reduce=[decision_summary] * len(cfgs), concurrent=False)
    return dict(zip(order, kept, strict=True))


def run_scenarios(cfg: Config, out_dir: Path | None = None, progress: bool = True) -> list[dict]:
    """All replications, in parallel; the first one writes its scenarios' event logs to ``out_dir``."""
    c = cfg.compare
    seeds = replication_seeds(cfg.seed, c.replications)
    write = [
        Path(out_dir) / "scenarios" if (out_dir is not None and c.event_logs and r == 0) else None
        for r in range(len(seeds))
    ]
    workers = min(c.workers or os.cpu_count() or 1, len(seeds))
    args = ([cfg] * len(seeds), [c.scenarios] * len(seeds), seeds, write)
    if workers <= 1:
        runs = map(run_replication, *args)
        return list(_progress(runs, len(seeds), progress))
    with process_pool(workers) as pool:
        runs = pool.map(run_replication, *args, [False] * len(seeds))
        return list(_progress(runs, len(seeds), progress))


def _progress(it, total: int, on: bool):
    if not on:
        return it
    from tqdm import tqdm

    return tqdm(it, total=total, desc="replications", unit="replication")


def mc_interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean of the finite values over replications and its 95% Monte Carlo interval (Student t with n - 1 degrees
    of freedom; no interval from one value)."""
    values = values[np.isfinite(values)]
    n = values.size
    if n == 0:
        return np.nan, np.nan, np.nan
    mean = float(values.mean())
    if n == 1:
        return mean, np.nan, np.nan
    half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def long_outcomes(runs: list[dict], window: str = "summaries") -> pd.DataFrame:
    """One row per replication, scenario and outcome, over the whole observation period (``window`` =
    ``"summaries"``) or its first ``compare.first_years`` years (``"first_years"``)."""
    rows = [
        {"replication": r, "seed": run["seed"], "scenario": s, "outcome": k, "value": v}
        for r, run in enumerate(runs)
        for s, summary in run.get(window, {}).items()
        for k, v in summary.items()
    ]
    return pd.DataFrame(rows)


def comparison_table(runs: list[dict], scenarios: list[str], window: str = "summaries") -> pd.DataFrame:
    """Per scenario and outcome: mean with its Monte Carlo 95% interval over replications, and the paired
    difference from baseline with its interval (over the window of :func:`long_outcomes`)."""

    long = long_outcomes(runs, window)
    wide = long.pivot_table(index=["replication", "outcome"], columns="scenario", values="value", dropna=False)
    rows = []
    order = [BASELINE, *[s for s in scenarios if s != BASELINE]]
    for outcome in long["outcome"].unique():
        block = wide.xs(outcome, level="outcome")
        meta = BY_NAME.get(outcome)
        for s in order:
            mean, lo, hi = mc_interval(block[s].to_numpy(dtype=float))
            diff, dlo, dhi = (
                (0.0, 0.0, 0.0) if s == BASELINE else mc_interval((block[s] - block[BASELINE]).to_numpy(dtype=float))
            )
            rows.append(
                {
                    "scenario": s,
                    "outcome": outcome,
                    "label": meta.label if meta else outcome.replace("_", " "),
                    "unit": meta.unit if meta else "dkk",
                    "better": meta.better if meta else "lower",
                    "group": meta.group if meta else "costs",
                    "mean": mean,
                    "mc_lower": lo,
                    "mc_upper": hi,
                    "difference": diff,
                    "difference_lower": dlo,
                    "difference_upper": dhi,
                    "replications": len(runs),
                }
            )
    return pd.DataFrame(rows)


def truth_table(runs: list[dict]) -> pd.DataFrame:
    """Exact child-level effects per scenario, group and outcome: mean over replications and its interval."""
    effects = pd.concat([run["effects"].assign(replication=r) for r, run in enumerate(runs)], ignore_index=True)
    if effects.empty:
        return pd.DataFrame()
    rows = []
    for (s, g, o), part in effects.groupby(["scenario", "group", "outcome"], sort=False):
        mean, lo, hi = mc_interval(part["effect"].to_numpy(dtype=float))
        rows.append(
            {
                "scenario": s,
                "group": g,
                "outcome": o,
                "children": float(part["children"].mean()),
                "baseline": float(part["baseline"].mean()),
                "policy": float(part["policy"].mean()),
                "effect": mean,
                "mc_lower": lo,
                "mc_upper": hi,
                "replications": len(part),
            }
        )
    return pd.DataFrame(rows)
