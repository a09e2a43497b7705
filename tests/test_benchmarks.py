"""The benchmark scripts run from a checkout exactly as benchmarks/README.md shows, and their JSON rows are what it
documents.

Each script is run as a user runs it, ``python benchmarks/<name>.py ... --json`` from the repository's root, at
the tiniest size that still goes through all of its code (a world of one year, five fast replications, one refit
of 20 draws), and its rows are checked: the documented keys, the rows asked for, positive times, finite numbers.
The numbers themselves are not checked: they are the machine's. A script named like a package of the project would
shadow it (Python puts the script's folder first on ``sys.path``), so no script may be.
"""

from __future__ import annotations

import importlib.machinery
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
HELPERS = {"table"}  # imported by the scripts, not run
# The project's top-level import names: a script with one of these names would be imported in its place.
PROJECT = {"sim", "estimators", "tests", "benchmarks"} | {p.parent.name for p in ROOT.glob("*/__init__.py")}
PROJECT |= {p.stem for p in ROOT.glob("*.py")}
# Every script's smoke run: seconds, not minutes (and no nutpie compile, which costs 10-40 s a process). The
# household trial's risk tool trains on 2 burn-in years; its 12-month outcomes need a second observed year.
SMOKE = {
    "world": "--presets small --years 1 --burn-in 0 --repeats 1",
    "compare": "--world small --years 1 --burn-in 1 --replications 1 --repeats 1",
    "audit": "--world small --years 2 --burn-in 3 --replications 1 --no-scenarios --repeats 1",
    "psa": "--world small --years 2 --burn-in 2 --draws 4 --scenarios baseline,free_municipality --repeats 1",
    "diagnose": "--modes fast --processes 1 --fast-replications 5 --world small --years 3 --burn-in 2 --n-reports 500",
    "estimator_speed": "--estimators logistic_household --samplers pymc --chains 1 --tune 20 --draws 20 --scale 0.1 "
    "--refits 1",
}


def scripts() -> list[str]:
    return sorted(p.stem for p in BENCHMARKS.glob("*.py"))


def run_json(name: str) -> list[dict[str, Any]]:
    """``python benchmarks/<name>.py <smoke options> --json`` from the repository's root: its JSON rows."""
    cmd = [sys.executable, f"benchmarks/{name}.py", *SMOKE[name].split(), "--json"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd[1:])} failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    rows = json.loads(proc.stdout)
    assert isinstance(rows, list), f"--json must print a list of rows, not {type(rows).__name__}"
    assert rows, "no rows"
    assert all(isinstance(r, dict) for r in rows)
    return rows


def numbers(value: Any) -> list[float]:
    """Every number in a row's value (lists included), booleans excepted."""
    if isinstance(value, list):
        return [x for v in value for x in numbers(v)]
    return [float(value)] if isinstance(value, int | float) and not isinstance(value, bool) else []


def check_rows(rows: list[dict[str, Any]], keys: set[str]) -> None:
    """Every row has exactly ``keys``, each documented in benchmarks/README.md, and only finite numbers."""
    documented = set(re.findall(r"`([a-z_0-9]+)`", (BENCHMARKS / "README.md").read_text(encoding="utf-8")))
    assert keys <= documented, f"keys not documented in benchmarks/README.md: {sorted(keys - documented)}"
    for row in rows:
        assert set(row) == keys, f"keys differ: missing {sorted(keys - set(row))}, extra {sorted(set(row) - keys)}"
        bad = {k: v for k, v in row.items() if not all(math.isfinite(x) for x in numbers(v))}
        assert not bad, f"non-finite numbers: {bad}"


def test_no_benchmark_script_shadows_a_project_package() -> None:
    """``python benchmarks/x.py`` puts benchmarks/ first on sys.path: a benchmarks/estimators.py made
    ``import estimators`` find the script instead of the package."""
    clashes = [name for name in scripts() if name in PROJECT]
    assert not clashes, f"benchmarks/{clashes[0]}.py would shadow the project's {clashes[0]!r}: rename it"


def test_no_benchmark_script_shadows_an_installed_or_standard_module() -> None:
    """Nor a module of the standard library or of an installed package (json.py, yaml.py, ...)."""
    path = [p for p in sys.path if Path(p or ".").resolve() != BENCHMARKS]
    clashes = [
        name
        for name in scripts()
        if name in sys.builtin_module_names or importlib.machinery.PathFinder.find_spec(name, path) is not None
    ]
    assert not clashes, f"benchmarks/{clashes[0]}.py would shadow an importable module {clashes[0]!r}: rename it"


def test_every_benchmark_script_has_a_smoke_run() -> None:
    assert set(scripts()) - HELPERS == set(SMOKE)


