"""Logistic regression with household random intercepts, for the household-randomised trial (TRYG-2019).

    y_i ~ Bernoulli(logit^-1(alpha + beta * treated_h + sigma * u_h)),   u_h ~ N(0, 1),   h = household(i)

Priors (weakly informative, on the logit scale): alpha ~ N(0, 2.5) (any baseline risk), beta ~ N(0, 1) (an odds
ratio between 0.14 and 7 a priori; scaled by ``prior_scale``), sigma ~ HalfNormal(1) (household SD).

Because treatment is assigned by household and the model has no report-level covariates, every report of a
household shares one probability, so a household's likelihood depends only on its (reports, events, arm). The
household effect is integrated out exactly up to Gauss-Hermite quadrature (20 nodes), and households with the
same pattern are counted once: the model has three parameters however many households there are, is compiled
once and refitted with new data in well under a second.

Estimands, by posterior prediction with the household effect integrated over its distribution:
``risk_difference`` (treated minus control, the marginal effect in the trial's population), ``risk_ratio``, and
the household-conditional ``odds_ratio`` exp(beta).

**Fast fit** (``fit_fast``, for design diagnosis): the posterior mode of the same marginalised model with the
same priors (Newton steps with its exact gradient and Hessian, vectorised over the household patterns), and the
Laplace approximation: the parameters normal around the mode with the inverse negative Hessian as covariance, and
the same estimands by prediction from draws of it. sigma enters the likelihood only through sigma * u with u
symmetric, so it is optimised over the real line and used as |sigma|: a household SD near 0 is then an interior
point, not a boundary. Milliseconds per fit; its agreement with NUTS over replications is in docs/diagnose.md.

statsmodels counterparts: GEE with exchangeable correlation
within households and cluster-robust errors, identity link for the risk difference, log link (modified
Poisson) for the risk ratio.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from estimators.base import DataError, Estimand, Estimator, register
from estimators.result import Estimate

NODES, WEIGHTS = np.polynomial.hermite.hermgauss(20)
LOG_WEIGHTS = np.log(WEIGHTS / np.sqrt(np.pi))


def household_patterns(df: pd.DataFrame, outcome: str) -> dict[str, np.ndarray]:
    """Households compressed to (reports n, events s, arm x) with the number of households of each pattern."""
    per_household = df.groupby("household_id").agg(n=(outcome, "size"), s=(outcome, "sum"), x=("treated", "first"))
    patterns = per_household.groupby(["n", "s", "x"]).size().rename("count").reset_index()
    return {name: patterns[name].to_numpy(dtype=float) for name in ("n", "s", "x", "count")}


def marginal_risk(alpha: np.ndarray, beta: np.ndarray, sigma: np.ndarray, treated: float) -> np.ndarray:
    """P(y = 1 | arm) with the household effect integrated over N(0, sigma^2), per posterior draw."""
    eta = alpha[:, None] + beta[:, None] * treated + sigma[:, None] * np.sqrt(2.0) * NODES[None, :]
    return (np.exp(LOG_WEIGHTS)[None, :] / (1.0 + np.exp(-eta))).sum(axis=1)


def household_loglik(theta: np.ndarray, arrays: dict[str, np.ndarray]) -> tuple[float, np.ndarray, np.ndarray]:
    """The marginalised log-likelihood at ``theta`` = (alpha, beta, sigma), with its gradient and Hessian.

    Per pattern k: L_k = log sum_j w_j exp(l_kj), l_kj = s eta_kj - n log(1 + e^eta_kj), eta_kj = alpha + beta x_k
    + sigma sqrt(2) z_j. With q_kj the normalised weights w_j e^l_kj / e^L_k, g = s - n p and h = -n p (1 - p)
    (p = logit^-1 eta) and d_kj = (1, x_k, sqrt(2) z_j): grad L_k = sum_j q g d, and Hessian
    sum_j q (g^2 + h) d d' - grad L_k grad L_k'."""
    n, s, x, count = (arrays[k][:, None] for k in ("n", "s", "x", "count"))
    node = np.sqrt(2.0) * NODES[None, :]
    eta = theta[0] + theta[1] * x + theta[2] * node
    ll = s * eta - n * np.logaddexp(0.0, eta) + LOG_WEIGHTS[None, :]
    top = ll.max(axis=1, keepdims=True)
    q = np.exp(ll - top)
    total = q.sum(axis=1, keepdims=True)
    value = float((count[:, 0] * (np.log(total[:, 0]) + top[:, 0])).sum())
    q /= total
    p = 1.0 / (1.0 + np.exp(-eta))
    g, h = s - n * p, -n * p * (1.0 - p)
    d = np.stack(np.broadcast_arrays(np.ones_like(eta), x + 0 * eta, node + 0 * eta), axis=-1)  # (K, J, 3)
    grad_k = np.einsum("kj,kjd->kd", q * g, d)
    hess_k = np.einsum("kj,kjd,kje->kde", q * (g * g + h), d, d) - grad_k[:, :, None] * grad_k[:, None, :]
    return value, (count * grad_k).sum(axis=0), (count[:, :, None] * hess_k).sum(axis=0)


def posterior_mode(
    arrays: dict[str, np.ndarray], prior_sd: tuple[float, float, float] = (2.5, 1.0, 1.0)
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The maximum of :func:`household_loglik` plus the model's log prior (alpha ~ N(0, 2.5), beta ~ N(0, 1 x
    prior_scale), sigma ~ HalfNormal(1): normal densities with SDs ``prior_sd``) by scipy's trust-region Newton
    with the exact Hessian; the inverse of the negative Hessian there (the Laplace covariance); and warnings if
    it is not a proper maximum. With the priors the mode's predictions match the posterior means of NUTS to about
    a fortieth of a standard error; the pure maximum likelihood is pulled away by the effect prior's absence
    (an eighth of a standard error at N = 2,000, docs/diagnose.md)."""
    from scipy.optimize import minimize

    precision = 1.0 / np.square(np.maximum(np.asarray(prior_sd, dtype=float), 1e-6))

    def log_posterior(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        value, grad, hess = household_loglik(theta, arrays)
        return (
            value - 0.5 * float(precision @ np.square(theta)),
            grad - precision * theta,
            hess - np.diag(precision),
        )

    risk = np.clip(arrays["s"] @ arrays["count"] / (arrays["n"] @ arrays["count"]), 0.01, 0.99)
    start = np.array([np.log(risk / (1.0 - risk)), 0.0, 0.5])
    res = minimize(
        lambda t: tuple(-v for v in log_posterior(t)[:2]), start, jac=True, hess=lambda t: -log_posterior(t)[2],
        method="trust-exact", options={"gtol": 1e-6, "maxiter": 200},
    )  # fmt: skip
    _, grad, hess = log_posterior(res.x)
    information = -hess
    # trust-exact may stop short of its own tolerance at a maximum it cannot improve in floating point: a
    # gradient this small (log-density units per unit of the parameters) is a maximum all the same
    converged = res.success or float(np.abs(grad).max()) < 1e-3
    warnings = [] if converged else [f"the posterior mode was not found: {res.message}"]
    try:
        cov = np.linalg.inv(np.linalg.cholesky(information))
        cov = cov.T @ cov
    except np.linalg.LinAlgError:
        cov = np.full((3, 3), np.nan)
        warnings.append("the posterior is flat in some direction at its mode (no Laplace approximation)")
    if abs(res.x[1]) > 10:
        warnings.append(f"treatment log-odds {res.x[1]:+.1f}: an arm with (almost) no events; no finite maximum")
    return res.x, cov, warnings


@register
class LogisticHousehold(Estimator):
    name = "logistic_household"
    design = "household_rct"
    outcomes: ClassVar[dict[str, str]] = {
        "faring_badly_3m": "lower",
        "faring_badly_12m": "lower",
        "rereport_12m": "lower",
        "placed_12m": "lower",
        "measure_12m": "none",
        "charged_12m": "lower",
    }

    @classmethod
    def example(cls, seed: int = 0, scale: float = 1.0) -> tuple[pd.DataFrame, str]:
        """2,000 reports in 1,400 households (times ``scale``), half the households treated, baseline logit -1,
        treatment -0.3 on the logit scale, household SD 1: the shape of TRYG-2019's trial."""
        rng = np.random.default_rng(seed)
        households, reports = round(1400 * scale), round(2000 * scale)
        household = np.sort(np.concatenate([np.arange(households), rng.integers(0, households, reports - households)]))
        arm = (rng.permutation(households) < households // 2).astype(int)
        eta = -1.0 - 0.3 * arm[household] + rng.normal(0.0, 1.0, households)[household]
        y = (rng.random(reports) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
        df = pd.DataFrame({"report_id": np.arange(reports), "household_id": household, "treated": arm[household]})
        return df.assign(faring_badly_12m=y), "faring_badly_12m"

    fast_method = "laplace"

    def fit_fast(self, df: pd.DataFrame, outcome: str, seed: int = 0, draws: int = 4000) -> list[Estimate]:
        """The posterior mode of the same marginalised model and its Laplace approximation: ``draws`` draws of
        (alpha, beta, sigma) from the normal approximation (seeded by ``seed``) give each estimand as in
        :meth:`fit`. Not converged if the maximum is not proper (an arm without events, a flat direction)."""
        self.check_outcome(df, outcome)
        self.validate(df, outcome)
        arrays = self.arrays(df, outcome)
        theta, cov, warnings = posterior_mode(arrays, (2.5, 1.0 * self.settings.prior_scale, 1.0))
        if np.isfinite(cov).all():
            z = np.random.default_rng(np.random.SeedSequence([seed, 0x1A91])).standard_normal((draws, 3))
            sample = theta + z @ np.linalg.cholesky(cov).T
        else:
            sample = np.tile(theta, (draws, 1))
        posterior = {"alpha": sample[:, 0], "beta": sample[:, 1], "sigma": np.abs(sample[:, 2])}
        out = []
        with np.errstate(over="ignore", invalid="ignore"):  # a degenerate arm: flagged by the warnings above
            estimands = self.estimands(posterior, arrays)
        for e in estimands:
            est = Estimate.from_draws(
                e.draws,
                estimator=self.name,
                estimand=e.name,
                outcome=outcome,
                better=self.outcomes[outcome],
                null=e.null,
                rhat_max=np.nan,
                ess_min=np.nan,
                divergences=0,
                n=len(df),
            )
            est.method, est.warnings = "laplace", list(warnings)
            out.append(est)
        return out

    def validate(self, df: pd.DataFrame, outcome: str) -> None:
        self.require(df, ["household_id", "treated", outcome])
        self.binary(df, "treated")
        known = df[df[outcome].notna()]
        if known.empty:
            raise DataError(f"column '{outcome}' has no known values (every row is missing)")
        self.binary(known, outcome)
        arms = set(known["treated"].astype(int))
        for arm, label in ((0, "control"), (1, "treated")):
            if arm not in arms:
                raise DataError(f"the {label} arm (treated = {arm}) has no units with a known '{outcome}'")
        mixed = known.groupby("household_id")["treated"].nunique()
        if (mixed > 1).any():
            raise DataError(
                f"column 'treated' varies within household_id {mixed[mixed > 1].index[0]}: a "
                "household-randomised trial puts every report of a household in one arm"
            )

    def arrays(self, df: pd.DataFrame, outcome: str) -> dict[str, np.ndarray]:
        known = df[df[outcome].notna()].assign(treated=lambda d: d["treated"].astype(float))
        return household_patterns(known.assign(**{outcome: known[outcome].astype(float)}), outcome)

    def build(self, arrays: dict[str, np.ndarray]):
        import pymc as pm
        import pytensor.tensor as pt

        with pm.Model() as model:
            n, s, x, count = (pm.Data(k, arrays[k]) for k in ("n", "s", "x", "count"))
            alpha = pm.Normal("alpha", 0.0, 2.5)
            beta = pm.Normal("beta", 0.0, 1.0 * self.settings.prior_scale)
            sigma = pm.HalfNormal("sigma", 1.0)
            eta = alpha + beta * x[:, None] + sigma * np.sqrt(2.0) * NODES[None, :]
            loglik = s[:, None] * eta - n[:, None] * pt.softplus(eta)
            pm.Potential("household_loglik", (count * pt.logsumexp(loglik + LOG_WEIGHTS[None, :], axis=1)).sum())
        return model

    def estimands(self, posterior: dict[str, np.ndarray], arrays: dict[str, np.ndarray]) -> list[Estimand]:
        a, b, s = posterior["alpha"], posterior["beta"], posterior["sigma"]
        p1, p0 = marginal_risk(a, b, s, 1.0), marginal_risk(a, b, s, 0.0)
        return [
            Estimand("risk_difference", p1 - p0, 0.0),
            Estimand("risk_ratio", p1 / p0, 1.0),
            Estimand("odds_ratio", np.exp(b), 1.0),
        ]

    def frequentist(self, df: pd.DataFrame, outcome: str) -> dict[str, tuple[float, float, float, str]]:
        import statsmodels.api as sm

        d = df[df[outcome].notna()].sort_values("household_id")
        y, x = d[outcome].astype(float).to_numpy(), sm.add_constant(d["treated"].astype(float).to_numpy())
        groups = d["household_id"].to_numpy()
        out = {}
        rd = sm.GEE(y, x, groups=groups, family=sm.families.Gaussian(), cov_struct=sm.cov_struct.Exchangeable()).fit()
        lo, hi = rd.conf_int()[1]
        out["risk_difference"] = (float(rd.params[1]), float(lo), float(hi), "GEE identity link, exchangeable, robust")
        rr = sm.GEE(y, x, groups=groups, family=sm.families.Poisson(), cov_struct=sm.cov_struct.Exchangeable()).fit()
        lo, hi = rr.conf_int()[1]
        out["risk_ratio"] = (
            float(np.exp(rr.params[1])),
            float(np.exp(lo)),
            float(np.exp(hi)),
            "GEE log link (modified Poisson), exchangeable, robust",
        )
        return out
