"""Worker processes that start warm: one forkserver, preloaded, for every local pool.

Standard library only, so that anything (the executors, the figures) can use it without
importing the model or the experiment loader; what the workers import is named, not imported.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wpi_abm.schema.experiment import ClusterSpec

WARMUP_MODULE = "wpi_abm.experiment.warmup"
"""Imported by a worker (or the forkserver it is forked from) before its first task."""

DASK_PRELOAD = ["distributed"]
"""What a local Dask cluster's workers' forkserver imports besides the model."""


def worker_init() -> None:
    """A process-pool initializer: warm this worker (see :data:`WARMUP_MODULE`)."""
    # Already imported (and warm) in a worker forked from a preloaded forkserver; a spawned
    # worker warms here, before its first task rather than inside it.
    __import__(WARMUP_MODULE)


def forkserver_context(preload: list[str], *, warm: bool = True) -> mp.context.BaseContext:
    """A multiprocessing context whose workers start warm, started now, in the background.

    Where the platform has a forkserver, its preload imports ``preload`` and then (``warm``)
    :data:`WARMUP_MODULE`, once, and every worker is forked from it warm. The server is started
    here, at once, so that it imports and warms while the driver is still busy with its own
    start (for Dask, importing distributed and starting the scheduler; then loading the
    posterior, writing the manifest, planning).
    Elsewhere (spawn), each worker warms in its initializer.

    Python's one forkserver serves every executor of the driver process: the first executor to
    start it sets what it preloads. A later one with other wishes still works, its workers import
    what they lack. (The figures start a second server of their own: :mod:`wpi_abm.plots.pool`.)
    """
    methods = mp.get_all_start_methods()
    if "forkserver" not in methods:
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    from multiprocessing import forkserver

    ctx.set_forkserver_preload([*preload, WARMUP_MODULE] if warm else preload)
    forkserver.ensure_running()
    return ctx


def start_workers_early(
    kind: str, scheduler: str | None = None, cluster: ClusterSpec | None = None
) -> None:
    """Start the local workers' warm forkserver now, for the executor ``kind`` made later.

    The server imports the model and warms up (3.3-3.5 CPU-s, timed in a fresh process) whether
    it starts here or when the executor starts; started here, as soon as the command knows its
    executor, it does so while the command is still loading the experiment, checking its
    results folder and importing the driver, so the workers are ready sooner. It preloads what
    the executor's own start would (a no-op there then). Nothing for the serial executor or a
    remote or batch-system Dask cluster. (Here, not with the executors: this module imports
    nothing of wpi-abm's, so that a command can call this before it has imported anything else.)
    """
    if kind == "processes":
        forkserver_context([])
    elif kind == "dask" and not scheduler and cluster is None:
        forkserver_context(DASK_PRELOAD)


def stop_server(server: Any) -> None:
    """Stop a forkserver (``multiprocessing.forkserver.ForkServer``) now, warm-up or not.

    For a command that ends before its workers were needed (an error, an interrupt): the server
    would otherwise finish importing and warming (~3 s) before it noticed, holding the
    command's standard output and error open all that time — a caller that reads them (a
    script, ``subprocess.run``) would wait for it. Workers already forked from it are not its
    to stop (their pools are shut down by then). Nothing where the server was never started.
    """
    pid = getattr(server, "_forkserver_pid", None)
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    # The standard library's own stop: close the server's pipe, reap it, forget its address.
    server._stop()


def stop_forkserver() -> None:
    """Stop the workers' forkserver of :func:`forkserver_context`, if it is running.

    Python keeps one forkserver per process, whoever started it: called where nothing else of
    the process will need it (a command that has ended early); a later pool starts a new one.
    """
    if "forkserver" in mp.get_all_start_methods():
        from multiprocessing import forkserver

        stop_server(forkserver._forkserver)
