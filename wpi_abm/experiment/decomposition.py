"""``wpi-abm decompose FROM TO``: how much of the difference between two designs each element makes.

The design elements in which TO differs from FROM (:func:`wpi_abm.decompose.elements`) give 2^k
designs: FROM itself (no element switched), TO itself (all switched) and every hybrid between
(:func:`wpi_abm.decompose.hybrid`). They run as one ordinary experiment — the same driver,
executors, chunks, resume and results folder as ``wpi-abm run``, outcomes only — so every design
of a replicate shares that replicate's seed (common random numbers). Then, per replicate, each
headline outcome of :func:`wpi_abm.outcomes.decomposed` is averaged over the centres of each
design's run, and each element's Shapley contribution is computed from those 2^k values
(:func:`wpi_abm.decompose.shapley`). The contributions add up to TO − FROM in every replicate,
so their means add up to the mean difference; each gets a paired 95% t interval over replicates.

``decomposition.csv`` holds one row per (outcome, element) and a ``total`` row per outcome, with
FROM's and TO's levels; ``figures/decomposition.{pdf,png}`` is the waterfall.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from pydantic import ValidationError

from wpi_abm.config import parse_set
from wpi_abm.decompose import (
    DECOMPOSITION,
    LABELS,
    element_of,
    elements,
    hybrid,
    shapley,
    subsets,
)
from wpi_abm.errors import ConfigError, ResultsError
from wpi_abm.experiment.analysis import available, paired_difference, per_run, run_sums
from wpi_abm.experiment.driver import ExperimentResult, run_experiment
from wpi_abm.experiment.executors import Executor
from wpi_abm.experiment.store import FIGURES, OUTCOMES, ResultFolder, write_file
from wpi_abm.outcomes import Outcome, decomposed
from wpi_abm.policy import PolicyDesign
from wpi_abm.schema.experiment import Experiment
from wpi_abm.validation import validation_errors
from wpi_abm.yamlio import SourceMap

DEFAULT_REPLICATES = 100
"""Replicates when neither the command line nor ``--set replicates=`` says: intervals of about ±1
percentage point on each element's share of P(decline), and a few minutes for the 64 designs
between ``legacy`` and ``reform_2024`` on two cores (README)."""
TOTAL = "total"
"""The ``element`` of the row holding TO − FROM."""
KIND = "decompose"
"""The manifest's ``kind`` of a decomposition folder."""
COLUMNS = (
    "outcome", "element", "label", "contribution", "ci_low", "ci_high", "replicates",
    "from_level", "to_level",
)  # fmt: skip
"""The columns of ``decomposition.csv``."""


@dataclass(frozen=True)
class Plan:
    """The designs of a decomposition.

    Attributes:
        start: FROM.
        end: TO.
        names: The elements in which they differ, in :data:`wpi_abm.decompose.ELEMENTS` order.
        designs: Every subset of ``names`` → the design with those elements switched to TO's
            (the empty subset is FROM itself, the full one TO itself).
    """

    start: PolicyDesign
    end: PolicyDesign
    names: list[str]
    designs: dict[frozenset[str], PolicyDesign]


@dataclass
class DecompositionResult:
    """What :func:`decompose` produced.

    Attributes:
        plan: The designs.
        table: ``decomposition.csv``.
        run: The experiment's result (folder, summary, failures).
        figures: Figure files written.
    """

    plan: Plan
    table: pd.DataFrame
    run: ExperimentResult
    figures: list[str]


def _design(exp: Experiment, name: str, argument: str) -> PolicyDesign:
    """A design by name: the experiment's own (with its overrides), else built-in or a YAML path."""
    if name in exp.policies:
        return exp.policies[name]
    from wpi_abm.config import load_policy

    try:
        return load_policy(name)
    except ConfigError as exc:
        raise ConfigError(
            f"{argument} '{name}' is neither a policy of the experiment "
            f"({', '.join(exp.policies)}) nor a built-in design or policy file: {exc.message}",
            field=argument,
        ) from None


