"""Chunks on a Dask cluster: local, an existing scheduler, or a batch system via dask-jobqueue.

- no address: starts a ``LocalCluster`` of worker *processes* (one thread each), forked warm
  from the executors' forkserver (:func:`local_cluster`);
- ``--scheduler tcp://HOST:PORT``: connects to a running scheduler and its workers;
- a ``cluster:`` section (slurm / pbs / sge): starts one through dask-jobqueue, after checking
  that the batch system's commands are on this machine (without them dask-jobqueue retries
  forever, printing tracebacks); its workers preload :mod:`wpi_abm.experiment.warmup`.

The job (the resolved experiment) is scattered once to every worker; each task is a chunk or a
part of one (:func:`~wpi_abm.experiment.tasks.plan_tasks`), so per-task overhead is paid per
chunk or part, not per run. At most two tasks per worker thread are in flight; whole chunks are
yielded (and written by the driver) as they complete, so the driver's memory does not grow with
the number of runs. A worker that dies mid-task loses only that task: the scheduler gives it to
another worker, and its result — a pure function of the job and the task — is the same wherever
it runs.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from wpi_abm.errors import WpiError
from wpi_abm.experiment.delivery import run_task
from wpi_abm.experiment.plan import Chunk
from wpi_abm.experiment.runner import ChunkResult, Job
from wpi_abm.experiment.tasks import assemble, plan_tasks, whole_chunks
from wpi_abm.experiment.workers import DASK_PRELOAD, WARMUP_MODULE, forkserver_context

LOCAL_WORKERS = "wpi_abm.experiment.local_workers"

if TYPE_CHECKING:
    from wpi_abm.schema.experiment import ClusterSpec


class DaskExecutor:
    """Runs chunks on Dask.

    Args:
        workers: Worker processes for a local cluster (default: all cores).
        scheduler: Address of an existing scheduler.
        cluster: Batch-system cluster to start.

    A chunk is never retried: :func:`~wpi_abm.experiment.runner.simulate_chunk` returns an error
    instead of raising (the driver records it and ``--resume`` runs the chunk again), and a
    worker's death is handled by the scheduler, which gives the task to another worker.
    """

    name = "dask"

    def __init__(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        cluster: ClusterSpec | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.cluster_spec = cluster
        self.workers = workers or os.cpu_count() or 1
        self._client: Any = None
        self._cluster: Any = None
        if cluster is not None and not scheduler:
            check_batch_tools(cluster.kind)

    @property
    def shares_files(self) -> bool:
        """A local cluster's workers store whole chunks; remote ones send them back.

        A batch system's workers often share the file system too, but nothing here can know.
        """
        return not self.scheduler and self.cluster_spec is None

    def __enter__(self) -> DaskExecutor:
        if not self.scheduler and self.cluster_spec is None:
            # Start the local workers' forkserver first: it imports distributed and the model
            # while this process imports distributed (~1 s saved on the start of a local run).
            forkserver_context(DASK_PRELOAD)
        from distributed import Client

        try:
            if self.scheduler:
                self._client = Client(self.scheduler, timeout="30s")
            elif self.cluster_spec is not None:
                self._cluster = _jobqueue_cluster(self.cluster_spec)
                self._client = Client(self._cluster)
            else:
                self._cluster = local_cluster(self.workers)
                self._client = Client(self._cluster)
        except (OSError, ValueError) as exc:
            # OSError: nothing listens there (or it timed out); ValueError: a malformed address.
            raise WpiError(
                f"cannot reach the Dask scheduler {self.scheduler or ''}: {exc}; check the address "
                "(tcp://HOST:PORT) and that the scheduler is running"
            ) from None
        if self.scheduler or self.cluster_spec is not None:
            self._client.wait_for_workers(1, timeout=600)
        self.workers = max(1, sum(self._client.nthreads().values()))
        link = self._client.dashboard_link
        print(f"dask: {self._client.scheduler.address}, {self.workers} worker threads"
              + (f", dashboard {link}" if link else ""), file=sys.stderr, flush=True)  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def results(self, job: Job, chunks: Iterable[Chunk]) -> Iterator[ChunkResult]:
        """Run ``chunks`` on the cluster and yield whole chunks as they complete.

        They run as the tasks of :func:`~wpi_abm.experiment.tasks.plan_tasks` (chunks, or
        parts of chunks when there are too few to keep every worker busy), at most two per worker
        thread in flight.
        """
        tasks = plan_tasks(list(chunks), self.workers)
        yield from assemble(self._run(job, tasks), tasks)

    def _run(self, job: Job, tasks: list[Chunk]) -> Iterator[ChunkResult]:
        from distributed import as_completed

        client = self._client
        assert client is not None, "use the executor as a context manager"
        shared = client.scatter(job, broadcast=True, hash=False)
        pending = as_completed()
        in_flight = 0
        limit = 2 * self.workers
        whole = whole_chunks(tasks)
        for task in tasks:
            key = f"wpi-{job.key}-chunk-{task.index}-{task.first}"
            future = client.submit(run_task, shared, task, task.index in whole, key=key, pure=False)
            pending.add(future)
            in_flight += 1
            while in_flight >= limit:
                yield _take(next(pending))
                in_flight -= 1
        for future in pending:
            yield _take(future)

    def describe(self) -> dict[str, object]:
        """Scheduler address, dashboard and worker threads."""
        info: dict[str, object] = {"executor": self.name, "workers": self.workers}
        if self._client is not None:
            info["scheduler"] = self._client.scheduler.address
            info["dashboard"] = self._client.dashboard_link
        if self.cluster_spec is not None:
            info["cluster"] = self.cluster_spec.model_dump()
        return info


BATCH_TOOLS = {
    "slurm": ("sbatch", "squeue", "scancel"),
    "pbs": ("qsub", "qstat", "qdel"),
    "sge": ("qsub", "qstat", "qdel"),
}
"""Commands dask-jobqueue runs to submit, watch and cancel worker jobs."""


def check_batch_tools(kind: str) -> None:
    """Refuse to start a batch-system cluster on a machine without its commands.

    Args:
        kind: ``slurm``, ``pbs`` or ``sge``.

    Raises:
        WpiError: Some of the commands are not on ``PATH`` (names them and the alternatives).
    """
    missing = [tool for tool in BATCH_TOOLS[kind] if shutil.which(tool) is None]
    if not missing:
        return
    tools = ", ".join(missing)
    raise WpiError(
        f"the experiment's cluster: section (kind: {kind}) starts Dask workers as batch jobs, "
        f"but {tools} {'is' if len(missing) == 1 else 'are'} not on this machine's PATH, so no "
        "job can be submitted; nothing was started. Run the command on the cluster's login node; "
        "or start a Dask scheduler and workers yourself (README, 'Slurm recipe') and add "
        "--scheduler tcp://HOST:PORT; or run here without the cluster with --executor processes."
    )


def local_cluster(workers: int) -> Any:
    """A local cluster of ``workers`` worker processes (one thread each) that start warm.

    Dask starts worker processes with *spawn* by default: each one a fresh interpreter that
    imports distributed, then the model with its first task (~1 + ~4 s, on every worker at once,
    competing for the cores). Here they are forked from the forkserver of
    :func:`~wpi_abm.experiment.workers.forkserver_context`, which has imported distributed and
    the model and loaded the compiled kernels once, before the first worker is asked for.
    """
    import dask
    from distributed import LocalCluster

    method = forkserver_context(DASK_PRELOAD).get_start_method()
    with dask.config.set({"distributed.worker.multiprocessing-method": method}):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
            preload=[LOCAL_WORKERS],  # Ctrl-C is the driver's (experiment/local_workers.py)
        )


def _take(future: Any) -> ChunkResult:
    result = future.result()
    future.release()
    return result


def _jobqueue_cluster(spec: ClusterSpec) -> Any:
    cluster = jobqueue_cluster(spec)
    cluster.scale(jobs=spec.jobs)
    return cluster


def jobqueue_cluster(spec: ClusterSpec) -> Any:
    """The dask-jobqueue cluster a ``cluster:`` section describes (no job submitted yet)."""
    import dask_jobqueue

    cls = {
        "slurm": dask_jobqueue.SLURMCluster,
        "pbs": dask_jobqueue.PBSCluster,
        "sge": dask_jobqueue.SGECluster,
    }[spec.kind]
    kwargs: dict[str, Any] = {
        "cores": spec.cores,
        "processes": spec.processes or spec.cores,
        "memory": spec.memory,
        "walltime": spec.walltime,
        "job_extra_directives": list(spec.job_extra),
    }
    if spec.queue:
        kwargs["queue"] = spec.queue
    if spec.account:
        kwargs["account"] = spec.account
    # Workers must import this package: run them with this interpreter.
    kwargs["python"] = sys.executable
    # Each worker job imports the model and loads its compiled kernels when it starts, not
    # inside its first task (see wpi_abm.experiment.warmup).
    kwargs["worker_extra_args"] = ["--preload", WARMUP_MODULE]
    return cls(**kwargs)
