"""Decisions under uncertainty from a probabilistic sensitivity analysis: which option is best, how likely, and what
more information would be worth.

Everything here works on a matrix of net benefits, one row per parameter draw and one column per option (DKK a
year; higher is better), and nothing else, so it applies to the simulation's draws and to a toy model alike.

- :func:`acceptability`: the share of draws in which each option has the highest net benefit (one point of a
  cost-effectiveness acceptability curve);
- :func:`evpi`: the expected value of perfect information, the mean over draws of what choosing the best option in
  that draw gains over the option best on average;
- :func:`evppi`: the same for perfect information on some parameters only, by the regression metamodel of Strong,
  Oakley and Brennan (2014): each option's net benefit relative to the first is regressed on those parameters
  (a Gaussian process with a noise term) and the fitted values stand in for the conditional expectations;
- :func:`evsi`: the same with the parameters replaced by what a study of them would report (Strong et al. 2015).

Both values are written as a mean of non-negative per-draw regrets, ``max_d g_d(n) - g_best(n)``, so they are 0
exactly (not up to rounding) when one option is best in every draw, and can never be negative.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.linear_model import LinearRegression, RidgeCV
from sklearn.preprocessing import SplineTransformer


def _matrix(net_benefit: np.ndarray) -> np.ndarray:
    nb = np.asarray(net_benefit, dtype=float)
    if nb.ndim != 2 or nb.shape[0] == 0 or nb.shape[1] == 0:
        raise ValueError(f"net benefits must be a draws x options matrix, got shape {nb.shape}")
    if not np.isfinite(nb).all():
        raise ValueError("net benefits must be finite (a draw with a missing outcome cannot be valued)")
    return nb


def best_option(net_benefit: np.ndarray) -> int:
    """The option with the highest mean net benefit (the first of a tie): the choice under current information."""
    return int(np.argmax(_matrix(net_benefit).mean(axis=0)))


def regret(net_benefit: np.ndarray) -> np.ndarray:
    """Per draw, what the best option in that draw gains over the option best on average (>= 0)."""
    nb = _matrix(net_benefit)
    return nb.max(axis=1) - nb[:, best_option(nb)]


def acceptability(net_benefit: np.ndarray) -> np.ndarray:
    """Per option, the share of draws in which it has the highest net benefit (ties go to the first option)."""
    nb = _matrix(net_benefit)
    return np.bincount(nb.argmax(axis=1), minlength=nb.shape[1]) / nb.shape[0]


def evpi(net_benefit: np.ndarray) -> float:
    """Expected value of perfect information (net benefit units): E[max_d NB_d] - max_d E[NB_d]."""
    return float(regret(net_benefit).mean())


def evpi_standard_error(net_benefit: np.ndarray) -> float:
    """The Monte Carlo standard error of :func:`evpi` over independent draws."""
    r = regret(net_benefit)
    return float(r.std(ddof=1) / np.sqrt(r.size)) if r.size > 1 else float("nan")


def conditional_mean(values: np.ndarray, inputs: np.ndarray, seed: int = 0) -> np.ndarray:
    """E[values | inputs] at every draw, by regression on ``inputs`` (draws x parameters): for one parameter a
    penalised regression spline, for several a linear trend plus a Gaussian process (one length scale per parameter
    and a noise term) on what the trend leaves. Parameters
    constant over the draws carry no information and are dropped; with none left, or values constant over the
    draws, the answer is the mean."""
    y = np.asarray(values, dtype=float)
    x = np.asarray(inputs, dtype=float).reshape(y.size, -1)
    x = x[:, x.max(axis=0) > x.min(axis=0)] if y.size else x
    if x.shape[1] == 0 or y.max() == y.min():
        return np.full(y.shape, y.mean())
    z = (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))
    return _spline(z, y) if z.shape[1] == 1 else _smooth(z, y, seed)


def _spline(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For one parameter, a penalised cubic regression spline (the one-parameter GAM of Strong et al.), its penalty
    chosen by leave-one-out cross-validation: as good as a Gaussian process there, and a hundred times quicker."""
    basis = SplineTransformer(n_knots=8, degree=3).fit_transform(z)
    return RidgeCV(alphas=np.logspace(-6, 3, 19)).fit(basis, y).predict(basis)


def fitted_net_benefit(net_benefit: np.ndarray, inputs: np.ndarray, seed: int = 0) -> np.ndarray:
    """E[NB_d | inputs] at every draw, up to a term common to all options (which changes no choice and no
    regret): each option's net benefit relative to the first, by :func:`conditional_mean`, plus the first
    option's mean."""
    nb = _matrix(net_benefit)
    fitted = np.repeat(nb.mean(axis=0, keepdims=True), nb.shape[0], axis=0)
    for d in range(1, nb.shape[1]):
        fitted[:, d] = fitted[:, 0] + conditional_mean(nb[:, d] - nb[:, 0], inputs, seed)
    return fitted


def _smooth(z: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """A linear trend plus a Gaussian process on what it leaves, evaluated at the training inputs without the
    noise term: the trend carries a straight-line dependence (common for an effect size) that a stationary kernel
    would fit only with extreme length scales."""
    trend = LinearRegression().fit(z, y)
    rest = y - trend.predict(z)
    if rest.max() - rest.min() <= 1e-12 * max(abs(y).max(), 1.0):
        return trend.predict(z)
    kernel = ConstantKernel(1.0, (1e-6, 1e3)) * RBF(np.ones(z.shape[1]), (1e-2, 1e3)) + WhiteKernel(1.0, (1e-10, 10.0))
    gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=seed)
    with warnings.catch_warnings():  # a bound reached (a flat or noise-free function) is an answer, not an error
        warnings.simplefilter("ignore", ConvergenceWarning)
        return trend.predict(z) + gp.fit(z, rest).predict(z)


def evppi(net_benefit: np.ndarray, inputs: np.ndarray, seed: int = 0) -> float:
    """Expected value of partial perfect information on ``inputs`` (draws x parameters; net benefit units):
    E_inputs[max_d E[NB_d | inputs]] - max_d E[NB_d], the conditional expectations from the regression metamodel."""
    return evpi(fitted_net_benefit(net_benefit, inputs, seed))


def evsi(net_benefit: np.ndarray, statistics: np.ndarray, seed: int = 0) -> float:
    """Expected value of sample information (net benefit units), by the regression method of Strong, Oakley,
    Brennan and Breeze (2015): ``statistics`` (draws x k) summarise the data a study would collect in each draw's
    world (e.g. its estimate), and E[NB_d | statistics] by :func:`conditional_mean` stands in for the decision
    after the study. Never above the EVPI in expectation: a study knows less than the parameters."""
    return evppi(net_benefit, statistics, seed)


def population_factor(years: int, discount_rate: float) -> float:
    """What a yearly value is worth over ``years`` years, the first undiscounted: sum of (1 + r)^-t, t < years."""
    if years < 0 or discount_rate <= -1:
        raise ValueError("a horizon needs years >= 0 and a discount rate above -100%")
    return float(sum((1.0 + discount_rate) ** -t for t in range(years)))
