"""Warm figure workers: the drawing code imported, fonts loaded, base font subsets made.

The figure workers fork from a forkserver of their own that imports this module
(:func:`wpi_abm.plots.pool.figure_context`). Importing it runs :func:`warm` once, in the server:
it imports the drawing code and saves a small figure as PDF and PNG into memory, so that what
every worker would otherwise do before its first figure — load the fonts, import the PDF and PNG
writers and fontTools, make the base font subset (:mod:`wpi_abm.plots.fonts`) — is done once, and
each worker starts with it. Warming draws nothing of any results folder and changes no figure: it
only fills caches that hold the same thing whoever fills them.
"""

from __future__ import annotations

import gc
import sys
from io import BytesIO


def warm() -> None:
    """Import the drawing code and save one small figure as PDF and PNG, into memory.

    A failure only costs speed (each worker then pays it before its first figure), so it is
    reported on standard error, never raised.
    """
    try:
        import wpi_abm.plots.summary  # noqa: F401 (what a figure task runs: the pool's side)
        from wpi_abm.plots.catalogue import import_drawing_code
        from wpi_abm.plots.style import plt, render, style

        with style():
            fig, ax = plt.subplots(figsize=(2, 1.5), layout="constrained")
            ax.plot([1, 2, 3], [0, 1, 0])
            ax.set_title("Staff effect (700 M ¥ × 10)", loc="left")
            render(fig, BytesIO(), BytesIO(), {}, {})  # as every figure is saved (style.save)
            plt.close(fig)
        # The catalogue names each figure's module ("module:function"); import them all, last,
        # so that a module that fails to import (reported below) costs only its own import.
        import_drawing_code()
    except Exception as exc:  # pragma: no cover - only speed is at stake
        print(f"wpi-abm: warming figure workers failed ({exc!r})", file=sys.stderr)
    # What was loaded lives as long as the server and its workers: out of the collector's way
    # (as the model's workers do: experiment.warmup), so that a worker's full collections walk
    # only what its figures made (~143,000 objects fewer, gc.get_freeze_count(): 0.81-0.92 ->
    # 0.45-0.61 CPU-s collecting over the ten run figures, gc.callbacks), and do not write to —
    # and so copy — the pages it shares with the server.
    gc.freeze()


warm()
