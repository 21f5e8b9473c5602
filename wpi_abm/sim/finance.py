"""The centres' books: foresight, income by source, personnel first, reserves and carry-over.

The books of every centre of a chunk of runs are kept here, all centres at once (arrays indexed
by centre), because a run opens and closes them a few hundred times and per-centre Python would
dominate its cost. What a centre *does* with its money (seek private money, ask its host to
absorb posts, renew, cut, hire) is decided by its :class:`~wpi_abm.sim.agents.centre.Centre`
agent; the books say what money there is.

Money in M yen per year. "Soft money" is everything that pays posts not on a host's permanent
budget: programme money (subsidy, matching, carry-over), company payments, endowment payouts, the
personnel share of grants, host cash and reserves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wpi_abm.numerics import clip, ratio
from wpi_abm.sim import elementary
from wpi_abm.sim.world import World


@dataclass
class Books:
    """One year's accounts of every centre (arrays indexed by centre)."""

    owed: np.ndarray
    matching: np.ndarray
    carry: np.ndarray
    grants: np.ndarray
    personnel_grants: np.ndarray
    host_cash: np.ndarray
    company: np.ndarray
    endowment: np.ndarray
    eligible: np.ndarray
    nonprog: np.ndarray
    # Filled by settle():
    income_subsidy: np.ndarray | None = None
    income_matching: np.ndarray | None = None
    income_host: np.ndarray | None = None
    income: np.ndarray | None = None
    research: np.ndarray | None = None
    spending: np.ndarray | None = None
    reserves: np.ndarray | None = None
    reserves_change: np.ndarray | None = None
    deferred: np.ndarray | None = None


