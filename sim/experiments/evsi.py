"""``experiment=evsi trial=<design>``: what a trial design would be worth to the decision, by its size
(docs/uncertainty.md).

Takes the first ``evsi.draws`` draws of the PSA (``psa.*``; read from ``psa.store`` or simulated), simulates in
each draw's world the data the design collects at every size of ``evsi.sizes`` and fits it with its estimator's
fast mode (stored per draw in ``evsi.store``), and writes ``evsi`` (Parquet and CSV): per size, the expected value
of sample information a year and over the horizon, the trial's cost and the expected net benefit of sampling, with
the EVPI beside them; then names the size that maximises the net benefit of sampling.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config.schema import Config
from sim.experiments.compare import write_both
from sim.experiments.trials import design, estimator_for, outcomes_for
from sim.uncertainty.decision import Prices, component_matrices, net_benefit_matrix, value_of_information
from sim.uncertainty.evsi import TrialSpec, draw_statistics, evsi_table
from sim.uncertainty.psa import make_plan, psa_table, run_psa, run_stored
from sim.uncertainty.voi import population_factor


def run(cfg: Config, out_dir: Path) -> list[Path]:
    e, p = cfg.evsi, cfg.psa
    trial = design(cfg)
    estimator = estimator_for(cfg, trial)
    outcome = outcomes_for(cfg, trial, estimator)[0]
    spec = TrialSpec(
        trial=dataclasses.asdict(cfg.trial),
        estimator=estimator.name,
        outcome=outcome,
        estimand=cfg.diagnose.estimand,
        sizes=tuple(e.sizes),
        size_key=e.size_key,
    )
    plan = make_plan(replace(cfg, psa=replace(p, draws=e.draws)))
    print(
        f"The value of a {trial.name} trial ({estimator.name}, {outcome}) at sizes {', '.join(map(str, e.sizes))}, "
        f"over {e.draws} PSA draws of {', '.join(plan.scenarios)} on world '{cfg.world.name}'"
    )
    table = psa_table(plan, run_psa(plan, p.workers, p.progress))
    key = json.dumps({"psa": plan.point, "spec": dataclasses.asdict(spec)}, sort_keys=True, default=str)
    point = "evsi-" + hashlib.sha256(key.encode()).hexdigest()[:16]
    description = {"kind": "evsi", "psa_point": plan.point, **dataclasses.asdict(spec)}
    records = run_stored(
        partial(draw_statistics, plan, spec), list(plan.draws.index), Path(e.store), point, description, e.workers,
        e.progress,
    )  # fmt: skip
    statistics = pd.DataFrame([{str(n): r["estimates"][str(n)] for n in e.sizes} for r in records], dtype=float)
    prices = Prices(p.wtp_faring_badly, p.wtp_placement)
    factor = population_factor(p.horizon_years, p.discount_rate)
    nb = net_benefit_matrix(component_matrices(table, plan.scenarios), prices)
    evpi, _ = value_of_information(table, plan.scenarios, plan.parameters, prices, factor, per_parameter=False)
    result = evsi_table(nb, statistics, factor, e.fixed_cost, e.cost_per_unit)
    result["evpi_year"] = float(evpi["evpi_year"].iloc[0])
    best = result["net_benefit_of_sampling"].idxmax() if result["net_benefit_of_sampling"].notna().any() else None
    result["best"] = [i == best for i in result.index]
    files = write_both(out_dir, "evsi", result)
    print(render(result, trial.name, p.horizon_years))
    print(f"Results in {out_dir}")
    return files


def render(result: pd.DataFrame, trial: str, horizon: int) -> str:
    lines = [f"{'size':>8} {'EVSI a year':>14} {'over horizon':>14} {'trial cost':>12} {'net benefit':>14}"]
    for r in result.itertuples():
        lines.append(
            f"{r.size:8d} {r.evsi_year / 1e6:11.2f} m {r.evsi_horizon / 1e6:11.1f} m {r.trial_cost / 1e6:9.1f} m "
            f"{r.net_benefit_of_sampling / 1e6:11.1f} m"
        )
    evpi = float(result["evpi_year"].iloc[0])
    lines.append(f"(EVPI: {evpi / 1e6:.2f} million DKK a year: no trial can be worth more)")
    chosen = result[result["best"]]
    if chosen.empty or not np.isfinite(chosen["net_benefit_of_sampling"].iloc[0]):
        lines.append("No size could be valued (every fit failed).")
    else:
        r = chosen.iloc[0]
        verdict = (
            f"A {trial} trial of size {int(r['size']):,} would be worth about {r['evsi_horizon'] / 1e6:,.1f} million "
            f"DKK to this decision over {horizon} years and cost {r['trial_cost'] / 1e6:,.1f} million"
        )
        lines.append(verdict + (": worth doing." if r["net_benefit_of_sampling"] > 0 else ": not worth its cost."))
    return "\n".join(lines)
