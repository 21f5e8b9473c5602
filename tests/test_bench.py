"""The benchmark's scaling table: the right rows, written into the benchmark file."""

from __future__ import annotations

import json

import pytest

from wpi_abm.bench import main


# Four fresh `wpi-abm run` processes (~60 s on 2 cores): in the slow suite, which CI runs too.
@pytest.mark.slow
def test_scaling_writes_strong_and_weak_rows_and_keeps_other_measures(tmp_path, capsys):
    out = tmp_path / "benchmark.json"
    out.write_text(json.dumps({"per_run": {"run_in_chunk_median_ms": 14.0}}))
    args = ["--scaling", "2,1", "--scaling-executors", "processes"]
    args += ["--scaling-replicates", "1", "--weak-replicates", "1", "--out", str(out)]
    assert main(args) == 0
    written = json.loads(out.read_text())
    assert written["per_run"] == {"run_in_chunk_median_ms": 14.0}
    table = written["scaling_table"]
    assert table["identical"] is True and table["counts"] == [1, 2]
    rows = [(r["kind"], r["executor"], r["workers"], r["runs"]) for r in table["rows"]]
    assert rows == [
        ("strong", "processes", 1, 9), ("strong", "processes", 2, 9),
        ("weak", "processes", 1, 9), ("weak", "processes", 2, 18),
    ]  # fmt: skip
    assert all(r["wall_s"] > 0 and r["efficiency"] > 0 for r in table["rows"])
    assert table["rows"][0]["efficiency"] == 1.0 and table["rows"][2]["efficiency"] == 1.0
    assert "| strong | processes | 2 | 9 |" in capsys.readouterr().out


# Three fresh processes, each a model import and two chunks of 25 worlds (~15 s on 2 cores).
@pytest.mark.slow
def test_contention_times_one_process_then_several_at_once(tmp_path):
    out = tmp_path / "benchmark.json"
    out.write_text(json.dumps({"per_run": {"run_in_chunk_median_ms": 14.0}}))
    assert main(["--contention", "2", "--batches", "2", "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["per_run"] == {"run_in_chunk_median_ms": 14.0}
    found = written["contention"]
    assert found["processes"] == 2 and found["batches"] == 2 and len(found["together_ms"]) == 2
    assert found["alone_ms"] > 0 and min(found["together_ms"]) > 0
    expected = 2 * found["alone_ms"] / (sum(found["together_ms"]) / 2)
    assert found["speedup"] == pytest.approx(expected)


def test_contention_refuses_more_processes_than_cpus(capsys):
    """CPU times cannot show waiting for a CPU: more processes than CPUs would mislead."""
    import os

    assert main(["--contention", str((os.cpu_count() or 1) + 1)]) == 2
    assert main(["--contention", "0"]) == 2
    assert "this machine's CPUs" in capsys.readouterr().err


def test_batch_sizes_times_each_size_and_keeps_other_measures(tmp_path, capsys):
    out = tmp_path / "benchmark.json"
    out.write_text(json.dumps({"per_run": {"run_in_chunk_median_ms": 14.0}}))
    assert main(["--batch-sizes", "1,2", "--runs", "2", "--rounds", "2", "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["per_run"] == {"run_in_chunk_median_ms": 14.0}
    found = written["batch_sizes"]
    assert found["runs"] == 2 and found["rounds"] == 2
    assert set(found["ms_per_run"]) == {"1", "2"}
    assert all(len(v) == 2 and min(v) > 0 for v in found["ms_per_run"].values())
    one = found["ms_per_run"]["1"]
    assert found["median_ms_per_run"]["1"] == pytest.approx(sum(one) / 2)
    assert "   2 worlds:" in capsys.readouterr().out


def test_posterior_batches_times_one_model_per_group_and_none(tmp_path, capsys):
    out = tmp_path / "benchmark.json"
    out.write_text(json.dumps({"per_run": {"run_in_chunk_median_ms": 14.0}}))
    assert main(["--posterior-batches", "--rounds", "1", "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["per_run"] == {"run_in_chunk_median_ms": 14.0}
    found = written["posterior_batches"]
    # The default's first 100 replicates: four draw groups, four particles.
    assert found["worlds"] == 100 and found["rounds"] == 1 and found["particles"] == 4
    assert set(found["ms_per_run"]) == {"one_model", "per_draw_group", "none"}
    assert all(len(v) == 1 and v[0] > 0 for v in found["ms_per_run"].values())
    assert "one_model:" in capsys.readouterr().out
