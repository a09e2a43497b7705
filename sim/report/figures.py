"""The report's pictures, drawn with matplotlib and embedded as base64 PNG (no file beside the report, nothing
fetched): the flow from report to placement, outcomes and caseload over time, and the cost per year; for a design
diagnosis, the sampling distribution of the estimates against the truth, each replication's interval, and the
power curve (also ``power_curve.png`` of a sweep).

Every label comes from the report's language and every number on an axis is formatted in it.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any

import numpy as np
import pandas as pd

from sim.report.i18n import Locale
from sim.report.inputs import ReportInputs, cost_items

BASELINE = "baseline"
#: Okabe-Ito colours (readable with colour blindness); baseline is dark grey.
COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#999933", "#882255")
BASELINE_COLOUR = "#333333"
STAGES = ("reports", "screened", "investigations", "measures", "placements")
DPI = 100
STYLE = {
    "font.size": 10,
    "font.family": "DejaVu Sans",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "text.parse_math": False,  # scenario and world names are text, never math
    "svg.hashsalt": "report",
}


def colour(scenarios: list[str], s: str) -> str:
    if s == BASELINE:
        return BASELINE_COLOUR
    others = [x for x in scenarios if x != BASELINE]
    return COLOURS[others.index(s) % len(COLOURS)]


def png_bytes(fig: Any) -> bytes:
    """The figure as PNG, without the metadata that would change from one run to the next; the figure is closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None}, facecolor="white")
    plt.close(fig)
    return buf.getvalue()


def png(fig: Any) -> str:
    """The figure as a base64 PNG, to embed in the report."""
    return base64.b64encode(png_bytes(fig)).decode("ascii")


def _formatter(t: Locale, decimals: int = 0) -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: t.number(x, decimals))


def _decimals(values: pd.Series | np.ndarray) -> int:
    span = float(np.nanmax(values) - np.nanmin(values)) if len(values) else 0.0
    return 0 if span >= 5 else (1 if span >= 0.5 else 2)


