"""The calibration file: the base experiment, free parameters with priors, targets, the method.

A spec names every free parameter by dotted key into the resolved experiment (as ``--set`` and
sweeps do), with a prior range and its source (or "assumption"); and every target as data: a
measurement from :data:`wpi_abm.calibrate.targets.MEASURES`, a range and a source. Targets marked
``use: check`` are measured and reported but not fitted (back-tests). Errors name file, line and
field, like every other input of wpi-abm.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from wpi_abm.calibrate.targets import MEASURES
from wpi_abm.config import load_experiment
from wpi_abm.experiment.plan import Point
from wpi_abm.experiment.sweep import base_path, check_points
from wpi_abm.schema import Strict
from wpi_abm.schema.experiment import ClusterSpec, Experiment
from wpi_abm.validation import validate_block
from wpi_abm.yamlio import SourceMap, load_yaml

Positive = Annotated[int, Field(ge=1, le=1_000_000)]


class Prior(Strict):
    """A free parameter's prior.

    Attributes:
        prior: Its shape (``uniform`` on [low, high]).
        low: Lower bound.
        high: Upper bound.
        source: Where the range comes from, or "assumption".
    """

    prior: Literal["uniform"] = "uniform"
    low: float
    high: float
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Prior:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class TargetSpec(Strict):
    """A target: a named measurement, the range the model should reproduce, and its source.

    Attributes:
        measure: A name in the measurement registry (:mod:`wpi_abm.calibrate.targets`).
        low: Lower end of the target range.
        high: Upper end of the target range.
        source: Where the range comes from (facts section, document).
        use: ``fit`` (enters the distance) or ``check`` (only reported: a back-test).
        name: Label in the tables (default: the measurement's name).
    """

    measure: str
    low: float
    high: float
    source: str = Field(min_length=1)
    use: Literal["fit", "check"] = "fit"
    name: str | None = None

    @field_validator("measure")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in MEASURES:
            raise ValueError(f"unknown measure '{v}'; known: {', '.join(MEASURES)}")
        return v

    @model_validator(mode="after")
    def _check(self) -> TargetSpec:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    @property
    def label(self) -> str:
        """The target's name in tables and figures."""
        return self.name or self.measure


class MethodSpec(Strict):
    """ABC-SMC settings (see docs/ODD.md §7.14).

    Attributes:
        kind: ``abc-smc`` (sequential Monte Carlo approximate Bayesian computation).
        population: Particles accepted per generation (the posterior sample's size).
        generations: Most generations after the prior's.
        quantile: Share of particles kept each generation (α of Lenormand et al. 2013); each
            generation simulates population × (1/α − 1) new candidates, in one batch.
        epsilon_min: Stop once the tolerance reaches this (1 = every fitted target in its range).
        min_acceptance: Stop once fewer new candidates than this share beat the tolerance.
        max_simulations: Most candidate points in all (a budget; the run stops and says so).
        seed: Seed of the sampler (the simulations' seeds are the experiment's).
    """

    kind: Literal["abc-smc"] = "abc-smc"
    population: Annotated[int, Field(ge=4, le=100_000)] = 100
    generations: Annotated[int, Field(ge=1, le=100)] = 6
    quantile: Annotated[float, Field(gt=0, lt=1)] = 0.5
    epsilon_min: Annotated[float, Field(ge=0)] = 0.0
    min_acceptance: Annotated[float, Field(ge=0, lt=1)] = 0.05
    max_simulations: Positive = 5000
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0


class CalibrationSpec(Strict):
    """A calibration (``wpi-abm calibrate SPEC.yaml``).

    Attributes:
        name: Names the results folder.
        description: What is calibrated and why.
        experiment: Base experiment: built-in name or path relative to this file.
        set: Overrides of the base experiment (dotted keys, as ``--set``).
        policy: The policy simulated (the targets describe it).
        replicates: Runs per candidate point; the same replicate seeds for every candidate.
        seed: Root seed of the simulations (default: the base experiment's).
        parameters: dotted key → prior.
        targets: What the model should reproduce.
        method: The inference method's settings.
        cluster: Start a batch-system cluster for the Dask executor.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    experiment: str = "policy_comparison"
    set: dict[str, Any] = {}
    policy: str = "legacy"
    replicates: Positive = 16
    seed: Annotated[int, Field(ge=0, lt=2**63)] | None = None
    parameters: dict[str, Prior] = Field(min_length=1)
    targets: list[TargetSpec] = Field(min_length=1)
    method: MethodSpec = MethodSpec()
    cluster: ClusterSpec | None = None

    @model_validator(mode="after")
    def _check(self) -> CalibrationSpec:
        if not any(t.use == "fit" for t in self.targets):
            raise ValueError("at least one target needs 'use: fit'")
        labels = [t.label for t in self.targets]
        if len(set(labels)) < len(labels):
            raise ValueError("two targets share a name; give one of them a 'name'")
        return self

    @property
    def keys(self) -> list[str]:
        """The free parameters' dotted keys, in order."""
        return list(self.parameters)

    def bounds(self) -> np.ndarray:
        """Prior bounds, shape (parameters, 2)."""
        return np.array([[p.low, p.high] for p in self.parameters.values()])


def is_spec(raw: Any) -> bool:
    """Whether a loaded YAML file is a calibration spec (it lists targets) or an experiment."""
    return isinstance(raw, dict) and "targets" in raw


def load_spec(path: str | Path) -> tuple[CalibrationSpec, SourceMap]:
    """Read and validate a calibration file (errors name file, line and field)."""
    raw, smap = load_yaml(path)
    return validate_block(raw, smap, CalibrationSpec), smap


def build(
    path: str | Path, extra_sets: list[str] | None = None
) -> tuple[CalibrationSpec, Experiment, dict[str, Any]]:
    """The spec and its base experiment, with every prior's corners checked against the model.

    Args:
        path: The calibration file.
        extra_sets: ``--set`` overrides of the base experiment from the command line.

    Returns:
        (spec, experiment with only the spec's policy and the panel on, resolved tree).

    Raises:
        ConfigError: A bad file, base experiment, policy, or a prior bound the model rejects.
    """
    import json

    spec, smap = load_spec(path)
    sets = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in spec.set.items()]
    sets += [f"policies=[{spec.policy}]", f"replicates={spec.replicates}", "output.panel=true"]
    # A calibration fits the parameters: its candidates never draw them from a posterior.
    sets.append("uncertainty.kind=none")
    if spec.seed is not None:
        sets.append(f"seed={spec.seed}")
    sets += extra_sets or []
    exp, tree = load_experiment(base_path(spec.experiment, Path(path).parent), sets)
    # Each bound alone, the others at their low end: the model must accept both ends of every
    # prior before a single candidate runs (else the error would come from a worker, mid-run).
    lows = {k: p.low for k, p in spec.parameters.items()}
    corners = [lows] + [{**lows, k: p.high} for k, p in spec.parameters.items()]
    points = tuple(Point(i, v) for i, v in enumerate(corners))
    check_points(spec.keys, smap, exp, points)
    tree = {**tree, "name": spec.name, "calibration": spec.model_dump(mode="json")}
    return spec, exp.model_copy(update={"name": spec.name}), tree
