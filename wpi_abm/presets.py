"""The packaged building blocks: where they live, which policy designs are built in, in what order.

Policy designs, cohorts, parameter sets and experiments ship as YAML under ``wpi_abm/data``. The
list of built-in policy designs is the list of files in ``configs/policies`` — adding a file adds a
design to ``policies: all``, ``wpi-abm policies``, tables and figures, with no code. The order in
which they are shown and each design's look in the figures are data too, in one place:
``configs/policies/_index.yaml`` (files whose names start with ``_`` are not building blocks).
Designs the index does not list follow the listed ones in name order.

Only PyYAML is needed here, so that the figures can ask for a design's look without importing the
experiment loader.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

INDEX = "_index.yaml"
"""The file in ``configs/policies`` that orders the built-in designs and gives their looks."""
KINDS = ("policies", "cohorts", "parameters", "experiments")


@dataclass(frozen=True)
class Look:
    """How a policy design is drawn in every figure.

    Attributes:
        colour: Matplotlib colour.
        marker: Matplotlib marker.
        line: Matplotlib line style: a name or ``(offset, (on, off, ...))``.
    """

    colour: str
    marker: str
    line: str | tuple[float, tuple[float, ...]]


def data_dir() -> Path:
    """The folder of packaged configurations and experiments."""
    return Path(__file__).resolve().parent / "data"


def builtin(kind: str) -> dict[str, Path]:
    """Built-in YAML files of a kind (one of :data:`KINDS`), by name, in name order.

    Raises:
        ValueError: Not one of :data:`KINDS`.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind '{kind}'; allowed: {', '.join(KINDS)}")
    folder = data_dir() / ("experiments" if kind == "experiments" else f"configs/{kind}")
    return {p.stem: p for p in sorted(folder.glob("*.yaml")) if not p.name.startswith("_")}


def builtin_posteriors() -> dict[str, Path]:
    """The packaged posterior samples (``posterior.csv`` files of calibrations), by name."""
    return {p.stem: p for p in sorted((data_dir() / "posterior").glob("*.csv"))}


def posterior_path(name_or_path: str, base: Path) -> Path:
    """A packaged posterior's file by name, or a path (relative paths start from ``base``)."""
    known = builtin_posteriors()
    if name_or_path in known:
        return known[name_or_path]
    p = Path(name_or_path)
    return p if p.is_absolute() else base / p


@cache
def _index() -> tuple[tuple[str, Look], ...]:
    path = data_dir() / "configs" / "policies" / INDEX
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["designs"]
    return tuple(
        (e["name"], Look(e["colour"], str(e["marker"]), _line(e["line"]))) for e in entries
    )


def _line(value: object) -> str | tuple[float, tuple[float, ...]]:
    """A line style from YAML: a name, or [offset, [dashes]] (matplotlib wants tuples)."""
    if isinstance(value, list):
        offset, dashes = value
        return (offset, tuple(dashes))
    return str(value)


def policy_names() -> list[str]:
    """Every built-in policy design in the documented order (listed ones first, then by name)."""
    known = builtin("policies")
    listed = [name for name, _ in _index() if name in known]
    return listed + [name for name in known if name not in listed]


def policy_looks() -> dict[str, Look]:
    """The fixed look of each design the index lists (others take the spare palette)."""
    return dict(_index())
