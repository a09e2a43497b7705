"""The report's numbers and words: a plain context dict built from a comparison's tables, in one language.

Each section of the report is a :class:`Section` made by one function from :class:`ReportInputs`; the template
renders ``sections`` in order. Another section is one more function returning a :class:`Section` and one more
template under ``templates/sections/``. Numbers that the report shows also go out as tables
(:func:`report_tables`). The design diagnosis's report (:mod:`sim.report.diagnosis`) uses the same
:class:`Section`s, page template and "How this was made" (:func:`provenance`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.targets import load_targets
from sim.config.schema import MEASURE_TYPES, PLACEMENT_TYPES
from sim.config.validate import ConfigError
from sim.law import REGIMES
from sim.policies import POLICIES
from sim.policies.base import evidence_of
from sim.report import figures
from sim.report.i18n import DEFAULT_LAW, Locale, decimals_for
from sim.report.inputs import ReportInputs, cost_items

BASELINE = "baseline"
#: The model needs about this many years of burn-in before stocks settle (docs/assumptions.md, A50).
SETTLED_BURN_IN_YEARS = 8
GROUPS = ("children", "measures", "targeting", "process", "long_run")
#: Shares shown as their complement, so deadlines read as breaches: outcome -> name of the complement.
BREACHES = {"screened_within_24h": "late_screening_24h", "investigation_within_4m": "late_investigation_4m"}
#: Outcomes whose rate has another denominator than all children 0-17.
UNIT_OVERRIDES = {"young_identified_per_1000": "per_1000_young"}
#: Decimals of a value shown in each unit (shares as percentages, costs in million DKK).
DECIMALS = {
    "share": 1,
    "per_1000": 1,
    "per_1000_young": 1,
    "days": 0,
    "years": 1,
    "grade": 2,
    "cases": 1,
    "dkk": 1,
    "count": 0,
    "sd": 2,
}
#: Display scale of each unit: shares as percent, costs in million DKK.
SCALE = {"share": 100.0, "dkk": 1e-6}
#: Comparison outcomes that are also published Danish figures: outcome -> (target id, complement?).
CALIBRATION_TARGETS: dict[str, tuple[str, bool]] = {
    "reports_per_1000": ("reports_per_1000_children", False),
    "screened_within_24h": ("screened_within_24h", False),
    "investigation_within_4m": ("investigation_within_4m", False),
    "child_involved": ("child_not_involved_enough", True),
    "preventive_per_1000": ("preventive_per_1000", False),
    "placed_per_1000": ("placed_per_1000", False),
    "new_placements_per_1000": ("new_placements_per_1000", False),
    "institution_share": ("placement_share_institution", False),
    "network_share": ("network_share_of_family_care", False),
    "placement_breakdown_rate": ("placement_breakdown_rate", False),
    "caseload": ("caseload_per_caseworker", False),
    "youth_crime_10_17": ("youth_crime_10_17", False),
}
#: Unit costs with a published source (docs/assumptions.md, A52); the rest are assumptions.
PUBLISHED_UNIT_COSTS = ("foster_family", "institution", "opholdssted")


@dataclass
class Section:
    """One section of the report: its anchor, heading, template and the data the template shows."""

    id: str
    title: str
    template: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Change:
    """A scenario's value of an outcome and its difference from baseline, in display units."""

    value: float
    lower: float
    upper: float
    diff: float
    diff_lower: float
    diff_upper: float
    better: str
    replications: int

    @property
    def has_interval(self) -> bool:
        return self.replications > 1 and math.isfinite(self.diff_lower) and math.isfinite(self.diff_upper)

    @property
    def is_zero(self) -> bool:
        return all(abs(x) < 1e-12 for x in (self.diff, self.diff_lower, self.diff_upper) if math.isfinite(x))

    @property
    def clear(self) -> bool:
        """The interval of the difference excludes zero."""
        return self.has_interval and (self.diff_lower > 0 or self.diff_upper < 0)

    @property
    def verdict(self) -> str:
        """better, worse, change (clear, but neither better nor worse), unclear, or same."""
        if not math.isfinite(self.diff) or self.is_zero:
            return "same"
        if not self.clear:
            return "unclear"
        if self.better == "none":
            return "change"
        return "better" if (self.diff < 0) == (self.better == "lower") else "worse"

    @property
    def relative(self) -> float:
        """The size of a clear change relative to the baseline's level (0 if not clear or no level)."""
        base = self.value - self.diff
        return abs(self.diff / base) if self.clear and math.isfinite(base) and base != 0 else 0.0


