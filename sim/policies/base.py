"""The policies' registry. A policy module (``sim/policies/<name>.py``) defines a :class:`sim.hooks.Policy`
subclass with a ``name`` and a ``Config`` dataclass (fields made with :mod:`sim.config.fields`, so every value is
range-checked and documented, and every number carries its :class:`~sim.config.evidence.Evidence`), and
decorates it with :func:`register`. ``conf/policy/<name>.yaml`` selects it: ``python -m sim policy=<name>``.
"""

from __future__ import annotations

import dataclasses

from sim.config.evidence import Evidence, published
from sim.hooks import Policy

POLICIES: dict[str, type[Policy]] = {}

#: The evidence for a policy's ``baseline_caseload`` (what the staffing is scaled from), shared by the policies
#: that set a caseload.
BASELINE_CASELOAD = published(
    30.0,
    33.0,
    "open child cases per full-time caseworker: 33 (2019) and 31 (2023); 30 is the association's advised maximum",
    "DS-2023",
)


def register(cls: type[Policy]) -> type[Policy]:
    """Class decorator: make a policy selectable as ``policy=<cls.name>``. Refuses a policy with a numeric setting
    that has no evidence grade: every effect size says where it comes from."""
    if not getattr(cls, "name", None):
        raise TypeError(f"{cls.__name__} needs a name")
    ungraded = [name for name, evidence in evidence_of(cls).items() if evidence is None]
    if ungraded:
        raise TypeError(
            f"policy {cls.name!r}: {', '.join(ungraded)} has no evidence grade; give the field "
            "evidence=published(...), derived(...), assumed(...) or setting(...) (sim/config/evidence.py)"
        )
    POLICIES[cls.name] = cls
    return cls


def evidence_of(cls: type[Policy]) -> dict[str, Evidence | None]:
    """Each numeric setting of a policy's config, in schema order, with its evidence (None where it has none)."""
    out = {}
    for f in dataclasses.fields(cls.Config):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        if isinstance(default, int | float) and not isinstance(default, bool):
            out[f.name] = f.metadata.get("evidence")
    return out
