"""A fit is reproducible across processes: the same data and sampler seed give the same draws whether the process
compiles the model's code afresh or finds it in pytensor's on-disk cache."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # two new processes, one compiling the model: 45 s

FIT = """
from estimators import ESTIMATORS, SamplerConfig
df, outcome = ESTIMATORS["survival_cases"].example(seed=4, scale=2)
for e in ESTIMATORS["survival_cases"](SamplerConfig()).fit(df, outcome, frequentist=False):
    print(e.estimand, repr(e.estimate), repr(e.lower_90), repr(e.upper_90), e.divergences)
"""


def fit_in_a_new_process(base_compiledir: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", FIT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={base_compiledir}"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_fit_gives_the_same_draws_compiled_afresh_and_loaded_from_the_disk_cache(tmp_path):
    # An empty numba cache beside the user's C cache (compiling that afresh would only add a minute): the first
    # process compiles the model's numba code and stores it, the second loads it. With numba's fast-math flags
    # (pytensor's default) these two gave estimates 0.04 days apart and one divergence against none.
    from pytensor import config

    (tmp_path / Path(config.compiledir).name).symlink_to(config.compiledir)
    fresh = fit_in_a_new_process(tmp_path)
    assert any((tmp_path / "numba").iterdir())  # the first process did store its code
    assert fit_in_a_new_process(tmp_path) == fresh
