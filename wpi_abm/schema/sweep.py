"""The sweep file's models: a base experiment, the parameters to vary, and how to choose points.

``wpi-abm sweep`` and ``wpi-abm sensitivity`` read one :class:`SweepSpec`;
:mod:`wpi_abm.experiment.sweep` turns it into points and runs them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

import numpy as np
from pydantic import Field, model_validator

from wpi_abm.outcomes import sensitivity_outputs
from wpi_abm.schema import Strict
from wpi_abm.schema.experiment import ClusterSpec

Design = Literal["grid", "lhs", "sobol", "morris"]
DESIGNS: tuple[str, ...] = get_args(Design)
"""How points are chosen: every combination, Latin hypercube, Saltelli (Sobol), Morris."""
Method = Literal["sobol", "morris"]
RANKED_BY: dict[str, str] = {"sobol": "ST", "morris": "mu_star"}
"""The index by which each sensitivity method ranks parameters (a column of sensitivity.csv)."""
Output = Literal[*sensitivity_outputs()]
"""A summary outcome a sensitivity study may analyse (flagged in :mod:`wpi_abm.outcomes`)."""


class ParameterSpec(Strict):
    """How one parameter varies.

    Attributes:
        values: Explicit values (grid designs only).
        range: [low, high] (all designs; a grid also needs ``steps``).
        steps: Evenly spaced values over the range, for a grid.
        integer: Round sampled values to whole numbers.
    """

    values: list[Any] | None = Field(default=None, min_length=1)
    range: tuple[float, float] | None = None
    steps: Annotated[int, Field(ge=2, le=1000)] | None = None
    integer: bool = False

    @model_validator(mode="after")
    def _check(self) -> ParameterSpec:
        if (self.values is None) == (self.range is None):
            raise ValueError("give either 'values' or 'range' (not both)")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range {list(self.range)} must be [low, high] with low < high")
        if self.steps is not None and self.range is None:
            raise ValueError("'steps' goes with 'range'")
        return self

    def grid_values(self) -> list[Any]:
        """The values a grid takes."""
        if self.values is not None:
            return list(self.values)
        assert self.range is not None
        vals = np.linspace(self.range[0], self.range[1], self.steps or 2).tolist()
        return [round(v) for v in vals] if self.integer else vals


class SweepSpec(Strict):
    """A sweep or sensitivity study (``wpi-abm sweep`` / ``wpi-abm sensitivity``).

    Attributes:
        name: Names the results folder.
        description: What the study asks.
        experiment: Base experiment: built-in name or path relative to this file.
        set: Overrides of the base experiment (dotted keys, as ``--set``).
        policies: Policies to run (default: the base experiment's).
        replicates: Runs per point and policy (default: the base's).
        seed: Root seed (default: the base's).
        design: How points are chosen.
        samples: Points (lhs), base sample N (sobol), trajectories (morris).
        levels: Grid levels of a Morris design.
        design_seed: Seed of the sampler (lhs, sobol scrambling, morris).
        parameters: dotted key → how it varies.
        store: ``outcomes`` (per centre-run outcomes only) or ``panel`` (also centre × year).
        chunk_runs: Runs per stored chunk.
        methods: For ``wpi-abm sensitivity``: ``sobol`` and/or ``morris``.
        outputs: For ``wpi-abm sensitivity``: which summary measures to analyse.
        model: ``wpi`` (the simulator) or ``ishigami`` (an analytic test function with known
            indices, to validate the sensitivity pipeline).
        cluster: Start a batch-system cluster for the Dask executor.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    experiment: str = "policy_comparison"
    set: dict[str, Any] = {}
    policies: list[str] | None = None
    replicates: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] | None = None
    design: Design = "grid"
    samples: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    levels: Annotated[int, Field(ge=2, le=100)] = 4
    design_seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    store: Literal["outcomes", "panel"] = "outcomes"
    chunk_runs: Annotated[int, Field(ge=1, le=100_000)] = 50
    methods: list[Method] = Field(default=["sobol"], min_length=1)
    outputs: list[Output] = list(sensitivity_outputs())
    model: Literal["wpi", "ishigami"] = "wpi"
    cluster: ClusterSpec | None = None

    @model_validator(mode="after")
    def _check(self) -> SweepSpec:
        if self.design == "grid":
            for key, p in self.parameters.items():
                if p.values is None and p.steps is None:
                    raise ValueError(f"grid parameter '{key}' has a range but no 'steps'")
        else:
            for key, p in self.parameters.items():
                if p.range is None:
                    raise ValueError(
                        f"a {self.design} design samples ranges: give '{key}' a 'range', "
                        "not 'values'"
                    )
            if self.samples is None:
                raise ValueError(f"a {self.design} design needs 'samples'")
        if self.design == "sobol" and self.samples and self.samples & (self.samples - 1):
            raise ValueError(
                f"Sobol sampling needs 'samples' to be a power of 2 (got {self.samples})"
            )
        return self

    def ranges(self) -> list[tuple[float, float]]:
        """Parameter ranges in order (sampled designs)."""
        return [p.range for p in self.parameters.values()]  # type: ignore[misc]
