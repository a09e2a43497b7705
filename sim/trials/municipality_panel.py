"""Early prevention evaluated across municipalities over years (SST-2018: Haderslev, Herning and Hvidovre
reorganised toward early prevention with Socialstyrelsen, 2015-18, and were compared with other municipalities).

``municipalities`` worlds, each with its own seed derived from the run's seed (:func:`sim.rng.replication_seeds`)
and the size and years of the run's world, are observed over the observation period. ``treated`` of them,
picked at random (seeded by the run's seed), start ``early_prevention`` in January of their ``start_years``
(possibly staggered); the others never do. Per municipality-year the panel has three outcomes, each computed
with the definitions of ``sim/measures.py`` and ``sim/summary.py`` restricted to one calendar year:
children placed on 31 December per 1,000 children present then, the share of home-based measures started in
the year followed by a placement within 12 months, and the institution share of the placement stock on
31 December.

The truth: each treated municipality has a twin world without the policy (same seed), so its effect in every
year is known exactly. The estimand for each outcome is the average effect on the treated municipality-years
after adoption (ATT: the mean over treated post cells of outcome with policy - outcome in the twin), and its
event-time profile (``att_event_<k>``: the same mean over cells ``k`` years after adoption).

Worlds are the expensive part, and one simulated municipality serves many panels: :func:`simulate_bank`
simulates a bank of municipalities, each never treated and adopting at some start years (the twins are its
never-treated world), and :meth:`MunicipalityPanel.draw_from_bank` draws a new panel from a bank by a seeded
random choice of municipalities and of their cohorts, with its exact truth. Design diagnosis and the recovery
test reuse one bank for hundreds of panels. The run itself simulates only what its panel needs:
``municipalities`` never-treated worlds and ``treated`` adopting ones (12 worlds by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sim import measures as m
from sim.calendar import DAYS_PER_YEAR
from sim.config.fields import count, positive_count
from sim.config.schema import Config
from sim.config.validate import ConfigError
from sim.model import simulate_variants
from sim.parallel import process_pool
from sim.rng import replication_seeds
from sim.summary import after_home_based
from sim.tables import Tables
from sim.trials.base import Trial, TrialConfig, TrialData, register, with_policy, without_policies

OUTCOMES = ("placed_per_1000", "placed_after_home_based", "institution_share")
ASSIGNMENT_KEY = 0x5EED001  # spawn key of the treated municipalities' random choice


@dataclass
class MunicipalityPanelConfig(TrialConfig):
    """SST-2018's evaluation: municipalities adopting early prevention, compared with the others over years."""

    municipalities: int = positive_count(8, "municipalities observed (each a world with its own seed)")
    treated: int = count(4, "municipalities that adopt early prevention (at least one never does)")
    start_years: list[int] = field(
        default_factory=lambda: [2022, 2022, 2024, 2024],
        metadata={
            "check": None,
            "doc": "calendar year each treated municipality starts (in January); one per treated municipality, "
            "after the first observed year",
        },
    )


@dataclass
class Bank:
    """Yearly outcomes of simulated municipalities: each never treated, and adopting at some start years.

    A municipality's never-treated world is the twin of each of its adopting worlds (same seed), so any panel
    drawn from the bank has an exact truth."""

    seeds: list[int]  # one per municipality of the bank
    years: list[int]  # the observation period
    never: dict[int, pd.DataFrame]  # municipality -> yearly outcomes without the policy
    adopted: dict[tuple[int, int], pd.DataFrame] = field(default_factory=dict)  # (municipality, start year) -> ...

    def start_years(self, municipality: int) -> list[int]:
        """Start years at which this municipality was simulated adopting."""
        return sorted(g for i, g in self.adopted if i == municipality)


def yearly_outcomes(t: Tables) -> pd.DataFrame:
    """One row per observed calendar year: children present on 31 December, children placed then, placed per
    1,000 (``metrics.placed_per_1000``), home-based measures started in the year and the share of them followed
    by a placement within 12 months (``summary.placed_after_home_based``; a year is known only if all of its
    starts can be followed for 12 months before the horizon), and the institution share of the placement
    stock (``metrics.placement_share``)."""
    stock = m.dec31(t)
    kind = stock["placement_type_dec31"]
    by_year = stock.assign(is_placed=kind.notna(), institution=kind == "institution").groupby("year")
    children = by_year.size()
    placed = by_year["is_placed"].sum()
    out = pd.DataFrame(
        {
            "children": children,
            "placed": placed,
            "placed_per_1000": 1000 * by_year["placed_dec31"].sum() / children,
            "institution_share": by_year["institution"].sum() / placed.where(placed > 0),
        }
    )
    out.index = out.index.astype(int)
    starts = after_home_based(t)
    year_start = t.agency_monthly.groupby("year")["time"].min()
    starts_year = year_start.index[np.searchsorted(year_start.to_numpy(), starts["start"].to_numpy(), "right") - 1]
    followed = starts.assign(year=np.asarray(starts_year, dtype=int)).groupby("year")["placed"]
    complete = [y for y in out.index if year_start.get(y + 1, np.inf) + DAYS_PER_YEAR <= t.horizon + 1e-6]
    out["home_based_starts"] = followed.size().reindex(out.index).where(out.index.isin(complete))
    out["placed_after_home_based"] = followed.mean().astype(float).reindex(out.index).where(out.index.isin(complete))
    out.index.name = "year"
    return out.loc[t.years]


