"""From stored outcomes to the summary: probabilities, intervals, paired differences.

What is summarised, over which centre-runs, with which interval and under which column names is
declared in :mod:`wpi_abm.outcomes`; this module holds the statistics.

Centres in one run share companies, foundations, a market and a programme, so they are not
independent draws: intervals treat the *run* as the sampling unit (cluster sampling).

- P(decline) uses the Wilson score interval with Kish's effective sample size ``n / deff``, where
  the design effect ``deff`` compares the between-run variance of the decline share (ratio
  estimator) with the binomial variance; ``deff`` is never taken below 1.
- Means (depth, cost) use the ratio-estimator standard error over runs and a normal 95% interval.
- Paired differences against the baseline policy use, for each replicate, the difference of the
  two runs that share its seed (common random numbers), and a t interval over replicates.
- Cost per value-year kept is the ratio of two paired means — extra cost over value-years kept —
  with Fieller's interval (:func:`paired_ratio`).
- When the runs drew their parameters from a posterior (a ``particle`` column), every interval
  gets a *total* companion that adds the parameters' uncertainty (:func:`total_interval`).

Outcomes whose per-centre-run column the stored outcomes lack (results written before the outcome
was declared) are left out of the summary rather than reported as zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Student's t quantile: what scipy.stats.t.ppf calls, without importing scipy.stats (~1.5 s at
# the start of every run).
from scipy.special import stdtrit

from wpi_abm.experiment.plan import draw_group
from wpi_abm.outcomes import ALL, COST_EFFECTS, DEFINED, OUTCOMES, PRIMARY, Outcome

Z95 = 1.959963984540054
KEYS = ("run_id", "policy", "point", "replicate")
"""What identifies a run in the per-run sums."""
PARTICLE = "particle"
"""The posterior particle a run drew its parameters from (kept in the per-run sums when stored)."""
CENTRES = "centres"
"""The per-run count of centre-runs."""
DEFINED_SUFFIX = "_defined"
"""Per-run count of centre-runs where a column is defined: ``decline_end_defined``."""
CONTRACT = ("policy", "n", *PRIMARY.columns)
"""The columns ``summary.csv`` starts with (after sweep point columns): DESIGN.md's contract."""


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
    t = stdtrit(len(d) - 1, 0.5 + level / 2)
    return mean, mean - t * se, mean + t * se


def paired_ratio(
    extra: np.ndarray, kept: np.ndarray, level: float = 0.95
) -> tuple[float, float, float]:
    """Ratio of two paired means, Σ extra / Σ kept, with Fieller's interval: (ratio, low, high).

    ``extra`` and ``kept`` are per-replicate differences (e.g. extra cost and value-years kept
    against the baseline, from runs that share a seed). Fieller's interval is exact for a ratio of
    normal means and, unlike the delta method, honest about a denominator near zero: when the
    mean of ``kept`` is not distinguishable from zero at ``level`` the interval is unbounded, and
    both bounds are NaN. The ratio itself is NaN when the mean of ``kept`` is not positive (the
    design keeps nothing: there is no price per value-year).
    """
    a = np.asarray(extra, float)
    b = np.asarray(kept, float)
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok], b[ok]
    n = len(a)
    if n == 0 or b.mean() <= 0:
        return math.nan, math.nan, math.nan
    ma, mb = float(a.mean()), float(b.mean())
    ratio = ma / mb
    if n < 2:
        return ratio, math.nan, math.nan
    cov = np.cov(a, b, ddof=1) / n  # (co)variances of the two means
    vaa, vab, vbb = float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1])
    t2 = float(stdtrit(n - 1, 0.5 + level / 2)) ** 2
    # The ratios r with (ma - r mb)^2 <= t^2 var(ma - r mb): a quadratic in r.
    denom = mb * mb - t2 * vbb
    if denom <= 0:
        return ratio, math.nan, math.nan
    mid = ma * mb - t2 * vab
    disc = mid * mid - (ma * ma - t2 * vaa) * denom
    half = math.sqrt(max(0.0, disc))
    return ratio, (mid - half) / denom, (mid + half) / denom


