"""Outcomes of every child and month: faring badly, school absence, the 9th-grade exam, youth crime.

None of these feeds back into the world, so their parameters never change anything but themselves.

* **Faring badly**: W below the faring-badly line. Spells are logged as outcome events, and each report gets
  ``faring_badly_3m`` / ``faring_badly_12m``: faring badly at any of the next 3 / 12 month starts.
* **Absence** (ages 6-16): share of lessons missed in a month, ``logit = logit(absence_share) +
  absence_need_slope * (-W) + child effect + absence_placed_shift * placed``.
* **Exam**: in June of the year a child is 15.5-16.5 years old. Taken with ``logit(exam_taken) +
  exam_taken_slope * mean W at 12-16 + exam_taken_placed_shift * placed``; grade (the 7-point scale,
  -3..12) ``exam_grade_mean + exam_grade_slope * mean W - exam_household_slope * household disadvantage + noise``.
* **Youth crime** (ages 10-17): a charge with monthly hazard ``rate[band] / 12 * exp(k * (-W) - k^2 / 2)``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from sim.config.schema import WorldConfig
from sim.rng import Streams
from sim.world.population import Population

JUNE = 5  # month of year (0 = January)


class Outcomes:
    """Monthly outcome draws for all child slots."""

    def __init__(self, pop: Population, cfg: WorldConfig, streams: Streams) -> None:
        oc = cfg.outcomes
        self.cfg = oc
        self.pop = pop
        self.streams = streams
        self.child_absence = oc.absence_child_sd * streams.generator("outcomes", 0).standard_normal(pop.n_children)
        self.absence_logit = float(logit(oc.absence_share))
        self.exam_logit = float(logit(min(max(oc.exam_taken, 1e-9), 1 - 1e-9)))
        self.crime_rate = np.array(oc.crime_rate_per_year) / 12.0
        self.w_sum = np.zeros(pop.n_children)  # W summed over months at ages 12 up to the exam
        self.w_n = np.zeros(pop.n_children, dtype=np.int32)
        self.examined = np.zeros(pop.n_children, dtype=bool)

    def absence(self, idx: np.ndarray, W: np.ndarray, placed: np.ndarray) -> np.ndarray:
        """Share of lessons missed this month by children ``idx`` (their W and placement status)."""
        oc = self.cfg
        z = (
            self.absence_logit
            + oc.absence_need_slope * (-W)
            + self.child_absence[idx]
            + oc.absence_placed_shift * placed
        )
        return expit(z)

    def crime(self, month: int, idx: np.ndarray, age_years: np.ndarray, W: np.ndarray) -> np.ndarray:
        """Boolean: does each child ``idx`` (aged 10-17) get a charge this month."""
        u = self.streams.monthly("outcomes", month, 0).random(self.pop.n_children)[idx]
        band = np.clip(np.searchsorted([12, 15], age_years, side="right"), 0, 2)
        k = self.cfg.crime_need_sensitivity
        hazard = self.crime_rate[band] * np.exp(-k * W - 0.5 * k**2)
        return u < -np.expm1(-hazard)

    def accumulate_exam_wellbeing(self, idx: np.ndarray, W: np.ndarray) -> None:
        self.w_sum[idx] += W
        self.w_n[idx] += 1

    def exam(self, month: int, idx: np.ndarray, placed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(taken, grade) for the children ``idx`` sitting the exam this June (``placed``: whether each is placed
        now); grade NaN when not taken."""
        oc = self.cfg
        u = self.streams.monthly("outcomes", month, 1).random(self.pop.n_children)[idx]
        e = self.streams.monthly("outcomes", month, 2).standard_normal(self.pop.n_children)[idx]
        mean_w = self.w_sum[idx] / np.maximum(self.w_n[idx], 1)
        taken = u < expit(self.exam_logit + oc.exam_taken_slope * mean_w + oc.exam_taken_placed_shift * placed)
        z = self.pop.hh_disadvantage[self.pop.child_household[idx]]
        grade = oc.exam_grade_mean + oc.exam_grade_slope * mean_w - oc.exam_household_slope * z + oc.exam_grade_sd * e
        grade = np.where(taken, np.clip(grade, -3.0, 12.0), np.nan)
        self.examined[idx] = True
        return taken, grade


class ReportOutcomes:
    """Faring badly within 3 and 12 months of each report, filled in month by month.

    A report in month r looks at the month starts r+1..r+3 and r+1..r+12. Values are -1 until known.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self.child = np.zeros(capacity, dtype=np.int64)
        self.month = np.zeros(capacity, dtype=np.int32)
        self.time = np.zeros(capacity)  # arrival, days since month 0
        self.fb0 = np.zeros(capacity, dtype=np.int8)
        self.wellbeing = np.zeros(capacity)  # the child's true W when the report arrived (never observed)
        self.fb3 = np.full(capacity, -1, dtype=np.int8)
        self.fb12 = np.full(capacity, -1, dtype=np.int8)
        self._start = 0  # first report that may still be pending

    def _grow(self) -> None:
        cap = self.child.shape[0] * 2
        for name, fill in (
            ("child", 0),
            ("month", 0),
            ("time", 0),
            ("fb0", 0),
            ("wellbeing", 0),
            ("fb3", -1),
            ("fb12", -1),
        ):
            old = getattr(self, name)
            new = np.full(cap, fill, dtype=old.dtype)
            new[: old.shape[0]] = old
            setattr(self, name, new)

    def add(self, child: int, month: int, time: float, wellbeing: float, faring_badly_now: bool) -> int:
        """Register a report; returns its report id (ids are consecutive from 0)."""
        if self.n == self.child.shape[0]:
            self._grow()
        i = self.n
        self.child[i], self.month[i], self.fb0[i] = child, month, faring_badly_now
        self.wellbeing[i] = wellbeing
        self.time[i] = time
        self.n += 1
        return i

    def update(self, month: int, faring_badly: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fold in the state at the start of ``month``. Returns the report ids whose 3-month and 12-month
        outcomes became final at this month (for logging)."""
        n = self.n
        while self._start < n and self.month[self._start] < month - 12:
            self._start += 1
        ids = np.arange(self._start, n)
        if ids.size == 0:
            return ids, ids
        lag = month - self.month[ids]
        ids, lag = ids[lag >= 1], lag[lag >= 1]
        fb = faring_badly[self.child[ids]].astype(np.int8)
        in3 = lag <= 3
        first = lag == 1
        self.fb3[ids[first]] = 0
        self.fb12[ids[first]] = 0
        self.fb3[ids[in3]] |= fb[in3]
        self.fb12[ids] |= fb
        return ids[lag == 3], ids[lag == 12]

    def final(self, horizon_month: int) -> tuple[np.ndarray, np.ndarray]:
        """The 3- and 12-month outcomes, NaN where the window reaches past the horizon."""
        lag = horizon_month - 1 - self.month[: self.n]
        fb3 = np.where(lag >= 3, self.fb3[: self.n], -1).astype(np.float64)
        fb12 = np.where(lag >= 12, self.fb12[: self.n], -1).astype(np.float64)
        fb3[fb3 < 0] = np.nan
        fb12[fb12 < 0] = np.nan
        return fb3, fb12