def _worlds(run: Config, seed: int, start_years: list[int]) -> list[pd.DataFrame]:
    """One municipality's yearly outcomes never treated and adopting at each of ``start_years``: twin worlds that
    share their months before the first adoption (:func:`sim.model.simulate_variants`)."""
    cfgs = [without_policies(run)] + [with_policy(run, "early_prevention", start_year=g) for g in start_years]
    for cfg in cfgs:
        cfg.seed = seed
    return [yearly_outcomes(Tables.from_result(r)) for r in simulate_variants(cfgs)]


def simulate_bank(
    run: Config,
    municipalities: int,
    start_years: Sequence[int],
    only: dict[int, Sequence[int]] | None = None,
    workers: int = 1,
) -> Bank:
    """Simulate ``municipalities`` worlds of the run's world, seeds from the run's seed: each never treated and
    adopting at every year of ``start_years`` (or, with ``only``, at the years listed for it); ``workers``
    processes in parallel (the result does not depend on how many)."""
    seeds = replication_seeds(run.seed, municipalities)
    years = list(range(run.world.start_year, run.world.start_year + run.world.years))
    adopting = [sorted(set(start_years if only is None else only.get(i, ()))) for i in range(municipalities)]
    args = ([run] * municipalities, seeds, adopting)
    if workers > 1:
        with process_pool(workers) as pool:
            frames = list(pool.map(_worlds, *args))
    else:
        frames = list(map(_worlds, *args))
    bank = Bank(seeds=seeds, years=years, never={})
    for i, (never, *adopted) in enumerate(frames):
        bank.never[i] = never
        bank.adopted.update({(i, g): frame for g, frame in zip(adopting[i], adopted, strict=True)})
    return bank


def label(municipality: int) -> str:
    return f"m{municipality + 1:02d}"


