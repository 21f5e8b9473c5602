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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

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

    Args:
        seeds: One seed sequence per world.
        n_centres: Centres per world (per-centre arrays are world-major).
    """

    def __init__(self, seeds: Sequence[np.random.SeedSequence], n_centres: int) -> None:
        self.streams = Streams.from_seeds(seeds)
        self.n_worlds = len(self.streams)
        self.n_centres = n_centres

    def generators(self, mechanism: str) -> list[np.random.Generator]:
        """The named mechanism's generator of every world, in world order."""
        return [getattr(s, mechanism) for s in self.streams]

    def uniforms(self, mechanism: str, counts: np.ndarray, width: int = 1) -> np.ndarray:
        """Uniform draws, ``width`` per item, ``counts[w]`` items from world ``w``'s stream.

        Returns shape (width, Σ counts), worlds in order.
        """
        gens = self.generators(mechanism)
        if self.n_worlds == 1:
            return gens[0].random((width, int(counts[0])))
        if width == 1:
            # Each world's draws straight into its part of one array (the same numbers as a
            # concatenation, without the copy: a draw per person is tens of thousands a year).
            ends = np.cumsum(counts).tolist()
            out = np.empty((1, ends[-1]))
            for g, a, b in zip(gens, [0, *ends[:-1]], ends, strict=True):
                g.random(out=out[0, a:b])
            return out
        return np.concatenate(
            [g.random((width, int(k))) for g, k in zip(gens, counts, strict=True)], axis=1
        )

    def per_centre(
        self, mechanism: str, draw: Callable[..., np.ndarray | tuple[np.ndarray, ...]], *arrays
    ) -> np.ndarray:
        """Every world's ``draw(generator, *its centres' rows of arrays)``, in world order.

        ``arrays`` are per-centre (world-major along their first axis). See :meth:`each_world`.
        """
        shaped = (a.reshape(self.n_worlds, self.n_centres, *a.shape[1:]) for a in arrays)
        return self.each_world(mechanism, draw, *shaped)

    def each_world(
        self, mechanism: str, draw: Callable[..., np.ndarray | tuple[np.ndarray, ...]], *arrays
    ) -> np.ndarray:
        """Every world's ``draw(generator, *its entries of arrays)``, concatenated in world order.

        ``arrays`` have one entry per world along their first axis. A draw may return several
        arrays: a world's are raveled and concatenated in the order returned. Whatever the
        parameters need (repeats, concatenations) is best done before, on the whole arrays and
        once, so that the loop over worlds is one generator call each; and contiguous, because
        a generator is several times slower on strided parameters.
        """
        parts = []
        for g, *mine in zip(self.generators(mechanism), *arrays, strict=True):
            out = draw(g, *mine)
            if isinstance(out, tuple):
                parts.extend(x.ravel() for x in out)
            else:
                parts.append(out.ravel())
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def per_world(self, mechanism: str, draw: Callable[[np.random.Generator], object]) -> list:
        """``draw(generator)`` for every world, in world order."""
        return [draw(g) for g in self.generators(mechanism)]
