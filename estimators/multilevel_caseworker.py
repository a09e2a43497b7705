"""Multilevel logistic regression with caseworker random intercepts and slopes, for the before/after survey of
caseworker training (KORA-2014).

    y_i ~ Bernoulli(logit^-1(alpha + beta * after_i + sigma * z_c + tau * w_c * after_i)),   c = caseworker(i)
    z_c, w_c ~ N(0, 1) independently

``beta`` is the change after training for a caseworker with average involvement (on the logit scale);
``sigma`` is the spread of caseworkers before training, ``tau`` the spread of their change. Child-decisions of a
caseworker share its intercept and slope, so the effect's uncertainty comes from the number of caseworkers as
well as the number of children.

**Compressed and integrated.** The model has no child-level covariates, so every child of a caseworker in a
period has the same probability and a caseworker's likelihood depends only on its four counts: trials n and
events s before and after (a caseworker seen in one period only has n = 0 in the other). Caseworkers with the
same counts are counted once. Each caseworker's (z, w) is integrated out by adaptive Gauss-Hermite quadrature:
4 x 4 nodes placed on a normal approximation of its conditional posterior, found from the counts by two Newton
steps (the log-likelihood is concave). Against brute-force integration over 150 random patterns and parameters
(n = 0-60 per period, sigma up to 3, tau up to 2), the error in a caseworker's log-likelihood has median 2e-4 and
is at most 0.0024 (5 x 5 nodes: median 1.3e-4, at most 0.0063, for a quarter more time a fit).
The model then has four parameters however many caseworkers there are: it is compiled once, refitted with new
data in a second or two, and its R-hat and effective sample size are about the parameters that make the
estimands.

Priors (weakly informative, logit scale):

- alpha ~ N(0, 2.5): any share before training, from almost none to almost all;
- beta ~ N(0, 1) (times ``prior_scale``): an odds ratio between 0.14 and 7 a priori, no lean either way;
  halving the share not involved from 1 in 3 (KORA-2014's figure) is beta = 0.9, well inside;
- sigma ~ HalfNormal(1): the SD of caseworkers' log odds before training, prior median 0.67 (95% of caseworkers
  then within a factor of about 4 of the typical odds), little mass above 2;
- tau ~ HalfNormal(0.5) (times ``prior_scale``): the training may work differently for different caseworkers,
  but the spread of their changes is a priori smaller than the spread of their levels; tau near 0 (one effect
  for all) is allowed. Intercepts and slopes are independent (no correlation is modelled).

Because z and w are symmetric, the likelihood is even in sigma and in tau, so the sampler draws them on the
whole line, N(0, 1) and N(0, 0.5), and keeps their absolute values: the same half-normal priors, without a
boundary at 0 that the chains creep towards when caseworkers are alike (as in the simulation). That doubles
the effective sample size of tau.

Estimands, by posterior prediction with the caseworker effect integrated over its distribution (Gauss-Hermite,
30 nodes; after training a caseworker's logit deviation sigma * z + tau * w is N(0, sigma^2 + tau^2)):
``risk_difference`` (after minus before for a typical caseworker's child: the marginal effect),
``risk_ratio``, and the caseworker-conditional ``odds_ratio`` exp(beta). statsmodels counterparts: GEE with
exchangeable correlation within caseworkers and cluster-robust errors, identity link for the risk difference,
log link (modified Poisson) for the risk ratio.

What the design leaves to assumption: the after-minus-before contrast is the effect of training only if
nothing else changed between the windows (no secular trend); children are independent given their
caseworker (a child seen in both periods is not linked).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from scipy import special

from estimators.base import DataError, Estimand, Estimator, register

if TYPE_CHECKING:
    import arviz as az

#: Gauss-Hermite nodes for the marginal risk (1-D, against the caseworker distribution).
NODES, WEIGHTS = np.polynomial.hermite.hermgauss(30)
LOG_WEIGHTS = np.log(WEIGHTS / np.sqrt(np.pi))
#: Product Gauss-Hermite rule (4 x 4) for the adaptive quadrature of each caseworker's (z, w).
_x, _w = np.polynomial.hermite.hermgauss(4)
GRID_Z, GRID_W = (g.ravel() for g in np.meshgrid(_x, _x, indexing="ij"))
GRID_LOG_WEIGHTS = (np.log(_w)[:, None] + np.log(_w)[None, :]).ravel() - np.log(np.pi) + GRID_Z**2 + GRID_W**2
NEWTON_STEPS = 2
COUNTS = ("n_before", "s_before", "n_after", "s_after")
SIGNED = {"sigma": "sigma_signed", "tau": "tau_signed"}


@dataclass(frozen=True)
class Ops:
    """The elementwise functions the likelihood needs, from numpy or from pytensor."""

    expit: Any
    softplus: Any
    sqrt: Any
    log: Any
    logsumexp: Any


NUMPY = Ops(special.expit, lambda x: np.logaddexp(0.0, x), np.sqrt, np.log, lambda x: special.logsumexp(x, axis=-1))


def caseworker_patterns(df: pd.DataFrame, outcome: str) -> dict[str, np.ndarray]:
    """Child-decisions with a known outcome compressed to caseworkers' counts (trials n and events s before and
    after training; 0 where a caseworker has none in a period), each distinct pattern once with its ``count``."""
    known = df[df[outcome].notna()]
    cells = (
        known.assign(_after=pd.to_numeric(known["after"]).astype(int), _y=pd.to_numeric(known[outcome]))
        .groupby(["caseworker_id", "_after"])["_y"]
        .agg(["size", "sum"])
        .unstack("_after", fill_value=0)
    )
    per_caseworker = pd.DataFrame(
        {
            f"{stat}_{label}": cells[column].get(period, pd.Series(0, index=cells.index))
            for period, label in ((0, "before"), (1, "after"))
            for stat, column in (("n", "size"), ("s", "sum"))
        }
    )
    patterns = per_caseworker.groupby(list(COUNTS)).size().rename("count").reset_index()
    return {name: patterns[name].to_numpy(dtype=float) for name in (*COUNTS, "count")}


def caseworker_loglik(counts: dict[str, Any], alpha: Any, beta: Any, sigma: Any, tau: Any, ops: Ops = NUMPY) -> Any:
    """Each caseworker's log-likelihood with its (z, w) integrated out by adaptive Gauss-Hermite quadrature (up
    to the binomial coefficients, which do not depend on the parameters). Works on numpy arrays or pytensor
    tensors, by the ``ops`` given."""
    n0, s0, n1, s1 = (counts[k][:, None] for k in COUNTS)

    def curvature(p0: Any, p1: Any) -> tuple[Any, Any, Any, Any]:
        """Precision of the normal approximation in (z, w), and its determinant."""
        a0, a1 = n0 * p0 * (1.0 - p0), n1 * p1 * (1.0 - p1)
        p11, p12, p22 = 1.0 + (a0 + a1) * sigma**2, a1 * sigma * tau, 1.0 + a1 * tau**2
        return p11, p12, p22, p11 * p22 - p12**2

    # Start: the counts' empirical logits (shrunk by +0.5) as a normal likelihood, combined with the N(0, I) prior.
    q0, q1 = (s0 + 0.5) / (n0 + 1.0), (s1 + 0.5) / (n1 + 1.0)
    r0, r1 = ops.log(q0 / (1.0 - q0)) - alpha, ops.log(q1 / (1.0 - q1)) - alpha - beta
    p11, p12, p22, det = curvature(q0, q1)
    b1, b2 = sigma * (n0 * q0 * (1.0 - q0) * r0 + n1 * q1 * (1.0 - q1) * r1), tau * n1 * q1 * (1.0 - q1) * r1
    z, w = (p22 * b1 - p12 * b2) / det, (p11 * b2 - p12 * b1) / det
    for _ in range(NEWTON_STEPS):  # Newton steps to the mode of the caseworker's conditional posterior
        p0, p1 = ops.expit(alpha + sigma * z), ops.expit(alpha + beta + sigma * z + tau * w)
        g1, g2 = sigma * (s0 - n0 * p0 + s1 - n1 * p1) - z, tau * (s1 - n1 * p1) - w
        p11, p12, p22, det = curvature(p0, p1)
        z, w = z + (p22 * g1 - p12 * g2) / det, w + (p11 * g2 - p12 * g1) / det
    p11, p12, p22, det = curvature(ops.expit(alpha + sigma * z), ops.expit(alpha + beta + sigma * z + tau * w))
    # Cholesky factor of the covariance (the inverse of the precision); w's conditional variance is 1 / p22.
    l11 = ops.sqrt(p22 / det)
    l21 = -p12 / det / l11
    l22 = 1.0 / ops.sqrt(p22)
    zk = z + np.sqrt(2.0) * l11 * GRID_Z[None, :]
    wk = w + np.sqrt(2.0) * (l21 * GRID_Z[None, :] + l22 * GRID_W[None, :])
    eta0, eta1 = alpha + sigma * zk, alpha + beta + sigma * zk + tau * wk
    loglik = s0 * eta0 - n0 * ops.softplus(eta0) + s1 * eta1 - n1 * ops.softplus(eta1) - (zk**2 + wk**2) / 2.0
    return ops.logsumexp(loglik + GRID_LOG_WEIGHTS[None, :]) + ops.log(l11[:, 0]) + ops.log(l22[:, 0])


def marginal_risk(alpha: np.ndarray, beta: np.ndarray, sigma: np.ndarray, tau: np.ndarray, after: float) -> np.ndarray:
    """P(y = 1 | period) for a child of a caseworker drawn from the caseworker distribution, per posterior
    draw: the logistic curve averaged over the caseworker's deviation N(0, sigma^2 + after * tau^2)."""
    sd = np.sqrt(sigma**2 + after * tau**2)
    eta = alpha[:, None] + beta[:, None] * after + sd[:, None] * np.sqrt(2.0) * NODES[None, :]
    return (np.exp(LOG_WEIGHTS)[None, :] / (1.0 + np.exp(-eta))).sum(axis=1)


