"""Social workers in daycare institutions (KK-2012: Copenhagen, 2010-12, midterm evaluation 2012).

Social workers visited a number of daycare institutions 1-2 times a month, advising staff and parents and
bridging to the social services. In eight months they registered 334 inquiries about children, most from
families unknown to the social services, and took on 226 (68%); the concerns were parenting (32%), lack of
structure in the family (17%), lack of care (7%), long complex strains (6%), mental illness in the family
(6%), suspected violence or sexual abuse (6%) and other (26%, DERIVED). Most of the 226 were helped by
advice, parenting courses or referral to other services without a case; the rest reached the social
services sooner and more gently. The scheme was extended to the most burdened third of the institutions.

In the model, the most burdened ``share_institutions`` of daycare institutions get a social worker. Each
month, every child 0-5 in them may be the subject of an inquiry, a Poisson event with rate
``inquiries_per_1000`` a year (a population mean, rising with need like reports with ``need_sensitivity``,
scaled by ``visits_per_month`` / 1.5). Each inquiry gets one of the seven concern categories, tilted by need and
by a parent's psychiatric contact so that the published shares hold on average. The social worker takes on
``take_on_share`` of inquiries; of those, the more serious are referred to the agency at once as a daycare
report (``refer_share`` on average) and the rest are resolved by advice or a course: light support that raises
wellbeing by ``support_effect`` a year for ``support_months``. Suspected violence or abuse is always taken on
and referred (professionals' stricter duty to report). A referral is screened as any report
(``referral_weight`` 0), but the case it opens moves faster (its waits times ``referral_speed_factor``) and its
placements break down less often (``referral_breakdown_reduction``): the source's gain was help that came
sooner and more gently, with parents who cooperated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import expit, logit

from sim.calendar import DAYS_PER_MONTH
from sim.config.evidence import assumed, derived, published, setting
from sim.config.fields import count, nonnegative, positive, positive_duration, probability, share
from sim.config.schema import SOURCES
from sim.hooks import Context, Policy, PolicyConfig
from sim.policies.base import register
from sim.world.reports import ReportBatch, _poisson_inverse, capped_exp_mean

CONCERNS: tuple[str, ...] = (
    "parenting",
    "family_structure",
    "lack_of_care",
    "complex_strains",
    "mental_illness",
    "violence_or_abuse",
    "other",
)
#: Published shares of the concerns (KK-2012; "other" is the remainder, DERIVED).
CONCERN_SHARES = np.array([0.32, 0.17, 0.07, 0.06, 0.06, 0.06, 0.26])
SEVERE = np.array([0, 0, 1, 1, 0, 1, 0], dtype=float)  # concerns that go with high need
#: Suspected violence or sexual abuse: professionals' stricter duty to report, so always referred.
VIOLENCE = CONCERNS.index("violence_or_abuse")
MENTAL = CONCERNS.index("mental_illness")
DAYCARE = SOURCES.index("daycare")
NUMBER_OFFSET = 5000  # event numbers of referrals (distinct from the world's report numbers)


@dataclass
class DaycareSocialWorkersConfig(PolicyConfig):
    """Social workers visiting the most burdened daycare institutions (KK-2012)."""

    share_institutions: float = share(
        0.33,
        "share of daycare institutions, most burdened first",
        setting(0.1, 1.0, "the proposal: the most burdened third of the city's institutions", "KK-2012"),
    )
    visits_per_month: float = positive(
        1.5, "visits per institution a month", published(1.0, 2.0, "once or twice a month", "KK-2012")
    )
    institutions_per_worker: float = positive(
        11.2,
        "institutions per social worker",
        derived(11.2, 16.0, "112 institutions for 10 social workers (16 when there were 7)", "KK-2013"),
    )
    inquiries_per_1000: float = nonnegative(
        63.0,
        "inquiries a year per 1,000 children 0-5 in a visited institution at 1.5 visits a month",
        derived(
            50.0,
            80.0,
            "334 inquiries in 8 months at the pilot's ≈ 6,700 children; the children counted are approximate",
            "KK-2012",
        ),
    )
    need_sensitivity: float = nonnegative(
        1.0,
        "log-rate of an inquiry per SD of need (milder than reports)",
        assumed(0.5, 1.5, "staff raise milder worries than reports do; no figure"),
    )
    take_on_share: float = probability(
        0.68,
        "inquiries the social worker takes on",
        published(0.64, 0.72, "226 of 334 (binomial 90% interval)", "KK-2012"),
    )
    refer_share: float = probability(
        0.4,
        "taken-on inquiries referred to the agency as a report",
        assumed(0.2, 0.5, "'most' were resolved without a case at the agency (below a half); no figure", "KK-2012"),
    )
    refer_need_slope: float = nonnegative(
        1.0,
        "logit change of referral per SD of need: serious concerns go on",
        assumed(0.5, 2.0, "no figure"),
    )
    referral_weight: float = nonnegative(
        0.0,
        "added to the screener's judgement of a social worker's referral (0: weighed as any report)",
        setting(0.0, 1.0, "the first version added 0.5; no source supports a higher judgement", "KK-2012"),
    )
    referral_speed_factor: float = nonnegative(
        0.5,
        "waits of a case a referral opened (to its investigation's start, from decision to measure), relative "
        "to the usual",
        assumed(0.25, 1.0, "families reached the agency sooner and help started sooner; no figure", "KK-2012"),
    )
    referral_breakdown_reduction: float = share(
        0.2,
        "relative reduction of the breakdown hazard of a placement in a case a referral opened: parents cooperate more",
        assumed(0.0, 0.4, "parents met the agency through someone they knew and cooperated more; no figure", "KK-2012"),
    )
    support_effect: float = nonnegative(
        0.08, "wellbeing gained a year while advice or a course helps", assumed(0.0, 0.16, "no figure")
    )
    support_months: int = count(6, "months the advice or course helps", assumed(3, 12, "no figure"))
    concern_need_slope: float = nonnegative(
        0.5,
        "log-odds tilt of the severe concerns per SD of need",
        derived(0.25, 0.75, "set so that every concern's share is within 3 points of the pilot's", "KK-2012"),
    )
    concern_mental_boost: float = nonnegative(
        1.0,
        "log-odds tilt of 'mental illness' when a parent had psychiatric contact",
        derived(0.5, 1.5, "set with concern_need_slope to match the pilot's concern shares", "KK-2012"),
    )
    age_limit_years: float = positive_duration(
        6.0,
        "children below this age are in daycare",
        published(6.0, 6.0, "daycare is for children 0-5; they start school in the year they turn 6", "KK-2012"),
    )
    social_worker_cost_dkk: float = nonnegative(
        620_000.0,
        "a social worker a year with overhead",
        assumed(500_000.0, 750_000.0, "as a caseworker (`costs.caseworker`); no published figure"),
    )


@register
class DaycareSocialWorkers(Policy):
    name = "daycare_social_workers"
    Config = DaycareSocialWorkersConfig
    unit_costs: ClassVar[dict[str, str]] = {"social_worker_cost_dkk": "daycare_social_worker"}

    @classmethod
    def neutral(cls) -> DaycareSocialWorkersConfig:
        return DaycareSocialWorkersConfig(
            share_institutions=0.0, referral_weight=0.0, referral_speed_factor=1.0, referral_breakdown_reduction=0.0
        )

    def attach(self, ctx: Context) -> None:
        super().attach(ctx)
        inst = ctx.world.inst
        daycares = inst.daycare_ids()
        k = round(self.cfg.share_institutions * daycares.size)
        ranked = daycares[np.argsort(-inst.burden_rank[daycares], kind="stable")]
        self.institutions = np.sort(ranked[:k])
        self.visited = np.zeros(inst.n, dtype=bool)
        self.visited[self.institutions] = True
        self.social_workers = math.ceil(k / self.cfg.institutions_per_worker) if k else 0
        self.keyed = ctx.streams.keyed("policy", self.name)
        self.log_norm = float(np.log(capped_exp_mean(self.cfg.need_sensitivity, 10.0)))
        self.inquiries = 0
        self.taken_on = 0
        self.referrals: set[tuple[int, int]] = set()  # (child, month) of referrals not yet screened
        self.referral_reports: set[int] = set()  # report ids of the referrals screened

    def on_month(self, month: int) -> ReportBatch | None:
        ctx, c = self.ctx, self.cfg
        assert ctx is not None
        world = ctx.world
        pop = world.pop
        age = (month - pop.child_birth) / 12.0
        eligible = world.present & (age < c.age_limit_years) & self.visited[world.inst.child_daycare]
        u = ctx.streams.monthly("policy", month, 1).random(pop.n_children)  # one per slot, every month
        idx = np.flatnonzero(eligible)
        if idx.size == 0:
            return None
        need = -world.W[idx]
        rate = c.inquiries_per_1000 / 12000.0 * (c.visits_per_month / 1.5)
        lam = rate * np.exp(c.need_sensitivity * need - self.log_norm)
        count = _poisson_inverse(u[idx], lam)
        idx, need = idx[count > 0], need[count > 0]  # at most one inquiry per child and month counts
        if idx.size == 0:
            return None
        ud = self.keyed.uniforms(idx, month, 0, 0, 5)  # take on, refer, concern, time in month, spare
        concern = self._concerns(idx, need, ud[:, 2])
        violence = concern == VIOLENCE  # taken on and referred, whatever else
        taken = (ud[:, 0] < c.take_on_share) | violence
        refer = (taken & (ud[:, 1] < expit(logit(c.refer_share) + c.refer_need_slope * (need - 1.5)))) | violence
        resolved = taken & ~refer
        time = (month + ud[:, 3]) * DAYS_PER_MONTH
        hh = pop.child_household[idx]
        log = ctx.log
        for i in range(idx.size):
            kind = f"{self.name}:inquiry:{CONCERNS[concern[i]]}"
            outcome = 2.0 if refer[i] else (1.0 if resolved[i] else 0.0)
            log.add(float(time[i]), "policy", int(idx[i]), int(hh[i]), kind=kind, value=outcome, flag=bool(taken[i]))
        self.inquiries += idx.size
        self.taken_on += int(taken.sum())
        if resolved.any():
            world.add_support(idx[resolved], c.support_effect, c.support_months, month)
        referred = idx[refer]
        self.referrals.update((int(child), month) for child in referred)
        return ReportBatch(
            child=referred.astype(np.int64),
            time=time[refer],
            source=np.full(referred.size, DAYCARE, dtype=np.int8),
            sibling_of=np.full(referred.size, -1, dtype=np.int64),
            number=np.full(referred.size, NUMBER_OFFSET, dtype=np.int64),
        )

    def screening(self, report, judgement: float) -> float:
        key = (report.child, report.month)
        if key in self.referrals and report.source == DAYCARE:
            self.referrals.discard(key)
            self.referral_reports.add(report.report_id)
            return judgement + self.cfg.referral_weight
        return judgement

    def delay(self, case, days: float) -> float:
        """A case a referral opened moves faster: the family arrives with the social worker's assessment."""
        return days * self.cfg.referral_speed_factor if case.report_id in self.referral_reports else days

    def breakdown_rate(self, case, rate: float) -> float:
        """Parents who met the agency through the social worker cooperate more: fewer placements break down."""
        if case.report_id in self.referral_reports:
            return rate * (1.0 - self.cfg.referral_breakdown_reduction)
        return rate

    def _concerns(self, idx: np.ndarray, need: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A concern category per inquiry, tilted by need and parental psychiatric contact."""
        c, pop = self.cfg, self.ctx.world.pop
        logits = np.log(CONCERN_SHARES)[None, :] + c.concern_need_slope * (need[:, None] - 1.0) * SEVERE[None, :]
        psych = pop.hh_psychiatric[pop.child_household[idx]]
        logits[:, MENTAL] += np.where(psych, c.concern_mental_boost, -c.concern_mental_boost / 4)
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        cum = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
        return (cum < u[:, None]).sum(axis=1).clip(0, len(CONCERNS) - 1)

    def yearly_costs(self) -> dict[str, float]:
        return {"daycare_social_workers": self.social_workers * self.cfg.social_worker_cost_dkk}

    def results(self) -> dict:
        return {
            "institutions": int(self.institutions.size),
            "social_workers": self.social_workers,
            "inquiries": self.inquiries,
            "taken_on": self.taken_on,
        }
