"""Figure 6: cost-effectiveness — government cost per centre against P(decline).

One point per policy (and per sweep point), with the Pareto frontier: the designs no other design
beats on both cost and P(decline). Lower left is better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from wpi_abm.outcomes import COST, PRIMARY
from wpi_abm.plots.results import Results, Skip
from wpi_abm.plots.style import DOUBLE, err, plt, policy_handle, thousands_axis
from wpi_abm.text import t


def pareto_front(cost: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points (lower cost and lower P are better), by cost.

    Both outcomes are declared lower-is-better in :mod:`wpi_abm.outcomes`.

    A point is dominated when another is no worse on both and better on one.
    """
    ok = np.flatnonzero(np.isfinite(cost) & np.isfinite(p))
    order = ok[np.lexsort((p[ok], cost[ok]))]
    front: list[int] = []
    best = np.inf
    for i in order:
        if p[i] < best:
            front.append(int(i))
            best = p[i]
    return np.asarray(front, dtype=int)


def cost_effectiveness(res: Results) -> Figure:
    """Cost per centre (M yen) against P(decline), per policy and point, with the frontier.

    Raises:
        Skip: The summary holds no cost.
    """
    s = res.summary
    res.require(COST.name, PRIMARY.name)
    if s[COST.name].isna().all():
        raise Skip(f"summary.csv holds no {COST.name} values")
    lang = res.lang
    sweep = res.n_points > 1
    fig, ax = plt.subplots(figsize=(DOUBLE, 2.9))
    for p in res.policies:
        rows = s[s["policy"] == p]
        st = res.style(p)
        if sweep:
            # One marker set per policy: a Sobol design has thousands of points, and intervals
            # on each would hide the cloud.
            ax.plot(
                rows[COST.name],
                100 * rows[PRIMARY.name],
                linestyle="none",
                marker=st["marker"],
                color=st["color"],
                markeredgecolor=st["markeredgecolor"],
                markersize=3.5 if len(rows) <= 50 else 2.0,
                alpha=0.75 if len(rows) <= 200 else 0.35,
                zorder=3,
            )
            continue
        for _, row in rows.iterrows():
            c, v = row[COST.name], 100 * row[PRIMARY.name]
            ax.errorbar(
                c,
                v,
                xerr=err(c, row.get(COST.low, np.nan), row.get(COST.high, np.nan)),
                yerr=err(v, 100 * row[PRIMARY.low], 100 * row[PRIMARY.high]),
                fmt=st["marker"],
                color=st["color"],
                markeredgecolor=st["markeredgecolor"],
                markersize=5,
                elinewidth=0.9,
                zorder=3,
            )
    cost = s[COST.name].to_numpy(float)
    prob = 100 * s[PRIMARY.name].to_numpy(float)
    front = pareto_front(cost, prob)
    if len(front):
        ax.step(
            cost[front],
            prob[front],
            where="post",
            color="0.45",
            linestyle="--",
            linewidth=0.8,
            zorder=2,
        )
        ax.plot(
            cost[front],
            prob[front],
            linestyle="none",
            marker="o",
            markersize=9,
            markerfacecolor="none",
            markeredgecolor="0.45",
            markeredgewidth=0.6,
            zorder=2,
        )
    ax.set_xlabel(t("cost_axis", lang))
    ax.set_ylabel(t("p_decline_axis", lang))
    thousands_axis(ax, "x")
    ax.set_ylim(-3, 103)
    _pad_x(ax, cost)
    ax.grid(linewidth=0.3, alpha=0.4)
    handles = [policy_handle(res.style(p), res.label(p), line=False) for p in res.policies]
    handles.append(
        Line2D(
            [],
            [],
            color="0.45",
            linestyle="--",
            linewidth=0.8,
            marker="o",
            markerfacecolor="none",
            markersize=7,
            label=t("frontier", lang),
        )
    )
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def _pad_x(ax: plt.Axes, cost: np.ndarray) -> None:
    finite = cost[np.isfinite(cost)]
    if len(finite):
        lo, hi = float(finite.min()), float(finite.max())
        pad = max(0.06 * (hi - lo), 0.02 * max(abs(hi), 1.0))
        ax.set_xlim(lo - pad, hi + pad)


def frontier_policies(summary: pd.DataFrame) -> list[tuple[str, int | None]]:
    """(policy, point) on the Pareto frontier, cheapest first; point is None for a plain run."""
    cost = summary[COST.name].to_numpy(float)
    prob = summary[PRIMARY.name].to_numpy(float)
    rows = summary.iloc[pareto_front(cost, prob)]
    sweep = "point" in summary and summary["point"].nunique() > 1
    return [(str(r.policy), int(r.point) if sweep else None) for r in rows.itertuples()]
