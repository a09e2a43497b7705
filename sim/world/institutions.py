"""Daycare institutions (ages 0-5) and schools (ages 6-16), grouped in districts.

Households live in districts, sorted by a score correlated with their disadvantage (``segregation``), so
institutions differ in how burdened their intake is. Each district has one school and enough daycare
institutions for its young children; each child belongs to one daycare institution (drawn once) and to the
district's school. Institutions also differ in how readily they report (``reporting_propensity_sd``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from sim.config.schema import WorldConfig
from sim.rng import Streams
from sim.world.population import Population

DAYCARE, SCHOOL = 0, 1


@dataclass
class Institutions:
    """Institution arrays indexed by institution id (daycare institutions first, then schools)."""

    kind: np.ndarray  # int8: 0 daycare, 1 school
    district: np.ndarray  # int32
    burden: np.ndarray  # mean household disadvantage of the institution's children
    burden_rank: np.ndarray  # 0 = least burdened .. 1 = most burdened, within its kind
    reporting: np.ndarray  # multiplier on reports from this institution (mean 1 within kind)
    child_daycare: np.ndarray  # institution id of each child's daycare
    child_school: np.ndarray  # institution id of each child's school
    hh_district: np.ndarray  # district of each household

    @property
    def n(self) -> int:
        return self.kind.shape[0]

    def daycare_ids(self) -> np.ndarray:
        return np.flatnonzero(self.kind == DAYCARE)


def build_institutions(pop: Population, cfg: WorldConfig, streams: Streams) -> Institutions:
    """Districts, their school and daycare institutions, and each child's attachment."""
    ic = cfg.institutions
    n_schools = max(1, round(cfg.children * 11 / 18 / ic.school_size))
    n_daycare_per_district = max(1, round(cfg.children * 6 / 18 / ic.daycare_size / n_schools))
    n_daycares = n_schools * n_daycare_per_district

    g_district = streams.generator("institutions", 0)
    seg = ic.segregation
    score = seg * pop.hh_disadvantage + np.sqrt(1.0 - seg**2) * g_district.standard_normal(pop.n_households)
    # score ~ N(0, 1), so its normal CDF spreads households evenly over districts.
    hh_district = np.minimum((ndtr(score) * n_schools).astype(np.int32), n_schools - 1)

    child_district = hh_district[pop.child_household]
    pick = streams.generator("institutions", 1).random(pop.n_children)
    child_daycare = child_district * n_daycare_per_district + (pick * n_daycare_per_district).astype(np.int32)
    child_school = n_daycares + child_district

    kind = np.concatenate([np.full(n_daycares, DAYCARE, np.int8), np.full(n_schools, SCHOOL, np.int8)])
    district = np.concatenate(
        [np.repeat(np.arange(n_schools, dtype=np.int32), n_daycare_per_district), np.arange(n_schools, dtype=np.int32)]
    )
    z_child = pop.hh_disadvantage[pop.child_household]
    n_inst = n_daycares + n_schools
    burden = np.zeros(n_inst)
    for members in (child_daycare, child_school):
        total = np.bincount(members, weights=z_child, minlength=n_inst)
        size = np.bincount(members, minlength=n_inst)
        has = size > 0
        burden[has] = total[has] / size[has]
    burden_rank = np.zeros(n_inst)
    for k in (DAYCARE, SCHOOL):
        idx = np.flatnonzero(kind == k)
        order = np.argsort(np.argsort(burden[idx], kind="stable"), kind="stable")
        burden_rank[idx] = order / max(idx.shape[0] - 1, 1)

    log_prop = ic.reporting_propensity_sd * streams.generator("institutions", 2).standard_normal(n_inst)
    reporting = np.exp(log_prop - 0.5 * ic.reporting_propensity_sd**2)
    reporting[kind == DAYCARE] *= ic.daycare_reporting

    return Institutions(
        kind=kind,
        district=district,
        burden=burden,
        burden_rank=burden_rank,
        reporting=reporting,
        child_daycare=child_daycare.astype(np.int32),
        child_school=child_school.astype(np.int32),
        hh_district=hh_district,
    )
