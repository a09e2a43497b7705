"""``experiment=audit``: the risk tool's counterfactual fairness audit (``sim/audit.py``, docs/audit.md).

Writes ``fairness.parquet/.csv`` (each recorded group's AUC, calibration and error rates at the decision in use,
against the rest of the reports, in the tool's world and its twin) and ``disparate_impact.parquet/.csv`` (what
the tool changed for each group's children), and prints the flagged groups.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from sim.audit import disparate_impact_table, fairness_table, run_audit
from sim.config.schema import Config
from sim.experiments.compare import write_both
from sim.policies import POLICIES


def run(cfg: Config, out_dir: Path) -> list[Path]:
    if "risk_tool" not in cfg.policy:  # the audit is of the risk tool: on with its defaults unless configured
        cfg = replace(cfg, policy={**cfg.policy, "risk_tool": POLICIES["risk_tool"].Config()})
    a = cfg.audit
    print(
        f"Auditing the risk tool on world '{cfg.world.name}' ({cfg.world.children:,} children, {cfg.world.years} "
        f"years after {cfg.world.burn_in_years} of burn-in, {cfg.world.law}), {a.replications} paired replications:"
    )
    runs = run_audit(cfg, a.replications, a.workers)
    fairness = fairness_table(runs)
    impact = disparate_impact_table(runs)
    files = write_both(out_dir, "fairness", fairness) + write_both(out_dir, "disparate_impact", impact)
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
