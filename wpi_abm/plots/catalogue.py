"""The list of figures: name, drawing function, title and caption, and drawing them all.

Every figure is drawn only when the results folder holds what it needs; a figure function raises
:class:`~wpi_abm.plots.results.Skip` with the reason otherwise, and :func:`produce` collects the
reasons so that ``wpi-abm plot`` and the report can say what is missing and why.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wpi_abm.plots.results import Results, Skip
from wpi_abm.text import pick

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class FigureSpec:
    """One figure of the catalogue.

    Attributes:
        name: File stem in ``figures/``.
        function: What draws it from a results folder (raises Skip when it cannot): a function,
            or where to find one, ``"module:function"`` in :mod:`wpi_abm.plots` (imported when
            first drawn, so that reading the catalogue imports no matplotlib).
        title: Short title per language (PDF metadata, report heading).
        caption: One-line caption per language; ``{fields}`` are filled by :func:`caption`.
    """

    name: str
    function: Callable[[Results], Figure] | str
    title: dict[str, str]
    caption: dict[str, str]

    def drawing(self) -> Callable[[Results], Figure]:
        """The drawing function (see ``function``), its module imported if need be."""
        if not isinstance(self.function, str):
            return self.function
        module, name = self.function.split(":")
        return getattr(importlib.import_module(f"wpi_abm.plots.{module}"), name)

    def draw(self, res: Results) -> Figure:
        """Draw the figure from ``res``."""
        return self.drawing()(res)


def import_drawing_code() -> None:
    """Import every figure's drawing function (the figure workers' server does, once for all)."""
    for spec in CATALOGUE:
        spec.drawing()


CATALOGUE: tuple[FigureSpec, ...] = (
    FigureSpec(
        "p_decline",
        "forest:forest",
        {"en": "P(decline) per policy", "ja": "政策別の価値低下確率"},
        {
            "en": "Share of centre-runs whose value index in years {test} is more than {theta}% "
            "below year {ref} (filled) and the same test at the end of each centre's support "
            "(hollow), with 95% intervals that treat runs as clusters; right: paired difference "
            "against {base} (percentage points, t interval over replicates).",
            "ja": "価値指数が{ref}年目より{theta}%超低下した"
            "（{test}年目、塗り）センター×試行の割合と、支援終了時の同じ検定（白抜き）。"
            "95%区間は試行をクラスタとして扱う。"
            "右：{base}との対応のある差（ポイント、反復間のt区間）。",
        },
    ),
    FigureSpec(
        "p_decline_curve",
        "decline_curve:decline_curve",
        {"en": "P(decline) over the threshold", "ja": "閾値別の価値低下確率"},
        {
            "en": "Share of centre-runs whose value index in years {test} is more than θ below "
            "the reference level, for θ from 5% to 50%, with 95% bands (runs as clusters); "
            "dotted: the test's θ = {theta}%.",
            "ja": "{test}年目の価値指数が基準水準よりθ超低下したセンター×試行の割合"
            "（θ=5〜50%、95%帯、試行をクラスタとして扱う）。点線は検定のθ={theta}%。",
        },
    ),
    FigureSpec(
        "cost_effectiveness",
        "cost:cost_effectiveness",
        {"en": "Cost-effectiveness", "ja": "費用対効果"},
        {
            "en": "Government cost per centre (programme money received, M yen) against "
            "P(decline) (left) and against the value-years lost in the {window} years after each "
            "centre's own end of support (right), with 95% intervals; dashed and ringed: the "
            "Pareto frontier on the right-hand outcome (no other design is both cheaper and "
            "loses less after its support ends), so that paying longer without lowering the "
            "cliff does not count as a win. Lower left is better.",
            "ja": "センター当たり政府負担（受給した事業費、百万円）と価値低下確率（左）、"
            "各センターの支援終了後{window}年間に失われた価値・年（右）（95%区間）。"
            "破線と丸印は右の指標でのパレートフロンティア（より安く、かつ支援終了後の損失が"
            "少ない設計が他にない）。支援を延ばして崖を先送りするだけの設計は勝者にならない。"
            "左下ほど良い。",
        },
    ),
    FigureSpec(
        "programme_by_fiscal_year",
        "programme:programme_by_fiscal_year",
        {"en": "The programme by fiscal year", "ja": "年度別のプログラム"},
        {
            "en": "Top: government cost per fiscal year (mean over runs; subsidy and matching "
            "stacked), with the subsidy the centres received FY2014–FY2022 (dots; subsidy CSV). "
            "Bottom: centres whose value index is more than {theta}% below their own year {ref}, "
            "counted after that year: mean, 95% interval of the mean (dark) and 5–95% of runs "
            "(light); grey: the other designs.",
            "ja": "上：年度別の政府負担（試行平均、補助金とマッチング支援の積み上げ）と"
            "FY2014–FY2022の実績（点、補助金CSV）。下：自らの{ref}年目より価値指数が{theta}%超"
            "低い拠点数（その年以降）：平均、平均の95%区間（濃）、試行の5–95%（淡）。灰色は他の制度。",
        },
    ),
    FigureSpec(
        "centre_forest",
        "programme:centre_forest",
        {"en": "P(decline) per centre", "ja": "拠点別の価値低下確率"},
        {
            "en": "Share of runs in which each centre's value index in its years {test} is more "
            "than {theta}% below its year {ref}, per design, with Wilson 95% intervals; centres "
            "by start (fiscal year).",
            "ja": "各拠点の{test}年目の価値指数が{ref}年目より{theta}%超低い試行の割合"
            "（制度別、Wilson 95%区間）。拠点は開始年度順。",
        },
    ),
    FigureSpec(
        "after_support",
        "after_support:after_support",
        {"en": "After support ends (the seed's measure)", "ja": "支援終了後（原資料の指標）"},
        {
            "en": "Personnel cost and papers in the 1st (filled) and 2nd (hollow) year after each "
            "centre's last supported year, as % of that year: median and 5–95% range over "
            "centre-runs; dashed: the −{theta}% line.",
            "ja": "各センターの支援最終年度に対する、支援終了1年目（塗り）・"
            "2年目（白抜き）の人件費と論文数（%）。"
            "センター×試行の中央値と5–95%範囲。破線は−{theta}%の線。",
        },
    ),
    FigureSpec(
        "survival",
        "survival:survival",
        {"en": "Time to decline", "ja": "低下までの時間"},
        {
            "en": "Share of centre-runs whose value index has stayed within {theta}% of year {ref} "
            "in every year since (first passage), one panel per policy with the baseline in grey "
            "and the share left at the end written out; shaded: the years of the decline test; "
            "dotted: the design's end of support.",
            "ja": "価値指数が{ref}年目から{theta}%以内に"
            "とどまり続けているセンター×試行の割合（初回通過）。政策別のパネルに基準制度を灰色で"
            "重ね、最終年の割合を記す。網掛けは低下検定の年、点線は制度上の支援終了。",
        },
    ),
    FigureSpec(
        "value_index",
        "fans:fan_value_index",
        {"en": "Value index over the years", "ja": "価値指数の推移"},
        {
            "en": "Value index by support year (1 = mean of years {a}–{b}): median, central 50% "
            "and 90% of centre-runs; grey line: year {ref}; dotted: the design's end of support.",
            "ja": "支援年ごとの価値指数（{a}–{b}年目平均＝1）：中央値と中央50%・90%範囲。"
            "灰色線は{ref}年目、点線は制度上の支援終了。",
        },
    ),
    FigureSpec(
        "researchers",
        "fans:fan_researchers",
        {"en": "Researchers over the years", "ja": "研究者数の推移"},
        {
            "en": "Researchers by support year, domestic (solid) and foreign (dashed): median, "
            "central 50% and 90% of centre-runs.",
            "ja": "支援年ごとの研究者数、国内（実線）と外国人（破線）：中央値と中央50%・90%範囲。",
        },
    ),
    FigureSpec(
        "personnel_cost",
        "fans:fan_personnel_cost",
        {"en": "Personnel cost over the years", "ja": "人件費の推移"},
        {
            "en": "Personnel cost (M yen per year) by support year: median, central 50% and 90% "
            "of centre-runs.",
            "ja": "支援年ごとの人件費（百万円／年）：中央値と中央50%・90%範囲。",
        },
    ),
    FigureSpec(
        "papers",
        "fans:fan_papers",
        {"en": "Papers over the years", "ja": "論文数の推移"},
        {
            "en": "Papers per year by support year: median, central 50% and 90% of centre-runs.",
            "ja": "支援年ごとの年間論文数：中央値と中央50%・90%範囲。",
        },
    ),
    FigureSpec(
        "income",
        "income:income",
        {"en": "Income by source", "ja": "財源別の収入"},
        {
            "en": "Mean income per centre by source (M yen per year), stacked; programme money on "
            "top, so the layers below are what remains when it stops.",
            "ja": "財源別のセンター平均収入（百万円／年、積み上げ）。"
            "事業費を上に置き、その下が終了後に残る財源。",
        },
    ),
    FigureSpec(
        "decomposition",
        "waterfall:waterfall",
        {"en": "Which element does the work", "ja": "どの要素が効いているか"},
        {
            "en": "From the first design's level (light grey) to the second's (dark grey): each "
            "design element's contribution (Shapley value over every order of switching the "
            "elements, averaged over replicates on common random numbers, paired 95% t "
            "interval); blue improves the outcome, hatched vermilion worsens it. The "
            "contributions add up to the difference.",
            "ja": "第1の設計の水準（薄灰）から第2の設計の水準（濃灰）まで、各設計要素の寄与"
            "（要素を切り替えるすべての順序にわたるShapley値、共通乱数の反復平均、"
            "対応のある95%t区間）。青は指標を改善、斜線の朱色は悪化。寄与の和は差に等しい。",
        },
    ),
    FigureSpec(
        "sweep_response",
        "sweep:sweep_response",
        {"en": "Response to the swept levers", "ja": "スイープしたパラメータへの応答"},
        {
            "en": "P(decline) against each swept lever: one lever with its 95% band, several "
            "levers with every point and its 95% interval, set side by side (the spread at one "
            "value comes from the other levers).",
            "ja": "各パラメータに対する価値低下確率：1つなら95%帯付き、"
            "複数なら全点と95%区間を横に並べて表示（同じ値でのばらつきは他のパラメータによる）。",
        },
    ),
    FigureSpec(
        "sweep_heatmap",
        "sweep:sweep_heatmap",
        {"en": "Two-lever grid", "ja": "2パラメータの格子"},
        {
            "en": "P(decline) (%) over the two-lever grid, one panel per policy, one colour scale; "
            "on small grids each cell also gives its 95% interval.",
            "ja": "2パラメータ格子上の価値低下確率（%）、政策別、共通の色尺度。"
            "小さな格子では各セルに95%区間も示す。",
        },
    ),
    FigureSpec(
        "sensitivity_sobol",
        "sensitivity:sensitivity_sobol",
        {"en": "Sobol sensitivity indices", "ja": "Sobol感度指数"},
        {
            "en": "Sobol indices with 95% intervals: first order S1 (filled) and total ST "
            "(hatched); parameters ranked by ST across the policy's outputs.",
            "ja": "Sobol指数（95%区間）：一次S1（塗り）と総合ST（斜線）。政策ごとにSTの大きい順。",
        },
    ),
    FigureSpec(
        "sensitivity_morris",
        "sensitivity:sensitivity_morris",
        {"en": "Morris screening", "ja": "Morrisスクリーニング"},
        {
            "en": "Morris screening: μ* (importance; bars with 95% interval) and σ (hollow; "
            "σ beyond μ* means non-linear or interacting effects); parameters ranked by μ*.",
            "ja": "Morris法：μ*（重要度、棒と95%区間）とσ（白抜き、μ*を超えると非線形・交互作用）。"
            "μ*の大きい順。",
        },
    ),
)
"""Every figure, in reading order."""


def caption(spec: FigureSpec, res: Results) -> str:
    """The caption of ``spec`` for this folder, in its language."""
    dec = res.exp.decline
    test = res.test_years_label
    base = res.label(res.baseline) if res.baseline else "—"
    return pick(spec.caption, res.lang).format(
        test=test,
        theta=f"{100 * dec.theta:g}",
        ref=dec.reference_year,
        base=base,
        a=dec.baseline_years[0],
        b=dec.baseline_years[1],
        window=dec.end_window,
    )


def title(spec: FigureSpec, lang: str) -> str:
    """The title of ``spec`` in ``lang``."""
    return pick(spec.title, lang)


Sink = Callable[[FigureSpec, "Figure"], list[str]]
"""Receives each drawn figure (inside the style), returns what it wrote, and closes it."""


@dataclass(frozen=True)
class Drawn:
    """What became of one figure of the catalogue.

    Attributes:
        name: The figure.
        files: What the sink wrote (empty when not drawn).
        skipped: Why it was not drawn (None when it was).
        seconds: Time taken to draw and save it.
        error: The exception a failed drawing raised (for ``strict``), else None.
    """

    name: str
    files: list[str]
    skipped: str | None
    seconds: float
    error: BaseException | None = None


def draw_figure(res: Results, spec: FigureSpec, sink: Sink) -> Drawn:
    """Draw one figure inside the style and hand it to ``sink``; errors become skips.

    A :class:`~wpi_abm.plots.results.Skip` is a skip with its reason; any other exception is a
    skip "failed: …" that also carries the exception, so that a caller in ``strict`` mode can
    raise it.
    """
    from wpi_abm.plots.style import plt, style

    started = time.perf_counter()
    with style(res.lang):
        try:
            fig = spec.draw(res)
        except Skip as why:
            return Drawn(spec.name, [], str(why), time.perf_counter() - started)
        except Exception as exc:
            plt.close("all")
            reason = f"failed: {type(exc).__name__}: {exc}"
            return Drawn(spec.name, [], reason, time.perf_counter() - started, exc)
        files = sink(spec, fig)
    return Drawn(spec.name, files, None, time.perf_counter() - started)


def collect(
    drawn: Drawn,
    position: int,
    made: list[str],
    skipped: list[tuple[str, str]],
    *,
    strict: bool,
    progress: Callable[[int, int, str, float], None] | None,
) -> None:
    """Add one figure's outcome to ``made`` / ``skipped``, report it, or raise (``strict``)."""
    if drawn.skipped is None:
        made += drawn.files
        if progress is not None:
            progress(position, len(CATALOGUE), drawn.name, drawn.seconds)
        return
    if drawn.error is not None:
        if strict:
            raise drawn.error
        print(f"wpi-abm: figure {drawn.name} {drawn.skipped}", file=sys.stderr)
    skipped.append((drawn.name, drawn.skipped))


def produce(
    res: Results,
    sink: Sink,
    *,
    strict: bool = False,
    progress: Callable[[int, int, str, float], None] | None = None,
) -> tuple[list[str], list[tuple[str, str]]]:
    """Draw every figure the folder allows and hand each to ``sink``, one after another.

    Args:
        res: The results folder.
        sink: Saves or embeds a figure.
        strict: Let a drawing error propagate (tests); otherwise it is reported as a skip so that
            one broken figure does not cost the others (or a finished run).
        progress: Called after each figure drawn with (position in the catalogue, catalogue
            size, name, seconds taken), so long drawing shows in logs.

    Returns:
        What the sink wrote, and (figure, reason) for figures not drawn.
    """
    made: list[str] = []
    skipped: list[tuple[str, str]] = []
    for position, spec in enumerate(CATALOGUE, 1):
        collect(
            draw_figure(res, spec, sink), position, made, skipped, strict=strict, progress=progress
        )
    return made, skipped
