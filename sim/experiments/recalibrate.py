"""``experiment=recalibrate fit=<name>``: fit the free parameters of ``conf/fit/<name>.yaml`` to its targets
file, write the fitted world as a preset, and check it against the whole targets file on fresh seeds."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from pathlib import Path

import yaml

from sim.calibration.fit import fit
from sim.calibration.table import calibration_table, render
from sim.calibration.targets import load_targets
from sim.config.schema import Config, WorldConfig
from sim.config.validate import ConfigError
from sim.runfolder import atomic_write_text


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
