"""Compose, type-check and range-check a config, turning every failure into one short message.

Used twice: by ``python -m sim`` as a pre-flight before Hydra runs any job (so a bad key or value fails at
start with one line, never a traceback), and by tests and notebooks that want a validated :class:`Config`.

The schema leaves three groups open: ``policy``, ``trial`` and ``estimator``. What may fill them comes in as
:class:`Plugins`, so this layer depends on no policy, trial design or estimator; :mod:`sim.registry` passes every
registered one (``sim.registry.compose_config`` is what a notebook calls).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.config.paths import get_value
from sim.config.schema import Config
from sim.config.validate import ConfigError, validate

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
_CONVERSION = re.compile(r"Value '(.*)' of type '\w+' could not be converted to (\w+)")
_TYPE_WORDS = {"Integer": "a whole number", "Float": "a number", "Boolean": "true or false", "String": "text"}

__all__ = [
    "CONF_DIR",
    "ConfigError",
    "Plugins",
    "compose_config",
    "friendly_message",
    "register_configs",
    "to_config",
    "validate_config",
]


@dataclass(frozen=True)
class Plugins:
    """What may fill the schema's open groups: each policy's and trial design's typed ``Config`` by name, the
    estimators' names and the estimator group's typed config."""

    policies: Mapping[str, type] = field(default_factory=dict)
    trials: Mapping[str, type] = field(default_factory=dict)
    estimators: tuple[str, ...] = ()
    estimator_config: type | None = None


def register_configs(plugins: Plugins) -> None:
    """Register the root schema in Hydra's ConfigStore (``conf/config.yaml`` lists it first), and each plug-in's
    schema for its ``conf/<group>/<name>.yaml`` to extend (``/policy_schema/<name>``, ``/trial_schema/<name>``,
    ``/estimator_schema/estimator``). Once per process for the same ``plugins``: storing converts every schema to
    OmegaConf (40 ms), a third of composing a config."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    if _registered.get(id(cs)) is plugins:
        return
    _registered[id(cs)] = plugins
    cs.store(name="schema", node=Config)
    for name, schema in plugins.policies.items():
        cs.store(group="policy_schema", name=name, node=schema)
    for name, schema in plugins.trials.items():
        cs.store(group="trial_schema", name=name, node=schema)
    if plugins.estimator_config is not None:
        cs.store(group="estimator_schema", name="estimator", node=plugins.estimator_config)


_registered: dict[int, Plugins] = {}  # ConfigStore instance -> the plugins last registered in it


def _allowed_keys(object_type: Any) -> list[str]:
    if object_type is not None and dataclasses.is_dataclass(object_type):
        return [f.name for f in dataclasses.fields(object_type)]
    return []


def _unknown_key_message(full_key: str, object_type: Any) -> str:
    parts = full_key.split(".")
    if parts[0] == "policy" and len(parts) >= 2 and not dataclasses.is_dataclass(object_type):
        return (
            f"unknown config key '{full_key}': policy '{parts[1]}' is not selected "
            f"(select it first: policy={parts[1]} or policy=[...,{parts[1]}])"
        )
    key = full_key.rsplit(".", 1)[-1]
    parent = full_key.rsplit(".", 1)[0] if "." in full_key else "the top level"
    allowed = _allowed_keys(object_type)
    if object_type is dict:
        return f"unknown config key '{full_key}': {parent} is a mapping; add a new entry with +{full_key}=..."
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown config key '{full_key}'{hint}; allowed keys in {parent}: {', '.join(allowed)}"


