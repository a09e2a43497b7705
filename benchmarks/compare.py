"""Benchmark: the main job's wall time, and what sharing the burn-in saves a comparison.

    python benchmarks/compare.py                # the main job 3 times; one replication from month 0 and forked
    python benchmarks/compare.py --json         # a JSON list of rows instead of a table
    python benchmarks/compare.py --world small --years 1 --burn-in 1 --replications 1 --repeats 1   # the smoke run

Three rows, each the median of ``--repeats`` fresh processes:

- ``main_job``: ``python -m sim`` as a user types it (the default comparison with its report, every core), timed
  from outside, start-up and report included. Goal, at the default settings: under 60 s.
- ``from_month_0``: one replication of the comparison's scenarios (the first replication's seed), each world
  simulated from month 0, one after the other, writing its Parquet files as the comparison does.
- ``shared_burn_in``: the same worlds by :func:`sim.model.simulate_variants` one at a time: the months before the
  first policy starts simulated once, each scenario forked from there. Goal: at least 1.6 times faster than
  ``from_month_0`` (``speedup``), and every file it writes the same to the byte (``identical``).

The last two time the simulation alone (config composed, imports done), on one core each.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import table  # benchmarks/ is a folder of scripts, not a package

ROOT = Path(__file__).resolve().parents[1]
GOAL_MAIN_JOB_S = 60.0
GOAL_SPEEDUP = 1.6
MODES = ("from_month_0", "shared_burn_in")


def digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``, by its path relative to it."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_child(mode: str, overrides: list[str]) -> dict[str, Any]:
    """One replication of the comparison's scenarios in this process, in ``mode``: seconds, worlds, child-years,
    reports and the digest of the files written."""
    from sim.model import simulate, simulate_variants
    from sim.registry import compose_config
    from sim.rng import replication_seeds
    from sim.scenarios import BASELINE, scenario_config

    cfg = compose_config(overrides)
    seed = replication_seeds(cfg.seed, 1)[0]
    order = [BASELINE, *[s for s in cfg.compare.scenarios if s != BASELINE]]
    cfgs = [scenario_config(cfg, s, seed) for s in order]

    def counts(result) -> tuple[float, int]:
        return float(result.agency_monthly["children"].mean()), len(result.reports)

    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        dirs = [Path(tmp) / s for s in order]
        start = time.perf_counter()
        if mode == "shared_burn_in":
            kept = simulate_variants(cfgs, dirs, reduce=[counts] * len(cfgs), concurrent=False)
        else:
            kept = [counts(simulate(c, d, keep=True)) for c, d in zip(cfgs, dirs, strict=True)]
        wall = time.perf_counter() - start
        files = digest(Path(tmp))
    years = cfg.world.burn_in_years + cfg.world.years
    return {
        "wall_s": wall,
        "worlds": len(cfgs),
        "child_years": sum(children for children, _ in kept) * years,
        "reports": sum(reports for _, reports in kept),
        "digest": files,
    }


def child(mode: str, overrides: list[str]) -> dict[str, Any]:
    """:func:`run_child` in a fresh interpreter (its JSON line, parsed)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, json.dumps(overrides)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} {overrides} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main_job(overrides: list[str]) -> float:
    """Seconds of ``python -m sim <overrides>`` into a temporary run folder, from outside."""
    with tempfile.TemporaryDirectory(prefix="bench-main-job-") as tmp:
        cmd = [sys.executable, "-m", "sim", *overrides, f"hydra.run.dir={tmp}"]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"python -m sim {' '.join(overrides)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return wall


def row(what: str, walls: list[float], **extra: Any) -> dict[str, Any]:
    wall = statistics.median(walls)
    return {
        "what": what,
        "repeats": len(walls),
        "wall_s": round(wall, 3),
        "wall_s_runs": [round(w, 3) for w in walls],
        "worlds": extra.get("worlds"),
        "child_years_per_s": None if "child_years" not in extra else round(extra["child_years"] / wall),
        "reports_per_s": None if "reports" not in extra else round(extra["reports"] / wall),
        "speedup": extra.get("speedup"),
        "identical": extra.get("identical"),
        "goal": extra.get("goal"),
        "pass": extra.get("pass"),
    }


