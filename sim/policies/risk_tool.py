"""The statistical risk tool at intake (TRYG-2019: "Underretninger i fokus", TrygFonden's Child Research Center).

When a report arrives, the caseworker sees the child's risk of faring badly within 3 and within 12 months,
estimated from data the agency already holds, with the information the score rests on. It supplements the
caseworker's own judgement; it does not replace it. The published tool was built on ≈100,000 reports and
reached an AUC above 0.87 for removal (PLOS-2024); it was never run on real cases, so its effect is unknown.

In the model:

- **Training.** A real scikit-learn model (standardised features, logistic regression) is trained at the start
  of the observation period on the reports of the burn-in whose 12-month outcome is already known, never on
  the period it is used in. Its features (:data:`FEATURES`) are the intake columns of ``reports.parquet``:
  what intake has when the report arrives, no later information.
- **Score.** For each report after training, the 3- and 12-month risks, and the 12-month risk's decile among
  the training reports (1-10), shown to the caseworker.
- **Response.** Where shown, triage uses ``(1 - adherence) * own judgement + adherence * J(decile)``, where
  J(d) is the d-th decile of the screeners' judgements in the training period: the score speaks the
  judgement's scale. Planning assumption: adherence 0.3 (swept 0-1).
- **Who sees it.** ``assignment: all`` shows it on every report; ``household`` shows it on all reports of a
  randomly chosen ``share_shown`` of households (TRYG-2019's trial: every report on a child and its siblings in
  the same arm).

``results()`` reports the held-out AUC, the calibration by decile and both by group of household.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from sim.agency.report_table import report_table
from sim.calendar import DAYS_PER_MONTH
from sim.config.evidence import assumed, setting
from sim.config.fields import choice, count, nonnegative, probability, share
from sim.config.schema import SOURCES
from sim.hooks import Context, Policy, PolicyConfig
from sim.policies.base import register

#: The intake columns of reports.parquet the tool may use: all known when the report arrives.
INTAKE_COLUMNS: tuple[str, ...] = (
    "age",
    "sex",
    "source",
    "sibling_report",
    "prior_reports_child",
    "prior_reports_household",
    "prior_measure",
    "open_case",
    "months_since_last_report",
    "parent_education",
    "parent_unemployed",
    "parent_psychiatric",
    "single_parent",
)
FEATURES: tuple[str, ...] = (
    "age_6_11",
    "age_12_17",
    "age",
    "boy",
    *(f"source_{s}" for s in SOURCES[:-1]),
    "sibling_report",
    "log_prior_reports_child",
    "log_prior_reports_household",
    "prior_measure",
    "open_case",
    "first_report",
    "log_months_since_last_report",
    "education_basic",
    "education_vocational",
    "parent_unemployed",
    "parent_psychiatric",
    "single_parent",
)
HORIZONS = (3, 12)


def design_matrix(
    age: np.ndarray,
    boy: np.ndarray,
    source: np.ndarray,
    sibling: np.ndarray,
    prior_child: np.ndarray,
    prior_household: np.ndarray,
    prior_measure: np.ndarray,
    open_case: np.ndarray,
    months_since_last: np.ndarray,
    education: np.ndarray,
    unemployed: np.ndarray,
    psychiatric: np.ndarray,
    single: np.ndarray,
) -> np.ndarray:
    """The tool's features, one row per report (columns :data:`FEATURES`). ``source`` and ``education`` are
    codes (index into SOURCES; 0 basic, 1 vocational, 2 higher); ``months_since_last`` is NaN for a first
    report."""
    age = np.asarray(age, dtype=float)
    source = np.asarray(source)
    first = np.isnan(np.asarray(months_since_last, dtype=float))
    gap = np.where(first, 0.0, np.asarray(months_since_last, dtype=float))
    cols = [
        (age >= 6) & (age < 12),
        age >= 12,
        age / 18.0,
        boy,
        *(source == i for i in range(len(SOURCES) - 1)),
        sibling,
        np.log1p(prior_child),
        np.log1p(prior_household),
        prior_measure,
        open_case,
        first,
        np.log1p(gap),
        np.asarray(education) == 0,
        np.asarray(education) == 1,
        unemployed,
        psychiatric,
        single,
    ]
    return np.column_stack([np.asarray(c, dtype=float) for c in cols])


_EDUCATION = {"basic": 0, "vocational": 1, "higher": 2}


def features_of(reports: pd.DataFrame) -> np.ndarray:
    """The design matrix of rows of ``reports.parquet`` (only its intake columns are read)."""
    r = reports[list(INTAKE_COLUMNS)]
    return design_matrix(
        r["age"].to_numpy(),
        (r["sex"] == "boy").to_numpy(),
        r["source"].map({s: i for i, s in enumerate(SOURCES)}).to_numpy(dtype=int),
        r["sibling_report"].to_numpy(),
        r["prior_reports_child"].to_numpy(),
        r["prior_reports_household"].to_numpy(),
        r["prior_measure"].to_numpy(),
        r["open_case"].to_numpy(),
        r["months_since_last_report"].to_numpy(dtype=float),
        r["parent_education"].map(_EDUCATION).to_numpy(dtype=int),
        r["parent_unemployed"].to_numpy(),
        r["parent_psychiatric"].to_numpy(),
        r["single_parent"].to_numpy(),
    )


@dataclass
class RiskToolConfig(PolicyConfig):
    """A statistical risk score at intake (TRYG-2019)."""

    adherence: float = share(
        0.3,
        "weight of the score in the caseworker's triage",
        assumed(
            0.0,
            1.0,
            "planning assumption; the tool supports the caseworker's judgement and was never used on real cases",
            "TRYG-2019",
        ),
    )
    assignment: str = choice("all", ("all", "household"), "show the score on every report, or by household")
    share_shown: float = probability(
        0.5,
        "with assignment=household: share of households shown the score",
        setting(0.0, 1.0, "the planned trial shows it in about half", "TRYG-2019"),
    )
    training_years: int = count(
        3,
        "years of reports before the observation period the model is trained on",
        setting(1, 10, "the burn-in's settled end; the published tool used 21 months of referrals", "PLOS-2024"),
    )
    regularisation: float = nonnegative(
        1.0, "inverse L2 strength C of the logistic regression", setting(0.01, 100.0, "scikit-learn's default")
    )
    cost_per_year_dkk: float = nonnegative(
        500_000.0,
        "running cost a year: licence, data, support",
        assumed(200_000.0, 1_500_000.0, "no published figure"),
    )


@dataclass
class _Model:
    """A fitted pipeline, its parameters for fast scoring, and the decile cut-points of its scores."""

    pipeline: object
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def score(self, x: np.ndarray) -> np.ndarray:
        """Predicted probabilities for rows ``x``: the pipeline's predict_proba, without its overhead."""
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


