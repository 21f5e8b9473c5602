"""Per-policy aggregates of the centre × year panel, read one policy at a time.

The default run's panel has millions of rows, so it is never loaded whole: for one policy only the
columns the figures need are read (Arrow dataset with a filter), laid out as a (centre-runs ×
years) array per indicator, reduced to quantiles, means, survival and post-support ratios, and
dropped. Memory stays at one policy's few columns (tens of MB for 1,000 runs × 12 centres).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from wpi_abm.experiment.store import OUTCOMES, RUNS
from wpi_abm.schema.experiment import DeclineSpec

QUANTILES = (5.0, 25.0, 50.0, 75.0, 95.0)
"""Percentiles over centre-runs kept per year (90% and 50% bands, median)."""
AFTER_QUANTILES = (5.0, 50.0, 95.0)
"""Percentiles of the post-support ratios."""
INCOME_SOURCES = (
    "income_subsidy",
    "income_matching",
    "income_host",
    "income_grants",
    "income_company",
    "income_endowment",
)
FAN_INDICATORS = ("value_index", "domestic", "foreign", "personnel_cost", "papers")
AFTER_INDICATORS = ("personnel_cost", "papers")
AFTER_YEARS = (1, 2)
_READ = (
    "run_id",
    "centre",
    "year",
    "value_index",
    "researchers",
    "foreign",
    "personnel_cost",
    "papers",
    *INCOME_SOURCES,
)


@dataclass(frozen=True)
class PolicyPanel:
    """What the panel figures need from one policy's centre × year panel.

    Attributes:
        policy: The policy.
        years: Support years 1..horizon.
        centre_runs: Centre-runs in the panel.
        fans: indicator → (len(QUANTILES), years) percentiles over centre-runs; indicators are
            :data:`FAN_INDICATORS` (``domestic`` = researchers − foreign).
        income: source → mean over centre-runs per year (M yen).
        survival: Share of centre-runs whose value index has stayed at or above 1 − θ of the
            reference year in every year since it, for 0, 1, … years after the reference year.
        survival_n: Centre-runs behind ``survival`` (those with a positive reference value).
        after: indicator → (len(AFTER_QUANTILES), len(AFTER_YEARS)) percentiles of the value in
            the k-th year after the last supported year, as % of that year.
        after_n: Centre-runs whose support ended early enough to be measured.
    """

    policy: str
    years: np.ndarray
    centre_runs: int
    fans: dict[str, np.ndarray]
    income: dict[str, np.ndarray]
    survival: np.ndarray
    survival_n: int
    after: dict[str, np.ndarray]
    after_n: int


def files_by_policy(files: list[Path]) -> dict[str, list[Path]]:
    """Which of the chunk ``files`` hold rows of each policy.

    Reading only the (dictionary-encoded, tiny) policy column of each file lets a policy's scan
    skip the files of other policies — a run writes one policy per chunk, so this cuts the I/O of
    a per-policy pass by the number of policies. A file holding several policies is listed under
    each, and the row filter still applies.
    """
    index: dict[str, list[Path]] = {}
    for f in files:
        column = pq.read_table(f, columns=["policy"]).column("policy")
        for name in pc.unique(column.cast(pa.string())).to_pylist():
            index.setdefault(str(name), []).append(f)
    return index


def _filter(policy: str) -> ds.Expression:
    return pc.field("policy") == policy


def _keys(run_id: np.ndarray, centre: pd.Series, categories: pd.Index) -> np.ndarray:
    """One integer per centre-run, consistent between the panel and the outcomes."""
    codes = pd.Categorical(centre, categories=categories).codes.astype(np.int64)
    return run_id.astype(np.int64) * (len(categories) + 1) + codes


def read_policy_panel(
    files: dict[str, dict[str, list[Path]]], policy: str, horizon: int, decline: DeclineSpec
) -> PolicyPanel | None:
    """Aggregate one policy's panel.

    Args:
        files: ``{RUNS: files_by_policy(...), OUTCOMES: ...}``: the panel's and the outcomes'
            chunk files by policy (:mod:`wpi_abm.experiment.store` names the folders).
        policy: Which policy.
        horizon: Years per run.
        decline: The decline definition (reference year, θ).

    Returns:
        The aggregates, or None when the panel holds no rows of ``policy``.
    """
    if not files[RUNS].get(policy):
        return None
    dataset = ds.dataset(files[RUNS][policy], format="parquet")
    # Figures are drawn in each centre's support years (results written before support years
    # were recorded have only model years, which were the same then).
    year = "support_year" if "support_year" in dataset.schema.names else "year"
    table = dataset.to_table(
        columns=[year if c == "year" else c for c in _READ], filter=_filter(policy)
    )
    if table.num_rows == 0:
        return None
    centre = table.column("centre").to_pandas().astype(str)
    categories = pd.Index(sorted(centre.unique()))
    key = _keys(table.column("run_id").to_numpy(), centre, categories)
    uniq, row = np.unique(key, return_inverse=True)
    col = table.column(year).to_numpy().astype(np.int64) - 1
    inside = (col >= 0) & (col < horizon)
    n = len(uniq)

    def grid(name: str) -> np.ndarray:
        out = np.full((n, horizon), np.nan)
        values = table.column(name).to_numpy(zero_copy_only=False).astype(float)
        out[row[inside], col[inside]] = values[inside]
        return out

    researchers = grid("researchers")
    foreign = grid("foreign")
    arrays = {
        "value_index": grid("value_index"),
        "domestic": researchers - foreign,
        "foreign": foreign,
        "personnel_cost": grid("personnel_cost"),
        "papers": grid("papers"),
    }
    income = {s: grid(s) for s in INCOME_SOURCES}

    with warnings.catch_warnings():
        # All-NaN years (e.g. a year a folder does not hold) give NaN quantiles, as they should.
        warnings.simplefilter("ignore", RuntimeWarning)
        fans = {k: np.nanpercentile(arrays[k], QUANTILES, axis=0) for k in FAN_INDICATORS}
        income_mean = {k: np.nanmean(v, axis=0) for k, v in income.items()}
    survival, survival_n = _survival(arrays["value_index"], decline)
    end = _end_years(files[OUTCOMES].get(policy, []), policy, uniq, categories)
    after, after_n = _after_support(arrays, end)
    return PolicyPanel(
        policy=policy,
        years=np.arange(1, horizon + 1),
        centre_runs=n,
        fans=fans,
        income=income_mean,
        survival=survival,
        survival_n=survival_n,
        after=after,
        after_n=after_n,
    )


def _survival(value: np.ndarray, decline: DeclineSpec) -> tuple[np.ndarray, int]:
    """Share still at or above 1 − θ of the reference year, by years since it (first passage)."""
    ref = decline.reference_year - 1
    base = value[:, ref]
    ok = np.isfinite(base) & (base > 0)
    rel = value[ok, ref:] / base[ok, None]
    # A missing year cannot show a drop; only an observed value below the line ends survival.
    above = ~(rel < 1.0 - decline.theta)
    alive = np.cumprod(above, axis=1)
    share = alive.mean(axis=0) if ok.any() else np.full(rel.shape[1], np.nan)
    return share, int(ok.sum())


def _end_years(
    files: list[Path], policy: str, keys: np.ndarray, categories: pd.Index
) -> np.ndarray:
    """Each centre-run's last supported year (outcomes.end_year; NaN where not measurable)."""
    end = np.full(len(keys), np.nan)
    if not files:
        return end
    t = ds.dataset(files, format="parquet").to_table(
        columns=["run_id", "centre", "end_year"], filter=_filter(policy)
    )
    if t.num_rows == 0:
        return end
    k = _keys(t.column("run_id").to_numpy(), t.column("centre").to_pandas().astype(str), categories)
    values = t.column("end_year").to_numpy(zero_copy_only=False).astype(float)
    pos = np.searchsorted(keys, k)
    found = (pos < len(keys)) & (keys[np.minimum(pos, len(keys) - 1)] == k)
    end[pos[found]] = values[found]
    return end


def _after_support(
    arrays: dict[str, np.ndarray], end: np.ndarray
) -> tuple[dict[str, np.ndarray], int]:
    """Percentiles of value in the k-th year after support as % of the last supported year."""
    applicable = np.isfinite(end) & (end >= 1)
    rows = np.flatnonzero(applicable)
    last = end[applicable].astype(np.int64) - 1
    out: dict[str, np.ndarray] = {}
    for name in AFTER_INDICATORS:
        x = arrays[name]
        horizon = x.shape[1]
        base = x[rows, last]
        q = np.full((len(AFTER_QUANTILES), len(AFTER_YEARS)), np.nan)
        for j, k in enumerate(AFTER_YEARS):
            later = last + k
            ok = (later < horizon) & (base > 0)
            if not ok.any():
                continue
            ratio = 100.0 * x[rows[ok], later[ok]] / base[ok]
            ratio = ratio[np.isfinite(ratio)]
            if len(ratio):
                q[:, j] = np.percentile(ratio, AFTER_QUANTILES)
        out[name] = q
    return out, len(rows)
