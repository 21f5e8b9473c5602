"""The quick commands stay quick: they never import the model, plotting, Dask or scipy.stats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("mesa", "matplotlib", "dask", "distributed", "numba", "scipy.stats", "wpi_abm.sim.model")
ROOT = Path(__file__).resolve().parents[1]


def imported_by(*args: str) -> list[str]:
    """The heavy modules a fresh interpreter holds after ``wpi-abm ARGS``."""
    code = (
        "import json, sys\n"
        "from wpi_abm.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["policies"],
        ["validate", "experiments/policy_comparison.yaml"],
        ["validate", "experiments/sweep_matching_cap.yaml"],
    ],
)
def test_quick_commands_import_nothing_heavy(args):
    assert imported_by(*args) == []
