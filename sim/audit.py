"""A counterfactual fairness audit of the risk tool (``experiment=audit``).

A real audit sees only the world with the tool. Here each replication simulates the world with the risk tool and
its twin without it (same seed, the burn-in shared), so the audit reports both what a real audit could measure
and what only the twins show:

- **Group metrics** (:func:`group_metrics`, with fairlearn's ``MetricFrame``): for every recorded feature of a
  report (parents' education, unemployment, psychiatric contact, single parent; the child's sex and age band)
  and every pairwise intersection, over the scored reports of the observation period that the screening decided
  (reports on a child with an open case apart) and whose outcome is known: the tool's AUC for its target, its
  calibration (observed ÷ mean predicted), and at the decision in use (the report was taken to an investigation,
  acute included) the false-positive rate (investigated among those the target did not follow), the
  false-negative rate, the screen-in rate (taken further: advice, investigation or acute) and the investigation
  rate. Each group is compared with the rest of the reports: a ratio for rates, a difference for the AUC. The
  same metrics in the twin without the tool (its screeners' own decisions; AUC and calibration need the score,
  so they are the tool world's only) say which disparities the tool made.
- **Disparate impact** (:func:`group_counts`): for every feature level, what the tool changed for the group's
  children, per 1,000 child-years of the group: investigations, measures and placements started, re-reports,
  the years spent faring badly, and the share of the extra investigations that went to children not faring badly
  when reported (who did not need them).

Over replications every quantity has a mean and a 95% Monte Carlo interval (Student t; ratios on the log scale).
A group is **flagged** when its false-positive rate ratio in the tool's world lies outside [0.8, 1.25] (the
four-fifths rule, both ways), clearly (the ratio differs from 1), and the tool made it (the ratio differs from the
twin's). "Clearly" is a one-sample t-test over replications on the log scale, for the ratio and for its change
from the twin, each Holm-adjusted at 5% family-wise over a family of groups: the levels of the single features
(14), and apart from them their pairwise intersections (about 80). An audit compares dozens of groups, and
unadjusted 95% intervals would flag a few of them by chance in every audit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.config.schema import PLACEMENT_TYPES, Config
from sim.model import SimulationResult, simulate_variants
from sim.parallel import parallel_map
from sim.policies.risk_tool import LABEL
from sim.rng import replication_seeds
from sim.scenarios import mc_interval
from sim.tables import Tables

#: The report's recorded features an audit compares, each as a function of the scored reports' frame.
FEATURES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "parent_education": lambda r: r["parent_education"].astype(str),
    "parent_unemployed": lambda r: r["parent_unemployed"].map({True: "yes", False: "no"}),
    "parent_psychiatric": lambda r: r["parent_psychiatric"].map({True: "yes", False: "no"}),
    "single_parent": lambda r: r["single_parent"].map({True: "yes", False: "no"}),
    "sex": lambda r: r["sex"].astype(str),
    "age_band": lambda r: pd.cut(r["age"], [0, 6, 12, 19], right=False, labels=["0-5", "6-11", "12-17"]).astype(str),
}
#: The four-fifths rule, both ways: a rate ratio outside this band is a disparity worth a look.
FOUR_FIFTHS = (0.8, 1.25)
#: Family-wise error rate of the flags (Holm over the groups tested).
FAMILY_ALPHA = 0.05
TAKEN_FURTHER = ("advice", "investigation", "acute")
INVESTIGATED = ("investigation", "acute")
RATE_METRICS = ("fpr", "fnr", "screen_in_rate", "investigation_rate")
SCORE_METRICS = ("auc", "mean_predicted", "observed", "calibration")
#: What the disparate impact counts for each group (per 1,000 child-years): starts of investigations, measures and
#: placements, re-reports (a report on a child reported before), the years the children spent faring badly; and the
#: investigations opened by a report on a child not faring badly then.
OUTCOMES = ("investigations", "measures", "placements", "rereports", "years_faring_badly")
COUNTS = (*OUTCOMES, "investigations_not_in_need")


def groups(frame: pd.DataFrame, intersections: bool = True) -> pd.DataFrame:
    """One column per feature (``FEATURES``) and, with ``intersections``, per pair of features (``a x b``), each
    holding the row's level (``"yes"``, ``"basic"``, ``"girl & 6-11"``, ...)."""
    single = pd.DataFrame({name: f(frame) for name, f in FEATURES.items()}, index=frame.index)
    if not intersections:
        return single
    pairs = {f"{a} x {b}": single[a] + " & " + single[b] for a, b in itertools.combinations(FEATURES, 2)}
    return pd.concat([single, pd.DataFrame(pairs, index=frame.index)], axis=1)


