"""Value index and decline detection.

The default decline test mirrors the seed's own measurement (MEXT measured personnel cost and paper
count in the 1st and 2nd year after support ended, relative to the last supported year): a centre
*declines* when its value index in the test years (default 11 and 12) falls more than θ (default
10%) below its value in the reference year (default 10). The same test is applied separately to
personnel cost and papers, and again at the end of all support (the last year the programme paid
the centre), which differs from year 10 under designs that pay longer.

All functions take arrays of shape (years, centres) — year ``y`` in row ``y - 1`` — so one call
handles every centre of a run, or of many runs stacked side by side.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from wpi_abm.numerics import column_means, column_sums
from wpi_abm.outcomes import (
    COLUMN_NAMES,
    CURVE_THETAS,
    HEADCOUNT_YEAR,
    VALUE_YEARS,
    curve_column,
)
from wpi_abm.schema.experiment import EXPECTED_PAPERS, INDICATORS, DeclineSpec

OUTCOME_COLUMNS = COLUMN_NAMES
"""Per centre-run outcomes (:func:`outcomes`), as declared in :data:`wpi_abm.outcomes.COLUMNS`."""


def value_index(
    indicators: Mapping[str, np.ndarray], weights: Mapping[str, float], baseline: tuple[int, int]
) -> np.ndarray:
    """The value index of every centre in every year.

    Each indicator is divided by its mean over the centre's baseline years, so that the index is
    about 1.0 while the centre is funded; the index is the weighted mean of these ratios. An
    indicator that is zero over a centre's baseline is left out for that centre (its weight is
    shared among the others).

    Args:
        indicators: name → (years, centres) array, for every name in ``weights``.
        weights: Indicator weights (any positive scale).
        baseline: First and last baseline year (inclusive).

    Returns:
        (years, centres) value index.
    """
    lo, hi = baseline[0] - 1, baseline[1]
    total = None
    wsum = None
    for name, w in weights.items():
        if w <= 0:
            continue
        x = np.asarray(indicators[name], dtype=float)
        base = column_means(x[lo:hi])
        usable = base > 0
        scaled = np.divide(x, base, out=np.zeros_like(x), where=usable[None, :])
        part = w * scaled
        wpart = np.where(usable, w, 0.0)
        total = part if total is None else total + part
        wsum = wpart if wsum is None else wsum + wpart
    if total is None:
        raise ValueError(f"no positive weight among {list(weights)}; allowed: {list(INDICATORS)}")
    return np.divide(total, wsum, out=np.full_like(total, np.nan), where=wsum[None, :] > 0)


def decline_index(panel: Mapping[str, np.ndarray], spec: DeclineSpec) -> np.ndarray:
    """The value index that ``spec`` measures declines with, from a run's panel.

    With ``spec.output == "expected"`` the paper indicators are the expected counts
    (``papers_expected`` …): the centre's capacity to publish, free of the year's counting noise,
    which would otherwise decide a 5% test as often as the centre does (docs/ODD.md §7.12).

    Args:
        panel: (years, centres) arrays: the head counts and paper columns the weights name.
        spec: The decline definition (weights, baseline years, which paper counts).
    """
    if spec.output == "expected":
        panel = {name: panel[EXPECTED_PAPERS.get(name, name)] for name in spec.weights}
    return value_index(panel, spec.weights, spec.baseline_years)


def relative(series: np.ndarray, reference: np.ndarray | int) -> np.ndarray:
    """Each year's value relative to the reference year (one reference year per centre allowed).

    Args:
        series: (years, centres).
        reference: A year, or one year per centre (0 or less: no reference → NaN).
    """
    years, n = series.shape
    ref = np.broadcast_to(np.asarray(reference), (n,))
    valid = (ref >= 1) & (ref <= years)
    base = series[np.clip(ref, 1, years) - 1, np.arange(n)]
    return scaled(series, np.where(valid, base, 0.0))


def scaled(series: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Each year's value relative to a level per centre (a level of 0 or less → NaN).

    Args:
        series: (years, centres).
        level: (centres,).
    """
    out = np.full_like(series, np.nan, dtype=float)
    np.divide(series, level[None, :], out=out, where=(level > 0)[None, :])
    return out


def reference_level(v: np.ndarray, spec: DeclineSpec, kind: str | None = None) -> np.ndarray:
    """The level the value measures compare with, per centre.

    Args:
        v: (years, centres) value index.
        spec: The decline definition.
        kind: ``year`` (the value index in ``spec.reference_year``) or ``pre_announcement`` (its
            mean over ``spec.pre_years``); default ``spec.reference``.
    """
    if (kind or spec.reference) == "year":
        return v[spec.reference_year - 1]
    first, last = spec.pre_years
    return column_means(v[first - 1 : last])


