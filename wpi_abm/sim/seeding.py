"""Seeding many generators at once: numpy's ``SeedSequence`` children, hashed together.

A model of 25 worlds needs 250 generators, each seeded from a child of its world's seed sequence
(:mod:`wpi_abm.sim.streams`). Creating each child ``SeedSequence`` and letting ``PCG64`` ask it
for its state costs ~60 µs a generator in numpy (mostly Python-level overhead around a few dozen
32-bit multiplications), about 4% of a run. The hashing is simple integer arithmetic: here it is
done once for every child of every world, each step one numpy operation over all of them, and
each ``PCG64`` is then given its state directly. The states are numpy's own, word for word
(``tests/test_streams.py`` compares them with ``SeedSequence.generate_state`` and the generators'
numbers with numpy's).

The algorithm is numpy's (``numpy/random/bit_generator.pyx``, after Melissa O'Neill's
``seed_seq_fe``): the entropy words and the spawn key are mixed into a pool of four 32-bit words,
from which the state words are hashed out. Seed sequences it does not cover (another pool size,
entropy that is not an integer or a sequence of integers) take numpy's own path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.random.bit_generator import ISpawnableSeedSequence

POOL_SIZE = 4
_MASK32 = 0xFFFFFFFF
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_XSHIFT = 16


class PresetState:
    """Child ``child`` of ``parent``, whose state words are already known.

    ``PCG64`` asks its seed sequence for four uint64 words, once; those are given at once. The
    child ``SeedSequence`` itself is made only if something else is asked (spawning, say).

    Args:
        state: The words ``SeedSequence.generate_state(4, np.uint64)`` gives for the child.
        parent: The world's seed sequence.
        child: The child's last spawn-key word.
    """

    __slots__ = ("_child", "_parent", "_state")

    def __init__(self, state: np.ndarray, parent: np.random.SeedSequence, child: int) -> None:
        self._state = state
        self._parent = parent
        self._child = child

    @property
    def seed_sequence(self) -> np.random.SeedSequence:
        """The child as numpy's ``SeedSequence``."""
        p = self._parent
        return np.random.SeedSequence(p.entropy, spawn_key=(*p.spawn_key, self._child))

    def generate_state(self, n_words: int, dtype: type = np.uint32) -> np.ndarray:
        """The known words for ``PCG64``'s request; anything else is asked of the child."""
        if n_words == len(self._state) and np.dtype(dtype) == np.uint64:
            return self._state.copy()
        return self.seed_sequence.generate_state(n_words, dtype)

    def spawn(self, n_children: int) -> list[np.random.SeedSequence]:
        """Children of the child."""
        return self.seed_sequence.spawn(n_children)


ISpawnableSeedSequence.register(PresetState)


def _words(value: object) -> list[int] | None:
    """The uint32 words numpy makes of an integer or a sequence of integers (None: other)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        n = int(value)
        if n < 0:
            return None
        words = [n & _MASK32]
        n >>= 32
        while n > 0:
            words.append(n & _MASK32)
            n >>= 32
        return words
    if isinstance(value, (list, tuple)):
        out: list[int] = []
        for v in value:
            w = _words(v)
            if w is None or isinstance(v, (list, tuple)):
                return None
            out.extend(w)
        return out
    return None


def _assembled(seed: np.random.SeedSequence) -> list[int] | None:
    """The entropy words of ``seed``'s children, less the child's own last spawn-key word.

    Child ``k``'s words are these followed by ``k``'s (``[k]`` for ``k < 2**32``).
    """
    if seed.pool_size != POOL_SIZE or seed.entropy is None:
        return None
    run = _words(seed.entropy)
    spawn = _words(seed.spawn_key)
    if run is None or spawn is None:
        return None
    # numpy pads short entropy with zeros to the pool size when there is a spawn key (a child
    # always has one).
    return run + [0] * (POOL_SIZE - len(run)) + spawn


class _Hash:
    """numpy's running hash constant: it evolves the same way whatever the data."""

    def __init__(self, init: int, mult: int) -> None:
        self.value, self.mult = init, mult

    def mix(self, v: np.ndarray) -> np.ndarray:
        """``hashmix``: the value xor the constant, times the next constant, folded."""
        v = v ^ np.uint32(self.value)
        self.value = (self.value * self.mult) & _MASK32
        v = v * np.uint32(self.value)
        return v ^ (v >> np.uint32(_XSHIFT))


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = np.uint32(_MIX_MULT_L) * x - np.uint32(_MIX_MULT_R) * y
    return r ^ (r >> np.uint32(_XSHIFT))


def _states(entropy: np.ndarray) -> np.ndarray:
    """``generate_state(4, np.uint64)`` of each row of assembled entropy words (m, L) -> (m, 4)."""
    h = _Hash(_INIT_A, _MULT_A)
    length = entropy.shape[1]
    pool = [
        h.mix(entropy[:, i] if i < length else np.zeros(len(entropy), dtype=np.uint32))
        for i in range(POOL_SIZE)
    ]
    for src in range(POOL_SIZE):
        for dst in range(POOL_SIZE):
            if src != dst:
                pool[dst] = _mix(pool[dst], h.mix(pool[src]))
    for src in range(POOL_SIZE, length):
        for dst in range(POOL_SIZE):
            pool[dst] = _mix(pool[dst], h.mix(entropy[:, src]))
    out = np.empty((len(entropy), 8), dtype=np.uint32)
    h = _Hash(_INIT_B, _MULT_B)
    for i in range(8):
        # generate_state's own hash: the same steps as hashmix with the second pair of constants.
        out[:, i] = h.mix(pool[i % POOL_SIZE])
    # Words in little-endian pairs make the uint64 state words (as numpy assembles them).
    lo, hi = out[:, 0::2].astype(np.uint64), out[:, 1::2].astype(np.uint64)
    return lo | (hi << np.uint64(32))


def child_generators(
    seeds: Sequence[np.random.SeedSequence], n_children: int
) -> list[list[np.random.Generator]]:
    """PCG64 generators of children ``0 … n_children - 1`` of every seed, without mutating it.

    Child ``k`` of ``seed`` is ``SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, k))``;
    its generator is ``Generator(PCG64(child))``, state for state.
    """
    if n_children > 2**32:
        raise ValueError("a child's spawn-key word must fit in 32 bits")
    out: list[list[np.random.Generator]] = []
    groups: dict[int, list[tuple[int, list[int]]]] = {}
    for w, seed in enumerate(seeds):
        out.append([])
        words = _assembled(seed)
        if words is None:
            for k in range(n_children):
                child = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, k))
                out[w].append(np.random.Generator(np.random.PCG64(child)))
        else:
            groups.setdefault(len(words), []).append((w, words))
    children = np.arange(n_children, dtype=np.uint32)
    for rows in groups.values():
        # Every child of every seed of this length: (seeds × children, words + 1).
        prefix = np.array([words for _, words in rows], dtype=np.uint32)
        entropy = np.empty((len(rows), n_children, prefix.shape[1] + 1), dtype=np.uint32)
        entropy[:, :, :-1] = prefix[:, None, :]
        entropy[:, :, -1] = children
        states = _states(entropy.reshape(-1, entropy.shape[2])).reshape(len(rows), n_children, 4)
        for (w, _), mine in zip(rows, states, strict=True):
            out[w] = [
                np.random.Generator(np.random.PCG64(PresetState(state, seeds[w], k)))
                for k, state in enumerate(mine)
            ]
    return out
