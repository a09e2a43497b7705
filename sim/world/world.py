"""The vectorised world: population, institutions, wellbeing, reports and outcomes, advanced one month at a
time by the simulation clock. The agency reads the world's arrays and writes back which measure each child is
in; nothing else crosses the seam.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sim.calendar import DAYS_PER_MONTH
from sim.config.schema import MEASURE_TYPES, PLACEMENT_TYPES, WorldConfig
from sim.eventlog import EventLog, ParquetSink
from sim.hooks import Hooks
from sim.rng import Streams
from sim.world.institutions import Institutions, build_institutions
from sim.world.outcomes import JUNE, Outcomes, ReportOutcomes
from sim.world.panel import Panel
from sim.world.population import ADULT_MONTHS, Population, build_population
from sim.world.reports import ReportBatch, ReportProcess
from sim.world.wellbeing import NO_MEASURE, Wellbeing, monthly_effects

FIRST_PLACEMENT = MEASURE_TYPES.index(PLACEMENT_TYPES[0])


class World:
    """Everything about the children that is not the agency's doing."""

    def __init__(self, cfg: WorldConfig, streams: Streams, log: EventLog, panel_sink: ParquetSink) -> None:
        self.cfg = cfg
        self.log = log
        self.first_year = cfg.start_year - cfg.burn_in_years
        self.months = 12 * (cfg.burn_in_years + cfg.years)
        self.pop: Population = build_population(cfg, streams)
        self.inst: Institutions = build_institutions(self.pop, cfg, streams)
        self.wellbeing = Wellbeing(self.pop, cfg, streams)
        self.reports = ReportProcess(self.pop, self.inst, cfg, streams)
        self.outcomes = Outcomes(self.pop, cfg, streams)
        self.report_outcomes = ReportOutcomes()
        n = self.pop.n_children
        self.child_birth_year = (self.first_year + np.floor(self.pop.child_birth / 12)).astype(np.int32)
        self.panel = Panel(self.pop.child_household, self.child_birth_year, panel_sink, PLACEMENT_TYPES)
        self.measure = np.full(n, NO_MEASURE, dtype=np.int8)
        self.gain = np.ones(n)  # multiplier on the running measure's effect (policies may change it)
        self.support = np.zeros(n)  # monthly increment of wellbeing from light support outside measures
        self.support_until = np.full(n, -1, dtype=np.int32)  # last month the support acts
        self.hooks = Hooks([])
        self.ever_measure = np.zeros(n, dtype=bool)
        self.prior_reports = np.zeros(n, dtype=np.int32)
        self.last_report_time = np.full(n, np.nan)  # days; NaN: never reported
        self.household_reports = np.zeros(self.pop.n_households, dtype=np.int32)
        self.present = np.zeros(n, dtype=bool)
        self.month = -1
        self._faring_badly = np.zeros(n, dtype=bool)
        # Faring badly at every month start for every child slot, present or not, packed 8 slots a byte: the
        # truth of any outcome window (the simulation knows each child's outcome, even after it leaves).
        self.faring_badly_bits = np.zeros((self.months, (n + 7) // 8), dtype=np.uint8)

    def reconfigure(self, cfg: WorldConfig) -> None:
        """Take new parameters mid-run (a policy starting): report rates and measure effects change; the
        population, institutions and the wellbeing process itself do not."""
        self.cfg = cfg
        self.wellbeing.delta = monthly_effects(cfg)
        self.reports.configure(cfg)

    @property
    def W(self) -> np.ndarray:
        return self.wellbeing.W

    def set_measure(self, child: int, measure: int, gain: float = 1.0) -> None:
        """Called by the agency when a measure starts (code >= 0, its effect on wellbeing times ``gain``) or
        ends (-1)."""
        self.measure[child] = measure
        self.gain[child] = gain
        if measure >= 0:
            self.ever_measure[child] = True

    def register_report(self, child: int, month: int, time: float) -> int:
        """A report arrived on ``child`` at ``time`` (days): count it and return its report id."""
        self.prior_reports[child] += 1
        self.household_reports[self.pop.child_household[child]] += 1
        self.last_report_time[child] = time
        return self.report_outcomes.add(child, month, time, float(self.W[child]), bool(self._faring_badly[child]))

    def year(self, month: int) -> int:
        return self.first_year + month // 12

    def step(self, month: int) -> tuple[ReportBatch, np.ndarray]:
        """Advance to the start of ``month``: returns the month's reports and the children who left."""
        pop, log = self.pop, self.log
        t = month * DAYS_PER_MONTH
        if month > 0 and month % 12 == 0:
            self._year_end(month - 1)
        prev = self.present
        present = pop.present(month)
        left = np.flatnonzero(prev & ~present)
        if month > 0:
            self._log_demography(month, t, present & ~prev, left)
        self.present = present
        self.month = month
        measure = np.where(present, self.measure, NO_MEASURE)
        supported = self.support_until >= month
        extra = np.where(supported, self.support, 0.0) if supported.any() else None
        W = self.wellbeing.step(month, measure, self.gain if self.hooks else None, extra)
        fb = self.wellbeing.faring_badly()
        self.faring_badly_bits[month] = np.packbits(fb)

        idx = np.flatnonzero(present)
        age_m = month - pop.child_birth[idx]
        age = (age_m // 12).astype(np.int64)
        hh = pop.child_household[idx]
        fb_idx = fb[idx]
        was = self._faring_badly[idx] & prev[idx]
        # A spell start is observed (flag true) when W crossed the line while the child lived here; a child
        # already faring badly at month 0, at birth or on moving in starts a left-censored spell (flag false).
        observed = prev[idx]
        for event_kind, sel in (("faring_badly_start", fb_idx & ~was), ("faring_badly_end", was & ~fb_idx)):
            if sel.any():
                log.add_many(t, "outcome", idx[sel], hh[sel], kind=event_kind, value=W[idx[sel]], flag=observed[sel])
        self._faring_badly = fb
        done3, done12 = self.report_outcomes.update(month, fb)
        ro = self.report_outcomes
        for name, ids, values in (("faring_badly_3m", done3, ro.fb3), ("faring_badly_12m", done12, ro.fb12)):
            if ids.size:
                c = ro.child[ids]
                log.add_many(
                    t,
                    "outcome",
                    c,
                    pop.child_household[c],
                    kind=name,
                    value=values[ids].astype(np.float64),
                    report=ids,
                )

        code = self.measure[idx]
        placed = code >= FIRST_PLACEMENT
        preventive = (code >= 0) & ~placed
        self.panel.month(idx, W[idx], fb_idx, preventive, placed, month % 12 == 0)

        school = (age_m >= 72) & (age_m < 204)
        if school.any():
            s_idx = idx[school]
            self.panel.absence(s_idx, self.outcomes.absence(s_idx, W[s_idx], placed[school]))
        youth = age_m >= 120
        if youth.any():
            y_idx = idx[youth]
            charged = self.outcomes.crime(month, y_idx, age_m[youth] / 12.0, W[y_idx])
            if charged.any():
                c = y_idx[charged]
                self.panel.crime_charges[c] += 1
                log.add_many(t, "outcome", c, pop.child_household[c], kind="crime_charge")
        teen = (age_m >= 144) & ~self.outcomes.examined[idx]
        self.outcomes.accumulate_exam_wellbeing(idx[teen], W[idx[teen]])
        if month % 12 == JUNE:
            cohort = (age_m >= 186) & (age_m < 198) & ~self.outcomes.examined[idx]
            if cohort.any():
                e_idx = idx[cohort]
                taken, grade = self.outcomes.exam(month, e_idx, self.measure[e_idx] >= FIRST_PLACEMENT)
                self.panel.exam_taken[e_idx] = taken
                self.panel.exam_grade[e_idx] = grade
                log.add_many(t, "outcome", e_idx, pop.child_household[e_idx], kind="exam", value=grade, flag=taken)

        age_all = np.zeros(pop.n_children, dtype=np.int64)
        age_all[idx] = age
        batch = self.reports.draw(month, present, age_all, W, self.measure >= FIRST_PLACEMENT)
        if self.hooks:
            batch = ReportBatch.concat([batch, *self.hooks.on_month(month)])
        np.add.at(self.panel.reports, batch.child, 1)
        return batch, left

    def add_support(self, children: np.ndarray, effect_per_year: float, months: int, from_month: int) -> None:
        """Light support outside the agency's measures (advice, a parenting course): wellbeing rises by
        ``effect_per_year`` a year for ``months`` months from ``from_month`` (same scale as measure effects)."""
        rho = self.cfg.wellbeing.persistence
        per_month = effect_per_year * (1.0 - rho) / (1.0 - rho**12) if rho > 0 else effect_per_year / 12
        self.support[children] = per_month
        self.support_until[children] = from_month + months

    def _log_demography(self, month: int, t: float, arrived: np.ndarray, left: np.ndarray) -> None:
        pop, log = self.pop, self.log
        new = np.flatnonzero(arrived)
        born = pop.child_birth[new] > month - 1
        for event, sel in (("birth", new[born]), ("move_in", new[~born])):
            log.add_many(t, event, sel, pop.child_household[sel])
        adult = pop.child_birth[left] + ADULT_MONTHS <= month
        for event, sel in (("turn_18", left[adult]), ("move_out", left[~adult])):
            log.add_many(t, event, sel, pop.child_household[sel])

    def _year_end(self, month: int) -> None:
        idx = np.flatnonzero(self.present)
        code = self.measure[idx]
        placed = code >= FIRST_PLACEMENT
        self.panel.year_end(
            self.year(month), idx, (code >= 0) & ~placed, np.where(placed, code - FIRST_PLACEMENT, -1).astype(np.int8)
        )

    def finish(self) -> None:
        """Close the last year of the panel (call after the last month has run)."""
        self._year_end(self.months - 1)

    def snapshot(self) -> dict[str, float]:
        """World state now (logged at every month start)."""
        code = self.measure[self.present]
        return {
            "children": int(self.present.sum()),
            "placed": int((code >= FIRST_PLACEMENT).sum()),
            "preventive": int(((code >= 0) & (code < FIRST_PLACEMENT)).sum()),
            "faring_badly": int((self._faring_badly & self.present).sum()),
        }


def population_tables(world: World) -> dict[str, pa.Table]:
    """The static population tables: children, households, institutions."""
    pop, inst = world.pop, world.inst
    n_c, n_h = pop.n_children, pop.n_households

    def month_or_null(x: np.ndarray) -> pa.Array:
        return pa.array(np.where(np.isfinite(x), x, 0.0), mask=~np.isfinite(x))

    children = pa.table(
        {
            "child_id": np.arange(n_c, dtype=np.int64),
            "household_id": pop.child_household.astype(np.int64),
            "birth_month": pop.child_birth,
            "birth_year": world.child_birth_year,
            "sex": pa.array(np.where(pop.child_sex == 1, "boy", "girl")),
            "daycare_id": inst.child_daycare.astype(np.int32),
            "school_id": inst.child_school.astype(np.int32),
            "wellbeing_level": pop.child_level,
            "hidden_level": pop.child_hidden_level,
        }
    )
    edu = np.array(["basic", "vocational", "higher"], dtype=object)[pop.hh_education]
    households = pa.table(
        {
            "household_id": np.arange(n_h, dtype=np.int64),
            "district": inst.hh_district.astype(np.int32),
            "n_children": pop.hh_n_children.astype(np.int8),
            "native": pop.hh_native,
            "move_in_month": month_or_null(pop.hh_move_in),
            "move_out_month": month_or_null(pop.hh_move_out),
            "education": pa.array(edu, pa.string()),
            "unemployed": pop.hh_unemployed,
            "psychiatric": pop.hh_psychiatric,
            "single_parent": pop.hh_single_parent,
            "recorded_risk": pop.hh_recorded_risk,
            "disadvantage": pop.hh_disadvantage,
            "hidden_adversity": pop.hh_hidden,
        }
    )
    institutions = pa.table(
        {
            "institution_id": np.arange(inst.n, dtype=np.int32),
            "kind": pa.array(np.where(inst.kind == 0, "daycare", "school")),
            "district": inst.district,
            "burden": inst.burden,
            "burden_rank": inst.burden_rank,
            "reporting": inst.reporting,
        }
    )
    return {"children": children, "households": households, "institutions": institutions}
