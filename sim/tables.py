"""The tables of one simulated world, as DataFrames: the seam between the simulator and everything that
analyses it (calibration metrics, the truth, trial designs). Nothing downstream sees a simulator object.

Columns are documented in ``docs/data-dictionary.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.calendar import DAYS_PER_MONTH
from sim.model import SimulationResult

TABLES = ("events", "reports", "panel", "agency_monthly", "children")


@dataclass
class Tables:
    """One world's event log, reports, child-year panel, monthly agency state and children."""

    events: pd.DataFrame
    reports: pd.DataFrame
    panel: pd.DataFrame
    agency_monthly: pd.DataFrame
    children: pd.DataFrame
    start_year: int  # first calendar year of the observation period (after burn-in)
    months: int  # simulated months, burn-in included
    faring_badly_bits: np.ndarray | None = None  # in memory only: see SimulationResult
    policy_results: dict[str, pd.DataFrame] = field(default_factory=dict)  # tables the policies reported
    cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)  # derived, once a world

    @classmethod
    def from_result(cls, result: SimulationResult) -> Tables:
        if result.events is None or result.panel is None:
            raise ValueError("simulate(..., keep=True) is needed to analyse a result in memory")
        return cls(
            result.events,
            result.reports,
            result.panel,
            result.agency_monthly,
            result.population["children"],
            result.start_year,
            result.months,
            result.faring_badly_bits,
            result.policy_results,
        )

    @property
    def horizon(self) -> float:
        """End of the simulation, in days since month 0."""
        return self.months * DAYS_PER_MONTH

    @property
    def observation_start(self) -> float:
        """Start of the observation period, in days since month 0."""
        am = self.agency_monthly
        return float(am.loc[am["year"] >= self.start_year, "time"].min())

    @property
    def years(self) -> list[int]:
        """The calendar years of the observation period."""
        return sorted(int(y) for y in self.agency_monthly["year"].unique() if y >= self.start_year)

    def age_at(self, child_id: pd.Series | np.ndarray, time: pd.Series | np.ndarray) -> np.ndarray:
        """Exact age in years of children at times (days since month 0)."""
        birth = self.children.set_index("child_id")["birth_month"].reindex(np.asarray(child_id)).to_numpy()
        return (np.asarray(time, dtype=float) / DAYS_PER_MONTH - birth) / 12.0

    def faring_badly_within(self, child: np.ndarray, time: np.ndarray, months: int) -> np.ndarray:
        """1.0 if the child fares badly at any of the ``months`` month starts after ``time`` (days), 0.0 if not,
        NaN if the window runs past the horizon. Needs the in-memory truth (``simulate(..., keep=True)``)."""
        if self.faring_badly_bits is None:
            raise ValueError("the faring-badly truth is kept in memory only: use Tables.from_result")
        child = np.asarray(child, dtype=np.int64)
        first = np.floor(np.asarray(time, dtype=float) / DAYS_PER_MONTH).astype(np.int64) + 1
        out = np.zeros(child.shape[0])
        byte, bit = child // 8, 7 - child % 8
        for k in range(months):
            month = np.minimum(first + k, self.months - 1)
            out = np.maximum(out, (self.faring_badly_bits[month, byte] >> bit) & 1)
        out[first + months - 1 > self.months - 1] = np.nan
        return out

    def first_years(self, years: int) -> Tables:
        """The same world as an evaluation that stopped ``years`` years into the observation period would see it:
        every table cut at that time (events and reports by time, the panel and agency months by year), the
        in-memory truth too, so follow-up windows past the cut are unknown. The whole world if it is no longer."""
        if years >= len(self.years):
            return self
        end_year = self.start_year + years
        am = self.agency_monthly
        end_month = int(am.loc[am["year"] < end_year, "month"].max()) + 1
        end = end_month * DAYS_PER_MONTH
        return Tables(
            self.events[self.events["time"] < end],
            self.reports[self.reports["time"] < end],
            self.panel[self.panel["year"] < end_year],
            am[am["year"] < end_year],
            self.children,
            self.start_year,
            end_month,
            None if self.faring_badly_bits is None else self.faring_badly_bits[:end_month],
            self.policy_results,
        )

    def observed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``frame`` in the observation period (by its ``year`` column)."""
        return frame[frame["year"] >= self.start_year]
