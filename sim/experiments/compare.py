"""``experiment=compare`` (the default of ``python -m sim``): scenarios side by side, with the exact truth.

Writes ``comparison.parquet/.csv`` (every outcome per scenario: mean, Monte Carlo interval, paired difference
from baseline), the same over the first ``compare.first_years`` observed years (``comparison_first_years``), one
table per outcome under ``outcomes/``, ``outcomes_by_replication.parquet``, the exact
child-level effects ``truth.parquet/.csv``, the policies' own tables of the first replication under
``results/``, the first replication's event log and reports of every scenario under ``scenarios/``, and the
policymaker's report ``report.html`` (``report.language``) with the ``report_*.csv`` tables behind it. When a
probabilistic sensitivity analysis of the same comparison is in ``psa.store``, its decision tables are copied into
``psa/`` and the report gains "How sure can we be?".
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.config.schema import Config
from sim.model import arrow_table
from sim.report import write_report
from sim.runfolder import atomic_write_bytes, atomic_write_text, write_table
from sim.scenarios import BASELINE, comparison_table, long_outcomes, run_scenarios, truth_table
from sim.uncertainty.psa import comparison_psa

HEADLINES = (
    "faring_badly_12m",
    "placed_per_1000",
    "preventive_per_1000",
    "days_report_to_decision",
    "caseload",
    "cost_total",
)


def write_both(out_dir: Path, name: str, df: pd.DataFrame) -> list[Path]:
    """A table as Parquet and CSV (written atomically)."""
    path = Path(out_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return [
        write_table(path.with_suffix(".parquet"), arrow_table(df)),
        atomic_write_text(path.with_suffix(".csv"), df.to_csv(index=False, float_format="%.6g")),
    ]


def run(cfg: Config, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    c = cfg.compare
    print(
        f"Comparing {', '.join(c.scenarios)} on world '{cfg.world.name}' ({cfg.world.children:,} children, "
        f"{cfg.world.years} years after {cfg.world.burn_in_years} of burn-in), {c.replications} replications:"
    )
    runs = run_scenarios(cfg, out_dir)
    table = comparison_table(runs, c.scenarios)
    files = write_both(out_dir, "comparison", table)
    if runs[0].get("first_years"):
        files += write_both(out_dir, "comparison_first_years", comparison_table(runs, c.scenarios, "first_years"))
    for outcome, part in table.groupby("outcome", sort=False):
        files += write_both(out_dir, f"outcomes/{outcome}", part.drop(columns="outcome"))
    files.append(write_table(out_dir / "outcomes_by_replication.parquet", arrow_table(long_outcomes(runs))))
    truth = truth_table(runs)
    if not truth.empty:
        files += write_both(out_dir, "truth", truth)
    for key, result in runs[0]["results"].items():
        files += write_both(out_dir, f"results/{key}", result)
    files += [p for p in (out_dir / "scenarios").rglob("*.parquet")] if (out_dir / "scenarios").exists() else []
    files += attach_psa(cfg, out_dir)

    files += write_report(out_dir, cfg.report.language)
    print(render(table, c.scenarios))
    print(f"Results in {out_dir}; the policymaker's report: {out_dir / 'report.html'}")
    return files


def attach_psa(cfg: Config, out_dir: Path) -> list[Path]:
    """Copy the decision tables of a PSA of this comparison (``experiment=psa`` with the same world, seed, costs,
    policy settings and scenarios, found in ``psa.store``) into ``psa/``, for the report's "How sure can we be?"."""
    source = comparison_psa(cfg) if cfg.report.uncertainty else None
    if source is None:
        return []
    files = []
    for path in sorted(source.iterdir()):
        if path.suffix in (".parquet", ".json"):
            target = out_dir / "psa" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            files.append(atomic_write_bytes(target, path.read_bytes()))
    print(f'With the probabilistic sensitivity analysis in {source} (report section "How sure can we be?")')
    return files


def render(table: pd.DataFrame, scenarios: list[str]) -> str:
    """Headline outcomes per scenario: mean (difference from baseline)."""
    head = table[table["outcome"].isin(HEADLINES)]
    lines = []
    names = [BASELINE, *[s for s in scenarios if s != BASELINE]]
    width = max(len(s) for s in names)
    lines.append(" " * width + "  " + "  ".join(f"{o[:22]:>22}" for o in HEADLINES))
    for s in names:
        cells = []
        for o in HEADLINES:
            row = head[(head["scenario"] == s) & (head["outcome"] == o)]
            if row.empty:
                cells.append(f"{'-':>22}")
                continue
            r = row.iloc[0]
            scale = 1e6 if o.startswith("cost") else 1.0
            text = (
                f"{r['mean'] / scale:.3g}"
                if s == BASELINE
                else f"{r['mean'] / scale:.3g} ({r['difference'] / scale:+.2g})"
            )
            cells.append(f"{text:>22}")
        lines.append(f"{s:<{width}}  " + "  ".join(cells))
    lines.append("(cost_total in million DKK a year; differences are paired with baseline, same seeds)")
    return "\n".join(lines)
