"""Running an experiment into a results folder: plan, execute, stream to disk, summarise.

The driver keeps only per-run sums in memory (a few numbers per run); everything else goes to disk
chunk by chunk as workers finish. Interrupted runs resume from the chunks already on disk, and a
chunk that raised is recorded (point, policy, replicates, seeds, error) without stopping the rest.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from wpi_abm import interrupts
from wpi_abm.errors import ResultsError
from wpi_abm.experiment.analysis import run_sums, summarise
from wpi_abm.experiment.executors import Executor
from wpi_abm.experiment.fiscal import by_centre, by_fiscal_year
from wpi_abm.experiment.plan import RUNS_PER_DRAW, Chunk, Point, plan_chunks, run_seed
from wpi_abm.experiment.progress import Progress, figure_progress
from wpi_abm.experiment.resume import mismatch
from wpi_abm.experiment.runner import Job
from wpi_abm.experiment.store import (
    BY_CENTRE,
    BY_FISCAL_YEAR,
    CHECKSUMS_NOTE,
    ResultFolder,
    ResultStore,
    git_commit,
    machine_info,
    now,
    versions,
)
from wpi_abm.experiment.uncertainty import load as load_posterior
from wpi_abm.posterior import Posterior
from wpi_abm.schema.experiment import Experiment

if TYPE_CHECKING:
    from wpi_abm.plots.prefetch import PanelPrefetch


@dataclass
class ExperimentResult:
    """What :func:`run_experiment` produced (the HTML report is :mod:`wpi_abm.report`).

    Attributes:
        out: The results folder.
        summary: The summary table.
        failures: Chunks that raised (one dict each).
        runs_done: Runs simulated in this invocation.
        runs_total: Runs in the experiment.
        seconds: Wall time of this invocation.
    """

    out: Path
    summary: pd.DataFrame
    failures: list[dict[str, Any]] = field(default_factory=list)
    runs_done: int = 0
    runs_total: int = 0
    seconds: float = 0.0


def config_hash(tree: dict[str, Any], points: tuple[Point, ...]) -> str:
    """A fingerprint of what is simulated (to refuse resuming into a different experiment)."""
    payload = {"config": tree, "points": [p.values for p in points]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def default_out(name: str) -> Path:
    """``results/<name>-<UTC timestamp>`` under the current directory."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return Path("results") / f"{name}-{stamp}"


