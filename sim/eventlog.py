"""The tidy event log: one flat record per event, written to Parquet one simulated year at a time.

Every event has the same columns (documented in ``docs/data-dictionary.md``); what varies by event type is
what ``kind``, ``value`` and ``flag`` mean. Events are appended as tuples (cheap in the hot path) and turned
into Arrow columns only when a chunk is flushed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.calendar import DAYS_PER_MONTH
from sim.law import REGIMES, Regime

#: Every event type, in the order of a case's life. The dictionary of the ``event`` column uses this order.
EVENT_TYPES: tuple[str, ...] = (
    "birth",
    "move_in",
    "move_out",
    "turn_18",
    "report",
    "screening",
    "case_open",
    "investigation_start",
    "investigation_end",
    "decision",
    "measure_start",
    "measure_end",
    "followup",
    "escalation",
    "breakdown",
    "case_close",
    "outcome",
    "policy",  # what a policy did; kind is "<policy>:<what>" (e.g. a risk score shown, a daycare inquiry)
)

_EVENT_CODE = {e: i for i, e in enumerate(EVENT_TYPES)}
_EVENT_DICTIONARY = pa.array(EVENT_TYPES, pa.string())

SCHEMA = pa.schema(
    [
        ("time", pa.float64()),
        ("month", pa.int32()),
        ("year", pa.int16()),
        ("event", pa.dictionary(pa.int8(), pa.string())),
        ("child_id", pa.int64()),
        ("household_id", pa.int64()),
        ("report_id", pa.int64()),
        ("case_id", pa.int64()),
        ("caseworker_id", pa.int32()),
        ("kind", pa.string()),
        ("value", pa.float64()),
        ("flag", pa.bool_()),
        ("basis", pa.dictionary(pa.int8(), pa.string())),
    ]
)


# The buffer's columns: the log's, less month and year (derived from time at flush), with event codes.
_RAW = pa.schema(
    [
        pa.field("event", pa.int8()) if f.name == "event" else f
        for f in SCHEMA
        if f.name not in ("month", "year", "basis")
    ]
)


class ParquetSink:
    """Write a table in chunks to ``<path>.partial`` and rename it to ``path`` only when closed cleanly,
    so a run that dies never leaves a file that looks whole."""

    def __init__(self, path: Path | None, schema: pa.Schema, compression: str = "zstd") -> None:
        self.path = Path(path) if path is not None else None
        self.schema = schema
        self.compression = None if compression == "none" else compression
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0

    @property
    def partial(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".partial")

    def write(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        if self.path is None or table.num_rows == 0:
            return
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.partial, self.schema, compression=self.compression)
        self._writer.write_table(table.cast(self.schema))

    def close(self) -> Path | None:
        if self.path is None:
            return None
        if self._writer is None:  # no rows at all: still write a valid, empty table
            pq.write_table(self.schema.empty_table(), self.partial, compression=self.compression)
        else:
            self._writer.close()
        os.replace(self.partial, self.path)
        return self.path


class EventLog:
    """Buffered event records for the current simulated year, flushed to a :class:`ParquetSink`.

    Single events (the agency) are appended as tuples; vectorised events (the world) as column chunks. A
    flush turns both into Arrow columns and sorts them stably by time, so the log is chronological.
    """

    def __init__(self, sink: ParquetSink, first_year: int, law: str = "barnets_lov") -> None:
        self.sink = sink
        self.first_year = first_year  # calendar year of month 0 (the start of burn-in)
        self.regime: Regime = REGIMES[law]
        self._citations = pa.array(self.regime.citations(), pa.string())
        self._citation_code = {c: i for i, c in enumerate(self.regime.citations())}
        self._rows: list[tuple] = []
        self._many: list[_Many] = []
        self.counts: dict[str, int] = dict.fromkeys(EVENT_TYPES, 0)

    def add(
        self,
        time: float,
        event: str,
        child: int,
        household: int,
        report: int | None = None,
        case: int | None = None,
        caseworker: int | None = None,
        kind: str | None = None,
        value: float | None = None,
        flag: bool | None = None,
    ) -> None:
        """Append one event; ``time`` in days since the start of burn-in."""
        self._rows.append((time, _EVENT_CODE[event], child, household, report, case, caseworker, kind, value, flag))

    def add_many(
        self,
        time: float,
        event: str,
        child: np.ndarray,
        household: np.ndarray,
        kind: str | None = None,
        value: np.ndarray | None = None,
        flag: np.ndarray | None = None,
        report: np.ndarray | None = None,
    ) -> None:
        """Append one event per element of ``child``, all at ``time`` and of the same ``kind`` (a NaN ``value``
        is recorded as null). The arrays are kept, not copied, until :meth:`flush` builds one Arrow table of them
        all: pass arrays nothing changes before the year's end (every caller passes a fresh selection)."""
        if len(child) == 0:
            return
        self._many.append(_Many(time, _EVENT_CODE[event], child, household, report, kind, value, flag))

    def flush(self) -> None:
        """Write buffered events, sorted stably by time, as one row group."""
        parts = [_many_table(self._many)] if self._many else []
        if self._rows:
            cols = list(zip(*self._rows, strict=True))
            parts.append(pa.table([pa.array(c, f.type) for c, f in zip(cols, _RAW, strict=True)], schema=_RAW))
        self._rows, self._many = [], []
        if not parts:
            return
        raw = pa.concat_tables(parts)
        time = raw.column("time").to_numpy()
        order = np.argsort(time, kind="stable")
        raw = raw.take(pa.array(order))
        time = time[order]
        codes = raw.column("event").to_numpy()
        for code, n in enumerate(np.bincount(codes, minlength=len(EVENT_TYPES))):
            self.counts[EVENT_TYPES[code]] += int(n)
        month = np.floor(time / DAYS_PER_MONTH + 1e-9).astype(np.int32)
        table = pa.table(
            {
                "time": time,
                "month": month,
                "year": (self.first_year + month // 12).astype(np.int16),
                "event": pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), _EVENT_DICTIONARY),
                "child_id": raw.column("child_id"),
                "household_id": raw.column("household_id"),
                "report_id": raw.column("report_id"),
                "case_id": raw.column("case_id"),
                "caseworker_id": raw.column("caseworker_id"),
                "kind": raw.column("kind"),
                "value": raw.column("value"),
                "flag": raw.column("flag"),
                "basis": self._basis(codes, raw.column("kind")),
            },
            schema=SCHEMA,
        )
        self.sink.write(table)

    def _basis(self, codes: np.ndarray, kind: pa.ChunkedArray) -> pa.DictionaryArray:
        """Each event's legal basis under the regime (null where it has none), from its type and kind: looked up
        once per distinct (type, kind) pair, not per event."""
        kinds = kind.combine_chunks().dictionary_encode()
        kind_index = kinds.indices.fill_null(-1).to_numpy().astype(np.int64) + 1  # 0: no kind
        names = [None, *kinds.dictionary.to_pylist()]
        pairs, inverse = np.unique(codes.astype(np.int64) * len(names) + kind_index, return_inverse=True)
        cited = [self.regime.basis_of(EVENT_TYPES[p // len(names)], names[p % len(names)]) for p in pairs.tolist()]
        index = np.array([-1 if c is None else self._citation_code[c] for c in cited], dtype=np.int8)[inverse]
        return pa.DictionaryArray.from_arrays(pa.array(index, pa.int8(), mask=index < 0), self._citations)

    def close(self) -> None:
        self.flush()
        self.sink.close()


class _Many(NamedTuple):
    """One :meth:`EventLog.add_many` call, until the flush."""

    time: float
    code: int
    child: np.ndarray
    household: np.ndarray
    report: np.ndarray | None
    kind: str | None
    value: np.ndarray | None
    flag: np.ndarray | None


def _many_table(calls: list[_Many]) -> pa.Table:
    """The events of :meth:`EventLog.add_many` calls as one table in the raw schema, in call order: each call's
    time, type and kind repeated over its children; a value or flag not given (or a NaN value) is null."""
    sizes = np.array([len(c.child) for c in calls])
    n = int(sizes.sum())

    def optional(field: str, dtype: type, fill: object) -> tuple[np.ndarray, np.ndarray | None]:
        given = [getattr(c, field) is not None for c in calls]
        values = np.concatenate(
            [
                np.asarray(getattr(c, field), dtype=dtype) if g else np.full(len(c.child), fill, dtype=dtype)
                for c, g in zip(calls, given, strict=True)
            ]
        )
        return values, None if all(given) else np.repeat(~np.array(given), sizes)

    kinds = sorted({c.kind for c in calls if c.kind is not None})
    code = {k: i for i, k in enumerate(kinds)}
    kind_index = np.repeat(np.array([code.get(c.kind, -1) for c in calls], dtype=np.int32), sizes)
    report, report_missing = optional("report", np.int64, 0)
    value, _ = optional("value", np.float64, np.nan)
    flag, flag_missing = optional("flag", np.bool_, False)
    return pa.table(
        [
            pa.array(np.repeat(np.array([c.time for c in calls], dtype=np.float64), sizes)),
            pa.array(np.repeat(np.array([c.code for c in calls], dtype=np.int8), sizes)),
            pa.array(np.concatenate([np.asarray(c.child, dtype=np.int64) for c in calls])),
            pa.array(np.concatenate([np.asarray(c.household, dtype=np.int64) for c in calls])),
            pa.array(report, pa.int64(), mask=report_missing),
            pa.nulls(n, pa.int64()),
            pa.nulls(n, pa.int32()),
            pa.DictionaryArray.from_arrays(
                pa.array(kind_index, pa.int32(), mask=kind_index < 0), pa.array(kinds, pa.string())
            ).cast(pa.string()),
            pa.array(value, pa.float64(), from_pandas=True),
            pa.array(flag, pa.bool_(), mask=flag_missing),
        ],
        schema=_RAW,
    )
