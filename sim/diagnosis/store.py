"""Where replications live: one small JSON file per replication, written atomically as it finishes, keyed by
its design point and seed; and cached worlds, keyed by their config and seed.

Layout of a store (``diagnose.store``)::

    replications/<point>/point.json      the design point: its config, for people and for merging
    replications/<point>/<seed>.json     one replication's record and the SHA-256 of its canonical JSON
    worlds/<key>.pkl                     a design's replication worlds (e.g. a table of potential outcomes)

A file is first written under a temporary name and then renamed, so it appears whole or not at all. Reading
checks that it parses, that its checksum matches and that its point and seed are those of its name; a file that
fails (a disk that filled up, a copy cut short, an edit) is deleted and its replication recomputed, never used.
Stores from several machines merge by copying the valid files one lacks (:func:`merge`; also
``python -m sim.diagnosis.store merge DEST SOURCE...``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import pickle
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("sim.diagnosis")


def canonical(payload: dict[str, Any]) -> str:
    """JSON with sorted keys and NaN/inf written as null, so the same record always has the same text."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(payload), sort_keys=True, separators=(",", ":"), allow_nan=False)


def checksum(payload: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(payload).encode("utf-8")).hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """``data`` to ``path`` through a temporary file in the same folder (unique per process), fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Store:
    """A folder of finished replications and cached worlds."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ replications
    def point_dir(self, point: str) -> Path:
        return self.root / "replications" / point

    def path(self, point: str, seed: int) -> Path:
        return self.point_dir(point) / f"{seed}.json"

    def describe_point(self, point: str, description: dict[str, Any]) -> None:
        """Write ``point.json`` (once): what the design point is."""
        path = self.point_dir(point) / "point.json"
        if not path.exists():
            atomic_write(path, (json.dumps(description, indent=2, sort_keys=True, default=str) + "\n").encode())

    def write(self, record: dict[str, Any]) -> Path:
        """Persist one replication's record (it must carry ``point`` and ``seed``) with its checksum."""
        body = {k: v for k, v in record.items() if k != "sha256"}
        payload = {**json.loads(canonical(body)), "sha256": checksum(body)}
        path = self.path(record["point"], int(record["seed"]))
        atomic_write(path, (json.dumps(payload, sort_keys=True) + "\n").encode("utf-8"))
        return path

    @staticmethod
    def check(path: Path) -> tuple[dict[str, Any] | None, str]:
        """The record in ``path`` if it is whole and true to its name, else None and what is wrong."""
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return None, f"unreadable ({type(exc).__name__})"
        if not isinstance(payload, dict) or "sha256" not in payload:
            return None, "no checksum"
        body = {k: v for k, v in payload.items() if k != "sha256"}
        if checksum(body) != payload["sha256"]:
            return None, "checksum mismatch"
        if str(body.get("seed")) != path.stem or body.get("point") != path.parent.name:
            return None, "point or seed differs from the file's name"
        return body, ""

    def read(self, point: str, seed: int) -> dict[str, Any] | None:
        """The stored record, or None if missing; a corrupt file is deleted (and logged) and None returned."""
        path = self.path(point, seed)
        if not path.exists():
            return None
        record, problem = self.check(path)
        if record is None:
            log.warning("%s is corrupt (%s): deleted, the replication is computed again", path, problem)
            path.unlink(missing_ok=True)
        return record

    def scan(self, point: str, seeds: list[int]) -> tuple[dict[int, dict[str, Any]], list[int]]:
        """Stored records of ``seeds`` (valid ones only) and the seeds still to compute, in order."""
        done, missing = {}, []
        for seed in seeds:
            record = self.read(point, seed)
            if record is None:
                missing.append(seed)
            else:
                done[seed] = record
        return done, missing

    # ------------------------------------------------------------------ worlds
    def world_path(self, key: str) -> Path:
        return self.root / "worlds" / f"{key}.pkl"

    def load_world(self, key: str) -> Any | None:
        """A cached world, or None (a file that does not unpickle is deleted)."""
        path = self.world_path(key)
        if not path.exists():
            return None
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except Exception as exc:  # a cut-short or foreign file: recompute
            log.warning("%s is unreadable (%s): deleted, the world is simulated again", path, exc)
            path.unlink(missing_ok=True)
            return None

    def save_world(self, key: str, world: Any) -> Path:
        path = self.world_path(key)
        atomic_write(path, pickle.dumps(world, protocol=pickle.HIGHEST_PROTOCOL))
        return path


def merge(dest: Path | str, sources: list[Path | str]) -> dict[str, int]:
    """Copy into ``dest`` every valid replication of ``sources`` that ``dest`` lacks (an existing valid file is
    kept: same point and seed, same result). Returns counts of files copied, already present, and invalid."""
    target = Store(dest)
    counts = {"copied": 0, "present": 0, "invalid": 0}
    for source in sources:
        root = Path(source) / "replications"
        if not root.is_dir():
            raise FileNotFoundError(f"{source} is not a diagnosis store (no replications/ folder)")
        for point_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            description = point_dir / "point.json"
            for path in sorted(point_dir.glob("*.json")):
                if path.name == "point.json":
                    continue
                record, _ = Store.check(path)
                if record is None:
                    counts["invalid"] += 1
                    continue
                if target.read(record["point"], int(record["seed"])) is not None:
                    counts["present"] += 1
                    continue
                target.write(record)
                counts["copied"] += 1
            if description.exists():
                target.describe_point(point_dir.name, json.loads(description.read_text()))
    return counts


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.diagnosis.store merge DEST SOURCE...``"""
    p = argparse.ArgumentParser(prog="python -m sim.diagnosis.store", description="Merge diagnosis stores.")
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("merge", help="copy the valid replications of SOURCE stores that DEST lacks")
    m.add_argument("dest")
    m.add_argument("sources", nargs="+")
    args = p.parse_args(argv)
    try:
        counts = merge(args.dest, args.sources)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"copied {counts['copied']}, already present {counts['present']}, invalid (skipped) {counts['invalid']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