def bench(overrides: list[str], replications: int | None, repeats: int) -> list[dict[str, Any]]:
    """The three rows (module docstring); the main job's goal applies only to the default settings."""
    job = overrides + ([] if replications is None else [f"compare.replications={replications}"])
    walls = []
    for i in range(repeats):
        walls.append(main_job(job))
        print(f"  main job run {i + 1}/{repeats}: {walls[-1]:.1f} s", file=sys.stderr, flush=True)
    default = not job
    rows = [row("main_job", walls, goal=f"<{GOAL_MAIN_JOB_S:g} s" if default else None,
                **({"pass": statistics.median(walls) < GOAL_MAIN_JOB_S} if default else {}))]  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    for i in range(repeats):
        for mode in MODES:  # alternating, so that a busy spell of the machine falls on both
            runs[mode].append(child(mode, overrides))
            print(f"  {mode} run {i + 1}/{repeats}: {runs[mode][-1]['wall_s']:.1f} s", file=sys.stderr, flush=True)
    month_0, shared = (statistics.median(r["wall_s"] for r in runs[m]) for m in MODES)
    identical = all(r["digest"] == runs[MODES[0]][0]["digest"] for m in MODES for r in runs[m])
    speedup = round(month_0 / shared, 2)
    for mode in MODES:
        first = runs[mode][0]
        extra = {"worlds": first["worlds"], "child_years": first["child_years"], "reports": first["reports"]}
        if mode == "shared_burn_in":
            extra |= {"speedup": speedup, "identical": identical, "goal": f">={GOAL_SPEEDUP:g}x, identical",
                      "pass": speedup >= GOAL_SPEEDUP and identical}  # fmt: skip
        rows.append(row(mode, [r["wall_s"] for r in runs[mode]], **extra))
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    header = ["what", "repeats", "wall_s", "worlds", "child_years_per_s", "reports_per_s", "speedup", "identical"]
    header += ["goal", "result"]

    def show(value: Any, fmt: str = "{}") -> str:
        return "-" if value is None else fmt.format(value)

    lines = [
        [
            r["what"],
            str(r["repeats"]),
            f"{r['wall_s']:.2f}",
            show(r["worlds"]),
            show(r["child_years_per_s"], "{:,}"),
            show(r["reports_per_s"], "{:,}"),
            show(r["speedup"], "{:.2f}x"),
            show(r["identical"]),
            show(r["goal"]),
            "-" if r["pass"] is None else ("PASS" if r["pass"] else "FAIL"),
        ]
        for r in rows
    ]
    return table.format_table(header, lines, left={0, 7, 8, 9})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--world", help="world preset (default: the default world)")
    p.add_argument("--years", type=int, help="world.years (default: the preset's)")
    p.add_argument("--burn-in", type=int, help="world.burn_in_years (default: the preset's)")
    p.add_argument("--replications", type=int, help="the main job's compare.replications (default: its own)")
    p.add_argument("--repeats", type=int, default=3, help="fresh runs of each row (default: 3)")
    p.add_argument("--json", action="store_true", help="print a JSON list of rows instead of a table")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)  # internal: mode and a JSON list of overrides
    args = p.parse_args(argv)

    if args.child is not None:
        mode, overrides = args.child
        print(json.dumps(run_child(mode, json.loads(overrides))))
        return 0
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    overrides = [] if args.world is None else [f"world={args.world}"]
    overrides += [] if args.years is None else [f"world.years={args.years}"]
    overrides += [] if args.burn_in is None else [f"world.burn_in_years={args.burn_in}"]
    rows = bench(overrides, args.replications, args.repeats)
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
