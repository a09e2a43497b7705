"""Typed configuration: the dataclass schema of every config group (registered in Hydra's ConfigStore by
:func:`sim.config.load.register_configs`).

Defaults are the *default world*, a typical Danish municipality. Where a default comes from a published
figure, the doc names the target it serves or its source id (``docs/sources.md``); everything else is an
assumption documented in ``docs/assumptions.md`` ("planning assumption": one of that file's planning
assumptions). Age bands are always 0-5, 6-11 and 12-17 years.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.config.evidence import assumed, published
from sim.config.fields import (
    caseload,
    choice,
    correlation,
    count,
    counts,
    duration,
    flag,
    nonnegative,
    number,
    numbers,
    persistence,
    positive,
    positive_count,
    positive_duration,
    probability,
    rate,
    rates,
    section,
    share,
    shares,
    text,
)

AGE_BANDS: tuple[str, ...] = ("0-5", "6-11", "12-17")
SOURCES: tuple[str, ...] = ("school", "daycare", "health", "hospital", "police", "family", "anonymous", "other")
PLACEMENT_TYPES: tuple[str, ...] = ("network_foster", "foster_family", "institution", "opholdssted", "other_placement")
MEASURE_TYPES: tuple[str, ...] = ("preventive", "home_based", *PLACEMENT_TYPES)
#: ``world.law``: the regimes of ``sim.law.REGIMES`` (named here: this layer imports nothing above it).
LAWS: tuple[str, ...] = ("barnets_lov", "serviceloven")


@dataclass
class HouseholdFeaturesConfig:
    """What a municipality's records hold about a household, and the hidden part only an investigation finds."""

    education_shares: list[float] = shares(
        [0.18, 0.42, 0.40], "parents' highest education: basic, vocational, higher (assumption: plausible magnitudes)"
    )
    unemployed_share: float = share(0.12, "households where no parent is in work (assumption)")
    psychiatric_share: float = share(0.09, "households where a parent had psychiatric contact (assumption)")
    single_parent_share: float = share(0.20, "single-parent households among households with children (assumption)")
    loading: float = correlation(
        0.65, "correlation of each recorded feature's latent propensity with household disadvantage"
    )
    hidden_correlation: float = correlation(
        0.45, "correlation of the hidden adversity (abuse, violence, neglect) with household disadvantage"
    )


@dataclass
class PopulationConfig:
    """Households and children: births, ageing, turning 18, moving in and out."""

    family_size_shares: list[float] = shares(
        [0.22, 0.44, 0.22, 0.12],
        "completed families with 1, 2, 3, 4 children; chosen so that households with 1/2/3/4+ children 0-17 "
        "are ≈40/40/15/5% at any time (planning assumption on households)",
    )
    birth_spacing_years: float = positive_duration(3.0, "mean years between siblings' births (1 + gamma)")
    move_rate_per_year: float = rate(
        0.03,
        "yearly hazard of moving out for households formed here (half of all); in-movers arrive at the same "
        "hazard counted back from their youngest child's 18th birthday (assumption)",
    )
    features: HouseholdFeaturesConfig = section(HouseholdFeaturesConfig, "recorded and hidden household features")


@dataclass
class WellbeingConfig:
    """Each child's latent wellbeing W: a monthly AR(1) around a child-specific level, scale N(0, 1)."""

    persistence: float = persistence(0.97, "monthly AR(1) coefficient; half-life ≈ 2 years (planning assumption)")
    level_share: float = share(0.5, "share of W's variance that is the child's long-run level (not shocks)")
    household_level_share: float = share(
        0.3, "share of the level's variance common to the household (with shocks: household ICC ≈ 0.3)"
    )
    visible_share: float = share(
        0.5, "share of the household level explained by recorded features (the rest is hidden adversity)"
    )
    household_shock_share: float = share(0.3, "share of monthly shock variance shared by siblings")
    faring_badly_quantile: float = probability(
        0.10, "W below this quantile of N(0,1) is 'faring badly' (heavy_problems_0_6 ≈ 10%, KK-2012)"
    )


@dataclass
class InstitutionsConfig:
    """Daycare institutions (ages 0-5) and schools (6-16), grouped in districts with segregated intakes."""

    daycare_size: int = positive_count(60, "children per daycare institution (assumption)")
    school_size: int = positive_count(450, "pupils aged 6-16 per school (assumption)")
    segregation: float = correlation(
        0.5, "correlation between household disadvantage and the district it lives in (burdened intakes)"
    )
    reporting_propensity_sd: float = nonnegative(
        0.35, "SD of log reporting propensity between institutions (Copenhagen daycare 1 in 17 vs 1 in 6)"
    )
    daycare_reporting: float = positive(1.0, "multiplier on all daycare reports (Copenhagen ≈ 0.35, BUPL-2012)")


