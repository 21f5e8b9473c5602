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
from wpi_abm.schema import FieldError, did_you_mean
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


_MISSING = object()


def _child(node: Any, part: Any) -> Any:
    """``node[part]`` when the data holds that key or index, else ``_MISSING``."""
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _MISSING


def data_path(tree: Any, loc: tuple[Any, ...]) -> list[str | int]:
    """The part of a pydantic error location that names keys of the data (not type tags)."""
    path: list[str | int] = []
    node = tree
    for i, part in enumerate(loc):
        child = _child(node, part)
        if child is not _MISSING:
            node = child
            path.append(part)
        elif i == len(loc) - 1 and isinstance(part, str) and not _TYPE_TAG.match(part):
            path.append(part)  # a missing key
    return path


_MISMATCH = re.compile(r"^(.*_type|.*_parsing|literal_error|union_tag_.*)$")
"""Error types that say the input is of the wrong kind (not a bad value of the right kind)."""


def _union_site(tree: Any, loc: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The location of the union an error comes from (the part before a branch's type tag)."""
    node = tree
    for i, part in enumerate(loc):
        child = _child(node, part)
        if child is not _MISSING:
            node = child
        elif isinstance(part, str) and _TYPE_TAG.match(part):
            return tuple(loc[:i])
        else:
            return None
    return None


def _one_per_union(errors: list[dict[str, Any]], tree: Any) -> list[dict[str, Any]]:
    """One error per value that failed every branch of a union (``amount: 700 | [700, ...]``).

    Pydantic reports each branch's complaint: ``amount: -700`` gives both "greater than or equal
    to 0" and "a valid list", and the second only confuses. When some branch accepted the kind of
    input and rejected its value, only those complaints are kept; when every branch rejected the
    kind, one message lists what the value could have been.
    """
    sites: dict[tuple[Any, ...], list[int]] = {}
    for i, err in enumerate(errors):
        site = _union_site(tree, tuple(err["loc"]))
        if site is not None:
            sites.setdefault(site, []).append(i)
    drop: set[int] = set()
    merged: dict[int, dict[str, Any]] = {}
    for members in sites.values():
        if len(members) < 2:
            continue
        values = [i for i in members if not _MISMATCH.match(errors[i]["type"])]
        if values:
            drop.update(i for i in members if i not in values)
            continue
        kinds = []
        for i in members:
            text = errors[i]["msg"].removeprefix("Input should be ").split(",")[0]
            kinds.append(text)
        first = dict(errors[members[0]])
        first["msg"] = "Input should be " + " or ".join(dict.fromkeys(kinds))
        first["expected"] = [
            v for i in members if errors[i]["type"] == "literal_error" for v in _literals(errors[i])
        ]
        first["type"] = "union_mismatch"
        merged[members[0]] = first
        drop.update(members[1:])
    return [merged.get(i, err) for i, err in enumerate(errors) if i not in drop]


def _literals(err: dict[str, Any]) -> list[str]:
    """The allowed words of a ``literal_error`` (pydantic writes them as ``'a', 'b' or 'c'``)."""
    return re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))


def _existing(tree: Any, base: list[str | int], extra: tuple[Any, ...]) -> list[str | int]:
    """``base`` extended by the longest prefix of ``extra`` that exists in the data."""
    node: Any = tree
    for part in base:
        node = _child(node, part)  # _MISSING when base ends at a missing key: nothing below
    path = list(base)
    for part in extra:
        node = _child(node, part)
        if node is _MISSING:
            break
        path.append(part)
    return path


def validation_errors(
    exc: ValidationError,
    smap: SourceMap,
    model: type[BaseModel],
    tree: Any,
    prefix: Path_ = (),
) -> ConfigErrors:
    """Turn a pydantic error into messages that name file, line, field and what is allowed.

    A validator that raises :class:`~wpi_abm.schema.FieldError` names the key at fault: the
    message then points at that key's line, not at the first line of the model that checked it.
    """
    out: list[ConfigError] = []
    for err in _one_per_union(exc.errors(include_url=False), tree):
        clean = data_path(tree, err["loc"])
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, FieldError):
            clean = _existing(tree, clean, cause.loc)
        path = prefix + tuple(clean)
        file, line = smap.locate(path)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, tuple(clean[:-1]))
            msg = f"unknown key '{clean[-1]}'"
            if allowed:
                msg += f"; allowed keys here: {', '.join(allowed)}"
                msg += did_you_mean(clean[-1], allowed)
        elif err["type"] == "missing":
            msg = f"required key '{clean[-1]}' is missing"
        elif "input" in err and err["type"] not in ("value_error", "assertion_error"):
            msg += f" (got {err['input']!r})"
            expected = err.get("expected") or (
                _literals(err) if err["type"] == "literal_error" else []
            )
            if expected:
                msg += did_you_mean(err["input"], expected)
        out.append(ConfigError(msg, file=file, line=line, field=dotted(path) or None))
    return ConfigErrors(out)


def validate_block[M: BaseModel](raw: Any, smap: SourceMap, model: type[M]) -> M:
    """Validate a loaded building block, mapping errors to file and line."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise validation_errors(exc, smap, model, raw) from None
