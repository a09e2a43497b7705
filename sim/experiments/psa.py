"""``experiment=psa``: the probabilistic sensitivity analysis and the value of information (docs/uncertainty.md).

Draws the uncertain parameters (policy settings and unit costs from their evidence, world parameters from a
calibration posterior when one is given), simulates baseline and every policy in twin worlds for each draw (stored
as each is done: a killed run resumes), and writes, as Parquet and CSV:

- ``psa``: one row per draw and scenario, every parameter, outcome and cost;
- ``parameters``: what was drawn, from which range and distribution;
- ``acceptability``: the probability that each option is best over a range of prices (acceptability curves);
- ``ce_plane``: each draw's extra cost and outcomes avoided against baseline (the cost-effectiveness plane);
- ``evpi``: the expected value of perfect information, a year and over ``psa.horizon_years``;
- ``evppi``: the expected value of partial perfect information of each parameter group and parameter;
- ``sensitivity``: first-order variance-based indices of the headline differences.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pandas as pd

from sim.config.schema import Config
from sim.diagnosis.store import merge
from sim.experiments.compare import write_both
from sim.model import arrow_table
from sim.runfolder import atomic_write_text, write_table
from sim.uncertainty.decision import (
    Prices,
    acceptability_curves,
    component_matrices,
    cost_effectiveness_plane,
    value_of_information,
    wtp_grid,
)
from sim.uncertainty.psa import PUBLISHED, PsaPlan, make_plan, psa_table, results_dir, run_psa
from sim.uncertainty.sensitivity import first_order_indices
from sim.uncertainty.voi import population_factor


def run(cfg: Config, out_dir: Path) -> list[Path]:
    p = cfg.psa
    plan = make_plan(cfg)
    varied = [q for q in plan.parameters if not q.fixed]
    print(
        f"Probabilistic sensitivity analysis of {', '.join(plan.scenarios)} on world '{cfg.world.name}' "
        f"({cfg.world.children:,} children): {p.draws} draws of {len(varied)} uncertain parameters, "
        f"{p.replications} {'common ' if p.common_seeds else ''}seed(s) each"
    )
    if p.posterior:
        print(f"  world parameters: whole rows of the calibration posterior {p.posterior}")
    else:
        print("  world parameters: fixed at the calibrated point (no psa.posterior): their doubt is not in the figures")
    for source in p.merge_from:
        counts = merge(p.store, [source])
        print(f"  merged {source}: copied {counts['copied']}, already present {counts['present']}")
    start = time.perf_counter()
    records = run_psa(plan, p.workers, p.progress)
    simulated = time.perf_counter() - start
    table = psa_table(plan, records)
    prices = Prices(p.wtp_faring_badly, p.wtp_placement)
    grid = wtp_grid(p.wtp_max, p.wtp_points, p.wtp_faring_badly)
    components = component_matrices(table, plan.scenarios)
    evpi, evppi = value_of_information(
        table,
        plan.scenarios,
        plan.parameters,
        prices,
        population_factor(p.horizon_years, p.discount_rate),
        p.per_parameter,
        grid,
    )
    tables = {
        "psa": table,
        "parameters": pd.DataFrame([dataclasses.asdict(q) for q in plan.parameters]),
        "acceptability": acceptability_curves(components, plan.scenarios, prices, grid),
        "ce_plane": cost_effectiveness_plane(components, plan.scenarios),
        "evpi": evpi,
        "evppi": evppi,
        "sensitivity": first_order_indices(table, plan.scenarios, plan.parameters, prices),
    }
    analysed = time.perf_counter() - start - simulated
    files = [path for name, t in tables.items() for path in write_both(out_dir, name, t)]
    publish(plan, tables, out_dir)
    print(f"Draws simulated in {simulated:.1f} s; value of information analysed in {analysed:.1f} s")
    print(render(tables, p.horizon_years))
    print(f"Results in {out_dir}")
    return files


def publish(plan: PsaPlan, tables: dict[str, pd.DataFrame], out_dir: Path) -> None:
    """Leave the decision tables in the store (``results/<point>/``), where a comparison of the same world finds
    them for its report's "How sure can we be?"; ``psa.json``, written last, says what they are."""
    p = plan.cfg.psa
    folder = results_dir(p.store, plan.point)
    folder.mkdir(parents=True, exist_ok=True)
    for name in PUBLISHED:
        write_table(folder / f"{name}.parquet", arrow_table(tables[name]))
    about = {
        "draws": p.draws,
        "scenarios": plan.scenarios,
        "replications": p.replications,
        "wtp_faring_badly": p.wtp_faring_badly,
        "wtp_placement": p.wtp_placement,
        "horizon_years": p.horizon_years,
        "discount_rate": p.discount_rate,
        "posterior": p.posterior,
        "run_folder": str(out_dir),
    }
    atomic_write_text(folder / "psa.json", json.dumps(about, indent=2) + "\n")


def render(tables: dict[str, pd.DataFrame], horizon: int) -> str:
    """The choice at the headline prices, each option's probability of being best, the EVPI and the parameter
    groups with the largest EVPPI."""
    evpi = tables["evpi"][tables["evpi"]["headline"]].iloc[0]
    acc = tables["acceptability"]
    at = acc[(acc["axis"] == "faring_badly") & (acc["wtp"] == evpi["wtp_faring_badly"])]
    lines = [
        f"At {evpi['wtp_faring_badly']:,.0f} DKK per child-year faring badly avoided and "
        f"{evpi['wtp_placement']:,.0f} DKK per placement avoided, the choice is {evpi['best']}.",
        "Probability of being the best choice:",
    ]
    lines += [f"  {r.scenario:28s} {r.probability_best:6.1%}" for r in at.itertuples()]
    lines.append(
        f"Expected value of perfect information: {evpi['evpi_year'] / 1e6:,.2f} million DKK a year, "
        f"{evpi['evpi_horizon'] / 1e6:,.1f} million over {horizon} years (raw, with simulation noise: "
        f"{evpi['evpi_raw_year'] / 1e6:,.2f} million a year)"
    )
    groups = tables["evppi"][tables["evppi"]["kind"] == "group"].sort_values("evppi_year", ascending=False)
    lines.append("Expected value of partial perfect information, a year:")
    lines += [f"  {r.name:28s} {r.evppi_year / 1e6:8.2f} million DKK" for r in groups.itertuples()]
    return "\n".join(lines)