def _test(rel: np.ndarray, years: np.ndarray, aggregate: str) -> np.ndarray:
    """Aggregate relative values over test years (rows ``years - 1``; out-of-range → NaN)."""
    h = rel.shape[0]
    cols = np.arange(rel.shape[1])
    yrs = np.atleast_2d(years)
    vals = np.full(yrs.shape, np.nan)
    inside = (yrs >= 1) & (yrs <= h)
    vals[inside] = rel[np.clip(yrs, 1, h)[inside] - 1, np.broadcast_to(cols, yrs.shape)[inside]]
    if aggregate == "min":
        return np.min(vals, axis=0)
    return column_means(vals)


def last_supported_year(programme_money: np.ndarray) -> np.ndarray:
    """The last year each centre received programme money (0 if never).

    Args:
        programme_money: (years, centres) subsidy + matching received.
    """
    paid = programme_money > 0
    years = paid.shape[0]
    last = years - np.argmax(paid[::-1], axis=0)
    return np.where(paid.any(axis=0), last, 0)


def support_years(
    panel: Mapping[str, np.ndarray], start: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The panel in each centre's support years, for centres that start after model year 1.

    Row ``s - 1`` of a centre's column becomes its support year ``s`` (model year
    ``start + s - 1``); the rows the horizon leaves unobserved are NaN.

    Args:
        panel: (years, centres) arrays in model years.
        start: Model year of each centre's first supported year.

    Returns:
        The realigned arrays, and the support years observed per centre.
    """
    start = np.asarray(start)
    first = next(iter(panel.values()))
    years = first.shape[0]
    observed = np.maximum(years - start + 1, 0)
    if (start == 1).all():
        return dict(panel), observed
    rows = np.arange(years)[:, None] + (start - 1)[None, :]
    inside = rows < years
    cols = np.broadcast_to(np.arange(first.shape[1]), rows.shape)
    out = {}
    for name, values in panel.items():
        a = np.asarray(values, dtype=float)
        moved = np.full_like(a, np.nan)
        moved[inside] = a[rows[inside], cols[inside]]
        out[name] = moved
    return out, observed


def model_years(aligned: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The inverse of :func:`support_years` for one array: back to model years (NaN before)."""
    start = np.asarray(start)
    if (start == 1).all():
        return aligned
    years = aligned.shape[0]
    rows = np.arange(years)[:, None] - (start - 1)[None, :]
    inside = rows >= 0
    cols = np.broadcast_to(np.arange(aligned.shape[1]), rows.shape)
    out = np.full(aligned.shape, np.nan)
    out[inside] = aligned[rows[inside], cols[inside]]
    return out


