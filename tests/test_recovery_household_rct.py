"""Recovery: over many simulated household-randomised trials, the logistic model with household effects is
unbiased for the effect and its 90% interval covers the truth about 90% of the time.

The two twin worlds (score shown to all / to none) are simulated once; each replication draws its own
enrolment window and household assignment from their potential outcomes (``HouseholdRct.draw_potential``), so
the truth of each replication is the exact average effect of its own sample. A planted risk ratio of 0.85 on
faring badly gives an effect to recover. 200 replications: the Monte Carlo standard error of a 90% coverage is
2.1 points, so the 85-95% band is ±2.4 standard errors."""

import numpy as np
import pytest

from estimators import ESTIMATORS, SamplerConfig
from sim.registry import compose_config
from sim.trials import TRIALS
from tests.recovery import bias, covered_90, summary

pytestmark = pytest.mark.slow
REPLICATIONS = 200


@pytest.fixture(scope="module")
def replications():
    run = compose_config(["trial=household_rct", "trial.assumed_risk_ratio=0.85", "seed=606"])
    trial = TRIALS["household_rct"](run.trial)
    worlds = trial.worlds(run)
    # target_accept 0.8 (the default is 0.9): a fifth fewer gradient steps for this three-parameter posterior. 2 chains
    # x (500 + 1,500): all 200 fits converged (smallest ESS 896) in two thirds of the CPU of 4 x (500 + 1,000), which
    # converged in all 200 too; 2 x (500 + 1,000) left 4 of 200 above R-hat 1.01, on the test's limit.
    estimator = ESTIMATORS["logistic_household"](SamplerConfig(draws=1500, tune=500, chains=2, target_accept=0.8))
    rows = []
    for r in range(REPLICATIONS):
        data = trial.draw_potential(worlds, seed=1000 + r)
        truth = data.truth.set_index(["outcome", "estimand"])["value"]
        est = estimator.fit(data.data, "faring_badly_12m", frequentist=False)[0]
        assert est.estimand == "risk_difference"
        rows.append(
            (est.estimate, est.lower_90, est.upper_90, truth[("faring_badly_12m", "risk_difference")], est.converged)
        )
    rows = np.array(rows, dtype=float)
    print(f"\nhousehold RCT, {REPLICATIONS} replications: {summary(rows)}, converged {rows[:, 4].mean():.2f}")
    return rows


def test_the_fits_converge(replications):
    # R-hat < 1.01 and ESS >= 400 on 2 x 1,500 draws. With 4 x 500 draws, well-mixed fits crossed the R-hat line by
    # chance in 8 of 200; with 1,000 or more a chain the split R-hat's own noise is about half as large, so more than
    # 4 unconverged fits in 200 means the sampler, not chance.
    assert replications[:, 4].mean() >= 0.98


def test_the_risk_difference_is_unbiased(replications):
    mean, mcse = bias(replications)
    assert abs(mean) < 3 * mcse


def test_the_90_percent_interval_covers_the_truth_about_90_percent_of_the_time(replications):
    assert 0.85 <= covered_90(replications).mean() <= 0.95
