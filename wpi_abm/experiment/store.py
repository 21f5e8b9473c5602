"""The results folder: how it is laid out, read and written.

Layout (the contract in DESIGN.md)::

    <out>/manifest.json          config, seed, versions, git commit, times, counts, executor
    <out>/runs/chunk-NNNNNN.parquet      centre × year panel (when stored)
    <out>/outcomes/chunk-NNNNNN.parquet  one row per centre-run: decline outcomes
    <out>/summary.csv            one row per policy (and sweep point)
    <out>/points.csv             sweeps: the parameter values of each point
    <out>/sensitivity.csv        sensitivity studies: the indices
    <out>/failures.csv           runs that raised, when any did
    <out>/figures/               PDF and PNG

Two doors, and nothing else touches the files: :class:`ResultFolder` reads a folder (figures,
report, resume) and never writes; :class:`ResultStore` adds the writing, holding the folder's lock.
:func:`write_file` writes one file atomically anywhere (the report may go elsewhere).

Every file is written to a temporary name and renamed into place, so a reader never sees half a
file; a chunk whose files are missing or unreadable is simply run again on resume. A lock file keeps
two experiments from writing into the same folder at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from wpi_abm.errors import ResultsError

LOCK = ".lock"
MANIFEST = "manifest.json"
SUMMARY = "summary.csv"
POINTS = "points.csv"
SENSITIVITY = "sensitivity.csv"
FAILURES = "failures.csv"
RUNS = "runs"
OUTCOMES = "outcomes"
FIGURES = "figures"

__all__ = [
    "FAILURES",
    "FIGURES",
    "MANIFEST",
    "OUTCOMES",
    "POINTS",
    "RUNS",
    "SENSITIVITY",
    "SUMMARY",
    "ResultFolder",
    "ResultStore",
    "git_commit",
    "machine_info",
    "now",
    "versions",
    "write_file",
]


def now() -> str:
    """The current time, ISO 8601 in UTC."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def versions() -> dict[str, str]:
    """Versions that matter for reproducing a result."""
    import mesa
    import numpy
    import pyarrow

    import wpi_abm

    return {
        "python": sys.version.split()[0],
        "wpi_abm": wpi_abm.__version__,
        "mesa": mesa.__version__,
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
    }


def machine_info() -> dict[str, object]:
    """Where something ran: host, platform, processor count, memory."""
    import platform

    import psutil

    return {
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
    }


