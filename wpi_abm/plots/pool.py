"""How many processes draw the figures, and their own server, started early (no matplotlib here).

Figures are drawn in a pool of processes forked from a multiprocessing forkserver of their own
that has imported the drawing code and drawn a small figure (:mod:`wpi_abm.plots.warmup`). Starting
that server costs about as much as importing matplotlib (~3 s of CPU); whoever will draw starts it
early (:func:`start_figure_server`) so that it warms while something else goes on: ``wpi-abm
plot`` first thing, while the command imports and checks the folder; an experiment run
(:func:`~wpi_abm.experiment.driver.run_experiment`) as it starts, while the executor's own server
imports the model, so that the figures at the end fork their workers warm. The process that
hands figures to the workers needs no matplotlib (the catalogue names the drawing functions).

*Why a server of its own.* Python keeps one forkserver per process, and its preload is fixed by
whoever starts it first. In a run that is the executor's (the model, for the simulation workers);
figure workers forked from it imported matplotlib and warmed up each in its first task, after the
last chunk. A second :class:`multiprocessing.forkserver.ForkServer` serves the figures instead;
the processes of :func:`figure_context` are launched through it by the standard library's own
forkserver launch code, bound to that server (:func:`_bound_launch`).
"""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import types
from collections.abc import Callable
from typing import Any

from wpi_abm.experiment.workers import forkserver_context, stop_server

FIGURE_WARMUP = "wpi_abm.plots.warmup"
"""What the figure workers' server imports before it forks any worker."""


def configured_workers() -> int:
    """Processes asked for: ``WPI_ABM_FIGURE_WORKERS``, else this machine's cores (at least 1).

    ``1`` draws in the calling process, one figure after another.
    """
    configured = os.environ.get("WPI_ABM_FIGURE_WORKERS")
    return max(1, int(configured) if configured else (os.cpu_count() or 1))


def figure_context() -> mp.context.BaseContext:
    """The figure workers' multiprocessing context, its server started now if not already.

    Its processes fork from the figures' own forkserver where the platform has one; where the
    launch cannot be bound to a second server (see :func:`_bound_launch`), from the process's one
    forkserver (whose preload is the figures' only if nothing started it before); elsewhere they
    are spawned and import the drawing code in their first task.
    """
    ctx = _figure_server_context()
    if ctx is None:
        return forkserver_context([FIGURE_WARMUP], warm=False)
    ctx.server.ensure_running()
    return ctx


def start_figure_server() -> None:
    """Start the figure workers' server now, in the background, when figures will use a pool."""
    if configured_workers() > 1:
        figure_context()


def stop_figure_server() -> None:
    """Stop the figures' own server if it was started (see :func:`.workers.stop_server`)."""
    if _figure_server_context.cache_info().currsize:
        ctx = _figure_server_context()
        if ctx is not None:
            stop_server(ctx.server)


def figure_server_pid() -> int | None:
    """The figures' own server's process id, None before it is started (or where there is none)."""
    ctx = _figure_server_context()
    return None if ctx is None else ctx.server._forkserver_pid


@functools.cache
def _figure_server_context() -> _FigureContext | None:
    """The context of the figures' own forkserver (started by :func:`figure_context`), or None.

    None where the platform has no forkserver or the standard library's launch code is not the
    shape :func:`_bound_launch` expects.
    """
    if "forkserver" not in mp.get_all_start_methods():
        return None
    from multiprocessing import forkserver, popen_forkserver

    bind = _bound_launch(popen_forkserver.Popen._launch, forkserver)
    if bind is None:
        return None
    server = forkserver.ForkServer()
    server.set_forkserver_preload([FIGURE_WARMUP])
    popen = type("FigurePopen", (popen_forkserver.Popen,), {"_launch": bind(server)})
    return _FigureContext(server, popen)


def _bound_launch(launch: Any, module: types.ModuleType) -> Callable[[Any], Any] | None:
    """``launch`` (``popen_forkserver.Popen._launch``) made to ask another server for processes.

    The standard library launches a forkserver process by asking the module-level server
    (``forkserver.connect_to_new_process``). Returned is a factory: given a
    :class:`~multiprocessing.forkserver.ForkServer`, the same code (this Python's own, not a copy)
    run with globals in which the name ``forkserver`` is the module with that server's
    ``connect_to_new_process``. None when the code is not of that shape (no such global, or a
    closure), so that the caller falls back to the one server.
    """
    code = launch.__code__
    if code.co_freevars or not {"forkserver", "connect_to_new_process"} <= set(code.co_names):
        return None

    def bind(server: Any) -> Any:
        via = types.ModuleType(module.__name__)
        via.__dict__.update(vars(module))
        via.connect_to_new_process = server.connect_to_new_process  # type: ignore[attr-defined]
        scope = {**launch.__globals__, "forkserver": via}
        return types.FunctionType(code, scope, launch.__name__, launch.__defaults__)

    return bind


# Windows has no forkserver classes (nor a server: _figure_server_context is None there).
_ForkServerProcess: Any = getattr(mp.context, "ForkServerProcess", mp.process.BaseProcess)
_ForkServerContext: Any = getattr(mp.context, "ForkServerContext", mp.context.BaseContext)


class _FigureProcess(_ForkServerProcess):
    """A process forked from the figures' own server (module level: its children unpickle it)."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:  # noqa: N802 (the standard library's name)
        ctx = _figure_server_context()
        assert ctx is not None, "only made by _FigureContext"
        return ctx.popen(process_obj)


class _FigureContext(_ForkServerContext):
    """The forkserver start method, with the figures' own server.

    Args:
        server: The figures' :class:`~multiprocessing.forkserver.ForkServer`.
        popen: The standard library's forkserver ``Popen``, launching through ``server``.
    """

    Process = _FigureProcess

    def __init__(self, server: Any, popen: type) -> None:
        self.server = server
        self.popen = popen
