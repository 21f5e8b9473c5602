"""Candidate parameter points simulated through the project's executors.

A batch of candidates becomes one :class:`~wpi_abm.experiment.runner.Job` whose points are the
candidates; its chunks go to whichever executor the user chose (serial, local processes, a Dask
cluster). The runner seeds every run from the replicate alone (:func:`~wpi_abm.experiment.plan.
run_seed`), so every candidate is simulated on the same replicate seeds: common random numbers,
which make distances between nearby candidates reflect the parameters rather than the draws.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from wpi_abm import interrupts
from wpi_abm.calibrate.targets import Panel, measure_all
from wpi_abm.experiment.executors import Executor
from wpi_abm.experiment.plan import Point, plan_chunks
from wpi_abm.experiment.runner import Job
from wpi_abm.schema.experiment import Experiment


@dataclass
class Evaluator:
    """Measures candidate points: parameters in, one row of measurements per candidate out.

    Attributes:
        experiment: The base experiment (one policy, panel on).
        keys: Dotted keys of the free parameters, in the order of a candidate's values.
        measures: Names of the measurements, in the order of the returned columns.
        executor: Where the runs go (an entered executor).
        simulations: Candidates evaluated so far.
        failures: Error messages of chunks that failed (their candidates are measured as NaN).
    """

    experiment: Experiment
    keys: list[str]
    measures: list[str]
    executor: Executor
    simulations: int = 0
    failures: list[str] = field(default_factory=list)
    _batches: itertools.count = field(default_factory=itertools.count)

    def __call__(self, thetas: np.ndarray) -> np.ndarray:
        """Measurements of each candidate, shape (candidates, measures); NaN where a run failed."""
        exp = self.experiment
        points = tuple(
            Point(i, {k: float(v) for k, v in zip(self.keys, theta, strict=True)})
            for i, theta in enumerate(thetas)
        )
        # A fresh key per batch: worker caches hold experiments by (key, point).
        job = Job(exp, points, True, f"{exp.name}-calibrate-{next(self._batches)}")
        policy = next(iter(exp.policies))
        chunks = plan_chunks([policy], len(points), exp.replicates, exp.replicates)
        tables: dict[int, list[pa.Table]] = {i: [] for i in range(len(points))}
        failed: set[int] = set()
        for res in self.executor.results(job, chunks):
            if res.error is not None or res.panel is None:
                failed.add(res.chunk.point)
                self.failures.append(f"point {points[res.chunk.point].values}: {res.error}")
            else:
                tables[res.chunk.point].append(res.panel)
            interrupts.check()  # a Ctrl-C that a compilation swallowed stops here
        out = np.full((len(points), len(self.measures)), np.nan)
        for i, parts in tables.items():
            if i not in failed and parts:
                out[i] = measure_all(Panel.from_tables(parts, exp.horizon), self.measures)
        self.simulations += len(points)
        return out
