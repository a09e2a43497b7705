"""Child participation (KORA-2014: Børns Vilkår with three municipalities, evaluated by KORA, 2014-18).

Caseworkers were trained to prepare children for meetings, involve them in the action plan and reflect on
their own practice; in 2011 one case in three had not involved the child enough (Ankestyrelsen). The hope:
better-fitting measures and better effects for the children.

In the model, a share ``trained_share`` of caseworkers is trained (chosen once per caseworker). In their cases:

- the share of decisions without sufficient involvement falls by ``insufficient_reduction`` (planning
  assumption: participation "halves insufficient involvement");
- a decision made with the child sufficiently involved is better informed: the caseworker's error in assessing
  the child's need is ``noise_reduction`` smaller (an assumption: the source names wrong measures among the
  consequences of poor involvement), so fewer children get a measure too light or too heavy for them;
- a measure decided with the child sufficiently involved fits better: its wellbeing effect is multiplied by
  ``1 + effect_gain`` (an assumption: no effect figure was published) and its placement breaks down less
  often, by ``breakdown_reduction`` (planning assumption: breakdowns -10%).

Every decision already logs whether the child was involved and by which caseworker, which is what a survey of
children and caseworkers before and after training reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.config.evidence import assumed, setting
from sim.config.fields import nonnegative, share
from sim.hooks import Context, Policy, PolicyConfig
from sim.policies.base import register

if TYPE_CHECKING:
    from sim.agency.agency import Case


@dataclass
class ChildParticipationConfig(PolicyConfig):
    """Caseworker training in child participation (KORA-2014)."""

    trained_share: float = share(
        1.0,
        "share of caseworkers trained",
        setting(0.0, 1.0, "all, as in a municipality that takes the project on", "KORA-2014"),
    )
    insufficient_reduction: float = share(
        0.5,
        "relative reduction of decisions without sufficient involvement",
        assumed(
            0.25,
            0.75,
            "planning assumption: the training halves the 1 in 3 decisions without sufficient involvement; the "
            "evaluation's before/after figures were not published",
            "KORA-2014",
        ),
    )
    effect_gain: float = nonnegative(
        0.2,
        "extra wellbeing effect of a measure decided with the child, as a share of the measure's effect",
        assumed(0.0, 0.4, "no effect figure was published; from none to twice the default"),
    )
    breakdown_reduction: float = share(
        0.1,
        "relative reduction of breakdowns of placements decided with the child",
        assumed(0.0, 0.2, "planning assumption -10%; no figure was published"),
    )
    noise_reduction: float = share(
        0.2,
        "relative reduction of the caseworker's error in assessing need at a decision made with the child involved",
        assumed(
            0.0,
            0.4,
            "the source names wrong measures among the consequences of poor involvement; no figure: a fifth less "
            "error, from none to twice that",
            "KORA-2014",
        ),
    )


@register
class ChildParticipation(Policy):
    name = "child_participation"
    Config = ChildParticipationConfig

    @classmethod
    def neutral(cls) -> ChildParticipationConfig:
        return ChildParticipationConfig(
            insufficient_reduction=0.0, effect_gain=0.0, breakdown_reduction=0.0, noise_reduction=0.0
        )

    def attach(self, ctx: Context) -> None:
        super().attach(ctx)
        keyed = ctx.streams.keyed("policy", self.name)
        share_ = self.cfg.trained_share
        self.trained = [keyed.uniform(cw, 0, 0, 0) < share_ for cw in range(ctx.agency.pool.n)]

    def _trained(self, case: Case) -> bool:
        return case.caseworker is not None and self.trained[case.caseworker]

    def involvement(self, case: Case, probability: float) -> float:
        if not self._trained(case):
            return probability
        return 1.0 - (1.0 - probability) * (1.0 - self.cfg.insufficient_reduction)

    def measure_gain(self, case: Case, involved: bool) -> float:
        return 1.0 + self.cfg.effect_gain if involved and self._trained(case) else 1.0

    def assessment_noise(self, case: Case, noise_sd: float) -> float:
        return noise_sd * (1.0 - self.cfg.noise_reduction) if case.involved and self._trained(case) else noise_sd

    def breakdown_rate(self, case: Case, rate: float) -> float:
        return rate * (1.0 - self.cfg.breakdown_reduction) if case.involved and self._trained(case) else rate
