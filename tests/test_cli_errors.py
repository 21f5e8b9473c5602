"""Every user-caused error exits 2 with one paragraph naming what is wrong; none is 'internal'."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wpi_abm import __version__
from wpi_abm.cli import build_parser, main

ROOT = Path(__file__).parents[1]
QUICK = ["--replicates", "1", "--quiet", "--no-figures", "--executor", "serial",
         "--set", "policies=[legacy]"]  # fmt: skip


def one_paragraph(err: str) -> None:
    assert err.startswith("error: ") and "Traceback" not in err and "internal error" not in err
    assert err.strip().count("\n") == 0, err


@pytest.mark.parametrize("where", ["under_a_file", "at_a_file", "system"])
def test_an_unusable_out_folder_exits_2_naming_it(where, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    out = {"under_a_file": afile / "x", "at_a_file": afile, "system": Path("/proc/wpi-abm")}[where]
    assert main(["run", "--out", str(out), *QUICK]) == 2
    err = capsys.readouterr().err
    one_paragraph(err)
    assert str(out) in err and "--out" in err
    assert afile.read_text() == "keep me"


def test_an_unwritable_out_folder_exits_2(tmp_path, capsys, monkeypatch):
    # Tests may run as root, which can write anywhere: make creating the folder fail instead.
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert main(["run", "--out", str(tmp_path / "new"), *QUICK]) == 2
    err = capsys.readouterr().err
    one_paragraph(err)
    assert "permission" in err.lower() and "--out" in err


def test_a_scheduler_that_is_not_an_address_exits_2(tmp_path, capsys):
    out = tmp_path / "o"
    args = ["--replicates", "1", "--quiet", "--set", "policies=[legacy]"]
    assert main(["run", "--scheduler", "notaurl", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    one_paragraph(err)
    assert "--scheduler" in err and "tcp://HOST:PORT" in err
    assert not out.exists()


def test_too_many_replicates_names_the_option_not_set(capsys):
    assert main(["run", "--replicates", "1000000000000", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--replicates" in err and "--set" not in err


def test_a_policy_file_given_to_run_is_named_as_one(capsys):
    policy = ROOT / "configs" / "policies" / "legacy.yaml"
    assert main(["run", str(policy), "--quiet"]) == 2
    err = capsys.readouterr().err
    one_paragraph(err)
    assert "this is a policy file" in err and "experiments/" in err


def test_an_experiment_file_given_to_sweep_is_named_as_one(capsys):
    assert main(["sweep", str(ROOT / "experiments" / "policy_comparison.yaml")]) == 2
    err = capsys.readouterr().err
    one_paragraph(err)
    assert "this is an experiment file" in err and "sweep" in err


def test_plot_with_failing_figures_exits_non_zero_printing_each_error_once(
    tmp_path, capsys, monkeypatch
):
    from wpi_abm.plots import catalogue

    out = tmp_path / "r"
    assert main(["run", "--out", str(out), "--replicates", "2", *QUICK[2:]]) == 0

    def broken(res):
        raise ValueError("no such column: papers_ratio")

    specs = tuple(
        catalogue.FigureSpec(s.name, broken, s.title, s.caption) for s in catalogue.CATALOGUE[:3]
    )
    monkeypatch.setattr(catalogue, "CATALOGUE", specs)
    capsys.readouterr()
    assert main(["plot", str(out)]) == 1
    captured = capsys.readouterr()
    text = captured.out + captured.err
    for spec in specs:
        assert text.count(f"{spec.name} failed") == 1, text
    assert "3 figures failed" in captured.err


def test_version_and_help_for_every_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and __version__ in capsys.readouterr().out
    parser = build_parser()
    commands = parser._subparsers._group_actions[0]
    helps = {a.dest: a.help for a in commands._choices_actions}
    for name, sub in commands.choices.items():
        assert helps.get(name), f"{name} has no help line"
        assert sub.description, f"{name} has no description"


def test_interrupt_names_the_real_resume_command(tmp_path, capsys, monkeypatch):
    from wpi_abm.experiment import runner

    real = runner._simulate
    calls = []

    def interrupt_second(job, chunk):
        calls.append(chunk.index)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(job, chunk)

    monkeypatch.setattr(runner, "_simulate", interrupt_second)
    out = tmp_path / "stopped"
    code = main(["run", "--out", str(out), "--replicates", "2", *QUICK[2:],
                 "--set", "output.chunk_runs=1"])  # fmt: skip
    assert code == 130
    err = capsys.readouterr().err
    assert f"wpi-abm resume {out}" in err and "..." not in err


def test_slurm_without_sbatch_exits_2_at_once(tmp_path):
    """The Slurm path on a machine without sbatch: no hang, no tracebacks, nothing written."""
    bare = tmp_path / "bin"
    bare.mkdir()  # a PATH with no cluster tools at all
    env = {**os.environ, "PATH": str(bare)}
    out = tmp_path / "out"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "wpi_abm.cli", "run", str(ROOT / "experiments/slurm_cluster.yaml"),
         "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert time.perf_counter() - start < 60
    one_paragraph(proc.stderr)
    assert "sbatch" in proc.stderr and "--scheduler" in proc.stderr
    assert not out.exists()


def _run_args(*argv: str):
    return build_parser().parse_args(["run", *argv])


@pytest.mark.parametrize(
    ("argv", "sets", "expected"),
    [
        ([], [], True),  # the packaged default runs on processes
        (["--executor", "processes"], [], True),
        (["--executor", "serial"], [], False),
        (["--executor", "dask"], [], False),
        (["--scheduler", "tcp://10.0.0.5:8786"], [], False),
        ([], ["execution.executor=serial"], False),
        ([], ["cluster.kind=slurm"], False),
        ([], ["replicates=5", "seed=3"], True),
    ],
)
def test_the_processes_executor_is_known_before_loading_only_when_certain(argv, sets, expected):
    from wpi_abm.cli import _certainly_processes, _experiment_yaml

    assert _certainly_processes(_run_args(*argv), sets, _experiment_yaml(None)) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\n", True),
        ("name: x\nexecution: {executor: processes, workers: 2}\n", True),
        ("name: x\nexecution: {executor: serial}\n", False),
        ("name: x\nexecution: {scheduler: 'tcp://h:1'}\n", False),
        ("name: x\ncluster: {kind: slurm}\n", False),
        ("name: x\nexecution: {executor: dask}\n", False),
        ("name: x\noverrides: {execution.executor: dask}\n", False),
        ("name: x\noverrides: {cluster.kind: slurm}\n", False),
        ("- a list\n", False),
    ],
)
def test_an_experiment_files_own_execution_decides(text, expected, tmp_path):
    from wpi_abm.cli import _certainly_processes, _experiment_yaml

    path = tmp_path / "exp.yaml"
    path.write_text(text)
    assert _certainly_processes(_run_args(str(path)), [], _experiment_yaml(str(path))) is expected
    assert not _certainly_processes(
        _run_args(str(path)), ["execution={executor: serial}"], _experiment_yaml(str(path))
    )


def test_an_unreadable_experiment_file_is_reported_before_any_server_starts(tmp_path, capsys):
    from multiprocessing import forkserver

    path = tmp_path / "exp.yaml"
    path.write_text("name: [unclosed\n")
    before = forkserver._forkserver._forkserver_pid
    assert main(["run", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    one_paragraph(err)
    assert str(path) in err
    assert forkserver._forkserver._forkserver_pid == before  # none started (or stopped)


def assert_stopped_and_reaped(pids: list[int | None]) -> None:
    for pid in {p for p in pids if p is not None}:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_an_error_after_the_workers_server_started_stops_it(tmp_path, capsys, monkeypatch):
    """The server would otherwise import and warm for seconds, holding the caller's pipes."""
    from multiprocessing import forkserver

    from wpi_abm.experiment import workers

    started: list[int] = []
    start = workers.start_workers_early

    def recording(*args, **kwargs):
        start(*args, **kwargs)
        started.append(forkserver._forkserver._forkserver_pid)

    monkeypatch.setattr(workers, "start_workers_early", recording)
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep").write_text("keep me")
    assert main(["run", "--replicates", "1", "--quiet", "--out", str(full)]) == 2
    one_paragraph(capsys.readouterr().err)
    assert started and all(pid is not None for pid in started)
    assert forkserver._forkserver._forkserver_pid is None
    assert_stopped_and_reaped(started)


def test_an_error_after_the_figure_server_started_stops_it(tmp_path, capsys, monkeypatch):
    from wpi_abm.plots import pool

    monkeypatch.setattr(pool, "configured_workers", lambda: 2)  # figures drawn by a pool
    started: list[int | None] = []
    start = pool.start_figure_server

    def recording() -> None:
        start()
        started.append(pool.figure_server_pid())

    monkeypatch.setattr(pool, "start_figure_server", recording)
    folder = tmp_path / "unfinished"
    folder.mkdir()
    (folder / "manifest.json").write_text("{not json")
    assert main(["plot", str(folder)]) == 2
    one_paragraph(capsys.readouterr().err)
    assert started and all(pid is not None for pid in started)
    assert pool.figure_server_pid() is None
    assert_stopped_and_reaped(started)
