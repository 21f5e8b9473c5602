"""Worker processes that start warm: one forkserver, preloaded, for every local pool.

Standard library only, so that anything (the executors, the figures) can use it without
importing the model or the experiment loader; what the workers import is named, not imported.
"""

from __future__ import annotations

import multiprocessing as mp

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