def decided_reports(t: Tables, label: str) -> pd.DataFrame:
    """The observation period's reports whose screening decided them (screened, no open case) and whose
    ``label`` outcome is known, with ``y`` (the label), ``screened_in`` and ``investigated``, and the tool's
    ``risk`` for the label's horizon where the world has scores."""
    r = t.observed(t.reports)
    r = r[r["triage"].notna() & (r["triage"] != "open_case") & r[label].notna()].copy()
    r["y"] = r[label].astype(int)
    r["screened_in"] = r["triage"].isin(TAKEN_FURTHER).astype(int)
    r["investigated"] = r["triage"].isin(INVESTIGATED).astype(int)
    scores = t.policy_results.get("risk_scores")
    if scores is not None and len(scores):
        horizon = label.rsplit("_", 1)[-1]
        indexed = scores.set_index("report_id")
        r["risk"] = indexed[f"risk_{horizon}"].reindex(r["report_id"]).to_numpy()
        r["decile"] = indexed["decile"].reindex(r["report_id"]).to_numpy()
    else:
        r["risk"] = r["decile"] = np.nan
    return r


def _auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y_true, y_score)) if len(np.unique(y_true)) == 2 else math.nan


def _calibration(y_true: np.ndarray, y_score: np.ndarray) -> float:
    predicted = float(np.mean(y_score))
    return float(np.mean(y_true)) / predicted if predicted > 0 else math.nan


def _screen_in_rate(y_true: np.ndarray, y_pred: np.ndarray, screened: np.ndarray) -> float:
    return float(np.mean(screened))


def _metric_functions() -> tuple[dict[str, Callable], dict[str, Callable]]:
    """The decision's metrics (of the target ``y`` and ``investigated``; the screen-in rate reads ``screened``)
    and the score's (of ``y`` and ``risk``): fairlearn's and scikit-learn's functions."""
    from fairlearn.metrics import false_negative_rate, false_positive_rate, selection_rate

    decision = {
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
        "investigation_rate": selection_rate,
        "screen_in_rate": _screen_in_rate,
    }
    score = {
        "auc": _auc,
        "mean_predicted": lambda y, p: float(np.mean(p)),
        "observed": lambda y, p: float(np.mean(y)),
        "calibration": _calibration,
    }
    return decision, score


def _by_level(
    r: pd.DataFrame, level: pd.Series, within: pd.Series | None = None
) -> tuple[pd.DataFrame, dict[Any, dict[str, float]]]:
    """Each metric for every level of one feature (fairlearn's ``MetricFrame``, its ``by_group``: one row per
    level, or per value of ``within`` and level) and for the rest of the reports beside each (the same functions on
    the complement, within the same value of ``within``)."""
    from fairlearn.metrics import MetricFrame

    decision, score = _metric_functions()
    y, investigated, screened = (r[c].to_numpy(dtype=int) for c in ("y", "investigated", "screened_in"))
    levels = level.to_numpy()
    inside = within.to_numpy() if within is not None else None
    features = pd.DataFrame({"level": levels}) if inside is None else pd.DataFrame({"within": inside, "level": levels})
    frames = [
        MetricFrame(
            metrics=decision,
            y_true=y,
            y_pred=investigated,
            sensitive_features=features,
            sample_params={"screen_in_rate": {"screened": screened}},
        ).by_group
    ]
    scored = r["risk"].notna().to_numpy()
    risk = r["risk"].to_numpy(dtype=float)
    if scored.any():
        frames.append(
            MetricFrame(
                metrics=score, y_true=y[scored], y_pred=risk[scored], sensitive_features=features[scored]
            ).by_group
        )
    by_group = pd.concat(frames, axis=1)
    present = set(features.itertuples(index=False, name=None))
    by_group = by_group[[(k if isinstance(k, tuple) else (k,)) in present for k in by_group.index]]
    rest = {}
    for key in by_group.index:
        name = key if inside is None else key[1]
        other = levels != name if inside is None else (levels != name) & (inside == key[0])
        values = {m: f(y[other], investigated[other]) for m, f in decision.items() if m != "screen_in_rate"}
        values["screen_in_rate"] = _screen_in_rate(y[other], investigated[other], screened[other])
        if scored.any():
            both = other & scored
            values |= {m: f(y[both], risk[both]) for m, f in score.items()}
        rest[key] = values
    return by_group, rest


