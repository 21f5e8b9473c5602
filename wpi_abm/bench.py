"""Speed and memory benchmark (``make bench``); writes ``bench/benchmark.json``.

Measures, on this machine:

- per-run time for the default cohort (12 centres × 25 years), one core: each run alone (median
  over runs) and runs simulated together in a chunk as the executors do (median per run over
  batches of 25);
- the default experiment end to end (every built-in design × 1,000 replicates, processes executor,
  2 workers by default): wall time, and the driver's peak memory sampled every 0.1 s.

- parallel efficiency from 1 to 2 local workers (processes and Dask), T1 / (2 T2);
- against ``mesa.batch_run`` (what a Mesa user would pick instead): the same runs with the same
  workers, each side in a fresh process, wall time and the driver's peak memory, at two sizes to
  show which grows;
- with ``--big-sweep N``: an N-run sweep storing outcomes only, the driver's peak memory;
- with ``--against REV``: only the per-run times, of this tree and of git revision REV, in
  alternating fresh processes within one invocation (the fair before/after comparison for a
  change that must not slow the model; writes ``bench/compare.json``);
- with ``--contention N``: only the per-run time in one process, then in N processes at once —
  what N cores of this machine give together (virtual CPUs may share a physical core);
- with ``--scaling 1,2,4,8,16``: only strong and weak scaling of ``wpi-abm run`` over those
  worker counts, each point a fresh ``wpi-abm run`` process timed from start to exit (imports,
  cluster start and shutdown included, as a user pays them); written into the benchmark file
  under ``scaling_table`` (its other measures are kept);
- with ``--batch-sizes 1,25,100``: only the model time per run with that many worlds per model;
- with ``--posterior-batches``: only the model time per run of a chunk of the default experiment
  with its posterior — its draw groups in one model (as the runner simulates them), one model per
  draw group (as before, and as a posterior with a column outside ``per_world.PER_WORLD`` still
  is) — and of the same worlds without uncertainty, alternating.

One module on purpose (~600 lines): every measure is a short function sharing the timing and
memory helpers, and the benchmark is a tool around the model, not part of it.

Targets (issues "simulator core" and "sweeps"): per-run median ≤ 15 ms; default experiment ≤ 90 s
on 2 cores; efficiency 1 → 2 workers ≥ 85%; faster than batch_run and flat in memory where it
grows; a 200,000-run sweep keeps the driver under 500 MB. Timings on shared machines vary by ±30%
from one invocation to the next; the file records what was measured, when, and where.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
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
from wpi_abm.schema.experiment import Experiment
from wpi_abm.sim.model import WPIModel

TARGET_RUN_MS = 15.0
TARGET_DEFAULT_S = 90.0
TARGET_EFFICIENCY = 0.85
TARGET_SWEEP_MB = 500.0


def _in_models(exp: Experiment, models: int, worlds: int) -> list[float]:
    """CPU ms per run of each of ``models`` models of ``worlds`` worlds (designs in turn)."""
    policies = exp.policy_names
    out = []
    for i in range(models):
        policy = exp.policies[policies[i % len(policies)]]
        seeds = [np.random.SeedSequence(i, spawn_key=(0, j)) for j in range(worlds)]
        t = time.process_time()
        WPIModel(exp.cohort, exp.parameters, policy, exp.horizon, seeds).run()
        out.append(1e3 * (time.process_time() - t) / worlds)
    return out


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
    return {
        "run_alone_median_ms": 1e3 * statistics.median(alone),
        "run_in_chunk_median_ms": statistics.median(_in_models(exp, batches, batch)),
        "runs_alone": runs_alone,
        "batches": batches,
        "batch_size": batch,
    }


def compare(rev: str, rounds: int, runs: int, batches: int) -> dict[str, object]:
    """Per-run times of this tree and of git revision ``rev``, alternating, one invocation.

    Machines here vary by ±40% between invocations, so a before/after claim is only fair when
    both sides are timed side by side: each round times ``rev`` then this tree, each in a fresh
    process; the result keeps every round and the medians.
    """
    root = Path(__file__).resolve().parents[1]
    code = (
        "import json; from wpi_abm.bench import per_run_times; "
        f"print(json.dumps(per_run_times({runs}, {batches})))"
    )
    rounds_out: dict[str, list[dict[str, float]]] = {rev: [], "this tree": []}
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", rev], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        for _ in range(rounds):
            for name, tree in ((rev, tmp), ("this tree", str(root))):
                env = dict(os.environ, PYTHONPATH=tree)
                res = subprocess.run(
                    [sys.executable, "-c", code],
                    env=env,
                    cwd=tree,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                rounds_out[name].append(json.loads(res.stdout.strip().splitlines()[-1]))
                last = rounds_out[name][-1]
                print(
                    f"  {name:>12}: {last['run_alone_median_ms']:.1f} ms alone, "
                    f"{last['run_in_chunk_median_ms']:.1f} ms in a chunk",
                    flush=True,
                )
    medians = {
        name: {
            key: statistics.median(r[key] for r in rows)
            for key in ("run_alone_median_ms", "run_in_chunk_median_ms")
        }
        for name, rows in rounds_out.items()
    }
    return {"rounds": rounds_out, "medians": medians}


def batch_sizes(sizes: list[int], runs: int, rounds: int) -> dict[str, object]:
    """Model CPU time per run with ``sizes`` worlds per model, sizes alternating, one process.

    Each round simulates ``runs`` runs of the default cohort (designs in turn, without parameter
    uncertainty) in models of each size; per size the median over rounds. What a model's set-up
    and each year's fixed costs weigh against its worlds: the runner batches up to
    ``runner.BATCH_CENTRE_RUNS`` (100 worlds of the default cohort, of several posterior
    particles where the posterior varies only per-world values; otherwise a draw group of 25).
    """
    exp, _ = load_experiment()
    per_size: dict[int, list[float]] = {n: [] for n in sizes}
    for _ in range(rounds):
        for n in sizes:
            per_size[n].append(statistics.mean(_in_models(exp, max(1, runs // n), n)))
    return {
        "runs": runs,
        "rounds": rounds,
        "ms_per_run": {str(n): v for n, v in per_size.items()},
        "median_ms_per_run": {str(n): statistics.median(v) for n, v in per_size.items()},
    }


def posterior_batches(worlds: int, rounds: int) -> dict[str, object]:
    """Model CPU time per run of a chunk's draw groups: in one model, one per group, none.

    The chunk is replicates ``0..worlds-1`` of the default experiment (designs in turn, one per
    round and way), with the particles its posterior gives them; "none" simulates the same seeds
    at the parameter file's values. Per way the median over rounds.
    """
    from wpi_abm.experiment.plan import RUNS_PER_DRAW, run_particles, run_seed
    from wpi_abm.experiment.runner import with_values
    from wpi_abm.experiment.uncertainty import load

    exp, _ = load_experiment()
    post = load(exp)
    if post is None:
        raise ValueError("the default experiment has no posterior (uncertainty.kind is none)")
    drawn = [int(p) for p in run_particles(post.weights, exp.seed, range(worlds))]
    at = {p: with_values(exp, post.particle(p)) for p in set(drawn)}
    seeds = [run_seed(exp.seed, r) for r in range(worlds)]
    groups = [range(a, min(a + RUNS_PER_DRAW, worlds)) for a in range(0, worlds, RUNS_PER_DRAW)]

    def one_model(policy: str) -> None:
        params = [at[p].parameters for p in drawn]
        designs = [at[p].policies[policy] for p in drawn]
        WPIModel(exp.cohort, params, designs, exp.horizon, seeds).run()

    def per_draw_group(policy: str) -> None:
        for g in groups:
            e = at[drawn[g[0]]]
            seeds_g = [seeds[r] for r in g]
            WPIModel(e.cohort, e.parameters, e.policies[policy], e.horizon, seeds_g).run()

    def none(policy: str) -> None:
        WPIModel(exp.cohort, exp.parameters, exp.policies[policy], exp.horizon, seeds).run()

    ways = {"one_model": one_model, "per_draw_group": per_draw_group, "none": none}
    times: dict[str, list[float]] = {k: [] for k in ways}
    policies = exp.policy_names
    # The process's first model loads the compiled kernels; not timed.
    WPIModel(exp.cohort, exp.parameters, exp.policies[policies[0]], exp.horizon, seeds[:1]).run()
    for i in range(rounds):
        for name, way in ways.items():
            t = time.process_time()
            way(policies[i % len(policies)])
            times[name].append(1e3 * (time.process_time() - t) / worlds)
    return {
        "worlds": worlds,
        "particles": len(set(drawn)),
        "rounds": rounds,
        "ms_per_run": times,
        "median_ms_per_run": {k: statistics.median(v) for k, v in times.items()},
    }


def contention(processes: int, batches: int) -> dict[str, object]:
    """What a core gives when every core works: per-run time alone, then ``processes`` at once.

    Each side times ``batches`` chunks of 25 worlds (:func:`per_run_times`) in fresh processes:
    one alone, then ``processes`` started together. The times are CPU times, so they show what
    sharing costs each process (virtual CPUs on one physical core, a shared cache), not waiting
    for a CPU: ``processes`` must not exceed this machine's CPUs. On a machine whose cores are
    independent the per-run times match; where they share, each process runs slower, and no
    executor can gain more than ``speedup``.

    Raises:
        ValueError: ``processes`` is below 1 or above the CPUs.
    """
    cpus = os.cpu_count() or 1
    if not 1 <= processes <= cpus:
        raise ValueError(f"--contention takes 1 to {cpus} processes (this machine's CPUs)")
    code = (
        "import json; from wpi_abm.bench import per_run_times; "
        f"print(json.dumps(per_run_times(1, {batches})))"
    )

    def start() -> subprocess.Popen[str]:
        # One BLAS thread each, as the executors' workers have.
        env = dict(os.environ, OMP_NUM_THREADS="1")
        return subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
        )

    def ms(proc: subprocess.Popen[str]) -> float:
        out, _ = proc.communicate()
        if proc.returncode:
            raise RuntimeError("a timing process failed")
        return json.loads(out.strip().splitlines()[-1])["run_in_chunk_median_ms"]

    alone = ms(start())
    running = [start() for _ in range(processes)]
    try:
        together = [ms(p) for p in running]
    finally:
        for p in running:
            if p.poll() is None:
                p.kill()
                p.wait()
    return {
        "processes": processes,
        "batches": batches,
        "alone_ms": alone,
        "together_ms": together,
        "speedup": processes * alone / statistics.mean(together),
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
    """Wall time and driver peak memory of the default experiment.

    ``wall_s`` is the simulation and its storage (what the target is about); the figures, drawn
    afterwards from the stored panel as ``wpi-abm plot`` draws them, are timed separately.
    """
    from wpi_abm.plots.summary import plot_results

    exp, tree = load_experiment(sets=[f"replicates={replicates}"])
    out = Path(tempfile.mkdtemp(prefix="wpi-bench-")) / "results"
    try:
        with PeakMemory() as mem, ProcessExecutor(workers) as ex:
            t = time.perf_counter()
            result = run_experiment(exp, tree, ex, out, progress=False, figures=False)
            wall = time.perf_counter() - t
        sim_peak = mem.peak
        with PeakMemory() as mem:
            t = time.perf_counter()
            plot_results(out)
            figures = time.perf_counter() - t
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    return {
        "replicates": replicates,
        "runs": result.runs_total,
        "workers": workers,
        "wall_s": wall,
        "figures_s": figures,
        "wall_with_figures_s": wall + figures,
        "driver_peak_mb": sim_peak / 2**20,
        "figures_peak_mb": mem.peak / 2**20,
        "results_mb": size / 2**20,
    }


def experiment_wall(replicates: int, executor: str, workers: int, panel: bool = True) -> float:
    """Wall time of the default experiment with the given executor and workers (seconds)."""
    from wpi_abm.experiment.executors import make_executor

    sets = [f"replicates={replicates}", f"output.panel={'true' if panel else 'false'}"]
    exp, tree = load_experiment(sets=sets)
    out = Path(tempfile.mkdtemp(prefix="wpi-bench-")) / "results"
    try:
        with make_executor(executor, workers) as ex:
            t = time.perf_counter()
            run_experiment(exp, tree, ex, out, progress=False, figures=False)
            return time.perf_counter() - t
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def scaling(replicates: int) -> dict[str, float]:
    """Parallel efficiency from 1 to 2 workers, T1 / (2 T2), for processes and Dask."""
    out: dict[str, float] = {"replicates": replicates}
    for executor in ("processes", "dask"):
        t1 = experiment_wall(replicates, executor, 1)
        t2 = experiment_wall(replicates, executor, 2)
        out[f"{executor}_1_worker_s"] = t1
        out[f"{executor}_2_workers_s"] = t2
        out[f"{executor}_efficiency"] = t1 / (2 * t2)
    return out


def timed_run(replicates: int, executor: str, workers: int, out: Path) -> float:
    """Wall time of a fresh ``wpi-abm run`` of the default experiment, start to exit (seconds).

    Outcomes and panel are stored as by default; figures are not drawn (timed elsewhere).
    """
    cmd = [
        sys.executable, "-m", "wpi_abm.cli", "run", "--replicates", str(replicates),
        "--executor", executor, "--workers", str(workers), "--no-figures", "--quiet",
        "--out", str(out),
    ]  # fmt: skip
    t = time.perf_counter()
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall


def _checksums(out: Path) -> dict[str, str]:
    """The folder's per-chunk checksum files, to show results do not depend on the workers."""
    return {p.name: p.read_text() for p in sorted((out / "checksums").glob("*"))}


