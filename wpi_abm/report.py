"""A shareable report: one self-contained HTML file built from a stored results folder.

The file holds everything it shows — figures as base64 PNG, styles inline, no scripts, no
external address — so it opens offline in any browser and can be mailed as one attachment. It is
built only from what the folder stores (manifest, summary, outcomes, panel); nothing is re-run.

Contents: the question, the headline results, the policies compared with their parameters, how a
decline is defined, sweep or sensitivity details when present, every figure the folder allows with
a one-line caption (and why any is missing), the full summary table, and the provenance (seed,
versions, commit, machine, the full configuration).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from wpi_abm.errors import WpiError
from wpi_abm.experiment.store import write_atomic
from wpi_abm.plots.catalogue import FigureSpec, caption, produce, title
from wpi_abm.plots.cost import frontier_policies
from wpi_abm.plots.results import Results, finite, parameter_label
from wpi_abm.policy import FOREVER, PolicyDesign

REPORT_NAME = "report.html"
IMAGE_DPI = 200
"""Resolution of embedded figures: sharp on high-density screens, a few MB for the whole file."""
MAX_LISTED = 10
"""Entries named in one sentence of the findings."""
MAX_TABLE_ROWS = 500
"""Rows of the full summary shown; a sweep with more points says how many were left out."""

WORDS: dict[str, dict[str, str]] = {
    "title": {"en": "wpi-abm report", "ja": "wpi-abm レポート"},
    "question": {"en": "The question", "ja": "問い"},
    "question_text": {
        "en": "How often does a research centre's value decline after its founding grant ends, "
        "how deep is the drop, and what does each funding-policy design cost? Centres, hosts, "
        "companies and foundations are simulated year by year (agent-based model of Japan's "
        "WPI programme); every design runs on the same random numbers.",
        "ja": "研究拠点の価値は、立ち上げ支援の終了後にどのくらいの頻度で、どの程度低下するのか。"
        "各支援制度の費用はいくらか。拠点・ホスト機関・企業・財団を年ごとにシミュレートする"
        "（WPIプログラムのエージェントベースモデル）。全制度は同じ乱数で比較する。",
    },
    "headline": {"en": "Headline results", "ja": "主な結果"},
    "policies": {"en": "Policies compared", "ja": "比較した制度"},
    "decline": {"en": "How a decline is defined", "ja": "価値低下の定義"},
    "sweep": {"en": "Swept parameters", "ja": "スイープしたパラメータ"},
    "sensitivity": {"en": "Most influential parameters", "ja": "影響の大きいパラメータ"},
    "figures": {"en": "Figures", "ja": "図"},
    "not_drawn": {"en": "Not drawn from this folder", "ja": "このフォルダからは描けない図"},
    "summary": {"en": "Full summary table", "ja": "集計表（全体）"},
    "provenance": {"en": "Provenance", "ja": "来歴"},
    "config": {"en": "Full configuration (JSON)", "ja": "設定全体（JSON）"},
    "figure": {"en": "Figure", "ja": "図"},
    "contents": {"en": "Contents", "ja": "目次"},
    "baseline": {"en": "baseline", "ja": "基準"},
}


def _w(key: str, lang: str) -> str:
    return WORDS[key].get(lang) or WORDS[key]["en"]


def esc(x: object) -> str:
    """HTML-escaped text of ``x``."""
    return html.escape(str(x), quote=True)


# -- numbers ------------------------------------------------------------------------------------
def pct(x: object, digits: int = 1) -> str:
    """A share as a percentage, or an em dash when unknown."""
    return f"{100 * float(x):.{digits}f}" if finite(x) else "—"


def pct_ci(p: object, lo: object, hi: object) -> str:
    """``p [lo, hi]`` in percent."""
    if not finite(p):
        return "—"
    if finite(lo) and finite(hi):
        return f"{pct(p)} [{pct(lo)}, {pct(hi)}]"
    return pct(p)


def pp_ci(d: object, lo: object, hi: object) -> str:
    """A difference in percentage points with its interval, signed."""
    if not finite(d):
        return "—"
    s = f"{100 * float(d):+.1f}"
    if finite(lo) and finite(hi):
        s += f" [{100 * float(lo):+.1f}, {100 * float(hi):+.1f}]"
    return s


def money(x: object) -> str:
    """M yen with thousands separators."""
    return f"{float(x):,.0f}" if finite(x) else "—"


# -- tables -------------------------------------------------------------------------------------
def table(head: Sequence[str], rows: Iterable[Sequence[object]], cls: str = "") -> str:
    """An HTML table; cells are escaped unless wrapped in :class:`Raw`."""
    out = [f'<table class="{cls}">' if cls else "<table>", "<thead><tr>"]
    out += [f"<th>{esc(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


class Raw(str):
    """Trusted HTML for a table cell (built here from escaped parts)."""


def _cell(c: object) -> str:
    return str(c) if isinstance(c, Raw) else esc(c)


# -- policy parameters --------------------------------------------------------------------------
def _amount(value: float | list[float]) -> str:
    if isinstance(value, list):
        if len(set(value)) == 1:
            return f"{value[0]:,g}"
        return f"{value[0]:,g} → {value[-1]:,g}"
    return f"{value:,g}"


def describe_segments(policy: PolicyDesign) -> str:
    """The yearly amounts, e.g. ``years 1–10: 700; years 11–15: 0 + matching if certification``."""
    parts = []
    for seg in policy.segments:
        end = "∞" if seg.to_year == FOREVER else str(seg.to_year)
        text = f"years {seg.from_year}–{end}: {_amount(seg.amount)}"
        if seg.matching:
            text += " + matching"
        if seg.gate:
            text += f" if '{seg.gate}' passed"
            if seg.otherwise not in (0, 0.0):
                text += f" (else {_amount(seg.otherwise)})"
        parts.append(text)
    return "; ".join(parts) + " (M yen/yr)"


def describe_evaluations(policy: PolicyDesign) -> str:
    """Each evaluation with its year, bar and consequence."""
    out = []
    for ev in policy.evaluations:
        fail = {"continue": "recorded", "stop": "stop", "cut": f"cut {100 * ev.cut_fraction:g}%"}
        out.append(f"{ev.name} (y{ev.year}, pass ≥ {ev.pass_score:g}, fail: {fail[ev.on_fail]})")
    return "; ".join(out) or "none"


def describe_matching(policy: PolicyDesign) -> str:
    """The matching rule, if any."""
    m = policy.matching
    if m is None:
        return "—"
    return f"≤ {m.cap:,g} M yen/yr, {m.ratio:g} × {' + '.join(m.eligible)} funds"


def describe_growth(policy: PolicyDesign) -> str:
    """The growth & development plan, if any."""
    g = policy.growth_plan
    if g is None:
        return "—"
    return (
        f"year {g.year}: host conversion ×{g.host_conversion_multiplier:g}, commitment "
        f"{g.host_commitment:g}, private-funding push ×{g.private_funding_push:g}"
    )


def policy_rows(res: Results) -> list[list[object]]:
    """One row per policy with its parameters."""
    rows: list[list[object]] = []
    for p in res.policies:
        design = res.exp.policies.get(p)
        if design is None:
            rows.append([p, "—", "—", "—", "—", "—", "—", "—"])
            continue
        label = Raw(
            f"<b>{esc(design.display)}</b><br><code>{esc(p)}</code>"
            + (f'<div class="note">{esc(design.description)}</div>' if design.description else "")
        )
        rows.append(
            [
                label,
                describe_segments(design),
                describe_evaluations(design),
                describe_matching(design),
                describe_growth(design),
                f"from year {design.flexibility.from_year}" if design.flexibility else "—",
                f"from year {design.foresight.from_year}" if design.foresight else "—",
                design.hosts_per_centre,
            ]
        )
    return rows


# -- sections -----------------------------------------------------------------------------------
def headline(res: Results) -> str:
    """The headline table: one row per policy (for sweeps, the range over the points)."""
    if not {"p_decline", "n", "ci_low", "ci_high"} <= set(res.summary.columns):
        if "p_decline" not in res.summary:
            return "<p class='note'>summary.csv holds no P(decline); see the full table.</p>"
        return _sweep_headline(res)
    if res.n_points > 1:
        return _sweep_headline(res)
    s = res.summary
    base = res.baseline
    rows = []
    for p in res.policies:
        r = s[s["policy"] == p].iloc[0]
        diff = []
        if base:
            diff = [
                _w("baseline", res.lang)
                if p == base
                else pp_ci(r[f"diff_vs_{base}"], r["diff_ci_low"], r["diff_ci_high"])
            ]
        rows.append(
            [
                res.label(p),
                int(r["n"]),
                pct_ci(r["p_decline"], r["ci_low"], r["ci_high"]),
                *diff,
                pct(r.get("mean_depth")),
                money(r.get("cost_per_centre")),
                pct_ci(r.get("p_decline_end"), r.get("end_ci_low"), r.get("end_ci_high")),
                pct(r.get("p_decline_personnel")),
                pct(r.get("p_decline_papers")),
            ]
        )
    head = [
        "Policy",
        "n (centre-runs)",
        "P(decline) % [95% CI]",
        *([f"vs {res.label(base)} (pp) [95% CI]"] if base else []),
        "mean depth %",
        "cost / centre (M yen)",
        "P(decline at end of support) % [95% CI]",
        "P(personnel cost decline) %",
        "P(papers decline) %",
    ]
    return table(head, rows, "num")


def _sweep_headline(res: Results) -> str:
    """Per policy: how far P(decline) and cost move over the sweep's points."""
    s = res.summary
    rows = []
    for p in res.policies:
        g = s[s["policy"] == p].dropna(subset=["p_decline"])
        if g.empty:
            continue
        lo, hi = g.loc[g["p_decline"].idxmin()], g.loc[g["p_decline"].idxmax()]
        cost = g["cost_per_centre"] if "cost_per_centre" in g else pd.Series([float("nan")])
        rows.append(
            [
                res.label(p),
                len(g),
                f"{pct(lo['p_decline'])} – {pct(hi['p_decline'])}",
                f"{lo.get('point', '—')} / {hi.get('point', '—')}",
                f"{money(cost.min())} – {money(cost.max())}",
            ]
        )
    head = ["Policy", "points", "P(decline) % (lowest – highest)", "at point", "cost / centre"]
    return table(head, rows, "num")


