"""The policies' registry. A policy module (``sim/policies/<name>.py``) defines a :class:`sim.hooks.Policy`
subclass with a ``name`` and a ``Config`` dataclass (fields made with :mod:`sim.config.fields`, so every value is
range-checked and documented), and decorates it with :func:`register`. ``conf/policy/<name>.yaml`` selects it:
``python -m sim policy=<name>``.
"""

from __future__ import annotations

from sim.hooks import Policy

POLICIES: dict[str, type[Policy]] = {}


def register(cls: type[Policy]) -> type[Policy]:
    """Class decorator: make a policy selectable as ``policy=<cls.name>``."""
    if not getattr(cls, "name", None):
        raise TypeError(f"{cls.__name__} needs a name")
    POLICIES[cls.name] = cls
    return cls
