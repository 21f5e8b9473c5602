"""From stored outcomes to the summary: probabilities, intervals, paired differences.

Centres in one run share companies, foundations, a market and a programme, so they are not
independent draws: intervals treat the *run* as the sampling unit (cluster sampling).

- P(decline) uses the Wilson score interval with Kish's effective sample size ``n / deff``, where
  the design effect ``deff`` compares the between-run variance of the decline share (ratio
  estimator) with the binomial variance; ``deff`` is never taken below 1.
- Means (depth, cost) use the ratio-estimator standard error over runs and a normal 95% interval.
- Paired differences against the baseline policy use, for each replicate, the difference of the
  two runs that share its seed (common random numbers), and a t interval over replicates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import stats

Z95 = 1.959963984540054

RUN_SUMS = (
    "decline", "depth", "cost", "decline_personnel", "decline_papers", "years_below",
    "recovered", "end_applicable", "decline_end",
)  # fmt: skip


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` (``n`` may be an effective size)."""
    if n <= 0:
        return math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def cluster_proportion(y: np.ndarray, m: np.ndarray, z: float = Z95) -> tuple[float, float, float]:
    """Proportion Σy/Σm over clusters with a design-effect-adjusted Wilson interval.

    Args:
        y: Successes per cluster (run).
        m: Trials per cluster (centres in the run).
        z: Normal quantile of the interval (1.96 for 95%).

    Returns:
        (p, ci_low, ci_high).
    """
    y = np.asarray(y, float)
    m = np.asarray(m, float)
    n, r = m.sum(), len(m)
    if n == 0:
        return math.nan, math.nan, math.nan
    p = y.sum() / n
    deff = 1.0
    if r > 1 and 0 < p < 1:
        deff = max(1.0, ratio_variance(y, m, p) / (p * (1 - p) / n))
    low, high = wilson(p * n / deff, n / deff, z)
    return p, low, high


def cluster_mean(y: np.ndarray, m: np.ndarray, z: float = Z95) -> tuple[float, float, float]:
    """Mean Σy/Σm over clusters with a ratio-estimator normal interval: (mean, low, high)."""
    y = np.asarray(y, float)
    m = np.asarray(m, float)
    n, r = m.sum(), len(m)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = y.sum() / n
    if r < 2:
        return mean, math.nan, math.nan
    se = math.sqrt(ratio_variance(y, m, mean))
    return mean, mean - z * se, mean + z * se


def ratio_variance(y: np.ndarray, m: np.ndarray, estimate: float) -> float:
    """Variance of the ratio estimator Σy/Σm over r clusters (runs), evaluated at ``estimate``."""
    r = len(m)
    return float(np.sum((y - estimate * m) ** 2) / (r * (r - 1) * m.mean() ** 2))


