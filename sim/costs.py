"""What a world costs a year: caseworkers, § 50 investigations, every measure by type, and each policy's own
running costs, from the unit costs in ``costs.*`` (DKK a year; sources and assumptions in their docs)."""

from __future__ import annotations

import numpy as np

from sim.calendar import DAYS_PER_YEAR
from sim.config.schema import MEASURE_TYPES, CostsConfig
from sim.measures import events_of, measure_spells
from sim.tables import Tables


def yearly_costs(t: Tables, costs: CostsConfig, policy_costs: dict[str, float] | None = None) -> dict[str, float]:
    """Mean cost a year over the observation period, by item, and ``total``."""
    years = max(len(t.years), 1)
    start, end = t.observation_start, t.horizon
    monthly = t.observed(t.agency_monthly)
    out = {
        "caseworkers": float(monthly["caseworkers"].mean()) * costs.caseworker,
        "investigations": len(events_of(t, "investigation_start")) / years * costs.investigation,
    }
    spells = measure_spells(t)
    overlap = (np.minimum(spells["end"], end) - np.maximum(spells["start"], start)).clip(lower=0.0)
    child_years = overlap.groupby(spells["kind"]).sum() / DAYS_PER_YEAR / years
    for kind in MEASURE_TYPES:
        out[kind] = float(child_years.get(kind, 0.0)) * getattr(costs, kind)
    out.update(policy_costs or {})
    out["total"] = float(sum(out.values()))
    return out
