"""Field constructors that attach a range check and a one-line doc to every config value.

The check travels in the dataclass field's metadata, so one walker (:mod:`sim.config.validate`) enforces
every range and one generator (``docs/configuration.md``) documents every key, and neither can drift from
the schema. A scalar field may also carry its :class:`~sim.config.evidence.Evidence` (grade, plausible range,
basis); its default must lie in that range.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sim.config.evidence import Evidence

#: name -> (predicate on a scalar, what is allowed, in words)
CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "probability": (lambda v: 0.0 <= v <= 1.0, "a probability in [0, 1]"),
    "share": (lambda v: 0.0 <= v <= 1.0, "a share in [0, 1]"),
    "nonnegative": (lambda v: v >= 0, "a number >= 0"),
    "positive": (lambda v: v > 0, "a number > 0"),
    "count": (lambda v: isinstance(v, int) and v >= 0, "a whole number >= 0"),
    "positive_count": (lambda v: isinstance(v, int) and v >= 1, "a whole number >= 1"),
    "rate": (lambda v: v >= 0, "a rate >= 0"),
    "duration": (lambda v: v >= 0, "a duration >= 0"),
    "positive_duration": (lambda v: v > 0, "a duration > 0"),
    "caseload": (lambda v: v > 0, "a caseload > 0"),
    "correlation": (lambda v: -1.0 <= v <= 1.0, "a correlation in [-1, 1]"),
    "persistence": (lambda v: 0.0 <= v < 1.0, "a persistence in [0, 1)"),
    "any": (lambda v: True, "any number"),
}


def _field(
    default: Any,
    check: str,
    doc: str,
    *,
    each: bool = False,
    any_length: bool = False,
    sums_to_one: bool = False,
    evidence: Evidence | None = None,
) -> Any:
    if check not in CHECKS:
        raise ValueError(f"unknown check {check!r}")
    if evidence is not None:
        predicate, allowed = CHECKS[check]
        if not (predicate(evidence.low) and predicate(evidence.high)):
            raise ValueError(f"evidence range [{evidence.low}, {evidence.high}] is not {allowed}: {doc!r}")
        if not evidence.contains(default):
            raise ValueError(
                f"default {default} lies outside its evidence range [{evidence.low}, {evidence.high}]: {doc!r}"
            )
    meta = {
        "check": check,
        "doc": doc,
        "each": each,
        "any_length": any_length,
        "sums_to_one": sums_to_one,
        "evidence": evidence,
    }
    if isinstance(default, list | dict):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def probability(default: float, doc: str, evidence: Evidence | None = None) -> Any:
    return _field(default, "probability", doc, evidence=evidence)


def share(default: float, doc: str, evidence: Evidence | None = None) -> Any:
    return _field(default, "share", doc, evidence=evidence)


def nonnegative(default: float, doc: str, evidence: Evidence | None = None) -> Any:
    return _field(default, "nonnegative", doc, evidence=evidence)


def positive(default: float, doc: str, evidence: Evidence | None = None) -> Any:
    return _field(default, "positive", doc, evidence=evidence)


def count(default: int, doc: str, evidence: Evidence | None = None) -> Any:
    return _field(default, "count", doc, evidence=evidence)


def positive_count(default: int, doc: str, evidence: Evidence | None = None) -> Any:
    return _field(default, "positive_count", doc, evidence=evidence)


def rate(default: float, doc: str, evidence: Evidence | None = None) -> Any:
    return _field(default, "rate", doc, evidence=evidence)


def duration(default: float, doc: str, evidence: Evidence | None = None) -> Any:
    return _field(default, "duration", doc, evidence=evidence)


def positive_duration(default: float, doc: str, evidence: Evidence | None = None) -> Any:
    return _field(default, "positive_duration", doc, evidence=evidence)


def caseload(default: float, doc: str, evidence: Evidence | None = None) -> Any:
    return _field(default, "caseload", doc, evidence=evidence)


def correlation(default: float, doc: str, evidence: Evidence | None = None) -> Any:
    return _field(default, "correlation", doc, evidence=evidence)


def persistence(default: float, doc: str, evidence: Evidence | None = None) -> Any:
    return _field(default, "persistence", doc, evidence=evidence)


def number(default: float, doc: str, evidence: Evidence | None = None) -> Any:
    return _field(default, "any", doc, evidence=evidence)


def shares(default: list[float], doc: str) -> Any:
    """A list of shares that must each be in [0, 1] and sum to 1."""
    return _field(default, "share", doc, each=True, sums_to_one=True)


def rates(default: list[float], doc: str) -> Any:
    """A list of non-negative rates."""
    return _field(default, "rate", doc, each=True)


def probabilities(default: list[float], doc: str) -> Any:
    """A list of probabilities, each in [0, 1]."""
    return _field(default, "probability", doc, each=True)


def counts(default: list[int], doc: str) -> Any:
    """A list of one or more whole numbers, each at least 1."""
    return _field(default, "positive_count", doc, each=True, any_length=True)


def numbers(default: list[float], doc: str) -> Any:
    """A list of unconstrained numbers (e.g. coefficients)."""
    return _field(default, "any", doc, each=True)


def text(default: str, doc: str) -> Any:
    return dataclasses.field(default=default, metadata={"check": None, "doc": doc})


def flag(default: bool, doc: str) -> Any:
    return dataclasses.field(default=default, metadata={"check": None, "doc": doc})


def choice(default: str, allowed: tuple[str, ...], doc: str) -> Any:
    return dataclasses.field(default=default, metadata={"check": None, "choices": allowed, "doc": doc})


def subset(default: list[str], allowed: tuple[str, ...], doc: str) -> Any:
    """A list of distinct options, each one of ``allowed`` (empty: none)."""
    return dataclasses.field(
        default_factory=lambda d=default: list(d), metadata={"check": None, "subset_of": allowed, "doc": doc}
    )


def section(factory: Callable[[], Any], doc: str) -> Any:
    return dataclasses.field(default_factory=factory, metadata={"check": None, "doc": doc})
