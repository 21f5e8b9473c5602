"""A posterior sample file: the calibrated parameters' uncertainty, as a table of particles.

``wpi-abm calibrate`` writes ``posterior.csv``: one row per particle, a ``weight`` column, a
``distance`` column (ignored here) and one column per free parameter, named by its dotted key
into the resolved experiment (as ``--set`` names it). The packaged one,
``wpi_abm/data/posterior/legacy.csv``, is called ``legacy`` (the design it was fitted under).
Reading it checks what a run cannot check later without a half-written results folder: the file,
its weights, its values and its keys, each error naming the file, the CSV line and the column.
"""

from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wpi_abm.config import parse_set
from wpi_abm.errors import ConfigError

WEIGHT = "weight"
"""The column of importance weights (positive; normalised on reading)."""
IGNORED = ("particle", "distance")
"""Columns calibration writes that are not parameters."""


@dataclass(frozen=True)
class Posterior:
    """A weighted sample of parameter sets.

    Attributes:
        file: Where it was read from (as shown in messages).
        sha256: Checksum of the file's bytes (recorded in the manifest).
        keys: Dotted keys of the parameters, in the file's column order.
        values: Shape (particles, keys).
        weights: Normalised weights, one per particle.
    """

    file: str
    sha256: str
    keys: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.weights)

    def particle(self, index: int) -> dict[str, float]:
        """Particle ``index`` as dotted key → value."""
        return {k: float(v) for k, v in zip(self.keys, self.values[index], strict=True)}

    def restricted(self, keys: list[str]) -> Posterior:
        """The same particles with only ``keys`` (in their order)."""
        idx = [self.keys.index(k) for k in keys]
        return Posterior(self.file, self.sha256, tuple(keys), self.values[:, idx], self.weights)

    def with_copies(self, copies: dict[str, str]) -> Posterior:
        """The same particles with more keys, each taking the values of an existing key.

        Args:
            copies: New key → the key whose values it takes (keys already present are skipped).
        """
        extra = [(k, src) for k, src in copies.items() if k not in self.keys and src in self.keys]
        if not extra:
            return self
        idx = [self.keys.index(src) for _, src in extra]
        values = np.concatenate((self.values, self.values[:, idx]), axis=1)
        keys = self.keys + tuple(k for k, _ in extra)
        return Posterior(self.file, self.sha256, keys, values, self.weights)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_posterior(path: Path, *, shown: str | None = None) -> Posterior:
    """Read and check a posterior file.

    Args:
        path: The CSV file.
        shown: How messages name it (default: the path).

    Raises:
        ConfigError: Missing or unreadable file, no ``weight`` column or no parameter column,
            a column name that is not a dotted key, a value that is not a finite number, a weight
            that is not positive — naming the file, the CSV line and the column.
    """
    name = shown or str(path)
    if not path.is_file():
        raise ConfigError(f"posterior file not found (looked at {path})", file=name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the posterior file: {exc}", file=name) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not rows[0]:
        raise ConfigError("the posterior file is empty; expected a header row", file=name)
    header = [h.strip() for h in rows[0]]
    if WEIGHT not in header:
        raise ConfigError(
            f"the posterior file has no '{WEIGHT}' column (columns: {', '.join(header)}); "
            "expected the posterior.csv that `wpi-abm calibrate` writes",
            file=name,
            line=1,
        )
    keys = [h for h in header if h not in (WEIGHT, *IGNORED)]
    if not keys:
        raise ConfigError(
            "the posterior file has no parameter column (columns named by dotted key, e.g. "
            "parameters.output.top10_base)",
            file=name,
            line=1,
        )
    for k in keys:
        try:
            parse_set(f"{k}=")
        except ConfigError as exc:
            raise ConfigError(exc.message, file=name, line=1, field=k) from None
    data = [r for r in rows[1:] if any(c.strip() for c in r)]
    if not data:
        raise ConfigError("the posterior file has no particles (no rows)", file=name)
    cols = {h: i for i, h in enumerate(header)}
    values = np.empty((len(data), len(keys)))
    weights = np.empty(len(data))
    j = -1
    for i, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        j += 1
        if len(r) != len(header):
            raise ConfigError(
                f"{len(r)} values in a row of {len(header)} columns", file=name, line=i
            )
        for col, target in [(WEIGHT, None), *((k, n) for n, k in enumerate(keys))]:
            x = _number(r[cols[col]], name, i, col)
            if target is None:
                if x <= 0:
                    raise ConfigError(
                        f"weight {r[cols[col]].strip()} is not positive; every particle needs a "
                        "weight > 0",
                        file=name,
                        line=i,
                        field=col,
                    )
                weights[j] = x
            else:
                values[j, target] = x
    return Posterior(name, file_sha256(path), tuple(keys), values, weights / weights.sum())


def _number(cell: str, name: str, line: int, field: str) -> float:
    try:
        x = float(cell)
    except ValueError:
        raise ConfigError(
            f"'{cell.strip()}' is not a number", file=name, line=line, field=field
        ) from None
    if not math.isfinite(x):
        raise ConfigError(f"'{cell.strip()}' is not a finite number", file=name, line=line,
                          field=field)  # fmt: skip
    return x


def unknown_keys(keys: tuple[str, ...], tree: dict[str, Any]) -> list[str]:
    """The keys that name nothing in ``tree`` (a resolved experiment with every field)."""
    missing = []
    for k in keys:
        node: Any = tree
        for part in parse_set(f"{k}=")[0]:
            if (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
            ):
                node = node[part]
            else:
                missing.append(k)
                break
    return missing
