"""Random streams: one per mechanism and world, and the draws that use them.

Everything random in a run is drawn from named streams spawned from the run's seed, one per
mechanism, so that two policies run with the same seed see the same draws for everything their
difference does not touch (common random numbers). Each mechanism draws the same number of random
numbers every year whatever the design, for the same reason.

Several runs ("worlds") may be simulated by one model; every world has its own streams, and a
draw for many worlds is the concatenation of each world's own draw, so a world's results are
identical whether it runs alone or with others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wpi_abm.sim import drawing
from wpi_abm.sim.drawing import States
from wpi_abm.sim.seeding import child_generators

STREAMS = (
    "mesa",
    "population",
    "departures",
    "recruitment",
    "output",
    "evaluation",
    "company",
    "foundation",
    "market",
    "host",
)
"""One random stream per mechanism; the order is part of the reproducibility contract."""


@dataclass(frozen=True)
class Streams:
    """Independent generators, one per mechanism, all derived from one run's seed."""

    mesa: np.random.Generator
    population: np.random.Generator
    departures: np.random.Generator
    recruitment: np.random.Generator
    output: np.random.Generator
    evaluation: np.random.Generator
    company: np.random.Generator
    foundation: np.random.Generator
    market: np.random.Generator
    host: np.random.Generator

    @classmethod
    def from_seed(cls, seed: np.random.SeedSequence) -> Streams:
        """Derive the streams without mutating ``seed`` (children addressed by spawn key)."""
        return cls.from_seeds([seed])[0]

    @classmethod
    def from_seeds(cls, seeds: Sequence[np.random.SeedSequence]) -> list[Streams]:
        """The streams of every seed (stream ``k`` from child ``k``, hashed together)."""
        return [cls(*gens) for gens in child_generators(seeds, len(STREAMS))]


class Draws:
    """Draws for every world at once, each world from its own stream of the named mechanism.

    Every draw is one compiled loop over the worlds (:mod:`wpi_abm.sim.drawing`), each world's
    numbers from its own generator, in the order that generator's own method would give them.

    Args:
        seeds: One seed sequence per world.
        n_centres: Centres per world (per-centre arrays are world-major).
    """

    def __init__(self, seeds: Sequence[np.random.SeedSequence], n_centres: int) -> None:
        self.streams = Streams.from_seeds(seeds)
        self.n_worlds = len(self.streams)
        self.n_centres = n_centres
        self._states = {
            name: States([getattr(s, name) for s in self.streams]) for name in STREAMS[1:]
        }

    def states(self, mechanism: str) -> States:
        """The named mechanism's generators of every world, for the compiled loops."""
        return self._states[mechanism]

    def uniforms(self, mechanism: str, counts: np.ndarray, width: int = 1) -> np.ndarray:
        """Uniform draws, ``width`` per item, ``counts[w]`` items from world ``w``'s stream.

        World ``w`` draws ``random((width, counts[w]))``. Returns shape (width, Σ counts), worlds
        side by side in order.
        """
        return drawing.uniforms(self.states(mechanism), counts, width)

    def uniform_rows(self, mechanism: str, shape: tuple[int, ...]) -> np.ndarray:
        """``random(shape)`` of every world: (worlds, *shape)."""
        k = int(np.prod(shape))
        counts = np.full(self.n_worlds, k, dtype=np.int64)
        return drawing.uniforms(self.states(mechanism), counts, 1).reshape(self.n_worlds, *shape)

    def normal(self, mechanism: str, loc: float, scale: float, k: int) -> np.ndarray:
        """``normal(loc, scale, k)`` of every world: (worlds, k)."""
        return drawing.normals(self.states(mechanism), float(loc), float(scale), int(k))

    def poisson(self, mechanism: str, lam: np.ndarray) -> np.ndarray:
        """``poisson(lam[w])`` of every world ``w``; ``lam`` has one row per world.

        A mean of 0 gives 0 and takes nothing from the stream, as numpy's does.
        """
        lam = np.asarray(lam, dtype=float).reshape(self.n_worlds, -1)
        return drawing.poissons(self.states(mechanism), lam)

    def binomial(self, mechanism: str, n: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``binomial(n[w], p[w])`` of every world ``w``, element by element in row order.

        ``n`` (integers) and ``p`` have one row per world, of the same shape (or ``p`` one that
        broadcasts against it).
        """
        n, p = np.broadcast_arrays(np.asarray(n), np.asarray(p, dtype=float))
        k = self.n_worlds
        return drawing.binomials(self.states(mechanism), n.reshape(k, -1), p.reshape(k, -1))
