"""The compiled population loops give the numpy operations they replace, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from wpi_abm.config import load_block
from wpi_abm.parameters import Parameters
from wpi_abm.sim import elementary, kernels
from wpi_abm.sim.population import N_RANKS, RANK_PRIORITY, Population, grouped_cumsum

N_CENTRES = 7
SALARY = np.array([13.0, 7.5, 5.0, 4.8])
# Salary tables per centre row (worlds of one model may take different posterior particles): each
# centre's its own, so that a kernel reading another centre's table is caught.
SALARY_AT = SALARY * (1.0 + 0.1 * np.arange(N_CENTRES))[:, None]
PAPERS = np.array([4.0, 2.5, 2.2, 0.3])
GRANTS = np.array([6.0, 2.0, 0.7, 0.0])


@pytest.fixture
def rows() -> dict[str, np.ndarray]:
    """Rows sorted by centre (as the population keeps them), with random flags and weights."""
    rng = np.random.default_rng(11)
    n = 5_000
    rows = {
        "centre": np.sort(rng.integers(0, N_CENTRES - 1, n)).astype(np.int32),  # last one empty
        "rank": rng.integers(0, N_RANKS, n).astype(np.int8),
        "host": rng.random(n) < 0.3,
        "foreign": rng.random(n) < 0.2,
        "productivity": rng.lognormal(0.0, 0.5, n),
        "top10_q": rng.random(n) * 0.3,
        "mask": rng.random(n) < 0.8,
    }
    # What the population would store if it stored them (it computes them from the rank).
    rows["salary"] = SALARY_AT[rows["centre"], rows["rank"]]
    rows["effort"] = PAPERS[rows["rank"]] * rows["productivity"]
    rows["grant_rate"] = GRANTS[rows["rank"]] * rows["productivity"]
    return rows


def _bincount(centre, weights):
    return np.bincount(centre, weights=weights, minlength=N_CENTRES)


def test_sums_per_centre_are_bincounts(rows):
    c, w, m = rows["centre"], rows["effort"], rows["mask"]
    assert np.array_equal(kernels.sum_by_centre(c, w, N_CENTRES), _bincount(c, w))
    assert np.array_equal(kernels.sum_where(c, w, m, N_CENTRES), _bincount(c, w * m))
    counted = np.bincount(c[m], minlength=N_CENTRES).astype(float)
    assert np.array_equal(kernels.count_by_centre(c, m, N_CENTRES), counted)


def test_census_is_the_per_centre_sums(rows):
    r = rows
    soft, host_pay, counts, host_counts, foreign, effort, top10 = kernels.census(
        r["centre"], r["rank"], r["host"], r["foreign"], r["productivity"], r["top10_q"],
        SALARY_AT, PAPERS, N_CENTRES, N_RANKS,
    )  # fmt: skip
    cell = r["centre"] * N_RANKS + r["rank"]
    assert np.array_equal(soft, _bincount(r["centre"], r["salary"] * ~r["host"]))
    assert np.array_equal(host_pay, _bincount(r["centre"], r["salary"] * r["host"]))
    assert np.array_equal(counts.ravel(), np.bincount(cell, minlength=N_CENTRES * N_RANKS))
    expected_host = np.bincount(cell[r["host"]], minlength=N_CENTRES * N_RANKS)
    assert np.array_equal(host_counts.ravel(), expected_host)
    assert np.array_equal(foreign, np.bincount(r["centre"][r["foreign"]], minlength=N_CENTRES))
    assert np.array_equal(effort, _bincount(r["centre"], r["effort"]))
    assert np.array_equal(top10, _bincount(r["centre"], r["effort"] * r["top10_q"]))


def test_compact_keeps_the_masked_rows_in_order(rows):
    rng = np.random.default_rng(8)
    m = len(rows["centre"])
    columns = {
        "centre": rows["centre"], "rank": rows["rank"], "productivity": rows["productivity"],
        "contract_end": rng.integers(1, 12, m).astype(np.int32), "foreign": rows["foreign"],
        "host": rows["host"], "top10_q": rows["top10_q"], "leave_logit": rng.normal(-2, 1, m),
    }  # fmt: skip
    moved = {k: v.copy() for k, v in columns.items()}
    n = kernels.compact(rows["mask"], *moved.values())
    assert n == rows["mask"].sum()
    for k, v in columns.items():
        assert np.array_equal(moved[k][:n], v[rows["mask"]]), k


def _order(centre, rank, productivity):
    """The population's order by numpy: centre, rank priority, productivity (highest first)."""
    return np.lexsort((-productivity, RANK_PRIORITY[rank], centre))


