"""Figure 7: how P(decline) responds to the swept levers.

One lever: P(decline) against it, with its 95% band, one line per policy. Several levers: one
panel per lever, every point shown (the spread at one value is what the other levers do). Two
levers on a full grid: also a heatmap per policy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from wpi_abm.outcomes import PRIMARY
from wpi_abm.plots.fans import small_multiples
from wpi_abm.plots.results import Results, Skip, parameter_label
from wpi_abm.plots.style import DOUBLE, grid_shape, plt, policy_handle, top_legend
from wpi_abm.text import t

MAX_ANNOTATED_CELLS = 144
"""Heatmaps with more cells than this carry no numbers in the cells (unreadable in print)."""
MAX_INTERVAL_CELLS = 36
"""Heatmaps with at most this many cells also write each cell's 95% interval under its value."""


def _levers(res: Results) -> list[str]:
    if res.n_points < 2:
        raise Skip("not a sweep (one parameter point)")
    params = res.parameters
    if not params:
        raise Skip("summary.csv has no swept-parameter columns")
    res.require(PRIMARY.name)
    return params


def _numeric(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values)) and not pd.api.types.is_bool_dtype(values)


def _positions(values: pd.Series) -> tuple[np.ndarray, list[object] | None]:
    """Positions of lever values on the x axis: the values, or ranks for categorical levers."""
    if _numeric(values):
        return values.to_numpy(float), None
    levels = list(dict.fromkeys(values))
    return values.map({v: i for i, v in enumerate(levels)}).to_numpy(float), levels


def sweep_response(res: Results) -> Figure:
    """P(decline) against each swept lever, per policy.

    Raises:
        Skip: Not a sweep, or no parameter columns.
    """
    params = _levers(res)
    if len(params) == 1:
        return _one_lever(res, params[0])
    return _many_levers(res, params)


def _one_lever(res: Results, key: str) -> Figure:
    s = res.summary
    fig, ax = plt.subplots(figsize=(DOUBLE, 2.7))
    levels = None
    for p in res.policies:
        rows = s[s["policy"] == p]
        x, levels = _positions(rows[key])
        order = np.argsort(x, kind="stable")
        st = res.style(p)
        x = x[order]
        if {PRIMARY.low, PRIMARY.high} <= set(rows.columns):
            ax.fill_between(
                x,
                100 * rows[PRIMARY.low].to_numpy(float)[order],
                100 * rows[PRIMARY.high].to_numpy(float)[order],
                color=st["color"],
                alpha=0.15,
                linewidth=0,
            )
        ax.plot(
            x,
            100 * rows[PRIMARY.name].to_numpy(float)[order],
            color=st["color"],
            linestyle=st["linestyle"],
            marker=st["marker"],
            markeredgecolor=st["markeredgecolor"],
            markersize=3.5,
        )
    if levels is not None:
        ax.set_xticks(range(len(levels)), [str(v) for v in levels])
    ax.set_xlabel(parameter_label(key))
    ax.set_ylabel(t("p_decline_axis", res.lang))
    _probability_limits(ax, res)
    ax.grid(linewidth=0.3, alpha=0.4)
    handles = [policy_handle(res.style(p), res.label(p)) for p in res.policies]
    if {PRIMARY.low, PRIMARY.high} <= set(s.columns):
        handles.append(Patch(color="0.3", alpha=0.15, linewidth=0, label=t("ci95", res.lang)))
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def _many_levers(res: Results, params: list[str]) -> Figure:
    s = res.summary
    has_ci = {PRIMARY.low, PRIMARY.high} <= set(s.columns)
    # Levers have their own units: only the P(decline) axis is shared.
    fig, axes = small_multiples(len(params), height=1.7, sharex=False)
    for ax, key in zip(axes, params, strict=True):
        levels = None
        offsets = _dodge(s, key, res.policies)
        for p in res.policies:
            rows = s[s["policy"] == p]
            x, levels = _positions(rows[key])
            x = x + offsets[rows.index].to_numpy(float)
            y = 100 * rows[PRIMARY.name].to_numpy(float)
            st = res.style(p)
            yerr = None
            if has_ci:
                # Each point's 95% interval; several points share a lever value (the other
                # levers vary), so they are set side by side to keep the bars apart.
                low = 100 * rows[PRIMARY.low].to_numpy(float)
                high = 100 * rows[PRIMARY.high].to_numpy(float)
                yerr = np.clip(np.vstack([y - low, high - y]), 0, None)
            ax.errorbar(
                x,
                y,
                yerr=yerr,
                linestyle="none",
                marker=st["marker"],
                color=st["color"],
                markeredgecolor=st["markeredgecolor"],
                markersize=2.8,
                elinewidth=0.6,
                capsize=0,
                alpha=0.8,
            )
        if levels is not None:
            ax.set_xticks(range(len(levels)), [str(v) for v in levels])
        ax.set_xlabel(parameter_label(key))
        ax.grid(linewidth=0.3, alpha=0.4)
    fig.supylabel(t("p_decline_axis", res.lang))
    _probability_limits(axes[0], res)
    handles = [policy_handle(res.style(p), res.label(p), line=False) for p in res.policies]
    if has_ci:
        handles.append(_interval_handle(res.lang))
    top_legend(fig, handles, ncols=min(len(handles), 3))
    return fig


