"""``experiment=recalibrate fit=<name>``: fit the free parameters of ``conf/fit/<name>.yaml`` to its targets
file, write the fitted world as a preset, and check it against the whole targets file on fresh seeds. With
``fit.method=emulator``, a calibration posterior instead (``sim/calibration/posterior.py``): ``posterior.parquet``
with its diagnostics, and its median as the fitted world."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import yaml

from sim.calibration.fit import fit, targets_used
from sim.calibration.posterior import Emulator, Posterior, cross_validate, run_design, to_values, unit_design
from sim.calibration.table import calibration_table, render
from sim.calibration.targets import load_targets
from sim.config.paths import with_values
from sim.config.schema import Config, WorldConfig
from sim.config.validate import ConfigError
from sim.experiments.compare import write_both
from sim.model import arrow_table
from sim.runfolder import atomic_write_text, write_table


def world_differences(world: object, defaults: object) -> dict:
    """The keys of a world config that differ from the schema defaults, as a nested dict (whole lists)."""
    out: dict = {}
    for f in dataclasses.fields(world):
        value, default = getattr(world, f.name), getattr(defaults, f.name)
        if dataclasses.is_dataclass(value):
            sub = world_differences(value, default)
            if sub:
                out[f.name] = sub
        elif value != default:
            out[f.name] = value
    return out


def fitted_world_yaml(cfg: Config, name: str) -> str:
    """The fitted world as a ``conf/world/<name>.yaml`` preset: every key that differs from the defaults (the
    preset it started from and the fitted values), so ``world=<name>`` reproduces it exactly."""
    world = {"name": name, **{k: v for k, v in world_differences(cfg.world, WorldConfig()).items() if k != "name"}}
    return yaml.safe_dump(world, sort_keys=False, default_flow_style=None)


def run(cfg: Config, out_dir: Path) -> list[Path]:
    f = cfg.fit
    if not f.parameters:
        raise ConfigError("experiment=recalibrate needs free parameters: choose a fit, e.g. fit=double_reports")
    out_dir = Path(out_dir)
    targets = load_targets(f.targets)
    if f.method == "emulator":
        return run_posterior(cfg, targets, out_dir)
    print(f"Fitting {', '.join(p.key for p in f.parameters)} of world '{cfg.world.name}' to {f.targets}:")
    result = fit(
        cfg,
        targets,
        f.parameters,
        f.replications,
        f.max_evaluations,
        cfg.calibration.workers,
        f.target_ids,
        f.initial_points,
        f.method,
    )
    files = [atomic_write_text(out_dir / "fit_trace.csv", result.trace.to_csv(index=False, float_format="%.6g"))]
    preset = f"{cfg.world.name}_{f.name}"
    header = (
        f"# Fitted by: python -m sim experiment=recalibrate fit={f.name} (seed {cfg.seed}); loss "
        f"{result.start_loss:.3g} -> {result.loss:.3g}. Copy to conf/world/{preset}.yaml to use world={preset}.\n"
    )
    files.append(atomic_write_text(out_dir / "fitted_world.yaml", header + fitted_world_yaml(result.config, preset)))
    print(f"Fitted values (loss {result.start_loss:.3g} -> {result.loss:.3g}):")
    for key, value in result.values.items():
        print(f"  {key} = {value:.4g}")
    checked = replace(result.config, seed=cfg.seed + 1)  # fresh seeds: the check is not the fit's own noise
    table = calibration_table(checked, targets, cfg.calibration.replications, cfg.calibration.workers, progress=True)
    files.append(atomic_write_text(out_dir / "calibration.csv", table.to_csv(index=False, float_format="%.6g")))
    print(f"The fitted world against {f.targets} (fresh seeds):")
    print(render(table))
    print(f"Results in {out_dir}")
    return files


def run_posterior(cfg: Config, targets: pd.DataFrame, out_dir: Path) -> list[Path]:
    """``fit.method=emulator``: the design's worlds, the emulator and its cross-validation, the posterior
    (``posterior.parquet``, one ``world.*`` column per free parameter) with its diagnostics, and the posterior
    median as the single best world (``fitted_world.yaml``), checked on fresh seeds."""
    f = cfg.fit
    free = f.parameters
    used = targets_used(targets, f.target_ids)
    ids = list(used["id"])
    centre = ((used["lower"] + used["upper"]) / 2).to_numpy(dtype=float)
    half = ((used["upper"] - used["lower"]) / 2).to_numpy(dtype=float)
    print(f"  emulator: {f.design_points} design points x {f.replications} worlds, {len(ids)} targets")
    z = unit_design(len(free), f.design_points, cfg.seed)
    runs = run_design(cfg, free, ids, z, f.replications, cfg.calibration.workers)
    means = runs.groupby("point")[ids].mean()
    validation = cross_validate(z, means, half, seed=cfg.seed)
    emulator = Emulator.fit(z, means, cfg.seed)
    draws, diagnostics = Posterior(emulator).sample(centre, half, f.posterior_draws, seed=cfg.seed)
    keys = [p.key for p in free]
    posterior = pd.DataFrame(to_values(free, draws), columns=keys)
    files = write_both(out_dir, "design", runs) + write_both(out_dir, "emulator_validation", validation)
    files.append(write_table(out_dir / "posterior.parquet", arrow_table(posterior)))
    summary = pd.DataFrame(
        {
            "key": keys,
            "lower": [p.lower for p in free],
            "upper": [p.upper for p in free],
            "median": posterior.median().to_numpy(),
            "q05": posterior.quantile(0.05).to_numpy(),
            "q95": posterior.quantile(0.95).to_numpy(),
        }
    )
    files += write_both(out_dir, "posterior_summary", summary)
    files.append(atomic_write_text(out_dir / "posterior_diagnostics.json", json.dumps(diagnostics, indent=2) + "\n"))
    print("Emulator cross-validation (prediction error in half bands; coverage of 95% intervals):")
    for r in validation.itertuples():
        print(f"  {r.target:40s} {r.rmse_half_bands:6.2f} {r.coverage_95:6.0%}")
    d = diagnostics
    print(
        f"Posterior ({d['draws']} draws; smallest bulk ESS {d['ess_bulk_min']:.0f}, largest R-hat "
        f"{d['r_hat_max']:.3f}, {d['divergences']} divergences): median (5% to 95%)"
    )
    for r in summary.itertuples():
        print(f"  {r.key} = {r.median:.4g} ({r.q05:.4g} to {r.q95:.4g})")
    best = with_values(cfg, dict(zip(keys, summary["median"].tolist(), strict=True)))
    preset = f"{cfg.world.name}_{f.name}"
    header = (
        f"# The posterior median of: python -m sim experiment=recalibrate fit={f.name} fit.method=emulator "
        f"(seed {cfg.seed}). Copy to conf/world/{preset}.yaml to use world={preset}.\n"
    )
    files.append(atomic_write_text(out_dir / "fitted_world.yaml", header + fitted_world_yaml(best, preset)))
    table = calibration_table(replace(best, seed=cfg.seed + 1), targets, cfg.calibration.replications,
                              cfg.calibration.workers, progress=True)  # fmt: skip
    files.append(atomic_write_text(out_dir / "calibration.csv", table.to_csv(index=False, float_format="%.6g")))
    print(f"The posterior median world against {f.targets} (fresh seeds):")
    print(render(table))
    print(f"Results in {out_dir}; for a PSA: psa.posterior={out_dir / 'posterior.parquet'}")
    return files
