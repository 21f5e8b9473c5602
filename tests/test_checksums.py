"""Chunk checksums: corruption that still reads is caught on resume, plot and report."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wpi_abm.cli import main

OPTIONS = ["--replicates", "4", "--quiet", "--no-figures", "--executor", "serial",
           "--set", "output.chunk_runs=2", "--set", "policies=[legacy, flat_forever]"]  # fmt: skip
VICTIM = "outcomes/chunk-000001.parquet"


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("checksums") / "ref"
    assert main(["run", "--out", str(out), *OPTIONS]) == 0
    return out


@pytest.fixture
def no_figures(monkeypatch):
    """Plot and report without drawing (the checks under test come before any figure)."""
    from wpi_abm.plots import catalogue

    monkeypatch.setattr(catalogue, "CATALOGUE", ())


def corrupt_but_readable(path: Path) -> None:
    """Flip 64 bytes inside the file (same size) where it still reads, with other values."""
    data = path.read_bytes()
    before = pq.read_table(path)
    for start in range(64, len(data) - 200, 16):
        bad = bytearray(data)
        bad[start : start + 64] = bytes(b ^ 0x5A for b in bad[start : start + 64])
        path.write_bytes(bytes(bad))
        try:
            if not pq.read_table(path).equals(before):
                return
        except (OSError, pa.ArrowException):
            continue
    raise AssertionError("no readable corruption found")


def outcome_files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "outcomes").glob("*.parquet"))}


def test_every_chunk_has_a_sha256_recorded_when_written(reference):
    manifest = json.loads((reference / "manifest.json").read_text())
    assert manifest["checksums"].startswith("sha256")
    sidecars = sorted((reference / "checksums").glob("*.sha256"))
    assert [p.name for p in sidecars] == [f"chunk-00000{i}.sha256" for i in range(4)]
    for sidecar in sidecars:  # the format of `sha256sum -c`, paths relative to the folder
        for line in sidecar.read_text().splitlines():
            digest, name = line.split("  ")
            assert hashlib.sha256((reference / name).read_bytes()).hexdigest() == digest


def test_a_corrupt_chunk_fails_plot_and_report_and_is_redone_on_resume(
    reference, tmp_path, capsys, no_figures
):
    bad = tmp_path / "bad"
    shutil.copytree(reference, bad)
    corrupt_but_readable(bad / VICTIM)
    assert main(["plot", str(bad)]) == 2
    assert VICTIM in capsys.readouterr().err
    assert main(["report", str(bad)]) == 2
    assert VICTIM in capsys.readouterr().err
    assert not (bad / "report.html").exists()

    assert main(["run", "--resume", str(bad), *OPTIONS]) == 0
    err = capsys.readouterr().err
    assert VICTIM in err and "redoing" in err
    assert outcome_files(bad) == outcome_files(reference)
    assert (bad / "summary.csv").read_bytes() == (reference / "summary.csv").read_bytes()
    assert main(["plot", str(bad)]) == 0


def test_a_folder_from_before_checksums_is_said_so_not_refused(
    reference, tmp_path, capsys, no_figures
):
    old = tmp_path / "old"
    shutil.copytree(reference, old)
    shutil.rmtree(old / "checksums")
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["checksums"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    assert main(["plot", str(old)]) == 0
    assert "no checksums" in capsys.readouterr().err
    (old / "outcomes" / "chunk-000002.parquet").unlink()
    assert main(["run", "--resume", str(old), *OPTIONS]) == 0
    assert "no checksums" in capsys.readouterr().err
    assert outcome_files(old) == outcome_files(reference)