def flow_figure(flow: pd.DataFrame, t: Locale, names: dict[str, str]) -> str:
    """A row of boxes per scenario, report -> screening -> investigation -> measure -> placement, each with the
    number a year and, for policies, the difference from baseline; box height grows with the number."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    scenarios = list(dict.fromkeys(flow["scenario"]))
    stages = [s for s in STAGES if s in set(flow["stage"])]
    top = flow.groupby("stage")["per_year"].max()
    rows = len(scenarios)
    with plt.rc_context(STYLE | {"axes.grid": False}):
        fig, ax = plt.subplots(figsize=(11.5, 0.95 * rows + 1.1))
        ax.set_xlim(-2.4, len(stages) - 0.2)
        ax.set_ylim(-rows + 0.4, 1.0)
        ax.axis("off")
        for j, stage in enumerate(stages):
            ax.text(
                j + 0.3, 0.68, _wrap(t(f"pictures.flow.stages.{stage}"), 16), ha="center", va="center", weight="bold"
            )
            if j:
                ax.annotate(
                    "",
                    xy=(j - 0.17, 0.0),
                    xytext=(j - 0.33, 0.0),
                    arrowprops={"arrowstyle": "-|>", "color": "#777777", "lw": 1.2},
                )
        for i, s in enumerate(scenarios):
            y = -i
            ax.text(-2.35, y, _wrap(names[s], 24), ha="left", va="center", color=colour(scenarios, s), weight="bold")
            part = flow[flow["scenario"] == s].set_index("stage")
            for j, stage in enumerate(stages):
                if stage not in part.index or not math.isfinite(part.loc[stage, "per_year"]):
                    continue
                value = float(part.loc[stage, "per_year"])
                h = 0.25 + 0.5 * math.sqrt(max(value, 0) / top[stage]) if top[stage] > 0 else 0.25
                box = FancyBboxPatch(
                    (j - 0.1, y - h / 2),
                    0.8,
                    h,
                    boxstyle="round,pad=0.02,rounding_size=0.06",
                    facecolor=colour(scenarios, s),
                    alpha=0.22 if s != BASELINE else 0.14,
                    edgecolor=colour(scenarios, s),
                )
                ax.add_patch(box)
                label = t.number(value, 0 if value >= 10 else 1)
                if s != BASELINE:
                    d = float(part.loc[stage, "difference"])
                    ax.text(j + 0.3, y + 0.1, label, ha="center", va="center", fontsize=11, weight="bold")
                    ax.text(
                        j + 0.3,
                        y - 0.16,
                        t.number(d, 0 if abs(d) >= 10 else 1, signed=True),
                        ha="center",
                        va="center",
                        fontsize=9,
                        color="#444444",
                    )
                else:
                    ax.text(j + 0.3, y, label, ha="center", va="center", fontsize=11, weight="bold")
        return png(fig)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def _lines(ax: Any, data: pd.DataFrame, column: str, scenarios: list[str], names: dict[str, str], t: Locale) -> None:
    for s in scenarios:
        part = data[data["scenario"] == s]
        if part.empty:
            continue
        ax.plot(
            part["year"],
            part[column],
            marker="o",
            markersize=4,
            lw=2.2 if s == BASELINE else 1.6,
            color=colour(scenarios, s),
            label=names[s],
            zorder=3 if s == BASELINE else 2,
        )
    years = sorted(data["year"].unique())
    ax.set_xticks(years)
    ax.set_xticklabels([str(int(y)) for y in years])
    ax.yaxis.set_major_formatter(_formatter(t, _decimals(data[column])))
    ax.set_xlabel(t("pictures.year"))
    if len(years) > 8:
        ax.tick_params(axis="x", labelrotation=45)


def panels_figure(data: pd.DataFrame, columns: list[tuple[str, str]], t: Locale, names: dict[str, str]) -> str:
    """Side-by-side panels of yearly lines, one line per scenario, one legend below."""
    import matplotlib.pyplot as plt

    scenarios = list(dict.fromkeys(data["scenario"]))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(columns), figsize=(11.5, 4.2))
        for ax, (column, title) in zip(np.atleast_1d(axes), columns, strict=True):
            _lines(ax, data, column, scenarios, names, t)
            ax.set_title(title, loc="left", fontsize=11, weight="bold")
        handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
        fig.legend(
            handles, labels, loc="lower center", ncol=min(len(labels), 4), frameon=False, bbox_to_anchor=(0.5, -0.1)
        )
        fig.tight_layout()
        return png(fig)


def costs_figure(items: pd.DataFrame, totals: pd.DataFrame, t: Locale, names: dict[str, str]) -> str:
    """Horizontal stacked bars of the cost a year by item per scenario, with the total's Monte Carlo interval."""
    import matplotlib.pyplot as plt

    scenarios = list(dict.fromkeys(totals["scenario"]))
    groups = {
        "caseworkers": ("caseworkers",),
        "investigations": ("investigations",),
        "preventive": ("preventive",),
        "home_based": ("home_based",),
        "placements": ("network_foster", "foster_family", "institution", "opholdssted", "other_placement"),
    }
    known = {i for g in groups.values() for i in g}
    palette = ("#0072B2", "#56B4E9", "#009E73", "#E69F00", "#D55E00", "#CC79A7")
    with plt.rc_context(STYLE | {"axes.grid": False}):
        fig, ax = plt.subplots(figsize=(11.5, 0.6 * len(scenarios) + 1.6))
        y = np.arange(len(scenarios))[::-1]
        left = np.zeros(len(scenarios))
        series = [(key, items[items["item"].isin(members)]) for key, members in groups.items()]
        series.append(("policy", items[~items["item"].isin(known)]))
        for (key, part), c in zip(series, palette, strict=True):
            values = part.groupby("scenario")["dkk_per_year"].sum().reindex(scenarios).fillna(0.0).to_numpy() / 1e6
            if not values.any():
                continue
            ax.barh(y, values, left=left, color=c, label=t(f"costs.items.{key}"), height=0.62, edgecolor="white")
            left += values
        tot = totals.set_index("scenario").reindex(scenarios)
        lo = (tot["cost_total"] - tot["cost_total_lower"]).to_numpy() / 1e6
        hi = (tot["cost_total_upper"] - tot["cost_total"]).to_numpy() / 1e6
        if np.isfinite(lo).all() and np.isfinite(hi).all():
            ax.errorbar(tot["cost_total"] / 1e6, y, xerr=[lo, hi], fmt="none", ecolor="black", capsize=3, lw=1)
        ends = np.fmax(left, (tot["cost_total_upper"].to_numpy() / 1e6))
        for yi, end, total in zip(y, ends, tot["cost_total"].to_numpy() / 1e6, strict=True):
            ax.text(end + 0.01 * np.nanmax(ends), yi, t.number(total, 1), va="center", fontsize=9, weight="bold")
        ax.set_yticks(y)
        ax.set_yticklabels([_wrap(names[s], 30) for s in scenarios])
        ax.xaxis.set_major_formatter(_formatter(t, 0))
        ax.set_xlabel(t("pictures.costs.axis"))
        ax.set_xlim(0, float(np.nanmax(ends)) * 1.12)
        ax.grid(axis="x", color="#dddddd", lw=0.6)
        ax.legend(loc="lower center", ncol=3, frameon=False, bbox_to_anchor=(0.5, 1.0))
        fig.tight_layout()
        return png(fig)