def test_adding_people_is_a_stable_sort_of_old_and_new():
    """Three waves of arrivals (ties in productivity included) against concatenate + argsort."""
    rng = np.random.default_rng(5)
    pop = Population(N_CENTRES, load_block("parameters", "default", Parameters))
    columns = ("centre", "rank", "productivity", "foreign", "host", "contract_end")
    expected = {k: np.empty(0) for k in columns}
    for n in (300, 40, 250):
        new = {
            "centre": rng.integers(0, N_CENTRES, n).astype(np.int32),
            "rank": rng.integers(0, N_RANKS, n).astype(np.int8),
            "productivity": rng.choice([0.5, 1.0, 1.5, 2.0], n),
            "foreign": rng.random(n) < 0.2,
            "host": rng.random(n) < 0.3,
            "contract_end": rng.integers(1, 9, n).astype(np.int32),
        }
        pop.add(**new)
        both = {k: np.concatenate((expected[k], new[k])) for k in columns}
        order = _order(both["centre"], both["rank"].astype(int), both["productivity"])
        expected = {k: v[order] for k, v in both.items()}
        for k in columns:
            assert np.array_equal(getattr(pop, k), expected[k]), k
        # The columns computed on arrival moved with their people (row-wise functions of them).
        log_prod = elementary.log(pop.productivity)
        slope = pop.params.output.top10_talent_slope
        top10 = 1.0 / (1.0 + elementary.exp(-(pop._top10_a[pop.centre] + slope * log_prod)))
        assert np.array_equal(pop.top10_q, top10)
        r = pop.params.researchers
        leave = (
            pop._leave_base[pop.rank]
            + r.foreign_outside_option * pop.foreign
            + r.talent_outside_option * log_prod
        )
        assert np.array_equal(pop.leave_logit, leave)
        keep = rng.random(len(pop)) < 0.9
        pop.keep(keep)
        expected = {k: v[keep] for k, v in expected.items()}


def test_grouped_running_totals_are_grouped_cumsums(rows):
    order = np.flatnonzero(rows["mask"])
    c = rows["centre"]
    expected = grouped_cumsum(c[order], rows["salary"][order])
    assert np.array_equal(kernels.grouped_running(c, order, rows["rank"], SALARY_AT), expected)
    expected = grouped_cumsum(c[order], np.ones(len(order)))
    assert np.array_equal(kernels.grouped_position(c, order), expected)


def test_leave_logit_is_the_numpy_expression(rows):
    rng = np.random.default_rng(3)
    n = len(rows["centre"])
    base, ends = rng.normal(-2.0, 0.5, n), rng.integers(1, 12, n).astype(np.int32)
    insecurity, reputation = rng.random(N_CENTRES), rng.lognormal(0.0, 0.3, N_CENTRES)
    c, host = rows["centre"], rows["host"]
    exposure = np.where(ends < 6, 1.0, 0.4)
    felt = np.where(host, 0.0, insecurity[c] * exposure)
    expected = base + 2.5 * felt - 0.7 * (reputation[c] - 1.0)
    got = kernels.leave_logit(base, host, ends, c, insecurity, reputation, 6, 0.4, 2.5, 0.7)
    assert np.array_equal(got, expected)


def test_leaving_decided_on_the_grid_is_numpys_decision():
    """u < 1 / (1 + exp(-x)) over everyone, against the grid and numpy's exp for the rest.

    Near-ties (u one unit in the last place either side of numpy's probability), log-odds on
    and just off grid points, beyond the grid, infinite and NaN.
    """
    from wpi_abm.sim.departures import GRID_FROM, LOGISTIC_GRID, PER_STEP

    rng = np.random.default_rng(8)
    n = 20_000
    x = np.concatenate(
        (
            rng.normal(-2.5, 2.0, n),
            rng.uniform(-45.0, 45.0, n),
            np.arange(-41.0, 41.0, 1 / 64),  # every grid point and beyond
            np.nextafter(np.arange(-41.0, 41.0, 1 / 64), np.inf),
            [np.inf, -np.inf, np.nan, 0.0, -0.0, 40.0, -40.0],
        )
    )
    p = 1.0 / (1.0 + elementary.exp(-x))
    u = rng.random(len(x))
    tie = rng.random(len(x)) < 0.3
    u[tie] = p[tie]
    below, above = rng.random(len(x)) < 0.1, rng.random(len(x)) < 0.1
    u[below] = np.nextafter(p[below], -np.inf)
    u[above] = np.nextafter(p[above], np.inf)
    u = np.clip(u, 0.0, np.nextafter(1.0, 0.0))
    decided, unsettled = kernels.below_logistic(u, x, LOGISTIC_GRID, GRID_FROM, PER_STEP)
    assert len(unsettled) < 0.5 * len(x)  # most ties are close enough to be left to the exact exp
    decided[unsettled] = u[unsettled] < 1.0 / (1.0 + elementary.exp(-x[unsettled]))
    assert np.array_equal(decided, u < p)
    # Without forced ties, the grid settles all but a fraction of about 0.25 / PER_STEP.
    u = rng.random(n)
    _, unsettled = kernels.below_logistic(u, x[:n], LOGISTIC_GRID, GRID_FROM, PER_STEP)
    assert len(unsettled) < 0.01 * n