def scaling_table(
    counts: list[int], executors: list[str], strong_replicates: int, weak_replicates: int
) -> dict[str, object]:
    """Strong and weak scaling of ``wpi-abm run`` over ``counts`` workers, for each executor.

    Strong: the same experiment (``strong_replicates`` per design) on each count; efficiency
    T(1) / (N T(N)), where T(1) is the smallest count's time scaled to one worker if 1 is not
    listed. Weak: ``weak_replicates`` per design *per worker*; efficiency T(1) / T(N). Every strong
    point's stored checksums are compared with the first's: results must not depend on the
    executor or the number of workers.

    Returns:
        ``rows`` (one per kind, executor and count: runs, wall_s, efficiency) and
        ``identical`` (whether every strong point stored the same bytes).
    """
    designs = len(load_experiment()[0].policy_names)
    rows: list[dict[str, object]] = []
    reference: dict[str, str] | None = None
    identical = True
    tmp = Path(tempfile.mkdtemp(prefix="wpi-bench-scaling-"))
    try:
        for executor in executors:
            for kind in ("strong", "weak"):
                base: tuple[int, float] | None = None
                for n in counts:
                    replicates = strong_replicates if kind == "strong" else weak_replicates * n
                    out = tmp / f"{executor}-{kind}-{n}"
                    wall = timed_run(replicates, executor, n, out)
                    if kind == "strong":
                        sums = _checksums(out)
                        reference = sums if reference is None else reference
                        identical &= sums == reference
                    shutil.rmtree(out, ignore_errors=True)
                    base = base or (n, wall)
                    n0, t0 = base
                    # Strong: T(n0) n0 / (T(n) n); weak: T(n0) / T(n) — 1.0 at the first count.
                    eff = (t0 * n0) / (wall * n) if kind == "strong" else t0 / wall
                    row = {
                        "kind": kind, "executor": executor, "workers": n,
                        "runs": replicates * designs, "wall_s": round(wall, 2),
                        "efficiency": round(eff, 3),
                    }  # fmt: skip
                    rows.append(row)
                    print(
                        f"  {kind:>6} {executor:>9} {n:>3} workers: {row['runs']:>6} runs "
                        f"{wall:7.1f} s  efficiency {eff:.0%}",
                        flush=True,
                    )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_info(),
        "cores": os.cpu_count(),
        "counts": counts,
        "strong_replicates": strong_replicates,
        "weak_replicates_per_worker": weak_replicates,
        "rows": rows,
        "identical": identical,
    }


