"""Benchmark: design diagnosis of the household RCT at N = 2,000, replications per minute, full NUTS and fast mode,
on 1 and 2 processes.

    python benchmarks/diagnose.py                      # a table: nuts and fast, 1 and 2 processes
    python benchmarks/diagnose.py --json               # JSON rows with mode, processes, reps_per_min
    python benchmarks/diagnose.py --modes fast --fast-replications 2000 --store /tmp/diag-store
    python benchmarks/diagnose.py --modes fast --processes 1 --fast-replications 5 \
      --world small --years 2 --burn-in 2 --n-reports 1000  # a smoke run: seconds

Through the same machinery as ``python -m sim experiment=diagnose trial=household_rct`` (default world, a planted
risk ratio of 0.85 on faring badly within 12 months): the two twin worlds are simulated once into the store before
any timing, then each (mode, processes) computes its replications from scratch (its stored ones deleted first).
``wall_s`` is everything a user waits for once the worlds exist: starting the worker processes, compiling the
model in each, drawing, fitting, storing every record. ``reps_per_min`` = replications / wall_s x 60. NUTS uses the
estimator's settings (nutpie, 2 chains x (1,000 tuning + 1,000 draws)); ``converged`` is the share of fits that
pass R-hat <= 1.01, ESS >= 400 and no divergences.

Goals (the issue's, on 2 cores): full NUTS >= 25 replications a minute (500 in under 20 minutes); fast mode >= 800
a minute (a 4-point power curve with 1,000 replications a point in under 5 minutes); fast mode on 2 processes at
least 1.8 times one. They are checked only for the default design (``--world default --n-reports 2000`` at the
preset's years).

``--json`` prints a list of rows, one object per (mode, processes), with the keys of :func:`measure`; the goals
then go to stderr as a table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import table  # noqa: E402  (benchmarks/ is a folder of scripts, not a package)

GOAL_NUTS, GOAL_FAST, GOAL_SPEEDUP = 25.0, 800.0, 1.8
DESIGN = ["experiment=diagnose", "trial=household_rct", "trial.assumed_risk_ratio=0.85",
          "outcome=faring_badly_12m", "diagnose.progress=false"]  # fmt: skip
DEFAULT_WORLD, DEFAULT_N_REPORTS = "default", 2000


def design(world: str, n_reports: int, years: int | None, burn_in: int | None) -> list[str]:
    """The overrides of the diagnosed design: the household RCT with ``n_reports`` reports in ``world``."""
    out = [*DESIGN, f"world={world}", f"trial.n_reports={n_reports}"]
    out += [] if years is None else [f"world.years={years}"]
    return out + ([] if burn_in is None else [f"world.burn_in_years={burn_in}"])


def measure(store: Path, mode: str, processes: int, replications: int, overrides: list[str]) -> dict[str, Any]:
    """Time one (mode, processes) of the design ``overrides`` from scratch: its stored replications are deleted
    first."""
    from sim.diagnosis.runner import ensure_worlds, run_point
    from sim.diagnosis.store import Store
    from sim.experiments.diagnose import plan_for
    from sim.registry import compose_config

    cfg = compose_config([*overrides, f"diagnose.store={store}", f"diagnose.fast={mode == 'fast'}",
                          f"diagnose.workers={processes}", f"diagnose.replications={replications}"])  # fmt: skip
    plan = plan_for(cfg)[0]
    ensure_worlds(plan, [0], 1, say=lambda m: print(f"  {m}", file=sys.stderr))
    shutil.rmtree(Store(store).point_dir(plan.point), ignore_errors=True)
    start = time.perf_counter()
    records = run_point(plan, replications, processes, progress=False, say=lambda *_: None)
    wall = time.perf_counter() - start
    fitted = [r for r in records if not r["failed"]]
    return {
        "world": cfg.world.name,
        "years": cfg.world.burn_in_years + cfg.world.years,
        "n_reports": cfg.trial.n_reports,
        "mode": mode,
        "processes": processes,
        "replications": replications,
        "wall_s": round(wall, 2),
        "reps_per_min": round(60.0 * replications / wall, 1),
        "s_per_rep": round(wall / replications, 4),
        "failed": len(records) - len(fitted),
        "converged": round(sum(r["converged"] for r in fitted) / max(len(fitted), 1), 3),
    }


def goals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's three goals against the measured rows."""
    by = {(r["mode"], r["processes"]): r["reps_per_min"] for r in rows}
    out = []
    nuts = [v for (m, _), v in by.items() if m == "nuts"]
    if nuts:
        out.append({"goal": "full NUTS replications a minute", "value": max(nuts), "target": GOAL_NUTS})
    if ("fast", 2) in by:
        out.append({"goal": "fast replications a minute, 2 processes", "value": by[("fast", 2)], "target": GOAL_FAST})
    if ("fast", 1) in by and ("fast", 2) in by:
        speedup = round(by[("fast", 2)] / by[("fast", 1)], 2)
        out.append({"goal": "fast, 2 processes vs 1 (x)", "value": speedup, "target": GOAL_SPEEDUP})
    for g in out:
        g["pass"] = g["value"] >= g["target"]
    return out