def test_exp_of_a_subset_is_the_subset_of_exp():
    """The fallback above computes exp on the unsettled rows only: elementwise the same floats."""
    rng = np.random.default_rng(9)
    for n in (1, 3, 17, 1000, 40_001):
        x = rng.normal(0.0, 5.0, n)
        idx = np.flatnonzero(rng.random(n) < 0.3)
        assert np.array_equal(elementary.exp(-x)[idx], elementary.exp(-x[idx]))


def test_expiring_contracts_and_their_payrolls(rows):
    rng = np.random.default_rng(4)
    c, salary, host, stay = rows["centre"], rows["salary"], rows["host"], rows["mask"]
    rank = rows["rank"]
    ends = rng.integers(1, 12, len(c)).astype(np.int32)
    expired, running, ended = kernels.expiring(c, rank, SALARY_AT, host, stay, ends, 6, N_CENTRES)
    soft = ~host & stay
    assert np.array_equal(expired, soft & (ends < 6))
    assert np.array_equal(running, _bincount(c, salary * (soft & ~expired)))
    assert np.array_equal(ended, _bincount(c, salary * expired))
    got = kernels.expiring(c[:0], rank[:0], SALARY_AT, host[:0], stay[:0], ends[:0], 6, N_CENTRES)
    assert len(got[0]) == 0 and not got[1].any() and not got[2].any()


def test_sums_of_amounts_by_rank_are_the_sums_of_the_columns(rows):
    """Salaries and grant rates read from the rank's amount: the floats of the stored columns."""
    c, rank, m, host = rows["centre"], rows["rank"], rows["mask"], rows["host"]
    assert np.array_equal(
        kernels.by_rank_where(c, rank, SALARY_AT, m, N_CENTRES), _bincount(c, rows["salary"] * m)
    )
    grants, soft_pay = kernels.grants_and_soft_pay(
        c, rank, rows["productivity"], GRANTS, SALARY_AT, m, host, N_CENTRES
    )
    assert np.array_equal(grants, _bincount(c, rows["grant_rate"] * m))
    assert np.array_equal(soft_pay, _bincount(c, rows["salary"] * (m & ~host)))
    empty = kernels.grants_and_soft_pay(
        c[:0], rank[:0], rows["productivity"][:0], GRANTS, SALARY_AT, m[:0], host[:0], N_CENTRES
    )
    assert not empty[0].any() and not empty[1].any()
    assert not kernels.by_rank_where(c[:0], rank[:0], SALARY_AT, m[:0], N_CENTRES).any()


def _open_posts_numpy(budget, counts, payroll, r, planned, salary):
    """What :meth:`Centre.open_posts` computed in numpy before its loops were compiled."""
    b = np.maximum(budget[r], 0.0)
    scale = (payroll[r] + b) / float(planned @ salary)
    wanted = planned * scale[:, None]
    wanted -= counts[r]
    np.floor(wanted, out=wanted)
    np.maximum(0.0, wanted, out=wanted)
    cost = wanted @ salary
    share = np.zeros_like(b)
    np.divide(b, cost, out=share, where=cost > 0)
    np.minimum(share, 1.0, out=share)
    wanted *= share[:, None]
    return np.floor(wanted, out=wanted).astype(np.int64)


def test_open_posts_is_the_numpy_arithmetic():
    """Budgets below zero, at zero and ample; centres over and under their plan; no posts wanted."""
    rng = np.random.default_rng(21)
    size, n_centres = 12 * 25, 12
    planned = np.array([3.0, 8.0, 14.0, 6.0])
    for _ in range(20):
        budget = rng.normal(20.0, 60.0, size)
        budget[rng.random(size) < 0.1] = 0.0
        payroll = rng.uniform(0.0, 400.0, size)
        counts = rng.integers(0, 40, (size, N_RANKS)).astype(float)
        for slot in (0, 5, 11):
            r = slice(slot, size, n_centres)
            expected = _open_posts_numpy(budget, counts, payroll, r, planned, SALARY)
            pp = np.full(size // n_centres, float(planned @ SALARY))
            b, wanted = kernels.wanted_posts(budget, counts, payroll, slot, n_centres, planned, pp)
            openings = np.full((size, N_RANKS), -1, dtype=np.int64)
            kernels.open_within(b, wanted, wanted @ SALARY, openings, slot, n_centres)
            assert np.array_equal(openings[r], expected)
            assert (np.delete(openings, np.arange(size)[r], axis=0) == -1).all()


def test_seeking_private_money_is_the_numpy_arithmetic():
    """Secured years read from a column of a table (strided), as the programme gives them."""
    rng = np.random.default_rng(22)
    size, n_centres = 12 * 25, 12
    secured = rng.integers(0, 15, (size, 20))[:, 7]
    incentive = rng.uniform(0.0, 1.5, size)
    for slot, year, started, push in ((0, 3, True, 1.0), (4, 9, True, 1.7), (11, 2, False, 1.0)):
        r = slice(slot, size, n_centres)
        seeking, pushed = np.zeros(size, dtype=bool), np.ones(size)
        kernels.seek(
            secured, incentive, seeking, pushed, slot, n_centres, year, 3, started, push, 0.4
        )
        assert np.array_equal(seeking[r], (secured[r] - year < 3) & started)
        assert np.array_equal(pushed[r], push * (1.0 + 0.4 * incentive[r]))
        others = np.delete(np.arange(size), np.arange(size)[r])
        assert not seeking[others].any() and (pushed[others] == 1.0).all()


def test_adding_a_hosts_terms_is_the_numpy_arithmetic():
    rng = np.random.default_rng(23)
    size, n_centres = 12 * 25, 12
    host_terms = rng.uniform(0.0, 50.0, (size, 5))
    expected = host_terms.copy()
    # A capacity share per world (a planned size is a payroll at the world's salaries).
    share = rng.uniform(0.2, 0.8, size // n_centres)
    one = np.ones_like(share)
    terms, factor = rng.uniform(0.0, 30.0, 5), np.column_stack((one, share, share, one, one))
    kernels.add_terms(host_terms, 7, n_centres, terms, factor)
    expected[7::n_centres] += terms * factor
    assert np.array_equal(host_terms, expected)


def test_the_order_keeps_every_digit_of_productivity_at_any_centre():
    """Two people of one centre whose productivities differ in the last digits are ordered by
    them whatever the centre's index (a combined float key lost them past a few hundred
    centres, so a world's order depended on its place in the chunk)."""
    n_centres = 20_000
    pop = Population(n_centres, load_block("parameters", "default", Parameters))
    low, high = 1.0, float(np.nextafter(1.0, 2.0))
    for centre in (0, n_centres - 1):
        pop.add(
            centre=np.array([centre, centre], dtype=np.int32),
            rank=np.array([1, 1], dtype=np.int8),
            productivity=np.array([low, high]),
            foreign=np.zeros(2, dtype=bool),
            host=np.zeros(2, dtype=bool),
            contract_end=np.ones(2, dtype=np.int32),
        )
    assert pop.productivity.tolist() == [high, low, high, low]
    assert pop.centre.tolist() == [0, 0, n_centres - 1, n_centres - 1]


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 400),
    centres=st.integers(1, 40),
    productivities=st.sampled_from(["ties", "continuous"]),
    seed=st.integers(0, 2**32 - 1),
)
@example(n=400, centres=1, productivities="ties", seed=1)
@example(n=400, centres=1, productivities="continuous", seed=2)
def test_priority_order_is_numpys_lexsort(n, centres, productivities, seed):
    """Small groups (insertion sort) and large ones (one centre of 400: merge sort), ties too."""
    rng = np.random.default_rng(seed)
    centre = rng.integers(0, centres, n).astype(np.int32)
    rank = rng.integers(0, N_RANKS, n).astype(np.int8)
    if productivities == "ties":
        productivity = rng.choice([0.5, 1.0, 1.5], n)
    else:
        productivity = rng.lognormal(0.0, 0.5, n)
    expected = np.lexsort((-productivity, RANK_PRIORITY[rank], centre))
    got = kernels.priority_order(centre, rank, productivity, RANK_PRIORITY)
    assert np.array_equal(got, expected)
