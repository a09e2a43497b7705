"""Caseworkers' decision rules as pure functions: triage at screening, the measure after an investigation,
the placement type, and the timing draws. Kept free of SimPy so they can be tested and reused directly.

Judgements are on a "need" scale where higher is worse: a child of average wellbeing has need 0 and the
faring-badly line is at need ≈ 1.28.
"""

from __future__ import annotations

import math

from scipy.special import ndtri

from sim.config.schema import MEASURE_TYPES, PLACEMENT_TYPES, DecisionConfig, FollowUpConfig, ScreeningConfig

TRIAGE: tuple[str, ...] = ("no_action", "advice", "investigation", "acute", "open_case")
NO_ACTION, ADVICE, INVESTIGATION, ACUTE, OPEN_CASE = range(len(TRIAGE))

PREVENTIVE, HOME_BASED = MEASURE_TYPES.index("preventive"), MEASURE_TYPES.index("home_based")
FIRST_PLACEMENT = MEASURE_TYPES.index(PLACEMENT_TYPES[0])
INSTITUTION = MEASURE_TYPES.index("institution")
NONE = -1

#: Intensity levels of a measure: none < preventive < home-based < placement; CLOSE ends the case.
LEVEL_NONE, LEVEL_PREVENTIVE, LEVEL_HOME, LEVEL_PLACED = -1, 0, 1, 2
CLOSE = -2


def quantile(u: float) -> float:
    """Standard normal quantile of a uniform (clipped away from 0 and 1)."""
    return float(ndtri(min(max(u, 1e-12), 1.0 - 1e-12)))


def lognormal(median: float, sigma: float, u: float) -> float:
    """A lognormal draw with the given median and log-SD, by inversion of ``u``."""
    return median * math.exp(sigma * quantile(u)) if sigma > 0 else median


def triage(judgement: float, s: ScreeningConfig, acute_offset: float = 0.0) -> int:
    """The screener's triage of a report on a child without an open case. ``acute_offset`` raises the bar for
    an acute placement as the placement threshold is raised for the child's age."""
    if judgement >= s.acute_threshold + acute_offset:
        return ACUTE
    if judgement >= s.investigation_threshold:
        return INVESTIGATION
    if judgement >= s.advice_threshold:
        return ADVICE
    return NO_ACTION


def level_for(assessed: float, d: DecisionConfig, age_years: float = 12.0) -> int:
    """Intensity level the assessed need calls for (the placement threshold depends on the child's age)."""
    if assessed >= placement_threshold(d, age_years):
        return LEVEL_PLACED
    if assessed >= d.home_based_threshold:
        return LEVEL_HOME
    if assessed >= d.preventive_threshold:
        return LEVEL_PREVENTIVE
    return LEVEL_NONE


def placement_threshold(d: DecisionConfig, age_years: float) -> float:
    """The assessed need at which a child of this age is placed."""
    return d.placement_threshold + placement_offset(d, age_years)


def placement_offset(d: DecisionConfig, age_years: float) -> float:
    """How much more need a child of this age must show before it is placed (acute or decided)."""
    return d.placement_age_offset[min(max(int(age_years // 6), 0), 2)]


def level_of(measure: int) -> int:
    """Intensity level of a running measure code (-1: none)."""
    if measure < 0:
        return LEVEL_NONE
    return min(measure, LEVEL_PLACED)


def threshold_of(level: int, d: DecisionConfig, age_years: float = 12.0) -> float:
    """The assessed need at which ``level`` starts for a child of this age."""
    if level == LEVEL_PLACED:
        return placement_threshold(d, age_years)
    return d.preventive_threshold if level == LEVEL_PREVENTIVE else d.home_based_threshold


def placement_type(age_years: float, u: float, d: DecisionConfig, breakdown: bool = False) -> int:
    """Measure code of a new placement, by age band. After a breakdown the new placement is never family care:
    the draw uses the 12-17 shares without network and foster family, whatever the child's age."""
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


def review(level: int, assessed: float, d: DecisionConfig, f: FollowUpConfig, age_years: float = 12.0) -> int:
    """The intensity level after a follow-up review of a running measure at ``level``, or CLOSE.

    A placed child goes home (to a home-based measure) when the assessed need falls below
    ``step_down_threshold``; an in-home measure closes below ``close_threshold`` and escalates when the need
    exceeds the next level's threshold by ``escalate_margin``.
    """
    if level == LEVEL_PLACED:
        return LEVEL_HOME if assessed < f.step_down_threshold else LEVEL_PLACED
    if assessed < f.close_threshold:
        return CLOSE
    if assessed >= threshold_of(level + 1, d, age_years) + f.escalate_margin:
        return max(level, level_for(assessed - f.escalate_margin, d, age_years))
    return level


def involvement_probability(base: float, slope: float, workload: float) -> float:
    """Probability that a child is sufficiently involved in a decision: ``base`` at or below the nominal
    caseload, falling by ``slope`` on the logit scale per doubling of the caseworker's caseload above it."""
    p = min(max(base, 1e-9), 1 - 1e-9)
    z = math.log(p / (1 - p)) - slope * max(math.log2(max(workload, 1e-9)), 0.0)
    return 1.0 / (1.0 + math.exp(-z))
