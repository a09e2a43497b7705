"""Typed configuration: every bad key, value or option fails at start with one line naming the key and what
is allowed; every preset composes."""

from pathlib import Path

import pytest

from sim.cli import expand_sweeps, preflight, user_overrides
from sim.config import CONF_DIR, ConfigError
from sim.registry import compose_config
from tests.conftest import cli

ROOT = Path(__file__).resolve().parents[1]


def error_of(overrides: list[str]) -> str:
    with pytest.raises(ConfigError) as info:
        compose_config(overrides)
    return str(info.value)


def test_default_config_is_the_default_world():
    cfg = compose_config([])
    assert cfg.world.name == "default"
    assert cfg.world.children == 12000
    assert cfg.experiment.name == "compare"


PRESETS = sorted(p.stem for p in (CONF_DIR / "world").glob("*.yaml"))


@pytest.mark.parametrize("preset", PRESETS)
def test_every_world_preset_composes_under_its_name_and_the_readme_gives_its_size(preset):
    world = compose_config([f"world={preset}"]).world
    assert world.name == preset
    readme = (CONF_DIR.parent / "README.md").read_text()
    size = f"{world.children:,}" if world.children < 1_000_000 else f"{world.children / 1e6:.2f} million"
    assert f"`{preset}` ≈ {size}" in readme.replace("\n", " ")


def test_copenhagen_daycare_reports_less_as_published():
    assert compose_config(["world=copenhagen"]).world.institutions.daycare_reporting == pytest.approx(0.35)


def test_misspelt_key_names_the_key_and_the_allowed_keys():
    msg = error_of(["world.childrn=5000"])
    assert "world.childrn" in msg
    assert "did you mean 'children'" in msg
    assert "allowed keys in world:" in msg


def test_misspelt_nested_key_is_caught():
    msg = error_of(["world.reports.sibling_coreprt=0.1"])
    assert "world.reports.sibling_coreprt" in msg and "sibling_coreport" in msg


def test_added_unknown_key_is_not_silently_dropped():
    assert "unknown config key 'world.foo'" in error_of(["+world.foo=1"])


def test_unknown_group_option_lists_the_options():
    msg = error_of(["world=atlantis"])
    allowed = "copenhagen, default, denmark, herning, small, three_municipalities"
    assert msg == f"unknown option 'atlantis' for 'world'; allowed: {allowed}"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "world.reports.sibling_coreport=1.5",
            "world.reports.sibling_coreport = 1.5 is not allowed: must be a probability",
        ),
        ("world.population.features.unemployed_share=-0.1", "must be a share in [0, 1]"),
        (
            "world.reports.need_sensitivity=-1",
            "world.reports.need_sensitivity = -1.0 is not allowed: must be a number >= 0",
        ),
        ("world.population.move_rate_per_year=-0.2", "must be a rate >= 0"),
        ("world.children=-3", "world.children = -3 is not allowed: must be a whole number >= 1"),
        ("world.burn_in_years=-1", "must be a whole number >= 0"),
        ("world.agency.caseworkers.nominal_caseload=-5", "must be a caseload > 0"),
        ("world.agency.caseworkers.max_caseload=0", "must be a whole number >= 1"),
        ("world.agency.investigation.median_months=-2", "must be a duration > 0"),
        ("world.agency.decision.start_delay_days=-1", "must be a duration >= 0"),
        ("world.wellbeing.persistence=1.0", "must be a persistence in [0, 1)"),
        ("world.reports.rates_per_1000.school=[1,-2,3]", "world.reports.rates_per_1000.school[1] = -2"),
        ("world.reports.rates_per_1000.school=[1,2]", "must be a list of 3 values"),
        ("world.population.family_size_shares=[0.5,0.5,0.5,0.5]", "the shares must sum to 1"),
        ("world.children=abc", "world.children = 'abc' is not allowed: must be a whole number"),
        ("output.compression=lz4", "choose one of zstd, snappy, gzip, none"),
    ],
)
def test_out_of_range_values_fail_with_one_clear_message(override, expected):
    msg = error_of([override])
    assert expected in msg
    assert "\n" not in msg


def test_thresholds_out_of_order_are_rejected():
    msg = error_of(["world.agency.screening.investigation_threshold=9"])
    assert "advice_threshold <= investigation_threshold <= acute_threshold" in msg


def test_max_caseload_below_nominal_is_rejected():
    assert "max_caseload = 20 is not allowed" in error_of(["world.agency.caseworkers.max_caseload=20"])


def test_command_line_bad_key_exits_with_one_line_and_no_run_folder(tmp_path):
    proc = cli("world.childrn=5", f"hydra.run.dir={tmp_path / 'run'}")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: unknown config key 'world.childrn' (did you mean 'children'?); allowed keys in world: name, children, "
        "years, burn_in_years, start_year, law, population, wellbeing, institutions, reports, agency, measures, "
        "outcomes"
    ]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()


def test_multirun_checks_every_sweep_value_before_any_job():
    assert preflight(["-m", "world.reports.sibling_coreport=0.1,0.2"]) is None
    msg = preflight(["-m", "world.reports.sibling_coreport=0.1,2"])
    assert msg == "world.reports.sibling_coreport = 2.0 is not allowed: must be a probability in [0, 1]"


def test_sweeps_expand_to_every_combination():
    runs = expand_sweeps(["world=small,herning", "seed=1,2,3"])
    assert len(runs) == 6
    assert ["world=herning", "seed=3"] in runs


def test_hydra_flags_and_hydra_overrides_are_not_user_overrides():
    overrides, multirun = user_overrides(["-m", "--cfg", "job", "hydra.run.dir=x", "world=small", "seed=3"])
    assert overrides == ["world=small", "seed=3"]
    assert multirun


def test_configuration_reference_is_up_to_date():
    from sim.config.reference import OUT, render

    assert OUT.read_text() == render(), "run: python -m sim.config.reference"


def test_configuration_reference_lists_every_leaf_key():
    import dataclasses

    from sim.config.reference import render
    from sim.config.schema import Config

    def leaves(node, prefix=""):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            key = f"{prefix}.{f.name}" if prefix else f.name
            if dataclasses.is_dataclass(value):
                yield from leaves(value, key)
            else:
                yield key

    text = render()
    assert all(f"| `{key}` |" in text for key in leaves(Config()))
