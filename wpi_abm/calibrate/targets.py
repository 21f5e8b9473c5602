"""Named measurements of simulated centres: what a calibration target refers to.

A target in a calibration spec is data — a measurement named here, a range and a source — so a new
target is one entry in the spec, and a new kind of measurement is one function registered here.
Every measurement reads a :class:`Panel` (the indicators of one candidate point's runs, centre-run
× year) and returns one number. The funded-years measurements are those of
:func:`wpi_abm.calibration.measure` (support years 3-10), so the two tables agree.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

FUNDED = slice(2, 10)
"""Support years 3-10 (0-based columns): the build-up years 1-2 are left out, as in the facts."""


@dataclass(frozen=True)
class Panel:
    """Indicators of one candidate point: arrays of shape (centre-runs, years).

    Attributes:
        data: indicator name → array (rows: every centre of every run; columns: years 1..H).
    """

    data: dict[str, np.ndarray]

    @classmethod
    def from_tables(cls, tables: list[pa.Table], horizon: int) -> Panel:
        """The panel of the runner's panel tables (rows centre-run-major, then year)."""
        table = pa.concat_tables(tables)
        names = [n for n in table.column_names if n not in _KEYS]
        data = {n: table.column(n).to_numpy().astype(float).reshape(-1, horizon) for n in names}
        return cls(data)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]


_KEYS = {"run_id", "point", "replicate", "policy", "centre", "field", "year", "support_year"}


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    # A centre with no researchers or papers in a year has no share: NaN, left out of the mean.
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _funded_mean(x: np.ndarray) -> float:
    cells = x[:, FUNDED]
    return float(np.nanmean(cells)) if np.isfinite(cells).any() else float("nan")


@dataclass(frozen=True)
class Measure:
    """A named measurement.

    Attributes:
        name: Its name in spec files.
        description: What it measures (shown in the validation table).
        compute: Panel → number (NaN when it cannot be measured).
    """

    name: str
    description: str
    compute: Callable[[Panel], float]


def _endowment_tenth_year(p: Panel) -> float:
    # Kavli IPMU: gift in 2012, ~83 M yen/yr paid around 2022-23 (facts §4). A centre-run's gift
    # year is read as its first year of payouts; measured in its tenth year of payouts, among the
    # centre-runs whose tenth year falls inside the horizon.
    pay = np.nan_to_num(p["income_endowment"])
    has = pay > 0
    first = np.argmax(has, axis=1)
    tenth = first + 9
    ok = has.any(axis=1) & (tenth < pay.shape[1])
    if not ok.any():
        return float("nan")
    return float(np.mean(pay[ok, tenth[ok]]))


def _company_replacement(p: Panel) -> float:
    # IFReC: Chugai's 1,000 M yen a year from FY2017 against its 1,241 M yen of subsidy in FY2016
    # (facts §4; subsidy CSV). Among the centre-runs paid by a company in year 11, the mean of that
    # payment over the year-10 subsidy.
    company = np.nan_to_num(p["income_company"][:, 10])
    subsidy = np.nan_to_num(p["income_subsidy"][:, 9])
    ok = (company > 0) & (subsidy > 0)
    return float(np.mean(company[ok] / subsidy[ok])) if ok.any() else float("nan")


def _drop(name: str) -> Callable[[Panel], float]:
    def compute(p: Panel) -> float:
        x = p[name]
        return float(np.nanmean(_ratio(x[:, 10:12].mean(axis=1), x[:, 9])))

    return compute


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure("researchers", "researchers per centre, years 3-10", lambda p: _funded_mean(
            p["researchers"])),
        Measure("pis", "PIs per centre, years 3-10", lambda p: _funded_mean(p["pis"])),
        Measure("foreign_share", "foreign share of researchers, years 3-10",
                lambda p: _funded_mean(_ratio(p["foreign"], p["researchers"]))),
        Measure("top10_share", "share of papers in the world top 10%, years 3-10",
                lambda p: _funded_mean(_ratio(p["top10_papers"], p["papers"]))),
        Measure("intl_share", "internationally co-authored share of papers, years 3-10",
                lambda p: _funded_mean(_ratio(p["intl_papers"], p["papers"]))),
        Measure("subsidy_share", "subsidy share of a centre's spending, years 3-10",
                lambda p: _funded_mean(_ratio(p["income_subsidy"], p["spending"]))),
        Measure("interim_pass_rate", "share of centres passing the year-5 interim evaluation",
                lambda p: float(np.nanmean(p["passed"][:, 4]))),
        Measure("final_pass_rate", "share of centres passing the year-10 final evaluation",
                lambda p: float(np.nanmean(p["passed"][:, 9]))),
        Measure("company_replacement_share",
                "company payment in year 11 / subsidy in year 10, centres a company pays",
                _company_replacement),
        Measure("endowment_payout_10y", "endowment payout (M yen) in its tenth year of payouts",
                _endowment_tenth_year),
        Measure("personnel_drop", "personnel cost, mean of years 11-12 / year 10",
                _drop("personnel_cost")),
        Measure("papers_drop", "papers, mean of years 11-12 / year 10", _drop("papers")),
    )
}  # fmt: skip
"""Every measurement a calibration target may name."""


def measure_all(panel: Panel, names: list[str]) -> np.ndarray:
    """The named measurements of one panel, in order."""
    # An all-NaN mean (e.g. no evaluation in the horizon) is a NaN measurement, not a warning.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.array([MEASURES[n].compute(panel) for n in names], dtype=float)
