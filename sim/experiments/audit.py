"""``experiment=audit``: the risk tool's counterfactual fairness audit (``sim/audit.py``, docs/audit.md).

Simulates the tool, its twin without it and the public debate's alternatives (``audit.scenarios``) over
``audit.replications`` paired replications and writes, as Parquet and CSV: ``fairness`` (each recorded group's
AUC, calibration and error rates at the decision in use, against the rest of the reports, in the tool's world and
its twin, with the flags), ``disparate_impact`` (what the tool changed for each group's children),
``fairness_over_time`` (the group metrics year by year, retrained tools included), ``calibration_by_group`` and
``tradeoffs`` (accuracy against disparity for the tool and each alternative); then ``report.html`` for an ethics or
data-protection review, and prints the flagged groups.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from sim.audit import (
    calibration_table,
    disparate_impact_table,
    fairness_table,
    over_time_table,
    run_audit,
    scenario_configs,
    tradeoff_table,
)
from sim.config.schema import Config
from sim.experiments.compare import write_both
from sim.policies import POLICIES
from sim.report import write_report


def run(cfg: Config, out_dir: Path) -> list[Path]:
    if "risk_tool" not in cfg.policy:  # the audit is of the risk tool: on with its defaults unless configured
        cfg = replace(cfg, policy={**cfg.policy, "risk_tool": POLICIES["risk_tool"].Config()})
    a = cfg.audit
    print(
        f"Auditing the risk tool on world '{cfg.world.name}' ({cfg.world.children:,} children, {cfg.world.years} "
        f"years after {cfg.world.burn_in_years} of burn-in, {cfg.world.law}), {a.replications} paired replications:"
    )
    scenarios = scenario_configs(cfg) if a.with_scenarios else {}
    if scenarios:
        print(f"  with the scenarios {', '.join(scenarios)} beside the tool, on the same seeds and twin")
    runs = run_audit(cfg, a.replications, a.workers, also=scenarios)
    fairness = fairness_table(runs)
    impact = disparate_impact_table(runs)
    tables = {
        "fairness": fairness,
        "disparate_impact": impact,
        "fairness_over_time": over_time_table(runs),
        "calibration_by_group": calibration_table(runs),
        "tradeoffs": tradeoff_table(runs, ["tool", *scenarios]),
    }
    files = [path for name, table in tables.items() for path in write_both(out_dir, name, table)]
    files += write_report(out_dir, cfg.report.language)
    print(render(fairness, impact))
    print(f"Results in {out_dir}")
    return files


def render(fairness: pd.DataFrame, impact: pd.DataFrame) -> str:
    """The flagged groups (false-positive rate ratio outside 0.8-1.25, clearly, and made by the tool), and the
    single features' false-positive rate ratios and investigation effects."""
    lines = []
    flagged = fairness[fairness["flagged"]]
    if flagged.empty:
        lines.append("No group flagged: no false-positive rate ratio the tool moved outside 0.8-1.25 beyond chance.")
    else:
        lines.append("Flagged (false-positive rate ratio to the rest outside 0.8-1.25, made by the tool):")
        for r in flagged.itertuples():
            lines.append(
                f"  {r.feature} = {r.level}: {r.ratio:.2f} ({r.ratio_lower:.2f} to {r.ratio_upper:.2f}); "
                f"without the tool {r.twin_ratio:.2f}"
            )
    fpr = fairness[(fairness["metric"] == "fpr") & ~fairness["feature"].str.contains(" x ")]
    inv = impact[impact["outcome"] == "investigations_per_1000"].set_index(["feature", "level"])
    lines.append(f"{'group':34s} {'FPR ratio (tool)':>18s} {'(twin)':>8s} {'investigations/1,000: effect':>30s}")
    for r in fpr.itertuples():
        e = inv.loc[(r.feature, r.level)] if (r.feature, r.level) in inv.index else None
        effect = "-" if e is None else f"{e['effect']:+.2f} ({e['effect_lower']:+.2f} to {e['effect_upper']:+.2f})"
        lines.append(f"{r.feature + ' = ' + r.level:34s} {r.ratio:18.2f} {r.twin_ratio:8.2f} {effect:>30s}")
    return "\n".join(lines)
