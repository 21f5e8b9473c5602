"""What the report says: one function per section, each built from the stored results only.

The question, the headline results (with a few sentences read off the summary), how a decline is
defined, sweep or sensitivity details when present, every figure the folder allows with its
caption (and why any is missing), the full summary table, and the provenance; the policies
compared are :mod:`wpi_abm.report.policies`. Which outcomes the headline shows, with which labels
and units, comes from :mod:`wpi_abm.outcomes`; numbers are written by :mod:`wpi_abm.formats`.
"""

from __future__ import annotations

import base64
import io
import json

import pandas as pd
from matplotlib.figure import Figure

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
    label,
    outcome,
)
from wpi_abm.plots.catalogue import FigureSpec, caption, produce, title
from wpi_abm.plots.cost import frontier_outcome, frontier_policies
from wpi_abm.plots.results import Results, Skip, parameter_label
from wpi_abm.report.html import Raw, esc, table
from wpi_abm.schema.sweep import RANKED_BY
from wpi_abm.text import t

IMAGE_DPI = 200
"""Resolution of embedded figures: sharp on high-density screens, a few MB for the whole file."""
MAX_TABLE_ROWS = 500
"""Rows of the full summary shown; a sweep with more points says how many were left out."""
HEADLINE: tuple[Outcome, ...] = (
    PRIMARY,
    DEPTH,
    COST,
    END,
    outcome("p_decline_personnel"),
    outcome("p_decline_papers"),
    LOSS,
    LOSS_END,
    outcome("value_y15"),
    outcome("researchers_y20"),
    outcome("p_decline_pre"),
)
"""The outcomes of the headline table, in its column order (the paired difference follows the
first, the cost per value-year kept comes last); those the summary lacks are left out."""
UNIT_SUFFIX = {
    "share": " %",
    "myen": " (M yen)",
    "years": " (years)",
    "value_years": " (value-years)",
    "people": " (people)",
}


# -- sections -----------------------------------------------------------------------------------
def question_section(res: Results) -> str:
    """What the model asks, and what this experiment says it is about."""
    lang = res.lang
    text = f"<p>{esc(t('question_text', lang))}</p>"
    if res.exp.description:
        text += f"<p><i>{esc(res.exp.description)}</i></p>"
    return text


def _show(o: Outcome, r: pd.Series) -> str:
    """One headline cell: proportions with their interval (when declared), means alone."""
    if o.unit == "share":
        if o.statistic == "proportion" and o.ci:
            return pct_ci(*(r.get(c) for c in o.columns))
        return pct(r.get(o.name))
    if o.unit == "myen":
        return money(r.get(o.name))
    return number(r.get(o.name), 3)


def _pct_interval(low: object, high: object) -> str:
    """A bare interval in percent, ``[86.6, 97.8]`` (n/a when unknown)."""
    if not (finite(low) and finite(high)):
        return "n/a"
    return f"[{pct(low)}, {pct(high)}]"


def _heading(o: Outcome, lang: str) -> str:
    interval = " [95% CI]" if o.statistic == "proportion" and o.ci else ""
    return f"{label(o.name, lang)}{UNIT_SUFFIX[o.unit]}{interval}"