class Comparison:
    """``comparison.parquet`` looked up by scenario and outcome, with deadlines turned into breaches."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        self.rows = {(r["scenario"], r["outcome"]): r for r in table.to_dict("records")}
        self.replications = int(table["replications"].max())

    def has(self, scenario: str, outcome: str) -> bool:
        row = self.rows.get((scenario, outcome))
        return row is not None and _finite(row["mean"])

    def change(self, scenario: str, outcome: str, scale: float = 1.0) -> Change:
        row = self.rows.get((scenario, outcome))
        if row is None:
            nan = float("nan")
            return Change(nan, nan, nan, nan, nan, nan, "none", self.replications)
        out = Change(
            row["mean"] * scale,
            row["mc_lower"] * scale,
            row["mc_upper"] * scale,
            row["difference"] * scale,
            row["difference_lower"] * scale,
            row["difference_upper"] * scale,
            str(row["better"]),
            int(row["replications"]),
        )
        if outcome in BREACHES:  # a share met -> the share breached
            return Change(
                scale - out.value,
                scale - out.upper,
                scale - out.lower,
                -out.diff,
                -out.diff_upper,
                -out.diff_lower,
                "lower",
                out.replications,
            )
        return out

    def outcomes(self, group: str) -> list[str]:
        part = self.table[self.table["group"] == group]
        return list(dict.fromkeys(part["outcome"]))

    def unit(self, outcome: str) -> str:
        """The outcome's unit (``per_1000_young`` for the rate per 1,000 children aged 0-6)."""
        if outcome in UNIT_OVERRIDES:
            return UNIT_OVERRIDES[outcome]
        rows = self.table[self.table["outcome"] == outcome]
        return str(rows["unit"].iloc[0]) if len(rows) else "count"


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------ names
def scenario_name(t: Locale, scenario: str) -> str:
    """A scenario's display name: a policy's translated name, policies joined by ' + ', or the name itself."""
    parts = scenario.split("+")
    if all(t.has(f"scenarios.{p}") for p in parts):
        return " + ".join(t(f"scenarios.{p}") for p in parts)
    return scenario


def law_name(t: Locale, world: dict[str, Any]) -> str:
    """The legal regime the run's agency worked under, in the report's language, with its abbreviation: "the
    Children's Act (barnets lov, BL)". A run folder from before ``world.law`` existed is named by the default."""
    regime = REGIMES[world.get("law", DEFAULT_LAW)]
    name = regime.da if t.language == "da" else regime.en
    if name.endswith(")"):
        return f"{name[:-1]}, {regime.abbreviation})"
    return f"{name} ({regime.abbreviation})"


def scenario_description(t: Locale, scenario: str) -> str:
    parts = scenario.split("+")
    if len(parts) == 1:
        return t(f"describe.{scenario}") if t.has(f"describe.{scenario}") else t("describe.unknown")
    if all(t.has(f"scenarios.{p}") for p in parts):
        return t("describe.combined", names=", ".join(t(f"scenarios.{p}") for p in parts))
    return t("describe.unknown")


def outcome_label(t: Locale, outcome: str, fallback: str = "") -> str:
    name = BREACHES.get(outcome, outcome)
    key = f"outcomes.labels.{name}"
    return t(key) if t.has(key) else (fallback or outcome.replace("_", " "))


def cost_item_label(t: Locale, item: str) -> str:
    key = f"costs.items.{item}"
    return t(key) if t.has(key) else item.replace("_", " ")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------ numbers in words
def fmt_value(t: Locale, unit: str, x: float, decimals: int | None = None, signed: bool = False) -> str:
    """A value already in display units (percent for shares, million DKK for costs)."""
    return t.number(x, DECIMALS.get(unit, 1) if decimals is None else decimals, signed)


def diff_decimals(unit: str, c: Change) -> int:
    """Enough decimals to show a difference and its interval with two significant digits."""
    base = DECIMALS.get(unit, 1)
    size = max(abs(c.diff), (c.diff_upper - c.diff_lower) / 2 if c.has_interval else 0.0)
    return int(min(base + 2, max(base, decimals_for(size, 2))))


def change_words(t: Locale, c: Change, unit: str) -> str:
    """The change in plain words with its uncertainty: 'down by about 40, likely between 25 and 55'."""
    words = t(f"summary.unit_words.{unit}") if t.has(f"summary.unit_words.{unit}") else ""
    if not math.isfinite(c.diff):
        return t("summary.change.missing")
    if c.is_zero:
        return t("summary.change.zero")
    x = t.about(abs(c.diff))
    direction = "down" if c.diff < 0 else "up"
    if not c.has_interval:
        return t(f"summary.change.single_{direction}", x=x, unit=words)
    if c.clear:
        lo, hi = sorted((abs(c.diff_lower), abs(c.diff_upper)))
        return t(f"summary.change.clear_{direction}", x=x, unit=words, lo=t.about(lo), hi=t.about(hi))
    return t("summary.change.unclear", lo=t.about(abs(c.diff_lower)), hi=t.about(abs(c.diff_upper)), unit=words)


def level_words(t: Locale, unit: str, x: float) -> str:
    """A level in a sentence, with at least two significant digits (0.19, not 0.2)."""
    if unit == "dkk":
        return t.money_millions(x * 1e6)
    if unit == "count":
        return t.number(x, 0 if abs(x) >= 10 else 1)
    base = DECIMALS.get(unit, 1)
    decimals = int(min(base + 2, max(base, decimals_for(x, 2))))
    if unit == "share":
        return t("number.percent", x=t.number(x, decimals))
    return fmt_value(t, unit, x, decimals)


# ------------------------------------------------------------------ warnings
CALIBRATION_COLUMNS = (
    "id",
    "outcome",
    "quantity",
    "published",
    "unit",
    "lower",
    "upper",
    "simulated",
    "mc_lower",
    "mc_upper",
    "status",
    "interval_reaches_band",
)


