"""Entry points: the figures at the end of a run, and ``wpi-abm plot`` on a stored folder.

Both draw every figure of :data:`~wpi_abm.plots.catalogue.CATALOGUE` that the folder allows into
``<results>/figures`` as PDF (fonts embedded, provenance in the metadata) and 300-dpi PNG.

**In parallel.** Almost all of the time goes to matplotlib — laying out ticks and text, rendering
at 300 dpi, subsetting fonts into each PDF — not to the data: the panel's aggregates for all
figures come from one pass per policy (:meth:`~wpi_abm.plots.results.Results.panel`). Figures are
independent, so on a machine with several cores they are drawn in a pool of processes
(:func:`figure_workers`): first the panel pass, one policy per task, then one figure per task,
heaviest first, each process drawing from the aggregates (a few hundred kB) it is sent. The files
are those a single process writes; progress lines still come in catalogue order.

**Who reads the panel.** This process reads policies until the pool has a worker up, and the
pool the rest (:func:`_read_panels`). At the end of a run the workers' server has been warm for a
while and the pool reads (nearly) all of them; ``wpi-abm plot`` starts that server as it starts,
and while it imports matplotlib for ~3 s on another core this process reads the panel. This
process imports no matplotlib (the catalogue names the drawing functions, imported by whoever
draws).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING

from wpi_abm.experiment.store import MANIFEST
from wpi_abm.plots.catalogue import (
    CATALOGUE,
    Drawn,
    FigureSpec,
    Sink,
    collect,
    draw_figure,
    produce,
    title,
)
from wpi_abm.plots.panel import PolicyPanel
from wpi_abm.plots.pool import configured_workers, figure_context, start_figure_server
from wpi_abm.plots.results import Results

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from wpi_abm.schema.experiment import Experiment

HEAVY_FIRST = ("income", "researchers", "value_index", "personnel_cost", "papers", "survival")
"""Figures of many panels, which take longest (measured on a 9,000-run folder): started first so
that the pool does not wait on one of them at the end."""


def _saver(res: Results, folder: Path) -> Sink:
    from wpi_abm.plots.style import save

    meta = res.provenance()

    def sink(spec: FigureSpec, fig: Figure) -> list[str]:
        return save(fig, folder, spec.name, {**meta, "title": title(spec, res.lang)})

    return sink


def draw_run_figures(
    out: Path,
    summary: pd.DataFrame,
    exp: Experiment,
    progress: Callable[[int, int, str, float], None] | None = None,
    panels: dict[str, PolicyPanel | None] | None = None,
) -> list[str]:
    """Draw the run's figures into ``out/figures``; returns the files written.

    Called by the experiment driver when a run finishes. A figure that fails is reported on
    standard error and left out rather than failing the run. ``progress`` is passed to
    :func:`~wpi_abm.plots.catalogue.produce`; ``panels`` are policies' panel aggregates read
    already (:mod:`wpi_abm.plots.prefetch`), which are not read again.
    """
    res = Results.from_run(out, summary, exp)
    for policy, panel in (panels or {}).items():
        res.keep_panel(policy, panel)
    made, _ = draw_files(res, Path(out) / "figures", progress=progress)
    return made


def plot_results(
    results: Path,
    lang: str = "en",
    *,
    strict: bool = False,
    progress: Callable[[int, int, str, float], None] | None = None,
) -> tuple[list[str], list[tuple[str, str]]]:
    """Draw the figures of a stored results folder without re-running anything.

    Args:
        results: The results folder.
        lang: Label language, ``en`` or ``ja`` (Japanese needs ``matplotlib-fontja``).
        strict: Raise on a drawing error instead of reporting the figure as skipped.
        progress: Called after each figure drawn (see :func:`~wpi_abm.plots.catalogue.produce`).

    Returns:
        File names written (in ``results/figures``), and (figure, reason) for figures that could
        not be drawn.

    Raises:
        ResultsError: The folder holds no finished results.
    """
    if (Path(results) / MANIFEST).is_file():
        # The workers' server imports for ~3 s on another core while this process reads the
        # folder (started here unless the caller, `wpi-abm plot`, has started it already). Not
        # for a folder that is no results folder: the error comes at once, no server lingers.
        start_figure_server()
    res = Results.load(Path(results), lang)
    return draw_files(res, Path(results) / "figures", strict=strict, progress=progress)


def figure_workers() -> int:
    """Processes that draw figures: the cores of this machine, at most one per figure.

    ``WPI_ABM_FIGURE_WORKERS`` overrides it (1: draw in this process, one after another).
    """
    return min(configured_workers(), len(CATALOGUE))


def draw_files(
    res: Results,
    folder: Path,
    *,
    strict: bool = False,
    progress: Callable[[int, int, str, float], None] | None = None,
    workers: int | None = None,
) -> tuple[list[str], list[tuple[str, str]]]:
    """Draw every figure the folder allows into ``folder`` (PDF and PNG).

    Args:
        res: The results folder.
        folder: Where the files go.
        strict: Raise a drawing error instead of reporting the figure as skipped.
        progress: See :func:`~wpi_abm.plots.catalogue.produce`; called in catalogue order.
        workers: Processes (default :func:`figure_workers`); 1 draws here.

    Returns:
        File names written, in catalogue order, and (figure, reason) for figures not drawn.
    """
    workers = workers or figure_workers()
    if workers <= 1:
        return produce(res, _saver(res, folder), strict=strict, progress=progress)
    # The figures' own forkserver (plots.pool), warm: from it a process starts in milliseconds,
    # the drawing code imported, instead of a fresh interpreter's seconds. `wpi-abm plot` and a
    # run's driver have started it already (pool.start_figure_server), so that it has been
    # warming meanwhile.
    ctx = figure_context()
    position = {spec.name: i for i, spec in enumerate(CATALOGUE)}
    order = sorted(CATALOGUE, key=lambda s: (s.name not in HEAVY_FIRST, position[s.name]))
    drawn: list[Drawn | None] = [None] * len(CATALOGUE)
    made: list[str] = []
    skipped: list[tuple[str, str]] = []
    reported = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        _read_panels(res, pool)
        pending: dict[Future[Drawn], int] = {
            pool.submit(_draw_into, res, spec.name, folder): position[spec.name] for spec in order
        }
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    drawn[pending.pop(future)] = future.result()
                # Report (and raise, when strict) in catalogue order, as the prefix completes.
                while reported < len(drawn) and (d := drawn[reported]) is not None:
                    reported += 1
                    collect(d, reported, made, skipped, strict=strict, progress=progress)
        finally:
            for future in pending:
                future.cancel()
    return made, skipped


def _read_panels(res: Results, pool: Executor) -> None:
    """The panel pass into ``res``'s cache (shared by every figure), one policy at a time.

    Policies are read in this process until the pool has a worker up, the rest by the pool, a
    policy per task. Right after ``wpi-abm plot`` has started the figure server, its workers are
    ~3 s away (the server imports matplotlib on another core) and this process would otherwise
    wait idle; at the end of a run the server is warm and the pool reads (nearly) all of them,
    in parallel. The aggregates are the same whoever reads them. Policies whose aggregates
    ``res`` holds already are not read again.
    """
    if not res.has_panel or res.n_points > 1:
        return  # the panel figures skip such folders without reading the panel
    todo = [p for p in res.policies if not res.has_panel_of(p)]
    if not todo:
        return  # all kept already (read while the run's last chunks ran: plots.prefetch)
    res.panel_files()  # indexed here once, not in every task
    up = _worker_up(pool)
    while todo and not up.is_set():
        res.panel(todo.pop(0))  # read here, and kept in res
    for policy, panel in zip(todo, pool.map(_panel_of, [res] * len(todo), todo), strict=True):
        res.keep_panel(policy, panel)


def _worker_up(pool: Executor) -> threading.Event:
    """An event set once ``pool`` has run a task: a worker is up.

    Also set when the pool is broken (its next use raises that where it is handled). Asked from
    a thread: starting a forkserver's first worker waits for the server to finish importing.
    """
    up = threading.Event()

    def ask() -> None:
        with contextlib.suppress(Exception):  # a broken pool: see above
            pool.submit(int).result()
        up.set()

    threading.Thread(target=ask, name="figure-pool-up", daemon=True).start()
    return up


def _panel_of(res: Results, policy: str) -> PolicyPanel | None:
    return res.panel(policy)


def _draw_into(res: Results, name: str, folder: Path) -> Drawn:
    spec = next(s for s in CATALOGUE if s.name == name)
    return draw_figure(res, spec, _saver(res, folder))
