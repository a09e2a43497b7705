"""Every plug-in in one place: the policies, trial designs and estimators that ``python -m sim`` knows.

The config layer leaves the ``policy``, ``trial`` and ``estimator`` groups open (:class:`sim.config.Plugins`);
this module fills them from the three registries and composes validated configs with them. Notebooks and tests
call :func:`compose_config`:

>>> cfg = compose_config(["world=small", "policy=risk_tool", "policy.risk_tool.adherence=0.5"])
>>> (cfg.world.children, cfg.policy["risk_tool"].adherence)
(5000, 0.5)
"""

from __future__ import annotations

from omegaconf import DictConfig

from estimators import ESTIMATORS, EstimatorConfig
from sim.config import load
from sim.config.schema import Config
from sim.policies import POLICIES
from sim.trials import TRIALS

PLUGINS = load.Plugins(
    policies={name: policy.Config for name, policy in POLICIES.items()},
    trials={name: trial.Config for name, trial in TRIALS.items()},
    estimators=tuple(ESTIMATORS),
    estimator_config=EstimatorConfig,
)


def register_configs() -> None:
    """Register the schema and every plug-in's schema in Hydra's ConfigStore (before Hydra composes)."""
    load.register_configs(PLUGINS)


def compose_config(overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Compose ``conf/config.yaml`` with Hydra overrides and validate it, as ``python -m sim`` would (a bad key or
    value raises :class:`sim.config.ConfigError` with the one-line message the command line prints)."""
    return load.compose_config(overrides, PLUGINS)


def to_config(dcfg: DictConfig) -> Config:
    """The typed, validated :class:`Config` of a config Hydra composed."""
    return load.to_config(dcfg, PLUGINS)