def findings(res: Results) -> str:
    """A few sentences read off the summary (no judgement beyond the numbers)."""
    if "p_decline" not in res.summary:
        return ""
    s = res.summary.dropna(subset=["p_decline"])
    if s.empty:
        return ""
    items = []
    lo, hi = s.loc[s["p_decline"].idxmin()], s.loc[s["p_decline"].idxmax()]
    items.append(
        f"P(decline) ranges from {pct(lo['p_decline'])}% ({esc(res.label(lo['policy']))}) to "
        f"{pct(hi['p_decline'])}% ({esc(res.label(hi['policy']))})."
    )
    base = res.baseline
    if base and res.n_points == 1 and "diff_ci_high" in s:
        better = [
            res.label(r["policy"])
            for _, r in s.iterrows()
            if r["policy"] != base and finite(r["diff_ci_high"]) and r["diff_ci_high"] < 0
        ]
        if better:
            items.append(
                f"Lower than {esc(res.label(base))} with 95% confidence: {esc(', '.join(better))}."
            )
    if "cost_per_centre" in s and s["cost_per_centre"].notna().any():
        labels = [
            res.label(policy) + (f" (point {point})" if point is not None else "")
            for policy, point in frontier_policies(s.reset_index(drop=True))
        ]
        items.append(
            f"On the cost–P(decline) Pareto frontier (cheapest first): {esc(', '.join(labels))}."
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
        "centre is funded). The same test is applied to personnel cost and to papers (the "
        "seed's own measures), and again relative to each centre's last year of programme money "
        "(<i>end of support</i>; not applicable where support outlasts the horizon). "
        "<i>n</i> counts centre-runs; intervals treat runs as clusters (Wilson interval with "
        "Kish's effective sample size); paired differences use common random numbers and a t "
        "interval over replicates."
    )
    rows = [
        ["θ (threshold)", f"{100 * d.theta:g}%"],
        ["reference year", d.reference_year],
        ["test years", test],
        ["aggregate over test years", d.aggregate],
        ["baseline years", f"{d.baseline_years[0]}–{d.baseline_years[1]}"],
        ["weights", ", ".join(f"{k} {v:g}" for k, v in d.weights.items())],
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
        key = "ST" if method == "sobol" else "mu_star"
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
        if isinstance(v, float):
            if math.isnan(v):
                return "—"
            return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
        return str(v)

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
        + f"<details><summary>{esc(_w('config', res.lang))}</summary><pre>{esc(config)}</pre>"
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
            f'src="data:image/png;base64,{data}"><figcaption><b>{esc(_w("figure", lang))} {i}. '
            f"{esc(name)}.</b> {esc(caption(spec, res))}</figcaption></figure>"
        )
    if skipped:
        out.append(f"<h3>{esc(_w('not_drawn', lang))}</h3>")
        out.append(table(["figure", "why"], skipped))
    return "".join(out)