def calibration_check(inputs: ReportInputs) -> tuple[pd.DataFrame, str]:
    """The baseline's value of every comparison outcome that is also a published figure, against its band
    (the PASS rule of docs/calibration.md: lower <= mean <= upper). Returns the table and, if none could be
    checked, why."""

    name = str(inputs.config.get("calibration", {}).get("targets", "denmark"))
    try:
        targets = load_targets(name).set_index("id")
    except (ConfigError, OSError, ValueError) as exc:
        return pd.DataFrame(columns=CALIBRATION_COLUMNS), str(exc)
    base = inputs.comparison[inputs.comparison["scenario"] == BASELINE].set_index("outcome")
    rows = []
    for outcome, (target, complement) in CALIBRATION_TARGETS.items():
        if target not in targets.index or outcome not in base.index or targets.loc[target, "kind"] != "level":
            continue
        r, tg = base.loc[outcome], targets.loc[target]
        mean, lo, hi = (float(r["mean"]), float(r["mc_lower"]), float(r["mc_upper"]))
        if complement:
            mean, lo, hi = 1 - mean, 1 - hi, 1 - lo
        ok = math.isfinite(mean) and float(tg["lower"]) <= mean <= float(tg["upper"])
        reaches = bool(
            math.isfinite(lo) and math.isfinite(hi) and lo <= float(tg["upper"]) and hi >= float(tg["lower"])
        )
        rows.append(
            {
                "id": target,
                "outcome": outcome,
                "quantity": str(tg["quantity"]),
                "published": str(tg["published"]),
                "unit": str(tg["unit"]),
                "lower": float(tg["lower"]),
                "upper": float(tg["upper"]),
                "simulated": mean,
                "mc_lower": lo,
                "mc_upper": hi,
                "status": "input" if tg.get("role") == "input" else ("PASS" if ok else "FAIL"),
                "interval_reaches_band": reaches,
            }
        )
    table = pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)
    return table, "" if len(table) else f"no figure of {name} is an outcome of the comparison"


def calibration_label(t: Locale, outcome: str, complement: bool) -> str:
    """The translated name of a checked figure as published (deadlines met, not breached; child involvement's
    complement: not involved)."""
    name = "child_not_involved" if complement else outcome
    key = f"outcomes.labels.{name}"
    return t(key) if t.has(key) else outcome_label(t, outcome)


def sentence(text: str) -> str:
    """``text`` ending with one full stop (a text ending in an abbreviation such as 'mio. kr.' keeps its own)."""
    return text if text.endswith((".", "!", "?")) else text + "."


def warnings(inputs: ReportInputs, t: Locale, calibration: pd.DataFrame) -> list[dict[str, str]]:
    """What the reader must know before reading on: one replication, a failed calibration, a world that had
    not settled, a failed convergence check, missing event logs."""
    out = []
    if inputs.replications <= 1:
        out.append({"kind": "single_replication", "text": t("warnings.single_replication")})
    if len(calibration) and (calibration["status"] == "FAIL").any():
        failed = calibration[calibration["status"] == "FAIL"]
        text = t(
            "warnings.calibration_failed",
            failed=len(failed),
            checked=len(calibration),
            names="; ".join(calibration_label(t, o, CALIBRATION_TARGETS[o][1]) for o in failed["outcome"]),
        )
        within = int(failed["interval_reaches_band"].sum())
        if within:
            key = (
                "within_chance"
                if within < len(failed)
                else ("within_chance_one" if within == 1 else "within_chance_all")
            )
            text += " " + t(f"warnings.{key}", within=within)
        out.append({"kind": "calibration_failed", "text": text})
    burn_in = int(inputs.config["world"].get("burn_in_years", SETTLED_BURN_IN_YEARS))
    if burn_in < SETTLED_BURN_IN_YEARS:
        out.append(
            {
                "kind": "not_settled",
                "text": t("warnings.not_settled", burn_in=burn_in, needed=SETTLED_BURN_IN_YEARS),
            }
        )
    for what in inputs.convergence_failures:
        out.append({"kind": "convergence_failed", "text": t("warnings.convergence_failed", what=what)})
    if not inputs.monthly:
        out.append({"kind": "no_event_logs", "text": t("warnings.no_event_logs")})
    return out


# ------------------------------------------------------------------ summary
#: The fixed headlines: key -> (outcome, unit of the sentence, list).
HEADLINES: dict[str, tuple[str, str, str]] = {
    "faring_badly_now": ("faring_badly_share", "count", "children"),
    "placements_started": ("new_placements_per_1000", "count", "children"),
    "caseload": ("caseload", "cases", "caseworkers"),
    "cost_total": ("cost_total", "dkk", "budget"),
}


def _headline_scale(outcome: str, unit: str, children: float) -> float:
    if unit == "count":
        return children if outcome == "faring_badly_share" else children / 1000
    return SCALE.get(unit, 1.0)


HEADLINE_COLUMNS = (
    "scenario",
    "headline",
    "outcome",
    "unit",
    "audience",
    "baseline",
    "policy",
    "difference",
    "difference_lower",
    "difference_upper",
    "replications",
    "verdict",
    "assumed_parameters",
    "first_years_difference",
    "first_years_lower",
    "first_years_upper",
)


#: The smallest change, relative to the baseline's level, that the summary names as a policy's most
#: distinctive one (a clear but tiny change is no headline).
MIN_RELATIVE_CHANGE = 0.05


def assumed_parameters(scenario: str) -> list[str]:
    """The keys of the ``assumed`` parameters (no published figure) of every policy a scenario names: each of the
    scenario's headlines rests on them."""
    names = [] if scenario == BASELINE else scenario.split("+")
    return [
        f"policy.{n}.{key}"
        for n in names
        if n in POLICIES
        for key, evidence in evidence_of(POLICIES[n]).items()
        if evidence is not None and evidence.grade == "assumed"
    ]


