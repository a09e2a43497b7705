"""Power across design points: where a power curve crosses a target, by interpolation.

Power of a test of an effect d with standard error s is about Phi(|d| / s - z), and s shrinks as 1 / sqrt(N), so
probit(power) is close to linear in the effect and in sqrt(N). Between the two design points that bracket the
target, :func:`crossing` interpolates linearly on those scales: the minimum detectable effect (MDE) over effect
sizes at one size, and the size for a target power over sizes at one effect.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import ndtri

EPS = 1e-3


def _probit(p: np.ndarray) -> np.ndarray:
    return ndtri(np.clip(p, EPS, 1 - EPS))


def crossing(x: np.ndarray, power: np.ndarray, target: float, sqrt_scale: bool = False) -> tuple[float, str]:
    """The x at which power first reaches ``target`` going up in x (x sorted ascending), interpolating
    probit(power) linearly in x (in sqrt(x) with ``sqrt_scale``, for sizes) between the bracketing points; NaN
    with a note when no pair brackets it."""
    x, power = np.asarray(x, dtype=float), np.asarray(power, dtype=float)
    ok = np.isfinite(x) & np.isfinite(power)
    x, power = x[ok], power[ok]
    if x.size == 0:
        return np.nan, "no design point with a known power"
    if power[0] >= target:
        return np.nan, f"power is {power[0]:.2f} >= {target:g} already at the smallest value tried ({x[0]:g})"
    above = np.flatnonzero(power >= target)
    if above.size == 0:
        return np.nan, f"power stays below {target:g} up to the largest value tried ({x[-1]:g}: {power[-1]:.2f})"
    i = int(above[0])
    x0, x1 = np.sqrt(x[i - 1 : i + 1]) if sqrt_scale else x[i - 1 : i + 1]
    p0, p1 = _probit(power[i - 1 : i + 1])
    t = (_probit(np.array([target]))[0] - p0) / (p1 - p0) if p1 != p0 else 1.0
    value = x0 + t * (x1 - x0)
    return float(value**2 if sqrt_scale else value), ""


def bisect_size(
    evaluate: Callable[[int], float], low: int, high: int, target: float, tolerance: float
) -> tuple[int | None, list[tuple[int, float]], str]:
    """The smallest size in [low, high] with power >= ``target``, by bisection (geometric midpoints: power is
    about linear in sqrt(N)) until the bracket is narrower than ``tolerance`` x its top. ``evaluate(n)`` is the
    power at size n. Returns the answer (None if ``high`` is not enough), every (size, power) evaluated, a note."""
    tried: list[tuple[int, float]] = []

    def power(n: int) -> float:
        p = evaluate(n)
        tried.append((n, p))
        return p

    if not power(high) >= target:
        return None, tried, f"power at the largest size tried ({high}) is below {target:g}: raise diagnose.n_max"
    if power(low) >= target:
        return low, tried, f"power already reaches {target:g} at the smallest size tried ({low}): lower diagnose.n_min"
    while high - low > max(1, tolerance * high):
        mid = round(float(np.sqrt(low * high)))
        mid = min(max(mid, low + 1), high - 1)
        if power(mid) >= target:
            high = mid
        else:
            low = mid
    return high, tried, ""
