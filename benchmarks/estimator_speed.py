"""Benchmark: how fast each estimator fits when compiled once and refitted with new data, per sampler.

    python benchmarks/estimator_speed.py                                   # every estimator: a table
    python benchmarks/estimator_speed.py --estimators logistic_household   # one
    python benchmarks/estimator_speed.py --refits 5 --json                 # more refits; JSON rows instead
    python benchmarks/estimator_speed.py --estimators did_panel --samplers pymc --no-reference \
      --chains 1 --tune 50 --draws 50 --scale 0.5 --refits 1               # a smoke run: seconds

For every registered estimator and each sampler (PyMC's NUTS, nutpie), on the estimator's synthetic example
data (``Estimator.example``, the design's default size): ``compile_s`` builds the model (and, for nutpie,
compiles it), ``first_fit_s`` is that plus the first sampling, ``refit_s`` the median wall time of sampling
again with a new data set swapped into the compiled model, ``min_ess_per_s`` the median over refits of the
smallest bulk ESS over the parameters divided by the refit's seconds. ``agree`` says whether the samplers'
posterior means of the headline estimand agree within 4 Monte Carlo standard errors; the estimators use
the fastest sampler that agrees (``SamplerConfig.sampler``), and the last column says if that is so.

For ``logistic_household`` two more rows measure the issue's baseline: the same statistical model written the
usual way (a Bernoulli per report and 1,400 non-centred household intercepts) under PyMC's defaults (4 chains
x (1,000 tuning + 1,000 draws), 2 cores), refitted with ``pm.set_data`` and built fresh per replication. The
goals, checked at the end: the estimator's minimum ESS per second at least 3 times the baseline's, and a
replication (a refit) at least 5 times faster than a fresh build-and-sample of the baseline at equal ESS
(seconds per 1,000 effective draws). The goals are checked only at the default sampler settings and data size
(no ``--chains``, ``--tune``, ``--draws`` or ``--scale``).

``--json`` prints a list of rows (one object per estimator, model and sampler, the keys of :func:`_row` plus
``agree``, ``fastest_agreeing`` and ``default_is_fastest``); the goals then go to stderr as a table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import table  # noqa: E402  (benchmarks/ is a folder of scripts, not a package)

GOAL_ESS_RATIO, GOAL_REPLICATION_SPEEDUP = 3.0, 5.0
SAMPLERS = ("pymc", "nutpie")


def _headline(est: Any, idata: Any, arrays: dict[str, np.ndarray]) -> tuple[float, float]:
    """Posterior mean of the first estimand and its Monte Carlo standard error."""
    import arviz as az

    posterior = {k: v.values.reshape(-1, *v.shape[2:]) for k, v in idata.posterior.data_vars.items()}
    chains = idata.posterior.sizes["chain"]
    draws = np.asarray(est.estimands(posterior, arrays)[0].draws, dtype=float).reshape(chains, -1)
    return float(draws.mean()), float(np.asarray(az.mcse(draws, method="mean")).ravel()[0])


def bench_estimator(
    name: str, sampler: str, refits: int, sampling: dict[str, int] | None = None, scale: float = 1.0
) -> dict[str, Any]:
    """Compile, first fit and ``refits`` refits of one estimator with one sampler; ``sampling`` overrides the
    estimator's chains, tune and draws, ``scale`` the size of its example data."""
    from estimators import ESTIMATORS, SamplerConfig
    from estimators.base import diagnostics

    cls = ESTIMATORS[name]
    est = cls(SamplerConfig(sampler=sampler, **(sampling or {})))
    cls._compiled.clear()
    df, outcome = cls.example(seed=0, scale=scale)
    arrays = est.arrays(df, outcome)
    start = time.perf_counter()
    est.model(arrays)
    compile_s = time.perf_counter() - start
    idata = est.sample(arrays)
    first_fit_s = time.perf_counter() - start
    mean, mcse = _headline(est, idata, arrays)
    walls, ess = [], []
    for seed in range(1, refits + 1):
        new = est.arrays(cls.example(seed=seed, scale=scale)[0], outcome)
        start = time.perf_counter()
        fitted = est.sample(new)
        walls.append(time.perf_counter() - start)
        ess.append(diagnostics(fitted)[1])
    s = est.settings
    return _row(name, "estimator", sampler, s.chains, s.tune, s.draws, compile_s, first_fit_s, walls, ess, mean, mcse)


