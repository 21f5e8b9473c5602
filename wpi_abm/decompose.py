"""Which element of a design does the work: hybrid designs and Shapley contributions.

Between two designs FROM and TO, each *element* that differs — the amounts in FROM's support
years, the years paid beyond them, the matching rule, the evaluations (and the gates they open,
such as certification), the growth plan, flexibility, foresight, hosts per centre — is switched
from FROM's version to TO's one at a time. A *hybrid* design takes TO's version of the elements in
a subset and FROM's of the others; run on common random numbers, every hybrid's outcome per
replicate gives each element's Shapley contribution (its marginal effect averaged over every order
of switching), which adds up exactly to TO − FROM in every replicate.

This module holds the policy side (elements, hybrids, the Shapley sum); running the hybrids and
the intervals are in :mod:`wpi_abm.experiment.decomposition`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from wpi_abm.policy import FOREVER, PolicyDesign, Segment

DECOMPOSITION = "decomposition.csv"
"""The file ``wpi-abm decompose`` writes into its results folder (one row per outcome × element)."""

ELEMENTS = (
    "amounts",
    "extra_years",
    "matching",
    "evaluations",
    "growth_plan",
    "flexibility",
    "foresight",
    "hosts",
)
"""Design elements, in the order they are listed."""

LABELS = {
    "amounts": "amounts in the base years",
    "extra_years": "years beyond the base",
    "matching": "matching rule",
    "evaluations": "evaluations and gates (certification)",
    "growth_plan": "growth & development plan",
    "flexibility": "flexibility",
    "foresight": "foresight (yearly follow-up)",
    "hosts": "hosts per centre",
}
"""What each element is, for tables and figures."""

_FIELDS = {
    "matching": "matching",
    "evaluations": "evaluations",
    "growth_plan": "growth_plan",
    "flexibility": "flexibility",
    "foresight": "foresight",
    "hosts": "hosts_per_centre",
}


def element_of(field: str) -> str | None:
    """The element a design field belongs to.

    None for ``segments`` (split between two elements) and the descriptive fields, which a
    hybrid does not inherit.
    """
    return next((name for name, f in _FIELDS.items() if f == field), None)


def base_years(design: PolicyDesign) -> int | None:
    """The last year ``design`` pays subsidy (None: it never ends): the base/extra boundary."""
    return design.last_year()


def _clip(seg: Segment, lo: int, hi: int | None) -> Segment | None:
    """The part of ``seg`` in years lo..hi (hi None: no upper limit), or None if empty."""
    start = max(seg.from_year, lo)
    if seg.to_year == FOREVER:
        end: int | str = FOREVER if hi is None else hi
    else:
        end = seg.to_year if hi is None else min(seg.to_year, hi)
    if end != FOREVER and start > end:
        return None

    def part(value: Any) -> Any:
        if isinstance(value, list):
            first = start - seg.from_year
            return value[first : first + (end - start + 1)]
        return value

    doc = seg.model_dump()
    doc.update(from_year=start, to_year=end, amount=part(seg.amount), otherwise=part(seg.otherwise))
    return Segment.model_validate(doc)


def _segments(design: PolicyDesign, lo: int, hi: int | None) -> list[Segment]:
    return [c for s in design.segments if (c := _clip(s, lo, hi)) is not None]


def elements(start: PolicyDesign, end: PolicyDesign) -> list[str]:
    """The elements in which ``end`` differs from ``start`` (in :data:`ELEMENTS` order)."""
    cut = base_years(start)
    out = []
    for name in ELEMENTS:
        if name == "amounts":
            hi = cut if cut is not None else None
            differs = _dump(_segments(start, 1, hi)) != _dump(_segments(end, 1, hi))
        elif name == "extra_years":
            differs = cut is not None and (
                _dump(_segments(start, cut + 1, None)) != _dump(_segments(end, cut + 1, None))
            )
        else:
            field = _FIELDS[name]
            differs = _plain(getattr(start, field)) != _plain(getattr(end, field))
        if differs:
            out.append(name)
    return out


def hybrid(start: PolicyDesign, end: PolicyDesign, switched: Iterable[str]) -> PolicyDesign:
    """``start`` with the elements in ``switched`` taken from ``end``.

    Segments keep a gate only if the hybrid has the evaluation that opens it (evaluated before
    the gated years); without it they are paid unconditionally. Segments pay matching only if the
    hybrid has a matching rule.
    """
    switched = set(switched)
    unknown = switched - set(ELEMENTS)
    if unknown:
        raise ValueError(f"unknown design elements {sorted(unknown)}; known: {list(ELEMENTS)}")
    cut = base_years(start)

    def side(name: str) -> PolicyDesign:
        return end if name in switched else start

    if cut is None:
        segments = _segments(side("amounts"), 1, None)
    else:
        segments = _segments(side("amounts"), 1, cut) + _segments(
            side("extra_years"), cut + 1, None
        )
    doc: dict[str, Any] = {
        field: _plain(getattr(side(name), field)) for name, field in _FIELDS.items()
    }
    evaluated = {e["name"]: e["year"] for e in doc["evaluations"]}
    segs = []
    for seg in segments:
        s = seg.model_dump()
        if s["gate"] is not None and evaluated.get(s["gate"], math.inf) >= s["from_year"]:
            s.update(gate=None, otherwise=0.0)
        if s["matching"] and doc["matching"] is None:
            s["matching"] = False
        segs.append(s)
    bits = "".join("1" if e in switched else "0" for e in ELEMENTS)
    return PolicyDesign.model_validate(
        {
            **doc,
            "name": f"{start.name}_to_{end.name}_{bits}",
            "label": f"{start.display} + {', '.join(sorted(switched)) or 'nothing'} "
            f"of {end.display}",
            "segments": segs,
        }
    )


def subsets(names: list[str]) -> list[frozenset[str]]:
    """Every subset of ``names`` (2^k), smallest first."""
    return [frozenset(c) for k in range(len(names) + 1) for c in itertools.combinations(names, k)]


def shapley(values: Mapping[frozenset[str], np.ndarray], names: list[str]) -> dict[str, np.ndarray]:
    """Each element's Shapley contribution, per replicate.

    Args:
        values: Outcome per replicate (arrays of equal length) for every subset of ``names``.
        names: The elements.

    Returns:
        element → contribution per replicate; the contributions add up to
        ``values[all] - values[none]`` in every replicate.
    """
    n = len(names)
    out = {}
    for name in names:
        total = 0.0
        others = [e for e in names if e != name]
        for s in subsets(others):
            weight = math.factorial(len(s)) * math.factorial(n - len(s) - 1) / math.factorial(n)
            total = total + weight * (values[s | {name}] - values[s])
        out[name] = np.asarray(total, dtype=float)
    return out


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [v.model_dump() if hasattr(v, "model_dump") else v for v in value]
    return value.model_dump() if hasattr(value, "model_dump") else value


def _dump(segments: list[Segment]) -> list[dict]:
    """Segments as data, without what other elements govern (matching flags, gates)."""
    return [
        {k: v for k, v in s.model_dump().items() if k not in ("matching", "gate", "otherwise")}
        for s in segments
    ]