@dataclass
class ReportRatesConfig:
    """Reports per 1,000 children a year by source, for ages 0-5, 6-11, 12-17: population means (the need
    factor is normalised to mean 1), before repeat boosts, sibling co-reports and the rate multiplier."""

    school: list[float] = rates([0.0, 33.0, 33.0], "schools and youth education")
    daycare: list[float] = rates([17.0, 1.0, 0.0], "daycare, dagpleje, SFO and clubs")
    health: list[float] = rates([12.0, 8.0, 15.0], "GPs, health visitors, psychiatry, dentists")
    hospital: list[float] = rates([9.0, 6.0, 12.0], "hospitals")
    police: list[float] = rates([7.0, 9.0, 26.0], "police and courts")
    family: list[float] = rates([8.0, 9.0, 13.0], "the family and the child itself")
    anonymous: list[float] = rates([5.0, 7.5, 9.0], "anonymous reports")
    other: list[float] = rates([8.0, 20.0, 38.0], "citizens, other departments, NGOs")


@dataclass
class ReportsConfig:
    """Reports of concern: a non-homogeneous Poisson process per child and source."""

    rates_per_1000: ReportRatesConfig = section(ReportRatesConfig, "base rates by source and age band")
    rate_multiplier: float = nonnegative(0.85, "scales every base rate (a municipality that reports more or less)")
    need_sensitivity: float = nonnegative(
        3.0, "log-intensity per SD of need (-W); normalised so the population mean rate equals the base rate"
    )
    need_cap: float = nonnegative(
        2.2, "need above this many SD adds no more intensity (no child is reported dozens of times a year)"
    )
    placed_factor: float = share(
        0.3, "intensity multiplier for a child in placement, who lives away from the family (assumption)"
    )
    repeat_boost: float = positive(2.0, "intensity multiplier after a report (planning assumption × 1.5; tuned)")
    repeat_boost_months: int = count(3, "months the repeat boost lasts (planning assumption: 3)")
    sibling_coreport: float = probability(
        0.2, "probability that a report covers every child of the household (planning assumption: 20%)"
    )


@dataclass
class ScreeningConfig:
    """Screening of every report: the law requires an assessment within 24 hours."""

    median_hours: float = positive_duration(4.0, "median hours from report to screening (planning assumption)")
    sigma: float = nonnegative(1.3, "lognormal sigma of screening time; 1.3 gives ≈ 92% within 24 h (BSB-2024 87-92%)")
    need_weight: float = nonnegative(1.0, "weight of the child's true need (-W) in the screener's judgement")
    recorded_weight: float = nonnegative(0.4, "weight of the recorded household risk in the judgement")
    history_weight: float = nonnegative(0.3, "weight of log(1 + earlier reports on the child) in the judgement")
    noise_sd: float = nonnegative(1.0, "SD of the screener's own noise (unaided screening is noisy: AFST-2017)")
    advice_threshold: float = number(1.4, "judgement above which the family gets advice (rådgivning)")
    investigation_threshold: float = number(2.5, "judgement above which a § 50 investigation starts")
    acute_threshold: float = number(4.4, "judgement above which the child is placed at once (acute)")
    advice_to_preventive: float = probability(
        0.28, "probability that advice leads to a § 11 preventive measure without investigation"
    )


@dataclass
class InvestigationConfig:
    """The child investigation (børnefaglig undersøgelse: SEL § 50, BL § 20; legal limit: 4 months)."""

    start_delay_days: float = duration(
        14.0, "median days from a caseworker taking the case to the § 50 start (acute cases: none) (assumption)"
    )
    start_delay_sigma: float = nonnegative(0.5, "lognormal sigma of the investigation start delay (assumption)")
    median_months: float = positive_duration(
        3.65,
        "median duration at nominal caseload (tuned with sigma so that ≈ 55% finish within 4 months of the report, "
        "BSB-2024)",
    )
    sigma: float = nonnegative(0.45, "lognormal sigma of the duration (assumption)")
    limit_months: float = positive_duration(
        4.0,
        "legal limit for finishing an investigation, counted from when the municipality became aware of the need "
        "(SEL § 50; BL § 20, stk. 3)",
    )
    decision_noise_sd: float = nonnegative(0.5, "SD of the caseworker's error after a full investigation")
    hidden_revealed: float = share(
        1.0, "share of the hidden adversity a § 50 investigation reveals (cases without one see none of it)"
    )
    legal_limit: bool = flag(
        True,
        "the investigation is a § 50 / § 20 investigation, held to the 4-month limit; false for an assessment the "
        "law does not govern (the free municipalities'), whose ends then carry no within-the-limit flag",
    )