def friendly_message(exc: BaseException) -> str:
    """One line that names the offending key or option and what is allowed."""
    from hydra.errors import MissingConfigException, OverrideParseException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, ValidationError

    if isinstance(exc, ConfigError):
        return str(exc)
    if isinstance(exc, MissingConfigException) and exc.missing_cfg_file and exc.options is not None:
        group, _, option = exc.missing_cfg_file.rpartition("/")
        return f"unknown option '{option}' for '{group}'; allowed: {', '.join(sorted(exc.options))}"
    if isinstance(exc, OverrideParseException):
        return str(exc).splitlines()[0] + " (write overrides as key=value, e.g. world=small or seed=7)"
    chain, x = [], exc
    while x is not None and x not in chain:
        chain.append(x)
        x = x.__cause__ or x.__context__
    for x in chain:
        full_key = getattr(x, "full_key", None)
        if isinstance(x, ConfigAttributeError | ConfigKeyError) and full_key:
            return _unknown_key_message(full_key, getattr(x, "object_type", None))
        if isinstance(x, ValidationError) and full_key:
            detail = str(x).splitlines()[0]
            m = _CONVERSION.match(detail)
            if m:
                value, target = m.group(1), _TYPE_WORDS.get(m.group(2), m.group(2).lower())
                return f"{full_key} = {value!r} is not allowed: must be {target}"
            return f"{full_key}: {detail}"
    for x in chain:
        mark = getattr(x, "problem_mark", None)
        if mark is not None:  # a YAML syntax error: say where
            return f"{Path(mark.name).name} line {mark.line + 1}, column {mark.column + 1}: {x.problem} ({x.context})"
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def _extra_keys(node: DictConfig, schema: Any, path: str = "") -> None:
    """Keys added with ``+key=value`` that the schema does not know are errors, not silently dropped."""
    defaults = schema()
    names = {f.name for f in dataclasses.fields(schema)}
    for key in node:
        full = f"{path}.{key}" if path else str(key)
        if key not in names:
            raise ConfigError(_unknown_key_message(full, schema))
        default = getattr(defaults, key)
        if isinstance(node[key], DictConfig) and dataclasses.is_dataclass(default):
            _extra_keys(node[key], type(default), full)


def typed_policies(raw: dict[str, Any], policies: Mapping[str, type]) -> dict[str, Any]:
    """Each selected policy's settings as its typed ``Config`` from ``policies`` (name -> Config); unknown keys
    and bad values are errors."""
    out: dict[str, Any] = {}
    for name, values in (raw or {}).items():
        if name not in policies:
            raise ConfigError(f"unknown policy '{name}'; allowed: {', '.join(sorted(policies))}")
        schema = policies[name]
        if dataclasses.is_dataclass(values):
            out[name] = values
        else:
            node = OmegaConf.create(dict(values or {}))
            _extra_keys(node, schema, f"policy.{name}")
            try:
                out[name] = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), node))
            except Exception as exc:
                raise ConfigError(f"policy.{name}.{friendly_message(exc)}") from None
        validate(out[name], f"policy.{name}")
    return out


def _typed_choice(raw: Any, registry: dict, key: str, none: tuple[str, ...]) -> Any:
    """A single-choice group (trial, estimator) as its typed config; ``none`` lists the names meaning 'not set'."""
    if dataclasses.is_dataclass(raw):
        return raw
    values = dict(raw or {})
    name = values.get("name", none[0])
    if name in none:
        return values
    if name not in registry:
        raise ConfigError(f"{key}.name = {name!r} is not allowed: choose one of {', '.join(sorted(registry))}")
    return registry[name](**values) if isinstance(registry[name], type) else registry[name]


