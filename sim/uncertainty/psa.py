"""Probabilistic sensitivity analysis: every parameter draw's baseline and policies in twin worlds, each draw stored
the moment it is done.

A draw sets the uncertain parameters (:mod:`sim.uncertainty.parameters`) and simulates every scenario on the
same seeds (``psa.replications`` of them, by default the same seeds for every draw: common random numbers, so
that two draws differ by their parameters and not by their luck), sharing the months before the policies start
(:func:`sim.scenarios.scenario_summaries`). Records go to a store of the design diagnosis's kind
(:class:`sim.diagnosis.store.Store`: one checksummed JSON file per draw, written atomically), under a point that
names everything a draw depends on, so a killed run resumes with the draws it lacks and stores from several
machines merge.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.paths import with_values
from sim.config.schema import Config
from sim.costs import costs_of
from sim.diagnosis.store import Store
from sim.model import Paused
from sim.parallel import process_pool
from sim.policies import POLICIES
from sim.rng import replication_seeds
from sim.scenarios import BASELINE, scenario_config, scenario_summaries
from sim.summary import BY_NAME
from sim.uncertainty.parameters import (
    UncertainParameter,
    draw_parameters,
    posterior_parameters,
    scenario_policy_names,
    uncertain_parameters,
)


@dataclass
class PsaPlan:
    """What a PSA run simulates: the run's config, its scenarios, the parameters and their draws (one row each),
    the seeds of each draw, and where records are stored (store folder and point)."""

    cfg: Config
    scenarios: list[str]
    parameters: list[UncertainParameter]
    draws: pd.DataFrame
    store: Path
    point: str

    def seeds(self, draw: int) -> list[int]:
        p = self.cfg.psa
        base = (
            self.cfg.seed
            if p.common_seeds
            else int(np.random.SeedSequence(self.cfg.seed, spawn_key=(0x95A, draw)).generate_state(1)[0])
        )
        return replication_seeds(base, p.replications)


def read_posterior(path: str) -> pd.DataFrame | None:
    """A calibration posterior (``posterior.parquet``: one column per ``world.*`` config key, one row per draw), or
    None for no path. Any other column is refused, naming it."""
    if not path:
        return None
    table = pd.read_parquet(path)
    foreign = [c for c in table.columns if not str(c).startswith("world.")]
    if foreign:
        raise ValueError(f"psa.posterior {path}: columns {', '.join(map(str, foreign))} are not world.* config keys")
    if table.empty:
        raise ValueError(f"psa.posterior {path} has no rows")
    return table.reset_index(drop=True)


def _fingerprint(cfg: Config, posterior: pd.DataFrame | None) -> str:
    """The store point: a hash of everything a draw's record depends on (not how many draws, not where or how
    fast they run)."""
    p = cfg.psa
    keep = {
        "seed": cfg.seed,
        "world": dataclasses.asdict(cfg.world),
        "costs": dataclasses.asdict(cfg.costs),
        "policy": {k: dataclasses.asdict(v) for k, v in sorted(cfg.policy.items())},
        "psa": {k: getattr(p, k) for k in ("scenarios", "replications", "common_seeds", "width")},
        "posterior": None if posterior is None else pd.util.hash_pandas_object(posterior).to_numpy().tolist(),
    }
    text = json.dumps(keep, sort_keys=True, default=str)
    return "psa-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def point_of(cfg: Config) -> str:
    """The store point a PSA of ``cfg`` uses (reads ``psa.posterior`` if set)."""
    return _fingerprint(cfg, read_posterior(cfg.psa.posterior))


#: The decision tables a PSA publishes in its store for comparisons of the same world to show.
PUBLISHED = ("parameters", "acceptability", "ce_plane", "evpi", "evppi")


def results_dir(store: Path | str, point: str) -> Path:
    """Where the latest PSA of ``point`` leaves its decision tables (``PUBLISHED`` and ``psa.json``)."""
    return Path(store) / "results" / point


def comparison_psa(cfg: Config) -> Path | None:
    """The decision tables of a PSA of this comparison (``compare.scenarios`` as the options, the world, seed,
    costs and policy settings of ``cfg``, the PSA settings of ``cfg.psa``) in ``psa.store``, or None."""
    if cfg.psa.posterior and not Path(cfg.psa.posterior).is_file():
        return None
    folder = results_dir(cfg.psa.store, point_of(replace(cfg, psa=replace(cfg.psa, scenarios=cfg.compare.scenarios))))
    return folder if (folder / "psa.json").is_file() else None


def make_plan(cfg: Config) -> PsaPlan:
    """The plan of ``cfg.psa``: scenarios, parameters (policy settings, unit costs and the posterior's world
    parameters) and ``psa.draws`` draws of them."""
    p = cfg.psa
    scenarios = [BASELINE, *[s for s in p.scenarios if s != BASELINE]]
    unknown = [n for n in scenario_policy_names(scenarios) if n not in POLICIES]
    if unknown:
        raise ValueError(f"psa.scenarios: unknown policies {', '.join(unknown)}")
    posterior = read_posterior(p.posterior)
    parameters = uncertain_parameters(cfg, scenarios, p.width)
    draws = draw_parameters(parameters, p.draws, cfg.seed, posterior)
    if posterior is not None:
        parameters = parameters + posterior_parameters(posterior)
    return PsaPlan(cfg, scenarios, parameters, draws, Path(p.store), _fingerprint(cfg, posterior))


def draw_config(cfg: Config, scenarios: list[str], values: dict[str, float]) -> Config:
    """``cfg`` with every scenario policy configured (the run's settings or the defaults) and ``values`` set:
    ``policy.<name>.<key>``, ``costs.<key>`` and ``world.*`` keys."""
    policy = {n: cfg.policy.get(n) or POLICIES[n].Config() for n in scenario_policy_names(scenarios)}
    rest = {}
    for key, value in values.items():
        parts = key.split(".")
        if parts[0] == "policy":
            name, field = parts[1], parts[2]
            kind = type(getattr(policy[name], field))
            policy[name] = replace(policy[name], **{field: kind(value)})
        else:
            rest[key] = value
    return with_values(replace(cfg, policy={**cfg.policy, **policy}), rest)


#: Per process: worlds paused at the end of their burn-in, and baseline's summary, by (point, seed). With the world
#: fixed and common seeds every draw shares them, so a worker simulates each once, not once per draw.
_PAUSED: dict[tuple[str, int], Paused] = {}
_BASELINE: dict[tuple[str, int], dict[str, Any]] = {}


def shares_worlds(plan: PsaPlan) -> bool:
    """True when every draw has the same burn-in and the same baseline: common seeds and no world parameter
    drawn (the draws vary only policy settings, which start after the burn-in, and unit costs, which change no
    simulated event)."""
    return plan.cfg.psa.common_seeds and not any(k.startswith("world.") for k in plan.draws.columns)


def _replication(plan: PsaPlan, cfg: Config, seed: int) -> dict[str, dict]:
    if not shares_worlds(plan):
        return scenario_summaries(cfg, plan.scenarios, seed)
    key = (plan.point, seed)
    if key not in _PAUSED:
        _PAUSED.clear()
        _BASELINE.clear()
        _PAUSED[key] = Paused(scenario_config(cfg, BASELINE, seed))
    paused = _PAUSED[key]
    if key not in _BASELINE:
        _BASELINE[key] = scenario_summaries(cfg, [BASELINE], seed, paused)[BASELINE]
    return {BASELINE: _BASELINE[key], **scenario_summaries(cfg, plan.scenarios, seed, paused, skip=(BASELINE,))}


def run_draw(plan: PsaPlan, draw: int) -> dict[str, Any]:
    """One draw: every scenario on each of its seeds; the record keeps the parameter values and, per scenario and
    replication, every outcome, what it uses a year per cost item and its policies' running costs (priced with
    the draw's unit costs by :func:`psa_table`)."""
    values = {k: float(v) for k, v in plan.draws.loc[draw].items()}
    # Unit costs change no simulated event: the worlds run with the run's own, so every draw can share a paused
    # burn-in, and psa_table prices what they used with the draw's.
    cfg = replace(draw_config(plan.cfg, plan.scenarios, values), costs=plan.cfg.costs)
    replications = [_replication(plan, cfg, seed) for seed in plan.seeds(draw)]
    return {
        "parameters": values,
        "scenarios": {s: [r[s] for r in replications] for s in plan.scenarios},
    }


def _store_record(task: Callable[[int], dict[str, Any]], store: Path, point: str, key: int) -> dict[str, Any]:
    """``task(key)`` written to the store as the record of ``(point, key)``, and read back (so that a record
    computed now and one read from the store later are the same, NaN as null included)."""
    Store(store).write({**task(key), "point": point, "seed": key})
    return Store(store).read(point, key)


def run_stored(
    task: Callable[[int], dict[str, Any]],
    keys: list[int],
    store: Path,
    point: str,
    description: dict[str, Any],
    workers: int = 0,
    progress: bool = True,
    say: Any = print,
    unit: str = "draw",
) -> list[dict[str, Any]]:
    """``task`` for every key: stored records read (corrupt ones deleted), missing ones computed on ``workers``
    processes (0: every core) and stored by the worker as each finishes. Records in key order."""
    box = Store(store)
    box.describe_point(point, description)
    done, missing = box.scan(point, keys)
    if done:
        say(f"{len(done)} of {len(keys)} {unit}s already in {box.point_dir(point)}")
    if missing:
        bar = _bar(len(missing), progress, unit)
        workers = min(workers or os.cpu_count() or 1, len(missing))
        if workers <= 1:
            for key in missing:
                done[key] = _store_record(task, store, point, key)
                bar.update(1)
        else:
            with process_pool(workers) as pool:
                pending = {pool.submit(_store_record, task, store, point, key) for key in missing}
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        record = future.result()
                        done[record["seed"]] = record
                        bar.update(1)
        bar.close()
    return [done[key] for key in keys]


def run_psa(plan: PsaPlan, workers: int = 0, progress: bool = True, say: Any = print) -> list[dict[str, Any]]:
    """Every draw of ``plan``, by :func:`run_stored` of :func:`run_draw`."""
    keys = list(plan.draws.index)
    return run_stored(partial(run_draw, plan), keys, plan.store, plan.point, _description(plan), workers, progress, say)


def _description(plan: PsaPlan) -> dict[str, Any]:
    return {
        "kind": "psa",
        "scenarios": plan.scenarios,
        "parameters": [dataclasses.asdict(p) for p in plan.parameters],
        "replications": plan.cfg.psa.replications,
        "common_seeds": plan.cfg.psa.common_seeds,
        "world": plan.cfg.world.name,
        "seed": plan.cfg.seed,
    }


def _bar(total: int, on: bool, unit: str = "draw") -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=f"{unit}s", unit=unit, smoothing=0.1, disable=not on)