@dataclass
class DecisionConfig:
    """Which measure a case gets: thresholds on the assessed need after investigation or review."""

    current_weight: float = share(
        0.5, "weight of the child's current wellbeing against its long-run prospects in an assessment"
    )
    preventive_threshold: float = number(0.9, "assessed need above which a § 11 preventive measure is chosen")
    home_based_threshold: float = number(1.5, "assessed need above which a § 52 home-based measure is chosen")
    placement_threshold: float = number(2.32, "assessed need above which the child is placed")
    placement_age_offset: list[float] = numbers(
        [0.46, -0.19, 0.15],
        "added to the placement threshold at ages 0-5, 6-11, 12-17: young children are placed only at higher "
        "need (placements started under 5: 14%, DST-anbr)",
    )
    placement_type_0_5: list[float] = shares(
        [0.10, 0.80, 0.07, 0.03, 0.0],
        "placement type at ages 0-5: network, foster family, institution, "
        "opholdssted, other (own room, boarding school)",
    )
    placement_type_6_11: list[float] = shares([0.08, 0.70, 0.10, 0.09, 0.03], "placement type at ages 6-11")
    placement_type_12_17: list[float] = shares([0.05, 0.47, 0.21, 0.19, 0.08], "placement type at ages 12-17")
    start_delay_days: float = duration(28.0, "median days from decision to measure start (assumption)")
    start_delay_sigma: float = nonnegative(0.6, "lognormal sigma of the start delay")


@dataclass
class FollowUpConfig:
    """Follow-up of measures, escalation and closure."""

    first_months: float = positive_duration(3.0, "first follow-up is due this many months after a measure starts")
    interval_months: float = positive_duration(6.0, "later follow-ups every this many months (the law: 6)")
    lateness_median: float = positive(
        1.2, "median time to a follow-up as a multiple of its due time, at nominal caseload (1: on time)"
    )
    lateness_sigma: float = nonnegative(0.5, "lognormal sigma of follow-up timing around the due date")
    review_noise_sd: float = nonnegative(0.5, "SD of the caseworker's error at a follow-up review")
    close_threshold: float = number(0.8, "assessed need below which a measure closes")
    step_down_threshold: float = number(0.231, "assessed need below which a placed child returns home")
    escalate_margin: float = nonnegative(
        0.6,
        "escalate when assessed need exceeds the next level's threshold by this (assumption; with "
        "investigate_before_placement, 0 is tuned to placed_per_1000 and new_placements_per_1000)",
    )
    investigate_before_placement: bool = flag(
        False,
        "a placement decided at a follow-up waits for a child investigation, as the acts require (SEL § 52 stk. 2; "
        "BL § 46 stk. 3); off by default until the estimators' recovery is re-checked on it (assumptions A31)",
    )
    breakdown_home_share: float = share(
        0.1, "share of breakdowns after which the child goes home with a home-based measure, not to a new placement"
    )
    breakdown_rate_per_year: list[float] = rates(
        [0.015, 0.045, 0.095], "placement breakdowns a year by age band (SOC-break: 3.5-6.5%, 64% at 13-17)"
    )


@dataclass
class CaseworkersConfig:
    """The caseworker pool: each caseworker holds cases up to a maximum; beyond that cases queue."""

    per_1000_children: float = positive(1.59, "full-time caseworkers per 1,000 children 0-17 (open cases ÷ 32)")
    max_caseload: int = positive_count(45, "cases a caseworker can hold; new cases queue beyond this")
    nominal_caseload: float = caseload(32.0, "reference caseload for workload effects (DS-2023: 33 in 2019)")
    workload_elasticity: float = nonnegative(
        0.5, "durations and follow-up lateness scale with (caseload / nominal) to this power (assumption)"
    )
    involvement: float = probability(
        0.67, "probability a child is sufficiently involved at nominal caseload (2011: 1 in 3 was not)"
    )
    involvement_workload_slope: float = nonnegative(
        0.5, "logit change in involvement per doubling of caseload above nominal"
    )


@dataclass
class AgencyConfig:
    """The municipal agency: screening, investigation, decisions, follow-up, caseworkers."""

    caseworkers: CaseworkersConfig = section(CaseworkersConfig, "the caseworker pool")
    screening: ScreeningConfig = section(ScreeningConfig, "screening and triage of reports")
    investigation: InvestigationConfig = section(InvestigationConfig, "§ 50 investigations")
    decision: DecisionConfig = section(DecisionConfig, "decisions on measures")
    followup: FollowUpConfig = section(FollowUpConfig, "follow-up, escalation, closure, breakdowns")


