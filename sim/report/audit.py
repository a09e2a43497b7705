"""The report of a fairness audit (``experiment=audit``): ``report.html`` in the run folder, in English or Danish,
written for a municipal ethics or data-protection review.

It reads the folder only (``fairness``, ``disparate_impact``, ``fairness_over_time``, ``calibration_by_group`` and
``tradeoffs`` as Parquet, and the run's config), so ``python -m sim.report <folder> --language da`` renders it
again. Sections, in order: a summary in plain words; what the tool sees; how well it ranks and how well it is
calibrated for each group; its error rates at the decision in use, against the twin world without it; whom it
moves into and out of investigations; what retraining does; the public debate's alternatives; what the audit
cannot show; how it was made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.audit import FOUR_FIFTHS
from sim.policies.risk_tool import INTAKE_COLUMNS
from sim.report import audit_figures
from sim.report.build import Section, law_name, provenance
from sim.report.i18n import Locale
from sim.report.inputs import RunMetadata, read_metadata

TABLES = ("fairness", "disparate_impact", "fairness_over_time", "calibration_by_group", "tradeoffs")
#: The groups whose false-positive rate ratio the report follows year by year.
FOLLOWED = (
    ("parent_psychiatric", "yes"),
    ("parent_unemployed", "yes"),
    ("single_parent", "yes"),
    ("parent_education", "basic"),
)
#: Below this many replications the report warns that its intervals are wide.
FEW_REPLICATIONS = 10


@dataclass
class AuditInputs:
    """An audit run folder's tables and metadata."""

    fairness: pd.DataFrame
    impact: pd.DataFrame
    over_time: pd.DataFrame
    calibration: pd.DataFrame
    tradeoffs: pd.DataFrame
    meta: RunMetadata

    @property
    def replications(self) -> int:
        return int(self.fairness["replications"].max()) if len(self.fairness) else 0

    @property
    def scenarios(self) -> dict[str, dict[str, Any]]:
        """The scenarios simulated beside the tool (name -> changed settings), as the tradeoffs table has them."""
        config = (self.meta.config.get("audit") or {}).get("scenarios") or {}
        worlds = [w for w in dict.fromkeys(self.tradeoffs["world"]) if w not in ("baseline", "tool")]
        return {w: dict(config.get(w) or {}) for w in worlds}


def is_audit(folder: Path) -> bool:
    return (Path(folder) / "fairness.parquet").exists() and (Path(folder) / "tradeoffs.parquet").exists()


def load_audit_inputs(folder: Path) -> AuditInputs:
    folder = Path(folder)
    frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}
    return AuditInputs(
        frames["fairness"],
        frames["disparate_impact"],
        frames["fairness_over_time"],
        frames["calibration_by_group"],
        frames["tradeoffs"],
        read_metadata(folder),
    )


# ------------------------------------------------------------------ words
class Words:
    """The report's labels in one language: groups, scenarios, numbers with their intervals."""

    def __init__(self, t: Locale) -> None:
        self.t = t

    def feature(self, feature: str) -> str:
        key = f"audit.features.{feature}"
        return self.t(key) if self.t.has(key) else feature

    def level(self, feature: str, level: str) -> str:
        key = f"audit.levels.{level}"
        return self.t(key) if self.t.has(key) else level

    def group(self, feature: str, level: str) -> str:
        """'Parent with psychiatric contact: yes', and for an intersection both parts joined."""
        if " x " in feature:
            parts = zip(feature.split(" x "), level.split(" & "), strict=True)
            return self.t("audit.and").join(self.group(f, lv) for f, lv in parts)
        return f"{self.feature(feature)}: {self.level(feature, level)}"

    def scenario(self, name: str) -> str:
        key = f"audit.scenario_names.{name}"
        return self.t(key) if self.t.has(key) else name

    def ratio(self, x: float) -> str:
        return self.t.number(x, 2)

    def auc(self, x: float) -> str:
        return self.t.number(x, 3)

    def signed(self, x: float, decimals: int = 1) -> str:
        return self.t.number(x, decimals, signed=True)

    def auc_difference(self, x: float) -> str:
        return self.t.number(x, 3, signed=True)

    def rate(self, x: float) -> str:
        return self.t.percent(x, 1)

    def ci(self, lo: float, hi: float, fmt: Any) -> str:
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return ""
        return self.t.interval(fmt(lo), fmt(hi))


