"""``experiment=trial`` and ``experiment=analyse``: a trial design's data, its estimator, and the truth.

``trial`` simulates the design's worlds, draws the trial's data set, estimates every outcome (or ``outcome``)
and scores each estimate against the exact estimand: ``trial_data``, ``truth``, ``estimate`` and ``scored``
tables. ``analyse`` reads a real data file in the design's columns and writes ``estimate.csv``; a file the
estimator cannot analyse stops the run with one message and no estimate.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from estimators import ESTIMATORS, DataError, Estimator, SamplerConfig, to_frame
from sim.config.schema import Config
from sim.config.validate import ConfigError
from sim.experiments.compare import write_both
from sim.runfolder import atomic_write_text
from sim.trials import TRIALS, Trial


def design(cfg: Config) -> Trial:
    if isinstance(cfg.trial, dict):
        raise ConfigError(
            f"experiment={cfg.experiment.name} needs a trial design: trial=<name>; choose one of "
            f"{', '.join(sorted(TRIALS))}"
        )
    return TRIALS[cfg.trial.name](cfg.trial)


def estimator_for(cfg: Config, trial: Trial) -> Estimator:
    name = trial.estimator if cfg.estimator.name == "auto" else cfg.estimator.name
    cls = ESTIMATORS[name]
    if cls.design not in (trial.name, trial.analysed_as):
        raise ConfigError(
            f"estimator.name = {name!r} analyses the {cls.design} design, not {trial.name}; "
            f"use estimator={trial.estimator}"
        )
    fields = {k: getattr(cfg.estimator, k) for k in SamplerConfig.__dataclass_fields__}
    return cls(SamplerConfig(**fields))


def outcomes_for(cfg: Config, trial: Trial, estimator: Estimator) -> list[str]:
    if cfg.outcome:
        if cfg.outcome not in estimator.outcomes:
            raise ConfigError(
                f"outcome = {cfg.outcome!r} is not allowed for {estimator.name}: choose one of "
                f"{', '.join(estimator.outcomes)}"
            )
        return [cfg.outcome]
    return [o for o in trial.outcomes if o in estimator.outcomes]


def scored(estimates: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Each estimate next to its estimand: error, and whether the 90% and 95% intervals cover the truth."""
    joined = estimates.merge(truth.rename(columns={"value": "truth"}), on=["outcome", "estimand"], how="inner")
    joined["error"] = joined["estimate"] - joined["truth"]
    joined["covered_90"] = (joined["lower_90"] <= joined["truth"]) & (joined["truth"] <= joined["upper_90"])
    joined["covered_95"] = (joined["lower_95"] <= joined["truth"]) & (joined["truth"] <= joined["upper_95"])
    return joined


def run_trial(cfg: Config, out_dir: Path) -> list[Path]:
    trial = design(cfg)
    estimator = estimator_for(cfg, trial)
    outcomes = outcomes_for(cfg, trial, estimator)
    print(f"Simulating the {trial.name} trial on world '{cfg.world.name}' (seed {cfg.seed}) ...")
    data = trial.draw(trial.worlds(cfg), cfg.seed)
    out_dir = Path(out_dir)
    files = write_both(out_dir, "trial_data", data.data) + write_both(out_dir, "trial_truth", data.truth)
    estimates = pd.concat([to_frame(estimator.fit(data.data, o)) for o in outcomes], ignore_index=True)
    files += write_both(out_dir, "estimate", estimates)
    table = scored(estimates, data.truth)
    files += write_both(out_dir, "scored", table)
    print(f"{len(data.data):,} units; {estimator.name} ({estimator.settings.sampler}):")
    for _, r in table.iterrows():
        print(
            f"  {r['outcome']:<18} {r['estimand']:<16} estimate {r['estimate']:+.4f} "
            f"[{r['lower_95']:+.4f}, {r['upper_95']:+.4f}]  truth {r['truth']:+.4f}  "
            f"{'covered' if r['covered_95'] else 'MISSED'}"
        )
    print(f"Results in {out_dir}")
    return files


def read_data(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"data = {path!r}: no such file")
    try:
        return pd.read_csv(p)
    except Exception as exc:  # pandas raises several kinds for a bad CSV
        raise ConfigError(f"data = {path!r} is not a readable CSV file ({exc})") from None


def run_analyse(cfg: Config, out_dir: Path) -> list[Path]:
    trial = design(cfg)
    if not cfg.data:
        raise ConfigError("experiment=analyse needs a data file: data=PATH.csv")
    estimator = estimator_for(cfg, trial)
    outcome = outcomes_for(cfg, trial, estimator)[0]
    df = read_data(cfg.data)
    try:
        estimates = to_frame(estimator.fit(df, outcome))
    except DataError as exc:
        raise DataError(f"{Path(cfg.data).name}: {exc}") from None
    path = atomic_write_text(Path(out_dir) / "estimate.csv", estimates.to_csv(index=False, float_format="%.6g"))
    print(f"{trial.name}, {outcome}, {len(df):,} rows, {estimator.name}:")
    for _, r in estimates.iterrows():
        print(
            f"  {r['estimand']:<16} {r['estimate']:+.4f} (95% {r['lower_95']:+.4f} to {r['upper_95']:+.4f}); "
            f"statsmodels {r['freq_estimate']:+.4f}" + ("" if r["converged"] else f"  WARNING: {r['warnings']}")
        )
    return [path]