@dataclass
class MeasureEffectsConfig:
    """Effect of a running measure on wellbeing, in SD of W gained per year (planning assumptions)."""

    preventive: float = number(0.05, "§ 11 preventive measure")
    home_based: float = number(0.10, "§ 52 home-based measure")
    network_foster: float = number(0.15, "placement in network foster care")
    foster_family: float = number(0.15, "placement in a foster family")
    institution: float = number(0.10, "placement in a residential institution")
    opholdssted: float = number(0.10, "placement at an opholdssted")
    other_placement: float = number(0.10, "own room, boarding school (assumption)")
    multiplier: float = nonnegative(1.0, "scales every effect (sweep 0-2)")


@dataclass
class OutcomesConfig:
    """Outcomes that do not feed back into the world: absence, 9th-grade exam, youth crime."""

    absence_share: float = share(
        0.055, "share of lessons missed by a child of average need (others: 5.5%, RITZAU-2015)"
    )
    absence_need_slope: float = nonnegative(0.33, "logit change in absence per SD of need")
    absence_child_sd: float = nonnegative(0.45, "SD of a child's persistent logit absence")
    absence_placed_shift: float = number(-0.53, "logit change in absence while placed (placement stabilises school)")
    exam_taken: float = probability(0.945, "probability of taking the 9th-grade exams at average wellbeing")
    exam_taken_slope: float = nonnegative(1.65, "logit change per SD of mean wellbeing at 12-16")
    exam_taken_placed_shift: float = number(
        -0.25,
        "logit change in taking the exams for a child placed at the time (placed children often attend special or "
        "residential schools that exempt them; assumption, tuned to exam_taken_placed)",
    )
    exam_grade_mean: float = number(8.0, "mean grade at average wellbeing (SBST-2022: others 8)")
    exam_grade_slope: float = nonnegative(1.02, "grade points per SD of mean wellbeing at 12-16")
    exam_grade_sd: float = nonnegative(1.8, "SD of the grade around its expectation")
    exam_household_slope: float = nonnegative(0.6, "grade points lost per SD of household disadvantage")
    crime_rate_per_year: list[float] = rates(
        [0.003, 0.0112, 0.015], "charges a year at ages 10-11, 12-14, 15-17, population means (DKR-2022 ≈ 1% of 10-17)"
    )
    crime_need_sensitivity: float = nonnegative(1.13, "log-hazard of a charge per SD of need")


@dataclass
class WorldConfig:
    """A synthetic municipality. Presets in ``conf/world/`` change its size and a few local features."""

    name: str = text("default", "name of the preset")
    children: int = positive_count(12000, "children 0-17 living in the municipality at the start")
    years: int = positive_count(10, "simulated years after burn-in (the observation period)")
    burn_in_years: int = count(
        10,
        "years simulated before the observation period: stocks of measures and placements and the children's "
        "recorded histories settle by about year 8",
    )
    start_year: int = positive_count(2020, "calendar year the observation period starts")
    law: str = choice(
        "barnets_lov",
        LAWS,
        "the legal regime the agency works under: barnets_lov (in force since 2024) or serviceloven (the Social "
        "Services Act, until 2023); it names the legal basis of every step in the event log and the report "
        "(sim/law.py). The simulated rules are those the two acts share, so a run gives the same numbers under "
        "either; barnets lov's screening tracks (§§ 18-20) and consent are not yet modelled",
    )
    population: PopulationConfig = section(PopulationConfig, "households, children, demography")
    wellbeing: WellbeingConfig = section(WellbeingConfig, "latent wellbeing process")
    institutions: InstitutionsConfig = section(InstitutionsConfig, "daycare institutions and schools")
    reports: ReportsConfig = section(ReportsConfig, "reports of concern")
    agency: AgencyConfig = section(AgencyConfig, "the municipal agency")
    measures: MeasureEffectsConfig = section(MeasureEffectsConfig, "effects of measures on wellbeing")
    outcomes: OutcomesConfig = section(OutcomesConfig, "absence, exams, crime")


