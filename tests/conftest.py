"""Shared fixtures: simulated worlds are built once per session and reused by many tests."""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from unittest import mock

import pandas as pd
import pytest

from sim import cli as sim_cli
from sim.config import Config
from sim.model import SimulationResult, simulate
from sim.registry import compose_config

SMALL = ["world=small", "world.years=4", "world.burn_in_years=2"]
ROOT = Path(__file__).resolve().parents[1]
#: .ci/run sets this: there every optional tool (Chromium, Ray, submitit) must be present, and a test that needs a
#: missing one fails instead of being skipped.
IN_CI = os.environ.get("CHILDWELFARE_CI") == "1"


def require(module: str, install: str) -> ModuleType:
    """Import an optional package a test needs: skipped where it is not installed, a failure in CI."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if IN_CI:
            pytest.fail(f"{module} is required in CI (CHILDWELFARE_CI=1): {install}")
        pytest.skip(f"{module} is not installed here ({install})")


#: The longest test files, longest first (seconds of CPU per file in CI at 4fc2919, from its 20 slowest tests and
#: the files' other tests: calibration about 400, caseworker recovery 325, panel recovery 300 on both cores, household
#: recovery 245, daycare recovery 212, the policy effects 190, then the rest), started first: with one file per
#: worker (pytest-xdist --dist loadfile --no-loadscope-reorder) a long file started last would leave the other core
#: idle at the end.
LONGEST_FIRST = [
    "test_calibration.py",
    "test_recovery_caseworker_survey.py",
    "test_recovery_municipality_panel.py",
    "test_recovery_household_rct.py",
    "test_recovery_daycare_comparison.py",
    "test_policy_effects.py",
    "test_diagnose.py",
    "test_report.py",
    "test_audit.py",
    "test_risk_tool.py",
    "test_recovery_before_after_cases.py",
    "test_estimator_agreement.py",
    "test_municipality_panel.py",
    "test_fit_reproducibility.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the files longest first (tests within a file keep their order)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m sim ARGS`` from the repository root, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=ROOT, check=False)


def analyse_from_cli(
    tmp_path: Path, trial: str, data: pd.DataFrame, outcome: str, *overrides: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write ``data`` to CSV and analyse it with ``python -m sim experiment=analyse`` as a user would; returns
    the run's ``estimate.csv`` and the data as read back from the CSV (what an in-process fit should see).

    The command line's own entry point (pre-flight, Hydra, the run folder) runs in this process, so it reuses the
    model the test's in-process fit compiles: in a subprocess each of these tests spent 17-38 s compiling it again
    (the full ``python -m sim`` in a subprocess is tested by the main job's and the killed runs' tests)."""
    path = tmp_path / f"{trial}.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "run"
    argv = ["sim", "experiment=analyse", f"trial={trial}", f"data={path}", f"outcome={outcome}", *overrides]
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stderr = io.StringIO()
    try:
        with mock.patch.object(sys, "argv", [*argv, f"hydra.run.dir={out}"]), contextlib.redirect_stderr(stderr):
            sim_cli.main()
    except SystemExit as exc:
        raise AssertionError(f"python -m sim exited with {exc.code}: {stderr.getvalue()}") from None
    finally:  # Hydra points the root logger at the run's log file: give the next tests theirs back
        for handler in set(root.handlers) - set(handlers):
            handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
    return pd.read_csv(out / "estimate.csv"), pd.read_csv(path)


def run(overrides: list[str], out_dir: Path | None = None) -> SimulationResult:
    """Simulate with overrides, keeping every table in memory."""
    return simulate(compose_config(overrides), out_dir, keep=True)


@pytest.fixture(scope="session")
def small_cfg() -> Config:
    return compose_config(SMALL)


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    """The small world (≈5,000 children), 2 years of burn-in and 4 observed, written to a folder."""
    return run(SMALL, tmp_path_factory.mktemp("small"))
