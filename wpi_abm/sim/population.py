"""The researcher population: one row per person, held as columns for vectorised yearly decisions.

Every person of every centre in a run lives in one :class:`Population`. Decisions that concern
thousands of people a year — who leaves, who is renewed, absorbed or laid off, how much they
publish — are a few numpy operations over these columns. Centres take the decisions that concern
money (how much to renew, how many to hire); the population applies them to individuals, always in
the same priority order.

Ranks: PI, researcher, postdoc, specialist staff ("researchers" in indicators: the first three).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from wpi_abm.parameters import Parameters
from wpi_abm.sim import elementary, kernels
from wpi_abm.sim.per_world import PerWorld

PI, RESEARCHER, POSTDOC, STAFF = 0, 1, 2, 3
RANKS = ("pi", "researcher", "postdoc", "staff")
N_RANKS = 4

PERMANENT = 1_000_000
"""Contract end of a host-funded permanent post (never ends within a run)."""

# Whom a centre keeps first when money is short (lower = kept first): PIs, researchers, specialist
# staff, then postdocs. Within a rank, the more productive are kept first.
RANK_PRIORITY = np.array([0.0, 1.0, 3.0, 2.0])

_DTYPES = {
    "centre": np.int32, "rank": np.int8, "productivity": np.float64, "contract_end": np.int32,
    "foreign": np.bool_, "host": np.bool_, "top10_q": np.float64, "leave_logit": np.float64,
}  # fmt: skip
"""The population's stored columns and their types, in the order
:func:`~wpi_abm.sim.kernels.merge_people` takes them (the order's keys first).

Salary, effort and grant rate are not stored: each is its rank's amount (× productivity), one
multiplication that the compiled loops redo where they read it (the same float), so that merging
the hires in and compacting the leavers out move three columns fewer every year.
"""


@dataclass(frozen=True)
class Census:
    """Per-centre totals of the population at one moment (:meth:`Population.census`).

    Attributes:
        soft_pay: Payroll of soft-money posts.
        host_pay: Payroll of the hosts' permanent posts.
        counts: Head count by centre and rank, shape (n_centres, 4).
        host_counts: Permanent posts filled, by centre and rank.
        foreign: Foreign people.
        effort: Sum of the people's effort (papers a year at full resources).
        effort_top10: Sum of effort × probability that a paper is in the world top 10%.
    """

    soft_pay: np.ndarray
    host_pay: np.ndarray
    counts: np.ndarray
    host_counts: np.ndarray
    foreign: np.ndarray
    effort: np.ndarray
    effort_top10: np.ndarray


def grouped_cumsum(group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``weight`` within runs of equal ``group`` (rows sorted by group).

    Each run's sum starts from zero, so that it depends on that run's weights only (a cumulative
    sum over all rows less its value where the run begins would round differently depending on
    the rows before it: other centres', other worlds').
    """
    out = np.empty(len(weight))
    if len(weight) == 0:
        return out
    first = np.empty(len(group), dtype=bool)
    first[0] = True
    np.not_equal(group[1:], group[:-1], out=first[1:])
    bounds = [*np.flatnonzero(first), len(weight)]
    for a, b in itertools.pairwise(bounds):
        np.cumsum(weight[a:b], out=out[a:b])
    return out


class Population:
    """Columnar store of the people of all centres in one run.

    Rows are kept sorted by centre, then by the order in which the centre keeps people when money
    is short (:data:`RANK_PRIORITY`, then productivity, highest first). Selections in priority order
    are then plain index lists, and reverse priority is the same list read backwards.

    Attributes:
        centre: Index of the person's centre.
        rank: PI, RESEARCHER, POSTDOC or STAFF.
        foreign: Whether the person is a foreign researcher.
        productivity: Individual productivity (mean ~1).
        host: Whether the post is on the host's permanent budget.
        contract_end: Last year of the current contract (PERMANENT for host posts).
        salary: Yearly cost (M yen; computed from the centre row's salary table and the rank, not
            stored).
        effort: Papers a year the person writes at full resources (papers_per_year × productivity;
            computed, not stored).
        top10_q: Probability that one of the person's papers is in the world top 10%.
        grant_rate: Grants the person wins a year at reputation 1 (M yen; computed, not stored).
        leave_logit: The person's log-odds of leaving in a year without insecurity, before the
            centre's reputation (rank base rate, foreign and talent outside options).
    """

    def __init__(
        self, n_centres: int, params: Parameters, per_world: PerWorld | None = None
    ) -> None:
        self.n_centres = n_centres
        self.params = params
        own = per_world or PerWorld.of([params], None, n_centres)
        # Salary by centre row and rank, and the top-10% logit by centre row: the worlds of one
        # model may take them from different posterior particles (sim/per_world.py).
        self.salary = own.salary
        self._top10_a = own.top10_logit
        self.papers_by_rank = np.asarray(params.output.papers_per_year.as_tuple(), dtype=float)
        self.grants_by_rank = np.asarray(params.grants.per_head.as_tuple(), dtype=float)
        base = np.clip(np.asarray(params.researchers.base_leave.as_tuple()), 1e-9, 1 - 1e-9)
        self._leave_base = elementary.log(base / (1 - base))
        # Each column lives in a buffer with room to grow; the attributes are views of the first
        # ``len(self)`` rows. People join and leave in place, so a year reallocates nothing
        # (the buffers grow, by half, only when the population outgrows them).
        self._n = 0
        self._buffers = {name: np.empty(0, dtype=dtype) for name, dtype in _DTYPES.items()}
        self._views()

    def _views(self) -> None:
        """Point the column attributes at the first ``len(self)`` rows of their buffers."""
        for name, buf in self._buffers.items():
            setattr(self, name, buf[: self._n])

    def _reserve(self, n: int) -> None:
        """Make room for ``n`` rows in every buffer (the live rows are kept)."""
        if n <= len(self._buffers["centre"]):
            return
        size = max(n, 3 * len(self._buffers["centre"]) // 2, 1024)
        for name, buf in self._buffers.items():
            grown = np.empty(size, dtype=buf.dtype)
            grown[: self._n] = buf[: self._n]
            self._buffers[name] = grown

    def __len__(self) -> int:
        return self._n

    def add(
        self,
        centre: np.ndarray,
        rank: np.ndarray,
        foreign: np.ndarray,
        productivity: np.ndarray,
        host: np.ndarray,
        contract_end: np.ndarray,
    ) -> None:
        """Append new people (arrays of equal length) and restore the priority order."""
        n = len(centre)
        if n == 0:
            return
        rank = np.asarray(rank, dtype=np.int8)
        foreign = np.asarray(foreign, dtype=bool)
        host = np.asarray(host, dtype=bool)
        productivity = np.asarray(productivity, dtype=float)
        log_prod = elementary.log(productivity)
        r = self.params.researchers
        slope = self.params.output.top10_talent_slope
        centre = np.asarray(centre, dtype=np.int32)
        new = {
            "centre": centre,
            "rank": rank,
            "contract_end": np.asarray(contract_end, dtype=np.int32),
            "foreign": foreign,
            "host": host,
            "productivity": productivity,
            "top10_q": 1.0 / (1.0 + elementary.exp(-(self._top10_a[centre] + slope * log_prod))),
            "leave_logit": self._leave_base[rank]
            + r.foreign_outside_option * foreign
            + r.talent_outside_option * log_prod,
        }
        # The rows are kept sorted by centre, then rank priority, then productivity (highest
        # first). The old rows are sorted already; the new ones are sorted (stably) and merged
        # in, which is what a stable sort of old + new gives.
        order = kernels.priority_order(centre, rank, productivity, RANK_PRIORITY)
        self._reserve(self._n + n)
        kernels.merge_people(
            self._n, RANK_PRIORITY,
            *self._buffers.values(),
            *(new[name][order] for name in _DTYPES),
        )  # fmt: skip
        self._n += n
        self._views()

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the rows where ``mask`` is true (everyone else has left)."""
        self._n = kernels.compact(mask, *self._buffers.values())
        self._views()

    def per_centre(self, weights: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        """Sum of ``weights`` per centre (booleans: a head count of the true rows, as floats).

        With ``where``: over those rows only (the same floats as weighting by ``weights * where``,
        without the product).
        """
        if weights.dtype == bool:
            return kernels.count_by_centre(self.centre, weights, self.n_centres)
        if where is not None:
            return kernels.sum_where(self.centre, weights, where, self.n_centres)
        return kernels.sum_by_centre(self.centre, weights, self.n_centres)

    def census(self) -> Census:
        """Every per-centre total of the population the rest of the year reads (one pass)."""
        columns = (self.centre, self.rank, self.host, self.foreign, self.productivity, self.top10_q)
        tables = (self.salary, self.papers_by_rank)
        return Census(*kernels.census(*columns, *tables, self.n_centres, N_RANKS))

    def salaries(self, where: np.ndarray) -> np.ndarray:
        """Sum of the salaries of the ``where`` rows, per centre.

        The floats of :meth:`per_centre` of the salaries, without making the column.
        """
        return kernels.by_rank_where(self.centre, self.rank, self.salary, where, self.n_centres)

    def grants_and_soft_pay(self, stay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per centre, the grant rates of the people who ``stay`` and their soft-money payroll.

        One pass; the floats of :meth:`per_centre` of those amounts and masks.
        """
        return kernels.grants_and_soft_pay(
            self.centre, self.rank, self.productivity, self.grants_by_rank, self.salary,
            stay, self.host, self.n_centres,
        )  # fmt: skip

    def counts(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Head count per centre and rank, shape (n_centres, 4), of everyone or of ``mask``."""
        key = self.centre * N_RANKS + self.rank
        if mask is not None:
            key = key[mask]
        flat = np.bincount(key, minlength=self.n_centres * N_RANKS)
        return flat.reshape(self.n_centres, N_RANKS)

    def priority_order(self, mask: np.ndarray, reverse: bool = False) -> np.ndarray:
        """Row indices in ``mask``, grouped by centre, in the order a centre keeps people.

        With ``reverse``: the order in which it lets them go.
        """
        idx = np.flatnonzero(mask)
        return idx[::-1] if reverse else idx

    def prefix_within(self, order: np.ndarray, budget: np.ndarray) -> np.ndarray:
        """Rows of ``order`` whose running salary total in their centre stays within ``budget``.

        Returns a boolean mask over the whole population.
        """
        out = np.zeros(len(self), dtype=bool)
        if len(order) == 0:
            return out
        running = kernels.grouped_running(self.centre, order, self.rank, self.salary)
        out[order[running <= budget[self.centre[order]] + 1e-9]] = True
        return out

    def prefix_covering(
        self, order: np.ndarray, need: np.ndarray, cap: np.ndarray | None = None
    ) -> np.ndarray:
        """Fewest leading rows of ``order`` per centre whose salaries reach ``need``.

        With ``cap`` (money per centre), rows are taken only while their running total stays
        within the cap. Returns a boolean mask over the whole population.
        """
        out = np.zeros(len(self), dtype=bool)
        if len(order) == 0:
            return out
        c = self.centre[order]
        sal = self.salary[c, self.rank[order]]
        running = kernels.grouped_running(self.centre, order, self.rank, self.salary)
        take = (running - sal) < need[c] - 1e-9
        if cap is not None:
            take &= running <= cap[c] + 1e-9
        out[order[take]] = True
        return out

    def first_k(self, order: np.ndarray, k: np.ndarray) -> np.ndarray:
        """The first ``k[centre]`` rows of ``order`` in each centre (boolean mask)."""
        out = np.zeros(len(self), dtype=bool)
        if len(order) == 0:
            return out
        position = kernels.grouped_position(self.centre, order)
        out[order[position <= k[self.centre[order]]]] = True
        return out
