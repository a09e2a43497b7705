"""Replications of one design point: draw a trial from its world, fit it, compare with the truth, and store the
record at once. Parallel over processes, each keeping its trial, its estimator's compiled model and its worlds.

A :class:`Plan` is everything a replication depends on, and its hash (:attr:`Plan.point`) keys the stored
records: the world, the trial's settings, the estimator and how it fits (NUTS settings, or fast), the outcome
and estimand, the run's seed and the number of worlds, and the source of the code that computes them. The
decision rule and the number of replications are not part of it: more replications reuse the stored ones, and
every rule is computed from the same records.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import inspect
import logging
import os
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.config.schema import Config
from sim.diagnosis.store import Store, canonical, checksum
from sim.rng import replication_seeds

ROOT = Path(__file__).resolve().parents[2]
WORLD_SOURCES = ("sim/model.py", "sim/rng.py", "sim/tables.py", "sim/truth.py", "sim/eventlog.py", "sim/summary.py")
WORLD_FOLDERS = ("sim/world", "sim/agency", "sim/policies")
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
    here = Path(__file__).resolve()
    return [Path(inspect.getfile(type(estimator))), ROOT / "estimators/base.py", ROOT / "estimators/result.py", here]


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
        sampler = {k: v for k, v in _plain(run.estimator).items() if k != "seed"}
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


# ---------------------------------------------------------------------- one process's state
_STATE: dict[str, Any] = {}


def _setup(plan: Plan) -> dict[str, Any]:
    """The trial, estimator and loaded worlds of ``plan`` in this process (built once per point)."""
    if _STATE.get("point") != plan.point:
        from estimators import ESTIMATORS, SamplerConfig
        from sim.trials import TRIALS

        trial = TRIALS[plan.run.trial.name](plan.run.trial)
        cls = ESTIMATORS[plan.description["estimator"]]
        settings = SamplerConfig(**{k: getattr(plan.run.estimator, k) for k in SamplerConfig.__dataclass_fields__})
        worlds = _STATE.get("worlds", {})  # worlds are shared by points that differ only in their draws
        _STATE.clear()
        _STATE.update(point=plan.point, trial=trial, estimator=cls(settings), settings=settings, worlds=worlds)
    return _STATE


def _world(plan: Plan, index: int) -> Any:
    worlds = _STATE["worlds"]
    key = plan.world_keys[index]
    if key not in worlds:
        world = Store(plan.store).load_world(key)
        if world is None:
            raise RuntimeError(f"world {index} ({key}) is not in the store {plan.store}")
        worlds[key] = world
    return worlds[key]


def replicate(plan: Plan, seed: int, world: int, write: bool = True) -> dict[str, Any]:
    """One replication: draw, fit, compare; the record is stored before it is returned (``write=False``: the
    caller stores it, as the Ray backend's driver does). An exception in any step makes a failed record naming
    the step, never a lost replication or a silent 'no effect'."""
    state = _setup(plan)
    trial, estimator = state["trial"], state["estimator"]
    start = time.perf_counter()
    record: dict[str, Any] = {
        "point": plan.point,
        "seed": int(seed),
        "run_seed": int(plan.run.seed),
        "world": int(world),
        "world_seed": int(plan.world_seeds[world]),
        "trial": trial.name,
        "estimator": estimator.name,
        "method": plan.mode(estimator),
        "outcome": plan.outcome,
        "estimand": plan.estimand,
        "converged": False,
        "failed": True,
        "error": "",
    }
    step = "draw"
    try:
        data = trial.draw_replication(_world(plan, world), seed)
        step = "fit"
        estimator.settings = dataclasses.replace(state["settings"], seed=int(seed) % (2**31 - 1) + 1)
        with _quiet_estimators():  # the record keeps the fit's warnings; hundreds of log lines would not help
            if not plan.fast:
                estimates = estimator.fit(data.data, plan.outcome, frequentist=plan.frequentist)
            elif plan.fast_method == "frequentist":
                estimates = estimator.fit_frequentist(data.data, plan.outcome, plan.fast_draws)
            else:
                estimates = estimator.fit_fast(data.data, plan.outcome, seed=seed, draws=plan.fast_draws)
        step = "compare"
        names = [e.estimand for e in estimates]
        wanted = plan.estimand or names[0]
        if wanted not in names:
            raise ValueError(f"{estimator.name} gives no estimand {wanted!r}; it gives {', '.join(names)}")
        est = estimates[names.index(wanted)]
        truth = data.truth[(data.truth["outcome"] == plan.outcome) & (data.truth["estimand"] == wanted)]
        if truth.empty:
            raise ValueError(f"the {trial.name} design has no true value of {wanted} for {plan.outcome}")
        record.update(
            estimand=wanted,
            estimate=est.estimate,
            lower_90=est.lower_90,
            upper_90=est.upper_90,
            lower_95=est.lower_95,
            upper_95=est.upper_95,
            p_benefit=est.p_benefit,
            null=est.null,
            better=est.better,
            truth=float(truth["value"].iloc[0]),
            rhat_max=est.rhat_max,
            ess_min=est.ess_min,
            divergences=int(est.divergences),
            converged=bool(est.converged),
            failed=False,
            warnings="; ".join(est.warnings),
            n=int(est.n),
            freq_estimate=est.freq_estimate,
            freq_lower_95=est.freq_lower_95,
            freq_upper_95=est.freq_upper_95,
        )
    except Exception as exc:  # kept as a failed replication with its seed and message
        last = traceback.extract_tb(exc.__traceback__)[-1]
        record["error"] = f"step {step}: {type(exc).__name__}: {exc} ({Path(last.filename).name}:{last.lineno})"
    record["seconds"] = round(time.perf_counter() - start, 4)
    if write:
        Store(plan.store).write(record)
    return json_record(record)


@contextlib.contextmanager
def _quiet_estimators() -> Iterator[None]:
    logger = logging.getLogger("estimators")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def json_record(record: dict[str, Any]) -> dict[str, Any]:
    """The record exactly as it reads back from its file (NaN as None), so a result computed now and one read
    from the store are the same."""
    import json

    return json.loads(canonical(record))


def _init_worker() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _replicate_task(plan: Plan, jobs: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """A chunk of (seed, world) replications in a worker process, each stored as it finishes."""
    _setup(plan)
    return [replicate(plan, seed, world) for seed, world in jobs]


def chunks(jobs: list[tuple[int, int]], workers: int, fast: bool) -> list[list[tuple[int, int]]]:
    """Jobs in chunks: one replication per task for NUTS (a second each), up to 25 for fast fits (milliseconds
    each, where sending the plan with every task would cost as much as the fit)."""
    size = 1 if not fast else max(1, min(25, len(jobs) // (workers * 10)))
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


# ---------------------------------------------------------------------- worlds
def simulate_world(plan: Plan, index: int) -> str:
    """Simulate world ``index`` of ``plan`` (the design's replication worlds, with that world's seed) into the
    store, unless it is there. Returns its key. A lock file makes design points that run at once (a sweep on a
    parallel launcher) wait for one simulation of a world they share instead of each simulating it."""
    import fcntl

    from sim.trials import TRIALS

    store, key = Store(plan.store), plan.world_keys[index]
    path = store.world_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if store.load_world(key) is None:
            run = dataclasses.replace(plan.run, seed=plan.world_seeds[index])
            trial = TRIALS[run.trial.name](run.trial)
            store.save_world(key, trial.replication_worlds(run))
    return key


def ensure_worlds(plan: Plan, needed: list[int], workers: int, say: Any = print) -> None:
    """Every needed world in the store: loaded if cached and readable, else simulated (in parallel)."""
    store = Store(plan.store)
    missing = [i for i in sorted(set(needed)) if store.load_world(plan.world_keys[i]) is None]
    if not missing:
        return
    say(f"Simulating {len(missing)} world(s) of the {plan.run.trial.name} design (cached in {store.root / 'worlds'})")
    if workers <= 1 or len(missing) == 1:
        for i in missing:
            simulate_world(plan, i)
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(missing))) as pool:
            list(pool.map(simulate_world, [plan] * len(missing), missing))


# ---------------------------------------------------------------------- a design point
def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Processes for replications; one pool may serve many design points (each worker sets up a point once)."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_init_worker)


def run_point(
    plan: Plan, replications: int, workers: int, progress: bool, say: Any = print, pool: Any = None
) -> list[dict[str, Any]]:
    """Every replication of ``plan``: the stored ones read (corrupt ones deleted), the missing ones computed in
    ``workers`` processes (or ``pool``) and stored as each finishes. Records in seed order."""
    store = Store(plan.store)
    store.describe_point(plan.point, plan.description)
    seeds = plan.seeds(replications)
    world_of = {seed: r % plan.worlds for r, seed in enumerate(seeds)}
    done, missing = store.scan(plan.point, seeds)
    if done:
        say(f"{len(done)} of {replications} replications already in {store.point_dir(plan.point)}")
    if missing:
        ensure_worlds(plan, [world_of[s] for s in missing], workers, say)
        bar = _bar(len(missing), progress)
        if plan.backend == "ray":
            from sim.diagnosis.ray_backend import run_on_ray

            for record in run_on_ray(plan, [(s, world_of[s]) for s in missing], workers):
                done[record["seed"]] = record
                bar.update(1)
        elif workers <= 1:
            for seed in missing:
                done[seed] = replicate(plan, seed, world_of[seed])
                bar.update(1)
        else:
            own = pool is None
            pool = worker_pool(workers) if own else pool
            try:
                jobs = [(s, world_of[s]) for s in missing]
                pending = {pool.submit(_replicate_task, plan, chunk) for chunk in chunks(jobs, workers, plan.fast)}
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        for record in future.result():
                            done[record["seed"]] = record
                        bar.update(len(future.result()))
            finally:
                if own:
                    pool.shutdown()
        bar.close()
    return [done[s] for s in seeds]


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int, on: bool) -> Any:
    if not on:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc="replications", unit="rep", smoothing=0.1)