@register
class RiskTool(Policy):
    name = "risk_tool"
    Config = RiskToolConfig
    unit_costs: ClassVar[dict[str, str]] = {"cost_per_year_dkk": "risk_tool"}

    @classmethod
    def neutral(cls) -> RiskToolConfig:
        return RiskToolConfig(adherence=0.0)

    def attach(self, ctx: Context) -> None:
        super().attach(ctx)
        self.training_month = max(
            12 * ctx.world.cfg.burn_in_years, self.start_month(ctx.world.first_year, ctx.world.cfg.start_year)
        )
        self.models: dict[int, _Model] = {}
        self.cuts = np.array([])
        self.judgement_at_decile = np.array([])
        self.keyed = ctx.streams.keyed("policy", self.name)
        self.scores: list[tuple] = []
        self.training: dict[str, float] = {}

    # ---------------------------------------------------------------- training
    def on_month(self, month: int) -> None:
        if month >= self.training_month and not self.models:
            self._train(month)

    def _train(self, month: int) -> None:
        # scikit-learn takes a second to import: only a world that trains the tool pays for it, not every process
        # that imports the policies (each `python -m sim`)
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import roc_auc_score
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        ctx, c = self.ctx, self.cfg
        reports = report_table(ctx.world, ctx.agency, as_of_month=month)
        first = month - 12 * c.training_years
        usable = reports[(reports["month"] >= first) & reports["faring_badly_12m"].notna()]
        if usable.empty or usable["faring_badly_12m"].nunique() < 2:
            raise RuntimeError("the risk tool has no burn-in reports to train on: set world.burn_in_years >= 2")
        x = features_of(usable)
        for h in HORIZONS:
            y = usable[f"faring_badly_{h}m"].to_numpy(dtype=float)
            pipe = make_pipeline(StandardScaler(), LogisticRegression(C=c.regularisation, max_iter=2000))
            pipe.fit(x, y.astype(int))
            scaler, logreg = pipe[0], pipe[-1]
            self.models[h] = _Model(pipe, scaler.mean_, scaler.scale_, logreg.coef_[0], float(logreg.intercept_[0]))
        score12 = self.models[12].score(x)
        self.cuts = np.quantile(score12, np.arange(1, 10) / 10)
        judged = usable["screening_judgement"].dropna().to_numpy()
        self.judgement_at_decile = np.quantile(judged, (np.arange(10) + 0.5) / 10)
        self.training = {
            "month": month,
            "reports": len(usable),
            "auc_12m_train": float(roc_auc_score(usable["faring_badly_12m"].astype(int), score12)),
        }

    # ---------------------------------------------------------------- at screening
    def shown(self, household: int) -> bool:
        if self.cfg.assignment == "all":
            return True
        return self.keyed.uniform(household, 0, 0, 0) < self.cfg.share_shown

    def screening(self, report, judgement: float) -> float:
        if not self.models:
            return judgement
        w = self.ctx.world
        pop = w.pop
        child, hh = report.child, report.household
        x = design_matrix(
            [(report.arrival / DAYS_PER_MONTH - pop.child_birth[child]) / 12.0],
            [pop.child_sex[child] == 1],
            [report.source],
            [report.sibling_of >= 0],
            [report.prior_child],
            [report.prior_household],
            [report.prior_measure],
            [report.open_case],
            [report.months_since_last],
            [pop.hh_education[hh]],
            [pop.hh_unemployed[hh]],
            [pop.hh_psychiatric[hh]],
            [pop.hh_single_parent[hh]],
        )
        s3, s12 = float(self.models[3].score(x)[0]), float(self.models[12].score(x)[0])
        decile = int(np.searchsorted(self.cuts, s12, side="right")) + 1
        shown = self.shown(hh)
        self.scores.append((report.report_id, s3, s12, decile, shown))
        self.ctx.log.add(
            self.ctx.env.now,
            "policy",
            child,
            hh,
            report=report.report_id,
            kind=f"{self.name}:score",
            value=s12,
            flag=shown,
        )
        if not shown:
            return judgement
        a = self.cfg.adherence
        return (1.0 - a) * judgement + a * float(self.judgement_at_decile[decile - 1])

    # ---------------------------------------------------------------- after the run
    def yearly_costs(self) -> dict[str, float]:
        return {"risk_tool": self.cfg.cost_per_year_dkk}

    def results(self) -> dict[str, pd.DataFrame]:
        if not self.models:
            return {}
        scores = pd.DataFrame(self.scores, columns=["report_id", "risk_3m", "risk_12m", "decile", "shown"])
        reports = report_table(self.ctx.world, self.ctx.agency)
        scored = scores.merge(reports, on="report_id")
        return {
            "risk_scores": scores,
            "risk_tool_performance": performance(scored),
            "risk_tool_calibration": calibration_by_decile(scored),
            "risk_tool_training": pd.DataFrame([self.training]),
        }


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score  # imported when used: see RiskTool._train

    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else math.nan


