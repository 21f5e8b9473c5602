"""Experiment specs: load YAML, resolve references, apply overrides, validate with file/line errors.

An experiment file names its building blocks — policies, a cohort, behavioural parameters — either
by built-in name (packaged under ``wpi_abm/data/configs``, see :mod:`wpi_abm.presets`) or by a path
relative to the experiment file, or inline. Resolution builds one tree; ``overrides:`` in the file
and ``--set dotted.key=value`` on the command line are applied to that tree; pydantic then
validates it against :class:`~wpi_abm.schema.experiment.Experiment`. Every value remembers its file
and line so that an error points at what to fix (:mod:`wpi_abm.validation`).

This is the loader; the models are in :mod:`wpi_abm.schema`. Modules that only need the models
(metrics, figures) import those, never this. The schema names below are re-exported so that
``from wpi_abm.config import Experiment, load_experiment`` keeps working.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from wpi_abm.errors import ConfigError, ConfigWarning
from wpi_abm.policy import PolicyDesign
from wpi_abm.presets import builtin, data_dir, policy_names, posterior_path
from wpi_abm.schema import Probability, one_of
from wpi_abm.schema.experiment import (
    INDICATORS,
    ClusterSpec,
    DeclineSpec,
    ExecutionSpec,
    Experiment,
    OutputSpec,
)
from wpi_abm.validation import data_path, validate_block, validation_errors
from wpi_abm.yamlio import Path_, SourceMap, dotted, guess_kind, load_yaml

_REFERENCE_FIELDS = {"cohort": "cohorts", "parameters": "parameters"}


def _ref_path(value: str, kind: str, base: Path, file: str, line: int | None, field: str) -> Path:
    if value.endswith((".yaml", ".yml")) or "/" in value or "\\" in value:
        p = Path(value)
        return p if p.is_absolute() else (base / p)
    known = builtin(kind)
    if value in known:
        return known[value]
    noun = {"policies": "policy", "cohorts": "cohort", "parameters": "parameter set"}.get(
        kind, kind
    )
    raise ConfigError(
        f"{one_of(value, known, noun)} — or give a path to a YAML file",
        file=file,
        line=line,
        field=field,
    )


def _load_ref(
    value: Any, kind: str, base: Path, smap: SourceMap, path: Path_
) -> tuple[Any, SourceMap | None]:
    """Load a building block given by name, path or inline mapping."""
    file, line = smap.locate(path)
    if isinstance(value, dict):
        return value, None
    if not isinstance(value, str):
        raise ConfigError(
            f"expected a built-in name, a path to a YAML file or an inline mapping; "
            f"got {type(value).__name__}",
            file=file,
            line=line,
            field=dotted(path),
        )
    ref = _ref_path(value, kind, base, file or "", line, dotted(path))
    if not ref.is_file():
        raise ConfigError(
            f"file '{value}' not found (looked at {ref})", file=file, line=line, field=dotted(path)
        )
    return load_yaml(ref, display=_display(ref))


def _display(path: Path) -> str:
    """Show packaged files by their package-relative name, user files as given."""
    try:
        return "wpi_abm/data/" + str(path.resolve().relative_to(data_dir().resolve()))
    except ValueError:
        return str(path)


type Origin = tuple[str | None, int | None]
"""Where an override was written: (file, line), or a pseudo-file such as ``--set`` and no line."""
COMMAND_LINE: Origin = ("--set", None)

type Override = str | tuple[str, Origin]
"""A ``dotted.key=value`` override: a string from ``--set``, or (text, origin) from a file."""


def parse_set(item: str, origin: Origin = COMMAND_LINE) -> tuple[Path_, Any]:
    """Parse ``dotted.key[0].x=value``; the value is read as YAML (numbers, lists, true/false)."""
    file, line = origin
    if "=" not in item:
        raise ConfigError(
            f"'{item}' is not of the form dotted.key=value", file=file, line=line, field=item
        )
    key, raw = item.split("=", 1)
    key = key.strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*((\.[A-Za-z0-9_]+)|(\[\d+\]))*", key):
        raise ConfigError(
            f"'{key}' is not a dotted key such as parameters.researchers.foresight_window",
            file=file,
            line=line,
            field=key,
        )
    parts: list[str | int] = []
    for tok in re.findall(r"[^.\[\]]+|\[\d+\]", key):
        if tok.startswith("["):
            parts.append(int(tok[1:-1]))
        elif tok.isdigit():
            parts.append(int(tok))
        else:
            parts.append(tok)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return tuple(parts), value


def apply_set(
    tree: dict[str, Any], path: Path_, value: Any, smap: SourceMap, origin: str | Origin
) -> None:
    """Set ``path`` in ``tree`` to ``value``; ``origin`` becomes its source.

    ``origin`` is where the override was written, (file, line), or a pseudo-file such as
    ``--set``.
    """
    file, line = (origin, None) if isinstance(origin, str) else origin

    def error(message: str, at: Path_) -> ConfigError:
        return ConfigError(message, file=file, line=line, field=dotted(at))

    node: Any = tree
    for i, part in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(node, list):
            if not isinstance(part, int) or part >= len(node):
                raise error(
                    f"index {part} is out of range (the list has {len(node)} items)", path[: i + 1]
                )
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise error(f"'{dotted(path[:i])}' is a value, not a mapping", path)
        if part not in node or node[part] is None:
            node[part] = [] if isinstance(nxt, int) else {}
        node = node[part]
    last = path[-1]
    if isinstance(node, list):
        if not isinstance(last, int) or last >= len(node):
            raise error(f"index {last} is out of range (the list has {len(node)} items)", path)
        node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise error(f"'{dotted(path[:-1])}' is a value, not a mapping", path)
    for k in [k for k in smap.origins if k[: len(path)] == path]:
        del smap.origins[k]
    smap.origins[path] = (file, line)


def _overrides(sets: list[Override] | None) -> list[tuple[Path_, Any, Origin]]:
    """Parse overrides, each with where it was written (``--set`` for plain strings)."""
    out = []
    for item in sets or []:
        text, origin = (item, COMMAND_LINE) if isinstance(item, str) else item
        path, value = parse_set(text, origin)
        out.append((path, value, origin))
    return out


def resolve_tree(
    raw: dict[str, Any],
    smap: SourceMap,
    base: Path,
    sets: list[Override] | None = None,
    select: tuple[list[str], Origin] | None = None,
) -> dict[str, Any]:
    """Replace references by their content and apply overrides; returns the tree to validate.

    Args:
        raw: The experiment file's data.
        smap: Its source map (extended with the files loaded here).
        base: The folder that relative paths start from.
        sets: Overrides (``--set`` strings, or (text, origin) pairs from another file).
        select: Policies to keep, by name, and where that list was written (a sweep's
            ``policies``): a name the experiment defines (inline or by path) is taken from it;
            any other name is a built-in design.
    """
    file, _ = smap.locate(())
    if not isinstance(raw, dict):
        raise ConfigError("an experiment file must be a mapping of keys to values", file=file)
    tree = dict(raw)
    early: list[tuple[Path_, Any, Origin]] = []
    late: list[tuple[Path_, Any, Origin]] = []
    for path, value, origin in _overrides(sets):
        if len(path) == 1 and path[0] in ("policies", "cohort", "parameters"):
            early.append((path, value, origin))
        else:
            late.append((path, value, origin))
    for path, value, origin in early:
        apply_set(tree, path, value, smap, origin)

    overrides = tree.pop("overrides", None) or {}
    if not isinstance(overrides, dict):
        raise ConfigError(
            "overrides must map dotted keys to values",
            file=smap.locate(("overrides",))[0],
            line=smap.locate(("overrides",))[1],
            field="overrides",
        )
    override_items = []
    for key, value in overrides.items():
        o_file, o_line = smap.locate(("overrides", key))
        path, _ = parse_set(f"{key}=", (o_file, o_line))
        override_items.append((path, value, (o_file, o_line)))

    policies = tree.get("policies", "all")
    p_file, p_line = smap.locate(("policies",))
    if policies == "all":
        policies = policy_names()
    if not isinstance(policies, list) or not policies:
        raise ConfigError(
            "policies must be 'all' or a non-empty list of built-in names, YAML paths or inline "
            f"policies; built-in: {', '.join(policy_names())}",
            file=p_file,
            line=p_line,
            field="policies",
        )
    resolved: dict[str, Any] = {}
    loaded: list[tuple[str, SourceMap | None, Origin]] = []
    for i, item in enumerate(policies):
        data, sub = _load_ref(item, "policies", base, smap, ("policies", i))
        name = _policy_name(data, sub, smap, i)
        if name in resolved:
            raise ConfigError(
                f"policy '{name}' is listed twice",
                file=p_file,
                line=smap.locate(("policies", i))[1],
                field=f"policies[{i}]",
            )
        resolved[name] = data
        loaded.append((name, sub, smap.locate(("policies", i))))
    if select is not None:
        resolved, loaded = _select(resolved, loaded, select, base, smap)
    for k in [k for k in smap.origins if k[:1] == ("policies",)]:
        del smap.origins[k]
    smap.origins[("policies",)] = (p_file, p_line) if select is None else select[1]
    for name, sub, origin in loaded:
        if sub is not None:
            smap.graft(("policies", name), sub)
        else:
            smap.origins[("policies", name)] = origin
    tree["policies"] = resolved

    for key, kind in _REFERENCE_FIELDS.items():
        if key not in tree:
            tree[key] = "default"
            smap.origins[(key,)] = (file, None)
        data, sub = _load_ref(tree[key], kind, base, smap, (key,))
        tree[key] = data
        if sub is not None:
            smap.graft((key,), sub)

    for path, value, origin in override_items + late:
        apply_set(tree, path, value, smap, origin)
    _anchor_posterior(tree, base)
    return tree


def _anchor_posterior(tree: dict[str, Any], base: Path) -> None:
    """Make a relative posterior path absolute and record the file's checksum in the tree.

    The run reads the file later (a resumed run from another working directory), so a path is
    kept absolute; a packaged posterior keeps its name. The checksum makes the file part of the
    configuration: a run resumed, or repeated, with a changed file is told so field by field. A
    checksum written in the experiment pins the file (the run refuses another); a missing file
    is left for the run to report.
    """
    unc = tree.get("uncertainty")
    if not isinstance(unc, dict) or unc.get("kind") != "posterior":
        return
    ref = unc.get("posterior", "legacy")
    if not isinstance(ref, str):
        return
    is_path = ref.endswith(".csv") or "/" in ref or "\\" in ref
    if is_path and not Path(ref).is_absolute():
        ref = unc["posterior"] = str((base / ref).resolve())
    path = posterior_path(ref, base)
    if unc.get("sha256") is None and path.is_file():
        unc["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()


def _policy_name(data: Any, sub: SourceMap | None, smap: SourceMap, i: int) -> str:
    """The name of a loaded policy design (it must have one)."""
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        f, ln = sub.locate(()) if sub else smap.locate(("policies", i))
        raise ConfigError(
            "a policy must be a mapping with a 'name'", file=f, line=ln, field=f"policies[{i}]"
        )
    return data["name"]


def _select(
    resolved: dict[str, Any],
    loaded: list[tuple[str, SourceMap | None, Origin]],
    select: tuple[list[str], Origin],
    base: Path,
    smap: SourceMap,
) -> tuple[dict[str, Any], list[tuple[str, SourceMap | None, Origin]]]:
    """Keep the ``select``-ed policies: the experiment's own by name, else built-in designs."""
    names, (file, line) = select
    own = {name: (name, sub, origin) for name, sub, origin in loaded}
    kept: dict[str, Any] = {}
    kept_loaded = []
    for name in names:
        if name in kept:
            raise ConfigError(
                f"policy '{name}' is listed twice", file=file, line=line, field="policies"
            )
        if name in own:
            kept[name] = resolved[name]
            kept_loaded.append(own[name])
            continue
        if name not in policy_names():
            allowed = [*own, *(n for n in policy_names() if n not in own)]
            raise ConfigError(
                f"{one_of(name, allowed, 'policy')}: a policy here is one the base experiment "
                "defines or a built-in design",
                file=file,
                line=line,
                field="policies",
            )
        data, sub = _load_ref(name, "policies", base, smap, ("policies",))
        kept[name] = data
        kept_loaded.append((name, sub, (file, line)))
    return kept, kept_loaded


