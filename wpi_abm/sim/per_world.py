"""The parameters that may differ between the worlds of one model: a posterior's particles.

With parameter uncertainty (:mod:`wpi_abm.experiment.uncertainty`) every draw group of replicates
takes its own posterior particle. Worlds of several particles can still be simulated as one model
— sharing the model's set-up and each year's fixed costs, which is most of the cost of a small
batch — when the particles differ only in the values listed in :data:`PER_WORLD`. Everything
else (the cohort, every other parameter, the design) is the model's, one value for all worlds.

:class:`PerWorld` holds those values per centre row (world-major, like every per-centre array of
:class:`~wpi_abm.sim.world.World`), and the mechanisms that read them read them here, never from
``world.params``:

- ``output.top10_base``: :class:`~wpi_abm.sim.population.Population` (a new person's top-10%
  probability);
- ``output.intl_base``: :mod:`~wpi_abm.sim.output`;
- ``recruitment.foreign_hire_base``: :mod:`~wpi_abm.sim.recruitment`;
- ``money.salary`` (every rank): the population's payrolls (:mod:`~wpi_abm.sim.kernels` read a
  salary table per centre row) and a centre's planned payroll and hiring cost;
- ``foundation.topup_share``: each foundation agent has its own world's parameters;
- an evaluation's ``pass_score``: :class:`~wpi_abm.sim.programme.Programme`.

A world's floats are the same whichever particles share its model: each value enters the same
elementwise operation as a single value would (``tests/test_model.py`` compares worlds of mixed
particles with each world alone). The list is what the packaged posterior varies; a posterior
with any other column is simulated one particle per model, as before
(:func:`varies_per_world`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wpi_abm.parameters import Parameters
from wpi_abm.policy import PolicyDesign

PER_WORLD = (
    r"parameters\.output\.top10_base",
    r"parameters\.output\.intl_base",
    r"parameters\.recruitment\.foreign_hire_base",
    r"parameters\.money\.salary\.(pi|researcher|postdoc|staff)",
    r"parameters\.foundation\.topup_share",
    r"policies\.[^.]+\.evaluations\[\d+\]\.pass_score",
)
"""Dotted keys (as ``--set`` and a posterior's columns name them) that may differ between the
worlds of one model."""

_PER_WORLD = re.compile("|".join(f"(?:{p})" for p in PER_WORLD))


def varies_per_world(key: str) -> bool:
    """Whether the worlds of one model may differ in the value at dotted ``key``."""
    return _PER_WORLD.fullmatch(key) is not None


@dataclass(frozen=True)
class PerWorld:
    """The values of :data:`PER_WORLD`, per centre row of the model.

    Attributes:
        top10_logit: ``log(top10_base / (1 − top10_base))``, per centre row.
        intl_base: Per centre row.
        foreign_hire_base: Per centre row.
        salary: (centre rows, ranks) salary by rank at each centre row (M yen).
        salary_groups: Each distinct salary table and the worlds that have it, in order of first
            appearance (one entry when every world has the same).
        pass_score: Evaluation name → the score to pass it, per centre row.
    """

    top10_logit: np.ndarray
    intl_base: np.ndarray
    foreign_hire_base: np.ndarray
    salary: np.ndarray
    salary_groups: tuple[tuple[np.ndarray, np.ndarray], ...]
    pass_score: dict[str, np.ndarray]

    @classmethod
    def of(
        cls,
        params: Sequence[Parameters],
        policies: Sequence[PolicyDesign] | None,
        n_centres: int,
    ) -> PerWorld:
        """The per-row values of worlds with these parameters and designs (one each).

        Without ``policies``, no pass scores (a population on its own needs none).

        Raises:
            ValueError: Two worlds differ in a value that is not in :data:`PER_WORLD` (such
                worlds cannot share a model), or the lists' lengths differ.
        """
        policies = list(policies) if policies is not None else []
        if not params or (policies and len(params) != len(policies)):
            raise ValueError("one Parameters and one PolicyDesign per world")
        _check_shared(params, policies)

        def rows(values: list[float]) -> np.ndarray:
            return np.repeat(np.asarray(values, dtype=float), n_centres)

        # A particle's values are computed once, as a single world computes them: the logit with
        # math.log (a Python float), the salary table as its own array.
        logit = {}
        tables: dict[tuple[float, ...], tuple[np.ndarray, list[int]]] = {}
        for w, p in enumerate(params):
            b = p.output.top10_base
            logit.setdefault(b, math.log(b / (1 - b)))
            key = p.money.salary.as_tuple()
            tables.setdefault(key, (np.asarray(key, dtype=float), []))[1].append(w)
        names = [e.name for e in policies[0].evaluations] if policies else []
        return cls(
            top10_logit=rows([logit[p.output.top10_base] for p in params]),
            intl_base=rows([p.output.intl_base for p in params]),
            foreign_hire_base=rows([p.recruitment.foreign_hire_base for p in params]),
            salary=np.repeat(
                np.stack([tables[p.money.salary.as_tuple()][0] for p in params]), n_centres, axis=0
            ),
            salary_groups=tuple((t, np.asarray(ws)) for t, ws in tables.values()),
            pass_score={
                name: rows([pol.evaluations[i].pass_score for pol in policies])
                for i, name in enumerate(names)
            },
        )


def _check_shared(params: Sequence[Parameters], policies: Sequence[PolicyDesign]) -> None:
    """Raise if two worlds differ in a value outside :data:`PER_WORLD`."""
    # A design is checked under a stand-in name: the pattern of a pass score names the policy.
    for prefix, items in (("parameters", params), ("policies.design", policies)):
        first = None
        for item in {id(x): x for x in items}.values():  # a particle's object repeats
            if item is items[0]:
                continue
            first = first if first is not None else _flat(items[0].model_dump(), prefix)
            flat = _flat(item.model_dump(), prefix)
            for key in first.keys() | flat.keys():
                if first.get(key, _ABSENT) != flat.get(key, _ABSENT) and not varies_per_world(key):
                    raise ValueError(
                        f"worlds of one model differ in {key}, which is the model's (one value "
                        "for all its worlds); only these may differ: " + ", ".join(PER_WORLD)
                    )


_ABSENT = object()


def _flat(tree: Any, prefix: str) -> dict[str, Any]:
    """A dumped model as dotted key → leaf value (list items as ``[i]``)."""
    out: dict[str, Any] = {}
    if isinstance(tree, dict):
        for k, v in tree.items():
            out.update(_flat(v, f"{prefix}.{k}"))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out.update(_flat(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = tree
    return out
