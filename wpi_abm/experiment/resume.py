"""Continuing an experiment from its results folder alone.

The manifest records the experiment as resolved (every building block inline, every override
applied), the overrides themselves and the command line. That is all a resume needs: the original
experiment file may have changed or gone, and nobody has to remember the options. When a file or
options *are* given and do not match what the folder holds, :func:`mismatch` names each differing
field.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from wpi_abm.config import apply_set, parse_set
from wpi_abm.errors import ResultsError
from wpi_abm.experiment.plan import Point
from wpi_abm.experiment.store import ResultStore
from wpi_abm.schema.experiment import Experiment
from wpi_abm.schema.sweep import SweepSpec
from wpi_abm.yamlio import SourceMap, dotted

SHOWN_DIFFERENCES = 12
"""Differences listed in a mismatch message (the rest are counted)."""


@dataclass
class Stored:
    """What a results folder says was run.

    Attributes:
        folder: The results folder.
        kind: ``run``, ``sweep``, ``sensitivity`` or ``decompose``.
        tree: The resolved configuration, as recorded.
        exp: The experiment it validates to.
        invocation: The recorded command line, file and overrides (empty for old folders).
        spec: The sweep or sensitivity study (None for a run).
        points: Parameter points (one empty point for a run).
        table: Parameter values per point (None for a run).
    """

    folder: Path
    kind: str
    tree: dict[str, Any]
    exp: Experiment
    invocation: dict[str, Any]
    spec: SweepSpec | None = None
    points: tuple[Point, ...] = (Point(0),)
    table: pd.DataFrame | None = None


def as_recorded(tree: dict[str, Any]) -> Any:
    """A configuration as the manifest stores it (JSON types), to compare like with like."""
    return json.loads(json.dumps(tree, default=str))


def differences(old: Any, new: Any, path: tuple[str | int, ...] = ()) -> list[str]:
    """Each field that differs, as ``dotted.key: OLD (stored) → NEW (now)``."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in new:
                found.append(f"{dotted((*path, key))}: {_show(old[key])} (stored) → absent (now)")
            elif key not in old:
                found.append(f"{dotted((*path, key))}: absent (stored) → {_show(new[key])} (now)")
            else:
                found += differences(old[key], new[key], (*path, key))
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            d
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for d in differences(a, b, (*path, i))
        ]
    # Compare types too: 2 and 2.0 are equal in Python but not in the recorded configuration.
    if type(old) is type(new) and old == new:
        return []
    return [
        f"{dotted(path) or '(the whole configuration)'}: {_show(old)} (stored) → {_show(new)} (now)"
    ]


def _show(value: Any, width: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def mismatch(folder: Path, old: dict[str, Any], *candidates: dict[str, Any]) -> ResultsError:
    """The error for resuming ``folder`` with a configuration other than the one it holds.

    Args:
        folder: The results folder.
        old: The configuration it holds.
        candidates: What the command given now may mean; the closest one is described.
    """
    found = min((differences(old, as_recorded(new)) for new in candidates), key=len)
    listed = "; ".join(found[:SHOWN_DIFFERENCES])
    if len(found) > SHOWN_DIFFERENCES:
        listed += f"; and {len(found) - SHOWN_DIFFERENCES} more"
    what = f": {listed}" if found else " (its parameter points differ)"
    return ResultsError(
        f"{folder}: holds a different experiment from the one given now{what}. Continue it as "
        f"it was with `wpi-abm resume {folder}` (no file or options needed), or give the new "
        "one another --out"
    )


def read_stored(
    folder: Path,
    sets: list[str] | None = None,
    *,
    kind: str | None = None,
    alternative: dict[str, Any] | None = None,
) -> Stored:
    """Everything needed to continue the experiment in ``folder``, from its manifest.

    Args:
        folder: The results folder.
        sets: Overrides given with the resume (``--set``, ``--replicates``…): accepted when they
            change nothing, refused naming each field they would change.
        kind: The command resuming it (``run``, ``sweep``, ``sensitivity``); None accepts any.
        alternative: Another configuration the overrides may describe in full, accepted when it
            equals the stored one: ``run --resume DIR`` with options but no file may repeat the
            original command on the packaged default experiment.

    Raises:
        ResultsError: Not a results folder, one of another kind, a configuration this version
            cannot rebuild, or overrides that change it.
    """
    store = ResultStore(folder)
    store.check(resume=True)
    manifest = store.read_manifest()
    tree = manifest.get("config")
    if not isinstance(tree, dict):
        raise ResultsError(f"{folder}: the manifest records no configuration; it cannot be resumed")
    stored_kind = str(manifest.get("kind", "run"))
    if kind is not None and stored_kind != kind:
        raise ResultsError(
            f"{folder}: holds a {stored_kind}, not a {kind}; continue it with "
            f"`wpi-abm resume {folder}`"
        )
    if sets:
        changed = copy.deepcopy(tree)
        for item in sets:  # a bad key or value is a ConfigError naming the --set
            path, value = parse_set(item)
            apply_set(changed, path, value, SourceMap(), "--set")
        if as_recorded(changed) != tree:
            if alternative is None:
                raise mismatch(folder, tree, changed)
            if as_recorded(alternative) != tree:
                raise mismatch(folder, tree, changed, alternative)
    fields = {k: v for k, v in tree.items() if k in Experiment.model_fields}
    try:
        exp = Experiment.model_validate(fields)
    except ValidationError as exc:
        raise _too_new(folder, manifest, exc) from None
    stored = Stored(folder, stored_kind, tree, exp, dict(manifest.get("invocation") or {}))
    if stored_kind in ("sweep", "sensitivity"):
        from wpi_abm.experiment.sweep import point_table

        try:
            stored.spec = SweepSpec.model_validate(tree["sweep"])
        except (KeyError, ValidationError) as exc:
            raise _too_new(folder, manifest, exc) from None
        stored.points, stored.table = point_table(
            stored.spec, sensitivity=stored_kind == "sensitivity"
        )
    return stored


def _too_new(folder: Path, manifest: dict[str, Any], exc: Exception) -> ResultsError:
    """The configuration was recorded by a wpi-abm whose schema differs from this one's."""
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False)
        first = errors[0]
        detail = f"{len(errors)} problem(s), the first: {dotted(first['loc'])}: {first['msg']}"
    else:
        detail = f"missing {exc}"
    version = manifest.get("versions", {}).get("wpi_abm", "unknown")
    commit = manifest.get("git_commit")
    written = f"wpi-abm {version}" + (f" (commit {commit})" if commit else "")
    return ResultsError(
        f"{folder}: its recorded configuration does not validate with this version of wpi-abm "
        f"({detail}); it was written by {written}: resume it with that version, or start the "
        "experiment again in another folder"
    )
