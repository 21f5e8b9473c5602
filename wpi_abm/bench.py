"""Speed and memory benchmark (``make bench``); writes ``bench/benchmark.json``.

Measures, on this machine:

- per-run time for the default cohort (12 centres × 25 years), one core: each run alone (median
  over runs) and runs simulated together in a chunk as the executors do (median per run over
  batches of 25);
- the default experiment end to end (every built-in design × 1,000 replicates, processes executor,
  2 workers by default): wall time, and the driver's peak memory sampled every 0.1 s.

Targets (issue "simulator core"): per-run median ≤ 15 ms; default experiment ≤ 90 s on 2 cores.
Timings on shared machines vary by ±30% from one invocation to the next; the file records what
was measured, when, and where.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from wpi_abm.config import load_experiment
from wpi_abm.experiment.driver import run_experiment
from wpi_abm.experiment.executors import ProcessExecutor
from wpi_abm.experiment.store import machine_info
from wpi_abm.model import WPIModel

TARGET_RUN_MS = 15.0
TARGET_DEFAULT_S = 90.0


def per_run_times(runs_alone: int, batches: int, batch: int = 25) -> dict[str, float]:
    """Median CPU time per run, alone and in batches (ms)."""
    exp, _ = load_experiment()
    policies = exp.policy_names
    alone = []
    for i in range(runs_alone):
        policy = exp.policies[policies[i % len(policies)]]
        t = time.process_time()
        WPIModel(exp.cohort, exp.parameters, policy, exp.horizon, np.random.SeedSequence(i)).run()
        alone.append(time.process_time() - t)
    batched = []
    for i in range(batches):
        policy = exp.policies[policies[i % len(policies)]]
        seeds = [np.random.SeedSequence(i, spawn_key=(0, j)) for j in range(batch)]
        t = time.process_time()
        WPIModel(exp.cohort, exp.parameters, policy, exp.horizon, seeds).run()
        batched.append((time.process_time() - t) / batch)
    return {
        "run_alone_median_ms": 1e3 * statistics.median(alone),
        "run_in_chunk_median_ms": 1e3 * statistics.median(batched),
        "runs_alone": runs_alone,
        "batches": batches,
        "batch_size": batch,
    }


class PeakMemory:
    """Samples this process's resident memory in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        proc = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, proc.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def default_experiment(replicates: int, workers: int) -> dict[str, float]:
    """Wall time and driver peak memory of the default experiment."""
    exp, tree = load_experiment(sets=[f"replicates={replicates}"])
    out = Path(tempfile.mkdtemp(prefix="wpi-bench-")) / "results"
    try:
        with PeakMemory() as mem, ProcessExecutor(workers) as ex:
            t = time.perf_counter()
            report = run_experiment(exp, tree, ex, out, progress=False)
            wall = time.perf_counter() - t
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    return {
        "replicates": replicates,
        "runs": report.runs_total,
        "workers": workers,
        "wall_s": wall,
        "driver_peak_mb": mem.peak / 2**20,
        "results_mb": size / 2**20,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its figures to a JSON file."""
    parser = argparse.ArgumentParser(prog="python -m wpi_abm.bench", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench/benchmark.json"))
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=90, help="single runs timed alone")
    parser.add_argument("--batches", type=int, default=18, help="batches of 25 runs timed")
    args = parser.parse_args(argv)

    print("timing single runs and chunks of runs (one core)...", flush=True)
    per_run = per_run_times(args.runs, args.batches)
    print(
        f"  per run: {per_run['run_alone_median_ms']:.1f} ms alone, "
        f"{per_run['run_in_chunk_median_ms']:.1f} ms in a chunk (median)",
        flush=True,
    )
    print(
        f"default experiment, {args.replicates} replicates, {args.workers} workers...", flush=True
    )
    default = default_experiment(args.replicates, args.workers)
    print(
        f"  {default['runs']} runs in {default['wall_s']:.1f} s; driver peak "
        f"{default['driver_peak_mb']:.0f} MB",
        flush=True,
    )
    result = {
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_info(),
        "per_run": per_run,
        "default_experiment": default,
        "targets": {
            "run_median_ms": TARGET_RUN_MS,
            "default_experiment_s_on_2_cores": TARGET_DEFAULT_S,
            "run_median_met": per_run["run_in_chunk_median_ms"] <= TARGET_RUN_MS,
            "default_experiment_met": default["wall_s"] <= TARGET_DEFAULT_S
            if args.replicates == 1000 and args.workers == 2
            else None,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
