"""Benchmark: wall time and peak memory of simulating one world, per preset, against the project's goals.

    python benchmarks/world.py                                  # small, herning, copenhagen; a table
    python benchmarks/world.py --presets denmark --repeats 1    # the national scale goal (minutes)
    python benchmarks/world.py --json                           # a JSON list of rows instead

Each run is a fresh Python process (``--child``) that composes the config, times ``simulate`` alone (writing
real Parquet to a temporary directory) and prints one JSON line; this parent only aggregates. The parent
imports nothing heavy on purpose: on Linux a child's ``ru_maxrss`` starts from the RSS of the process it was
forked from, so a fat parent would inflate every child's peak.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import table  # benchmarks/ is a folder of scripts, not a package

CONF_WORLD = Path(__file__).resolve().parents[1] / "conf" / "world"
GIB_MB = 1024.0  # peak_rss_mb is in MiB (2**20 bytes), so 1 GiB = 1024
# preset -> (wall seconds, peak RSS MB) for 10 simulated years with no burn-in
GOALS: dict[str, tuple[float, float]] = {"copenhagen": (10.0, 1 * GIB_MB), "denmark": (150.0, 4 * GIB_MB)}
GOAL_BURN_IN, GOAL_YEARS = 0, 10
BIG_PRESET = 200_000  # presets with at least this many children run once by default
DEFAULT_PRESETS = "small,herning,copenhagen"


def preset_children(preset: str) -> int:
    """Children configured in ``conf/world/<preset>.yaml`` (0 if the file does not say)."""
    import yaml  # small; the heavy packages stay out of the parent (see module doc)

    data = yaml.safe_load((CONF_WORLD / f"{preset}.yaml").read_text(encoding="utf-8")) or {}
    return int(data.get("children", 0))


def run_child(overrides: list[str]) -> dict[str, Any]:
    """Simulate once in this process and return wall seconds, peak RSS, reports and mean children."""
    import resource
    import tempfile
    import time

    from sim.model import simulate
    from sim.registry import compose_config

    cfg = compose_config(overrides)
    with tempfile.TemporaryDirectory(prefix="bench-world-") as tmp:
        start = time.perf_counter()
        result = simulate(cfg, out_dir=Path(tmp))
        wall = time.perf_counter() - start
    return {
        "wall_s": wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,  # KiB on Linux
        "reports": len(result.reports),
        "children": float(result.agency_monthly["children"].mean()),
        "years": cfg.world.burn_in_years + cfg.world.years,
    }


def measure(overrides: list[str]) -> dict[str, Any]:
    """Run :func:`run_child` in a fresh interpreter and parse the JSON line it prints last."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(overrides)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark run {overrides} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_preset(preset: str, repeats: int, years: int | None, burn_in: int | None) -> dict[str, Any]:
    """Median wall time and max peak RSS of ``repeats`` fresh runs of one preset."""
    goal = GOALS.get(preset)
    if goal is not None:
        years, burn_in = GOAL_YEARS, GOAL_BURN_IN
    overrides = [f"world={preset}"]
    overrides += [] if burn_in is None else [f"world.burn_in_years={burn_in}"]
    overrides += [] if years is None else [f"world.years={years}"]
    runs = []
    for i in range(repeats):
        run = measure(overrides)
        runs.append(run)
        print(
            f"  {preset} run {i + 1}/{repeats}: {run['wall_s']:.2f} s, {run['peak_rss_mb']:.0f} MB",
            file=sys.stderr,
            flush=True,
        )
    wall = statistics.median(r["wall_s"] for r in runs)
    rss = max(r["peak_rss_mb"] for r in runs)
    children, sim_years, reports = runs[0]["children"], runs[0]["years"], runs[0]["reports"]
    passed = None if goal is None else (wall < goal[0] and rss < goal[1])
    return {
        "preset": preset,
        "children": round(children),
        "years": sim_years,
        "repeats": repeats,
        "wall_s": round(wall, 3),
        "wall_s_runs": [round(r["wall_s"], 3) for r in runs],
        "peak_rss_mb": round(rss, 1),
        "reports": reports,
        "child_years_per_s": round(children * sim_years / wall),
        "reports_per_s": round(reports / wall),
        "goal_wall_s": None if goal is None else goal[0],
        "goal_rss_mb": None if goal is None else goal[1],
        "pass": passed,
    }


def format_table(rows: list[dict[str, Any]]) -> str:
    """A fixed-width text table of benchmark rows, with a PASS/FAIL column for goal rows."""
    header = ["preset", "children", "years", "repeats", "wall_s", "peak_rss_mb", "reports"]
    header += ["child_years_per_s", "reports_per_s", "goal", "result"]
    lines: list[list[str]] = []
    for r in rows:
        goal = "-" if r["goal_wall_s"] is None else f"<{r['goal_wall_s']:g} s, <{r['goal_rss_mb'] / GIB_MB:g} GiB"
        result = "-" if r["pass"] is None else ("PASS" if r["pass"] else "FAIL")
        lines.append(
            [
                r["preset"],
                f"{r['children']:,}",
                str(r["years"]),
                str(r["repeats"]),
                f"{r['wall_s']:.2f}",
                f"{r['peak_rss_mb']:,.0f}",
                f"{r['reports']:,}",
                f"{r['child_years_per_s']:,}",
                f"{r['reports_per_s']:,}",
                goal,
                result,
            ]
        )
    return table.format_table(header, lines, left={0, 9, 10})


def main(argv: list[str] | None = None) -> int:
    """Parse options, benchmark each preset, print a table or JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--presets", default=DEFAULT_PRESETS, help=f"comma-separated world presets (default: {DEFAULT_PRESETS})"
    )
    p.add_argument(
        "--repeats", type=int, help=f"runs per preset (default: 3, or 1 for presets with >= {BIG_PRESET:,} children)"
    )
    p.add_argument("--years", type=int, help="world.years for non-goal presets (default: the preset's)")
    p.add_argument("--burn-in", type=int, help="world.burn_in_years for non-goal presets (default: the preset's)")
    p.add_argument("--json", action="store_true", help="print a JSON list of rows instead of a table")
    p.add_argument("--child", help=argparse.SUPPRESS)  # internal: one run, JSON list of overrides
    args = p.parse_args(argv)

    if args.child is not None:
        print(json.dumps(run_child(json.loads(args.child))))
        return 0
    if args.repeats is not None and args.repeats < 1:
        p.error("--repeats must be at least 1")
    presets = [s.strip() for s in args.presets.split(",") if s.strip()]
    known = sorted(f.stem for f in CONF_WORLD.glob("*.yaml"))
    for preset in presets:
        if preset not in known:
            p.error(f"unknown preset '{preset}'; have: {', '.join(known)}")
    rows = []
    for preset in presets:
        repeats = args.repeats or (3 if preset_children(preset) < BIG_PRESET else 1)
        rows.append(bench_preset(preset, repeats, args.years, args.burn_in))
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
