"""The programme by fiscal year, and P(decline) centre by centre (scenarios of real centres).

Both figures read the tables of :mod:`wpi_abm.experiment.fiscal` (``by_fiscal_year.csv`` and
``by_centre.csv``), which a run writes for a cohort with a fiscal calendar; elsewhere they are
skipped with the reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from wpi_abm.experiment.store import BY_CENTRE, BY_FISCAL_YEAR
from wpi_abm.plots.results import Results, Skip
from wpi_abm.plots.style import DOUBLE, plt, policy_handle, thousands_axis
from wpi_abm.reference import subsidy_by_fiscal_year
from wpi_abm.text import t

SUBSIDY_COLOUR = "#0072B2"
MATCHING_COLOUR = "#E69F00"


def _table(res: Results, name: str) -> pd.DataFrame:
    table = res.folder.read_table(name)
    if table is None or table.empty:
        raise Skip(f"no {name}: the cohort has no fiscal calendar (cohort.first_fiscal_year)")
    table["policy"] = table["policy"].astype(str)
    return table


def programme_by_fiscal_year(res: Results) -> Figure:
    """Government cost per fiscal year, and centres below their reference level, per policy.

    Subsidy and matching are stacked, with the record's subsidy (FY2014–FY2022) as dots.
    """
    table = _table(res, BY_FISCAL_YEAR)
    policies = [p for p in res.policies if p in set(table["policy"])]
    lang = res.lang
    record = subsidy_by_fiscal_year()
    fig, axes = plt.subplots(
        2, len(policies), figsize=(DOUBLE, 4.6), sharex=True, sharey="row", squeeze=False
    )
    for k, policy in enumerate(policies):
        g = table[table["policy"] == policy].sort_values("fiscal_year")
        fy = g["fiscal_year"].to_numpy()
        top, bottom = axes[0, k], axes[1, k]
        top.stackplot(
            fy,
            g["subsidy"].to_numpy(),
            g["matching"].to_numpy(),
            colors=[SUBSIDY_COLOUR, MATCHING_COLOUR],
            alpha=0.8,
            labels=[t("subsidy", lang), t("matching", lang)],
        )
        top.plot(
            list(record),
            list(record.values()),
            "o",
            color="black",
            markersize=3,
            label=t("record", lang),
        )
        top.set_title(res.label(policy), fontsize="medium")
        thousands_axis(top, "y")
        st = res.style(policy)
        bottom.fill_between(
            fy, g["below_p05"], g["below_p95"], color=st["color"], alpha=0.15, linewidth=0
        )
        bottom.fill_between(
            fy, g["below_ci_low"], g["below_ci_high"], color=st["color"], alpha=0.45, linewidth=0
        )
        bottom.plot(fy, g["below"], color=st["color"], linestyle=st["linestyle"])
        for other in policies:
            if other != policy:
                o = table[table["policy"] == other].sort_values("fiscal_year")
                bottom.plot(o["fiscal_year"], o["below"], color="0.6", linewidth=0.8)
        bottom.set_xlabel(t("fiscal_year", lang))
    axes[0, 0].set_ylabel(t("government_cost", lang))
    axes[1, 0].set_ylabel(t("centres_below", lang))
    axes[0, 0].legend(loc="upper right", frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def centre_forest(res: Results) -> Figure:
    """P(decline) per centre and policy, with Wilson 95% intervals (centres by start year)."""
    table = _table(res, BY_CENTRE)
    policies = [p for p in res.policies if p in set(table["policy"])]
    lang = res.lang
    centres = list(dict.fromkeys(table.sort_values("start", kind="stable")["centre"]))
    n, m = len(centres), len(policies)
    fig, ax = plt.subplots(figsize=(DOUBLE * 0.62, 0.26 * n + 1.2))
    base = np.arange(n)[::-1].astype(float)
    offsets = (np.arange(m) - (m - 1) / 2) * 0.28
    for k, policy in enumerate(policies):
        g = table[table["policy"] == policy].set_index("centre").reindex(centres)
        st = res.style(policy)
        p = 100 * g["p_decline"].to_numpy()
        low = 100 * g["ci_low"].to_numpy()
        high = 100 * g["ci_high"].to_numpy()
        ax.errorbar(
            p,
            base + offsets[k],
            xerr=[np.maximum(0, p - low), np.maximum(0, high - p)],
            fmt=st["marker"],
            color=st["color"],
            markeredgecolor=st["markeredgecolor"],
            markersize=4,
            capsize=0,
            linewidth=1,
        )
    starts = table.drop_duplicates("centre").set_index("centre")["start"]
    ax.set_yticks(base, [f"{c} ({starts[c]})" for c in centres])
    ax.set_xlim(-2, 102)
    ax.set_xlabel(t("p_decline_centre", lang))
    ax.legend(
        [policy_handle(res.style(p), res.label(p), line=False) for p in policies],
        [res.label(p) for p in policies],
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        frameon=False,
        fontsize="small",
        ncol=1,
    )
    fig.tight_layout()
    return fig