def reference_model(household: np.ndarray, treated: np.ndarray, y: np.ndarray, households: int) -> Any:
    """The household-clustered logistic model as usually written: one Bernoulli per report and a non-centred
    intercept per household (same priors as ``logistic_household``)."""
    import pymc as pm

    with pm.Model() as model:
        h = pm.Data("household", household)
        x = pm.Data("treated", treated)
        obs = pm.Data("y", y)
        alpha = pm.Normal("alpha", 0.0, 2.5)
        beta = pm.Normal("beta", 0.0, 1.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        z = pm.Normal("z", 0.0, 1.0, shape=households)
        pm.Bernoulli("y_obs", logit_p=alpha + beta * x + sigma * z[h], observed=obs)
    return model


def bench_reference(refits: int, sampling: dict[str, int] | None = None, scale: float = 1.0) -> list[dict[str, Any]]:
    """The baseline under PyMC's defaults (or ``sampling``'s chains, tune and draws): refitted with swapped data,
    and built fresh per replication."""
    import arviz as az
    import pymc as pm

    from estimators import ESTIMATORS
    from estimators.base import _quiet, diagnostics
    from estimators.logistic_household import LogisticHousehold

    cls = ESTIMATORS["logistic_household"]
    chains, tune, draws = (
        (sampling or {}).get(k, default) for k, default in (("chains", 4), ("tune", 1000), ("draws", 1000))
    )  # PyMC's defaults

    def data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        df, outcome = cls.example(seed=seed, scale=scale)
        return (
            df["household_id"].to_numpy(),
            df["treated"].to_numpy(dtype=float),
            df[outcome].to_numpy(dtype=float),
            int(df["household_id"].nunique()),
        )

    def sample(model: Any) -> Any:
        with model, _quiet():
            return pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                cores=min(chains, 2),
                random_seed=1,
                progressbar=False,
                compute_convergence_checks=False,
            )

    def min_ess(idata: Any) -> float:  # over the parameters the two parametrisations share
        return diagnostics(idata, ["alpha", "beta", "sigma"])[1]

    est = LogisticHousehold()
    headline = est.estimands  # the same posterior prediction of the risk difference
    start = time.perf_counter()
    model = reference_model(*data(0))
    compile_s = time.perf_counter() - start
    idata = sample(model)
    first_fit_s = time.perf_counter() - start
    posterior = idata.posterior[["alpha", "beta", "sigma"]]
    headline_draws = headline({k: v.values.reshape(-1) for k, v in posterior.data_vars.items()}, {})[0].draws
    mean, mcse = (
        float(headline_draws.mean()),
        float(np.asarray(az.mcse(headline_draws.reshape(chains, -1), method="mean")).ravel()[0]),
    )
    walls, ess = [], []
    for seed in range(1, refits + 1):
        household, treated, y, _ = data(seed)
        start = time.perf_counter()
        with model:
            pm.set_data({"household": household, "treated": treated, "y": y})
        fitted = sample(model)
        walls.append(time.perf_counter() - start)
        ess.append(min_ess(fitted))
    setup = ("pymc", chains, tune, draws)
    refit = _row("logistic_household", "reference", *setup, compile_s, first_fit_s, walls, ess, mean, mcse)
    fresh_walls, fresh_ess = [], []
    for seed in range(1, refits + 1):
        start = time.perf_counter()
        fitted = sample(reference_model(*data(seed)))
        fresh_walls.append(time.perf_counter() - start)
        fresh_ess.append(min_ess(fitted))
    fresh = _row("logistic_household", "reference, fresh", *setup, 0.0, first_fit_s, fresh_walls, fresh_ess, mean, mcse)
    return [refit, fresh]


def _row(
    name: str,
    model: str,
    sampler: str,
    chains: int,
    tune: int,
    draws: int,
    compile_s: float,
    first_fit_s: float,
    walls: list[float],
    ess: list[float],
    mean: float,
    mcse: float,
) -> dict[str, Any]:
    refit_s = statistics.median(walls)
    return {
        "estimator": name,
        "model": model,
        "sampler": sampler,
        "chains": chains,
        "tune": tune,
        "draws": draws,
        "compile_s": round(compile_s, 3),
        "first_fit_s": round(first_fit_s, 3),
        "refit_s": round(refit_s, 3),
        "refit_s_runs": [round(w, 3) for w in walls],
        "min_ess": round(statistics.median(ess), 1),
        "min_ess_per_s": round(statistics.median(e / w for e, w in zip(ess, walls, strict=True)), 1),
        "s_per_1000_ess": round(statistics.median(1000.0 * w / e for e, w in zip(ess, walls, strict=True)), 3),
        "headline_mean": round(mean, 5),
        "headline_mcse": round(mcse, 5),
    }


def agreement(rows: list[dict[str, Any]]) -> None:
    """Mark each row whether its headline posterior mean agrees with every other row of the estimator's, and
    which sampler the estimator should use (the fastest agreeing one)."""
    from estimators import ESTIMATORS

    for name in {r["estimator"] for r in rows}:
        group = [r for r in rows if r["estimator"] == name]
        for r in group:
            r["agree"] = all(
                abs(r["headline_mean"] - o["headline_mean"]) <= 4 * np.hypot(r["headline_mcse"], o["headline_mcse"])
                for o in group
            )
        own = [r for r in group if r["model"] == "estimator" and r["agree"]]
        fastest = max(own, key=lambda r: r["min_ess_per_s"])["sampler"] if own else None
        default = ESTIMATORS[name]().settings.sampler
        for r in group:
            r["fastest_agreeing"] = fastest
            r["default_is_fastest"] = fastest == default


