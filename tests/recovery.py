"""What every recovery test measures, on an array with one row per replication whose first four columns are
(posterior mean, lower end of the 90% interval, upper end, truth), and the one tolerance they all use.

Every check allows ``Z`` Monte Carlo standard errors (MCSE) of independent replications: a correct estimator
fails one by chance about once in 370. The suite has about eight bias and eight coverage checks, so a correct
code base fails one of them in about 4% of the changes that redraw every world. The replications must be
independent for these errors to hold: a design whose replications share simulated units (panels drawn from one
bank of municipalities) would make them optimistic.

Recovery fits sample their chains one after the other (``cores=1``): the suite runs one test file per core, so
chains side by side would only add thread overhead (1.32 against 1.08-1.19 CPU seconds a household fit, 7
December 2026); the draws are the same either way."""

import numpy as np

#: Monte Carlo standard errors a recovery check allows (two-sided: about 1 in 370 by chance).
Z = 3.0
NOMINAL = 0.90


def bias(rows: np.ndarray) -> tuple[float, float]:
    """Mean error of the posterior mean against the truth, and its MCSE."""
    error = rows[:, 0] - rows[:, 3]
    return float(error.mean()), float(error.std(ddof=1) / np.sqrt(error.size))


def covered_90(rows: np.ndarray) -> np.ndarray:
    """Whether each replication's 90% interval contains its truth."""
    return (rows[:, 1] <= rows[:, 3]) & (rows[:, 3] <= rows[:, 2])


def coverage(rows: np.ndarray) -> tuple[float, float]:
    """The share of 90% intervals covering the truth, and its MCSE if the intervals are right (binomial at 90%)."""
    hit = covered_90(rows)
    return float(hit.mean()), float(np.sqrt(NOMINAL * (1 - NOMINAL) / hit.size))


def assert_unbiased(rows: np.ndarray) -> None:
    mean, mcse = bias(rows)
    assert abs(mean) <= Z * mcse, f"bias {mean:+.4g} beyond {Z:g} MCSE ({mcse:.2g})"


def assert_covers_90(rows: np.ndarray) -> None:
    share, mcse = coverage(rows)
    assert abs(share - NOMINAL) <= Z * mcse, f"90% coverage {share:.3f} beyond {Z:g} MCSE ({mcse:.3f}) of 0.90"


def summary(rows: np.ndarray) -> str:
    """Bias and coverage with their MCSE, and the average 90% interval's half-width over 1.645 (an SD) relative
    to the root-mean-square error (1 when the intervals are as wide as the errors), for the test's printed record."""
    mean, mcse = bias(rows)
    share, share_mcse = coverage(rows)
    rmse = np.sqrt(np.mean((rows[:, 0] - rows[:, 3]) ** 2))
    width = np.mean(rows[:, 2] - rows[:, 1]) / (2 * 1.645)
    return (
        f"bias {mean:+.4g} (MCSE {mcse:.2g}), 90% coverage {share:.3f} (MCSE {share_mcse:.3f}), "
        f"interval SD / RMSE {width / rmse:.2f}"
    )
