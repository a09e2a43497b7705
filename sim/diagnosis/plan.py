"""A design point's plan: everything its replications depend on, and the keys of its worlds and records.

A :class:`Plan`'s hash (:attr:`Plan.point`) keys the stored records: the world, the trial's settings, the estimator
and how it fits (NUTS settings, or fast), the outcome and estimand, the run's seed and the number of worlds, and
the source of the code that computes them. The decision rule and the number of replications are not part of it:
more replications reuse the stored ones, and every rule is computed from the same records.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.config.schema import Config
from sim.diagnosis.store import checksum
from sim.rng import replication_seeds

ROOT = Path(__file__).resolve().parents[2]
#: The code a simulated world and its truth depend on (a change to any of it invalidates cached worlds).
WORLD_SOURCES = (
    "sim/calendar.py",
    "sim/eventlog.py",
    "sim/hooks.py",
    "sim/measures.py",
    "sim/model.py",
    "sim/rng.py",
    "sim/summary.py",
    "sim/tables.py",
    "sim/truth.py",
)
WORLD_FOLDERS = ("sim/config", "sim/world", "sim/agency", "sim/policies")
WORLD_SEED_KEY = 0x3077D

#: the columns of replications.parquet, in order (docs/data-dictionary.md)
RECORD_FIELDS: tuple[str, ...] = (
    "point",
    "seed",
    "run_seed",
    "world",
    "world_seed",
    "trial",
    "estimator",
    "method",
    "outcome",
    "estimand",
    "estimate",
    "lower_90",
    "upper_90",
    "lower_95",
    "upper_95",
    "p_benefit",
    "null",
    "better",
    "truth",
    "rhat_max",
    "ess_min",
    "divergences",
    "converged",
    "failed",
    "error",
    "warnings",
    "n",
    "freq_estimate",
    "freq_lower_95",
    "freq_upper_95",
    "seconds",
)


def fingerprint(paths: list[Path]) -> str:
    """SHA-256 of the source files a result depends on: stored results of other code are never reused."""
    h = hashlib.sha256()
    for path in sorted(set(paths)):
        h.update(str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def world_sources(trial: Any) -> list[Path]:
    files = [ROOT / f for f in WORLD_SOURCES] + [p for d in WORLD_FOLDERS for p in (ROOT / d).rglob("*.py")]
    return [*files, Path(inspect.getfile(type(trial))), ROOT / "sim/trials/base.py"]


def fit_sources(estimator: Any) -> list[Path]:
    """The code a fit and its record depend on: the estimator's module, the shared estimator code, and how a
    replication is run and recorded."""
    return [
        Path(inspect.getfile(type(estimator))),
        ROOT / "estimators/base.py",
        ROOT / "estimators/result.py",
        ROOT / "sim/diagnosis/replicate.py",
    ]


def world_seeds(seed: int, worlds: int) -> list[int]:
    """World 0 is the run's own seed (the world ``experiment=trial`` simulates); worlds 1, 2, ... get seeds
    derived from it, independent of the replication seeds."""
    derived = [
        int(np.random.SeedSequence(seed, spawn_key=(WORLD_SEED_KEY, k)).generate_state(1)[0]) for k in range(worlds)
    ]
    return [seed, *derived[1:]]


def _plain(node: Any) -> Any:
    return dataclasses.asdict(node) if dataclasses.is_dataclass(node) else node


@dataclass
class Plan:
    """One design point: what its replications need, and the keys of its worlds and records."""

    run: Config
    outcome: str
    estimand: str  # "" : the estimator's first (headline) estimand
    fast: bool
    fast_method: str  # "own" or "frequentist"
    fast_draws: int
    frequentist: bool
    store: str
    worlds: int
    backend: str = "local"  # where replications run: local processes or Ray (not part of the point)
    ray_address: str = "local"
    world_keys: list[str] = field(default_factory=list)
    world_seeds: list[int] = field(default_factory=list)
    description: dict[str, Any] = field(default_factory=dict)
    point: str = ""

    @classmethod
    def make(cls, run: Config, trial: Any, estimator: Any, **settings: Any) -> Plan:
        """A plan with its world keys and point hash computed from ``run``, the trial and the estimator."""
        plan = cls(run=run, **settings)
        plan.world_seeds = world_seeds(run.seed, plan.worlds)
        trial_cfg = _plain(run.trial)
        keys = trial.world_keys if trial.world_keys is not None else tuple(trial_cfg)
        world_code = fingerprint(world_sources(trial))
        for seed in plan.world_seeds:
            world = {
                "trial": trial.name,
                "trial_settings": {k: trial_cfg[k] for k in keys},
                "world": _plain(run.world),
                "policy": {k: _plain(v) for k, v in sorted(run.policy.items())},
                "seed": seed,
                "code": world_code,
            }
            plan.world_keys.append(f"{trial.name}-{checksum(world)[:16]}")
        sampler = {k: v for k, v in _plain(run.estimator).items() if k not in ("seed", "cores")}  # cores: same draws
        plan.description = {
            "trial": trial_cfg,
            "world": _plain(run.world),
            "policy": {k: _plain(v) for k, v in sorted(run.policy.items())},
            "estimator": estimator.name,
            "mode": plan.mode(estimator),
            "sampler": ({"fast_draws": plan.fast_draws} if plan.fast else {**sampler, "frequentist": plan.frequentist}),
            "outcome": plan.outcome,
            "estimand": plan.estimand,
            "run_seed": run.seed,
            "worlds": plan.worlds,
            "code": fingerprint(world_sources(trial) + fit_sources(estimator)),
        }
        plan.point = checksum(plan.description)[:16]
        return plan

    def mode(self, estimator: Any) -> str:
        """nuts, or fast:<method> (the estimator's own approximation, or frequentist)."""
        if not self.fast:
            return "nuts"
        return f"fast:{estimator.fast_method if self.fast_method == 'own' else 'frequentist'}"

    def seeds(self, replications: int) -> list[int]:
        return replication_seeds(self.run.seed, replications)