def headline_rows(inputs: ReportInputs) -> pd.DataFrame:
    """Per policy scenario, the fixed headlines and its most distinctive other change (the clear change that is
    largest relative to the baseline's level, if at least 5%), in display units (counts for the whole
    municipality, million DKK, percentage points)."""
    comp = Comparison(inputs.comparison)
    early = Comparison(inputs.first_years) if inputs.first_years is not None else None
    children = float(inputs.config["world"]["children"])
    fixed = {o for o, _, _ in HEADLINES.values()}
    rows = []

    def first(s: str, outcome: str, scale: float) -> Change | None:
        return early.change(s, outcome, scale) if early is not None and early.has(s, outcome) else None

    for s in inputs.scenarios:
        if s == BASELINE:
            continue
        for key, (outcome, unit, where) in HEADLINES.items():
            scale = _headline_scale(outcome, unit, children)
            c = comp.change(s, outcome, scale)
            rows.append(_headline_row(s, key, outcome, unit, where, c, first(s, outcome, scale)))
        best = None
        for group in GROUPS:
            for outcome in comp.outcomes(group):
                if outcome in fixed:
                    continue
                unit = comp.unit(outcome)
                c = comp.change(s, outcome, SCALE.get(unit, 1.0))
                if c.relative >= MIN_RELATIVE_CHANGE and (best is None or c.relative > best[0]):
                    best = (c.relative, outcome, unit, "caseworkers" if group == "process" else "children", c)
        if best is not None:
            _, outcome, unit, where, c = best
            scale = SCALE.get(unit, 1.0)
            rows.append(_headline_row(s, "most_distinctive", outcome, unit, where, c, first(s, outcome, scale)))
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)


def _headline_row(
    s: str, key: str, outcome: str, unit: str, where: str, c: Change, early: Change | None = None
) -> dict[str, Any]:
    return {
        "scenario": s,
        "headline": key,
        "outcome": outcome,
        "unit": unit,
        "audience": where,
        "baseline": c.value - c.diff,
        "policy": c.value,
        "difference": c.diff,
        "difference_lower": c.diff_lower,
        "difference_upper": c.diff_upper,
        "replications": c.replications,
        "verdict": c.verdict,
        "assumed_parameters": ";".join(assumed_parameters(s)),
        "first_years_difference": np.nan if early is None else early.diff,
        "first_years_lower": np.nan if early is None else early.diff_lower,
        "first_years_upper": np.nan if early is None else early.diff_upper,
    }


def tool_sentence(t: Locale, performance: pd.DataFrame | None) -> str:
    """What the risk tool predicts, how common it is and how well the tool ranks reports it was not trained on
    (the first replication's ``risk_tool_performance``, its longest horizon with known outcomes: 12 months, or 3
    in a run too short for 12); empty without one."""
    overall = pd.DataFrame() if performance is None else performance[performance["group"] == "all"]
    overall = overall[overall["auc"].notna()] if len(overall) else overall
    if overall.empty:
        return ""
    row = overall.sort_values("horizon_months").iloc[-1]
    return t(
        f"summary.tool.{str(row['target']).rsplit('_', 1)[0]}",
        months=int(row["horizon_months"]),
        base=t("number.percent", x=t.number(100 * float(row["observed"]), 1)),
        auc=t.number(float(row["auc"]), 2),
        reports=t.number(float(row["reports"]), 0),
    )


def summary_section(inputs: ReportInputs, t: Locale, headlines: pd.DataFrame) -> Section:
    policies = [s for s in inputs.scenarios if s != BASELINE]
    world = inputs.config["world"]
    first_years = inputs.config.get("compare", {}).get("first_years", 0)
    blocks = []
    for s in policies:
        lists: dict[str, list[dict[str, str]]] = {"children": [], "caseworkers": [], "budget": []}
        for r in headlines[headlines["scenario"] == s].to_dict("records"):
            c = Change(
                r["policy"],
                np.nan,
                np.nan,
                r["difference"],
                r["difference_lower"],
                r["difference_upper"],
                "none",
                r["replications"],
            )
            label = (
                t(f"summary.headline.{r['headline']}")
                if r["headline"] != "most_distinctive"
                else outcome_label(t, r["outcome"])
            )
            frm = t(
                "summary.from_to",
                base=level_words(t, r["unit"], r["baseline"]),
                policy=level_words(t, r["unit"], r["policy"]),
            )
            first = ""
            if np.isfinite(r["first_years_difference"]):
                early = Change(
                    np.nan,
                    np.nan,
                    np.nan,
                    r["first_years_difference"],
                    r["first_years_lower"],
                    r["first_years_upper"],
                    "none",
                    r["replications"],
                )
                first = t("summary.first_years", years=first_years, change=change_words(t, early, r["unit"]))
            lists[r["audience"]].append(
                {
                    "label": _capital(label),
                    "change": sentence(change_words(t, c, r["unit"])),
                    "first_years": first,
                    "from_to": frm,
                    "verdict": r["verdict"],
                    "verdict_text": t(f"summary.verdict.{r['verdict']}"),
                    "assumed": bool(r["assumed_parameters"]),
                }
            )
        assumed = assumed_parameters(s)
        tool = tool_sentence(t, inputs.tool_performance.get(s))
        blocks.append(
            {
                "scenario": s,
                "name": scenario_name(t, s),
                "description": scenario_description(t, s),
                "lists": [{"title": t(f"summary.for_{k}"), "items": v} for k, v in lists.items() if v],
                "tool": tool,
                "assumed_note": t(
                    "summary.assumed_note",
                    n=len(assumed),
                    parameters=", ".join(k.removeprefix("policy.") for k in assumed),
                )
                if assumed
                else "",
            }
        )
    names = [scenario_name(t, s) for s in policies]
    intro = t(
        "summary.intro",
        policies=", ".join(names) if names else "–",
        children=t.number(float(world["children"]), 0),
        law=law_name(t, world),
        years=world["years"],
        replications=inputs.replications,
    )
    how = t("summary.how_sure") if inputs.replications > 1 else t("summary.how_sure_single")
    if inputs.psa_about:
        how = f"{how} {t('summary.how_sure_psa')}"
    return Section(
        "summary",
        t("sections.summary"),
        "sections/summary.html.j2",
        {"intro": intro, "how_sure": how, "blocks": blocks},
    )


