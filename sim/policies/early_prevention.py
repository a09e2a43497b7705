"""Early prevention (SST-2018: the partnership of Haderslev, Herning and Hvidovre with Socialstyrelsen,
2015-18): earlier, lighter measures instead of placements.

The evaluation found more preventive and home-based measures; fewer children placed after a home-based
measure (Herning, Hvidovre); more children neither placed nor in a measure a year on (Haderslev); more network
care; a much lower institution share of placements (Herning, Hvidovre); and closer work between caseworkers
and schools, daycare and health visitors, with more frequent follow-up. Herning's team had about 24 cases per
caseworker against 48 and followed up every 3 months (KORA-2015).

In the model (all parameter changes; sizes are the planning assumptions' "policy sizes"):

- placement needs more need (``placement_shift`` added to the placement threshold: about 10% fewer
  placements among new measures, planning assumption: 5-15%) and in-home measures start earlier
  (``preventive_shift`` subtracted from the § 11 and § 52 thresholds);
- family placements go to the child's network first (``network_factor`` times the network share) and
  institution shares shrink (``institution_factor``), the freed share going to family care;
- schools and daycare report more (``school_daycare_reporting``: closer cooperation, earlier detection), and so
  do health services about children 0-5, the ages health visitors see (``health_visitor_reporting``);
- follow-ups every ``followup_months`` and caseworkers added to reach ``caseload``;
- the lighter measures are "qualified": closer follow-up and cooperation make a § 11 or § 52 measure's effect
  on wellbeing ``1 + in_home_effect_gain`` times as large (an assumption; the evaluation reports fewer
  children placed after a home-based measure in Herning and Hvidovre);
- placements break down ``breakdown_reduction`` less often (an assumption: fewer breakdowns in Herning's team,
  KORA-2015, no figure).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.config.evidence import assumed, published
from sim.config.fields import caseload as cases
from sim.config.fields import nonnegative, positive, positive_duration, share
from sim.config.schema import MEASURE_TYPES, WorldConfig
from sim.hooks import Policy, PolicyConfig
from sim.policies.base import BASELINE_CASELOAD, register

if TYPE_CHECKING:
    from sim.agency.agency import Case

NETWORK, FOSTER, INSTITUTION = 0, 1, 2
IN_HOME = (MEASURE_TYPES.index("preventive"), MEASURE_TYPES.index("home_based"))


@dataclass
class EarlyPreventionConfig(PolicyConfig):
    """Earlier, lighter measures; network care before institutions (SST-2018)."""

    placement_shift: float = nonnegative(
        0.05,
        "added to the placement threshold: about 10% fewer placements among new measures",
        assumed(
            0.025,
            0.075,
            "planning assumption: placements -10% (5-15%) among new measures, the shift scaled to that band; the "
            "source reports fewer placed after home-based help in two of three municipalities, no size",
            "SST-2018",
        ),
    )
    preventive_shift: float = nonnegative(
        0.15,
        "subtracted from the § 11 and § 52 thresholds",
        assumed(0.0, 0.3, "the source reports more preventive and home-based measures, no size", "SST-2018"),
    )
    network_factor: float = nonnegative(
        2.0,
        "network foster care's share of new placements, times",
        assumed(1.0, 3.0, "the source reports more network care, no size", "SST-2018"),
    )
    institution_factor: float = nonnegative(
        0.5,
        "institution share of new placements, times; the rest goes to family care",
        assumed(
            0.25,
            1.0,
            "much lower institution shares in Herning and Hvidovre, none in Haderslev (low already); no size",
            "SST-2018",
            "KORA-2015",
        ),
    )
    school_daycare_reporting: float = positive(
        1.2,
        "multiplier on reports from schools and daycare",
        assumed(
            1.0, 1.5, "closer cooperation with teachers and pedagogues supported earlier detection, no size", "SST-2018"
        ),
    )
    health_visitor_reporting: float = positive(
        1.2,
        "multiplier on health services' reports on children 0-5, the ages health visitors (sundhedsplejersker) see",
        assumed(
            1.0,
            1.5,
            "closer cooperation with health visitors supported earlier detection, no size; as for schools and daycare",
            "SST-2018",
        ),
    )
    followup_months: float = positive_duration(
        3.0,
        "months between follow-ups",
        published(2.0, 6.0, "Herning's team followed up every 3 months; the law's minimum is every 6", "KORA-2015"),
    )
    caseload: float = cases(
        24.0,
        "cases per caseworker the staffing aims at",
        published(
            20.0,
            30.0,
            "Herning's team held ≈24 cases against ≈48; the association advises 20-30",
            "KORA-2015",
            "DS-2023",
        ),
    )
    in_home_effect_gain: float = nonnegative(
        0.25,
        "extra effect of § 11 and § 52 measures, as a share of their effect",
        assumed(0.0, 0.5, "'qualified' measures and fewer placed after home-based help; no effect size", "SST-2018"),
    )
    review_noise_factor: float = nonnegative(
        0.85,
        "follow-up reviews' error relative to baseline: closer contact, better-informed reviews",
        assumed(0.7, 1.0, "more frequent follow-up, no figure for its quality", "SST-2018"),
    )
    baseline_caseload: float = cases(
        30.0,
        "cases per caseworker without the policy: staff grows by baseline_caseload / caseload",
        BASELINE_CASELOAD,
    )
    breakdown_reduction: float = share(
        0.1,
        "relative reduction of placement breakdowns: closer follow-up of the placed child",
        assumed(
            0.0, 0.3, "fewer placements broke down in Herning's team, no figure; -10% as a planning size", "KORA-2015"
        ),
    )


def shift_placements(shares: list[float], network_factor: float, institution_factor: float) -> list[float]:
    """Placement-type shares with more network care and fewer institutions; still summing to 1. Computed as
    moves between types, so factors of 1 return the shares unchanged, to the last bit."""
    out = list(shares)
    freed = out[INSTITUTION] * (1.0 - institution_factor)  # institution -> family care
    to_network = min(out[NETWORK] * (network_factor - 1.0), out[FOSTER] + freed)  # foster family -> network
    out[INSTITUTION] -= freed
    out[NETWORK] += to_network
    out[FOSTER] += freed - to_network
    return out


@register
class EarlyPrevention(Policy):
    name = "early_prevention"
    Config = EarlyPreventionConfig

    def adjust(self, world: WorldConfig) -> WorldConfig:
        c: EarlyPreventionConfig = self.cfg
        out = copy.deepcopy(world)
        d = out.agency.decision
        d.placement_threshold += c.placement_shift
        d.preventive_threshold -= c.preventive_shift
        d.home_based_threshold -= c.preventive_shift
        for band in ("placement_type_0_5", "placement_type_6_11", "placement_type_12_17"):
            setattr(d, band, shift_placements(getattr(d, band), c.network_factor, c.institution_factor))
        rates = out.reports.rates_per_1000
        rates.school = [r * c.school_daycare_reporting for r in rates.school]
        rates.daycare = [r * c.school_daycare_reporting for r in rates.daycare]
        rates.health = [rates.health[0] * c.health_visitor_reporting, *rates.health[1:]]
        out.agency.followup.interval_months = c.followup_months
        out.agency.followup.review_noise_sd *= c.review_noise_factor
        cw = out.agency.caseworkers
        cw.per_1000_children *= c.baseline_caseload / c.caseload
        return out

    @classmethod
    def neutral(cls) -> EarlyPreventionConfig:
        return EarlyPreventionConfig(
            placement_shift=0.0,
            preventive_shift=0.0,
            network_factor=1.0,
            institution_factor=1.0,
            school_daycare_reporting=1.0,
            health_visitor_reporting=1.0,
            followup_months=6.0,
            caseload=30.0,
            baseline_caseload=30.0,
            in_home_effect_gain=0.0,
            review_noise_factor=1.0,
            breakdown_reduction=0.0,
        )

    def measure_gain(self, case: Case, involved: bool) -> float:
        return 1.0 + self.cfg.in_home_effect_gain if case.measure in IN_HOME else 1.0

    def breakdown_rate(self, case: Case, rate: float) -> float:
        return rate * (1.0 - self.cfg.breakdown_reduction)
