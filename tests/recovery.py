"""What every recovery test measures, on an array with one row per replication whose first four columns are
(posterior mean, lower end of the 90% interval, upper end, truth)."""

import numpy as np


def bias(rows: np.ndarray) -> tuple[float, float]:
    """Mean error of the posterior mean against the truth, and its Monte Carlo standard error."""
    error = rows[:, 0] - rows[:, 3]
    return float(error.mean()), float(error.std(ddof=1) / np.sqrt(error.size))


def covered_90(rows: np.ndarray) -> np.ndarray:
    """Whether each replication's 90% interval contains its truth."""
    return (rows[:, 1] <= rows[:, 3]) & (rows[:, 3] <= rows[:, 2])


def summary(rows: np.ndarray) -> str:
    """Bias with its MCSE, the 90% coverage, and the average 90% interval's half-width over 1.645 (an SD) relative
    to the root-mean-square error (1 when the intervals are as wide as the errors), for the test's printed record."""
    mean, mcse = bias(rows)
    rmse = np.sqrt(np.mean((rows[:, 0] - rows[:, 3]) ** 2))
    width = np.mean(rows[:, 2] - rows[:, 1]) / (2 * 1.645)
    return (
        f"bias {mean:+.4g} (MCSE {mcse:.2g}), 90% coverage {covered_90(rows).mean():.3f}, "
        f"interval SD / RMSE {width / rmse:.2f}"
    )
