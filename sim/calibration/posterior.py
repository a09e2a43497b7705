"""Bayesian recalibration by emulation: a sample of the free parameters consistent with a targets file.

1. **Design.** A scrambled Sobol' design of ``fit.design_points`` points over the free parameters' bounds; at each,
   ``fit.replications`` worlds (their own seeds) give every level target's mean.
2. **Emulator.** Per target, a Gaussian process over the unit cube (one length scale per parameter, a noise term
   for the simulation's chance), its mean and its own uncertainty written as formulas a sampler can differentiate.
   Checked by k-fold cross-validation: prediction errors in half bands and the coverage of 95% predictive
   intervals (``emulator_validation``).
3. **Posterior.** Uniform priors on the bounds; each target's band centre observed as normal around the
   emulator's mean, with the band's half width read as a 95% interval (sd = half / 1.96) plus the emulator's own
   variance at that point; sampled with NUTS (PyMC, 2 chains), with effective sample sizes and R-hat.

Emulation needs a few hundred simulated worlds where ABC-SMC needs thousands (docs/uncertainty.md measures both);
the posterior's rows are config values (``world.*`` columns), ready for ``psa.posterior``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

from sim.calibration.table import replicate
from sim.config.paths import with_values
from sim.config.schema import Config, FreeParameterConfig
from sim.parallel import parallel_map
from sim.rng import replication_seeds, sobol_points

#: A band's half width read as a 95% interval of the published figure.
Z95 = float(stats.norm.ppf(0.975))


def unit_design(dimensions: int, points: int, seed: int) -> np.ndarray:
    """``points`` of a scrambled Sobol' sequence in [0, 1)^dimensions."""
    return sobol_points(dimensions, points, seed)


def to_values(free: list[FreeParameterConfig], z: np.ndarray) -> np.ndarray:
    lo = np.array([p.lower for p in free])
    hi = np.array([p.upper for p in free])
    return lo + np.asarray(z) * (hi - lo)


def run_design(
    cfg: Config, free: list[FreeParameterConfig], ids: list[str], z: np.ndarray, replications: int, workers: int = 0
) -> pd.DataFrame:
    """Every design point's worlds: one row per point and replication, the parameter values and each target's
    metric. Each point's worlds have their own seeds (from the run's seed and the point's index)."""
    x = to_values(free, z)
    cfgs, seeds, rows = [], [], []
    for i, values in enumerate(x):
        point_cfg = with_values(cfg, dict(zip([p.key for p in free], values.tolist(), strict=True)))
        for r, seed in enumerate(replication_seeds(cfg.seed + 7919 * (i + 1), replications)):
            cfgs.append(point_cfg)
            seeds.append(seed)
            rows.append({"point": i, "replication": r, **dict(zip([p.key for p in free], values, strict=True))})
    metrics = parallel_map(replicate, cfgs, seeds, [ids] * len(cfgs), workers=workers)
    for row, m in zip(rows, metrics, strict=True):
        row.update({i: float(m[i][0]) for i in ids})
    return pd.DataFrame(rows)


