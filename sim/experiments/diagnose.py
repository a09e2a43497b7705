"""``experiment=diagnose``: a trial design's diagnosands over replications, as DeclareDesign's
``diagnose_design``: power under a decision rule, bias, RMSE, coverage, type-S rate, exaggeration ratio, mean
interval width and the mean true effect, each with its Monte Carlo standard error, and the failed and
non-converged fits counted (never read as "no effect").

The design's worlds are simulated once (``diagnose.worlds`` of them, cached in the store by their config and
seed) and every replication draws a new trial from them (for the household RCT: a new enrolment window and
household assignment from the twins' potential outcomes, with its own exact truth), fits it (NUTS, or
``diagnose.fast``) and is stored as it finishes (:mod:`sim.diagnosis.store`): a killed run, rerun with the same
command, computes only what is missing. ``diagnose.solve_for_n`` bisects over ``diagnose.size_key`` for the
smallest size with power >= ``diagnose.power_target``.

Writes ``replications.parquet`` (one row per replication of every design point), ``diagnosands.csv`` (one row per
design point and diagnosand: value, MCSE), with ``solve_for_n`` ``solve_for_n.csv``, and the report
``report.html`` (``report.language``) with ``report_diagnosands.csv`` beside it. A Hydra sweep gives one run per
design point; ``python -m sim.experiments.diagnose_summary SWEEP_DIR`` gathers them into a power curve and a
summary report.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.paths import get_value, with_values
from sim.config.schema import Config
from sim.config.validate import ConfigError
from sim.diagnosis.diagnosands import RULES, describe, diagnose
from sim.diagnosis.plan import RECORD_FIELDS, Plan
from sim.diagnosis.power import bisect_size, crossing
from sim.diagnosis.runner import run_point, worker_pool
from sim.diagnosis.store import merge
from sim.experiments.trials import design, estimator_for, outcomes_for
from sim.model import arrow_table
from sim.report import write_report
from sim.runfolder import atomic_write_text, write_table

BOOLEAN = ("converged", "failed")
TEXT = ("point", "trial", "estimator", "method", "outcome", "estimand", "better", "error", "warnings")


def check(cfg: Config, trial: Any, estimator: Any, outcome: str) -> None:
    """Settings that depend on each other, before anything is simulated."""
    d = cfg.diagnose
    if not trial.draws_depend_on_seed and d.worlds < d.replications:
        raise ConfigError(
            f"diagnose.worlds = {d.worlds} is fewer than diagnose.replications = {d.replications}, but "
            f"{trial.name}'s data do not depend on the replication's seed: replications sharing a world would be "
            f"copies of one data set and their Monte Carlo errors would count copies as independent; set "
            f"diagnose.worlds={d.replications} (a pair of worlds per replication)"
        )
    if d.rule.startswith("p_benefit") and estimator.outcomes[outcome] == "none":
        raise ConfigError(
            f"diagnose.rule = {d.rule!r} is not allowed for {outcome}: it has no better direction; use "
            "interval95_excludes_null"
        )
    if d.solve_for_n:
        if d.n_min >= d.n_max:
            raise ConfigError(f"diagnose.n_min ({d.n_min}) must be below diagnose.n_max ({d.n_max})")
        value = get_value(cfg, d.size_key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"diagnose.size_key = {d.size_key!r} is not allowed: must name a whole-number key")


def plan_for(cfg: Config) -> tuple[Plan, Any, Any]:
    """The design point of ``cfg``: its plan, trial and estimator."""
    d = cfg.diagnose
    trial = design(cfg)
    estimator = estimator_for(cfg, trial)
    outcome = outcomes_for(cfg, trial, estimator)[0]
    check(cfg, trial, estimator, outcome)
    plan = Plan.make(
        cfg,
        trial,
        estimator,
        outcome=outcome,
        estimand=d.estimand,
        fast=d.fast,
        fast_method=d.fast_method,
        fast_draws=d.fast_draws,
        frequentist=d.frequentist,
        store=str(Path(d.store).resolve()),
        worlds=d.worlds,
        backend=d.backend,
        ray_address=d.ray_address,
    )
    return plan, trial, estimator


def design_columns(cfg: Config, plan: Plan) -> dict[str, Any]:
    """The columns that say which design point a row belongs to."""
    trial = dataclasses.asdict(cfg.trial)
    return {
        "point": plan.point,
        "trial": trial["name"],
        "estimator": plan.description["estimator"],
        "mode": plan.description["mode"],
        "outcome": plan.outcome,
        "world_name": cfg.world.name,
        "run_seed": cfg.seed,
        "worlds": plan.worlds,
        **{f"trial.{k}": (v if np.isscalar(v) else str(v)) for k, v in trial.items() if k != "name"},
    }


def records_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Stored records as the replications table, in the documented columns and types."""
    df = pd.DataFrame.from_records(records).reindex(columns=list(RECORD_FIELDS))
    for c in RECORD_FIELDS:
        if c in BOOLEAN:
            df[c] = df[c].fillna(False).astype(bool)
        elif c in TEXT:
            df[c] = df[c].fillna("").astype(str)
        elif c in ("seed", "run_seed", "world", "world_seed"):
            df[c] = df[c].astype("int64")
        else:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


def workers_for(cfg: Config) -> int:
    """``diagnose.workers``, or by default one process for NUTS (its chains use the cores) and every core fast."""
    return cfg.diagnose.workers or ((os.cpu_count() or 1) if cfg.diagnose.fast else 1)