# -- page ---------------------------------------------------------------------------------------
CSS = """
:root { color-scheme: light; }
body { font-family: "wpi-abm-cjk", system-ui, -apple-system, "Segoe UI", "Hiragino Sans",
       "Noto Sans CJK JP", sans-serif;
       color: #111; background: #fff; margin: 0; line-height: 1.45; }
main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #ccc;
     padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.meta, .note { color: #555; font-size: .85rem; }
nav ol { columns: 2; font-size: .9rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .85rem; width: 100%; }
th, td { border: 1px solid #ccc; padding: .25rem .45rem; vertical-align: top; text-align: left; }
th { background: #f2f2f2; }
table.num td:not(:first-child) { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.small { font-size: .75rem; }
table.kv td:first-child { white-space: nowrap; width: 14rem; }
.scroll { overflow-x: auto; }
figure { margin: 1.5rem 0; break-inside: avoid; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { font-size: .85rem; margin-top: .4rem; }
pre { font-size: .72rem; background: #f7f7f7; padding: .75rem; overflow-x: auto; }
code { font-size: .85em; }
@media print { nav, details { display: none; } main { max-width: none; } }
"""


CJK_FROM = 0x2E80
"""Characters from here on (CJK, kana, full-width forms) may be missing from a reader's fonts."""


