"""Check every config value against its field's declared range before anything runs."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from sim.config.fields import CHECKS


class ConfigError(ValueError):
    """A config key or value that is not allowed. ``str(err)`` is the one-line message shown to the user."""


def _fmt(v: Any) -> str:
    return repr(v) if isinstance(v, str) else str(v)


def _check_scalar(path: str, value: Any, check: str) -> None:
    predicate, allowed = CHECKS[check]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{path} = {_fmt(value)} is not allowed: must be {allowed}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{path} = {_fmt(value)} is not allowed: must be {allowed}")
    if not predicate(value):
        raise ConfigError(f"{path} = {_fmt(value)} is not allowed: must be {allowed}")


def validate(node: Any, path: str = "") -> None:
    """Raise :class:`ConfigError` for the first value outside its declared range (depth-first, schema order)."""
    if not dataclasses.is_dataclass(node):
        return
    defaults = type(node)()
    for f in dataclasses.fields(node):
        key = f"{path}.{f.name}" if path else f.name
        value = getattr(node, f.name)
        meta = f.metadata
        if dataclasses.is_dataclass(value):
            validate(value, key)
            continue
        if "choices" in meta and value not in meta["choices"]:
            raise ConfigError(f"{key} = {_fmt(value)} is not allowed: choose one of {', '.join(meta['choices'])}")
        if "subset_of" in meta:
            allowed = meta["subset_of"]
            if not isinstance(value, list) or any(v not in allowed for v in value) or len(set(value)) != len(value):
                raise ConfigError(
                    f"{key} = {_fmt(value)} is not allowed: must be a list of distinct values from {', '.join(allowed)}"
                )
        check = meta.get("check")
        if not check:
            continue
        if meta.get("each"):
            expected = len(getattr(defaults, f.name))
            if meta.get("any_length"):
                if not isinstance(value, list) or not value:
                    raise ConfigError(f"{key} = {_fmt(value)} is not allowed: must be a list of one or more values")
            elif not isinstance(value, list) or len(value) != expected:
                raise ConfigError(f"{key} = {_fmt(value)} is not allowed: must be a list of {expected} values")
            for i, v in enumerate(value):
                _check_scalar(f"{key}[{i}]", v, check)
            if meta.get("sums_to_one") and abs(sum(value) - 1.0) > 1e-6:
                raise ConfigError(
                    f"{key} = {_fmt(value)} is not allowed: the shares must sum to 1 (they sum to {sum(value):.4g})"
                )
        else:
            _check_scalar(key, value, check)
