"""The audit report's pictures (matplotlib, embedded as base64 PNG like the other reports' pictures): each group's
false-positive rate ratio with and without the tool, calibration curves by group, the ratios year by year with the
tool trained once and retrained, and the public debate's trade-off between accuracy and disparity.

Every label comes from the report's language and every number on an axis is formatted in it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from sim.audit import FOUR_FIFTHS
from sim.report.figures import BASELINE_COLOUR, COLOURS, STYLE, _formatter, png
from sim.report.i18n import Locale

#: Ratios are drawn on a log scale with these ticks.
RATIO_TICKS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
#: Ratio axes show at most this range; an interval beyond it is cut at the edge.
RATIO_LIMITS = (0.1, 10.0)


def _ratio_axis(ax: Any, t: Locale, axis: str = "x") -> None:
    from matplotlib.ticker import FixedLocator, NullLocator

    getattr(ax, f"set_{axis}scale")("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    lo, hi = getattr(ax, f"get_{axis}lim")()
    ticks = [x for x in RATIO_TICKS if lo <= x <= hi] or [1.0]
    target.set_major_locator(FixedLocator(ticks))
    target.set_minor_locator(NullLocator())
    target.set_major_formatter(_formatter(t, 2))


def fpr_ratio_figure(rows: pd.DataFrame, t: Locale, label: Callable[[str, str], str]) -> str:
    """One line per group: the false-positive rate ratio to the rest with the tool (with its 95% Monte Carlo
    interval) and without it (the twin), against the four-fifths band."""
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8.5, 0.34 * len(rows) + 1.4))
        y = np.arange(len(rows))[::-1]
        ax.axvspan(*FOUR_FIFTHS, color="#eeeeee", zorder=0, label=t("audit.figures.band"))
        ax.axvline(1.0, color="#999999", linewidth=0.8)
        err = np.vstack([rows["ratio"] - rows["ratio_lower"], rows["ratio_upper"] - rows["ratio"]])
        ax.errorbar(rows["ratio"], y, xerr=err, fmt="o", color=COLOURS[4], label=t("audit.figures.with_tool"))
        ax.plot(rows["twin_ratio"], y, "|", color=BASELINE_COLOUR, markersize=12, label=t("audit.figures.twin"))
        flagged = rows["flagged"].to_numpy(dtype=bool)
        if flagged.any():
            ax.plot(
                rows["ratio"][flagged], y[flagged], "o", color=COLOURS[3], zorder=4, label=t("audit.figures.flagged")
            )
        ax.set_yticks(y, [label(f, lv) for f, lv in zip(rows["feature"], rows["level"], strict=True)])
        ax.set_xlabel(t("audit.figures.fpr_ratio_axis"))
        lo = min(0.5, float(np.nanmin(rows[["ratio_lower", "twin_ratio"]].to_numpy())) * 0.9)
        hi = max(2.0, float(np.nanmax(rows[["ratio_upper", "twin_ratio"]].to_numpy())) * 1.1)
        ax.set_xlim(max(lo, RATIO_LIMITS[0]), min(hi, RATIO_LIMITS[1]))
        _ratio_axis(ax, t)
        ax.grid(axis="y", visible=False)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, fontsize=8, frameon=False)
        return png(fig)


def calibration_figure(cal: pd.DataFrame, t: Locale, feature_name: Callable[[str], str], level_name: Callable) -> str:
    """One panel per feature: observed share of the target against the mean predicted risk, decile by decile, one
    line per level; on the diagonal the tool is calibrated for the group."""
    import matplotlib.pyplot as plt

    features = list(dict.fromkeys(cal["feature"]))
    with plt.rc_context(STYLE):
        cols = 3
        rows_n = int(np.ceil(len(features) / cols))
        fig, axes = plt.subplots(rows_n, cols, figsize=(10, 3.1 * rows_n), squeeze=False)
        top = float(np.nanmax(cal[["mean_predicted", "observed"]].to_numpy())) * 1.05
        for ax, feature in zip(axes.flat, features, strict=False):
            part = cal[cal["feature"] == feature]
            ax.plot([0, top], [0, top], color="#999999", linewidth=0.8)
            for i, (level, curve) in enumerate(part.groupby("level", sort=True)):
                curve = curve.sort_values("decile")  # noqa: PLW2901
                label = level_name(feature, level)
                ax.plot(curve["mean_predicted"], curve["observed"], "o-", color=COLOURS[i], markersize=3, label=label)
            ax.set_title(feature_name(feature), fontsize=10)
            ax.set_xlim(0, top)
            ax.set_ylim(0, top)
            ax.xaxis.set_major_formatter(_formatter(t, 2))
            ax.yaxis.set_major_formatter(_formatter(t, 2))
            ax.legend(fontsize=7, loc="upper left")
        for ax in list(axes.flat)[len(features) :]:
            ax.set_visible(False)
        fig.supxlabel(t("audit.figures.predicted_axis"), fontsize=10)
        fig.supylabel(t("audit.figures.observed_axis"), fontsize=10)
        fig.tight_layout()
        return png(fig)


def over_time_figure(
    data: pd.DataFrame, groups: list[tuple[str, str]], worlds: dict[str, str], t: Locale, label: Callable
) -> str:
    """One panel per group: its false-positive rate ratio to the rest, year by year, in each world (without the
    tool, trained once, retrained), with 95% Monte Carlo intervals."""
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):
        cols = min(len(groups), 2)
        rows_n = int(np.ceil(len(groups) / cols))
        fig, axes = plt.subplots(rows_n, cols, figsize=(9, 3.0 * rows_n), squeeze=False, sharey=True)
        for ax, (feature, level) in zip(axes.flat, groups, strict=False):
            part = data[(data["feature"] == feature) & (data["level"] == level) & (data["metric"] == "fpr")]
            ax.axhspan(*FOUR_FIFTHS, color="#eeeeee", zorder=0)
            for i, (world, name) in enumerate(worlds.items()):
                w = part[part["world"] == world].sort_values("year")
                colour = BASELINE_COLOUR if world == "baseline" else COLOURS[(i + 3) % len(COLOURS)]
                ax.plot(w["year"], w["ratio"], "o-", color=colour, markersize=3, label=name)
                ax.fill_between(w["year"], w["ratio_lower"], w["ratio_upper"], color=colour, alpha=0.12)
            ax.set_title(label(feature, level), fontsize=10)
            ax.xaxis.set_major_locator(_integer_locator())
            ax.set_ylim(0.4, 6.0)
            _ratio_axis(ax, t, "y")
        for ax in list(axes.flat)[len(groups) :]:
            ax.set_visible(False)
        axes.flat[0].legend(fontsize=7, loc="upper left")
        fig.supylabel(t("audit.figures.fpr_ratio_axis"), fontsize=10)
        fig.tight_layout()
        return png(fig)


def _integer_locator() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True, nbins=5)


def tradeoff_figure(points: pd.DataFrame, twin: float, t: Locale) -> str:
    """Each tool (as configured and the scenarios) as a point: its AUC across, its largest false-positive rate
    ratio between a group and the rest up, each with its 95% Monte Carlo interval; the twin's largest ratio as a
    dashed line. ``points`` has columns name, auc, auc_lower, auc_upper, ratio, ratio_lower, ratio_upper."""
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8.5, 5.0))
        ax.axhspan(1.0, FOUR_FIFTHS[1], color="#eeeeee", zorder=0, label=t("audit.figures.band_either_way"))
        ax.axhline(twin, color=BASELINE_COLOUR, linestyle="--", linewidth=1, label=t("audit.figures.twin_largest"))
        for i, p in enumerate(points.itertuples()):
            ax.errorbar(
                p.auc,
                p.ratio,
                xerr=[[p.auc - p.auc_lower], [p.auc_upper - p.auc]],
                yerr=[[p.ratio - p.ratio_lower], [p.ratio_upper - p.ratio]],
                fmt="o",
                color=COLOURS[i % len(COLOURS)],
                label=p.name,
                capsize=2,
            )
        ax.set_xlabel(t("audit.figures.auc_axis"))
        ax.set_ylabel(t("audit.figures.largest_axis"))
        left, right = float(np.nanmin(points["auc"])), float(np.nanmax(points["auc"]))
        pad = max(0.02, (right - left) * 0.5)
        ax.set_xlim(max(0.5, left - pad), min(1.0, right + pad))
        top = float(np.nanmax([*points["ratio"], twin])) * 1.5
        ax.set_ylim(1.0, min(max(top, 2.0), RATIO_LIMITS[1]))
        ax.xaxis.set_major_formatter(_formatter(t, 2))
        ax.yaxis.set_major_formatter(_formatter(t, 1))
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
        return png(fig)
