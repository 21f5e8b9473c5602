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

OTHER_COLUMNS = ("reputation", "insecurity", "score", "passed")
"""Dimensionless indicators (score and passed are NaN where no evaluation took place)."""

INDICATOR_COLUMNS = COUNT_COLUMNS + MONEY_COLUMNS + OTHER_COLUMNS


class Recorder:
    """Arrays of shape (horizon, n_centres), one per indicator."""

    def __init__(self, horizon: int, n_centres: int) -> None:
        self.horizon = horizon
        self.n_centres = n_centres
        self.data = {name: np.full((horizon, n_centres), np.nan) for name in INDICATOR_COLUMNS}

    def put(self, year: int, name: str, values: np.ndarray) -> None:
        """Store this year's values of indicator ``name`` (one per centre)."""
        self.data[name][year - 1] = values

    def put_many(self, year: int, **values: np.ndarray) -> None:
        """Store this year's values of several indicators."""
        row = year - 1
        for name, v in values.items():
            self.data[name][row] = v

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    def table(
        self, centre_names: list[str], fields: list[str], centres: slice = slice(None)
    ) -> pa.Table:
        """The panel of one run: one row per centre × year, ordered by centre then year.

        Args:
            centre_names: Names of the run's centres.
            fields: Their fields.
            centres: Which columns of the arrays belong to the run (one world of a model).
        """
        h, n = self.horizon, len(centre_names)
        data = {k: v[:, centres] for k, v in self.data.items()}
        cols: dict[str, pa.Array] = {
            "centre": pa.DictionaryArray.from_arrays(
                pa.array(np.repeat(np.arange(n, dtype=np.int32), h)), pa.array(centre_names)
            ),
            "field": pa.DictionaryArray.from_arrays(
                pa.array(np.repeat(np.arange(n, dtype=np.int32), h)), pa.array(fields)
            ),
            "year": pa.array(np.tile(np.arange(1, h + 1, dtype=np.int16), n)),
        }
        for name in COUNT_COLUMNS:
            cols[name] = pa.array(data[name].T.ravel().astype(np.int32))
        for name in MONEY_COLUMNS + OTHER_COLUMNS:
            cols[name] = pa.array(data[name].T.ravel().astype(np.float64))
        return pa.table(cols)
