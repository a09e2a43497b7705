"""A piecewise-exponential survival model with right censoring, for the before/after case-file review (VIVE-2019).

Time since the report (or since the decision) is cut into ``PIECES`` intervals at quantiles of the observed
event times, and each period (before / during the reform) has a constant hazard within each interval:

    log h_{p,1} = a + delta * during_p,
    log h_{p,k} = log h_{p,k-1} + step_{p,k},   step_{p,k} ~ N(0, s)   (k = 2..K)

a random walk over the intervals, so the hazard can take any shape (a rush of decisions just before a
deadline, a long tail of cases that wait) while neighbouring intervals borrow strength. A case contributes
its time at risk in every interval it reached and, if its event was observed, one event in the interval it
happened in; censored cases (still waiting at the review date, or closed first) contribute only their time
at risk. The likelihood depends on the data only through each period's events and time at risk per interval,
so the model has a fixed shape: compiled once, refitted with new data in a fraction of a second.

Why not a Weibull (or any two-parameter) model: the intervals the review measures are not Weibull-shaped (the
decision-to-measure time has a fast mode and a slow tail), and a Weibull fitted to them put the medians up to
10 days off, with 90% intervals covering the true difference in only 60% of replications. The piecewise model
follows the data's own shape; its recovery test is ``tests/test_recovery_before_after_cases.py``.

Priors (weakly informative; hazards per day):

- a ~ N(log(log 2 / 60), 1.5): the before period's early hazard puts the median between about 3 days and 3
  years with 95% probability;
- delta ~ N(0, 1) (times ``prior_scale``): the reform's log hazard ratio in the first interval, a ratio between
  0.14 and 7 a priori, no lean either way;
- s ~ HalfNormal(0.5): how much the log hazard may change from one interval to the next (a factor of 2.7 at
  two SDs), shared by both periods. The steps are centred on purpose: with about ten events per interval the
  data inform them well, and the non-centred form had divergent transitions in half of the fits.

nutpie samples it with its low-rank modified mass matrix: the steps of one period are strongly correlated with
each other and with ``a`` through the cumulative sum, which a diagonal mass matrix cannot follow. Over the
recovery test's first 40 fits the low-rank matrix took about 8 gradient steps a draw instead of 28, with a smallest
effective sample size 1.5 times as large for the same draws. On the synthetic :meth:`example` (Weibull times, 75 + 75
cases) it does not help: over 10 data sets at 2 x (1,000 + 1,000) the smallest ESS had median 190 with it and 259
without, below 400 in most fits either way. The random walk's scale ``s`` mixes slowly on small reviews, whichever
mass matrix: its posterior reaches towards 0, a funnel for the steps. Use more draws there, or a target acceptance of
0.95 (``estimator.target_accept``; on the example of 150 + 150 cases with seed 4 the default 0.9 left one divergent
transition in 2,000 draws and 0.95 none), and check the fit's R-hat and ESS (the estimate warns).

Estimands, by posterior prediction from each period's survival curve S(t) = exp(-cumulative hazard): the median
waiting time (where S = 1/2; within the last interval the hazard stays constant, so it is always reached),
``difference_in_median_days`` (during minus before, null 0) and ``ratio_of_medians`` (null 1).

statsmodels counterpart: Kaplan-Meier medians per period (``SurvfuncRight``) with their 95% intervals
(cloglog, by inverting tests); the difference's interval treats the two medians as independent, with standard
errors read from their intervals' widths (on the log scale for the ratio): an approximation, good enough to
cross-check.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from estimators.base import DataError, Estimand, Estimator, register

#: The event indicator that goes with each outcome's time.
EVENT = {"days_to_decision": "decision_observed", "days_decision_to_measure": "measure_observed"}
PIECES = 8
LOG2 = float(np.log(2.0))
PRIOR_A = (float(np.log(LOG2 / 60.0)), 1.5)


def piece_starts(days: np.ndarray, event: np.ndarray, pieces: int = PIECES) -> np.ndarray:
    """Start of each interval (days): 0, then quantiles of the observed event times (pooled over periods)."""
    observed = days[event == 1]
    cuts = np.quantile(observed, np.arange(1, pieces) / pieces) if observed.size else np.zeros(pieces - 1)
    cuts = np.maximum.accumulate(np.maximum(cuts, 1e-6))
    return np.concatenate([[0.0], cuts])


def exposure_table(
    days: np.ndarray, event: np.ndarray, during: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Events and days at risk per period (row: before, during) and interval (column)."""
    ends = np.append(starts[1:], np.inf)
    at_risk = np.clip(days[:, None] - starts[None, :], 0.0, ends - starts)
    piece = np.searchsorted(starts, days, side="right") - 1
    hits = np.zeros_like(at_risk)
    hits[np.arange(days.size), piece] = event
    rows = np.stack([during == 0, during == 1]).astype(float)
    return rows @ hits, rows @ at_risk


