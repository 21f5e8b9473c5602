"""Figure 4: a centre's income by source over the years, stacked, one panel per policy.

Stable sources are stacked at the bottom and programme money on top, so that what remains when
the programme stops reads directly off the lower layers. Sources take a sequential (cividis)
palette rather than the policy colours, so a source is never mistaken for a policy; cividis is
colour-blind safe and monotonic in lightness, so the layers also separate in greyscale.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from wpi_abm.plots.fans import autoscale_once, mark_years, small_multiples
from wpi_abm.plots.results import Results
from wpi_abm.plots.style import top_legend
from wpi_abm.text import t

HATCH_COLOUR = "0.25"
STACK = (
    "income_host",
    "income_grants",
    "income_company",
    "income_endowment",
    "income_matching",
    "income_subsidy",
)
"""Sources from the bottom of the stack to the top."""


# Position on the cividis scale (0 dark … 1 light) and hatch per source: neighbours in the stack
# differ in lightness, and the thin layers carry a hatch, so each layer is told apart in greyscale.
LOOK = {
    "income_host": (0.95, ""),
    "income_grants": (0.6, ""),
    "income_company": (0.8, "...."),
    "income_endowment": (0.4, "xxxx"),
    "income_matching": (0.25, "////"),
    "income_subsidy": (0.0, ""),
}


def source_colours() -> dict[str, tuple[float, ...]]:
    """A fixed colour per income source (programme money darkest)."""
    cmap = colormaps["cividis"]
    return {s: cmap(LOOK[s][0]) for s in STACK}


def income(res: Results) -> Figure:
    """Mean income per centre by source and year, stacked, per policy (M yen per year).

    Raises:
        Skip: No panel (see :meth:`Results.require_panel`).
    """
    policies = res.require_panel()
    lang = res.lang
    colours = source_colours()
    fig, axes = small_multiples(len(policies))
    with autoscale_once(fig.axes):
        for ax, p in zip(axes, policies, strict=True):
            pp = res.panel(p)
            assert pp is not None
            layers = [np.nan_to_num(pp.income[s]) for s in STACK]
            polys = ax.stackplot(
                pp.years,
                layers,
                colors=[colours[s] for s in STACK],
                edgecolor="white",
                linewidth=0.3,
            )
            for poly, s in zip(polys, STACK, strict=True):
                if LOOK[s][1]:
                    poly.set_hatch(LOOK[s][1])
                    poly.set_edgecolor(HATCH_COLOUR)
            mark_years(ax, res, p)
            for line in ax.lines:
                line.set_zorder(3)
            ax.set_title(res.label(p), loc="left", fontsize=7.5, pad=2)
    fig.supylabel(t("income_axis", lang))
    fig.supxlabel(t("support_year", lang))
    axes[0].set_xlim(1, res.exp.horizon)
    axes[0].set_ylim(bottom=0)
    handles = [
        Patch(
            facecolor=colours[s],
            hatch=LOOK[s][1],
            edgecolor=HATCH_COLOUR if LOOK[s][1] else "white",
            label=t(s, lang),
        )
        for s in STACK
    ][::-1]
    top_legend(fig, handles, columnspacing=1.2)
    return fig
