"""Recovery: over many simulated daycare comparisons, the negative binomial difference-in-differences is unbiased for
the social workers' effect on reports and its 90% interval covers the truth about 90% of the time.

Each replication is a pair of independent worlds of its own (seed 7000 + r): the world with the policy and its twin
without, a municipality of 7,500 children (40 daycare institutions, 13 participating), 2 years of burn-in and 4
observed, the social workers from the third, two years either side (the design's defaults). Resampling the
institutions of one pair would not do: every replication would share that pair's counts, so the errors would share
one draw of their noise and their mean would not tend to zero. The truth of each replication is exact (its
participating institutions' reports in the two worlds). The policy's own effect in the world is the planted effect:
about one more report per participating institution-year, on about 1.3 without (rate ratio about 1.9). 80
replications (100 until 7 December 2026, cut to keep CI within its 25 minutes): the Monte Carlo standard error
(MCSE) of a 90% coverage is 3.35 points; coverage and bias each allow 3 MCSE (``tests.recovery.Z``), so coverage
within 80-100%: the check catches an interval that covers 80% with probability about 0.5, and 75% with about 0.85.
Measured with 80 on 7 December 2026 (one core, 177 s): bias -0.085 reports per institution-year (MCSE 0.059) on a
mean truth of 1.29, 90% coverage 0.900, 97% of fits converged. Two worlds and one fit of 2 x (300 + 1,000) steps
per replication: 100 of them took 301 s on 2 cores while another recovery test ran on the other (6 December 2026,
``python -m pytest -m slow -n 2 -rP`` on four recovery files).

Measured then (seeds 7000-7099): bias -0.020 reports per institution-year (Monte Carlo SE 0.054) on a mean truth of
1.05; 90% coverage 0.89; all 100 fits converged. The rate ratio exp(gamma), not tested here: 90% coverage 0.87 of
the realised ratio, and a posterior mean 0.31 above it (the mean of a skewed posterior). With the small world's
5,000 children (9 participating institutions) and gamma ~ N(0, 1) the difference was biased by -0.17 (2.8 Monte
Carlo SEs): the prior's pull and the skew of the predicted counts, both shrinking with more data; hence the wider
prior (N(0, 1.5)) and this larger municipality."""

import time

import numpy as np
import pytest

from estimators import ESTIMATORS, SamplerConfig
from sim.registry import compose_config
from sim.trials import TRIALS
from tests.recovery import assert_covers_90, assert_unbiased

pytestmark = pytest.mark.slow
REPLICATIONS = 80


@pytest.fixture(scope="module")
def replications():
    # 300 tuning steps (nutpie's own default) adapt this six-parameter model: all 100 fits converged.
    estimator = ESTIMATORS["count_daycare"](SamplerConfig(draws=1000, tune=300, cores=1))
    rows, start = [], time.perf_counter()
    for r in range(REPLICATIONS):
        run = compose_config(
            [
                "world=small",
                "world.children=7500",
                "world.years=4",
                "world.burn_in_years=2",
                "trial=daycare_comparison",
                "trial.start_year=2022",
                f"seed={7000 + r}",
            ]
        )
        trial = TRIALS["daycare_comparison"](run.trial)
        data = trial.draw(trial.worlds(run), run.seed)
        truth = data.truth.set_index(["outcome", "estimand"])["value"]
        difference, ratio = estimator.fit(data.data, "reports", frequentist=False)
        assert difference.estimand == "difference_per_institution_year"
        rows.append(
            (
                difference.estimate,
                difference.lower_90,
                difference.upper_90,
                truth[("reports", "difference_per_institution_year")],
                difference.converged,
                ratio.estimate,
                ratio.lower_90,
                ratio.upper_90,
                truth[("reports", "rate_ratio")],
            )
        )
    out = np.array(rows, dtype=float)
    error = out[:, 0] - out[:, 3]
    print(
        f"\n{REPLICATIONS} replications in {time.perf_counter() - start:.0f} s: mean truth {out[:, 3].mean():.3f}, "
        f"bias {error.mean():+.4f} (MCSE {error.std(ddof=1) / np.sqrt(error.size):.4f}), "
        f"90% coverage {covered(out[:, 1:4]).mean():.3f}, converged {out[:, 4].mean():.2f}; rate ratio: "
        f"bias {(out[:, 5] - out[:, 8]).mean():+.3f}, 90% coverage {covered(out[:, 6:9]).mean():.3f}"
    )
    return out


def covered(lower_upper_truth: np.ndarray) -> np.ndarray:
    lower, upper, truth = lower_upper_truth.T
    return (lower <= truth) & (truth <= upper)


def test_the_fits_converge(replications):
    assert replications[:, 4].mean() >= 0.95


def test_the_difference_per_institution_year_is_unbiased(replications):
    assert_unbiased(replications)


def test_the_90_percent_interval_covers_the_truth_about_90_percent_of_the_time(replications):
    assert_covers_90(replications)
