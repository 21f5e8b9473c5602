"""A run's finished policies' panel aggregates, read while its last chunks still run.

At the end of a run on a small machine a core idles for a while: one worker has finished its last
chunk while another is still simulating its own (~0.7 s on the default experiment with 2 workers,
sampled from ``/proc``), then the driver summarises every run (~0.6 s) before the figures start —
and the figures begin with the panel pass (:mod:`wpi_abm.plots.panel`). So once fewer chunks are
left than there are workers, one figure worker starts reading the aggregates of the policies whose
chunks are all stored, one policy after another (:class:`PanelPrefetch`); the figures keep what it
has read when they start (:meth:`~wpi_abm.plots.results.Results.keep_panel`) and their pool reads
the rest. (Where the executor has cut its last chunks into parts for many workers, cores may
still be busy then: the prefetch is one process more among them.)

Nothing changes in what is drawn: a complete policy's files no longer change, and its aggregates
are those :func:`~wpi_abm.plots.panel.read_policy_panel` gives whoever calls it. The prefetch is
for speed only: whatever goes wrong in it, the figure pool reads that policy as it would anyway.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from wpi_abm.experiment.store import OUTCOMES, RUNS, ResultFolder
from wpi_abm.plots.panel import PolicyPanel, read_policy_panel
from wpi_abm.plots.pool import configured_workers, figure_context

if TYPE_CHECKING:
    from wpi_abm.experiment.plan import Chunk
    from wpi_abm.schema.experiment import Experiment


def complete_policies(chunks: Iterable[Chunk], stored: set[int]) -> dict[str, list[int]]:
    """Policies all of whose chunks are in ``stored``, with their chunks' indices (in order).

    Args:
        chunks: Every chunk of the experiment.
        stored: Indices of the chunks stored (found intact on disk, or stored by this run).
    """
    by_policy: dict[str, list[int]] = {}
    for c in chunks:
        by_policy.setdefault(c.policy, []).append(c.index)
    return {p: idx for p, idx in by_policy.items() if all(i in stored for i in idx)}


class PanelPrefetch:
    """One figure worker reading complete policies' panel aggregates, one policy at a time.

    A thread hands the worker one policy, waits for it, then hands it the next: so at most one
    policy is ever being read, and stopping (:meth:`take`, :meth:`close`) waits for at most that
    one. The thread, not the caller, starts the worker, which waits for the figure server to be
    warm.

    Args:
        root: The results folder.
        exp: The experiment (its horizon and decline definition).
        policies: Each policy to read, with the indices of its chunks (all stored).
    """

    def __init__(self, root: Path, exp: Experiment, policies: dict[str, list[int]]) -> None:
        folder = ResultFolder(root)
        self._tasks = []
        for policy, indices in policies.items():
            names = [folder.chunk_name(i) for i in indices]
            files = {
                RUNS: {policy: [folder.runs / n for n in names]},
                OUTCOMES: {policy: [folder.outcomes / n for n in names]},
            }
            self._tasks.append((files, policy, exp.horizon, exp.decline))
        self._panels: dict[str, PolicyPanel | None] = {}
        self._stop = threading.Event()
        # One worker: it takes the idle core, not one a simulating worker needs.
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=figure_context())
        self._thread = threading.Thread(target=self._read, name="panel-prefetch", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for task in self._tasks:
            if self._stop.is_set():
                return
            try:
                self._panels[task[1]] = self._pool.submit(read_policy_panel, *task).result()
            except Exception:
                return  # the figure pool reads it (and says what is wrong there)

    def take(self) -> dict[str, PolicyPanel | None]:
        """The aggregates read so far, and the one being read; the rest are left to the figures."""
        self._stop.set()
        self._thread.join()
        self.close()
        return dict(self._panels)

    def close(self) -> None:
        """Stop: no policy is started after this (the one being read finishes in the worker).

        Never raises: a pool that cannot be shut down cleanly costs nothing the run needs.
        """
        self._stop.set()
        with contextlib.suppress(Exception):
            self._pool.shutdown(wait=False, cancel_futures=True)


def start_prefetch(
    root: Path, exp: Experiment, chunks: Iterable[Chunk], stored: set[int], n_points: int
) -> PanelPrefetch | None:
    """A :class:`PanelPrefetch` of the policies complete now, or None where none would help.

    None when the run stores no panel, is a sweep (its figures read no panel), draws its figures
    in this process (one figure worker), has no complete policy yet, or the worker cannot be
    started (the figures then read every policy, as without a prefetch).
    """
    if not exp.output.panel or n_points > 1 or configured_workers() <= 1:
        return None
    policies = complete_policies(chunks, stored)
    if not policies:
        return None
    try:
        return PanelPrefetch(root, exp, policies)
    except Exception:
        return None
