"""The value-of-information maths on toy decision models with closed-form answers: two options whose net benefit
difference is normal have EVPI = s * phi(m / s) + m * Phi(m / s) - max(m, 0) for a difference N(m, s^2)."""

import numpy as np
import pytest
from scipy import stats

from sim.uncertainty import voi


def normal_evpi(mean: float, sd: float) -> float:
    """E[max(D, 0)] - max(E[D], 0) for D ~ N(mean, sd^2)."""
    return sd * stats.norm.pdf(mean / sd) + mean * stats.norm.cdf(mean / sd) - max(mean, 0.0)


def two_options(difference: np.ndarray) -> np.ndarray:
    return np.column_stack([np.zeros_like(difference), difference])


def test_evpi_of_two_normal_options_matches_the_closed_form_within_monte_carlo_error():
    rng = np.random.default_rng(20261207)
    nb = two_options(rng.normal(0.3, 1.2, 20_000))
    estimate, se = voi.evpi(nb), voi.evpi_standard_error(nb)
    assert abs(estimate - normal_evpi(0.3, 1.2)) < 3 * se
    assert se < 0.01  # the check is sharp: about 2% of the value


def test_evppi_of_one_parameter_matches_the_closed_form_within_monte_carlo_error():
    # D = 0.3 + theta1 + 0.3 theta2: perfect information on theta1 alone is worth E[max(0.3 + theta1, 0)] - 0.3.
    rng = np.random.default_rng(7)
    theta = rng.normal(0.0, 1.0, (800, 2))
    nb = two_options(0.3 + theta[:, 0] + 0.3 * theta[:, 1])
    exact = two_options(0.3 + theta[:, 0])  # E[D | theta1], known here: the metamodel's target
    estimate = voi.evppi(nb, theta[:, :1])
    assert abs(estimate - normal_evpi(0.3, 1.0)) < 3 * voi.evpi_standard_error(exact)
    assert voi.evppi(nb, theta[:, :1]) < voi.evpi(nb)


def test_evppi_of_every_parameter_together_is_the_evpi_without_the_noise():
    rng = np.random.default_rng(11)
    theta = rng.normal(0.0, 1.0, (400, 2))
    signal = -0.2 + theta[:, 0] - 0.5 * theta[:, 1]
    noisy = two_options(signal + rng.normal(0.0, 0.5, 400))  # simulation noise on top of the parameters' effect
    target = voi.evpi(two_options(signal))
    assert abs(voi.evppi(noisy, theta) - target) < abs(voi.evpi(noisy) - target)


def test_nothing_uncertain_is_worth_exactly_nothing_and_every_option_is_best_with_probability_0_or_1():
    nb = np.tile([[-3.0, -1.0 / 3.0, -2.5]], (50, 1))  # every draw the same, as with every parameter fixed
    x = np.full((50, 4), 0.25)
    assert voi.evpi(nb) == 0.0
    assert voi.evppi(nb, x) == 0.0
    assert voi.evppi(nb, x[:, :0]) == 0.0
    assert voi.acceptability(nb).tolist() == [0.0, 1.0, 0.0]


def test_the_parameter_whose_effect_straddles_zero_has_the_largest_evppi():
    # Option 1's advantage hangs on theta_a (a range from harm to help); option 2 is far worse whatever theta_b,
    # which has the larger spread but cannot change the choice.
    rng = np.random.default_rng(3)
    a, b = rng.uniform(-1, 1, 400), rng.uniform(-5, 5, 400)
    nb = np.column_stack([np.zeros(400), a, -20.0 + b])
    values = {"a": voi.evppi(nb, a[:, None]), "b": voi.evppi(nb, b[:, None])}
    assert values["a"] == pytest.approx(0.25, abs=0.03)  # E[max(a, 0)] = 1/4 for a ~ U(-1, 1)
    # theta_b cannot change the choice; what the metamodel finds there is fitted noise, a small upward bias
    assert values["b"] < 0.1 * values["a"]


def test_evsi_of_a_normal_study_matches_its_closed_form_grows_with_the_sample_and_stays_below_the_evpi():
    # Net benefit difference theta ~ N(0.2, 1); a study of n units, each N(theta, 3^2), reports its mean. After the
    # study the posterior mean of theta is N(0.2, tau^2) over studies, tau^2 = 1 / (1 + 9 / n): EVSI is the EVPI of
    # that normal (Strong et al. 2015, the conjugate case).
    rng = np.random.default_rng(17)
    theta = rng.normal(0.2, 1.0, 1500)
    nb = two_options(theta)
    noise = rng.normal(0.0, 1.0, 1500)
    values = []
    for n in (2, 10, 50, 250):
        study_mean = theta + 3.0 * noise / np.sqrt(n)
        tau = np.sqrt(1.0 / (1.0 + 9.0 / n))
        exact = two_options(0.2 + tau**2 * (study_mean - 0.2))  # the posterior mean given the study: E[D | data]
        value = voi.evsi(nb, study_mean[:, None])
        assert abs(value - normal_evpi(0.2, tau)) < 3 * voi.evpi_standard_error(exact)
        values.append(value)
    assert values == sorted(values)  # more information is worth more
    assert values[-1] < voi.evpi(nb)  # and never more than perfect information


def test_the_best_option_and_its_regret():
    nb = np.array([[1.0, 0.0], [0.0, 3.0], [2.0, 1.0]])
    assert voi.best_option(nb) == 1  # means 1.0 and 4/3
    assert voi.regret(nb).tolist() == [1.0, 0.0, 1.0]
    assert voi.acceptability(nb).tolist() == pytest.approx([2 / 3, 1 / 3])


def test_a_value_over_a_horizon_discounts_every_year_after_the_first():
    assert voi.population_factor(1, 0.035) == 1.0
    assert voi.population_factor(10, 0.0) == 10.0
    assert voi.population_factor(10, 0.035) == pytest.approx(8.6077, abs=1e-4)


def test_net_benefits_with_a_missing_value_are_refused():
    with pytest.raises(ValueError, match="finite"):
        voi.evpi(np.array([[0.0, np.nan]]))