def group_metrics(r: pd.DataFrame, intersections: bool = True, within: str | None = None) -> pd.DataFrame:
    """Per feature level (of ``groups``): reports, each metric for the group and for the rest of the reports; with
    ``within`` (a column, such as ``year``), per value of it as well, the rest being the rest of that value's."""
    g = groups(r, intersections)
    rows = []
    for feature in g.columns:
        level = g[feature]
        if level.nunique() < 2:
            continue
        by_group, rest = _by_level(r, level, r[within] if within else None)
        keys = [level] if within is None else [r[within], level]
        reports = level.groupby(keys).size()
        for key in sorted(by_group.index):
            name = key if within is None else key[1]
            extra = {} if within is None else {within: key[0]}
            for metric in by_group.columns:
                rows.append(
                    {
                        "feature": feature,
                        "level": name,
                        "reports": int(reports[key]),
                        "metric": metric,
                        "group": float(by_group.loc[key, metric]),
                        "rest": float(rest[key][metric]),
                    }
                    | extra
                )
    return pd.DataFrame(rows)


def yearly_metrics(r: pd.DataFrame) -> pd.DataFrame:
    """``group_metrics`` of the single features (no intersections) in each calendar year of the reports."""
    return group_metrics(r, intersections=False, within="year")


def group_counts(t: Tables, households: pd.DataFrame) -> pd.DataFrame:
    """Per feature level (single features): the group's child-years in the observation period, its
    investigations, measures and placements started, its re-reports (reports on a child reported before), the
    years its children spent faring badly (month starts ÷ 12), and investigations opened by a report on a child
    not faring badly then (``investigations_not_in_need``)."""
    hh = households.set_index("household_id")
    panel = t.observed(t.panel)
    children = t.children.set_index("child_id")
    ev = t.observed(t.events)

    def frame(child: pd.Series, household: pd.Series, age: pd.Series) -> pd.DataFrame:
        h = hh.reindex(household.to_numpy())
        return pd.DataFrame(
            {
                "parent_education": h["education"].to_numpy(),
                "parent_unemployed": h["unemployed"].to_numpy(),
                "parent_psychiatric": h["psychiatric"].to_numpy(),
                "single_parent": h["single_parent"].to_numpy(),
                "sex": children["sex"].reindex(child.to_numpy()).to_numpy(),
                "age": age.to_numpy(dtype=float),
            }
        )

    years = groups(frame(panel["child_id"], panel["household_id"], panel["age"]), intersections=False)
    years["child_years"] = panel["months_present"].to_numpy() / 12.0
    years["years_faring_badly"] = panel["months_faring_badly"].to_numpy() / 12.0
    opening = ev.loc[ev["event"] == "case_open", ["case_id", "report_id"]].set_index("case_id")["report_id"]
    in_need = t.reports.set_index("report_id")["faring_badly_0m"]
    kinds = {
        "investigations": ev[ev["event"] == "investigation_start"],
        "measures": ev[ev["event"] == "measure_start"],
        "placements": ev[(ev["event"] == "measure_start") & ev["kind"].isin(PLACEMENT_TYPES)],
    }
    inv = kinds["investigations"]
    report_of = opening.reindex(inv["case_id"]).to_numpy()
    kinds["investigations_not_in_need"] = inv[~in_need.reindex(report_of).fillna(True).to_numpy(dtype=bool)]
    grouped = {
        name: groups(frame(e["child_id"], e["household_id"], pd.Series(t.age_at(e["child_id"], e["time"]))), False)
        for name, e in kinds.items()
    }
    reports = t.observed(t.reports)
    grouped["rereports"] = groups(reports[reports["prior_reports_child"] > 0], intersections=False)
    rows = []
    for feature in FEATURES:
        summed = years.groupby(feature)[["child_years", "years_faring_badly"]].sum()
        counted = {name: g[feature].value_counts() for name, g in grouped.items()}
        for level, cy in summed.iterrows():
            rows.append(
                {"feature": feature, "level": level, "child_years": float(cy["child_years"])}
                | {name: float(c.get(level, 0)) for name, c in counted.items()}
                | {"years_faring_badly": float(cy["years_faring_badly"])}
            )
    return pd.DataFrame(rows)


