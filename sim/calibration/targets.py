"""Targets files: one row per published figure (id, quantity, published value, band, unit, kind, source, and
an optional role).

``kind`` is ``level`` (the simulated mean must lie in [lower, upper]), ``direction`` (an order must hold; see
``metrics.DIRECTIONS``) or ``na`` (the world cannot produce it yet, e.g. youth past 17). A policy's validation
file (``conf/targets/policies/<policy>.csv``) also has the paired kinds, which compare the world with the policy
to its twin without: ``ratio`` (the mean of the paired ratios must lie in [lower, upper]) and ``lower`` /
``higher`` (the paired difference's 95% Monte Carlo interval must lie wholly below / above zero).

``role`` says what a row is for: ``check`` (the default: a published figure the world is tested against),
``input`` (a figure the world is built to reproduce, shown beside the simulated value but not a test: a PASS
would prove nothing) or ``validation`` (what a policy should reproduce from its source; only in policy files).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd

from sim.calibration.metrics import DIRECTIONS, METRICS
from sim.config.load import CONF_DIR
from sim.config.validate import ConfigError

COLUMNS = ("id", "quantity", "published", "lower", "upper", "unit", "kind", "year", "source")
KINDS = ("level", "direction", "na")
#: Kinds that compare a policy's world with its twin baseline (policy validation files only).
PAIRED_KINDS = ("ratio", "lower", "higher")
ROLES = ("check", "input", "validation")
UNITS = ("per_1000", "share", "ratio", "grade", "cases", "days", "years")


def targets_path(name_or_path: str) -> Path:
    """``conf/targets/<name>.csv`` for a bare name, else the path itself."""
    p = Path(name_or_path)
    if p.suffix == ".csv" or p.parent != Path("."):
        return p
    return CONF_DIR / "targets" / f"{name_or_path}.csv"


def load_targets(name_or_path: str, metrics: Collection[str] | None = None, paired: bool = False) -> pd.DataFrame:
    """Read and check a targets file; every problem is a :class:`ConfigError` naming the row and column.

    ``metrics`` are the ids a row may name (the calibration metrics by default); ``paired`` allows the kinds that
    need a twin baseline (a policy's validation file). A missing ``role`` column means every row is a ``check``."""
    path = targets_path(name_or_path)
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in (CONF_DIR / "targets").glob("*.csv")))
        raise ConfigError(f"calibration.targets = {name_or_path!r}: no such file {path} (known names: {known})")
    df = pd.read_csv(path, dtype={"id": str, "kind": str, "unit": str, "role": str})
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(
            f"{path.name}: missing column(s) {', '.join(missing)}; a targets file has {', '.join(COLUMNS)}"
        )
    df["role"] = df["role"].fillna("check") if "role" in df.columns else "check"
    known_metrics = METRICS if metrics is None else metrics
    kinds = KINDS + PAIRED_KINDS if paired else KINDS
    for i, row in df.iterrows():
        where = f"{path.name} row {i + 2} ({row['id']})"
        if row["kind"] not in kinds:
            raise ConfigError(f"{where}: kind = {row['kind']!r} is not allowed: choose one of {', '.join(kinds)}")
        if row["unit"] not in UNITS:
            raise ConfigError(f"{where}: unit = {row['unit']!r} is not allowed: choose one of {', '.join(UNITS)}")
        if row["role"] not in ROLES:
            raise ConfigError(f"{where}: role = {row['role']!r} is not allowed: choose one of {', '.join(ROLES)}")
        if row["kind"] != "na" and row["id"] not in known_metrics:
            raise ConfigError(f"{where}: no metric computes {row['id']!r}")
        if row["kind"] == "direction" and row["id"] not in DIRECTIONS:
            raise ConfigError(f"{where}: no direction rule for {row['id']!r}")
        if row["kind"] in ("level", "ratio") and not (
            pd.notna(row["lower"]) and pd.notna(row["upper"]) and row["lower"] <= row["upper"]
        ):
            raise ConfigError(
                f"{where}: a {row['kind']} target needs lower <= upper (got {row['lower']}, {row['upper']})"
            )
    duplicated = df.index[df["id"].duplicated()]
    if len(duplicated):
        i = duplicated[0]
        raise ConfigError(f"{path.name} row {i + 2} ({df.loc[i, 'id']}): duplicate id; each target appears once")
    return df
