"""The columnar population: priority order, grouped selections (exact values)."""

from __future__ import annotations

import numpy as np
import pytest

from wpi_abm.config import load_block
from wpi_abm.parameters import Parameters
from wpi_abm.sim.population import (
    PERMANENT,
    PI,
    POSTDOC,
    RESEARCHER,
    STAFF,
    Population,
    grouped_cumsum,
)


@pytest.fixture
def pop() -> Population:
    """Centre 0: a soft PI, researcher, postdoc and staff member, and a host-funded researcher;
    centre 1: one soft postdoc. Salaries 13, 7.5, 5.0, 4.8 M yen."""
    p = Population(2, load_block("parameters", "default", Parameters))
    p.add(
        centre=np.array([0, 0, 0, 0, 0, 1]),
        rank=np.array([POSTDOC, PI, STAFF, RESEARCHER, RESEARCHER, POSTDOC]),
        foreign=np.zeros(6, bool),
        productivity=np.array([1.0, 1.0, 1.0, 1.0, 2.0, 1.0]),
        host=np.array([False, False, False, False, True, False]),
        contract_end=np.array([3, 3, 3, 3, PERMANENT, 3]),
    )
    return p


def test_rows_are_sorted_by_centre_then_priority(pop):
    assert pop.centre.tolist() == [0, 0, 0, 0, 0, 1]
    # PI, then researchers (more productive first), staff, postdoc
    assert pop.rank.tolist() == [PI, RESEARCHER, RESEARCHER, STAFF, POSTDOC, POSTDOC]
    assert pop.productivity[1:3].tolist() == [2.0, 1.0]


def test_grouped_selections(pop):
    soft = ~pop.host
    order = pop.priority_order(soft)
    assert order.tolist() == [0, 2, 3, 4, 5]
    # Within 21 M yen at centre 0: PI (13) + researcher (7.5) = 20.5; centre 1 gets 5.0 of 5.0.
    within = pop.prefix_within(order, np.array([21.0, 5.0]))
    assert np.flatnonzero(within).tolist() == [0, 2, 5]
    # Cut 6 M yen at centre 0, last in priority first: the postdoc (5.0) and the staff (4.8).
    cut = pop.prefix_covering(pop.priority_order(soft, reverse=True), np.array([6.0, 0.0]))
    assert np.flatnonzero(cut).tolist() == [3, 4]
    assert np.flatnonzero(pop.first_k(order, np.array([1, 0]))).tolist() == [0]
    assert grouped_cumsum(np.array([0, 0, 1]), np.array([1.0, 2.0, 3.0])).tolist() == [1, 3, 3]


def test_keep_and_counts(pop):
    pop.keep(pop.rank != STAFF)
    assert len(pop) == 5
    assert pop.counts().tolist() == [[1, 2, 1, 0], [0, 0, 1, 0]]
    assert pop.counts(pop.host).sum() == 1
