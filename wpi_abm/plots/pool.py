"""How many processes draw the figures, and their server started early (no matplotlib here).

Figures are drawn in a pool of processes forked from a multiprocessing forkserver that has
imported the drawing code and drawn a small figure (:mod:`wpi_abm.plots.warmup`). Starting that
server costs about as much as importing matplotlib; ``wpi-abm plot`` starts it first
(:func:`start_figure_server`), so that it gets ready while the command itself imports and checks
the folder, instead of after.
"""

from __future__ import annotations

import multiprocessing as mp
import os

from wpi_abm.experiment.workers import forkserver_context

FIGURE_WARMUP = "wpi_abm.plots.warmup"
"""What the figure workers' server imports before it forks any worker."""


def configured_workers() -> int:
    """Processes asked for: ``WPI_ABM_FIGURE_WORKERS``, else this machine's cores (at least 1).

    ``1`` draws in the calling process, one figure after another.
    """
    configured = os.environ.get("WPI_ABM_FIGURE_WORKERS")
    return max(1, int(configured) if configured else (os.cpu_count() or 1))


def figure_context() -> mp.context.BaseContext:
    """The figure workers' multiprocessing context, its server started now if not already."""
    return forkserver_context([FIGURE_WARMUP], warm=False)


def start_figure_server() -> None:
    """Start the figure workers' server now, in the background, when figures will use a pool."""
    if configured_workers() > 1:
        figure_context()