def performance(scored: pd.DataFrame) -> pd.DataFrame:
    """Held-out AUC and calibration-in-the-large (mean predicted minus observed) overall and by group."""
    groups = {
        "all": pd.Series("all", index=scored.index),
        "parent_education": scored["parent_education"],
        "single_parent": scored["single_parent"].map({True: "yes", False: "no"}),
        "parent_psychiatric": scored["parent_psychiatric"].map({True: "yes", False: "no"}),
        "age": pd.cut(scored["age"], [0, 6, 12, 19], right=False, labels=["0-5", "6-11", "12-17"]).astype(str),
        "source": scored["source"].astype(str),
    }
    rows = []
    for h in HORIZONS:
        known = scored[scored[f"faring_badly_{h}m"].notna()]
        for name, g in groups.items():
            for level, part in known.groupby(g.loc[known.index], observed=True):
                y = part[f"faring_badly_{h}m"].to_numpy(dtype=int)
                p = part[f"risk_{h}m"].to_numpy()
                rows.append(
                    {
                        "horizon_months": h,
                        "group": name,
                        "level": str(level),
                        "reports": len(part),
                        "auc": _auc(y, p),
                        "mean_predicted": float(p.mean()),
                        "observed": float(y.mean()),
                        "calibration_in_the_large": float(p.mean() - y.mean()),
                    }
                )
    return pd.DataFrame(rows)


def calibration_by_decile(scored: pd.DataFrame) -> pd.DataFrame:
    """Mean predicted and observed 3- and 12-month risk by score decile (a calibration curve)."""
    rows = []
    for h in HORIZONS:
        known = scored[scored[f"faring_badly_{h}m"].notna()]
        for d, part in known.groupby("decile"):
            rows.append(
                {
                    "horizon_months": h,
                    "decile": int(d),
                    "reports": len(part),
                    "mean_predicted": float(part[f"risk_{h}m"].mean()),
                    "observed": float(part[f"faring_badly_{h}m"].mean()),
                }
            )
    return pd.DataFrame(rows)
