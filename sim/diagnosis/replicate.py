"""One replication of a design point: draw a trial from its world, fit it, compare with the truth, and make its
record. A :class:`Replicator` is one process's trial, estimator (with its compiled model) and loaded worlds,
built once per design point and reused for every replication the process is given, whether by a local process
pool (:mod:`sim.diagnosis.runner`) or a Ray actor (:mod:`sim.diagnosis.ray_backend`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from estimators import ESTIMATORS, SamplerConfig
from sim.diagnosis.plan import Plan
from sim.diagnosis.store import Store, canonical
from sim.trials import TRIALS


class Replicator:
    """The trial, estimator and worlds of one design point in this process."""

    def __init__(self, plan: Plan, worlds: dict[str, Any] | None = None) -> None:
        self.point = plan.point
        self.trial = TRIALS[plan.run.trial.name](plan.run.trial)
        self.settings = SamplerConfig(**{k: getattr(plan.run.estimator, k) for k in SamplerConfig.__dataclass_fields__})
        self.estimator = ESTIMATORS[plan.description["estimator"]](self.settings)
        self.worlds: dict[str, Any] = worlds if worlds is not None else {}  # shared by points of the same worlds

    def world(self, plan: Plan, index: int) -> Any:
        """World ``index`` of ``plan``, loaded from the store once."""
        key = plan.world_keys[index]
        if key not in self.worlds:
            world = Store(plan.store).load_world(key)
            if world is None:
                raise RuntimeError(f"world {index} ({key}) is not in the store {plan.store}")
            self.worlds[key] = world
        return self.worlds[key]

    def run(self, plan: Plan, seed: int, world: int, write: bool = True) -> dict[str, Any]:
        """One replication: draw, fit, compare; the record is stored before it is returned (``write=False``: the
        caller stores it, as the Ray backend's driver does). An exception in any step makes a failed record naming
        the step, never a lost replication or a silent 'no effect'."""
        trial, estimator = self.trial, self.estimator
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
            data = trial.draw_replication(self.world(plan, world), seed)
            step = "fit"
            estimator.settings = dataclasses.replace(self.settings, seed=int(seed) % (2**31 - 1) + 1)
            with _quiet_estimators():  # the record keeps the fit's warnings; hundreds of log lines would not help
                if not plan.fast:
                    estimates = estimator.fit(data.data, plan.outcome, frequentist=plan.frequentist)
                elif plan.fast_method == "frequentist":
                    estimates = estimator.fit_frequentist(data.data, plan.outcome, plan.fast_draws)
                else:
                    estimates = estimator.fit_fast(data.data, plan.outcome, seed=seed, draws=plan.fast_draws)
            step = "compare"
            record.update(_compared(plan, trial, estimator, estimates, data.truth))
        except Exception as exc:  # kept as a failed replication with its seed and message
            last = traceback.extract_tb(exc.__traceback__)[-1]
            record["error"] = f"step {step}: {type(exc).__name__}: {exc} ({Path(last.filename).name}:{last.lineno})"
        record["seconds"] = round(time.perf_counter() - start, 4)
        if write:
            Store(plan.store).write(record)
        return json_record(record)


def _compared(plan: Plan, trial: Any, estimator: Any, estimates: list[Any], truth: Any) -> dict[str, Any]:
    """The record's fields for the diagnosed estimand: the estimate, its intervals and diagnostics, the truth."""
    names = [e.estimand for e in estimates]
    wanted = plan.estimand or names[0]
    if wanted not in names:
        raise ValueError(f"{estimator.name} gives no estimand {wanted!r}; it gives {', '.join(names)}")
    est = estimates[names.index(wanted)]
    true = truth[(truth["outcome"] == plan.outcome) & (truth["estimand"] == wanted)]
    if true.empty:
        raise ValueError(f"the {trial.name} design has no true value of {wanted} for {plan.outcome}")
    return {
        "estimand": wanted,
        "estimate": est.estimate,
        "lower_90": est.lower_90,
        "upper_90": est.upper_90,
        "lower_95": est.lower_95,
        "upper_95": est.upper_95,
        "p_benefit": est.p_benefit,
        "null": est.null,
        "better": est.better,
        "truth": float(true["value"].iloc[0]),
        "rhat_max": est.rhat_max,
        "ess_min": est.ess_min,
        "divergences": int(est.divergences),
        "converged": bool(est.converged),
        "failed": False,
        "warnings": "; ".join(est.warnings),
        "n": int(est.n),
        "freq_estimate": est.freq_estimate,
        "freq_lower_95": est.freq_lower_95,
        "freq_upper_95": est.freq_upper_95,
    }


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
    return json.loads(canonical(record))


_CURRENT: list[Replicator] = []  # this process's replicator (a worker serves one design point at a time)


def replicator_for(plan: Plan) -> Replicator:
    """This process's replicator for ``plan``: kept while the process serves the same design point, rebuilt
    (keeping the loaded worlds) when it moves to another."""
    if not _CURRENT or _CURRENT[0].point != plan.point:
        worlds = _CURRENT[0].worlds if _CURRENT else None
        _CURRENT[:] = [Replicator(plan, worlds)]
    return _CURRENT[0]


def replicate(plan: Plan, seed: int, world: int, write: bool = True) -> dict[str, Any]:
    """One replication of ``plan`` in this process (see :meth:`Replicator.run`)."""
    return replicator_for(plan).run(plan, seed, world, write)