def diagnose_point(cfg: Config, say: Any = print, pool: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run (or read) every replication of ``cfg``'s design point; its replications and diagnosands tables."""
    d = cfg.diagnose
    plan, _, estimator = plan_for(cfg)
    if d.fast and plan.mode(estimator) == "fast:frequentist":
        own = "" if d.fast_method == "frequentist" else f"{estimator.name} has no fast fit of its own; "
        say(
            f"fast mode: {own}using its statsmodels counterpart (normal approximation to its estimate and "
            "interval), whose estimand may differ from the model's (e.g. GEE's population-averaged effect)"
        )
    records = run_point(plan, d.replications, workers_for(cfg), d.progress, say, pool)
    reps = records_frame(records)
    columns = design_columns(cfg, plan)
    table = diagnose(reps, d.rule, d.include_nonconverged)
    estimand = reps.loc[~reps["failed"], "estimand"]
    null = reps.loc[~reps["failed"], "null"]
    point = {
        **columns,
        "estimand": estimand.iloc[0] if len(estimand) else (d.estimand or ""),
        "null": float(null.iloc[0]) if len(null) else np.nan,
        "rule": d.rule,
        "replications": d.replications,
    }
    diagnosands = pd.concat([pd.DataFrame([point] * len(table)), table], axis=1)
    return reps.assign(**{k: v for k, v in columns.items() if k.startswith("trial.")}), diagnosands


def print_point(diagnosands: pd.DataFrame, say: Any = print) -> None:
    """One design point's diagnosands as the terminal shows them: value ± MCSE and the notes."""
    first = diagnosands.iloc[0]
    size = [f"{k.removeprefix('trial.')}={first[k]}" for k in diagnosands.columns if k.startswith("trial.")]
    say(f"\n{first['trial']} ({', '.join(size)}), {first['estimator']} [{first['mode']}], {first['outcome']} "
        f"{first['estimand']}, rule {first['rule']} ({RULES[first['rule']][0]}):")  # fmt: skip
    for _, r in diagnosands.iterrows():
        say(f"  {r['diagnosand']:<20} {describe(r.to_dict()):<22} {r['note']}")


def solve(cfg: Config, say: Any = print) -> tuple[list[pd.DataFrame], list[pd.DataFrame], pd.DataFrame]:
    """Bisection over ``diagnose.size_key``: the smallest size with power >= ``diagnose.power_target``."""
    d = cfg.diagnose
    reps, diags, rows = [], [], []

    def power_at(n: int) -> float:
        point = with_values(cfg, {d.size_key: n})
        say(f"\n{d.size_key} = {n}:")
        r, table = diagnose_point(point, say=say, pool=pool)
        reps.append(r)
        diags.append(table)
        row = table.set_index("diagnosand").loc["power"]
        rows.append({"size": n, "power": row["value"], "power_mcse": row["mcse"], "note": row["note"]})
        say(f"  power {describe({'diagnosand': 'power', 'value': row['value'], 'mcse': row['mcse']})}")
        return float(row["value"]) if np.isfinite(row["value"]) else -1.0

    with worker_pool(workers_for(cfg)) as pool:
        answer, _, note = bisect_size(power_at, d.n_min, d.n_max, d.power_target, d.n_tolerance)
    table = pd.DataFrame(rows).sort_values("size").drop_duplicates("size").reset_index(drop=True)
    interpolated, why = crossing(table["size"], table["power"], d.power_target, sqrt_scale=True)
    table["size_key"] = d.size_key
    table["power_target"] = d.power_target
    table["smallest_size_reaching_target"] = np.nan if answer is None else answer
    table["interpolated_size"] = interpolated
    table["answer_note"] = note or why
    if answer is None:
        say(f"\nsolve for N: {note}")
    else:
        say(
            f"\nsolve for N: the smallest {d.size_key} tried with power >= {d.power_target:g} is {answer}"
            + (f" (interpolated: {interpolated:.0f})" if np.isfinite(interpolated) else "")
            + (f"; {note}" if note else "")
        )
    return reps, diags, table


def run(cfg: Config, out_dir: Path) -> list[Path]:
    d = cfg.diagnose
    out_dir = Path(out_dir)
    if d.merge_from:
        counts = merge(d.store, list(d.merge_from))
        print(f"Merged {', '.join(d.merge_from)} into {d.store}: {counts['copied']} copied, "
              f"{counts['present']} already there, {counts['invalid']} invalid (skipped)")  # fmt: skip
    mode = "fast" if d.fast else f"NUTS ({cfg.estimator.chains} x {cfg.estimator.draws} draws)"
    print(f"Diagnosing the {design(cfg).name} design on world '{cfg.world.name}' (seed {cfg.seed}): "
          f"{d.replications} replications per design point, {mode}; store {d.store}")  # fmt: skip
    files: list[Path] = []
    if d.solve_for_n:
        reps, diags, table = solve(cfg)
        files.append(atomic_write_text(out_dir / "solve_for_n.csv", table.to_csv(index=False, float_format="%.6g")))
    else:
        r, table = diagnose_point(cfg)
        reps, diags = [r], [table]
        print_point(table)
    replications = pd.concat(reps, ignore_index=True).drop_duplicates(["point", "seed"])
    diagnosands = pd.concat(diags, ignore_index=True).drop_duplicates(["point", "diagnosand"])
    files.append(write_table(out_dir / "replications.parquet", arrow_table(replications)))
    files.append(atomic_write_text(out_dir / "diagnosands.csv", diagnosands.to_csv(index=False, float_format="%.6g")))

    files += write_report(out_dir, cfg.report.language)
    print(f"Results in {out_dir}; the report: {out_dir / 'report.html'}")
    return files
