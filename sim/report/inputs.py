"""What the report is made from: the tables, config, seeds and versions of a finished run folder (a comparison's,
a design diagnosis's, or a diagnosis sweep's).

The report reads the folder, never the simulator, so it can be rendered again later (in another language)
from the files alone: ``python -m sim.report <run folder> --language da``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.config import CONF_DIR
from sim.registry import compose_config

#: Triage outcomes of a screening that take a report further than "no action".
TAKEN_FURTHER = ("advice", "investigation", "acute")


@dataclass
class ReportInputs:
    """A comparison's tables and metadata, as plain DataFrames and dicts."""

    comparison: pd.DataFrame  # comparison.parquet
    config: dict[str, Any]  # config.yaml, resolved
    seed: int
    replication_seeds: list[int]
    versions: dict[str, str]
    command: str  # the one command that reproduces the run
    config_text: str = ""
    truth: pd.DataFrame | None = None
    monthly: dict[str, pd.DataFrame] = field(default_factory=dict)  # scenario -> first replication's agency_monthly
    taken_further: dict[str, float] = field(default_factory=dict)  # scenario -> share of reports taken further
    convergence_failures: list[str] = field(default_factory=list)  # failed convergence checks, in words
    tool_performance: dict[str, pd.DataFrame] = field(default_factory=dict)  # scenario -> risk_tool_performance
    first_years: pd.DataFrame | None = None  # comparison_first_years.parquet: the first compare.first_years years
    psa: dict[str, pd.DataFrame] = field(default_factory=dict)  # psa/<table>.parquet: a PSA of this comparison
    psa_about: dict[str, Any] = field(default_factory=dict)  # psa/psa.json: its draws, prices and horizon

    @property
    def scenarios(self) -> list[str]:
        """Scenarios in the comparison's order, baseline first."""
        return list(dict.fromkeys(self.comparison["scenario"]))

    @property
    def replications(self) -> int:
        return int(self.comparison["replications"].max())

    @property
    def start_year(self) -> int:
        return int(self.config["world"]["start_year"])


@dataclass
class RunMetadata:
    """What every run folder holds besides its results: the config (resolved, as text and as a dict), the root
    seed, the package versions and the one command that reproduces the run."""

    config: dict[str, Any]
    config_text: str
    seed: int
    versions: dict[str, str]
    command: str


def read_metadata(folder: Path) -> RunMetadata:
    """``config.yaml``, ``seed.txt``, ``versions.json`` and the reproducing command of a run folder. A folder
    written without them (an experiment run from Python, not by ``python -m sim``) gives an empty config and no
    command."""
    folder = Path(folder)
    has_config = (folder / "config.yaml").exists()
    config_text = (folder / "config.yaml").read_text(encoding="utf-8") if has_config else ""
    config = yaml.safe_load(config_text) or {}
    seed = (
        int((folder / "seed.txt").read_text().strip()) if (folder / "seed.txt").exists() else int(config.get("seed", 0))
    )
    versions = json.loads((folder / "versions.json").read_text()) if (folder / "versions.json").exists() else {}
    return RunMetadata(config, config_text, seed, versions, reproduce_command(folder, config) if has_config else "")


def reproduce_command(folder: Path, config: dict[str, Any]) -> str:
    """``python -m sim`` with the run's overrides: Hydra's record of them (``.hydra/overrides.yaml``) when the
    run came from the command line, else the config keys that differ from the defaults of its presets."""
    record = Path(folder) / ".hydra" / "overrides.yaml"
    if record.exists():
        overrides = [o for o in (yaml.safe_load(record.read_text()) or []) if not o.startswith("hydra.")]
    else:
        overrides = config_overrides(config)
    return " ".join(["python -m sim", *(shlex.quote(o) for o in overrides)])


def _leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: node}