def markdown(table: dict[str, object]) -> str:
    """The scaling table as Markdown (for docs/performance.md)."""
    lines = [
        "| kind | executor | workers | runs | wall (s) | efficiency |",
        "|---|---|---|---|---|---|",
    ]
    for r in table["rows"]:  # type: ignore[union-attr]
        lines.append(
            f"| {r['kind']} | {r['executor']} | {r['workers']} | {r['runs']:,} | "
            f"{r['wall_s']:.1f} | {r['efficiency']:.0%} |"
        )
    return "\n".join(lines)


def _counts(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of worker counts") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"'{text}': worker counts must be at least 1")
    return sorted(set(counts))


# -- mesa.batch_run, the tool a Mesa user would pick instead ------------------------------------


class BatchRunModel(WPIModel):
    """The same model, shaped for ``mesa.batch_run``.

    A policy name and a seed as keyword arguments, and a DataCollector that records the same
    centre × year indicators our panel stores (one list per indicator per year).
    """

    def __init__(self, policy: str = "legacy", rng: int | None = None) -> None:
        import mesa

        from wpi_abm.sim.recorder import INDICATOR_COLUMNS

        exp = _default_experiment()
        super().__init__(
            exp.cohort, exp.parameters, exp.policies[policy], exp.horizon,
            np.random.SeedSequence(rng or 0),
        )  # fmt: skip
        self.running = True
        reporters = {
            name: (lambda m, k=name: m.recorder.data[k][max(m.year, 1) - 1].tolist())
            for name in INDICATOR_COLUMNS
        }
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    def step(self) -> None:
        """One year, then record it."""
        super().step()
        self.datacollector.collect(self)
        if self.year >= self.horizon:
            self.running = False


_EXP = None


def _default_experiment():
    global _EXP  # one load per worker process
    if _EXP is None:
        _EXP, _ = load_experiment()
    return _EXP


def _internal(kind: str, replicates: int, workers: int) -> None:
    """One side of the comparison, in its own process (so its peak memory is its own)."""
    if kind == "batch_run":
        import warnings

        from mesa.batchrunner import batch_run

        exp = _default_experiment()
        warnings.simplefilter("ignore")
        results = batch_run(
            BatchRunModel,
            parameters={"policy": exp.policy_names},
            number_processes=workers,
            rng=list(range(replicates)),
            data_collection_period=1,
            max_steps=exp.horizon,
            display_progress=False,
        )
        assert len(results) == replicates * len(exp.policy_names) * exp.horizon
    else:
        exp, tree = load_experiment(sets=[f"replicates={replicates}", "output.chunk_runs=25"])
        out = Path(tempfile.mkdtemp(prefix="wpi-bench-")) / "results"
        try:
            with ProcessExecutor(workers) as ex:
                run_experiment(exp, tree, ex, out, progress=False, figures=False)
        finally:
            shutil.rmtree(out.parent, ignore_errors=True)


def _measure_process(args: list[str]) -> tuple[float, float]:
    """Wall time and peak resident memory of a fresh ``python -m wpi_abm.bench`` process."""
    import subprocess
    import sys

    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "wpi_abm.bench", *args])
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, ps.memory_info().rss)
        time.sleep(0.05)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark step {args} failed ({proc.returncode})")
    return time.perf_counter() - t, peak / 2**20