def pictures(
    inputs: ReportInputs, t: Locale, tables: dict[str, pd.DataFrame], names: dict[str, str]
) -> list[dict[str, str]]:
    """Every figure of the report: id, title, caption, alt text and the base64 PNG (empty if not available)."""
    out = []
    flow = tables["report_flow"]
    out.append(_picture("flow", t, flow_figure(flow, t, names) if len(flow) else ""))
    over = tables["report_over_time"]
    have = len(over) > 0
    out.append(
        _picture(
            "over_time",
            t,
            panels_figure(
                over,
                [
                    ("placed_per_1000", t("pictures.over_time.placed")),
                    ("faring_badly_per_1000", t("pictures.over_time.faring_badly")),
                ],
                t,
                names,
            )
            if have
            else "",
        )
    )
    out.append(
        _picture(
            "caseload",
            t,
            panels_figure(
                over,
                [("caseload", t("pictures.caseload.caseload")), ("open_cases", t("pictures.caseload.open_cases"))],
                t,
                names,
            )
            if have
            else "",
        )
    )
    costs = tables["report_costs"]
    out.append(_picture("costs", t, costs_figure(cost_items(inputs), costs, t, names) if len(costs) else ""))
    return out


def _picture(key: str, t: Locale, image: str) -> dict[str, str]:
    return {
        "id": f"figure-{key.replace('_', '-')}",
        "title": t(f"pictures.{key}.title"),
        "caption": t(f"pictures.{key}.caption"),
        "png": image,
        "missing": t("pictures.missing"),
    }


# ------------------------------------------------------------------ how sure can we be (a PSA)
def acceptability_figure(curves: pd.DataFrame, t: Locale, names: dict[str, str], headline: float) -> str:
    """Per scenario, the probability of being the best choice against the price of a child-year of faring badly
    avoided (thousand DKK), with the headline price marked."""
    import matplotlib.pyplot as plt

    data = curves[curves["axis"] == "faring_badly"]
    scenarios = list(dict.fromkeys(data["scenario"]))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(9.5, 4.2))
        for s in scenarios:
            part = data[data["scenario"] == s]
            ax.plot(part["wtp"] / 1000, 100 * part["probability_best"], color=colour(scenarios, s), lw=2,
                    label=names.get(s, s))  # fmt: skip
        ax.axvline(headline / 1000, color="black", lw=0.8, ls="--")
        ax.set_ylim(-2, 102)
        ax.set_xlabel(t("uncertainty.figures.acceptability.x"))
        ax.set_ylabel(t("uncertainty.figures.acceptability.y"))
        ax.xaxis.set_major_formatter(_formatter(t, 0))
        ax.yaxis.set_major_formatter(_formatter(t, 0))
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        fig.tight_layout()
        return png(fig)


