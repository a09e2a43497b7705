"""``python -m sim.report <run folder> [--language da]``: render a finished comparison's, audit's or design
diagnosis's report again (a diagnosis run's or a sweep's folder), e.g. in the other language, as
``report.<language>.html`` beside the original (the run's manifest is left as it is)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.report.html import render_folder
from sim.report.i18n import LANGUAGES
from sim.runfolder import atomic_write_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.report", description=__doc__)
    parser.add_argument(
        "folder",
        type=Path,
        help="a comparison's, audit's or diagnosis's run folder (comparison.parquet, fairness.parquet, "
        "diagnosands.csv)",
    )
    parser.add_argument("--language", choices=LANGUAGES, default="en", help="language of the report")
    parser.add_argument("--out", type=Path, default=None, help="file to write (default: report.<language>.html)")
    args = parser.parse_args(argv)

    try:
        html, _ = render_folder(args.folder, args.language)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out or args.folder / f"report.{args.language}.html"
    atomic_write_text(out, html)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