@dataclass
class CostsConfig:
    """Unit costs in DKK a year (2019 prices), so scenarios compare on money as well as on children."""

    caseworker: float = nonnegative(
        620_000.0,
        "a full-time caseworker with overhead (assumption)",
        assumed(520_000.0, 720_000.0, "a social worker's salary with pension and overhead; no published figure"),
    )
    investigation: float = nonnegative(
        15_000.0,
        "external costs of one § 50 investigation (assessments, interpreters); caseworker time is in "
        "costs.caseworker (assumption)",
        assumed(5_000.0, 40_000.0, "external costs only (an assessment or an interpreter); no published figure"),
    )
    preventive: float = nonnegative(
        60_000.0,
        "a child-year in a § 11 preventive measure (assumption)",
        assumed(30_000.0, 120_000.0, "counselling, courses and network meetings; no published figure"),
    )
    home_based: float = nonnegative(
        180_000.0,
        "a child-year in a § 52 home-based measure (assumption)",
        assumed(100_000.0, 300_000.0, "family treatment, a contact person or relief care; no published figure"),
    )
    network_foster: float = nonnegative(
        300_000.0,
        "a child-year in network foster care (assumption: below family care)",
        assumed(200_000.0, 470_000.0, "below family foster care, at most equal to it; no published figure", "NBO-2020"),
    )
    foster_family: float = nonnegative(
        470_000.0,
        "a child-year in family foster care (2019, NBO-2020)",
        published(
            420_000.0,
            520_000.0,
            "the national mean for 2019; the source gives no spread, so +-10% for one municipality's price is an "
            "assumption",
            "NBO-2020",
        ),
    )
    institution: float = nonnegative(
        1_160_000.0,
        "a child-year in a residential institution (2019, NBO-2020)",
        published(
            1_040_000.0,
            1_280_000.0,
            "the national mean for 2019 (institution or opholdssted); +-10% for one municipality is an assumption",
            "NBO-2020",
        ),
    )
    opholdssted: float = nonnegative(
        1_160_000.0,
        "a child-year at an opholdssted (2019, as institutions)",
        published(
            1_040_000.0,
            1_280_000.0,
            "the source's one figure for institution or opholdssted; +-10% for one municipality is an assumption",
            "NBO-2020",
        ),
    )
    other_placement: float = nonnegative(
        600_000.0,
        "a child-year in own room or boarding school (assumption)",
        assumed(400_000.0, 900_000.0, "own room, boarding school and the rest; no published figure"),
    )


@dataclass
class OutputConfig:
    """What a run writes. Large tables are written in chunks of one simulated year."""

    events: bool = flag(True, "write the event log (events.parquet)")
    panel: bool = flag(True, "write the child-year panel (panel.parquet)")
    reports: bool = flag(True, "write the report table (reports.parquet)")
    population: bool = flag(True, "write children, households and institutions tables")
    compression: str = choice("zstd", ("zstd", "snappy", "gzip", "none"), "Parquet compression codec")


@dataclass
class CalibrationConfig:
    """The side-by-side check against published figures (``experiment=calibrate``)."""

    targets: str = text("denmark", "a targets file: a name in conf/targets/ or a path to a CSV with the same columns")
    replications: int = positive_count(5, "independent worlds (seeds derived from the run's seed)")
    paired_replications: int = positive_count(
        10,
        "pairs of worlds (with the policy and its twin without) for a policy's validation rows "
        "(experiment=calibrate policy=<name>): a direction the source reports without a size needs more than a level",
    )
    workers: int = count(0, "parallel processes for replications; 0 uses every core")


@dataclass
class FreeParameterConfig:
    """A config value the fit may move, and its range."""

    key: str = text("", "dotted key of a numeric config value, e.g. world.reports.rate_multiplier or a list[1]")
    lower: float = number(0.0, "smallest value the fit may try")
    upper: float = number(1.0, "largest value the fit may try")
    start: float | None = field(
        default=None, metadata={"doc": "where the search starts (default: the value in the config), within the bounds"}
    )


@dataclass
class FitConfig:
    """Recalibration (``experiment=recalibrate``): move free parameters until the world matches a targets file.

    Simulated method of moments: minimise the sum over targets of ((simulated - band centre) / half band)^2,
    with fixed seeds (common random numbers make the objective deterministic), by bounded Nelder-Mead.
    """

    name: str = text("none", "name of the fit (conf/fit/<name>.yaml)")
    targets: str = text("denmark", "targets file to match: a name in conf/targets/ or a path")
    target_ids: list[str] = field(
        default_factory=list, metadata={"doc": "targets to match; empty: every level target of the file"}
    )
    parameters: list[FreeParameterConfig] = field(
        default_factory=list, metadata={"doc": "the free parameters (key, lower, upper)"}
    )
    replications: int = positive_count(2, "worlds per evaluation of the objective (fixed seeds)")
    max_evaluations: int = positive_count(80, "most objective evaluations the optimiser may use")
    method: str = choice(
        "nelder-mead",
        ("nelder-mead", "powell", "emulator"),
        "nelder-mead (a simplex) or powell (one direction at a time, for targets each governed mostly by one "
        "parameter): a point fit, the single best world; emulator: a calibration posterior (posterior.parquet), "
        "a Gaussian-process emulator of the targets on a space-filling design, sampled by NUTS",
    )
    design_points: int = positive_count(
        64,
        "with method=emulator: points of the Sobol' design the emulator is trained on (fit.replications worlds each)",
    )
    posterior_draws: int = positive_count(1000, "with method=emulator: posterior draws per chain (2 chains)")
    initial_points: int = count(
        0, "points of a Latin hypercube over the bounds evaluated first; the local search starts at the best"
    )