# ------------------------------------------------------------------ outcomes table
def outcomes_section(inputs: ReportInputs, t: Locale) -> Section:
    comp = Comparison(inputs.comparison)
    scenarios = inputs.scenarios
    groups = []
    for group in GROUPS:
        rows = []
        for outcome in comp.outcomes(group):
            unit = comp.unit(outcome)
            cells = []
            for s in scenarios:
                c = comp.change(s, outcome, SCALE.get(unit, 1.0))
                cell = {
                    "value": fmt_value(t, unit, c.value),
                    "interval": "",
                    "diff": "",
                    "diff_interval": "",
                    "verdict": "",
                }
                if s == BASELINE and math.isfinite(c.lower) and math.isfinite(c.upper):
                    cell["interval"] = t.interval(fmt_value(t, unit, c.lower), fmt_value(t, unit, c.upper))
                if s != BASELINE and math.isfinite(c.diff):
                    d = diff_decimals(unit, c)
                    cell["diff"] = fmt_value(t, unit, c.diff, d, signed=True)
                    cell["verdict"] = c.verdict
                    if c.has_interval:
                        cell["diff_interval"] = t.interval(
                            fmt_value(t, unit, c.diff_lower, d, signed=True),
                            fmt_value(t, unit, c.diff_upper, d, signed=True),
                        )
                cells.append(cell)
            label = comp.table.loc[comp.table["outcome"] == outcome, "label"].iloc[0]
            rows.append(
                {
                    "label": _capital(outcome_label(t, outcome, label)),
                    "unit": t(f"outcomes.units.{unit}"),
                    "cells": cells,
                }
            )
        if rows:
            groups.append({"title": t(f"outcomes.groups.{group}"), "rows": rows})
    world = inputs.config["world"]
    return Section(
        "outcomes",
        t("sections.outcomes"),
        "sections/outcomes.html.j2",
        {
            "intro": t("outcomes.intro", years=world["years"], replications=inputs.replications),
            "outcome_header": t("outcomes.outcome"),
            "unit_header": t("outcomes.unit"),
            "scenarios": [scenario_name(t, s) for s in scenarios],
            "groups": groups,
        },
    )


# ------------------------------------------------------------------ pictures' data
STAGES: dict[str, tuple[str, ...]] = {
    "reports": ("reports_per_1000",),
    "investigations": ("investigations_per_1000",),
    "measures": (
        "preventive_starts_per_1000",
        "home_based_starts_per_1000",
        *(f"{k}_starts_per_1000" for k in PLACEMENT_TYPES),
    ),
    "placements": ("new_placements_per_1000",),
}


def flow_table(inputs: ReportInputs) -> pd.DataFrame:
    """Per scenario, reports, reports taken further at screening, § 50 investigations, measures started and
    placements started a year in the whole municipality (mean over replications; the screening share is the
    first replication's), with the difference from baseline."""
    comp = Comparison(inputs.comparison)
    per_child = float(inputs.config["world"]["children"]) / 1000
    rows = []
    for s in inputs.scenarios:
        values = {
            stage: sum(comp.change(s, o).value for o in outcomes) * per_child for stage, outcomes in STAGES.items()
        }
        if inputs.taken_further:
            values["screened"] = values["reports"] * inputs.taken_further.get(s, np.nan)
        for stage in ("reports", "screened", "investigations", "measures", "placements"):
            if stage in values:
                rows.append({"scenario": s, "stage": stage, "per_year": values[stage]})
    flow = pd.DataFrame(rows)
    base = flow[flow["scenario"] == BASELINE].set_index("stage")["per_year"]
    flow["difference"] = flow["per_year"] - flow["stage"].map(base)
    return flow


OVER_TIME_COLUMNS = ("scenario", "year", "placed_per_1000", "faring_badly_per_1000", "caseload", "open_cases", "queue")


