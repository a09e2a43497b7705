"""Trial designs: one module per design in this package, registered under its name (see ``base.py``)."""

from __future__ import annotations

import importlib
import pkgutil

from sim.trials.base import TRIALS, Trial, TrialConfig, TrialData, register

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["TRIALS", "Trial", "TrialConfig", "TrialData", "register"]