#: Baseline and the five policies of the source documents: the options a comparison and a PSA weigh by default.
SOURCE_SCENARIOS = (
    "baseline",
    "risk_tool",
    "early_prevention",
    "child_participation",
    "free_municipality",
    "daycare_social_workers",
)


@dataclass
class CompareConfig:
    """The scenario comparison (``experiment=compare``, the default of ``python -m sim``)."""

    scenarios: list[str] = field(
        default_factory=lambda: list(SOURCE_SCENARIOS),
        metadata={"doc": "scenarios: baseline, a policy, or policies joined by + (risk_tool+free_municipality)"},
    )
    replications: int = positive_count(3, "independent seeds; every scenario of a replication shares its seed")
    workers: int = count(0, "parallel processes for replications; 0 uses every core")
    event_logs: bool = flag(True, "write the first replication's event log and reports of every scenario")
    first_years: int = count(
        3,
        "also compare every outcome over the first N observed years (comparison_first_years.parquet): the window "
        "the source documents' evaluations saw, against the steady state of the whole period; 0: none",
    )


@dataclass
class DiagnoseConfig:
    """Design diagnosis (``experiment=diagnose``): replications of draw, fit and comparison with the truth."""

    replications: int = positive_count(
        200, "replications per design point (seeds from the run's seed: the first k never depend on how many)"
    )
    rule: str = choice(
        "interval95_excludes_null",
        ("interval95_excludes_null", "interval90_excludes_null", "p_benefit_975", "p_benefit_95"),
        "decision rule for power: the 95% (90%) interval excludes no effect (two-sided), or the probability "
        "of benefit exceeds 0.975 (0.95; one-sided, for outcomes with a better direction)",
    )
    estimand: str = text(
        "", "the estimand diagnosed; empty: the estimator's headline (its first, e.g. risk_difference)"
    )
    fast: bool = flag(
        False,
        "approximate fits for screening (the estimator's fit_fast: logistic_household maximum likelihood "
        "and Laplace) instead of full NUTS",
    )
    fast_method: str = choice(
        "own",
        ("own", "frequentist"),
        "in fast mode: own (the estimator's own approximation where it has one, else its statsmodels "
        "counterpart) or frequentist (always the statsmodels counterpart, e.g. GEE)",
    )
    fast_draws: int = positive_count(4000, "draws of the approximate posterior per fast fit")
    frequentist: bool = flag(
        False, "with NUTS, also fit the statsmodels counterpart in every replication (freq_* columns; adds its time)"
    )
    workers: int = count(
        0, "parallel processes; 0: one for NUTS (its chains already use the cores), every core for fast mode"
    )
    worlds: int = positive_count(
        1, "simulated worlds (twin pairs) the replications are spread over; 1: diagnosands conditional on one world"
    )
    include_nonconverged: bool = flag(
        False, "count fits that fail the sampler's checks in power, bias and coverage (they are always listed)"
    )
    store: str = text(
        "outputs/diagnose/store",
        "folder of finished replications and cached worlds, shared by runs: a rerun computes only what is missing",
    )
    merge_from: list[str] = field(
        default_factory=list,
        metadata={"doc": "other stores (e.g. from other machines) whose valid replications are copied in first"},
    )
    solve_for_n: bool = flag(
        False, "find the smallest size (size_key) with power >= power_target by bisection between n_min and n_max"
    )
    size_key: str = text("trial.n_reports", "the config key of the sample size that solve_for_n varies")
    power_target: float = probability(0.8, "power that solve_for_n and the minimum detectable effect aim at")
    n_min: int = positive_count(250, "smallest size solve_for_n tries")
    n_max: int = positive_count(8000, "largest size solve_for_n tries")
    n_tolerance: float = share(0.05, "solve_for_n stops when the bracket is narrower than this share of its top")
    progress: bool = flag(True, "show a progress bar (replications done, rate, time left)")
    backend: str = choice(
        "local",
        ("local", "ray"),
        "where replications run: local processes, or Ray actors (pip install ray; see ray_address)",
    )
    ray_address: str = text(
        "local",
        "with backend=ray: local (a private Ray instance on 127.0.0.1) or a cluster's address (auto, ray://...)",
    )