def cjk_font_face(text: str) -> str:
    """An ``@font-face`` rule embedding IPAexGothic cut down to the CJK characters of ``text``.

    Policy descriptions and Japanese headings carry CJK characters that a machine without CJK
    fonts shows as empty boxes; embedding just the glyphs used keeps the file offline-complete at
    a few kB. The face is named first in the page's font list (Chromium otherwise settles on a
    system fallback that lacks the glyphs); holding CJK glyphs only, it leaves Latin text to the
    system fonts. Returns "" when ``text`` has none or the font package is not installed.
    """
    chars = sorted({ord(c) for c in text if ord(c) >= CJK_FROM})
    if not chars:
        return ""
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        from wpi_abm.plots.style import japanese_font_path

        font = TTFont(str(japanese_font_path()))
    except (ImportError, WpiError, OSError):
        return ""
    options = subset.Options()
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=chars)
    subsetter.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        '@font-face { font-family: "wpi-abm-cjk"; '
        f'src: url(data:font/ttf;base64,{data}) format("truetype"); }}'
    )


def render(res: Results) -> str:
    """The report as one HTML string."""
    import wpi_abm

    lang = res.lang
    m = res.manifest
    sections: list[tuple[str, str, str]] = [
        (
            "question",
            _w("question", lang),
            f"<p>{esc(_w('question_text', lang))}</p>"
            + (f"<p><i>{esc(res.exp.description)}</i></p>" if res.exp.description else ""),
        ),
        ("headline", _w("headline", lang), findings(res) + headline(res)),
        (
            "policies",
            _w("policies", lang),
            table(
                [
                    "policy",
                    "support (segments)",
                    "evaluations",
                    "matching",
                    "growth plan",
                    "flexibility",
                    "foresight",
                    "hosts",
                ],
                policy_rows(res),
            ),
        ),
        ("decline", _w("decline", lang), decline_section(res)),
    ]
    sweep = sweep_section(res)
    if sweep:
        sections.append(("sweep", _w("sweep", lang), sweep))
    sens = sensitivity_section(res)
    if sens:
        sections.append(("sensitivity", _w("sensitivity", lang), sens))
    sections += [
        ("figures", _w("figures", lang), figure_section(res)),
        ("summary", _w("summary", lang), full_summary(res)),
        ("provenance", _w("provenance", lang), provenance_section(res)),
    ]
    nav = "".join(f'<li><a href="#{sid}">{esc(name)}</a></li>' for sid, name, _ in sections)
    body = "".join(
        f'<section id="{sid}"><h2>{esc(name)}</h2>{content}</section>'
        for sid, name, content in sections
    )
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    meta = (
        f"{esc(res.kind)} · {esc(m.get('status', 'unknown'))} · seed "
        f"{esc(m.get('root_seed', res.exp.seed))} · {esc(m.get('replicates', res.exp.replicates))}"
        f" replicates · {esc(m.get('started', ''))} – {esc(m.get('ended', ''))} · results "
        f"<code>{esc(res.root.name)}</code>"
    )
    heading = f"{_w('title', lang)}: {res.exp.name}"
    page = (
        f'<header><h1>{esc(heading)}</h1><p class="meta">{meta}</p></header>'
        f"<nav><b>{esc(_w('contents', lang))}</b><ol>{nav}</ol></nav>{body}"
        f'<footer class="note"><p>Written by wpi-abm {esc(wpi_abm.__version__)} on {stamp} '
        "from the stored results only (nothing was re-run).</p></footer>"
    )
    font = cjk_font_face(page + heading)
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="wpi-abm {esc(wpi_abm.__version__)}">'
        f"<title>{esc(heading)}</title><style>{font}{CSS}</style></head><body><main>"
        f"{page}</main></body></html>\n"
    )


def write_report(results: Path, out: Path | None = None, lang: str = "en") -> Path:
    """Write the self-contained HTML report of a results folder.

    Args:
        results: The results folder.
        out: Where to write (default: ``results/report.html``).
        lang: ``en`` or ``ja`` (figure labels and headings; Japanese needs
            ``matplotlib-fontja``).

    Returns:
        The path written.

    Raises:
        ResultsError: The folder holds no finished results.
    """
    res = Results.load(Path(results), lang)
    path = Path(out) if out is not None else Path(results) / REPORT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, render(res).encode("utf-8"))
    return path
