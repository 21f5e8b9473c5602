"""From an experiment to runs: points, replicates, seeds and chunks.

A *run* is one simulation of the whole cohort under one policy at one parameter point with one
replicate seed. Seeds come from the experiment's root seed and depend only on the replicate — the
same for every policy and every parameter point, so that policies and points are compared on common
random numbers (differences then reflect the design or the parameter, not the draws). Runs are
grouped into *chunks* (one policy, one point, consecutive replicates): the unit of work, of
storage and of resume. Chunking depends only on the experiment, never on the executor or the
number of workers, which is why results are identical however they are executed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Point:
    """A parameter point: dotted keys into the resolved experiment and their values.

    Attributes:
        index: Position of the point in the experiment.
        values: dotted key → value (empty for a plain policy comparison).
    """

    index: int
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """Consecutive replicates of one policy at one point.

    Attributes:
        index: Chunk number (names its files).
        policy: Policy name.
        policy_index: Position of the policy in the experiment.
        point: Point index.
        first: First replicate.
        stop: One past the last replicate.
    """

    index: int
    policy: str
    policy_index: int
    point: int
    first: int
    stop: int

    @property
    def replicates(self) -> range:
        """The replicates of this chunk."""
        return range(self.first, self.stop)

    def __len__(self) -> int:
        return self.stop - self.first


def run_id(point: int, policy_index: int, replicate: int, n_policies: int, replicates: int) -> int:
    """A run's number: unique within an experiment, ordered by point, policy, replicate."""
    return (point * n_policies + policy_index) * replicates + replicate


def run_seed(root: int, replicate: int) -> np.random.SeedSequence:
    """The seed of every run of ``replicate``, whatever its policy or point (CRN)."""
    return np.random.SeedSequence(root, spawn_key=(replicate,))


RUNS_PER_DRAW = 25
"""Consecutive replicates that share one posterior particle (a draw group) when a run carries
parameter uncertainty (:mod:`wpi_abm.experiment.uncertainty`): one batch of worlds in the runner.
Part of the reproducibility contract, like the order of the random streams."""
_PARTICLE_STREAM = 0x706F7374
"""Spawn-key tag of the particle draws ("post"): a two-element key never meets a run's seed,
whose spawn key is the replicate alone."""


def draw_group[T: (int, np.ndarray)](replicate: T) -> T:
    """The draw group of a replicate (or of each of an array of replicates)."""
    return replicate // RUNS_PER_DRAW


def run_particles(weights: np.ndarray, root: int, replicates: Sequence[int]) -> np.ndarray:
    """The posterior particle of each replicate: one weighted draw per draw group.

    The draw depends on the root seed and the group alone — never on the policy, the point, the
    chunking or the number of replicates — so every policy simulates replicate ``r`` with the
    same particle and the same seed (common random numbers).

    Args:
        weights: The particles' normalised weights.
        root: The experiment's root seed.
        replicates: Replicate numbers.
    """
    cdf = np.cumsum(weights)
    cdf[-1] = 1.0  # rounding must never leave a uniform draw past the last particle
    drawn: dict[int, int] = {}
    out = np.empty(len(replicates), dtype=np.int32)
    for i, r in enumerate(replicates):
        g = draw_group(r)
        if g not in drawn:
            seq = np.random.SeedSequence(root, spawn_key=(_PARTICLE_STREAM, g))
            drawn[g] = int(np.searchsorted(cdf, np.random.default_rng(seq).random(), side="right"))
        out[i] = drawn[g]
    return out


def plan_chunks(
    policies: list[str], n_points: int, replicates: int, chunk_runs: int
) -> list[Chunk]:
    """Every chunk of an experiment, in a fixed order (point, policy, replicate)."""
    chunks = []
    for point in range(n_points):
        for k, policy in enumerate(policies):
            for first in range(0, replicates, chunk_runs):
                stop = min(first + chunk_runs, replicates)
                chunks.append(Chunk(len(chunks), policy, k, point, first, stop))
    return chunks
