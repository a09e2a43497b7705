"""The run folder of ``python -m sim``: resolved config, seed, versions, every table, a manifest written last,
no half-written file that looks whole, and every column documented in the data dictionary."""

import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from sim.calendar import DAYS_PER_MONTH
from sim.config import CONF_DIR, Config
from sim.eventlog import EVENT_TYPES, SCHEMA, ParquetSink
from sim.registry import compose_config, register_configs, to_config
from sim.runfolder import verify_manifest, write_manifest
from sim.tables import Tables
from tests.conftest import cli

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("events", "reports", "panel", "children", "households", "institutions", "agency_monthly")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """``python -m sim experiment=simulate world=small`` as a user runs it (default horizon: 10 + 10 years)."""
    out = tmp_path_factory.mktemp("cli") / "run"
    proc = cli("experiment=simulate", "world=small", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    return out


def test_run_folder_holds_config_seed_versions_tables_and_manifest(run_folder):
    names = {p.name for p in run_folder.iterdir()}
    assert {"config.yaml", "seed.txt", "versions.json", "MANIFEST.json", "summary.csv"} <= names
    assert {f"{t}.parquet" for t in TABLES} <= names
    assert not [n for n in names if n.endswith(".partial")]
    assert (run_folder / "seed.txt").read_text().strip() == "20261124"
    versions = json.loads((run_folder / "versions.json").read_text())
    assert {"python", "numpy", "simpy", "hydra-core", "pyarrow"} <= set(versions)


def test_saved_config_reproduces_the_run_config(run_folder):
    """config.yaml holds every key of the run's config with its resolved value, and nothing else: it equals
    the config composed again from the run's overrides (Hydra's own settings left out), and read back into the
    schema it gives the same typed config."""
    overrides = ["experiment=simulate", "world=small"]
    saved = yaml.safe_load((run_folder / "config.yaml").read_text())
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        composed = OmegaConf.to_container(compose(config_name="config", overrides=overrides), resolve=True)
    composed.pop("hydra", None)
    assert set(saved) == set(composed)
    for key in composed:
        assert saved[key] == composed[key], key
    assert to_config(OmegaConf.merge(OmegaConf.structured(Config), saved)) == compose_config(overrides)


def test_event_log_holds_every_kind_of_event(run_folder):
    events = pd.read_parquet(run_folder / "events.parquet", columns=["event", "kind"])
    assert set(events["event"].astype(str)) == set(EVENT_TYPES) - {"policy"}  # baseline: no policy acts
    outcomes = set(events.loc[events["event"] == "outcome", "kind"])
    assert outcomes == {
        "faring_badly_start",
        "faring_badly_end",
        "faring_badly_3m",
        "faring_badly_12m",
        "crime_charge",
        "exam",
    }


def test_event_log_is_in_time_order_and_has_the_documented_schema(run_folder):
    table = pq.read_table(run_folder / "events.parquet")
    assert table.schema.equals(SCHEMA)
    time = table.column("time").to_numpy()
    assert (time[1:] >= time[:-1]).all()


def test_manifest_lists_every_result_and_detects_changes(run_folder, tmp_path):
    manifest = json.loads((run_folder / "MANIFEST.json").read_text())
    assert manifest["complete"] is True
    assert {f"{t}.parquet" for t in TABLES} <= set(manifest["files"])
    assert verify_manifest(run_folder)
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in run_folder.glob("*.parquet"):
        (copy / p.name).write_bytes(p.read_bytes())
    write_manifest(copy, list(copy.glob("*.parquet")))
    assert verify_manifest(copy)
    (copy / "panel.parquet").write_bytes(b"truncated")
    assert not verify_manifest(copy)


def test_an_unfinished_table_never_appears_under_its_final_name(tmp_path):
    sink = ParquetSink(tmp_path / "events.parquet", SCHEMA)
    sink.write(SCHEMA.empty_table())
    sink.write(pa.table({name: pa.array([], f.type) for name, f in zip(SCHEMA.names, SCHEMA, strict=True)}))
    assert not (tmp_path / "events.parquet").exists()  # the run "dies" here
    sink.close()
    assert (tmp_path / "events.parquet").exists() and not sink.partial.exists()


def documented_columns() -> dict[str, dict[str, str]]:
    """Column -> type per table from docs/data-dictionary.md: '## <file>' sections, the first table of each."""
    text = (ROOT / "docs" / "data-dictionary.md").read_text()
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"^## (\S+\.(?:parquet|csv))\s*$", line)
        if heading:
            current = heading.group(1)
            sections[current] = {}
            continue
        if line.startswith("## ") or (current and line.startswith("| event |")):
            current = None  # a later table in the section (the event types) is not about columns
        cell = re.match(r"^\|\s*`([^`]+)`\s*\|\s*([^|]+?)\s*\|", line)
        if current and cell:
            sections[current][cell.group(1)] = cell.group(2)
    return sections