@dataclass
class Emulator:
    """Per target, a fitted Gaussian process on the unit cube: training inputs, the kernel's amplitude and length
    scales, the noise, the outputs' mean and scale, the weights ``alpha`` and the inverse of the training
    covariance (for the predictive variance)."""

    targets: list[str]
    z: np.ndarray
    amplitude: np.ndarray  # per target: the kernel's variance on the normalised scale
    length: np.ndarray  # targets x parameters
    noise: np.ndarray  # per target: the noise variance on the normalised scale
    y_mean: np.ndarray
    y_scale: np.ndarray
    alpha: np.ndarray  # targets x points
    k_inv: np.ndarray  # targets x points x points

    @classmethod
    def fit(cls, z: np.ndarray, y: pd.DataFrame, seed: int = 0) -> Emulator:
        """One Gaussian process per column of ``y`` (the design points' target means) on ``z``."""
        parts = []
        for target in y.columns:
            kernel = ConstantKernel(1.0, (1e-3, 1e2)) * RBF(np.full(z.shape[1], 0.5), (1e-2, 1e2)) + WhiteKernel(
                1e-2, (1e-6, 1.0)
            )
            gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=2, random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                gp.fit(z, y[target].to_numpy(dtype=float))
            k = gp.kernel_
            parts.append(
                (
                    float(k.k1.k1.constant_value),
                    np.atleast_1d(k.k1.k2.length_scale).astype(float),
                    float(k.k2.noise_level),
                    float(gp._y_train_mean),
                    float(gp._y_train_std),
                    gp.alpha_.ravel(),
                    np.linalg.inv(k(z)),
                )
            )
        return cls(
            targets=list(y.columns),
            z=np.asarray(z, dtype=float),
            amplitude=np.array([p[0] for p in parts]),
            length=np.array([p[1] for p in parts]),
            noise=np.array([p[2] for p in parts]),
            y_mean=np.array([p[3] for p in parts]),
            y_scale=np.array([p[4] for p in parts]),
            alpha=np.array([p[5] for p in parts]),
            k_inv=np.array([p[6] for p in parts]),
        )

    def cross(self, z: np.ndarray) -> np.ndarray:
        """Kernel between points ``z`` (m x d) and the training inputs, per target: targets x m x points."""
        diff = (np.asarray(z)[None, :, None, :] - self.z[None, None, :, :]) / self.length[:, None, None, :]
        return self.amplitude[:, None, None] * np.exp(-0.5 * (diff**2).sum(axis=-1))

    def predict(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The emulated mean and the emulator's own variance (the noise term left out) of every target at ``z``,
        in the targets' units: two arrays of m x targets."""
        k = self.cross(z)
        mean = np.einsum("tmn,tn->tm", k, self.alpha) * self.y_scale[:, None] + self.y_mean[:, None]
        var = self.amplitude[:, None] - np.einsum("tmn,tnk,tmk->tm", k, self.k_inv, k)
        return mean.T, (np.clip(var, 0.0, None) * self.y_scale[:, None] ** 2).T


def cross_validate(z: np.ndarray, y: pd.DataFrame, half: np.ndarray, folds: int = 5, seed: int = 0) -> pd.DataFrame:
    """k-fold validation of the emulator, per target: root mean squared error of the held-out predictions in
    half bands (below 1: the emulator errs by less than the band allows), the share of held-out design means
    inside their 95% predictive interval (emulator variance plus the design's noise) and the mean standardised
    error (near 0 without bias)."""
    order = np.random.default_rng(seed).permutation(len(z))
    errors, inside, standard = [], [], []
    for fold in range(folds):
        test = order[fold::folds]
        train = np.setdiff1d(order, test)
        em = Emulator.fit(z[train], y.iloc[train], seed)
        mean, var = em.predict(z[test])
        total = var + em.noise * em.y_scale**2
        e = y.iloc[test].to_numpy(dtype=float) - mean
        errors.append(e / half)
        standard.append(e / np.sqrt(total))
        inside.append(np.abs(e) <= Z95 * np.sqrt(total))
    e, s, c = (np.vstack(a) for a in (errors, standard, inside))
    return pd.DataFrame(
        {
            "target": list(y.columns),
            "rmse_half_bands": np.sqrt((e**2).mean(axis=0)),
            "coverage_95": c.mean(axis=0),
            "mean_standardised_error": s.mean(axis=0),
            "points": len(z),
        }
    )


class Posterior:
    """The posterior of the unit-cube parameters given band centres and half widths per target, compiled once
    (nutpie) for an emulator and sampled for any targets of its columns: uniform priors, each centre normal around
    the emulated mean with sd = sqrt((half / 1.96)^2 + the emulator's variance)."""

    def __init__(self, emulator: Emulator) -> None:
        import nutpie
        import pymc as pm
        import pytensor.tensor as pt
        from pytensor import config

        em = self.emulator = emulator
        targets = len(em.targets)
        with pm.Model() as model:
            centre = pm.Data("centre", np.zeros(targets))
            sd_obs = pm.Data("sd_obs", np.ones(targets))
            z = pm.Uniform("z", 0.0, 1.0, shape=em.z.shape[1])
            diff = (z[None, None, :] - em.z[None, :, :]) / em.length[:, None, :]
            k = em.amplitude[:, None] * pt.exp(-0.5 * pt.sum(diff**2, axis=-1))  # targets x points
            mean = pt.sum(k * em.alpha, axis=1) * em.y_scale + em.y_mean
            var = em.amplitude - pt.sum(k[:, :, None] * em.k_inv * k[:, None, :], axis=(1, 2))
            sd = pt.sqrt(sd_obs**2 + pt.clip(var, 0.0, np.inf) * em.y_scale**2)
            pm.Normal("observed", mean, sd, observed=centre)
        with config.change_flags(numba__fastmath=False):  # the same draws whether compiled or cached (estimators)
            self.compiled = nutpie.compile_pymc_model(model)

    def sample(
        self, centre: np.ndarray, half: np.ndarray, draws: int = 1000, tune: int = 1000, seed: int = 0
    ) -> tuple[np.ndarray, dict[str, float]]:
        """Posterior draws (2 chains x ``draws`` rows, one column per parameter, on the unit cube) and the
        sampler's diagnostics: smallest bulk and tail effective sample size, largest R-hat, divergences."""
        import arviz as az
        import nutpie

        data = {"centre": np.asarray(centre, dtype=float), "sd_obs": np.asarray(half, dtype=float) / Z95}
        idata = nutpie.sample(
            self.compiled.with_data(**data), draws=draws, tune=tune, chains=2, seed=seed, progress_bar=False,
            target_accept=0.9, cores=1, save_warmup=False,
        )  # fmt: skip
        summary = az.summary(idata, var_names=["z"], kind="diagnostics")
        z = idata.posterior["z"].to_numpy()
        diagnostics = {
            "ess_bulk_min": float(summary["ess_bulk"].min()),
            "ess_tail_min": float(summary["ess_tail"].min()),
            "r_hat_max": float(summary["r_hat"].max()),
            "divergences": int(idata.sample_stats["diverging"].sum()),
            "draws": int(z.shape[0] * z.shape[1]),
        }
        return z.reshape(-1, z.shape[-1]), diagnostics


def synthetic_targets(
    runs: pd.DataFrame, ids: list[str], relative_sd: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Band centres and half widths of a synthetic targets file from ``runs`` (worlds at known parameters, one
    row each): each centre the worlds' mean plus a published figure's own error (sd ``relative_sd`` of the
    mean); each half width 1.96 times the sd of that centre about the worlds' expected value (the figure's error
    and the mean's Monte Carlo error together), so the observation model holds exactly."""
    values = runs[ids].to_numpy(dtype=float)
    mean = values.mean(axis=0)
    world_var = values.var(axis=0, ddof=1) / len(values) if len(values) > 1 else np.zeros(len(ids))
    sd_obs = relative_sd * np.abs(mean)
    centre = mean + rng.normal(0.0, 1.0, len(ids)) * sd_obs
    return centre, Z95 * np.sqrt(sd_obs**2 + world_var)
