"""The report of a design diagnosis: ``report.html`` in every ``experiment=diagnose`` run folder, and one summary
report in a diagnosis sweep's folder, in English or Danish, with the numbers behind it as
``report_diagnosands.csv``.

It reads the folder only (a run's ``diagnosands.csv``, ``replications.parquet`` and ``solve_for_n.csv``; a sweep's
``diagnosands.csv`` and its runs' ``replications.parquet``), so ``python -m sim.report <folder> --language da``
renders it again. Sections, in order: warnings at the top (failed and non-converged fits counted, a design point
where every fit failed, too few replications for a small Monte Carlo error), a summary in plain words, the
diagnosands with their Monte Carlo standard errors, the design points of a sweep or of ``solve_for_n``, pictures
(the sampling distribution of the estimates against the truth, every replication's 90% interval, the power curve)
and how it was made (shared with the comparison's report: :func:`sim.report.build.provenance`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.diagnosis.diagnosands import DIAGNOSANDS, usable
from sim.diagnosis.sweep import choose, mde_table, size_table, varying
from sim.report import figures
from sim.report.build import Section, _capital, _finite, outcome_label, provenance, sentence
from sim.report.figures import setting_label
from sim.report.i18n import Locale, decimals_for
from sim.report.inputs import RunMetadata, read_metadata

#: Diagnosands that are shares (shown in percent, their MCSE in percentage points).
SHARES = ("power", "power_conditional", "coverage_90", "coverage_95", "type_s_rate")
COUNTS = ("n_replications", "n_used", "n_failed", "n_nonconverged")
#: Estimands shown in percentage points: a difference of two risks.
POINT_ESTIMANDS = ("risk_difference",)
#: Display units that an axis names (a ratio or an estimand's own scale needs no unit).
UNITS = ("points", "days")
#: A true effect smaller than this share of a single trial's typical error (RMSE) can hardly be told from none.
TINY_EFFECT = 0.25
#: Below this many usable replications, or with a wider 95% Monte Carlo interval of power (± share), the report
#: warns that the Monte Carlo error is not small.
MIN_USED = 100
MAX_POWER_HALF_WIDTH = 0.05
TEXT_COLUMNS = ("point", "trial", "estimator", "mode", "outcome", "estimand", "rule", "world_name", "note", "run")
REPORT_COLUMNS = ("point", "diagnosand", "unit", "value", "mcse", "mc_lower", "mc_upper", "n")


@dataclass
class DiagnosisInputs:
    """A diagnosis run's (or sweep's) diagnosands, replications and metadata, as plain DataFrames and dicts."""

    diagnosands: pd.DataFrame  # long: one row per design point and diagnosand (diagnosands.csv)
    meta: RunMetadata
    replications: pd.DataFrame  # every replication of every point (replications.parquet); may be empty
    sweep: bool = False
    solve: pd.DataFrame | None = None  # solve_for_n.csv
    size: str | None = None  # the size column of the power curve; None: no curve
    effect: str | None = None  # the effect column of a sweep (lines of the curve, the MDE)
    lines: list[str] = field(default_factory=list)  # the columns that tell the curve's lines apart
    target: float = 0.8

    @property
    def points(self) -> pd.DataFrame:
        """One row per design point, in the table's order: its design columns, every diagnosand and its MCSE
        (``<diagnosand>_mcse``)."""
        return point_table(self.diagnosands)

    @property
    def main(self) -> dict[str, Any] | None:
        """The design point the report describes in detail: a run's only point, or the answer of
        ``solve_for_n`` (the largest size tried if none reached the target); None for a sweep."""
        points = self.points
        if self.sweep or points.empty:
            return None
        if len(points) == 1 or self.size is None or self.size not in points:
            return points.iloc[-1].to_dict()
        answer = self.solve["smallest_size_reaching_target"].iloc[0] if self.solve is not None else np.nan
        by_size = points.sort_values(self.size)
        chosen = by_size[by_size[self.size] == answer] if _finite(answer) else by_size.tail(1)
        return (chosen if len(chosen) else by_size.tail(1)).iloc[0].to_dict()


def read_diagnosands(path: Path) -> pd.DataFrame:
    """``diagnosands.csv`` with its text columns as text (an empty estimand stays empty, not NaN)."""
    df = pd.read_csv(path)
    for c in TEXT_COLUMNS:
        if c in df:
            df[c] = df[c].map(lambda v: "" if pd.isna(v) else str(v))
    return df


def point_table(long: pd.DataFrame) -> pd.DataFrame:
    """The long diagnosands as one row per design point."""
    long = long.drop_duplicates(["point", "diagnosand"])
    design = [c for c in long.columns if c not in ("diagnosand", "value", "mcse", "n", "note")]
    first = long.drop_duplicates("point").set_index("point")[[c for c in design if c != "point"]]
    values = long.pivot(index="point", columns="diagnosand", values="value")
    mcse = long.pivot(index="point", columns="diagnosand", values="mcse").add_suffix("_mcse")

    values = values.reindex(columns=list(dict.fromkeys([*DIAGNOSANDS, *values.columns])))
    mcse = mcse.reindex(columns=[f"{d}_mcse" for d in values.columns])
    order = list(dict.fromkeys(long["point"]))
    return first.join(values).join(mcse).loc[order].reset_index()


def is_diagnosis(folder: Path) -> bool:
    """A diagnosis run folder (``replications.parquet``) or a sweep folder summarised (``diagnosands.csv`` with
    the runs' own below it)."""
    folder = Path(folder)
    return (folder / "diagnosands.csv").exists() and (
        (folder / "replications.parquet").exists() or any(folder.glob("*/diagnosands.csv"))
    )


def load_diagnosis_inputs(
    folder: Path, size: str | None = None, effect: str | None = None, target: float | None = None
) -> DiagnosisInputs:
    """Read a diagnosis run's folder, or a sweep's (its ``diagnosands.csv`` written by the sweep summary); for a
    sweep, ``size``, ``effect`` and ``target`` as the summary chose them (default: its own choice)."""
    folder = Path(folder)
    long = read_diagnosands(folder / "diagnosands.csv")
    if (folder / "replications.parquet").exists():  # a run: one point, or solve_for_n's points
        meta = read_metadata(folder)
        d = meta.config.get("diagnose", {})
        solve = pd.read_csv(folder / "solve_for_n.csv") if (folder / "solve_for_n.csv").exists() else None
        curve = str(d.get("size_key", "")) if solve is not None else None
        return DiagnosisInputs(
            diagnosands=long,
            meta=meta,
            replications=pd.read_parquet(folder / "replications.parquet"),
            solve=solve,
            size=curve if curve in long.columns else None,
            target=float(d.get("power_target", 0.8)),
        )

    runs = sorted(dict.fromkeys(long["run"])) if "run" in long else []
    meta = sweep_metadata(folder, runs)
    frames = [
        pd.read_parquet(folder / r / "replications.parquet")
        for r in runs
        if (folder / r / "replications.parquet").exists()
    ]
    reps = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else None
    size, effect, others = choose(point_table(long), size, effect)
    if target is None:
        target = float(meta.config.get("diagnose", {}).get("power_target", 0.8))
    return DiagnosisInputs(
        diagnosands=long,
        meta=meta,
        replications=reps if reps is not None else pd.DataFrame(columns=["point"]),
        sweep=True,
        size=size,
        effect=effect,
        lines=[c for c in ([effect] if effect else []) + others],
        target=target,
    )


def sweep_metadata(folder: Path, runs: list[str]) -> RunMetadata:
    """A sweep's metadata: its first run's config, seed and versions, and the command that runs the whole sweep
    (Hydra's record of its overrides in ``multirun.yaml``)."""
    import shlex

    first = [folder / r for r in runs if (folder / r / "config.yaml").exists()]
    meta = read_metadata(first[0]) if first else RunMetadata({}, "", 0, {}, "")
    record = folder / "multirun.yaml"
    if record.exists():
        hydra = (yaml.safe_load(record.read_text(encoding="utf-8")) or {}).get("hydra", {})
        task = [o for o in (hydra.get("overrides", {}).get("task") or []) if not o.startswith("hydra.")]
        meta.command = " ".join(["python -m sim -m", *(shlex.quote(o) for o in task)])
    else:
        meta.command = f"python -m sim.experiments.diagnose_summary {shlex.quote(str(folder))}"
    return meta


# ------------------------------------------------------------------ units and numbers
def display(estimand: str) -> tuple[float, str]:
    """Factor to display units and the unit of an estimand: a risk difference in percentage points, a ratio
    as it is, days in days; others on their own scale."""
    if estimand in POINT_ESTIMANDS:
        return 100.0, "points"
    if "ratio" in estimand:
        return 1.0, "ratio"
    if "days" in estimand:
        return 1.0, "days"
    return 1.0, "scale"


def unit_of(diagnosand: str, estimand: str) -> str:
    """The unit a diagnosand is shown in (percent, points, ratio, days, scale, times or count)."""
    if diagnosand in SHARES:
        return "percent"
    if diagnosand == "exaggeration_ratio":
        return "times"
    if diagnosand in COUNTS:
        return "count"
    return display(estimand)[1]


def factor_of(unit: str) -> float:
    return 100.0 if unit in ("percent", "points") else 1.0


def shown(value: float, mcse: float, unit: str) -> tuple[float, float, int]:
    """Value and MCSE in display units, and the decimals that show the value to its Monte Carlo precision (two
    significant digits of the MCSE)."""
    f = factor_of(unit)
    v, m = value * f, mcse * f
    if unit == "count":
        return v, np.nan, 0
    if unit == "percent":
        return v, m, 1
    if _finite(m) and m > 0:
        return v, m, int(decimals_for(m, 2, most=4))
    return v, m, int(decimals_for(v, 3, most=4)) if _finite(v) else 0


def amount(t: Locale, x: float, unit: str, signed: bool = False) -> str:
    """An amount for a sentence: two significant digits and the unit's words (1.4 percentage points)."""
    if not _finite(x):
        return "–"
    words = t(f"diagnosis.unit_words.{unit}")
    text = t.about(abs(x)) if not signed else t.number(x, max(1, decimals_for(x, 2)), signed=True)
    return text + words


def points_pm(t: Locale, share_mcse: float) -> str:
    """The 95% Monte Carlo half-width of a share, in percentage points (±1.96 MCSE)."""
    return t.number(196 * share_mcse, 1)


def setting_value(t: Locale, key: str, value: Any) -> str:
    """A design setting as the report shows it: whole numbers with the language's separators (years without),
    decimals as few as needed (0.85), lists and text as they are."""
    if isinstance(value, bool) or not _finite(value) or (isinstance(value, str) and not _is_number(value)):
        return str(value)
    x = float(value)
    if "year" in key and x.is_integer():
        default = f"diagnosis.settings_default.{key.removeprefix('trial.')}"
        if x == 0 and t.has(default):
            return t(default)  # 0 means "the default year"
        return str(int(x))
    text = f"{x:.10g}"
    decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 0
    return t.number(x, decimals)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def setting_words(t: Locale, row: dict[str, Any], columns: list[str]) -> str:
    """'reports enrolled 500, planted risk ratio 0.8': the settings that tell a design point apart."""
    return ", ".join(f"{setting_label(t, c)} {setting_value(t, c, row[c])}" for c in columns)


def size_words(t: Locale, key: str, value: Any) -> str:
    """A size in a sentence: '2,000 reports', '80 households'."""
    name = key.removeprefix("trial.")
    n = setting_value(t, key, value)
    if t.has(f"diagnosis.sizes.{name}"):
        return t(f"diagnosis.sizes.{name}", n=n)
    return t("diagnosis.sizes.other", label=setting_label(t, key), n=n)


def trial_name(t: Locale, trial: str) -> str:
    return t(f"diagnosis.trials.{trial}") if t.has(f"diagnosis.trials.{trial}") else trial


def trial_outcome(t: Locale, outcome: str) -> str:
    key = f"diagnosis.outcomes.{outcome}"
    return t(key) if t.has(key) else outcome_label(t, outcome)


def estimand_name(t: Locale, estimand: str) -> str:
    key = f"diagnosis.estimands.{estimand}"
    if t.has(key):
        return t(key)
    if estimand.startswith("att_event_"):
        return t("diagnosis.estimands.att_event", k=estimand.removeprefix("att_event_"))
    return estimand.replace("_", " ") or "–"


def mode_name(t: Locale, mode: str) -> str:
    key = f"diagnosis.modes.{mode.replace(':', '_')}"
    return t(key) if t.has(key) else mode


def axis_label(t: Locale, estimand: str) -> str:
    """The estimand's name, with its unit where it has one: 'risk difference (percentage points)'."""
    unit = display(estimand)[1]
    name = _capital(estimand_name(t, estimand))
    return t("diagnosis.pictures.axis", estimand=name, unit=t(f"diagnosis.units.{unit}")) if unit in UNITS else name


def design_words(t: Locale, row: dict[str, Any]) -> str:
    """'With 2,000 reports randomised by household': the design's size in words."""
    settings = {c.removeprefix("trial."): setting_value(t, c, v) for c, v in row.items() if str(c).startswith("trial.")}
    key = f"diagnosis.designs.{row['trial']}"
    if t.has(key):
        try:
            return t(key, **settings)
        except KeyError:  # a design whose settings were renamed: say it plainly
            pass
    return t("diagnosis.designs.unknown", trial=trial_name(t, str(row["trial"])))


def effect_words(t: Locale, row: dict[str, Any]) -> str:
    """'risk difference −10 percentage points': the mean true effect on the estimand's scale."""
    estimand = str(row["estimand"])
    factor, unit = display(estimand)
    value = float(row["mean_truth"]) * factor
    decimals = max(1, decimals_for(value, 2)) if unit != "ratio" else max(2, decimals_for(value, 2))
    return t(
        "diagnosis.summary.effect_value",
        estimand=estimand_name(t, estimand),
        value=t.number(value, decimals, signed=unit != "ratio"),
        unit=t(f"diagnosis.unit_words.{unit}"),
    )


# ------------------------------------------------------------------ warnings
def _reps_of(inputs: DiagnosisInputs, point: str) -> pd.DataFrame:
    reps = inputs.replications
    return reps[reps["point"] == point] if "point" in reps else reps.iloc[0:0]


def first_error(t: Locale, reps: pd.DataFrame) -> str:
    errors = reps.loc[reps["failed"].astype(bool), "error"] if "failed" in reps else pd.Series(dtype=str)
    errors = errors[errors.fillna("").astype(str).str.len() > 0]
    return str(errors.iloc[0]) if len(errors) else t("diagnosis.warnings.no_error")


def nonconverged_reason(t: Locale, reps: pd.DataFrame) -> str:
    """The most common warning of the fits that did not converge."""
    if "converged" not in reps:
        return t("diagnosis.warnings.no_reason")
    bad = reps[~reps["failed"].astype(bool) & ~reps["converged"].astype(bool)]
    reasons = bad["warnings"].fillna("").astype(str)
    reasons = reasons[reasons.str.len() > 0]
    return str(reasons.value_counts().index[0]) if len(reasons) else t("diagnosis.warnings.no_reason")


def counts(row: dict[str, Any]) -> tuple[int, int, int, int]:
    """Replications, usable, failed and not converged."""
    return tuple(int(row.get(c, 0) if _finite(row.get(c, 0)) else 0) for c in COUNTS)  # type: ignore[return-value]


def power_half_width(row: dict[str, Any]) -> float:
    """The 95% Monte Carlo half-width of power as a share; with power 0 or 1 (MCSE 0) the rule of three's 3/n,
    n every replication (power counts a failed fit as no decision)."""
    total, used, _, _ = counts(row)
    mcse = float(row.get("power_mcse", np.nan))
    if not used or not _finite(row.get("power")):
        return np.nan
    return 1.96 * mcse if _finite(mcse) and mcse > 0 else 3.0 / total


def few(row: dict[str, Any]) -> bool:
    """Too few usable replications for the Monte Carlo error to be small."""
    _, used, _, _ = counts(row)
    return used > 0 and (used < MIN_USED or power_half_width(row) > MAX_POWER_HALF_WIDTH)


def suggested_replications(row: dict[str, Any]) -> int:
    """Replications for a 95% Monte Carlo half-width of power of about 5 points, allowing for the share of fits
    left out; rounded up to a hundred."""
    total, used, _, _ = counts(row)
    p = float(row["power"]) if _finite(row.get("power")) else 0.5
    needed = 1.96**2 * max(p * (1 - p), 0.09) / MAX_POWER_HALF_WIDTH**2
    needed /= max(used / total, 0.1) if total else 1.0
    return int(max(MIN_USED, math.ceil(needed / 100) * 100))


def point_warnings(inputs: DiagnosisInputs, t: Locale, row: dict[str, Any]) -> list[dict[str, str]]:
    """A design point's warnings: every fit failed (power unknown, not 0), some failed, some did not converge,
    too few replications."""
    total, used, failed, nonconverged = counts(row)
    reps = _reps_of(inputs, str(row["point"]))
    include = bool(inputs.meta.config.get("diagnose", {}).get("include_nonconverged", False))
    out = []
    if used == 0:
        if failed == total:
            text = t("diagnosis.warnings.all_failed", total=total, error=first_error(t, reps))
        else:
            text = t(
                "diagnosis.warnings.none_usable",
                failed=failed,
                nonconverged=nonconverged,
                total=total,
                error=first_error(t, reps) if failed else "",
            )
        return [{"kind": "all_failed", "text": text.strip()}]
    if failed:
        share = t.percent(failed / total, 1)
        out.append(
            {
                "kind": "failed",
                "text": t(
                    "diagnosis.warnings.failed", failed=failed, total=total, share=share, error=first_error(t, reps)
                ),
            }
        )
    if nonconverged:
        key = "nonconverged_included" if include else "nonconverged"
        share = t.percent(nonconverged / total, 1)
        reason = nonconverged_reason(t, reps)
        out.append(
            {
                "kind": "nonconverged",
                "text": t(
                    f"diagnosis.warnings.{key}", nonconverged=nonconverged, total=total, share=share, reason=reason
                ),
            }
        )
    if few(row):
        out.append(
            {
                "kind": "few_replications",
                "text": t(
                    "diagnosis.warnings.few_replications",
                    used=used,
                    pm=t.number(100 * power_half_width(row), 1),
                    suggest=suggested_replications(row),
                ),
            }
        )
    return out


def points_warnings(
    inputs: DiagnosisInputs, t: Locale, points: pd.DataFrame, varying: list[str]
) -> list[dict[str, str]]:
    """The warnings of many design points at once: each kind once, naming the points it concerns."""
    rows = points.to_dict("records")

    def name(r: dict[str, Any]) -> str:
        return setting_words(t, r, varying) if varying else str(r["point"])

    def of(count: int, total: int) -> str:
        return t("diagnosis.warnings.of", count=count, total=total)

    out = []
    dead = [r for r in rows if counts(r)[1] == 0]
    if dead:
        error = first_error(t, _reps_of(inputs, str(dead[0]["point"])))
        out.append(
            {
                "kind": "all_failed",
                "text": t(
                    "diagnosis.warnings.points_all_failed",
                    count=len(dead),
                    points=len(rows),
                    list="; ".join(name(r) for r in dead),
                    error=error,
                ),
            }
        )
    for kind, column in (("failed", 2), ("nonconverged", 3)):  # points with usable fits and some left out
        some = [r for r in rows if counts(r)[column] and counts(r)[1]]
        if some:
            listed = "; ".join(f"{name(r)}: {of(counts(r)[column], counts(r)[0])}" for r in some)
            text = t(f"diagnosis.warnings.points_{kind}", count=len(some), points=len(rows), list=listed)
            out.append({"kind": kind, "text": text})
    thin = [r for r in rows if few(r)]
    if thin:
        worst = max(thin, key=power_half_width)
        key = "points_few_all" if len(thin) == len(rows) else "points_few"
        out.append(
            {
                "kind": "few_replications",
                "text": t(
                    f"diagnosis.warnings.{key}",
                    count=len(thin),
                    points=len(rows),
                    pm=t.number(100 * power_half_width(worst), 1),
                    list="; ".join(name(r) for r in thin),
                    suggest=max(suggested_replications(r) for r in thin),
                ),
            }
        )
    return out


def warnings(inputs: DiagnosisInputs, t: Locale) -> list[dict[str, str]]:
    points = inputs.points
    if len(points) == 1:
        return point_warnings(inputs, t, points.iloc[0].to_dict())
    return points_warnings(inputs, t, points, varying_columns(points))


def varying_columns(points: pd.DataFrame) -> list[str]:

    return [c for c in varying(points) if c != "run"]


# ------------------------------------------------------------------ summary
def point_sentences(t: Locale, row: dict[str, Any]) -> list[str]:
    """The design point in plain words: how often it detects the effect (with its Monte Carlo uncertainty), how
    far off the estimate is, how often the 90% interval contains the truth, and what a detection overstates."""
    design = design_words(t, row)
    total, used, _, _ = counts(row)
    rule = t(f"diagnosis.rules.{row['rule']}") if t.has(f"diagnosis.rules.{row['rule']}") else str(row["rule"])
    if used == 0 or not _finite(row.get("power")):
        return [t("diagnosis.summary.unknown", design=design)]
    power = t.percent(float(row["power"]), 1)
    pm = t.number(100 * power_half_width(row), 1)
    edge = not (_finite(row.get("power_mcse")) and float(row["power_mcse"]) > 0)
    no_effect = abs(float(row["mean_truth"]) - float(row["null"])) < 1e-12
    out = []
    if no_effect:
        out.append(t("diagnosis.summary.no_effect", design=design, effect=effect_words(t, row), power=power, pm=pm))
    else:
        key = "power_edge" if edge else "power"
        out.append(t(f"diagnosis.summary.{key}", design=design, power=power, pm=pm, used=total))
        out.append(
            t("diagnosis.summary.effect", effect=effect_words(t, row), outcome=trial_outcome(t, str(row["outcome"])))
        )
    out[-1] += " " + t("diagnosis.summary.detects_means", rule=rule)
    _, unit = display(str(row["estimand"]))
    factor = factor_of(unit)
    bias, bias_mcse = float(row["bias"]) * factor, float(row.get("bias_mcse", np.nan)) * factor
    direction = t("diagnosis.summary.direction.high" if bias > 0 else "diagnosis.summary.direction.low")
    clear = _finite(bias_mcse) and abs(bias) > 1.96 * bias_mcse
    out.append(
        t(
            "diagnosis.summary.bias_clear" if clear else "diagnosis.summary.bias_unclear",
            bias=amount(t, bias, unit),
            direction=direction,
            pm=amount(t, 1.96 * bias_mcse, unit),
            rmse=amount(t, float(row["rmse"]) * factor, unit),
        )
    )
    out.append(
        t(
            "diagnosis.summary.coverage",
            coverage=t.percent(float(row["coverage_90"]), 1),
            pm=points_pm(t, float(row.get("coverage_90_mcse", np.nan))),
        )
    )
    effect = abs(float(row["mean_truth"]) - float(row["null"])) * factor
    if not no_effect and effect < TINY_EFFECT * float(row["rmse"]) * factor:
        out.append(t("diagnosis.summary.tiny_effect", rmse=amount(t, float(row["rmse"]) * factor, unit)))
    if not no_effect and _finite(row.get("exaggeration_ratio")) and _finite(row.get("type_s_rate")):
        out.append(
            t(
                "diagnosis.summary.significant",
                ratio=t.number(float(row["exaggeration_ratio"]), 2),
                type_s=t.percent(float(row["type_s_rate"]), 1),
            )
        )
    if str(row.get("mode", "")).startswith("fast"):
        key = f"diagnosis.summary.fast_methods.{str(row['mode']).replace(':', '_')}"
        out.append(t("diagnosis.summary.fast", method=t(key) if t.has(key) else str(row["mode"])))
    return out


def solve_sentence(t: Locale, inputs: DiagnosisInputs) -> str:
    """What ``solve_for_n`` found, in words."""
    table = inputs.solve
    key = str(table["size_key"].iloc[0])
    target = t.percent(inputs.target, 0)
    answer = table["smallest_size_reaching_target"].iloc[0]
    low, high = table["size"].min(), table["size"].max()
    if not _finite(answer):
        return t("diagnosis.summary.solve_too_small", target=target, largest=size_words(t, key, high))
    if float(answer) <= float(low):
        return t("diagnosis.summary.solve_already", target=target, smallest=size_words(t, key, low))
    interpolated = table["interpolated_size"].iloc[0]
    extra = (
        t("diagnosis.summary.solve_interpolated", size=size_words(t, key, round(float(interpolated))))
        if _finite(interpolated)
        else ""
    )
    return t("diagnosis.summary.solve", target=target, size=size_words(t, key, answer), interpolated=extra)


def line_groups(points: pd.DataFrame, lines: list[str], t: Locale) -> list[tuple[str, pd.DataFrame]]:
    """The power curve's lines: (label in words, points), one per combination of the ``lines`` columns."""
    if not lines:
        return [("", points)]
    return [
        (setting_words(t, g.iloc[0].to_dict(), lines), g) for _, g in points.groupby(lines, dropna=False, sort=True)
    ]


def curve_sentences(t: Locale, inputs: DiagnosisInputs, points: pd.DataFrame) -> list[str]:
    """Per line of the power curve: power at the smallest and largest size tried and the size for the target
    power; per size, the minimum detectable effect."""

    size, target = inputs.size, inputs.target
    pct = t.percent(target, 0)
    known = points[np.isfinite(points["power"].to_numpy(float))]
    out = []
    for label, group in line_groups(known, inputs.lines, t):
        g = group.sort_values(size)
        if g.empty:
            continue
        lo, hi = g.iloc[0].to_dict(), g.iloc[-1].to_dict()
        text = t(
            "diagnosis.summary.curve_line" if label else "diagnosis.summary.curve",
            line=label,
            effect=effect_words(t, lo),
            smallest=size_words(t, size, lo[size]),
            p_small=t.percent(float(lo["power"]), 0),
            largest=size_words(t, size, hi[size]),
            p_large=t.percent(float(hi["power"]), 0),
        )
        answer = size_table(g, size, [], target)["size"].iloc[0]
        if _finite(answer):
            text += " " + t("diagnosis.summary.reaches", target=pct, size=size_words(t, size, round(float(answer))))
        elif float(lo["power"]) >= target:
            text += " " + t("diagnosis.summary.already", target=pct)
        else:
            text += " " + t("diagnosis.summary.never", target=pct)
        out.append(text)
    if inputs.effect:
        others = [c for c in inputs.lines if c != inputs.effect]
        for r in mde_table(known, size, inputs.effect, others, target).to_dict("records"):
            if not _finite(r["mde"]):
                continue
            estimand = str(known["estimand"].iloc[0])
            factor, unit = display(estimand)
            setting = r[f"mde_{inputs.effect.removeprefix('trial.')}"]
            out.append(
                t(
                    "diagnosis.summary.mde",
                    size=size_words(t, size, r[size]),
                    target=pct,
                    mde=amount(t, float(r["mde"]) * factor, unit),
                    estimand=estimand_name(t, estimand),
                    setting=setting_words(t, {inputs.effect: round(float(setting), 3)}, [inputs.effect]),
                )
            )
    return out


def summary_section(inputs: DiagnosisInputs, t: Locale) -> Section:
    points = inputs.points
    main = inputs.main
    lead: list[str] = []
    more: list[str] = []
    if inputs.solve is not None and len(inputs.solve):
        lead.append(solve_sentence(t, inputs))
    if main is not None:
        sentences = point_sentences(t, main)
        lead.append(" ".join(sentences[:2]))
        more += sentences[2:]
    if inputs.sweep and inputs.size:
        lead += curve_sentences(t, inputs, points)
        usable = points[points["n_used"] > 0]
        if len(usable):
            more.append(
                t(
                    "diagnosis.summary.coverage_range",
                    low=t.percent(float(usable["coverage_90"].min()), 0),
                    high=t.percent(float(usable["coverage_90"].max()), 0),
                )
            )
        more.append(t("diagnosis.summary.per_point"))
    return Section(
        "summary",
        t("diagnosis.sections.summary"),
        "sections/diagnosis_summary.html.j2",
        {
            "lead": [sentence(s) for s in lead],
            "more": [sentence(s) for s in more],
            "how_sure": t("diagnosis.summary.how_sure"),
        },
    )


# ------------------------------------------------------------------ tables
def report_table(inputs: DiagnosisInputs) -> pd.DataFrame:
    """``report_diagnosands.csv``: every diagnosand of every design point in the units the report shows it
    (shares in percent, a risk difference in percentage points), with its 95% Monte Carlo interval."""
    long = inputs.diagnosands
    settings = [c for c in long.columns if c.startswith("trial.")]
    rows = []
    for r in long.to_dict("records"):
        unit = unit_of(str(r["diagnosand"]), str(r["estimand"]))
        f = factor_of(unit)
        value, mcse = float(r["value"]) * f, float(r["mcse"]) * f
        lo, hi = value - 1.96 * mcse, value + 1.96 * mcse
        if unit == "percent":
            lo, hi = max(lo, 0.0), min(hi, 100.0)
        rows.append(
            {
                "point": r["point"],
                **{c: r[c] for c in settings},
                "diagnosand": r["diagnosand"],
                "unit": {"points": "percentage_points", "scale": "estimand"}.get(unit, unit),
                "value": value,
                "mcse": mcse,
                "mc_lower": lo if _finite(mcse) else np.nan,
                "mc_upper": hi if _finite(mcse) else np.nan,
                "n": int(r["n"]) if _finite(r["n"]) else 0,
            }
        )
    columns = [REPORT_COLUMNS[0], *settings, *REPORT_COLUMNS[1:]]
    return pd.DataFrame(rows, columns=columns)


def diagnosis_tables(inputs: DiagnosisInputs) -> dict[str, pd.DataFrame]:
    """The numbers behind the report, written beside it."""
    return {"report_diagnosands": report_table(inputs)}


def diagnosands_section(inputs: DiagnosisInputs, t: Locale, row: dict[str, Any]) -> Section:
    """Every diagnosand of the design point with its value, Monte Carlo SE, unit and what it says."""

    estimand = str(row["estimand"])
    rule = t(f"diagnosis.rules.{row['rule']}") if t.has(f"diagnosis.rules.{row['rule']}") else str(row["rule"])
    long = inputs.diagnosands[inputs.diagnosands["point"] == row["point"]].set_index("diagnosand")
    rows = []
    for name in DIAGNOSANDS:
        if name not in long.index:
            continue
        unit = unit_of(name, estimand)
        value, mcse, decimals = shown(float(long.loc[name, "value"]), float(long.loc[name, "mcse"]), unit)
        unknown = not _finite(value)
        rows.append(
            {
                "id": name,
                "label": t(f"diagnosis.diagnosands.{name}.label"),
                "meaning": t(f"diagnosis.diagnosands.{name}.meaning", rule=rule),
                "value": t("diagnosis.diagnosands.unknown") if unknown else t.number(value, decimals),
                "mcse": t.number(mcse, decimals) if _finite(mcse) and not unknown else "–",
                "unit": t(f"diagnosis.units.{unit}"),
                "n": t.number(float(long.loc[name, "n"]), 0),
                "count": name in COUNTS,
            }
        )
    return Section(
        "diagnosands",
        t("diagnosis.sections.diagnosands"),
        "sections/diagnosands.html.j2",
        {
            "intro": " ".join(
                [
                    t("diagnosis.diagnosands.intro"),
                    *([t("diagnosis.diagnosands.scale", estimand=estimand_name(t, estimand))] if estimand else []),
                    t("diagnosis.diagnosands.formulas"),
                ]
            ),
            "headers": {
                k: t(f"diagnosis.diagnosands.headers.{k}") for k in ("label", "meaning", "value", "mcse", "unit", "n")
            },
            "rows": rows,
        },
    )


def points_section(inputs: DiagnosisInputs, t: Locale, points: pd.DataFrame) -> Section:
    """Every design point of a sweep (or of ``solve_for_n``): its settings, power, bias, RMSE and coverage with
    their Monte Carlo SEs, and its replications used, failed and not converged."""
    varying = varying_columns(points)
    if inputs.size and inputs.size in points and inputs.size not in varying:
        varying = [inputs.size, *varying]
    shown_ = ("power", "bias", "rmse", "coverage_90")
    order = points.sort_values([*[c for c in inputs.lines if c in points], *([inputs.size] if inputs.size else [])])
    rows = []
    for r in order.to_dict("records"):
        cells = []
        for name in shown_:
            unit = unit_of(name, str(r["estimand"]))
            value, mcse, decimals = shown(float(r[name]), float(r.get(f"{name}_mcse", np.nan)), unit)
            if not _finite(value):
                cells.append({"value": t("diagnosis.diagnosands.unknown"), "mcse": ""})
            else:
                cells.append(
                    {"value": t.number(value, decimals), "mcse": t.number(mcse, decimals) if _finite(mcse) else ""}
                )
        _, used, failed, nonconverged = counts(r)
        rows.append(
            {
                "settings": [setting_value(t, c, r[c]) for c in varying],
                "cells": cells,
                "counts": [t.number(used, 0), t.number(failed, 0), t.number(nonconverged, 0)],
                "unknown": used == 0,
                "run": str(r.get("run", "")),
            }
        )
    estimand = str(points["estimand"].iloc[0])
    units = {name: t(f"diagnosis.units.{unit_of(name, estimand)}") for name in shown_}
    return Section(
        "points",
        t("diagnosis.sections.points"),
        "sections/diagnosis_points.html.j2",
        {
            "intro": t("diagnosis.points.intro"),
            "setting_headers": [_capital(setting_label(t, c)) for c in varying],
            "headers": [f"{t(f'diagnosis.diagnosands.{n}.label')} ({units[n]})" for n in shown_],
            "count_headers": [t(f"diagnosis.points.{k}") for k in ("used", "failed", "nonconverged")],
            "run_header": t("diagnosis.points.run") if inputs.sweep else "",
            "rows": rows,
        },
    )


# ------------------------------------------------------------------ pictures
def picture(key: str, t: Locale, image: str, missing: str = "", **values: Any) -> dict[str, str]:
    return {
        "id": f"figure-{key.replace('_', '-')}",
        "title": t(f"diagnosis.pictures.{key}.title"),
        "caption": t(f"diagnosis.pictures.{key}.caption", **values) if image else "",
        "png": image,
        "missing": missing or t("pictures.missing"),
    }


def pictures_section(inputs: DiagnosisInputs, t: Locale, points: pd.DataFrame) -> Section:

    out = []
    if inputs.size and len(points) > 1:
        groups = line_groups(points, inputs.lines, t)
        known = np.isfinite(points["power"].to_numpy(float)).any()
        image = figures.png(figures.power_curve_figure(points, inputs.size, groups, inputs.target, t)) if known else ""
        out.append(picture("power_curve", t, image, t("diagnosis.pictures.no_fit"), target=t.percent(inputs.target, 0)))
    main = inputs.main
    if main is not None:
        reps = _reps_of(inputs, str(main["point"]))

        include = bool(inputs.meta.config.get("diagnose", {}).get("include_nonconverged", False))
        used = reps[usable(reps, include)] if len(reps) else reps
        estimand = str(main["estimand"])
        factor, _ = display(estimand)
        axis = axis_label(t, estimand)
        have = len(used) > 0
        out.append(
            picture(
                "sampling",
                t,
                figures.sampling_figure(used, factor, axis, t) if have else "",
                t("diagnosis.pictures.no_fit"),
                n=len(used),
            )
        )
        out.append(
            picture(
                "intervals",
                t,
                figures.intervals_figure(used, factor, axis, t) if have else "",
                t("diagnosis.pictures.no_fit"),
            )
        )
    return Section(
        "pictures",
        t("diagnosis.sections.pictures"),
        "sections/pictures.html.j2",
        {"figures": out, "one_world": ""},
    )


# ------------------------------------------------------------------ how this was made
def method_section(inputs: DiagnosisInputs, t: Locale, points: pd.DataFrame) -> Section:
    first = points.iloc[0].to_dict()
    settings = [(t("diagnosis.method.settings.trial"), _capital(trial_name(t, str(first["trial"]))))]
    for c in [c for c in points.columns if c.startswith("trial.")]:
        values = list(dict.fromkeys(setting_value(t, c, v) for v in points[c]))
        settings.append((_capital(setting_label(t, c)), ", ".join(values)))
    config = inputs.meta.config.get("diagnose", {})
    plain = [
        ("estimator", str(first["estimator"])),
        ("mode", mode_name(t, str(first["mode"]))),
        ("outcome", trial_outcome(t, str(first["outcome"]))),
        ("estimand", estimand_name(t, str(first["estimand"]))),
        ("rule", t(f"diagnosis.rules.{first['rule']}") if t.has(f"diagnosis.rules.{first['rule']}") else first["rule"]),
        ("replications", ", ".join(dict.fromkeys(t.number(float(v), 0) for v in points["n_replications"]))),
        ("worlds", str(first.get("worlds", "–"))),
        ("world", str(first.get("world_name", "–"))),
        ("seed", str(first.get("run_seed", inputs.meta.seed))),
        (
            "include_nonconverged",
            t("diagnosis.method.yes" if config.get("include_nonconverged") else "diagnosis.method.no"),
        ),
        ("points", ", ".join(str(p) for p in points["point"])),
        ("store", str(config.get("store", "–"))),
        ("language", t("language_name")),
    ]
    settings += [(t(f"diagnosis.method.settings.{k}"), str(v)) for k, v in plain]
    if inputs.sweep:
        files = ["diagnosands_csv_sweep", "report_diagnosands_csv", "power_curve_png", "mde_csv", "size_for_power_csv"]
    else:
        files = ["diagnosands_csv", "replications_parquet", "report_diagnosands_csv"]
        files += ["solve_for_n_csv"] if inputs.solve is not None else []
    names = {"power_curve_png": "power_curve.png", "replications_parquet": "replications.parquet"}
    data = provenance(
        t,
        settings,
        [
            (names.get(f, f.removesuffix("_sweep").removesuffix("_csv") + ".csv"), t(f"diagnosis.method.files.{f}"))
            for f in files
        ],
        inputs.meta.versions,
        inputs.meta.command,
        inputs.meta.config_text,
    )
    if inputs.sweep:
        data["config_title"] = t("diagnosis.method.sweep_config_title")
        data["command_note"] = t("diagnosis.method.sweep_command_note")
    return Section(
        "method",
        t("diagnosis.sections.method"),
        "sections/diagnosis_method.html.j2",
        {"intro": t("diagnosis.method.intro"), **data},
    )


# ------------------------------------------------------------------ the whole report
def build_diagnosis_context(
    inputs: DiagnosisInputs, language: str, tables: dict[str, pd.DataFrame] | None = None
) -> dict[str, Any]:
    """Everything the template shows, in one language: warnings first, then the sections in order."""
    t = Locale(language)
    points = inputs.points
    main = inputs.main
    first = points.iloc[0].to_dict()
    sections = [summary_section(inputs, t)]
    if main is not None:
        sections.append(diagnosands_section(inputs, t, main))
    if len(points) > 1:
        sections.append(points_section(inputs, t, points))
    sections += [pictures_section(inputs, t, points), method_section(inputs, t, points)]
    replications = ", ".join(dict.fromkeys(t.number(float(v), 0) for v in points["n_replications"]))
    subtitle = t(
        "diagnosis.subtitle_sweep" if len(points) > 1 else "diagnosis.subtitle",
        trial=_capital(trial_name(t, str(first["trial"]))),
        points=len(points),
        replications=replications,
        mode=mode_name(t, str(first["mode"])),
    )
    return {
        "lang": language,
        "title": t("diagnosis.title"),
        "subtitle": subtitle,
        "synthetic_note": t("diagnosis.synthetic_note"),
        "contents": t("contents"),
        "warnings_title": t("sections.warnings"),
        "warnings": warnings(inputs, t),
        "sections": sections,
    }
