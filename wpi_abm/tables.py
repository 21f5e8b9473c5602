"""The plain-text tables ``wpi-abm`` prints: a run's summary, a sweep's first rows, the indices.

Numbers are written by :mod:`wpi_abm.formats`, the same rules as the HTML report's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from wpi_abm.formats import money, number, pct, pct_ci, points_ci
from wpi_abm.outcomes import COST, DEPTH, END, PRIMARY
from wpi_abm.schema.sweep import RANKED_BY

if TYPE_CHECKING:
    import pandas as pd

    from wpi_abm.policy import PolicyDesign

NA = "n/a"
"""How the terminal tables write an unknown value."""


def format_summary(
    summary: pd.DataFrame, policies: Mapping[str, PolicyDesign], baseline: str | None
) -> str:
    """The table printed at the end of a run (one row per policy)."""
    p, low, high = PRIMARY.columns
    diff, diff_low, diff_high = PRIMARY.paired_columns(baseline) if baseline else (None,) * 3
    has_diff = diff is not None and diff in summary
    head = f"{'policy':<40} {'P(decline) % [95% CI]':>23}"
    if has_diff:
        head += f" {'vs ' + str(baseline) + ' (pp) [95% CI]':>27}"
    head += f" {'depth %':>8} {'cost/centre M¥':>15} {'P(end) %':>9}"
    lines = [head, "-" * len(head)]
    for _, r in summary.iterrows():
        label = policies[r["policy"]].display if r["policy"] in policies else r["policy"]
        if "point" in summary.columns:
            label = f"[{r['point']}] {label}"
        line = f"{label[:40]:<40} {pct_ci(r[p], r[low], r[high], width=5, missing=NA)}"
        if has_diff:
            d = (
                "—"
                if r["policy"] == baseline
                else points_ci(r[diff], r[diff_low], r[diff_high], width=6)
            )
            line += f" {d:>27}"
        line += f" {pct(r[DEPTH.name], missing=NA):>8} {money(r[COST.name]):>15}"
        line += f" {pct(r[END.name], width=5, missing=NA):>9}"
        lines.append(line)
    return "\n".join(lines)


def format_sweep(summary: pd.DataFrame, parameters: list[str], rows: int = 30) -> str:
    """The first rows of a sweep summary: parameters, policy, P(decline) [CI], depth, cost."""
    cols = ["point", *parameters, "policy", "n", *PRIMARY.columns]
    cols += [c for c in (DEPTH.name, COST.name) if c in summary]
    table = summary[[c for c in cols if c in summary]].head(rows)
    table = table.rename(columns={p: p.rsplit(".", 1)[-1] for p in parameters})
    text = table.to_string(index=False, float_format=lambda x: number(x, 3))
    if len(summary) > rows:
        text += f"\n... {len(summary) - rows} more rows in summary.csv"
    return text


def format_indices(indices: pd.DataFrame) -> str:
    """Sensitivity indices as a table, most influential first."""
    lines = []
    for (policy, output, method), group in indices.groupby(
        ["policy", "output", "method"], sort=False
    ):
        lines.append(f"\n{policy} — {output} — {method}")
        g = group.sort_values(RANKED_BY[method], ascending=False)
        if method == "sobol":
            lines.append(f"  {'parameter':<48} {'S1 [±95%]':>16} {'ST [±95%]':>16}")
            for _, r in g.iterrows():
                lines.append(
                    f"  {r['parameter'][:48]:<48} {r['S1']:7.3f} ±{r['S1_conf']:6.3f}"
                    f" {r['ST']:7.3f} ±{r['ST_conf']:6.3f}"
                )
        else:
            lines.append(f"  {'parameter':<48} {'mu* [±95%]':>18} {'sigma':>9}")
            for _, r in g.iterrows():
                lines.append(
                    f"  {r['parameter'][:48]:<48} {r['mu_star']:9.4f} ±{r['mu_star_conf']:7.4f}"
                    f" {r['sigma']:9.4f}"
                )
    return "\n".join(lines)
