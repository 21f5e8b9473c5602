"""What the configuration files may hold: pydantic models only, no file reading.

This package holds the shared base types every model uses (below); the experiment's own models are
in :mod:`wpi_abm.schema.experiment`, the sweep file's in :mod:`wpi_abm.schema.sweep` and the closed
vocabularies (research fields) in :mod:`wpi_abm.schema.vocabulary`. The building blocks' models
live beside the code that uses them (:mod:`wpi_abm.policy`, :mod:`wpi_abm.cohort`,
:mod:`wpi_abm.parameters`) and import these types, so this module imports nothing of the package:
that keeps ``schema.experiment → policy → schema`` free of cycles. Reading YAML, resolving
references and reporting errors with file and line is :mod:`wpi_abm.config`'s job.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""An amount in million yen (M yen); never negative."""

Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
"""A probability in [0, 1]."""

Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
"""A share (a part of a whole) in [0, 1]. A ratio that may exceed the whole is not a share."""

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Real = Annotated[float, Field(allow_inf_nan=False)]
Year = Annotated[int, Field(ge=1, le=200)]
"""A support year: 1 is the first year of a centre's support."""


class Strict(BaseModel):
    """Rejects unknown keys; frozen, so that a run cannot alter its configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class FieldError(ValueError):
    """A validator's error about one key below the model that raises it.

    A model validator sees the whole model, so pydantic places its errors at the model itself
    (in a file, the model's first line). Raising this instead names the key at fault, so that
    :func:`wpi_abm.validation.validation_errors` can point at that key's own line.

    Args:
        loc: Path of the offending key relative to the model, e.g. ``("segments", 1, "from_year")``.
        message: What is wrong and what is allowed.
    """

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        self.loc = tuple(loc)
        super().__init__(message)


def did_you_mean(word: object, allowed: Iterable[object]) -> str:
    """``"; did you mean 'x'?"`` when ``word`` is close to one of ``allowed``, else ``""``."""
    close = difflib.get_close_matches(str(word), [str(a) for a in allowed], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def one_of(word: object, allowed: Iterable[object], noun: str) -> str:
    """The message for a word outside a closed vocabulary: what it is, a guess, what is allowed."""
    allowed = list(allowed)
    return (
        f"unknown {noun} '{word}'{did_you_mean(word, allowed)} "
        f"(allowed: {', '.join(str(a) for a in allowed) or 'none'})"
    )
