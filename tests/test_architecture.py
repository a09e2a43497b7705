"""The package keeps its layers: `lint-imports` passes with a contract for every layer, and ARCHITECTURE.md lists
every module and every layer the contracts name."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import ROOT

ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text()
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def modules() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for package in ("sim", "estimators") for p in (ROOT / package).rglob("*.py"))


def test_lint_imports_keeps_every_contract():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    proc = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken" in proc.stdout


def test_every_module_is_in_the_inventory():
    listed = set(re.findall(r"^\| [a-z]+ \| `([\w/]+\.py)` \|", ARCHITECTURE, flags=re.M))
    assert set(modules()) - listed == set()
    assert listed - set(modules()) == set()  # and no module that is gone


def test_the_top_level_contract_names_every_part_of_sim_and_architecture_describes_each():
    layers = next(c for c in CONTRACTS if c.get("containers") == ["sim"])
    assert layers["exhaustive"] is True  # lint-imports fails on a module of sim/ left out of every layer
    named = {part.strip() for layer in layers["layers"] for part in layer.split("|")}
    on_disk = {p.stem if p.is_file() else p.name for p in (ROOT / "sim").iterdir() if p.suffix == ".py" or p.is_dir()}
    on_disk -= {"__init__", "__pycache__"}
    assert named == on_disk
    for part in named:
        assert f"sim/{part}" in ARCHITECTURE, part
