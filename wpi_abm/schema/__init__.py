"""What the configuration files may hold: pydantic models only, no file reading.

This package holds the shared base types every model uses (below); the experiment's own models are
in :mod:`wpi_abm.schema.experiment` and the sweep file's in :mod:`wpi_abm.schema.sweep`. The
building blocks' models live beside the code that uses them (:mod:`wpi_abm.policy`,
:mod:`wpi_abm.cohort`, :mod:`wpi_abm.parameters`) and import these types, so this module imports
nothing of the package: that keeps ``schema.experiment → policy → schema`` free of cycles. Reading
YAML, resolving references and reporting errors with file and line is :mod:`wpi_abm.config`'s job.
"""

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
