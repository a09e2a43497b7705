"""The calibration targets' metrics: each target id in ``conf/targets/*.csv`` mapped to the quantity of
:mod:`sim.measures` that is its simulated value, computed from a world's tables over the observation period.

``METRICS`` maps level and direction targets to their functions; ``DIRECTIONS`` holds the predicate a direction
target's mean must satisfy.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from sim import measures as m
from sim.tables import Tables

Metric = Callable[[Tables], float | np.ndarray]


def _exam_grade_gap(t: Tables, group: str) -> float:
    return m.exam_grade(t, "others") - m.exam_grade(t, group)


METRICS: dict[str, Metric] = {
    "reports_per_1000_children": m.reports_per_1000_children,
    "children_reported_per_1000": m.children_reported_per_1000,
    "reports_per_reported_child": m.reports_per_reported_child,
    "share_reported_2plus": m.share_reported_2plus,
    "source_share_school": partial(m.source_share, sources=("school",)),
    "source_share_health": partial(m.source_share, sources=("health", "hospital")),
    "source_share_police": partial(m.source_share, sources=("police",)),
    "source_share_daycare": partial(m.source_share, sources=("daycare",)),
    "source_share_anonymous": partial(m.source_share, sources=("anonymous",)),
    "source_share_other": partial(m.source_share, sources=("family", "other")),
    "report_age_order": m.report_age_order,
    "screened_within_24h": m.screened_within_24h,
    "investigation_within_4m": m.investigation_within_4m,
    "measures_without_investigation": m.measures_without_investigation,
    "followup_within_3m": m.followup_within_3m,
    "child_not_involved_enough": m.child_not_involved_enough,
    "caseload_per_caseworker": m.caseload_per_caseworker,
    "preventive_per_1000": m.preventive_per_1000,
    "placed_per_1000": m.placed_per_1000,
    "placed_share_12_17": m.placed_share_12_17,
    "placement_share_family": partial(m.placement_share, kinds=m.FAMILY),
    "placement_share_institution": partial(m.placement_share, kinds=("institution",)),
    "placement_share_opholdssted": partial(m.placement_share, kinds=("opholdssted",)),
    "placement_share_other": partial(m.placement_share, kinds=("other_placement",)),
    "network_share_of_family_care": m.network_share_of_family_care,
    "new_placements_per_1000": m.new_placements_per_1000,
    "new_placements_share_under5": m.new_placements_share_under5,
    "placement_exit_rate": m.placement_exit_rate,
    "placement_breakdown_rate": m.placement_breakdown_rate,
    "placement_breakdown_share_13_17": m.placement_breakdown_share_13_17,
    "heavy_problems_0_6": m.heavy_problems_0_6,
    **{f"exam_taken_{g}": partial(m.exam_taken, group=g) for g in ("preventive", "placed", "others")},
    "exam_grade_others": partial(m.exam_grade, group="others"),
    **{f"exam_grade_gap_{g}": partial(_exam_grade_gap, group=g) for g in ("preventive", "placed")},
    **{f"absence_{g}": partial(m.absence, group=g) for g in ("others", "preventive", "placed")},
    "charged_12_14_measures": partial(m.charged, lo=12, hi=14, measures=True),
    "charged_12_14_others": partial(m.charged, lo=12, hi=14, measures=False),
    "youth_crime_10_17": partial(m.charged, lo=10, hi=17, measures=None),
}

#: Direction targets: a predicate on the mean of the metric's vector.
DIRECTIONS: dict[str, Callable[[np.ndarray], bool]] = {"report_age_order": m.report_age_order_holds}
