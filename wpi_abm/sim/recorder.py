"""Indicators per centre and year, recorded into preallocated arrays.

Mesa's DataCollector keeps Python rows in memory; for thousands of runs we record only what we need
into (years × centres) arrays and turn them into an Arrow table once, at the end of a run.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

COUNT_COLUMNS = (
    "researchers", "pis", "postdocs", "staff", "foreign", "host_posts", "papers", "top10_papers",
    "intl_papers", "left", "not_renewed", "laid_off", "absorbed", "converted", "hired",
)  # fmt: skip
"""Indicators that are head or paper counts (stored as integers)."""

MONEY_COLUMNS = (
    "personnel_cost", "income_subsidy", "income_matching", "income_host", "income_grants",
    "income_company", "income_endowment", "research", "reserves", "deferred", "income",
    "spending", "reserves_change", "subsidy_owed",
)  # fmt: skip
"""Indicators in M yen."""

EXPECTED_COLUMNS = ("papers_expected", "top10_expected", "intl_expected")
"""The expected number of papers, top-10% and international papers (the means the year's counts
are drawn from): what the value index reads by default (``decline.output``)."""

OTHER_COLUMNS = ("reputation", "insecurity", "score", "passed")
"""Dimensionless indicators (score and passed are NaN where no evaluation took place)."""

INDICATOR_COLUMNS = COUNT_COLUMNS + MONEY_COLUMNS + EXPECTED_COLUMNS + OTHER_COLUMNS


class Recorder:
    """Arrays of shape (horizon, n_centres), one per indicator."""

    def __init__(self, horizon: int, n_centres: int) -> None:
        self.horizon = horizon
        self.n_centres = n_centres
        self.data = {name: np.full((horizon, n_centres), np.nan) for name in INDICATOR_COLUMNS}

    def put_many(self, year: int, **values: np.ndarray) -> None:
        """Store this year's values of several indicators."""
        row = year - 1
        for name, v in values.items():
            self.data[name][row] = v

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    def table(self) -> pa.Table:
        """Every indicator as a column, one row per centre × year (centre-major, then year)."""
        cols: dict[str, pa.Array] = {}
        for name in COUNT_COLUMNS:
            cols[name] = pa.array(self.data[name].T.ravel().astype(np.int32))
        for name in MONEY_COLUMNS + EXPECTED_COLUMNS + OTHER_COLUMNS:
            cols[name] = pa.array(self.data[name].T.ravel())
        return pa.table(cols)