def run_experiment(
    exp: Experiment,
    tree: dict[str, Any],
    executor: Executor,
    out: Path,
    *,
    points: tuple[Point, ...] = (Point(0),),
    point_columns: pd.DataFrame | None = None,
    resume: bool = False,
    progress: bool = True,
    figures: bool | None = None,
    kind: str = "run",
    invocation: dict[str, Any] | None = None,
) -> ExperimentResult:
    """Run every chunk of ``exp`` not yet on disk into ``out`` and write the summary.

    Args:
        exp: The validated experiment.
        tree: The resolved configuration (recorded in the manifest).
        executor: Where chunks run (entered by the caller).
        out: The results folder.
        points: Parameter points (sweeps); a plain run has one empty point.
        point_columns: Parameter values per point (index = point), for the summary and
            ``points.csv``.
        resume: Continue an interrupted experiment in ``out``.
        progress: Report progress on standard error: a bar on a terminal, else a line per tenth
            of the runs or per minute; then a line per figure drawn.
        figures: Draw figures at the end (default: the experiment's ``output.figures``).
        kind: ``run``, ``sweep`` or ``sensitivity`` (recorded in the manifest).
        invocation: How the experiment was started (command line, file, overrides), recorded in
            the manifest so that it can be resumed from the folder alone.

    Raises:
        ResultsError: ``out`` cannot be used (see :class:`ResultStore`), or holds another
            experiment (the message names each differing field).
        KeyboardInterrupt: Interrupted; what was finished is on disk and resumable.
    """
    started = time.perf_counter()
    # Before the folder is touched: a bad posterior leaves nothing behind.
    posterior = load_posterior(exp)
    if posterior is not None and not (tree.get("uncertainty") or {}).get("sha256"):
        # The loader records the checksum; a tree built by hand gets it here, so that resuming
        # with a changed file is refused all the same.
        tree = {**tree, "uncertainty": {**tree.get("uncertainty", {}), "sha256": posterior.sha256}}
    fingerprint = config_hash(tree, points)
    chunks = plan_chunks(exp.policy_names, len(points), exp.replicates, exp.output.chunk_runs)
    n_centres = len(exp.cohort.centres)
    total = len(points) * len(exp.policies) * exp.replicates
    store = ResultStore(out)
    if resume:
        # Before the lock and the try below: a refused folder is left exactly as it was.
        store.check(resume=True)
        old = store.read_manifest()
        if old.get("config_hash") != fingerprint:
            raise mismatch(store.root, old.get("config") or {}, tree)
    store.open(resume=resume)
    draw = exp.output.figures if figures is None else figures
    if draw:
        # The figure workers' own server imports matplotlib and warms now, beside the executor's
        # server warming the model (a core is idle then), instead of after the last chunk.
        from wpi_abm.plots.pool import start_figure_server

        start_figure_server()
    prefetch: PanelPrefetch | None = None
    try:
        manifest = _start_manifest(
            store, exp, tree, fingerprint, executor, total, kind, resume, invocation, posterior
        )
        if resume:
            store.clean_temporaries()
        if point_columns is not None:
            store.write_points(point_columns)
        done, parts = _finished(store, chunks, n_centres, exp, manifest)
        todo = [c for c in chunks if c.index not in done]
        failures: list[dict[str, Any]] = []
        # Workers on this file system store the chunks they simulate (experiment.delivery).
        where = str(store.root.absolute()) if executor.shares_files else None
        holder = store.holder() if where is not None else None
        job = Job(exp, points, exp.output.panel, fingerprint[:16], posterior, where, holder)
        runs_done = 0
        bar = Progress(
            total, initial=total - sum(len(c) for c in todo), desc=exp.name, enabled=progress
        )
        # Chunks not yet back, and workers: once fewer are left than workers, a core idles.
        left, workers = len(todo), getattr(executor, "workers", 1)
        with bar:
            for res in executor.results(job, todo):
                left -= 1
                if res.error is not None:
                    failures.append(_failure(res.chunk, exp, res.error))
                else:
                    if res.stored:
                        parts.append(res.sums)
                    else:
                        store.write_chunk(res.chunk.index, res.outcomes, res.panel)
                        parts.append(run_sums(res.outcomes))
                    runs_done += len(res.chunk)
                    done.add(res.chunk.index)
                bar.update(len(res.chunk))
                interrupts.check()  # a Ctrl-C that a compilation swallowed stops here
                if draw and prefetch is None and left < workers:
                    # From here to the figures that core reads the complete policies' panels.
                    prefetch = _prefetch(store.root, exp, chunks, done, len(points))
        if draw and prefetch is None:
            prefetch = _prefetch(store.root, exp, chunks, done, len(points))
        summary = summarise(parts, exp.policy_names, exp.baseline_policy, point_columns)
        store.write_summary(summary)
        if exp.cohort.first_fiscal_year is not None and point_columns is None:
            # A scenario in fiscal years also reports the programme by year and by centre.
            folder = ResultFolder(store.root)
            store.write_table(BY_CENTRE, by_centre(folder, exp))
            if exp.output.panel:
                store.write_table(BY_FISCAL_YEAR, by_fiscal_year(folder, exp))
        store.write_failures(failures)
        figures_made: list[str] = []
        if draw and not summary.empty:
            from wpi_abm.plots.summary import draw_run_figures

            figures_made = draw_run_figures(
                out,
                summary,
                exp,
                progress=figure_progress() if progress else None,
                panels=prefetch.take() if prefetch is not None else None,
            )
        manifest.update(
            status="complete" if not failures else "failed",
            ended=now(),
            runs_completed=total - sum(len(f["replicates"]) for f in failures),
            failures=failures,
            figures=figures_made,
        )
        store.write_manifest(manifest)
    except KeyboardInterrupt:
        _mark(store, "interrupted")
        raise
    except BaseException:
        _mark(store, "failed")
        raise
    finally:
        if prefetch is not None:
            prefetch.close()
        store.close()
    return ExperimentResult(out, summary, failures, runs_done, total, time.perf_counter() - started)


