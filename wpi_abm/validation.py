"""Pydantic errors as messages that name the file, the line, the field and what is allowed.

Every value of a loaded configuration remembers where it came from
(:class:`~wpi_abm.yamlio.SourceMap`); these functions map a pydantic error's location back onto
that map, so that a user reads ``my_study.yaml, line 12, field 'policies.mine.segments[0].amount':
...`` instead of a traceback.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from wpi_abm.errors import ConfigError, ConfigErrors
from wpi_abm.yamlio import Path_, SourceMap, dotted


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


def validate_block[M: BaseModel](raw: Any, smap: SourceMap, model: type[M]) -> M:
    """Validate a loaded building block, mapping errors to file and line."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise validation_errors(exc, smap, model, raw) from None
