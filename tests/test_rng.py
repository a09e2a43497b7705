"""Random numbers: Philox is the published generator, keyed draws are pure functions of their address,
and streams are independent of each other and of how much is drawn."""

import numpy as np
import pytest
from scipy import stats

from sim.rng import Keyed, Streams, _philox4x32_scalar, _round_keys, philox4x32

# Known-answer tests from Random123 (kat_vectors): counter, key, expected output.
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF, 0xFFFFFFFF), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize(("counter", "key", "expected"), KAT)
def test_philox_matches_random123_known_answers(counter, key, expected):
    assert tuple(int(x) for x in philox4x32(np.array([counter]), key)[0]) == expected
    assert _philox4x32_scalar(*counter, _round_keys(*key)) == expected


def test_scalar_keyed_uniform_equals_vectorised_draw():
    k = Streams(7).keyed("cases")
    block = k.uniforms(np.array([3, 4, 5]), 11, 2, 1, 5)
    scalar = [[k.uniform(a, 11, 2, 1, j) for j in range(5)] for a in (3, 4, 5)]
    np.testing.assert_array_equal(block, np.array(scalar))


def test_keyed_uniforms_are_uniform_over_adjacent_counters():
    u = Streams(1).keyed("intake").uniforms(np.arange(200_000), 0, 0, 0, 1)[:, 0]
    assert stats.kstest(u, "uniform").pvalue > 0.001


def test_keyed_uniforms_of_neighbouring_children_are_uncorrelated():
    u = Streams(1).keyed("intake").uniforms(np.arange(100_001), 5, 0, 0, 1)[:, 0]
    r = np.corrcoef(u[:-1], u[1:])[0, 1]
    assert abs(r) < 4 / np.sqrt(u.size)  # 4 standard errors of a correlation under independence


def test_block_gives_four_uniforms_strictly_inside_the_unit_interval():
    k = Streams(3).keyed("cases")
    draws = np.array([k.block(i, 0, 0, 1) for i in range(20_000)])
    assert draws.shape == (20_000, 4)
    assert 0 < draws.min() and draws.max() < 1
    assert abs(draws.mean() - 0.5) < 4 * np.sqrt(1 / 12 / draws.size)


def test_same_seed_gives_same_streams_and_different_seeds_differ():
    a, b, c = Streams(5).monthly("wellbeing", 3), Streams(5).monthly("wellbeing", 3), Streams(6).monthly("wellbeing", 3)
    x, y, z = a.random(1000), b.random(1000), c.random(1000)
    np.testing.assert_array_equal(x, y)
    assert abs(np.corrcoef(x, z)[0, 1]) < 4 / np.sqrt(1000)


def test_components_months_and_purposes_have_independent_streams():
    s = Streams(5)
    draws = [
        s.monthly("wellbeing", 3).random(5000),
        s.monthly("reports", 3).random(5000),
        s.monthly("wellbeing", 4).random(5000),
        s.monthly("wellbeing", 3, 1).random(5000),
    ]
    corr = np.corrcoef(draws)
    assert np.abs(corr[np.triu_indices(4, 1)]).max() < 4 / np.sqrt(5000)


def test_drawing_more_values_keeps_the_first_ones():
    short = Streams(9).monthly("reports", 0).standard_normal(1000)
    long = Streams(9).monthly("reports", 0).standard_normal(1500)
    np.testing.assert_array_equal(short, long[:1000])


def test_unknown_component_is_an_error():
    with pytest.raises(KeyError, match="unknown random component"):
        Streams(1).monthly("nonsense", 0)


def test_keyed_generators_are_cached_per_component_and_purpose():
    s = Streams(2)
    assert s.keyed("policy", "risk_tool") is s.keyed("policy", "risk_tool")
    assert s.keyed("policy", "risk_tool").key != s.keyed("policy", "daycare").key
    assert isinstance(s.keyed("cases"), Keyed)
