"""Running experiments: identical results across executors, streaming, resume, failures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from wpi_abm.config import load_experiment
from wpi_abm.errors import ResultsError
from wpi_abm.experiment.driver import run_experiment
from wpi_abm.experiment.executors import ProcessExecutor, SerialExecutor, make_executor
from wpi_abm.experiment.plan import Point, plan_chunks, run_id, run_seed
from wpi_abm.experiment.runner import Job, simulate_chunk
from wpi_abm.experiment.store import ResultStore

SETS = ["replicates=6", "output.chunk_runs=2", "policies=[legacy, reform_2024, flat_forever]"]


def small(extra: list[str] | None = None):
    return load_experiment(sets=SETS + (extra or []))


def run_into(out: Path, executor, extra: list[str] | None = None, **kw):
    exp, tree = small(extra)
    with executor as ex:
        return run_experiment(exp, tree, ex, out, progress=False, figures=False, **kw)


def files(root: Path) -> dict[str, bytes]:
    """Every chunk file and checksum sidecar, by path in the folder."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for sub, pattern in (("runs", "*.parquet"), ("outcomes", "*.parquet"), ("checksums", "*"))
        for p in sorted((root / sub).glob(pattern))
    }


def test_chunks_depend_only_on_the_experiment():
    chunks = plan_chunks(["a", "b"], 2, 5, 2)
    assert [(c.point, c.policy, c.first, c.stop) for c in chunks[:4]] == [
        (0, "a", 0, 2), (0, "a", 2, 4), (0, "a", 4, 5), (0, "b", 0, 2),
    ]  # fmt: skip
    assert len(chunks) == 12 and [c.index for c in chunks] == list(range(12))
    assert run_id(1, 1, 4, 2, 5) == 19
    assert run_seed(7, 3).spawn_key == (3,) and run_seed(7, 3).entropy == 7


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "res"
    report = run_into(out, SerialExecutor())
    return out, report


def test_results_folder_follows_the_contract(serial_run):
    out, _ = serial_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["root_seed"] == 20231128
    assert manifest["runs_total"] == 18 and manifest["execution"]["executor"] == "serial"
    assert set(manifest["versions"]) >= {"python", "mesa", "numpy", "wpi_abm"}
    assert manifest["config"]["policies"]["legacy"]["segments"][0]["amount"] == 700
    assert {"started", "ended", "git_commit"} <= set(manifest)
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:5]) == ["policy", "n", "p_decline", "ci_low", "ci_high"]
    assert summary["policy"].tolist() == ["legacy", "reform_2024", "flat_forever"]
    assert (summary["n"] == 6 * 12).all()
    assert summary["p_decline"].between(0, 1).all()
    assert (summary["ci_low"] <= summary["p_decline"]).all()
    assert (summary["p_decline"] <= summary["ci_high"]).all()
    panel = pq.read_table(out / "runs").to_pandas()
    assert len(panel) == 18 * 12 * 25
    assert {"run_id", "policy", "replicate", "centre", "year", "value_index"} <= set(panel.columns)
    assert panel.groupby("run_id").size().eq(12 * 25).all()
    outcomes = pq.read_table(out / "outcomes").to_pandas()
    assert len(outcomes) == 18 * 12 and outcomes["run_id"].nunique() == 18
    assert not (out / ".lock").exists()


@pytest.mark.parametrize("kind", ["processes", "dask"])
def test_local_workers_store_identical_files(serial_run, tmp_path, monkeypatch, kind):
    """The workers store the chunks they simulate whole: the driver stores none of them."""
    out, _ = serial_run

    def not_here(*args: object) -> None:
        raise AssertionError("the driver stored a chunk its worker should have stored")

    monkeypatch.setattr(ResultStore, "write_chunk", not_here)
    other = tmp_path / "proc"
    report = run_into(other, make_executor(kind, workers=2))
    assert not report.failures
    assert files(other) == files(out)
    assert pd.read_csv(other / "summary.csv").equals(pd.read_csv(out / "summary.csv"))


def test_worker_count_and_chunk_batches_do_not_matter(serial_run, tmp_path):
    out, _ = serial_run
    one = tmp_path / "one"
    run_into(one, ProcessExecutor(workers=1))
    assert files(one) == files(out)


def test_resume_runs_only_missing_chunks_and_redoes_corrupt_ones(serial_run, tmp_path):
    out, _ = serial_run
    part = tmp_path / "part"
    exp, tree = small()
    # An interrupted run: two chunks missing, one truncated, a stale lock left by a dead process.
    run_into(part, SerialExecutor())
    for name in ("chunk-000001.parquet", "chunk-000005.parquet"):
        (part / "outcomes" / name).unlink()
    data = (part / "runs" / "chunk-000003.parquet").read_bytes()
    (part / "runs" / "chunk-000003.parquet").write_bytes(data[: len(data) // 2])
    (part / ".lock").write_text(
        "pid 999999999 on " + __import__("socket").gethostname() + " since x"
    )
    with SerialExecutor() as ex:
        report = run_experiment(exp, tree, ex, part, resume=True, progress=False, figures=False)
    assert report.runs_done == 6  # three chunks of two runs
    assert files(part) == files(out)
    assert pd.read_csv(part / "summary.csv").equals(pd.read_csv(out / "summary.csv"))


def test_resume_refuses_a_different_experiment(serial_run, tmp_path):
    out, _ = serial_run
    exp, tree = small(["seed=5"])
    with pytest.raises(ResultsError, match="different experiment"), SerialExecutor() as ex:
        run_experiment(exp, tree, ex, out, resume=True, progress=False)


def test_two_experiments_cannot_write_into_one_folder(tmp_path):
    store = ResultStore(tmp_path / "x")
    store.open(resume=False)
    try:
        other = ResultStore(tmp_path / "x")
        with pytest.raises(ResultsError, match="another experiment is writing"):
            other._take_lock()
    finally:
        store.close()
    with pytest.raises(ResultsError, match="not empty"):
        ResultStore(tmp_path / "x").open(resume=False)


def test_a_failing_run_is_recorded_and_the_rest_finishes(tmp_path, monkeypatch):
    from wpi_abm.experiment import runner

    real = runner._simulate

    def flaky(job, chunk):
        if chunk.policy == "reform_2024" and chunk.first == 2:
            raise RuntimeError("boom")
        return real(job, chunk)

    monkeypatch.setattr(runner, "_simulate", flaky)
    report = run_into(tmp_path / "f", SerialExecutor())
    assert len(report.failures) == 1
    failure = report.failures[0]
    assert failure["policy"] == "reform_2024" and failure["replicates"] == [2, 3]
    assert failure["seeds"][0] == {"entropy": 20231128, "spawn_key": [2]}
    assert "RuntimeError: boom" in failure["error"]
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["runs_completed"] == 16
    summary = pd.read_csv(tmp_path / "f" / "summary.csv")
    assert summary.set_index("policy").loc["reform_2024", "n"] == 4 * 12
    assert (tmp_path / "f" / "failures.csv").is_file()


def test_chunk_results_are_a_pure_function():
    exp, _ = small()
    job = Job(exp, (Point(0),), True, "k")
    chunk = plan_chunks(exp.policy_names, 1, exp.replicates, 2)[4]
    a, b = simulate_chunk(job, chunk), simulate_chunk(job, chunk)
    assert a.error is None
    # (pandas' equals treats NaN as equal to NaN: score and passed are NaN outside evaluations)
    assert a.outcomes.to_pandas().equals(b.outcomes.to_pandas())
    assert a.panel.to_pandas().equals(b.panel.to_pandas())