def plane_figure(plane: pd.DataFrame, t: Locale, names: dict[str, str], headline: float) -> str:
    """Each draw of each policy: child-years of faring badly avoided a year (x) against the extra cost a year
    (million DKK, y), with the line where a child-year avoided is worth the headline price."""
    import matplotlib.pyplot as plt

    scenarios = [BASELINE, *dict.fromkeys(plane["scenario"])]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(9.5, 5.0))
        for s in scenarios[1:]:
            part = plane[plane["scenario"] == s]
            ax.scatter(part["child_years_faring_badly_avoided"], part["extra_cost"] / 1e6, s=9, alpha=0.55,
                       color=colour(scenarios, s), label=names.get(s, s), linewidths=0)  # fmt: skip
        x = np.array(ax.get_xlim())
        ax.plot(x, headline * x / 1e6, color="black", lw=0.8, ls="--", label=t("uncertainty.figures.plane.line"))
        ax.axhline(0, color="#888888", lw=0.6)
        ax.axvline(0, color="#888888", lw=0.6)
        ax.set_xlim(*x)
        ax.set_xlabel(t("uncertainty.figures.plane.x"))
        ax.set_ylabel(t("uncertainty.figures.plane.y"))
        ax.xaxis.set_major_formatter(_formatter(t, _decimals(plane["child_years_faring_badly_avoided"])))
        ax.yaxis.set_major_formatter(_formatter(t, 1))
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, markerscale=2)
        fig.tight_layout()
        return png(fig)


# ------------------------------------------------------------------ design diagnosis
COVERS, MISSES = "#0072B2", "#D55E00"


def sampling_figure(reps: pd.DataFrame, factor: float, axis: str, t: Locale) -> str:
    """Histogram of the usable replications' estimates (posterior means), with the mean true effect, the mean
    estimate and no effect marked; where the truth differs between replications (each sample its own), the band
    of the middle 90% of the truths behind. ``factor`` scales to display units (100 for a risk difference in
    points)."""
    import matplotlib.pyplot as plt

    est = reps["estimate"].to_numpy(float) * factor
    truth = reps["truth"].to_numpy(float) * factor
    null = float(reps["null"].iloc[0]) * factor
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(11.5, 4.2))
        if np.ptp(truth) > 1e-9 * max(1.0, float(np.abs(truth).max())):
            lo, hi = np.quantile(truth, [0.05, 0.95])
            ax.axvspan(lo, hi, color="#bbbbbb", alpha=0.5, lw=0, label=t("diagnosis.pictures.sampling.truths"))
        bins = int(min(40, max(10, np.sqrt(est.size) * 1.5)))
        ax.hist(
            est,
            bins=bins,
            color=COLOURS[1],
            alpha=0.8,
            edgecolor="white",
            label=t("diagnosis.pictures.sampling.estimates"),
        )
        ax.axvline(truth.mean(), color="black", lw=2.2, label=t("diagnosis.pictures.sampling.truth"))
        ax.axvline(est.mean(), color=COLOURS[4], lw=1.6, ls="--", label=t("diagnosis.pictures.sampling.estimate"))
        ax.axvline(null, color="#777777", lw=1.2, ls=":", label=t("diagnosis.pictures.sampling.null"))
        ax.xaxis.set_major_formatter(locale_ticks(t))
        ax.yaxis.set_major_locator(_integer_ticks())
        ax.yaxis.set_major_formatter(locale_ticks(t))
        ax.set_xlabel(axis)
        ax.set_ylabel(t("diagnosis.pictures.sampling.count"))
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        fig.tight_layout()
        return png(fig)