def over_time_table(inputs: ReportInputs) -> pd.DataFrame:
    """Per scenario and year counted, from the first replication's monthly snapshots: children placed and
    faring badly per 1,000, open cases per caseworker, open cases, and cases waiting for a caseworker (yearly
    means of the monthly values)."""
    frames = []
    for s, monthly in inputs.monthly.items():
        m = monthly[monthly["year"] >= inputs.start_year]
        per = m.assign(
            placed_per_1000=1000 * m["placed"] / m["children"],
            faring_badly_per_1000=1000 * m["faring_badly"] / m["children"],
        )
        columns = ["placed_per_1000", "faring_badly_per_1000", "caseload_mean", "open_cases", "queue"]
        yearly = per.groupby("year")[columns].mean()
        frames.append(yearly.rename(columns={"caseload_mean": "caseload"}).reset_index().assign(scenario=s))
    if not frames:
        return pd.DataFrame(columns=OVER_TIME_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["year"] = out["year"].astype(int)
    return out[list(OVER_TIME_COLUMNS)]


def cost_table(inputs: ReportInputs) -> pd.DataFrame:
    """Per scenario: total cost a year with its interval and difference from baseline, children helped (in a
    § 11 or § 52 measure or placed on an average day), cost per child helped, and the extra cost per
    child-year of faring badly avoided where that fall is clear."""
    comp = Comparison(inputs.comparison)
    children = float(inputs.config["world"]["children"])
    rows = []
    for s in inputs.scenarios:
        total = comp.change(s, "cost_total")
        helped = (
            (comp.change(s, "preventive_per_1000").value + comp.change(s, "placed_per_1000").value) * children / 1000
        )
        bad = comp.change(s, "faring_badly_share", children)
        avoided = -bad.diff
        per_avoided = (
            total.diff / avoided if s != BASELINE and bad.clear and bad.diff < 0 and avoided > 0 else float("nan")
        )
        rows.append(
            {
                "scenario": s,
                "cost_total": total.value,
                "cost_total_lower": total.lower,
                "cost_total_upper": total.upper,
                "difference": total.diff,
                "difference_lower": total.diff_lower,
                "difference_upper": total.diff_upper,
                "children_helped": helped,
                "cost_per_child_helped": total.value / helped if helped > 0 else float("nan"),
                "extra_cost_per_child_year_faring_badly_avoided": per_avoided,
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ costs section
def unit_costs(inputs: ReportInputs) -> list[tuple[str, float, bool]]:
    """(label key, DKK, published?) for every unit cost the run used, the policies' own included."""
    costs = inputs.config.get("costs", {})
    out = [(k, float(v), k in PUBLISHED_UNIT_COSTS) for k, v in costs.items()]
    active = {p for s in inputs.scenarios for p in s.split("+") if p != BASELINE}
    chosen = inputs.config.get("policy") or {}
    for policy in sorted(active & set(POLICIES)):
        settings = chosen.get(policy) or {}
        for key, label in POLICIES[policy].unit_costs.items():
            value = settings.get(key, getattr(POLICIES[policy].Config(), key))
            out.append((label, float(value), False))
    return out


def costs_section(inputs: ReportInputs, t: Locale, table: pd.DataFrame, items: pd.DataFrame) -> Section:
    scenarios = inputs.scenarios
    order = ["caseworkers", "investigations", *MEASURE_TYPES]
    extra = [i for i in dict.fromkeys(items["item"]) if i not in order]
    rows = []
    for item in [*order, *extra]:
        part = items[items["item"] == item].set_index("scenario")["dkk_per_year"]
        if part.empty:
            continue
        rows.append(
            {
                "label": cost_item_label(t, item),
                "cells": [t.number(part[s] / 1e6, 1) if s in part.index else "–" for s in scenarios],
            }
        )
    comp = Comparison(inputs.comparison)
    by = table.set_index("scenario")
    total = []
    for s in scenarios:
        c = comp.change(s, "cost_total", 1e-6)
        cell = {"value": t.number(c.value, 1), "interval": "", "diff": "", "diff_interval": "", "verdict": ""}
        if s == BASELINE and math.isfinite(c.lower):
            cell["interval"] = t.interval(t.number(c.lower, 1), t.number(c.upper, 1))
        if s != BASELINE:
            cell["diff"] = t.number(c.diff, 1, signed=True)
            cell["verdict"] = c.verdict
            if c.has_interval:
                cell["diff_interval"] = t.interval(t.number(c.diff_lower, 1, True), t.number(c.diff_upper, 1, True))
        total.append(cell)
    per_child = [
        [t.number(by.loc[s, "children_helped"], 0) for s in scenarios],
        [t.money(round(by.loc[s, "cost_per_child_helped"], -3)) for s in scenarios],
        [
            "" if s == BASELINE else (t.money(round(v, -3)) if _finite(v) else t("costs.not_clear"))
            for s, v in by["extra_cost_per_child_year_faring_badly_avoided"].items()
        ],
    ]
    units = [
        {
            "label": t(f"costs.unit_items.{key}") if t.has(f"costs.unit_items.{key}") else key,
            "value": t.money(value),
            "source": t("costs.sources.published") if published else t("costs.sources.assumption"),
        }
        for key, value, published in unit_costs(inputs)
    ]
    return Section(
        "costs",
        t("sections.costs"),
        "sections/costs.html.j2",
        {
            "intro": t("costs.intro"),
            "item_header": t("costs.item"),
            "total_label": t("costs.items.total"),
            "unit_costs_title": t("costs.unit_costs"),
            "unit_cost_header": t("costs.unit_cost"),
            "source_header": t("costs.source"),
            "scenarios": [scenario_name(t, s) for s in scenarios],
            "rows": rows,
            "total": total,
            "per_child": [
                {"label": t("costs.children_helped"), "cells": per_child[0]},
                {"label": t("costs.per_child_helped"), "cells": per_child[1]},
                {"label": t("costs.per_child_year_avoided"), "cells": per_child[2]},
            ],
            "note": t("costs.per_child_note"),
            "unit_costs": units,
        },
    )


# ------------------------------------------------------------------ how sure can we be (a PSA)
#: Parameters named in the section: the largest EVPPI first, at most this many.
TOP_PARAMETERS = 5


def parameter_label(t: Locale, key: str) -> str:
    """A parameter's name for a reader: its policy's (or the unit costs') name, then the key's last part."""
    parts = key.split(".")
    if parts[0] == "policy" and len(parts) == 3:
        return f"{scenario_name(t, parts[1])}: {parts[2].replace('_', ' ')}"
    if parts[0] == "costs" and t.has(f"costs.unit_items.{parts[1]}"):
        return t("uncertainty.unit_cost", item=t(f"costs.unit_items.{parts[1]}"))
    return key


def group_label(t: Locale, group: str) -> str:
    return t(f"uncertainty.groups.{group}") if t.has(f"uncertainty.groups.{group}") else scenario_name(t, group)


def uncertainty_section(inputs: ReportInputs, t: Locale) -> Section:
    """ "How sure can we be?": from a PSA of this comparison, in plain words first (the choice and how likely it is
    the best, what removing all doubt would be worth, which doubts matter), then the acceptability curves, the
    cost-effectiveness plane and the EVPPI of each group and the largest single parameters."""
    about, psa = inputs.psa_about, inputs.psa
    names = {s: scenario_name(t, s) for s in about["scenarios"]}
    evpi = psa["evpi"][psa["evpi"]["headline"]].iloc[0]
    curves = psa["acceptability"]
    at = curves[(curves["axis"] == "faring_badly") & np.isclose(curves["wtp"], evpi["wtp_faring_badly"])]
    best = str(evpi["best"])
    probability = float(at.set_index("scenario").loc[best, "probability_best"]) if best in set(at["scenario"]) else 0.0
    evppi = psa["evppi"]
    groups = evppi[evppi["kind"] == "group"].sort_values("evppi_year", ascending=False)
    single = evppi[evppi["kind"] == "parameter"].sort_values("evppi_year", ascending=False).head(TOP_PARAMETERS)
    grades = psa["parameters"].set_index("key")["grade"] if "parameters" in psa else pd.Series(dtype=str)
    varied = int((psa["parameters"]["low"] < psa["parameters"]["high"]).sum()) if "parameters" in psa else 0
    top = groups.iloc[0] if len(groups) and groups.iloc[0]["evppi_year"] > 0 else None
    plain = [
        t(
            "uncertainty.choice",
            draws=t.number(float(about["draws"]), 0),
            parameters=t.number(float(varied), 0),
            price=t.money(evpi["wtp_faring_badly"]),
            best=names.get(best, best),
            probability=t.percent(probability, 0),
        ),
        t(
            "uncertainty.evpi",
            year=t.money_millions(evpi["evpi_year"], 1),
            horizon=t.money_millions(evpi["evpi_horizon"], 0),
            years=about["horizon_years"],
            rate=t.percent(about["discount_rate"], 1),
        )
        if evpi["evpi_year"] > 0
        else t("uncertainty.evpi_zero"),
    ]
    if top is not None:
        plain.append(
            t("uncertainty.hangs_on", group=group_label(t, str(top["name"])), share=t.percent(top["share_of_evpi"], 0))
        )
    plain.append(t("uncertainty.world_fixed") if not about.get("posterior") else t("uncertainty.world_posterior"))
    return Section(
        "uncertainty",
        t("sections.uncertainty"),
        "sections/uncertainty.html.j2",
        {
            "plain": plain,
            "figures": [
                {
                    "id": "figure-acceptability",
                    "title": t("uncertainty.figures.acceptability.title"),
                    "caption": t("uncertainty.figures.acceptability.caption", price=t.money(evpi["wtp_faring_badly"])),
                    "png": figures.acceptability_figure(curves, t, names, float(evpi["wtp_faring_badly"])),
                },
                {
                    "id": "figure-plane",
                    "title": t("uncertainty.figures.plane.title"),
                    "caption": t("uncertainty.figures.plane.caption", price=t.money(evpi["wtp_faring_badly"])),
                    "png": figures.plane_figure(psa["ce_plane"], t, names, float(evpi["wtp_faring_badly"])),
                },
            ],
            "evppi_title": t("uncertainty.evppi_title"),
            "evppi_intro": t("uncertainty.evppi_intro"),
            "what_header": t("uncertainty.what"),
            "value_header": t("uncertainty.value"),
            "share_header": t("uncertainty.share"),
            "grade_header": t("uncertainty.grade"),
            "groups": [
                {
                    "label": group_label(t, str(r["name"])),
                    "value": t.money_millions(r["evppi_year"], 2),
                    "share": t.percent(r["share_of_evpi"], 0),
                }
                for r in groups.to_dict("records")
            ],
            "parameters_title": t("uncertainty.parameters_title"),
            "parameters": [
                {
                    "label": parameter_label(t, str(r["name"])),
                    "grade": t(f"uncertainty.grades.{grades.get(r['name'], 'assumed')}"),
                    "value": t.money_millions(r["evppi_year"], 2),
                    "share": t.percent(r["share_of_evpi"], 0),
                }
                for r in single.to_dict("records")
            ],
            "method": t(
                "uncertainty.method",
                draws=t.number(float(about["draws"]), 0),
                placement=t.money(evpi["wtp_placement"]),
            ),
        },
    )


# ------------------------------------------------------------------ how this was made
def _calibration_value(t: Locale, unit: str, x: float) -> str:
    if unit == "share":
        return t("number.percent", x=t.number(100 * x, 1))
    return t.number(x, 1)


def method_section(inputs: ReportInputs, t: Locale, calibration: pd.DataFrame, why: str) -> Section:
    world = inputs.config["world"]
    cal_rows = [
        {
            "quantity": _capital(calibration_label(t, r["outcome"], CALIBRATION_TARGETS[r["outcome"]][1])),
            "unit": t(f"outcomes.units.{r['unit']}") if t.has(f"outcomes.units.{r['unit']}") else r["unit"],
            "band": t.interval(
                _calibration_value(t, r["unit"], r["lower"]), _calibration_value(t, r["unit"], r["upper"])
            ),
            "simulated": _calibration_value(t, r["unit"], r["simulated"]),
            "ok": r["status"] in ("PASS", "input"),
            "checked": r["status"] != "input",
            "status": {"PASS": t("method.pass"), "input": t("method.input")}.get(
                r["status"], t("method.fail_within_chance") if r["interval_reaches_band"] else t("method.fail")
            ),
        }
        for r in calibration.to_dict("records")
    ]
    failed = sum(not r["ok"] for r in cal_rows)
    checked = sum(r["checked"] for r in cal_rows)
    if not cal_rows:
        cal_text = t("method.calibration_none", why=why)
    elif failed:
        cal_text = t("method.calibration_bad", failed=failed, checked=checked)
    else:
        cal_text = t("method.calibration_ok", checked=checked)
    world_arg = f" world={world['name']}" if world.get("name", "default") != "default" else ""
    settings = [
        ("world", str(world["name"])),
        ("children", t.number(float(world["children"]), 0)),
        ("years", str(world["years"])),
        ("burn_in", str(world["burn_in_years"])),
        ("start_year", str(world["start_year"])),
        ("law", law_name(t, world)),
        ("scenarios", ", ".join(scenario_name(t, s) for s in inputs.scenarios)),
        ("replications", str(inputs.replications)),
        ("seed", str(inputs.seed)),
        ("replication_seeds", ", ".join(str(s) for s in inputs.replication_seeds) or "–"),
        ("language", t("language_name")),
    ]
    files = ["comparison_csv", "truth_csv", *(f"{name}_csv" for name in REPORT_TABLES)]
    return Section(
        "method",
        t("sections.method"),
        "sections/method.html.j2",
        {
            "model": t("method.model"),
            "assumptions_title": t("method.assumptions_title"),
            "calibration_title": t("method.calibration_title"),
            "figure_header": t("method.figure"),
            "unit_header": t("outcomes.unit"),
            "band_header": t("method.band"),
            "simulated_header": t("method.simulated"),
            "status_header": t("method.status"),
            "calibration_command_label": t("method.calibration_command"),
            "assumptions": t.get("method.assumptions"),
            "calibration_text": cal_text,
            "calibration": cal_rows,
            "calibration_command": f"python -m sim experiment=calibrate{world_arg}",
            **provenance(
                t,
                [(t(f"method.settings.{k}"), v) for k, v in settings],
                [
                    (f.removesuffix("_csv") + ".csv", t(f"method.files.{f}"))
                    for f in files
                    if f != "truth_csv" or inputs.truth is not None
                ],
                inputs.versions,
                inputs.command,
                inputs.config_text,
            ),
        },
    )


def provenance(
    t: Locale,
    settings: list[tuple[str, str]],
    files: list[tuple[str, str]],
    versions: dict[str, str],
    command: str,
    config_text: str,
) -> dict[str, Any]:
    """The part of "How this was made" that every report has (``sections/provenance.html.j2``): the settings and
    seeds as (label, value), the one command that reproduces the run, the files beside the report as (name,
    what), the package versions and the full config."""
    return {
        **{f"{key}_title": t(f"method.{key}_title") for key in ("settings", "command", "files", "versions", "config")},
        "command_note": t("method.command_note"),
        "package_header": t("method.package"),
        "version_header": t("method.version"),
        "settings": [{"label": label, "value": value} for label, value in settings],
        "versions": [{"package": k, "version": str(v)} for k, v in versions.items()],
        "command": command,
        "config": config_text,
        "files": [{"name": name, "what": what} for name, what in files],
    }


# ------------------------------------------------------------------ the whole report
REPORT_TABLES = ("report_headlines", "report_flow", "report_over_time", "report_costs", "report_calibration")


def report_tables(inputs: ReportInputs) -> dict[str, pd.DataFrame]:
    """The numbers behind the report, as tables written beside it (``report_*.csv``)."""
    calibration, _ = calibration_check(inputs)
    return {
        "report_headlines": headline_rows(inputs),
        "report_flow": flow_table(inputs),
        "report_over_time": over_time_table(inputs),
        "report_costs": cost_table(inputs),
        "report_calibration": calibration,
    }


def build_context(inputs: ReportInputs, language: str, tables: dict[str, pd.DataFrame] | None = None) -> dict[str, Any]:
    """Everything the template shows, in one language: warnings, sections in order, and the figures."""

    world = inputs.config["world"]
    t = Locale(language, world.get("law", DEFAULT_LAW))  # a run folder from before world.law: the default
    tables = tables if tables is not None else report_tables(inputs)
    calibration, why = calibration_check(inputs)
    names = {s: scenario_name(t, s) for s in inputs.scenarios}
    pictures = figures.pictures(inputs, t, tables, names)
    sections = [
        summary_section(inputs, t, tables["report_headlines"]),
        outcomes_section(inputs, t),
        Section(
            "pictures",
            t("sections.pictures"),
            "sections/pictures.html.j2",
            {
                "figures": pictures,
                "one_world": t("pictures.one_world", seed=inputs.replication_seeds[0])
                if inputs.monthly and inputs.replication_seeds
                else "",
            },
        ),
        costs_section(inputs, t, tables["report_costs"], cost_items(inputs)),
        *([uncertainty_section(inputs, t)] if inputs.psa_about else []),
        method_section(inputs, t, calibration, why),
    ]
    return {
        "lang": language,
        "title": t("title"),
        "subtitle": t(
            "subtitle",
            world=world["name"],
            children=t.number(float(world["children"]), 0),
            years=world["years"],
            replications=inputs.replications,
        ),
        "synthetic_note": t("synthetic_note"),
        "contents": t("contents"),
        "warnings_title": t("sections.warnings"),
        "warnings": warnings(inputs, t, calibration),
        "sections": sections,
    }