def total_interval(
    y: np.ndarray,
    m: np.ndarray,
    groups: np.ndarray,
    estimate: float,
    low: float,
    high: float,
    *,
    proportion: bool,
    z: float = Z95,
) -> tuple[float, float]:
    """The total 95% interval: the Monte Carlo interval widened by the parameters' spread.

    The runs fall into draw groups, each simulated with one parameter set drawn from the
    posterior. A group's estimate p_g = Σy/Σm varies for two reasons: its parameters and its
    Monte Carlo noise, so Var(p_g) = τ² + E[v_g] with v_g the group's own ratio-estimator
    variance. The between-parameter variance τ² is estimated by moments (one-way random effects,
    never below 0): τ² = max(0, s²(p_g) − mean(v_g)). The total interval adds z·τ to each
    Monte Carlo half-width in quadrature, so it is never narrower than the Monte Carlo interval
    and equals it when the parameters do not move the outcome; proportions stay within [0, 1].

    Args:
        y: Per-run sums of the outcome's column.
        m: Per-run counts of the centre-runs it is taken over.
        groups: Each run's draw group.
        estimate: The outcome's estimate over all runs.
        low: The Monte Carlo interval's lower bound.
        high: Its upper bound.
        proportion: Clip to [0, 1].
        z: Normal quantile of the interval (1.96 for 95%).

    Returns:
        (low, high); NaN where there is no Monte Carlo interval or fewer than two groups with
        centre-runs to count.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return math.nan, math.nan
    means, within = [], []
    for g in np.unique(groups):
        yg, mg = y[groups == g], m[groups == g]
        if mg.sum() <= 0:
            continue
        p = yg.sum() / mg.sum()
        means.append(p)
        within.append(ratio_variance(yg, mg, p) if len(mg) > 1 else 0.0)
    if len(means) < 2:
        return math.nan, math.nan
    tau2 = max(0.0, float(np.var(means, ddof=1)) - float(np.mean(within)))
    spread = (z * math.sqrt(tau2)) ** 2
    lo = estimate - math.sqrt((estimate - low) ** 2 + spread)
    hi = estimate + math.sqrt((high - estimate) ** 2 + spread)
    return (max(0.0, lo), min(1.0, hi)) if proportion else (lo, hi)


INTERVALS = {"cluster_wilson": cluster_proportion, "cluster_mean": cluster_mean}
"""How each interval named in :mod:`wpi_abm.outcomes` is computed."""
DEFAULT_INTERVAL = {"proportion": "cluster_wilson", "mean": "cluster_mean"}


def _denominator(o: Outcome) -> str:
    """The per-run column counting the centre-runs an outcome is taken over."""
    if o.over == ALL:
        return CENTRES
    if o.over == DEFINED:
        return f"{o.column}{DEFINED_SUFFIX}"
    return o.over


def per_run(df: pd.DataFrame, o: Outcome) -> pd.Series:
    """An outcome's value in each run of ``df`` (per-run sums).

    Σ column / Σ centre-runs the outcome is taken over; NaN where the run has none.
    """
    return df[o.column] / df[_denominator(o)]


def run_sums(outcomes: pa.Table) -> pd.DataFrame:
    """Collapse centre-run outcomes to one row per run: sums over the run's centres.

    Every column an outcome of :data:`~wpi_abm.outcomes.OUTCOMES` summarises or is restricted to is
    summed (NaN counts as 0, a boolean as 0 or 1), and for outcomes over the defined centre-runs
    so is a ``<column>_defined`` count; ``centres`` counts the run's centre-runs. Columns the table
    lacks (outcomes stored before they were declared) are left out. Runs come in the order of
    their first rows; rows with a missing key are left out (as pandas' groupby leaves them).

    On the tables the runner writes — float and boolean columns, each run's rows together — the
    frame is, value for value and type for type, the one the pinned pandas' ``groupby(keys,
    sort=False).sum()`` gives: it makes the same additions (:func:`run_totals`). Made without
    pandas' groupby, which took ~21 ms of a worker's CPU per chunk of 100 runs (~1.7 CPU-s of the
    default experiment), against ~2.6 ms here.
    """
    keys, summed, defined = run_sum_columns(outcomes.column_names)
    key_columns = {k: outcomes.column(k).combine_chunks() for k in keys}
    codes = [_codes(key_columns[k]) for k in keys]
    keyed = np.logical_and.reduce([c >= 0 for c in codes])
    if not keyed.all():
        outcomes = outcomes.filter(pa.array(keyed))
        key_columns = {k: col.filter(pa.array(keyed)) for k, col in key_columns.items()}
        codes = [c[keyed] for c in codes]
    run, first = _runs(codes)
    out: dict[str, object] = {}
    for k in keys:
        at_first = key_columns[k].take(pa.array(first))
        if pa.types.is_dictionary(at_first.type):
            # The policy: a string column, as pandas' ``astype(str)`` of the categories gives.
            out[k] = pd.array(at_first.cast(pa.string()).to_pylist(), dtype=str)
        else:
            out[k] = at_first.to_numpy(zero_copy_only=False)
    values = np.empty((outcomes.num_rows, len(summed)))
    for j, c in enumerate(summed):
        col = outcomes.column(c)
        if col.null_count:
            col = pc.fill_null(col, False if pa.types.is_boolean(col.type) else math.nan)
        values[:, j] = col.to_numpy(zero_copy_only=False)
    missing = np.isnan(values)
    sums = run_totals(run, len(first), np.where(missing, 0.0, values))
    for j, c in enumerate(summed):
        out[c] = sums[:, j]
    for c in defined:
        known = ~missing[:, summed.index(c)]
        out[f"{c}{DEFINED_SUFFIX}"] = np.bincount(run[known], minlength=len(first))
    out[CENTRES] = np.bincount(run, minlength=len(first))
    return pd.DataFrame(out)


def run_sum_columns(stored: Iterable[str]) -> tuple[list[str], list[str], list[str]]:
    """The keys, summed columns and defined-counted columns of :func:`run_sums` for ``stored``.

    In declared order, only those the table stores.
    """
    stored = set(stored)
    restricting = [o.over for o in OUTCOMES if o.over not in (ALL, DEFINED)]
    summed = [
        c for c in dict.fromkeys([*(o.column for o in OUTCOMES), *restricting]) if c in stored
    ]
    defined = [
        c for c in dict.fromkeys(o.column for o in OUTCOMES if o.over == DEFINED) if c in stored
    ]
    keys = [*KEYS, PARTICLE] if PARTICLE in stored else list(KEYS)
    return keys, summed, defined


def _codes(column: pa.Array) -> np.ndarray:
    """Integer codes of a key column: equal values, equal codes; -1 where a value is missing.

    A dictionary column is coded by its own indices.
    """
    if pa.types.is_dictionary(column.type):
        column = column.indices
    return pd.factorize(column.to_numpy(zero_copy_only=False))[0]


def _runs(codes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The run of every row (rows with equal codes in every key) and each run's first row.

    Runs are numbered in the order of their first rows, as ``groupby(sort=False)`` orders groups:
    each key's codes split the runs of the keys before it (``pd.factorize`` numbers in order of
    first appearance).
    """
    n = len(codes[0]) if codes else 0
    run = np.zeros(n, dtype=np.int64)
    for c in codes:
        run = pd.factorize(run * (int(c.max(initial=0)) + 1) + c)[0].astype(np.int64)
    # Runs are 0, 1, … in order of first rows: the first index of each, in that order.
    first = np.unique(run, return_index=True)[1].astype(np.int64)
    return run, first


