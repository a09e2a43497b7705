"""``experiment=calibrate``: the published figures of a targets file side by side with the simulated world."""

from __future__ import annotations

from pathlib import Path

from sim.calibration.table import calibration_table, render
from sim.calibration.targets import load_targets
from sim.config.schema import Config
from sim.runfolder import atomic_write_text


def run(cfg: Config, out_dir: Path) -> list[Path]:
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
