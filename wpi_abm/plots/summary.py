"""Entry points: the figures at the end of a run, and ``wpi-abm plot`` on a stored folder.

Both draw every figure of :data:`~wpi_abm.plots.catalogue.CATALOGUE` that the folder allows into
``<results>/figures`` as PDF (fonts embedded, provenance in the metadata) and 300-dpi PNG.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from wpi_abm.plots.catalogue import FigureSpec, Sink, produce, title
from wpi_abm.plots.results import Results
from wpi_abm.plots.style import save
from wpi_abm.schema.experiment import Experiment


def _saver(res: Results, folder: Path) -> Sink:
    meta = res.provenance()

    def sink(spec: FigureSpec, fig: Figure) -> list[str]:
        return save(fig, folder, spec.name, {**meta, "title": title(spec, res.lang)})

    return sink


def draw_run_figures(
    out: Path,
    summary: pd.DataFrame,
    exp: Experiment,
    progress: Callable[[int, int, str, float], None] | None = None,
) -> list[str]:
    """Draw the run's figures into ``out/figures``; returns the files written.

    Called by the experiment driver when a run finishes. A figure that fails is reported on
    standard error and left out rather than failing the run. ``progress`` is passed to
    :func:`~wpi_abm.plots.catalogue.produce`.
    """
    res = Results.from_run(out, summary, exp)
    made, _ = produce(res, _saver(res, Path(out) / "figures"), progress=progress)
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
    res = Results.load(Path(results), lang)
    return produce(res, _saver(res, Path(results) / "figures"), strict=strict, progress=progress)
