"""The results folder: how it is laid out, read and written.

Layout (the contract in DESIGN.md)::

    <out>/manifest.json          config, seed, versions, git commit, times, counts, executor
    <out>/runs/chunk-NNNNNN.parquet      centre × year panel (when stored)
    <out>/outcomes/chunk-NNNNNN.parquet  one row per centre-run: decline outcomes
    <out>/checksums/chunk-NNNNNN.sha256  SHA-256 of the chunk's files (``sha256sum -c`` format)
    <out>/summary.csv            one row per policy (and sweep point)
    <out>/points.csv             sweeps: the parameter values of each point
    <out>/sensitivity.csv        sensitivity studies: the indices
    <out>/failures.csv           runs that raised, when any did
    <out>/figures/               PDF and PNG

One module on purpose (over 400 lines): the layout, the reading and the writing of one folder are
one contract — both classes share the file names, the atomic writes and the checksum rules.

Two doors, and nothing else touches the files: :class:`ResultFolder` reads a folder (figures,
report, resume) and never writes; :class:`ResultStore` adds the writing, holding the folder's lock.
:func:`store_chunk` writes one chunk's files, for the store's holder (the driver, or a worker of its
executor on the same file system). :func:`write_file` writes one file atomically anywhere (the
report may go elsewhere).

Every file is written to a temporary name and renamed into place, so a reader never sees half a
file; a chunk whose files are missing or unreadable is simply run again on resume. A chunk that
still reads but whose bytes changed after it was written (a flipped block on disk, an edit) is
caught by its checksum: redone on resume, refused by ``plot`` and ``report``. A lock file keeps
two experiments from writing into the same folder at once.
"""

from __future__ import annotations

import contextlib
import hashlib
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
BY_FISCAL_YEAR = "by_fiscal_year.csv"
BY_CENTRE = "by_centre.csv"
RUNS = "runs"
OUTCOMES = "outcomes"
FIGURES = "figures"
CHECKSUMS = "checksums"
CHECKSUMS_NOTE = (
    "sha256 of each chunk's files in checksums/chunk-NNNNNN.sha256 (check with sha256sum -c)"
)
"""Recorded in the manifest of folders whose every chunk has a checksum."""

