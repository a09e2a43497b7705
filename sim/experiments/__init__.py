"""Named jobs of ``python -m sim``: ``experiment=<name>`` runs ``EXPERIMENTS[name](cfg, out_dir)``, which
writes its results into the run folder and returns the paths it wrote."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.config.schema import Config
from sim.experiments import audit, calibrate, compare, diagnose, evsi, psa, recalibrate, simulate, trials

EXPERIMENTS: dict[str, Callable[[Config, Path], list[Path]]] = {
    "compare": compare.run,
    "simulate": simulate.run,
    "calibrate": calibrate.run,
    "recalibrate": recalibrate.run,
    "trial": trials.run_trial,
    "analyse": trials.run_analyse,
    "diagnose": diagnose.run,
    "audit": audit.run,
    "psa": psa.run,
    "evsi": evsi.run,
}
