"""The Monte Carlo errors the recovery tests judge estimators by (tests/recovery.py)."""

import numpy as np
import pytest

from tests.recovery import Z, assert_covers_90, assert_unbiased, bias, coverage


def intervals(covering: int, n: int = 200) -> np.ndarray:
    """``n`` replications with estimate 0 and interval (-1, 1), of which ``covering`` contain their truth."""
    rows = np.zeros((n, 4))
    rows[:, 1], rows[:, 2] = -1.0, 1.0
    rows[covering:, 3] = 2.0
    return rows


def test_coverage_has_the_binomial_error_of_a_90_percent_interval():
    share, mcse = coverage(intervals(180))
    assert share == 0.9
    assert np.isclose(mcse, np.sqrt(0.9 * 0.1 / 200))


@pytest.mark.parametrize(("covering", "passes"), [(180, True), (168, True), (166, False), (192, True), (194, False)])
def test_the_coverage_check_allows_three_standard_errors_either_side(covering, passes):
    # 3 MCSE of 200 replications is 6.4 points: 83.6-96.4% passes
    if passes:
        assert_covers_90(intervals(covering))
    else:
        with pytest.raises(AssertionError, match="beyond 3 MCSE"):
            assert_covers_90(intervals(covering))


def test_the_bias_check_allows_three_standard_errors_of_the_mean_error():
    error = np.random.default_rng(1).normal(size=100)
    rows = np.zeros((100, 4))
    rows[:, 0] = error - error.mean()
    mcse = bias(rows)[1]
    rows[:, 0] += Z * mcse * 0.99
    assert_unbiased(rows)
    rows[:, 0] += Z * mcse * 0.02
    with pytest.raises(AssertionError, match="beyond 3 MCSE"):
        assert_unbiased(rows)
