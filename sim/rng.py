"""Random numbers with common random numbers (CRN) built in.

Every random quantity in a run is a pure function of the root seed and *where* it is used, never of the order
in which the simulation happens to ask for it. That is what lets two worlds (baseline and a policy) differ
only where the policy acts, so their difference is the policy's exact effect.

Two kinds of draw, both derived from one :class:`numpy.random.SeedSequence`:

* **Bulk streams** (:meth:`Streams.monthly`): one generator per (component, month), used to draw one value
  for *every* child slot in a fixed order whether the value is used or not (wellbeing shocks, report
  arrivals). Slots never change between scenarios, so neither do these draws.
* **Keyed draws** (:class:`Keyed`): for per-event randomness in the agency (a screening's duration, a
  caseworker's judgement). The number of events differs between scenarios, so these come from a
  counter-based generator, Philox4x32-10 (Salmon et al., 2011, "Parallel random numbers: as easy as 1, 2,
  3"), keyed by the component and addressed by a counter built from (child, time, event, purpose).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri
from scipy.stats import qmc

__all__ = ["COMPONENTS", "Keyed", "Streams", "philox4x32"]

#: Every component that draws random numbers. The index is part of the key, so never reorder: append.
COMPONENTS: tuple[str, ...] = (
    "population",  # households, children, features, migration
    "institutions",  # daycare institutions, schools, reporting propensities
    "wellbeing",  # child and household shocks
    "reports",  # report arrivals, sources, sibling co-reports
    "outcomes",  # absence, exams, crime
    "intake",  # screening and triage (keyed)
    "cases",  # investigations, decisions, measures, follow-ups (keyed)
    "policy",  # reserved for policies (keyed)
)

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = 0x9E3779B9
_W1 = 0xBB67AE85
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_TWO_NEG53 = 1.0 / 9007199254740992.0
_TWO_NEG32 = 1.0 / 4294967296.0


def philox4x32(counter: np.ndarray, key: tuple[int, int]) -> np.ndarray:
    """Philox4x32-10 block function, vectorised over counters.

    ``counter`` is an ``(n, 4)`` array of 32-bit words; returns ``(n, 4)`` uint32 words. Known-answer tests
    from Random123 are in ``tests/test_rng.py``.
    """
    c = np.asarray(counter, dtype=np.uint64) & _MASK32
    c0, c1, c2, c3 = c[:, 0].copy(), c[:, 1].copy(), c[:, 2].copy(), c[:, 3].copy()
    k0, k1 = int(key[0]) & 0xFFFFFFFF, int(key[1]) & 0xFFFFFFFF
    for r in range(10):
        if r:
            k0 = (k0 + _W0) & 0xFFFFFFFF
            k1 = (k1 + _W1) & 0xFFFFFFFF
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (
            (p1 >> _SHIFT32) ^ c1 ^ np.uint64(k0),
            p1 & _MASK32,
            (p0 >> _SHIFT32) ^ c3 ^ np.uint64(k1),
            p0 & _MASK32,
        )
    return np.stack([c0, c1, c2, c3], axis=1).astype(np.uint32)


def _round_keys(k0: int, k1: int) -> tuple[tuple[int, int], ...]:
    """Philox4x32-10's ten round keys for the key ``(k0, k1)`` (the Weyl sequence of the key schedule)."""
    keys = []
    for _ in range(10):
        keys.append((k0, k1))
        k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
    return tuple(keys)


