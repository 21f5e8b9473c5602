"""The state of a chunk of runs that every mechanism and agent reads and writes.

A :class:`World` holds, for every centre of every run simulated together, the arrays that change
from year to year (reputation, income flows, the hosts' terms, permanent posts, the committee's
view), the researcher population, the programme, the books and the random streams. Mechanisms
(:mod:`wpi_abm.sim.departures`, :mod:`~wpi_abm.sim.staffing`, …) and agents
(:mod:`wpi_abm.sim.agents`) take the world; nothing reaches up into the Mesa model.

Per-centre arrays are world-major: centre ``w * n_centres + c`` is cohort centre ``c`` of run
(world) ``w``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from wpi_abm.cohort import Cohort
from wpi_abm.numerics import clip
from wpi_abm.parameters import Parameters
from wpi_abm.policy import PolicyDesign
from wpi_abm.sim import elementary
from wpi_abm.sim.per_world import PerWorld
from wpi_abm.sim.population import N_RANKS, Population
from wpi_abm.sim.programme import Programme
from wpi_abm.sim.recorder import Recorder
from wpi_abm.sim.streams import Draws

EXTRA_LOOKAHEAD = 2
"""Years compiled beyond ``horizon + foresight_window``: foresight in the last simulated years,
and next year's host capacity, must find a schedule column. Not a parameter: it changes nothing
but array lengths."""


@dataclass(frozen=True)
class Encounters:
    """One kind of funder's random numbers for the year.

    Attributes:
        u: (runs, funders, width) uniform draws; a funder's row is read by its agent.
        hits: (runs, funders, centres) whether the funder's interest in a centre was met.
        met: Per run and funder, whether it met any centre (plain bools: most funders meet none
            in a year, and they check this first).
    """

    u: np.ndarray
    hits: np.ndarray
    met: list[list[bool]]


def clock_age(year: int | np.ndarray, start: int, policy_from: int) -> int | np.ndarray:
    """The support year a design sees in model ``year`` (or years) for a centre with this clock.

    ``year - start + 1`` once the design pays the centre (from ``policy_from``), else 0.
    """
    if isinstance(year, np.ndarray):
        return np.where(year >= policy_from, year - start + 1, 0)
    return year - start + 1 if year >= policy_from else 0


HOST_TERMS = ("cash", "capacity", "capacity_next", "conversion_mean", "absorption_share")
"""What hosts give each centre in a year, in the column order of :attr:`World.host_terms`."""


class World:
    """Every centre of a chunk of runs, and what is around them.

    Args:
        cohort: Centres, hosts, companies and foundations of one run.
        params: Behavioural parameters.
        policy: The funding-policy design.
        horizon: Years to simulate.
        seeds: One seed sequence per run (world).
        per_world: The values that may differ between worlds (:mod:`wpi_abm.sim.per_world`);
            default: ``params``' and ``policy``'s in every world.

    Attributes:
        year: The support year being simulated (0 before the first).
        params, policy: The parameters and design of every world, except the values in
            ``per_world``, which mechanisms read there.
        per_world: Those values, per centre row.
        size: Centres in all worlds (``n_worlds × n_centres``).
        last_year: Last year any schedule or host outlook is needed for.
        draws: Random draws, one stream per mechanism and world.
        population: Every researcher and staff member of all worlds (columnar).
        programme: The programme applying the design.
        reputation: Per centre; follows output with a lag.
        seeking: Per centre: whether it seeks private money this year.
        push: Per centre: a growth plan's factor on its search for private money.
        secured: Per centre: last year of certain support, as seen this year.
        match_incentive: Per centre: matching it can expect per extra yen raised now.
        beliefs: Per gate, each centre's chance of passing it as seen this year.
        gliding, any_gliding: Per centre, whether it draws from a flexible envelope this year;
            whether any centre does.
        envelope_years, envelope_left, matching_ahead, matching_now: What the programme tells a
            flexible centre this year (years to the end of its envelope, subsidy left, matching
            expected over those years, matching this year).
        draw, planned_window, planned_next: A flexible centre's plan of the year.
        programme_last: Programme money each centre received last year.
        company_income, endowment_income, gifts: Private money flows of the year.
        market_return: Per world: the year's return on endowment funds.
        deals: Running company partnerships, in company order.
        company_encounters, foundation_encounters: The year's draws for funders.
        national_support_last: National money each centre received last year.
        host_terms: (size, 5) what the hosts give each centre this year, by
            :data:`HOST_TERMS` (set by the host agents); ``host_cash``, ``host_capacity``,
            ``host_capacity_next``, ``conversion_mean`` and ``absorption_share`` are its columns.
        host_posts: (size, ranks) permanent posts the hosts fund for each centre.
        shortfall, renewal_budget, cut, openings: The centres' staffing and hiring decisions.
        planned, planned_payroll, planned_researchers: Each centre's planned size (set by the
            centre agents).
        track_score: The committee's current view of each centre.
        recorder: Indicators per centre and year.
    """

    def __init__(
        self,
        cohort: Cohort,
        params: Parameters,
        policy: PolicyDesign,
        horizon: int,
        seeds: Sequence[np.random.SeedSequence],
        per_world: PerWorld | None = None,
    ) -> None:
        self.cohort = cohort
        self.params = params
        self.policy = policy
        self.horizon = horizon
        self.year = 0
        self.n_centres = n = len(cohort.centres)
        self.draws = Draws(seeds, n)
        self.n_worlds = nw = self.draws.n_worlds
        self.size = size = nw * n
        self.per_world = per_world or PerWorld.of([params] * nw, [policy] * nw, n)
        self.last_year = horizon + params.researchers.foresight_window + EXTRA_LOOKAHEAD
        self.population = Population(size, params, self.per_world)
        # Each centre's clock: the model year of its first supported year, and the first year
        # the design (not history given as input) pays it. Equal in every world.
        self.start = np.tile([c.first_year for c in cohort.centres], nw)
        self.policy_from = np.tile([c.policy_from for c in cohort.centres], nw)
        self._clocks = sorted({(c.first_year, c.policy_from) for c in cohort.centres})
        self.active = self.start <= 1
        self.programme = Programme(
            policy,
            horizon,
            params.researchers.foresight_window + EXTRA_LOOKAHEAD,
            params.programme,
            size,
            [(c.first_year, c.history, c.subsidy_scale) for c in cohort.centres] * nw,
            self.per_world.pass_score,
        )
        self.reputation = np.tile([c.reputation for c in cohort.centres], nw).astype(float)
        self.seeking = np.zeros(size, dtype=bool)
        self.push = np.ones(size)
        self.secured = np.zeros(size, dtype=np.int64)
        self.match_incentive = np.zeros(size)
        self.beliefs: dict[str, np.ndarray] = {}
        # A flexible centre's plan (set by the centre agents): this year's draw, and the
        # programme money it plans over the foresight window and for next year.
        self.draw = np.zeros(size)
        self.envelope_years = np.ones(size, dtype=np.int64)
        self.envelope_left = np.zeros(size)
        self.matching_ahead = np.zeros(size)
        self.matching_now = np.zeros(size)
        self.planned_window = np.zeros(size)
        self.planned_next = np.zeros(size)
        # Programme money (subsidy owed + matching) of each centre last year.
        self.programme_last = np.zeros(size)
        self.company_income = np.zeros(size)
        self.endowment_income = np.zeros(size)
        self.gifts = np.zeros(size)
        self.market_return = np.zeros(nw)
        self.deals: list = []
        self.company_encounters: Encounters | None = None
        self.foundation_encounters: Encounters | None = None
        # National money (programme + host) each centre received last year: the Kavli condition.
        self.national_support_last = np.full(size, np.inf)
        # One column per term, so that a host gives a centre all its terms in one operation; the
        # named attributes are views of the columns.
        self.host_terms = np.zeros((size, len(HOST_TERMS)))
        (
            self.host_cash,
            self.host_capacity,
            self.host_capacity_next,
            self.conversion_mean,
            self.absorption_share,
        ) = self.host_terms.T
        self.host_posts = np.zeros((size, N_RANKS))
        # The centres' staffing and hiring decisions of the year (set by the centre agents).
        self.shortfall = np.zeros(size)
        self.renewal_budget = np.zeros(size)
        self.cut = np.zeros(size)
        self.openings = np.zeros((size, N_RANKS), dtype=np.int64)
        self.planned = np.zeros((size, N_RANKS))
        self.planned_payroll = np.zeros(size)
        self.planned_researchers = np.zeros(size)
        self.track_score = np.full(size, np.nan)
        self.gliding = np.zeros(size, dtype=bool)
        self.any_gliding = False
        self.contract_years = np.asarray(params.researchers.contract_years.as_tuple())
        self.recorder = Recorder(horizon, size)

    def begin_year(self) -> None:
        """Advance the year; clear the flows and terms that agents set afresh every year."""
        self.year += 1
        self.active = self.start <= self.year
        prog = self.programme
        self.secured = prog.secured_until(self.year)
        # Gates and the committee's view change only at the year's review: one reading serves
        # every decision and the foresight of the year.
        self.beliefs = prog.beliefs(self.year, self.track_score)
        self.match_incentive = prog.match_incentive(self.year, self.beliefs)
        # Which centres choose this year's draw from a flexible envelope (a plain flag first:
        # most designs have none, and every centre checks it).
        self.gliding = prog.gliding(self.year)
        self.any_gliding = bool(self.gliding.any())
        if self.any_gliding:
            self.envelope_years = prog.envelope_years(self.year, self.beliefs)
            self.envelope_left = prog.envelope_left()
            self.matching_ahead = prog.matching_ahead(self.year, self.envelope_years, self.beliefs)
            self.matching_now = prog.matching(self.year)
        for flow in (self.company_income, self.endowment_income, self.gifts, self.host_terms):
            flow[:] = 0.0

    def each_clock(self, year: int, rule: Callable[[int], object]) -> np.ndarray:
        """Per centre, ``rule`` of the support year the design sees in model ``year``.

        A design's features (a growth plan, say) are timed in support years. For a centre that
        has not started, or whose support in ``year`` is still history given as input, the
        design is not in force: ``rule`` sees support year 0, before any feature.
        """
        if len(self._clocks) == 1:
            start, policy_from = self._clocks[0]
            return np.full(self.size, rule(clock_age(year, start, policy_from)), dtype=float)
        out = np.zeros(self.size)
        for start, policy_from in self._clocks:
            rows = (self.start == start) & (self.policy_from == policy_from)
            out[rows] = rule(clock_age(year, start, policy_from))
        return out

    def rows(self, slot: int) -> slice:
        """Positions of cohort centre ``slot`` in every world's per-centre arrays.

        A strided slice: indexing with it gives a view, so agents read and write their state in
        place.
        """
        return slice(slot, self.size, self.n_centres)

    def rows_per_world(self) -> np.ndarray:
        """Population rows per world (rows are sorted by centre, hence by world)."""
        first = np.arange(self.n_worlds + 1) * self.n_centres
        return np.diff(np.searchsorted(self.population.centre, first))

    def fundraising(self, multiplier: float) -> np.ndarray:
        """Each centre's factor on a funder's interest.

        ``multiplier`` where the centre seeks private money, times a growth plan's push.
        """
        factor = self.push * np.where(self.seeking, multiplier, 1.0)
        # A centre that has not started yet meets no funder.
        return factor if self.active.all() else np.where(self.active, factor, 0.0)

    def contract_ends(self, centre: np.ndarray, rank: np.ndarray, start: int) -> np.ndarray:
        """End years of new soft-money contracts starting in ``start``.

        While support runs, contracts end no later than the last year of secured support
        (posts paid from the subsidy end with it); after support, they run their full length.
        """
        cap = self.programme.secured_until(start)[centre]
        full = start + self.contract_years[rank] - 1
        return np.where(cap >= start, np.minimum(full, cap), full)

    def productivity(self, u: np.ndarray, centre: np.ndarray, foreign: np.ndarray) -> np.ndarray:
        """Productivity of new people from uniform draws ``u``.

        Lognormal; better at reputable centres; foreign researchers carry a premium.
        """
        r = self.params.researchers
        rep = self.reputation[centre]
        mu = -0.5 * r.productivity_sigma**2 + r.reputation_talent * elementary.log(rep)
        z = ndtri(clip(u, 1e-12, 1 - 1e-12))
        prod = elementary.exp(mu + r.productivity_sigma * z)
        return prod * np.where(foreign, r.foreign_productivity_premium, 1.0)