def overall_metrics(r: pd.DataFrame) -> pd.DataFrame:
    """Over every decided report: the tool's AUC (NaN without scores), the false-positive rate and the
    investigation rate; one row per metric (``feature`` and ``level`` "all")."""
    decision, score = _metric_functions()
    y, investigated = r["y"].to_numpy(dtype=int), r["investigated"].to_numpy(dtype=int)
    scored = r["risk"].notna().to_numpy()
    values = {
        "auc": score["auc"](y[scored], r["risk"].to_numpy(dtype=float)[scored]) if scored.any() else math.nan,
        "fpr": decision["fpr"](y, investigated),
        "investigation_rate": decision["investigation_rate"](y, investigated),
    }
    return pd.DataFrame({"feature": "all", "level": "all", "metric": list(values), "value": list(values.values())})


def calibration_by_group(r: pd.DataFrame) -> pd.DataFrame:
    """Per single feature level and score decile (1-10, the tool's own cut-points): reports, mean predicted risk
    and the observed share of the target."""
    scored = r[r["risk"].notna()]
    g = groups(scored, intersections=False)
    rows = []
    for feature in g.columns:
        by = scored.groupby([g[feature], scored["decile"].astype(int)])
        part = by.agg(reports=("y", "size"), mean_predicted=("risk", "mean"), observed=("y", "mean")).reset_index()
        rows.append(part.rename(columns={feature: "level"}).assign(feature=feature))
    cols = ["feature", "level", "decile", "reports", "mean_predicted", "observed"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def replicate(cfgs: dict[str, Config], seed: int) -> dict[str, pd.DataFrame]:
    """One replication: each world of ``cfgs`` (a name for each configuration with the risk tool; the first is the
    tool audited in full) and the twin without the tool (``baseline``), all with ``seed`` and sharing the months
    before the tool starts, each reduced in the process that simulated it to its metrics: group metrics (with the
    pairwise intersections for the twin and the first world), overall metrics and counts; yearly metrics for the
    twin, the first world and every retrained tool; and the first world's calibration by group."""
    first_name, first = next(iter(cfgs.items()))
    twin = replace(first, seed=seed, policy={k: v for k, v in first.policy.items() if k != "risk_tool"})
    worlds = {"baseline": twin, **{name: replace(c, seed=seed) for name, c in cfgs.items()}}

    def reducer(name: str, cfg: Config) -> Callable[[SimulationResult], dict[str, pd.DataFrame]]:
        tool = cfg.policy.get("risk_tool") or first.policy["risk_tool"]
        label = f"{LABEL[tool.target]}_12m"
        full = name in ("baseline", first_name)
        over_time = full or tool.retrain_every_years > 0

        def reduce(result: SimulationResult) -> dict[str, pd.DataFrame]:
            t = Tables.from_result(result)
            r = decided_reports(t, label)
            out = {
                "metrics": group_metrics(r, intersections=full),
                "overall": overall_metrics(r),
                "counts": group_counts(t, result.population["households"]),
            }
            if over_time:
                out["yearly"] = yearly_metrics(r)
            if name == first_name:
                out["calibration"] = calibration_by_group(r)
            return out

        return reduce

    reduced = simulate_variants(
        list(worlds.values()), reduce=[reducer(n, c) for n, c in worlds.items()], concurrent=False
    )
    parts = {part for r in reduced for part in r}
    return {
        part: pd.concat(
            [r[part].assign(world=name) for name, r in zip(worlds, reduced, strict=True) if part in r],
            ignore_index=True,
        )
        for part in sorted(parts)
    }


def scenario_configs(cfg: Config) -> dict[str, Config]:
    """The public debate's scenarios of ``audit.scenarios``: the audited tool (``cfg``'s risk tool) with each
    scenario's settings changed, by name."""
    tool = cfg.policy["risk_tool"]
    return {
        name: replace(cfg, policy={**cfg.policy, "risk_tool": replace(tool, **dict(changes))})
        for name, changes in cfg.audit.scenarios.items()
    }


def run_audit(
    cfg: Config,
    replications: int,
    workers: int = 0,
    also: dict[str, Config] | None = None,
    pool: Executor | None = None,
) -> list[dict]:
    """``replications`` replications of the world with the tool (``tool``, from ``cfg``) and its twin without, in
    parallel over ``workers`` processes (0: every core). ``also`` adds other worlds with the tool under their names
    (another setting of the tool, the same world and seeds), sharing each replication's twin."""
    cfgs = {"tool": cfg, **(also or {})}
    seeds = replication_seeds(cfg.seed, replications)
    return list(parallel_map(replicate, [cfgs] * replications, seeds, workers=workers, pool=pool))


def _log_ratio(a: pd.Series, b: pd.Series) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a.to_numpy(dtype=float) / b.to_numpy(dtype=float))


