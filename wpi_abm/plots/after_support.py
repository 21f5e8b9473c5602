"""Figure 2: the seed's own chart — personnel cost and papers after support ends.

MEXT measured each centre's personnel cost and paper count in the 1st and 2nd year after its
support ended, relative to its last supported year. Here the same ratio is taken for every
centre-run (last supported year = outcomes.end_year), and its median and 5–95% range over
centre-runs is shown per policy.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from wpi_abm.plots.panel import AFTER_INDICATORS, AFTER_QUANTILES
from wpi_abm.plots.results import Results, Skip
from wpi_abm.plots.style import DOUBLE, err, hollow_handle, plt, top_legend
from wpi_abm.text import t

OFFSET = 0.2
"""Vertical distance between the 1st-year and 2nd-year estimates of one policy."""


def after_support(res: Results) -> Figure:
    """Per policy: personnel cost and papers 1 and 2 years after support, % of the last year.

    Raises:
        Skip: No panel, or no centre-run's support ended early enough to measure.
    """
    policies = res.require_panel()
    panels = {p: res.panel(p) for p in policies}
    if not any(pp is not None and pp.after_n > 0 for pp in panels.values()):
        raise Skip("no centre-run's support ended before the horizon (nothing to measure after it)")
    lang = res.lang
    lo, mid, hi = (AFTER_QUANTILES.index(q) for q in (5.0, 50.0, 95.0))
    y = np.arange(len(policies))[::-1].astype(float)
    fig, axes = plt.subplots(
        1,
        len(AFTER_INDICATORS),
        figsize=(DOUBLE, 0.3 * len(policies) + 1.0),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    threshold = 100 * (1 - res.exp.decline.theta)
    for ax, name in zip(axes[0], AFTER_INDICATORS, strict=True):
        ax.axvline(100, color="0.5", linewidth=0.6)
        ax.axvline(threshold, color="0.5", linewidth=0.6, linestyle="--")
        for yi, p in zip(y, policies, strict=True):
            pp = panels[p]
            st = res.style(p)
            if pp is None or pp.after_n == 0:
                ax.text(
                    0.5,
                    yi,
                    t("no_end", lang),
                    transform=ax.get_yaxis_transform(),
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="0.35",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
                )
                continue
            q = pp.after[name]
            for j, hollow in enumerate((False, True)):
                if not np.isfinite(q[mid, j]):
                    continue
                ax.errorbar(
                    q[mid, j],
                    yi - j * OFFSET,
                    xerr=err(q[mid, j], q[lo, j], q[hi, j]),
                    fmt=st["marker"],
                    color=st["color"],
                    markerfacecolor="white" if hollow else st["color"],
                    markeredgecolor=st["color"] if hollow else st["markeredgecolor"],
                    markersize=4.5 if not hollow else 4,
                    elinewidth=1.0 if not hollow else 0.7,
                )
        ax.set_xlabel(f"{t(name + '_short', lang)} ({t('pct_last_year', lang)})")
        ax.grid(axis="x", linewidth=0.3, alpha=0.5)
    axes[0, 0].set_yticks(y, [res.label(p) for p in policies])
    axes[0, 0].set_ylim(y.min() - 0.6, y.max() + 0.5)
    for ax in axes[0, 1:]:
        ax.tick_params(axis="y", length=0)
    handles = [
        Line2D(
            [],
            [],
            color="black",
            marker="o",
            linestyle="none",
            markersize=4.5,
            label=t("after_1", lang),
        ),
        hollow_handle(t("after_2", lang)),
        Line2D(
            [], [], color="black", marker="|", markersize=5, linewidth=1.0, label=t("range90", lang)
        ),
        Line2D(
            [],
            [],
            color="0.5",
            linewidth=0.6,
            linestyle="--",
            label=t("theta_line", lang, theta=f"{100 * res.exp.decline.theta:g}"),
        ),
    ]
    top_legend(fig, handles, ncols=4)
    fig.tight_layout(w_pad=1.0)
    return fig
