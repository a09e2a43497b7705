"""The Hydra task: validate the composed config, write the run folder's metadata, run the experiment."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from estimators import DataError
from sim.config import CONF_DIR, ConfigError
from sim.experiments import EXPERIMENTS
from sim.registry import register_configs, to_config
from sim.runfolder import MANIFEST, write_manifest, write_metadata

register_configs()


def resolved_yaml(dcfg: DictConfig) -> str:
    """The run's config with every interpolation resolved and Hydra's own settings left out."""
    plain = OmegaConf.masked_copy(dcfg, [k for k in dcfg if k != "hydra"])
    return OmegaConf.to_yaml(plain, resolve=True)


def run_in_folder(dcfg: DictConfig, out_dir: Path) -> list[Path]:
    """Run the configured experiment in ``out_dir``; returns the files it wrote (manifest last)."""
    cfg = to_config(dcfg)
    files = write_metadata(out_dir, resolved_yaml(dcfg), cfg.seed)
    files += EXPERIMENTS[cfg.experiment.name](cfg, out_dir)
    files.append(write_manifest(out_dir, files))
    return files


@hydra.main(version_base=None, config_path=str(CONF_DIR), config_name="config")
def hydra_main(dcfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        run_in_folder(dcfg, out_dir)
    except (ConfigError, DataError) as exc:  # bad input: one line, no traceback, no result files
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:  # Ctrl-C: the workers are gone already (sim.parallel); say what is left
        print(f"\n{interrupted_message(dcfg, out_dir)}", file=sys.stderr)
        sys.exit(130)


def interrupted_message(dcfg: DictConfig, out_dir: Path) -> str:
    """Where the partial results of an interrupted run are, and how to go on."""
    lines = [f"interrupted: {out_dir} is unfinished (it has no {MANIFEST}): nothing in it is a result."]
    if dcfg.experiment.name == "diagnose":
        store = Path(dcfg.diagnose.store).resolve()
        lines.append(
            f"Every replication that finished is kept in {store}: run the same command again and only the "
            "missing ones are computed."
        )
    else:
        lines.append("Run the same command again to start it anew.")
    return "\n".join(lines)
