"""Shared pydantic base types for every configuration file."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""An amount in million yen (M yen); never negative."""

Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
"""A probability or share in [0, 1]."""

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Real = Annotated[float, Field(allow_inf_nan=False)]
Year = Annotated[int, Field(ge=1, le=200)]
"""A support year: 1 is the first year of a centre's support."""


class Strict(BaseModel):
    """Rejects unknown keys; frozen, so that a run cannot alter its configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
