"""A fixed-width text table, the output format every benchmark shares."""

from __future__ import annotations


def format_table(header: list[str], lines: list[list[str]], left: set[int]) -> str:
    """Columns padded to their widest cell; column indices in ``left`` are left-aligned (text), the rest
    right-aligned (numbers)."""
    rows = [header, *lines]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    )


def format_goals(checks: list[dict], unit: str = "") -> str:
    """The goal checks as a table: each goal, the measured value and its target (with ``unit``), PASS or FAIL."""
    return format_table(
        ["goal", "measured", "target", "result"],
        [
            [c["goal"], f"{c['value']:g}{unit}", f">= {c['target']:g}{unit}", "PASS" if c["pass"] else "FAIL"]
            for c in checks
        ],
        left={0, 3},
    )
