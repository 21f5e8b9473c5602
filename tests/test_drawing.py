"""Compiled draws: every number, and every generator state after, is the generator's own."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wpi_abm.sim import drawing
from wpi_abm.sim.streams import Draws, Streams

# Means and probabilities on both sides of numpy's switches of algorithm: Poisson by
# multiplication below 10 and PTRS from 10; binomial by inversion while n·min(p, 1-p) ≤ 30 and
# BTPE above, on p or 1 - p.
MEANS = [0.0, 1e-9, 0.5, 3.0, 9.999999, 10.0, 10.5, 93.0, 400.0, 2.5e4, 1e9]
PROBABILITIES = [0.0, 1e-6, 0.01, 0.07, 0.3, 0.5, 0.5000001, 0.93, 0.999, 1.0]


def _pairs(n: int, seed: int = 0) -> tuple[list[np.random.Generator], list[np.random.Generator]]:
    def make() -> list[np.random.Generator]:
        return [
            np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(i,))))
            for i in range(n)
        ]

    return make(), make()


def _same_state(a: list[np.random.Generator], b: list[np.random.Generator]) -> None:
    for x, y in zip(a, b, strict=True):
        assert x.bit_generator.state == y.bit_generator.state


@given(
    seed=st.integers(0, 2**32 - 1),
    lam=st.lists(st.sampled_from(MEANS) | st.floats(0.0, 2e3), min_size=1, max_size=8),
)
@settings(max_examples=60, deadline=None)
def test_poissons_are_each_worlds_own(seed, lam):
    mine, ref = _pairs(3, seed)
    lam = np.array([lam, lam[::-1], lam], dtype=float)
    states = drawing.States(mine)
    got = drawing.poissons(states, lam)
    assert got.dtype == np.int64
    assert np.array_equal(got, np.stack([g.poisson(row) for g, row in zip(ref, lam, strict=True)]))
    _same_state(mine, ref)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.lists(st.integers(0, 3000), min_size=1, max_size=8),
    p=st.lists(st.sampled_from(PROBABILITIES) | st.floats(0.0, 1.0), min_size=8, max_size=8),
)
@settings(max_examples=80, deadline=None)
def test_binomials_are_each_worlds_own(seed, n, p):
    mine, ref = _pairs(2, seed)
    n = np.array([n, n[::-1]], dtype=np.int64)
    p = np.array([p[: n.shape[1]], p[::-1][: n.shape[1]]])
    states = drawing.States(mine)
    got = drawing.binomials(states, n, p)
    want = np.stack([g.binomial(a, b) for g, a, b in zip(ref, n, p, strict=True)])
    assert np.array_equal(got, want)
    _same_state(mine, ref)


def test_normals_and_uniforms_are_each_worlds_own():
    mine, ref = _pairs(4, 11)
    states = drawing.States(mine)
    got = drawing.normals(states, 0.25, 3.0, 7)
    assert np.array_equal(got, np.stack([g.normal(0.25, 3.0, 7) for g in ref]))
    counts = np.array([3, 0, 5, 1])
    got = drawing.uniforms(states, counts, 3)
    want = np.concatenate([g.random((3, k)) for g, k in zip(ref, counts, strict=True)], axis=1)
    assert np.array_equal(got, want)
    _same_state(mine, ref)


def test_a_world_draws_the_same_alone_or_with_others():
    seeds = [np.random.SeedSequence(5, spawn_key=(j,)) for j in range(4)]
    together = Draws(seeds, 3)
    lam = np.array([[2.0, 50.0, 0.0], [7.0, 0.0, 300.0], [0.0, 0.0, 0.0], [12.0, 1.0, 9.0]])
    p = np.full((4, 3), 0.4)
    both = together.poisson("output", lam), together.binomial("output", lam.astype(int), p)
    for j, seed in enumerate(seeds):
        alone = Draws([seed], 3)
        assert np.array_equal(alone.poisson("output", lam[j]), both[0][j : j + 1])
        trials = lam[j].astype(int)
        assert np.array_equal(alone.binomial("output", trials, p[j]), both[1][j : j + 1])
        own = Streams.from_seed(seed).output
        assert np.array_equal(own.poisson(lam[j]), both[0][j])
        assert np.array_equal(own.binomial(lam[j].astype(int), p[j]), both[1][j])


def test_uniform_rows_are_each_worlds_random_of_that_shape():
    seeds = [np.random.SeedSequence(8, spawn_key=(j,)) for j in range(3)]
    got = Draws(seeds, 2).uniform_rows("company", (4, 5))
    want = np.stack([Streams.from_seed(s).company.random((4, 5)) for s in seeds])
    assert np.array_equal(got, want)


def test_bad_parameters_are_refused_as_numpy_refuses_them():
    draws = Draws([np.random.SeedSequence(1)], 2)
    with pytest.raises(ValueError, match="Poisson"):
        draws.poisson("output", np.array([1.0, -0.5]))
    with pytest.raises(ValueError, match="Poisson"):
        draws.poisson("output", np.array([np.nan, 1.0]))
    with pytest.raises(ValueError, match="binomial"):
        draws.binomial("output", np.array([3, 2]), np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="binomial"):
        draws.binomial("output", np.array([-1, 2]), np.array([0.5, 0.5]))
    with pytest.raises(TypeError, match="integers"):
        draws.binomial("output", np.array([3.0, 2.0]), np.array([0.5, 0.5]))


def test_any_bit_generator_draws_its_own_numbers():
    """Each world's functions are its own generator's: worlds may mix kinds of bit generator."""
    kinds = (np.random.PCG64, np.random.Philox, np.random.SFC64, np.random.MT19937)
    mine = [np.random.Generator(k(7)) for k in kinds]
    ref = [np.random.Generator(k(7)) for k in kinds]
    states = drawing.States(mine)
    lam = np.tile([0.5, 40.0], (len(kinds), 1))
    got = drawing.poissons(states, lam)
    assert np.array_equal(got, np.stack([g.poisson(row) for g, row in zip(ref, lam, strict=True)]))
    got = drawing.uniforms(states, np.full(len(kinds), 3), 1)
    assert np.array_equal(got, np.concatenate([g.random((1, 3)) for g in ref], axis=1))
    # The generators go on from the same place (MT19937's state holds arrays: compare numbers).
    assert all(np.array_equal(a.random(4), b.random(4)) for a, b in zip(mine, ref, strict=True))


def test_a_copied_draws_object_draws_from_its_own_generators():
    import copy
    import pickle

    draws = Draws([np.random.SeedSequence(4, spawn_key=(j,)) for j in range(2)], 2)
    for make in (lambda d: pickle.loads(pickle.dumps(d)), copy.deepcopy):
        clone = make(draws)
        a, b = clone.uniforms("host", np.array([2, 3])), draws.uniforms("host", np.array([2, 3]))
        assert np.array_equal(a, b)
        after = clone.streams[0].host.bit_generator.state
        assert after == draws.streams[0].host.bit_generator.state


def test_shapes_and_counts_are_checked_before_any_draw():
    """numba does not check bounds: a wrong shape is refused, never read past."""
    gens = [np.random.default_rng(1), np.random.default_rng(2)]
    before = [g.bit_generator.state for g in gens]
    states = drawing.States(gens)
    with pytest.raises(ValueError, match="count per world"):
        drawing.uniforms(states, np.array([3, -1]))
    with pytest.raises(ValueError, match="count per world"):
        drawing.uniforms(states, np.array([3]))
    with pytest.raises(ValueError, match="row per world"):
        drawing.poissons(states, np.ones((3, 2)))
    with pytest.raises(ValueError, match="row per world"):
        drawing.binomials(states, np.ones((3, 2), dtype=np.int64), 0.5)
    with pytest.raises(ValueError, match="scale"):
        drawing.normals(states, 0.0, -1.0, 2)
    with pytest.raises(ValueError, match="scale"):
        drawing.normals(states, 0.0, -0.0, 2)
    with pytest.raises(TypeError, match="int64"):
        drawing.binomials(states, np.full((2, 1), 2**63, dtype=np.uint64), 0.5)
    assert [g.bit_generator.state for g in gens] == before
    assert not states.addresses.flags.writeable


def test_probabilities_broadcast_against_trials_as_numpys_do():
    mine, ref = _pairs(2, 4)
    n = np.array([[3, 40, 0], [7, 1, 900]])
    p = np.array([[0.2], [0.7]])
    got = drawing.binomials(drawing.States(mine), n, p)
    assert np.array_equal(
        got, np.stack([g.binomial(a, b) for g, a, b in zip(ref, n, p, strict=True)])
    )
