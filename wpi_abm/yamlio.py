"""YAML reading that remembers where every value came from.

Validation errors must name the file and line of the offending field, so the loader keeps a map
from each value's path (a tuple of keys and list indices) to its source file and line.

Reading is bounded: a file larger than :data:`MAX_BYTES`, nested deeper than :data:`MAX_DEPTH`, or
whose aliases expand to more than :data:`MAX_VALUES` values ("billion laughs") is refused with an
error naming the file, before it can take the machine's memory or time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wpi_abm.errors import ConfigError

type Path_ = tuple[str | int, ...]

MAX_BYTES = 4_000_000
"""Largest configuration file read (the packaged ones are under 10 kB)."""
MAX_VALUES = 100_000
"""Most values a file may hold once its aliases are expanded (the packaged ones hold < 300)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists (the packaged files nest 4 deep)."""


@dataclass
class SourceMap:
    """Where each value of a resolved configuration tree came from.

    Attributes:
        origins: path → (file, line). A path missing here inherits from its nearest ancestor.
    """

    origins: dict[Path_, tuple[str, int | None]] = field(default_factory=dict)

    def locate(self, path: Path_) -> tuple[str | None, int | None]:
        """The file and line of ``path``, or of its nearest recorded ancestor."""
        p = tuple(path)
        while True:
            if p in self.origins:
                return self.origins[p]
            if not p:
                return None, None
            p = p[:-1]

    def graft(self, prefix: Path_, other: SourceMap) -> None:
        """Record ``other``'s origins under ``prefix`` (a file loaded into a subtree)."""
        for k in [k for k in self.origins if k[: len(prefix)] == prefix]:
            del self.origins[k]
        for path, origin in other.origins.items():
            self.origins[prefix + path] = origin


def dotted(path: Path_) -> str:
    """Render a path as the dotted key users write in ``--set`` (list items as ``[i]``)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Budget:
    """Counts values as aliases are expanded, so that a small file cannot expand without bound."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.values = 0
        self.open: set[int] = set()  # nodes being expanded: an alias to one of them is a loop

    def spend(self, node: yaml.Node, depth: int) -> None:
        self.values += 1
        line = node.start_mark.line + 1
        if self.values > MAX_VALUES:
            raise ConfigError(
                f"expands to more than {MAX_VALUES:,} values (YAML aliases that repeat other "
                "aliases multiply; a configuration needs a few hundred); write the values out or "
                "use fewer nested aliases",
                file=self.file,
                line=line,
            )
        if depth > MAX_DEPTH:
            raise ConfigError(
                f"values are nested more than {MAX_DEPTH} levels deep; a configuration needs a "
                "few levels",
                file=self.file,
                line=line,
            )


_YAML = "tag:yaml.org,2002:"
PLAIN_TAGS = frozenset(
    _YAML + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge")
)
"""The YAML tags a configuration may carry: plain values, lists and mappings."""


def _check_tag(node: yaml.Node, file: str, path: Path_) -> None:
    """Refuse a tag that asks for anything but a plain value (``!!python/object``, ``!custom``).

    Safe loading never builds such objects; without this check a tag on a mapping or a list was
    dropped silently and the error blamed the value's type instead.
    """
    if node.tag in PLAIN_TAGS:
        return
    tag = node.tag.replace(_YAML, "!!")
    raise ConfigError(
        f"the YAML tag '{tag}' is not allowed: configuration files are read safely, as plain "
        "values (text, numbers, true/false, lists and mappings); remove the tag",
        file=file,
        line=node.start_mark.line + 1,
        field=dotted(path) or None,
    )


def _construct(
    node: yaml.Node,
    file: str,
    path: Path_,
    smap: SourceMap,
    scalars: yaml.SafeLoader,
    budget: _Budget,
) -> Any:
    budget.spend(node, len(path))
    _check_tag(node, file, path)
    smap.origins[path] = (file, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        return scalars.construct_object(node, deep=True)
    if id(node) in budget.open:
        raise ConfigError(
            "an alias refers to itself (a value that contains itself never ends)",
            file=file,
            line=node.start_mark.line + 1,
            field=dotted(path),
        )
    budget.open.add(id(node))
    try:
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise ConfigError(
                        "mapping keys must be plain names",
                        file=file,
                        line=key_node.start_mark.line + 1,
                    )
                key = key_node.value
                if key in out:
                    raise ConfigError(
                        f"key '{key}' appears twice in the same mapping",
                        file=file,
                        line=key_node.start_mark.line + 1,
                        field=dotted((*path, key)),
                    )
                out[key] = _construct(value_node, file, (*path, key), smap, scalars, budget)
                smap.origins[(*path, key)] = (file, key_node.start_mark.line + 1)
            return out
        return [
            _construct(v, file, (*path, i), smap, scalars, budget) for i, v in enumerate(node.value)
        ]
    finally:
        budget.open.discard(id(node))


def load_yaml(path: str | Path, *, display: str | None = None) -> tuple[Any, SourceMap]:
    """Read a YAML file into plain Python data plus the source line of every value.

    Args:
        path: The file to read.
        display: How to name the file in messages (defaults to the path as given).

    Returns:
        The data (dicts, lists, scalars) and its :class:`SourceMap`.

    Raises:
        ConfigError: The file is missing, a directory, unreadable, too large, not valid YAML, has
            duplicate keys, or expands beyond the limits above.
    """
    name = display or str(path)
    p = Path(path)
    if p.is_dir():
        raise ConfigError("is a directory; give a YAML file", file=name)
    if not p.is_file():
        raise ConfigError("file not found", file=name)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(
                f"the file is {_size(size)}, larger than the {_size(MAX_BYTES)} allowed for a "
                "configuration file",
                file=name,
            )
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read file ({exc.__class__.__name__}: {exc})", file=name
        ) from None
    return parse_yaml(text, name)


def _size(n: int) -> str:
    return f"{n / 1e6:.3g} MB" if n >= 1e6 else f"{n / 1e3:.3g} kB"


def parse_yaml(text: str, name: str) -> tuple[Any, SourceMap]:
    """Parse YAML text; see :func:`load_yaml`."""
    smap = SourceMap()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        # PyYAML composes recursively: nesting deep enough to exhaust the stack is refused here.
        raise ConfigError(
            f"values are nested more than {MAX_DEPTH} levels deep; a configuration needs a few "
            "levels",
            file=name,
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(f"not valid YAML: {exc.problem or exc}", file=name, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=name) from None
    if node is None:
        raise ConfigError("the file is empty", file=name)
    try:
        data = _construct(node, name, (), smap, yaml.SafeLoader(""), _Budget(name))
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise ConfigError(
            f"cannot read value: {exc.problem}", file=name, line=mark.line + 1 if mark else None
        ) from None
    return data, smap


def guess_kind(raw: Any) -> str:
    """Which kind of file a loaded YAML mapping is (for `wpi-abm validate`, and the commands)."""
    if not isinstance(raw, dict):
        return "unknown"
    if "targets" in raw:
        return "calibration"
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
