"""Compiled loops over the population's columns (numba).

The yearly decisions over the population are memory-bound: every numpy operation on ~50,000 rows
is one pass over a column, and a year took a few dozen of them (a mask, a product, a sum per
centre; eleven concatenations, a sort and eleven gathers to add the year's hires). The loops here
do the same work in one pass each, in place, without temporaries.

Every loop reproduces the numpy operation it replaces bit for bit: sums per centre add in row
order from 0.0 as ``np.bincount`` does, and no loop uses ``fastmath`` (which would let the compiler
reorder or fuse floating-point operations). Exponentials, logarithms and powers are
:mod:`~wpi_abm.sim.elementary`'s, which round the same on every CPU. Nothing random is drawn here.

Compiled once per machine (``cache=True`` keeps the machine code next to this module, or in
``NUMBA_CACHE_DIR``); a process then loads it in well under a second, once.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True)


@_jit
def _kept_after(c1: int, p1: float, q1: float, c2: int, p2: float, q2: float) -> bool:
    """Whether person 1 comes strictly after person 2 in the population's order.

    A person is (centre ``c``, rank priority ``p``, productivity ``q``), compared field by field,
    not as one float: a combined key (``centre × 1e7 + …``) loses productivity's low bits as the
    centre's index grows, so a world's order — and everything decided in it — would depend on how
    many worlds come before it in the chunk.
    """
    if c1 != c2:
        return c1 > c2
    if p1 != p2:
        return p1 > p2
    return q1 < q2


@_jit
def priority_order(
    centre: np.ndarray, rank: np.ndarray, productivity: np.ndarray, rank_priority: np.ndarray
) -> np.ndarray:
    """The rows in the population's order: centre, then rank priority, then productivity.

    The permutation of ``np.lexsort((-productivity, rank_priority[rank], centre))`` (stable:
    equal people keep their order), ~8× faster on a founding population of 12,000.

    A counting sort by (centre, rank priority) — new people come in a few hundred small groups —
    then each group by productivity, highest first: insertion sort for the small groups, numpy's
    stable sort for a large one. Rank priorities must be small whole numbers (0-3).
    """
    n = len(centre)
    order = np.empty(n, dtype=np.int64)
    if n == 0:
        return order
    levels = 0
    for k in range(len(rank_priority)):
        levels = max(levels, int(rank_priority[k]) + 1)
    groups = 0
    for i in range(n):
        groups = max(groups, int(centre[i]) + 1)
    groups *= levels
    start = np.zeros(groups + 1, dtype=np.int64)
    for i in range(n):
        start[centre[i] * levels + int(rank_priority[rank[i]]) + 1] += 1
    for g in range(groups):
        start[g + 1] += start[g]
    fill = start[:-1].copy()
    for i in range(n):
        g = centre[i] * levels + int(rank_priority[rank[i]])
        order[fill[g]] = i
        fill[g] += 1
    for g in range(groups):
        a, b = start[g], start[g + 1]
        if b - a <= 32:
            for k in range(a + 1, b):
                row = order[k]
                q = productivity[row]
                j = k - 1
                while j >= a and productivity[order[j]] < q:
                    order[j + 1] = order[j]
                    j -= 1
                order[j + 1] = row
        else:
            rows = order[a:b].copy()
            by = np.argsort(-productivity[rows], kind="mergesort")
            order[a:b] = rows[by]
    return order


@_jit
def merge_people(
    n_old: int,
    rank_priority: np.ndarray,
    centre: np.ndarray,
    rank: np.ndarray,
    productivity: np.ndarray,
    contract_end: np.ndarray,
    foreign: np.ndarray,
    host: np.ndarray,
    top10_q: np.ndarray,
    leave_logit: np.ndarray,
    new_centre: np.ndarray,
    new_rank: np.ndarray,
    new_productivity: np.ndarray,
    new_contract_end: np.ndarray,
    new_foreign: np.ndarray,
    new_host: np.ndarray,
    new_top10_q: np.ndarray,
    new_leave_logit: np.ndarray,
) -> None:
    """Merge new people into the population's columns in place: every column in one pass.

    The columns hold ``n_old`` people in the population's order and have room for the new ones,
    which are in that order too (:func:`priority_order`). The result is what a stable sort of
    old + new gives (on equal people, old rows first). One pass moves every column (a list of
    each row's source, then a pass per column, took ~30% longer). Filled from the end: an old row
    moves only towards the end, so it is read before its place is overwritten, and once the new
    rows are placed the old rows before them are where they were.
    """
    i, j = n_old - 1, len(new_centre) - 1
    k = n_old + j
    while j >= 0:
        if i >= 0 and _kept_after(
            centre[i], rank_priority[rank[i]], productivity[i],
            new_centre[j], rank_priority[new_rank[j]], new_productivity[j],
        ):  # fmt: skip
            centre[k], rank[k], productivity[k] = centre[i], rank[i], productivity[i]
            contract_end[k], foreign[k], host[k] = contract_end[i], foreign[i], host[i]
            top10_q[k], leave_logit[k] = top10_q[i], leave_logit[i]
            i -= 1
        else:
            centre[k], rank[k], productivity[k] = new_centre[j], new_rank[j], new_productivity[j]
            contract_end[k], foreign[k], host[k] = new_contract_end[j], new_foreign[j], new_host[j]
            top10_q[k], leave_logit[k] = new_top10_q[j], new_leave_logit[j]
            j -= 1
        k -= 1


@_jit
def compact(
    mask: np.ndarray,
    centre: np.ndarray,
    rank: np.ndarray,
    productivity: np.ndarray,
    contract_end: np.ndarray,
    foreign: np.ndarray,
    host: np.ndarray,
    top10_q: np.ndarray,
    leave_logit: np.ndarray,
) -> int:
    """Move the rows where ``mask`` is true to the front of every column, in order; their number.

    Every row is copied to the next free place, which only moves on past a kept row: no branch
    on the mask (a processor mispredicts one at every leaver), and a row is read before its
    place can be written (``j <= i``). One pass moves every column (the population's, in the
    order of :func:`merge_people`).
    """
    keep = mask.view(np.uint8)
    j = 0
    for i in range(len(mask)):
        centre[j], rank[j], productivity[j] = centre[i], rank[i], productivity[i]
        contract_end[j], foreign[j], host[j] = contract_end[i], foreign[i], host[i]
        top10_q[j], leave_logit[j] = top10_q[i], leave_logit[i]
        j += keep[i]
    return j


@_jit
def count_by_centre(centre: np.ndarray, mask: np.ndarray, n_centres: int) -> np.ndarray:
    """Rows where ``mask`` is true, per centre (as floats, like a weighted ``np.bincount``).

    Counted in integers (a float sum of ones is exact, so the floats are the same): an integer
    addition takes one cycle where a float addition's result waits four.
    """
    flag = mask.view(np.uint8)
    out = np.zeros(n_centres)
    if len(centre) == 0:
        return out
    cur, total = centre[0], 0
    for i in range(len(centre)):
        if centre[i] != cur:
            out[cur] += total
            cur, total = centre[i], 0
        total += flag[i]
    out[cur] += total
    return out


@_jit
def sum_by_centre(centre: np.ndarray, weight: np.ndarray, n_centres: int) -> np.ndarray:
    """``np.bincount(centre, weights=weight, minlength=n_centres)``."""
    out = np.zeros(n_centres)
    if len(centre) == 0:
        return out
    cur, total = centre[0], 0.0
    for i in range(len(centre)):
        if centre[i] != cur:
            out[cur] += total
            cur, total = centre[i], 0.0
        total += weight[i]
    out[cur] += total
    return out


@_jit
def sum_where(centre: np.ndarray, weight: np.ndarray, mask: np.ndarray, n_centres: int):
    """Sum of ``weight`` over the rows where ``mask`` is true, per centre.

    The same floats as ``np.bincount(centre, weights=weight * mask)``: a masked-out row would add
    0.0, which changes no sum.
    """
    flag = mask.view(np.uint8)
    out = np.zeros(n_centres)
    if len(centre) == 0:
        return out
    cur, total = centre[0], 0.0
    for i in range(len(centre)):
        if centre[i] != cur:
            out[cur] += total
            cur, total = centre[i], 0.0
        total += weight[i] * flag[i]
    out[cur] += total
    return out


@_jit
def by_rank_where(
    centre: np.ndarray, rank: np.ndarray, by_rank: np.ndarray, mask: np.ndarray, n_centres: int
):
    """:func:`sum_where` of the weights ``by_rank[centre, rank]`` (salaries, by centre row).

    A person's salary is its rank's at its centre. The same floats as ``sum_where(centre,
    by_rank[centre, rank], mask, n_centres)``, without the column.
    """
    flag = mask.view(np.uint8)
    out = np.zeros(n_centres)
    if len(centre) == 0:
        return out
    cur, total = centre[0], 0.0
    for i in range(len(centre)):
        if centre[i] != cur:
            out[cur] += total
            cur, total = centre[i], 0.0
        total += by_rank[cur, rank[i]] * flag[i]
    out[cur] += total
    return out


@_jit
def grants_and_soft_pay(
    centre: np.ndarray,
    rank: np.ndarray,
    productivity: np.ndarray,
    grants_by_rank: np.ndarray,
    salary: np.ndarray,
    stay: np.ndarray,
    host: np.ndarray,
    n_centres: int,
):
    """Per centre, the grant rates of those who stay and the salaries of their soft posts.

    The floats of :func:`sum_where` with the weights ``grants_by_rank[rank] × productivity`` and
    ``salary[centre, rank]`` and the masks ``stay`` and ``stay & ~host``, in one pass (two chains
    of additions take about the time of one): a grant rate is one multiplication, rounded as
    numpy rounds it, so it need not be stored.
    """
    stays, is_host = stay.view(np.uint8), host.view(np.uint8)
    grants, soft_pay = np.zeros(n_centres), np.zeros(n_centres)
    if len(centre) == 0:
        return grants, soft_pay
    cur, total_g, total_s = centre[0], 0.0, 0.0
    for i in range(len(centre)):
        if centre[i] != cur:
            grants[cur] += total_g
            soft_pay[cur] += total_s
            cur, total_g, total_s = centre[i], 0.0, 0.0
        r = rank[i]
        total_g += grants_by_rank[r] * productivity[i] * stays[i]
        total_s += salary[cur, r] * (stays[i] * (1 - is_host[i]))
    grants[cur] += total_g
    soft_pay[cur] += total_s
    return grants, soft_pay


@_jit
def expiring(
    centre: np.ndarray,
    rank: np.ndarray,
    salary: np.ndarray,
    host: np.ndarray,
    stay: np.ndarray,
    contract_end: np.ndarray,
    year: int,
    n_centres: int,
):
    """Soft-money contracts that ran out before ``year`` among those who stay, and the payrolls.

    Returns:
        ``expired`` (not host, staying, contract ended before ``year``), and per centre the
        salaries of the soft posts that run on (``~host & stay & ~expired``) and of the expired
        ones: the floats of :func:`sum_where` with those masks and the weights
        ``salary[centre, rank]`` (a salary is its rank's at its centre: read from the table, not
        stored).
    """
    is_host, stays = host.view(np.uint8), stay.view(np.uint8)
    n = len(centre)
    expired = np.empty(n, dtype=np.bool_)
    running, ended = np.zeros(n_centres), np.zeros(n_centres)
    if n == 0:
        return expired, running, ended
    cur, total_run, total_end = centre[0], 0.0, 0.0
    for i in range(n):
        if centre[i] != cur:
            running[cur] += total_run
            ended[cur] += total_end
            cur, total_run, total_end = centre[i], 0.0, 0.0
        soft = (1 - is_host[i]) * stays[i]
        e = soft * (contract_end[i] < year)
        expired[i] = e
        s = salary[cur, rank[i]]
        total_run += s * (soft - e)
        total_end += s * e
    running[cur] += total_run
    ended[cur] += total_end
    return expired, running, ended


@_jit
def census(
    centre: np.ndarray,
    rank: np.ndarray,
    host: np.ndarray,
    foreign: np.ndarray,
    productivity: np.ndarray,
    top10_q: np.ndarray,
    salary: np.ndarray,
    papers_by_rank: np.ndarray,
    n_centres: int,
    n_ranks: int,
):
    """Every per-centre total of the population that the rest of a year reads, in one pass.

    A person's salary is ``salary[centre, rank]`` and effort ``papers_by_rank[rank] ×
    productivity``: the floats :class:`~wpi_abm.sim.population.Population` would store, computed
    here instead (one multiplication, rounded as numpy rounds it) so that no merge or compaction
    has to move them.

    Returns:
        Soft-money payroll, host payroll, head counts by rank, host posts filled by rank, foreign
        people, effort, and effort × top-10% probability (the floats as ``np.bincount`` sums them).
    """
    soft_pay = np.zeros(n_centres)
    host_pay = np.zeros(n_centres)
    counts = np.zeros((n_centres, n_ranks), dtype=np.int64)
    host_counts = np.zeros((n_centres, n_ranks), dtype=np.int64)
    n_foreign = np.zeros(n_centres)
    capacity = np.zeros(n_centres)
    top10 = np.zeros(n_centres)
    is_host, is_foreign = host.view(np.uint8), foreign.view(np.uint8)
    n = len(centre)
    i = 0
    while i < n:
        # One centre's rows; float totals in row order across the centre, head counts by run of
        # equal rank (rows are sorted by rank priority within a centre).
        c = centre[i]
        soft, hosted, nf, cap, t10 = 0.0, 0.0, 0.0, 0.0, 0.0
        while i < n and centre[i] == c:
            r = rank[i]
            run, n_host = i, 0
            s, papers = salary[c, r], papers_by_rank[r]
            while i < n and centre[i] == c and rank[i] == r:
                # Arithmetic rather than branches on the host and foreign flags (which the
                # processor would mispredict): salary × 1.0 or × 0.0 is exact.
                h = is_host[i]
                hosted += s * h
                soft += s * (1 - h)
                n_host += h
                nf += is_foreign[i]
                e = papers * productivity[i]
                cap += e
                t10 += e * top10_q[i]
                i += 1
            counts[c, r] += i - run
            host_counts[c, r] += n_host
        soft_pay[c] += soft
        host_pay[c] += hosted
        n_foreign[c] += nf
        capacity[c] += cap
        top10[c] += t10
    return soft_pay, host_pay, counts, host_counts, n_foreign, capacity, top10


@_jit
def leave_logit(
    leave_logit: np.ndarray,
    host: np.ndarray,
    contract_end: np.ndarray,
    centre: np.ndarray,
    insecurity: np.ndarray,
    reputation: np.ndarray,
    ends_within: int,
    secure_exposure: float,
    sensitivity: float,
    retention: float,
) -> np.ndarray:
    """Each person's log-odds of leaving this year (:func:`wpi_abm.sim.departures.leaving`).

    The same floats as the numpy expression there: ``leave_logit + sensitivity × felt −
    retention × (reputation − 1)``, where ``felt`` is 0 on a host post, else the centre's
    insecurity × the exposure of the contract (1 if it ends before ``ends_within``).
    """
    out = np.empty(len(centre))
    for i in range(len(centre)):
        c = centre[i]
        exposure = 1.0 if contract_end[i] < ends_within else secure_exposure
        felt = 0.0 if host[i] else insecurity[c] * exposure
        out[i] = leave_logit[i] + sensitivity * felt - retention * (reputation[c] - 1.0)
    return out


@_jit
def below_logistic(
    u: np.ndarray, x: np.ndarray, grid: np.ndarray, grid_from: float, per_step: float
):
    """Whether ``u < 1 / (1 + exp(-x))``, where a table of the logistic settles it.

    ``grid[k]`` is the logistic of ``grid_from + k / per_step`` as ``elementary.exp`` gives it.
    The logistic rises, so for ``x`` between two grid points its value lies between theirs (give
    or take a few units in the last place, far inside ``margin``): a draw below the lower one
    means yes, a draw at or above the upper one means no. Only draws between the two (a fraction
    of about ``0.25 / per_step``) are not settled; their decisions are left to ``elementary.exp``.

    Returns:
        The decisions (False where not settled) and the indices of the rows not settled.
    """
    margin = 1e-12
    n, last = len(u), len(grid) - 1
    below = np.empty(n, dtype=np.bool_)
    unsettled = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        pos = (x[i] - grid_from) * per_step
        if pos >= 0.0 and pos < last:
            k = int(pos)
            lo, hi = grid[k] - margin, grid[k + 1] + margin
        elif pos >= last:
            lo, hi = grid[last] - margin, np.inf
        elif pos < 0.0:
            lo, hi = -np.inf, grid[0] + margin
        else:  # x is NaN: numpy decides (no)
            lo, hi = -np.inf, np.inf
        yes = u[i] < lo
        below[i] = yes
        if not yes and u[i] < hi:
            unsettled[m] = i
            m += 1
    return below, unsettled[:m]


@_jit
def grouped_running(
    centre: np.ndarray, order: np.ndarray, rank: np.ndarray, by_rank: np.ndarray
) -> np.ndarray:
    """Running total of ``by_rank[centre, rank]`` (salaries) within each centre, in ``order``.

    Each centre's total starts from zero where its rows begin (the floats of
    :func:`wpi_abm.sim.population.grouped_cumsum`): a centre's selections depend on its own
    people only, never on the rows before it — another centre's, or another world's.
    """
    out = np.empty(len(order))
    cs = 0.0
    for k in range(len(order)):
        if k == 0 or centre[order[k]] != centre[order[k - 1]]:
            cs = 0.0
        cs += by_rank[centre[order[k]], rank[order[k]]]
        out[k] = cs
    return out


@_jit
def grouped_position(centre: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Position (1, 2, …) of each row of ``order`` among the rows of its centre in ``order``."""
    out = np.empty(len(order))
    position = 0.0
    for k in range(len(order)):
        if k == 0 or centre[order[k]] != centre[order[k - 1]]:
            position = 0.0
        position += 1.0
        out[k] = position
    return out


