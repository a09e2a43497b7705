"""Targets files: one row per published figure (id, quantity, published value, band, unit, kind, source).

``kind`` is ``level`` (the simulated mean must lie in [lower, upper]), ``direction`` (an order must hold; see
``metrics.DIRECTIONS``) or ``na`` (the world cannot produce it yet, e.g. youth past 17).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.calibration.metrics import DIRECTIONS, METRICS
from sim.config.load import CONF_DIR
from sim.config.validate import ConfigError

COLUMNS = ("id", "quantity", "published", "lower", "upper", "unit", "kind", "year", "source")
KINDS = ("level", "direction", "na")
UNITS = ("per_1000", "share", "ratio", "grade", "cases")


def targets_path(name_or_path: str) -> Path:
    """``conf/targets/<name>.csv`` for a bare name, else the path itself."""
    p = Path(name_or_path)
    if p.suffix == ".csv" or p.parent != Path("."):
        return p
    return CONF_DIR / "targets" / f"{name_or_path}.csv"


def load_targets(name_or_path: str) -> pd.DataFrame:
    """Read and check a targets file; every problem is a :class:`ConfigError` naming the row and column."""
    path = targets_path(name_or_path)
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in (CONF_DIR / "targets").glob("*.csv")))
        raise ConfigError(f"calibration.targets = {name_or_path!r}: no such file {path} (known names: {known})")
    df = pd.read_csv(path, dtype={"id": str, "kind": str, "unit": str})
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(
            f"{path.name}: missing column(s) {', '.join(missing)}; a targets file has {', '.join(COLUMNS)}"
        )
    for i, row in df.iterrows():
        where = f"{path.name} row {i + 2} ({row['id']})"
        if row["kind"] not in KINDS:
            raise ConfigError(f"{where}: kind = {row['kind']!r} is not allowed: choose one of {', '.join(KINDS)}")
        if row["unit"] not in UNITS:
            raise ConfigError(f"{where}: unit = {row['unit']!r} is not allowed: choose one of {', '.join(UNITS)}")
        if row["kind"] != "na" and row["id"] not in METRICS:
            raise ConfigError(f"{where}: no metric computes {row['id']!r}")
        if row["kind"] == "direction" and row["id"] not in DIRECTIONS:
            raise ConfigError(f"{where}: no direction rule for {row['id']!r}")
        if row["kind"] == "level" and not (
            pd.notna(row["lower"]) and pd.notna(row["upper"]) and row["lower"] <= row["upper"]
        ):
            raise ConfigError(f"{where}: a level target needs lower <= upper (got {row['lower']}, {row['upper']})")
    duplicated = df.index[df["id"].duplicated()]
    if len(duplicated):
        i = duplicated[0]
        raise ConfigError(f"{path.name} row {i + 2} ({df.loc[i, 'id']}): duplicate id; each target appears once")
    return df
