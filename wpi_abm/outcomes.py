"""The outcomes, declared as data: what is measured per centre-run and what is reported per policy.

Two tables, read by every stage so that each rule is written once:

- :data:`COLUMNS` — what :func:`wpi_abm.metrics.outcomes` computes for every centre-run and the
  experiment stores in ``outcomes/*.parquet``, in that order.
- :data:`OUTCOMES` — what ``summary.csv`` reports per policy (and sweep point), in column order:
  which per-centre-run column each summarises, over which centre-runs, as a proportion or a mean,
  how its 95% interval is computed and named, whether a paired difference against the baseline
  policy is reported, its unit, which direction is better, and its label in English and Japanese.
  :mod:`wpi_abm.experiment.analysis` computes the summary from it, ``wpi-abm sensitivity`` offers
  the flagged ones as outputs, and the figures and the report take names, units and labels from it.

Adding an outcome is one :class:`Outcome` entry here, plus — when it summarises a new per-centre-run
measure — that measure's computation in :mod:`wpi_abm.metrics` and its :class:`Column` line.

Intervals (see :mod:`wpi_abm.experiment.analysis` for the formulas): runs are clusters (centres in
one run share companies, foundations and a programme), so a proportion gets a Wilson interval with
Kish's effective sample size (``cluster_wilson``) and a mean the ratio-estimator normal interval
(``cluster_mean``); a paired difference is the mean over replicates of the difference between the
two runs that share a seed, with a t interval.

This module imports nothing heavier than the standard library (and the package's word table), so
any stage may read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from wpi_abm.text import pick

type Statistic = Literal["proportion", "mean"]
type Interval = Literal["cluster_wilson", "cluster_mean"]
type Unit = Literal["share", "myen", "years", "value_years", "people"]
type Better = Literal["lower", "higher"]

ALL = "all"
"""``Outcome.over``: every centre-run."""
DEFINED = "defined"
"""``Outcome.over``: the centre-runs where the outcome's column is defined (not NaN)."""


@dataclass(frozen=True)
class Column:
    """A per-centre-run measure, as stored in ``outcomes/*.parquet``.

    Attributes:
        name: Column name (a key of :func:`wpi_abm.metrics.outcomes`).
        unit: ``bool`` for a 0/1 test, else what the number counts.
        description: What it measures (the metrics docstring says how).
    """

    name: str
    unit: str
    description: str


@dataclass(frozen=True)
class Outcome:
    """A per-policy outcome: one ``summary.csv`` column (with its interval and paired columns).

    Attributes:
        name: The summary column, e.g. ``p_decline``.
        column: The per-centre-run column it summarises (one of :data:`COLUMNS`).
        statistic: ``proportion`` (a 0/1 column: the share of centre-runs where it is 1) or
            ``mean`` (its mean per centre-run). Both are Σ column / Σ centre-runs over runs.
        over: Which centre-runs count: :data:`ALL`, :data:`DEFINED` (those where the column is not
            NaN), or the name of a 0/1 column (those where it is 1).
        interval: How the 95% interval is computed, or None for the estimate alone.
        ci: Prefix of the interval columns: ``ci`` gives ``ci_low`` and ``ci_high``.
        paired: Prefix of the paired difference against the baseline policy, or None: ``diff``
            gives ``diff_vs_<baseline>``, ``diff_ci_low`` and ``diff_ci_high``.
        unit: ``share`` (0–1, shown as %), ``myen`` (million yen), ``years``, ``value_years``
            (years × the reference level of the value index) or ``people``.
        better: Which direction is better for the centres.
        label: Short label per language (``en`` required).
        sensitivity: Offered as an output of ``wpi-abm sensitivity`` (and analysed by default).
        decompose: A headline outcome that ``wpi-abm decompose`` splits into each design
            element's contribution.
    """

    name: str
    column: str
    statistic: Statistic
    unit: Unit
    better: Better
    label: Mapping[str, str]
    over: str = ALL
    interval: Interval | None = None
    ci: str | None = None
    paired: str | None = None
    sensitivity: bool = False
    decompose: bool = False

    @property
    def low(self) -> str | None:
        """The lower-bound column, or None."""
        return f"{self.ci}_low" if self.ci else None

    @property
    def high(self) -> str | None:
        """The upper-bound column, or None."""
        return f"{self.ci}_high" if self.ci else None

    @property
    def columns(self) -> tuple[str, ...]:
        """The estimate and its interval columns, as in ``summary.csv``."""
        return (self.name, f"{self.ci}_low", f"{self.ci}_high") if self.ci else (self.name,)

    @property
    def total_columns(self) -> tuple[str, str] | None:
        """The total (Monte Carlo and parameter) interval's columns, or None without an interval.

        ``ci`` gives ``ci_low_total`` and ``ci_high_total``; ``summary.csv`` has them when the
        runs drew their parameters from a posterior (``wpi-abm run --uncertainty posterior``).
        """
        return (f"{self.ci}_low_total", f"{self.ci}_high_total") if self.ci else None

    def paired_columns(self, baseline: str) -> tuple[str, str, str]:
        """The paired-difference columns against ``baseline``: (difference, low, high).

        Raises:
            ValueError: The outcome has no paired difference.
        """
        if self.paired is None:
            raise ValueError(f"outcome '{self.name}' has no paired difference")
        p = self.paired
        return f"{p}_vs_{baseline}", f"{p}_ci_low", f"{p}_ci_high"


