"""Design elements, hybrid designs and Shapley contributions (exact values)."""

from __future__ import annotations

import numpy as np
import pytest

from wpi_abm.config import load_policy
from wpi_abm.decompose import elements, hybrid, shapley, subsets
from wpi_abm.schedule import GateRecord, compile_schedule


@pytest.fixture(scope="module")
def legacy():
    return load_policy("legacy")


@pytest.fixture(scope="module")
def reform():
    return load_policy("reform_2024")


def owed(design, years: int = 16) -> list[float]:
    s = compile_schedule(design, years, 0, 0.5)
    return [s.plan(GateRecord({})).amount_at(y) for y in range(1, years + 1)]


def test_elements_that_differ_between_legacy_and_the_reform(legacy, reform):
    assert elements(legacy, reform) == [
        "extra_years", "matching", "evaluations", "growth_plan", "flexibility", "foresight",
    ]  # fmt: skip
    assert elements(legacy, legacy) == []
    assert elements(legacy, load_policy("flat_15")) == ["extra_years", "evaluations"]
    assert "amounts" in elements(legacy, load_policy("taper"))


def test_hybrids_take_each_element_from_one_side(legacy, reform):
    own = {"name", "label", "label_ja"}  # a hybrid is named and labelled as one
    assert hybrid(legacy, reform, []).model_dump(exclude=own) == legacy.model_dump(
        exclude=own | {"description", "sources"}
    ) | {"description": "", "sources": []}
    full = hybrid(legacy, reform, elements(legacy, reform))
    assert full.segments == reform.segments
    assert full.evaluations == reform.evaluations and full.matching == reform.matching
    assert full.growth_plan == reform.growth_plan and full.flexibility == reform.flexibility
    # Extra years without the matching rule pay nothing; without the certification gate they
    # are not gated.
    extra = hybrid(legacy, reform, ["extra_years"])
    tail = next(s for s in extra.segments if s.from_year == 11)
    assert tail.matching is False and tail.gate is None
    with_matching = hybrid(legacy, reform, ["extra_years", "matching"])
    tail = next(s for s in with_matching.segments if s.from_year == 11)
    assert tail.matching is True and tail.gate is None
    gated = hybrid(legacy, reform, ["extra_years", "matching", "evaluations"])
    assert next(s for s in gated.segments if s.from_year == 11).gate == "certification"


def test_hybrid_schedules_split_at_the_base_years():
    taper, flat15 = load_policy("taper"), load_policy("flat_15")
    legacy = load_policy("legacy")
    # Taper's amounts in legacy's years 1-10, and legacy's (none) beyond.
    assert owed(hybrid(legacy, taper, ["amounts"]))[:11] == [700.0] * 5 + [
        665.0, 595.0, 525.0, 455.0, 385.0, 0.0,
    ]  # fmt: skip
    assert owed(hybrid(legacy, taper, ["extra_years"]))[9:16] == [
        700.0, 315.0, 245.0, 175.0, 105.0, 35.0, 0.0,
    ]  # fmt: skip
    assert owed(hybrid(legacy, flat15, ["extra_years"]))[9:16] == [700.0] * 6 + [0.0]


def test_shapley_contributions_add_up_in_every_replicate():
    names = ["a", "b", "c"]
    rng = np.random.default_rng(1)
    values = {s: rng.normal(size=5) for s in subsets(names)}
    phi = shapley(values, names)
    total = values[frozenset(names)] - values[frozenset()]
    assert np.allclose(sum(phi.values()), total)
    # An additive game: each element's contribution is its own effect.
    additive = {s: np.array([sum({"a": 1.0, "b": 2.0, "c": -4.0}[e] for e in s)]) for s in values}
    assert {k: float(v[0]) for k, v in shapley(additive, names).items()} == pytest.approx(
        {"a": 1.0, "b": 2.0, "c": -4.0}
    )
    # Pure interaction of a and b (only both together): split equally, c gets nothing.
    both = {s: np.array([6.0 if {"a", "b"} <= s else 0.0]) for s in values}
    assert {k: float(v[0]) for k, v in shapley(both, names).items()} == pytest.approx(
        {"a": 3.0, "b": 3.0, "c": 0.0}
    )
