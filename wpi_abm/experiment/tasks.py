"""Tasks: the unit of work an executor hands a worker, decoupled from chunks (storage).

Chunks are the unit of storage, resume and checksums, fixed by the experiment; tasks are the unit
of work, sized for the workers at hand (:func:`plan_tasks`): when an experiment has too few
chunks to keep every worker busy to the end, a chunk is cut into sub-ranges of its replicates,
each simulated as its own task, and :func:`assemble` puts the parts back together in replicate
order before the driver sees the chunk. A run's results do not depend on which runs share its
model (``tests/test_model.py``), so a part's tables are exactly that slice of the whole chunk's
tables wherever it is cut (:func:`cut_points`), and the stored files are byte for byte those of
an uncut run, whatever the executor and the number of workers.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Iterator

import pyarrow as pa

from wpi_abm.experiment.plan import Chunk
from wpi_abm.experiment.runner import ChunkResult

TASKS_PER_WORKER = 4
"""Tasks per worker below which chunks are cut (:func:`plan_tasks`): with at least four, the last
wave of tasks leaves a worker idle for at most about a quarter of its share of the work."""

PART_RUNS = 25
"""Replicates between cuts (:func:`cut_points`): a part is a multiple of 25 long, but for the
chunk's last part, which may be shorter (a model of few worlds pays its set-up and yearly fixed
costs over few runs; docs/performance.md)."""


def cut_points(chunk: Chunk) -> list[int]:
    """Replicates inside ``chunk`` where it may be cut into tasks (every :data:`PART_RUNS`).

    The cuts count from the chunk's first replicate. Any cut gives the same files: a run's
    results do not depend on the runs simulated with it, and a replicate's posterior particle
    depends on its draw group alone. Cutting only every :data:`PART_RUNS` keeps a task worth its
    fixed cost (all parts but the chunk's last are at least that long).

    Args:
        chunk: The chunk.

    Returns:
        Replicates strictly inside the chunk, ascending (empty: it stays one task).
    """
    return list(range(chunk.first + PART_RUNS, chunk.stop, PART_RUNS))


def plan_tasks(chunks: list[Chunk], workers: int) -> list[Chunk]:
    """The tasks that run ``chunks`` on ``workers``: whole chunks, or parts of them.

    When there are fewer chunks than :data:`TASKS_PER_WORKER` per worker, each chunk is cut into
    about equal parts at its :func:`cut_points` so that there are (where the cut points allow).
    Tasks come longest chunk first (a short last chunk of each policy goes to the end, where it
    fills the gaps), and a chunk's parts consecutively, so that the parts of a chunk finish close
    together and :func:`assemble` holds few of them at a time. With one worker nothing is cut:
    there is no one to balance against.

    A part is a :class:`~wpi_abm.experiment.plan.Chunk` with the chunk's index and a sub-range of
    its replicates; the runner simulates it like any chunk.

    Args:
        chunks: The chunks to run.
        workers: Worker processes (or threads) that will run the tasks.
    """
    ordered = sorted(chunks, key=len, reverse=True)  # stable: equal lengths keep plan order
    target = TASKS_PER_WORKER * workers
    if workers <= 1 or not chunks or len(chunks) >= target:
        return ordered
    parts = math.ceil(target / len(chunks))
    tasks: list[Chunk] = []
    for chunk in ordered:
        cuts = cut_points(chunk)
        pieces = min(parts, len(cuts) + 1)
        # Parts of about equal length: pick ``pieces - 1`` of the allowed cuts, evenly spaced.
        chosen = [cuts[round(k * (len(cuts) + 1) / pieces) - 1] for k in range(1, pieces)]
        bounds = [chunk.first, *chosen, chunk.stop]
        tasks += [
            dataclasses.replace(chunk, first=a, stop=b) for a, b in itertools.pairwise(bounds)
        ]
    return tasks


def whole_chunks(tasks: list[Chunk]) -> set[int]:
    """The chunks (indices) that ``tasks`` run whole, as one task each."""
    return {index for index, n in _parts(tasks).items() if n == 1}


def _parts(tasks: list[Chunk]) -> Counter[int]:
    """Tasks per chunk (index)."""
    return Counter(t.index for t in tasks)


def assemble(results: Iterable[ChunkResult], tasks: list[Chunk]) -> Iterator[ChunkResult]:
    """Whole chunks from the results of ``tasks`` (parts of chunks), as each chunk completes.

    The parts' tables are concatenated in replicate order, which gives the whole chunk's tables
    (see :func:`cut_points`). A chunk any part of which failed is one failure, whole: the driver
    records it and ``--resume`` runs it again.

    Args:
        results: Results of ``tasks``, in any order.
        tasks: The tasks of :func:`plan_tasks`.
    """
    expected = _parts(tasks)
    whole: dict[int, Chunk] = {}
    for t in tasks:
        c = whole.setdefault(t.index, t)
        first, stop = min(c.first, t.first), max(c.stop, t.stop)
        whole[t.index] = dataclasses.replace(c, first=first, stop=stop)
    held: dict[int, list[ChunkResult]] = {}
    for res in results:
        index = res.chunk.index
        if expected[index] == 1:
            yield res
            continue
        parts = held.setdefault(index, [])
        parts.append(res)
        if len(parts) == expected[index]:
            del held[index]
            yield _join(whole[index], sorted(parts, key=lambda r: r.chunk.first))


def _join(chunk: Chunk, parts: list[ChunkResult]) -> ChunkResult:
    errors = [p.error for p in parts if p.error is not None]
    if errors:
        return ChunkResult(chunk, None, None, error=errors[0])
    # Parts are never stored by their workers (delivery.run_task stores whole chunks only).
    assert not any(p.stored for p in parts), "a part of a chunk was stored on its own"
    outcomes = pa.concat_tables([p.outcomes for p in parts if p.outcomes is not None])
    panels = [p.panel for p in parts if p.panel is not None]
    return ChunkResult(chunk, outcomes, pa.concat_tables(panels) if panels else None)
