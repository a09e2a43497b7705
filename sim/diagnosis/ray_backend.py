"""Replications on Ray (``diagnose.backend=ray``): the same :class:`sim.diagnosis.replicate.Replicator` in Ray actors,
each keeping its trial, compiled model and worlds, the records stored by the driver as they arrive.

``diagnose.ray_address=local`` (the default) starts a private Ray instance on this machine, bound to 127.0.0.1,
with ``diagnose.workers`` CPUs, and stops it at the end; any other value (``auto``, ``ray://head:10001``) joins an
existing cluster. The worlds travel to the actors with the task (they are small: the household RCT's is a table
of potential outcomes), and the records come back to the driver, which writes them to its store, so the workers
need no shared file system.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sim.diagnosis.plan import Plan
from sim.diagnosis.replicate import Replicator
from sim.diagnosis.store import Store


class _Actor:
    """A Ray actor: one process's replicator (trial, estimator and worlds), reused for every replication."""

    def __init__(self, plan: Plan, worlds: dict[str, Any]) -> None:
        self.replicator = Replicator(plan, dict(worlds))

    def run(self, plan: Plan, seed: int, world: int) -> dict[str, Any]:
        return self.replicator.run(plan, seed, world, write=False)


def run_on_ray(plan: Plan, jobs: list[tuple[int, int]], workers: int) -> Iterator[dict[str, Any]]:
    """Run (seed, world) ``jobs`` on ``workers`` Ray actors; yield each record once it is stored."""
    import os

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a local instance talks to nothing but itself
    import ray
    from ray.util import ActorPool

    started = not ray.is_initialized()
    if started:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if plan.ray_address == "local":
            ray.init(address="local", num_cpus=workers, _node_ip_address="127.0.0.1", **options)
        else:
            ray.init(address=plan.ray_address, **options)
    try:
        store = Store(plan.store)
        keys = {plan.world_keys[w] for _, w in jobs}
        worlds = {key: store.load_world(key) for key in keys}
        actor = ray.remote(num_cpus=1)(_Actor)
        pool = ActorPool([actor.remote(plan, worlds) for _ in range(max(1, workers))])
        for record in pool.map_unordered(lambda a, job: a.run.remote(plan, *job), jobs):
            store.write(record)
            yield record
    finally:
        if started:
            ray.shutdown()