class CentreFinances:
    """Money state of every centre, carried from year to year, and the rules that move it.

    Args:
        world: The chunk of runs.

    Attributes:
        reserves: Money kept from past years.
        insecurity: Foreseen funding gap of soft-money posts this year (0–1).
        absorption_open: Whether the host's absorption of posts has been triggered.
        absorption_left: Money of soft posts the hosts will still take over.
        books: This year's accounts.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        n = world.size
        p = world.params
        self.window = p.researchers.foresight_window
        self.reserve_cap = p.money.reserve_cap
        self.personnel_share = p.grants.personnel_share
        self.renewal_belief = p.company.renewal_belief
        self.commitment_belief = p.host.commitment_belief
        self.max_size = p.recruitment.max_size_factor
        self.cliff_fraction = p.programme.support_end_fraction
        self.reserves = np.zeros(n)
        self.insecurity = np.zeros(n)
        self.private_last = np.zeros(n)
        self.nonprog_last = np.zeros(n)
        self.absorption_open = np.zeros(n, dtype=bool)
        self.absorption_left = np.zeros(n)
        eligible = world.programme.schedule.match_eligible
        self._company_eligible = "company" in eligible
        self._foundation_eligible = "foundation" in eligible
        self.books: Books | None = None

    # -- foresight ------------------------------------------------------------------------------
    def foresee(self, year: int, soft_payroll: np.ndarray) -> np.ndarray:
        """Foreseen funding gap of soft-money posts over the foresight window (0–1).

        Centres and their researchers add up the money they can see for the next ``window``
        years — the subsidy as scheduled (pending gates weighted by the chance of passing them,
        which the yearly follow-up reveals where the design has foresight), expected matching,
        carry-over, last year's other soft income, reserves, running partnerships (renewals
        believed with ``renewal_belief``) and, when support may end within the window, the host's
        promise to absorb posts (believed with the growth plan's host commitment, or with
        ``commitment_belief`` without a plan) — and compare it with the soft payroll they carry.
        """
        world = self.world
        prog = world.programme
        w = self.window
        last = year + w - 1
        need = w * soft_payroll
        gliding = prog.gliding(year)
        if gliding.all():
            # A flexible centre sees its own plan: programme money on its glide path.
            programme = world.planned_window.copy()
        else:
            subsidy, match_years = prog.expected(year, last, world.beliefs)
            programme = subsidy + match_years * prog.match_amount(year)
            if gliding.any():
                programme = np.where(gliding, world.planned_window, programme)
        seen = programme + w * self.nonprog_last + self.reserves
        carries = prog.carries_over(year)
        if carries.any():
            seen = seen + np.where(carries, prog.deferred, 0.0)
        for d in world.deals:
            covered = max(0, min(w, d.end - year + 1))
            seen[d.centre] += d.amount * (covered + self.renewal_belief * (w - covered))
        secured = world.secured
        belief = world.each_clock(
            year, lambda age: world.policy.host_commitment_seen(age, self.commitment_belief)
        )
        promise = np.where(
            self.absorption_open, self.absorption_left, world.absorption_share * soft_payroll
        )
        uncovered = w - clip(secured - year + 1, 0, w)
        seen += belief * promise * uncovered
        self.insecurity = clip(1.0 - ratio(seen, need, 1.0), 0.0, 1.0)
        return self.insecurity

    # -- the year's money -----------------------------------------------------------------------
    def open_books(
        self,
        year: int,
        grants: np.ndarray,
        soft_payroll: np.ndarray,
        company: np.ndarray,
        endowment: np.ndarray,
        gifts: np.ndarray,
    ) -> np.ndarray:
        """Open this year's books; returns the money each centre has for soft-money salaries.

        Also triggers the host's absorption when programme money stops or falls by more than
        half (the end of support, or a cliff such as the reform's year 11): the hosts will take
        over soft posts worth ``absorption_share`` × strength × commitment × the soft payroll.
        """
        world = self.world
        prog = world.programme
        eligible = np.zeros_like(grants)
        if self._company_eligible:
            eligible = eligible + company
        if self._foundation_eligible:
            eligible = eligible + endowment + gifts
        owed = prog.owed(year, world.draw)
        matching = prog.matching(year)
        prog.record_raised(year, eligible)
        carry = prog.carry_over(year)
        now = owed + matching
        cliff = (
            ~self.absorption_open
            & (world.programme_last > 0)
            & (now < self.cliff_fraction * world.programme_last)
        )
        self.absorption_left = np.where(
            cliff, world.absorption_share * soft_payroll, self.absorption_left
        )
        self.absorption_open |= cliff
        world.programme_last = now
        personnel_grants = grants * self.personnel_share
        host_cash = world.host_cash.copy()
        nonprog = personnel_grants + host_cash + company + endowment
        self.books = Books(
            owed=owed,
            matching=matching,
            carry=carry,
            grants=grants,
            personnel_grants=personnel_grants,
            host_cash=host_cash,
            company=company.copy(),
            endowment=endowment.copy(),
            eligible=eligible,
            nonprog=nonprog,
        )
        return owed + matching + carry + nonprog + self.reserves

    def settle(self, year: int, soft_payroll: np.ndarray, host_payroll: np.ndarray) -> None:
        """Pay this year's salaries and close the books.

        Programme money is used first (what is not used lapses, or is carried over where the design
        is flexible); then the other soft money; then reserves. What is left of the other money goes
        to reserves up to ``reserve_cap`` × soft payroll, and beyond that to research.

        Raises:
            RuntimeError: A centre's payroll exceeds its money (a broken invariant, not bad input).
        """
        b = self.books
        prog = self.world.programme
        available = b.owed + b.matching + b.carry
        drawn = np.minimum(available, soft_payroll)
        rest = soft_payroll - drawn
        use_nonprog = np.minimum(b.nonprog, rest)
        rest = rest - use_nonprog
        use_reserves = np.minimum(self.reserves, rest)
        rest = rest - use_reserves
        if (rest > 1e-6).any():
            c = int(np.argmax(rest))
            raise RuntimeError(f"centre {c}: payroll exceeds money by {rest[c]:.3f} M yen")
        reserves = self.reserves - use_reserves + (b.nonprog - use_nonprog)
        excess = np.maximum(0.0, reserves - self.reserve_cap * soft_payroll)
        reserves -= excess
        prog.deferred[:] = np.where(prog.carries_over(year), available - drawn, 0.0)
        b.income_subsidy = np.minimum(drawn, b.owed + b.carry)
        prog.record_used(year, b.income_subsidy)
        b.income_matching = drawn - b.income_subsidy
        b.income_host = host_payroll + b.host_cash
        b.income = drawn + b.income_host + b.grants + b.company + b.endowment
        b.research = b.grants - b.personnel_grants + excess
        b.spending = soft_payroll + host_payroll + b.research
        b.reserves_change = reserves - self.reserves
        b.reserves = reserves
        b.deferred = prog.deferred.copy()
        self.reserves = reserves
        self.private_last = b.eligible
        self.nonprog_last = b.personnel_grants + b.host_cash + b.endowment
        self.world.national_support_last = drawn + b.income_host

    # -- grants -----------------------------------------------------------------------------------
    def grants_won(self, grant_rates: np.ndarray) -> np.ndarray:
        """Competitive grants won this year by the people present (M yen per centre).

        National money (KAKENHI, JST): pays research and, for ``personnel_share``, salaries;
        never eligible for matching. Rises with the centre's reputation.

        Args:
            grant_rates: Per centre, the sum of the grant rates of the people present.
        """
        w = self.world
        return grant_rates * elementary.power(w.reputation, w.params.grants.reputation_elasticity)

    # -- hiring ---------------------------------------------------------------------------------
    def hiring_budget(
        self, year: int, soft_payroll: np.ndarray, host_payroll: np.ndarray
    ) -> np.ndarray:
        """Money for posts opened this year for arrival next year (may be ≤ 0).

        A centre hires when the money it expects next year (programme money owed given its record,
        expected matching, carry-over, this year's other soft income, a share of reserves) exceeds
        the soft payroll it carries, up to ``max_size_factor`` × its planned payroll.
        """
        prog = self.world.programme
        b = self.books
        nxt = year + 1
        gliding = prog.gliding(nxt)
        if gliding.all():
            programme = self.world.planned_next
        else:
            programme = prog.owed(nxt) + prog.matching(nxt)
            if gliding.any():
                programme = np.where(gliding, self.world.planned_next, programme)
        expected = programme + b.nonprog
        expected = expected + self.reserves / self.window
        carries = prog.carries_over(nxt)
        if carries.any():
            expected = expected + np.where(carries, prog.deferred, 0.0)
        limit = self.max_size * self.world.planned_payroll - soft_payroll - host_payroll
        return np.minimum(expected - soft_payroll, limit)
