"""The outcome registry: what metrics computes, what the summary holds, and adding an outcome."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from test_metrics import SPEC, flat, panel

from wpi_abm import outcomes as registry
from wpi_abm.experiment import analysis
from wpi_abm.metrics import outcomes
from wpi_abm.outcomes import COLUMN_NAMES, COST_EFFECTS, OUTCOMES, PRIMARY, Outcome

GOLDEN = Path(__file__).parent / "data" / "golden"


def test_metrics_computes_exactly_the_declared_columns_in_order():
    assert tuple(outcomes(panel(flat([0.85, 0.85])), SPEC)) == COLUMN_NAMES


def test_the_summary_has_the_declared_columns_in_order():
    summary = pd.read_csv(GOLDEN / "beyond_summary.csv")
    expected = ["policy", "n", *PRIMARY.columns, "runs"]
    expected += [c for o in OUTCOMES for c in o.columns if c not in PRIMARY.columns]
    expected += [c for o in OUTCOMES if o.paired for c in o.paired_columns("legacy")]
    expected += [c for effect in COST_EFFECTS for c in effect.columns]
    assert list(summary.columns) == expected
    # A summary of outcomes stored before an outcome was declared leaves that outcome out.
    old = pd.read_csv(GOLDEN / "run_summary.csv")
    stored = set(pq.read_schema(GOLDEN / "run_outcomes.parquet").names)
    kept = [o for o in OUTCOMES if o.column in stored]
    assert len(kept) < len(OUTCOMES)
    assert list(old.columns) == [
        "policy", "n", *PRIMARY.columns, "runs",
        *(c for o in kept for c in o.columns if c not in PRIMARY.columns),
        *(c for o in kept if o.paired for c in o.paired_columns("legacy")),
    ]  # fmt: skip


def test_entries_are_consistent():
    names = [o.name for o in OUTCOMES]
    assert len(names) == len(set(names))
    assert registry.sensitivity_outputs() == ("p_decline", "mean_depth", "cost_per_centre")
    assert PRIMARY.columns == ("p_decline", "ci_low", "ci_high")  # the DESIGN.md contract
    assert registry.label("p_decline", "ja") == "価値低下の確率"
    assert registry.label("p_decline", "fr") == "P(decline)"  # English when untranslated
    with pytest.raises(KeyError, match="known: p_decline"):
        registry.outcome("nope")
    with pytest.raises(ValueError, match="no paired difference"):
        registry.outcome("mean_depth").paired_columns("legacy")
    assert [o.name for o in registry.decomposed()] == [
        "p_decline", "cost_per_centre", "p_decline_end", "value_lost", "value_lost_end",
        "value_y15", "researchers_y20",
    ]  # fmt: skip
    assert [o.column for o in registry.CURVE] == [
        "decline_05", "decline_10", "decline_20", "decline_30", "decline_50",
    ]  # fmt: skip
    assert registry.label("cost_per_value_year") == "Cost per value-year kept (M yen)"


def test_adding_an_outcome_is_one_entry(monkeypatch: pytest.MonkeyPatch):
    """A new entry over a stored column appears in the summary with its interval."""
    entry = Outcome(
        "mean_papers_ref", "papers_ref", "mean", "years", "higher", {"en": "Papers, year 10"},
        interval="cluster_mean", ci="papers_ref_ci",
    )  # fmt: skip
    monkeypatch.setattr(analysis, "OUTCOMES", (*OUTCOMES, entry))
    table = pq.read_table(GOLDEN / "run_outcomes.parquet")
    summary = analysis.summarise([analysis.run_sums(table)], ["legacy"], None)
    row = summary.set_index("policy").loc["legacy"]
    df = table.to_pandas()
    papers = df[df["policy"].astype(str) == "legacy"]["papers_ref"]
    assert row["mean_papers_ref"] == pytest.approx(papers.mean())
    assert row["papers_ref_ci_low"] < row["mean_papers_ref"] < row["papers_ref_ci_high"]
    # and the existing columns do not move
    before = pd.read_csv(GOLDEN / "run_summary.csv").set_index("policy").loc["legacy"]
    for col in ("p_decline", "ci_low", "mean_depth", "p_recovered", "p_decline_end"):
        assert row[col] == before[col]


def test_a_proportion_over_a_subset_counts_only_that_subset():
    # p_recovered is taken among the centre-runs that declined (over="decline")
    table = pq.read_table(GOLDEN / "run_outcomes.parquet")
    df = table.to_pandas()
    summary = analysis.summarise([analysis.run_sums(table)], ["legacy"], None)
    legacy = df[df["policy"].astype(str) == "legacy"]
    expected = legacy["recovered"].sum() / legacy["decline"].sum()
    assert summary.set_index("policy").loc["legacy", "p_recovered"] == pytest.approx(expected)
    ended = legacy["decline_end"].dropna()
    assert summary.set_index("policy").loc["legacy", "p_decline_end"] == pytest.approx(ended.mean())
    # a design under which no centre-run declined has no recovery share (not zero)
    never = summary.set_index("policy")["p_decline"] == 0
    assert never.any() and summary.set_index("policy").loc[never, "p_recovered"].isna().all()
