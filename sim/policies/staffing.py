"""More caseworkers: a municipality hires a share more staff for its children's cases.

Not one of the five source documents, but the lever behind several of them (Herning's team: ≈24 cases per
caseworker against ≈48, KORA-2015; the free municipalities: fewer cases per caseworker, VIVE-2019), and a
question a social committee asks on its own: what do more caseworkers buy? Caseload drives investigation
times, follow-up timeliness and child involvement in the model (``world.agency.caseworkers.*``), and each
caseworker costs ``costs.caseworker`` a year.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from sim.config.evidence import setting
from sim.config.fields import nonnegative
from sim.config.schema import WorldConfig
from sim.hooks import Policy, PolicyConfig
from sim.policies.base import register


@dataclass
class StaffingConfig(PolicyConfig):
    """A share more caseworkers."""

    extra_share: float = nonnegative(
        0.25,
        "extra caseworkers as a share of the current staff",
        setting(
            0.0, 1.0, "how many caseworkers the scenario adds: a choice; Herning's team halved caseloads", "KORA-2015"
        ),
    )


@register
class Staffing(Policy):
    name = "staffing"
    Config = StaffingConfig

    @classmethod
    def neutral(cls) -> StaffingConfig:
        return StaffingConfig(extra_share=0.0)

    def adjust(self, world: WorldConfig) -> WorldConfig:
        out = copy.deepcopy(world)
        out.agency.caseworkers.per_1000_children *= 1.0 + self.cfg.extra_share
        return out
