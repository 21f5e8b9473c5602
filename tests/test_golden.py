"""The pipeline changes no number: stored outcomes give the recorded summary.csv, byte for byte.

``tests/data/golden`` holds outcomes of a small run (every built-in design × 6 replicates) and of a
small sweep (3 designs × 4 points × 4 replicates), the ``summary.csv`` each produced, a sensitivity
study's summary with the ``sensitivity.csv`` its analysis gives (with a fixed ``design_seed``: the
bootstrap intervals are random otherwise), and the tables the command line printed — all recorded
before the outcomes were declared as data. Summarising the same outcomes must give the same bytes;
the simulation itself is covered by ``test_digest.py``.

Those outcomes predate the outcomes beyond the binary test (value-years lost, value at years 15
and 20, researchers at year 20, the pre-announcement test, the θ curve, cost per value-year kept):
their summary must leave them out, byte for byte as before. ``beyond_*`` pins the new ones: the
outcomes of ``wpi-abm run --replicates 6 --no-panel --executor serial`` (default experiment, every
column), recorded with them, their summary and the second printed table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from wpi_abm.config import load_experiment
from wpi_abm.experiment.analysis import run_sums, summarise
from wpi_abm.experiment.sensitivity import analyse
from wpi_abm.experiment.sweep import load_sweep
from wpi_abm.tables import format_beyond, format_summary, format_sweep

GOLDEN = Path(__file__).parent / "data" / "golden"
RUN_POLICIES = [
    "legacy", "legacy_2007", "legacy_extension_taper", "reform_2024", "taper", "wpi_core",
    "multiple_host", "flat_15", "flat_forever",
]  # fmt: skip
SWEEP_POLICIES = ["legacy", "reform_2024", "taper"]
SWEEP_LEVERS = ["policies.reform_2024.matching.cap", "parameters.host.absorption_share"]


def _summary(case: str, policies: list[str], points: pd.DataFrame | None) -> pd.DataFrame:
    outcomes = pq.read_table(GOLDEN / f"{case}_outcomes.parquet")
    return summarise([run_sums(outcomes)], policies, "legacy", points)


def test_run_summary_is_byte_identical():
    summary = _summary("run", RUN_POLICIES, None)
    assert summary.to_csv(index=False).encode() == (GOLDEN / "run_summary.csv").read_bytes()


def test_sweep_summary_is_byte_identical():
    points = pd.read_csv(GOLDEN / "sweep_points.csv", index_col="point")
    summary = _summary("sweep", SWEEP_POLICIES, points)
    assert summary.to_csv(index=False).encode() == (GOLDEN / "sweep_summary.csv").read_bytes()


def test_sensitivity_indices_are_byte_identical():
    spec, _ = load_sweep(GOLDEN / "sens_spec.yaml")
    summary = pd.read_csv(GOLDEN / "sens_summary.csv")
    table = pd.read_csv(GOLDEN / "sens_points.csv", index_col="point")
    indices = analyse(summary, table, spec, ["legacy", "reform_2024"])
    assert indices.to_csv(index=False) == (GOLDEN / "sens_sensitivity.csv").read_text()


def test_printed_tables_are_unchanged():
    exp, _ = load_experiment()
    summary = pd.read_csv(GOLDEN / "run_summary.csv")
    printed = format_summary(summary, exp.policies, "legacy")
    assert printed + "\n" == (GOLDEN / "run_table.txt").read_text()
    sweep = pd.read_csv(GOLDEN / "sweep_summary.csv")
    assert format_sweep(sweep, SWEEP_LEVERS) + "\n" == (GOLDEN / "sweep_table.txt").read_text()


def test_outcomes_beyond_the_binary_test_are_byte_identical():
    summary = _summary("beyond", RUN_POLICIES, None)
    assert summary.to_csv(index=False).encode() == (GOLDEN / "beyond_summary.csv").read_bytes()
    exp, _ = load_experiment()
    printed = format_beyond(pd.read_csv(GOLDEN / "beyond_summary.csv"), exp.policies, "legacy")
    assert printed + "\n" == (GOLDEN / "beyond_table.txt").read_text()
    # Older summaries have nothing beyond the binary test to print.
    assert format_beyond(pd.read_csv(GOLDEN / "run_summary.csv"), exp.policies, "legacy") == ""