def _philox4x32_scalar(c0: int, c1: int, c2: int, c3: int, keys: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """Pure-Python Philox4x32-10 for one counter, given its :func:`_round_keys` (faster than numpy for a single
    block)."""
    for k0, k1 in keys:
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & 0xFFFFFFFF, (p0 >> 32) ^ c3 ^ k1, p0 & 0xFFFFFFFF
    return c0, c1, c2, c3


def _component_index(component: str) -> int:
    try:
        return COMPONENTS.index(component)
    except ValueError:
        raise KeyError(f"unknown random component {component!r}; known: {', '.join(COMPONENTS)}") from None


@dataclass(frozen=True)
class Keyed:
    """Counter-based uniforms for one component: ``u = f(key, counter)``, no state.

    The counter is four 32-bit words ``(a, b, c, d)``; callers use ``a`` for the child, ``b`` for the month,
    ``c`` for an event number and ``d`` for the purpose, so every draw has its own address. Each block gives
    two doubles with 53 random bits.
    """

    key: tuple[int, int]
    _rounds: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rounds", _round_keys(self.key[0] & 0xFFFFFFFF, self.key[1] & 0xFFFFFFFF))

    def uniforms(self, a: np.ndarray, b: np.ndarray | int, c: np.ndarray | int, d: int, n: int) -> np.ndarray:
        """``n`` uniforms on [0, 1) for each row of counters; returns shape ``(len(a), n)``."""
        a = np.asarray(a, dtype=np.uint64)
        rows = a.shape[0]
        blocks = (n + 1) // 2
        ctr = np.empty((rows * blocks, 4), dtype=np.uint64)
        ctr[:, 0] = np.repeat(a, blocks)
        ctr[:, 1] = np.repeat(np.broadcast_to(np.asarray(b, dtype=np.uint64), (rows,)), blocks)
        ctr[:, 2] = np.repeat(np.broadcast_to(np.asarray(c, dtype=np.uint64), (rows,)), blocks)
        ctr[:, 3] = (np.uint64(d) << np.uint64(8)) + np.tile(np.arange(blocks, dtype=np.uint64), rows)
        w = philox4x32(ctr, self.key).astype(np.uint64)
        hi = np.concatenate([w[:, 0:1], w[:, 2:3]], axis=1)
        lo = np.concatenate([w[:, 1:2], w[:, 3:4]], axis=1)
        u = ((hi >> np.uint64(5)) * np.uint64(67108864) + (lo >> np.uint64(6))).astype(np.float64) * _TWO_NEG53
        return u.reshape(rows, blocks * 2)[:, :n]

    def uniform(self, a: int, b: int, c: int, d: int, j: int = 0) -> float:
        """One uniform: element ``j`` of the same sequence :meth:`uniforms` gives for this counter."""
        w0, w1, w2, w3 = _philox4x32_scalar(
            a & 0xFFFFFFFF, b & 0xFFFFFFFF, c & 0xFFFFFFFF, ((d << 8) + j // 2) & 0xFFFFFFFF, self._rounds
        )
        hi, lo = (w0, w1) if j % 2 == 0 else (w2, w3)
        return ((hi >> 5) * 67108864 + (lo >> 6)) * _TWO_NEG53

    def block(self, a: int, b: int, c: int, d: int) -> tuple[float, float, float, float]:
        """Four uniforms on (0, 1) with 32 random bits each, from one Philox block (the cheap scalar path)."""
        w0, w1, w2, w3 = _philox4x32_scalar(
            a & 0xFFFFFFFF, b & 0xFFFFFFFF, c & 0xFFFFFFFF, (d << 8) & 0xFFFFFFFF, self._rounds
        )
        return (w0 + 0.5) * _TWO_NEG32, (w1 + 0.5) * _TWO_NEG32, (w2 + 0.5) * _TWO_NEG32, (w3 + 0.5) * _TWO_NEG32

    def normal(self, a: int, b: int, c: int, d: int, j: int = 0) -> float:
        """One standard normal by inversion of :meth:`uniform` (inversion keeps draws monotone in u)."""
        return float(ndtri(min(max(self.uniform(a, b, c, d, j), 1e-300), 1.0 - 1e-16)))


@dataclass
class Streams:
    """All randomness of a run, spawned from one root seed.

    >>> s = Streams(42)
    >>> float(s.monthly("wellbeing", 0).random()) == float(Streams(42).monthly("wellbeing", 0).random())
    True
    """

    seed: int
    _keys: dict[str, Keyed] = field(default_factory=dict, repr=False)

    def seed_sequence(self, component: str, *index: int) -> np.random.SeedSequence:
        """The SeedSequence for a component and optional integer index path (e.g. a month)."""
        return np.random.SeedSequence(entropy=self.seed, spawn_key=(_component_index(component), *index))

    def generator(self, component: str, *index: int) -> np.random.Generator:
        """A fresh PCG64 generator for a component (and index path)."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(component, *index)))

    def monthly(self, component: str, month: int, purpose: int = 0) -> np.random.Generator:
        """The bulk stream of ``component`` for month ``month`` (negative allowed) and ``purpose``.

        Draw one value per child (or household) slot, in slot order, every month: the draws then never
        depend on what else happened.
        """
        return self.generator(component, 1, month + (1 << 20), purpose)

    def keyed(self, component: str, purpose: str = "") -> Keyed:
        """A counter-based generator for ``component``; ``purpose`` names a sub-stream (e.g. a policy)."""
        name = f"{component}/{purpose}"
        if name not in self._keys:
            extra = zlib.crc32(purpose.encode()) if purpose else 0
            words = self.seed_sequence(component, 2, extra).generate_state(2, dtype=np.uint32)
            self._keys[name] = Keyed((int(words[0]), int(words[1])))
        return self._keys[name]


def replication_seeds(seed: int, replications: int) -> list[int]:
    """Independent seeds for ``replications`` worlds of one run, derived from the run's seed (stable: the
    first k seeds do not depend on how many replications are asked for)."""
    return [
        int(np.random.SeedSequence(seed, spawn_key=(0xC0FFEE, r)).generate_state(1)[0]) for r in range(replications)
    ]


def sobol_points(dimensions: int, points: int, seed: int) -> np.ndarray:
    """The first ``points`` of a scrambled Sobol' sequence in [0, 1)^dimensions: space-filling, and prefix-stable
    (the first k points do not depend on how many are asked for). No dimensions: ``points`` empty rows."""
    if dimensions == 0:
        return np.zeros((points, 0))
    sobol = qmc.Sobol(d=dimensions, scramble=True, seed=np.random.default_rng(seed))
    return sobol.random_base2(int(np.ceil(np.log2(max(points, 2)))))[:points]
