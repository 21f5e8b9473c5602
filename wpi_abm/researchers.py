"""The researcher population: one row per person, held as columns for vectorised yearly decisions.

Every person of every centre in a run lives in one :class:`Population`. Decisions that concern
thousands of people a year — who leaves, who is renewed, absorbed or laid off, how much they
publish — are a few numpy operations over these columns. Centres take the decisions that concern
money (how much to renew, how many to hire); the population applies them to individuals, always in
the same priority order.

Ranks: PI, researcher, postdoc, specialist staff ("researchers" in indicators means the first three).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from wpi_abm.parameters import Parameters

PI, RESEARCHER, POSTDOC, STAFF = 0, 1, 2, 3
RANKS = ("pi", "researcher", "postdoc", "staff")
N_RANKS = 4

# Salary sources, as recorded per person. Soft money is allocated to people in a fixed order each
# year (programme money first, because unspent programme money lapses).
HOST, SUBSIDY, COMPANY, ENDOWMENT, GRANT, HOST_CASH, RESERVES = range(7)
SOURCES = ("host", "subsidy", "company", "endowment", "grant", "host_cash", "reserves")

PERMANENT = 1_000_000
"""Contract end of a host-funded permanent post (never ends within a run)."""

# Whom a centre keeps first when money is short (lower = kept first): PIs, researchers, specialist
# staff, then postdocs. Within a rank, the more productive are kept first.
RANK_PRIORITY = np.array([0.0, 1.0, 3.0, 2.0])


def grouped_cumsum(group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``weight`` within runs of equal ``group`` (rows already sorted by group)."""
    cs = np.cumsum(weight)
    if len(cs) == 0:
        return cs
    excl = cs - weight
    first = np.empty(len(group), dtype=bool)
    first[0] = True
    np.not_equal(group[1:], group[:-1], out=first[1:])
    offset = np.maximum.accumulate(np.where(first, excl, -np.inf))
    return cs - offset


