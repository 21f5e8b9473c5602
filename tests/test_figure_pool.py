"""The figure workers' own server: warm, separate from the executors', started as a run starts."""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import pytest

from wpi_abm.config import load_experiment
from wpi_abm.experiment.driver import run_experiment
from wpi_abm.experiment.executors import SerialExecutor
from wpi_abm.experiment.workers import forkserver_context
from wpi_abm.plots import pool

needs_forkserver = pytest.mark.skipif(
    "forkserver" not in mp.get_all_start_methods(), reason="no forkserver on this platform"
)


def worker_state(_: object = None) -> tuple[int, bool, bool]:
    """In a figure worker: its parent, whether the drawing code (every module the catalogue
    names, and pyplot) and whether the model are imported."""
    from wpi_abm.plots.catalogue import CATALOGUE

    named = {f"wpi_abm.plots.{s.function.split(':')[0]}" for s in CATALOGUE}
    drawing = all(m in sys.modules for m in (*named, "matplotlib.pyplot"))
    return os.getppid(), drawing, "wpi_abm.sim.model" in sys.modules


@needs_forkserver
def test_figure_workers_fork_warm_from_a_server_of_their_own() -> None:
    """Whoever started the process's one forkserver first (in a run, the executor, with the model
    preloaded), figure workers fork from the figures' server, the drawing code imported."""
    forkserver_context([], warm=False)  # the one server, started as an executor starts it
    assert pool._figure_server_context() is not None, "this Python's launch code is bindable"
    with ProcessPoolExecutor(max_workers=2, mp_context=pool.figure_context()) as workers:
        states = set(workers.map(worker_state, range(4)))
    server = pool.figure_server_pid()
    assert server is not None and states == {(server, True, False)}
    from multiprocessing import forkserver

    assert server != forkserver._forkserver._forkserver_pid


def test_without_a_bindable_launch_figures_use_the_one_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another Python's launch code of another shape: no second server, nothing breaks."""

    def launch(self: object, process_obj: object) -> None:  # names no ``forkserver`` global
        return None

    assert pool._bound_launch(launch, os) is None
    monkeypatch.setattr(pool, "_figure_server_context", lambda: None)
    ctx = pool.figure_context()
    assert ctx is mp.get_context(ctx.get_start_method()) and pool.figure_server_pid() is None


@pytest.fixture
def small() -> tuple:
    return load_experiment(sets=["replicates=2", "policies=[legacy, reform_2024]"])


class RecordingExecutor(SerialExecutor):
    """A serial executor that notes when its chunks start (in ``calls``)."""

    def __init__(self, calls: list[str]) -> None:
        super().__init__()
        self.calls = calls

    def results(self, job, chunks):
        self.calls.append("chunks")
        yield from super().results(job, chunks)


