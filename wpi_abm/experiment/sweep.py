"""Sweeps: a base experiment, parameters to vary, and a design that turns them into points.

A sweep file names parameters by dotted key into the resolved experiment (any parameter, policy or
cohort field — ``parameters.host.absorption_share``, ``policies.reform_2024.matching.cap``,
``cohort.centres[0].reputation``) with their values or ranges, and a design:

- ``grid`` — every combination of the listed values (a range needs ``steps``);
- ``lhs`` — Latin hypercube over the ranges (``scipy.stats.qmc``), ``samples`` points;
- ``sobol`` — Saltelli's scheme (SALib), ``samples`` = N, N·(d + 2) points;
- ``morris`` — Morris trajectories (SALib), ``samples`` trajectories, (d + 1) points each.

Every point runs every policy with the same replicate seeds (common random numbers across policies
and points).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from wpi_abm.config import Origin, Override, load_experiment, parse_set
from wpi_abm.errors import ConfigError
from wpi_abm.experiment.plan import Point
from wpi_abm.experiment.runner import with_values
from wpi_abm.presets import builtin
from wpi_abm.schema import one_of
from wpi_abm.schema.experiment import Experiment
from wpi_abm.schema.sweep import DESIGNS, SweepSpec
from wpi_abm.validation import validation_errors
from wpi_abm.yamlio import SourceMap, load_yaml


def problem(spec: SweepSpec) -> dict[str, Any]:
    """The SALib problem description of a sweep."""
    return {
        "num_vars": len(spec.parameters),
        "names": list(spec.parameters),
        "bounds": [list(r) for r in spec.ranges()],
    }


def sample(spec: SweepSpec, design: str | None = None) -> np.ndarray | list[list[Any]]:
    """The points of ``design`` (default: the spec's): rows of parameter values, in order.

    Grids return lists (values may be any type); sampled designs return an array.
    """
    design = design or spec.design
    if design == "grid":
        return [
            list(row)
            for row in itertools.product(*(p.grid_values() for p in spec.parameters.values()))
        ]
    d = len(spec.parameters)
    n = spec.samples or 1
    if design == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=d, seed=np.random.default_rng(spec.design_seed)).random(n)
        low = np.array([r[0] for r in spec.ranges()])
        high = np.array([r[1] for r in spec.ranges()])
        x = qmc.scale(unit, low, high)
    elif design == "sobol":
        from SALib.sample import sobol as saltelli

        x = saltelli.sample(problem(spec), n, calc_second_order=False, seed=spec.design_seed)
    elif design == "morris":
        from SALib.sample import morris

        x = morris.sample(problem(spec), n, num_levels=spec.levels, seed=spec.design_seed)
    else:
        raise ValueError(f"unknown design '{design}'; allowed: {', '.join(DESIGNS)}")
    for j, p in enumerate(spec.parameters.values()):
        if p.integer:
            x[:, j] = np.round(x[:, j])
    return x


def expected_points(spec: SweepSpec, design: str | None = None) -> int:
    """How many points a design gives (documented sample sizes)."""
    design = design or spec.design
    d = len(spec.parameters)
    n = spec.samples or 0
    if design == "grid":
        return math.prod(len(p.grid_values()) for p in spec.parameters.values())
    return {"lhs": n, "sobol": n * (d + 2), "morris": n * (d + 1)}[design]


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def load_sweep(path: str | Path) -> tuple[SweepSpec, SourceMap]:
    """Read and validate a sweep file (errors name file, line and field)."""
    raw, smap = load_yaml(path)
    try:
        return SweepSpec.model_validate(raw), smap
    except ValidationError as exc:
        raise validation_errors(exc, smap, SweepSpec, raw) from None


def build(
    path: str | Path, extra_sets: list[Override] | None = None, *, sensitivity: bool = False
) -> tuple[SweepSpec, Experiment, dict[str, Any], tuple[Point, ...], pd.DataFrame]:
    """Everything a sweep runs: its spec, base experiment, points and their table.

    Args:
        path: The sweep file.
        extra_sets: ``--set`` overrides of the base experiment from the command line.
        sensitivity: Build the points of every method in ``methods`` (Sobol then Morris).

    Returns:
        (spec, experiment, resolved tree, points, point table). The point table has one row per
        point, a column per parameter, and ``method`` for sensitivity studies.

    Raises:
        ConfigError: Bad sweep file, bad base experiment, or a parameter value the model rejects
            (named with the sweep file's line).
    """
    spec, smap = load_sweep(path)
    p = Path(path)
    if sensitivity:
        file, line = smap.locate(("design",))
        for key, par in spec.parameters.items():
            if par.range is None:
                file, line = smap.locate(("parameters", key))
                raise ConfigError(
                    "a sensitivity study samples ranges: give this parameter a 'range'",
                    file=file, line=line, field=f"parameters.{key}",
                )  # fmt: skip
        if spec.samples is None:
            raise ConfigError(
                "a sensitivity study needs 'samples' (Sobol base N, a power of 2; Morris "
                "trajectories)",
                file=file, field="samples",
            )  # fmt: skip
        if "sobol" in spec.methods and spec.samples & (spec.samples - 1):
            raise ConfigError(
                f"Sobol sampling needs 'samples' to be a power of 2 (got {spec.samples})",
                file=file, field="samples",
            )  # fmt: skip

    # Each override the sweep file makes carries its own line, so that an error names the sweep
    # file (not "--set", which the user may never have typed).
    def at(*key: str | int) -> Origin:
        return smap.locate(key)

    sets: list[Override] = [(f"{k}={_yaml_scalar(v)}", at("set", k)) for k, v in spec.set.items()]
    if spec.replicates is not None:
        sets.append((f"replicates={spec.replicates}", at("replicates")))
    if spec.seed is not None:
        sets.append((f"seed={spec.seed}", at("seed")))
    sets.append((f"output.panel={'true' if spec.store == 'panel' else 'false'}", at("store")))
    sets.append((f"output.chunk_runs={spec.chunk_runs}", at("chunk_runs")))
    sets += extra_sets or []
    select = (spec.policies, at("policies")) if spec.policies is not None else None
    base = base_path(spec.experiment, p.parent, at("experiment"))
    exp, tree = load_experiment(base, sets, select=select)
    exp = exp.model_copy(update={"name": spec.name})
    tree = {**tree, "name": spec.name, "sweep": spec.model_dump(mode="json")}

    points, table = point_table(spec, sensitivity=sensitivity)
    if spec.model == "wpi":
        ranges = {k: par.range for k, par in spec.parameters.items() if par.range is not None}
        check_points(list(spec.parameters), smap, exp, points, ranges)
    return spec, exp, tree, points, table


def point_table(
    spec: SweepSpec, *, sensitivity: bool = False
) -> tuple[tuple[Point, ...], pd.DataFrame]:
    """The points of a study and their table (also used to resume it from its manifest).

    Args:
        spec: The study.
        sensitivity: The points of every method in ``methods`` (Sobol then Morris), with a
            ``method`` column; otherwise those of ``design``.

    Returns:
        (points, table): the table has one row per point (index ``point``) and a column per
        parameter.
    """
    methods = spec.methods if sensitivity else [spec.design]
    rows: list[dict[str, Any]] = []
    for method in methods:
        for values in sample(spec, method):
            row = {k: _python(v) for k, v in zip(spec.parameters, values, strict=True)}
            if sensitivity:
                row["method"] = method
            rows.append(row)
    table = pd.DataFrame(rows)
    table.index.name = "point"
    points = tuple(Point(i, {k: row[k] for k in spec.parameters}) for i, row in enumerate(rows))
    return points, table


def _yaml_scalar(value: Any) -> str:
    import json

    return json.dumps(value) if not isinstance(value, str) else value


def base_path(name: str, folder: Path, origin: Origin = (None, None)) -> str | Path | None:
    """A study's base experiment: a built-in name, or a path relative to the study's folder.

    ``origin`` is where the name was written (file, line), for the error on an unknown name.
    """
    if name.endswith((".yaml", ".yml")) or "/" in name:
        q = Path(name)
        return q if q.is_absolute() else folder / q
    known = builtin("experiments")
    if name not in known:
        raise ConfigError(
            f"{one_of(name, known, 'experiment')} — or give a path",
            file=origin[0],
            line=origin[1],
            field="experiment",
        )
    return known[name]


def check_points(
    keys: list[str],
    smap: SourceMap,
    exp: Experiment,
    points: tuple[Point, ...],
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> None:
    """Reject parameter keys or values the model does not accept, before anything runs.

    Every value is checked against the same types as a file or ``--set`` (a share stays in
    [0, 1]); numeric parameters are checked at their smallest and largest values, which are the
    ends of a range. ``ranges`` (key → (low, high)) lets the message name the range at fault.
    """
    ranges = ranges or {}
    corners: dict[int, None] = {}
    for key in keys:
        column = [pt.values[key] for pt in points]
        if column and all(isinstance(v, (int, float)) for v in column):
            corners[int(np.argmin(column))] = None
            corners[int(np.argmax(column))] = None
        else:
            corners.update(dict.fromkeys(range(min(len(points), 50))))
    paths = {k: parse_set(f"{k}=")[0] for k in keys}
    for i in corners:
        values = points[i].values
        try:
            with_values(exp, values)
        except ConfigError as exc:
            bad = parse_set(f"{exc.field}=")[0] if exc.field else ()
            key = next((k for k, q in paths.items() if bad[: len(q)] == q), keys[0])
            if bad != paths[key]:
                what = f"point {i} ({values}) makes {exc.field} invalid"
            elif key in ranges:
                what = f"the range {list(ranges[key])} goes beyond what {key} allows"
            else:
                what = f"the value {values[key]!r} is not allowed for {key}"
            file, line = smap.locate(("parameters", key))
            raise ConfigError(
                f"{what}: {exc.message}", file=file, line=line, field=f"parameters.{key}"
            ) from None
