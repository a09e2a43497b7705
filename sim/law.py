"""The two legal regimes a simulated municipality can work under, and the legal basis of each step of a case.

Danish child protection ran under the Social Services Act (*serviceloven*, SEL) until 31 December 2023 and runs
under the Children's Act (*barnets lov*, BL; LBK nr 282 af 17/03/2025) since 1 January 2024. The five source
documents evaluated reforms under SEL; a municipality today works under BL. ``world.law`` chooses the regime.

Each step the model simulates has a stable identifier (the event log's ``event`` and ``kind`` values never change
with the regime, so code and tables read the same) and, under each regime, the section of the law it rests on and
its name in Danish and English: :data:`REGIMES`. Every section here was checked against the law's text or the
ministry's guidance; ``docs/sources.md`` (``BL-2025``, ``SEL-2023``, ``VEJ-9471``) lists where.

What differs between the regimes in the model's rules is said where the rule lives (``sim.agency``); what is the
same under both, and the model keeps:

- a report of concern is assessed within 24 hours (SEL § 155; BL § 136);
- a child investigation (SEL § 50; BL § 20) must be finished within 4 months of the municipality becoming aware
  that the child may need support (SEL § 50; BL § 20 stk. 3), not of the investigation's start;
- a placement, with or without consent, needs a finished investigation, or one running alongside an acute
  placement (SEL § 52 stk. 2; BL § 46 stk. 3, § 47 stk. 2).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.config.schema import PLACEMENT_TYPES

#: The steps of a case that rest on a section of the law, in the order a case meets them.
STEPS = (
    "assessment_24h",
    "screening",
    "afdaekning",
    "investigation",
    "preventive",
    "home_based",
    "placement_with_consent",
    "placement_without_consent",
    "committee",
    "chair_decision",
    "followup",
    "complaint",
    "aftercare",
)


#: Which step a measure type is (placements: with consent until consent is modelled).
MEASURE_STEPS: dict[str, str] = {
    "preventive": "preventive",
    "home_based": "home_based",
    **dict.fromkeys(PLACEMENT_TYPES, "placement_with_consent"),
}
#: Event types whose step does not depend on their kind.
EVENT_STEPS: dict[str, str] = {
    "screening": "assessment_24h",
    "investigation_start": "investigation",
    "investigation_end": "investigation",
    "followup": "followup",
}
#: Event types whose kind is the measure decided or started.
MEASURE_EVENTS = ("decision", "escalation", "measure_start")


def step_of(event: str, kind: str | None) -> str | None:
    """The step of :data:`STEPS` an event of the log is taken under (``None``: an event without a legal basis,
    such as a birth, a report or a decision of no measure)."""
    if event in MEASURE_EVENTS:
        return MEASURE_STEPS.get(kind or "")
    return EVENT_STEPS.get(event)


@dataclass(frozen=True)
class Basis:
    """A step's legal basis under one regime: the section (``""`` where the regime has no such step) and the
    step's name in Danish and English."""

    section: str
    da: str
    en: str


@dataclass(frozen=True)
class Regime:
    """One legal regime: its identifier (``world.law``), its name, the years it is in force (``until`` inclusive,
    ``None``: still in force) and the basis of every step in :data:`STEPS`."""

    name: str
    da: str
    en: str
    since: int
    until: int | None
    steps: dict[str, Basis]

    def basis(self, step: str) -> Basis:
        return self.steps[step]

    def cite(self, step: str) -> str:
        """The step's section with the law's abbreviation, e.g. ``BL § 20``; ``""`` if the regime has no such step."""
        section = self.steps[step].section
        return f"{self.abbreviation} {section}" if section else ""

    @property
    def abbreviation(self) -> str:
        return "BL" if self.name == "barnets_lov" else "SEL"

    def basis_of(self, event: str, kind: str | None) -> str | None:
        """The legal basis an event of the log cites under this regime (``BL § 20``), or ``None``."""
        step = step_of(event, kind)
        return self.cite(step) or None if step is not None else None

    def citations(self) -> list[str]:
        """Every citation :meth:`basis_of` can return, in the order of :data:`STEPS`."""
        return [c for c in dict.fromkeys(self.cite(s) for s in STEPS) if c]

    def in_force(self, year: int) -> bool:
        return self.since <= year and (self.until is None or year <= self.until)


BARNETS_LOV = Regime(
    name="barnets_lov",
    da="barnets lov",
    en="the Children's Act (barnets lov)",
    since=2024,
    until=None,
    steps={
        "assessment_24h": Basis(
            "§ 136", "vurdering af underretning inden 24 timer", "assessment of a report within 24 hours"
        ),
        "screening": Basis("§ 18", "screening", "screening of the child's need"),
        "afdaekning": Basis("§ 19", "afdækning", "clarification of one or more matters"),
        "investigation": Basis("§ 20", "børnefaglig undersøgelse", "child investigation"),
        "preventive": Basis("§ 30", "tidligt forebyggende indsats", "early preventive support"),
        "home_based": Basis("§ 32", "støttende indsats", "supportive measure at home"),
        "placement_with_consent": Basis("§ 46", "anbringelse med samtykke", "placement with consent"),
        "placement_without_consent": Basis("§ 47", "anbringelse uden samtykke", "placement without consent"),
        "committee": Basis("§ 142", "børne- og ungeudvalget", "the children and young people's committee"),
        "chair_decision": Basis(
            "§ 143", "foreløbig afgørelse (formandsafgørelse)", "provisional decision by the chair"
        ),
        "followup": Basis("§ 95", "opfølgning", "follow-up"),
        "complaint": Basis("§§ 144-150", "klage til Ankestyrelsen", "complaint to the National Social Appeals Board"),
        "aftercare": Basis("§§ 111-121", "ungestøtte", "support for young people aged 18-22"),
    },
)

SERVICELOVEN = Regime(
    name="serviceloven",
    da="serviceloven",
    en="the Social Services Act (serviceloven)",
    since=1998,
    until=2023,
    steps={
        "assessment_24h": Basis(
            "§ 155", "vurdering af underretning inden 24 timer", "assessment of a report within 24 hours"
        ),
        "screening": Basis("", "", ""),
        "afdaekning": Basis("", "", ""),
        "investigation": Basis("§ 50", "børnefaglig undersøgelse", "child investigation"),
        "preventive": Basis("§ 11", "forebyggende indsats", "preventive measure"),
        "home_based": Basis("§ 52, stk. 3", "foranstaltning i hjemmet", "measure at home"),
        "placement_with_consent": Basis("§ 52, stk. 3, nr. 7", "anbringelse med samtykke", "placement with consent"),
        "placement_without_consent": Basis("§ 58", "anbringelse uden samtykke", "placement without consent"),
        "committee": Basis("§ 74", "børn og unge-udvalget", "the children and young people's committee"),
        "chair_decision": Basis("§ 75", "foreløbig afgørelse (formandsafgørelse)", "provisional decision by the chair"),
        "followup": Basis("§ 70", "opfølgning", "follow-up"),
        "complaint": Basis("§§ 167-168", "klage til Ankestyrelsen", "complaint to the National Social Appeals Board"),
        "aftercare": Basis("§ 76", "efterværn", "aftercare for young people aged 18-22"),
    },
)

#: ``world.law`` value -> regime.
REGIMES: dict[str, Regime] = {r.name: r for r in (BARNETS_LOV, SERVICELOVEN)}


def regime_of_year(year: int) -> Regime:
    """The regime in force in a calendar year (SEL up to 2023, BL from 2024)."""
    return BARNETS_LOV if year >= BARNETS_LOV.since else SERVICELOVEN