@register
class MultilevelCaseworker(Estimator):
    name = "multilevel_caseworker"
    design = "caseworker_survey"
    outcomes: ClassVar[dict[str, str]] = {
        "involved": "higher",
        "faring_badly_12m": "lower",
        "breakdown_12m": "lower",
    }

    @classmethod
    def example(cls, seed: int = 0, scale: float = 1.0) -> tuple[pd.DataFrame, str]:
        """100 caseworkers (times ``scale``) with 30 children each before and after training: KORA-2014's 6,000
        children. Before training 2 children in 3 are involved (logit 0.7); training adds 0.9 on the logit
        scale (halving the share not involved); caseworker SD 0.5 before, SD 0.25 of their change."""
        rng = np.random.default_rng(seed)
        caseworkers, per_period = round(100 * scale), 30
        cw = np.repeat(np.arange(caseworkers), 2 * per_period)
        after = np.tile(np.repeat([0, 1], per_period), caseworkers)
        z, w = rng.normal(0.0, 0.5, caseworkers), rng.normal(0.0, 0.25, caseworkers)
        eta = 0.7 + 0.9 * after + z[cw] + w[cw] * after
        y = (rng.random(cw.size) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
        df = pd.DataFrame(
            {
                "child_id": rng.permutation(cw.size),
                "caseworker_id": cw,
                "period": np.where(after == 1, "after", "before"),
                "after": after,
                "involved": y,
            }
        )
        return df, "involved"

    def validate(self, df: pd.DataFrame, outcome: str) -> None:
        self.require(df, ["caseworker_id", "after", outcome])
        if df["caseworker_id"].isna().any():
            row = int(np.flatnonzero(df["caseworker_id"].isna().to_numpy())[0])
            raise DataError(
                f"column 'caseworker_id' is empty in row {row + 2}: every child-decision needs the caseworker "
                "who made it"
            )
        self.binary(df, "after")
        if "period" in df.columns:
            expected = np.where(pd.to_numeric(df["after"]).astype(int) == 1, "after", "before")
            wrong = df["period"].astype(str).str.strip().str.lower().to_numpy() != expected
            if wrong.any():
                row = int(np.flatnonzero(wrong)[0])
                raise DataError(
                    f"column 'period' is {df['period'].iloc[row]!r} in row {row + 2}, where 'after' is "
                    f"{df['after'].iloc[row]}: 'period' must be 'after' where after = 1 and 'before' where after = 0"
                )
        known = df[df[outcome].notna()]
        if known.empty:
            raise DataError(f"column '{outcome}' has no known values (every row is missing)")
        self.binary(known, outcome)
        periods = set(pd.to_numeric(known["after"]).astype(int))
        for period, label in ((0, "before"), (1, "after")):
            if period not in periods:
                raise DataError(
                    f"the {label} period (after = {period}) has no child-decisions with a known '{outcome}': "
                    "a before/after survey needs both"
                )

    def arrays(self, df: pd.DataFrame, outcome: str) -> dict[str, np.ndarray]:
        """The caseworkers' count patterns as one matrix (columns: ``COUNTS`` and ``count``): one data variable,
        so the compiled model knows every column has the same length and checks no shapes while it samples."""
        patterns = caseworker_patterns(df, outcome)
        return {"patterns": np.column_stack([patterns[k] for k in (*COUNTS, "count")])}

    def build(self, arrays: dict[str, np.ndarray]):
        import pymc as pm
        import pytensor.tensor as pt

        ops = Ops(pt.sigmoid, pt.softplus, pt.sqrt, pt.log, lambda x: pt.logsumexp(x, axis=-1))
        with pm.Model() as model:
            patterns = pm.Data("patterns", arrays["patterns"])
            counts = {k: patterns[:, i] for i, k in enumerate((*COUNTS, "count"))}
            alpha = pm.Normal("alpha", 0.0, 2.5)
            beta = pm.Normal("beta", 0.0, 1.0 * self.settings.prior_scale)
            # The likelihood is even in sigma and in tau (z and w are symmetric), so each is sampled on the whole
            # line with a normal prior, which is the half-normal for its absolute value: near 0 a smooth bump,
            # not a boundary the chains creep towards.
            sigma_signed = pm.Normal(SIGNED["sigma"], 0.0, 1.0)
            tau_signed = pm.Normal(SIGNED["tau"], 0.0, 0.5 * self.settings.prior_scale)
            pm.Deterministic("sigma", pt.abs(sigma_signed))
            pm.Deterministic("tau", pt.abs(tau_signed))
            loglik = caseworker_loglik(counts, alpha, beta, sigma_signed, tau_signed, ops)
            pm.Potential("caseworker_loglik", (counts["count"] * loglik).sum())
        return model

    def sample(self, arrays: dict[str, np.ndarray]) -> az.InferenceData:
        """The base class's sampling, keeping |sigma| and |tau| only: their signs are not identified (chains may
        take either sign and agree on everything else), so R-hat and the effective sample size are about the
        absolute values."""
        idata = super().sample(arrays)
        idata.posterior = idata.posterior.drop_vars(list(SIGNED.values()))
        return idata

    def estimands(self, posterior: dict[str, np.ndarray], arrays: dict[str, np.ndarray]) -> list[Estimand]:
        a, b, s, t = (posterior[k] for k in ("alpha", "beta", "sigma", "tau"))
        p1, p0 = marginal_risk(a, b, s, t, 1.0), marginal_risk(a, b, s, t, 0.0)
        return [
            Estimand("risk_difference", p1 - p0, 0.0),
            Estimand("risk_ratio", p1 / p0, 1.0),
            Estimand("odds_ratio", np.exp(b), 1.0),
        ]

    def frequentist(self, df: pd.DataFrame, outcome: str) -> dict[str, tuple[float, float, float, str]]:
        import statsmodels.api as sm

        d = df[df[outcome].notna()].sort_values("caseworker_id", kind="stable")
        y = d[outcome].astype(float).to_numpy()
        x = sm.add_constant(pd.to_numeric(d["after"]).astype(float).to_numpy())
        groups = pd.factorize(d["caseworker_id"])[0]
        exchangeable = sm.cov_struct.Exchangeable
        rd = sm.GEE(y, x, groups=groups, family=sm.families.Gaussian(), cov_struct=exchangeable()).fit()
        lo, hi = rd.conf_int()[1]
        out = {
            "risk_difference": (
                float(rd.params[1]),
                float(lo),
                float(hi),
                "GEE identity link, exchangeable within caseworker, robust",
            )
        }
        rr = sm.GEE(y, x, groups=groups, family=sm.families.Poisson(), cov_struct=exchangeable()).fit()
        lo, hi = rr.conf_int()[1]
        out["risk_ratio"] = (
            float(np.exp(rr.params[1])),
            float(np.exp(lo)),
            float(np.exp(hi)),
            "GEE log link (modified Poisson), exchangeable within caseworker, robust",
        )
        return out
