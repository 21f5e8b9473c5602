"""Figure 5: time to decline — the share of centres still above the θ line, by year.

A centre-run "survives" while its value index has stayed at or above 1 − θ of its reference-year
value in every year since the reference year (first passage, no recovery counted).

One panel per policy, not one line each on a shared axis: most designs lose nearly every centre
within two years, and nine curves piled near zero could not be told apart. Each panel repeats the
baseline design as a thin grey line for comparison and writes the share left at the horizon
beside the curve's end, so that values near zero stay readable. The shaded years are those of the
decline test, named in the legend.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from wpi_abm.plots.fans import small_multiples
from wpi_abm.plots.results import Results
from wpi_abm.plots.style import plt, top_legend
from wpi_abm.text import t

BAND_COLOUR = "0.90"
"""Fill of the decline test's years."""
BASELINE_COLOUR = "0.65"


def survival(res: Results) -> Figure:
    """Survival curves of the value index above the decline threshold, one panel per policy.

    Raises:
        Skip: No panel (see :meth:`Results.require_panel`).
    """
    policies = res.require_panel()
    dec = res.exp.decline
    ref = dec.reference_year
    base = res.baseline if res.baseline in policies else None
    fig, axes = small_multiples(len(policies), height=1.45)
    lo, hi = min(dec.test_years) - ref, max(dec.test_years) - ref
    for ax, p in zip(axes, policies, strict=True):
        ax.axvspan(lo - 0.5, hi + 0.5, color=BAND_COLOUR, linewidth=0, zorder=0)
        end = res.end_of_support(p)
        if end is not None and ref < end <= res.exp.horizon:
            ax.axvline(end - ref, color="0.2", linewidth=0.7, linestyle=":", zorder=1)
        if base is not None and p != base:
            _curve(ax, res, base, color=BASELINE_COLOUR, linewidth=0.8, zorder=2)
        _curve(ax, res, p, zorder=3, label_end=True)
        ax.set_title(res.label(p), loc="left", fontsize=7.5, pad=2)
        ax.grid(linewidth=0.3, alpha=0.4)
    axes[0].set_xlim(0, res.exp.horizon - ref + 0.5)
    axes[0].set_ylim(-4, 104)
    axes[0].set_yticks([0, 50, 100])
    fig.supxlabel(t("years_after", res.lang, ref=ref))
    fig.supylabel(t("survival_axis", res.lang))
    top_legend(fig, _legend(res, base), columnspacing=1.2)
    return fig


def _curve(
    ax: plt.Axes, res: Results, policy: str, *, label_end: bool = False, **style: object
) -> None:
    """One policy's survival steps (in its own colour and line unless ``style`` says otherwise)."""
    pp = res.panel(policy)
    assert pp is not None
    own = res.style(policy)
    y = 100 * np.asarray(pp.survival, dtype=float)
    k = np.arange(len(y))
    ax.step(
        k,
        y,
        where="post",
        color=style.pop("color", own["color"]),
        linestyle=own["linestyle"] if label_end else "-",
        **style,
    )
    if label_end and len(y):
        # The share left at the horizon, written out: 2% and 0% look alike on a 0–100 axis.
        ax.annotate(
            f"{y[-1]:.0f}%",
            (k[-1], y[-1]),
            xytext=(2, 3 if y[-1] < 50 else -3),
            textcoords="offset points",
            ha="right",
            va="bottom" if y[-1] < 50 else "top",
            fontsize=6.5,
            color=str(own["color"]),
        )


def _legend(res: Results, base: str | None) -> list[object]:
    lang = res.lang
    handles: list[object] = [
        Patch(color=BAND_COLOUR, linewidth=0, label=t("test_band", lang, test=res.test_years_label))
    ]
    if base is not None:
        handles.append(
            Line2D(
                [],
                [],
                color=BASELINE_COLOUR,
                linewidth=0.8,
                label=t("baseline_of", lang, label=res.label(base)),
            )
        )
    handles.append(
        Line2D([], [], color="0.2", linewidth=0.7, linestyle=":", label=t("end_support", lang))
    )
    return handles