@pytest.mark.parametrize("figures", [True, False])
def test_a_run_starts_the_figure_server_before_its_chunks(
    figures: bool, small: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server warms while the runs are simulated, not after them; not at all without figures."""
    from wpi_abm.plots import summary

    calls: list[str] = []
    monkeypatch.setattr(pool, "start_figure_server", lambda: calls.append("server"))
    monkeypatch.setattr(summary, "draw_run_figures", lambda *a, **k: calls.append("figures") or [])
    exp, tree = small
    run_experiment(
        exp, tree, RecordingExecutor(calls), tmp_path / "out", progress=False, figures=figures
    )
    assert calls == (["server", "chunks", "figures"] if figures else ["chunks"])


@needs_forkserver
def test_a_run_draws_its_figures_in_the_figure_servers_workers(
    small: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end with two figure workers: the server is up once the run is, and the files are
    those one process draws from the same folder. The run's figures are drawn from panel
    aggregates read early (plots.prefetch: every policy, here), ``plot_results`` reads its own."""
    from wpi_abm.plots import prefetch, summary
    from wpi_abm.plots.summary import plot_results

    take, draw = prefetch.PanelPrefetch.take, summary.draw_run_figures
    kept: list[object] = []

    def all_read(self: prefetch.PanelPrefetch) -> dict:
        self._thread.join()
        return take(self)

    def drawing(*args: object, **kwargs: object) -> list[str]:
        kept.append(kwargs["panels"])
        return draw(*args, **kwargs)

    monkeypatch.setattr(prefetch.PanelPrefetch, "take", all_read)
    monkeypatch.setattr(summary, "draw_run_figures", drawing)
    monkeypatch.setenv("WPI_ABM_FIGURE_WORKERS", "2")
    exp, tree = small
    out = tmp_path / "out"
    seen: list[int | None] = []

    class Noting(SerialExecutor):
        def results(self, job, chunks):
            seen.append(pool.figure_server_pid())
            yield from super().results(job, chunks)

    result = run_experiment(exp, tree, Noting(), out, progress=False, figures=True)
    assert seen[0] is not None and seen[0] == pool.figure_server_pid()
    drawn = {p.name: p.read_bytes() for p in (out / "figures").iterdir()}
    assert len(drawn) >= 16
    assert [sorted(k) for k in kept] == [sorted(exp.policy_names)]
    monkeypatch.setenv("WPI_ABM_FIGURE_WORKERS", "1")
    made, _ = plot_results(out)
    assert sorted(made) == sorted(drawn) and result.summary is not None
    for name in made:
        # A PDF differs only in its creation time (to the second).
        again, then = ((out / "figures" / name).read_bytes(), drawn[name])
        if name.endswith(".pdf"):
            again, then = (re.sub(rb"/CreationDate \(D:[^)]*\)", b"", b) for b in (again, then))
        assert again == then, name


def test_plot_results_starts_the_figure_server_before_reading_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So that the server imports while this process reads; not for a folder with no manifest
    (the error comes at once, and no server outlives it)."""
    from wpi_abm.plots import summary

    calls: list[object] = []
    monkeypatch.setattr(summary, "start_figure_server", lambda: calls.append("server"))
    monkeypatch.setattr(
        summary.Results, "load", classmethod(lambda cls, root, lang: calls.append("load") or "res")
    )
    monkeypatch.setattr(summary, "draw_files", lambda *a, **k: calls.append("draw") or ([], []))
    summary.plot_results(tmp_path)
    assert calls == ["load", "draw"]
    calls.clear()
    (tmp_path / "manifest.json").write_text("{}")
    summary.plot_results(tmp_path)
    assert calls == ["server", "load", "draw"]


class _StubPool:
    """A pool whose first task never finishes, finishes at once, or cannot be submitted."""

    def __init__(self, way: str) -> None:
        self.way = way

    def submit(self, fn: object, *args: object) -> Future:
        if self.way == "broken":
            raise RuntimeError("cannot schedule new futures after shutdown")
        future: Future = Future()
        if self.way == "up":
            future.set_result(fn(*args))  # type: ignore[operator]
        return future


@pytest.mark.parametrize(("way", "is_set"), [("up", True), ("broken", True), ("never", False)])
def test_a_pool_is_up_once_it_has_run_a_task(way: str, is_set: bool) -> None:
    from wpi_abm.plots.summary import _worker_up

    assert _worker_up(_StubPool(way)).wait(timeout=0.5 if not is_set else 10) is is_set


def test_complete_policies_are_those_with_every_chunk_stored() -> None:
    from wpi_abm.experiment.plan import plan_chunks
    from wpi_abm.plots.prefetch import complete_policies

    chunks = plan_chunks(["a", "b", "c"], 1, 4, 2)  # a: 0, 1; b: 2, 3; c: 4, 5
    assert complete_policies(chunks, set()) == {}
    assert complete_policies(chunks, {0, 1, 2, 5}) == {"a": [0, 1]}
    assert complete_policies(chunks, set(range(6))) == {"a": [0, 1], "b": [2, 3], "c": [4, 5]}


@needs_forkserver
def test_a_run_reads_its_complete_policies_panels_while_its_last_chunks_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once fewer chunks are left than workers, the policies complete then (here all but the
    last) are read early, the same aggregates as read afterwards. Nothing is read early without
    figure workers or without a panel. (That the figures drawn from them are the files
    ``wpi-abm plot`` draws: test_a_run_draws_its_figures_in_the_figure_servers_workers.)"""
    from test_panel import assert_same

    from wpi_abm.plots import prefetch, summary
    from wpi_abm.plots.results import Results

    class TwoWorkers(SerialExecutor):
        """Says it has two workers: the prefetch starts once one chunk is left."""

        def __init__(self) -> None:
            super().__init__()
            self.workers = 2

    take = prefetch.PanelPrefetch.take

    def all_read(self: prefetch.PanelPrefetch) -> dict:
        self._thread.join()  # here every policy is read first, so that the test knows which
        return take(self)

    monkeypatch.setattr(prefetch.PanelPrefetch, "take", all_read)
    monkeypatch.setenv("WPI_ABM_FIGURE_WORKERS", "2")
    given: list[dict | None] = []
    monkeypatch.setattr(summary, "draw_run_figures", lambda *a, **k: given.append(k["panels"]))
    policies = ["legacy", "reform_2024", "flat_15"]
    sets = ["replicates=4", f"policies=[{', '.join(policies)}]", "output.chunk_runs=2"]
    exp, tree = load_experiment(sets=sets)
    out = tmp_path / "out"
    run_experiment(exp, tree, TwoWorkers(), out, progress=False, figures=True)
    (panels,) = given
    # Started with the last policy's last chunk still to come: the other two policies.
    assert panels is not None and list(panels) == policies[:2]
    res = Results.load(out)
    for policy, early in panels.items():
        late = res.panel(policy)
        assert early is not None and late is not None
        assert_same(early, vars(late))

    given.clear()  # one worker: started once every chunk is back, so every policy
    run_experiment(exp, tree, SerialExecutor(), tmp_path / "serial", progress=False, figures=True)
    assert list(given[0] or {}) == policies
    given.clear()
    exp_np, tree_np = load_experiment(sets=[*sets, "output.panel=false"])
    run_experiment(exp_np, tree_np, TwoWorkers(), tmp_path / "np", progress=False, figures=True)
    monkeypatch.setenv("WPI_ABM_FIGURE_WORKERS", "1")
    run_experiment(exp, tree, TwoWorkers(), tmp_path / "one", progress=False, figures=True)
    assert given == [None, None]


@needs_forkserver
def test_taking_the_prefetch_waits_for_at_most_the_policy_being_read(tmp_path: Path) -> None:
    """Taken at once, it has read at most one policy; what it read is right."""
    from test_panel import assert_same

    from wpi_abm.plots.prefetch import PanelPrefetch
    from wpi_abm.plots.results import Results

    policies = ["legacy", "reform_2024", "flat_15"]
    exp, tree = load_experiment(sets=["replicates=2", f"policies=[{', '.join(policies)}]"])
    out = tmp_path / "out"
    run_experiment(exp, tree, SerialExecutor(), out, progress=False, figures=False)
    early = PanelPrefetch(out, exp, {p: [i] for i, p in enumerate(policies)}).take()
    assert set(early) <= set(policies[:1])
    res = Results.load(out)
    for policy, panel in early.items():
        assert panel is not None
        assert_same(panel, vars(res.panel(policy)))


def test_a_policy_the_prefetch_cannot_read_is_left_to_the_figures(tmp_path: Path) -> None:
    from wpi_abm.plots.prefetch import PanelPrefetch

    exp, _ = load_experiment(sets=["replicates=2", "policies=[legacy]"])
    early = PanelPrefetch(tmp_path, exp, {"legacy": [0], "taper": [1]})  # no such chunk files
    assert early.take() == {}
