"""The plain-text tables ``wpi-abm`` prints: a run's summary, a sweep's first rows, the indices.

Numbers are written by :mod:`wpi_abm.formats`, the same rules as the HTML report's.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING

from wpi_abm.formats import finite, money, money_ci, number, pct, pct_ci, points_ci
from wpi_abm.outcomes import (
    COST,
    COST_PER_VALUE_YEAR,
    DEPTH,
    END,
    LOSS,
    LOSS_END,
    PRIMARY,
    Outcome,
    outcome,
)
from wpi_abm.schema.sweep import RANKED_BY

if TYPE_CHECKING:
    import pandas as pd

    from wpi_abm.policy import PolicyDesign
    from wpi_abm.schema.experiment import DeclineSpec

NA = "n/a"
"""How the terminal tables write an unknown value."""
LABEL_WIDTH = 40
"""Width of the policy column; a longer label wraps onto more lines (never cut)."""


def wrap_label(label: str, width: int = LABEL_WIDTH) -> list[str]:
    """A policy label as lines of at most ``width`` characters, continued lines indented."""
    return textwrap.wrap(label, width, subsequent_indent="  ", break_on_hyphens=False) or [""]


def format_summary(
    summary: pd.DataFrame, policies: Mapping[str, PolicyDesign], baseline: str | None
) -> str:
    """The table printed at the end of a run (one row per policy).

    When the runs drew their parameters from a posterior, P(decline) gets a second interval,
    the total one (Monte Carlo and parameters) next to the Monte Carlo one.
    """
    p, low, high = PRIMARY.columns
    total_low, total_high = PRIMARY.total_columns or ("", "")
    has_total = total_low in summary and summary[total_low].notna().any()
    diff, diff_low, diff_high = PRIMARY.paired_columns(baseline) if baseline else (None,) * 3
    has_diff = diff is not None and diff in summary
    head = f"{'policy':<{LABEL_WIDTH}} {'P(decline) % [95% CI]':>23}"
    if has_total:
        head += f" {'total [95% CI]':>14}"
    if has_diff:
        head += f" {'vs ' + str(baseline) + ' (pp) [95% CI]':>27}"
    head += f" {'depth %':>8} {'cost/centre M¥':>15} {'P(end) %':>9}"
    lines = [head, "-" * len(head)]
    for _, r in summary.iterrows():
        label, *more = _label(r, policies)
        line = f"{label:<{LABEL_WIDTH}} {pct_ci(r[p], r[low], r[high], width=5, missing=NA)}"
        if has_total:
            line += f" {_interval(r[total_low], r[total_high]):>14}"
        if has_diff:
            d = (
                "—"
                if r["policy"] == baseline
                else points_ci(r[diff], r[diff_low], r[diff_high], width=6)
            )
            line += f" {d:>27}"
        line += f" {pct(r[DEPTH.name], missing=NA):>8} {money(r[COST.name]):>15}"
        line += f" {pct(r[END.name], width=5, missing=NA):>9}"
        lines += [line, *more]
    return "\n".join(lines)


def total_note(summary: pd.DataFrame) -> str:
    """The line under the run table saying what the total interval adds ("" without one)."""
    low = (PRIMARY.total_columns or ("",))[0]
    if low not in summary or summary[low].isna().all():
        return ""
    return textwrap.fill(
        "total: the 95% interval with the parameters' posterior uncertainty added to the Monte "
        "Carlo one (each group of replicates drew its parameters from the posterior).",
        width=100,
    )


def _interval(low: object, high: object) -> str:
    """A bare interval in percent, ``[86.6, 97.8]`` (``n/a`` when unknown)."""
    if not (finite(low) and finite(high)):
        return NA
    return f"[{pct(low, width=5)}, {pct(high, width=5)}]"


BEYOND = (LOSS, LOSS_END, outcome("value_y15"), outcome("value_y20"), outcome("researchers_y20"))
"""The outcomes beyond the binary test that the second printed table shows (then P(decline)
against the pre-announcement years and the cost per value-year kept)."""


def format_beyond(
    summary: pd.DataFrame, policies: Mapping[str, PolicyDesign], baseline: str | None
) -> str:
    """The second table of a run: value lost and kept, per policy ("" for older summaries).

    Columns: value-years lost after the reference year [95% CI], value-years lost after each
    centre's own end of support, value in years 15 and 20 (% of the reference level),
    researchers in year 20, P(decline) against the pre-announcement years, and the government
    cost per value-year kept against the baseline [Fieller 95% CI] (``n/a``: the design keeps no
    more than the baseline; ``[unbounded]``: what it keeps is not distinguishable from zero).
    """
    pre = outcome("p_decline_pre")
    needed = [o.name for o in (*BEYOND, pre)]
    if not set(needed) <= set(summary.columns):
        return ""
    loss, low, high = LOSS.columns
    total_low, total_high = LOSS.total_columns or ("", "")
    has_total = total_low in summary and summary[total_low].notna().any()
    y15, y20, heads = (o.name for o in BEYOND[2:])
    has_cost = COST_PER_VALUE_YEAR.name in summary
    head = f"{'policy':<{LABEL_WIDTH}} {'value-yrs lost [95% CI]':>23}"
    if has_total:
        head += f" {'total [95% CI]':>14}"
    head += f" {'after end':>9} {'y15 %':>6} {'y20 %':>6} {'researchers y20':>15} {'P(pre) %':>8}"
    if has_cost:
        head += f" {'M¥ per value-yr kept [95% CI]':>30}"
    lines = [head, "-" * len(head)]
    for _, r in summary.iterrows():
        label, *more = _label(r, policies)
        line = f"{label:<{LABEL_WIDTH}} {_number_ci(r[loss], r[low], r[high], 2):>23}"
        if has_total:
            line += f" {_bare(r[total_low], r[total_high], 2):>14}"
        line += f" {_number_ci(r[LOSS_END.name], None, None, 2):>9}"
        line += f" {pct(r[y15], missing=NA):>6} {pct(r[y20], missing=NA):>6}"
        line += f" {_number_ci(r[heads], None, None, 1):>15}"
        line += f" {pct(r[pre.name], missing=NA):>8}"
        if has_cost:
            cost = (
                "—"
                if r["policy"] == baseline
                else money_ci(*(r[c] for c in COST_PER_VALUE_YEAR.columns), missing=NA)
            )
            line += f" {cost:>30}"
        lines += [line, *more]
    return "\n".join(lines)


def beyond_note(decline: DeclineSpec, horizon: int, baseline: str | None) -> str:
    """What the columns of :func:`format_beyond` measure, for the lines under it."""
    level = decline.level_words
    pre = "–".join(str(y) for y in decline.pre_years)
    text = (
        f"value-years lost: shortfall below {level}, summed over years "
        f"{decline.reference_year + 1}–{horizon} (after end: over the {decline.end_window} years "
        f"after each centre's last year of programme money); y15, y20: value index relative to "
        f"{level}; P(pre): the decline test against the mean of years {pre}"
    )
    if baseline:
        text += (
            f"; M¥ per value-yr kept: extra cost over value-years kept vs {baseline}, paired "
            "(Fieller 95% interval; n/a: keeps no more)"
        )
    return textwrap.fill(text + ".", width=100)


def _label(r: pd.Series, policies: Mapping[str, PolicyDesign]) -> list[str]:
    """A summary row's policy label (with its sweep point) as the lines of the policy column."""
    label = policies[r["policy"]].display if r["policy"] in policies else r["policy"]
    if "point" in r.index:
        label = f"[{r['point']}] {label}"
    return wrap_label(label)