@dataclass
class ReportConfig:
    """The report (``report.html``) that every comparison and every design diagnosis writes into its run folder."""

    language: str = choice(
        "en",
        ("en", "da"),
        "language of report.html: en (English) or da (Danish), every label, sentence and number format",
    )
    uncertainty: bool = flag(
        True,
        'a comparison\'s report adds "How sure can we be?" when a PSA of the same comparison (experiment=psa, same '
        "world, seed, costs, policy settings and scenarios) is in psa.store",
    )


#: The scenarios of the public debate on risk tools an audit runs by default (``audit.scenarios``): a retrained
#: tool, tools without the features critics of Gladsaxe objected to, thresholds set apart for the group the tool
#: moves most, and a tool trained on reports over-representing one source.
AUDIT_SCENARIOS: dict[str, dict[str, Any]] = {
    "retrained": {"retrain_every_years": 1},
    "without_psychiatric_unemployment": {"drop_features": ["parent_psychiatric", "parent_unemployed"]},
    "without_parent_data": {
        "drop_features": ["parent_education", "parent_unemployed", "parent_psychiatric", "single_parent"]
    },
    "thresholds_by_psychiatric": {"group_thresholds": "parent_psychiatric"},
    "police_over_represented": {"training_source": "police", "training_source_weight": 3.0},
}


@dataclass
class AuditConfig:
    """The risk tool's counterfactual fairness audit (``experiment=audit``)."""

    replications: int = positive_count(10, "pairs of worlds (with the risk tool and its twin without)")
    workers: int = count(0, "parallel processes for replications; 0 uses every core")
    scenarios: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {name: dict(changes) for name, changes in AUDIT_SCENARIOS.items()},
        metadata={
            "doc": "the public debate's alternatives, each the audited tool with some policy.risk_tool settings "
            "changed (name: {setting: value}), simulated beside it on the same seeds and twin: add one with "
            "+audit.scenarios.<name>={...}, drop one with ~audit.scenarios.<name>"
        },
    )
    with_scenarios: bool = flag(True, "simulate audit.scenarios; false audits the tool alone (quicker)")


@dataclass
class PsaConfig:
    """The probabilistic sensitivity analysis (``experiment=psa``, docs/uncertainty.md): parameter draws, each
    simulating baseline and every policy on the same seeds, and what the decision's uncertainty is worth."""

    draws: int = positive_count(
        200, "parameter draws (a Sobol' sequence: the first k never depend on how many, so a store extends)"
    )
    scenarios: list[str] = field(
        default_factory=lambda: list(SOURCE_SCENARIOS),
        metadata={"doc": "the options of the decision: baseline, a policy, or policies joined by +"},
    )
    replications: int = positive_count(1, "seeds per draw; every scenario of a draw shares them")
    common_seeds: bool = flag(
        True,
        "the same seeds for every draw (common random numbers: draws differ by their parameters, not their luck); "
        "false gives each draw its own, which measures the simulation noise left in the value of information",
    )
    width: float = nonnegative(
        1.0, "scale of every parameter's range around its value: 1 the evidence range, 0 every parameter fixed"
    )
    posterior: str = text(
        "", "a calibration posterior (posterior.parquet of experiment=recalibrate fit.method=...); empty: world fixed"
    )
    wtp_faring_badly: float = nonnegative(
        500_000.0,
        "what the municipality is willing to pay (DKK) for one child-year of faring badly avoided: the value the "
        "headline figures use (a setting of the decision maker, not a fact)",
    )
    wtp_placement: float = nonnegative(
        0.0,
        "what it is willing to pay (DKK) for one placement avoided, beyond the placement's own cost (already in the "
        "costs); the headline value",
    )
    wtp_max: float = positive(2_000_000.0, "the acceptability curves run from 0 to this (DKK per unit avoided)")
    wtp_points: int = positive_count(41, "points on each acceptability curve")
    horizon_years: int = positive_count(10, "years the decision holds, for the value of information over a horizon")
    discount_rate: float = share(
        0.035, "yearly discount rate of future years (the Finance Ministry's 3.5% for years 0-35, FM-2021)"
    )
    per_parameter: bool = flag(True, "also the EVPPI of every single parameter, not only of each group")
    workers: int = count(0, "parallel processes for draws; 0 uses every core")
    store: str = text(
        "outputs/psa/store", "folder of finished draws, shared by runs: a rerun computes only the draws it lacks"
    )
    merge_from: list[str] = field(
        default_factory=list,
        metadata={"doc": "other stores (e.g. from other machines) whose valid draws are copied in first"},
    )
    progress: bool = flag(True, "show a progress bar (draws done, rate, time left)")


