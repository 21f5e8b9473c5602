"""Resuming from the results folder alone: the manifest holds the experiment as resolved, the
overrides and the command line, so no original file or option is needed."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from wpi_abm.cli import main

EXPERIMENT = """
name: study
seed: 77
replicates: 3
policies: [legacy, reform_2024]
output: {chunk_runs: 1, figures: false}
"""
SWEEP = """
name: capsweep
set: {output.figures: false}
policies: [legacy, reform_2024]
replicates: 2
chunk_runs: 1
design: grid
parameters:
  policies.reform_2024.matching.cap: {values: [0, 1000]}
"""
SETS = ["--set", "parameters.researchers.insecurity_sensitivity=2", "--replicates", "4"]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def results(root: Path) -> dict[str, bytes]:
    """Every stored result, byte for byte: chunks, their checksums and the summary."""
    files = {"summary.csv": (root / "summary.csv").read_bytes()}
    for sub in ("runs", "outcomes", "checksums"):
        files |= {f"{sub}/{p.name}": p.read_bytes() for p in sorted((root / sub).glob("chunk-*"))}
    return files


def interrupt(root: Path, chunks: tuple[int, ...]) -> None:
    """Make a finished folder look like one whose driver was stopped before these chunks."""
    for i in chunks:
        (root / "outcomes" / f"chunk-{i:06d}.parquet").unlink()
    (root / "summary.csv").unlink()
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["status"] = "interrupted"
    (root / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, Path]:
    """An uninterrupted run of a user's experiment file with overrides, and that file."""
    tmp = tmp_path_factory.mktemp("resume")
    exp = write(tmp, "study.yaml", EXPERIMENT)
    out = tmp / "ref"
    assert main(["run", str(exp), "--out", str(out), "--quiet", "--executor", "serial", *SETS]) == 0
    return out, exp


def test_the_manifest_records_overrides_and_command_line(finished):
    out, exp = finished
    manifest = json.loads((out / "manifest.json").read_text())
    invocation = manifest["invocation"]
    assert invocation["file"] == str(exp.resolve())
    assert invocation["sets"] == ["parameters.researchers.insecurity_sensitivity=2", "replicates=4"]
    assert invocation["argv"][:2] == ["run", str(exp)]
    assert invocation["command"].startswith(f"wpi-abm run {exp} --out {out}")
    assert manifest["config"]["parameters"]["researchers"]["insecurity_sensitivity"] == 2


@pytest.mark.parametrize("how", ["resume", "run --resume"])
def test_resuming_from_the_folder_alone_equals_an_uninterrupted_run(finished, tmp_path, how):
    ref, _ = finished
    part = tmp_path / "part"
    shutil.copytree(ref, part)
    interrupt(part, (1, 4, 5))
    # The experiment file may be gone or changed: the folder holds everything the run needs.
    assert main([*how.split(), str(part), "--quiet"]) == 0
    assert results(part) == results(ref)
    manifest = json.loads((part / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["resumed"]) == 1


def test_resuming_with_other_options_names_every_difference(finished, tmp_path, capsys):
    ref, exp = finished
    part = tmp_path / "part"
    shutil.copytree(ref, part)
    interrupt(part, (2,))
    manifest = (part / "manifest.json").read_bytes()
    code = main(["run", str(exp), "--resume", str(part), "--quiet", "--replicates", "6",
                 "--set", "parameters.researchers.insecurity_sensitivity=3"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "replicates: 4 (stored) → 6 (now)" in err
    assert "parameters.researchers.insecurity_sensitivity: 2 (stored) → 3 (now)" in err
    assert f"wpi-abm resume {part}" in err
    assert not (part / "summary.csv").exists()  # nothing was run
    assert (part / "manifest.json").read_bytes() == manifest  # nor touched
    # The same file and options as the first time still resume.
    code = main(["run", str(exp), "--resume", str(part), "--quiet", "--executor", "serial", *SETS])
    assert code == 0 and results(part) == results(ref)


def test_a_sweep_resumes_from_the_folder_alone(tmp_path):
    spec = write(tmp_path, "sweep.yaml", SWEEP)
    ref, part = tmp_path / "ref", tmp_path / "part"
    for out in (ref, part):
        assert main(["sweep", str(spec), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    spec.unlink()
    interrupt(part, (0, 5))
    assert main(["sweep", "--resume", str(part), "--quiet"]) == 0
    assert results(part) == results(ref)
    assert (part / "points.csv").read_bytes() == (ref / "points.csv").read_bytes()
    interrupt(part, (3,))
    assert main(["resume", str(part), "--quiet"]) == 0
    assert results(part) == results(ref)


def test_a_folder_from_another_schema_says_which_version_wrote_it(finished, tmp_path, capsys):
    ref, _ = finished
    old = tmp_path / "old"
    shutil.copytree(ref, old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["config"]["parameters"]["researchers"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    assert main(["resume", str(old)]) == 2
    err = capsys.readouterr().err
    assert "does not validate with this version" in err and "parameters.researchers" in err
    assert "Traceback" not in err


def test_resume_of_a_folder_that_is_not_one_says_so(tmp_path, capsys):
    assert main(["resume", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "nothing to resume" in err and str(tmp_path) in err


WITH_CTRL_C = (
    "import runpy, signal; signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT]); "
    "signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('wpi_abm.cli', run_name='__main__', alter_sys=True)"
)
"""``python -m wpi_abm.cli`` that Ctrl-C reaches even if this test was started with SIGINT
ignored or blocked."""


def _signal_masks(pid: int) -> list[str]:
    """A process's blocked, ignored and caught signals (Linux; empty elsewhere)."""
    status = Path(f"/proc/{pid}/status")
    if not status.is_file():
        return []
    keys = ("SigBlk", "SigIgn", "SigCgt")
    return [line for line in status.read_text().splitlines() if line.startswith(keys)]


@pytest.mark.slow
def test_ctrl_c_then_the_printed_command_finishes_the_run(tmp_path):
    """A real SIGINT to the command, then exactly the command it prints, without the file."""
    exp = write(tmp_path, "study.yaml", EXPERIMENT)
    # 200 one-run chunks: the signal must arrive while many remain. With 80 (~40 ms each on a
    # fast machine) a loaded machine once let the command finish before the signal was sent.
    options = ["--executor", "serial", *SETS[:2], "--replicates", "100"]
    out, whole = tmp_path / "stopped", tmp_path / "whole"
    assert main(["run", str(exp), "--out", str(whole), "--quiet", *options]) == 0
    # A shell without job control starts a background job with SIGINT ignored, and the command
    # inherits that through make, pytest and its workers (seen: SigIgn 0x81001006, SIGINT and
    # SIGQUIT ignored; the command then rightly ran to its end). The command is started with
    # Ctrl-C at Python's default, as in a terminal; the message shows its signal masks.
    cmd = [sys.executable, "-c", WITH_CTRL_C, "run", str(exp), "--out", str(out), *options]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while len(list((out / "outcomes").glob("*.parquet"))) < 3:
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.05)
    masks = _signal_masks(proc.pid)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, f"signal masks when sent: {masks}\n{err}"
    printed = err.strip().splitlines()[-1].split("`")[1]
    assert printed == f"wpi-abm resume {out}"
    exp.unlink()  # the folder alone suffices
    resumed = subprocess.run(
        [sys.executable, "-m", "wpi_abm.cli", *printed.split()[1:], "--quiet"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert results(out) == results(whole)
