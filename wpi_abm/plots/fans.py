"""Figure 3: fan charts over support years, one panel per policy.

Median with the central 50% and 90% of centre-runs, for the value index, researchers (domestic
and foreign), personnel cost and papers. The reference year of the decline test and the design's
end of support are marked, so that the cliff (or its absence) lines up across policies.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from wpi_abm.plots.panel import QUANTILES
from wpi_abm.plots.results import Results
from wpi_abm.plots.style import DOUBLE, grid_shape, plt, top_legend
from wpi_abm.text import t

FANS = ("value_index", "researchers", "personnel_cost", "papers")
"""One figure per entry; ``researchers`` shows the domestic and foreign fans together."""
BAND_ALPHA = (0.16, 0.34)
"""Opacity of the 90% and 50% bands."""


def _axis_label(res: Results, indicator: str) -> str:
    if indicator == "value_index":
        a, b = res.exp.decline.baseline_years
        return t("value_index", res.lang, a=a, b=b)
    return t(indicator, res.lang)


def small_multiples(
    n: int, height: float = 1.5, *, sharex: bool = True, sharey: bool = True
) -> tuple[Figure, list[plt.Axes]]:
    """A grid of ``n`` panels sharing the axes (unless told), spare cells removed."""
    rows, cols = grid_shape(n)
    fig, grid = plt.subplots(
        rows,
        cols,
        figsize=(DOUBLE, rows * height + 0.55),
        sharex=sharex,
        sharey=sharey,
        squeeze=False,
        layout="constrained",
    )
    axes = list(grid.ravel())
    for k, ax in enumerate(axes):
        if k >= n:
            ax.set_visible(False)
            # The panel above a removed one is now the bottom of its column: give it the ticks.
            if sharex:
                grid.ravel()[k - cols].xaxis.set_tick_params(labelbottom=True)
    return fig, axes[:n]


@contextmanager
def autoscale_once(axes: Sequence[plt.Axes]) -> Iterator[None]:
    """Autoscale ``axes``' view limits once, after what the block draws, not after each fill.

    Adding a fill (``fill_between``, ``stackplot``) first brings the view limits up to date
    (matplotlib 3.11's ``add_collection``), and for a panel sharing its axes with eight others
    that means autoscaling over all nine panels' data for every band, for limits that the next
    fill makes stale again (``autoscale_view`` took 0.58 CPU-s of the ten figures of a 9,000-run
    folder, 0.06 with this). Autoscaling is off while the block draws and requested again after
    it, so the limits are computed once, from the same data limits and margins: the same figure.

    Set limits after the block, not in it: leaving it turns autoscaling back on for every axes
    that had it, which would undo them.

    Args:
        axes: The panels of one figure (all of a shared group, so none autoscales meanwhile).
    """
    on = [(ax.get_autoscalex_on(), ax.get_autoscaley_on()) for ax in axes]
    for ax in axes:
        ax.set_autoscale_on(False)
    try:
        yield
    finally:
        for ax, (x, y) in zip(axes, on, strict=True):
            ax.autoscale(x, axis="x")
            ax.autoscale(y, axis="y")


def mark_years(ax: plt.Axes, res: Results, policy: str) -> None:
    """The reference year (solid grey) and the design's end of support (dotted black)."""
    ref = res.exp.decline.reference_year
    ax.axvline(ref, color="0.6", linewidth=0.6, zorder=0)
    end = res.end_of_support(policy)
    if end is not None and end != ref and end <= res.exp.horizon:
        ax.axvline(end, color="0.2", linewidth=0.7, linestyle=":", zorder=0)


def _band(ax: plt.Axes, years: np.ndarray, q: np.ndarray, colour: str, line: object) -> None:
    lo90, lo50, mid, hi50, hi90 = (q[QUANTILES.index(p)] for p in (5, 25, 50, 75, 95))
    ax.fill_between(years, lo90, hi90, color=colour, alpha=BAND_ALPHA[0], linewidth=0)
    ax.fill_between(years, lo50, hi50, color=colour, alpha=BAND_ALPHA[1], linewidth=0)
    ax.plot(years, mid, color=colour, linestyle=line, linewidth=1.2)


def fan(res: Results, indicator: str) -> Figure:
    """Fan chart of one indicator (see :data:`FANS`), one panel per policy.

    Raises:
        Skip: No panel (see :meth:`Results.require_panel`).
    """
    policies = res.require_panel()
    lang = res.lang
    fig, axes = small_multiples(len(policies))
    with autoscale_once(fig.axes):
        for ax, p in zip(axes, policies, strict=True):
            pp = res.panel(p)
            assert pp is not None
            colour = str(res.style(p)["color"])
            mark_years(ax, res, p)
            if indicator == "researchers":
                _band(ax, pp.years, pp.fans["domestic"], colour, "-")
                _band(ax, pp.years, pp.fans["foreign"], colour, (0, (3, 1.5)))
            else:
                _band(ax, pp.years, pp.fans[indicator], colour, "-")
            ax.set_title(res.label(p), loc="left", fontsize=7.5, pad=2)
            ax.grid(linewidth=0.3, alpha=0.4)
    fig.supylabel(_axis_label(res, indicator))
    fig.supxlabel(t("support_year", lang))
    axes[0].set_xlim(1, res.exp.horizon)
    if indicator != "value_index":
        axes[0].set_ylim(bottom=0)
    handles = _legend(res, indicator)
    top_legend(fig, handles, columnspacing=1.2)
    return fig


def _legend(res: Results, indicator: str) -> list[object]:
    lang = res.lang
    handles: list[object] = [
        Line2D([], [], color="0.2", label=t("median", lang)),
        Patch(color="0.2", alpha=BAND_ALPHA[1], linewidth=0, label=t("band50", lang)),
        Patch(color="0.2", alpha=BAND_ALPHA[0], linewidth=0, label=t("band90", lang)),
    ]
    if indicator == "researchers":
        handles[0] = Line2D(
            [], [], color="0.2", label=f"{t('domestic', lang)} ({t('median', lang)})"
        )
        handles.insert(
            1,
            Line2D(
                [],
                [],
                color="0.2",
                linestyle=(0, (3, 1.5)),
                label=f"{t('foreign', lang)} ({t('median', lang)})",
            ),
        )
    handles.append(
        Line2D(
            [],
            [],
            color="0.6",
            linewidth=0.6,
            label=t("ref_year", lang, ref=res.exp.decline.reference_year),
        )
    )
    handles.append(
        Line2D([], [], color="0.2", linewidth=0.7, linestyle=":", label=t("end_support", lang))
    )
    return handles


def fan_value_index(res: Results) -> Figure:
    """Fan chart of the value index."""
    return fan(res, "value_index")


def fan_researchers(res: Results) -> Figure:
    """Fan chart of researchers, domestic and foreign."""
    return fan(res, "researchers")


def fan_personnel_cost(res: Results) -> Figure:
    """Fan chart of personnel cost (M yen per year)."""
    return fan(res, "personnel_cost")


def fan_papers(res: Results) -> Figure:
    """Fan chart of papers per year."""
    return fan(res, "papers")
