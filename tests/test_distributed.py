"""Real processes, not mocks: a Dask scheduler and workers on 127.0.0.1, killed workers, a killed
driver, resume. Results must equal a serial run's, file for file."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

BIN = Path(sys.executable).parent
SWEEP = """
name: dist
policies: [legacy, reform_2024]
replicates: {replicates}
chunk_runs: 1
design: grid
parameters:
  policies.reform_2024.matching.cap: {{values: [0, 300, 1000]}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(*args: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(a) for a in args], stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    proc.wait(timeout=30)


class Cluster:
    """A scheduler and workers started with the `dask` command line."""

    def __init__(self, tmp: Path, workers: int) -> None:
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.tmp = tmp
        self.scheduler = spawn(
            BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", self.port,
            "--no-dashboard", log=tmp / "scheduler.log",
        )  # fmt: skip
        self.workers = [self.add_worker(i) for i in range(workers)]
        from distributed import Client

        with Client(self.address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)

    def add_worker(self, i: int) -> subprocess.Popen:
        return spawn(
            BIN / "dask", "worker", self.address, "--nthreads", "1", "--nworkers", "1",
            "--no-dashboard", "--no-nanny", "--name", f"w{i}", log=self.tmp / f"worker{i}.log",
        )  # fmt: skip

    def close(self) -> None:
        for w in self.workers:
            kill(w)
        kill(self.scheduler)


@pytest.fixture
def cluster(tmp_path) -> Iterator[Cluster]:
    c = Cluster(tmp_path, workers=2)
    try:
        yield c
    finally:
        c.close()


def sweep_file(tmp_path: Path, replicates: int) -> Path:
    p = tmp_path / "sweep.yaml"
    p.write_text(textwrap.dedent(SWEEP.format(replicates=replicates)).lstrip())
    return p


def wpi(*args: object, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "wpi-abm"), *map(str, args)], capture_output=True, text=True, timeout=600, **kw
    )


def outcome_files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "outcomes").glob("*.parquet"))}


def assert_same_results(a: Path, b: Path) -> None:
    assert outcome_files(a) == outcome_files(b)
    assert pd.read_csv(a / "summary.csv").equals(pd.read_csv(b / "summary.csv"))


@pytest.fixture(scope="module")
def serial_reference(tmp_path_factory) -> dict[int, Path]:
    """Serial runs of the sweep (the reference every other executor must match)."""
    refs = {}
    for reps in (4, 12):
        tmp = tmp_path_factory.mktemp(f"serial{reps}")
        out = tmp / "out"
        proc = wpi("sweep", sweep_file(tmp, reps), "--out", out, "--executor", "serial", "--quiet")
        assert proc.returncode == 0, proc.stderr
        refs[reps] = out
    return refs


def test_sweep_on_an_existing_scheduler_equals_serial(cluster, tmp_path, serial_reference):
    out = tmp_path / "out"
    proc = wpi("sweep", sweep_file(tmp_path, 4), "--out", out, "--scheduler", cluster.address)
    assert proc.returncode == 0, proc.stderr
    assert f"dask: {cluster.address}, 2 worker threads" in proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["execution"]["executor"] == "dask"
    assert manifest["execution"]["scheduler"] == cluster.address
    assert_same_results(out, serial_reference[4])


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_loses_nothing(cluster, tmp_path, serial_reference):
    out = tmp_path / "out"
    driver = spawn(
        BIN / "wpi-abm", "sweep", sweep_file(tmp_path, 12), "--out", out, "--quiet",
        "--scheduler", cluster.address, log=tmp_path / "driver.log",
    )  # fmt: skip
    deadline = time.time() + 300
    while len(list((out / "outcomes").glob("*.parquet"))) < 5:
        assert time.time() < deadline and driver.poll() is None, (
            tmp_path / "driver.log"
        ).read_text()
        time.sleep(0.1)
    kill(cluster.workers[0])  # SIGKILL: the chunk it held is rescheduled on the other worker
    assert driver.wait(timeout=600) == 0, (tmp_path / "driver.log").read_text()
    assert len(outcome_files(out)) == 2 * 3 * 12
    assert_same_results(out, serial_reference[12])


@pytest.mark.slow
def test_driver_killed_mid_sweep_resumes_to_the_same_results(tmp_path, serial_reference):
    out = tmp_path / "out"
    spec = sweep_file(tmp_path, 12)
    driver = spawn(
        BIN / "wpi-abm", "sweep", spec, "--out", out, "--quiet", "--executor", "processes",
        "--workers", "2", log=tmp_path / "driver.log",
    )  # fmt: skip
    deadline = time.time() + 300
    while len(list((out / "outcomes").glob("*.parquet"))) < 8:
        assert time.time() < deadline and driver.poll() is None, (
            tmp_path / "driver.log"
        ).read_text()
        time.sleep(0.05)
    kill(driver)  # SIGKILL the driver and its workers, like a node lost to the wall-time limit
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "running" and (out / ".lock").exists()
    done_before = len(outcome_files(out))
    assert 8 <= done_before < 72
    proc = wpi("sweep", spec, "--resume", out, "--executor", "serial", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert_same_results(out, serial_reference[12])


@pytest.mark.slow
def test_a_corrupt_chunk_is_detected_and_redone_on_resume(tmp_path, serial_reference):
    out = tmp_path / "out"
    spec = sweep_file(tmp_path, 4)
    assert wpi("sweep", spec, "--out", out, "--executor", "serial", "--quiet").returncode == 0
    victim = out / "outcomes" / "chunk-000003.parquet"
    victim.write_bytes(victim.read_bytes()[:100])
    proc = wpi("sweep", spec, "--resume", out, "--executor", "serial", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert_same_results(out, serial_reference[4])


def test_a_slurm_cluster_section_renders_the_job_script():
    from wpi_abm.config import ClusterSpec
    from wpi_abm.experiment.dask_executor import jobqueue_cluster

    spec = ClusterSpec(
        kind="slurm", cores=8, memory="16GB", walltime="02:00:00", jobs=3, queue="normal",
        account="proj", job_extra=["--qos=long"],
    )  # fmt: skip
    cluster = jobqueue_cluster(spec)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in ("#SBATCH -p normal", "#SBATCH -A proj", "#SBATCH --cpus-per-task=8",
                 "#SBATCH -t 02:00:00", "#SBATCH --qos=long"):  # fmt: skip
        assert line in script, script
    assert sys.executable in script and "--nworkers 8" in script
    assert "--preload wpi_abm.experiment.warmup" in script


def test_local_workers_leave_ctrl_c_to_the_driver():
    from wpi_abm.experiment import local_workers

    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        local_workers.dask_setup(worker=None)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, old)


@pytest.mark.slow
def test_ctrl_c_on_a_local_cluster_prints_no_worker_traceback(tmp_path):
    """Ctrl-C to the whole process group, as a terminal sends it: the driver alone reports."""
    out = tmp_path / "out"
    code = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from wpi_abm.cli import command; command()"
    )
    args = ["run", "--replicates", "200", "--executor", "dask", "--workers", "2", "--no-figures"]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args, "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.time() + 300
    while len(list((out / "outcomes").glob("*.parquet"))) < 2:
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Dask Worker process" not in err and "Traceback" not in err, err
    assert f"wpi-abm resume {out}" in err
