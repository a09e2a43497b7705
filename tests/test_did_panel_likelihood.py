"""The panel DiD's AR(1) likelihood with municipality levels integrated out (estimators/did_panel.py) is the exact
restricted likelihood: equal to the dense multivariate normal computation, missing years included."""

import numpy as np
import pytest

from estimators.did_panel import ar1_loglik, ar1_steps

YEARS = np.array([2015, 2016, 2017, 2019, 2020, 2021, 2024])
KNOWN = np.array(
    [
        [1, 1, 1, 1, 1, 1, 1],  # every year
        [1, 0, 1, 1, 0, 0, 1],  # gaps of 2 and 3 calendar years (5 between 2019 and 2024)
        [0, 0, 0, 1, 0, 0, 0],  # one known year: nothing to learn within the municipality
        [0, 1, 1, 1, 1, 1, 0],
    ],
    dtype=bool,
)


def residuals(seed: int = 0) -> np.ndarray:
    r = np.random.default_rng(seed).normal(size=KNOWN.shape)
    return np.where(KNOWN, r, 0.0)


def evaluate(r: np.ndarray, rho: float, sigma: float) -> float:
    prev, gap, follows = ar1_steps(YEARS, KNOWN)
    observed = KNOWN.ravel().astype(float)
    return float(ar1_loglik(r.ravel(), prev, gap, follows, observed, rho, sigma, KNOWN.shape[0]).eval())


def dense(r: np.ndarray, rho: float, sigma: float) -> float:
    """-1/2 [log|S| + log(1'S^-1 1) + r'S^-1 r - (1'S^-1 r)^2 / 1'S^-1 1] summed over municipalities, with S the
    stationary AR(1) covariance of the known years: the flat-prior level integrated out, 2 pi terms dropped."""
    total = 0.0
    for row, known in zip(r, KNOWN, strict=True):
        y, x = row[known], YEARS[known]
        cov = sigma**2 / (1 - rho**2) * rho ** np.abs(np.subtract.outer(x, x))
        prec = np.linalg.inv(cov)
        one = np.ones(y.size)
        a, b = one @ prec @ one, one @ prec @ y
        total += -0.5 * (np.linalg.slogdet(cov)[1] + np.log(a) + y @ prec @ y - b**2 / a)
    return total


@pytest.mark.parametrize(("rho", "sigma"), [(0.0, 1.0), (0.6, 0.4), (-0.7, 1.8), (0.97, 0.9)])
def test_the_likelihood_equals_the_dense_restricted_likelihood_with_missing_years(rho, sigma):
    r = residuals()
    assert evaluate(r, rho, sigma) == pytest.approx(dense(r, rho, sigma), abs=1e-9)


def test_the_likelihood_tends_to_the_random_walk_of_the_differences_as_rho_tends_to_one():
    r, sigma = residuals(1), 0.7
    walk = 0.0
    for row, known in zip(r, KNOWN, strict=True):
        steps, years = np.diff(row[known]), np.diff(YEARS[known])
        walk += -0.5 * np.sum(np.log(sigma**2 * years) + steps**2 / (sigma**2 * years))
    assert evaluate(r, 1 - 1e-9, sigma) == pytest.approx(walk, abs=1e-5)


def test_a_municipality_with_one_known_year_adds_nothing():
    r = residuals(2)
    shifted = r.copy()
    shifted[2, 3] += 5.0  # the lone known year of the third municipality
    assert evaluate(shifted, 0.5, 1.0) == pytest.approx(evaluate(r, 0.5, 1.0), abs=1e-12)