def intervals_figure(reps: pd.DataFrame, factor: float, axis: str, t: Locale) -> str:
    """Every usable replication's 90% interval, sorted by its estimate, blue where it contains that replication's
    true effect and orange where it misses it; the truths as black marks, no effect dotted."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    d = reps.sort_values(["estimate", "seed"]).reset_index(drop=True)
    lo, hi = d["lower_90"].to_numpy(float) * factor, d["upper_90"].to_numpy(float) * factor
    est, truth = d["estimate"].to_numpy(float) * factor, d["truth"].to_numpy(float) * factor
    covers = (lo <= truth) & (truth <= hi)
    x = np.arange(1, len(d) + 1)
    width = float(np.clip(300 / max(len(d), 1), 0.6, 3.0))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(11.5, 4.2))
        ax.vlines(x, lo, hi, colors=np.where(covers, COVERS, MISSES), lw=width)
        dot = float(np.clip(600 / max(len(d), 1), 2.0, 22.0))
        ax.scatter(x, est, s=dot, facecolor="white", edgecolor="#333333", zorder=3, linewidths=min(1.0, dot / 10))
        ax.scatter(x, truth, s=14, marker="_", color="black", zorder=4, linewidths=1.2)
        ax.axhline(float(d["null"].iloc[0]) * factor, color="#777777", lw=1.2, ls=":")
        ax.set_xlim(0, len(d) + 1)
        ax.yaxis.set_major_formatter(locale_ticks(t))
        ax.xaxis.set_major_locator(_integer_ticks())
        ax.xaxis.set_major_formatter(locale_ticks(t))
        ax.set_xlabel(t("diagnosis.pictures.intervals.x"))
        ax.set_ylabel(axis)
        share = t.percent(float(covers.mean()), 1)
        handles = [
            Line2D([], [], color=COVERS, lw=3, label=t("diagnosis.pictures.intervals.covers", share=share)),
            Line2D([], [], color=MISSES, lw=3, label=t("diagnosis.pictures.intervals.misses")),
            Line2D(
                [],
                [],
                color="#333333",
                marker="o",
                mfc="white",
                ls="",
                ms=5,
                label=t("diagnosis.pictures.intervals.estimate"),
            ),
            Line2D([], [], color="black", marker="_", ls="", ms=10, label=t("diagnosis.pictures.intervals.truth")),
            Line2D([], [], color="#777777", ls=":", lw=1.2, label=t("diagnosis.pictures.sampling.null")),
        ]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        fig.tight_layout()
        return png(fig)


def power_curve_figure(
    points: pd.DataFrame, size: str, lines: list[tuple[str, pd.DataFrame]], target: float, t: Locale, title: str = ""
) -> Any:
    """Power against the size (log scale), one line per ``(label, points)`` with its 95% Monte Carlo band
    (power ± 1.96 MCSE), the target power dashed. Points whose power is unknown (every fit failed) are left
    out, never drawn as 0. Returns the open figure (``png`` embeds it, ``png_bytes`` writes it)."""
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(9.5, 4.8))
        for i, (label, group) in enumerate(lines):
            g = group[np.isfinite(group["power"].to_numpy(float))].sort_values(size)
            x, p = g[size].to_numpy(float), g["power"].to_numpy(float)
            se = np.nan_to_num(g["power_mcse"].to_numpy(float))
            c = COLOURS[i % len(COLOURS)] if len(lines) > 1 else COLOURS[4]
            ax.plot(x, p, marker="o", color=c, lw=1.8, label=label or None)
            ax.fill_between(x, np.clip(p - 1.96 * se, 0, 1), np.clip(p + 1.96 * se, 0, 1), color=c, alpha=0.2, lw=0)
        ax.fill_between([], [], [], color="#999999", alpha=0.3, lw=0, label=t("diagnosis.pictures.power_curve.band"))
        ax.axhline(target, color="#555555", ls="--", lw=1, label=t("diagnosis.pictures.power_curve.target"))
        sizes = sorted(points[size].astype(float).unique())
        ax.set_xscale("log")
        ax.set_xticks(sizes, [t.number(v, 0 if float(v).is_integer() else 2) for v in sizes])
        ax.minorticks_off()
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(_formatter_percent(t))
        ax.set_xlabel(t("diagnosis.pictures.power_curve.x", size=setting_label(t, size)))
        ax.set_ylabel(t("diagnosis.pictures.power_curve.y"))
        if title:
            ax.set_title(title, loc="left", fontsize=10)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        fig.tight_layout()
        return fig


def locale_ticks(t: Locale) -> Any:
    """Tick labels in the report's language with as many decimals as the ticks need (2.5, not 2 or 3): a
    matplotlib formatter, which sees every tick before it labels one."""
    from matplotlib.ticker import Formatter

    class Ticks(Formatter):
        ticks: tuple[float, ...] = ()

        def set_locs(self, locs: Any) -> None:
            self.ticks = tuple(float(v) for v in locs)

        def __call__(self, x: float, pos: Any = None) -> str:
            locs = np.asarray(self.ticks or [x], dtype=float)
            scale = max(1.0, float(np.abs(locs).max()))
            decimals = next((d for d in range(5) if np.allclose(np.round(locs, d), locs, atol=1e-9 * scale)), 4)
            return t.number(x, decimals)

    return Ticks()


def _integer_ticks() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _formatter_percent(t: Locale) -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: t.percent(x, 0))


def setting_label(t: Locale, key: str) -> str:
    """A design setting's name in the report's language (``trial.n_reports``: reports enrolled), or the key."""
    name = key.removeprefix("trial.")
    return t(f"diagnosis.settings.{name}") if t.has(f"diagnosis.settings.{name}") else name
