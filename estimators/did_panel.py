"""Hierarchical Bayesian difference-in-differences for a municipality-year panel with staggered adoption
(SST-2018's municipality panel).

**Why not one post dummy.** The usual two-way fixed-effects regression y_mt = alpha_m + gamma_t + beta * post_mt
is a weighted average of every 2x2 comparison in the panel, including "forbidden" ones where municipalities
treated earlier serve as controls for those treated later (Goodman-Bacon 2021). When effects grow with time
since adoption, the early adopters' growing effect is subtracted from the late adopters' and beta is biased
toward zero, even past it; some weights can be negative. Nothing is wrong with the data: a single coefficient
is the wrong model for effects that differ by cohort and year.

**The saturated model.** Each adoption cohort g (municipalities starting in year g) gets its own effect in each
calendar year t >= g (Wooldridge's 2021 extended two-way fixed effects; the same cell effects as Callaway &
Sant'Anna 2021, with never- and not-yet-treated municipality-years as controls):

    y_mt = alpha_m + gamma_t + tau_{g(m),t} * post_mt + e_mt

Every treated cell has its own tau, so a treated cell never serves as a control; the comparisons are only with
untreated cells (never-treated municipalities, and treated ones before they adopt) through alpha and gamma. On
the outcome standardised by the mean and SD of its untreated cells (so the priors are scaled to its spread):

    alpha_m    flat (municipality fixed effects, integrated out exactly: below)
    gamma_t ~ ZeroSumNormal(2)
    tau_c = delta_{g(c)} + (within-cohort deviations of cohort g's cells),  delta_g, deviations ~ N(0, 10)
    e_mt = rho^d e_m,t-d + innovation  (d years since the municipality's previous known year),
           rho ~ Uniform(-1, 1),  innovation SD sigma * sqrt(1 + rho^2 + ... + rho^(2(d-1))),  sigma ~ HalfNormal(1)

**Municipality effects are fixed, not pooled.** Municipalities that adopt a reform are rarely a random draw (the
three of SST-2018 reorganised because their placement figures worried them): a hierarchical prior on alpha_m would
shrink their levels toward the others' and hand part of a level difference to tau, the classic bias of random
effects correlated with treatment. A flat prior on each alpha_m keeps the comparison within municipalities, as
DiD means it, and lets alpha_m be integrated out exactly (:func:`ar1_loglik` has the formula). Without alpha_m in
the sampler, its funnel with the residual scale is gone (the same AR(1) model with sampled hierarchical
intercepts converged in 0-5% of small-world panels).

**Serially correlated errors.** A year-end stock (children placed on 31 December, the institution share of that
stock) is much like last year's, so residuals are correlated over years; errors independent over years make
intervals too narrow (Bertrand, Duflo & Mullainathan 2004). A yearly flow (``placed_after_home_based``: the
year's new home-based measures) has errors close to independent, and intervals that assume a wandering level
are then too wide. AR(1) errors with a uniform prior on rho span both: rho = 0 is independent yearly noise,
rho -> 1 a random walk (with the level integrated out, the likelihood tends to the random walk's), and the data
of each panel decide. The recovery test measured the ratio of the average posterior SD of the ATT to its
root-mean-square error at 0.98 (placed_per_1000), 1.00 (placed_after_home_based) and 1.04
(institution_share) on 120 panels from one bank of 40 municipalities, and 1.06, 1.14 and 0.81 on 40 independent
panels of smaller municipalities (docs/trials/municipality_panel.md). A random walk plus white noise with the
walk's share of variance learnt (Beta(1, 2)) was measured before it: 1.17 for the flow (90% coverage 0.958),
whose share the prior kept away from zero.

**Cell effects.** tau is parametrised as each cohort's mean effect (delta_g) plus how its cells differ from that
mean (an orthonormal basis per cohort, :func:`within_cohort_basis`): the ATT depends mostly on delta, which the
sampler then sees as separate coordinates. The cells are not pooled toward a common mean: pooling shrinks
cells with few municipality-years toward the others (the cell scale mixed badly in the tests here). Their prior
is wide on purpose: an effect that grows for years can reach several SDs of the outcome, and N(0, 1) shrank such
late cells toward zero (the ATT 0.012 too small, 90% coverage 25% over 20 synthetic panels); the data, not the
prior, should decide a DiD's cell effects. The prior SDs of delta and the deviations are multiplied by
``prior_scale``. nutpie samples the model with its low-rank modified mass matrix: the year and cell effects are
strongly correlated (treated years' effects are told apart from the year effects only by the untreated
municipalities). Over 90 fits of the recovery test's panels (4 x 1,000 draws) the low-rank matrix took 1.3 s a
fit with a median smallest ESS of 1,850; the diagonal one 2.1 s and 1,400 (both converged in every fit; with the
random-walk errors that preceded AR(1), the diagonal matrix left R-hat above 1.01 in a third of fits).

**Estimands**, by posterior prediction on the outcome's own scale: ``att`` (the average effect on the treated
municipality-years after adoption: tau averaged over treated post cells, each weighted by its number of
municipality-years with a known outcome; null 0) and ``att_event_<k>`` (the same average over cells k years
after adoption). The compiled model depends only on the panel's shape (municipalities, years, cells), so it
is compiled once and refitted with new data.

**statsmodels counterpart**: OLS with the same saturated design (municipality and year dummies and one dummy
per treated cohort x year cell), cluster-robust standard errors by municipality (CR1, t with G - 1 degrees of
freedom); the ATT and each event-time effect are the same weighted linear combinations of the cell
coefficients, with their standard errors. :func:`naive_twfe` is the single-post-dummy regression, kept only to
show its bias (tests, docs).

References: Goodman-Bacon (2021), J. Econometrics 225(2); Callaway & Sant'Anna (2021), J. Econometrics 225(2);
Wooldridge (2021), "Two-way fixed effects, the two-way Mundlak regression, and difference-in-differences
estimators", SSRN 3906345; Bertrand, Duflo & Mullainathan (2004), QJE 119(1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from estimators.base import DataError, Estimand, Estimator, register

if TYPE_CHECKING:
    from pytensor.tensor import TensorLike, TensorVariable

KEYS = ("municipality", "year", "post")


def _row(df: pd.DataFrame, mask: pd.Series) -> tuple[int, object]:
    """The first offending row as a spreadsheet row number (header is row 1) and its value's index."""
    first = mask[mask].index[0]
    return int(df.index.get_loc(first)) + 2, first