def cell(value: str, ci: str = "", cls: str = "") -> dict[str, str]:
    return {"value": value, "ci": ci, "cls": cls}


def _single(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[~frame["feature"].str.contains(" x ", regex=False)]


def _measure(
    tradeoffs: pd.DataFrame, world: str, measure: str, feature: str | None = "all", level: str | None = "all"
) -> dict:
    """One measure of one world from the tradeoffs table: value, lower, upper, and the group it is of (feature
    and level None: whichever group the row names, as for the largest ratio)."""
    row = tradeoffs[(tradeoffs["world"] == world) & (tradeoffs["measure"] == measure)]
    if feature is not None:
        row = row[(row["feature"] == feature) & (row["level"] == level)]
    if row.empty:
        return {"value": math.nan, "lower": math.nan, "upper": math.nan, "feature": "all", "level": "all"}
    return row.iloc[0][["value", "lower", "upper", "feature", "level"]].to_dict()


def _largest(tradeoffs: pd.DataFrame, world: str) -> dict:
    return _measure(tradeoffs, world, "largest_fpr_ratio", None, None)


def single_groups(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """The single features' (feature, level) pairs of a table, in its order."""
    single = _single(frame)
    return list(dict.fromkeys(zip(single["feature"], single["level"], strict=True)))


def most_apart(inputs: AuditInputs) -> tuple[str, str]:
    """The single feature's group furthest from the rest with the tool (of a binary feature's two, the one with
    the higher false-positive rate): the group of the tool's largest ratio."""
    largest = _largest(inputs.tradeoffs, "tool")
    return str(largest["feature"]), str(largest["level"])


def retrained_worlds(inputs: AuditInputs) -> list[str]:
    """The worlds whose tool is retrained: scenarios that set ``retrain_every_years``, and the tool itself if its
    config does."""
    tool = ((inputs.meta.config.get("policy") or {}).get("risk_tool") or {}).get("retrain_every_years", 0)
    worlds = ["tool"] if tool else []
    return worlds + [n for n, c in inputs.scenarios.items() if c.get("retrain_every_years")]


# ------------------------------------------------------------------ sections
def summary_section(inputs: AuditInputs, t: Locale, w: Words) -> Section:
    f = inputs.fairness
    lead, more = [], []
    auc = _measure(inputs.tradeoffs, "tool", "auc")
    target = ((inputs.meta.config.get("policy") or {}).get("risk_tool") or {}).get("target", "placement")
    lead.append(
        t(
            "audit.summary.ranking",
            target=t(f"audit.targets.{target}"),
            auc=w.auc(auc["value"]),
            ci=w.ci(auc["lower"], auc["upper"], w.auc),
        )
    )
    tested = f[(f["metric"] == "fpr") & f["ratio_p"].notna()]
    flagged = tested[tested["flagged"]]
    if flagged.empty:
        lead.append(
            t("audit.summary.flagged_none", groups=len(tested), lo=w.ratio(FOUR_FIFTHS[0]), hi=w.ratio(FOUR_FIFTHS[1]))
        )
    else:
        top = flagged.reindex(np.abs(np.log(flagged["ratio"])).sort_values(ascending=False).index).head(4)
        listed = "; ".join(f"{w.group(r.feature, r.level)} ({w.ratio(r.ratio)})" for r in top.itertuples())
        lead.append(t("audit.summary.flagged", count=len(flagged), groups=len(tested), list=listed))
    twin, tool = _largest(inputs.tradeoffs, "baseline"), _largest(inputs.tradeoffs, "tool")
    more.append(
        t(
            "audit.summary.twin",
            twin=w.ratio(twin["value"]),
            twin_group=w.group(twin["feature"], twin["level"]),
            tool=w.ratio(tool["value"]),
            tool_group=w.group(tool["feature"], tool["level"]),
        )
    )
    inv = _single(inputs.impact[inputs.impact["outcome"] == "investigations_per_1000"])
    if len(inv) and inv["effect"].abs().max() > 0:
        r = inv.loc[inv["effect"].idxmax()]
        more.append(
            t(
                "audit.summary.impact" if r["effect_lower"] > 0 else "audit.summary.impact_unclear",
                group=w.group(r["feature"], r["level"]),
                effect=w.signed(r["effect"], 1),
                ci=w.ci(r["effect_lower"], r["effect_upper"], w.signed),
                share=not_in_need(r, t),
            )
        )
    for world in retrained_worlds(inputs)[:1]:
        retrained = _largest(inputs.tradeoffs, world)
        more.append(t("audit.summary.retraining", retrained=w.ratio(retrained["value"]), once=w.ratio(tool["value"])))
    scenarios = list(inputs.scenarios)
    if scenarios:
        rows = {s: _largest(inputs.tradeoffs, s) for s in scenarios}
        best = min(rows, key=lambda s: rows[s]["value"])
        more.append(
            t(
                "audit.summary.scenarios",
                best=w.scenario(best),
                value=w.ratio(rows[best]["value"]),
                auc=t.number(_measure(inputs.tradeoffs, best, "auc")["value"], 3),
                tool_value=w.ratio(tool["value"]),
                tool_auc=t.number(auc["value"], 3),
            )
        )
    more.append(t("audit.summary.synthetic"))
    return _section("summary", t, lead=lead, paragraphs=more)


def inputs_section(inputs: AuditInputs, t: Locale, w: Words) -> Section:
    tool = (inputs.meta.config.get("policy") or {}).get("risk_tool") or {}
    items = [t(f"audit.inputs.items.{c}") for c in INTAKE_COLUMNS]
    paragraphs = [t("audit.inputs.hidden")]
    dropped = tool.get("drop_features") or []
    if dropped:
        paragraphs.insert(0, t("audit.inputs.dropped", features=", ".join(w.feature(d) for d in dropped)))
    return _section("inputs", t, lead=[t("audit.inputs.intro")], items=items, paragraphs=paragraphs)


def ranking_section(inputs: AuditInputs, t: Locale, w: Words) -> Section:
    f = _single(inputs.fairness).set_index(["feature", "level", "metric"])
    rows = []
    for feature, level in single_groups(inputs.fairness):
        auc, cal = f.loc[(feature, level, "auc")], f.loc[(feature, level, "calibration")]
        rows.append(
            {
                "cells": [
                    cell(w.group(feature, level)),
                    cell(t.number(auc["reports"], 0)),
                    cell(w.auc(auc["group"]), w.ci(auc["group_lower"], auc["group_upper"], w.auc)),
                    cell(
                        w.auc_difference(auc["difference"]),
                        w.ci(auc["difference_lower"], auc["difference_upper"], w.auc_difference),
                    ),
                    cell(w.ratio(cal["ratio"]), w.ci(cal["ratio_lower"], cal["ratio_upper"], w.ratio)),
                ]
            }
        )
    headers = [t(f"audit.ranking.headers.{h}") for h in ("group", "reports", "auc", "difference", "calibration")]
    figure = _figure(
        "calibration",
        t,
        audit_figures.calibration_figure(inputs.calibration, t, w.feature, w.level) if len(inputs.calibration) else "",
    )
    return _section(
        "ranking",
        t,
        paragraphs=[t("audit.ranking.intro")],
        tables=[{"id": "ranking", "title": "", "headers": headers, "rows": rows, "note": t("audit.ranking.note")}],
        figures=[figure],
    )


def _fpr_rows(fpr: pd.DataFrame, t: Locale, w: Words) -> list[dict]:
    rows = []
    for r in fpr.itertuples():
        rows.append(
            {
                "flagged": bool(r.flagged),
                "cells": [
                    cell(w.group(r.feature, r.level)),
                    cell(t.number(r.reports, 0)),
                    cell(w.rate(r.group), w.ci(r.group_lower, r.group_upper, w.rate)),
                    cell(w.rate(r.rest)),
                    cell(w.ratio(r.ratio), w.ci(r.ratio_lower, r.ratio_upper, w.ratio)),
                    cell(
                        w.ratio(r.twin_ratio),
                        t("audit.errors.change", ci=w.ci(r.change_lower, r.change_upper, w.ratio)),
                    ),
                    cell(
                        t("audit.errors.yes") if r.flagged else t("audit.errors.no"), cls="worse" if r.flagged else ""
                    ),
                ],
            }
        )
    return rows


def errors_section(inputs: AuditInputs, t: Locale, w: Words) -> Section:
    fpr = inputs.fairness[inputs.fairness["metric"] == "fpr"]
    single = _single(fpr)
    pairs = fpr[fpr["feature"].str.contains(" x ", regex=False)]
    headers = [t(f"audit.errors.headers.{h}") for h in ("group", "reports", "fpr", "rest", "ratio", "twin", "flagged")]
    tables = [{"id": "errors", "title": "", "headers": headers, "rows": _fpr_rows(single, t, w), "note": ""}]
    paragraphs = [t("audit.errors.intro", lo=w.ratio(FOUR_FIFTHS[0]), hi=w.ratio(FOUR_FIFTHS[1]))]
    shown = pairs[pairs["flagged"]]
    if len(pairs):
        if shown.empty:
            shown = pairs.reindex(np.abs(np.log(pairs["ratio"])).sort_values(ascending=False).index).head(5)
            note = t("audit.errors.pairs_none", groups=len(pairs))
        else:
            note = t("audit.errors.pairs_flagged", count=len(shown), groups=len(pairs))
        tables.append(
            {
                "id": "errors-intersections",
                "title": t("audit.errors.pairs_title"),
                "headers": headers,
                "rows": _fpr_rows(shown, t, w),
                "note": note,
            }
        )
    figure = _figure("fpr_ratio", t, audit_figures.fpr_ratio_figure(single, t, w.group))
    return _section(
        "errors",
        t,
        paragraphs=paragraphs, tables=tables,
                                                                                figures=[figure])  # fmt: skip


def not_in_need(inv: pd.Series, t: Locale) -> str:
    """The share of the added investigations on children not in need, where the tool clearly added some (a share
    of an effect that may be nothing is noise)."""
    share = inv["share_not_in_need"]
    return t.percent(share, 0) if inv["effect_lower"] > 0 and math.isfinite(share) else "–"


def impact_section(inputs: AuditInputs, t: Locale, w: Words) -> Section:
    impact = _single(inputs.impact).set_index(["feature", "level", "outcome"])
    rows = []
    for feature, level in single_groups(inputs.impact):
        inv = impact.loc[(feature, level, "investigations_per_1000")]
        cells = [
            cell(w.group(feature, level)),
            cell(t.number(inv["child_years"], 0)),
            cell(t.number(inv["baseline"], 1)),
            cell(w.signed(inv["effect"]), w.ci(inv["effect_lower"], inv["effect_upper"], w.signed)),
            cell(not_in_need(inv, t)),
        ]
        for outcome in (
            "measures_per_1000",
            "placements_per_1000",
            "rereports_per_1000",
            "years_faring_badly_per_1000",
        ):
            r = impact.loc[(feature, level, outcome)]
            cells.append(cell(w.signed(r["effect"]), w.ci(r["effect_lower"], r["effect_upper"], w.signed)))
        rows.append({"cells": cells})
    keys = ("group", "child_years", "baseline", "effect", "not_in_need", "measures", "placements", "rereports")
    keys += ("faring_badly",)
    headers = [t(f"audit.impact.headers.{h}") for h in keys]
    return _section(
        "impact",
        t,
        paragraphs=[t("audit.impact.intro")],
        tables=[{"id": "impact", "title": "", "headers": headers, "rows": rows, "note": t("audit.impact.note")}],
    )


def retraining_section(inputs: AuditInputs, t: Locale, w: Words) -> Section:
    retrained = retrained_worlds(inputs)
    worlds = {"baseline": t("audit.worlds.baseline"), "tool": t("audit.worlds.tool")}
    worlds |= {r: w.scenario(r) for r in retrained if r != "tool"}
    paragraphs = [t("audit.retraining.intro")]
    if not retrained:
        paragraphs.append(t("audit.retraining.none"))
    groups = [
        g for g in FOLLOWED if ((inputs.over_time["feature"] == g[0]) & (inputs.over_time["level"] == g[1])).any()
    ]
    data = inputs.over_time[inputs.over_time["world"].isin(list(worlds))]
    image = audit_figures.over_time_figure(data, groups, worlds, t, w.group) if groups and len(data) else ""
    years = sorted(data["year"].unique()) if len(data) else []
    rows = []
    if years:
        first, last = years[0], years[-1]
        for feature, level in groups:
            cells = [cell(w.group(feature, level))]
            for world in worlds:
                for year in (first, last):
                    r = data[
                        (data["world"] == world)
                        & (data["year"] == year)
                        & (data["feature"] == feature)
                        & (data["level"] == level)
                        & (data["metric"] == "fpr")
                    ]
                    value = r.iloc[0] if len(r) else None
                    cells.append(
                        cell(
                            w.ratio(value["ratio"]) if value is not None else "–",
                            w.ci(value["ratio_lower"], value["ratio_upper"], w.ratio) if value is not None else "",
                        )
                    )
            rows.append({"cells": cells})
        headers = [t("audit.retraining.group")] + [
            f"{name}, {year}" for name in worlds.values() for year in (first, last)
        ]
        table = {"id": "retraining", "title": "", "headers": headers, "rows": rows, "note": ""}
    return _section(
        "retraining", t, paragraphs=paragraphs, tables=[table] if rows else [], figures=[_figure("over_time", t, image)]
    )


def scenarios_section(inputs: AuditInputs, t: Locale, w: Words) -> Section:
    feature, level = most_apart(inputs)
    worlds = ["tool", *inputs.scenarios]
    rows, points = [], []
    for world in worlds:
        auc = _measure(inputs.tradeoffs, world, "auc")
        largest = _largest(inputs.tradeoffs, world)
        group = _measure(inputs.tradeoffs, world, "fpr_ratio", feature, level)
        inv = _measure(inputs.tradeoffs, world, "investigations_effect_per_1000", feature, level)
        name = t("audit.worlds.tool") if world == "tool" else w.scenario(world)
        rows.append(
            {
                "cells": [
                    cell(name),
                    cell(w.auc(auc["value"]), w.ci(auc["lower"], auc["upper"], w.auc)),
                    cell(w.ratio(largest["value"]), w.ci(largest["lower"], largest["upper"], w.ratio)),
                    cell(w.group(largest["feature"], largest["level"]), cls="unit"),
                    cell(w.ratio(group["value"]), w.ci(group["lower"], group["upper"], w.ratio)),
                    cell(w.signed(inv["value"]), w.ci(inv["lower"], inv["upper"], w.signed)),
                ]
            }
        )
        points.append(
            {
                "name": name,
                **{f"auc{s}": auc[k] for s, k in (("", "value"), ("_lower", "lower"), ("_upper", "upper"))},
                **{f"ratio{s}": largest[k] for s, k in (("", "value"), ("_lower", "lower"), ("_upper", "upper"))},
            }
        )
    group_name = w.group(feature, level)
    headers = [
        t("audit.scenarios.headers.scenario"),
        t("audit.scenarios.headers.auc"),
        t("audit.scenarios.headers.largest"),
        t("audit.scenarios.headers.worst_group"),
        t("audit.scenarios.headers.group_ratio", group=group_name),
        t("audit.scenarios.headers.group_investigations", group=group_name),
    ]
    twin = _largest(inputs.tradeoffs, "baseline")["value"]
    image = audit_figures.tradeoff_figure(pd.DataFrame(points), twin, t) if points else ""
    paragraphs = [t("audit.scenarios.intro")]
    for name, changes in inputs.scenarios.items():
        settings = "; ".join(f"{k} = {_value(v)}" for k, v in changes.items())
        text = t(f"audit.scenario_texts.{name}") if t.has(f"audit.scenario_texts.{name}") else w.scenario(name)
        paragraphs.append(t("audit.scenarios.described", text=text, settings=settings))
    return _section(
        "scenarios",
        t,
        paragraphs=paragraphs,
        tables=[
            {
                "id": "tradeoffs",
                "title": "",
                "headers": headers,
                "rows": rows,
                "note": t("audit.scenarios.note", twin=w.ratio(twin)),
            }
        ],
        figures=[_figure("tradeoff", t, image)],
    )


def limits_section(t: Locale) -> Section:
    items = [t(f"audit.limits.items.{k}") for k in ("simulated", "groups", "label", "one_tool", "assumed")]
    return _section("limits", t, lead=[t("audit.limits.intro")], items=items)


def method_section(inputs: AuditInputs, t: Locale) -> Section:
    config = inputs.meta.config
    world = config.get("world") or {}
    tool = (config.get("policy") or {}).get("risk_tool") or {}
    settings = [
        (t("audit.method.world"), f"{world.get('name', '–')} ({t.number(world.get('children', math.nan), 0)})"),
        (t("audit.method.law"), law_name(t, world) if world.get("law") else "–"),
        (t("audit.method.years"), f"{world.get('years', '–')} + {world.get('burn_in_years', '–')}"),
        (t("audit.method.replications"), str(inputs.replications)),
        (t("audit.method.seed"), str(inputs.meta.seed)),
        (
            t("audit.method.tool"),
            ", ".join(f"{k} = {_value(v)}" for k, v in tool.items()) or t("audit.method.defaults"),
        ),
        (t("audit.method.scenarios"), ", ".join(inputs.scenarios) or "–"),
        (t("audit.method.language"), t("language_name")),
    ]
    files = [(f"{name}.csv", t(f"audit.method.files.{name}")) for name in TABLES]
    data = provenance(t, settings, files, inputs.meta.versions, inputs.meta.command, inputs.meta.config_text)
    return Section(
        "method",
        t("audit.sections.method"),
        "sections/diagnosis_method.html.j2",
        {"intro": t("audit.method.intro"), **data},
    )


def _value(v: Any) -> str:
    return ", ".join(str(x) for x in v) if isinstance(v, list) else str(v)


def _figure(key: str, t: Locale, image: str) -> dict[str, str]:
    return {
        "id": f"figure-{key.replace('_', '-')}",
        "title": t(f"audit.figures.{key}.title"),
        "caption": t(f"audit.figures.{key}.caption") if image else "",
        "png": image,
        "missing": t("pictures.missing"),
    }


def _section(key: str, t: Locale, **parts: Any) -> Section:
    """A section drawn by ``sections/audit.html.j2``: paragraphs, a list, tables and pictures (each optional)."""
    data = {"lead": [], "paragraphs": [], "items": [], "tables": [], "figures": []} | parts
    return Section(key, t(f"audit.sections.{key}"), "sections/audit.html.j2", data)


# ------------------------------------------------------------------ the whole report
def warnings(inputs: AuditInputs, t: Locale) -> list[dict[str, str]]:
    out = []
    if inputs.replications < FEW_REPLICATIONS:
        out.append({"kind": "few_replications", "text": t("audit.warnings.few", n=inputs.replications)})
    return out


def build_audit_context(inputs: AuditInputs, language: str) -> dict[str, Any]:
    """Everything the template shows, in one language."""
    world = inputs.meta.config.get("world") or {}
    t = Locale(language, world.get("law", "barnets_lov")) if world.get("law") else Locale(language)
    w = Words(t)
    sections = [
        summary_section(inputs, t, w),
        inputs_section(inputs, t, w),
        ranking_section(inputs, t, w),
        errors_section(inputs, t, w),
        impact_section(inputs, t, w),
        retraining_section(inputs, t, w),
    ]
    if inputs.scenarios:
        sections.append(scenarios_section(inputs, t, w))
    sections += [limits_section(t), method_section(inputs, t)]
    return {
        "lang": language,
        "title": t("audit.title"),
        "subtitle": t(
            "audit.subtitle",
            world=world.get("name", "–"),
            children=t.number(world.get("children", math.nan), 0),
            years=world.get("years", "–"),
            replications=inputs.replications,
        ),
        "synthetic_note": t("audit.synthetic_note"),
        "contents": t("contents"),
        "warnings_title": t("sections.warnings"),
        "warnings": warnings(inputs, t),
        "sections": sections,
    }
