"""Every word on a figure or in the report, in English and Japanese.

Keeping the words in one table means a figure function never hard-codes a language, and a missing
translation falls back to English instead of failing.
"""

from __future__ import annotations

LANGS = ("en", "ja")

TEXT: dict[str, dict[str, str]] = {
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
    # -- cost-effectiveness ---------------------------------------------------------------------
    "cost_axis": {
        "en": "Government cost per centre (M yen)",
        "ja": "センター当たり政府負担（百万円）",
    },
    "frontier": {"en": "Pareto frontier", "ja": "パレートフロンティア"},
    "sweep_points": {"en": "sweep points", "ja": "スイープ点"},
    # -- sweeps and sensitivity ----------------------------------------------------------------
    "colorbar_p": {"en": "P(decline) (%)", "ja": "価値低下の確率（%）"},
    "sobol_axis": {"en": "Sobol index (share of variance)", "ja": "Sobol指数（分散寄与率）"},
    "s1": {"en": "S1 (first order)", "ja": "S1（一次）"},
    "st": {"en": "ST (total)", "ja": "ST（総合）"},
    "morris_axis": {"en": "μ*, σ ({unit})", "ja": "μ*・σ（{unit}）"},
    "mu_star_bar": {"en": "μ* (mean |effect|, 95% interval)", "ja": "μ*（平均絶対効果、95%区間）"},
    "sigma_marker": {"en": "σ (spread of effects)", "ja": "σ（効果のばらつき）"},
    "out_p_decline": {"en": "P(decline)", "ja": "価値低下の確率"},
    "out_mean_depth": {"en": "Mean depth", "ja": "平均低下幅"},
    "out_cost_per_centre": {"en": "Cost per centre", "ja": "センター当たり費用"},
    "unit_share": {"en": "share", "ja": "割合"},
    "unit_myen": {"en": "M yen", "ja": "百万円"},
}


def t(key: str, lang: str = "en", **fields: object) -> str:
    """The text for ``key`` in ``lang`` (English if untranslated), with ``fields`` filled in."""
    entry = TEXT[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**fields) if fields else text


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