def median_days(log_h: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Median of a piecewise-constant hazard curve: per draw (rows) of log hazards per interval (columns)."""
    h = np.exp(log_h)
    widths = np.diff(starts)
    cum_end = np.cumsum(h[:, :-1] * widths, axis=1)
    cum_start = np.concatenate([np.zeros((h.shape[0], 1)), cum_end], axis=1)
    k = (cum_start[:, 1:] < LOG2).sum(axis=1)  # the interval where the cumulative hazard passes log 2
    rows = np.arange(h.shape[0])
    return starts[k] + (LOG2 - cum_start[rows, k]) / h[rows, k]


@register
class SurvivalCases(Estimator):
    name = "survival_cases"
    design = "before_after_cases"
    outcomes: ClassVar[dict[str, str]] = {"days_to_decision": "lower", "days_decision_to_measure": "lower"}
    nutpie_options: ClassVar[dict[str, object]] = {"low_rank_modified_mass_matrix": True}

    def validate(self, df: pd.DataFrame, outcome: str) -> None:
        event = EVENT[outcome]
        self.require(df, ["during", outcome, event])
        self.binary(df, "during")
        known = df[df[outcome].notna()]
        if known.empty:
            raise DataError(f"column '{outcome}' has no known values (every row is missing)")
        days = pd.to_numeric(known[outcome], errors="coerce")
        if days.isna().any():
            row = days.index[days.isna()][0]
            raise DataError(f"column '{outcome}' must be a number of days; row {row + 2} has {known[outcome][row]!r}")
        if (days < 0).any():
            row = days.index[days < 0][0]
            raise DataError(
                f"column '{outcome}' has a negative time in row {row + 2} ({days[row]:g} days): times count forward"
            )
        if known[event].isna().any():
            row = known.index[known[event].isna()][0]
            raise DataError(f"column '{event}' is empty in row {row + 2}, where '{outcome}' is known")
        self.binary(known, event)
        if (known[event].astype(int) == 0).all():
            raise DataError(
                f"all times censored: '{event}' is 0 in every row with a '{outcome}', so the data say nothing "
                "about how long cases take"
            )
        for arm, label in ((0, "before"), (1, "during")):
            period = known[known["during"].astype(int) == arm]
            if period.empty:
                raise DataError(f"the {label} period (during = {arm}) has no cases with a known '{outcome}'")
            if (period[event].astype(int) == 0).all():
                raise DataError(f"all times censored in the {label} period (during = {arm}): '{event}' is 0 there")

    def arrays(self, df: pd.DataFrame, outcome: str) -> dict[str, np.ndarray]:
        known = df[df[outcome].notna()]
        days = known[outcome].to_numpy(dtype=float)
        event = known[EVENT[outcome]].to_numpy(dtype=float)
        during = known["during"].to_numpy(dtype=float)
        starts = piece_starts(days, event)
        events, at_risk = exposure_table(days, event, during, starts)
        return {"events": events, "at_risk": at_risk, "starts": starts}

    def structure(self, arrays: dict[str, np.ndarray]) -> tuple:
        return tuple((k, arrays[k].shape) for k in sorted(arrays))

    def build(self, arrays: dict[str, np.ndarray]):
        import pymc as pm
        import pytensor.tensor as pt

        with pm.Model() as model:
            events, at_risk = pm.Data("events", arrays["events"]), pm.Data("at_risk", arrays["at_risk"])
            a = pm.Normal("a", *PRIOR_A)
            delta = pm.Normal("delta", 0.0, 1.0 * self.settings.prior_scale)
            s = pm.HalfNormal("s", 0.5)
            steps = pm.Normal("steps", 0.0, s, shape=(2, PIECES - 1))  # centred: no divergences, unlike s * z
            first = pt.stack([a, a + delta])[:, None]
            log_h = pm.Deterministic("log_h", pt.concatenate([first, first + pt.cumsum(steps, axis=1)], axis=1))
            pm.Potential("loglik", (events * log_h - pt.exp(log_h) * at_risk).sum())
        return model

    def estimands(self, posterior: dict[str, np.ndarray], arrays: dict[str, np.ndarray]) -> list[Estimand]:
        before = median_days(posterior["log_h"][:, 0, :], arrays["starts"])
        during = median_days(posterior["log_h"][:, 1, :], arrays["starts"])
        return [
            Estimand("difference_in_median_days", during - before, 0.0),
            Estimand("ratio_of_medians", during / before, 1.0),
        ]

    @classmethod
    def example(cls, seed: int = 0, scale: float = 1.0) -> tuple[pd.DataFrame, str]:
        """75 case files before and 75 during the reform (times ``scale``): Weibull days from report to decision
        with shape 1.2, median 109 days before and 38 during (the model's free-municipality effect), each file
        read 6 to 36 months after its report (censored there if still waiting)."""
        rng = np.random.default_rng(seed)
        n = round(75 * scale)
        during = np.repeat([0, 1], n)
        median = np.where(during == 1, 38.0, 109.0)
        shape = 1.2
        days = median / np.log(2.0) ** (1 / shape) * rng.weibull(shape, 2 * n)
        follow_up = rng.uniform(182.0, 1096.0, 2 * n)
        observed = (days <= follow_up).astype(int)
        df = pd.DataFrame(
            {
                "case_id": np.arange(2 * n),
                "period": np.where(during == 1, "during", "before"),
                "during": during,
                "days_to_decision": np.round(np.minimum(days, follow_up), 2).clip(0.01),
                "decision_observed": observed,
            }
        )
        return df, "days_to_decision"

    def frequentist(self, df: pd.DataFrame, outcome: str) -> dict[str, tuple[float, float, float, str]]:
        from statsmodels.duration.survfunc import SurvfuncRight

        known = df[df[outcome].notna()]
        fits = []
        for arm in (0, 1):
            period = known[known["during"].astype(int) == arm]
            km = SurvfuncRight(period[outcome].to_numpy(dtype=float), period[EVENT[outcome]].to_numpy(dtype=float))
            with np.errstate(divide="ignore", invalid="ignore"):  # the cloglog transform at S = 0 or 1
                lo, hi = km.quantile_ci(0.5)
            fits.append((float(km.quantile(0.5)), float(lo), float(hi)))
        m0, m1 = fits[0][0], fits[1][0]
        se = [(hi - lo) / (2 * 1.96) for _, lo, hi in fits]
        se_log = [(np.log(hi) - np.log(lo)) / (2 * 1.96) for _, lo, hi in fits]
        diff, se_diff = m1 - m0, float(np.hypot(*se))
        log_ratio, se_ratio = float(np.log(m1 / m0)), float(np.hypot(*se_log))
        method = "Kaplan-Meier medians (statsmodels SurvfuncRight), independent periods"
        return {
            "difference_in_median_days": (diff, diff - 1.96 * se_diff, diff + 1.96 * se_diff, method),
            "ratio_of_medians": (
                float(np.exp(log_ratio)),
                float(np.exp(log_ratio - 1.96 * se_ratio)),
                float(np.exp(log_ratio + 1.96 * se_ratio)),
                f"{method}, on the log scale",
            ),
        }
