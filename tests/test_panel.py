"""The panel pass behind the panel figures: exact values against the straightforward computation.

The pass reads each chunk once, indexes files by policy from their footers and lays regular
panels out by reshaping; here every aggregate is compared, exactly, with what a plain pandas
pivot and ``np.nanpercentile`` give (the computation the figures used before), on the small real
run of ``test_plots`` and on rewritten copies of it whose rows are shuffled or missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from test_plots import POLICIES, build_run

from wpi_abm.experiment.store import OUTCOMES, RUNS, ResultFolder
from wpi_abm.plots import panel
from wpi_abm.plots.panel import (
    AFTER_INDICATORS,
    AFTER_QUANTILES,
    AFTER_YEARS,
    FAN_INDICATORS,
    INCOME_SOURCES,
    QUANTILES,
    PolicyPanel,
    files_by_policy,
    footer_policy,
    percentiles,
    read_policy_panel,
)
from wpi_abm.plots.results import Results


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_run(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def res(run_folder: Path) -> Results:
    return Results.load(run_folder)


def reference(root: Path, policy: str, res: Results) -> dict[str, object]:
    """The aggregates computed the plain way: a pandas pivot, sorted by (run, centre)."""
    panel_df = ds.dataset(root / RUNS).to_table().to_pandas()
    outcomes = ds.dataset(root / OUTCOMES).to_table().to_pandas()
    for df in (panel_df, outcomes):
        df["policy"] = df["policy"].astype(str)
        df["centre"] = df["centre"].astype(str)
    rows = panel_df[panel_df["policy"] == policy]
    horizon, dec = res.exp.horizon, res.exp.decline

    def wide(column: str) -> pd.DataFrame:
        w = rows.pivot_table(
            index=["run_id", "centre"], columns="support_year", values=column, aggfunc="first"
        )
        return w.reindex(columns=range(1, horizon + 1)).sort_index()

    grids = {c: wide(c) for c in ("researchers", "foreign", "value_index", "personnel_cost")}
    grids["papers"] = wide("papers")
    arrays = {
        "value_index": grids["value_index"].to_numpy(float),
        "domestic": (grids["researchers"] - grids["foreign"]).to_numpy(float),
        "foreign": grids["foreign"].to_numpy(float),
        "personnel_cost": grids["personnel_cost"].to_numpy(float),
        "papers": grids["papers"].to_numpy(float),
    }
    index = grids["value_index"].index
    fans = {k: np.nanpercentile(arrays[k], QUANTILES, axis=0) for k in FAN_INDICATORS}
    income = {s: np.nanmean(wide(s).to_numpy(float), axis=0) for s in INCOME_SOURCES}
    # survival: first passage below 1 - theta of the reference year
    ref = dec.reference_year - 1
    value = arrays["value_index"]
    base = value[:, ref]
    ok = np.isfinite(base) & (base > 0)
    above = ~(value[ok, ref:] / base[ok, None] < 1.0 - dec.theta)
    survival = np.cumprod(above, axis=1).mean(axis=0)
    # after support: the k-th year after each centre-run's last supported year
    out = outcomes[outcomes["policy"] == policy].set_index(["run_id", "centre"])["end_year"]
    end = out.reindex(index).to_numpy(float)
    rows_ok = np.flatnonzero(np.isfinite(end) & (end >= 1))
    last = end[rows_ok].astype(int) - 1
    after = {}
    for name in AFTER_INDICATORS:
        x = arrays[name]
        q = np.full((len(AFTER_QUANTILES), len(AFTER_YEARS)), np.nan)
        for j, k in enumerate(AFTER_YEARS):
            later = last + k
            good = (later < horizon) & (x[rows_ok, last] > 0)
            ratio = 100.0 * x[rows_ok[good], later[good]] / x[rows_ok[good], last[good]]
            ratio = ratio[np.isfinite(ratio)]
            if len(ratio):
                q[:, j] = np.percentile(ratio, AFTER_QUANTILES)
        after[name] = q
    return {
        "centre_runs": len(index),
        "fans": fans,
        "income": income,
        "survival": survival,
        "survival_n": int(ok.sum()),
        "after": after,
        "after_n": len(rows_ok),
    }


def assert_same(got: PolicyPanel, want: dict[str, object]) -> None:
    """Every aggregate equal, bit for bit (NaN where NaN)."""
    assert got.centre_runs == want["centre_runs"]
    assert got.survival_n == want["survival_n"]
    assert got.after_n == want["after_n"]
    np.testing.assert_array_equal(got.survival, want["survival"])
    for part in ("fans", "income", "after"):
        have, expected = getattr(got, part), want[part]
        assert have.keys() == expected.keys()
        for key in expected:
            np.testing.assert_array_equal(have[key], expected[key], err_msg=f"{part}[{key}]")


def no_scatter(*_args: object) -> None:
    raise AssertionError("took the general layout (scatter) for a regular panel")


def files(root: Path) -> dict[str, dict[str, list[Path]]]:
    folder = ResultFolder(root)
    return {d: files_by_policy(folder.chunk_files(d)) for d in (RUNS, OUTCOMES)}


def rewrite(root: Path, dest: Path, change) -> Path:
    """A copy of the folder whose panel chunks are rewritten by ``change`` (a DataFrame → one)."""
    shutil.copytree(root, dest)
    for f in sorted((dest / RUNS).glob("*.parquet")):
        table = pq.read_table(f)
        pq.write_table(pa.Table.from_pandas(change(table.to_pandas()), preserve_index=False), f)
    return dest


@pytest.mark.parametrize("policy", POLICIES)
def test_the_panel_pass_gives_the_plain_computation(res: Results, policy: str) -> None:
    got = read_policy_panel(files(res.root), policy, res.exp.horizon, res.exp.decline)
    assert got is not None
    assert got.centre_runs == 4 * 12
    assert_same(got, reference(res.root, policy, res))


def test_regular_panels_are_reshaped_not_scattered(res: Results, monkeypatch) -> None:
    """The layout a run writes is taken by reshaping (the general scatter is never needed)."""

    monkeypatch.setattr(panel, "_scatter", no_scatter)
    assert read_policy_panel(files(res.root), "legacy", res.exp.horizon, res.exp.decline)


def test_shuffled_centre_runs_are_put_back_in_order(
    res: Results, tmp_path: Path, monkeypatch
) -> None:
    """Blocks of years stored in another order of centre-runs: sorted, the same aggregates."""

    def shuffle(df: pd.DataFrame) -> pd.DataFrame:
        blocks = df.groupby(["run_id", "centre"], observed=True, sort=False).ngroup()
        order = np.random.default_rng(3).permutation(blocks.max() + 1)
        return df.iloc[np.argsort(order[blocks.to_numpy()], kind="stable")]

    root = rewrite(res.root, tmp_path / "shuffled", shuffle)
    monkeypatch.setattr(panel, "_scatter", no_scatter)
    for policy in ("legacy", "taper"):
        got = read_policy_panel(files(root), policy, res.exp.horizon, res.exp.decline)
        assert_same(got, reference(res.root, policy, res))


def test_missing_years_take_the_general_layout(res: Results, tmp_path: Path) -> None:
    """A panel with rows left out and rows reversed: missing cells stay NaN, values agree."""

    def holes(df: pd.DataFrame) -> pd.DataFrame:
        drop = (df["support_year"] == 13) & (df["centre"].astype(str) == "C01")
        return df[~drop].iloc[::-1]

    root = rewrite(res.root, tmp_path / "holes", holes)
    for policy in ("legacy", "reform_2024"):
        got = read_policy_panel(files(root), policy, res.exp.horizon, res.exp.decline)
        assert np.isfinite(got.fans["value_index"]).all()  # other centres still have year 13
        assert_same(got, reference(root, policy, res))


def test_files_are_indexed_from_their_footers(res: Results, tmp_path: Path, monkeypatch) -> None:
    chunks = ResultFolder(res.root).chunk_files(RUNS)
    by_column: dict[str, list[Path]] = {}
    for f in chunks:
        for name in pq.read_table(f, columns=["policy"]).column("policy").unique().to_pylist():
            by_column.setdefault(str(name), []).append(f)
    assert files_by_policy(chunks) == by_column
    assert footer_policy(chunks[0]) == str(pq.read_table(chunks[0])["policy"][0])
    # Two policies in one file, or no statistics: the footer cannot tell; the column does.
    mixed = tmp_path / "mixed.parquet"
    pq.write_table(pa.concat_tables([pq.read_table(f) for f in chunks[:2]]), mixed)
    bare = tmp_path / "bare.parquet"
    pq.write_table(pq.read_table(chunks[0]), bare, write_statistics=False)
    assert footer_policy(mixed) is None and footer_policy(bare) is None
    first, second = (str(pq.read_table(f)["policy"][0]) for f in chunks[:2])
    index = files_by_policy([mixed, bare])
    assert index[first] == [mixed, bare] and index.get(second, [])[:1] == [mixed]
    # A mixed file is read with the row filter: each policy gets its own rows only.
    monkeypatch.setattr(panel, "footer_policy", lambda _f: None)
    got = read_policy_panel(files(res.root), "taper", res.exp.horizon, res.exp.decline)
    assert_same(got, reference(res.root, "taper", res))


@pytest.mark.filterwarnings("ignore:All-NaN slice encountered:RuntimeWarning")
def test_percentiles_are_nanpercentile() -> None:
    rng = np.random.default_rng(0)
    x = np.round(rng.lognormal(size=(500, 7)), 2)  # ties too
    np.testing.assert_array_equal(percentiles(x, QUANTILES), np.nanpercentile(x, QUANTILES, axis=0))
    x[3, 2] = x[:, 5] = np.nan
    np.testing.assert_array_equal(percentiles(x, QUANTILES), np.nanpercentile(x, QUANTILES, axis=0))


def test_results_index_the_folder_once(res: Results) -> None:
    """What is sent to the figure workers carries the index, so they do not rebuild it."""
    fresh = Results.load(res.root)
    index = fresh.panel_files()
    assert fresh.panel_files() is index
    assert set(index[RUNS]) == set(POLICIES)
