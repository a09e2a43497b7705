"""The policy interface: what a policy may change in the world and the agency, and where they call it.

A policy is a typed config, an optional change to the world's parameters, and optional hooks into the world and
the agency; baseline is no policy. The world and the agency call the hooks through :class:`Hooks`; this module
sits below both (it names their types only for type checkers), so they never import a policy. The policies
themselves live in :mod:`sim.policies`.

:class:`Hooks` chains every active policy in name order. Each default leaves the world exactly as it is, so a
policy whose effect parameters are zero gives the same event log as baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from sim.config.evidence import setting
from sim.config.fields import count

if TYPE_CHECKING:
    import simpy

    from sim.agency.agency import Agency, Case
    from sim.config.schema import WorldConfig
    from sim.eventlog import EventLog
    from sim.rng import Streams
    from sim.world.reports import ReportBatch
    from sim.world.world import World


@dataclass
class PolicyConfig:
    """Settings every policy has; a policy's own ``Config`` extends this."""

    start_year: int = count(
        0,
        "calendar year the policy starts (in January); 0: with the observation period (world.start_year); a year "
        "at or before the burn-in's first, e.g. 1: from the first month, burn-in included",
        setting(0, 2040, "when the scenario starts the policy: a choice, not a fact"),
    )


@dataclass
class Context:
    """What a policy may touch while a world runs."""

    env: simpy.Environment
    world: World
    agency: Agency
    streams: Streams
    log: EventLog


class Policy:
    """A policy: override the hooks it needs; every default is 'no change'."""

    name: ClassVar[str] = ""
    Config: ClassVar[type] = object
    #: The policy's own unit costs among its settings: config key -> label key of the report's unit-cost table.
    unit_costs: ClassVar[dict[str, str]] = {}

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.ctx: Context | None = None
        self.active = False  # hooks act only once the policy has started

    def start_month(self, first_year: int, observed_from: int) -> int:
        """The simulation month the policy starts (0: from the beginning), for a world whose burn-in starts in
        ``first_year`` and whose observation period starts in ``observed_from`` (the default start)."""
        start = getattr(self.cfg, "start_year", 0) or observed_from
        return 0 if start <= first_year else 12 * (start - first_year)

    @classmethod
    def neutral(cls) -> Any:
        """Settings under which the policy changes nothing in the world (its effect parameters at zero): a test
        checks that the event log then equals baseline's, apart from the policy's own records."""
        raise NotImplementedError(f"{cls.__name__} must say which settings change nothing")

    # ---------------------------------------------------------------- before the world is built
    def adjust(self, world: WorldConfig) -> WorldConfig:
        """The world's parameters under the policy (return a modified copy; never change ``world``)."""
        return world

    # ---------------------------------------------------------------- while it runs
    def attach(self, ctx: Context) -> None:
        """Called once when the world and agency exist."""
        self.ctx = ctx

    def on_month(self, month: int) -> ReportBatch | None:
        """At every month start, after the world has drawn its reports; may return extra reports."""
        return None

    def screening(self, report: Any, judgement: float) -> float:
        """The screener's judgement of a report (need scale)."""
        return judgement

    def involvement(self, case: Case, probability: float) -> float:
        """Probability that the child is sufficiently involved in a decision."""
        return probability

    def measure_gain(self, case: Case, involved: bool) -> float:
        """Multiplier on the wellbeing effect of the measure this case starts."""
        return 1.0

    def assessment_noise(self, case: Case, noise_sd: float) -> float:
        """SD of the caseworker's error in assessing this case's need at a decision (need scale), once
        ``case.involved`` says whether the child is involved in it."""
        return noise_sd

    def breakdown_rate(self, case: Case, rate: float) -> float:
        """Yearly breakdown hazard of this case's placement."""
        return rate

    def delay(self, case: Case, days: float) -> float:
        """A wait of this case in days: to its investigation's start, and from its decision to its measure."""
        return days

    # ---------------------------------------------------------------- after the run
    def yearly_costs(self) -> dict[str, float]:
        """The policy's own running costs in DKK a year, by item (staff, licences)."""
        return {}

    def results(self) -> dict[str, Any]:
        """Tables or figures the policy reports about itself (e.g. the risk tool's AUC)."""
        return {}


class Hooks:
    """Every active policy's hooks, chained in name order."""

    def __init__(self, policies: list[Policy]) -> None:
        self.policies = sorted(policies, key=lambda p: p.name)

    def __bool__(self) -> bool:
        return bool(self.policies)

    def attach(self, ctx: Context) -> None:
        for p in self.policies:
            p.attach(ctx)

    def _active(self) -> list[Policy]:
        return [p for p in self.policies if p.active]

    def on_month(self, month: int) -> list[ReportBatch]:
        out = []
        for p in self._active():
            batch = p.on_month(month)
            if batch is not None and len(batch):
                out.append(batch)
        return out

    def screening(self, report: Any, judgement: float) -> float:
        for p in self._active():
            judgement = p.screening(report, judgement)
        return judgement

    def involvement(self, case: Case, probability: float) -> float:
        for p in self._active():
            probability = p.involvement(case, probability)
        return probability

    def measure_gain(self, case: Case, involved: bool) -> float:
        gain = 1.0
        for p in self._active():
            gain *= p.measure_gain(case, involved)
        return gain

    def assessment_noise(self, case: Case, noise_sd: float) -> float:
        for p in self._active():
            noise_sd = p.assessment_noise(case, noise_sd)
        return noise_sd

    def breakdown_rate(self, case: Case, rate: float) -> float:
        for p in self._active():
            rate = p.breakdown_rate(case, rate)
        return rate

    def delay(self, case: Case, days: float) -> float:
        for p in self._active():
            days = p.delay(case, days)
        return days
