"""P(decline) as a curve over the threshold θ, one line per design.

A single threshold saturates: at θ = 10% nearly every design whose subsidy halves declines, and
the test cannot tell a shallow dip from a collapse. Drawn over θ = 5…50%, a design whose centres
lose a little and one whose centres lose half part company; the 95% band is the Wilson interval
(runs as clusters) of each point.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from wpi_abm.outcomes import CURVE, CURVE_THETAS
from wpi_abm.plots.results import Results, Skip
from wpi_abm.plots.style import DOUBLE, plt, policy_handle
from wpi_abm.text import t


def decline_curve(res: Results) -> Figure:
    """P(decline) against θ per policy, with 95% bands.

    Raises:
        Skip: A sweep (one curve per point would hide the designs), or a summary without the
            curve's columns (results stored before it was declared).
    """
    if res.n_points > 1:
        raise Skip(f"{res.n_points} parameter points: the curve compares designs at one point")
    res.require(*(c for o in CURVE for c in o.columns))
    s = res.summary.set_index("policy")
    x = 100 * np.asarray(CURVE_THETAS)
    fig, ax = plt.subplots(figsize=(DOUBLE, 2.8))
    for p in res.policies:
        row = s.loc[p]
        st = res.style(p)
        ax.fill_between(
            x,
            [100 * row[o.low] for o in CURVE],
            [100 * row[o.high] for o in CURVE],
            color=st["color"],
            alpha=0.12,
            linewidth=0,
        )
        ax.plot(
            x,
            [100 * row[o.name] for o in CURVE],
            color=st["color"],
            linestyle=st["linestyle"],
            marker=st["marker"],
            markeredgecolor=st["markeredgecolor"],
            markersize=3.5,
        )
    ax.axvline(100 * res.exp.decline.theta, color="0.6", linewidth=0.6, linestyle=":")
    ax.set_xticks(x, [f"{v:g}" for v in x])
    ax.set_xlabel(t("theta_axis", res.lang, ref=res.exp.decline.reference_year))
    ax.set_ylabel(t("p_decline_axis", res.lang))
    ax.set_ylim(-3, 103)
    ax.grid(linewidth=0.3, alpha=0.4)
    handles = [policy_handle(res.style(p), res.label(p)) for p in res.policies]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig
