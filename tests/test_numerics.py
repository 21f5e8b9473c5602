"""Numeric helpers: a lone world's one-row and one-column arrays round as in a batch."""

from __future__ import annotations

import numpy as np
import pytest

from wpi_abm.numerics import column_means, column_sums, matvec

SALARY = np.array([13.0, 6.3626648133555355, 5.0, 4.8])  # a posterior particle's researcher pay


def test_matvec_gives_a_row_the_same_float_alone_as_among_others():
    rng = np.random.default_rng(4)
    wanted = np.floor(rng.random((200, 4)) * 30)
    together = matvec(wanted, SALARY)
    assert np.array_equal(together, wanted @ SALARY)
    alone = np.array([matvec(wanted[i : i + 1], SALARY)[0] for i in range(len(wanted))])
    assert np.array_equal(alone, together)
    # What the helper is for: numpy's own one-row product rounds some rows differently here.
    dots = np.array([(wanted[i : i + 1] @ SALARY)[0] for i in range(len(wanted))])
    assert not np.array_equal(dots, together)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the mean of no rows is NaN, as in numpy
@pytest.mark.parametrize("rows", [0, 1, 2, 7, 16, 25, 40])
def test_column_sums_and_means_add_row_after_row_for_any_column_count(rows):
    rng = np.random.default_rng(rows)
    x = rng.random((rows, 3)) * np.exp(rng.normal(0.0, 4.0, (rows, 3)))
    assert np.array_equal(column_sums(x), x.sum(axis=0))
    assert np.array_equal(column_means(x), x.mean(axis=0), equal_nan=True)
    for c in range(3):
        one = x[:, c : c + 1]
        assert np.array_equal(column_sums(one), column_sums(x)[c : c + 1])
        assert np.array_equal(column_means(one), column_means(x)[c : c + 1], equal_nan=True)