def _dodge(s: pd.DataFrame, key: str, policies: list[str]) -> pd.Series:
    """Horizontal offsets that set the points sharing a lever value side by side.

    Points of a grid share each value of a lever (one per value of the other levers, and per
    policy); a sampled design's values are all different and get offsets of almost nothing.
    """
    x, _ = _positions(s[key])
    distinct = np.unique(x[np.isfinite(x)])
    gap = float(np.min(np.diff(distinct))) if len(distinct) > 1 else 1.0
    order = s["policy"].map({p: i for i, p in enumerate(policies)}).fillna(len(policies))
    slot = pd.Series(x, index=s.index).to_frame("x").assign(policy=order.to_numpy())
    slot = slot.sort_values(["x", "policy"], kind="stable")
    rank = slot.groupby("x").cumcount()
    size = slot.groupby("x")["x"].transform("size")
    width = 0.6 * gap  # the share of the gap between lever values the points of one value use
    offsets = (rank - (size - 1) / 2) * width / size.clip(lower=1)
    return offsets.reindex(s.index)


def _interval_handle(lang: str) -> Line2D:
    """Legend entry for the points' error bars."""
    return Line2D(
        [], [], color="0.3", marker="|", markersize=7, linestyle="none", label=t("ci95", lang)
    )


def _probability_limits(ax: plt.Axes, res: Results) -> None:
    """0–100% when the values are probabilities; left to autoscale otherwise (analytic tests)."""
    p = res.summary[PRIMARY.name].to_numpy(float)
    p = p[np.isfinite(p)]
    if len(p) and p.min() >= 0 and p.max() <= 1:
        ax.set_ylim(-3, 103)


def grid_levels(res: Results) -> tuple[str, str, list[object], list[object]]:
    """The two levers of a full two-lever grid and their values.

    Raises:
        Skip: Not a sweep, not two levers, or the points do not form a full grid.
    """
    params = _levers(res)
    if len(params) != 2:
        raise Skip(f"a heatmap needs exactly two swept levers (this sweep has {len(params)})")
    a, b = params
    s = res.summary
    levels_a = sorted(s[a].unique()) if _numeric(s[a]) else list(dict.fromkeys(s[a]))
    levels_b = sorted(s[b].unique()) if _numeric(s[b]) else list(dict.fromkeys(s[b]))
    for p in res.policies:
        rows = s[s["policy"] == p]
        if len(rows) != len(levels_a) * len(levels_b) or rows.duplicated([a, b]).any():
            raise Skip(
                f"the points do not form a full {len(levels_a)} × {len(levels_b)} grid of the "
                f"two levers (design: {res.design or 'unknown'})"
            )
    return a, b, levels_a, levels_b


def sweep_heatmap(res: Results) -> Figure:
    """P(decline) over a two-lever grid, one heatmap per policy on one colour scale.

    Raises:
        Skip: See :func:`grid_levels`.
    """
    a, b, levels_a, levels_b = grid_levels(res)
    s = res.summary
    policies = res.policies
    rows_n, cols = grid_shape(len(policies))
    fig, grid = plt.subplots(
        rows_n, cols, figsize=(DOUBLE, rows_n * 1.9 + 0.5), squeeze=False, sharex=True, sharey=True
    )
    axes = list(grid.ravel())
    for ax in axes[len(policies) :]:
        ax.set_visible(False)
    cells = len(levels_a) * len(levels_b)
    annotate = cells <= MAX_ANNOTATED_CELLS
    intervals = cells <= MAX_INTERVAL_CELLS and {PRIMARY.low, PRIMARY.high} <= set(s.columns)
    image = None
    for k, (ax, p) in enumerate(zip(axes, policies, strict=True)):
        rows = s[s["policy"] == p]
        cell = (rows, a, b, levels_a, levels_b)
        z = _cells(*cell, PRIMARY.name)
        low = _cells(*cell, PRIMARY.low) if intervals else None
        high = _cells(*cell, PRIMARY.high) if intervals else None
        image = ax.imshow(z, origin="lower", aspect="auto", cmap="cividis", vmin=0, vmax=100)
        if annotate:
            for (i, j), v in np.ndenumerate(z):
                if not np.isfinite(v):
                    continue
                text = f"{v:.0f}"
                if low is not None and high is not None and np.isfinite(low[i, j] + high[i, j]):
                    text += f"\n{low[i, j]:.0f}–{high[i, j]:.0f}"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=5.5 if low is not None else 6,
                    linespacing=1.0,
                    color="black" if v > 55 else "white",
                )
        ax.set_title(res.label(p), loc="left", fontsize=7.5, pad=2)
        ax.set_xticks(range(len(levels_a)), [f"{v:g}" if _isnum(v) else str(v) for v in levels_a])
        ax.set_yticks(range(len(levels_b)), [f"{v:g}" if _isnum(v) else str(v) for v in levels_b])
        ax.spines[["top", "right"]].set_visible(True)
        if k % cols == 0:
            ax.set_ylabel(parameter_label(b))
        if k >= len(policies) - cols:
            ax.set_xlabel(parameter_label(a))
            ax.xaxis.set_tick_params(labelbottom=True)
    fig.tight_layout(h_pad=0.8, w_pad=0.8, rect=(0, 0, 0.9, 1))
    cax = fig.add_axes((0.92, 0.2, 0.015, 0.6))
    bar = fig.colorbar(image, cax=cax)
    bar.set_label(t("colorbar_p", res.lang))
    return fig


def _cells(
    rows: pd.DataFrame, a: str, b: str, levels_a: list[object], levels_b: list[object], column: str
) -> np.ndarray:
    """``column`` (in %) over the grid: rows are ``b``'s levels, columns ``a``'s."""
    table = rows.pivot_table(index=b, columns=a, values=column, aggfunc="first")
    return 100 * table.reindex(index=levels_b, columns=levels_a).to_numpy(float)


def _isnum(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