CURVE_THETAS: tuple[float, ...] = (0.05, 0.10, 0.20, 0.30, 0.50)
"""Thresholds θ of the P(decline) curve (one 0/1 column and one summary column each)."""
VALUE_YEARS: tuple[int, ...] = (15, 20)
"""Years whose value index (relative to the reference) is kept (NaN beyond the horizon)."""
HEADCOUNT_YEAR = 20
"""The year whose headcount is kept: researchers retained long after support."""


def curve_column(theta: float) -> str:
    """The per-centre-run column of the decline test at ``theta``: 0.05 → ``decline_05``."""
    return f"decline_{round(100 * theta):02d}"


COLUMNS: tuple[Column, ...] = (
    Column("decline", "bool", "value index in the test years more than θ below the reference year"),
    Column("ratio_min", "ratio", "test-year value index relative to the reference year"),
    Column("depth", "share", "largest drop below the reference year in any later year"),
    Column("years_below", "years", "later years more than θ below the reference year"),
    Column("recovered", "bool", "declined, and back within θ of the reference year at the horizon"),
    Column("decline_personnel", "bool", "the decline test on personnel cost"),
    Column("personnel_ratio", "ratio", "test-year personnel cost relative to the reference year"),
    Column("decline_papers", "bool", "the decline test on papers"),
    Column("papers_ratio", "ratio", "test-year papers relative to the reference year"),
    Column("end_year", "year", "last year of programme money (NaN: support outlasts the test)"),
    Column("decline_end", "bool", "the decline test relative to end_year (NaN: not applicable)"),
    Column("depth_end", "share", "largest drop after end_year (NaN: not applicable)"),
    Column("cost", "M yen", "programme money (subsidy + matching) the centre received"),
    Column("value_ref", "index", "value index in the reference year"),
    Column("researchers_ref", "people", "researchers in the reference year"),
    Column("foreign_ref", "people", "foreign researchers in the reference year"),
    Column("personnel_ref", "M yen", "personnel cost in the reference year"),
    Column("papers_ref", "papers", "papers in the reference year"),
    Column("researchers_last", "people", "researchers in the last year"),
    Column("personnel_last", "M yen", "personnel cost in the last year"),
    Column("papers_last", "papers", "papers in the last year"),
    Column(
        "decline_pre", "bool",
        "the decline test against the mean of the pre-announcement years (anticipation-free)",
    ),
    *(
        Column(curve_column(theta), "bool", f"the decline test at θ = {100 * theta:g}%")
        for theta in CURVE_THETAS
    ),
    Column("value_lost", "value-years", "area below the reference level after the reference year"),
    Column(
        "value_lost_end", "value-years",
        "area below the reference level over end_window years after the last year of programme "
        "money (NaN: that window passes the horizon, or no end)",
    ),
    *(
        Column(f"value_y{year}", "ratio", f"value index in year {year} relative to the reference")
        for year in VALUE_YEARS
    ),
    Column(f"researchers_y{HEADCOUNT_YEAR}", "people", f"researchers in year {HEADCOUNT_YEAR}"),
)  # fmt: skip
"""Per-centre-run columns, in the order metrics computes and the store keeps them."""

OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "p_decline", "decline", "proportion", "share", "lower",
        {"en": "P(decline)", "ja": "価値低下の確率"},
        interval="cluster_wilson", ci="ci", paired="diff", sensitivity=True, decompose=True,
    ),
    Outcome(
        "mean_depth", "depth", "mean", "share", "lower",
        {"en": "Mean depth", "ja": "平均低下幅"},
        interval="cluster_mean", ci="depth_ci", sensitivity=True,
    ),
    Outcome(
        "cost_per_centre", "cost", "mean", "myen", "lower",
        {"en": "Cost per centre", "ja": "センター当たり費用"},
        interval="cluster_mean", ci="cost_ci", paired="cost_diff", sensitivity=True,
        decompose=True,
    ),
    Outcome(
        "p_decline_personnel", "decline_personnel", "proportion", "share", "lower",
        {"en": "P(personnel cost decline)", "ja": "人件費低下の確率"},
    ),
    Outcome(
        "p_decline_papers", "decline_papers", "proportion", "share", "lower",
        {"en": "P(papers decline)", "ja": "論文数低下の確率"},
    ),
    Outcome(
        "p_decline_end", "decline_end", "proportion", "share", "lower",
        {"en": "P(decline at end of support)", "ja": "支援終了時の価値低下確率"},
        over=DEFINED, interval="cluster_wilson", ci="end_ci", decompose=True,
    ),
    Outcome(
        "mean_years_below", "years_below", "mean", "years", "lower",
        {"en": "Mean years below the line", "ja": "閾値を下回った平均年数"},
    ),
    Outcome(
        "p_recovered", "recovered", "proportion", "share", "higher",
        {"en": "P(recovered | declined)", "ja": "回復の確率（低下したうち）"},
        over="decline",
    ),
    # Beyond the binary test (DESIGN.md): how much value is lost and for how long, what is left
    # at years 15 and 20, P(decline) over θ, and the test against a reference that anticipation
    # of the end cannot lower.
    Outcome(
        "value_lost", "value_lost", "mean", "value_years", "lower",
        {"en": "Value-years lost", "ja": "失われた価値・年"},
        over=DEFINED, interval="cluster_mean", ci="value_lost_ci", paired="value_lost_diff",
        decompose=True,
    ),
    Outcome(
        "value_lost_end", "value_lost_end", "mean", "value_years", "lower",
        {"en": "Value-years lost after end of support", "ja": "支援終了後に失われた価値・年"},
        over=DEFINED, interval="cluster_mean", ci="value_lost_end_ci", decompose=True,
    ),
    *(
        Outcome(
            f"value_y{year}", f"value_y{year}", "mean", "share", "higher",
            {"en": f"Value in year {year}", "ja": f"{year}年目の価値"},
            over=DEFINED, interval="cluster_mean", ci=f"value_y{year}_ci",
            decompose=year == VALUE_YEARS[0],
        )
        for year in VALUE_YEARS
    ),
    Outcome(
        f"researchers_y{HEADCOUNT_YEAR}", f"researchers_y{HEADCOUNT_YEAR}", "mean", "people",
        "higher",
        {"en": f"Researchers in year {HEADCOUNT_YEAR}", "ja": f"{HEADCOUNT_YEAR}年目の研究者数"},
        over=DEFINED, interval="cluster_mean", ci=f"researchers_y{HEADCOUNT_YEAR}_ci",
        decompose=True,
    ),
    Outcome(
        "p_decline_pre", "decline_pre", "proportion", "share", "lower",
        {"en": "P(decline) vs pre-announcement years", "ja": "価値低下の確率（予告前基準）"},
        interval="cluster_wilson", ci="pre_ci",
    ),
    *(
        Outcome(
            f"p_{curve_column(theta)}", curve_column(theta), "proportion", "share", "lower",
            {
                "en": f"P(decline), θ = {100 * theta:g}%",
                "ja": f"価値低下の確率（θ={100 * theta:g}%）",
            },
            interval="cluster_wilson", ci=f"p_{curve_column(theta)}_ci",
        )
        for theta in CURVE_THETAS
    ),
)  # fmt: skip
"""Per-policy outcomes, in ``summary.csv`` column order."""

BY_NAME: dict[str, Outcome] = {o.name: o for o in OUTCOMES}
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)

