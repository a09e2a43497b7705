"""The free-municipality experiment (VIVE-2019: Gladsaxe, Guldborgsund, Ikast-Brande, 2016-20).

Exempt from the mandatory § 50 investigation before a measure, the municipalities replaced it with a short
assessment, gave each caseworker fewer cases, and followed up much more often; the midterm evaluation found
faster decisions and a shorter time from decision to measure ("more than halved" in Ikast-Brande, HF-2019).

In the model the policy only changes parameters: the § 50 step becomes an assessment of
``assessment_months`` (planning assumption: 1.5 months), caseworkers are added until the nominal caseload is
``caseload`` (24, as in Herning's team: KORA-2015; no free-municipality figure was found), follow-ups are due
every ``followup_months`` (3), and measures start after ``start_delay_factor`` of the usual delay (an
assumption: "shorter", no figure).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from sim.config.fields import caseload as cases
from sim.config.fields import nonnegative, positive_duration
from sim.config.schema import WorldConfig
from sim.hooks import Policy, PolicyConfig
from sim.policies.base import register


@dataclass
class FreeMunicipalityConfig(PolicyConfig):
    """Exemption from § 50, fewer cases per caseworker, frequent follow-up (VIVE-2019)."""

    assessment_months: float = positive_duration(
        1.5, "median months of the assessment that replaces the § 50 investigation (planning assumption)"
    )
    assessment_start_days: float = nonnegative(7.0, "median days before the assessment starts (assumption)")
    caseload: float = cases(24.0, "cases per caseworker the staffing aims at (Herning 24 vs 48, KORA-2015)")
    baseline_caseload: float = cases(
        30.0, "cases per caseworker without the policy: staff grows by baseline_caseload / caseload (DS-2023: 31-33)"
    )
    followup_months: float = positive_duration(3.0, "months between follow-ups (planning assumption: every 3 months)")
    start_delay_factor: float = nonnegative(0.5, "decision-to-measure delay relative to baseline (assumption)")
    review_noise_factor: float = nonnegative(
        0.7, "follow-up reviews' error relative to baseline: more dialogue with the family (assumption)"
    )


@register
class FreeMunicipality(Policy):
    name = "free_municipality"
    Config = FreeMunicipalityConfig

    @classmethod
    def neutral(cls) -> FreeMunicipalityConfig:
        """The baseline's own § 50, staffing, follow-up and delays."""
        base = WorldConfig().agency
        return FreeMunicipalityConfig(
            assessment_months=base.investigation.median_months,
            assessment_start_days=base.investigation.start_delay_days,
            caseload=30.0,
            baseline_caseload=30.0,
            followup_months=base.followup.interval_months,
            start_delay_factor=1.0,
            review_noise_factor=1.0,
        )

    def adjust(self, world: WorldConfig) -> WorldConfig:
        c: FreeMunicipalityConfig = self.cfg
        out = copy.deepcopy(world)
        inv = out.agency.investigation
        inv.median_months = c.assessment_months
        inv.start_delay_days = c.assessment_start_days
        cw = out.agency.caseworkers
        cw.per_1000_children *= c.baseline_caseload / c.caseload
        out.agency.followup.interval_months = c.followup_months
        out.agency.followup.review_noise_sd *= c.review_noise_factor
        out.agency.decision.start_delay_days *= c.start_delay_factor
        return out
