"""A whole calibration: spec → ABC-SMC through an executor → results folder.

The folder holds ``manifest.json`` (the resolved spec and experiment, seeds, versions, commit,
times, why the run stopped), the tables of :mod:`wpi_abm.calibrate.report` and the figure. Every
file is written through a temporary name (:func:`wpi_abm.experiment.store.write_file`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wpi_abm.calibrate import report
from wpi_abm.calibrate.evaluate import Evaluator
from wpi_abm.calibrate.method import AbcResult, Generation, abc_smc, distance
from wpi_abm.calibrate.spec import CalibrationSpec
from wpi_abm.experiment.executors import Executor
from wpi_abm.experiment.store import git_commit, now, versions, write_file
from wpi_abm.schema.experiment import Experiment


@dataclass
class Calibration:
    """What a calibration produced.

    Attributes:
        result: The ABC-SMC generations.
        posterior: The posterior sample table.
        validation: The validation table.
        out: The results folder, or None when nothing was written.
        seconds: Wall time.
        simulations: Candidate points simulated (each ``replicates`` runs).
    """

    result: AbcResult
    posterior: pd.DataFrame
    validation: pd.DataFrame
    out: Path | None
    seconds: float
    simulations: int


def calibrate(
    spec: CalibrationSpec,
    exp: Experiment,
    executor: Executor,
    *,
    tree: dict[str, Any] | None = None,
    out: Path | None = None,
    progress: Callable[[Generation, int], None] | None = None,
) -> Calibration:
    """Fit the spec's free parameters to its targets and write the results folder.

    Args:
        spec: The calibration spec.
        exp: Its base experiment (from :func:`wpi_abm.calibrate.spec.build`).
        executor: An entered executor; every candidate's runs go through it.
        tree: The resolved configuration, recorded in the manifest.
        out: Results folder (None: write nothing).
        progress: Called after each generation.
    """
    started, t0 = now(), time.perf_counter()
    # The commit the runs start from: read now, not when the folder is written minutes later.
    commit = git_commit()
    targets = spec.targets
    evaluator = Evaluator(exp, spec.keys, [t.measure for t in targets], executor)
    result = abc_smc(
        evaluator,
        spec.bounds(),
        np.array([t.low for t in targets]),
        np.array([t.high for t in targets]),
        np.array([t.use == "fit" for t in targets]),
        progress=progress,
        # The method's settings are abc_smc's keyword arguments, name for name.
        **spec.method.model_dump(exclude={"kind"}),
    )
    seconds = time.perf_counter() - t0
    cal = Calibration(
        result,
        report.posterior_table(spec, result),
        report.validation_table(spec, result),
        out,
        seconds,
        evaluator.simulations,
    )
    if out is not None:
        _write(cal, spec, exp, executor, tree, started, evaluator.failures, commit)
    return cal


def check_posterior(
    spec: CalibrationSpec,
    exp: Experiment,
    executor: Executor,
    posterior: pd.DataFrame,
    *,
    out: Path | None = None,
) -> Calibration:
    """Re-measure a posterior sample's particles: its validation table, from the sample alone.

    Every particle is simulated as a candidate of the calibration was (the spec's replicates and
    seed, the same common random numbers), so the shipped ``validation.csv`` and
    ``predictive.csv`` are reproduced from the shipped ``posterior.csv`` by one command
    (``wpi-abm calibrate SPEC --check-posterior FILE``); a subset of particles reproduces its
    rows of ``predictive.csv``.

    Args:
        spec: The calibration spec the posterior was fitted with.
        exp: Its base experiment (from :func:`wpi_abm.calibrate.spec.build`).
        executor: An entered executor.
        posterior: The posterior table (``weight`` and one column per spec parameter).
        out: Folder for ``validation.csv``, ``predictive.csv`` and the figure (None: none).

    Raises:
        ValueError: The table's parameter columns are not the spec's.
    """
    started, t0 = now(), time.perf_counter()
    missing = [k for k in spec.keys if k not in posterior.columns]
    if missing or "weight" not in posterior.columns:
        raise ValueError(f"the posterior lacks the columns {missing or ['weight']}")
    targets = spec.targets
    evaluator = Evaluator(exp, spec.keys, [t.measure for t in targets], executor)
    thetas = posterior[spec.keys].to_numpy(float)
    measured = evaluator(thetas)
    fitted = np.array([t.use == "fit" for t in targets])
    low, high = np.array([t.low for t in targets]), np.array([t.high for t in targets])
    d = distance(measured[:, fitted], low[fitted], high[fitted])
    weights = posterior["weight"].to_numpy(float)
    gen = Generation(float(d.max()), thetas, weights / weights.sum(), d, measured, len(thetas), 0.0)
    result = AbcResult([gen], stopped=f"re-measured {len(thetas)} particles")
    seconds = time.perf_counter() - t0
    cal = Calibration(
        result, posterior, report.validation_table(spec, result), out, seconds, len(thetas)
    )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        predictive = report.predictive_table(spec, result)
        predictive.index = posterior.index
        write_file(out / "predictive.csv", predictive.to_csv().encode())
        write_file(out / "validation.csv", cal.validation.to_csv(index=False).encode())
        report.figure(cal.validation, out / "figures")
        _write_manifest(
            out,
            {"kind": "calibration-check", "name": spec.name, "started": started},
            seconds,
            {"particles": len(thetas), "runs": len(thetas) * exp.replicates},
            exp,
            evaluator.failures,
            executor,
            git_commit(),
            {"calibration": spec.model_dump(mode="json")},
        )
    return cal


def _write_manifest(
    out: Path,
    head: dict[str, Any],
    seconds: float,
    work: dict[str, Any],
    exp: Experiment,
    failures: list[str],
    executor: Executor,
    commit: str | None,
    config: dict[str, Any],
) -> None:
    """manifest.json of a calibration folder: what ran, how long, where, with what code."""
    manifest = {
        **head,
        "finished": now(),
        "seconds": round(seconds, 1),
        **work,
        "seed": exp.seed,
        "failures": failures,
        **executor.describe(),
        "versions": versions(),
        "git_commit": commit,
        "config": config,
    }
    write_file(out / "manifest.json", json.dumps(manifest, indent=2, default=str).encode())


def _write(
    cal: Calibration,
    spec: CalibrationSpec,
    exp: Experiment,
    executor: Executor,
    tree: dict[str, Any] | None,
    started: str,
    failures: list[str],
    commit: str | None,
) -> None:
    out = cal.out
    assert out is not None
    out.mkdir(parents=True, exist_ok=True)

    def csv(name: str, table: pd.DataFrame, index: bool) -> None:
        write_file(out / name, table.to_csv(index=index).encode())

    csv("posterior.csv", cal.posterior, True)
    csv("predictive.csv", report.predictive_table(spec, cal.result), True)
    csv("validation.csv", cal.validation, False)
    csv("history.csv", report.history_table(cal.result), False)
    report.figure(cal.validation, out / "figures")
    _write_manifest(
        out,
        {"kind": "calibration", "name": spec.name, "started": started},
        cal.seconds,
        {
            "simulations": cal.simulations,
            "runs": cal.simulations * exp.replicates,
            "stopped": cal.result.stopped,
        },
        exp,
        failures,
        executor,
        commit,
        tree or {"calibration": spec.model_dump(mode="json")},
    )