def fairness_table(runs: list[dict], world: str = "tool") -> pd.DataFrame:
    """Per feature level and metric: the group's and the rest's means over replications in the tool's world,
    the group's ratio to the rest (rates and calibration; for the AUC its difference), the same ratio in the twin
    without the tool, the change the tool made, each with a 95% Monte Carlo interval; and ``flagged``."""
    m = pd.concat([run["metrics"].assign(replication=i) for i, run in enumerate(runs)], ignore_index=True)
    m = m[m["world"].isin(["baseline", world])].replace({"world": {world: "tool"}})
    keys = ["feature", "level", "metric"]
    ours = m.loc[m["world"] == "tool", keys].drop_duplicates()
    m = m.merge(ours, on=keys)  # the groups of the audited world (the twin also has the intersections)
    wide = m.pivot_table(
        index=["feature", "level", "metric", "replication"], columns="world", values=["group", "rest", "reports"]
    )
    rows = []
    for (feature, level, metric), part in wide.groupby(level=["feature", "level", "metric"], sort=False):
        group, rest = part[("group", "tool")], part[("rest", "tool")]
        row = {"feature": feature, "level": level, "metric": metric, "reports": float(part[("reports", "tool")].mean())}
        row["group"], row["group_lower"], row["group_upper"] = mc_interval(group.to_numpy(dtype=float))
        row["rest"] = mc_interval(rest.to_numpy(dtype=float))[0]
        log_ratio = twin = np.array([])
        if metric == "auc":
            row["ratio"], row["ratio_lower"], row["ratio_upper"] = (math.nan,) * 3
            row["difference"], row["difference_lower"], row["difference_upper"] = mc_interval(
                (group - rest).to_numpy(dtype=float)
            )
            row["twin_ratio"], row["change_lower"], row["change_upper"] = (math.nan,) * 3
        else:
            log_ratio = _log_ratio(group, rest)
            mean, lo, hi = mc_interval(log_ratio)
            row["ratio"], row["ratio_lower"], row["ratio_upper"] = math.exp(mean), math.exp(lo), math.exp(hi)
            row["difference"], row["difference_lower"], row["difference_upper"] = mc_interval(
                (group - rest).to_numpy(dtype=float)
            )
            if ("group", "baseline") in part.columns and metric in RATE_METRICS:
                twin = _log_ratio(part[("group", "baseline")], part[("rest", "baseline")])
                row["twin_ratio"] = math.exp(mc_interval(twin)[0])
                with np.errstate(invalid="ignore"):
                    _, lo, hi = mc_interval(log_ratio - twin)
                row["change_lower"], row["change_upper"] = math.exp(lo), math.exp(hi)
            else:
                twin = np.full_like(log_ratio, np.nan)
                row["twin_ratio"], row["change_lower"], row["change_upper"] = (math.nan,) * 3
        row["ratio_p"], row["change_p"] = math.nan, math.nan
        if metric == "fpr":
            row["ratio_p"] = _p_value(log_ratio)
            with np.errstate(invalid="ignore"):
                row["change_p"] = _p_value(log_ratio - twin)
        row["replications"] = int(group.notna().sum())
        rows.append(row)
    out = pd.DataFrame(rows)
    out["flagged"] = False
    testable = (out["metric"] == "fpr") & out["ratio_p"].notna() & out["change_p"].notna()
    pairs = out["feature"].str.contains(" x ", regex=False)
    for family in (testable & ~pairs, testable & pairs):  # single features, then their intersections
        tested = out.index[family]
        if len(tested) == 0:
            continue
        from statsmodels.stats.multitest import multipletests

        ratio_clear = multipletests(out.loc[tested, "ratio_p"], alpha=FAMILY_ALPHA, method="holm")[0]
        change_clear = multipletests(out.loc[tested, "change_p"], alpha=FAMILY_ALPHA, method="holm")[0]
        outside = ~out.loc[tested, "ratio"].between(*FOUR_FIFTHS).to_numpy()
        out.loc[tested, "flagged"] = outside & ratio_clear & change_clear
    return out