def paired_difference(diffs: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of paired differences with a t interval: (mean, low, high)."""
    d = np.asarray(diffs, float)
    d = d[~np.isnan(d)]
    if len(d) == 0:
        return math.nan, math.nan, math.nan
    mean = float(d.mean())
    if len(d) < 2:
        return mean, math.nan, math.nan
    se = float(d.std(ddof=1)) / math.sqrt(len(d))
    t = stats.t.ppf(0.5 + level / 2, len(d) - 1)
    return mean, mean - t * se, mean + t * se


def run_sums(outcomes: pa.Table) -> pd.DataFrame:
    """Collapse centre-run outcomes to one row per run (sums over the run's centres)."""
    df = outcomes.select(
        [
            "run_id", "policy", "point", "replicate", "decline", "depth", "cost",
            "decline_personnel", "decline_papers", "years_below", "recovered", "decline_end",
        ]
    ).to_pandas()  # fmt: skip
    df["policy"] = df["policy"].astype(str)
    df["end_applicable"] = df["decline_end"].notna()
    df["decline_end"] = df["decline_end"].fillna(0.0)
    for col in ("decline", "decline_personnel", "decline_papers", "recovered"):
        df[col] = df[col].astype(float)
    g = df.groupby(["run_id", "policy", "point", "replicate"], sort=False, observed=True)
    sums = g[list(RUN_SUMS)].sum()
    sums["centres"] = g.size()
    return sums.reset_index()


def summarise(
    runs: Iterable[pd.DataFrame] | pd.DataFrame,
    policy_order: list[str],
    baseline: str | None,
    point_columns: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (point, policy): the summary table (contract columns first).

    Args:
        runs: Per-run sums (:func:`run_sums`), possibly in pieces.
        policy_order: Policies in the experiment's order.
        baseline: Policy for paired differences, or None.
        point_columns: Parameter values per point (index = point), added as columns.

    Returns:
        Columns ``policy, n, p_decline, ci_low, ci_high`` first (``point`` and parameter columns
        first of all for sweeps), then the other measures.
    """
    df = runs if isinstance(runs, pd.DataFrame) else pd.concat(list(runs), ignore_index=True)
    # Chunks finish in any order; sum in run order so the summary is identical bit for bit.
    df = df.sort_values("run_id", kind="stable").reset_index(drop=True)
    rows = []
    for (point, policy), g in df.groupby(["point", "policy"], sort=False):
        m = g["centres"].to_numpy(float)
        p, lo, hi = cluster_proportion(g["decline"], m)
        depth, depth_lo, depth_hi = cluster_mean(g["depth"], m)
        cost, cost_lo, cost_hi = cluster_mean(g["cost"], m)
        p_pers, _, _ = cluster_proportion(g["decline_personnel"], m)
        p_pap, _, _ = cluster_proportion(g["decline_papers"], m)
        applicable = g["end_applicable"].to_numpy(float)
        p_end, end_lo, end_hi = (
            cluster_proportion(g["decline_end"], applicable)
            if applicable.sum() > 0
            else (math.nan, math.nan, math.nan)
        )
        declined = g["decline"].sum()
        rows.append(
            {
                "point": point,
                "policy": policy,
                "n": int(m.sum()),
                "p_decline": p,
                "ci_low": lo,
                "ci_high": hi,
                "runs": len(g),
                "mean_depth": depth,
                "depth_ci_low": depth_lo,
                "depth_ci_high": depth_hi,
                "cost_per_centre": cost,
                "cost_ci_low": cost_lo,
                "cost_ci_high": cost_hi,
                "p_decline_personnel": p_pers,
                "p_decline_papers": p_pap,
                "p_decline_end": p_end,
                "end_ci_low": end_lo,
                "end_ci_high": end_hi,
                "mean_years_below": g["years_below"].sum() / m.sum(),
                "p_recovered": g["recovered"].sum() / declined if declined else math.nan,
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    if baseline is not None and baseline in set(out["policy"]):
        out = out.join(_paired(df, baseline), on=["point", "policy"])
    order = {p: i for i, p in enumerate(policy_order)}
    out = out.sort_values(
        ["point", "policy"], key=lambda s: s.map(order) if s.name == "policy" else s
    )
    if point_columns is not None and not point_columns.empty:
        out = out.join(point_columns, on="point")
        lead = ["point", *point_columns.columns]
    else:
        lead = []
        out = out.drop(columns=["point"]) if out["point"].nunique() == 1 else out
        if "point" in out.columns:
            lead = ["point"]
    contract = ["policy", "n", "p_decline", "ci_low", "ci_high"]
    rest = [c for c in out.columns if c not in lead + contract]
    return out[lead + contract + rest].reset_index(drop=True)


def _paired(df: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per (point, policy): paired differences against ``baseline`` in P(decline) and cost."""
    share = df.assign(
        share=df["decline"] / df["centres"], cost_mean=df["cost"] / df["centres"]
    ).set_index(["point", "replicate", "policy"])[["share", "cost_mean"]]
    wide = share.unstack("policy")
    rows = {}
    for policy in wide["share"].columns:
        d_p = wide["share"][policy] - wide["share"][baseline]
        d_c = wide["cost_mean"][policy] - wide["cost_mean"][baseline]
        for point in wide.index.get_level_values("point").unique():
            dp = d_p.xs(point, level="point").to_numpy()
            dc = d_c.xs(point, level="point").to_numpy()
            mean, lo, hi = paired_difference(dp)
            cmean, clo, chi = paired_difference(dc)
            rows[(point, policy)] = {
                f"diff_vs_{baseline}": mean,
                "diff_ci_low": lo,
                "diff_ci_high": hi,
                f"cost_diff_vs_{baseline}": cmean,
                "cost_diff_ci_low": clo,
                "cost_diff_ci_high": chi,
            }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.MultiIndex.from_tuples(out.index, names=["point", "policy"])
    return out