@register
class MunicipalityPanel(Trial):
    name = "municipality_panel"
    Config = MunicipalityPanelConfig
    estimator = "did_panel"
    outcomes = OUTCOMES
    world_keys = ("municipalities", "start_years")
    columns: ClassVar[dict[str, str]] = {
        "municipality": "the municipality (unit of adoption)",
        "year": "calendar year",
        "treated": "1 if the municipality ever adopts early prevention in the panel, 0 if never",
        "start_year": "calendar year the municipality adopts (from January); empty if never",
        "post": "1 in the municipality's years from its start year on, 0 before and in never-treated ones",
        "event_time": "year - start_year; empty if never treated",
        "children": "children 0-17 living in the municipality on 31 December",
        "placed": "children placed on 31 December",
        "home_based_starts": "§ 52 home-based measures started in the year (empty where not followed 12 months)",
        "placed_per_1000": "children placed on 31 December per 1,000 children",
        "placed_after_home_based": "share of the year's home-based measures followed by a placement within 12 "
        "months (empty where not known)",
        "institution_share": "share of the children placed on 31 December who are in an institution",
    }

    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        if cfg.treated >= cfg.municipalities:
            raise ConfigError(
                f"trial.treated = {cfg.treated} is not allowed: at least one of the {cfg.municipalities} "
                "municipalities must never adopt"
            )
        if len(cfg.start_years) != cfg.treated:
            raise ConfigError(
                f"trial.start_years = {list(cfg.start_years)} is not allowed: give one start year per treated "
                f"municipality ({cfg.treated})"
            )

    def check_years(self, run: Config) -> None:
        first, last = run.world.start_year, run.world.start_year + run.world.years - 1
        for g in self.cfg.start_years:
            if not first < g <= last:
                raise ConfigError(
                    f"trial.start_years = {list(self.cfg.start_years)} is not allowed: each must be after the first "
                    f"observed year and in the observation period ({first + 1}-{last})"
                )

    def assign(self, seed: int, municipalities: Sequence[int]) -> dict[int, int | None]:
        """A seeded random choice of which municipalities adopt, and when: the first ``treated`` of a random
        permutation take ``start_years`` in order; the others never adopt."""
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(ASSIGNMENT_KEY,)))
        order = rng.permutation(np.asarray(municipalities))
        cohorts: dict[int, int | None] = {int(i): None for i in municipalities}
        for i, g in zip(order, self.cfg.start_years, strict=False):
            cohorts[int(i)] = int(g)
        return cohorts

    def worlds(self, run: Config) -> dict[str, Any]:
        self.check_years(run)
        cohorts = self.assign(run.seed, range(self.cfg.municipalities))
        only = {i: [g] for i, g in cohorts.items() if g is not None}
        return {"bank": simulate_bank(run, self.cfg.municipalities, (), only=only), "cohorts": cohorts}

    def draw(self, worlds: dict[str, Any], seed: int) -> TrialData:
        return self.panel(worlds["bank"], worlds["cohorts"])

    def replication_worlds(self, run: Config) -> Bank:
        """For design diagnosis: a bank of ``municipalities`` worlds, each never treated and adopting at every
        start year, so that each replication draws its own assignment of cohorts (:meth:`draw_from_bank`)."""
        self.check_years(run)
        return simulate_bank(run, self.cfg.municipalities, sorted(set(self.cfg.start_years)))

    def draw_replication(self, worlds: Bank, seed: int) -> TrialData:
        return self.draw_from_bank(worlds, seed)

    def draw_from_bank(self, bank: Bank, seed: int) -> TrialData:
        """A new panel from a bank: ``municipalities`` of the bank chosen at random, and ``treated`` of them
        assigned at random to ``start_years`` (each must have been simulated for them), all seeded by ``seed``."""
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(ASSIGNMENT_KEY, 1)))
        if self.cfg.municipalities > len(bank.seeds):
            raise ValueError(
                f"the bank has {len(bank.seeds)} municipalities; the panel needs {self.cfg.municipalities}"
            )
        chosen = sorted(int(i) for i in rng.choice(len(bank.seeds), self.cfg.municipalities, replace=False))
        return self.panel(bank, self.assign(int(rng.integers(2**31)), chosen))

    def panel(self, bank: Bank, cohorts: dict[int, int | None]) -> TrialData:
        """The panel of these municipalities (bank index -> start year or None) and its exact truth."""
        frames = []
        for i, g in sorted(cohorts.items()):
            if g is not None and (i, g) not in bank.adopted:
                raise ValueError(f"municipality {i} of the bank was not simulated adopting in {g}")
            observed = bank.never[i] if g is None else bank.adopted[(i, g)]
            twin = bank.never[i]
            years = np.asarray(bank.years)
            frame = pd.DataFrame(
                {
                    "municipality": label(i),
                    "year": years,
                    "treated": int(g is not None),
                    "start_year": pd.array([g] * years.size, dtype="Int64"),
                    "post": (years >= g).astype(int) if g is not None else 0,
                    "event_time": pd.array(years - g if g is not None else [None] * years.size, dtype="Int64"),
                    "children": observed["children"].to_numpy(dtype=int),
                    "placed": observed["placed"].to_numpy(dtype=int),
                    "home_based_starts": pd.array(observed["home_based_starts"].to_numpy(), dtype="Int64"),
                    **{o: observed[o].to_numpy(dtype=float) for o in OUTCOMES},
                }
            )
            for o in OUTCOMES:
                frame[f"_effect_{o}"] = frame[o] - twin[o].to_numpy(dtype=float)
            frames.append(frame)
        both = pd.concat(frames, ignore_index=True)
        data = both[list(self.columns)].copy()
        return TrialData(
            data=data,
            truth=self.truth(both),
            meta={
                "municipalities": {label(i): int(bank.seeds[i]) for i in sorted(cohorts)},
                "cohorts": {label(i): g for i, g in sorted(cohorts.items())},
            },
        )

    @staticmethod
    def truth(both: pd.DataFrame) -> pd.DataFrame:
        """ATT and its event-time profile from the twins: means of the exact effects over treated post cells
        where the outcome is known in both worlds."""
        rows = []
        post = both[both["post"] == 1]
        for o in OUTCOMES:
            effect = post[f"_effect_{o}"]
            known = post[effect.notna()]
            rows.append({"outcome": o, "estimand": "att", "value": float(effect.mean()), "cells": len(known)})
            for k, group in known.groupby("event_time"):
                rows.append(
                    {
                        "outcome": o,
                        "estimand": f"att_event_{int(k)}",
                        "value": float(group[f"_effect_{o}"].mean()),
                        "cells": len(group),
                    }
                )
        return pd.DataFrame(rows)