def _p_value(values: np.ndarray) -> float:
    """Two-sided one-sample t-test of mean 0 over the finite values (NaN with fewer than 2 or no spread)."""
    v = values[np.isfinite(values)]
    if v.size < 2 or np.ptp(v) == 0:
        return 0.0 if v.size >= 2 and v[0] != 0 else math.nan
    return float(stats.ttest_1samp(v, 0.0).pvalue)


def disparate_impact_table(runs: list[dict], world: str = "tool") -> pd.DataFrame:
    """Per feature level and count: the rate per 1,000 child-years of the group without the tool and with it, the
    paired effect with its 95% Monte Carlo interval, and for investigations the share of the effect on children
    not faring badly when reported."""
    c = pd.concat([run["counts"].assign(replication=i) for i, run in enumerate(runs)], ignore_index=True)
    c = c[c["world"].isin(["baseline", world])].replace({"world": {world: "tool"}})
    wide = c.pivot_table(index=["feature", "level", "replication"], columns="world", values=["child_years", *COUNTS])
    rows = []
    for (feature, level), part in wide.groupby(level=["feature", "level"], sort=False):
        rate = {
            (name, w): 1000 * part[(name, w)] / part[("child_years", w)]
            for name in COUNTS
            for w in ("baseline", "tool")
        }
        for name in OUTCOMES:
            effect = (rate[(name, "tool")] - rate[(name, "baseline")]).to_numpy(dtype=float)
            mean, lo, hi = mc_interval(effect)
            share = math.nan
            if name == "investigations":
                not_in_need = (
                    rate[("investigations_not_in_need", "tool")] - rate[("investigations_not_in_need", "baseline")]
                ).sum()
                total = effect.sum()
                share = float(not_in_need / total) if total != 0 else math.nan
            rows.append(
                {
                    "feature": feature,
                    "level": level,
                    "outcome": f"{name}_per_1000",
                    "child_years": float(part[("child_years", "tool")].mean()),
                    "baseline": float(rate[(name, "baseline")].mean()),
                    "tool": float(rate[(name, "tool")].mean()),
                    "effect": mean,
                    "effect_lower": lo,
                    "effect_upper": hi,
                    "share_not_in_need": share,
                    "replications": len(effect),
                }
            )
    return pd.DataFrame(rows)


