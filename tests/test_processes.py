"""A stopped run leaves no process behind: however the main process of a job ends (SIGKILL, SIGTERM, Ctrl-C),
its worker processes end within seconds, and Ctrl-C says where the partial results are."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest
from omegaconf import OmegaConf

from sim.app import interrupted_message
from tests.conftest import ROOT

START_SECONDS = 120  # imports, config checks and the pool's start on a busy 2-core machine
GONE_SECONDS = 5
EXIT_SECONDS = 15  # Ctrl-C: the main process kills its workers, reaps them, says where things are and exits


@pytest.fixture
def comparison(tmp_path) -> Iterator[tuple[subprocess.Popen, list[psutil.Process]]]:
    """``python -m sim`` on the small world with two worker processes, in a session of its own (as a terminal
    runs it), once both workers are computing; whatever the test does, nothing of it is left afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "world=small", "compare.replications=4", "compare.workers=2",
         f"hydra.run.dir={tmp_path}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        main = psutil.Process(proc.pid)
        deadline = time.monotonic() + START_SECONDS
        workers: list[psutil.Process] = []
        while time.monotonic() < deadline and proc.poll() is None and len(workers) < 2:
            time.sleep(0.2)
            workers = main.children(recursive=True)
        assert len(workers) >= 2, f"no worker processes within {START_SECONDS} s"
        yield proc, workers
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


def test_killing_the_main_process_stops_its_workers(comparison):
    proc, workers = comparison
    proc.kill()
    proc.wait(timeout=GONE_SECONDS)
    _, alive = psutil.wait_procs(workers, timeout=GONE_SECONDS)
    assert alive == []


def test_terminating_the_main_process_stops_its_workers(comparison):
    proc, workers = comparison
    proc.terminate()
    proc.wait(timeout=GONE_SECONDS)
    _, alive = psutil.wait_procs(workers, timeout=GONE_SECONDS)
    assert alive == []


def test_ctrl_c_stops_the_run_and_its_workers_and_says_where_the_partial_results_are(comparison, tmp_path):
    proc, workers = comparison
    os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches every process of the foreground group
    _, err = proc.communicate(timeout=EXIT_SECONDS)
    _, alive = psutil.wait_procs(workers, timeout=GONE_SECONDS)
    assert alive == []
    assert proc.returncode == 130
    assert f"interrupted: {tmp_path} is unfinished" in err
    assert "Traceback" not in err  # the workers ignore Ctrl-C; the main process says it in words
    assert not (tmp_path / "MANIFEST.json").exists()


def test_ctrl_c_in_a_diagnosis_points_to_the_store_of_finished_replications(tmp_path):
    dcfg = OmegaConf.create({"experiment": {"name": "diagnose"}, "diagnose": {"store": str(tmp_path / "store")}})
    message = interrupted_message(dcfg, tmp_path / "run")
    assert f"interrupted: {tmp_path / 'run'} is unfinished" in message
    assert f"kept in {tmp_path / 'store'}: run the same command again and only the missing ones are computed" in (
        message.replace("\n", " ")
    )
