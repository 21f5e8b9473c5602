"""The programme by fiscal year and by centre: what a scenario of real centres reports.

For a cohort with a fiscal calendar (``cohort.first_fiscal_year``, e.g. the real programme of
``experiments/wpi_history.yaml``), two tables join the summary:

- ``by_fiscal_year.csv``: per policy and fiscal year, the government's cost (subsidy owed plus
  matching, all centres; also the mean of each part) and the number of centres below their
  reference level (the value index more than θ below the centre's own reference year, counted
  in the years after it), each as the mean over runs with a 95% Monte Carlo interval of the mean
  and the 5–95% range across runs;
- ``by_centre.csv``: per policy and centre, P(decline) with its Wilson interval, value-years lost
  with a 95% interval, and the programme's cost.

Both are computed from the stored panel and outcomes, one policy at a time (columns read as
needed), after the runs; a resumed experiment recomputes them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from wpi_abm.experiment.analysis import Z95, wilson
from wpi_abm.experiment.store import OUTCOMES, RUNS, ResultFolder
from wpi_abm.schema.experiment import Experiment

_PANEL = (
    "run_id",
    "policy",
    "centre",
    "year",
    "support_year",
    "value_index",
    "subsidy_owed",
    "income_matching",
)


def _mean_interval(values: pd.Series) -> tuple[float, float, float, float, float]:
    """Mean, its 95% interval (normal, over runs), and the 5% and 95% quantiles across runs."""
    x = values.to_numpy(float)
    mean = float(x.mean())
    half = Z95 * float(x.std(ddof=1)) / np.sqrt(len(x)) if len(x) > 1 else np.nan
    return mean, mean - half, mean + half, *np.quantile(x, [0.05, 0.95]).tolist()


def by_fiscal_year(folder: ResultFolder, exp: Experiment) -> pd.DataFrame:
    """Cost and centres below their reference level per policy and fiscal year.

    Raises:
        ValueError: The cohort has no fiscal calendar.
    """
    first = exp.cohort.first_fiscal_year
    if first is None:
        raise ValueError("the cohort has no fiscal calendar (cohort.first_fiscal_year)")
    files = folder.chunk_files(RUNS)
    if not files:
        return pd.DataFrame()
    dec = exp.decline
    rows = []
    dataset = ds.dataset(files, format="parquet")
    for policy in exp.policy_names:
        t = dataset.to_table(columns=list(_PANEL), filter=ds.field("policy") == policy)
        if t.num_rows == 0:
            continue
        df = t.to_pandas()
        df["centre"] = df["centre"].astype(str)
        df["money"] = df["subsidy_owed"] + df["income_matching"]
        ref = df.loc[df["support_year"] == dec.reference_year, ["run_id", "centre", "value_index"]]
        df = df.merge(ref.rename(columns={"value_index": "reference"}), on=["run_id", "centre"])
        df["below"] = (df["support_year"] > dec.reference_year) & (
            df["value_index"] < (1.0 - dec.theta) * df["reference"]
        )
        per_run = df.groupby(["year", "run_id"]).agg(
            cost=("money", "sum"),
            subsidy=("subsidy_owed", "sum"),
            matching=("income_matching", "sum"),
            below=("below", "sum"),
        )
        for year, g in per_run.groupby(level="year"):
            cost = _mean_interval(g["cost"])
            below = _mean_interval(g["below"].astype(float))
            rows.append(
                {
                    "policy": policy,
                    "fiscal_year": first + int(year) - 1,
                    "runs": len(g),
                    **dict(zip(_columns("cost"), cost, strict=True)),
                    "subsidy": float(g["subsidy"].mean()),
                    "matching": float(g["matching"].mean()),
                    **dict(zip(_columns("below"), below, strict=True)),
                }
            )
    return pd.DataFrame(rows)


def _columns(name: str) -> tuple[str, ...]:
    return (name, f"{name}_ci_low", f"{name}_ci_high", f"{name}_p05", f"{name}_p95")


def by_centre(folder: ResultFolder, exp: Experiment) -> pd.DataFrame:
    """P(decline), value-years lost and cost per policy and centre (from the outcomes)."""
    files = folder.chunk_files(OUTCOMES)
    if not files:
        return pd.DataFrame()
    cols = ["policy", "centre", "decline", "value_lost", "cost"]
    df = ds.dataset(files, format="parquet").to_table(columns=cols).to_pandas()
    df["policy"] = df["policy"].astype(str)
    df["centre"] = df["centre"].astype(str)
    starts = {c.name: c.start for c in exp.cohort.centres}
    # One pass to split the outcomes; rows follow the experiment's policies and cohort order.
    groups = dict(list(df.groupby(["policy", "centre"], sort=False)))
    rows = []
    for policy in exp.policy_names:
        for centre, start in starts.items():
            g = groups.get((policy, centre))
            if g is None:
                continue
            n = len(g)
            k = float(g["decline"].sum())
            low, high = wilson(k, n)
            lost = _mean_interval(g["value_lost"].dropna())
            rows.append(
                {
                    "policy": policy,
                    "centre": centre,
                    "start": start,
                    "n": n,
                    "p_decline": k / n,
                    "ci_low": low,
                    "ci_high": high,
                    "value_lost": lost[0],
                    "value_lost_ci_low": lost[1],
                    "value_lost_ci_high": lost[2],
                    "cost": float(g["cost"].mean()),
                }
            )
    return pd.DataFrame(rows)