def run_totals(run: np.ndarray, n_runs: int, values: np.ndarray) -> np.ndarray:
    """Per-run column sums of ``values`` (rows × columns), by ``np.add.reduceat``.

    Each column is one contiguous array and each run's rows one segment of it, summed in
    numpy's order of additions — what pandas' groupby sum does when each group's rows are
    together (it calls this same ``reduceat``), so the last bits are pandas'. Rows of a run that
    are not next to each other are brought together first, in their order, and summed the same
    way (pandas would use its compensated sum there: the last bits may differ). A run with no
    rows sums to 0.
    """
    total = np.zeros((n_runs, values.shape[1]))
    if len(run) == 0:
        return total
    if (np.diff(run) < 0).any():
        order = np.argsort(run, kind="stable")
        run, values = run[order], values[order]
    starts = np.flatnonzero(np.r_[True, run[1:] != run[:-1]])
    columns = np.ascontiguousarray(values.T)
    total[run[starts]] = np.add.reduceat(columns, starts, axis=1).T
    return total


def available(df: pd.DataFrame) -> list[Outcome]:
    """The outcomes every run of ``df`` (per-run sums) holds, in declared order.

    Per-run sums are never NaN (:func:`run_sums` counts NaN as 0), so a NaN means a piece of
    ``df`` came from outcomes stored without that column.
    """
    return [
        o
        for o in OUTCOMES
        if all(c in df and not df[c].hasnans for c in (o.column, _denominator(o)))
    ]


