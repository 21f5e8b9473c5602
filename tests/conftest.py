"""Shared fixtures: the packaged default experiment, loaded once."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# Figures are drawn in one process in tests: several tests monkeypatch plotting modules (the
# catalogue, the PNG resolution, the Japanese font), which worker processes would not see. The
# parallel drawing is tested on its own (tests/test_plots.py, draw_files with workers=2).
os.environ.setdefault("WPI_ABM_FIGURE_WORKERS", "1")

from wpi_abm.config import Experiment, load_experiment


@pytest.fixture(scope="session")
def default_experiment() -> Experiment:
    """The packaged default experiment."""
    exp, _ = load_experiment()
    return exp


@pytest.fixture(scope="session")
def small_experiment() -> Experiment:
    """The default experiment with few replicates and small chunks (fast end-to-end tests)."""
    exp, _ = load_experiment(sets=["replicates=6", "output.chunk_runs=3"])
    return exp
