"""Experiment specs: load YAML, resolve references, apply overrides, validate with file/line errors.

An experiment file names its building blocks — policies, a cohort, behavioural parameters — either
by built-in name (packaged under ``wpi_abm/data/configs``) or by a path relative to the experiment
file, or inline. Resolution builds one tree; ``overrides:`` in the file and
``--set dotted.key=value`` on the command line are applied to that tree; pydantic then validates
it. Every value remembers its file and line so that an error points at what to fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from wpi_abm.cohort import Cohort
from wpi_abm.errors import ConfigError, ConfigErrors
from wpi_abm.parameters import Parameters
from wpi_abm.policy import PolicyDesign
from wpi_abm.schema import NonNegative, Probability, Strict, Year
from wpi_abm.yamlio import Path_, SourceMap, dotted, load_yaml

INDICATORS = ("researchers", "foreign", "staff", "papers", "top10_papers", "intl_papers")
"""Indicators the value index may weight (see :mod:`wpi_abm.metrics`)."""

POLICY_ORDER = (
    "legacy", "legacy_2007", "legacy_extension_taper", "reform_2024", "taper", "wpi_core",
    "multiple_host", "flat_15", "flat_forever",
)  # fmt: skip
"""The order in which ``policies: all`` lists the built-in designs (others follow by name)."""


def data_dir() -> Path:
    """The folder of packaged configurations and experiments."""
    return Path(__file__).resolve().parent / "data"


def builtin(kind: str) -> dict[str, Path]:
    """Built-in YAML files of a kind: ``policies``, ``cohorts``, ``parameters``, ``experiments``."""
    folder = data_dir() / ("experiments" if kind == "experiments" else f"configs/{kind}")
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


class DeclineSpec(Strict):
    """How a value decline is detected (docs/ODD.md, "Decline").

    Attributes:
        theta: A drop of more than this share below the reference year is a decline (seed: 10%
            is our default threshold; the seed gives no number).
        reference_year: Support year compared against (the last year of standard support).
        test_years: Years compared with the reference (seed: the 1st and 2nd year after support).
        aggregate: ``min`` — a decline if any test year is below; ``mean`` — if their mean is.
        baseline_years: Years over which indicators are normalised for the value index.
        weights: Weights of the value index's indicators (normalised to sum to 1).
    """

    theta: Annotated[float, Field(gt=0, lt=1)] = 0.10
    reference_year: Year = 10
    test_years: list[Year] = Field(default=[11, 12], min_length=1)
    aggregate: Literal["min", "mean"] = "mean"
    baseline_years: tuple[Year, Year] = (3, 10)
    weights: dict[str, NonNegative] = {
        "researchers": 0.25,
        "foreign": 0.20,
        "staff": 0.15,
        "papers": 0.15,
        "top10_papers": 0.15,
        "intl_papers": 0.10,
    }

    @model_validator(mode="after")
    def _check(self) -> DeclineSpec:
        bad = set(self.weights) - set(INDICATORS)
        if bad:
            raise ValueError(f"unknown weights {sorted(bad)}; allowed: {list(INDICATORS)}")
        if sum(self.weights.values()) <= 0:
            raise ValueError("weights must not all be zero")
        if any(y <= self.reference_year for y in self.test_years):
            raise ValueError(
                f"test_years {self.test_years} must all come after reference_year "
                f"{self.reference_year}"
            )
        if self.baseline_years[0] > self.baseline_years[1]:
            raise ValueError("baseline_years must be [first, last] with first <= last")
        return self


class OutputSpec(Strict):
    """What a run stores.

    Attributes:
        panel: Store the centre × year panel (runs/*.parquet); outcomes are always stored.
        chunk_runs: Runs per chunk (the unit of work, of streaming and of resume).
        figures: Draw the summary figures at the end.
    """

    panel: bool = True
    chunk_runs: Annotated[int, Field(ge=1, le=100_000)] = 100
    figures: bool = True


class ExecutionSpec(Strict):
    """Where runs execute (the command line overrides these).

    Attributes:
        executor: ``serial``, ``processes`` or ``dask``.
        workers: Worker processes (default: all cores).
        scheduler: Address of a running Dask scheduler.
    """

    executor: Literal["serial", "processes", "dask"] = "processes"
    workers: Annotated[int, Field(ge=1, le=4096)] | None = None
    scheduler: str | None = None


class ClusterSpec(Strict):
    """A batch-system cluster started through dask-jobqueue.

    Attributes:
        kind: ``slurm``, ``pbs`` or ``sge``.
        cores: Cores per job.
        memory: Memory per job (e.g. ``16GB``).
        walltime: Wall-time limit per job (``HH:MM:SS``).
        jobs: Number of jobs (each runs ``processes`` Dask workers).
        processes: Worker processes per job (default: one per core).
        queue: Queue or partition.
        account: Account or project to charge.
        job_extra: Extra scheduler directives, e.g. ``["--qos=normal"]``.
    """

    kind: Literal["slurm", "pbs", "sge"]
    cores: Annotated[int, Field(ge=1, le=1024)]
    memory: str = Field(pattern=r"^\d+(\.\d+)?\s*[KMGT]i?B$")
    walltime: str = Field(pattern=r"^(\d+-)?\d{1,3}:\d{2}:\d{2}$")
    jobs: Annotated[int, Field(ge=1, le=10_000)]
    processes: Annotated[int, Field(ge=1, le=1024)] | None = None
    queue: str | None = None
    account: str | None = None
    job_extra: list[str] = []


class Experiment(Strict):
    """A fully resolved experiment: every building block loaded and validated."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    seed: Annotated[int, Field(ge=0, lt=2**63)]
    replicates: Annotated[int, Field(ge=1, le=10_000_000)]
    horizon: Annotated[int, Field(ge=2, le=100)] = 25
    policies: dict[str, PolicyDesign] = Field(min_length=1)
    baseline_policy: str | None = "legacy"
    cohort: Cohort
    parameters: Parameters
    decline: DeclineSpec = DeclineSpec()
    output: OutputSpec = OutputSpec()
    execution: ExecutionSpec = ExecutionSpec()
    cluster: ClusterSpec | None = None

    @model_validator(mode="after")
    def _check(self) -> Experiment:
        for key, policy in self.policies.items():
            if key != policy.name:
                raise ValueError(f"policy listed as '{key}' is named '{policy.name}' in its file")
            for ev in policy.evaluations:
                if ev.year > self.horizon:
                    raise ValueError(
                        f"policy '{key}': evaluation '{ev.name}' in year {ev.year} is beyond the "
                        f"horizon ({self.horizon}); allowed: years 1..{self.horizon}"
                    )
        years = [self.decline.reference_year, *self.decline.test_years]
        if max(years) > self.horizon:
            raise ValueError(
                f"decline years {years} go beyond the horizon ({self.horizon}); "
                f"allowed: years 1..{self.horizon}"
            )
        if self.decline.baseline_years[1] > self.horizon:
            raise ValueError(f"decline.baseline_years go beyond the horizon ({self.horizon})")
        if self.baseline_policy is not None and self.baseline_policy not in self.policies:
            if "baseline_policy" in self.model_fields_set:
                raise ValueError(
                    f"baseline_policy '{self.baseline_policy}' is not among the policies "
                    f"{sorted(self.policies)}"
                )
            object.__setattr__(self, "baseline_policy", None)
        return self

    @property
    def policy_names(self) -> list[str]:
        """Policies in the order the experiment lists them."""
        return list(self.policies)


# ----------------------------------------------------------------------------------------------
# Resolution
# ----------------------------------------------------------------------------------------------

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
        f"unknown {noun} '{value}'; built-in: "
        f"{', '.join(known) or 'none'} — or give a path to a YAML file",
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


def parse_set(item: str) -> tuple[Path_, Any]:
    """Parse ``dotted.key[0].x=value``; the value is read as YAML (numbers, lists, true/false)."""
    if "=" not in item:
        raise ConfigError(f"'{item}' is not of the form dotted.key=value", file="--set", field=item)
    key, raw = item.split("=", 1)
    key = key.strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*((\.[A-Za-z0-9_]+)|(\[\d+\]))*", key):
        raise ConfigError(
            f"'{key}' is not a dotted key such as parameters.researchers.foresight_window",
            file="--set",
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


def apply_set(tree: dict[str, Any], path: Path_, value: Any, smap: SourceMap, origin: str) -> None:
    """Set ``path`` in ``tree`` to ``value``; ``origin`` (e.g. ``--set``) becomes its source."""
    node: Any = tree
    for i, part in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(node, list):
            if not isinstance(part, int) or part >= len(node):
                raise ConfigError(
                    f"index {part} is out of range (the list has {len(node)} items)",
                    file=origin,
                    field=dotted(path[: i + 1]),
                )
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise ConfigError(
                f"'{dotted(path[:i])}' is a value, not a mapping", file=origin, field=dotted(path)
            )
        if part not in node or node[part] is None:
            node[part] = [] if isinstance(nxt, int) else {}
        node = node[part]
    last = path[-1]
    if isinstance(node, list):
        if not isinstance(last, int) or last >= len(node):
            raise ConfigError(
                f"index {last} is out of range (the list has {len(node)} items)",
                file=origin,
                field=dotted(path),
            )
        node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ConfigError(
            f"'{dotted(path[:-1])}' is a value, not a mapping", file=origin, field=dotted(path)
        )
    for k in [k for k in smap.origins if k[: len(path)] == path]:
        del smap.origins[k]
    smap.origins[path] = (origin, None)


def resolve_tree(
    raw: dict[str, Any], smap: SourceMap, base: Path, sets: list[str] | None = None
) -> dict[str, Any]:
    """Replace references by their content and apply overrides; returns the tree to validate."""
    file, _ = smap.locate(())
    if not isinstance(raw, dict):
        raise ConfigError("an experiment file must be a mapping of keys to values", file=file)
    tree = dict(raw)
    early: list[tuple[Path_, Any]] = []
    late: list[tuple[Path_, Any, str]] = []
    for item in sets or []:
        path, value = parse_set(item)
        if len(path) == 1 and path[0] in ("policies", "cohort", "parameters"):
            early.append((path, value))
        else:
            late.append((path, value, "--set"))
    for path, value in early:
        apply_set(tree, path, value, smap, "--set")

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
        path, _ = parse_set(f"{key}=")
        override_items.append((path, value, f"{o_file}, line {o_line} (overrides)"))

    policies = tree.get("policies", "all")
    p_file, p_line = smap.locate(("policies",))
    if policies == "all":
        known = builtin("policies")
        policies = [p for p in POLICY_ORDER if p in known]
        policies += sorted(p for p in known if p not in POLICY_ORDER)
    if not isinstance(policies, list) or not policies:
        raise ConfigError(
            "policies must be 'all' or a non-empty list of built-in names, YAML paths or inline "
            f"policies; built-in: {', '.join(builtin('policies'))}",
            file=p_file,
            line=p_line,
            field="policies",
        )
    resolved: dict[str, Any] = {}
    loaded: list[tuple[str, SourceMap | None, int]] = []
    for i, item in enumerate(policies):
        data, sub = _load_ref(item, "policies", base, smap, ("policies", i))
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            f, ln = sub.locate(()) if sub else smap.locate(("policies", i))
            raise ConfigError(
                "a policy must be a mapping with a 'name'", file=f, line=ln, field=f"policies[{i}]"
            )
        name = data["name"]
        if name in resolved:
            raise ConfigError(
                f"policy '{name}' is listed twice",
                file=p_file,
                line=smap.locate(("policies", i))[1],
                field=f"policies[{i}]",
            )
        resolved[name] = data
        loaded.append((name, sub, i))
    item_origins = {i: smap.locate(("policies", i)) for i in range(len(policies))}
    for k in [k for k in smap.origins if k[:1] == ("policies",)]:
        del smap.origins[k]
    smap.origins[("policies",)] = (p_file, p_line)
    for name, sub, i in loaded:
        if sub is not None:
            smap.graft(("policies", name), sub)
        else:
            smap.origins[("policies", name)] = item_origins[i]
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
    return tree


def _field_annotation(model: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    """The annotation at ``loc`` inside ``model``, or None (best effort, for error messages)."""
    ann: Any = model
    for part in loc:
        while True:
            origin = get_origin(ann)
            if origin is Annotated:
                ann = get_args(ann)[0]
            elif origin in (list, tuple) and isinstance(part, int):
                ann = get_args(ann)[0]
                break
            elif origin is dict and isinstance(part, str):
                ann = get_args(ann)[1]
                break
            elif (origin is not None and str(origin).endswith("UnionType")) or str(origin) == (
                "typing.Union"
            ):
                models = [a for a in get_args(ann) if isinstance(a, type)]
                models = [a for a in models if issubclass(a, BaseModel)]
                if not models:
                    return None
                ann = models[0]
            else:
                break
        if isinstance(ann, type) and issubclass(ann, BaseModel) and isinstance(part, str):
            if part not in ann.model_fields:
                return None
            ann = ann.model_fields[part].annotation
        elif isinstance(part, int) or get_origin(ann) is dict:
            continue
        else:
            return None
    return ann


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    ann = _field_annotation(model, loc)
    while get_origin(ann) is Annotated:
        ann = get_args(ann)[0]
    args = [a for a in get_args(ann) if isinstance(a, type) and issubclass(a, BaseModel)]
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return list(ann.model_fields)
    if args:
        return list(args[0].model_fields)
    return None


_TYPE_TAG = re.compile(r"^(function-\w+|[a-z]+(-[a-z]+)+|.*\[.*|int|float|str|bool|list|dict)$")


def data_path(tree: Any, loc: tuple[Any, ...]) -> list[str | int]:
    """The part of a pydantic error location that names keys of the data (not type tags)."""
    path: list[str | int] = []
    node = tree
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif i == len(loc) - 1 and isinstance(part, str) and not _TYPE_TAG.match(part):
            path.append(part)  # a missing key
    return path


def validation_errors(
    exc: ValidationError,
    smap: SourceMap,
    model: type[BaseModel],
    tree: Any,
    prefix: Path_ = (),
) -> ConfigErrors:
    """Turn a pydantic error into messages that name file, line, field and what is allowed."""
    out: list[ConfigError] = []
    for err in exc.errors(include_url=False):
        clean = data_path(tree, err["loc"])
        path = prefix + tuple(clean)
        file, line = smap.locate(path)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, tuple(clean[:-1]))
            msg = f"unknown key '{clean[-1]}'"
            if allowed:
                msg += f"; allowed keys here: {', '.join(allowed)}"
        elif err["type"] == "missing":
            msg = f"required key '{clean[-1]}' is missing"
        elif "input" in err and err["type"] not in ("value_error", "assertion_error"):
            msg += f" (got {err['input']!r})"
        out.append(ConfigError(msg, file=file, line=line, field=dotted(path) or None))
    return ConfigErrors(out)


def load_experiment(
    path: str | Path | None = None, sets: list[str] | None = None
) -> tuple[Experiment, dict[str, Any]]:
    """Load, resolve and validate an experiment.

    Args:
        path: The experiment YAML; ``None`` means the packaged default (``policy_comparison``).
        sets: ``dotted.key=value`` overrides from the command line.

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
    tree = resolve_tree(raw, smap, p.parent, sets)
    try:
        exp = Experiment.model_validate(tree)
    except ValidationError as exc:
        raise validation_errors(exc, smap, Experiment, tree) from None
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


def validate_block[M: BaseModel](raw: Any, smap: SourceMap, model: type[M]) -> M:
    """Validate a loaded building block, mapping errors to file and line."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise validation_errors(exc, smap, model, raw) from None


def guess_kind(raw: Any) -> str:
    """Which kind of file a loaded YAML mapping is (for ``wpi-abm validate``)."""
    if not isinstance(raw, dict):
        return "unknown"
    swept = raw.get("parameters")
    if (isinstance(swept, dict) and any("." in str(k) for k in swept)) or "design" in raw:
        return "sweep"
    if raw.get("model") == "ishigami":
        return "sweep"
    if "segments" in raw:
        return "policy"
    if "centres" in raw:
        return "cohort"
    if "researchers" in raw and "money" in raw:
        return "parameters"
    if "replicates" in raw or "policies" in raw or "seed" in raw:
        return "experiment"
    return "unknown"


__all__ = [
    "INDICATORS",
    "DeclineSpec",
    "ExecutionSpec",
    "Experiment",
    "OutputSpec",
    "Probability",
    "builtin",
    "guess_kind",
    "load_block",
    "load_experiment",
    "load_policy",
]