def plan(exp: Experiment, start: str, end: str) -> Plan:
    """Every design between ``start`` and ``end``.

    Raises:
        ConfigError: A name is unknown, or the two designs differ in no element.
    """
    a, b = _design(exp, start, "FROM"), _design(exp, end, "TO")
    names = elements(a, b)
    if not names:
        raise ConfigError(
            f"'{start}' and '{end}' differ in no design element (amounts, years paid, matching, "
            "evaluations, growth plan, flexibility, foresight, hosts): nothing to decompose",
            field="TO",
        )
    full = frozenset(names)
    designs = {s: a if not s else b if s == full else hybrid(a, b, s) for s in subsets(names)}
    return Plan(a, b, names, designs)


def experiment(exp: Experiment, tree: dict[str, Any], p: Plan) -> tuple[Experiment, dict]:
    """The experiment that runs every design of ``p`` (outcomes only, no figures).

    Its resolved tree lists the designs themselves, so the manifest records them and a resumed
    decomposition is recognised as the same experiment.

    Raises:
        ConfigError: A hybrid does not fit the experiment (e.g. an evaluation beyond its horizon).
    """
    tree = copy.deepcopy(tree)
    tree["policies"] = {d.name: d.model_dump(mode="json") for d in p.designs.values()}
    if exp.uncertainty.kind == "posterior":
        from wpi_abm.experiment.uncertainty import load

        keys = load(exp).keys
        tree["uncertainty"] = {**tree.get("uncertainty", {}), "inherit": inherited(p, keys)}
    tree["baseline_policy"] = p.start.name
    tree["output"] = {**tree.get("output", {}), "panel": False, "figures": False}
    try:
        return Experiment.model_validate(tree), tree
    except ValidationError as exc:
        first = validation_errors(exc, SourceMap(), Experiment, tree).errors[0]
        raise ConfigError(
            f"the designs between {p.start.name} and {p.end.name} do not fit the experiment: "
            f"{first.message}",
            field=first.field,
        ) from None


def inherited(p: Plan, keys: tuple[str, ...]) -> dict[str, str]:
    """Which posterior values each hybrid takes from FROM or TO (``uncertainty.inherit``).

    A posterior may calibrate a design's own values (the shipped one: ``legacy``'s interim pass
    score). A hybrid that takes that element from the design must draw the same value in the
    same run, or the element's contribution would mix in the difference between the calibrated
    and the written value.

    Raises:
        ConfigError: A posterior column sets a design's segments, which hybrids split at the end
            of the base years: no single hybrid value corresponds.
    """
    out: dict[str, str] = {}
    for key in keys:
        path = parse_set(f"{key}=")[0]
        if len(path) < 3 or path[0] != "policies" or path[1] not in (p.start.name, p.end.name):
            continue
        element = element_of(str(path[2]))
        if element is None:
            raise ConfigError(
                f"the posterior calibrates '{key}', which the hybrids between {p.start.name} and "
                f"{p.end.name} cannot inherit (only matching, evaluations, growth_plan, "
                "flexibility, foresight and hosts_per_centre can); decompose with --set "
                "uncertainty.kind=none or a posterior without it",
                field="uncertainty.posterior",
            )
        rest = key.split(".", 2)[2]
        for switched, design in p.designs.items():
            side = p.end if element in switched else p.start
            if design.name not in (p.start.name, p.end.name) and side.name == path[1]:
                out[f"policies.{design.name}.{rest}"] = key
    return out


def contributions(sums: pd.DataFrame, p: Plan) -> pd.DataFrame:
    """Each element's contribution to each headline outcome, from per-run sums.

    Args:
        sums: Per-run sums (:func:`wpi_abm.experiment.analysis.run_sums`) of every design's runs.
        p: The designs.

    Returns:
        :data:`COLUMNS`: per outcome, one row per element (mean Shapley contribution over
        replicates, paired 95% t interval) and a :data:`TOTAL` row (TO − FROM); ``replicates``
        counts the replicates used (those where the outcome is defined for every design), and
        ``from_level`` / ``to_level`` are FROM's and TO's mean over them.
    """
    by_name = {s: d.name for s, d in p.designs.items()}
    full = frozenset(p.names)
    rows = []
    for o in _headline(sums):
        wide = sums.assign(value=per_run(sums, o)).pivot(
            index="replicate", columns="policy", values="value"
        )
        wide = wide.reindex(columns=list(by_name.values()))
        # A replicate counts for an outcome only where every design has it (a failed run, or an
        # end of support too late for the window), so the contributions still add up.
        wide = wide[wide.notna().all(axis=1)]
        values = {s: wide[name].to_numpy(float) for s, name in by_name.items()}
        phi = shapley(values, p.names)
        levels = {
            "replicates": len(wide),
            "from_level": _mean(values[frozenset()]),
            "to_level": _mean(values[full]),
        }
        parts = [(e, LABELS[e], phi[e]) for e in p.names]
        total = values[full] - values[frozenset()]
        parts.append((TOTAL, f"{p.end.display} − {p.start.display}", total))
        for element, label, per_replicate in parts:
            mean, low, high = paired_difference(per_replicate)
            rows.append(
                {
                    "outcome": o.name, "element": element, "label": label, "contribution": mean,
                    "ci_low": low, "ci_high": high, **levels,
                }
            )  # fmt: skip
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _headline(sums: pd.DataFrame) -> list[Outcome]:
    held = {o.name for o in available(sums)}
    return [o for o in decomposed() if o.name in held]


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if len(x) else float("nan")