def git_commit() -> str | None:
    """The commit of the wpi_abm checkout, if it is one (and whether it has local changes)."""
    here = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("-dirty" if dirty else "")


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (never half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_parquet(path: Path, table: pa.Table) -> None:
    """Write a Parquet file atomically (snappy-compressed, one row group).

    Snappy, not zstd: the driver compresses every chunk while the workers simulate, and on a
    small machine its CPU is theirs; snappy takes half the time for ~10% more disk.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp, compression="snappy", row_group_size=max(1, table.num_rows))
    os.replace(tmp, path)


class ResultFolder:
    """A results folder, for reading only (takes no lock, writes nothing).

    Args:
        root: The folder.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs = self.root / RUNS
        self.outcomes = self.root / OUTCOMES
        self.figures = self.root / FIGURES

    def read_manifest(self) -> dict[str, Any]:
        """The manifest as a dict.

        Raises:
            ResultsError: Missing or not JSON.
        """
        path = self.root / MANIFEST
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ResultsError(f"{path}: cannot read the manifest ({exc})") from None

    def read_summary(self) -> pd.DataFrame:
        """summary.csv, with policy names as strings.

        Raises:
            ResultsError: Missing (the run did not finish), or holds no policy rows.
        """
        path = self.root / SUMMARY
        if not path.is_file():
            raise ResultsError(
                f"{self.root}: no {SUMMARY} (the run did not finish; resume it first)"
            )
        summary = pd.read_csv(path)
        if summary.empty or "policy" not in summary:
            raise ResultsError(f"{path}: holds no policy rows")
        summary["policy"] = summary["policy"].astype(str)
        return summary

    def read_points(self) -> pd.DataFrame | None:
        """points.csv (one row per sweep point, ``point`` a column), or None without one."""
        path = self.root / POINTS
        return pd.read_csv(path) if path.is_file() else None

    def read_sensitivity(self) -> pd.DataFrame | None:
        """sensitivity.csv, or None when there is none or it is empty."""
        path = self.root / SENSITIVITY
        if not path.is_file():
            return None
        df = pd.read_csv(path)
        return df if not df.empty else None

    def has_panel(self) -> bool:
        """Whether the centre × year panel was stored."""
        return self.runs.is_dir() and any(self.runs.glob("*.parquet"))

    def chunk_files(self, part: str) -> list[Path]:
        """The stored chunk files of ``part`` (:data:`RUNS` or :data:`OUTCOMES`), in order."""
        return sorted((self.root / part).glob("*.parquet"))

    @staticmethod
    def chunk_name(index: int) -> str:
        """File name of a chunk."""
        return f"chunk-{index:06d}.parquet"

    def chunk_done(self, index: int, rows: int, panel_rows: int | None) -> bool:
        """Whether a chunk's files exist, are readable Parquet and hold the expected rows."""
        name = self.chunk_name(index)
        checks = [(self.outcomes / name, rows)]
        if panel_rows is not None:
            checks.append((self.runs / name, panel_rows))
        for path, expected in checks:
            try:
                if pq.ParquetFile(path).metadata.num_rows != expected:
                    return False
            except (OSError, pa.ArrowException):
                return False
        return True

    def read_outcomes(self, index: int) -> pa.Table:
        """The outcomes of one stored chunk."""
        return pq.read_table(self.outcomes / self.chunk_name(index))


class ResultStore(ResultFolder):
    """One results folder, held exclusively while an experiment writes into it.

    Args:
        root: The folder.
    """

    def __init__(self, root: str | Path) -> None:
        super().__init__(root)
        self._lock_fd: int | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self, *, resume: bool) -> None:
        """Create (or, to resume, reopen) the folder and take its lock.

        Raises:
            ResultsError: The folder exists and holds results (without ``resume``), does not
                exist (with ``resume``), or another experiment is writing into it.
        """
        if resume:
            if not (self.root / MANIFEST).is_file():
                raise ResultsError(
                    f"{self.root}: nothing to resume (no {MANIFEST}); give the folder of an "
                    "interrupted run"
                )
        elif self.root.exists() and any(self.root.iterdir()):
            raise ResultsError(
                f"{self.root}: folder exists and is not empty; choose another --out, or "
                f"continue an interrupted run with --resume {self.root}"
            )
        for d in (self.root, self.runs, self.outcomes, self.figures):
            d.mkdir(parents=True, exist_ok=True)
        self._take_lock()

    def _take_lock(self) -> None:
        path = self.root / LOCK
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._stale(path):
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                    continue
                holder = path.read_text(errors="replace").strip()
                raise ResultsError(
                    f"{self.root}: another experiment is writing into this folder ({holder}); "
                    "wait for it to finish or choose another --out"
                ) from None
            os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {now()}".encode())
            os.close(fd)
            self._lock_fd = fd
            return
        raise ResultsError(f"{self.root}: could not take the lock {path}")

    @staticmethod
    def _stale(path: Path) -> bool:
        """A lock left by a process on this host that no longer runs (e.g. after SIGKILL)."""
        try:
            words = path.read_text().split()
            pid, host = int(words[1]), words[3]
        except (OSError, ValueError, IndexError):
            return False
        if host != socket.gethostname():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def close(self) -> None:
        """Release the lock."""
        if self._lock_fd is not None:
            with contextlib.suppress(FileNotFoundError):
                (self.root / LOCK).unlink()
            self._lock_fd = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------
    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write the manifest atomically."""
        data = json.dumps(manifest, indent=2, sort_keys=False, default=str).encode()
        write_file(self.root / MANIFEST, data)

    def write_chunk(self, index: int, outcomes: pa.Table, panel: pa.Table | None) -> None:
        """Store one chunk: the panel first, the outcomes last (their presence marks it done)."""
        name = self.chunk_name(index)
        if panel is not None:
            _write_parquet(self.runs / name, panel)
        _write_parquet(self.outcomes / name, outcomes)

    def write_summary(self, summary: pd.DataFrame) -> None:
        """Write summary.csv (one row per policy and point; full precision)."""
        write_file(self.root / SUMMARY, summary.to_csv(index=False).encode())

    def write_points(self, points: pd.DataFrame) -> None:
        """Write points.csv: the point table, indexed by ``point``."""
        write_file(self.root / POINTS, points.to_csv().encode())

    def write_sensitivity(self, indices: pd.DataFrame) -> None:
        """Write sensitivity.csv."""
        write_file(self.root / SENSITIVITY, indices.to_csv(index=False).encode())

    def write_failures(self, failures: list[dict[str, Any]]) -> None:
        """Write failures.csv, or remove it when nothing failed (retried and done on resume)."""
        path = self.root / FAILURES
        if failures:
            write_file(path, pd.DataFrame(failures).to_csv(index=False).encode())
        else:
            path.unlink(missing_ok=True)

    def clean_temporaries(self) -> None:
        """Remove temporary files left by an interrupted write."""
        for d in (self.root, self.runs, self.outcomes, self.figures):
            for tmp in d.glob(".*.tmp"):
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