def psa_table(plan: PsaPlan, records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per draw and scenario: the draw, the scenario, every parameter's value, every outcome and cost (the
    mean over the draw's replications; costs priced with the draw's unit costs), and ``child_years_faring_badly``
    and ``placements_started`` (a year, in the whole municipality)."""
    children = float(plan.cfg.world.children)
    rows = []
    for record in records:
        cfg = draw_config(plan.cfg, plan.scenarios, record["parameters"])
        for s in plan.scenarios:
            reps = pd.DataFrame(
                [
                    {
                        **r["summary"],
                        **{f"cost_{k}": v for k, v in costs_of(r["quantities"], cfg.costs, r["policy_costs"]).items()},
                    }
                    for r in record["scenarios"][s]
                ],
                dtype=float,
            )
            means = reps.mean(axis=0)
            outcomes = [k for k in BY_NAME if k in means.index] + [k for k in means.index if k not in BY_NAME]
            parameters = {k: record["parameters"][k] for k in plan.draws.columns}
            rows.append({"draw": record["seed"], "scenario": s, **parameters, **means[outcomes].to_dict()})
    table = pd.DataFrame(rows)
    table["child_years_faring_badly"] = table["faring_badly_share"] * children
    table["placements_started"] = table["new_placements_per_1000"] * children / 1000
    return table
