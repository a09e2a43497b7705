"""Recovery: over many simulated household-randomised trials, the logistic model with household effects is unbiased for
the effect and its 90% interval covers the effect it estimates about 90% of the time.

The two twin worlds (score shown to all / to none) are simulated once; each replication draws its own enrolment
window and household assignment from their potential outcomes (``HouseholdRct.draw_potential``). A planted risk
ratio of 0.85 on faring badly gives an effect to recover. Two truths:

- the sample's own effect (each replication's ``truth``: both potential outcomes of exactly its enrolled
  reports), against which the bias is measured;
- the population effect (``HouseholdRct.population_effects``: every report of the observation period, the
  planted effect at its expectation), which is what the model's interval is for. Against the sample's effect
  the interval must over-cover: the planted effect removes an event from some reports and not others, so unit
  effects vary, and the error of an estimate about its own sample's effect has a smaller variance than about
  the population's (Neyman). Measured at 6f10b9b (200 trials): coverage 0.955 of the sample's effects,
  interval SD / RMSE 1.16; 0.915 of the population effect, 1.05. Measured at 41d147d, after enrolment windows
  were kept to reports with 12 months of follow-up (other windows for the same seeds) and the model was
  compiled with IEEE arithmetic: 0.885 (0.93) and 0.845 (0.88), inside the band but near its lower edge.

200 replications: the Monte Carlo standard error (MCSE) of a 90% coverage is 2.1 points; each check allows 3 MCSE
(``tests.recovery.Z``), so coverage within 83.6-96.4%. The enrolment windows (2,000 of about 12,600 reports with
their follow-up) overlap and all come from one pair of worlds, so the errors are correlated between replications
and that MCSE is optimistic: the two measurements above, the same seeds over other windows, differ by 7 points, 3.3
of these MCSEs. Replications over several pairs of worlds, with errors clustered by world, would say how
optimistic; this test does not yet."""

import numpy as np
import pytest

from estimators import ESTIMATORS, SamplerConfig
from sim.registry import compose_config
from sim.trials import TRIALS
from tests.recovery import Z, assert_covers_90, assert_unbiased, covered_90, summary

pytestmark = pytest.mark.slow
REPLICATIONS = 200
OUTCOME = "faring_badly_12m"


@pytest.fixture(scope="module")
def replications():
    """One row per trial: posterior mean, 90% interval, the sample's effect, converged, the population effect."""
    run = compose_config(["trial=household_rct", "trial.assumed_risk_ratio=0.85", "seed=606"])
    trial = TRIALS["household_rct"](run.trial)
    worlds = trial.replication_worlds(run)
    population = trial.population_effects(worlds).set_index(["outcome", "estimand"])["value"]
    # target_accept 0.8 (the default is 0.9): a fifth fewer gradient steps for this three-parameter posterior. 2 chains
    # x (500 + 1,500): all 200 fits converged (smallest ESS 896) in two thirds of the CPU of 4 x (500 + 1,000), which
    # converged in all 200 too; 2 x (500 + 1,000) left 4 of 200 above R-hat 1.01, on the test's limit.
    estimator = ESTIMATORS["logistic_household"](
        SamplerConfig(draws=1500, tune=500, chains=2, target_accept=0.8, cores=1)
    )
    rows = []
    for r in range(REPLICATIONS):
        data = trial.draw_potential(worlds, seed=1000 + r)
        truth = data.truth.set_index(["outcome", "estimand"])["value"]
        est = estimator.fit(data.data, OUTCOME, frequentist=False)[0]
        assert est.estimand == "risk_difference"
        rows.append(
            (
                est.estimate,
                est.lower_90,
                est.upper_90,
                truth[(OUTCOME, "risk_difference")],
                est.converged,
                population[(OUTCOME, "risk_difference")],
            )
        )
    rows = np.array(rows, dtype=float)
    print(
        f"\nhousehold RCT, {REPLICATIONS} replications: against each sample's effect {summary(rows)}; against the "
        f"population effect {summary(against_population(rows))}; converged {rows[:, 4].mean():.2f}"
    )
    return rows


def against_population(rows: np.ndarray) -> np.ndarray:
    """The rows with the population effect as their truth."""
    return np.column_stack([rows[:, :3], rows[:, 5]])


def test_the_fits_converge(replications):
    # R-hat < 1.01 and ESS >= 400 on 2 x 1,500 draws. With 4 x 500 draws, well-mixed fits crossed the R-hat line by
    # chance in 8 of 200; with 1,000 or more a chain the split R-hat's own noise is about half as large, so more than
    # 4 unconverged fits in 200 means the sampler, not chance.
    assert replications[:, 4].mean() >= 0.98


def test_the_risk_difference_is_unbiased(replications):
    assert_unbiased(replications)


def test_the_90_percent_interval_covers_the_population_effect_about_90_percent_of_the_time(replications):
    assert_covers_90(against_population(replications))


def test_the_90_percent_interval_covers_each_samples_own_effect_at_least_as_often(replications):
    more = covered_90(replications).astype(float) - covered_90(against_population(replications))
    assert more.mean() >= -Z * more.std(ddof=1) / np.sqrt(more.size)
