"""What a world costs a year: caseworkers, § 50 investigations, every measure by type, and each policy's own
running costs, from the unit costs in ``costs.*`` (DKK a year; sources and assumptions in their docs)."""

from __future__ import annotations

import numpy as np

from sim.calendar import DAYS_PER_YEAR
from sim.config.schema import MEASURE_TYPES, CostsConfig
from sim.measures import events_of, measure_spells
from sim.tables import Tables


def yearly_quantities(t: Tables) -> dict[str, float]:
    """What a world uses a year over the observation period, per cost item: caseworkers (mean number),
    investigations started, and child-years in each measure type. A cost is its quantity times its unit cost."""
    years = max(len(t.years), 1)
    start, end = t.observation_start, t.horizon
    monthly = t.observed(t.agency_monthly)
    out = {
        "caseworker": float(monthly["caseworkers"].mean()),
        "investigation": len(events_of(t, "investigation_start")) / years,
    }
    spells = measure_spells(t)
    overlap = (np.minimum(spells["end"], end) - np.maximum(spells["start"], start)).clip(lower=0.0)
    child_years = overlap.groupby(spells["kind"]).sum() / DAYS_PER_YEAR / years
    for kind in MEASURE_TYPES:
        out[kind] = float(child_years.get(kind, 0.0))
    return out


def costs_of(quantities: dict[str, float], costs: CostsConfig, policy_costs: dict[str, float] | None = None) -> dict:
    """Mean cost a year by item (DKK): each quantity of :func:`yearly_quantities` times its unit cost, each
    policy's own running cost, and ``total``."""
    out = {
        "caseworkers": quantities["caseworker"] * costs.caseworker,
        "investigations": quantities["investigation"] * costs.investigation,
    }
    out.update({kind: quantities[kind] * getattr(costs, kind) for kind in MEASURE_TYPES})
    out.update(policy_costs or {})
    out["total"] = float(sum(out.values()))
    return out


def yearly_costs(t: Tables, costs: CostsConfig, policy_costs: dict[str, float] | None = None) -> dict[str, float]:
    """Mean cost a year over the observation period, by item, and ``total``."""
    return costs_of(yearly_quantities(t), costs, policy_costs)
