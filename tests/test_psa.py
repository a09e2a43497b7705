"""The probabilistic sensitivity analysis on the small world: draws from the evidence, worlds shared between draws
without changing a bit, a store that survives SIGKILL, and the value of information that is exactly 0 when
nothing is uncertain."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import psutil
import pytest

from sim.diagnosis.store import canonical
from sim.registry import compose_config
from sim.uncertainty import psa
from sim.uncertainty.parameters import UncertainParameter, draw_parameters, uncertain_parameters, unit_draws
from tests.conftest import ROOT, cli

SMALL = ["experiment=psa", "world=small", "world.years=3", "world.burn_in_years=2", "psa.progress=false"]
TWO = "psa.scenarios=[baseline,early_prevention,free_municipality]"


def test_an_assumed_parameter_is_uniform_and_a_published_one_peaks_at_its_figure():
    u = np.linspace(0.0005, 0.9995, 1000)
    flat = UncertainParameter("policy.x.a", "x", "assumed", 0.2, 0.0, 0.4)
    peaked = UncertainParameter("policy.x.b", "x", "published", 0.68, 0.64, 0.72)
    assert np.median(flat.quantile(u)) == pytest.approx(0.2, abs=1e-3)
    assert np.mean(np.abs(flat.quantile(u) - 0.2) < 0.02) == pytest.approx(0.1, abs=0.002)  # 10% of a uniform
    # PERT(3, 3) puts 18.6% within a tenth of the range of the figure, a uniform 10%
    assert np.mean(np.abs(peaked.quantile(u) - 0.68) < 0.004) == pytest.approx(0.186, abs=0.002)
    assert peaked.quantile(np.array([0.0, 1.0])).tolist() == pytest.approx([0.64, 0.72])


def test_a_zero_width_range_fixes_every_parameter_at_the_runs_value():
    cfg = compose_config([*SMALL, "policy=early_prevention", "policy.early_prevention.preventive_shift=0.2"])
    parameters = uncertain_parameters(cfg, ["baseline", "early_prevention"], width=0.0)
    assert parameters and all(p.fixed for p in parameters)
    draws = draw_parameters(parameters, 5, seed=1)
    assert (draws["policy.early_prevention.preventive_shift"] == 0.2).all()
    assert (draws["costs.institution"] == 1_160_000.0).all()


def test_draws_cover_every_uncertain_setting_of_the_scenarios_and_the_unit_costs_but_no_setting():
    cfg = compose_config(SMALL)
    keys = {p.key for p in uncertain_parameters(cfg, ["baseline", "risk_tool+free_municipality"])}
    assert "policy.risk_tool.adherence" in keys and "policy.free_municipality.caseload" in keys
    assert "costs.foster_family" in keys
    assert "policy.risk_tool.share_shown" not in keys  # a setting: the analyst's choice, not a doubt
    assert not any(k.startswith("policy.early_prevention") for k in keys)


def test_the_first_draws_do_not_depend_on_how_many_are_asked_for():
    assert np.array_equal(unit_draws(7, 5, seed=3), unit_draws(7, 300, seed=3)[:5])


def test_every_draw_at_the_corners_of_the_ranges_is_a_valid_config():
    from sim.config.validate import validate

    cfg = compose_config(SMALL)
    parameters = uncertain_parameters(cfg, cfg.psa.scenarios)
    for corner in (0.0, 1.0):
        values = {p.key: float(p.quantile(np.array([corner]))[0]) for p in parameters}
        validate(psa.draw_config(cfg, cfg.psa.scenarios, values))


def test_draws_sharing_a_paused_burn_in_give_the_records_of_draws_simulated_alone(monkeypatch):
    plan = psa.make_plan(compose_config([*SMALL, TWO, "psa.draws=2"]))
    shared = [psa.run_draw(plan, d) for d in range(2)]
    monkeypatch.setattr(psa, "shares_worlds", lambda plan: False)
    alone = [psa.run_draw(plan, d) for d in range(2)]
    assert [canonical(r) for r in shared] == [canonical(r) for r in alone]


@pytest.fixture(scope="module")
def fixed_run(tmp_path_factory):
    """Three draws with every parameter fixed and common seeds: three identical draws."""
    out = tmp_path_factory.mktemp("fixed")
    proc = cli(*SMALL, TWO, "psa.draws=3", "psa.width=0", f"psa.store={out / 'store'}", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    return out


def test_with_nothing_uncertain_every_draw_is_the_same_world(fixed_run):
    table = pd.read_parquet(fixed_run / "psa.parquet")
    values = table.drop(columns="draw").groupby("scenario").nunique(dropna=False)
    assert (values == 1).all().all()


def test_with_nothing_uncertain_evpi_and_every_evppi_are_exactly_zero(fixed_run):
    evpi = pd.read_parquet(fixed_run / "evpi.parquet")
    evppi = pd.read_parquet(fixed_run / "evppi.parquet")
    assert (evpi["evpi_year"] == 0).all() and (evpi["evpi_raw_year"] == 0).all()
    assert (evppi["evppi_year"] == 0).all()


def test_with_nothing_uncertain_each_acceptability_is_0_or_1(fixed_run):
    curves = pd.read_parquet(fixed_run / "acceptability.parquet")
    assert set(curves["probability_best"]) <= {0.0, 1.0}
    assert (curves.groupby(["axis", "wtp"])["probability_best"].sum() == 1.0).all()


def test_a_psa_rerun_on_its_store_gives_the_same_tables_byte_for_byte(fixed_run, tmp_path):
    proc = cli(*SMALL, TWO, "psa.draws=3", "psa.width=0", f"psa.store={fixed_run / 'store'}",
               f"hydra.run.dir={tmp_path}")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "3 of 3 draws already in" in proc.stdout
    for name in ("psa.csv", "evpi.csv", "evppi.csv", "acceptability.csv"):
        assert (tmp_path / name).read_bytes() == (fixed_run / name).read_bytes(), name


def test_an_unknown_scenario_or_a_missing_posterior_is_refused_at_start(tmp_path):
    proc = cli(*SMALL, "psa.scenarios=[baseline,no_such_policy]", f"hydra.run.dir={tmp_path}")
    assert proc.returncode != 0 and "psa.scenarios[1]" in proc.stderr
    proc = cli(*SMALL, f"psa.posterior={tmp_path / 'nothing.parquet'}", f"hydra.run.dir={tmp_path}")
    assert proc.returncode != 0 and "psa.posterior" in proc.stderr


@pytest.mark.slow  # two runs of python -m sim and a kill
def test_a_psa_killed_half_way_resumes_with_no_draw_lost_or_computed_twice(tmp_path):
    draws = 6
    args = [*SMALL, TWO, f"psa.draws={draws}", "psa.workers=2", f"psa.store={tmp_path / 'store'}"]
    point = psa.make_plan(compose_config(args)).point
    folder = tmp_path / "store" / "replications" / point
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args, f"hydra.run.dir={tmp_path / 'killed'}"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    main = psutil.Process(proc.pid)
    deadline = time.time() + 180
    while len(list(folder.glob("[0-9]*.json"))) < 2 and time.time() < deadline:
        assert proc.poll() is None, "the run finished before it could be killed"
        time.sleep(0.05)
    workers = main.children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)  # the main process only: its workers must notice and go
    proc.wait()
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive, f"left behind: {alive}"
    survivors = {f.name: f.read_bytes() for f in folder.glob("[0-9]*.json")}
    assert 2 <= len(survivors) < draws
    assert not (tmp_path / "killed" / "psa.parquet").exists()

    rerun = cli(*args, f"hydra.run.dir={tmp_path / 'rerun'}")
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(survivors)} of {draws} draws already in" in rerun.stdout
    after = {f.name: f.read_bytes() for f in folder.glob("[0-9]*.json")}
    assert len(after) == draws and all(after[n] == b for n, b in survivors.items())
    table = pd.read_parquet(tmp_path / "rerun" / "psa.parquet")
    assert sorted(table["draw"].unique()) == list(range(draws)) and len(table) == 3 * draws

    whole = cli(*args[:-1], f"psa.store={tmp_path / 'other'}", f"hydra.run.dir={tmp_path / 'whole'}")
    assert whole.returncode == 0, whole.stderr
    assert (tmp_path / "rerun" / "psa.csv").read_bytes() == (tmp_path / "whole" / "psa.csv").read_bytes()


def test_the_psa_tables_have_the_columns_of_the_data_dictionary(fixed_run):
    from tests.test_outputs import documented_columns

    documented = documented_columns()
    for name in ("parameters", "acceptability", "ce_plane", "evpi", "evppi", "sensitivity"):
        assert list(pd.read_csv(fixed_run / f"{name}.csv").columns) == list(documented[f"{name}.csv"]), name
    columns = list(pd.read_parquet(fixed_run / "psa.parquet").columns)
    fixed = list(documented["psa.parquet"])
    assert columns[:2] == fixed[:2] and columns[-2:] == fixed[2:]
    parameters = pd.read_csv(fixed_run / "parameters.csv")["key"].tolist()
    assert columns[2 : 2 + len(parameters)] == parameters
    assert "faring_badly_share" in columns and "cost_total" in columns


def test_the_evpi_along_the_price_grid_does_not_depend_on_the_headline_price():
    from sim.uncertainty.decision import Prices, value_of_information

    rng = np.random.default_rng(4)
    theta = rng.uniform(0.0, 1.0, 120)

    def rows(scenario: str, cost: float, avoided: float) -> list[dict]:
        return [
            {"draw": d, "scenario": scenario, "policy.x.effect": t, "cost_total": cost,
             "child_years_faring_badly": 10.0 - avoided * t, "placements_started": 1.0}
            for d, t in enumerate(theta)
        ]  # fmt: skip

    table = pd.DataFrame(rows("baseline", 0.0, 0.0) + rows("x", 1e5, 0.4))
    parameters = [UncertainParameter("policy.x.effect", "x", "assumed", 0.5, 0.0, 1.0)]
    grid = np.array([0.0, 500_000.0])
    at_zero, _ = value_of_information(table, ["baseline", "x"], parameters, Prices(0.0, 0.0), 1.0, False, grid)
    at_price, _ = value_of_information(table, ["baseline", "x"], parameters, Prices(500_000.0, 0.0), 1.0, False, grid)
    assert at_zero["evpi_year"].tolist() == at_price["evpi_year"].tolist()
    assert at_zero["evpi_year"].iloc[0] == 0.0 and at_zero["evpi_year"].iloc[1] > 0  # the choice flips at 500,000
