"""``experiment=simulate``: one world, all its tables, and a headline summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.schema import Config
from sim.model import SimulationResult, simulate
from sim.runfolder import atomic_write_text


def summary(result: SimulationResult) -> pd.DataFrame:
    """Headline rates over the observation period (after burn-in), one row per quantity."""
    am = result.agency_monthly[result.agency_monthly["year"] >= result.start_year]
    rep = result.reports[result.reports["year"] >= result.start_year]
    child_years = am["children"].sum() / 12.0
    years = am["year"].nunique()
    per_year_reported = rep.groupby("year")["child_id"].nunique().sum()
    rows = [
        ("children", am["children"].mean(), "children 0-17 living in the municipality (monthly mean)"),
        ("reports_per_1000_children", 1000 * len(rep) / child_years, "reports a year per 1,000 children"),
        (
            "children_reported_per_1000",
            1000 * per_year_reported / child_years,
            "children with at least one report in a year, per 1,000",
        ),
        (
            "screened_within_24h",
            rep["screened_within_24h"].astype("float").mean(),
            "share of reports screened within 24 hours",
        ),
        ("placed_per_1000", 1000 * (am["placed"] / am["children"]).mean(), "children placed, per 1,000"),
        (
            "preventive_per_1000",
            1000 * (am["preventive"] / am["children"]).mean(),
            "children in a preventive or home-based measure, per 1,000",
        ),
        ("caseload_per_caseworker", am["caseload_mean"].mean(), "open cases per caseworker"),
        ("case_queue", am["queue"].mean(), "cases waiting for a caseworker (monthly mean)"),
        ("years_observed", float(years), "simulated years after burn-in"),
    ]
    return pd.DataFrame(rows, columns=["quantity", "value", "meaning"]).astype({"value": np.float64})


def run(cfg: Config, out_dir: Path) -> list[Path]:
    result = simulate(cfg, out_dir)
    table = summary(result)
    path = atomic_write_text(Path(out_dir) / "summary.csv", table.to_csv(index=False, float_format="%.6g"))
    width = max(len(q) for q in table["quantity"])
    print(
        f"Simulated '{cfg.world.name}' ({cfg.world.children:,} children, {cfg.world.years} years after "
        f"{cfg.world.burn_in_years} of burn-in), seed {cfg.seed}:"
    )
    for q, v in zip(table["quantity"], table["value"], strict=True):
        print(f"  {q:<{width}}  {v:,.3f}")
    print(f"Results in {out_dir}")
    return [*result.files.values(), path]