PRIMARY = BY_NAME["p_decline"]
"""The headline outcome; ``policy, n`` and its three columns lead ``summary.csv`` (the contract)."""
DEPTH = BY_NAME["mean_depth"]
"""How deep the drop is: the report's and the printed table's second measure."""
COST = BY_NAME["cost_per_centre"]
"""Government cost: the x axis of the cost-effectiveness figure."""
END = BY_NAME["p_decline_end"]
"""The decline test at the end of all support (the hollow estimates of the P(decline) figure)."""
LOSS = BY_NAME["value_lost"]
"""Value-years lost after the reference year."""
LOSS_END = BY_NAME["value_lost_end"]
"""Value-years lost from each centre's own end of support: what a design that only moves the cliff
does not reduce — the y axis of the cost-effectiveness frontier."""
CURVE: tuple[Outcome, ...] = tuple(BY_NAME[f"p_{curve_column(t)}"] for t in CURVE_THETAS)
"""P(decline) at each θ of :data:`CURVE_THETAS`, in order."""


@dataclass(frozen=True)
class CostEffect:
    """What a design's extra cost buys against the baseline policy, paired over replicates.

    ``(cost − cost of the baseline) / (loss of the baseline − loss)``, from the two runs of each
    replicate (common random numbers); the estimate is the ratio of the paired means, with
    Fieller's 95% interval (see :func:`wpi_abm.experiment.analysis.paired_ratio`). Undefined
    (NaN) when the design keeps no more than the baseline on average.

    Attributes:
        name: The summary column.
        cost: The paired outcome whose difference is the extra cost.
        loss: The paired outcome whose reduction is what is kept.
        label: Short label per language (``en`` required).
        ci: Prefix of the interval columns.
    """

    name: str
    cost: str
    loss: str
    label: Mapping[str, str]
    ci: str

    @property
    def columns(self) -> tuple[str, str, str]:
        """The estimate and its interval columns, as in ``summary.csv``."""
        return self.name, f"{self.ci}_low", f"{self.ci}_high"


COST_EFFECTS: tuple[CostEffect, ...] = (
    CostEffect(
        "cost_per_value_year", COST.name, LOSS.name,
        {"en": "Cost per value-year kept (M yen)", "ja": "維持した価値・年当たり費用（百万円）"},
        ci="cost_per_value_year_ci",
    ),
)  # fmt: skip
"""Cost-effectiveness ratios against the baseline policy, after the paired differences in
``summary.csv``."""
COST_PER_VALUE_YEAR = COST_EFFECTS[0]


def outcome(name: str) -> Outcome:
    """The outcome called ``name``.

    Raises:
        KeyError: No such outcome (the message lists them).
    """
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown outcome '{name}'; known: {', '.join(BY_NAME)}") from None


def sensitivity_outputs() -> tuple[str, ...]:
    """Outcomes ``wpi-abm sensitivity`` may analyse (its default ``outputs``)."""
    return tuple(o.name for o in OUTCOMES if o.sensitivity)


def label(name: str, lang: str = "en") -> str:
    """An outcome's label in ``lang`` (English if untranslated; the name if not an outcome)."""
    o = BY_NAME.get(name) or next((c for c in COST_EFFECTS if c.name == name), None)
    return pick(o.label, lang) if o is not None else name


def decomposed() -> tuple[Outcome, ...]:
    """The headline outcomes ``wpi-abm decompose`` splits by design element, in summary order."""
    return tuple(o for o in OUTCOMES if o.decompose)


def _check() -> None:
    """The tables agree with themselves (run at import: a bad entry fails every stage at once)."""
    booleans = {c.name for c in COLUMNS if c.unit == "bool"}
    for o in OUTCOMES:
        if o.column not in COLUMN_NAMES:
            raise ValueError(f"outcome '{o.name}': unknown column '{o.column}'")
        if o.statistic == "proportion" and o.column not in booleans:
            raise ValueError(f"outcome '{o.name}': a proportion needs a 0/1 column")
        if o.over not in (ALL, DEFINED) and o.over not in booleans:
            raise ValueError(f"outcome '{o.name}': over='{o.over}' is not a 0/1 column")
        if o.interval == "cluster_wilson" and o.statistic != "proportion":
            raise ValueError(f"outcome '{o.name}': a Wilson interval is for a proportion")
        if (o.interval is None) != (o.ci is None):
            raise ValueError(f"outcome '{o.name}': give both interval and ci, or neither")
        if "en" not in o.label:
            raise ValueError(f"outcome '{o.name}': needs an English label")
    for c in COST_EFFECTS:
        for part in (c.cost, c.loss):
            if part not in BY_NAME or BY_NAME[part].paired is None:
                raise ValueError(f"cost effect '{c.name}': '{part}' is not a paired outcome")


_check()