def load_experiment(
    path: str | Path | None = None,
    sets: list[Override] | None = None,
    *,
    select: tuple[list[str], Origin] | None = None,
) -> tuple[Experiment, dict[str, Any]]:
    """Load, resolve and validate an experiment.

    Segments that pay past the horizon are allowed but reported as a
    :class:`~wpi_abm.errors.ConfigWarning` (the command line prints it as a ``warning:`` line).

    Args:
        path: The experiment YAML; ``None`` means the packaged default (``policy_comparison``).
        sets: Overrides: ``dotted.key=value`` strings from the command line, or (text, origin)
            pairs written in another file (a sweep's ``set:``), so that errors name that file.
        select: Policies to keep and where that list was written (see :func:`resolve_tree`).

    Returns:
        The validated experiment and the resolved tree (for the manifest).

    Raises:
        ConfigError: Anything wrong, with file, line and field.
    """
    if path is None:
        p = builtin("experiments")["policy_comparison"]
        raw, smap = load_yaml(p, display=_display(p))
    else:
        p = Path(path)
        raw, smap = load_yaml(p)
    tree = resolve_tree(raw, smap, p.parent, sets, select)
    try:
        exp = Experiment.model_validate(tree)
    except ValidationError as exc:
        raise validation_errors(exc, smap, Experiment, tree) from None
    for loc, message in exp.past_horizon():
        file, line = smap.locate(loc)
        warning = ConfigError(message, file=file, line=line, field=dotted(loc))
        warnings.warn(ConfigWarning(warning.render()), stacklevel=2)
    return exp, tree


def load_policy(name_or_path: str) -> PolicyDesign:
    """Load one policy design by built-in name or path."""
    p = _ref_path(name_or_path, "policies", Path.cwd(), "policy", None, "policy")
    raw, smap = load_yaml(p, display=_display(p))
    return validate_block(raw, smap, PolicyDesign)


def load_block[M: BaseModel](kind: str, name_or_path: str, model: type[M]) -> M:
    """Load a built-in or user building block of ``kind`` and validate it as ``model``."""
    p = _ref_path(name_or_path, kind, Path.cwd(), kind, None, kind)
    raw, smap = load_yaml(p, display=_display(p))
    return validate_block(raw, smap, model)


__all__ = [
    "INDICATORS",
    "ClusterSpec",
    "DeclineSpec",
    "ExecutionSpec",
    "Experiment",
    "OutputSpec",
    "Probability",
    "apply_set",
    "builtin",
    "data_path",
    "guess_kind",
    "load_block",
    "load_experiment",
    "load_policy",
    "parse_set",
    "resolve_tree",
    "validate_block",
    "validation_errors",
]