def _prefetch(
    root: Path, exp: Experiment, chunks: list[Chunk], stored: set[int], n_points: int
) -> PanelPrefetch | None:
    """Start reading the complete policies' panels for the figures (:mod:`.plots.prefetch`)."""
    from wpi_abm.plots.prefetch import start_prefetch

    return start_prefetch(root, exp, chunks, stored, n_points)


def _mark(store: ResultStore, status: str) -> None:
    try:
        manifest = store.read_manifest()
    except ResultsError:
        return
    manifest.update(status=status, ended=now())
    store.write_manifest(manifest)


def _start_manifest(
    store: ResultStore,
    exp: Experiment,
    tree: dict[str, Any],
    fingerprint: str,
    executor: Executor,
    total: int,
    kind: str,
    resume: bool,
    invocation: dict[str, Any] | None,
    posterior: Posterior | None,
) -> dict[str, Any]:
    if resume:
        manifest = store.read_manifest()
        manifest.setdefault("resumed", []).append(now())
    else:
        manifest = {
            "experiment": exp.name,
            "kind": kind,
            "status": "running",
            "started": now(),
            "root_seed": exp.seed,
            "replicates": exp.replicates,
            "horizon": exp.horizon,
            "policies": exp.policy_names,
            "runs_total": total,
            "centres_per_run": len(exp.cohort.centres),
            "chunk_runs": exp.output.chunk_runs,
            "panel_stored": exp.output.panel,
            "config_hash": fingerprint,
            "checksums": CHECKSUMS_NOTE,
            "versions": versions(),
            "machine": machine_info(),
            "git_commit": git_commit(),
            "invocation": invocation or {},
            "posterior": _posterior_note(posterior),
            "config": tree,
        }
    manifest.update(status="running", execution=executor.describe())
    store.write_manifest(manifest)
    return manifest


def _posterior_note(posterior: Posterior | None) -> dict[str, Any] | None:
    """What the manifest says about the posterior the runs drew their parameters from."""
    if posterior is None:
        return None
    return {
        "file": posterior.file,
        "sha256": posterior.sha256,
        "particles": len(posterior),
        "keys": list(posterior.keys),
        "runs_per_draw": RUNS_PER_DRAW,
    }


def _finished(
    store: ResultStore,
    chunks: list[Chunk],
    n_centres: int,
    exp: Experiment,
    manifest: dict[str, Any],
) -> tuple[set[int], list[pd.DataFrame]]:
    """Chunks already complete and intact on disk, and their per-run sums.

    A chunk that is there but truncated, unreadable or changed since it was written (its
    checksum differs) is named on standard error and left to be run again.
    """
    require = manifest.get("checksums") is not None
    if not require:
        print(
            f"note: {store.root} has no checksums (written before wpi-abm recorded them); its "
            "stored chunks are checked by row count only, the chunks written now get checksums",
            file=sys.stderr,
        )
    done: set[int] = set()
    parts: list[pd.DataFrame] = []
    for c in chunks:
        rows = len(c) * n_centres
        panel_rows = rows * exp.horizon if exp.output.panel else None
        problem = store.chunk_problem(c.index, rows, panel_rows, require_checksum=require)
        if problem is None:
            done.add(c.index)
            parts.append(run_sums(store.read_outcomes(c.index)))
        elif problem != "missing":
            print(f"wpi-abm: redoing chunk {c.index}: {problem}", file=sys.stderr)
    return done, parts


def _failure(chunk: Chunk, exp: Experiment, error: str) -> dict[str, Any]:
    return {
        "chunk": chunk.index,
        "policy": chunk.policy,
        "point": chunk.point,
        "replicates": list(chunk.replicates),
        "seeds": [
            {"entropy": exp.seed, "spawn_key": list(run_seed(exp.seed, r).spawn_key)}
            for r in chunk.replicates
        ],
        "error": error,
    }
