"""Random streams: seeded as numpy seeds them, and the generator facts the draws rely on."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from wpi_abm.sim.seeding import child_generators
from wpi_abm.sim.streams import STREAMS, Draws, Streams

SEEDS = [
    np.random.SeedSequence(0),
    np.random.SeedSequence(4242, spawn_key=(0, 3)),
    np.random.SeedSequence(2**32 - 1, spawn_key=(7,)),
    np.random.SeedSequence(2**32, spawn_key=(1, 2**40)),
    np.random.SeedSequence(2**130 + 12345, spawn_key=(0, 1, 2, 3, 4)),
    np.random.SeedSequence([1, 2, 3, 4, 5, 6], spawn_key=(9, 9)),
    np.random.SeedSequence(),  # 128 bits of fresh entropy
    np.random.SeedSequence(5, pool_size=8),  # not covered: numpy's own path
]


def _numpy_child(seed: np.random.SeedSequence, k: int) -> np.random.Generator:
    child = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, k))
    return np.random.Generator(np.random.PCG64(child))


def test_children_are_seeded_as_numpy_seeds_them():
    gens = child_generators(SEEDS, len(STREAMS))
    for seed, mine in zip(SEEDS, gens, strict=True):
        for k, g in enumerate(mine):
            ref = _numpy_child(seed, k)
            assert g.bit_generator.state == ref.bit_generator.state
            assert np.array_equal(g.random(5), ref.random(5))
            assert np.array_equal(g.binomial(20, 0.3, 7), ref.binomial(20, 0.3, 7))


def test_seeds_are_not_mutated_and_streams_match_one_by_one():
    seeds = [np.random.SeedSequence(77, spawn_key=(0, j)) for j in range(25)]
    together = Streams.from_seeds(seeds)
    for seed, streams in zip(seeds, together, strict=True):
        assert seed.n_children_spawned == 0
        alone = Streams.from_seed(seed)
        for name in STREAMS:
            assert (
                getattr(streams, name).bit_generator.state
                == getattr(alone, name).bit_generator.state
            )


def test_a_preset_generator_spawns_and_pickles_like_numpys():
    g = child_generators([np.random.SeedSequence(3, spawn_key=(1,))], 2)[0][1]
    ref = _numpy_child(np.random.SeedSequence(3, spawn_key=(1,)), 1)
    assert np.array_equal(g.spawn(2)[1].random(3), ref.spawn(2)[1].random(3))
    copy = pickle.loads(pickle.dumps(g))
    assert np.array_equal(copy.random(3), g.random(3))


@pytest.mark.parametrize("call", ["poisson", "binomial_n", "binomial_p"])
def test_a_zero_draw_takes_nothing_from_the_stream(call):
    """Draws skip (or broadcast over) zero means and empty trials, relying on this."""
    g, ref = np.random.default_rng(1), np.random.default_rng(1)
    if call == "poisson":
        assert not g.poisson(np.zeros(5)).any()
    elif call == "binomial_n":
        assert not g.binomial(np.zeros(5, dtype=np.int64), 0.4).any()
    else:
        assert not g.binomial(np.full(5, 3), 0.0).any()
    assert g.bit_generator.state == ref.bit_generator.state


def test_a_broadcast_binomial_draws_in_the_order_of_its_shape():
    """Output and recruitment draw two arrays in one call; as two calls would."""
    rng = np.random.default_rng(2)
    n, p = rng.integers(0, 40, 12), rng.random((2, 12))
    g, ref = np.random.default_rng(3), np.random.default_rng(3)
    both = g.binomial(n, p)
    assert np.array_equal(both, [ref.binomial(n, p[0]), ref.binomial(n, p[1])])


@pytest.mark.parametrize("width", [1, 2])
def test_uniforms_of_many_worlds_are_each_worlds_own(width):
    seeds = [np.random.SeedSequence(5, spawn_key=(j,)) for j in range(4)]
    counts = np.array([3, 0, 7, 2])
    got = Draws(seeds, 1).uniforms("departures", counts, width)
    own = [
        Streams.from_seed(s).departures.random((width, k))
        for s, k in zip(seeds, counts, strict=True)
    ]
    assert np.array_equal(got, np.concatenate(own, axis=1))
