"""The run folder: resolved config, seed, package versions, results written atomically, and a manifest.

A result file appears under its final name only once it is complete (written to ``<name>.partial``, then
renamed), and ``MANIFEST.json`` is written last with every file's size and SHA-256: a folder without a
manifest, or whose files do not match it, is not a finished run.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

#: Written last: a run folder without it is not a finished run.
MANIFEST = "MANIFEST.json"

PACKAGES = (
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "simpy",
    "hydra-core",
    "omegaconf",
    "scikit-learn",
    "pymc",
    "pytensor",
    "arviz",
    "statsmodels",
    "childwelfare-sim",
)


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see either nothing or the whole file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_table(path: Path, table: pa.Table, compression: str = "zstd") -> Path:
    """Write a Parquet table atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    pq.write_table(table, tmp, compression=None if compression == "none" else compression)
    os.replace(tmp, path)
    return path


def package_versions() -> dict[str, str]:
    """Versions of Python, the platform and every package a result depends on."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_metadata(out_dir: Path, resolved_yaml: str, seed: int) -> list[Path]:
    """``config.yaml`` (resolved), ``seed.txt`` and ``versions.json``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        atomic_write_text(out_dir / "config.yaml", resolved_yaml),
        atomic_write_text(out_dir / "seed.txt", f"{seed}\n"),
        atomic_write_text(out_dir / "versions.json", json.dumps(package_versions(), indent=2) + "\n"),
    ]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(out_dir: Path, files: list[Path]) -> Path:
    """Write ``MANIFEST.json`` last: the run is complete."""
    out_dir = Path(out_dir)
    entries = {
        str(Path(f).relative_to(out_dir)): {"bytes": Path(f).stat().st_size, "sha256": sha256(Path(f))}
        for f in sorted(set(files))
    }
    return atomic_write_text(out_dir / MANIFEST, json.dumps({"complete": True, "files": entries}, indent=2) + "\n")


def verify_manifest(out_dir: Path) -> bool:
    """True if the folder has a manifest and every listed file is present and unchanged."""
    out_dir = Path(out_dir)
    manifest = out_dir / MANIFEST
    if not manifest.exists():
        return False
    try:
        entries = json.loads(manifest.read_text())["files"]
    except (ValueError, KeyError):
        return False
    for name, meta in entries.items():
        f = out_dir / name
        if not f.exists() or f.stat().st_size != meta["bytes"] or sha256(f) != meta["sha256"]:
            return False
    return True
