"""Benchmark: the probabilistic sensitivity analysis's wall time, as a user runs it.

    python benchmarks/psa.py                    # python -m sim experiment=psa: default world, 200 draws x 6 scenarios
    python benchmarks/psa.py --json             # a JSON list of rows instead of a table
    python benchmarks/psa.py --world small --years 2 --burn-in 2 --draws 4 --scenarios baseline,free_municipality
                                                # the smoke run

One row: ``python -m sim experiment=psa`` into a fresh store (every draw simulated, none read back), timed from
outside, start-up included, the median of ``--repeats`` fresh runs; with the simulation's and the analysis's shares
as the run prints them. Goal, at the default settings: 200 draws x 6 scenarios under 20 minutes (1,200 s) on 2
cores (issue 18).
"""

from __future__ import annotations

import argparse
import json
import re
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
GOAL_S = 1200.0
DEFAULT_DRAWS = 200
TIMES = re.compile(r"simulated in ([0-9.]+) s.*analysed in ([0-9.]+) s", re.S)


def psa(overrides: list[str]) -> tuple[float, float, float]:
    """Seconds of ``python -m sim experiment=psa <overrides>`` (wall, from outside), and the simulation's and the
    analysis's seconds as the run reports them."""
    with tempfile.TemporaryDirectory(prefix="bench-psa-") as tmp:
        cmd = [sys.executable, "-m", "sim", "experiment=psa", "psa.progress=false", *overrides,
               f"psa.store={tmp}/store", f"hydra.run.dir={tmp}"]  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[1:])} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        if not (Path(tmp) / "evppi.parquet").exists():
            raise RuntimeError("the PSA wrote no evppi.parquet")
        found = TIMES.search(proc.stdout)
        if found is None:
            raise RuntimeError(f"the PSA did not report its times:\n{proc.stdout[-2000:]}")
    return wall, float(found.group(1)), float(found.group(2))


def bench(args: argparse.Namespace) -> list[dict[str, Any]]:
    overrides = [] if args.world is None else [f"world={args.world}"]
    overrides += [] if args.years is None else [f"world.years={args.years}"]
    overrides += [] if args.burn_in is None else [f"world.burn_in_years={args.burn_in}"]
    overrides += [f"psa.draws={args.draws}"]
    overrides += [] if args.scenarios is None else [f"psa.scenarios=[{args.scenarios}]"]
    runs = []
    for i in range(args.repeats):
        runs.append(psa(overrides))
        print(f"  psa run {i + 1}/{args.repeats}: {runs[-1][0]:.1f} s", file=sys.stderr, flush=True)
    wall = statistics.median(r[0] for r in runs)
    middle = min(runs, key=lambda r: abs(r[0] - wall))
    default = args.world is None and args.years is None and args.burn_in is None and args.scenarios is None
    default = default and args.draws == DEFAULT_DRAWS
    scenarios = 6 if args.scenarios is None else len(args.scenarios.split(","))
    return [
        {
            "world": args.world or "default",
            "draws": args.draws,
            "scenarios": scenarios,
            "repeats": args.repeats,
            "wall_s": round(wall, 3),
            "wall_s_runs": [round(r[0], 3) for r in runs],
            "simulation_s": round(middle[1], 3),
            "analysis_s": round(middle[2], 3),
            "s_per_draw": round(middle[1] / args.draws, 3),
            "goal": f"<{GOAL_S:g} s" if default else None,
            "pass": (wall < GOAL_S) if default else None,
        }
    ]


def format_table(rows: list[dict[str, Any]]) -> str:
    header = ["world", "draws", "scenarios", "repeats", "wall_s", "simulation_s", "analysis_s", "s_per_draw", "goal",
              "result"]  # fmt: skip
    lines = [
        [
            r["world"],
            str(r["draws"]),
            str(r["scenarios"]),
            str(r["repeats"]),
            f"{r['wall_s']:.1f}",
            f"{r['simulation_s']:.1f}",
            f"{r['analysis_s']:.1f}",
            f"{r['s_per_draw']:.2f}",
            r["goal"] or "-",
            "-" if r["pass"] is None else ("PASS" if r["pass"] else "FAIL"),
        ]
        for r in rows
    ]
    return table.format_table(header, lines, left={0, 8, 9})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--world", help="world preset (default: the default world)")
    p.add_argument("--years", type=int, help="world.years (default: the preset's)")
    p.add_argument("--burn-in", type=int, help="world.burn_in_years (default: the preset's)")
    p.add_argument("--draws", type=int, default=DEFAULT_DRAWS, help=f"psa.draws (default: {DEFAULT_DRAWS})")
    p.add_argument("--scenarios", help="psa.scenarios, comma-separated (default: baseline and the five policies)")
    p.add_argument("--repeats", type=int, default=1, help="fresh runs (default: 1; one takes about 20 minutes)")
    p.add_argument("--json", action="store_true", help="print a JSON list of rows instead of a table")
    args = p.parse_args(argv)
    if args.repeats < 1 or args.draws < 1:
        p.error("--repeats and --draws must be at least 1")
    rows = bench(args)
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
