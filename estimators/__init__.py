"""Bayesian estimators (PyMC) of policy effects from trial data, each with a statsmodels cross-check.

Importing this package imports every estimator module, so the registry ``ESTIMATORS`` is complete.
"""

from __future__ import annotations

import importlib
import pkgutil

from estimators.base import ESTIMATORS, DataError, Estimator, EstimatorConfig, SamplerConfig, register
from estimators.result import Estimate, to_frame

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("base", "result"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "ESTIMATORS",
    "DataError",
    "Estimate",
    "Estimator",
    "EstimatorConfig",
    "SamplerConfig",
    "register",
    "to_frame",
]