def outcomes(
    panel: Mapping[str, np.ndarray], spec: DeclineSpec, observed: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Decline outcomes of every centre.

    Args:
        panel: (years, centres) arrays in support years (see :func:`support_years`): the
            value-index indicators (the ``*_expected`` paper columns with ``output:
            expected``), ``personnel_cost``, ``papers``, ``income_subsidy`` and
            ``income_matching``.
        spec: The decline definition.
        observed: Support years observed per centre (default: every row); later rows are NaN
            and count as unobserved (a centre that started late is followed for fewer years).

    Returns:
        name → per-centre array, for each of :data:`OUTCOME_COLUMNS`:

        - ``decline``: the value index in the test years (aggregated by ``spec.aggregate``) is
          more than θ below the reference year.
        - ``ratio_min``: the aggregated test-year value index relative to the reference year.
        - ``depth``: the largest drop below the reference year in any later year (0 if none).
        - ``years_below``: later years more than θ below the reference year.
        - ``recovered``: declined, and back within θ of the reference year at the horizon.
        - ``decline_personnel`` / ``personnel_ratio``, ``decline_papers`` / ``papers_ratio``: the
          same test on personnel cost and on papers (the seed's two measures).
        - ``end_year``: last year of programme money; NaN where support outlasts the horizon minus
          the test window.
        - ``decline_end`` / ``depth_end``: the test (1.0 / 0.0) and the depth relative to
          ``end_year``; NaN where not applicable.
        - ``cost``: total programme money (subsidy + matching) the centre received, M yen.
        - indicators at key years: the value index, researchers, foreign researchers, personnel
          cost and papers in the reference year (``*_ref``), and researchers, personnel cost and
          papers in the last year (``*_last``) — what sweeps keep instead of the whole panel.
        - ``decline_pre``: the decline test against the mean value index of the pre-announcement
          years (``spec.pre_years``), which anticipation of the end cannot lower.

        Beyond the binary test, relative to the *reference level* (``spec.reference``: the value
        index in the reference year, or its pre-announcement mean):

        - ``decline_05`` … ``decline_50``: the test at each θ of
          :data:`~wpi_abm.outcomes.CURVE_THETAS` (P(decline) as a curve over θ).
        - ``value_lost``: value-years lost — Σ over the years after the reference year of how far
          the value index is below the reference level (years above it count 0).
        - ``value_lost_end``: the same over the ``spec.end_window`` years after the centre's last
          year of programme money; NaN where that window passes the horizon (or no money).
        - ``value_y15``, ``value_y20``: the value index in those years relative to the reference
          level; ``researchers_y20``: the headcount in year 20 (NaN beyond the horizon).
    """
    theta = spec.theta
    v = decline_index(panel, spec)
    years = v.shape[0]
    n = v.shape[1]
    seen = np.full(n, years) if observed is None else np.minimum(observed, years)
    last_row = np.maximum(seen, 1) - 1
    cols = np.arange(n)
    ref = spec.reference_year
    offsets = np.asarray(spec.test_years) - ref
    test_years = np.repeat(np.asarray(spec.test_years)[:, None], n, axis=1)

    rel = relative(v, ref)
    ratio_test = _test(rel, test_years, spec.aggregate)
    later = rel[ref:]
    lowest = (
        np.nanmin(np.where(np.isnan(later), np.inf, later), axis=0) if len(later) else ratio_test
    )
    depth = np.maximum(0.0, 1.0 - lowest)
    below = (later < 1.0 - theta).sum(axis=0) if len(later) else np.zeros(n)
    decline = ratio_test < 1.0 - theta
    recovered = decline & (rel[last_row, cols] >= 1.0 - theta)

    personnel = _test(relative(panel["personnel_cost"], ref), test_years, spec.aggregate)
    papers = _test(relative(panel["papers"], ref), test_years, spec.aggregate)

    money = np.asarray(panel["income_subsidy"]) + np.asarray(panel["income_matching"])
    if observed is not None:
        money = np.nan_to_num(money)  # unobserved years: no money seen
    end = last_supported_year(money).astype(float)
    applicable = (end >= 1) & (end + offsets.max() <= seen)
    end_ref = np.where(applicable, end, 0).astype(int)
    rel_end = relative(v, end_ref)
    end_tests = end_ref[None, :] + offsets[:, None]
    ratio_end = _test(rel_end, end_tests, spec.aggregate)
    rows = np.arange(years)[:, None] + 1
    after = np.where(rows > end_ref[None, :], rel_end, np.inf)
    depth_end = np.where(applicable, np.maximum(0.0, 1.0 - np.min(after, axis=0)), np.nan)

    level = reference_level(v, spec)
    rel_level = scaled(v, level)
    ratio_level = _test(rel_level, test_years, spec.aggregate)
    rel_pre = scaled(v, reference_level(v, spec, "pre_announcement"))
    ratio_pre = _test(rel_pre, test_years, spec.aggregate)
    shortfall = np.maximum(0.0, 1.0 - rel_level)  # NaN stays NaN: an unusable level
    if observed is not None:
        shortfall = np.where(rows <= seen[None, :], shortfall, 0.0)
    ended = last_supported_year(money)
    window = (rows > ended[None, :]) & (rows <= ended[None, :] + spec.end_window)
    end_ok = (ended >= 1) & (ended + spec.end_window <= seen)
    beyond_years = {
        f"value_y{y}": rel_level[y - 1] if y <= years else np.full(n, np.nan) for y in VALUE_YEARS
    }
    headcount = (
        np.asarray(panel["researchers"], float)[HEADCOUNT_YEAR - 1]
        if years >= HEADCOUNT_YEAR
        else np.full(n, np.nan)
    )

    return {
        "decline": decline,
        "ratio_min": ratio_test,
        "depth": depth,
        "years_below": below.astype(float),
        "recovered": recovered,
        "decline_personnel": personnel < 1.0 - theta,
        "personnel_ratio": personnel,
        "decline_papers": papers < 1.0 - theta,
        "papers_ratio": papers,
        "end_year": np.where(applicable, end, np.nan),
        "decline_end": np.where(applicable, (ratio_end < 1.0 - theta).astype(float), np.nan),
        "depth_end": depth_end,
        "cost": column_sums(money),
        "value_ref": v[ref - 1],
        "researchers_ref": np.asarray(panel["researchers"], float)[ref - 1],
        "foreign_ref": np.asarray(panel["foreign"], float)[ref - 1],
        "personnel_ref": np.asarray(panel["personnel_cost"], float)[ref - 1],
        "papers_ref": np.asarray(panel["papers"], float)[ref - 1],
        "researchers_last": np.asarray(panel["researchers"], float)[last_row, cols],
        "personnel_last": np.asarray(panel["personnel_cost"], float)[last_row, cols],
        "papers_last": np.asarray(panel["papers"], float)[last_row, cols],
        "decline_pre": ratio_pre < 1.0 - theta,
        **{curve_column(t): ratio_level < 1.0 - t for t in CURVE_THETAS},
        "value_lost": column_sums(shortfall[ref:]),
        "value_lost_end": np.where(end_ok, column_sums(np.where(window, shortfall, 0.0)), np.nan),
        **beyond_years,
        f"researchers_y{HEADCOUNT_YEAR}": headcount,
    }