def versus_batch_run(sizes: tuple[int, ...], workers: int) -> dict[str, object]:
    """Ours against mesa.batch_run at each size (replicates per policy)."""
    rows = []
    for replicates in sizes:
        row: dict[str, float] = {"replicates": replicates, "runs": replicates * 9}
        for kind in ("ours", "batch_run"):
            wall, mb = _measure_process(
                ["--internal", kind, "--replicates", str(replicates), "--workers", str(workers)]
            )
            row[f"{kind}_wall_s"] = wall
            row[f"{kind}_driver_peak_mb"] = mb
        row["wall_ratio_batch_run_over_ours"] = row["batch_run_wall_s"] / row["ours_wall_s"]
        row["memory_ratio_batch_run_over_ours"] = (
            row["batch_run_driver_peak_mb"] / row["ours_driver_peak_mb"]
        )
        rows.append(row)
    return {"workers": workers, "sizes": rows}


def big_sweep(runs: int, workers: int) -> dict[str, float]:
    """Driver peak memory of an N-run sweep that stores outcomes only."""
    replicates = max(1, runs // (2 * 50))
    spec = Path(tempfile.mkdtemp(prefix="wpi-bench-")) / "sweep.yaml"
    spec.write_text(
        "name: big\npolicies: [legacy, reform_2024]\n"
        f"replicates: {replicates}\nchunk_runs: 100\ndesign: lhs\nsamples: 50\n"
        "set: {horizon: 15}\n"
        "parameters:\n  parameters.host.absorption_share: {range: [0.2, 1.0]}\n"
    )
    out = spec.parent / "out"
    try:
        wall, mb = _measure_process(
            ["--internal-sweep", str(spec), str(out), "--workers", str(workers)]
        )
    finally:
        shutil.rmtree(spec.parent, ignore_errors=True)
    return {"runs": 2 * 50 * replicates, "horizon": 15, "wall_s": wall, "driver_peak_mb": mb}


def _print_per_run(found: dict, label: str) -> None:
    """Print each way's median ms per run and its rounds (``label`` formats the way's name)."""
    for name, ms in found["median_ms_per_run"].items():
        rounds = ", ".join(f"{x:.2f}" for x in found["ms_per_run"][name])
        print(f"  {label.format(name)}: {ms:.2f} ms per run (rounds: {rounds})", flush=True)


def _merge_into(path: Path, key: str, value: object) -> None:
    """Write ``value`` under ``key`` into the benchmark file, keeping its other measures."""
    previous = json.loads(path.read_text()) if path.is_file() else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**previous, key: value}, indent=2))
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its figures to a JSON file."""
    parser = argparse.ArgumentParser(prog="python -m wpi_abm.bench", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench/benchmark.json"))
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=90, help="single runs timed alone")
    parser.add_argument("--batches", type=int, default=18, help="batches of 25 runs timed")
    parser.add_argument("--scaling-replicates", type=int, default=200)
    parser.add_argument("--versus", type=int, nargs="*", default=[50, 200], metavar="REPLICATES")
    parser.add_argument("--big-sweep", type=int, default=0, metavar="RUNS")
    parser.add_argument("--against", metavar="REV", help="compare per-run times with git REV")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --against")
    parser.add_argument(
        "--scaling", type=_counts, metavar="N,N,...",
        help="only strong and weak scaling over these worker counts (e.g. 1,2,4,8,16)",
    )  # fmt: skip
    parser.add_argument(
        "--scaling-executors", default="dask", metavar="NAME,...",
        help="executors for --scaling (dask, processes or both; default dask)",
    )  # fmt: skip
    parser.add_argument(
        "--weak-replicates", type=int, default=25, metavar="R",
        help="replicates per design per worker for --scaling's weak scaling",
    )  # fmt: skip
    parser.add_argument(
        "--contention", type=int, metavar="N",
        help="only per-run time alone and with N processes at once (what N cores give)",
    )  # fmt: skip
    parser.add_argument(
        "--batch-sizes", type=_counts, metavar="N,N,...",
        help="only model time per run with N worlds per model (e.g. 1,25,100), alternating",
    )  # fmt: skip
    parser.add_argument(
        "--posterior-batches", action="store_true",
        help="only model time per run of a chunk's draw groups: one model, one per group, none",
    )  # fmt: skip
    parser.add_argument("--internal", choices=("ours", "batch_run"), help=argparse.SUPPRESS)
    parser.add_argument("--internal-sweep", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.internal:
        _internal(args.internal, args.replicates, args.workers)
        return 0
    if args.internal_sweep:
        from wpi_abm.cli import main as cli

        spec, out = args.internal_sweep
        return cli(["sweep", spec, "--out", out, "--quiet", "--workers", str(args.workers)])

    if args.contention is not None:
        print(f"per-run time in one process, then in {args.contention} at once...", flush=True)
        try:
            found = contention(args.contention, args.batches)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        together = ", ".join(f"{t:.1f}" for t in found["together_ms"])
        print(
            f"  alone {found['alone_ms']:.1f} ms per run; together {together} ms; "
            f"{args.contention} processes give {found['speedup']:.2f}× one",
            flush=True,
        )
        _merge_into(args.out, "contention", found)
        return 0
    if args.batch_sizes:
        print(f"model time per run in batches of {args.batch_sizes} worlds...", flush=True)
        found = batch_sizes(args.batch_sizes, max(args.runs, 1), args.rounds)
        _print_per_run(found, "{:>4} worlds")
        _merge_into(args.out, "batch_sizes", found)
        return 0
    if args.posterior_batches:
        worlds = 100
        print(f"model time per run of {worlds} replicates' draw groups...", flush=True)
        found = posterior_batches(worlds, args.rounds)
        _print_per_run(found, "{:>14}")
        _merge_into(args.out, "posterior_batches", found)
        return 0
    if args.scaling:
        executors = [e.strip() for e in args.scaling_executors.split(",") if e.strip()]
        print(
            f"scaling over {args.scaling} workers ({', '.join(executors)}): strong "
            f"{args.scaling_replicates} replicates per design, weak {args.weak_replicates} per "
            "design per worker...",
            flush=True,
        )
        table = scaling_table(
            args.scaling, executors, args.scaling_replicates, args.weak_replicates
        )
        print(markdown(table))
        if not table["identical"]:
            print("error: stored results differ between worker counts", file=sys.stderr)
        _merge_into(args.out, "scaling_table", table)
        return 0 if table["identical"] else 1
    if args.against:
        print(f"per-run times, {args.against} against this tree, {args.rounds} rounds...")
        result = compare(args.against, args.rounds, args.runs, args.batches)
        for name, m in result["medians"].items():
            print(
                f"median {name}: {m['run_alone_median_ms']:.1f} ms alone, "
                f"{m['run_in_chunk_median_ms']:.1f} ms in a chunk"
            )
        out = args.out.with_name("compare.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"against": args.against, **result}, indent=2))
        print(f"wrote {out}")
        return 0
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
        f"  {default['runs']} runs in {default['wall_s']:.1f} s (+ figures "
        f"{default['figures_s']:.1f} s); driver peak {default['driver_peak_mb']:.0f} MB",
        flush=True,
    )
    print(f"scaling 1 -> 2 workers ({args.scaling_replicates} replicates)...", flush=True)
    scale = scaling(args.scaling_replicates)
    print(
        f"  efficiency: processes {scale['processes_efficiency']:.0%}, "
        f"dask {scale['dask_efficiency']:.0%}",
        flush=True,
    )
    versus = None
    if args.versus:
        print(f"against mesa.batch_run at {args.versus} replicates per policy...", flush=True)
        versus = versus_batch_run(tuple(args.versus), args.workers)
        for row in versus["sizes"]:
            print(
                f"  {row['runs']} runs: ours {row['ours_wall_s']:.1f} s / "
                f"{row['ours_driver_peak_mb']:.0f} MB, batch_run {row['batch_run_wall_s']:.1f} s / "
                f"{row['batch_run_driver_peak_mb']:.0f} MB",
                flush=True,
            )
    sweep = None
    if args.big_sweep:
        print(f"{args.big_sweep}-run sweep (outcomes only)...", flush=True)
        sweep = big_sweep(args.big_sweep, args.workers)
        print(f"  {sweep['runs']} runs in {sweep['wall_s']:.0f} s; driver peak "
              f"{sweep['driver_peak_mb']:.0f} MB", flush=True)  # fmt: skip
    result = {
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_info(),
        "per_run": per_run,
        "default_experiment": default,
        "scaling": scale,
        "versus_batch_run": versus,
        "big_sweep": sweep,
        "targets": {
            "run_median_ms": TARGET_RUN_MS,
            "default_experiment_s_on_2_cores": TARGET_DEFAULT_S,
            "run_median_met": per_run["run_in_chunk_median_ms"] <= TARGET_RUN_MS,
            "default_experiment_met": default["wall_s"] <= TARGET_DEFAULT_S
            if args.replicates == 1000 and args.workers == 2
            else None,
            "efficiency": TARGET_EFFICIENCY,
            "efficiency_met": min(scale["processes_efficiency"], scale["dask_efficiency"])
            >= TARGET_EFFICIENCY,
            "sweep_driver_mb": TARGET_SWEEP_MB,
            "sweep_driver_met": sweep["driver_peak_mb"] <= TARGET_SWEEP_MB if sweep else None,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
