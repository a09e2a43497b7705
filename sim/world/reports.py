"""Reports of concern: a non-homogeneous Poisson process per child and source, drawn month by month.

Intensity of source s for child i in month t (reports a month)::

    lambda[i, s, t] = rate[s, band(age)] / 12000 * inst[i, s] * exp(beta * min(-W[i, t], cap)) / norm
                      * boost[i, t] * placed[i, t]

``rate`` is per 1,000 children a year as a population mean: ``norm`` = E[exp(beta * min(Z, cap))] for
Z ~ N(0, 1) makes the need factor average 1. ``cap`` (``need_cap``) stops the intensity growing without
bound for the few children in the deepest trouble. ``inst`` is the reporting propensity of the child's
daycare institution or school for those two sources (1 otherwise). ``boost`` is ``repeat_boost`` for
``repeat_boost_months`` after a report; ``placed`` is ``placed_factor`` while the child is in placement, away
from the family. School reports start at age 6, which gives the "boom" at school start. A report covers the
whole household with probability ``sibling_coreport``: every other child 0-17 of the household then gets a
report too.

The count for each child and month is drawn by inverting the Poisson CDF at one uniform per child slot, so
a policy that changes a child's intensity a little rarely changes its count, and never anyone else's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from sim.calendar import DAYS_PER_MONTH
from sim.config.schema import SOURCES, WorldConfig
from sim.rng import Streams
from sim.world.institutions import Institutions
from sim.world.population import Population

SCHOOL, DAYCARE = SOURCES.index("school"), SOURCES.index("daycare")
SIBLING_OFFSET = 1000  # event numbers of sibling co-reports start here (see ReportBatch.number)


@dataclass
class ReportBatch:
    """The reports of one month, sorted by arrival time."""

    child: np.ndarray  # int64
    time: np.ndarray  # days since month 0
    source: np.ndarray  # int8 index into SOURCES
    sibling_of: np.ndarray  # child id whose report this co-report follows, -1 for a primary report
    number: np.ndarray  # event number of the report within its child and month (unique, CRN-stable)

    def __len__(self) -> int:
        return self.child.shape[0]

    @classmethod
    def concat(cls, batches: list[ReportBatch]) -> ReportBatch:
        """One batch from several, sorted by arrival time."""
        if len(batches) == 1:
            return batches[0]
        fields = ("child", "time", "source", "sibling_of", "number")
        joined = {f: np.concatenate([getattr(b, f) for b in batches]) for f in fields}
        order = np.lexsort((joined["number"], joined["child"], joined["time"]))
        return cls(**{f: v[order] for f, v in joined.items()})


def age_band(age_years: np.ndarray) -> np.ndarray:
    """0 for ages 0-5, 1 for 6-11, 2 for 12-17."""
    return np.minimum(age_years // 6, 2).astype(np.int8)


class ReportProcess:
    """Draws each month's reports from the children's current need."""

    def __init__(self, pop: Population, inst: Institutions, cfg: WorldConfig, streams: Streams) -> None:
        self.pop = pop
        self.inst = inst
        self.streams = streams
        self.keyed = streams.keyed("reports")
        self.configure(cfg)
        self.other = np.delete(np.arange(len(SOURCES)), [SCHOOL, DAYCARE])
        self.boost_until = np.full(pop.n_children, -1, dtype=np.int32)
        self.daycare_factor = inst.reporting[inst.child_daycare]
        self.school_factor = inst.reporting[inst.child_school]

    def configure(self, cfg: WorldConfig) -> None:
        """Take the report parameters of ``cfg`` (also when a policy starts mid-run)."""
        rc = cfg.reports
        rates = np.array([getattr(rc.rates_per_1000, s) for s in SOURCES])  # (source, band) per 1,000 a year
        self.rate = rates * rc.rate_multiplier / 12000.0
        self.beta = rc.need_sensitivity
        self.cap = rc.need_cap
        self.log_norm = float(np.log(capped_exp_mean(self.beta, self.cap)))
        self.placed_factor = rc.placed_factor
        self.boost = rc.repeat_boost
        self.boost_months = rc.repeat_boost_months
        self.sibling_p = rc.sibling_coreport

    def source_weights(self, idx: np.ndarray, band: np.ndarray) -> np.ndarray:
        """Unnormalised source intensities (rows: children ``idx``; columns: SOURCES)."""
        w = self.rate[:, band].T.copy()
        w[:, DAYCARE] *= self.daycare_factor[idx]
        w[:, SCHOOL] *= self.school_factor[idx]
        return w

    def intensity(
        self, idx: np.ndarray, band: np.ndarray, W: np.ndarray, month: int, placed: np.ndarray | None = None
    ) -> np.ndarray:
        """Expected reports this month for children ``idx`` (W is their wellbeing, ``placed`` whether they
        are in placement)."""
        base = (
            self.rate[DAYCARE, band] * self.daycare_factor[idx]
            + self.rate[SCHOOL, band] * self.school_factor[idx]
            + self.rate[self.other][:, band].sum(axis=0)
        )
        need = np.exp(self.beta * np.minimum(-W, self.cap) - self.log_norm)
        boost = np.where(self.boost_until[idx] >= month, self.boost, 1.0)
        if placed is not None:
            boost = boost * np.where(placed, self.placed_factor, 1.0)
        return base * need * boost

    def draw(
        self, month: int, present: np.ndarray, age_years: np.ndarray, W: np.ndarray, placed: np.ndarray
    ) -> ReportBatch:
        """Reports arriving during ``month`` for the children ``present`` (boolean masks over slots)."""
        u = self.streams.monthly("reports", month, 0).random(self.pop.n_children)
        idx = np.flatnonzero(present)
        band = age_band(age_years[idx])
        lam = self.intensity(idx, band, W[idx], month, placed[idx])
        count = _poisson_inverse(u[idx], lam)
        has = count > 0
        idx, band, count = idx[has], band[has], count[has]

        child = np.repeat(idx, count)
        number = np.arange(child.shape[0]) - np.repeat(np.cumsum(count) - count, count)
        ud = self.keyed.uniforms(child, month, number, 0, 3)  # source, time in month, household report
        weights = self.source_weights(child, np.repeat(band, count))
        cum = np.cumsum(weights, axis=1)
        source = (cum < (ud[:, 0] * cum[:, -1])[:, None]).sum(axis=1).astype(np.int8)
        time = (month + ud[:, 1]) * DAYS_PER_MONTH
        sibling_of = np.full(child.shape[0], -1, dtype=np.int64)

        co = np.flatnonzero(ud[:, 2] < self.sibling_p)
        if co.size:
            s_child, s_of, s_pos = self._siblings(child[co], present)
            trigger = co[s_pos]
            rank = child[trigger] - self.pop.hh_first_child[self.pop.child_household[child[trigger]]]
            s_number = SIBLING_OFFSET + 16 * rank + number[trigger]
            child = np.concatenate([child, s_child])
            time = np.concatenate([time, time[trigger]])
            source = np.concatenate([source, source[trigger]])
            sibling_of = np.concatenate([sibling_of, s_of])
            number = np.concatenate([number, s_number])

        order = np.lexsort((number, child, time))
        self.boost_until[child] = month + self.boost_months
        return ReportBatch(
            child=child[order].astype(np.int64),
            time=time[order],
            source=source[order],
            sibling_of=sibling_of[order],
            number=number[order].astype(np.int64),
        )

    def _siblings(self, trigger_child: np.ndarray, present: np.ndarray):
        """Present siblings of each trigger child: (sibling ids, trigger child ids, position in trigger list)."""
        hh = self.pop.child_household[trigger_child]
        first = self.pop.hh_first_child[hh]
        size = self.pop.hh_n_children[hh].astype(np.int64)
        pos = np.repeat(np.arange(trigger_child.shape[0]), size)
        sib = np.repeat(first, size) + (np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size))
        of = trigger_child[pos]
        keep = (sib != of) & present[sib]
        return sib[keep], of[keep], pos[keep]


def capped_exp_mean(beta: float, cap: float) -> float:
    """E[exp(beta * min(Z, cap))] for Z ~ N(0, 1)."""
    return float(np.exp(0.5 * beta**2) * ndtr(cap - beta) + np.exp(beta * cap) * (1.0 - ndtr(cap)))


def _poisson_inverse(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson(lam) variates by inversion at ``u`` (monotone in u and lam; exact)."""
    p = np.exp(-lam)
    cdf = p.copy()
    k = np.zeros(u.shape[0], dtype=np.int64)
    active = np.flatnonzero(u >= cdf)
    while active.size:
        k[active] += 1
        p[active] *= lam[active] / k[active]
        cdf[active] += p[active]
        still = u[active] >= cdf[active]
        # Guard against u within rounding of 1 where the CDF cannot reach it.
        still &= p[active] > 1e-300
        active = active[still]
    return k
