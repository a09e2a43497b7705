"""Generate ``docs/configuration.md``, the reference of every config key, from the schema itself.

``python -m sim.config.reference`` rewrites the file; a test fails when it is out of date.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from sim.config.fields import CHECKS
from sim.config.schema import Config

OUT = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"

HEADER = """# Configuration reference

Generated from `sim/config/schema.py` by `python -m sim.config.reference`; do not edit by hand.

Set any key on the command line (`python -m sim world.reports.sibling_coreport=0.3`) or in a YAML file under
`conf/`. Keys and values are checked before anything runs: a misspelt key, a value outside its range or an
unknown option stops the run with one line naming the key and what is allowed. Presets of the `world` group
(`conf/world/*.yaml`) change only a few keys; everything else keeps the defaults below. Why each default has
its value is in `docs/assumptions.md`; the source ids in the meanings (such as KK-2012) are listed in
`docs/sources.md`.
"""


def _allowed(meta: dict[str, Any], default: Any) -> str:
    if "choices" in meta:
        return "one of " + ", ".join(f"`{c}`" for c in meta["choices"])
    if "subset_of" in meta:
        return "list of any of " + ", ".join(f"`{c}`" for c in meta["subset_of"])
    check = meta.get("check")
    if not check:
        return "true / false" if isinstance(default, bool) else "text"
    words = CHECKS[check][1]
    if meta.get("each"):
        words = f"list of {len(default)}, each {words}"
        if meta.get("sums_to_one"):
            words += ", summing to 1"
    return words


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _rows(node: Any, prefix: str, out: list[str]) -> None:
    sections = []
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        key = f"{prefix}.{f.name}" if prefix else f.name
        if dataclasses.is_dataclass(value):
            sections.append((key, value, f.metadata.get("doc", "")))
            continue
        doc = f.metadata.get("doc", "").replace("|", "\\|")
        out.append(f"| `{key}` | `{_fmt(value)}` | {_allowed(dict(f.metadata), value)} | {doc} |")
    for key, value, doc in sections:
        out.append("")
        out.append(f"## `{key}`")
        out.append("")
        summary = (type(value).__doc__ or "").strip().splitlines()[0] if type(value).__doc__ else doc
        out.append((summary or doc).replace("``", "`"))
        out.append("")
        out.append("| key | default | allowed | meaning |")
        out.append("|---|---|---|---|")
        _rows(value, key, out)


def render() -> str:
    lines = [HEADER, "## Top level", "", "| key | default | allowed | meaning |", "|---|---|---|---|"]
    _rows(Config(), "", lines)
    text = "\n".join(lines) + "\n"
    # Sections with no scalar keys of their own have an empty table: drop the dangling header.
    return text.replace("| key | default | allowed | meaning |\n|---|---|---|---|\n\n", "")


def main() -> None:
    OUT.write_text(render())
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
