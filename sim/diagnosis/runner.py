"""Replications of one design point, in parallel over processes (or Ray actors), each record stored the moment it
finishes so that a killed run resumes where it stopped; and the design's worlds, simulated once into the store.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from sim.diagnosis.plan import Plan
from sim.diagnosis.ray_backend import run_on_ray
from sim.diagnosis.replicate import replicate
from sim.diagnosis.store import Store
from sim.parallel import process_pool
from sim.trials import TRIALS


def _init_worker() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _replicate_task(plan: Plan, jobs: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """A chunk of (seed, world) replications in a worker process, each stored as it finishes."""
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
        with process_pool(min(workers, len(missing))) as pool:
            list(pool.map(simulate_world, [plan] * len(missing), missing))


# ---------------------------------------------------------------------- a design point
@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """Processes for replications (None for one worker: replications run in this process); one pool may serve
    many design points (each worker sets up a point once). They die with this process."""
    if workers <= 1:
        yield None
        return
    with process_pool(workers, initializer=_init_worker) as pool:
        yield pool


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
            for record in run_on_ray(plan, [(s, world_of[s]) for s in missing], workers):
                done[record["seed"]] = record
                bar.update(1)
        elif workers <= 1:
            for seed in missing:
                done[seed] = replicate(plan, seed, world_of[seed])
                bar.update(1)
        else:
            with contextlib.nullcontext(pool) if pool is not None else worker_pool(workers) as own:
                jobs = [(s, world_of[s]) for s in missing]
                pending = {own.submit(_replicate_task, plan, chunk) for chunk in chunks(jobs, workers, plan.fast)}
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        for record in future.result():
                            done[record["seed"]] = record
                        bar.update(len(future.result()))
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