def validate_config(cfg: Config, plugins: Plugins) -> Config:
    """Range checks on every field, then the few rules that relate fields to each other."""
    cfg.policy = typed_policies(cfg.policy, plugins.policies)
    cfg.trial = _typed_choice(cfg.trial, dict(plugins.trials), "trial", ("none",))
    estimator = dict(cfg.estimator) if not dataclasses.is_dataclass(cfg.estimator) else cfg.estimator
    if not dataclasses.is_dataclass(estimator):
        if estimator.get("name", "auto") not in ("auto", *plugins.estimators):
            raise ConfigError(
                f"estimator.name = {estimator['name']!r} is not allowed: choose one of auto, "
                f"{', '.join(sorted(plugins.estimators))}"
            )
        if plugins.estimator_config is not None:
            estimator = plugins.estimator_config(**estimator)
    cfg.estimator = estimator
    for node, path in ((cfg.trial, "trial"), (cfg.estimator, "estimator")):
        if dataclasses.is_dataclass(node):
            validate(node, path)
    validate(cfg)
    s = cfg.world.agency.screening
    if not s.advice_threshold <= s.investigation_threshold <= s.acute_threshold:
        raise ConfigError(
            "world.agency.screening thresholds are not allowed: need advice_threshold <= "
            f"investigation_threshold <= acute_threshold (got {s.advice_threshold}, "
            f"{s.investigation_threshold}, {s.acute_threshold})"
        )
    d = cfg.world.agency.decision
    if not d.preventive_threshold <= d.home_based_threshold <= d.placement_threshold:
        raise ConfigError(
            "world.agency.decision thresholds are not allowed: need preventive_threshold <= "
            f"home_based_threshold <= placement_threshold (got {d.preventive_threshold}, "
            f"{d.home_based_threshold}, {d.placement_threshold})"
        )
    for i, free in enumerate(cfg.fit.parameters):
        key = f"fit.parameters[{i}]"
        try:
            value = get_value(cfg, free.key) if free.key else None
        except ConfigError as exc:
            raise ConfigError(f"{key}.key = {free.key!r} is not allowed: {exc}") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}.key = {free.key!r} is not allowed: must name a numeric config value")
        if not free.lower < free.upper:
            raise ConfigError(f"{key} bounds are not allowed: need lower < upper (got {free.lower}, {free.upper})")
        if free.start is not None and not free.lower <= free.start <= free.upper:
            raise ConfigError(f"{key}.start = {free.start} is not allowed: must lie in [{free.lower}, {free.upper}]")
    for where, scenarios in (("compare", cfg.compare.scenarios), ("psa", cfg.psa.scenarios)):
        for i, scenario in enumerate(scenarios):
            unknown = [n for n in scenario.split("+") if n != "baseline" and n not in plugins.policies]
            if unknown or not scenario:
                raise ConfigError(
                    f"{where}.scenarios[{i}] = {scenario!r} is not allowed: use baseline, a policy "
                    f"({', '.join(sorted(plugins.policies))}) or policies joined by +"
                )
    if cfg.psa.posterior and not Path(cfg.psa.posterior).is_file():
        raise ConfigError(f"psa.posterior = {cfg.psa.posterior!r} is not allowed: no such file")
    _check_audit_scenarios(cfg, plugins)
    cw = cfg.world.agency.caseworkers
    if cw.max_caseload < cw.nominal_caseload:
        raise ConfigError(
            f"world.agency.caseworkers.max_caseload = {cw.max_caseload} is not allowed: must be >= "
            f"nominal_caseload ({cw.nominal_caseload})"
        )
    return cfg


def _check_audit_scenarios(cfg: Config, plugins: Plugins) -> None:
    """Each of ``audit.scenarios`` changes only settings the risk tool has, to allowed values."""
    tool = plugins.policies.get("risk_tool")
    if tool is None:
        return
    base = cfg.policy.get("risk_tool") or tool()
    fields = {f.name for f in dataclasses.fields(tool)}
    for name, changes in cfg.audit.scenarios.items():
        key = f"audit.scenarios.{name}"
        if name in ("tool", "baseline"):
            raise ConfigError(f"{key} is not allowed: 'tool' and 'baseline' name the audited tool and its twin")
        if not isinstance(changes, dict):
            raise ConfigError(f"{key} = {changes!r} is not allowed: must map policy.risk_tool settings to values")
        unknown = sorted(set(changes) - fields)
        if unknown:
            raise ConfigError(
                f"{key}.{unknown[0]} is not allowed: not a setting of policy.risk_tool (allowed: "
                f"{', '.join(sorted(fields))})"
            )
        try:
            validate(dataclasses.replace(base, **changes), key)
        except TypeError as exc:
            raise ConfigError(f"{key} is not allowed: {exc}") from None


def to_config(cfg: DictConfig, plugins: Plugins) -> Config:
    """Typed, validated :class:`Config` from a composed DictConfig (raises :class:`ConfigError`)."""
    plain = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]) if "hydra" in cfg else cfg
    _extra_keys(plain, Config)
    for name, node in (plain.get("policy") or {}).items():
        if name in plugins.policies and isinstance(node, DictConfig):
            _extra_keys(node, plugins.policies[name], f"policy.{name}")
    try:
        obj = OmegaConf.to_object(plain)
    except Exception as exc:  # omegaconf raises several types; all become one message
        raise ConfigError(friendly_message(exc)) from exc
    return validate_config(obj, plugins)


def compose_config(overrides: list[str] | tuple[str, ...], plugins: Plugins) -> Config:
    """Compose ``conf/config.yaml`` with Hydra overrides and validate it against ``plugins``, as ``python -m sim``
    would."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_configs(plugins)
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
            cfg = compose(config_name="config", overrides=list(overrides))
    except Exception as exc:
        raise ConfigError(friendly_message(exc)) from exc
    return to_config(cfg, plugins)
