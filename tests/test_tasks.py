"""Tasks are not chunks: chunks cut into tasks give the same files, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from wpi_abm.config import load_experiment
from wpi_abm.experiment.driver import run_experiment
from wpi_abm.experiment.executors import SerialExecutor, make_executor
from wpi_abm.experiment.plan import Chunk, plan_chunks
from wpi_abm.experiment.runner import ChunkResult
from wpi_abm.experiment.tasks import TASKS_PER_WORKER, assemble, cut_points, plan_tasks


def covered(tasks: list[Chunk]) -> dict[int, list[int]]:
    """Replicates each chunk's tasks cover, in task order."""
    out: dict[int, list[int]] = {}
    for t in tasks:
        out.setdefault(t.index, []).extend(t.replicates)
    return out


def test_tasks_cover_each_chunk_once_cut_only_at_batch_starts():
    chunks = plan_chunks(["a", "b"], 1, 100, 100)  # 2 chunks of 100 for 2 workers: too few
    tasks = plan_tasks(chunks, workers=2)
    assert len(tasks) == TASKS_PER_WORKER * 2
    assert [(t.index, t.first, t.stop) for t in tasks[:4]] == [
        (0, 0, 25), (0, 25, 50), (0, 50, 75), (0, 75, 100),
    ]  # fmt: skip
    assert covered(tasks) == {c.index: list(c.replicates) for c in chunks}
    assert all(t.policy == chunks[t.index].policy for t in tasks)


def test_no_cutting_with_one_worker_or_enough_chunks():
    chunks = plan_chunks(["a", "b"], 1, 100, 100)
    assert plan_tasks(chunks, workers=1) == chunks
    many = plan_chunks(["a", "b"], 1, 100, 25)  # 8 chunks: 4 per worker already
    assert plan_tasks(many, workers=2) == many


def test_longest_chunks_first_parts_of_a_chunk_together():
    chunks = plan_chunks(["a", "b"], 1, 110, 100)  # 100, 10, 100, 10
    tasks = plan_tasks(chunks, workers=4)
    assert [t.index for t in tasks] == [0, 0, 0, 0, 2, 2, 2, 2, 1, 3]
    assert covered(tasks) == {c.index: list(c.replicates) for c in chunks}


def test_cut_every_25_replicates_from_a_chunks_first():
    chunks = plan_chunks(["a"], 1, 90, 30)
    assert [cut_points(c) for c in chunks] == [[25], [55], [85]]
    tasks = plan_tasks(chunks, workers=2)
    assert [(t.first, t.stop) for t in tasks] == [
        (0, 25),
        (25, 30),
        (30, 55),
        (55, 60),
        (60, 85),
        (85, 90),
    ]


def result(chunk: Chunk, error: str | None = None) -> ChunkResult:
    table = pa.table({"replicate": list(chunk.replicates)})
    return ChunkResult(chunk, None if error else table, None if error else table, error)


def test_parts_assembled_in_replicate_order_and_a_failed_part_fails_the_chunk():
    chunks = plan_chunks(["a", "b"], 1, 100, 100)
    tasks = plan_tasks(chunks, workers=2)
    arrived = [result(t, "boom" if (t.index, t.first) == (1, 50) else None) for t in tasks]
    arrived = arrived[::-1]  # parts finish in any order
    whole = {r.chunk.index: r for r in assemble(arrived, tasks)}
    assert whole[0].chunk == chunks[0] and whole[0].error is None
    assert whole[0].outcomes.column("replicate").to_pylist() == list(range(100))
    assert whole[0].panel.num_rows == 100
    assert whole[1].chunk == chunks[1]
    assert whole[1].error == "boom" and whole[1].outcomes is None


SETS = ["replicates=100", "policies=[legacy, reform_2024]", "horizon=16"]


def run_into(out: Path, executor, extra: list[str]) -> None:
    exp, tree = load_experiment(sets=SETS + extra)
    with executor as ex:
        run_experiment(exp, tree, ex, out, progress=False, figures=False)


def stored(root: Path) -> dict[str, bytes]:
    names = [*root.glob("runs/*.parquet"), *root.glob("outcomes/*.parquet"), root / "summary.csv"]
    names += [*root.glob("checksums/*")]
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(names)}


@pytest.mark.parametrize(
    ("uncertainty", "executor", "chunk_runs"),
    [
        ("posterior", "processes", 100), ("none", "processes", 100), ("posterior", "dask", 100),
        ("posterior", "processes", 40),
    ],
)  # fmt: skip
def test_cut_chunks_store_the_same_bytes_as_whole_ones(tmp_path, uncertainty, executor, chunk_runs):
    """Chunks on 2 workers cut into tasks; the files are the serial ones.

    With chunks of 100: two chunks, 8 tasks of 25 (a serial run simulates each chunk as one
    model, or one per draw group). With chunks of 40: parts such as replicates 40-64 and 65-79
    cut across draw groups (25 replicates each), so the parts' models hold other runs than the
    whole chunk's do.
    """
    extra = [f"uncertainty.kind={uncertainty}", f"output.chunk_runs={chunk_runs}"]
    run_into(tmp_path / "serial", SerialExecutor(), extra)
    run_into(tmp_path / "tasks", make_executor(executor, 2), extra)
    a, b = stored(tmp_path / "serial"), stored(tmp_path / "tasks")
    assert len([n for n in a if n.startswith("runs/")]) == 2 * -(-100 // chunk_runs)
    assert a == b


def test_a_part_of_one_world_stores_the_same_bytes_as_its_chunk(tmp_path):
    """Found in review (fixed): chunks of 26 on 2 workers are cut into parts 26-50 and 51, so
    replicate 51 is simulated alone, and in a model of 26 worlds by the serial run. With the
    posterior's researcher salary its hiring cost rounded differently alone (numpy's one-row
    product), and the outcome files differed."""
    sets = [
        "replicates=52", "seed=15", "output.chunk_runs=26", "policies=[legacy]",
        "uncertainty.kind=posterior", "output.panel=false",
    ]  # fmt: skip
    for name, executor in (("serial", SerialExecutor()), ("tasks", make_executor("processes", 2))):
        exp, tree = load_experiment(sets=sets)
        with executor as ex:
            run_experiment(exp, tree, ex, tmp_path / name, progress=False, figures=False)
    tasks = plan_tasks(plan_chunks(["legacy"], 1, 52, 26), workers=2)
    assert (1, 51, 52) in [(t.index, t.first, t.stop) for t in tasks]
    assert stored(tmp_path / "serial") == stored(tmp_path / "tasks")
