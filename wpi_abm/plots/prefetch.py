"""A run's finished policies' panel aggregates, read while its last chunks still run.

At the end of a run a core is idle for a while on a small machine: one worker has finished its
last chunk while another is still simulating its own (~0.7 s on the default experiment, 2 cores),
then the driver summarises every run (~0.6 s) before the figures start — and the figures begin
with the panel pass (:mod:`wpi_abm.plots.panel`, ~2.2 CPU-s for nine policies of 1,000 runs).
So, as soon as fewer chunks are left than there are workers, one figure worker starts reading the
aggregates of every policy whose chunks are all stored (:class:`PanelPrefetch`); the figures keep
what it read (:meth:`~wpi_abm.plots.results.Results.keep_panel`) and their pool reads only the
rest.

Nothing changes in what is drawn: a complete policy's files no longer change, and its aggregates
are those :func:`~wpi_abm.plots.panel.read_policy_panel` gives whoever calls it. A policy the
prefetch has not finished when the figures start is read by the figure pool as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
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
    """One figure worker reading complete policies' panel aggregates, a policy per task.

    Args:
        root: The results folder.
        exp: The experiment (its horizon and decline definition).
        policies: Each policy to read, with the indices of its chunks (all stored).
    """

    def __init__(self, root: Path, exp: Experiment, policies: dict[str, list[int]]) -> None:
        folder = ResultFolder(root)
        # One worker: it takes an idle core, not one a simulating worker needs.
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=figure_context())
        self._futures: dict[str, Future[PolicyPanel | None]] = {}
        for policy, indices in policies.items():
            names = [folder.chunk_name(i) for i in indices]
            files = {
                RUNS: {policy: [folder.runs / n for n in names]},
                OUTCOMES: {policy: [folder.outcomes / n for n in names]},
            }
            self._futures[policy] = self._pool.submit(
                read_policy_panel, files, policy, exp.horizon, exp.decline
            )

    def take(self) -> dict[str, PolicyPanel | None]:
        """The aggregates read so far (and the one being read), the rest left to the figures.

        Policies not yet started are cancelled; one that raised is left out (the figure pool
        reads it again and reports what is wrong there, as it does without a prefetch).
        """
        for future in self._futures.values():
            future.cancel()
        panels: dict[str, PolicyPanel | None] = {}
        for policy, future in self._futures.items():
            if future.cancelled():
                continue
            try:
                panels[policy] = future.result()
            except Exception:
                continue
        self.close()
        return panels

    def close(self) -> None:
        """Stop the worker (what it has not started is cancelled)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def start_prefetch(
    root: Path, exp: Experiment, chunks: Iterable[Chunk], stored: set[int], n_points: int
) -> PanelPrefetch | None:
    """A :class:`PanelPrefetch` of the policies complete now, or None where none would help.

    None when the run stores no panel, is a sweep (its figures read no panel), draws its
    figures in this process (one figure worker), or has no complete policy yet.
    """
    if not exp.output.panel or n_points > 1 or configured_workers() <= 1:
        return None
    policies = complete_policies(chunks, stored)
    return PanelPrefetch(root, exp, policies) if policies else None
