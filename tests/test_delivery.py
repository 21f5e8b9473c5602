"""Whole chunks stored by the worker that made them: the driver's files, and errors as errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from wpi_abm.config import load_experiment
from wpi_abm.experiment.analysis import run_sums
from wpi_abm.experiment.delivery import run_task
from wpi_abm.experiment.plan import Chunk, Point
from wpi_abm.experiment.runner import Job, simulate_chunk
from wpi_abm.experiment.store import ResultStore


def _job(store: Path | None, holder: str | None = None) -> Job:
    exp, _ = load_experiment(sets=["replicates=2", "policies=[legacy]"])
    where = None if store is None else str(store)
    return Job(exp, (Point(0),), True, "delivery", None, where, holder)


CHUNK = Chunk(3, "legacy", 0, 0, 0, 2)


def test_a_whole_chunk_is_stored_as_the_driver_would_store_it(tmp_path):
    mine, drivers = tmp_path / "worker", tmp_path / "driver"
    stores = [ResultStore(root) for root in (mine, drivers)]
    for store in stores:
        store.open(resume=False)
    res = run_task(_job(mine, stores[0].holder()), CHUNK, whole=True)
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


def test_a_chunk_that_cannot_be_stored_goes_back_to_the_driver(tmp_path):
    """The driver then stores it, or stops with the error, as when it stored every chunk."""
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    res = run_task(_job(blocked), CHUNK, whole=True)
    assert not res.stored and res.error is None and res.outcomes is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # no temporary file left


@pytest.mark.parametrize("how", ["released", "taken over"])
def test_a_worker_never_marks_a_chunk_done_in_a_folder_its_driver_left(tmp_path, how):
    """A worker left running by a driver that stopped (or was killed) does not write outcomes."""
    root = tmp_path / "res"
    store = ResultStore(root)
    store.open(resume=False)
    job = _job(root, store.holder())
    store.close()
    if how == "taken over":
        (root / ".lock").write_text("pid 1 on elsewhere since later")
    res = run_task(job, CHUNK, whole=True)
    assert not res.stored and res.outcomes is not None
    assert not list((root / "outcomes").iterdir())
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]
