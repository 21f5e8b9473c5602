"""Figure 6: cost-effectiveness — cost per centre against P(decline) and the value lost at the end.

One point per policy (and per sweep point). The Pareto frontier — the designs no other design beats
on both cost and the outcome — is taken on the end-of-support outcome (value-years lost after each
centre's own end of support), not on P(decline) at years 11–12: a design that only pays longer
moves the cliff out of the test years without making it any lower, and would otherwise look like
a winner. Lower left is better.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from wpi_abm.outcomes import COST, END, LOSS_END, PRIMARY, Outcome
from wpi_abm.plots.results import Results, Skip
from wpi_abm.plots.style import DOUBLE, err, plt, policy_handle, thousands_axis
from wpi_abm.text import t


def pareto_front(cost: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points (lower cost and lower outcome are better), by cost.

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


def frontier_outcome(summary: pd.DataFrame) -> Outcome:
    """The end-of-support outcome the frontier is drawn on.

    Value-years lost after each centre's own end of support — so that a design that only moves
    the cliff later (``flat_15``) is not a winner for having paid five more years — or, for
    results stored before that outcome was declared, P(decline) at the end of support.

    Raises:
        Skip: The summary holds neither.
    """
    for o in (LOSS_END, END):
        if o.name in summary and summary[o.name].notna().any():
            return o
    raise Skip(f"summary.csv has no {LOSS_END.name} or {END.name} values")


def cost_effectiveness(res: Results) -> Figure:
    """Cost per centre against P(decline) (left) and the end-of-support outcome (right).

    Per policy and point; the Pareto frontier (:func:`frontier_outcome`) is drawn on the right
    and its designs are ringed on both panels.

    Raises:
        Skip: The summary holds no cost, or no end-of-support outcome.
    """
    s = res.summary
    res.require(COST.name, PRIMARY.name)
    if s[COST.name].isna().all():
        raise Skip(f"summary.csv holds no {COST.name} values")
    end = frontier_outcome(s)
    lang = res.lang
    fig, (left, right) = plt.subplots(1, 2, figsize=(DOUBLE, 2.9), sharex=True)
    _points(left, res, PRIMARY)
    _points(right, res, end)
    cost = s[COST.name].to_numpy(float)
    y = _scale(end) * s[end.name].to_numpy(float)
    front = pareto_front(cost, y)
    if len(front):
        right.step(
            cost[front], y[front], where="post", color="0.45", linestyle="--", linewidth=0.8,
            zorder=2,
        )  # fmt: skip
        for ax, values in ((left, 100 * s[PRIMARY.name].to_numpy(float)), (right, y)):
            ax.plot(
                cost[front], values[front], linestyle="none", marker="o", markersize=9,
                markerfacecolor="none", markeredgecolor="0.45", markeredgewidth=0.6, zorder=2,
            )  # fmt: skip
    left.set_ylabel(t("p_decline_axis", lang))
    left.set_ylim(-3, 103)
    right.set_ylabel(t("loss_end_axis" if end is LOSS_END else "p_end_axis", lang))
    if end is END:
        right.set_ylim(-3, 103)
    for ax in (left, right):
        ax.set_xlabel(t("cost_axis", lang))
        thousands_axis(ax, "x")
        ax.grid(linewidth=0.3, alpha=0.4)
    _pad_x(left, cost)
    handles = [policy_handle(res.style(p), res.label(p), line=False) for p in res.policies]
    handles.append(
        Line2D(
            [], [], color="0.45", linestyle="--", linewidth=0.8, marker="o",
            markerfacecolor="none", markersize=7, label=t("frontier", lang),
        )
    )  # fmt: skip
    right.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def _scale(o: Outcome) -> float:
    """Shares are drawn in percent."""
    return 100.0 if o.unit == "share" else 1.0


def _points(ax: plt.Axes, res: Results, o: Outcome) -> None:
    """Each policy's cost against ``o``: with intervals for a run, as a cloud for a sweep."""
    s = res.summary
    k = _scale(o)
    for p in res.policies:
        rows = s[s["policy"] == p]
        st = res.style(p)
        if res.n_points > 1:
            # One marker set per policy: a Sobol design has thousands of points, and intervals
            # on each would hide the cloud.
            ax.plot(
                rows[COST.name], k * rows[o.name], linestyle="none", marker=st["marker"],
                color=st["color"], markeredgecolor=st["markeredgecolor"],
                markersize=3.5 if len(rows) <= 50 else 2.0,
                alpha=0.75 if len(rows) <= 200 else 0.35, zorder=3,
            )  # fmt: skip
            continue
        for _, row in rows.iterrows():
            c, v = row[COST.name], k * row[o.name]
            ax.errorbar(
                c, v,
                xerr=err(c, row.get(COST.low, np.nan), row.get(COST.high, np.nan)),
                yerr=err(v, k * row.get(o.low, np.nan), k * row.get(o.high, np.nan)),
                fmt=st["marker"], color=st["color"], markeredgecolor=st["markeredgecolor"],
                markersize=5, elinewidth=0.9, zorder=3,
            )  # fmt: skip


def _pad_x(ax: plt.Axes, cost: np.ndarray) -> None:
    finite = cost[np.isfinite(cost)]
    if len(finite):
        lo, hi = float(finite.min()), float(finite.max())
        pad = max(0.06 * (hi - lo), 0.02 * max(abs(hi), 1.0))
        ax.set_xlim(lo - pad, hi + pad)


def frontier_policies(summary: pd.DataFrame) -> list[tuple[str, int | None]]:
    """(policy, point) on the Pareto frontier, cheapest first; point is None for a plain run.

    The frontier is taken on cost and the end-of-support outcome (:func:`frontier_outcome`).

    Raises:
        Skip: The summary holds no end-of-support outcome.
    """
    cost = summary[COST.name].to_numpy(float)
    end = summary[frontier_outcome(summary).name].to_numpy(float)
    rows = summary.iloc[pareto_front(cost, end)]
    sweep = "point" in summary and summary["point"].nunique() > 1
    return [(str(r.policy), int(r.point) if sweep else None) for r in rows.itertuples()]