def _override_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(_override_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


#: Config groups named by their preset: group -> the default preset (not named in a command).
PRESETS = {"experiment": "compare", "world": "default", "trial": "none", "estimator": "auto"}


def config_overrides(config: dict[str, Any]) -> list[str]:
    """The overrides that turn the default config into ``config`` (its presets first: experiment, world, trial
    and estimator, then every key that differs). Policies selected with settings of their own are named with
    ``policy=[...]``."""
    import dataclasses

    preset = []
    for group, default in PRESETS.items():
        name = str((config.get(group) or {}).get("name", default))
        if name != default and (CONF_DIR / group / f"{name}.yaml").exists():
            preset.append(f"{group}={name}")
    policies = sorted((config.get("policy") or {}).keys())
    selected = [f"policy=[{','.join(policies)}]"] if policies else []
    defaults = compose_config([*preset, *selected])
    base = _leaves(dataclasses.asdict(defaults))
    out = [*preset, *selected]
    for key, value in _leaves(config).items():
        if base.get(key, object()) == value:
            continue
        out.append(f"{key}={_override_value(value)}")
    return out


def _taken_further(reports: pd.DataFrame, start_year: int) -> float:
    observed = reports[(reports["year"] >= start_year) & reports["triage"].notna()]
    return float(observed["triage"].isin(TAKEN_FURTHER).mean()) if len(observed) else float("nan")


def load_inputs(folder: Path) -> ReportInputs:
    """Read a comparison's run folder (``comparison.parquet``, ``config.yaml``, ``seed.txt``, ``versions.json``,
    ``outcomes_by_replication.parquet``, ``truth.parquet``, ``comparison_first_years.parquet``, the first
    replication's ``scenarios/``, the risk tool's performance under ``results/`` and a PSA's decision tables under
    ``psa/``)."""
    folder = Path(folder)
    meta = read_metadata(folder)
    config = meta.config
    comparison = pd.read_parquet(folder / "comparison.parquet")
    seeds: list[int] = []
    if (folder / "outcomes_by_replication.parquet").exists():
        long = pd.read_parquet(folder / "outcomes_by_replication.parquet", columns=["replication", "seed"])
        seeds = [int(s) for s in long.drop_duplicates("replication").sort_values("replication")["seed"]]
    truth = pd.read_parquet(folder / "truth.parquet") if (folder / "truth.parquet").exists() else None
    early = folder / "comparison_first_years.parquet"
    first_years = pd.read_parquet(early) if early.exists() else None
    monthly, taken, tool = {}, {}, {}
    start_year = int(config["world"]["start_year"])
    for scenario in dict.fromkeys(comparison["scenario"]):
        sub = folder / "scenarios" / scenario
        if (sub / "agency_monthly.parquet").exists():
            monthly[scenario] = pd.read_parquet(sub / "agency_monthly.parquet")
        if (sub / "reports.parquet").exists():
            reports = pd.read_parquet(sub / "reports.parquet", columns=["year", "triage"])
            taken[scenario] = _taken_further(reports, start_year)
        performance = folder / "results" / scenario / "risk_tool_performance.parquet"
        if performance.exists():
            tool[scenario] = pd.read_parquet(performance)
    psa_folder = folder / "psa"
    about = json.loads((psa_folder / "psa.json").read_text()) if (psa_folder / "psa.json").exists() else {}
    psa = {p.stem: pd.read_parquet(p) for p in sorted(psa_folder.glob("*.parquet"))} if about else {}
    return ReportInputs(
        comparison=comparison,
        config=config,
        seed=meta.seed,
        replication_seeds=seeds,
        versions=meta.versions,
        command=meta.command,
        config_text=meta.config_text,
        truth=truth,
        monthly=monthly,
        taken_further=taken,
        tool_performance=tool,
        first_years=first_years,
        psa=psa,
        psa_about=about,
    )


def cost_items(inputs: ReportInputs) -> pd.DataFrame:
    """Per scenario and cost item (caseworkers, investigations, measures, placements, the policies' own), the
    mean DKK a year; items a scenario does not have are left out."""
    comp = inputs.comparison
    costs = comp[comp["group"] == "costs"]
    rows = []
    for s in inputs.scenarios:
        part = costs[(costs["scenario"] == s) & costs["mean"].notna()]
        for r in part.to_dict("records"):
            item = str(r["outcome"]).removeprefix("cost_")
            if item != "total":
                rows.append({"scenario": s, "item": item, "dkk_per_year": float(r["mean"])})
    return pd.DataFrame(rows, columns=["scenario", "item", "dkk_per_year"])
