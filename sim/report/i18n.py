"""Texts and number formats of the report in each language (``locale/<language>.yaml``).

Every label, heading and sentence is looked up by a dotted key; numbers are formatted the way the language
writes them (English 1,234.5; Danish 1.234,5). A small formatter, not babel: the report needs thousands
separators, a decimal mark, a minus sign and a percent pattern, nothing more.

Texts name a step of a case by its section of the law in force, so they hold a token for it, filled in for the
run's regime (``world.law``, :mod:`sim.law`): ``[[investigation]]`` is ``§ 20`` under barnets lov and ``§ 50``
under serviceloven, likewise ``[[preventive]]`` and ``[[home_based]]``; ``[[law]]`` is the act's name.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from sim.config.schema import WorldConfig
from sim.law import REGIMES

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES: tuple[str, ...] = ("en", "da")


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one mapping of dotted keys; lists and strings are leaves."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten(value, full))
        else:
            out[full] = value
    return out


#: Steps of a case whose section of the law the texts cite, as ``[[step]]`` tokens.
CITED_STEPS = ("investigation", "preventive", "home_based")
DEFAULT_LAW: str = WorldConfig.law  # the schema's default, for run folders from before world.law


def legal_terms(law: str, language: str) -> dict[str, str]:
    """The tokens' values under one regime: each cited step's section without its subsections (``§ 52``, not
    ``§ 52, stk. 3``, as practitioners name the measure) and ``law``, the act's name in the language."""
    regime = REGIMES[law]
    terms = {step: regime.basis(step).section.split(",")[0] for step in CITED_STEPS}
    terms["law"] = regime.da if language == "da" else regime.en
    return terms


def fill_terms(value: Any, terms: dict[str, str]) -> Any:
    """``value`` (a text or a list of texts) with every ``[[token]]`` replaced by its term."""
    if isinstance(value, list):
        return [fill_terms(v, terms) for v in value]
    if not isinstance(value, str):
        return value
    for token, term in terms.items():
        value = value.replace(f"[[{token}]]", term)
    return value


@cache
def texts(language: str, law: str = DEFAULT_LAW) -> dict[str, Any]:
    """The dotted-key texts of one language, in the terms of one legal regime."""
    if language not in LANGUAGES:
        raise ValueError(f"report.language = {language!r} is not allowed: choose one of {', '.join(LANGUAGES)}")
    with open(LOCALE_DIR / f"{language}.yaml", encoding="utf-8") as fh:
        raw = flatten(yaml.safe_load(fh))
    terms = legal_terms(law, language)
    return {key: fill_terms(value, terms) for key, value in raw.items()}


def round_sig(x: float, sig: int = 2) -> float:
    """``x`` rounded to ``sig`` significant digits (40.3 -> 40, 0.0263 -> 0.026)."""
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, sig - 1 - math.floor(math.log10(abs(x))))


def decimals_for(x: float, sig: int = 2, most: int = 3) -> int:
    """Decimals needed to show ``x`` with ``sig`` significant digits, at most ``most``."""
    if x == 0 or not math.isfinite(x):
        return 0
    return int(min(most, max(0, sig - 1 - math.floor(math.log10(abs(x))))))


class Locale:
    """Texts and number formats of one language, in the terms of one legal regime: ``t("summary.for_children")``,
    ``t.number(1234.5, 1)``."""

    def __init__(self, language: str, law: str = DEFAULT_LAW) -> None:
        self.language = language
        self.law = law
        self.texts = texts(language, law)

    def __call__(self, key: str, **values: Any) -> str:
        """The text at ``key``, with ``{placeholders}`` filled in."""
        text = self.texts[key]
        return text.format(**values) if values else text

    def get(self, key: str, default: Any = None) -> Any:
        return self.texts.get(key, default)

    def has(self, key: str) -> bool:
        return key in self.texts

    # ------------------------------------------------------------------ numbers
    def number(self, x: float | None, decimals: int = 1, signed: bool = False) -> str:
        """``x`` with the language's thousands separator, decimal mark and minus sign; '–' for a missing value."""
        if x is None or not math.isfinite(x):
            return "–"
        r = round(x, decimals)
        body = f"{abs(r):,.{decimals}f}"
        whole, _, frac = body.partition(".")
        body = whole.replace(",", self("number.thousands")) + (self("number.decimal") + frac if frac else "")
        if r < 0:
            return self("number.minus") + body
        return "+" + body if signed and r > 0 else body

    def about(self, x: float, sig: int = 2) -> str:
        """A rounded amount for a sentence: two significant digits, no trailing decimals ("about 40")."""
        r = round_sig(x, sig)
        decimals = decimals_for(r, sig) if abs(r) < 10 ** (sig - 1) else 0
        while decimals and round(r, decimals - 1) == r:  # 0.90 -> 0.9
            decimals -= 1
        return self.number(r, decimals)

    def percent(self, share: float | None, decimals: int = 1, signed: bool = False) -> str:
        """A share 0-1 as a percentage in the language's pattern (12.3% / 12,3 %)."""
        if share is None or not math.isfinite(share):
            return "–"
        return self("number.percent", x=self.number(100 * share, decimals, signed))

    def money_millions(self, dkk: float | None, decimals: int = 1, signed: bool = False) -> str:
        """DKK as millions: 47.1 million DKK / 47,1 mio. kr."""
        if dkk is None or not math.isfinite(dkk):
            return "–"
        return self("number.million_dkk", x=self.number(dkk / 1e6, decimals, signed))

    def money(self, dkk: float | None) -> str:
        """Whole DKK: 620,000 DKK / 620.000 kr."""
        if dkk is None or not math.isfinite(dkk):
            return "–"
        return self("number.dkk", x=self.number(dkk, 0))

    def interval(self, lo: str, hi: str) -> str:
        """'lo to hi' in the language."""
        return self("number.range", lo=lo, hi=hi)