def headline(res: Results) -> str:
    """The headline table: one row per policy (for sweeps, the range over the points)."""
    if not {"n", *PRIMARY.columns} <= set(res.summary.columns):
        if PRIMARY.name not in res.summary:
            return "<p class='note'>summary.csv holds no P(decline); see the full table.</p>"
        return _sweep_headline(res)
    if res.n_points > 1:
        return _sweep_headline(res)
    s = res.summary
    base = res.baseline
    shown = [o for o in HEADLINE if o.name in s]
    priced = base is not None and COST_PER_VALUE_YEAR.name in s
    # Runs that drew their parameters from a posterior: the total interval next to the MC one.
    total = PRIMARY.total_columns
    has_total = total is not None and total[0] in s and s[total[0]].notna().any()
    rows = []
    for p in res.policies:
        r = s[s["policy"] == p].iloc[0]
        cells: list[object] = [res.label(p), int(r["n"]), _show(PRIMARY, r)]
        if has_total and total is not None:
            cells.append(_pct_interval(r[total[0]], r[total[1]]))
        if base:
            diff = PRIMARY.paired_columns(base)
            cells.append(t("baseline", res.lang) if p == base else points_ci(*(r[c] for c in diff)))
        cells += [_show(o, r) for o in shown[1:]]
        if priced:
            price = (r.get(c) for c in COST_PER_VALUE_YEAR.columns)
            cells.append("—" if p == base else money_ci(*price, missing="n/a"))
        rows.append(cells)
    head = [
        "Policy",
        "n (centre-runs)",
        _heading(PRIMARY, res.lang),
        *(["with parameter uncertainty [95% CI]"] if has_total else []),
        *([f"vs {res.label(base)} (pp) [95% CI]"] if base else []),
        *(_heading(o, res.lang) for o in shown[1:]),
        *([f"{label(COST_PER_VALUE_YEAR.name, res.lang)} vs {res.label(base)} [95% CI]"]
          if priced else []),
    ]  # fmt: skip
    return table(head, rows, "num")


def _sweep_headline(res: Results) -> str:
    """Per policy: how far P(decline) and cost move over the sweep's points."""
    s = res.summary
    rows = []
    for p in res.policies:
        g = s[s["policy"] == p].dropna(subset=[PRIMARY.name])
        if g.empty:
            continue
        lo, hi = g.loc[g[PRIMARY.name].idxmin()], g.loc[g[PRIMARY.name].idxmax()]
        cost = g[COST.name] if COST.name in g else pd.Series([float("nan")])
        rows.append(
            [
                res.label(p),
                len(g),
                f"{pct(lo[PRIMARY.name])} – {pct(hi[PRIMARY.name])}",
                f"{lo.get('point', '—')} / {hi.get('point', '—')}",
                f"{money(cost.min())} – {money(cost.max())}",
            ]
        )
    head = ["Policy", "points", "P(decline) % (lowest – highest)", "at point", "cost / centre"]
    return table(head, rows, "num")


