"""Figure 1: P(decline) per policy with 95% intervals, and the paired difference to the baseline.

When the runs drew their parameters from a posterior, each estimate also carries its total
interval (Monte Carlo and parameters) as a thin, wider bar behind the Monte Carlo one.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from wpi_abm.formats import finite
from wpi_abm.outcomes import END, PRIMARY
from wpi_abm.plots.results import Results, Skip
from wpi_abm.plots.style import DOUBLE, err, hollow_handle, plt
from wpi_abm.text import t

OFFSET = 0.22
"""Vertical offset of the end-of-support estimate below its policy's main estimate."""


def forest(res: Results) -> Figure:
    """P(decline) at the test years (filled) and at the end of support (hollow), per policy.

    With a baseline policy a second panel shows the paired difference against it (percentage
    points, t interval over replicates).

    Raises:
        Skip: The summary holds several parameter points (a sweep; see the sweep figures).
    """
    if res.n_points > 1:
        raise Skip(f"{res.n_points} parameter points: see sweep_response and cost_effectiveness")
    res.require(*PRIMARY.columns)
    p_col, low, high = PRIMARY.columns
    end_col, end_low, end_high = END.columns
    s = res.summary.set_index("policy")
    policies = res.policies
    lang = res.lang
    dec = res.exp.decline
    test = res.test_years_label
    baseline = res.baseline
    y = np.arange(len(policies))[::-1].astype(float)
    has_end = end_col in s and s[end_col].notna().any()
    total = PRIMARY.total_columns
    # Total intervals need two draw groups (26+ replicates); NaN ones are not drawn.
    has_total = total is not None and total[0] in s and s[total[0]].notna().any()
    fig, axes = plt.subplots(
        1,
        2 if baseline else 1,
        # A third legend line (the total interval) needs room above a short list of policies.
        figsize=(DOUBLE, 0.3 * len(policies) + 1.0 + (0.25 if has_total else 0.0)),
        sharey=True,
        squeeze=False,
        width_ratios=[1.15, 1] if baseline else None,
    )
    ax = axes[0, 0]
    for yi, p in zip(y, policies, strict=True):
        row = s.loc[p]
        st = res.style(p)
        v = 100 * row[p_col]
        if has_total and total is not None and finite(row[total[0]]):
            ax.errorbar(
                v,
                yi,
                xerr=err(v, 100 * row[total[0]], 100 * row[total[1]]),
                fmt="none",
                ecolor=st["color"],
                elinewidth=0.6,
                capsize=2.0,
                alpha=0.6,
            )
        ax.errorbar(
            v,
            yi,
            xerr=err(v, 100 * row[low], 100 * row[high]),
            fmt=st["marker"],
            color=st["color"],
            markeredgecolor=st["markeredgecolor"],
            markersize=4.5,
            elinewidth=1.0,
        )
        if has_end and finite(row.get(end_col)):
            e = 100 * row[end_col]
            ax.errorbar(
                e,
                yi - OFFSET,
                xerr=err(e, 100 * row[end_low], 100 * row[end_high]),
                fmt=st["marker"],
                color=st["color"],
                markerfacecolor="white",
                markersize=4,
                elinewidth=0.7,
            )
        elif has_end:
            ax.annotate(
                t("no_end_short", lang),
                (v, yi - OFFSET),
                xytext=(6, -1),
                textcoords="offset points",
                va="center",
                fontsize=6,
                color="0.4",
            )
    ax.set_yticks(y, [res.label(p) for p in policies])
    ax.set_xlim(-3, 103)
    ax.set_ylim(y.min() - 0.6, y.max() + 0.5)
    ax.set_xlabel(t("p_decline_axis2", lang))
    ax.grid(axis="x", linewidth=0.3, alpha=0.5)
    handles = [
        Line2D(
            [],
            [],
            color="black",
            marker="o",
            linestyle="none",
            markersize=4.5,
            label=t("test_label", lang, test=test, ref=dec.reference_year),
        ),
    ]
    if has_end:
        handles.append(hollow_handle(t("end_label", lang)))
    if has_total:
        handles.append(
            Line2D([], [], color="black", linewidth=0.6, alpha=0.6, label=t("total_label", lang))
        )
    ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncols=1,
        borderaxespad=0.2,
        handletextpad=0.3,
    )
    if baseline:
        _differences(axes[0, 1], res, s, policies, y, baseline)
    fig.tight_layout(w_pad=1.0)
    return fig


def _differences(ax: plt.Axes, res: Results, s, policies: list[str], y, baseline: str) -> None:
    """Paired differences in P(decline) against the baseline, in percentage points."""
    col, low, high = PRIMARY.paired_columns(baseline)
    ax.axvline(0, color="0.5", linewidth=0.6)
    for yi, p in zip(y, policies, strict=True):
        st = res.style(p)
        if p == baseline:
            ax.annotate(
                t("baseline", res.lang),
                (0, yi),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color="0.35",
            )
            continue
        row = s.loc[p]
        d = 100 * row[col]
        if not finite(d):
            continue
        ax.errorbar(
            d,
            yi,
            xerr=err(d, 100 * row[low], 100 * row[high]),
            fmt=st["marker"],
            color=st["color"],
            markeredgecolor=st["markeredgecolor"],
            markersize=4.5,
            elinewidth=1.0,
        )
    ax.set_xlabel(t("diff_axis", res.lang, base=res.label(baseline)))
    ax.grid(axis="x", linewidth=0.3, alpha=0.5)
    ax.tick_params(axis="y", length=0)
