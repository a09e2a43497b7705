"""The documentation stays true: every config default quoted in docs/ equals the schema's, and every key the
docs name exists."""

import dataclasses
import re
from pathlib import Path

import pytest

from sim.config.schema import Config

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").rglob("*.md"))
KEY = r"`(seed|(?:world|output|experiment|calibration|fit|costs|compare|policy|diagnose)(?:\.[a-z_0-9]+)*)`"
FILE_SUFFIXES = {"md", "csv", "parquet", "yaml", "json", "py", "txt", "html", "png"}
VALUE = re.compile(r"-?\d[\d,]*(?:\.\d+)?|\[[^\]]*\]|true|false")


def defaults() -> dict[str, object]:
    out: dict[str, object] = {}

    def walk(node, prefix=""):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            key = f"{prefix}.{f.name}" if prefix else f.name
            if dataclasses.is_dataclass(value):
                out[key] = value
                walk(value, key)
            else:
                out[key] = value

    walk(Config())
    from sim.policies import POLICIES

    out["policy"] = {}
    for name, policy in POLICIES.items():
        out[f"policy.{name}"] = policy.Config()
        walk(policy.Config(), f"policy.{name}")
    return out


DEFAULTS = defaults()


def parse(text: str):
    text = text.strip().strip("`").replace("×", "").strip()
    if text.startswith("[") and not re.search(r"[a-z]", text):
        return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text)]
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return text


def same(documented, default) -> bool:
    if isinstance(default, bool) or isinstance(default, str):
        return str(documented).lower() == str(default).lower()
    if isinstance(default, list) and default and isinstance(default[0], str):
        return [x.strip() for x in str(documented).strip("[]").split(",")] == default
    if isinstance(default, list):
        return (
            isinstance(documented, list)
            and len(documented) == len(default)
            and all(abs(a - b) < 1e-9 for a, b in zip(documented, default, strict=True))
        )
    return isinstance(documented, float) and abs(documented - default) < 1e-9


def quoted_defaults():
    for doc in DOCS:
        for n, line in enumerate(doc.read_text().splitlines(), 1):
            for m in re.finditer(KEY + r" \((-?[\d.,]+|\[[^\]]*\]|true|false)\)", line):
                yield doc.name, n, m.group(1), m.group(2)
            row = re.match(r"^\|\s*" + KEY + r"\s*\|\s*`?(-?[\d.,]+|\[[^\]]*\]|true|false|[\w-]+)`?\s*\|", line)
            if row and VALUE.fullmatch(row.group(2)):
                yield doc.name, n, row.group(1), row.group(2)


QUOTED = list(quoted_defaults())


def test_the_docs_quote_defaults():
    assert len(QUOTED) > 50


@pytest.mark.parametrize(("doc", "line", "key", "value"), QUOTED, ids=[f"{q[0]}:{q[1]}:{q[2]}" for q in QUOTED])
def test_quoted_default_equals_the_schema(doc, line, key, value):
    assert key in DEFAULTS, f"{doc}:{line} names {key}, which is not a config key"
    if not dataclasses.is_dataclass(DEFAULTS[key]):
        assert same(parse(value), DEFAULTS[key]), f"{doc}:{line}: {key} is {DEFAULTS[key]!r}, the doc says {value}"


def test_every_config_key_named_in_the_docs_exists():
    unknown = set()
    for doc in DOCS:
        for key in re.findall(KEY, doc.read_text()):
            if key.rsplit(".", 1)[-1] in FILE_SUFFIXES:
                continue  # a file name such as calibration.csv, not a key
            if key not in DEFAULTS and not any(k.startswith(key + ".") for k in DEFAULTS):
                unknown.add(f"{doc.name}: {key}")
    assert not unknown


def policy_keys(name: str) -> list[str]:
    from sim.policies import POLICIES

    return [f"policy.{name}.{f.name}" for f in dataclasses.fields(POLICIES[name].Config)]


def registered_policies() -> list[str]:
    from sim.policies import POLICIES

    return sorted(POLICIES)


@pytest.mark.parametrize("name", registered_policies())
def test_every_policy_has_a_page_listing_every_setting_with_its_default(name):
    page = ROOT / "docs" / "policies" / f"{name}.md"
    assert page.exists(), f"write docs/policies/{name}.md"
    text = page.read_text()
    for key in policy_keys(name):
        assert re.search(r"^\|\s*`" + re.escape(key) + r"`\s*\|", text, flags=re.MULTILINE), (
            f"{key} missing from {page.name}"
        )