@dataclass
class EvsiConfig:
    """The value of a trial (``experiment=evsi trial=<design>``, docs/uncertainty.md): the expected value of
    sample information of the design at each size, from the first ``evsi.draws`` draws of the PSA (``psa.*``)."""

    sizes: list[int] = counts([250, 500, 1000, 2000, 4000], "trial sizes (values of evsi.size_key) to value")
    size_key: str = text("trial.n_reports", "the config key of the design's size")
    draws: int = positive_count(100, "PSA draws to value the trial over (the first ones of psa.store's draws)")
    fixed_cost: float = nonnegative(
        1_000_000.0,
        "a trial's cost whatever its size (DKK: design, approvals, the IT change, analysis); an assumption to set",
    )
    cost_per_unit: float = nonnegative(
        1_000.0, "a trial's cost per enrolled unit (DKK; for household_rct a report); an assumption to set"
    )
    workers: int = count(0, "parallel processes for draws; 0 uses every core")
    store: str = text("outputs/evsi/store", "folder of finished draws' trial estimates, shared by runs")
    progress: bool = flag(True, "show a progress bar")


@dataclass
class ExperimentConfig:
    """Which job ``python -m sim`` runs."""

    name: str = choice(
        "compare",
        ("compare", "simulate", "calibrate", "recalibrate", "trial", "analyse", "diagnose", "audit", "psa", "evsi"),
        "the job: compare (scenarios side by side, the default), simulate (one world and its tables), calibrate "
        "(every published figure, side by side), recalibrate (fit free parameters to a targets file), trial "
        "(simulate a trial, estimate, score against the truth), analyse (a real trial's data file) or diagnose "
        "(power, bias and coverage of a design over replications), audit (the risk tool's fairness, against its "
        "twin world), psa (the decision's uncertainty: parameter draws and the value of information) or evsi (what a "
        "trial design would be worth to the decision, by its size)",
    )


@dataclass
class Config:
    """The root config: ``python -m sim world=herning seed=7``."""

    seed: int = count(20261124, "root seed; every random stream is spawned from it")
    world: WorldConfig = field(default_factory=WorldConfig, metadata={"doc": "the simulated municipality"})
    output: OutputConfig = field(default_factory=OutputConfig, metadata={"doc": "what the run writes"})
    costs: CostsConfig = field(default_factory=CostsConfig, metadata={"doc": "unit costs in DKK a year"})
    compare: CompareConfig = field(default_factory=CompareConfig, metadata={"doc": "the scenario comparison"})
    report: ReportConfig = field(
        default_factory=ReportConfig, metadata={"doc": "the report of a comparison or a diagnosis"}
    )
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig, metadata={"doc": "the job"})
    calibration: CalibrationConfig = field(
        default_factory=CalibrationConfig, metadata={"doc": "calibration against published figures"}
    )
    fit: FitConfig = field(default_factory=FitConfig, metadata={"doc": "recalibration to a targets file"})
    diagnose: DiagnoseConfig = field(
        default_factory=DiagnoseConfig, metadata={"doc": "design diagnosis: power, bias, coverage over replications"}
    )
    audit: AuditConfig = field(
        default_factory=AuditConfig, metadata={"doc": "the risk tool's fairness audit against its twin world"}
    )
    psa: PsaConfig = field(
        default_factory=PsaConfig,
        metadata={"doc": "the probabilistic sensitivity analysis and the value of information"},
    )
    evsi: EvsiConfig = field(default_factory=EvsiConfig, metadata={"doc": "the value of a trial"})
    trial: Any = field(
        default_factory=lambda: {"name": "none"},
        metadata={"doc": "the trial design (python -m sim experiment=trial trial=household_rct)"},
    )
    estimator: Any = field(
        default_factory=lambda: {"name": "auto"},
        metadata={"doc": "the estimator; auto: the design's own (python -m sim estimator=logistic_household)"},
    )
    data: str = text("", "a real trial's data file (CSV) for experiment=analyse")
    outcome: str = text("", "the outcome column to analyse; empty: the design's first outcome")
    policy: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "doc": "the active policies by name (python -m sim policy=[risk_tool,free_municipality]); empty: baseline"
        },
    )
