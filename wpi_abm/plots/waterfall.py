"""The waterfall of ``wpi-abm decompose``: from one design's level to another's, element by element.

One panel per headline outcome: FROM's level (a grey bar), each element's contribution floating
from where the previous one ended (with its paired 95% interval), TO's level (a dark bar).
Contributions that improve the outcome (lower for a lower-is-better outcome) are Okabe–Ito blue,
those that worsen it vermilion and hatched, so the reading survives greyscale print.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from wpi_abm.decompose import DECOMPOSITION
from wpi_abm.outcomes import BY_NAME, Outcome, label
from wpi_abm.plots.fans import small_multiples
from wpi_abm.plots.results import Results, Skip
from wpi_abm.plots.style import plt, save, style, thousands_axis, top_legend
from wpi_abm.text import t

BETTER, WORSE = "#0072B2", "#D55E00"
"""Okabe–Ito blue and vermilion: an element that improves the outcome, one that worsens it."""
FROM_GREY, TO_GREY = "0.7", "0.35"
TOTAL = "total"


def waterfall(res: Results) -> Figure:
    """The waterfall of a decomposition folder (catalogue entry).

    Raises:
        Skip: The folder holds no ``decomposition.csv`` (only ``wpi-abm decompose`` writes one).
    """
    path = res.root / DECOMPOSITION
    if not path.is_file():
        raise Skip(f"no {DECOMPOSITION} (written by `wpi-abm decompose FROM TO`)")
    table = pd.read_csv(path)
    names = res.policies
    start = res.label(names[0]) if names else "FROM"
    end = res.label(names[-1]) if names else "TO"
    return waterfall_figure(table, start, end, res.lang)


def _scale(o: Outcome) -> float:
    return 100.0 if o.unit == "share" else 1.0


def _unit(o: Outcome, lang: str) -> str:
    return {"share": "%", "myen": t("unit_myen", lang), "years": t("unit_years", lang)}.get(
        o.unit, o.unit.replace("_", "-")
    )


def waterfall_figure(table: pd.DataFrame, start: str, end: str, lang: str = "en") -> Figure:
    """Draw the waterfall of ``table`` (``decomposition.csv``).

    Args:
        table: Rows per outcome: one per element and a ``total`` row, with ``from_level`` and
            ``to_level``.
        start: FROM's label.
        end: TO's label.
        lang: Label language.
    """
    outcomes = [o for o in dict.fromkeys(table["outcome"]) if o in BY_NAME]
    # Each outcome has its own unit: nothing is shared.
    fig, axes = small_multiples(len(outcomes), height=1.9, sharex=False, sharey=False)
    for ax, name in zip(axes, outcomes, strict=True):
        _panel(ax, table[table["outcome"] == name], BY_NAME[name], start, end, lang)
    handles = [
        Patch(facecolor=FROM_GREY, label=start),
        Patch(facecolor=BETTER, label=t("improves", lang)),
        Patch(facecolor=WORSE, hatch="///", edgecolor="white", label=t("worsens", lang)),
        Patch(facecolor=TO_GREY, label=end),
    ]
    top_legend(fig, handles)
    return fig


def _panel(ax: plt.Axes, rows: pd.DataFrame, o: Outcome, start: str, end: str, lang: str) -> None:
    k = _scale(o)
    parts = rows[rows["element"] != TOTAL]
    first = float(rows["from_level"].iloc[0]) * k
    last = float(rows["to_level"].iloc[0]) * k
    x = np.arange(len(parts) + 2)
    ax.bar(x[0], first, color=FROM_GREY, width=0.7)
    level = first
    for xi, (_, r) in zip(x[1:-1], parts.iterrows(), strict=True):
        step = float(r["contribution"]) * k
        good = (step < 0) == (o.better == "lower")
        ax.bar(
            xi, step, bottom=level, width=0.7, color=BETTER if good else WORSE,
            hatch=None if good else "///", edgecolor="white", linewidth=0,
        )  # fmt: skip
        low, high = float(r["ci_low"]) * k, float(r["ci_high"]) * k
        if np.isfinite(low) and np.isfinite(high):
            top = level + step
            ax.errorbar(
                xi, top, yerr=[[max(0.0, step - low)], [max(0.0, high - step)]], color="0.15",
                elinewidth=0.8, capsize=2, fmt="none",
            )  # fmt: skip
        ax.plot([xi - 1.35, xi + 0.35], [level, level], color="0.5", linewidth=0.5)
        level += step
    ax.plot([x[-1] - 1.35, x[-1] - 0.35], [level, level], color="0.5", linewidth=0.5)
    ax.bar(x[-1], last, color=TO_GREY, width=0.7)
    ticks = ["FROM", *(e.replace("_", " ") for e in parts["element"]), "TO"]
    ax.set_xticks(x, ticks, rotation=40, ha="right", fontsize=6)
    ax.set_title(f"{label(o.name, lang)} ({_unit(o, lang)})", fontsize=7)
    if o.unit == "myen":
        thousands_axis(ax, "y")
    ax.axhline(0, color="0.4", linewidth=0.5)
    ax.grid(axis="y", linewidth=0.3, alpha=0.4)
    values = [first, last, *np.cumsum([first, *(k * parts["contribution"].to_numpy(float))])]
    lo, hi = min(0.0, *values), max(values)
    pad = 0.08 * (hi - lo or 1.0)
    ax.set_ylim(lo - (pad if lo < 0 else 0), hi + pad)


def draw_waterfall(folder: Path, table: pd.DataFrame, start: str, end: str) -> list[str]:
    """Save the waterfall as ``folder/decomposition.{pdf,png}``; returns the files written."""
    with style("en"):
        fig = waterfall_figure(table, start, end)
        title = f"Decomposition: {start} → {end}"
        return save(fig, folder, "decomposition", {"title": title, "creator": "wpi-abm"})
