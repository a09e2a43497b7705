"""Benchmark: the fairness audit's wall time, as a user runs it.

    python benchmarks/audit.py                  # python -m sim experiment=audit: default world, 10 replications
    python benchmarks/audit.py --json           # a JSON list of rows instead of a table
    python benchmarks/audit.py --world small --years 2 --burn-in 3 --replications 1 --no-scenarios --repeats 1
                                                # the smoke run

One row: ``python -m sim experiment=audit`` (the tool, its twin and, unless ``--no-scenarios``, the five
alternatives of ``audit.scenarios``; tables and report; every core), timed from outside, start-up included, the
median of ``--repeats`` fresh runs. Goal, at the default settings: under 600 s on 2 cores (issue 20).
"""

from __future__ import annotations

import argparse
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
GOAL_S = 600.0


def audit(overrides: list[str]) -> float:
    """Seconds of ``python -m sim experiment=audit <overrides>`` into a temporary run folder, from outside."""
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        cmd = [sys.executable, "-m", "sim", "experiment=audit", *overrides, f"hydra.run.dir={tmp}"]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[1:])} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        if not (Path(tmp) / "report.html").exists():
            raise RuntimeError("the audit wrote no report.html")
    return wall


def bench(args: argparse.Namespace) -> list[dict[str, Any]]:
    overrides = [] if args.world is None else [f"world={args.world}"]
    overrides += [] if args.years is None else [f"world.years={args.years}"]
    overrides += [] if args.burn_in is None else [f"world.burn_in_years={args.burn_in}"]
    overrides += [] if args.replications is None else [f"audit.replications={args.replications}"]
    overrides += [] if args.scenarios else ["audit.with_scenarios=false"]
    walls = []
    for i in range(args.repeats):
        walls.append(audit(overrides))
        print(f"  audit run {i + 1}/{args.repeats}: {walls[-1]:.1f} s", file=sys.stderr, flush=True)
    wall = statistics.median(walls)
    default = not overrides
    return [
        {
            "world": args.world or "default",
            "replications": args.replications or 10,
            "scenarios": args.scenarios,
            "repeats": args.repeats,
            "wall_s": round(wall, 3),
            "wall_s_runs": [round(w, 3) for w in walls],
            "goal": f"<{GOAL_S:g} s" if default else None,
            "pass": (wall < GOAL_S) if default else None,
        }
    ]


def format_table(rows: list[dict[str, Any]]) -> str:
    header = ["world", "replications", "scenarios", "repeats", "wall_s", "goal", "result"]
    lines = [
        [
            r["world"],
            str(r["replications"]),
            str(r["scenarios"]),
            str(r["repeats"]),
            f"{r['wall_s']:.1f}",
            r["goal"] or "-",
            "-" if r["pass"] is None else ("PASS" if r["pass"] else "FAIL"),
        ]
        for r in rows
    ]
    return table.format_table(header, lines, left={0, 2, 5, 6})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--world", help="world preset (default: the default world)")
    p.add_argument("--years", type=int, help="world.years (default: the preset's)")
    p.add_argument("--burn-in", type=int, help="world.burn_in_years (default: the preset's)")
    p.add_argument("--replications", type=int, help="audit.replications (default: its own, 10)")
    p.add_argument("--no-scenarios", dest="scenarios", action="store_false", help="audit.with_scenarios=false")
    p.add_argument("--repeats", type=int, default=1, help="fresh runs (default: 1; one takes about 5 minutes)")
    p.add_argument("--json", action="store_true", help="print a JSON list of rows instead of a table")
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    rows = bench(args)
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
