"""From a PSA table (``psa.parquet``) to what a committee decides on: net benefits, acceptability curves, the
cost-effectiveness plane, the value of perfect and partial perfect information, and which parameters the
headline differences hang on.

Net benefit of an option, a year for the whole municipality (DKK; higher is better)::

    NB = - cost_total - wtp_faring_badly * child_years_faring_badly - wtp_placement * placements_started

Only differences between options matter, so NB is the money a committee would trade for the option's outcomes.
The value of information is computed per component (cost, child-years faring badly, placements: each option's
difference from baseline regressed on the parameters once) and combined for any willingness to pay, so the
metamodel is fitted once and not once per point of a curve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.scenarios import BASELINE
from sim.uncertainty import voi
from sim.uncertainty.parameters import UncertainParameter

#: The components of net benefit: column of psa.parquet -> the willingness-to-pay setting that prices it (None:
#: money already).
COMPONENTS = {"cost_total": None, "child_years_faring_badly": "wtp_faring_badly", "placements_started": "wtp_placement"}


@dataclass(frozen=True)
class Prices:
    """DKK per child-year of faring badly avoided and per placement avoided."""

    faring_badly: float
    placement: float

    def net_benefit(self, cost: np.ndarray, faring_badly: np.ndarray, placements: np.ndarray) -> np.ndarray:
        return -cost - self.faring_badly * faring_badly - self.placement * placements


def component_matrices(table: pd.DataFrame, scenarios: list[str]) -> dict[str, np.ndarray]:
    """Each component of net benefit as a draws x scenarios matrix (columns in ``scenarios`` order)."""
    out = {}
    for column in COMPONENTS:
        wide = table.pivot(index="draw", columns="scenario", values=column)
        out[column] = wide[scenarios].to_numpy(dtype=float)
    return out


def net_benefit_matrix(components: dict[str, np.ndarray], prices: Prices) -> np.ndarray:
    return prices.net_benefit(
        components["cost_total"], components["child_years_faring_badly"], components["placements_started"]
    )


def wtp_grid(maximum: float, points: int) -> np.ndarray:
    return np.linspace(0.0, maximum, points)


def acceptability_curves(
    components: dict[str, np.ndarray], scenarios: list[str], prices: Prices, grid: np.ndarray
) -> pd.DataFrame:
    """Per axis (``faring_badly``: the price of a child-year faring badly varied, the price of a placement at its
    headline value; ``placement``: the other way round), price and scenario: the probability that the scenario has
    the highest net benefit, its expected net benefit relative to baseline, and whether it is the choice under
    current information (the highest expected net benefit: the acceptability frontier)."""
    rows = []
    for axis in ("faring_badly", "placement"):
        for price in grid:
            p = Prices(price, prices.placement) if axis == "faring_badly" else Prices(prices.faring_badly, price)
            nb = net_benefit_matrix(components, p)
            probability = voi.acceptability(nb)
            best = voi.best_option(nb)
            relative = nb.mean(axis=0) - nb[:, 0].mean()
            for j, s in enumerate(scenarios):
                rows.append(
                    {
                        "axis": axis,
                        "wtp": float(price),
                        "scenario": s,
                        "probability_best": float(probability[j]),
                        "expected_net_benefit": float(relative[j]),
                        "chosen": j == best,
                    }
                )
    return pd.DataFrame(rows)


def cost_effectiveness_plane(components: dict[str, np.ndarray], scenarios: list[str]) -> pd.DataFrame:
    """Per draw and policy scenario: extra cost a year against baseline (DKK) and child-years faring badly and
    placements avoided a year (positive: fewer than baseline)."""
    rows = []
    draws = components["cost_total"].shape[0]
    for j, s in enumerate(scenarios):
        if s == BASELINE:
            continue
        for name, column, sign in (
            ("extra_cost", "cost_total", 1.0),
            ("child_years_faring_badly_avoided", "child_years_faring_badly", -1.0),
            ("placements_avoided", "placements_started", -1.0),
        ):
            diff = sign * (components[column][:, j] - components[column][:, 0])
            rows.append(pd.DataFrame({"draw": np.arange(draws), "scenario": s, "quantity": name, "value": diff}))
    wide = pd.concat(rows).pivot(index=["scenario", "draw"], columns="quantity", values="value").reset_index()
    wide.columns.name = None
    order = {s: i for i, s in enumerate(scenarios)}
    return wide.sort_values(["scenario", "draw"], key=lambda c: c.map(order) if c.name == "scenario" else c)[
        ["scenario", "draw", "extra_cost", "child_years_faring_badly_avoided", "placements_avoided"]
    ].reset_index(drop=True)


def fitted_components(
    components: dict[str, np.ndarray], inputs: np.ndarray, prices: Prices, seed: int = 0
) -> dict[str, np.ndarray]:
    """Each component's E[. | inputs] (:func:`sim.uncertainty.voi.conditional_mean` of every option's difference
    from baseline, plus baseline's mean); a component priced at 0 is left at its mean (it cannot move a choice)."""
    out = {}
    for column, price_key in COMPONENTS.items():
        m = components[column]
        fitted = np.repeat(m.mean(axis=0, keepdims=True), m.shape[0], axis=0)
        priced = price_key is None or getattr(prices, price_key.removeprefix("wtp_")) != 0
        if priced:
            for d in range(1, m.shape[1]):
                fitted[:, d] = fitted[:, 0] + voi.conditional_mean(m[:, d] - m[:, 0], inputs, seed)
        out[column] = fitted
    return out


