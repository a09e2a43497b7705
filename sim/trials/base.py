"""What a trial design is: the data a real evaluation would collect from the simulated world(s), in documented
columns, and the estimand it targets, computed exactly from the truth.

A design module (``sim/trials/<name>.py``) defines a :class:`Trial` subclass with ``name``, a ``Config``
dataclass (typed and range-checked like every config), the ``estimator`` that analyses it by default, its
``outcomes`` and its ``columns`` (name -> meaning, the schema real data must follow), and implements

- ``worlds(cfg)``: simulate the worlds it needs, all with the run's seed (the trial world and its twins);
- ``draw(worlds, seed)``: the trial's data set and its estimands (one per outcome) from those worlds.

Design diagnosis (``experiment=diagnose``) draws many trials from the same worlds. It calls
``replication_worlds(run)`` once per world (by default ``worlds(run)``; a design may return something smaller,
such as a table of potential outcomes) and ``draw_replication(worlds, seed)`` per replication (by default the
design's ``draw_potential`` if it has one, else ``draw``). ``world_keys`` names the design's settings that change
its worlds (None: all of them); the others (sample size, planted effect) only change the draws, so a sweep over
them reuses the cached worlds.

``conf/trial/<name>.yaml`` selects it: ``python -m sim experiment=trial trial=<name>``.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from sim.config.fields import text
from sim.config.schema import Config
from sim.policies import POLICIES

TRIALS: dict[str, type[Trial]] = {}


def register(cls: type[Trial]) -> type[Trial]:
    TRIALS[cls.name] = cls
    return cls


@dataclass
class TrialConfig:
    """Settings every trial design has; a design's own ``Config`` extends this."""

    name: str = text("none", "the trial design (conf/trial/<name>.yaml)")


@dataclass
class TrialData:
    """A trial's data set (the columns of its design) and the estimands it targets, from the truth."""

    data: pd.DataFrame
    truth: pd.DataFrame  # columns: outcome, estimand, value (and what it was computed over)
    meta: dict[str, Any] = field(default_factory=dict)


def with_policy(run: Config, name: str, **settings: Any) -> Config:
    """The run's world with policy ``name`` alone: the run's own settings of it if the run selected
    ``policy=<name>``, else its defaults, with ``settings`` (e.g. ``start_year``) on top. A trial's policy world."""

    cfg = copy.deepcopy(run)
    own = run.policy.get(name) if isinstance(run.policy, dict) else None
    cfg.policy = {name: dataclasses.replace(own if own is not None else POLICIES[name].Config(), **settings)}
    return cfg


def without_policies(run: Config) -> Config:
    """The run's world with no policy: the twin a trial's policy world is compared with."""
    cfg = copy.deepcopy(run)
    cfg.policy = {}
    return cfg


class Trial:
    name: ClassVar[str] = ""
    Config: ClassVar[type] = TrialConfig
    estimator: ClassVar[str] = ""
    outcomes: ClassVar[tuple[str, ...]] = ()
    columns: ClassVar[dict[str, str]] = {}
    world_keys: ClassVar[tuple[str, ...] | None] = None
    analysed_as: ClassVar[str] = ""  # another design whose columns this one has: its estimators analyse it too
    #: Whether a replication's data depend on its seed (a new sample or assignment from the same worlds). A design
    #: that observes everything (False) gives one data set per world: each replication needs a world of its own.
    draws_depend_on_seed: ClassVar[bool] = True
    #: Settings of the design that stand for a policy's setting (design setting -> policy key): a PSA draw's value
    #: of the policy setting is the design's in that draw (``experiment=evsi``). Designs whose worlds take the
    #: run's policy settings (``with_policy``) need none.
    policy_settings: ClassVar[dict[str, str]] = {}

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg

    def worlds(self, run: Config) -> dict[str, Any]:
        raise NotImplementedError

    def draw(self, worlds: dict[str, Any], seed: int) -> TrialData:
        raise NotImplementedError

    def replication_worlds(self, run: Config) -> Any:
        """What replications draw from, simulated with the run's seed (default: :meth:`worlds`)."""
        return self.worlds(run)

    def draw_replication(self, worlds: Any, seed: int) -> TrialData:
        """One replication's trial from ``replication_worlds``: ``draw_potential`` where the design has it
        (a new sample and assignment per seed), else ``draw``."""
        draw = getattr(self, "draw_potential", None) or self.draw
        return draw(worlds, seed)