def estimate(o: Outcome, g: pd.DataFrame) -> tuple[float, float, float]:
    """An outcome's estimate and 95% interval over the runs ``g`` (per-run sums).

    The interval is NaN when the outcome declares none (the estimate is the same either way).
    """
    y = g[o.column].to_numpy(float)
    m = g[_denominator(o)].to_numpy(float)
    # Both estimators give Σy/Σm; they differ in the interval.
    method = INTERVALS[o.interval or DEFAULT_INTERVAL[o.statistic]]
    value, low, high = method(y, m)
    return (value, low, high) if o.interval is not None else (value, math.nan, math.nan)


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
        first of all for sweeps), then ``runs``, then every other outcome of
        :data:`~wpi_abm.outcomes.OUTCOMES` with its interval columns (and, when the runs
        drew their parameters from a posterior, its total interval columns), then the paired
        differences against ``baseline``.
    """
    df = runs if isinstance(runs, pd.DataFrame) else pd.concat(list(runs), ignore_index=True)
    # Chunks finish in any order; sum in run order so the summary is identical bit for bit.
    df = df.sort_values("run_id", kind="stable").reset_index(drop=True)
    present = available(df)
    uncertain = PARTICLE in df.columns
    rows = []
    for (point, policy), g in df.groupby(["point", "policy"], sort=False):
        row: dict[str, object] = {
            "point": point,
            "policy": policy,
            "n": int(g[CENTRES].to_numpy(float).sum()),
            "runs": len(g),
        }
        for o in present:
            est = estimate(o, g)
            row.update(zip(o.columns, est[: len(o.columns)], strict=True))
            if uncertain and o.total_columns:
                total = total_interval(
                    g[o.column].to_numpy(float),
                    g[_denominator(o)].to_numpy(float),
                    draw_group(g["replicate"].to_numpy()),
                    *est,
                    proportion=o.statistic == "proportion",
                )
                row.update(zip(o.total_columns, total, strict=True))
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    if baseline is not None and baseline in set(out["policy"]):
        out = out.join(_paired(df, baseline, present), on=["point", "policy"])
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
    rest = [c for c in out.columns if c not in lead + list(CONTRACT)]
    return out[lead + list(CONTRACT) + rest].reset_index(drop=True)


def _paired(df: pd.DataFrame, baseline: str, present: list[Outcome]) -> pd.DataFrame:
    """Per (point, policy): paired differences against ``baseline`` of every paired outcome.

    For each replicate, the difference between the policy's run and the baseline's run that share
    its seed, in the outcome's per-run value (Σ column / Σ centre-runs it is taken over); then
    each cost effect of :data:`~wpi_abm.outcomes.COST_EFFECTS` from the same differences.
    """
    paired = [o for o in present if o.paired is not None]
    names = {o.name for o in paired}
    effects = [c for c in COST_EFFECTS if {c.cost, c.loss} <= names]
    values = df.assign(**{o.name: per_run(df, o) for o in paired})
    wide = values.set_index(["point", "replicate", "policy"])[[o.name for o in paired]].unstack(
        "policy"
    )
    rows = {}
    for policy in wide[paired[0].name].columns:
        for point in wide.index.get_level_values("point").unique():
            row: dict[str, float] = {}
            diffs = {}
            for o in paired:
                d = wide[o.name][policy] - wide[o.name][baseline]
                diffs[o.name] = d.xs(point, level="point").to_numpy()
                row.update(
                    zip(o.paired_columns(baseline), paired_difference(diffs[o.name]), strict=True)
                )
            for c in effects:
                # What the design keeps is the baseline's loss minus its own.
                row.update(zip(c.columns, paired_ratio(diffs[c.cost], -diffs[c.loss]), strict=True))
            rows[(point, policy)] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.MultiIndex.from_tuples(out.index, names=["point", "policy"])
    return out
