"""Policies: one module per policy in this package, each registered under its name (see ``base.py``).

Importing this package imports every policy module, so the registry ``POLICIES`` is complete (``base`` is the
registry itself and ``pages`` writes the policies' documentation tables).
"""

from __future__ import annotations

import importlib
import pkgutil

from sim.policies.base import POLICIES, register

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("base", "pages"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["POLICIES", "register"]
