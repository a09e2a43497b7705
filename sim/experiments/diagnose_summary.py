"""A sweep's diagnosis in one place: every design point's diagnosands in one table, the power curve, the
minimum detectable effect (MDE) and the size for a target power.

    python -m sim -m experiment=diagnose trial=household_rct diagnose.fast=true \\
        trial.n_reports=500,1000,2000,4000 trial.assumed_risk_ratio=0.8,0.9
    python -m sim.experiments.diagnose_summary outputs/multirun/diagnose/<date>/<time>   # (also run at sweep end)

Writes into the sweep folder: ``diagnosands.csv`` (every point's rows), ``power_curve.png`` (power against the
size with 95% Monte Carlo bands, one line per effect size or other varying setting), ``mde.csv`` (per size: the
smallest effect with power >= the target, interpolated over the effect sizes tried, on the estimand's scale and
in the planted setting), ``size_for_power.csv`` (per effect size: the smallest size with power >= the target,
interpolated over the sizes tried; :mod:`sim.diagnosis.power` says how) and the sweep's report ``report.html``
(``report.language``; :mod:`sim.report.diagnosis`) with ``report_diagnosands.csv``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra.experimental.callback import Callback

from sim.diagnosis.diagnosands import wide
from sim.diagnosis.sweep import DESIGN, choose, gather, mde_table, size_table
from sim.report import write_report
from sim.report.diagnosis import line_groups, load_diagnosis_inputs
from sim.report.figures import png_bytes, power_curve_figure
from sim.report.i18n import LANGUAGES, Locale
from sim.runfolder import atomic_write_bytes, atomic_write_text

OUTPUTS = ("diagnosands.csv", "power_curve.png", "mde.csv", "size_for_power.csv", "report.html")


def plot(points: pd.DataFrame, size: str, lines: list[str], target: float, path: Path) -> Path:
    """Power against size, one line per combination of ``lines``, 95% Monte Carlo bands, the target dashed (the
    report's figure, in English)."""
    t = Locale("en")
    first = points.iloc[0]
    title = f"{first['trial']}: {first['outcome']}, {first['estimand']} ({first['mode']}), rule {first['rule']}"
    fig = power_curve_figure(points, size, line_groups(points, lines, t), target, t, title=title)
    return atomic_write_bytes(Path(path), png_bytes(fig))


def summarise(
    sweep: Path,
    size: str | None = None,
    effect: str | None = None,
    target: float = 0.8,
    say: Any = print,
    language: str = "en",
) -> list[Path]:
    """Write the sweep's diagnosands, power curve, MDE and size tables and its report (in ``language``);
    returns the paths."""
    sweep = Path(sweep)
    long = gather(sweep)
    design = [c for c in long.columns if c.startswith("trial.") or c in DESIGN]
    points = wide(long, ["point", *dict.fromkeys([*design, "rule", "null"])])
    size, effect, others = choose(points, size, effect)
    lines = [c for c in ([effect] if effect else []) + others]
    files = [atomic_write_text(sweep / "diagnosands.csv", long.to_csv(index=False, float_format="%.6g"))]
    files.append(plot(points, size, lines, target, sweep / "power_curve.png"))
    mde = mde_table(points, size, effect, others, target) if effect else pd.DataFrame()
    files.append(atomic_write_text(sweep / "mde.csv", mde.to_csv(index=False, float_format="%.6g")))
    sizes = size_table(points, size, lines, target)
    files.append(atomic_write_text(sweep / "size_for_power.csv", sizes.to_csv(index=False, float_format="%.6g")))
    say(f"{len(points)} design points in {sweep}")
    show = [size, *lines, "power", "power_mcse", "mean_truth", "n_failed", "n_nonconverged"]
    say(points.sort_values([*lines, size])[show].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for _, r in mde.iterrows():
        where = f"{size.removeprefix('trial.')} = {r[size]:g}"
        if np.isfinite(r["mde"]):
            name = effect.removeprefix("trial.")
            extra = f" ({name} {r['mde_' + name]:.3g})"
            say(f"MDE at {target:.0%} power, {where}: {r['mde']:.4g}{extra}")
        else:
            say(f"MDE at {target:.0%} power, {where}: not bracketed ({r['note']})")
    for _, r in sizes.iterrows():
        label = ", ".join(f"{c.removeprefix('trial.')} = {r[c]}" for c in lines)
        value = f"{r['size']:.0f}" if np.isfinite(r["size"]) else f"not bracketed ({r['note']})"
        say(f"{size.removeprefix('trial.')} for {target:.0%} power{' (' + label + ')' if label else ''}: {value}")
    files += write_report(sweep, language, inputs=load_diagnosis_inputs(sweep, size, effect, target))
    say(f"Written: {', '.join(p.name for p in files)}")
    return files


class SweepSummary(Callback):
    """Hydra callback (conf/experiment/diagnose.yaml): summarise the sweep folder when a multirun ends."""

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        try:
            summarise(
                Path(config.hydra.sweep.dir),
                target=float(config.diagnose.power_target),
                language=str(config.report.language),
            )
        except Exception as exc:  # a summary must never turn a finished sweep into a failure
            print(f"(no sweep summary: {exc}; run python -m sim.experiments.diagnose_summary)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.experiments.diagnose_summary", description=__doc__.splitlines()[0])
    p.add_argument("sweep", help="a multirun folder of experiment=diagnose runs")
    p.add_argument("--size", help="the size column (default: trial.n_reports, else the first varying setting)")
    p.add_argument("--effect", help="the effect-size column (default: trial.assumed_risk_ratio if it varies)")
    p.add_argument("--target", type=float, default=0.8, help="target power (default 0.8)")
    p.add_argument("--language", choices=LANGUAGES, default="en", help="language of the report (default en)")
    args = p.parse_args(argv)
    try:
        summarise(Path(args.sweep), args.size, args.effect, args.target, language=args.language)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