def findings(res: Results) -> str:
    """A few sentences read off the summary (no judgement beyond the numbers)."""
    p = PRIMARY.name
    if p not in res.summary:
        return ""
    s = res.summary.dropna(subset=[p])
    if s.empty:
        return ""
    items = []
    lo, hi = s.loc[s[p].idxmin()], s.loc[s[p].idxmax()]
    items.append(
        f"P(decline) ranges from {pct(lo[p])}% ({esc(res.label(lo['policy']))}) to "
        f"{pct(hi[p])}% ({esc(res.label(hi['policy']))})."
    )
    base = res.baseline
    if base and res.n_points == 1:
        *_, high = PRIMARY.paired_columns(base)
        # Lower is better for P(decline): name the designs whose whole interval is below zero.
        better = [
            res.label(r["policy"])
            for _, r in s.iterrows()
            if r["policy"] != base and finite(r[high]) and r[high] < 0
        ]
        if better:
            items.append(
                f"Lower than {esc(res.label(base))} with 95% confidence: {esc(', '.join(better))}."
            )
    if COST.name in s and s[COST.name].notna().any():
        try:
            end = frontier_outcome(s)
        except Skip:
            end = None
        if end is not None:
            labels = [
                res.label(policy) + (f" (point {point})" if point is not None else "")
                for policy, point in frontier_policies(s.reset_index(drop=True))
            ]
            items.append(
                f"On the Pareto frontier of cost and {esc(label(end.name, res.lang))} "
                f"(cheapest first): {esc(', '.join(labels))}."
            )
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def decline_section(res: Results) -> str:
    """The decline definition in words and as a table of its settings."""
    d = res.exp.decline
    test = ", ".join(str(y) for y in d.test_years)
    words = (
        f"A centre <b>declines</b> when its value index, aggregated ({esc(d.aggregate)}) over "
        f"years {esc(test)}, is more than θ = {100 * d.theta:g}% below its value in year "
        f"{d.reference_year}. The value index is a weighted mean of indicators, each divided by "
        f"its mean over years {d.baseline_years[0]}–{d.baseline_years[1]} (so about 1 while the "
        "centre is funded); "
        + (
            "papers enter as the counts the centre is expected to publish, not the year's random "
            "counts. "
            if d.output == "expected"
            else "papers enter as the year's counts. "
        )
        + "The same test is applied to personnel cost and to papers (the "
        "seed's own measures), and again relative to each centre's last year of programme money "
        "(<i>end of support</i>; not applicable where support outlasts the horizon). "
        "<i>n</i> counts centre-runs; intervals treat runs as clusters (Wilson interval with "
        "Kish's effective sample size); paired differences use common random numbers and a t "
        "interval over replicates."
    )
    low = (PRIMARY.total_columns or ("",))[0]
    if low in res.summary and res.summary[low].notna().any():
        words += (
            " Each group of replicates drew its parameters from the calibrated posterior (the "
            "same draw for every policy); the interval <i>with parameter uncertainty</i> adds "
            "the spread of the estimate across those draws to the Monte Carlo interval (never "
            "narrower than it)."
        )
    first, last = d.pre_years
    words += (
        f" Beyond the binary test, against the <i>reference level</i> ({d.level_words}): "
        f"<i>value-years lost</i> sums how far the value index falls below it over years "
        f"{d.reference_year + 1}–{res.exp.horizon}, and over the {d.end_window} years after each "
        "centre's own last year of programme money (so that a design that only moves the cliff "
        "later is not credited for it); the value in years 15 and 20 and the researchers in "
        "year 20 say what is left; P(decline) is also given over θ from 5% to 50%. The test "
        f"against the mean of years {first}–{last}, before a centre can anticipate the end of "
        "its support, is reported next to the seed's. The cost per value-year kept is the extra "
        "cost over the value-years kept against the baseline, paired over replicates (ratio of "
        "the paired means, Fieller's 95% interval)."
    )
    rows = [
        ["θ (threshold)", f"{100 * d.theta:g}%"],
        ["reference year", d.reference_year],
        ["test years", test],
        ["aggregate over test years", d.aggregate],
        ["baseline years", f"{d.baseline_years[0]}–{d.baseline_years[1]}"],
        ["weights", ", ".join(f"{k} {v:g}" for k, v in d.weights.items())],
        ["reference level (value beyond the test)", d.reference],
        ["pre-announcement years", f"{first}–{last}"],
        ["window after end of support", f"{d.end_window} years"],
    ]
    return f"<p>{words}</p>" + table(["setting", "value"], rows, "kv")


def sweep_section(res: Results) -> str:
    """The swept parameters and the design (sweeps and sensitivity studies)."""
    spec = res.sweep_spec
    params = res.parameters
    if not params:
        return ""
    declared = spec.get("parameters") or {}
    rows = []
    for key in params:
        values = res.summary[key]
        how = declared.get(key, {}) if isinstance(declared, dict) else {}
        rows.append(
            [
                parameter_label(key),
                Raw(f"<code>{esc(key)}</code>"),
                json.dumps(how, default=str) if how else "—",
                f"{values.min():g} … {values.max():g}"
                if pd.api.types.is_numeric_dtype(values)
                else ", ".join(map(str, dict.fromkeys(values))),
            ]
        )
    intro = (
        f"<p>Design: <b>{esc(res.design or 'unknown')}</b>; {res.n_points} parameter points × "
        f"{len(res.policies)} policies × {esc(res.manifest.get('replicates', '?'))} replicates.</p>"
    )
    return intro + table(["parameter", "dotted key", "specification", "values run"], rows)


