"""The public record the project carries (``wpi_abm/data/reference/``), read for comparison.

Figures and checks compare the model with the record through these readers, so that the file
names and their layout are known in one place.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent / "data" / "reference"
SUBSIDY_CSV = "wpi_subsidy_by_centre_fy2014_2022_million_yen.csv"
PROGRAMME_LINE = "JSPS support"
"""The subsidy CSV's row for the programme's own support line: not a centre."""


@cache
def subsidy_by_centre() -> dict[str, dict[int, float]]:
    """The subsidy each centre received, by fiscal year (M yen; years with an empty cell absent)."""
    with open(REFERENCE / SUBSIDY_CSV, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out: dict[str, dict[int, float]] = {}
    for row in rows:
        if row["centre"] == PROGRAMME_LINE:
            continue
        out[row["centre"]] = {
            int(k[2:]): float(v) for k, v in row.items() if k.startswith("FY") and v != ""
        }
    return out


def subsidy_by_fiscal_year() -> dict[int, float]:
    """The subsidy paid to all centres per fiscal year (M yen), FY2014–FY2022."""
    total: dict[int, float] = {}
    for years in subsidy_by_centre().values():
        for fy, amount in years.items():
            total[fy] = total.get(fy, 0.0) + amount
    return dict(sorted(total.items()))