# Centre decisions. A centre agent decides for its row in every world of the chunk: a dozen numpy
# operations on arrays of ~25 elements, each paying numpy's fixed cost per call (~2–4 µs), which
# is most of a decision's time. The loops below do the elementwise arithmetic of a decision in one
# call; a matrix product stays in numpy (OpenBLAS's order of summation, and its fused
# multiply-adds, are what the results were computed with).


@_jit
def _max0(x: float) -> float:
    """``np.maximum(x, 0.0)`` of a float (NaN stays NaN; a zero's sign does not matter here)."""
    return x if x >= 0.0 or math.isnan(x) else 0.0


@_jit
def wanted_posts(
    budget: np.ndarray,
    counts: np.ndarray,
    payroll: np.ndarray,
    start: int,
    step: int,
    planned: np.ndarray,
    planned_payroll: np.ndarray,
):
    """Posts a centre wants to open, in the rows ``start::step`` (its row in every world).

    The floats of :meth:`~wpi_abm.sim.agents.centre.Centre.open_posts`'s numpy: with ``b =
    max(budget, 0)``, ``max(0, floor(planned × (payroll + b) / planned_payroll − counts))``
    (``planned_payroll``: one per world).

    Returns:
        ``b`` per world, and the posts wanted per world and rank.
    """
    n = (len(budget) - start + step - 1) // step
    b = np.empty(n)
    wanted = np.empty((n, len(planned)))
    for k in range(n):
        c = start + k * step
        b[k] = _max0(budget[c])
        scale = (payroll[c] + b[k]) / planned_payroll[k]
        for j in range(len(planned)):
            wanted[k, j] = _max0(np.floor(planned[j] * scale - counts[c, j]))
    return b, wanted


