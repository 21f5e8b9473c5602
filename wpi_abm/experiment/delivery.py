"""How a finished task reaches the results folder: stored where it was made, or sent back.

A worker that simulated a whole chunk, on the file system of the results folder, stores the chunk
itself (:func:`~wpi_abm.experiment.store.store_chunk`: the same files, bytes and checksums the
driver would write) and sends back only the chunk's per-run sums, a few kilobytes. Otherwise —
a part of a chunk (:mod:`wpi_abm.experiment.tasks`), or a worker on another machine — its tables
go back to the driver, which assembles and stores them.

Why: a chunk of 100 runs with its panel is ~8 MB of tables. Sent back, the driver unpickled,
encoded, hashed and summed every one of them, ~0.7 ms of its CPU per run: on 2 cores a CPU taken
from the workers, and with many workers the bound on the whole experiment (16 workers finish a
run every ~0.45 ms). Stored by the workers, that work is spread over them and nothing big
crosses a pipe.
"""

from __future__ import annotations

from wpi_abm.experiment.plan import Chunk
from wpi_abm.experiment.runner import ChunkResult, Job, simulate_chunk


def run_task(job: Job, task: Chunk, whole: bool) -> ChunkResult:
    """Simulate ``task``; store it here when it is a whole chunk and the job says where.

    Args:
        job: The job (``job.store``: the results folder, when workers store chunks).
        task: A chunk, or a part of one.
        whole: ``task`` is its whole chunk.

    Returns:
        The result: stored (its per-run sums only), or its tables, or its error. A chunk the
        worker cannot store (a full disk, a folder its driver no longer holds) goes back as
        tables: a driver still running stores it or stops with the error, as it always did.
    """
    res = simulate_chunk(job, task)
    if job.store is None or not whole or res.error is not None:
        return res
    # Imported here: a worker that never stores (parts, remote workers) does not need them
    # (the warm workers have them already: experiment.warmup).
    from wpi_abm.errors import ResultsError
    from wpi_abm.experiment.analysis import run_sums
    from wpi_abm.experiment.store import store_chunk

    assert res.outcomes is not None
    try:
        store_chunk(job.store, task.index, res.outcomes, res.panel, job.holder)
    except (OSError, ResultsError):
        return res
    return ChunkResult(task, None, None, sums=run_sums(res.outcomes))
