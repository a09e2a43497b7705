"""``experiment=calibrate``: the published figures of a targets file side by side with the simulated world; with
``policy=<name>``, that policy's validation rows instead, on the world with the policy and its twin without."""

from __future__ import annotations

from pathlib import Path

from sim.calibration.table import calibration_table, render
from sim.calibration.targets import load_targets
from sim.calibration.validation import load_policy_targets, render_validation, validation_table
from sim.config.schema import Config
from sim.runfolder import atomic_write_text


def run(cfg: Config, out_dir: Path) -> list[Path]:
    if cfg.policy:
        return validate(cfg, out_dir)
    c = cfg.calibration
    targets = load_targets(c.targets)
    table = calibration_table(cfg, targets, c.replications, c.workers, progress=True)
    path = atomic_write_text(Path(out_dir) / "calibration.csv", table.to_csv(index=False, float_format="%.6g"))
    print(
        f"Calibration of world '{cfg.world.name}' ({cfg.world.children:,} children, {cfg.world.years} years after "
        f"{cfg.world.burn_in_years} of burn-in) against {c.targets}:"
    )
    print(render(table))
    print(f"Results in {out_dir}")
    return [path]


def validate(cfg: Config, out_dir: Path) -> list[Path]:
    """Each chosen policy's validation rows (``conf/targets/policies/<policy>.csv``), one table per policy."""
    c = cfg.calibration
    targets = {name: load_policy_targets(name) for name in cfg.policy}  # every file checked before simulating
    paths = []
    for name, rows in targets.items():
        table = validation_table(cfg, name, rows, c.paired_replications, c.workers)
        paths.append(
            atomic_write_text(Path(out_dir) / f"validation_{name}.csv", table.to_csv(index=False, float_format="%.6g"))
        )
        print(
            f"Validation of policy '{name}' in world '{cfg.world.name}' ({cfg.world.children:,} children, "
            f"{cfg.world.years} years after {cfg.world.burn_in_years} of burn-in), against its twin without:"
        )
        print(render_validation(table))
    print(f"Results in {out_dir}")
    return paths