def arrow_type_name(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        return f"dictionary<{arrow_type_name(t.value_type)}>"
    return {"double": "float64", "float": "float32"}.get(str(t), str(t))


@pytest.mark.parametrize("table", TABLES)
def test_every_column_of_every_table_is_in_the_data_dictionary(run_folder, table):
    schema = pq.read_schema(run_folder / f"{table}.parquet")
    documented = documented_columns()[f"{table}.parquet"]
    assert list(documented) == schema.names
    assert {c: documented[c] for c in schema.names} == {f.name: arrow_type_name(f.type) for f in schema}


def test_summary_columns_are_documented(run_folder):
    columns = list(pd.read_csv(run_folder / "summary.csv").columns)
    assert list(documented_columns()["summary.csv"]) == columns


def test_a_killed_run_leaves_nothing_that_looks_finished_and_a_rerun_completes(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    args = [sys.executable, "-m", "sim", "experiment=simulate", "world=herning", f"hydra.run.dir={out}"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (out / "events.parquet.partial").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / "events.parquet.partial").exists(), "the run should have been killed half-way"
    assert not (out / "MANIFEST.json").exists()
    assert not [p for p in out.glob("*.parquet")], "no table may appear under its final name"
    assert not verify_manifest(out)

    rerun = cli("experiment=simulate", "world=herning", f"hydra.run.dir={out}")
    assert rerun.returncode == 0, rerun.stderr
    assert verify_manifest(out)
    assert {f"{t}.parquet" for t in TABLES} <= {p.name for p in out.glob("*.parquet")}


@pytest.fixture(scope="module")
def compare_folder(tmp_path_factory) -> Path:
    """The default job, ``python -m sim``, on the small world with two scenarios and two replications."""
    out = tmp_path_factory.mktemp("compare") / "run"
    proc = cli(
        "world=small",
        "compare.scenarios=[baseline,free_municipality]",
        "compare.replications=2",
        f"hydra.run.dir={out}",
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_default_job_compares_scenarios_with_every_outcome(compare_folder):
    from sim.summary import OUTCOMES

    table = pd.read_parquet(compare_folder / "comparison.parquet")
    assert set(table["scenario"]) == {"baseline", "free_municipality"}
    assert {o.name for o in OUTCOMES} | {"cost_total"} <= set(table["outcome"])
    base = table[table["scenario"] == "baseline"]
    assert (base["difference"] == 0).all()
    free = table[(table["scenario"] == "free_municipality") & (table["outcome"] == "days_report_to_decision")].iloc[0]
    assert free["difference"] < 0
    assert free["replications"] == 2


def test_the_comparison_writes_one_table_per_outcome_in_parquet_and_csv(compare_folder):
    from sim.summary import OUTCOMES

    for o in OUTCOMES:
        part = pd.read_csv(compare_folder / "outcomes" / f"{o.name}.csv")
        assert list(part["scenario"]) == ["baseline", "free_municipality"]
        assert (compare_folder / "outcomes" / f"{o.name}.parquet").exists()


def test_the_comparison_keeps_each_scenarios_first_event_log_and_the_truth(compare_folder):
    for scenario in ("baseline", "free_municipality"):
        events = pd.read_parquet(compare_folder / "scenarios" / scenario / "events.parquet", columns=["event"])
        assert len(events) > 0
    truth = pd.read_parquet(compare_folder / "truth.parquet")
    assert set(truth["group"]) == {"all", "reported"}
    assert verify_manifest(compare_folder)


def test_the_comparison_also_covers_the_first_years_the_evaluations_saw(compare_folder):
    whole = pd.read_parquet(compare_folder / "comparison.parquet")
    first = pd.read_parquet(compare_folder / "comparison_first_years.parquet")
    assert list(first.columns) == list(whole.columns) == list(documented_columns()["comparison_first_years.parquet"])
    assert first[["scenario", "outcome"]].equals(whole[["scenario", "outcome"]])
    early = first.set_index(["scenario", "outcome"])
    assert early.loc[("free_municipality", "days_report_to_decision"), "difference"] < 0
    # stocks are still building up in the first 3 of the small world's 10 observed years
    assert (
        early.loc[("baseline", "placed_per_1000"), "mean"]
        != whole.set_index(["scenario", "outcome"]).loc[("baseline", "placed_per_1000"), "mean"]
    )
    headlines = pd.read_csv(compare_folder / "report_headlines.csv")
    assert headlines["first_years_difference"].notna().all()
    assert "In the first 3 years:" in (compare_folder / "report.html").read_text(encoding="utf-8")


def test_the_first_years_are_the_world_cut_where_an_evaluation_would_stop(small):
    t = Tables.from_result(small)
    cut = t.first_years(2)
    assert cut.years == t.years[:2]
    end = cut.months * DAYS_PER_MONTH
    assert cut.events["time"].max() < end <= t.events["time"].max()
    assert set(cut.panel["year"]) == {y for y in t.panel["year"].unique() if y < t.years[2]}
    assert cut.faring_badly_bits.shape[0] == cut.months
    assert t.first_years(len(t.years)) is t