@_jit
def open_within(
    b: np.ndarray, wanted: np.ndarray, cost: np.ndarray, openings: np.ndarray, start: int, step: int
) -> None:
    """Open the share of the wanted posts that the budget ``b`` pays for, in rows ``start::step``.

    The floats of the numpy it replaces: ``share = min(b / cost, 1)`` (0 where nothing costs
    anything), ``openings = floor(wanted × share)``.
    """
    for k in range(len(b)):
        share = b[k] / cost[k] if cost[k] > 0 else 0.0
        if share > 1.0:  # noqa: PLR1730 (np.minimum keeps a NaN; min's NaN rule is unspecified)
            share = 1.0
        c = start + k * step
        for j in range(wanted.shape[1]):
            openings[c, j] = np.floor(wanted[k, j] * share)


@_jit
def seek(
    secured: np.ndarray,
    match_incentive: np.ndarray,
    seeking: np.ndarray,
    push: np.ndarray,
    start: int,
    step: int,
    year: int,
    ahead: int,
    started: bool,
    push_factor: float,
    response: float,
) -> None:
    """Whether a centre seeks private money, and how hard, in the rows ``start::step``.

    The numpy it replaces (:meth:`~wpi_abm.sim.agents.centre.Centre.seek_private_money`):
    ``seeking = (secured − year < ahead) & started``, ``push = push_factor × (1 + response ×
    match_incentive)``.
    """
    for c in range(start, len(seeking), step):
        seeking[c] = secured[c] - year < ahead and started
        push[c] = push_factor * (1.0 + response * match_incentive[c])


@_jit
def add_terms(
    host_terms: np.ndarray, start: int, step: int, terms: np.ndarray, factor: np.ndarray
) -> None:
    """``host_terms[start::step] += terms × factor``: one host's terms for one centre, every world.

    ``factor`` has one row per world. The same floats: each product rounded, then added to what
    the centre's other hosts gave.
    """
    for k, c in enumerate(range(start, host_terms.shape[0], step)):
        for j in range(len(terms)):
            host_terms[c, j] += terms[j] * factor[k, j]
