"""Bayesian estimators (PyMC) that recover policy effects from trial data (see issue: trial designs)."""
