"""The free-municipality experiment (VIVE-2019: Gladsaxe, Guldborgsund, Ikast-Brande, 2016-20).

Exempt from the mandatory § 50 investigation before a measure, the municipalities replaced it with a short
assessment, gave each caseworker fewer cases, and followed up much more often; the midterm evaluation found
faster decisions and a shorter time from decision to measure ("more than halved" in Ikast-Brande, HF-2019).

In the model the policy only changes parameters: the § 50 step becomes an assessment of
``assessment_months`` (planning assumption: 1.5 months) that sees ``assessment_hidden_revealed`` of the hidden
adversity a full investigation sees (an assumed accuracy cost) and is not held to, or reported against, the
4-month limit of an investigation it replaces; caseworkers are added until the nominal caseload is
``caseload`` (24, as in Herning's team: KORA-2015; no free-municipality figure was found), follow-ups are due
every ``followup_months`` (3), measures start after ``start_delay_factor`` of the usual delay (an
assumption: "shorter", no figure), and ``involvement_reduction`` of the decisions that would not have involved the
child enough do (an assumption: caseworkers judged children and families far more involved, no figure).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from sim.config.evidence import assumed
from sim.config.fields import caseload as cases
from sim.config.fields import flag, nonnegative, positive_duration, share
from sim.config.schema import WorldConfig
from sim.hooks import Policy, PolicyConfig
from sim.policies.base import BASELINE_CASELOAD, register


@dataclass
class FreeMunicipalityConfig(PolicyConfig):
    """Exemption from § 50, fewer cases per caseworker, frequent follow-up (VIVE-2019)."""

    assessment_months: float = positive_duration(
        1.5,
        "median months of the assessment that replaces the § 50 investigation",
        assumed(
            1.0,
            3.0,
            "planning assumption; the report-to-decision time 'more than halved' (HF-2019) bounds it above",
            "VIVE-2019",
            "HF-2019",
        ),
    )
    assessment_start_days: float = nonnegative(
        7.0, "median days before the assessment starts", assumed(3.0, 14.0, "no figure; the baseline's § 50 waits 14")
    )
    caseload: float = cases(
        24.0,
        "cases per caseworker the staffing aims at",
        assumed(
            20.0,
            30.0,
            "no free-municipality figure ('fewer cases'); Herning's team held ≈24, and the social workers' "
            "association advises 20-30",
            "VIVE-2019",
            "KORA-2015",
            "DS-2023",
        ),
    )
    assessment_hidden_revealed: float = share(
        0.5,
        "share of the hidden adversity the short assessment reveals (a full investigation: "
        "world.agency.investigation.hidden_revealed)",
        assumed(0.25, 1.0, "a shorter look sees less; the evaluation has no figure for what it misses", "VIVE-2019"),
    )
    exempt: bool = flag(
        True,
        "the assessment replaces the § 50 investigation: it is not held to, or reported against, the 4-month limit",
    )
    baseline_caseload: float = cases(
        30.0,
        "cases per caseworker without the policy: staff grows by baseline_caseload / caseload",
        BASELINE_CASELOAD,
    )
    followup_months: float = positive_duration(
        3.0,
        "months between follow-ups",
        assumed(
            1.0, 6.0, "planning assumption; the source says 'much more often' than the six-monthly rule", "VIVE-2019"
        ),
    )
    start_delay_factor: float = nonnegative(
        0.5,
        "decision-to-measure delay relative to baseline",
        assumed(0.3, 1.0, "the source says 'shorter', no figure", "VIVE-2019"),
    )
    review_noise_factor: float = nonnegative(
        0.7,
        "follow-up reviews' error relative to baseline: more dialogue with the family",
        assumed(0.5, 1.0, "the source reports more dialogue with families, no figure", "VIVE-2019"),
    )
    involvement_reduction: float = share(
        0.3,
        "relative reduction of decisions without sufficient involvement of the child",
        assumed(
            0.0,
            0.6,
            "caseworkers judge children and families involved 'in far higher degree' than before (time moved from "
            "documentation to dialogue); no figure",
            "VIVE-2019",
        ),
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
            involvement_reduction=0.0,
            assessment_hidden_revealed=base.investigation.hidden_revealed,
            exempt=False,
        )

    def adjust(self, world: WorldConfig) -> WorldConfig:
        c: FreeMunicipalityConfig = self.cfg
        out = copy.deepcopy(world)
        inv = out.agency.investigation
        inv.median_months = c.assessment_months
        inv.start_delay_days = c.assessment_start_days
        inv.hidden_revealed = c.assessment_hidden_revealed
        inv.legal_limit = inv.legal_limit and not c.exempt
        cw = out.agency.caseworkers
        cw.per_1000_children *= c.baseline_caseload / c.caseload
        cw.involvement = 1.0 - (1.0 - cw.involvement) * (1.0 - c.involvement_reduction)
        out.agency.followup.interval_months = c.followup_months
        out.agency.followup.review_noise_sd *= c.review_noise_factor
        out.agency.decision.start_delay_days *= c.start_delay_factor
        return out
