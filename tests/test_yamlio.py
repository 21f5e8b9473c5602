"""YAML loading with limits: hostile or broken files fail fast with a clear error (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from wpi_abm import yamlio
from wpi_abm.cli import main
from wpi_abm.errors import ConfigError

INPUTS = Path(__file__).parent / "inputs"

# Run `wpi-abm validate` in a child whose address space is capped: an alias bomb that is expanded
# raises MemoryError there (exit 3) instead of taking this machine's memory.
CAPPED = textwrap.dedent(
    """
    import resource, sys
    limit = 1024 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from wpi_abm.cli import main
    sys.exit(main(["validate", sys.argv[1]]))
    """
)


def validate_capped(path: Path) -> tuple[subprocess.CompletedProcess, float]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CAPPED, str(path)], capture_output=True, text=True, timeout=120,
        env=env,
    )  # fmt: skip
    return proc, time.perf_counter() - start


def test_an_alias_bomb_fails_fast_within_a_memory_limit():
    proc, seconds = validate_capped(INPUTS / "alias_bomb.yaml")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.startswith(f"error: {INPUTS / 'alias_bomb.yaml'}")
    assert "alias" in proc.stderr and "Traceback" not in proc.stderr
    assert seconds < 30


@pytest.mark.parametrize(
    ("name", "words"),
    [("recursive_alias.yaml", "refers to itself"), ("deep_nesting.yaml", "nested")],
)
def test_recursive_and_deeply_nested_files_are_refused(name, words, capsys):
    assert main(["validate", str(INPUTS / name)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {INPUTS / name}") and words in err
    assert "Traceback" not in err


def test_a_document_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    big = tmp_path / "big.yaml"
    big.write_text("name: x\n" + "# padding\n" * 200)
    monkeypatch.setattr(yamlio, "MAX_BYTES", 1000)
    with pytest.raises(ConfigError, match=r"larger than the 1 kB allowed") as info:
        yamlio.load_yaml(big)
    assert info.value.file == str(big)


def test_the_value_limit_counts_expanded_aliases(monkeypatch):
    text = "a: &a [1, 2, 3, 4, 5]\nb: [*a, *a, *a, *a]\n"
    data, _ = yamlio.parse_yaml(text, "ok.yaml")
    assert data["b"][3] == [1, 2, 3, 4, 5]
    monkeypatch.setattr(yamlio, "MAX_VALUES", 20)
    with pytest.raises(ConfigError, match="more than 20 values"):
        yamlio.parse_yaml(text, "many.yaml")


def test_a_directory_given_as_a_file_is_named_as_a_directory(capsys):
    folder = Path(__file__).parents[1] / "experiments"
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "is a directory" in err and "not found" not in err
    assert main(["run", str(folder)]) == 2
    assert "is a directory" in capsys.readouterr().err
