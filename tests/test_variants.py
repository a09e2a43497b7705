"""Worlds that differ only in their policies share the months before the first policy starts: simulated once,
then continued in forked copies of the process, with every table equal to the last bit to simulating each world
from the start."""

import contextlib
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import psutil
import pytest

from sim.model import SimulationResult, shared_months, simulate, simulate_variants
from sim.parallel import CAN_FORK, Forked
from sim.registry import compose_config
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not CAN_FORK, reason="os.fork is POSIX only; elsewhere every world runs from the start")

TINY = ["world=small", "world.children=1500", "world.years=3", "world.burn_in_years=2", "seed=5"]  # 2018-2022
#: Every policy whose start can come after month 0, two of them starting in different years.
VARIANTS = [
    [],
    ["policy=early_prevention", "policy.early_prevention.start_year=2021"],
    ["policy=early_prevention", "policy.early_prevention.start_year=2020"],
    ["policy=child_participation", "policy.child_participation.start_year=2021"],
    ["policy=free_municipality", "policy.free_municipality.start_year=2020"],
    ["policy=daycare_social_workers", "policy.daycare_social_workers.start_year=2021"],
    ["policy=risk_tool", "policy.risk_tool.start_year=2021"],
]


def _equal(a: SimulationResult, b: SimulationResult) -> None:
    for name in ("reports", "agency_monthly", "events", "panel"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.population.keys() == b.population.keys() and a.policy_results.keys() == b.policy_results.keys()
    for k in a.population:
        pd.testing.assert_frame_equal(a.population[k], b.population[k], check_exact=True)
    for k, v in a.policy_results.items():
        if isinstance(v, pd.DataFrame):
            pd.testing.assert_frame_equal(v, b.policy_results[k], check_exact=True)
        else:
            assert v == b.policy_results[k], k
    assert a.event_counts == b.event_counts and a.policy_costs == b.policy_costs
    assert np.array_equal(a.faring_badly_bits, b.faring_badly_bits)


def test_twin_worlds_continued_from_their_shared_months_equal_worlds_simulated_from_the_start():
    cfgs = [compose_config(TINY + v) for v in VARIANTS]
    assert shared_months(cfgs) == 24  # burn-in 2018-2019; the first policies start in January 2020
    for forked_result, plain in zip(simulate_variants(cfgs), (simulate(c, keep=True) for c in cfgs), strict=True):
        _equal(forked_result, plain)


def test_worlds_share_the_months_before_their_first_policy_starts_and_nothing_otherwise():
    plain = compose_config(TINY)
    late = compose_config(TINY + VARIANTS[1])
    assert shared_months([plain, late]) == 36
    default = compose_config([*TINY, "policy=early_prevention"])  # starts with the observation period
    assert shared_months([plain, default]) == 24
    from_month_0 = compose_config([*TINY, "policy=early_prevention", "policy.early_prevention.start_year=1"])
    assert shared_months([plain, from_month_0]) == 0
    assert shared_months([plain, compose_config([*TINY, "seed=6"])]) == 0  # another seed: another world
    assert shared_months([plain, compose_config([*TINY, "world.children=1600"])]) == 0
    assert shared_months([plain, plain]) == 60  # the same world: all of it


def test_a_failure_in_a_forked_copy_is_raised_here_with_its_traceback():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        Forked(lambda: 1 / 0).result()


def test_a_forked_copy_returns_its_result():
    assert Forked(lambda: {"months": 36, "table": pd.DataFrame({"a": [1, 2]})}).result()["months"] == 36


def test_killing_the_process_stops_its_forked_copies():
    script = (
        "import time, sys; from sim.parallel import Forked; "
        "copy = Forked(lambda: time.sleep(120)); print(copy.pid, flush=True); time.sleep(120)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        child = psutil.Process(int(proc.stdout.readline()))
        assert child.is_running()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
        _, alive = psutil.wait_procs([child], timeout=5)
        assert alive == []
    finally:
        proc.kill()
        proc.communicate()


CTRL_C_STORM = """
import os, signal
from sim.parallel import Forked, process_pool

main = os.getpid()


def ctrl_c(signum, frame):  # this process carries on; any copy that sees Ctrl-C before it ignores it fails loudly
    if os.getpid() != main:
        raise KeyboardInterrupt


signal.signal(signal.SIGINT, ctrl_c)
print("ready", flush=True)
done = 0
for _ in range(100):
    done += Forked(lambda: 1).result()
    with process_pool(2) as pool:
        done += pool.submit(int, 1).result()
signal.signal(signal.SIGINT, signal.SIG_IGN)  # the storm goes on while this process exits
print(done, flush=True)
"""


def test_ctrl_c_while_copies_are_being_made_never_reaches_a_copy_half_made():
    proc = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_STORM], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout.readline() == "ready\n"
        while proc.poll() is None:  # Ctrl-C to the whole process group, every millisecond, until the script ends
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
            time.sleep(0.001)
        out, err = proc.communicate(timeout=5)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert (out, err, proc.returncode) == ("200\n", "", 0)


def test_forked_worlds_write_the_same_files_as_worlds_simulated_from_the_start(tmp_path):
    cfgs = [compose_config([*TINY, "output.panel=true", *v]) for v in VARIANTS[:3]]
    forked_dirs = [tmp_path / "forked" / str(i) for i in range(3)]
    simulate_variants(cfgs, forked_dirs, reduce=[lambda r: None] * 3)
    for i, cfg in enumerate(cfgs):
        simulate(cfg, tmp_path / "plain" / str(i))
        for name in ("events.parquet", "panel.parquet", "reports.parquet", "agency_monthly.parquet"):
            assert (forked_dirs[i] / name).read_bytes() == (tmp_path / "plain" / str(i) / name).read_bytes(), name


def test_each_world_is_reduced_where_it_was_simulated_and_only_that_comes_back():
    cfgs = [compose_config(TINY + v) for v in VARIANTS[:3]]
    sizes = simulate_variants(cfgs, reduce=[lambda r: len(r.events)] * 3, concurrent=False)
    assert sizes == [len(simulate(c, keep=True).events) for c in cfgs]