def format_rows(rows: list[dict[str, Any]], checks: list[dict[str, Any]]) -> str:
    header = ["mode", "processes", "replications", "wall_s", "reps_per_min", "s_per_rep", "failed", "converged"]
    lines = [[str(r[h]) for h in header] for r in rows]
    out = table.format_table(header, lines, left={0})
    return out + "\n\n" + table.format_goals(checks) if checks else out


def main(argv: list[str] | None = None) -> int:
    """Parse options, simulate the worlds once, time each mode and process count, print a table or JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--modes", default="nuts,fast", help="comma-separated: nuts, fast (default both)")
    p.add_argument("--processes", default="1,2", help="comma-separated process counts (default 1,2)")
    p.add_argument("--nuts-replications", type=int, default=40, help="replications per NUTS row (default 40)")
    p.add_argument("--fast-replications", type=int, default=1000, help="replications per fast row (default 1000)")
    p.add_argument("--store", help="a diagnosis store to keep the simulated worlds in (default: a temporary one)")
    p.add_argument("--world", default=DEFAULT_WORLD, help=f"world preset (default {DEFAULT_WORLD})")
    p.add_argument("--years", type=int, help="world.years (default: the preset's)")
    p.add_argument("--burn-in", type=int, help="world.burn_in_years (default: the preset's)")
    p.add_argument("--n-reports", type=int, default=DEFAULT_N_REPORTS, help="reports enrolled (default 2000)")
    p.add_argument("--json", action="store_true", help="print a JSON list of rows (goals to stderr) instead of tables")
    args = p.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not set(modes) <= {"nuts", "fast"}:
        p.error("--modes takes nuts and/or fast")
    processes = [int(x) for x in args.processes.split(",")]
    if min(processes, default=0) < 1 or min(args.nuts_replications, args.fast_replications, args.n_reports) < 1:
        p.error("process counts, replications and --n-reports must be at least 1")
    overrides = design(args.world, args.n_reports, args.years, args.burn_in)
    store = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="diagnose-bench-"))
    rows = []
    try:
        for mode in modes:
            for n in processes:
                reps = args.nuts_replications if mode == "nuts" else args.fast_replications
                print(f"  {mode}, {n} process(es), {reps} replications ...", file=sys.stderr, flush=True)
                rows.append(measure(store, mode, n, reps, overrides))
    finally:
        if not args.store:
            shutil.rmtree(store, ignore_errors=True)
    default = (args.world, args.n_reports, args.years, args.burn_in) == (DEFAULT_WORLD, DEFAULT_N_REPORTS, None, None)
    checks = goals(rows) if default else []  # the goals are for the default design
    if args.json:
        print(json.dumps(rows, indent=2))
        if checks:
            print(table.format_goals(checks), file=sys.stderr)
    else:
        print(format_rows(rows, checks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