def _interval(values: pd.Series | np.ndarray, log: bool = False) -> tuple[float, float, float]:
    """Mean and 95% Monte Carlo interval over replications (NaNs dropped); with ``log`` of log values, returned
    on the ratio scale."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (math.nan,) * 3
    mean, lo, hi = mc_interval(v)
    return (math.exp(mean), math.exp(lo), math.exp(hi)) if log else (mean, lo, hi)


def over_time_table(runs: list[dict]) -> pd.DataFrame:
    """Per world, calendar year, single feature level and metric: the group's and the rest's means over
    replications, and the group's ratio to the rest (for the AUC the difference) with its 95% Monte Carlo
    interval. Shows whether a disparity grows while a tool is retrained on data its own use has shaped."""
    y = pd.concat([run["yearly"].assign(replication=i) for i, run in enumerate(runs)], ignore_index=True)
    rows = []
    for (world, year, feature, level, metric), part in y.groupby(
        ["world", "year", "feature", "level", "metric"], sort=False
    ):
        group, rest = part["group"].to_numpy(dtype=float), part["rest"].to_numpy(dtype=float)
        row = {
            "world": world,
            "year": int(year),
            "feature": feature,
            "level": level,
            "metric": metric,
            "reports": float(part["reports"].mean()),
            "group": _interval(group)[0],
            "rest": _interval(rest)[0],
        }
        if metric == "auc":
            row["ratio"] = row["ratio_lower"] = row["ratio_upper"] = math.nan
            row["difference"], row["difference_lower"], row["difference_upper"] = _interval(group - rest)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                row["ratio"], row["ratio_lower"], row["ratio_upper"] = _interval(np.log(group / rest), log=True)
            row["difference"], row["difference_lower"], row["difference_upper"] = _interval(group - rest)
        row["replications"] = int(np.isfinite(group).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def calibration_table(runs: list[dict]) -> pd.DataFrame:
    """Per single feature level and score decile of the audited tool: reports, mean predicted risk and the
    observed share of the target, each averaged over replications, the observed share with its 95% Monte Carlo
    interval (a calibration curve per group)."""
    c = pd.concat([run["calibration"].assign(replication=i) for i, run in enumerate(runs)], ignore_index=True)
    rows = []
    for (feature, level, decile), part in c.groupby(["feature", "level", "decile"], sort=True):
        observed, lo, hi = _interval(part["observed"])
        rows.append(
            {
                "feature": feature,
                "level": level,
                "decile": int(decile),
                "reports": float(part["reports"].mean()),
                "mean_predicted": float(part["mean_predicted"].mean()),
                "observed": observed,
                "observed_lower": lo,
                "observed_upper": hi,
                "replications": len(part),
            }
        )
    return pd.DataFrame(rows)


def tradeoff_table(runs: list[dict], worlds: list[str]) -> pd.DataFrame:
    """For the twin (``baseline``) and each world with the tool in ``worlds`` (the audited tool, then the public
    debate's scenarios): accuracy and disparity, each with its 95% Monte Carlo interval. Measures: ``auc`` (the
    tool's, over every decided report), ``fpr`` and ``investigation_rate`` (overall), ``largest_fpr_ratio`` (the
    worst disparity: the false-positive rate ratio of the single feature's group furthest from the rest, either
    way, so at least 1; its row names the group), and per group ``fpr_ratio`` and
    ``investigations_effect_per_1000`` (the tool's effect on the group's investigations per 1,000 child-years,
    against the twin)."""
    overall = pd.concat([run["overall"].assign(replication=i) for i, run in enumerate(runs)], ignore_index=True)
    metrics = pd.concat([run["metrics"].assign(replication=i) for i, run in enumerate(runs)], ignore_index=True)
    fpr = metrics[(metrics["metric"] == "fpr") & ~metrics["feature"].str.contains(" x ", regex=False)].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        fpr["log_ratio"] = np.log(fpr["group"] / fpr["rest"])
    rows = []
    for world in ["baseline", *worlds]:
        for metric, part in overall[overall["world"] == world].groupby("metric", sort=False):
            rows.append(_tradeoff_row(world, "all", "all", metric, _interval(part["value"])))
        ours = fpr[fpr["world"] == world]
        by_group = {key: part["log_ratio"].to_numpy() for key, part in ours.groupby(["feature", "level"], sort=False)}
        for (feature, level), log_ratio in by_group.items():
            rows.append(_tradeoff_row(world, feature, level, "fpr_ratio", _interval(log_ratio, log=True)))
        if by_group:  # the group furthest from the rest (of a binary feature's two, the one above 1), as >= 1
            (feature, level), log_ratio = max(
                by_group.items(), key=lambda kv: (round(abs(np.nanmean(kv[1])), 9), np.nanmean(kv[1]) > 0)
            )
            side = np.sign(np.nanmean(log_ratio)) or 1.0
            largest = _interval(side * log_ratio, log=True)
            rows.append(_tradeoff_row(world, feature, level, "largest_fpr_ratio", largest))
        if world == "baseline":
            continue
        inv = disparate_impact_table(runs, world).query("outcome == 'investigations_per_1000'")
        for r in inv.itertuples():
            interval = (r.effect, r.effect_lower, r.effect_upper)
            rows.append(_tradeoff_row(world, r.feature, r.level, "investigations_effect_per_1000", interval))
    return pd.DataFrame(rows)


def _tradeoff_row(world: str, feature: str, level: str, measure: str, interval: tuple[float, ...]) -> dict:
    value, lower, upper = interval
    return {
        "world": world,
        "feature": feature,
        "level": level,
        "measure": measure,
        "value": value,
        "lower": lower,
        "upper": upper,
    }
