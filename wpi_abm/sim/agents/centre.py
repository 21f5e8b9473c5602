"""Research centres: what they seek, whom they keep, whom they hire."""

from __future__ import annotations

import mesa
import numpy as np

from wpi_abm.cohort import CentreSpec
from wpi_abm.numerics import matvec
from wpi_abm.sim import kernels
from wpi_abm.sim.agents.host import HostInstitution
from wpi_abm.sim.flexibility import glide
from wpi_abm.sim.population import STAFF
from wpi_abm.sim.world import World, clock_age


class Centre(mesa.Agent):
    """A research centre funded by the programme, in every run of the chunk.

    A centre has a field, one or more host institutions, a planned size and composition, a
    reputation and its books. Its money comes from the programme (subsidy, matching, carry-over),
    its hosts (permanent posts and cash), researchers' competitive grants, company partnerships,
    endowment payouts and its reserves (:mod:`wpi_abm.sim.finance` keeps the books). It decides,
    each year and in each run:

    - whether to seek private money (:meth:`seek_private_money`);
    - under a flexible design, how much of its envelope to draw this year (:meth:`plan_draw`);
    - how much of its soft payroll to ask its hosts to take over, then how much to renew and how
      much to cut (:meth:`ask_absorption`, :meth:`budget_staff`); the people concerned are chosen
      in its priority order (:mod:`wpi_abm.sim.population`);
    - which posts to open for next year (:meth:`open_posts`).

    One agent stands for cohort entry ``slot`` in every run: its state is the slice ``rows`` of
    the world's per-centre arrays (one element per run), so each decision is one numpy operation
    over the runs.

    Attributes:
        slot: Position in the cohort.
        rows: Its positions in the world's per-centre arrays, one per run (a strided slice).
        spec: Its cohort entry.
        field: Research field.
        hosts: Its host institutions (several under a Multiple-Host design).
        planned: Planned headcount by rank (PI, researcher, postdoc, staff).
        planned_payroll: Yearly cost of the planned headcount (M yen), per run (the salaries
            of a run's posterior particle: sim/per_world.py).
    """

    def __init__(
        self,
        model: mesa.Model,
        world: World,
        slot: int,
        spec: CentreSpec,
        hosts: list[HostInstitution],
    ) -> None:
        super().__init__(model)
        self.world = world
        self.slot = slot
        self.rows = world.rows(slot)
        self.spec = spec
        self.field = spec.field
        self.hosts = hosts
        for h in hosts:
            h.centres.append(self)
        self.start = spec.first_year
        self.policy_from = spec.policy_from
        self.planned = np.array(spec.planned.as_tuple(), dtype=float)
        # The salary tables of the runs, each with the runs that have it (one table, every run,
        # unless the runs take different posterior particles).
        self._salaries = world.per_world.salary_groups
        self.planned_payroll = np.empty(world.n_worlds)
        for salary, runs in self._salaries:
            self.planned_payroll[runs] = float(self.planned @ salary)
        world.planned[self.rows] = self.planned
        world.planned_payroll[self.rows] = self.planned_payroll
        world.planned_researchers[self.rows] = self.planned[:STAFF].sum()

    @property
    def name(self) -> str:
        """The centre's name in the cohort."""
        return self.spec.name

    def started(self, year: int) -> bool:
        """Whether the centre exists in model ``year`` (from its first supported year)."""
        return year >= self.start

    def support_year(self, year: int) -> int:
        """The support year its design sees in model ``year`` (0 before the design applies)."""
        return clock_age(year, self.start, self.policy_from)

    # -- decisions ------------------------------------------------------------------------------
    def seek_private_money(self) -> None:
        """Seek company and foundation money when secured support ends soon, or when it pays.

        A centre seeks when its secured subsidy ends within ``seek_years_before_end`` years (or
        has ended: matching-only years are never secured, so the search goes on through them). A
        growth plan in force pushes its search further, and so does matching: each yen of
        matching it expects per yen raised raises its effort by ``matching_response`` (matching
        as 「外部資金の獲得増のインセンティブ」, an incentive to raise more; seed).
        """
        w = self.world
        t = w.year
        r = self.rows
        ahead = w.params.programme.seek_years_before_end
        response = w.params.centre.matching_response
        push = w.policy.fundraising_push(self.support_year(t))
        # One compiled pass over its rows: seeking = (secured − t < ahead) & started, and
        # push × (1 + response × match_incentive).
        kernels.seek(
            w.secured, w.match_incentive, w.seeking, w.push, r.start, r.step, t, ahead,
            self.started(t), push, response,
        )  # fmt: skip

    def plan_draw(self) -> None:
        """Choose this year's draw from what is left of the envelope (flexible designs only).

        The glide path of :mod:`wpi_abm.sim.flexibility`: programme money (draw plus expected
        matching) steps from last year's level to a landing level at the end of the envelope
        the centre plans for, spending exactly what is left plus the matching it expects; this
        year's draw is the first step less this year's matching. The centre also records what
        its plan gives over the foresight window and next year, which it and its researchers
        foresee.
        """
        w = self.world
        r = self.rows
        if not w.any_gliding or not w.gliding[r].any():
            return
        # What the programme tells it (computed once a year for every centre): the years to the
        # end of the envelope it plans for, what is left, and the matching it expects meanwhile.
        plan = glide(
            w.programme_last[r], w.envelope_left[r] + w.matching_ahead[r], w.envelope_years[r]
        )
        w.draw[r] = np.maximum(0.0, plan.first - w.matching_now[r])
        window = w.params.researchers.foresight_window
        w.planned_window[r] = plan.total(window)
        w.planned_next[r] = plan.at(1)

    def ask_absorption(
        self, money: np.ndarray, continuing: np.ndarray, expiring: np.ndarray
    ) -> None:
        """How much soft payroll to ask the hosts to take over: what money cannot carry.

        Args:
            money: Money for soft-money salaries this year (all centres).
            continuing: Soft payroll of contracts that run on (all centres).
            expiring: Soft payroll of contracts that ran out and may be renewed (all centres).
        """
        r = self.rows
        self.world.shortfall[r] = np.maximum(0.0, continuing[r] + expiring[r] - money[r])

    def budget_staff(self, money: np.ndarray, continuing: np.ndarray) -> None:
        """Money for renewals (what is left after continuing contracts) and payroll to cut.

        Args:
            money: Money for soft-money salaries this year (all centres).
            continuing: Soft payroll of contracts that run on, after the hosts' absorption.
        """
        r = self.rows
        w = self.world
        w.renewal_budget[r] = money[r] - continuing[r]
        w.cut[r] = np.maximum(0.0, continuing[r] - money[r])

    def open_posts(self, budget: np.ndarray, counts: np.ndarray, payroll: np.ndarray) -> None:
        """Posts to open per rank for next year, within the hiring budget.

        The centre aims at its planned composition scaled to the payroll it can afford; when the
        posts it wants cost more than its budget, it opens the same share of each rank.

        Args:
            budget: Hiring budget (all centres; may be ≤ 0).
            counts: People by centre and rank now (as floats).
            payroll: Payroll now (all centres).
        """
        r = self.rows
        w = self.world
        if not self.started(w.year):
            # Its first people arrive at its start (wpi_abm.sim.founding), not through hiring.
            w.openings[r] = 0
            return
        # One compiled pass before and one after the payroll of the wanted posts (a matrix
        # product, kept in numpy: its summation order is OpenBLAS's, for a lone world too —
        # numerics.matvec); the floats of
        # ``max(0, floor(planned × scale − counts))`` and ``floor(wanted × min(b / cost, 1))``.
        b, wanted = kernels.wanted_posts(
            budget, counts, payroll, r.start, r.step, self.planned, self.planned_payroll
        )
        if len(self._salaries) == 1:
            cost = matvec(wanted, self._salaries[0][0])
        else:
            # A row's product is the same float in any set of rows (numerics.matvec).
            cost = np.empty(len(wanted))
            for salary, runs in self._salaries:
                cost[runs] = matvec(wanted[runs], salary)
        # The share of wanted posts the budget pays for (none wanted: nothing to open).
        kernels.open_within(b, wanted, cost, w.openings, r.start, r.step)