def _groups(parameters: list[UncertainParameter], per_parameter: bool) -> list[tuple[str, str, list[str]]]:
    """(kind, name, keys) of every set of parameters the EVPPI is computed for: all of them, each group, and (with
    ``per_parameter``) each single one that varies."""
    varied = [p for p in parameters if not p.fixed]
    sets = [("all", "all", [p.key for p in varied])]
    for group in dict.fromkeys(p.group for p in parameters):
        sets.append(("group", group, [p.key for p in varied if p.group == group]))
    if per_parameter:
        sets += [("parameter", p.key, [p.key]) for p in varied]
    return sets


def value_of_information(
    table: pd.DataFrame,
    scenarios: list[str],
    parameters: list[UncertainParameter],
    prices: Prices,
    horizon_factor: float,
    per_parameter: bool = True,
    grid: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The EVPI (a year and over the horizon: ``horizon_factor`` years' worth) at the headline prices, raw (the
    mean regret over draws: includes simulation noise) and through the metamodel on all parameters (noise
    removed), along the faring-badly price ``grid``; and the EVPPI of every set of :func:`_groups`."""
    components = component_matrices(table, scenarios)
    inputs = table[table["scenario"] == BASELINE].set_index("draw").sort_index()
    grid = np.array([prices.faring_badly]) if grid is None else grid
    rows = []
    all_keys = [p.key for p in parameters if not p.fixed]
    fitted_all = fitted_components(components, inputs[all_keys].to_numpy(dtype=float), prices)
    for price in grid:
        p = Prices(float(price), prices.placement)
        raw = net_benefit_matrix(components, p)
        smooth = net_benefit_matrix(fitted_all, p)
        rows.append(
            {
                "wtp_faring_badly": float(price),
                "wtp_placement": prices.placement,
                "headline": bool(np.isclose(price, prices.faring_badly)),
                "evpi_year": voi.evpi(smooth),
                "evpi_raw_year": voi.evpi(raw),
                "evpi_raw_standard_error": voi.evpi_standard_error(raw) if raw.shape[0] > 1 else np.nan,
                "evpi_horizon": voi.evpi(smooth) * horizon_factor,
                "best": scenarios[voi.best_option(raw)],
            }
        )
    evpi = pd.DataFrame(rows)
    headline = evpi[evpi["headline"]].iloc[0]
    out = []
    for kind, name, keys in _groups(parameters, per_parameter):
        fitted = (
            fitted_all if kind == "all" else fitted_components(components, inputs[keys].to_numpy(dtype=float), prices)
        )
        value = voi.evpi(net_benefit_matrix(fitted, prices))
        out.append(
            {
                "kind": kind,
                "name": name,
                "parameters": len(keys),
                "evppi_year": value,
                "evppi_horizon": value * horizon_factor,
                "share_of_evpi": value / headline["evpi_year"] if headline["evpi_year"] > 0 else 0.0,
            }
        )
    return evpi, pd.DataFrame(out)