def cohorts_of(df: pd.DataFrame) -> pd.Series:
    """Each municipality's adoption year: its first year with post = 1 (NaN if never)."""
    treated = df[df["post"].astype(int) == 1]
    return treated.groupby("municipality")["year"].min().reindex(df["municipality"].unique())


@register
class DidPanel(Estimator):
    name = "did_panel"
    design = "municipality_panel"
    nutpie_options: ClassVar[dict[str, object]] = {"low_rank_modified_mass_matrix": True}
    outcomes: ClassVar[dict[str, str]] = {
        "placed_per_1000": "lower",
        "placed_after_home_based": "lower",
        "institution_share": "lower",
    }

    # ---------------------------------------------------------------- data
    def validate(self, df: pd.DataFrame, outcome: str) -> None:
        self.require(df, [*KEYS, outcome])
        self.binary(df, "post")
        year = pd.to_numeric(df["year"], errors="coerce")
        bad = year.isna() | (year != year.round())
        if bad.any():
            row, i = _row(df, bad)
            raise DataError(f"column 'year' must be a calendar year in every row; row {row} has {df['year'][i]!r}")
        if df["municipality"].isna().any():
            row, _ = _row(df, df["municipality"].isna())
            raise DataError(f"column 'municipality' is empty in row {row}")
        dup = df.duplicated(["municipality", "year"])
        if dup.any():
            row, i = _row(df, dup)
            raise DataError(
                f"municipality {df['municipality'][i]} has more than one row for {int(year[i])} (row {row}); "
                "the panel needs one row per municipality and year"
            )
        y = pd.to_numeric(df[outcome], errors="coerce")
        bad = y.isna() & df[outcome].notna()
        if bad.any():
            row, i = _row(df, bad)
            raise DataError(
                f"column '{outcome}' must be a number (empty where not known); row {row} has {df[outcome][i]!r}"
            )
        d = df.assign(year=year.astype(int), post=df["post"].astype(int), y=y).sort_values(["municipality", "year"])
        back = d.groupby("municipality")["post"].diff() < 0
        if back.any():
            first = d[back].iloc[0]
            raise DataError(
                f"column 'post' switches from 1 back to 0 in municipality {first['municipality']} in "
                f"{first['year']}: once a municipality adopts, every later year must have post = 1"
            )
        known = d[d["y"].notna()]
        if known.empty:
            raise DataError(f"column '{outcome}' has no known values (every row is missing)")
        if not (known["post"] == 1).any():
            raise DataError(f"no treated post cells: no row has post = 1 and a known '{outcome}'")
        if not (known["post"] == 0).any():
            raise DataError(f"no untreated comparison cells: every row with a known '{outcome}' has post = 1")
        untreated_years = set(known.loc[known["post"] == 0, "year"])
        lonely = sorted(set(known.loc[known["post"] == 1, "year"]) - untreated_years)
        if lonely:
            raise DataError(
                f"no untreated comparison cells in {lonely[0]}: every municipality with a known '{outcome}' that "
                "year has post = 1, so its year effect and the treatment effects cannot be told apart"
            )
        first_known = known.groupby("municipality")[["year", "post"]].first()
        early = first_known[first_known["post"] == 1]
        if len(early):
            raise DataError(
                f"municipality {early.index[0]} has post = 1 from its first year with a known '{outcome}' "
                f"({early['year'].iloc[0]}): without an untreated year its own level cannot be told apart from "
                "the effect"
            )

    def arrays(self, df: pd.DataFrame, outcome: str) -> dict[str, np.ndarray]:
        """The panel on a complete municipality x year grid (missing cells masked), each treated cell's index and
        cohort, each known year's previous known year in its municipality (:func:`ar1_steps`), and the weights of the
        estimands."""
        d = df.assign(
            year=pd.to_numeric(df["year"]).astype(int),
            post=df["post"].astype(int),
            y=pd.to_numeric(df[outcome], errors="coerce"),
        )
        munis = np.array(sorted(d["municipality"].unique(), key=str), dtype=object)
        years = np.array(sorted(d["year"].unique()))
        n_m, n_t = munis.size, years.size
        grid = pd.MultiIndex.from_product([munis, years], names=["municipality", "year"])
        y = d.set_index(["municipality", "year"])["y"].reindex(grid).to_numpy(dtype=float)
        observed = ~np.isnan(y)
        start = cohorts_of(d).reindex(munis).to_numpy(dtype=float)
        cells = [(g, t) for g in sorted(set(start[~np.isnan(start)])) for t in years if t >= g]
        index = {c: k for k, c in enumerate(cells)}
        mi, ti = np.repeat(np.arange(n_m), n_t), np.tile(np.arange(n_t), n_m)
        g_obs = start[mi]
        cell = np.array(
            [
                len(cells) if np.isnan(g) else index.get((g, years[t]), len(cells))
                for g, t in zip(g_obs, ti, strict=True)
            ],
            dtype=np.int64,
        )
        weights = np.bincount(cell[observed], minlength=len(cells) + 1)[: len(cells)].astype(float)
        event = np.array([t - g for g, t in cells], dtype=np.int64)
        event_weights = np.zeros((int(event.max()) + 1, len(cells)))
        event_weights[event, np.arange(len(cells))] = weights
        totals = event_weights.sum(axis=1, keepdims=True)
        event_weights = np.divide(event_weights, totals, out=np.zeros_like(event_weights), where=totals > 0)
        prev, gap, follows = ar1_steps(years, observed.reshape(n_m, n_t))
        untreated = y[observed & (cell == len(cells))]
        spread = float(untreated.std(ddof=1)) if untreated.size > 1 else 0.0
        cohort_of_cell = np.unique([g for g, _ in cells], return_inverse=True)[1]
        return {
            "y": np.where(observed, y, 0.0),
            "observed": observed.astype(float),
            "muni": mi.astype(np.int64),
            "year": ti.astype(np.int64),
            "cell": cell,
            "prev": prev,
            "gap": gap,
            "follows": follows,
            "center": np.array([float(untreated.mean())]),
            "scale": np.array([spread if spread > 0 else 1.0]),
            "weights": weights,
            "event_weights": event_weights,
            "cell_cohort": cohort_of_cell.astype(np.int64),
            "deviations": within_cohort_basis(cohort_of_cell),
        }

    def structure(self, arrays: dict[str, np.ndarray]) -> tuple:
        """Municipalities, years, cells and event times fix every shape: equal shapes reuse the compiled model."""
        return tuple((k, arrays[k].shape) for k in sorted(arrays))

    # ---------------------------------------------------------------- model
    def build(self, arrays: dict[str, np.ndarray]):
        import pymc as pm
        import pytensor.tensor as pt

        n_m = int(arrays["muni"].max()) + 1
        n_t = int(arrays["year"].max()) + 1
        ps = self.settings.prior_scale
        with pm.Model() as model:
            data = {k: pm.Data(k, v, shape=v.shape) for k, v in arrays.items()}  # shapes are fixed per compile
            scale = data["scale"][0]
            z = (data["y"] - data["center"][0]) / scale
            gamma = pm.ZeroSumNormal("gamma", sigma=2.0, shape=n_t)
            n_g = int(arrays["cell_cohort"].max()) + 1
            n_d = arrays["deviations"].shape[1]
            delta = pm.Normal("delta", 0.0, 10.0 * ps, shape=n_g)
            shape = pm.Normal("shape", 0.0, 10.0 * ps, shape=n_d)
            tau = pm.Deterministic("tau", delta[data["cell_cohort"]] + pt.dot(data["deviations"], shape))
            rho = pm.Uniform("rho", -1.0, 1.0)
            sigma = pm.HalfNormal("sigma", 1.0)
            mean = gamma[data["year"]] + pt.concatenate([tau, pt.zeros(1)])[data["cell"]]
            r = data["observed"] * (z - mean)
            loglik = ar1_loglik(r, data["prev"], data["gap"], data["follows"], data["observed"], rho, sigma, n_m)
            pm.Potential("loglik", loglik)
            w = data["weights"]
            pm.Deterministic("att", scale * (w * tau).sum() / w.sum())
            pm.Deterministic("att_event", scale * pt.dot(data["event_weights"], tau))
        return model

    def estimands(self, posterior: dict[str, np.ndarray], arrays: dict[str, np.ndarray]) -> list[Estimand]:
        out = [Estimand("att", posterior["att"], 0.0)]
        present = arrays["event_weights"].sum(axis=1) > 0
        for k in np.flatnonzero(present):
            out.append(Estimand(f"att_event_{k}", posterior["att_event"][:, k], 0.0))
        return out

    # ---------------------------------------------------------------- statsmodels
    def frequentist(self, df: pd.DataFrame, outcome: str) -> dict[str, tuple[float, float, float, str]]:
        res, names, weights, events = saturated_ols(df, outcome)
        method = "OLS, saturated cohort x year cells, municipality and year dummies, cluster-robust by municipality"
        out = {"att": _combination(res, names, weights, method)}
        for k in sorted(set(events)):
            w = np.where(events == k, weights, 0.0)
            out[f"att_event_{k}"] = _combination(res, names, w, method)
        return out

    # ---------------------------------------------------------------- synthetic data
    @classmethod
    def example(cls, seed: int = 0, scale: float = 1.0) -> tuple[pd.DataFrame, str]:
        """The design's default panel (8 municipalities, 4 treated in 2022 and 2024, 2020-2029) times ``scale``
        municipalities, with effects that grow with time since adoption: the ATT is known exactly."""
        n = max(2, round(4 * scale))
        df = staggered_panel(seed, {None: n, 2022: (n + 1) // 2, 2024: n // 2}, range(2020, 2030))
        return df, "institution_share"


def ar1_steps(years: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each municipality-year's step from the municipality's previous known year, on the flattened municipality x
    year grid: ``prev`` (the previous known year's flat index; its own where none), ``gap`` (calendar years since
    it; 1 where none) and ``follows`` (1 where a known year has an earlier known year). Missing years are
    skipped, so a gap of d years enters the AR(1) likelihood as rho^d (:func:`ar1_loglik`)."""
    n_m, n_t = observed.shape
    prev = np.arange(n_m * n_t).reshape(n_m, n_t)
    gap, follows = np.ones((n_m, n_t)), np.zeros((n_m, n_t))
    for m_ in range(n_m):
        s_ = np.flatnonzero(observed[m_])
        prev[m_, s_[1:]] = m_ * n_t + s_[:-1]
        gap[m_, s_[1:]] = np.diff(np.asarray(years)[s_])
        follows[m_, s_[1:]] = 1.0
    return prev.ravel(), gap.ravel(), follows.ravel()


def ar1_loglik(
    r: TensorLike,
    prev: TensorLike,
    gap: TensorLike,
    follows: TensorLike,
    observed: TensorLike,
    rho: TensorLike,
    sigma: TensorLike,
    n_municipalities: int,
) -> TensorVariable:
    """Log-likelihood of residuals ``r`` (flattened municipality x year grid, zero where unknown) that are each
    municipality's level plus stationary AR(1) errors (correlation rho per year, innovation SD sigma), with each
    level integrated out under a flat prior: the restricted (REML) likelihood, up to a constant.

    For one municipality with known years 1..n, steps d_k = years since the previous known year, innovations
    v_k = r_k - rho^d_k r_{k-1} with variance sigma^2 q_k (q_k = 1 + rho^2 + ... + rho^(2(d_k - 1))), and
    A = 1 + sum_k (1 - rho^d_k) / (1 + rho^d_k), B = r_1 + sum_k v_k / (1 + rho^d_k):

        -1/2 [log A + (n - 1) log sigma^2 + sum_k log q_k
              + ((1 - rho^2)(r_1^2 - B^2 / A) + sum_k v_k^2 / q_k) / sigma^2]

    This is the Prais-Winsten transformed regression on a constant with the constant's coefficient integrated
    out, rearranged so that nothing diverges as rho -> 1 (where it becomes the random walk's likelihood of the
    differences); a municipality with one known year contributes nothing. tests/test_did_panel_likelihood.py
    checks it against the dense multivariate normal."""
    import pytensor.tensor as pt

    def per_municipality(x):
        return x.reshape((n_municipalities, -1)).sum(axis=1)

    power = rho**gap
    v = follows * (r - power * r[prev])
    q = pt.switch(pt.eq(gap, 1.0), 1.0, (1.0 - rho ** (2.0 * gap)) / (1.0 - rho**2))
    first = observed - follows
    big_a = 1.0 + per_municipality(follows * (1.0 - power) / (1.0 + power))
    big_b = per_municipality(first * r + v / (1.0 + power))
    squares = (1.0 - rho**2) * (per_municipality(first * r**2) - big_b**2 / big_a).sum() + (v**2 / q).sum()
    log_det = pt.log(big_a).sum() + follows.sum() * pt.log(sigma**2) + (follows * pt.log(q)).sum()
    return -0.5 * (log_det + squares / sigma**2)


def within_cohort_basis(cohort_of_cell: np.ndarray) -> np.ndarray:
    """Orthonormal columns spanning each cohort's cell deviations from the cohort's mean (block-diagonal,
    cells x (cells - cohorts)): tau = delta[cohort] + basis @ shape puts a prior on each cohort's mean effect
    (delta) apart from the prior on how its cells differ (shape)."""
    from scipy.linalg import block_diag

    sizes = np.bincount(cohort_of_cell)
    return block_diag(*[contrasts(int(n)) for n in sizes])


def contrasts(k: int) -> np.ndarray:
    """k x (k - 1) orthonormal columns orthogonal to a constant: every contrast among k values."""
    return np.linalg.qr(np.column_stack([np.ones(k), np.eye(k)[:, : k - 1]]))[0][:, 1:]


def saturated_ols(df: pd.DataFrame, outcome: str):
    """Wooldridge's extended TWFE by OLS: municipality and year dummies and one dummy per treated cohort x year
    cell; cluster-robust by municipality. Returns the fit, the cell names, their weights (municipality-years
    with a known outcome) and event times."""
    import statsmodels.api as sm

    d = df.assign(
        year=pd.to_numeric(df["year"]).astype(int),
        post=df["post"].astype(int),
        y=pd.to_numeric(df[outcome], errors="coerce"),
    )
    d["cohort"] = d["municipality"].map(cohorts_of(d))
    d = d[d["y"].notna()].reset_index(drop=True)
    x = pd.get_dummies(d["municipality"].astype(str), prefix="m", dtype=float)
    years = pd.get_dummies(d["year"], prefix="t", dtype=float)
    x = x.join(years.iloc[:, 1:])
    treated = d[d["post"] == 1]
    cells = sorted(set(zip(treated["cohort"].astype(int), treated["year"], strict=True)))
    names = [f"cell_{g}_{t}" for g, t in cells]
    for (g, t), name in zip(cells, names, strict=True):
        x[name] = ((d["post"] == 1) & (d["cohort"] == g) & (d["year"] == t)).astype(float)
    weights = np.array([x[name].sum() for name in names])
    events = np.array([t - g for g, t in cells])
    groups = pd.factorize(d["municipality"])[0]
    res = sm.OLS(d["y"].to_numpy(dtype=float), x).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    return res, names, weights, events


def _combination(res, names: list[str], weights: np.ndarray, method: str) -> tuple[float, float, float, str]:
    """The weighted mean of the cell coefficients with its 95% interval (t with G - 1 degrees of freedom)."""
    contrast = np.zeros(len(res.params))
    columns = list(res.params.index)
    for name, w in zip(names, weights / weights.sum(), strict=True):
        contrast[columns.index(name)] = w
    test = res.t_test(contrast)
    lo, hi = np.asarray(test.conf_int(alpha=0.05)).ravel()
    return float(np.asarray(test.effect).ravel()[0]), float(lo), float(hi), method


def naive_twfe(df: pd.DataFrame, outcome: str) -> tuple[float, float]:
    """The single-coefficient two-way fixed-effects estimate (y ~ municipality + year + post) and its
    cluster-robust standard error: biased under staggered adoption with effects that change over time
    (Goodman-Bacon 2021). For comparison only."""
    import statsmodels.api as sm

    d = df.assign(y=pd.to_numeric(df[outcome], errors="coerce"))
    d = d[d["y"].notna()].reset_index(drop=True)
    x = pd.get_dummies(d["municipality"].astype(str), prefix="m", dtype=float)
    x = x.join(pd.get_dummies(d["year"], prefix="t", dtype=float).iloc[:, 1:])
    x["post"] = d["post"].astype(float)
    groups = pd.factorize(d["municipality"])[0]
    res = sm.OLS(d["y"].to_numpy(dtype=float), x).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    return float(res.params["post"]), float(res.bse["post"])


def staggered_panel(
    seed: int,
    cohorts: dict[int | None, int],
    years: range,
    effect: float = -0.03,
    growth: float = -0.015,
    noise: float = 0.02,
    rho: float = 0.5,
) -> pd.DataFrame:
    """A synthetic panel in the design's columns: ``cohorts`` maps a start year (None: never) to its number of
    municipalities; the outcome is an institution-share-like level (0.18 +- 0.04 between municipalities),
    common year shocks, AR(1) noise, and an effect ``effect + growth * event_time`` that grows with time since
    adoption. The exact ATT is the mean of the planted effects over treated post cells (``true_effect``)."""
    rng = np.random.default_rng(seed)
    years = np.asarray(years)
    shocks = rng.normal(0.0, 0.01, years.size)
    rows = []
    number = 0
    for g, n in cohorts.items():
        for _ in range(n):
            number += 1
            level = rng.normal(0.18, 0.04)
            e = np.empty(years.size)
            e[0] = rng.normal(0.0, noise)
            for t in range(1, years.size):
                e[t] = rho * e[t - 1] + rng.normal(0.0, noise * np.sqrt(1 - rho**2))
            post = (years >= g).astype(int) if g is not None else np.zeros(years.size, dtype=int)
            true = np.where(post == 1, effect + growth * (years - (g or 0)), 0.0)
            rows.append(
                pd.DataFrame(
                    {
                        "municipality": f"m{number:02d}",
                        "year": years,
                        "treated": int(g is not None),
                        "start_year": pd.array([g] * years.size, dtype="Int64"),
                        "post": post,
                        "event_time": pd.array(years - g if g is not None else [None] * years.size, dtype="Int64"),
                        "institution_share": level + shocks + e + true,
                        "true_effect": true,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)
