"""Caseworkers' decision rules as pure functions: triage at screening, the measure after an investigation,
the placement type, and the timing draws. Kept free of SimPy so they can be tested and reused directly.

Judgements are on a "need" scale where higher is worse: a child of average wellbeing has need 0 and the
faring-badly line is at need ≈ 1.28.
"""

from __future__ import annotations

import math

from scipy.special import ndtri

from sim.config.schema import MEASURE_TYPES, PLACEMENT_TYPES, DecisionConfig, ScreeningConfig

TRIAGE: tuple[str, ...] = ("no_action", "advice", "investigation", "acute", "open_case")
NO_ACTION, ADVICE, INVESTIGATION, ACUTE, OPEN_CASE = range(len(TRIAGE))

PREVENTIVE, HOME_BASED = MEASURE_TYPES.index("preventive"), MEASURE_TYPES.index("home_based")
FIRST_PLACEMENT = MEASURE_TYPES.index(PLACEMENT_TYPES[0])
INSTITUTION = MEASURE_TYPES.index("institution")
NONE = -1

#: Intensity levels of a measure: none < preventive < home-based < placement.
LEVEL_NONE, LEVEL_PREVENTIVE, LEVEL_HOME, LEVEL_PLACED = -1, 0, 1, 2


def quantile(u: float) -> float:
    """Standard normal quantile of a uniform (clipped away from 0 and 1)."""
    return float(ndtri(min(max(u, 1e-12), 1.0 - 1e-12)))


def lognormal(median: float, sigma: float, u: float) -> float:
    """A lognormal draw with the given median and log-SD, by inversion of ``u``."""
    return median * math.exp(sigma * quantile(u)) if sigma > 0 else median


def triage(judgement: float, s: ScreeningConfig) -> int:
    """The screener's triage of a report on a child without an open case."""
    if judgement >= s.acute_threshold:
        return ACUTE
    if judgement >= s.investigation_threshold:
        return INVESTIGATION
    if judgement >= s.advice_threshold:
        return ADVICE
    return NO_ACTION


def level_for(assessed: float, d: DecisionConfig) -> int:
    """Intensity level the assessed need calls for."""
    if assessed >= d.placement_threshold:
        return LEVEL_PLACED
    if assessed >= d.home_based_threshold:
        return LEVEL_HOME
    if assessed >= d.preventive_threshold:
        return LEVEL_PREVENTIVE
    return LEVEL_NONE


def level_of(measure: int) -> int:
    """Intensity level of a running measure code (-1: none)."""
    if measure < 0:
        return LEVEL_NONE
    return min(measure, LEVEL_PLACED)


def threshold_of(level: int, d: DecisionConfig) -> float:
    """The assessed need at which ``level`` starts."""
    return {
        LEVEL_PREVENTIVE: d.preventive_threshold,
        LEVEL_HOME: d.home_based_threshold,
        LEVEL_PLACED: d.placement_threshold,
    }[level]


def placement_type(age_years: float, u: float, d: DecisionConfig, breakdown: bool = False) -> int:
    """Measure code of a new placement, by age band; after a breakdown the child cannot go back to the same
    kind of family care, so the draw uses the 12-17 distribution restricted to institutions and opholdssteder."""
    if breakdown:
        shares = list(d.placement_type_12_17)
        shares[0] = shares[1] = 0.0
    elif age_years < 6:
        shares = d.placement_type_0_5
    elif age_years < 12:
        shares = d.placement_type_6_11
    else:
        shares = d.placement_type_12_17
    total = sum(shares)
    if total <= 0:
        return INSTITUTION
    acc = 0.0
    for i, s in enumerate(shares):
        acc += s / total
        if u < acc:
            return FIRST_PLACEMENT + i
    return FIRST_PLACEMENT + max(i for i, s in enumerate(shares) if s > 0)


def measure_for_level(level: int, age_years: float, u: float, d: DecisionConfig) -> int:
    """The measure code for an intensity level."""
    if level == LEVEL_NONE:
        return NONE
    if level == LEVEL_PREVENTIVE:
        return PREVENTIVE
    if level == LEVEL_HOME:
        return HOME_BASED
    return placement_type(age_years, u, d)
