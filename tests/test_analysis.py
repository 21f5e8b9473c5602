"""Intervals and paired differences (exact values for deterministic inputs)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from wpi_abm.experiment.analysis import (
    CENTRES,
    DEFINED_SUFFIX,
    PARTICLE,
    cluster_mean,
    cluster_proportion,
    paired_difference,
    paired_ratio,
    run_sum_columns,
    run_sums,
    run_totals,
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
    # Outcomes the per-run sums lack (stored before they were declared) are left out, not zero.
    assert "value_lost" not in out and "cost_per_value_year" not in out


def test_paired_ratio_is_the_ratio_of_paired_means_with_fiellers_interval():
    # Proportional differences: the ratio is known exactly and the interval collapses onto it.
    kept = np.arange(1.0, 9.0)
    assert paired_ratio(2.0 * kept, kept) == pytest.approx((2.0, 2.0, 2.0))
    # Keeping nothing (or less) has no price per value-year.
    assert all(math.isnan(x) for x in paired_ratio(np.array([1.0, 2.0]), np.array([0.5, -0.5])))
    # Kept value not distinguishable from zero: the estimate, but an unbounded interval (NaN).
    ratio, low, high = paired_ratio(np.array([1.0, 1.0, 1.0]), np.array([0.2, -0.1, 0.2]))
    assert ratio == pytest.approx(1.0 / (0.3 / 3)) and math.isnan(low) and math.isnan(high)
    # Large samples: Fieller's interval agrees with the delta method.
    rng = np.random.default_rng(7)
    kept = rng.normal(2.0, 0.5, 4000)
    extra = 300.0 * kept + rng.normal(100.0, 50.0, 4000)
    ratio, low, high = paired_ratio(extra, kept)
    n = len(kept)
    c = np.cov(extra, kept) / n
    se = math.sqrt(c[0, 0] - 2 * ratio * c[0, 1] + ratio**2 * c[1, 1]) / kept.mean()
    assert (low, high) == pytest.approx((ratio - 1.96 * se, ratio + 1.96 * se), rel=2e-3)


def test_summary_prices_the_value_years_a_design_keeps_against_the_baseline():
    rows = []
    for policy in ("base", "better", "worse"):
        for r in range(5):
            kept = {"base": 0.0, "better": 0.1 * (r + 1), "worse": -0.2}[policy]
            extra = {"base": 0.0, "better": 150.0 * (r + 1), "worse": 10.0}[policy]
            rows.append(
                {
                    "run_id": len(rows), "policy": policy, "point": 0, "replicate": r,
                    "decline": 0, "depth": 0, "cost": 4 * (7000.0 + extra),
                    "value_lost": 4 * (5.0 - kept), "value_lost_defined": 4, "centres": 4,
                }
            )  # fmt: skip
    out = summarise(pd.DataFrame(rows), ["base", "better", "worse"], baseline="base")
    out = out.set_index("policy")
    assert out.loc["better", "value_lost_diff_vs_base"] == pytest.approx(-0.3)
    assert out.loc["better", ["cost_per_value_year", "cost_per_value_year_ci_low"]].tolist() == (
        pytest.approx([1500.0, 1500.0])
    )
    assert out[["cost_per_value_year"]].loc[["base", "worse"]].isna().all().all()


def _pandas_run_sums(outcomes: pa.Table) -> pd.DataFrame:
    """What ``run_sums`` computed with pandas' groupby until it was replaced (the reference)."""
    keys, summed, defined = run_sum_columns(outcomes.column_names)
    df = outcomes.select([*keys, *summed]).to_pandas()
    df["policy"] = df["policy"].astype(str)
    for col in defined:
        df[f"{col}{DEFINED_SUFFIX}"] = df[col].notna()
    for col in summed:
        if df[col].dtype == bool:
            df[col] = df[col].astype(float)
        elif df[col].hasnans:
            df[col] = df[col].fillna(0.0)
    g = df.groupby(keys, sort=False, observed=True)
    sums = g[[*summed, *(f"{c}{DEFINED_SUFFIX}" for c in defined)]].sum()
    sums[CENTRES] = g.size()
    return sums.reset_index()


@pytest.fixture(scope="module")
def chunk_outcomes() -> pa.Table:
    """Outcomes of a simulated chunk: 12 runs drawing from the posterior (a particle column)."""
    from wpi_abm.config import load_experiment
    from wpi_abm.experiment.plan import Chunk, Point
    from wpi_abm.experiment.runner import Job, simulate_chunk
    from wpi_abm.experiment.uncertainty import load

    exp, _ = load_experiment(sets=["replicates=12", "horizon=16"])
    job = Job(exp, (Point(0),), False, "sums", load(exp))
    res = simulate_chunk(job, Chunk(0, exp.policy_names[0], 0, 0, 0, 12))
    assert res.outcomes is not None
    return res.outcomes


