"""Pre-flight for ``python -m sim``: compose and validate the config of every run a command would start
(each point of a ``-m`` sweep too) before Hydra runs any job, and turn failures into one line."""

from __future__ import annotations

import itertools
import re
import sys

from sim.app import hydra_main
from sim.config import ConfigError, friendly_message
from sim.registry import compose_config

_OVERRIDE = re.compile(r"^[~+]{0,2}[A-Za-z_][\w./@-]*=")
_FLAGS_WITH_VALUE = {
    "--cfg",
    "-c",
    "--package",
    "-p",
    "--config-name",
    "-cn",
    "--config-path",
    "-cp",
    "--config-dir",
    "-cd",
    "--info",
    "-i",
    "--experimental-rerun",
}
MAX_COMBINATIONS = 256


def user_overrides(argv: list[str]) -> tuple[list[str], bool]:
    """The config overrides in ``argv`` (not Hydra's own ``hydra.*`` ones) and whether it is a multirun."""
    overrides: list[str] = []
    multirun = False
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("-m", "--multirun"):
            multirun = True
        elif arg in _FLAGS_WITH_VALUE:
            skip = True
        elif _OVERRIDE.match(arg) and not arg.lstrip("+~").startswith("hydra"):
            overrides.append(arg)
    return overrides, multirun


def expand_sweeps(overrides: list[str]) -> list[list[str]]:
    """Every combination of the sweep values (``a=1,2 b=x,y`` gives four override lists)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    choices: list[list[str]] = []
    for o in parsed:
        key = o.get_key_element()
        if o.is_sweep_override():
            choices.append([f"{key}={v}" for v in o.sweep_string_iterator()])
        else:
            choices.append([f"{key}={o.get_value_element_as_str()}"])
    combos = list(itertools.islice(itertools.product(*choices), MAX_COMBINATIONS + 1))
    if len(combos) > MAX_COMBINATIONS:  # check each value on its own instead of every combination
        base = [c[0] for c in choices]
        combos = [(*base[:i], v, *base[i + 1 :]) for i, c in enumerate(choices) for v in c]
    return [list(c) for c in combos]


def preflight(argv: list[str]) -> str | None:
    """The error message for the first run whose config is not allowed, or None if all are fine."""
    if any(a in ("--help", "-h", "--hydra-help", "--version") for a in argv):
        return None
    overrides, multirun = user_overrides(argv)
    try:
        runs = expand_sweeps(overrides) if multirun else [overrides]
        for run in runs:
            compose_config(run)
    except ConfigError as exc:
        return str(exc)
    except Exception as exc:  # a malformed override the parser rejects
        return friendly_message(exc)
    return None


def main() -> None:
    """``python -m sim``: pre-flight, then hand over to Hydra."""
    message = preflight(sys.argv[1:])
    if message:
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)
    hydra_main()