def additivity_gap(table: pd.DataFrame) -> float:
    """The largest |Σ element contributions − total| over the outcomes (0 up to rounding)."""
    gaps = []
    for _, g in table.groupby("outcome", sort=False):
        total = g["element"] == TOTAL
        gaps.append(abs(g.loc[~total, "contribution"].sum() - g.loc[total, "contribution"].sum()))
    return float(np.nanmax(gaps)) if gaps else 0.0


def read_sums(out: Path) -> pd.DataFrame:
    """Per-run sums of every stored outcome chunk of ``out``."""
    files = ResultFolder(out).chunk_files(OUTCOMES)
    if not files:
        return pd.DataFrame()
    return pd.concat([run_sums(pq.read_table(f)) for f in files], ignore_index=True)


def prepare(
    exp: Experiment, tree: dict[str, Any], start: str, end: str
) -> tuple[Plan, Experiment, dict[str, Any]]:
    """The designs between ``start`` and ``end`` and the experiment that runs them.

    Raises:
        ConfigError: Unknown designs, designs that do not differ, or hybrids that do not fit.
    """
    p = plan(exp, start, end)
    return (p, *experiment(exp, tree, p))


def stored_plan(exp: Experiment) -> Plan:
    """The plan of a decomposition experiment read back from its folder (to resume it).

    Its policies are the designs in :func:`plan`'s order: FROM first, TO last.

    Raises:
        ResultsError: The experiment is not the set of designs between its first and last policy.
    """
    designs = list(exp.policies.values())
    start, end = designs[0], designs[-1]
    names = elements(start, end)
    every = subsets(names)
    if len(every) != len(designs) or len(designs) < 2:
        raise ResultsError(
            f"the folder's {len(designs)} policies are not the designs between "
            f"'{start.name}' and '{end.name}'; it cannot be resumed as a decomposition"
        )
    return Plan(start, end, names, dict(zip(every, designs, strict=True)))


def decompose(
    p: Plan,
    exp: Experiment,
    tree: dict[str, Any],
    executor: Executor,
    out: Path,
    *,
    resume: bool = False,
    progress: bool = True,
    figures: bool = True,
    invocation: dict[str, Any] | None = None,
) -> DecompositionResult:
    """Run every design of ``p`` into ``out`` and decompose the difference.

    Args:
        p: The designs (:func:`prepare`, or :func:`stored_plan` to resume).
        exp: The experiment that runs them (:func:`prepare`).
        tree: Its resolved configuration.
        executor: Where runs execute (entered by the caller).
        out: The results folder.
        resume: Continue an interrupted decomposition in ``out``.
        progress: Show a progress bar.
        figures: Draw the waterfall.
        invocation: The command line, recorded so that the folder alone can resume it.

    Raises:
        ResultsError: ``out`` cannot be used.
    """
    result = run_experiment(
        exp, tree, executor, out, resume=resume, progress=progress, figures=False,
        kind=KIND, invocation=invocation,
    )  # fmt: skip
    table = contributions(read_sums(out), p)
    write_file(Path(out) / DECOMPOSITION, table.to_csv(index=False).encode())
    made: list[str] = []
    if figures and not table.empty:
        from wpi_abm.plots.waterfall import draw_waterfall

        made = draw_waterfall(Path(out) / FIGURES, table, p.start.display, p.end.display)
    return DecompositionResult(p, table, result, made)