__all__ = [
    "BY_CENTRE",
    "BY_FISCAL_YEAR",
    "CHECKSUMS",
    "CHECKSUMS_NOTE",
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
    """Versions that matter for reproducing a result.

    Mesa's is read from its installed metadata: importing it costs the driver ~1–2 s, and the
    driver never runs the model itself.
    """
    from importlib.metadata import version

    import numpy
    import pyarrow

    import wpi_abm

    return {
        "python": sys.version.split()[0],
        "wpi_abm": wpi_abm.__version__,
        "mesa": version("mesa"),
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


def write_file(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (never half a file).

    Args:
        path: The file.
        data: Its contents.
        sync: Flush to disk before the rename. Chunks skip it (they are checked by checksum and
            redone on resume if a crash lost them; syncing each would slow the driver).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        # A full disk, a lost folder, an interrupt: no temporary file is left behind.
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


STATISTICS_COLUMNS = ("policy", "point", "run_id", "replicate", "centre", "year")
"""The key columns whose min/max a file's footer records (which policy a chunk holds, for the
figures' panel pass; row-group pruning by key for readers such as DuckDB)."""


def _parquet_bytes(table: pa.Table) -> bytes:
    """A table as a Parquet file's bytes (snappy-compressed, one row group).

    Snappy, not zstd: the driver compresses every chunk while the workers simulate, and on a
    small machine its CPU is theirs; snappy takes half the time for ~10% more disk. For the same
    reason only the columns that are dictionaries already (policy, centre, field) are dictionary
    encoded — the encoder's attempt on ~40 float columns of distinct values was half the cost of
    writing a panel chunk and made the file larger — and only the key columns keep statistics:
    a 30,000-row panel chunk is written in ~15 ms instead of ~50, 6% smaller.
    """
    sink = pa.BufferOutputStream()
    names = table.column_names
    pq.write_table(
        table,
        sink,
        compression="snappy",
        row_group_size=max(1, table.num_rows),
        use_dictionary=[n for n in names if pa.types.is_dictionary(table.schema.field(n).type)],
        write_statistics=[n for n in STATISTICS_COLUMNS if n in names],
    )
    return sink.getvalue().to_pybytes()


def _write_parquet(path: Path, table: pa.Table) -> str:
    """Write a Parquet file atomically; returns the SHA-256 (hex) of the bytes written."""
    data = _parquet_bytes(table)
    write_file(path, data, sync=False)
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str:
    """The SHA-256 (hex) of a file, read in blocks."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


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
        self.checksums = self.root / CHECKSUMS

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

    def read_table(self, name: str) -> pd.DataFrame | None:
        """A further table of results (e.g. :data:`BY_FISCAL_YEAR`), or None when absent."""
        path = self.root / name
        return pd.read_csv(path) if path.exists() else None

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

    def _sidecar(self, index: int) -> Path:
        return self.checksums / f"chunk-{index:06d}.sha256"

    def recorded_checksums(self, index: int) -> dict[str, str] | None:
        """``{"outcomes/chunk-….parquet": hex, …}`` for a chunk, or None without a sidecar."""
        try:
            text = self._sidecar(index).read_text()
        except (OSError, UnicodeDecodeError):
            return None
        recorded = {}
        for line in text.splitlines():
            digest, _, rel = line.partition("  ")
            if rel:
                recorded[rel] = digest
        return recorded

    def chunk_problem(
        self, index: int, rows: int, panel_rows: int | None, *, require_checksum: bool
    ) -> str | None:
        """Why a chunk is not complete and intact on disk, or None when it is.

        Args:
            index: The chunk.
            rows: Outcome rows it must hold.
            panel_rows: Panel rows it must hold (None when the panel is not stored).
            require_checksum: The folder records checksums, so a chunk without one is suspect.

        Returns:
            ``"missing"`` when its outcomes are not there (not yet run), else what is wrong,
            naming the file relative to the folder.
        """
        name = self.chunk_name(index)
        if not (self.outcomes / name).is_file():
            return "missing"
        files = [(f"{OUTCOMES}/{name}", rows)]
        if panel_rows is not None:
            files.append((f"{RUNS}/{name}", panel_rows))
        recorded = self.recorded_checksums(index)
        if recorded is None and require_checksum:
            return f"{OUTCOMES}/{name}: no checksum recorded ({CHECKSUMS}/ was changed)"
        for rel, expected in files:
            path = self.root / rel
            if recorded is not None:
                if rel not in recorded:
                    return f"{rel}: no checksum recorded"
                try:
                    if _sha256_file(path) != recorded[rel]:
                        return f"{rel}: contents differ from the SHA-256 recorded when written"
                except OSError as exc:
                    return f"{rel}: cannot be read ({exc.strerror or exc})"
            try:
                if pq.ParquetFile(path).metadata.num_rows != expected:
                    return f"{rel}: holds the wrong number of rows"
            except (OSError, pa.ArrowException):
                return f"{rel}: missing or not a readable Parquet file"
        return None

    def read_outcomes(self, index: int) -> pa.Table:
        """The outcomes of one stored chunk."""
        return pq.read_table(self.outcomes / self.chunk_name(index))

    def verify_checksums(self) -> str | None:
        """Check every stored chunk file against the SHA-256 recorded when it was written.

        For ``plot`` and ``report``: figures and reports drawn from a chunk that changed on disk
        would be silently wrong.

        Returns:
            None when every chunk file was checked, or a note to show when the folder was written
            before checksums were recorded (its chunks cannot be checked, which is not an error).

        Raises:
            ResultsError: A chunk file differs from its checksum or, in a folder that records
                them, has none; names every such file.
        """
        try:
            manifest = self.read_manifest()
        except ResultsError:
            return None  # the command's own reading of the folder says what is missing
        require = manifest.get("checksums") is not None
        bad: list[str] = []
        unchecked = 0
        for path in sorted([*self.chunk_files(OUTCOMES), *self.chunk_files(RUNS)]):
            rel = f"{path.parent.name}/{path.name}"
            recorded = self.recorded_checksums(int(path.stem.split("-")[1]))
            if recorded is None or rel not in recorded:
                if require:
                    bad.append(f"{rel} (no checksum recorded)")
                else:
                    unchecked += 1
            elif _sha256_file(path) != recorded[rel]:
                bad.append(rel)
        if bad:
            shown = ", ".join(bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
            raise ResultsError(
                f"{self.root}: {len(bad)} stored chunk file(s) differ from the SHA-256 recorded "
                f"when they were written (changed on disk since): {shown}; results drawn from "
                f"them would be wrong. Redo them with `wpi-abm resume {self.root}`"
            )
        if unchecked:
            return (
                f"{self.root} has no checksums for {unchecked} chunk file(s) (written before "
                "wpi-abm recorded them); they cannot be checked for corruption"
            )
        return None


def store_chunk(
    root: str | Path,
    index: int,
    outcomes: pa.Table,
    panel: pa.Table | None,
    holder: str | None = None,
) -> None:
    """Store one chunk: the panel, its checksums, the outcomes last (they mark it done).

    The checksums are written before the outcomes, so a chunk that looks done always has them; a
    crash between the two leaves the chunk without outcomes, which resume redoes. Called by the
    driver, which holds the folder (:meth:`ResultStore.write_chunk`), or by the worker that
    simulated the chunk, for that driver (:mod:`wpi_abm.experiment.delivery`): a chunk's files
    are its own, and the same bytes whoever writes them.

    Args:
        root: The results folder (opened by the driver).
        index: The chunk.
        outcomes: Its outcome table.
        panel: Its panel, or None when the panel is not stored.
        holder: For a worker: the folder's lock as its driver took it
            (:meth:`ResultStore.holder`). The outcomes are written only while the lock is still
            that one, so that a worker left running by a driver that stopped (interrupted, killed)
            never marks a chunk done in a folder its driver no longer holds.

    Raises:
        ResultsError: The folder is no longer held by ``holder``.
        OSError: A file could not be written.
    """
    folder = ResultFolder(root)
    name = folder.chunk_name(index)
    lines = []
    if panel is not None:
        folder.runs.mkdir(exist_ok=True)
        lines.append(f"{_write_parquet(folder.runs / name, panel)}  {RUNS}/{name}")
    data = _parquet_bytes(outcomes)
    lines.append(f"{hashlib.sha256(data).hexdigest()}  {OUTCOMES}/{name}")
    write_file(folder._sidecar(index), "".join(f"{x}\n" for x in lines).encode(), sync=False)
    if holder is not None:
        try:
            held = (folder.root / LOCK).read_text()
        except OSError:
            held = None
        if held != holder:
            raise ResultsError(
                f"{folder.root}: no longer held by the experiment that ran chunk {index}"
            )
    write_file(folder.outcomes / name, data, sync=False)


class ResultStore(ResultFolder):
    """One results folder, held exclusively while an experiment writes into it.

    Args:
        root: The folder.
    """

    def __init__(self, root: str | Path) -> None:
        super().__init__(root)
        self._lock_fd: int | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def check(self, *, resume: bool) -> None:
        """Whether the folder can be used, without creating or changing anything.

        Called before an experiment starts (and before a cluster is started for it), so that a
        bad ``--out`` costs nothing.

        Raises:
            ResultsError: The folder exists and holds results (without ``resume``), does not
                exist (with ``resume``), is a file, lies under a file, or cannot be written.
        """
        if resume:
            if not (self.root / MANIFEST).is_file():
                raise ResultsError(
                    f"{self.root}: nothing to resume (no {MANIFEST}); give the folder of an "
                    "interrupted run"
                )
            return
        if self.root.exists() and not self.root.is_dir():
            raise ResultsError(
                f"{self.root}: is a file, not a folder; give --out a folder that does not exist "
                "yet (it is created) or an empty one"
            )
        if self.root.is_dir() and any(self.root.iterdir()):
            raise ResultsError(
                f"{self.root}: folder exists and is not empty; choose another --out, or "
                f"continue an interrupted run with `wpi-abm resume {self.root}`"
            )
        # The nearest existing ancestor decides whether the folder can be created.
        above = self.root.absolute()
        while not above.exists():
            above = above.parent
        if not above.is_dir():
            raise ResultsError(
                f"{self.root}: cannot be created under {above}, which is a file, not a folder; "
                "give --out a path under a folder"
            )
        if not os.access(above, os.W_OK | os.X_OK):
            raise ResultsError(
                f"{self.root}: cannot be created: no permission to write in {above}; give --out "
                "a folder you can write to"
            )

    def open(self, *, resume: bool) -> None:
        """Create (or, to resume, reopen) the folder and take its lock.

        Raises:
            ResultsError: See :meth:`check`; also when another experiment is writing into the
                folder, or the system refuses to create it.
        """
        self.check(resume=resume)
        try:
            # runs/ is made with the first panel chunk: a folder without the panel has none.
            for d in (self.root, self.outcomes, self.figures, self.checksums):
                d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            # e.g. a read-only or virtual file system (/proc), or permissions os.access misjudged
            raise ResultsError(
                f"{self.root}: cannot create the results folder ({exc.strerror or exc}); give "
                "--out a folder you can write to"
            ) from None
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

    def holder(self) -> str:
        """The lock as this store took it (who holds the folder, and since when)."""
        return (self.root / LOCK).read_text()

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
        """Store one chunk (see :func:`store_chunk`)."""
        store_chunk(self.root, index, outcomes, panel)

    def write_summary(self, summary: pd.DataFrame) -> None:
        """Write summary.csv (one row per policy and point; full precision)."""
        write_file(self.root / SUMMARY, summary.to_csv(index=False).encode())

    def write_points(self, points: pd.DataFrame) -> None:
        """Write points.csv: the point table, indexed by ``point``."""
        write_file(self.root / POINTS, points.to_csv().encode())

    def write_sensitivity(self, indices: pd.DataFrame) -> None:
        """Write sensitivity.csv."""
        write_file(self.root / SENSITIVITY, indices.to_csv(index=False).encode())

    def write_table(self, name: str, table: pd.DataFrame) -> None:
        """Write a further table of results (e.g. :data:`BY_FISCAL_YEAR`) as CSV."""
        write_file(self.root / name, table.to_csv(index=False).encode())

    def write_failures(self, failures: list[dict[str, Any]]) -> None:
        """Write failures.csv, or remove it when nothing failed (retried and done on resume)."""
        path = self.root / FAILURES
        if failures:
            write_file(path, pd.DataFrame(failures).to_csv(index=False).encode())
        else:
            path.unlink(missing_ok=True)

    def clean_temporaries(self) -> None:
        """Remove temporary files left by an interrupted write."""
        for d in (self.root, self.runs, self.outcomes, self.figures, self.checksums):
            for tmp in d.glob(".*.tmp"):
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