def test_world_benchmark_prints_one_json_row_per_preset_with_its_time_memory_and_reports() -> None:
    rows = run_json("world")
    check_rows(rows, {"preset", "children", "years", "repeats", "wall_s", "wall_s_runs", "peak_rss_mb", "reports",
                      "child_years_per_s", "reports_per_s", "goal_wall_s", "goal_rss_mb", "pass"})  # fmt: skip
    (row,) = rows
    assert (row["preset"], row["years"], row["repeats"]) == ("small", 1, 1)
    assert 4_000 < row["children"] < 6_000  # the small preset: about 5,000
    assert row["wall_s"] > 0 and row["wall_s_runs"] == [row["wall_s"]]
    assert row["peak_rss_mb"] > 0 and row["reports"] > 0
    assert row["child_years_per_s"] > 0 and row["reports_per_s"] > 0
    assert (row["goal_wall_s"], row["goal_rss_mb"], row["pass"]) == (None, None, None)  # goals: copenhagen, denmark


def test_compare_benchmark_times_the_main_job_and_a_replication_from_month_0_and_forked_with_identical_files():
    rows = run_json("compare")
    check_rows(rows, {"what", "repeats", "wall_s", "wall_s_runs", "worlds", "child_years_per_s", "reports_per_s",
                      "speedup", "identical", "goal", "pass"})  # fmt: skip
    main_job, month_0, shared = rows
    assert [r["what"] for r in rows] == ["main_job", "from_month_0", "shared_burn_in"]
    assert all(r["repeats"] == 1 and r["wall_s_runs"] == [r["wall_s"]] and r["wall_s"] > 0 for r in rows)
    assert (main_job["goal"], main_job["pass"]) == (None, None)  # the 60 s goal is for the default settings only
    assert month_0["worlds"] == shared["worlds"] == 6  # baseline and the five policies
    assert month_0["child_years_per_s"] > 0 and shared["reports_per_s"] > 0
    assert shared["identical"] is True
    assert shared["speedup"] == pytest.approx(month_0["wall_s"] / shared["wall_s"], abs=0.006)  # of unrounded times


def test_audit_benchmark_times_the_audit_as_a_user_runs_it() -> None:
    rows = run_json("audit")
    check_rows(rows, {"world", "replications", "scenarios", "repeats", "wall_s", "wall_s_runs", "goal", "pass"})
    (row,) = rows
    assert (row["world"], row["replications"], row["scenarios"], row["repeats"]) == ("small", 1, False, 1)
    assert row["wall_s"] > 0 and row["wall_s_runs"] == [row["wall_s"]]
    assert (row["goal"], row["pass"]) == (None, None)  # the 600 s goal is for the default settings only


def test_psa_benchmark_times_a_psa_as_a_user_runs_it() -> None:
    rows = run_json("psa")
    check_rows(rows, {"world", "draws", "scenarios", "repeats", "wall_s", "wall_s_runs", "simulation_s", "analysis_s",
                      "s_per_draw", "goal", "pass"})  # fmt: skip
    (row,) = rows
    assert (row["world"], row["draws"], row["scenarios"], row["repeats"]) == ("small", 4, 2, 1)
    assert 0 < row["simulation_s"] + row["analysis_s"] < row["wall_s"]  # start-up is outside both
    assert row["s_per_draw"] == pytest.approx(row["simulation_s"] / 4, abs=0.001)
    assert (row["goal"], row["pass"]) == (None, None)  # the 1,200 s goal is for the default settings only


def test_diagnose_benchmark_prints_one_json_row_per_mode_and_process_count_with_every_fit_done() -> None:
    rows = run_json("diagnose")
    check_rows(rows, {"world", "years", "n_reports", "mode", "processes", "replications", "wall_s", "reps_per_min",
                      "s_per_rep", "failed", "converged"})  # fmt: skip
    (row,) = rows
    assert (row["world"], row["years"], row["n_reports"]) == ("small", 5, 500)
    assert (row["mode"], row["processes"], row["replications"]) == ("fast", 1, 5)
    assert row["wall_s"] > 0 and row["reps_per_min"] > 0 and row["s_per_rep"] > 0
    assert row["failed"] == 0
    assert 0.0 <= row["converged"] <= 1.0


def test_estimator_speed_benchmark_prints_json_rows_for_the_estimator_and_its_pymc_reference() -> None:
    rows = run_json("estimator_speed")
    check_rows(rows, {"estimator", "model", "sampler", "chains", "tune", "draws", "compile_s", "first_fit_s",
                      "refit_s", "refit_s_runs", "min_ess", "min_ess_per_s", "s_per_1000_ess", "headline_mean",
                      "headline_mcse", "agree", "fastest_agreeing", "default_is_fastest"})  # fmt: skip
    assert [(r["estimator"], r["model"], r["sampler"]) for r in rows] == [
        ("logistic_household", "estimator", "pymc"),
        ("logistic_household", "reference", "pymc"),
        ("logistic_household", "reference, fresh", "pymc"),
    ]
    for r in rows:
        assert (r["chains"], r["tune"], r["draws"]) == (1, 20, 20)
        assert r["compile_s"] >= 0 and r["first_fit_s"] > 0 and r["refit_s"] > 0
        assert len(r["refit_s_runs"]) == 1
        assert r["min_ess"] > 0 and r["min_ess_per_s"] > 0 and r["s_per_1000_ess"] > 0
        assert -1 < r["headline_mean"] < 1 and r["headline_mcse"] > 0  # a risk difference
        assert isinstance(r["agree"], bool) and isinstance(r["default_is_fastest"], bool)
    assert rows[0]["fastest_agreeing"] in {"pymc", None}
