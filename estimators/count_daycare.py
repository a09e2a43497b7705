"""A negative binomial difference-in-differences with institution random effects, for the daycare comparison
(KK-2012): participating against other daycare institutions, before and after the social workers start.

    y_it ~ NegativeBinomial(mu_it, phi = 1 / kappa^2)            (variance mu + kappa^2 mu^2)
    log mu_it = log E_it + alpha + delta * p_i + beta * a_t + gamma * p_i * a_t + sigma * z_i - sigma^2 / 2
    z_i ~ N(0, 1)

for institution i and period t (before / after): y the count (reports, or children first reported), E the
children enrolled (child-years, the exposure offset), p = 1 for a participating institution and a = 1 after the
start, both centred at their means in the data (so that alpha, delta and beta are not correlated with each
other in the posterior; gamma is the interaction either way). ``delta`` is the participating institutions'
own level (they are the most burdened, not a random choice), ``beta`` the change over time, ``gamma`` the
change in the participating institutions on top of the others': the effect, as a log rate ratio. The
institution effects ``sigma * z_i`` (mean one on the rate scale) take up lasting differences between
institutions (intake, how readily the staff report); the negative binomial takes up extra variation of one
institution between periods (a few children reported many times).

Each institution's effect is integrated out by Gauss-Hermite quadrature (20 nodes), as in
``logistic_household``: the model has six parameters however many institutions there are, and the compiled
model is refitted with any data set, of any size, in about a second.

Priors (weakly informative; rates per child-year):

- alpha ~ N(-4, 2): the mean rate between 0.0004 and 0.9 per child-year with 95% probability (Danish daycare
  institutions report about 0.015 children a child-year);
- delta ~ N(0, 1), beta ~ N(0, 1): a level difference or a change over time up to a factor of 7 either way;
- gamma ~ N(0, 1.5) (times ``prior_scale``): a rate ratio between 0.05 and 19 a priori, no lean either way.
  Wider than the N(0, 1) of the other estimators on purpose: a municipality has a few dozen daycare
  institutions with a few reports a year each, so the data on gamma are weak (posterior SD about 0.4 in the
  small world), and N(0, 1) pulled the estimated difference towards 0 by about a sixth of its standard error
  over the recovery replications;
- tau ~ Gamma(2, 4), share ~ Beta(2, 2); sigma = tau * sqrt(share), kappa = tau * sqrt(1 - share): all the
  extra-Poisson variation (tau between 0.06 and 1.4, mean 0.5) and the part of it that is lasting. With two
  periods per institution the two parts are told apart only weakly; sampling their total and their split
  (instead of each with its own prior) keeps the sampler efficient, and the zero-avoiding prior on tau keeps it
  off the Poisson boundary: institutions do differ in how readily they report (in the simulation,
  ``world.institutions.reporting_propensity_sd``) and in their intake.

Estimands, by posterior prediction over the participating institutions' after-period rows:

- ``difference_per_institution_year`` (null 0, the headline): the observed count minus the count predicted
  without the social workers, summed over those rows and divided by their institution-years. For each
  posterior draw, each participating institution's effect is drawn from its posterior given its counts (at
  the quadrature nodes) and the counts without the social workers from the negative binomial at
  mu_it * exp(-gamma): the other institutions' change over time applied to the institution's own level
  (parallel trends on the log scale). This is the effect on the institutions and years observed, as the
  trial's truth is (the same counts in the twin world without the policy), so the interval includes the
  Poisson noise of the counts that did not happen and not of those that did.
- ``rate_ratio`` (null 1): exp(gamma), how many times as many the participating institutions report with the
  social workers as they would without, in expectation. (A ratio of observed to predicted counts would have
  a predicted count near 0 in the denominator for some draws when the participating institutions report
  little before the start.) Against the truth's ratio of counts it is somewhat conservative: its interval
  also holds the noise of the counts added, which the truth shares with the data.

KK-2012's social workers are meant to bring concerns up earlier, so more reports and more children first
reported young are the expected direction, and the better one ("higher"): a concern that reaches the agency
while the child is in daycare rather than in the "boom" at school start. (More reports are also more work for
the agency; the trial measures whether they come, not whether they help.)

statsmodels counterpart: GEE with a log link (Poisson), an exchangeable correlation within institutions, the
exposure offset and robust (sandwich) standard errors clustered by institution: the rate ratio exp(gamma) with
a Wald interval on the log scale, and the difference per institution-year, fitted rate times (1 - exp(-gamma))
over the same rows, with a delta-method interval.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import gammaln, logsumexp

from estimators.base import DataError, Estimand, Estimator, register

PRIOR_ALPHA = (-4.0, 2.0)  # mean and SD of alpha
PRIOR_TAU = (2.0, 4.0)  # shape and rate of tau
PRIOR_SHARE = (2.0, 2.0)  # Beta parameters of share
PRIOR_GAMMA_SD = 1.5  # SD of the effect gamma (times prior_scale)
NODES, WEIGHTS = np.polynomial.hermite.hermgauss(20)
LOG_WEIGHTS = np.log(WEIGHTS / np.sqrt(np.pi))
KEYS = ("institution_id", "participating", "after", "years", "child_years")
MODEL_DATA = ("y", "log_exposure", "participating", "after", "institution")  # the model's pm.Data
NUMPY = SimpleNamespace(exp=np.exp, log=np.log, log1p=np.log1p, gammaln=gammaln)


def nb_logpmf(y, log_mu, phi, ops):
    """The negative binomial (NB2: mean mu, variance mu + mu^2 / phi) log-probability of counts ``y``, with
    numpy or pytensor by the ``ops`` passed (``NUMPY`` or ``pytensor.tensor``); stays accurate for a large
    ``phi`` (nearly Poisson)."""
    return (
        ops.gammaln(y + phi)
        - ops.gammaln(phi)
        - ops.gammaln(y + 1.0)
        + y * (log_mu - ops.log(phi))
        - (y + phi) * ops.log1p(ops.exp(log_mu) / phi)
    )


def linear(arrays: dict, alpha, delta, beta, gamma):
    """log mu without the institution effect, with participating and after centred at their means."""
    p = arrays["participating"] - arrays["participating"].mean()
    a = arrays["after"] - arrays["after"].mean()
    return arrays["log_exposure"] + alpha + delta * p + beta * a + gamma * p * a


def shifts(sigma):
    """The institution effect on the log rate at each quadrature node (mean one on the rate scale)."""
    return sigma * np.sqrt(2.0) * NODES - sigma**2 / 2


@register
class CountDaycare(Estimator):
    name = "count_daycare"
    design = "daycare_comparison"
    outcomes: ClassVar[dict[str, str]] = {"reports": "higher", "first_reports": "higher"}

    @classmethod
    def example(cls, seed: int = 0, scale: float = 1.0) -> tuple[pd.DataFrame, str]:
        """64 daycare institutions (times ``scale``; the default world's), the most burdened third
        participating, 2 years before and 2 after, about 60 children each: reports at 0.015 per child-year in
        the other institutions and twice that in the participating ones, rising 10% over time everywhere and by
        a rate ratio of 1.4 in the participating institutions after the start; institution SD 0.4, negative
        binomial kappa 0.3."""
        rng = np.random.default_rng(seed)
        n = max(4, round(64 * scale))
        burden = rng.normal(size=n)
        part = (np.argsort(np.argsort(-burden)) < round(n / 3)).astype(int)
        children = rng.normal(60.0, 10.0, n).clip(20.0, None)
        level = np.log(0.015) + np.log(2.0) * part + 0.4 * rng.normal(size=n)
        rows = []
        for after in (0, 1):
            child_years = children * 2.0 * rng.uniform(0.95, 1.05, n)
            mu = child_years * np.exp(level + np.log(1.1) * after + np.log(1.4) * part * after)
            rate = rng.gamma(1.0 / 0.3**2, 0.3**2, n) * mu
            first = rng.poisson(child_years * 0.02)
            rows.append(
                pd.DataFrame(
                    {
                        "institution_id": np.arange(n),
                        "participating": part,
                        "period": "after" if after else "before",
                        "after": after,
                        "years": 2,
                        "child_years": child_years,
                        "reports": rng.poisson(rate),
                        "first_reports": first,
                        "mean_age_first_report": np.where(first > 0, rng.uniform(1.0, 5.0, n), np.nan),
                        "inquiries": np.where(part * after == 1, rng.poisson(child_years * 0.063), 0),
                    }
                )
            )
        return pd.concat(rows, ignore_index=True), "reports"

    def validate(self, df: pd.DataFrame, outcome: str) -> None:
        self.require(df, [*KEYS, outcome])
        if df["institution_id"].isna().any():
            row = df.index[df["institution_id"].isna()][0]
            raise DataError(f"column 'institution_id' is empty in row {row + 2}: every row is one institution's")
        self.binary(df, "participating")
        self.binary(df, "after")
        for column in (outcome, "years", "child_years"):
            values = pd.to_numeric(df[column], errors="coerce")
            bad = values.isna() | values.isin([np.inf, -np.inf])
            if bad.any():
                row = values.index[bad][0]
                raise DataError(
                    f"column '{column}' must be a number in every row; row {row + 2} has {df[column][row]!r}"
                )
        y = pd.to_numeric(df[outcome])
        bad = (y < 0) | (y != np.round(y))
        if bad.any():
            row = y.index[bad][0]
            raise DataError(
                f"column '{outcome}' must be a whole number >= 0 (a count); row {row + 2} has {df[outcome][row]!r}"
            )
        for column in ("years", "child_years"):
            values = pd.to_numeric(df[column])
            if (values <= 0).any():
                row = values.index[values <= 0][0]
                raise DataError(
                    f"column '{column}' must be positive (the exposure); row {row + 2} has {df[column][row]!r}"
                )
        if (y == 0).all():
            raise DataError(f"column '{outcome}' is 0 in every row: there is nothing to compare")
        keyed = df.assign(participating=df["participating"].astype(int), after=df["after"].astype(int))
        mixed = keyed.groupby("institution_id")["participating"].nunique()
        if (mixed > 1).any():
            raise DataError(
                f"column 'participating' varies within institution_id {mixed[mixed > 1].index[0]}: an "
                "institution is participating or not in both periods"
            )
        twice = keyed.duplicated(["institution_id", "after"])
        if twice.any():
            row = keyed.index[twice][0]
            raise DataError(
                f"institution_id {keyed['institution_id'][row]} has more than one row with after = "
                f"{keyed['after'][row]} (row {row + 2}): one row per institution and period"
            )
        cells = keyed.groupby(["participating", "after"]).size()
        for p, group in ((1, "participating"), (0, "other")):
            for a, period in ((0, "before"), (1, "after")):
                if (p, a) not in cells.index:
                    raise DataError(
                        f"the {group} institutions (participating = {p}) have no rows in the {period} period "
                        f"(after = {a}): the comparison needs both groups in both periods"
                    )

    def arrays(self, df: pd.DataFrame, outcome: str) -> dict[str, np.ndarray]:
        codes, _ = pd.factorize(df["institution_id"], sort=True)
        return {
            "y": df[outcome].to_numpy(dtype=np.int64),
            "log_exposure": np.log(df["child_years"].to_numpy(dtype=float)),
            "years": df["years"].to_numpy(dtype=float),
            "participating": df["participating"].to_numpy(dtype=float),
            "after": df["after"].to_numpy(dtype=float),
            "institution": codes.astype(np.int64),
        }

    def structure(self, arrays: dict[str, np.ndarray]) -> tuple:
        """One compiled model for every data set: the model's data have no fixed shapes (``years`` is only for
        the estimands)."""
        return MODEL_DATA

    def build(self, arrays: dict[str, np.ndarray]):
        import pymc as pm
        import pytensor.tensor as pt

        with pm.Model() as model:
            data = {k: pm.Data(k, arrays[k]) for k in MODEL_DATA}
            alpha = pm.Normal("alpha", *PRIOR_ALPHA)
            delta = pm.Normal("delta", 0.0, 1.0)
            beta = pm.Normal("beta", 0.0, 1.0)
            gamma = pm.Normal("gamma", 0.0, PRIOR_GAMMA_SD * self.settings.prior_scale)
            tau = pm.Gamma("tau", alpha=PRIOR_TAU[0], beta=PRIOR_TAU[1])  # extra-Poisson variation, split by share
            share = pm.Beta("share", *PRIOR_SHARE)
            sigma = pm.Deterministic("sigma", tau * pt.sqrt(share))
            kappa = pm.Deterministic("kappa", tau * pt.sqrt(1.0 - share))
            eta = linear(data, alpha, delta, beta, gamma)
            log_mu = eta[:, None] + shifts(sigma)[None, :]  # rows x nodes
            per_row = nb_logpmf(data["y"][:, None], log_mu, 1.0 / (kappa**2 + 1e-8), pt)
            inst = data["institution"]
            per_institution = pt.inc_subtensor(pt.zeros((inst.max() + 1, NODES.size))[inst], per_row)
            pm.Potential("institution_loglik", pt.logsumexp(per_institution + LOG_WEIGHTS[None, :], axis=1).sum())
        return model

    def estimands(self, posterior: dict[str, np.ndarray], arrays: dict[str, np.ndarray]) -> list[Estimand]:
        treated = (arrays["participating"] * arrays["after"]) == 1
        observed = float(arrays["y"][treated].sum())
        institution_years = float(arrays["years"][treated].sum())
        predicted = self.predicted_without(posterior, arrays)
        return [
            Estimand("difference_per_institution_year", (observed - predicted) / institution_years, 0.0),
            Estimand("rate_ratio", np.exp(posterior["gamma"]), 1.0),
        ]

    def predicted_without(self, posterior: dict[str, np.ndarray], arrays: dict[str, np.ndarray]) -> np.ndarray:
        """Per posterior draw: the participating institutions' after-period counts without the social workers,
        summed (each institution's effect drawn from its posterior given all its rows, then the counts from the
        negative binomial with the effect gamma removed)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.settings.seed, 0xDA7C0]))
        treated = (arrays["participating"] * arrays["after"]) == 1
        rows = np.flatnonzero(np.isin(arrays["institution"], np.unique(arrays["institution"][treated])))
        rows = rows[np.argsort(arrays["institution"][rows], kind="stable")]  # by institution
        new = np.r_[True, np.diff(arrays["institution"][rows]) != 0]
        group, starts, t = np.cumsum(new) - 1, np.flatnonzero(new), treated[rows]
        y = arrays["y"][rows].astype(float)
        draws = posterior["gamma"].shape[0]
        out = []
        for chunk in np.array_split(np.arange(draws), max(1, draws // 250)):
            alpha, delta, beta, gamma, sigma, kappa = (
                posterior[k][chunk][:, None] for k in ("alpha", "delta", "beta", "gamma", "sigma", "kappa")
            )
            eta = linear(arrays, alpha, delta, beta, gamma)[:, rows]  # draws x rows
            shift = shifts(sigma)  # draws x nodes
            phi = 1.0 / (kappa**2 + 1e-8)
            per_row = nb_logpmf(y[None, :, None], eta[:, :, None] + shift[:, None, :], phi[:, :, None], NUMPY)
            joint = np.add.reduceat(per_row, starts, axis=1) + LOG_WEIGHTS  # draws x institutions x nodes
            weights = np.exp(joint - logsumexp(joint, axis=2, keepdims=True))
            node = (weights.cumsum(axis=2) < rng.random(joint.shape[:2])[..., None]).sum(axis=2)
            effect = np.take_along_axis(shift, node.clip(0, NODES.size - 1), axis=1)  # draws x institutions
            mu = np.exp(eta[:, t] - gamma + effect[:, group[t]])
            rate = rng.gamma(np.broadcast_to(phi, mu.shape), mu / phi)
            out.append(rng.poisson(rate).sum(axis=1).astype(float))
        return np.concatenate(out)

    def frequentist(self, df: pd.DataFrame, outcome: str) -> dict[str, tuple[float, float, float, str]]:
        import statsmodels.api as sm

        d = df.assign(_group=pd.factorize(df["institution_id"], sort=True)[0]).sort_values("_group")
        part, after = d["participating"].to_numpy(dtype=float), d["after"].to_numpy(dtype=float)
        exog = np.column_stack([np.ones_like(part), part, after, part * after])
        exposure = d["child_years"].to_numpy(dtype=float)
        model = sm.GEE(
            d[outcome].to_numpy(dtype=float),
            exog,
            groups=d["_group"].to_numpy(),
            offset=np.log(exposure),
            family=sm.families.Poisson(),
            cov_struct=sm.cov_struct.Exchangeable(),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = model.fit()
        params, cov = np.asarray(fit.params), np.asarray(fit.cov_params())
        gamma, se_gamma = float(params[3]), float(np.sqrt(cov[3, 3]))
        treated = (part * after) == 1
        with_effect = float(exposure[treated].sum() * np.exp(params.sum()))  # the fitted rate in those rows
        institution_years = float(d["years"].to_numpy(dtype=float)[treated].sum())
        difference = with_effect * (1.0 - np.exp(-gamma)) / institution_years
        grad = np.array([difference, difference, difference, with_effect / institution_years])  # d / d params
        se = float(np.sqrt(grad @ cov @ grad))
        method = "GEE log link (Poisson), exchangeable within institution, robust"
        return {
            "difference_per_institution_year": (
                difference,
                difference - 1.96 * se,
                difference + 1.96 * se,
                f"{method}, delta-method interval",
            ),
            "rate_ratio": (
                float(np.exp(gamma)),
                float(np.exp(gamma - 1.96 * se_gamma)),
                float(np.exp(gamma + 1.96 * se_gamma)),
                f"{method}, exp(interaction) with a Wald interval on the log scale",
            ),
        }
