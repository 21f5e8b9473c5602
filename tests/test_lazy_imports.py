"""The quick commands stay quick: they never import the model, plotting, Dask or scipy.stats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("mesa", "matplotlib", "dask", "distributed", "numba", "scipy.stats", "wpi_abm.sim.model")
ROOT = Path(__file__).resolve().parents[1]


def imported_by(*args: str, env: dict[str, str] | None = None) -> list[str]:
    """The heavy modules a fresh interpreter holds after ``wpi-abm ARGS`` (``env``: added)."""
    code = (
        "import json, sys\n"
        "from wpi_abm.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["policies"],
        ["validate", "experiments/policy_comparison.yaml"],
        ["validate", "experiments/sweep_matching_cap.yaml"],
    ],
)
def test_quick_commands_import_nothing_heavy(args):
    assert imported_by(*args) == []


def test_a_run_with_worker_processes_keeps_the_model_out_of_the_driver(tmp_path):
    """The driver plans, stores and summarises; the workers import the model (and Mesa)."""
    out = tmp_path / "out"
    assert imported_by(
        "run", "--executor", "processes", "--workers", "2", "--replicates", "1", "--no-figures",
        "--quiet", "--uncertainty", "none", "--out", str(out),
    ) == []  # fmt: skip
    assert (out / "summary.csv").is_file()


def test_figures_are_drawn_by_their_workers_without_matplotlib_in_the_command(tmp_path):
    """With figure workers, neither a run's driver nor ``wpi-abm plot`` imports matplotlib: the
    workers draw, and ``plot`` reads the panel while their server imports (~3 s on another core).
    """
    out = tmp_path / "out"
    workers = {"WPI_ABM_FIGURE_WORKERS": "2"}
    assert imported_by(
        "run", "--executor", "processes", "--workers", "2", "--replicates", "1", "--quiet",
        "--uncertainty", "none", "--out", str(out), env=workers,
    ) == []  # fmt: skip
    made = {p.name: p.stat().st_mtime_ns for p in (out / "figures").iterdir()}
    assert len(made) >= 16 and "value_index.png" in made
    assert imported_by("plot", str(out), env=workers) == []
    again = {p.name: p.stat().st_mtime_ns for p in (out / "figures").iterdir()}
    assert again.keys() == made.keys() and all(again[n] > made[n] for n in made)


class _Stop(BaseException):
    """Ends a command where the test has seen what it needs (main catches Exceptions only)."""


@pytest.mark.parametrize(
    ("executor", "preload"),
    [("processes", []), ("dask", ["distributed"]), ("serial", None), (None, [])],
)
def test_a_run_starts_its_workers_server_before_checking_its_folder(
    executor, preload, monkeypatch, tmp_path
):
    """The server imports the model and warms while the command checks the folder and imports
    the driver, so the workers are ready sooner; a serial run starts none. The processes
    executor's (named, or the packaged default's) starts before the experiment is even loaded:
    it is known without it."""
    from wpi_abm import cli, config
    from wpi_abm.experiment import workers

    events: list[tuple[str, object]] = []
    record = lambda p, **_: events.append(("server", p))  # noqa: E731
    monkeypatch.setattr(workers, "forkserver_context", record)
    load = config.load_experiment

    def loading(*args, **kwargs):
        events.append(("loaded", None))
        return load(*args, **kwargs)

    monkeypatch.setattr(config, "load_experiment", loading)

    def folder(args, name):
        events.append(("folder", name))
        raise _Stop

    monkeypatch.setattr(cli, "_out_folder", folder)
    chosen = [] if executor is None else ["--executor", executor]
    with pytest.raises(_Stop):
        cli.main(["run", *chosen, "--replicates", "1", "--quiet", "--out", str(tmp_path / "out")])
    started = [] if preload is None else [("server", preload)]
    loaded, out = ("loaded", None), ("folder", "policy_comparison")
    if executor in (None, "processes"):
        assert events == [*started, loaded, out]
    else:
        assert events == [loaded, *started, out]


@pytest.mark.parametrize(
    ("warmup", "loaded"),
    [
        ("wpi_abm.experiment.warmup", "wpi_abm.sim.model"),
        ("wpi_abm.plots.warmup", "matplotlib.pyplot"),
    ],
)
def test_a_warm_server_has_its_code_loaded_and_frozen_out_of_the_collector(warmup, loaded):
    """What the workers' forkserver (the model, its kernels loaded) and the figures' (matplotlib
    and the drawing code) preload, all of it moved out of the garbage collector's generations
    (gc.freeze) before any worker forks."""
    code = (
        "import gc, sys, json\n"
        f"import {warmup}\n"
        f"print(json.dumps([gc.get_freeze_count(), {loaded!r} in sys.modules]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    frozen, imported = json.loads(proc.stdout.strip().splitlines()[-1])
    assert imported and frozen > 100_000
