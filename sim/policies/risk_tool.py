"""The statistical risk tool at intake (TRYG-2019: "Underretninger i fokus", TrygFonden's Child Research Center).

When a report arrives, the caseworker sees the child's risk within 3 and within 12 months, estimated from data
the agency already holds, with the information the score rests on. It supplements the caseworker's own
judgement; it does not replace it. The published tool was built on ≈195,000 referrals and ranks referred children
by their chance of removal from home with an AUC above 0.87 (PLOS-2024); it was never run on real cases, so its
effect is unknown.

In the model:

- **Target.** ``target: placement`` (the default, the published tool's outcome): a placement of the child starts
  within 3 / 12 months of the report (``placed_3m``, ``placed_12m`` of ``reports.parquet``), a rare outcome.
  ``faring_badly``: the latent share faring badly within 3 / 12 months, which most reported children reach.
- **Training.** A real scikit-learn model (standardised features, logistic regression) is trained at the start
  of the observation period on the reports of the last ``training_years`` whose 12-month outcome is already
  known, never on the period it is used in. Its features (:data:`FEATURES`) are the intake columns of
  ``reports.parquet``: what intake has when the report arrives, no later information. With
  ``retrain_every_years`` it is trained again on the latest reports, which its own use has shaped.
- **Score.** For each report after training, the 3- and 12-month risks, and the 12-month risk's decile among
  the training reports (1-10), shown to the caseworker.
- **Response.** Where shown, the judgement moves toward the score: ``(1 - adherence) * own judgement +
  adherence * J(decile)``, where J(d) is the middle judgement of the screeners in decile d in the training
  period (the score speaks the judgement's scale). With ``response: inform`` (the default) the moved judgements
  are then mapped, rank for rank, onto the distribution of the screeners' own judgements over the last 12
  months (a quantile map refitted every month; reports on a child with an open case and the others apart;
  reports at the acute bar, which the screener's own judgement decides, left out), so the tool changes who is
  taken further but not how many: the source describes support for the judgement, not a different bar.
  ``response: blend`` keeps the moved judgement as it is: its spread narrows while the thresholds stay, so fewer
  reports cross them (an effect no source reports). Planning assumption: adherence 0.3 (swept 0-1).
- **Who sees it.** ``assignment: all`` shows it on every report; ``household`` shows it on all reports of a
  randomly chosen ``share_shown`` of households (TRYG-2019's trial: every report on a child and its siblings in
  the same arm).

``results()`` reports each training (its month, reports, base rate and training AUC), the held-out AUC, the
base rate and the calibration by decile, overall and by group of household.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from sim.agency.decisions import placement_offset
from sim.agency.report_table import report_table
from sim.calendar import DAYS_PER_MONTH
from sim.config.evidence import assumed, setting
from sim.config.fields import choice, count, nonnegative, number, positive, probability, share, subset
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
#: What the tool may predict, and for each the prefix of its outcome columns in reports.parquet (``<prefix>_3m``,
#: ``<prefix>_12m``).
TARGETS: tuple[str, ...] = ("placement", "faring_badly")
LABEL = {"placement": "placed", "faring_badly": "faring_badly"}
#: Weight of the screener's own judgement that breaks ties between moved judgements (far below any bar's scale).
TIE_BREAK = 1e-9


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


#: The groups a planted bias can target (``planted_bias_group``) and thresholds can be set apart for
#: (``group_thresholds``), each a recorded feature of the report.
PLANTABLE = ("single_parent", "parent_unemployed", "parent_psychiatric", "basic_education", "girl")
#: The recorded features the tool can be built without (``drop_features``), and the columns of :data:`FEATURES`
#: each one removes.
DROPPABLE: dict[str, tuple[str, ...]] = {
    "parent_education": ("education_basic", "education_vocational"),
    "parent_unemployed": ("parent_unemployed",),
    "parent_psychiatric": ("parent_psychiatric",),
    "single_parent": ("single_parent",),
    "sex": ("boy",),
    "age": ("age_6_11", "age_12_17", "age"),
}


def in_group(reports: pd.DataFrame, group: str) -> np.ndarray:
    """Which rows of ``reports.parquet`` belong to ``group`` (one of :data:`PLANTABLE`)."""
    if group == "girl":
        return (reports["sex"] == "girl").to_numpy()
    if group == "basic_education":
        return (reports["parent_education"] == "basic").to_numpy()
    return reports[group].to_numpy(dtype=bool)


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
    target: str = choice(
        "placement",
        TARGETS,
        "what the tool predicts: a placement starting within 3 and 12 months of the report (the published "
        "tool's outcome), or latent faring badly within 3 and 12 months",
    )
    response: str = choice(
        "inform",
        ("inform", "blend"),
        "how the score enters triage: inform moves judgements toward it and keeps their distribution (as many "
        "reports taken further); blend moves them and narrows their spread (fewer cross the thresholds)",
    )
    retrain_every_years: int = count(
        0,
        "retrain the tool every this many years on the latest reports, shaped by its own use; 0: trained once",
        setting(0, 5, "how often a municipality refits the tool: a choice"),
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
    planted_bias: float = number(
        0.0,
        "for audits: log-odds added to the score of every report in planted_bias_group, a bias with no link to need",
        setting(-3.0, 3.0, "0 in use; a known bias that a fairness audit must find (experiment=audit)"),
    )
    drop_features: list[str] = subset(
        [],
        tuple(DROPPABLE),
        "recorded features the tool is built without (the public debate on Gladsaxe asked to leave out parents' "
        "psychiatric contact and unemployment); the rest of the features still carry what they correlate with",
    )
    group_thresholds: str = choice(
        "none",
        ("none", *PLANTABLE),
        "none: one set of decile cut-points for every report; a group: cut-points set apart for its members and "
        "the rest, each from the training reports its target did not follow, so the score's false-positive rates "
        "are equal between them at every decile",
    )
    training_source: str = choice(
        "police",
        SOURCES,
        "with training_source_weight: the source whose reports are over- (or under-) represented in training",
    )
    training_source_weight: float = positive(
        1.0,
        "weight of training_source's reports when the tool is fitted: above 1, a training set in which that source "
        "is over-represented, a label biased toward the families it reports",
        setting(0.1, 10.0, "1: the reports as they came; a fairness audit's scenario otherwise"),
    )
    planted_bias_group: str = choice(
        "single_parent",
        PLANTABLE,
        "the group planted_bias applies to: reports on children of single parents, unemployed parents, parents with "
        "psychiatric contact or basic education, or on girls",
    )


@dataclass
class _Model:
    """A fitted pipeline, its parameters for fast scoring, and the decile cut-points of its scores."""

    pipeline: object
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    keep: np.ndarray | None  # which columns of FEATURES the model reads (None: all)

    def score(self, x: np.ndarray) -> np.ndarray:
        """Predicted probabilities for rows ``x`` (every column of FEATURES): the pipeline's predict_proba on the
        kept columns, without its overhead."""
        x = x if self.keep is None else x[:, self.keep]
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
        self.label = LABEL[self.cfg.target]
        self.models: dict[int, _Model] = {}
        self.cuts: dict[bool, np.ndarray] = {}  # decile cut-points, by membership of group_thresholds' group
        self.judgement_at_decile = np.array([])
        # response: inform. The last 12 months' screenings (month -> rows of report id, own judgement, decile,
        # open case, below the acute bar) and, fitted on them each month, the two quantile maps (per open case:
        # moved judgements and own judgements, each sorted).
        self.recent: dict[int, list[tuple[int, float, int, bool, bool]]] = {}
        self.maps: dict[bool, tuple[np.ndarray, np.ndarray]] = {}
        self.keyed = ctx.streams.keyed("policy", self.name)
        self.scores: list[tuple] = []
        self.trainings: list[dict[str, float]] = []
        self.coefficients: list[tuple[int, int, str, float]] = []

    # ---------------------------------------------------------------- training
    def on_month(self, month: int) -> None:
        every = 12 * self.cfg.retrain_every_years
        if month >= self.training_month and not self.models:
            self._train(month)
        elif self.models and every and month >= self.trainings[-1]["month"] + every:
            self._train(month)
        elif self.models:
            self._fit_maps(month)

    def _train(self, month: int) -> None:
        # scikit-learn takes a second to import: only a world that trains the tool pays for it, not every process
        # that imports the policies (each `python -m sim`)
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import roc_auc_score
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        ctx, c, label = self.ctx, self.cfg, self.label
        reports = report_table(ctx.world, ctx.agency, as_of_month=month)
        first = month - 12 * c.training_years
        usable = reports[(reports["month"] >= first) & reports[f"{label}_12m"].notna()]
        if any(usable[f"{label}_{h}m"].nunique() < 2 for h in HORIZONS):
            return  # too few whole 12-month windows yet (a short burn-in): try again next month
        x = features_of(usable)
        dropped = {col for name in c.drop_features for col in DROPPABLE[name]}
        keep = np.array([f not in dropped for f in FEATURES]) if dropped else None
        fit_params = {}
        if c.training_source_weight != 1.0:
            weight = np.where(usable["source"] == c.training_source, c.training_source_weight, 1.0)
            fit_params["logisticregression__sample_weight"] = weight
        models = {}
        for h in HORIZONS:
            y = usable[f"{label}_{h}m"].to_numpy(dtype=float)
            pipe = make_pipeline(StandardScaler(), LogisticRegression(C=c.regularisation, max_iter=2000))
            pipe.fit(x if keep is None else x[:, keep], y.astype(int), **fit_params)
            scaler, logreg = pipe[0], pipe[-1]
            models[h] = _Model(pipe, scaler.mean_, scaler.scale_, logreg.coef_[0], float(logreg.intercept_[0]), keep)
        self.models = models
        names = [f for f in FEATURES if f not in dropped]
        for h, model in models.items():
            self.coefficients += [
                (len(self.trainings) + 1, h, f, float(b)) for f, b in zip(names, model.coef, strict=True)
            ]
        score12 = self.models[12].score(x)
        self.cuts = self._cut_points(usable, score12)
        self.judgement_at_decile = np.quantile(usable["screening_judgement"].dropna(), (np.arange(10) + 0.5) / 10)
        self._recent_from(reports, month)
        self._fit_maps(month)
        y12 = usable[f"{label}_12m"].astype(int)
        source = (usable["source"] == c.training_source).to_numpy()
        weight = fit_params.get("logisticregression__sample_weight", np.ones(len(usable)))
        self.trainings.append(
            {
                "month": month,
                "target": f"{label}_12m",
                "reports": len(usable),
                "features": len(names),
                "training_source_share": float(source.mean()),
                "training_source_weighted_share": float(weight[source].sum() / weight.sum()),
                "base_rate_12m": float(y12.mean()),
                "auc_12m_train": float(roc_auc_score(y12, score12)),
            }
        )

    def _cut_points(self, usable: pd.DataFrame, score12: np.ndarray) -> dict[bool, np.ndarray]:
        """The 12-month score's decile cut-points among the training reports: one set for all (under both keys),
        or with ``group_thresholds`` one for the group's members (True) and one for the rest (False), each from
        the reports its target did not follow (equal false-positive rates at every decile)."""
        deciles = np.arange(1, 10) / 10
        if self.cfg.group_thresholds == "none":
            cuts = np.quantile(score12, deciles)
            return {True: cuts, False: cuts}
        member = in_group(usable, self.cfg.group_thresholds)
        negative = usable[f"{self.label}_12m"].to_numpy() == 0
        return {m: np.quantile(score12[(member == m) & negative], deciles) for m in (True, False)}

    def _deciles(self, score12: np.ndarray, member: np.ndarray) -> np.ndarray:
        """Deciles (1-10) of 12-month scores, each against the cut-points of its row's group."""
        out = np.empty(len(score12), dtype=int)
        for m in (True, False):
            rows = member == m
            out[rows] = np.searchsorted(self.cuts[m], score12[rows], side="right") + 1
        return out

    def _recent_from(self, reports: pd.DataFrame, month: int) -> None:
        """The last 12 months' screenings as the maps need them, scored by the model just trained. At the first
        training the recorded judgements are the screeners' own; at a retraining the own judgements the tool
        recorded are kept and only the deciles are scored again."""
        own = {row[0]: row[1] for rows in self.recent.values() for row in rows}
        window = reports[(reports["month"] >= month - 12) & reports["screening_judgement"].notna()]
        member = self._members(window)
        deciles = self._deciles(self.models[12].score(features_of(window)), member)
        judgements = window["report_id"].map(own).fillna(window["screening_judgement"]).to_numpy(dtype=float)
        below = judgements < self.acute_bar(window["age"].to_numpy(dtype=float))
        self.recent = {}
        for rid, m, j, d, case, low in zip(
            window["report_id"], window["month"], judgements, deciles, window["open_case"], below, strict=True
        ):
            self.recent.setdefault(int(m), []).append((int(rid), float(j), int(d), bool(case), bool(low)))

    def _fit_maps(self, month: int) -> None:
        """Refit the quantile maps on the screenings of the 12 months before ``month``, so the judgements keep
        the distribution the screeners' own have now (which drifts as children's recorded histories lengthen).
        Two maps: reports on a child with an open case only ask for a review, the others decide whether a case
        opens, and the tool scores the first higher, so one map for both would lower the second. Among the
        others, those at or above the acute bar are placed on the screener's own judgement: the map is fitted on
        the rest, so the share of them crossing the investigation bar stays that of the screeners."""
        for m in [m for m in self.recent if m < month - 12]:
            del self.recent[m]
        rows = [row for rows in self.recent.values() for row in rows]
        if len(rows) < 20:  # too few to fit: keep the maps there are (the identity before any)
            return
        _, own, decile, open_case, below = (np.array(col) for col in zip(*rows, strict=True))
        moved = self.move(own, decile)
        for case, stratum in ((False, ~open_case & below), (True, open_case)):
            fitted = stratum if stratum.sum() >= 20 else np.ones_like(stratum)
            self.maps[case] = (np.sort(moved[fitted]), np.sort(own[fitted]))

    def move(self, judgement: np.ndarray, decile: np.ndarray) -> np.ndarray:
        """Judgements moved toward the middle judgement of their score's decile, by the adherence. Ties (all of a
        decile's at adherence 1) are broken by the screener's own judgement, so the quantile map stays one to one."""
        a = self.cfg.adherence
        return (1.0 - a) * judgement + a * self.judgement_at_decile[np.asarray(decile) - 1] + TIE_BREAK * judgement

    def acute_bar(self, age_years: np.ndarray) -> np.ndarray:
        """The screener's bar for an acute placement at each age (``sim.agency.decisions.triage``)."""
        ac = self.ctx.agency.ac
        offsets = [placement_offset(ac.decision, float(a)) for a in np.atleast_1d(age_years)]
        return ac.screening.acute_threshold + np.asarray(offsets)

    # ---------------------------------------------------------------- at screening
    def shown(self, household: int) -> bool:
        if self.cfg.assignment == "all":
            return True
        return self.keyed.uniform(household, 0, 0, 0) < self.cfg.share_shown

    def _members(self, reports: pd.DataFrame) -> np.ndarray:
        """Which rows of ``reports`` fall under the group's own cut-points (all False without group thresholds)."""
        if self.cfg.group_thresholds == "none":
            return np.zeros(len(reports), dtype=bool)
        return in_group(reports, self.cfg.group_thresholds)

    def _member(self, group: str, child: int, household: int) -> bool:
        """Is the report on ``child`` of ``household`` in ``group`` (one of PLANTABLE)?"""
        pop = self.ctx.world.pop
        if group == "girl":
            return bool(pop.child_sex[child] != 1)
        if group == "basic_education":
            return bool(pop.hh_education[household] == 0)
        return bool(
            {
                "single_parent": pop.hh_single_parent,
                "parent_unemployed": pop.hh_unemployed,
                "parent_psychiatric": pop.hh_psychiatric,
            }[group][household]
        )

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
        if self.cfg.planted_bias != 0.0 and self._member(self.cfg.planted_bias_group, child, hh):
            s3, s12 = (1.0 / (1.0 + math.exp(-(math.log(s / (1.0 - s)) + self.cfg.planted_bias))) for s in (s3, s12))
        own_cuts = self.cfg.group_thresholds != "none" and self._member(self.cfg.group_thresholds, child, hh)
        decile = int(np.searchsorted(self.cuts[own_cuts], s12, side="right")) + 1
        shown = self.shown(hh)
        self.scores.append((report.report_id, s3, s12, decile, shown, len(self.trainings)))
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
        age_now = (self.ctx.env.now / DAYS_PER_MONTH - pop.child_birth[child]) / 12.0
        ac = self.ctx.agency.ac
        below = judgement < ac.screening.acute_threshold + placement_offset(ac.decision, age_now)
        month = int(self.ctx.env.now // DAYS_PER_MONTH)
        self.recent.setdefault(month, []).append((report.report_id, judgement, decile, bool(report.open_case), below))
        if not shown or self.cfg.adherence == 0.0:
            return judgement
        if not report.open_case and not below:
            return judgement  # placed at once on the screener's own judgement, whatever the score
        moved = float(self.move(np.array([judgement]), np.array([decile]))[0])
        if self.cfg.response == "blend" or not self.maps:
            return moved
        return quantile_map(moved, *self.maps[bool(report.open_case)])

    # ---------------------------------------------------------------- after the run
    def yearly_costs(self) -> dict[str, float]:
        return {"risk_tool": self.cfg.cost_per_year_dkk}

    def results(self) -> dict[str, pd.DataFrame]:
        if not self.models:
            return {}
        scores = pd.DataFrame(
            self.scores, columns=["report_id", "risk_3m", "risk_12m", "decile", "shown", "model"]
        ).astype({"model": np.int32})
        reports = report_table(self.ctx.world, self.ctx.agency)
        scored = scores.merge(reports, on="report_id")
        return {
            "risk_scores": scores,
            "risk_tool_performance": performance(scored, self.label),
            "risk_tool_calibration": calibration_by_decile(scored, self.label),
            "risk_tool_training": pd.DataFrame(self.trainings),
            "risk_tool_coefficients": pd.DataFrame(
                self.coefficients, columns=["model", "horizon_months", "feature", "coefficient"]
            ),
        }


def quantile_map(x: float, source_sorted: np.ndarray, target_sorted: np.ndarray) -> float:
    """``x`` carried from the distribution of ``source_sorted`` to that of ``target_sorted`` (equal sizes),
    rank for rank: linear between order statistics, and with slope 1 beyond the extremes, so the map is monotone
    and the share of values above any bar is kept."""
    lo, hi = source_sorted[0], source_sorted[-1]
    return float(np.interp(x, source_sorted, target_sorted)) + max(x - hi, 0.0) + min(x - lo, 0.0)


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score  # imported when used: see RiskTool._train

    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else math.nan


def performance(scored: pd.DataFrame, label: str) -> pd.DataFrame:
    """Held-out AUC, base rate (``observed``) and calibration-in-the-large (mean predicted minus observed) of the
    target ``<label>_3m`` / ``<label>_12m``, overall and by group."""
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
        known = scored[scored[f"{label}_{h}m"].notna()]
        for name, g in groups.items():
            for level, part in known.groupby(g.loc[known.index], observed=True):
                y = part[f"{label}_{h}m"].to_numpy(dtype=int)
                p = part[f"risk_{h}m"].to_numpy()
                rows.append(
                    {
                        "target": f"{label}_{h}m",
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


def calibration_by_decile(scored: pd.DataFrame, label: str) -> pd.DataFrame:
    """Mean predicted and observed 3- and 12-month risk of the target by score decile (a calibration curve)."""
    rows = []
    for h in HORIZONS:
        known = scored[scored[f"{label}_{h}m"].notna()]
        for d, part in known.groupby("decile"):
            rows.append(
                {
                    "target": f"{label}_{h}m",
                    "horizon_months": h,
                    "decile": int(d),
                    "reports": len(part),
                    "mean_predicted": float(part[f"risk_{h}m"].mean()),
                    "observed": float(part[f"{label}_{h}m"].mean()),
                }
            )
    return pd.DataFrame(rows)