def _bare(low: object, high: object, digits: int) -> str:
    """A bare interval, ``[5.83, 6.04]`` (``n/a`` when unknown)."""
    if not (finite(low) and finite(high)):
        return NA
    return f"[{float(low):.{digits}f}, {float(high):.{digits}f}]"


def _number_ci(value: object, low: object, high: object, digits: int) -> str:
    if not finite(value):
        return NA
    text = f"{float(value):.{digits}f}"
    if finite(low) and finite(high):
        text += f" [{float(low):.{digits}f}, {float(high):.{digits}f}]"
    return text


def format_decomposition(table: pd.DataFrame, start: str, end: str) -> str:
    """``wpi-abm decompose``'s table, one block per headline outcome.

    Each block: FROM's level, each element's contribution with its paired 95% interval, the
    total (TO − FROM) and TO's level.
    """
    blocks = []
    for name, rows in table.groupby("outcome", sort=False):
        o = outcome(str(name))
        unit = {"share": "percentage points", "myen": "M yen", "value_years": "value-years"}
        head = f"{o.label['en']} ({unit.get(o.unit, o.unit)})"
        lines = [f"{head:<60}{'[95% CI]':>17}", "-" * 77]
        first = rows.iloc[0]
        lines.append(f"  {start[:40]:<42} {_level(o, first['from_level']):>32}")
        for _, r in rows.iterrows():
            text = _step(o, r["contribution"], r["ci_low"], r["ci_high"])
            if r["element"] == "total":
                lines.append(f"  {'total (TO − FROM)':<42} {text:>32}")
            else:
                lines.append(f"  + {str(r['element']).replace('_', ' '):<40} {text:>32}")
        lines.append(f"  {end[:40]:<42} {_level(o, first['to_level']):>32}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _level(o: Outcome, x: object) -> str:
    if not finite(x):
        return NA
    if o.unit == "share":
        return f"{pct(x)} %"
    return money(x) if o.unit == "myen" else f"{float(x):.{2 if o.unit != 'people' else 1}f}"


def _step(o: Outcome, d: object, low: object, high: object) -> str:
    if o.unit == "share":
        return points_ci(d, low, high, width=5)
    if not finite(d):
        return NA
    digits = {"myen": 0, "people": 1}.get(o.unit, 2)
    text = f"{float(d):+,.{digits}f}"
    if finite(low) and finite(high):
        text += f" [{float(low):+,.{digits}f}, {float(high):+,.{digits}f}]"
    return text


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
                name, *more = wrap_label(r["parameter"], 48)
                lines.append(
                    f"  {name:<48} {r['S1']:7.3f} ±{r['S1_conf']:6.3f}"
                    f" {r['ST']:7.3f} ±{r['ST_conf']:6.3f}"
                )
                lines += [f"  {m}" for m in more]
        else:
            lines.append(f"  {'parameter':<48} {'mu* [±95%]':>18} {'sigma':>9}")
            for _, r in g.iterrows():
                name, *more = wrap_label(r["parameter"], 48)
                lines.append(
                    f"  {name:<48} {r['mu_star']:9.4f} ±{r['mu_star_conf']:7.4f} {r['sigma']:9.4f}"
                )
                lines += [f"  {m}" for m in more]
    return "\n".join(lines)
