"""The municipal agency as SimPy processes: every report is screened, some open a case, and each open case is
one process that runs investigation, decision, measure, follow-ups, escalation and closure.

Time is in days. Randomness: each report carries a block of keyed uniforms addressed by (child, month,
report number), and everything after the first decision of a case draws from uniforms addressed by
(child, case number, step, purpose), so nothing here depends on the order in which SimPy happens to run
processes, and a policy that changes one case leaves every other case's draws alone.

The judgement scales (higher = more need) and thresholds are in :mod:`sim.agency.decisions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.agency import decisions as dec
from sim.agency.caseworkers import CaseworkerPool
from sim.calendar import DAYS_PER_MONTH, DAYS_PER_YEAR
from sim.config.schema import MEASURE_TYPES, SOURCES, WorldConfig
from sim.eventlog import EventLog
from sim.hooks import Hooks
from sim.rng import Streams
from sim.world.reports import ReportBatch
from sim.world.world import World

# Layout of a report's block of intake uniforms.
(
    U_SCREEN_TIME,
    U_SCREEN_NOISE,
    U_ADVICE,
    U_INV_DELAY,
    U_INV_TIME,
    U_DECISION,
    U_PLACEMENT,
    U_START,
    U_INVOLVED,
    U_ACUTE_TYPE,
) = range(10)
N_INTAKE = 10

# Purposes of case-level keyed draws: a follow-up step's block (timing, breakdown, review, new placement
# type), the child-involvement draw of a decision taken at that step, and the investigation a placement at that
# step needs first (its duration, the decision's assessment, the placement type, the involvement).
P_STEP, P_INVOLVED, P_ESCALATION = 1, 2, 3


class _Left(Exception):
    """The child left the municipality or turned 18: the case ends."""


@dataclass
class Case:
    """One open child-protection case."""

    case_id: int
    child: int
    household: int
    seq: int  # the child's case number (0 for its first case), part of every keyed draw's address
    origin: str  # investigation, acute, preventive
    report_id: int
    aware: float  # when the municipality became aware of the need: the opening report's arrival (days)
    caseworker: int | None = None
    measure: int = dec.NONE
    measure_start: float = math.nan
    investigated: bool = False  # a § 50 investigation has revealed the hidden household part
    involved: bool = False  # the child was sufficiently involved in the latest decision
    reviewable: bool = False
    review_requested: bool = False
    left: bool = False
    waiting: bool = False
    process: simpy.Process | None = field(default=None, repr=False)


class _Report:
    """A report between arrival and screening."""

    __slots__ = (
        "arrival",
        "child",
        "hours",
        "household",
        "month",
        "months_since_last",
        "open_case",
        "prior_child",
        "prior_household",
        "prior_measure",
        "report_id",
        "sibling_of",
        "source",
        "u",
    )

    def __init__(self, month: int, child: int, arrival: float, source: int, sibling_of: int, u: list[float]) -> None:
        self.month = month
        self.child = child
        self.arrival = arrival
        self.source = source
        self.sibling_of = sibling_of
        self.u = u  # the report's block of intake uniforms (U_* positions)

    def arrive(self, agency: Agency):
        return lambda _event: agency._arrive(self)

    def screen(self, agency: Agency):
        return lambda _event: agency._screen(self)


class Agency:
    """Screening, cases and the caseworker pool of one municipality."""

    def __init__(self, env: simpy.Environment, world: World, cfg: WorldConfig, streams: Streams, log: EventLog) -> None:
        self.env = env
        self.world = world
        self.cfg = cfg
        self.ac = cfg.agency
        self.log = log
        cw = self.ac.caseworkers
        self.pool = CaseworkerPool(env, max(1, round(cfg.children * cw.per_1000_children / 1000)), cw.max_caseload)
        self.intake = streams.keyed("intake")
        self.case_rng = streams.keyed("cases")
        self.cases: dict[int, Case] = {}
        self.next_case = 0
        self.case_count = np.zeros(world.pop.n_children, dtype=np.int32)
        self.open_investigations = 0
        self.hooks = Hooks([])
        # What intake knew when each report arrived, and what screening decided (for the reports table).
        self.arrivals: list[tuple] = []
        self.screenings: list[tuple] = []
        self.placement_starts: list[tuple[int, float]] = []  # (child, day) of every placement that starts

    def reconfigure(self, cfg: WorldConfig) -> None:
        """Take new parameters mid-run (a policy starting): thresholds, durations and staffing."""
        self.cfg = cfg
        self.ac = cfg.agency
        cw = self.ac.caseworkers
        self.pool.grow(max(1, round(cfg.children * cw.per_1000_children / 1000)), cw.max_caseload)

    # ------------------------------------------------------------------ reports
    def receive(self, month: int, batch: ReportBatch) -> None:
        """Schedule the arrival and screening of every report of the month.

        A report's life is two fixed delays, so it is two timeout callbacks rather than a process (a third
        of the cost)."""
        if len(batch) == 0:
            return
        blocks = self.intake.uniforms(batch.child, month, batch.number, 0, N_INTAKE)
        now = self.env.now
        for child, time, source, sibling_of, u in zip(
            batch.child.tolist(),
            batch.time.tolist(),
            batch.source.tolist(),
            batch.sibling_of.tolist(),
            blocks,
            strict=True,
        ):
            report = _Report(month, child, time, source, sibling_of, u)
            self.env.timeout(max(time - now, 0.0)).callbacks.append(report.arrive(self))

    def _arrive(self, r: _Report) -> None:
        env, w, s = self.env, self.world, self.ac.screening
        r.household = hh = int(w.pop.child_household[r.child])
        r.prior_child = int(w.prior_reports[r.child])
        r.prior_household = int(w.household_reports[hh]) - r.prior_child
        r.prior_measure = bool(w.ever_measure[r.child])
        r.open_case = r.child in self.cases
        last = w.last_report_time[r.child]
        r.months_since_last = (env.now - last) / DAYS_PER_MONTH  # NaN for a first report
        r.report_id = w.register_report(r.child, r.month, env.now)
        self.arrivals.append(
            (
                r.report_id,
                r.source,
                r.sibling_of,
                r.prior_child,
                r.prior_household,
                r.prior_measure,
                r.open_case,
                r.months_since_last,
            )
        )
        self.log.add(env.now, "report", r.child, hh, report=r.report_id, kind=SOURCES[r.source], flag=r.sibling_of >= 0)
        r.hours = dec.lognormal(s.median_hours, s.sigma, r.u[U_SCREEN_TIME])
        env.timeout(r.hours / 24.0).callbacks.append(r.screen(self))

    def _screen(self, r: _Report) -> None:
        env, w, s = self.env, self.world, self.ac.screening
        child, hh, u = r.child, r.household, r.u
        judgement = (
            s.need_weight * -w.W[child]
            + s.recorded_weight * w.pop.hh_recorded_risk[hh]
            + s.history_weight * math.log1p(r.prior_child)
            + s.noise_sd * dec.quantile(u[U_SCREEN_NOISE])
        )
        own = judgement
        if self.hooks:
            judgement = self.hooks.screening(r, judgement)
        case = self.cases.get(child)
        if case is not None:
            triage = dec.OPEN_CASE
            if judgement >= s.investigation_threshold:  # would have opened an investigation on its own
                self._notify(case, review=True)
        else:
            # A policy (a risk score, a social worker's referral) informs the triage below the acute bar: an
            # emergency placement is decided on what the screener sees, never talked into or out of.
            offset = dec.placement_offset(self.ac.decision, self._age(child))
            if own >= s.acute_threshold + offset:
                triage = dec.ACUTE
            else:
                triage = min(dec.triage(judgement, s, offset), dec.INVESTIGATION)
        rid = r.report_id
        self.log.add(
            env.now, "screening", child, hh, report=rid, kind=dec.TRIAGE[triage], value=r.hours, flag=r.hours <= 24.0
        )
        self.screenings.append((rid, r.hours, triage, judgement))
        if not w.present[child] or triage == dec.OPEN_CASE:
            return
        if triage == dec.ACUTE:
            self._open(child, hh, "acute", rid, u, r.arrival)
        elif triage == dec.INVESTIGATION:
            self._open(child, hh, "investigation", rid, u, r.arrival)
        elif triage == dec.ADVICE and u[U_ADVICE] < s.advice_to_preventive:
            self._open(child, hh, "preventive", rid, u, r.arrival)

    # ------------------------------------------------------------------ cases
    def _open(self, child: int, hh: int, origin: str, rid: int, u: list[float], aware: float) -> None:
        case = Case(self.next_case, child, hh, int(self.case_count[child]), origin, rid, aware)
        self.next_case += 1
        self.case_count[child] += 1
        self.cases[child] = case
        self.log.add(self.env.now, "case_open", child, hh, report=rid, case=case.case_id, kind=origin)
        case.process = self.env.process(self._case(case, u))

    def _notify(self, case: Case, review: bool = False, leave: bool = False) -> None:
        """Tell a case that its child left or that a new report asks for a review. The process is woken only
        when it can act on it now; otherwise it sees the flag when its current wait ends."""
        case.review_requested |= review
        case.left |= leave
        act = leave or (review and case.reviewable)
        if act and case.waiting and case.process is not None and case.process.is_alive:
            case.process.interrupt()

    def on_leave(self, children: np.ndarray) -> None:
        """Children who turned 18 or moved away: their cases end."""
        for child in children.tolist():
            case = self.cases.get(child)
            if case is not None:
                self._notify(case, leave=True)

    def _sleep(self, case: Case, delay: float):
        """Wait ``delay`` days; returns True early if a review was requested while the case is reviewable."""
        end = self.env.now + delay
        while True:
            if case.left:
                raise _Left
            if case.review_requested and case.reviewable:
                case.review_requested = False
                return True
            remaining = end - self.env.now
            if remaining <= 1e-12:
                return False
            case.waiting = True
            try:
                yield self.env.timeout(remaining)
            except simpy.Interrupt:
                pass
            finally:
                case.waiting = False

    def _caseworker(self, case: Case):
        """Wait for a caseworker with room."""
        req = self.pool.request(self._sibling_caseworker(case))
        while not req.processed:
            if case.left:
                if req.triggered:
                    self.pool.release(req.value)
                else:
                    self.pool.cancel(req)
                raise _Left
            case.waiting = True
            try:
                yield req
            except simpy.Interrupt:
                pass
            finally:
                case.waiting = False
        case.caseworker = req.value

    def _sibling_caseworker(self, case: Case) -> int | None:
        pop = self.world.pop
        first = int(pop.hh_first_child[case.household])
        for sib in range(first, first + int(pop.hh_n_children[case.household])):
            other = self.cases.get(sib)
            if sib != case.child and other is not None and other.caseworker is not None:
                return other.caseworker
        return None

    def _workload(self, case: Case) -> float:
        cw = self.ac.caseworkers
        if case.caseworker is None:
            return 1.0
        return self.pool.workload(case.caseworker, cw.nominal_caseload) ** cw.workload_elasticity

    def _assess(self, case: Case, noise_sd: float, u: float) -> float:
        """Assessed need at a decision or review: the child's current state and long-run prospects. The
        hidden household part of the prospects is seen only after a § 50 investigation, and then only the
        share ``investigation.hidden_revealed`` of it."""
        w, d = self.world, self.ac.decision
        revealed = self.ac.investigation.hidden_revealed if case.investigated else 0.0
        child = case.child
        seen_level = w.pop.child_level[child] - (1.0 - revealed) * w.pop.child_hidden_level[child]
        state = d.current_weight * w.W[child] + (1.0 - d.current_weight) * seen_level
        return float(-state + noise_sd * dec.quantile(u))

    def _decision_noise(self, case: Case, noise_sd: float) -> float:
        """The assessment error's SD at this decision, after the policies (``case.involved`` is drawn)."""
        return self.hooks.assessment_noise(case, noise_sd) if self.hooks else noise_sd

    def _involved(self, case: Case, u: float) -> bool:
        """Is the child sufficiently involved in this decision? Less likely when the caseworker is overloaded."""
        cw = self.ac.caseworkers
        load = 1.0 if case.caseworker is None else self.pool.workload(case.caseworker, cw.nominal_caseload)
        p = dec.involvement_probability(cw.involvement, cw.involvement_workload_slope, load)
        if self.hooks:
            p = self.hooks.involvement(case, p)
        case.involved = u < p
        return case.involved

    def _age(self, child: int) -> float:
        return (self.env.now / DAYS_PER_MONTH - self.world.pop.child_birth[child]) / 12.0

    def _keyed(self, case: Case, step: int, purpose: int) -> tuple[float, float, float, float]:
        return self.case_rng.block(case.child, case.seq, step, purpose)

    def _start_measure(self, case: Case, measure: int, kind: str | None = None) -> None:
        case.measure = measure
        case.measure_start = self.env.now
        if dec.level_of(measure) == dec.LEVEL_PLACED:
            self.placement_starts.append((case.child, self.env.now))
        gain = self.hooks.measure_gain(case, case.involved) if self.hooks else 1.0
        self.world.set_measure(case.child, measure, gain)
        self.log.add(
            self.env.now,
            "measure_start",
            case.child,
            case.household,
            case=case.case_id,
            caseworker=case.caseworker,
            kind=MEASURE_TYPES[measure],
            flag=kind == "acute",
        )

    def _end_measure(self, case: Case, reason: str) -> None:
        if case.measure == dec.NONE:
            return
        days = self.env.now - case.measure_start
        self.log.add(
            self.env.now,
            "measure_end",
            case.child,
            case.household,
            case=case.case_id,
            caseworker=case.caseworker,
            kind=reason,
            value=days,
        )
        case.measure = dec.NONE
        self.world.set_measure(case.child, dec.NONE)

    def _decide(self, case: Case, assessed: float, u_type: float, involved: bool, *, investigated: bool) -> int:
        """Log a decision and return the measure code decided (-1: none)."""
        level = dec.level_for(assessed, self.ac.decision, self._age(case.child))
        if case.origin == "preventive" and not investigated:
            level = dec.LEVEL_PREVENTIVE  # without § 50 only a § 11 preventive measure is possible
        measure = dec.measure_for_level(level, self._age(case.child), u_type, self.ac.decision)
        if level == dec.LEVEL_PLACED and dec.level_of(case.measure) == dec.LEVEL_PLACED:
            measure = case.measure  # an acute placement continues where it is
        case.review_requested = False  # what a report during the investigation said is in this decision
        self.log.add(
            self.env.now,
            "decision",
            case.child,
            case.household,
            case=case.case_id,
            caseworker=case.caseworker,
            kind=MEASURE_TYPES[measure] if measure >= 0 else "none",
            value=assessed,
            flag=involved,
        )
        return measure

    def _case(self, case: Case, u: list[float]):
        ac = self.ac
        try:
            if case.origin == "acute":
                self._start_measure(
                    case, dec.placement_type(self._age(case.child), u[U_ACUTE_TYPE], ac.decision), "acute"
                )
            yield from self._caseworker(case)
            investigated = case.origin != "preventive"
            if investigated:
                inv = ac.investigation
                if case.origin == "investigation":
                    wait = dec.lognormal(inv.start_delay_days, inv.start_delay_sigma, u[U_INV_DELAY])
                    yield from self._sleep(case, self.hooks.delay(case, wait) if self.hooks else wait)
                yield from self._investigate(case, case.origin, case.aware, u[U_INV_TIME])
            involved = self._involved(case, u[U_INVOLVED])
            noise = inv.decision_noise_sd if investigated else ac.screening.noise_sd
            assessed = self._assess(case, self._decision_noise(case, noise), u[U_DECISION])
            measure = self._decide(case, assessed, u[U_PLACEMENT], involved, investigated=investigated)
            if measure == dec.NONE:  # no measure: an acute placement ends and the case closes
                self._end_measure(case, "decision")
                raise _Closed
            if measure != case.measure:
                self._end_measure(case, "decision")
                d = ac.decision
                wait = dec.lognormal(d.start_delay_days, d.start_delay_sigma, u[U_START])
                yield from self._sleep(case, self.hooks.delay(case, wait) if self.hooks else wait)
                self._start_measure(case, measure)
            yield from self._follow(case)
        except _Left:
            self._close(case, "left")
        except _Closed:
            self._close(case, "closed")

    def _investigate(self, case: Case, kind: str, aware: float, u_time: float):
        """A child investigation (SEL § 50; BL § 20) from now: its duration, lengthened by the caseworker's workload,
        and its end. Its flag says whether it ended within the legal limit counted, as both acts count it, from
        ``aware``, when the municipality became aware of the need; the event's value is its own length."""
        inv, env = self.ac.investigation, self.env
        start = env.now
        self.open_investigations += 1
        report = case.report_id if kind != "escalation" else None
        self.log.add(
            env.now,
            "investigation_start",
            case.child,
            case.household,
            report=report,
            case=case.case_id,
            caseworker=case.caseworker,
            kind=kind,
        )
        months = dec.lognormal(inv.median_months, inv.sigma, u_time) * self._workload(case)
        try:
            yield from self._sleep(case, months * DAYS_PER_MONTH)
        finally:
            self.open_investigations -= 1
            self.log.add(
                env.now,
                "investigation_end",
                case.child,
                case.household,
                report=report,
                case=case.case_id,
                caseworker=case.caseworker,
                kind="left" if case.left else "completed",
                value=(env.now - start) / DAYS_PER_MONTH,
                flag=(env.now - aware) / DAYS_PER_MONTH <= inv.limit_months
                if self.ac.investigation.legal_limit
                else None,
            )
        case.investigated = True

    def _escalate_to_placement(self, case: Case, step: int):
        """A follow-up found that the child may need a placement. Neither act allows one without a child
        investigation (SEL § 52 stk. 2; BL § 46 stk. 3, § 47 stk. 2), so one runs first, its clock starting now,
        while the measure at home goes on; the decision after it is taken as after any investigation. Returns the
        level decided (a placement has started if it is ``LEVEL_PLACED``)."""
        d, inv = self.ac.decision, self.ac.investigation
        u_time, u_decision, u_type, u_involved = self._keyed(case, step, P_ESCALATION)
        case.reviewable = False  # a report during the investigation is taken into its decision
        try:
            yield from self._investigate(case, "escalation", self.env.now, u_time)
        finally:
            case.reviewable = True
        last_decision_involved = case.involved
        involved = self._involved(case, u_involved)
        assessed = self._assess(case, self._decision_noise(case, inv.decision_noise_sd), u_decision)
        level = dec.level_for(assessed, d, self._age(case.child))
        case.review_requested = False
        if level != dec.LEVEL_PLACED:  # no new decision: the child's involvement in the last one stands
            case.involved = last_decision_involved
            return level
        measure = dec.measure_for_level(level, self._age(case.child), u_type, d)
        self.log.add(
            self.env.now,
            "escalation",
            case.child,
            case.household,
            case=case.case_id,
            caseworker=case.caseworker,
            kind=MEASURE_TYPES[measure],
            value=assessed,
            flag=involved,
        )
        self._end_measure(case, "escalation")
        self._start_measure(case, measure)
        return level

    def _follow(self, case: Case):
        """Follow-ups, reviews after new reports, breakdowns, escalation and closure, until the case closes."""
        f, d, env = self.ac.followup, self.ac.decision, self.env
        step = 0
        since_start = 0  # follow-ups since the current measure started
        case.reviewable = True
        while True:
            step += 1
            u_time, u_breakdown, u_review, u_type = self._keyed(case, step, P_STEP)
            due_months = f.first_months if since_start == 0 else f.interval_months
            lateness = f.lateness_median * math.exp(f.lateness_sigma * dec.quantile(u_time))
            wait = due_months * DAYS_PER_MONTH * self._workload(case) * lateness
            breakdown_in = math.inf
            if dec.level_of(case.measure) == dec.LEVEL_PLACED:
                rate = f.breakdown_rate_per_year[min(int(self._age(case.child) // 6), 2)] / DAYS_PER_YEAR
                if self.hooks:
                    rate = self.hooks.breakdown_rate(case, rate)
                if rate > 0:
                    breakdown_in = -math.log1p(-u_breakdown) / rate
            reviewed = yield from self._sleep(case, min(wait, breakdown_in))
            if not reviewed and breakdown_in < wait:
                self.log.add(
                    env.now,
                    "breakdown",
                    case.child,
                    case.household,
                    case=case.case_id,
                    caseworker=case.caseworker,
                    kind=MEASURE_TYPES[case.measure],
                )
                self._end_measure(case, "breakdown")
                # After a breakdown the child goes home with a home-based measure or to a new placement. The
                # step's review uniform is free here (no review happens in this step).
                home = u_review < f.breakdown_home_share
                new = dec.HOME_BASED if home else dec.placement_type(self._age(case.child), u_type, d, breakdown=True)
                self._start_measure(case, new)
                since_start = 0
                continue
            months = (env.now - case.measure_start) / DAYS_PER_MONTH
            assessed = self._assess(case, f.review_noise_sd, u_review)
            self.log.add(
                env.now,
                "followup",
                case.child,
                case.household,
                case=case.case_id,
                caseworker=case.caseworker,
                kind="review" if reviewed else "scheduled",
                value=months,
                flag=months <= f.first_months + 1e-9 if since_start == 0 else None,
            )
            since_start += 1
            level = dec.level_of(case.measure)
            new_level = dec.review(level, assessed, d, f, self._age(case.child))
            if new_level == dec.CLOSE:
                self._end_measure(case, "closed")
                raise _Closed
            if new_level == dec.LEVEL_PLACED and level != dec.LEVEL_PLACED and f.investigate_before_placement:
                if (yield from self._escalate_to_placement(case, step)) == dec.LEVEL_PLACED:
                    since_start = 0
                continue
            if new_level != level:
                measure = dec.measure_for_level(new_level, self._age(case.child), u_type, d)
                self.log.add(
                    env.now,
                    "escalation" if new_level > level else "decision",
                    case.child,
                    case.household,
                    case=case.case_id,
                    caseworker=case.caseworker,
                    kind=MEASURE_TYPES[measure],
                    value=assessed,
                    flag=self._involved(case, self._keyed(case, step, P_INVOLVED)[0]),
                )
                self._end_measure(case, "escalation" if new_level > level else "step_down")
                self._start_measure(case, measure)
                since_start = 0

    def _close(self, case: Case, reason: str) -> None:
        self._end_measure(case, reason)
        if case.caseworker is not None:
            self.pool.release(case.caseworker)
        self.log.add(
            self.env.now,
            "case_close",
            case.child,
            case.household,
            case=case.case_id,
            caseworker=case.caseworker,
            kind=reason,
        )
        del self.cases[case.child]

    # ------------------------------------------------------------------ monitoring
    def snapshot(self) -> dict[str, float]:
        """Agency state now (logged at every month start)."""
        load = self.pool.load
        return {
            "open_cases": len(self.cases),
            "cases_with_caseworker": int(load.sum()),
            "caseworkers": self.pool.n,
            "caseload_mean": float(load.mean()),
            "caseload_max": int(load.max()),
            "queue": len(self.pool.queue),
            "open_investigations": self.open_investigations,
        }


class _Closed(Exception):
    """The case closes normally."""
