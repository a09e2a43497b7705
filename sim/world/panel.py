"""The child-year panel: one row per child and calendar year lived in the municipality.

Accumulated month by month over all child slots and written when a year ends, so the full panel is never held
in memory (the ``denmark`` preset has ~11 million child-years per decade).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sim.eventlog import ParquetSink

SCHEMA = pa.schema(
    [
        ("year", pa.int16()),
        ("child_id", pa.int64()),
        ("household_id", pa.int64()),
        ("age", pa.int8()),
        ("months_present", pa.int8()),
        ("months_faring_badly", pa.int8()),
        ("reports", pa.int16()),
        ("months_preventive", pa.int8()),
        ("months_placed", pa.int8()),
        ("present_dec31", pa.bool_()),
        ("placed_jan1", pa.bool_()),
        ("placed_dec31", pa.bool_()),
        ("preventive_dec31", pa.bool_()),
        ("placement_type_dec31", pa.string()),
        ("absence", pa.float32()),
        ("crime_charges", pa.int8()),
        ("exam_taken", pa.bool_()),
        ("exam_grade", pa.float32()),
        ("mean_wellbeing", pa.float32()),
    ]
)

_COUNTERS = (
    "months_present",
    "months_faring_badly",
    "reports",
    "months_preventive",
    "months_placed",
    "crime_charges",
    "absence_months",
)


class Panel:
    """Per-slot accumulators for the current calendar year."""

    def __init__(
        self,
        child_household: np.ndarray,
        child_birth_year: np.ndarray,
        sink: ParquetSink,
        placement_names: tuple[str, ...],
    ) -> None:
        self.n = child_household.shape[0]
        self.child_household = child_household
        self.child_birth_year = child_birth_year
        self.sink = sink
        self.placement_names = np.array((*placement_names, ""), dtype=object)
        self._reset()

    def _reset(self) -> None:
        n = self.n
        for name in _COUNTERS:
            setattr(self, name, np.zeros(n, dtype=np.int16))
        self.absence_sum = np.zeros(n)
        self.wellbeing_sum = np.zeros(n)
        self.present_dec31 = np.zeros(n, dtype=bool)
        self.placed_jan1 = np.zeros(n, dtype=bool)
        self.placed_dec31 = np.zeros(n, dtype=bool)
        self.preventive_dec31 = np.zeros(n, dtype=bool)
        self.placement_dec31 = np.full(n, -1, dtype=np.int8)
        self.exam_taken = np.full(n, -1, dtype=np.int8)
        self.exam_grade = np.full(n, np.nan, dtype=np.float32)

    def month(
        self,
        idx: np.ndarray,
        W: np.ndarray,
        faring_badly: np.ndarray,
        preventive: np.ndarray,
        placed: np.ndarray,
        first_month_of_year: bool,
    ) -> None:
        """Accumulate the month for present children ``idx`` (other arguments are aligned with idx)."""
        self.months_present[idx] += 1
        self.months_faring_badly[idx] += faring_badly
        self.months_preventive[idx] += preventive
        self.months_placed[idx] += placed
        self.wellbeing_sum[idx] += W
        if first_month_of_year:
            self.placed_jan1[idx] = placed

    def absence(self, idx: np.ndarray, share: np.ndarray) -> None:
        self.absence_sum[idx] += share
        self.absence_months[idx] += 1

    def year_end(self, year: int, idx: np.ndarray, preventive: np.ndarray, placement_code: np.ndarray) -> None:
        """Record the 31 December state of present children ``idx`` and write the year's rows."""
        self.present_dec31[idx] = True
        self.preventive_dec31[idx] = preventive
        self.placed_dec31[idx] = placement_code >= 0
        self.placement_dec31[idx] = placement_code
        rows = np.flatnonzero(self.months_present > 0)
        months = self.months_present[rows]
        absence_n = self.absence_months[rows]
        absence = np.where(absence_n > 0, self.absence_sum[rows] / np.maximum(absence_n, 1), np.nan)
        exam = self.exam_taken[rows]
        table = pa.table(
            {
                "year": np.full(rows.shape[0], year, dtype=np.int16),
                "child_id": rows.astype(np.int64),
                "household_id": self.child_household[rows].astype(np.int64),
                "age": (year - self.child_birth_year[rows]).astype(np.int8),
                "months_present": months.astype(np.int8),
                "months_faring_badly": self.months_faring_badly[rows].astype(np.int8),
                "reports": self.reports[rows],
                "months_preventive": self.months_preventive[rows].astype(np.int8),
                "months_placed": self.months_placed[rows].astype(np.int8),
                "present_dec31": self.present_dec31[rows],
                "placed_jan1": self.placed_jan1[rows],
                "placed_dec31": self.placed_dec31[rows],
                "preventive_dec31": self.preventive_dec31[rows],
                "placement_type_dec31": pa.array(
                    self.placement_names[self.placement_dec31[rows]], pa.string(), mask=self.placement_dec31[rows] < 0
                ),
                "absence": pa.array(absence.astype(np.float32), mask=np.isnan(absence)),
                "crime_charges": self.crime_charges[rows].astype(np.int8),
                "exam_taken": pa.array(exam == 1, mask=exam < 0),
                "exam_grade": pa.array(self.exam_grade[rows], mask=np.isnan(self.exam_grade[rows])),
                "mean_wellbeing": (self.wellbeing_sum[rows] / months).astype(np.float32),
            },
            schema=SCHEMA,
        )
        self.sink.write(table)
        self._reset()
