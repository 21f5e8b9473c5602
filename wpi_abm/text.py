"""Every word on a figure or in the report, in English and Japanese, and the rule for choosing.

Keeping the words in one table means a figure or a report section never hard-codes a language, and
a missing translation falls back to English instead of failing (:func:`pick`, the one place that
rule is written). Outcome labels live with the outcomes (:mod:`wpi_abm.outcomes`) and each figure's
title and caption with the figure (:mod:`wpi_abm.plots.catalogue`); both are chosen by
:func:`pick` too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wpi_abm.policy import PolicyDesign

LANGS = ("en", "ja")

TEXT: dict[str, dict[str, str]] = {
    # -- the programme by fiscal year (scenarios of real centres) -------------------------------
    "subsidy": {"en": "subsidy", "ja": "補助金"},
    "matching": {"en": "matching", "ja": "マッチング支援"},
    "record": {"en": "record (subsidy CSV)", "ja": "実績（補助金CSV）"},
    "fiscal_year": {"en": "fiscal year", "ja": "年度"},
    "government_cost": {"en": "government cost, M yen", "ja": "政府負担（百万円）"},
    "centres_below": {"en": "centres below reference", "ja": "基準を下回る拠点数"},
    "p_decline_centre": {"en": "P(decline), % of runs", "ja": "価値低下の確率（試行の%）"},
    # -- shared axes ---------------------------------------------------------------------------
    "p_decline_axis": {
        "en": "P(decline) (% of centre-runs)",
        "ja": "価値低下の確率（センター×試行の%）",
    },
    "p_decline_axis2": {
        "en": "P(decline)\n(% of centre-runs)",
        "ja": "価値低下の確率\n（センター×試行の%）",
    },
    "test_label": {
        "en": "years {test} vs year {ref}",
        "ja": "{test}年目 対 {ref}年目",
    },
    "end_label": {
        "en": "at end of support (vs last supported year)",
        "ja": "支援終了時（支援最終年度比）",
    },
    "diff_axis": {
        "en": "Paired difference in P(decline) (percentage points)\nvs {base}",
        "ja": "価値低下の確率の対応のある差（ポイント）\n{base}との比較",
    },
    "baseline": {"en": "baseline", "ja": "基準"},
    "baseline_of": {"en": "{label} (baseline)", "ja": "{label}（基準）"},
    "support_year": {"en": "Support year", "ja": "支援年"},
    "years_after": {"en": "Years after year {ref}", "ja": "{ref}年目からの経過年数"},
    "median": {"en": "median", "ja": "中央値"},
    "band50": {"en": "50% of centre-runs", "ja": "50%範囲"},
    "band90": {"en": "90% of centre-runs", "ja": "90%範囲"},
    "range90": {"en": "5–95% of centre-runs", "ja": "5–95%範囲"},
    "ref_year": {"en": "year {ref} (reference)", "ja": "{ref}年目（基準年）"},
    "end_support": {"en": "end of support (design)", "ja": "支援終了（制度上）"},
    "theta_line": {"en": "decline threshold (−{theta}%)", "ja": "低下の閾値（−{theta}%）"},
    "no_end": {"en": "support outlasts the horizon", "ja": "支援が期間末まで継続"},
    "no_end_short": {"en": "no end of support", "ja": "支援終了なし"},
    "total_label": {
        "en": "95% interval with parameter uncertainty (thin)",
        "ja": "パラメータの不確実性を含む95%区間（細線）",
    },
    # -- indicators ----------------------------------------------------------------------------
    "value_index": {
        "en": "Value index (1 = mean of years {a}–{b})",
        "ja": "価値指数（{a}–{b}年目平均＝1）",
    },
    "researchers": {"en": "Researchers (headcount)", "ja": "研究者数（人）"},
    "domestic": {"en": "domestic", "ja": "国内"},
    "foreign": {"en": "foreign", "ja": "外国人"},
    "personnel_cost": {"en": "Personnel cost (M yen per year)", "ja": "人件費（百万円／年）"},
    "papers": {"en": "Papers per year", "ja": "論文数（年）"},
    "personnel_cost_short": {"en": "Personnel cost", "ja": "人件費"},
    "papers_short": {"en": "Papers", "ja": "論文数"},
    # -- after support (the seed's chart) ------------------------------------------------------
    "pct_last_year": {"en": "% of last supported year", "ja": "支援最終年度比（%）"},
    "after_1": {"en": "1st year after support", "ja": "支援終了1年目"},
    "after_2": {"en": "2nd year after support", "ja": "支援終了2年目"},
    # -- income ---------------------------------------------------------------------------------
    "income_axis": {"en": "Income (M yen per year)", "ja": "収入（百万円／年）"},
    "income_subsidy": {"en": "Programme subsidy", "ja": "補助金"},
    "income_matching": {"en": "Matching support", "ja": "マッチング支援"},
    "income_host": {"en": "Host institution", "ja": "ホスト機関"},
    "income_grants": {"en": "Competitive grants", "ja": "競争的資金"},
    "income_company": {"en": "Company partnership", "ja": "企業連携"},
    "income_endowment": {"en": "Endowment payout", "ja": "基金運用益"},
    # -- survival -------------------------------------------------------------------------------
    "survival_axis": {
        "en": "Centres never below the line (% of centre-runs)",
        "ja": "閾値を下回っていないセンター（%）",
    },
    "test_band": {"en": "years of the decline test ({test})", "ja": "低下判定の年（{test}年目）"},
    # -- cost-effectiveness ---------------------------------------------------------------------
    "cost_axis": {
        "en": "Government cost per centre (M yen)",
        "ja": "センター当たり政府負担（百万円）",
    },
    "frontier": {"en": "Pareto frontier", "ja": "パレートフロンティア"},
    "loss_end_axis": {
        "en": "Value-years lost after end of support\n(per centre)",
        "ja": "支援終了後に失われた価値・年\n（センター当たり）",
    },
    "p_end_axis": {
        "en": "P(decline at end of support)\n(% of centre-runs)",
        "ja": "支援終了時の価値低下確率\n（センター×試行の%）",
    },
    "improves": {"en": "element improves the outcome", "ja": "指標を改善する要素"},
    "worsens": {"en": "element worsens the outcome", "ja": "指標を悪化させる要素"},
    "theta_axis": {
        "en": "Threshold θ (% drop below the reference level)",
        "ja": "閾値θ（基準水準からの低下率、%）",
    },
    "sweep_points": {"en": "sweep points", "ja": "スイープ点"},
    # -- sweeps and sensitivity ----------------------------------------------------------------
    "colorbar_p": {"en": "P(decline) (%)", "ja": "価値低下の確率（%）"},
    "ci95": {"en": "95% interval", "ja": "95%区間"},
    "sobol_axis": {"en": "Sobol index (share of variance)", "ja": "Sobol指数（分散寄与率）"},
    "s1": {"en": "S1 (first order)", "ja": "S1（一次）"},
    "st": {"en": "ST (total)", "ja": "ST（総合）"},
    "morris_axis": {"en": "μ*, σ ({unit})", "ja": "μ*・σ（{unit}）"},
    "mu_star_bar": {"en": "μ* (mean |effect|, 95% interval)", "ja": "μ*（平均絶対効果、95%区間）"},
    "sigma_marker": {"en": "σ (spread of effects)", "ja": "σ（効果のばらつき）"},
    "unit_share": {"en": "share", "ja": "割合"},
    "unit_myen": {"en": "M yen", "ja": "百万円"},
    "unit_years": {"en": "years", "ja": "年"},
    # -- the report's headings -----------------------------------------------------------------
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
}


def pick(entry: Mapping[str, str], lang: str) -> str:
    """``entry``'s text in ``lang``, or in English when it has none."""
    return entry.get(lang) or entry["en"]


def t(key: str, lang: str = "en", **fields: object) -> str:
    """The text for ``key`` in ``lang`` (English if untranslated), with ``fields`` filled in."""
    text = pick(TEXT[key], lang)
    return text.format(**fields) if fields else text


def policy_label(design: PolicyDesign, lang: str = "en") -> str:
    """A policy design's label in ``lang``: ``label_ja`` in Japanese, else its English label."""
    return pick({"en": design.display, "ja": design.label_ja}, lang)


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported.

    Raises:
        ConfigError: Not one of :data:`LANGS`.
    """
    if lang not in LANGS:
        from wpi_abm.errors import ConfigError

        raise ConfigError(
            f"language '{lang}' is not supported; allowed: {', '.join(LANGS)}", field="lang"
        )
    return lang
