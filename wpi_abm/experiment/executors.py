"""Where chunks run: interchangeable back-ends behind one interface, used as context managers.

Every executor maps :func:`~wpi_abm.experiment.runner.simulate_chunk` over chunks and yields
results as they finish, keeping only a bounded number in flight so the driver's memory does not
grow with the number of runs. Because a chunk's result is a pure function of (job, chunk) and is
stored under the chunk's own name, the stored results do not depend on the executor, the number of
workers or the order in which chunks finish.

**Tasks are not chunks.** The parallel executors run chunks as tasks — whole chunks, or parts of
them when there are too few to keep every worker busy — and yield whole chunks
(:mod:`wpi_abm.experiment.tasks`); their workers start warm (:mod:`wpi_abm.experiment.workers`)
and, on the driver's file system, store the chunks they simulate whole
(:mod:`wpi_abm.experiment.delivery`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Protocol

from wpi_abm.experiment.delivery import run_task
from wpi_abm.experiment.plan import Chunk
from wpi_abm.experiment.runner import ChunkResult, Job, simulate_chunk
from wpi_abm.experiment.tasks import assemble, plan_tasks, whole_chunks
from wpi_abm.experiment.workers import forkserver_context, worker_init

if TYPE_CHECKING:
    from wpi_abm.schema.experiment import ClusterSpec


class Executor(Protocol):
    """What the experiment driver needs from a back-end."""

    name: str
    workers: int
    shares_files: bool
    """Whether its workers see the driver's file system (they then store whole chunks)."""

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...

    def results(self, job: Job, chunks: Iterable[Chunk]) -> Iterator[ChunkResult]:
        """Run ``chunks`` and yield their results (whole chunks) as they finish."""
        ...

    def describe(self) -> dict[str, object]:
        """What to record in the manifest about this back-end."""
        ...


class SerialExecutor:
    """Runs chunks one after another in this process."""

    name = "serial"
    shares_files = False  # the driver is the worker: nothing to spare it

    def __init__(self) -> None:
        self.workers = 1

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def results(self, job: Job, chunks: Iterable[Chunk]) -> Iterator[ChunkResult]:
        """Run ``chunks`` in order."""
        for chunk in chunks:
            yield simulate_chunk(job, chunk)

    def describe(self) -> dict[str, object]:
        """Name and worker count."""
        return {"executor": self.name, "workers": 1}


class ProcessExecutor:
    """Runs chunks in a pool of local worker processes.

    Args:
        workers: Number of processes (default: all cores).
    """

    name = "processes"
    shares_files = True

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessExecutor:
        # forkserver: workers are forked from a clean server that has imported the model once,
        # never from the driver (which may hold threads, e.g. a progress bar's).
        ctx = forkserver_context([])
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=ctx, initializer=worker_init
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def results(self, job: Job, chunks: Iterable[Chunk]) -> Iterator[ChunkResult]:
        """Run ``chunks`` on the pool and yield whole chunks as they complete.

        They run as the tasks of :func:`plan_tasks`, at most two per worker in flight.
        """
        tasks = plan_tasks(list(chunks), self.workers)
        yield from assemble(self._run(job, tasks), tasks)

    def _run(self, job: Job, tasks: list[Chunk]) -> Iterator[ChunkResult]:
        assert self._pool is not None, "use the executor as a context manager"
        pending: set[Future[ChunkResult]] = set()
        limit = 2 * self.workers
        whole = whole_chunks(tasks)
        for task in tasks:
            pending.add(self._pool.submit(run_task, job, task, task.index in whole))
            if len(pending) >= limit:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield f.result()

    def describe(self) -> dict[str, object]:
        """Name and worker count."""
        return {"executor": self.name, "workers": self.workers}


def make_executor(
    kind: str,
    workers: int | None = None,
    scheduler: str | None = None,
    cluster: ClusterSpec | None = None,
) -> Executor:
    """The executor called ``kind`` (``serial``, ``processes`` or ``dask``)."""
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers)
    if kind == "dask":
        from wpi_abm.experiment.dask_executor import DaskExecutor

        return DaskExecutor(workers=workers, scheduler=scheduler, cluster=cluster)
    raise ValueError(f"unknown executor '{kind}'; allowed: serial, processes, dask")