def goals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's two speed goals for ``logistic_household`` against the baseline rows."""
    by = {(r["model"], r["sampler"]): r for r in rows if r["estimator"] == "logistic_household"}
    ours = by.get(("estimator", by.get(("estimator", "nutpie"), {}).get("fastest_agreeing") or "nutpie"))
    ref, fresh = by.get(("reference", "pymc")), by.get(("reference, fresh", "pymc"))
    if not (ours and ref and fresh):
        return []
    ess_ratio = ours["min_ess_per_s"] / ref["min_ess_per_s"]
    speedup = fresh["s_per_1000_ess"] / ours["s_per_1000_ess"]
    return [
        {
            "goal": "min ESS/s vs PyMC default (refit)",
            "value": round(ess_ratio, 1),
            "target": GOAL_ESS_RATIO,
            "pass": ess_ratio >= GOAL_ESS_RATIO,
        },
        {
            "goal": "replication vs fresh build-and-sample, per 1,000 ESS",
            "value": round(speedup, 1),
            "target": GOAL_REPLICATION_SPEEDUP,
            "pass": speedup >= GOAL_REPLICATION_SPEEDUP,
        },
    ]


def format_rows(rows: list[dict[str, Any]], checks: list[dict[str, Any]]) -> str:
    header = ["estimator", "model", "sampler", "chains x (tune+draws)", "compile_s", "first_fit_s", "refit_s"]
    header += ["min_ess", "min_ess_per_s", "s_per_1000_ess", "headline", "agree", "default_fastest"]
    lines = [
        [
            r["estimator"],
            r["model"],
            r["sampler"],
            f"{r['chains']} x ({r['tune']}+{r['draws']})",
            f"{r['compile_s']:.2f}",
            f"{r['first_fit_s']:.2f}",
            f"{r['refit_s']:.2f}",
            f"{r['min_ess']:.0f}",
            f"{r['min_ess_per_s']:.0f}",
            f"{r['s_per_1000_ess']:.2f}",
            f"{r['headline_mean']:.4f} ± {r['headline_mcse']:.4f}",
            "yes" if r["agree"] else "NO",
            "yes" if r["default_is_fastest"] else "NO",
        ]
        for r in rows
    ]
    out = table.format_table(header, lines, left={0, 1, 2, 3, 11, 12})
    return out + "\n\n" + table.format_goals(checks, unit="x") if checks else out


def main(argv: list[str] | None = None) -> int:
    """Parse options, benchmark each estimator and sampler, print a table or JSON."""
    from estimators import ESTIMATORS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--estimators", default=",".join(sorted(ESTIMATORS)), help="comma-separated (default: all)")
    p.add_argument("--samplers", default=",".join(SAMPLERS), help=f"comma-separated (default: {','.join(SAMPLERS)})")
    p.add_argument("--refits", type=int, default=3, help="refits with new data per estimator and sampler (default 3)")
    p.add_argument("--no-reference", action="store_true", help="skip the logistic_household baseline rows")
    p.add_argument("--chains", type=int, help="chains for every row (default: the estimator's 2; the reference's 4)")
    p.add_argument("--tune", type=int, help="tuning steps per chain (default: the estimator's 1000; reference 1000)")
    p.add_argument("--draws", type=int, help="draws per chain (default: the estimator's 1000; the reference's 1000)")
    p.add_argument("--scale", type=float, default=1.0, help="example data size, times the design's (default 1)")
    p.add_argument("--json", action="store_true", help="print a JSON list of rows (goals to stderr) instead of tables")
    args = p.parse_args(argv)
    if args.refits < 1:
        p.error("--refits must be at least 1")
    sampling = {k: getattr(args, k) for k in ("chains", "tune", "draws") if getattr(args, k) is not None}
    if any(v < 1 for v in sampling.values()) or args.scale <= 0:
        p.error("--chains, --tune, --draws and --scale must be positive")
    names = [s.strip() for s in args.estimators.split(",") if s.strip()]
    samplers = [s.strip() for s in args.samplers.split(",") if s.strip()]
    for name in names:
        if name not in ESTIMATORS:
            p.error(f"unknown estimator '{name}'; have: {', '.join(sorted(ESTIMATORS))}")
    for sampler in samplers:
        if sampler not in SAMPLERS:
            p.error(f"unknown sampler '{sampler}'; have: {', '.join(SAMPLERS)}")
    rows = []
    for name in names:
        for sampler in samplers:
            print(f"  {name} / {sampler} ...", file=sys.stderr, flush=True)
            rows.append(bench_estimator(name, sampler, args.refits, sampling, args.scale))
        if name == "logistic_household" and not args.no_reference:
            print("  logistic_household / reference model under PyMC defaults ...", file=sys.stderr, flush=True)
            rows += bench_reference(args.refits, sampling, args.scale)
    agreement(rows)
    checks = goals(rows) if not sampling and args.scale == 1.0 else []  # the goals are for the default settings
    if args.json:
        print(json.dumps(rows, indent=2))
        if checks:
            print(table.format_goals(checks, unit="x"), file=sys.stderr)
    else:
        print(format_rows(rows, checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
