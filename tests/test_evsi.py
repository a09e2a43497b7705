"""``experiment=evsi``: a trial design's data simulated in each PSA draw's world and fitted in fast mode, valued
at each size, never above the EVPI (the maths against a closed form: tests/test_voi.py)."""

import pandas as pd
import pytest

from tests.conftest import cli

ARGS = ("experiment=evsi", "trial=household_rct", "world=small", "world.years=3", "world.burn_in_years=2",
        "psa.scenarios=[baseline,risk_tool]", "evsi.draws=6", "evsi.sizes=[100,400]", "psa.progress=false",
        "evsi.progress=false")  # fmt: skip


@pytest.mark.slow  # a PSA of 6 draws and 6 pairs of trial worlds
def test_evsi_values_each_size_below_the_evpi_and_names_the_best(tmp_path):
    # (the trials' estimates are stored per draw by the PSA's run_stored, whose resume tests/test_psa.py checks)
    proc = cli(*ARGS, f"psa.store={tmp_path / 'psa'}", f"evsi.store={tmp_path / 'evsi'}", f"hydra.run.dir={tmp_path}")
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "evsi.csv")
    assert table["size"].tolist() == [100, 400]
    assert (table["draws"] == 6).all()  # every draw's trial was fitted at every size
    assert (table["evsi_year"] >= 0).all() and (table["evsi_year"] <= table["evpi_year"] + 1e-9).all()
    assert table["trial_cost"].tolist() == [1_000_000 + 1_000 * 100, 1_000_000 + 1_000 * 400]
    assert table["best"].sum() == 1
    assert "would be worth about" in proc.stdout


def test_evsi_without_a_trial_design_is_refused_at_start(tmp_path):
    proc = cli("experiment=evsi", "world=small", f"hydra.run.dir={tmp_path}")
    assert proc.returncode != 0 and "trial" in proc.stderr