class Population:
    """Columnar store of the people of all centres in one run.

    Rows are always sorted by centre, then by the order in which the centre keeps people when money
    is short (:data:`RANK_PRIORITY`, then productivity, highest first). Selections in priority
    order are then plain index lists, and reverse priority is the same list read backwards.

    Attributes:
        centre: Index of the person's centre.
        rank: PI, RESEARCHER, POSTDOC or STAFF.
        foreign: Whether the person is a foreign researcher.
        productivity: Individual productivity (mean ~1).
        host: Whether the post is on the host's permanent budget.
        contract_end: Last year of the current contract (PERMANENT for host posts).
        salary: Yearly cost (M yen).
        source: Which money paid the person this year (index into SOURCES).
        since: Year the person joined the centre.
        effort: Papers a year the person writes at full resources (papers_per_year × productivity).
        top10_q: Probability that one of the person's papers is in the world top 10%.
        grant_rate: Grants the person wins a year at reputation 1 (M yen).
        leave_logit: The person's log-odds of leaving in a year without insecurity, before the
            centre's reputation (rank base rate, foreign and talent outside options).
    """

    _INTS = ("centre", "rank", "contract_end", "source", "since")
    _FLAGS = ("foreign", "host")
    _FLOATS = ("productivity", "salary", "effort", "top10_q", "grant_rate", "leave_logit")

    def __init__(self, n_centres: int, params: Parameters) -> None:
        self.n_centres = n_centres
        self.params = params
        self.salary_by_rank = np.asarray(params.money.salary.as_tuple(), dtype=float)
        self._papers = np.asarray(params.output.papers_per_year.as_tuple(), dtype=float)
        self._grants = np.asarray(params.grants.per_head.as_tuple(), dtype=float)
        base = np.clip(np.asarray(params.researchers.base_leave.as_tuple()), 1e-9, 1 - 1e-9)
        self._leave_base = np.log(base / (1 - base))
        o = params.output
        self._top10_a = math.log(o.top10_base / (1 - o.top10_base))
        # Columns are stored as rows of three blocks (one per dtype), so that adding and removing
        # people is one operation per block; each named column is a contiguous row.
        self._i = np.empty((len(self._INTS), 0), dtype=np.int32)
        self._b = np.empty((len(self._FLAGS), 0), dtype=bool)
        self._f = np.empty((len(self._FLOATS), 0), dtype=float)

    centre = property(lambda self: self._i[0], doc="Index of the person's centre.")
    rank = property(lambda self: self._i[1], doc="PI, RESEARCHER, POSTDOC or STAFF.")
    contract_end = property(lambda self: self._i[2], doc="Last year of the current contract.")
    source = property(lambda self: self._i[3], doc="Which money paid the person this year.")
    since = property(lambda self: self._i[4], doc="Year the person joined the centre.")
    foreign = property(lambda self: self._b[0], doc="Whether a foreign researcher.")
    host = property(lambda self: self._b[1], doc="Whether on the host's permanent budget.")
    productivity = property(lambda self: self._f[0], doc="Individual productivity.")
    salary = property(lambda self: self._f[1], doc="Yearly cost (M yen).")
    effort = property(lambda self: self._f[2], doc="Papers a year at full resources.")
    top10_q = property(lambda self: self._f[3], doc="Probability a paper is top 10%.")
    grant_rate = property(lambda self: self._f[4], doc="Grants a year at reputation 1.")
    leave_logit = property(lambda self: self._f[5], doc="Base log-odds of leaving.")

    def __len__(self) -> int:
        return self._i.shape[1]

    def add(
        self,
        centre: np.ndarray,
        rank: np.ndarray,
        foreign: np.ndarray,
        productivity: np.ndarray,
        host: np.ndarray,
        contract_end: np.ndarray,
        year: int,
    ) -> None:
        """Append new people (arrays of equal length) and restore the priority order."""
        n = len(centre)
        if n == 0:
            return
        rank = np.asarray(rank, dtype=np.int32)
        foreign = np.asarray(foreign, dtype=bool)
        host = np.asarray(host, dtype=bool)
        productivity = np.asarray(productivity, dtype=float)
        log_prod = np.log(productivity)
        r = self.params.researchers
        ints = np.stack(
            (
                np.asarray(centre, dtype=np.int32),
                rank,
                np.asarray(contract_end, dtype=np.int32),
                np.where(host, HOST, SUBSIDY),
                np.full(n, year, dtype=np.int32),
            )
        ).astype(np.int32)
        floats = np.stack(
            (
                productivity,
                self.salary_by_rank[rank],
                self._papers[rank] * productivity,
                1.0 / (1.0 + np.exp(-(self._top10_a + self.params.output.top10_talent_slope * log_prod))),
                self._grants[rank] * productivity,
                self._leave_base[rank]
                + r.foreign_outside_option * foreign
                + r.talent_outside_option * log_prod,
            )
        )
        self._i = np.concatenate((self._i, ints), axis=1)
        self._b = np.concatenate((self._b, np.stack((foreign, host))), axis=1)
        self._f = np.concatenate((self._f, floats), axis=1)
        # One float key: centre, then rank priority, then productivity (highest first).
        key = self.centre * 1e7 + RANK_PRIORITY[self.rank] * 1e5 - np.minimum(self.productivity, 9e4)
        order = np.argsort(key, kind="stable")
        self._i = self._i[:, order]
        self._b = self._b[:, order]
        self._f = self._f[:, order]

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the rows where ``mask`` is true (everyone else has left)."""
        self._i = self._i[:, mask]
        self._b = self._b[:, mask]
        self._f = self._f[:, mask]

    def per_centre(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Sum of ``weights`` (or a head count; booleans count the true rows) per centre."""
        if weights is not None and weights.dtype == bool:
            return np.bincount(self.centre[weights], minlength=self.n_centres).astype(float)
        return np.bincount(self.centre, weights=weights, minlength=self.n_centres)

    def counts(self) -> np.ndarray:
        """Head count per centre and rank, shape (n_centres, 4)."""
        flat = np.bincount(
            self.centre * N_RANKS + self.rank, minlength=self.n_centres * N_RANKS
        )
        return flat.reshape(self.n_centres, N_RANKS)

    def is_researcher(self) -> np.ndarray:
        """PIs, researchers and postdocs (not specialist staff)."""
        return self.rank != STAFF

    def priority_order(self, mask: np.ndarray, reverse: bool = False) -> np.ndarray:
        """Row indices in ``mask``, grouped by centre, in the order a centre keeps people
        (``reverse``: the order in which it lets them go)."""
        idx = np.flatnonzero(mask)
        return idx[::-1] if reverse else idx

    def prefix_within(self, order: np.ndarray, budget: np.ndarray) -> np.ndarray:
        """Rows of ``order`` whose running salary total in their centre stays within ``budget``.

        Returns a boolean mask over the whole population.
        """
        out = np.zeros(len(self), dtype=bool)
        if len(order) == 0:
            return out
        c = self.centre[order]
        running = grouped_cumsum(c, self.salary[order])
        out[order[running <= budget[c] + 1e-9]] = True
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
        sal = self.salary[order]
        running = grouped_cumsum(c, sal)
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
        c = self.centre[order]
        position = grouped_cumsum(c, np.ones(len(order)))
        out[order[position <= k[c]]] = True
        return out

    def label_sources(self, bands: np.ndarray) -> None:
        """Record which money paid each soft-money person this year.

        Args:
            bands: (n_centres, 6) money per soft source in SOURCES order from SUBSIDY to RESERVES;
                people are filled in priority order, programme money first.
        """
        soft = ~self.host
        self.source[~soft] = HOST
        order = self.priority_order(soft)
        if len(order) == 0:
            return
        c = self.centre[order]
        running = grouped_cumsum(c, self.salary[order]) - 1e-9
        edges = np.cumsum(bands, axis=1)[c]
        band = (running[:, None] > edges).sum(axis=1)
        self.source[order] = (SUBSIDY + np.minimum(band, bands.shape[1] - 1)).astype(np.int8)
