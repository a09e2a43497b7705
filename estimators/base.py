"""What every estimator shares: data validation with one clear message, a PyMC model compiled once and refitted
with new data, sampling with nutpie or PyMC's NUTS, diagnostics, the estimands by posterior prediction, and the
statsmodels counterpart.

An estimator module defines an :class:`Estimator` subclass with

- ``name``, ``design`` (the trial design whose data it reads), ``outcomes`` it can analyse and their
  ``better`` direction;
- ``validate(df, outcome)``: raise :class:`DataError` naming the column and the problem;
- ``arrays(df, outcome)``: the data as named arrays (the ``pm.Data`` of the model; the structure key decides
  when a compiled model can be reused);
- ``build(arrays)``: the PyMC model;
- ``estimands(posterior, arrays)``: posterior draws of each estimand on its own scale;
- ``frequentist(df, outcome)``: the statsmodels cross-check per estimand;
- optionally ``fit_fast(df, outcome, seed)``: an approximate fit in milliseconds for design diagnosis
  (``diagnose.fast=true``), e.g. maximum likelihood with a Laplace approximation; without one, ``fit_fast``
  uses the statsmodels counterpart (:meth:`Estimator.fit_frequentist`);

and registers it with :func:`register`. ``fit`` does the rest.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from estimators.convergence import rhat_and_ess
from estimators.result import Estimate
from sim.config.fields import choice, count, nonnegative, positive_count, probability, text

if TYPE_CHECKING:  # arviz takes seconds to import (matplotlib): only a fit needs it
    import arviz as az

ESTIMATORS: dict[str, type[Estimator]] = {}


class DataError(ValueError):
    """A data set an estimator cannot analyse; ``str(err)`` names the column and the problem."""


def register(cls: type[Estimator]) -> type[Estimator]:
    ESTIMATORS[cls.name] = cls
    return cls


@dataclass
class SamplerConfig:
    """How the posterior is sampled."""

    sampler: str = choice("nutpie", ("nutpie", "pymc"), "nutpie (compiled once, fast refits) or PyMC's NUTS")
    draws: int = positive_count(1000, "draws per chain after tuning")
    tune: int = positive_count(1000, "tuning steps per chain")
    chains: int = positive_count(2, "chains (2 cores here); R-hat needs at least 2")
    cores: int = count(
        0,
        "threads sampling the chains (0: side by side, one per chain up to the machine's cores; 1: one after the "
        "other, about 15% less CPU when the cores are busy anyway, as in parallel tests or diagnoses). The draws "
        "do not depend on it",
    )
    target_accept: float = probability(0.9, "NUTS target acceptance rate")
    seed: int = positive_count(1, "sampler seed (the fit is reproducible given the data and this seed)")
    prior_scale: float = nonnegative(1.0, "multiplier on the prior SDs of effect parameters (1: as documented)")


@dataclass
class EstimatorConfig(SamplerConfig):
    """The ``estimator`` config group: which estimator and how it samples."""

    name: str = text("auto", "the estimator (conf/estimator/<name>.yaml); auto: the trial design's own")


@dataclass
class Estimand:
    """Posterior draws of one estimand with what 'no effect' is on its scale."""

    name: str
    draws: np.ndarray
    null: float
    freq: tuple[float, float, float, str] | None = None  # estimate, lower_95, upper_95, method


class Estimator:
    """Base class: subclasses define the model; ``fit`` runs it."""

    name: ClassVar[str] = ""
    design: ClassVar[str] = ""
    outcomes: ClassVar[dict[str, str]] = {}  # outcome -> better ("lower" / "higher")
    nutpie_options: ClassVar[dict[str, Any]] = {}  # extra nutpie.sample settings this model samples better with
    _compiled: ClassVar[dict[tuple, Any]] = {}  # structure key -> (pm.Model, compiled nutpie model or None)
    fast_method: ClassVar[str] = "frequentist"  # what fit_fast does: its own approximation, or the statsmodels one

    def __init__(self, settings: SamplerConfig | None = None) -> None:
        self.settings = settings or SamplerConfig()

    # ---------------------------------------------------------------- to override
    def validate(self, df: pd.DataFrame, outcome: str) -> None:
        raise NotImplementedError

    def arrays(self, df: pd.DataFrame, outcome: str) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def build(self, arrays: dict[str, np.ndarray]) -> Any:
        raise NotImplementedError

    def estimands(self, posterior: dict[str, np.ndarray], arrays: dict[str, np.ndarray]) -> list[Estimand]:
        raise NotImplementedError

    def frequentist(self, df: pd.DataFrame, outcome: str) -> dict[str, tuple[float, float, float, str]]:
        return {}

    @classmethod
    def example(cls, seed: int = 0, scale: float = 1.0) -> tuple[pd.DataFrame, str]:
        """A synthetic data set in the design's columns, of the design's default size times ``scale``, drawn
        from the model itself with a known effect; and the outcome to analyse. For benchmarks and the
        large-sample agreement checks, where a simulated world would only add minutes."""
        raise NotImplementedError

    def structure(self, arrays: dict[str, np.ndarray]) -> tuple:
        """What must be equal for a compiled model to be reused (by default: the names of the arrays)."""
        return tuple(sorted(arrays))

    # ---------------------------------------------------------------- shared machinery
    def check_outcome(self, df: pd.DataFrame, outcome: str) -> None:
        if outcome not in self.outcomes:
            raise DataError(
                f"outcome = {outcome!r} is not one this estimator analyses; choose one of {', '.join(self.outcomes)}"
            )

    @staticmethod
    def require(df: pd.DataFrame, columns: list[str]) -> None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            close = {c: [d for d in df.columns if d.lower() == c.lower() or d.replace(" ", "_") == c] for c in missing}
            hint = "; ".join(f"'{c}' looks misnamed as '{v[0]}'" for c, v in close.items() if v)
            raise DataError(
                f"missing column(s) {', '.join(repr(c) for c in missing)}"
                + (f" ({hint})" if hint else "")
                + f"; the design needs {', '.join(columns)}"
            )

    @staticmethod
    def binary(df: pd.DataFrame, column: str) -> None:
        values = pd.to_numeric(df[column], errors="coerce")
        bad = df[column][values.isna() | ~values.isin([0, 1])]
        if len(bad):
            raise DataError(
                f"column '{column}' must be 0 or 1 in every row; row {bad.index[0] + 2} has {bad.iloc[0]!r}"
            )

    def model(self, arrays: dict[str, np.ndarray]) -> tuple[Any, Any]:
        """The PyMC model (and its nutpie compilation) for this structure, built once per process."""
        key = (self.name, self.settings.sampler, self.settings.prior_scale, *self.structure(arrays))
        if key not in self._compiled:
            model = self.build(arrays)
            compiled = None
            if self.settings.sampler == "nutpie":
                import nutpie
                from pytensor import config

                # IEEE arithmetic, not numba's fast-math flags: with them, the log density compiled in one piece
                # rounds differently from the same one assembled from pytensor's on-disk cache, so a fit gave other
                # draws in a process that compiled it first than in one that found it cached. Costs up to a tenth of
                # the sampling time.
                with config.change_flags(numba__fastmath=False):
                    compiled = nutpie.compile_pymc_model(model)
            self._compiled[key] = (model, compiled)
        return self._compiled[key]

    def sample(self, arrays: dict[str, np.ndarray]) -> az.InferenceData:
        s = self.settings
        model, compiled = self.model(arrays)
        arrays = {k: v for k, v in arrays.items() if k in model.named_vars}  # others serve only the estimands
        with _quiet():
            if compiled is not None:
                import nutpie

                used = {k: v for k, v in arrays.items() if k in compiled.shared_data}  # the graph may drop some
                return nutpie.sample(
                    compiled.with_data(**used),
                    draws=s.draws,
                    tune=s.tune,
                    chains=s.chains,
                    seed=s.seed,
                    progress_bar=False,
                    target_accept=s.target_accept,
                    cores=s.cores or None,
                    save_warmup=False,  # nothing reads the tuning draws; converting them costs a fifth of a fit
                    **self.nutpie_options,
                )
            import pymc as pm

            with model:
                pm.set_data(arrays)
                return pm.sample(
                    draws=s.draws,
                    tune=s.tune,
                    chains=s.chains,
                    cores=s.cores or min(s.chains, 2),
                    random_seed=s.seed,
                    progressbar=False,
                    target_accept=s.target_accept,
                    compute_convergence_checks=False,
                )

    def fit(self, df: pd.DataFrame, outcome: str, frequentist: bool = True) -> list[Estimate]:
        """Validate, sample, and summarise every estimand (the first is the headline, e.g. the risk difference);
        ``frequentist=False`` skips the statsmodels cross-check (design diagnosis, where it would add its time
        to every replication)."""
        self.check_outcome(df, outcome)
        self.validate(df, outcome)
        arrays = self.arrays(df, outcome)
        idata = self.sample(arrays)
        posterior = {k: v.values.reshape(-1, *v.shape[2:]) for k, v in idata.posterior.data_vars.items()}
        rhat, ess, divergences = diagnostics(idata)
        freq = self.frequentist(df, outcome) if frequentist else {}
        out = []
        for e in self.estimands(posterior, arrays):
            f = freq.get(e.name)
            extra = (
                {}
                if f is None
                else {"freq_estimate": f[0], "freq_lower_95": f[1], "freq_upper_95": f[2], "freq_method": f[3]}
            )
            est = Estimate.from_draws(
                e.draws,
                estimator=self.name,
                estimand=e.name,
                outcome=outcome,
                better=self.outcomes[outcome],
                null=e.null,
                rhat_max=rhat,
                ess_min=ess,
                divergences=divergences,
                n=len(df),
                **extra,
            )
            est.idata = idata
            out.append(est)
        for warning in out[0].warnings if out else []:
            logging.getLogger("estimators").warning("%s: %s", self.name, warning)
        return out

    def fit_fast(self, df: pd.DataFrame, outcome: str, seed: int = 0, draws: int = 4000) -> list[Estimate]:
        """An approximate fit for screening many designs (``diagnose.fast=true``). This default has no
        approximation of its own and returns :meth:`fit_frequentist`; estimators with a faster or closer one
        (``fast_method``) override it."""
        return self.fit_frequentist(df, outcome, draws)

    def fit_frequentist(self, df: pd.DataFrame, outcome: str, draws: int = 4000) -> list[Estimate]:
        """The statsmodels counterpart as estimates: each estimand's estimate and 95% interval read as a normal
        distribution (on the log scale for a ratio), summarised like a posterior so that every decision rule
        applies: the 95% interval is the statsmodels one, the 90% interval and the probability of benefit are
        the same normal's, and nothing is random. The estimand is the counterpart's own (GEE: population-averaged),
        which need not be the Bayesian model's."""
        self.check_outcome(df, outcome)
        self.validate(df, outcome)
        freq = self.frequentist(df, outcome)
        if not freq:
            raise DataError(f"{self.name} has no statsmodels counterpart, so no fast fit")
        z = ndtri((np.arange(draws) + 0.5) / draws)
        out = []
        for name, (estimate, lower, upper, method) in freq.items():
            ratio = name.endswith("_ratio")
            scale = np.log if ratio else (lambda v: v)
            centre, se = scale(estimate), (scale(upper) - scale(lower)) / (2 * 1.959963984540054)
            values = centre + se * z
            est = Estimate.from_draws(
                np.exp(values) if ratio else values,
                estimator=self.name,
                estimand=name,
                outcome=outcome,
                better=self.outcomes[outcome],
                null=1.0 if ratio else 0.0,
                rhat_max=np.nan,
                ess_min=np.nan,
                divergences=0,
                n=len(df),
                freq_estimate=estimate,
                freq_lower_95=lower,
                freq_upper_95=upper,
                freq_method=method,
            )
            # the intervals and the probability of benefit exactly as the normal approximation has them
            for level, z_level in ((90, 1.6448536269514722), (95, 1.959963984540054)):
                low, high = centre - z_level * se, centre + z_level * se
                setattr(est, f"lower_{level}", float(np.exp(low) if ratio else low))
                setattr(est, f"upper_{level}", float(np.exp(high) if ratio else high))
            if est.better in ("lower", "higher") and se > 0:
                side = centre - scale(1.0 if ratio else 0.0)
                est.p_benefit = float(ndtr((-side if est.better == "lower" else side) / se))
            est.estimate, est.method = float(estimate), method
            est.warnings = [] if np.isfinite(se) and se > 0 else [f"{method}: no standard error"]
            out.append(est)
        return out

    def prior_predictive(self, df: pd.DataFrame, outcome: str, draws: int = 500) -> pd.DataFrame:
        """Draws of every estimand under the prior alone (is the prior weakly informative on that scale?)."""
        import pymc as pm

        self.check_outcome(df, outcome)
        self.validate(df, outcome)
        arrays = self.arrays(df, outcome)
        model = self.build(arrays)
        with model, _quiet():
            prior = pm.sample_prior_predictive(draws=draws, random_seed=self.settings.seed)
        parameters = {k: v.values.reshape(-1, *v.shape[2:]) for k, v in prior.prior.data_vars.items()}
        rows = []
        for e in self.estimands(parameters, arrays):
            q = np.quantile(e.draws, [0.025, 0.5, 0.975])
            rows.append({"estimand": e.name, "prior_lower_95": q[0], "prior_median": q[1], "prior_upper_95": q[2]})
        return pd.DataFrame(rows)


def diagnostics(idata: az.InferenceData, variables: list[str] | None = None) -> tuple[float, float, int]:
    """Largest R-hat (rank-normalised, split) and smallest bulk ESS over every scalar of the posterior (or of its
    ``variables``), and the number of divergent transitions."""
    posterior = idata.posterior if variables is None else idata.posterior[variables]
    draws = np.concatenate(
        [v.values.reshape(v.shape[0], v.shape[1], -1) for v in posterior.data_vars.values()], axis=2
    ).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: a scalar without a value is skipped
        rhat, ess = rhat_and_ess(draws)
        rhat_max, ess_min = float(np.nanmax(rhat)), float(np.nanmin(ess))
    stats = getattr(idata, "sample_stats", None)
    div = 0
    if stats is not None:
        for name in ("diverging", "divergences"):
            if name in stats:
                div = int(np.asarray(stats[name]).sum())
                break
    return rhat_max, ess_min, div


@contextlib.contextmanager
def _quiet():
    """PyMC and nutpie talk a lot; a fit should not."""
    loggers = [logging.getLogger(n) for n in ("pymc", "pytensor", "nutpie")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
