"""Read and set config values by their dotted key, e.g. ``world.outcomes.crime_rate_per_year[1]``."""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

from sim.config.validate import ConfigError

_PART = re.compile(r"^([a-z_][a-z_0-9]*)(?:\[(\d+)\])?$")


def _split(key: str) -> list[tuple[str, int | None]]:
    parts = []
    for part in key.split("."):
        m = _PART.match(part)
        if not m:
            raise ConfigError(f"{key!r} is not a config key (write e.g. world.reports.rate_multiplier or a[1])")
        parts.append((m.group(1), int(m.group(2)) if m.group(2) is not None else None))
    return parts


def get_value(cfg: Any, key: str) -> Any:
    """The value at ``key``; a :class:`ConfigError` naming the key if it does not exist."""
    node = cfg
    for name, index in _split(key):
        if not dataclasses.is_dataclass(node) or name not in {f.name for f in dataclasses.fields(node)}:
            raise ConfigError(f"unknown config key '{key}'")
        node = getattr(node, name)
        if index is not None:
            if not isinstance(node, list) or index >= len(node):
                raise ConfigError(f"'{key}': index {index} is outside the list")
            node = node[index]
    return node


def with_values(cfg: Any, values: dict[str, float]) -> Any:
    """A deep copy of ``cfg`` with each dotted key set to its value."""
    out = copy.deepcopy(cfg)
    for key, value in values.items():
        *parents, (name, index) = _split(key)
        node = out
        for p_name, p_index in parents:
            node = getattr(node, p_name)
            if p_index is not None:
                node = node[p_index]
        get_value(out, key)  # raises for unknown keys
        if index is None:
            setattr(node, name, type(getattr(node, name))(value))
        else:
            getattr(node, name)[index] = float(value)
    return out
