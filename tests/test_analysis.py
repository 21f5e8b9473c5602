"""Intervals and paired differences (exact values for deterministic inputs)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wpi_abm.experiment.analysis import (
    cluster_mean,
    cluster_proportion,
    paired_difference,
    summarise,
    wilson,
)


def test_wilson_matches_the_textbook_values():
    # statsmodels' proportion_confint(10, 100, method="wilson")
    low, high = wilson(10, 100)
    assert low == pytest.approx(0.05522914, abs=1e-7)
    assert high == pytest.approx(0.17436566, abs=1e-7)
    assert wilson(0, 50)[0] == pytest.approx(0.0, abs=1e-15) and wilson(50, 50)[1] == 1.0


def test_cluster_proportion_without_clustering_equals_wilson():
    # Runs of one centre each: no clustering; the unbiased variance gives deff = n / (n - 1).
    y = np.array([1] * 10 + [0] * 90)
    p, low, high = cluster_proportion(y, np.ones(100))
    assert p == 0.1
    assert (low, high) == pytest.approx(wilson(9.9, 99))


def test_clustered_runs_widen_the_interval():
    # Whole runs decline together: 10 of 100 runs, 12 centres each.
    y = np.array([12] * 10 + [0] * 90)
    m = np.full(100, 12)
    p, low, high = cluster_proportion(y, m)
    naive = wilson(120, 1200)
    assert p == 0.1 and low < naive[0] and high > naive[1]
    # All-or-nothing runs: the effective sample is the number of runs.
    assert (low, high) == pytest.approx(wilson(10, 100), rel=0.02)


def test_cluster_mean_interval():
    mean, low, high = cluster_mean(np.array([1.0, 3.0]), np.array([1.0, 1.0]))
    assert mean == 2.0 and high - low == pytest.approx(2 * 1.959964 * 1.0)


def test_paired_difference_uses_a_t_interval():
    mean, _, high = paired_difference(np.array([0.1, 0.2, 0.3]))
    assert mean == pytest.approx(0.2)
    assert high - mean == pytest.approx(4.302653 * 0.1 / math.sqrt(3), rel=1e-6)


def test_summarise_orders_policies_and_puts_contract_columns_first():
    rows = []
    for policy, share in (("b", 0.5), ("a", 0.25)):
        for r in range(4):
            rows.append(
                {
                    "run_id": len(rows), "policy": policy, "point": 0, "replicate": r,
                    "decline": share * 4, "depth": 0.4, "cost": 7000.0 * 4,
                    "decline_personnel": 0, "decline_papers": 0, "years_below": 0,
                    "recovered": 0, "decline_end_defined": 4, "decline_end": 1, "centres": 4,
                }
            )  # fmt: skip
    out = summarise(pd.DataFrame(rows), ["a", "b"], baseline="a")
    assert list(out.columns[:5]) == ["policy", "n", "p_decline", "ci_low", "ci_high"]
    assert out["policy"].tolist() == ["a", "b"]
    assert out["n"].tolist() == [16, 16]
    assert out["p_decline"].tolist() == [0.25, 0.5]
    assert out["cost_per_centre"].tolist() == [7000.0, 7000.0]
    assert out["diff_vs_a"].tolist() == [0.0, 0.25]
    assert out["p_decline_end"].tolist() == [0.25, 0.25]
    assert ((out["ci_low"] <= out["p_decline"]) & (out["p_decline"] <= out["ci_high"])).all()
