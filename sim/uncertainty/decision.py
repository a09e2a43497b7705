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


def wtp_grid(maximum: float, points: int, headline: float) -> np.ndarray:
    """``points`` prices from 0 to ``maximum``, and the headline price among them."""
    return np.unique(np.append(np.linspace(0.0, maximum, points), headline))


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


def relevant_parameters(parameters: list[UncertainParameter], scenario: str) -> list[UncertainParameter]:
    """The varied parameters an option's difference from baseline can depend on: its own policies' settings, the
    unit costs and the world's. Another policy's settings never touch it (its worlds run without that policy, on the
    same seeds), so leaving them out of its metamodel loses nothing and saves most of the fitting."""
    own = set() if scenario == BASELINE else set(scenario.split("+"))
    return [p for p in parameters if not p.fixed and (p.group in own or p.group in ("costs", "world"))]


def _priced(prices: Prices) -> list[str]:
    """The components that can move a choice: cost, and each outcome whose price is not 0."""
    return [c for c, key in COMPONENTS.items() if key is None or getattr(prices, key.removeprefix("wtp_")) != 0]


def value_of_information(
    table: pd.DataFrame,
    scenarios: list[str],
    parameters: list[UncertainParameter],
    prices: Prices,
    horizon_factor: float,
    per_parameter: bool = True,
    grid: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The EVPI (a year and over the horizon: ``horizon_factor`` years' worth) raw (the mean regret over draws:
    includes simulation noise) and through the metamodel on all parameters (noise removed), at each
    faring-badly price of ``grid`` (the headline price among them); and the EVPPI at the headline prices of every
    set of :func:`_groups`.

    The metamodel on all parameters is fitted per component (each option's cost and outcomes, as differences
    from baseline), so that it serves every price of the grid; every other set's is fitted to each option's net
    benefit at the headline prices. Each option's metamodels see only the parameters it can depend on
    (:func:`relevant_parameters`). The fits run in this process: the Gaussian processes' linear algebra already
    uses every core, and two processes of it took twice as long as one (measured)."""
    components = component_matrices(table, scenarios)
    inputs = table[table["scenario"] == BASELINE].set_index("draw").sort_index()
    grid = np.array([prices.faring_badly]) if grid is None else grid
    sets = _groups(parameters, per_parameter)
    options = range(1, len(scenarios))
    relevant = {d: relevant_parameters(parameters, scenarios[d]) for d in options}
    headline_nb = net_benefit_matrix(components, prices)
    # (set, component or None for net benefit, option) -> the inputs of its metamodel; a set none of whose
    # parameters the option depends on needs none (its conditional mean is the option's mean).
    jobs: dict[tuple[str, str | None, int], list[str]] = {}
    along = _priced(Prices(max(float(np.max(grid)), prices.faring_badly), prices.placement))  # priced anywhere
    for c in along:
        for d in options:
            jobs[("all", c, d)] = [p.key for p in relevant[d]]
    for kind, name, keys in sets:
        for d in options:
            used = [k for k in keys if k in {p.key for p in relevant[d]}]
            if kind != "all" and used:
                jobs[(name, None, d)] = used
    xs = [inputs[keys].to_numpy(dtype=float) for keys in jobs.values()]
    ys = [
        (components[c][:, d] - components[c][:, 0]) if c is not None else headline_nb[:, d] - headline_nb[:, 0]
        for _, c, d in jobs
    ]
    fits = dict(zip(jobs, map(voi.conditional_mean, ys, xs), strict=True))

    fitted_all = {c: np.repeat(m.mean(axis=0, keepdims=True), m.shape[0], axis=0) for c, m in components.items()}
    for c in along:
        for d in options:
            fitted_all[c][:, d] = fitted_all[c][:, 0] + fits[("all", c, d)]
    rows = []
    for price in grid:
        p = Prices(float(price), prices.placement)
        raw = net_benefit_matrix(components, p)
        smooth = voi.evpi(net_benefit_matrix(fitted_all, p))
        rows.append(
            {
                "wtp_faring_badly": float(price),
                "wtp_placement": prices.placement,
                "headline": bool(price == prices.faring_badly),
                "evpi_year": smooth,
                "evpi_raw_year": voi.evpi(raw),
                "evpi_raw_standard_error": voi.evpi_standard_error(raw) if raw.shape[0] > 1 else np.nan,
                "evpi_horizon": smooth * horizon_factor,
                "best": scenarios[voi.best_option(raw)],
            }
        )
    evpi = pd.DataFrame(rows)
    headline = float(evpi.loc[evpi["headline"], "evpi_year"].iloc[0])
    out = []
    for kind, name, k in sets:
        if kind == "all":
            value = voi.evpi(net_benefit_matrix(fitted_all, prices))
        else:
            fitted = np.repeat(headline_nb.mean(axis=0, keepdims=True), headline_nb.shape[0], axis=0)
            for d in options:
                if (name, None, d) in fits:
                    fitted[:, d] = fitted[:, 0] + fits[(name, None, d)]
            value = voi.evpi(fitted)
        out.append(
            {
                "kind": kind,
                "name": name,
                "parameters": len(k),
                "evppi_year": value,
                "evppi_horizon": value * horizon_factor,
                "share_of_evpi": value / headline if headline > 0 else 0.0,
            }
        )
    return evpi, pd.DataFrame(out)
