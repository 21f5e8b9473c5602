"""Whole chunks stored by the worker that made them: the driver's files, and errors as errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from wpi_abm.config import load_experiment
from wpi_abm.experiment.analysis import run_sums
from wpi_abm.experiment.delivery import run_task
from wpi_abm.experiment.plan import Chunk, Point
from wpi_abm.experiment.runner import Job, simulate_chunk
from wpi_abm.experiment.store import ResultStore


def _job(store: Path | None) -> Job:
    exp, _ = load_experiment(sets=["replicates=2", "policies=[legacy]"])
    return Job(exp, (Point(0),), True, "delivery", None, None if store is None else str(store))


CHUNK = Chunk(3, "legacy", 0, 0, 0, 2)


def test_a_whole_chunk_is_stored_as_the_driver_would_store_it(tmp_path):
    mine, drivers = tmp_path / "worker", tmp_path / "driver"
    for root in (mine, drivers):
        ResultStore(root).open(resume=False)
    res = run_task(_job(mine), CHUNK, whole=True)
    assert res.stored and res.outcomes is None and res.panel is None and res.error is None
    ref = simulate_chunk(_job(None), CHUNK)
    ResultStore(drivers).write_chunk(CHUNK.index, ref.outcomes, ref.panel)
    written = sorted(p.relative_to(mine) for p in mine.rglob("chunk-*"))
    assert len(written) == 3  # panel, outcomes, checksums
    for rel in written:
        assert (mine / rel).read_bytes() == (drivers / rel).read_bytes(), rel
    pd.testing.assert_frame_equal(res.sums, run_sums(ref.outcomes))


def test_parts_and_jobs_without_a_store_go_back_to_the_driver(tmp_path):
    part = run_task(_job(tmp_path), CHUNK, whole=False)
    sent = run_task(_job(None), CHUNK, whole=True)
    for res in (part, sent):
        assert not res.stored and res.outcomes is not None and res.panel is not None
    assert not list(tmp_path.rglob("chunk-*"))


def test_a_chunk_that_cannot_be_stored_is_a_failed_chunk(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    res = run_task(_job(blocked), CHUNK, whole=True)
    assert not res.stored and res.error is not None and res.error.startswith("storing the chunk")