def sensitivity_section(res: Results) -> str:
    """The most influential parameters per policy, output and method."""
    df = res.sensitivity
    if df is None:
        return ""
    rows = []
    for (policy, output, method), group in df.groupby(["policy", "output", "method"], sort=False):
        key = RANKED_BY[method]
        top = group.dropna(subset=[key]).sort_values(key, ascending=False).head(3)
        ranked = ", ".join(
            f"{parameter_label(str(r.parameter))} ({getattr(r, key):.3g})" for r in top.itertuples()
        )
        rows.append([res.label(str(policy)), output, method, key, ranked])
    return table(["policy", "output", "method", "index", "top parameters (value)"], rows)


def full_summary(res: Results) -> str:
    """summary.csv as a table (numbers rounded for reading; the CSV keeps full precision)."""
    s = res.summary
    note = ""
    if len(s) > MAX_TABLE_ROWS:
        note = (
            f"<p class='note'>First {MAX_TABLE_ROWS} of {len(s)} rows; summary.csv holds all.</p>"
        )
        s = s.head(MAX_TABLE_ROWS)

    def fmt(v: object) -> str:
        return number(v) if isinstance(v, float) else str(v)

    rows = [[fmt(v) for v in r] for r in s.itertuples(index=False)]
    return note + '<div class="scroll">' + table(list(s.columns), rows, "num small") + "</div>"


def provenance_section(res: Results) -> str:
    """Where the numbers come from: manifest fields and the full configuration."""
    m = res.manifest
    keys = (
        "experiment",
        "kind",
        "status",
        "root_seed",
        "replicates",
        "horizon",
        "policies",
        "runs_total",
        "runs_completed",
        "centres_per_run",
        "chunk_runs",
        "panel_stored",
        "started",
        "ended",
        "git_commit",
        "config_hash",
    )
    rows: list[list[object]] = [["results folder", str(res.root.resolve())]]
    for k in keys:
        if k in m:
            v = m[k]
            rows.append([k, ", ".join(map(str, v)) if isinstance(v, list) else v])
    for group in ("versions", "machine", "execution"):
        if isinstance(m.get(group), dict):
            rows.append([group, "; ".join(f"{k} {v}" for k, v in m[group].items())])
    config = json.dumps(m.get("config", {}), indent=2, ensure_ascii=False, default=str)
    return (
        table(["field", "value"], rows, "kv")
        + f"<details><summary>{esc(t('config', res.lang))}</summary><pre>{esc(config)}</pre>"
        "</details>"
    )


# -- figures ------------------------------------------------------------------------------------
def figures(res: Results) -> tuple[list[tuple[FigureSpec, str]], list[tuple[str, str]]]:
    """Every figure the folder allows as a base64 PNG, and (name, reason) for the others."""
    images: list[tuple[FigureSpec, str]] = []

    def sink(spec: FigureSpec, fig: Figure) -> list[str]:
        buf = io.BytesIO()
        try:
            fig.savefig(buf, format="png", dpi=IMAGE_DPI, metadata={"Software": "wpi-abm"})
        finally:
            import matplotlib.pyplot as plt

            plt.close(fig)
        images.append((spec, base64.b64encode(buf.getvalue()).decode("ascii")))
        return [spec.name]

    _, skipped = produce(res, sink)
    return images, skipped


def figure_section(res: Results) -> str:
    """The figures with numbered one-line captions, then what could not be drawn and why."""
    images, skipped = figures(res)
    lang = res.lang
    out = []
    for i, (spec, data) in enumerate(images, 1):
        name = title(spec, lang)
        out.append(
            f'<figure id="fig-{esc(spec.name)}"><img alt="{esc(name)}" '
            f'src="data:image/png;base64,{data}"><figcaption><b>{esc(t("figure", lang))} {i}. '
            f"{esc(name)}.</b> {esc(caption(spec, res))}</figcaption></figure>"
        )
    if skipped:
        out.append(f"<h3>{esc(t('not_drawn', lang))}</h3>")
        out.append(table(["figure", "why"], skipped))
    return "".join(out)
