"""A stopped run leaves no process behind: however the main process of a job ends (SIGKILL, SIGTERM, Ctrl-C),
its worker processes end within seconds, and Ctrl-C says where the partial results are."""

import os
import signal
import subprocess
import sys
import time

import psutil
from omegaconf import OmegaConf

from sim.app import interrupted_message
from tests.conftest import ROOT

START_SECONDS = 120  # imports, config checks and the pool's start on a busy 2-core machine
GONE_SECONDS = 5


def start_comparison(out_dir) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """``python -m sim`` on the small world with two worker processes, in a session of its own (as a terminal
    runs it); returns once both workers are computing."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "world=small",
            "compare.replications=4",
            "compare.workers=2",
            f"hydra.run.dir={out_dir}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    main = psutil.Process(proc.pid)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and proc.poll() is None:
        workers = main.children(recursive=True)
        if len(workers) >= 2:
            return proc, workers
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"no worker processes within {START_SECONDS} s: {proc.communicate()[1][-2000:]}")


def test_killing_the_main_process_stops_its_workers(tmp_path):
    proc, workers = start_comparison(tmp_path)
    proc.kill()
    proc.wait(timeout=GONE_SECONDS)
    _, alive = psutil.wait_procs(workers, timeout=GONE_SECONDS)
    assert alive == []


def test_terminating_the_main_process_stops_its_workers(tmp_path):
    proc, workers = start_comparison(tmp_path)
    proc.terminate()
    proc.wait(timeout=GONE_SECONDS)
    _, alive = psutil.wait_procs(workers, timeout=GONE_SECONDS)
    assert alive == []


def test_ctrl_c_stops_the_workers_and_says_where_the_partial_results_are(tmp_path):
    proc, workers = start_comparison(tmp_path)
    os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches every process of the foreground group
    _, err = proc.communicate(timeout=30)
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
