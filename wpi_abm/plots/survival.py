"""Figure 5: time to decline — the share of centres still above the θ line, by year.

A centre-run "survives" while its value index has stayed at or above 1 − θ of its reference-year
value in every year since the reference year (first passage, no recovery counted). The shaded
years are those of the decline test.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from wpi_abm.plots.results import Results
from wpi_abm.plots.style import DOUBLE, plt, policy_handle
from wpi_abm.text import t


def survival(res: Results) -> Figure:
    """Survival curves of the value index above the decline threshold, one line per policy.

    Raises:
        Skip: No panel (see :meth:`Results.require_panel`).
    """
    policies = res.require_panel()
    lang = res.lang
    dec = res.exp.decline
    fig, ax = plt.subplots(figsize=(DOUBLE, 2.7))
    lo, hi = min(dec.test_years) - dec.reference_year, max(dec.test_years) - dec.reference_year
    ax.axvspan(lo - 0.5, hi + 0.5, color="0.92", linewidth=0, zorder=0)
    for p in policies:
        pp = res.panel(p)
        assert pp is not None
        st = res.style(p)
        k = np.arange(len(pp.survival))
        ax.step(k, 100 * pp.survival, where="post", color=st["color"], linestyle=st["linestyle"])
        # Markers on the steps keep policies apart in greyscale where lines coincide.
        ax.plot(
            k,
            100 * pp.survival,
            linestyle="none",
            marker=st["marker"],
            color=st["color"],
            markeredgecolor=st["markeredgecolor"],
            markersize=3,
            markevery=2,
        )
    ax.set_xlim(0, res.exp.horizon - dec.reference_year)
    ax.set_ylim(-2, 102)
    ax.set_xlabel(t("years_after", lang, ref=dec.reference_year))
    ax.set_ylabel(t("survival_axis", lang))
    ax.grid(linewidth=0.3, alpha=0.4)
    handles = [policy_handle(res.style(p), res.label(p)) for p in policies]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig
