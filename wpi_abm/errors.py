"""Errors that reach the user as one clear paragraph, never as a traceback."""

from __future__ import annotations

from pathlib import Path


class WpiError(Exception):
    """Base class of the errors the command line reports without a traceback."""


class ConfigError(WpiError):
    """Bad input: names the file, the line or field, and what is allowed.

    Args:
        message: What is wrong and what is allowed.
        file: The YAML file the value came from (or a pseudo-source such as ``--set``).
        line: 1-based line number in ``file``, when known.
        field: Dotted path of the offending field, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self.render())

    def render(self) -> str:
        """The one-paragraph message shown to the user."""
        where = []
        if self.file:
            where.append(str(self.file))
        if self.line:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ConfigErrors(ConfigError):
    """Several configuration errors found at once, reported together."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.message, file=first.file, line=first.line, field=first.field)

    def render(self) -> str:
        """All errors, one per line, so the user can fix them in one pass."""
        lines = [e.render() for e in self.errors]
        if len(lines) == 1:
            return lines[0]
        return f"{len(lines)} problems in the configuration:\n  " + "\n  ".join(lines)


class ConfigWarning(UserWarning):
    """Input that is allowed but may not mean what it says (one line naming file, line, field).

    For example a policy segment that pays years past the experiment's horizon: a design may be
    longer than a study on purpose, but the years beyond are never simulated. The command line
    prints these as ``warning: ...`` and goes on.
    """


class ResultsError(WpiError):
    """A results folder is missing, locked by another run, or not what a command expects."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C while an experiment writes into ``folder`` (what is finished there is kept).

    A ``KeyboardInterrupt``, so that everything that cleans up on Ctrl-C still does; it only adds
    the folder, so that the message can name the command that continues.

    Args:
        folder: The results folder.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        super().__init__(str(folder))