def test_run_sums_are_pandas_groupby_sums_value_for_value(chunk_outcomes):
    """Same floats, counts, key types and order as pandas' ``groupby(sort=False).sum()``."""
    t = chunk_outcomes
    assert PARTICLE in t.column_names and t.num_rows == 12 * 12
    nans = [c for c in t.column_names if t.schema.field(c).type == pa.float64()]
    assert any(np.isnan(t.column(c).to_numpy()).any() for c in nans)  # NaN counts as 0
    sums = run_sums(t)
    pd.testing.assert_frame_equal(sums, _pandas_run_sums(t), check_exact=True)
    assert len(sums) == 12 and (sums[CENTRES] == 12).all()


def test_run_sums_of_rows_out_of_order_add_each_run_in_row_order(chunk_outcomes):
    """Runs are numbered by their first rows; a run's rows are brought together in order."""
    t = chunk_outcomes
    order = np.random.default_rng(3).permutation(t.num_rows)
    shuffled = t.take(pa.array(order))
    sums = run_sums(shuffled)
    run_id = shuffled.column("run_id").to_numpy()
    assert sums["run_id"].tolist() == list(dict.fromkeys(run_id.tolist()))
    # The same additions as on the table sorted by run (stably), and the same sums to rounding.
    regrouped = shuffled.take(pa.array(np.argsort(pd.factorize(run_id)[0], kind="stable")))
    pd.testing.assert_frame_equal(sums, run_sums(regrouped), check_exact=True)
    ordered = run_sums(t).set_index("run_id").loc[sums["run_id"]].reset_index()
    pd.testing.assert_frame_equal(sums, ordered, check_exact=False, rtol=1e-12)


def test_run_sums_of_several_batches_and_without_particles_are_pandas_sums(chunk_outcomes):
    t = chunk_outcomes
    batches = pa.Table.from_batches(t.to_batches(max_chunksize=50))
    assert batches.column("depth").num_chunks > 1
    plain = t.drop_columns([PARTICLE])
    for table in (batches, plain):
        pd.testing.assert_frame_equal(run_sums(table), _pandas_run_sums(table), check_exact=True)
    assert PARTICLE not in run_sums(plain)


def test_rows_with_a_missing_key_are_left_out_as_pandas_leaves_them(chunk_outcomes):
    t = chunk_outcomes
    replicate = t.column("replicate").to_pylist()
    replicate[:12] = [None] * 12  # the first run's rows
    holed = t.set_column(
        t.column_names.index("replicate"), "replicate", pa.array(replicate, pa.int32())
    )
    sums = run_sums(holed)
    assert len(sums) == 11 and sums["run_id"].tolist() == run_sums(t)["run_id"].tolist()[1:]
    # (pandas reads an integer key with nulls as floats; the key keeps its own type here.)
    reference = _pandas_run_sums(holed)
    pd.testing.assert_frame_equal(sums, reference, check_exact=True, check_dtype=False)


def test_run_sums_of_nothing_has_the_columns_and_types():
    t = pa.table(
        {
            "run_id": pa.array([], pa.int64()),
            "policy": pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), pa.array(["a"])),
            "point": pa.array([], pa.int32()),
            "replicate": pa.array([], pa.int32()),
            "decline": pa.array([], pa.bool_()),
            "depth": pa.array([], pa.float64()),
            "decline_end": pa.array([], pa.float64()),
        }
    )
    pd.testing.assert_frame_equal(run_sums(t), _pandas_run_sums(t), check_exact=True)


def test_run_totals_are_numpys_reduceat_over_each_runs_rows():
    values = np.array([[1e16, 1.0], [1.0, 2.0], [1.0, np.inf], [-1e16, 4.0], [5.0, 6.0]])
    run = np.array([0, 0, 0, 0, 1])
    total = run_totals(run, 2, values)
    # numpy's additions, not the naive sum in row order (which gives 0.0 here): pandas' bits.
    expected = np.add.reduceat(np.ascontiguousarray(values[:, 0]), [0, 4])
    assert total[:, 0].tolist() == expected.tolist() == [2.0, 5.0]
    assert total[:, 1].tolist() == [np.inf, 6.0]
    assert total[1].tolist() == [5.0, 6.0]
    # A run that never appears sums to 0; rows apart are summed as if together.
    apart = run_totals(np.array([0, 2, 0]), 3, np.array([[1.0], [2.0], [3.0]]))
    assert apart[:, 0].tolist() == [4.0, 0.0, 2.0]
