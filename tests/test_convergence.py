"""The vectorised convergence diagnostics give ArviZ's numbers: rank-normalised split R-hat and bulk ESS, for
every scalar at once."""

import arviz as az
import numpy as np
import pytest

from estimators.convergence import ess_bulk, rhat, rhat_and_ess


def _ar1(rng: np.random.Generator, chains: int, draws: int, k: int, phi: np.ndarray) -> np.ndarray:
    """Autoregressive chains (chains, draws, k), with per-chain offsets so some scalars have not mixed."""
    x = np.empty((chains, draws, k))
    x[:, 0] = rng.normal(size=(chains, k))
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + rng.normal(size=(chains, k))
    return x + rng.normal(scale=0.3, size=(chains, 1, k)) * (np.arange(k) % 3 == 0)


def _arviz(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ArviZ's R-hat and bulk ESS, one scalar at a time."""
    r = np.array([float(az.rhat(draws[:, :, j], method="rank")) for j in range(draws.shape[2])])
    e = np.array([float(az.ess(draws[:, :, j], method="bulk")) for j in range(draws.shape[2])])
    return r, e


@pytest.mark.parametrize(("chains", "draws"), [(4, 1000), (2, 701), (1, 400), (3, 9)])
def test_rhat_and_bulk_ess_equal_arviz_for_mixed_and_unmixed_autocorrelated_chains(chains, draws):
    rng = np.random.default_rng(chains * 1000 + draws)
    x = _ar1(rng, chains, draws, 12, phi=np.linspace(0.0, 0.97, 12))
    r, e = _arviz(x)
    np.testing.assert_allclose(rhat(x), r, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(ess_bulk(x), e, rtol=1e-12)
    both = rhat_and_ess(x)
    np.testing.assert_allclose(both[0], r, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(both[1], e, rtol=1e-12)


def test_tied_draws_share_their_average_rank_as_in_arviz():
    x = np.round(_ar1(np.random.default_rng(5), 4, 300, 6, phi=np.full(6, 0.5)), 1)  # many ties
    r, e = _arviz(x)
    np.testing.assert_allclose(rhat_and_ess(x)[0], r, rtol=1e-12)
    np.testing.assert_allclose(rhat_and_ess(x)[1], e, rtol=1e-12)


def test_a_constant_scalar_counts_every_draw_and_has_no_rhat():
    x = np.ones((2, 50, 1))
    assert ess_bulk(x)[0] == 100.0 == float(az.ess(x[:, :, 0], method="bulk"))
    assert np.isnan(rhat(x)[0])


def test_a_scalar_with_a_missing_draw_has_neither_diagnostic():
    x = np.random.default_rng(1).normal(size=(2, 100, 2))
    x[1, 40, 0] = np.nan
    assert np.isnan(rhat(x)[0]) and np.isnan(ess_bulk(x)[0])
    assert np.isfinite(rhat(x)[1]) and np.isfinite(ess_bulk(x)[1])


def test_one_chain_has_no_rhat_and_fewer_than_four_draws_have_no_ess():
    assert np.isnan(rhat(np.zeros((1, 100, 3)))).all()
    assert np.isnan(ess_bulk(np.random.default_rng(0).normal(size=(2, 3, 2)))).all()
