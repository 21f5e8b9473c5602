"""WPIModel: a cohort of research centres under one funding-policy design, year by year.

A run is a pure function of (cohort, parameters, policy, horizon, seed): everything random is drawn
from named streams spawned from the run's seed, one per mechanism, so that two policies run with
the same seed see the same draws for everything their difference does not touch (common random
numbers).

The year (one step = one fiscal year; ``year`` 1 is every centre's first supported year):

1. Centres decide whether to seek private money; foundations grow funds, pay out and may endow;
   companies renew, offer and pay partnerships.
2. Hosts move centre posts onto their permanent budget (while support runs).
3. Researchers see the funding of their posts over the foresight window; some leave.
4. Researchers' grants for the year are won; centres open their books: posts whose contracts ran
   out are renewed as far as money allows (after the host absorbs posts at the end of support);
   if money is still short, posts are cut.
5. Salaries are paid, books closed (programme money first; carry-over where flexible).
6. Output: papers, top-10% papers, international co-authored papers.
7. The committee reviews every centre (evaluations in their years); reputation follows output.
8. Centres open posts for next year; candidates accept or not.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from wpi_abm.agents.centre import Centre
from wpi_abm.agents.company import Company
from wpi_abm.agents.foundation import Foundation
from wpi_abm.agents.host import HostInstitution
from wpi_abm.cohort import Cohort
from wpi_abm.finance import CentreFinances
from wpi_abm.parameters import Parameters
from wpi_abm.numerics import clip, ratio
from wpi_abm.policy import PolicyDesign
from wpi_abm.programme import SCORE_KEYS, Programme
from wpi_abm.recorder import Recorder
from wpi_abm.researchers import (
    N_RANKS,
    PERMANENT,
    PI,
    POSTDOC,
    STAFF,
    Population,
)

STREAMS = (
    "mesa",
    "population",
    "departures",
    "recruitment",
    "output",
    "evaluation",
    "company",
    "foundation",
    "market",
    "host",
)
"""One random stream per mechanism; the order is part of the reproducibility contract."""


@dataclass(frozen=True)
class Streams:
    """Independent generators, one per mechanism, all derived from the run's seed."""

    mesa: np.random.Generator
    population: np.random.Generator
    departures: np.random.Generator
    recruitment: np.random.Generator
    output: np.random.Generator
    evaluation: np.random.Generator
    company: np.random.Generator
    foundation: np.random.Generator
    market: np.random.Generator
    host: np.random.Generator

    @classmethod
    def from_seed(cls, seed: np.random.SeedSequence) -> Streams:
        """Derive the streams without mutating ``seed`` (children addressed by spawn key)."""
        gens = {
            name: np.random.Generator(
                np.random.PCG64(
                    np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, k))
                )
            )
            for k, name in enumerate(STREAMS)
        }
        return cls(**gens)


class WPIModel(mesa.Model):
    """A cohort of centres under one policy design.

    Args:
        cohort: Centres, hosts, companies and foundations.
        params: Behavioural parameters.
        policy: The funding-policy design.
        horizon: Years to simulate.
        seed: The run's seed sequence.

    Attributes:
        year: The support year just simulated (0 before the first step).
        centres: Centre agents, in cohort order.
        hosts: Host institutions (co-hosts included).
        companies: Companies.
        foundations: Foundations.
        population: Every researcher and staff member.
        programme: The programme applying ``policy``.
        recorder: Indicators per centre and year.
    """

    def __init__(
        self,
        cohort: Cohort,
        params: Parameters,
        policy: PolicyDesign,
        horizon: int,
        seed: np.random.SeedSequence,
    ) -> None:
        streams = Streams.from_seed(seed)
        super().__init__(rng=streams.mesa)
        self.streams = streams
        self.cohort = cohort
        self.params = params
        self.policy = policy
        self.horizon = horizon
        self.year = 0
        n = len(cohort.centres)
        self.population = Population(n, params)
        self.programme = Programme(
            policy,
            horizon,
            params.researchers.foresight_window + 2,
            params.programme,
            n,
            streams.evaluation,
        )
        host_specs = {h.name: h for h in cohort.hosts}
        hosts = {name: HostInstitution(self, spec, params.host) for name, spec in host_specs.items()}
        self.hosts: list[HostInstitution] = list(hosts.values())
        # Per-centre state read by vectorised steps (exposed on Centre agents as properties).
        self.reputation = np.array([c.reputation for c in cohort.centres], dtype=float)
        self.company_income = np.zeros(n)
        self.endowment_income = np.zeros(n)
        self.gifts = np.zeros(n)
        self.track_score = np.full(n, np.nan)
        self._track = np.zeros((3, n, len(SCORE_KEYS)))
        self._seeking = np.zeros(n, dtype=bool)
        self._push = 1.0
        self.centres: list[Centre] = []
        for i, spec in enumerate(cohort.centres):
            own = [hosts[spec.host]]
            for k in range(1, policy.hosts_per_centre):
                co = HostInstitution(self, host_specs[spec.host], params.host, f"{spec.host}+{k}")
                self.hosts.append(co)
                own.append(co)
            self.centres.append(Centre(self, i, spec, own))
        self.companies = [Company(self, s, params.company) for s in cohort.companies]
        self.foundations = [Foundation(self, s, params.foundation) for s in cohort.foundations]
        self.market_return = 0.0
        self.deals: dict[int, list] = {}
        self.salary_bands = np.zeros((n, 6))
        self._max_partnerships = max((c.max_partnerships for c in cohort.companies), default=0)
        self._max_endowments = max((f.max_endowments for f in cohort.foundations), default=0)
        # What hosts give each centre, by year: (years, n_centres).
        self._host_room = np.array([c.host_terms.capacity for c in self.centres]).T
        self._host_conversion = np.array([c.host_terms.conversion for c in self.centres]).T
        self.finances = CentreFinances(self)
        self.recorder = Recorder(horizon, n)
        self._effort_last = np.zeros(n)
        self._contract_years = np.asarray(params.researchers.contract_years.as_tuple())
        self._planned = np.stack([c.planned for c in self.centres])
        self._planned_payroll = np.array([c.planned_payroll for c in self.centres])
        self._planned_researchers = self._planned[:, :STAFF].sum(axis=1)
        self._populate()

    # -- helpers used by agents -----------------------------------------------------------------
    def seek_array(self, multiplier: float) -> np.ndarray:
        """Each centre's factor on a funder's interest: ``multiplier`` where the centre seeks
        private money, times a growth plan's push."""
        return self._push * np.where(self._seeking, multiplier, 1.0)

    def _funders_act(self, t: int) -> None:
        """Foundations and companies act, with this year's draws made for all of them at once.

        Each mechanism draws the same number of random numbers every year (common random
        numbers); agents with nothing to decide are skipped.
        """
        n = len(self.centres)
        seek_f = self.seek_array(self.params.foundation.seek_multiplier)
        if self.foundations:
            width = self._max_endowments + 2 * n
            u = self.streams.foundation.random((len(self.foundations), width))
            for k, f in enumerate(self.foundations):
                hits = u[k, :n] < f.gift_probability(self.reputation, seek_f)
                if f.endowments or hits.any():
                    f.step_year(t, u[k, 2 * n :], hits, u[k, n : 2 * n])
        if self.companies:
            seek_c = self.seek_array(self.params.company.seek_multiplier)
            width = self._max_partnerships + 2 * n + 1
            u = self.streams.company.random((len(self.companies), width))
            deals: dict[int, list] = {}
            for k, co in enumerate(self.companies):
                hits = u[k, :n] < co.offer_probability(self.reputation, seek_c)
                if co.partnerships or hits.any():
                    co.step_year(t, u[k, 2 * n + 1 :], hits, u[k, n : 2 * n], u[k, 2 * n])
                for d in co.partnerships:
                    deals.setdefault(d.centre, []).append(d)
            self.deals = deals


    def _contract_ends(self, centre: np.ndarray, rank: np.ndarray, start: int) -> np.ndarray:
        """End years of new soft-money contracts starting in ``start``.

        While support runs, contracts end no later than the last year of secured support
        (posts paid from the subsidy end with it); after support, they run their full length.
        """
        secured = self.programme.secured_until(start)
        full = start + self._contract_years[rank] - 1
        cap = secured[centre]
        return np.where(cap >= start, np.minimum(full, cap), full)

    # -- initialisation -------------------------------------------------------------------------
    def _populate(self) -> None:
        """The first people of each centre: PIs first, then a share of the planned posts."""
        rng = self.streams.population
        p = self.params
        perm_share = np.asarray(p.host.initial_permanent_share.as_tuple())
        centre_idx, ranks = [], []
        foreign_share = []
        for c in self.centres:
            fill = np.full(N_RANKS, c.spec.initial_fill)
            fill[PI] = min(1.0, c.spec.initial_fill + 0.25)
            n = np.rint(c.planned * fill).astype(int)
            for r in range(N_RANKS):
                centre_idx.append(np.full(n[r], c.idx))
                ranks.append(np.full(n[r], r))
            foreign_share.append(c.spec.foreign_share)
        centre = np.concatenate(centre_idx).astype(np.int32)
        rank = np.concatenate(ranks).astype(np.int8)
        m = len(centre)
        foreign = (rng.random(m) < np.asarray(foreign_share)[centre]) & (rank != STAFF)
        host = rng.random(m) < perm_share[rank]
        productivity = self._draw_productivity(rng, centre, foreign)
        ends = self._contract_ends(centre, rank, 1)
        # Founding contracts were signed over the years before: stagger their ends.
        ends = np.minimum(ends, rng.integers(1, self._contract_years[rank] + 1))
        ends = np.where(host, PERMANENT, ends)
        self.population.add(centre, rank, foreign, productivity, host, ends)

    def _draw_productivity(
        self, rng: np.random.Generator, centre: np.ndarray, foreign: np.ndarray
    ) -> np.ndarray:
        r = self.params.researchers
        rep = self.reputation[centre]
        mu = -0.5 * r.productivity_sigma**2 + r.reputation_talent * np.log(rep)
        prod = np.exp(mu + r.productivity_sigma * rng.standard_normal(len(centre)))
        return prod * np.where(foreign, r.foreign_productivity_premium, 1.0)

    # -- the year -------------------------------------------------------------------------------
    def step(self) -> None:
        """Simulate one fiscal year."""
        self.year += 1
        t = self.year
        p = self.params
        pop = self.population
        prog = self.programme
        fin = self.finances

        # 1. Centres near the end of secured support seek private money; funders act.
        self._seeking = prog.secured_until(t) - t < p.programme.seek_years_before_end
        plan = self.policy.growth_plan
        self._push = plan.private_funding_push if plan is not None and t > plan.year else 1.0
        self.company_income[:] = 0.0
        self.endowment_income[:] = 0.0
        self.gifts[:] = 0.0
        self.market_return = self.streams.market.normal(
            p.foundation.return_mean, p.foundation.return_sd
        )
        self._funders_act(t)

        # 2. Hosts move posts onto their permanent budget while support runs.
        converted = self._convert(t)

        # 3. Foreseen insecurity; voluntary departures.
        soft_pay = pop.per_centre(pop.salary * ~pop.host)
        insecurity = fin.foresee(t, soft_pay, self.track_score)
        leaving = self._departures(t, insecurity)
        stay = ~leaving
        left = pop.per_centre(leaving)

        # 4. Grants; books; absorption, renewals, cuts.
        grants = self._grants_won(stay)
        soft_pay = pop.per_centre(pop.salary * (stay & ~pop.host))
        money = fin.open_books(
            t, grants, soft_pay, self.company_income, self.endowment_income, self.gifts
        )
        absorbed, not_renewed, laid_off = self._staffing(t, money, stay)

        # 5. Pay and close the books.
        soft_pay = pop.per_centre(pop.salary * ~pop.host)
        host_pay = pop.per_centre(pop.salary * pop.host)
        self.salary_bands = fin.settle(t, soft_pay, host_pay)

        # 6. Output.
        counts = pop.counts()
        researchers = counts[:, :STAFF].sum(axis=1)
        foreign = pop.per_centre(pop.foreign)
        papers, top10, intl = self._output(counts, researchers, foreign, fin.books.research)

        # 7. The committee's view, evaluations, reputation.
        self._track[(t - 1) % 3] = np.column_stack(
            (
                ratio(top10, papers),
                ratio(foreign, researchers),
                ratio(intl, papers),
                researchers / self._planned_researchers,
            )
        )
        self.track_score = prog.score(self._track.sum(axis=0) / min(t, 3))
        passed = prog.evaluate(t, self.track_score)
        quality = ratio(top10, researchers) / p.reputation.top10_per_researcher_ref
        self.reputation += (quality - self.reputation) / p.reputation.lag_years
        np.maximum(self.reputation, 0.05, out=self.reputation)

        # 8. Hiring for next year.
        hired = self._recruit(t, counts, soft_pay, host_pay, insecurity)

        # Record.
        b = fin.books
        rec = self.recorder
        rec.put(t, "researchers", researchers)
        rec.put(t, "pis", counts[:, PI])
        rec.put(t, "postdocs", counts[:, POSTDOC])
        rec.put(t, "staff", counts[:, STAFF])
        rec.put(t, "foreign", foreign)
        rec.put(t, "host_posts", pop.per_centre(pop.host))
        rec.put(t, "personnel_cost", soft_pay + host_pay)
        rec.put(t, "papers", papers)
        rec.put(t, "top10_papers", top10)
        rec.put(t, "intl_papers", intl)
        rec.put(t, "reputation", self.reputation)
        rec.put(t, "income_subsidy", b.income_subsidy)
        rec.put(t, "income_matching", b.income_matching)
        rec.put(t, "income_host", b.income_host)
        rec.put(t, "income_grants", b.grants)
        rec.put(t, "income_company", b.company)
        rec.put(t, "income_endowment", b.endowment)
        rec.put(t, "research", b.research)
        rec.put(t, "reserves", b.reserves)
        rec.put(t, "deferred", b.deferred)
        rec.put(t, "income", b.income)
        rec.put(t, "spending", b.spending)
        rec.put(t, "reserves_change", b.reserves_change)
        rec.put(t, "subsidy_owed", b.owed)
        rec.put(t, "insecurity", insecurity)
        rec.put(t, "left", left)
        rec.put(t, "not_renewed", not_renewed)
        rec.put(t, "laid_off", laid_off)
        rec.put(t, "absorbed", absorbed)
        rec.put(t, "converted", converted)
        rec.put(t, "hired", hired)
        rec.put(t, "score", np.where(np.isnan(passed), np.nan, prog.last_score))
        rec.put(t, "passed", passed)

    def _convert(self, t: int) -> np.ndarray:
        """Hosts move soft posts (not postdocs) onto their permanent budget while support runs."""
        pop = self.population
        rng = self.streams.host
        n = len(self.centres)
        draws = rng.poisson(self._host_conversion[t] * self.programme.in_support(t))
        room = self._host_room[t]
        host_posts = pop.per_centre(pop.host)
        k = np.minimum(draws, np.maximum(0, np.floor(room - host_posts)))
        if not k.any():
            return np.zeros(n)
        order = pop.priority_order(~pop.host & (pop.rank != POSTDOC))
        chosen = pop.first_k(order, k)
        pop.host[chosen] = True
        pop.contract_end[chosen] = PERMANENT
        return pop.per_centre(chosen)

    def _departures(self, t: int, insecurity: np.ndarray) -> np.ndarray:
        """Who leaves voluntarily this year (a mask), driven by foreseen insecurity and outside
        options. They are removed with the year's other leavers in :meth:`_staffing`."""
        pop = self.population
        r = self.params.researchers
        u = self.streams.departures.random(len(pop))
        w = r.foresight_window
        soft = ~pop.host
        exposure = np.where(pop.contract_end < t + w - 1, 1.0, r.secure_contract_exposure)
        felt = np.where(soft, insecurity[pop.centre] * exposure, 0.0)
        rep = self.reputation[pop.centre]
        logit = pop.leave_logit + r.insecurity_sensitivity * felt - r.reputation_retention * (rep - 1.0)
        leave = u < 1.0 / (1.0 + np.exp(-logit))
        return leave

    def _grants_won(self, present: np.ndarray) -> np.ndarray:
        """Competitive grants won this year by the people present (M yen per centre)."""
        pop = self.population
        g = self.params.grants
        return pop.per_centre(pop.grant_rate * present) * self.reputation**g.reputation_elasticity

    def _staffing(
        self, t: int, money: np.ndarray, stay: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Absorb, renew, cut: bring soft payroll within the money available.

        Args:
            t: The year.
            money: Money each centre has for soft-money salaries.
            stay: People who have not decided to leave this year; the others are removed here.

        Returns per-centre counts of absorbed, not renewed and laid-off people.
        """
        pop = self.population
        soft = ~pop.host & stay
        expired = soft & (pop.contract_end < t)
        cont_pay = pop.per_centre(pop.salary * (soft & ~expired))
        cand_pay = pop.per_centre(pop.salary * expired)
        shortfall = np.maximum(0.0, cont_pay + cand_pay - money)

        absorbed = np.zeros(len(pop), dtype=bool)
        fin = self.finances
        allowance = np.where(fin.absorption_open, fin.absorption_left, 0.0)
        if (allowance > 0).any() and (shortfall > 0).any():
            room = self._host_room[t]
            posts_left = np.maximum(0.0, np.floor(room - pop.per_centre(pop.host & stay)))
            order = pop.priority_order(soft & (pop.rank != POSTDOC))
            absorbed = pop.prefix_covering(order, shortfall, cap=allowance)
            absorbed &= pop.first_k(order, posts_left)
            fin.absorption_left = fin.absorption_left - pop.per_centre(pop.salary * absorbed)
            pop.host[absorbed] = True
            pop.contract_end[absorbed] = PERMANENT
            expired &= ~absorbed
            cont_pay = pop.per_centre(pop.salary * (~pop.host & stay & ~expired))

        renewed = pop.prefix_within(pop.priority_order(expired), money - cont_pay)
        not_renewed = expired & ~renewed
        over = np.maximum(0.0, cont_pay - money)
        continuing = ~pop.host & stay & ~expired
        laid_off = np.zeros(len(pop), dtype=bool)
        if (over > 0).any():
            laid_off = pop.prefix_covering(pop.priority_order(continuing, reverse=True), over)
        if renewed.any():
            idx = np.flatnonzero(renewed)
            pop.contract_end[idx] = self._contract_ends(pop.centre[idx], pop.rank[idx], t)
        counts = (
            pop.per_centre(absorbed),
            pop.per_centre(not_renewed),
            pop.per_centre(laid_off),
        )
        pop.keep(stay & ~(not_renewed | laid_off))
        return counts

    def _output(
        self,
        counts: np.ndarray,
        researchers: np.ndarray,
        foreign: np.ndarray,
        research: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Papers, top-10% papers and internationally co-authored papers of the year."""
        pop = self.population
        o = self.params.output
        rng = self.streams.output
        capacity = pop.per_centre(pop.effort)
        norm = self.params.money.research_norm_per_researcher
        resources = ratio(research, researchers * norm, 1.0)
        support = ratio(counts[:, STAFF], o.staff_ratio * researchers, 1.0)
        resource_f = clip(resources, 0.2, 3.0) ** o.resource_elasticity
        support_f = clip(support, 0.05, 1.0) ** o.staff_elasticity
        effective = capacity * resource_f * support_f
        expected = o.publication_lag_weight * self._effort_last + (
            1 - o.publication_lag_weight
        ) * effective
        if self.year == 1:
            expected = effective
        self._effort_last = effective
        papers = rng.poisson(expected).astype(float)
        q = clip(ratio(pop.per_centre(pop.effort * pop.top10_q), capacity), 0.0, 1.0)
        p_intl = clip(o.intl_base + o.intl_per_foreign_share * ratio(foreign, researchers), 0.0, 1.0)
        n_papers = papers.astype(np.int64)
        top10 = rng.binomial(n_papers, q).astype(float)
        intl = rng.binomial(n_papers, p_intl).astype(float)
        return papers, top10, intl

    def _recruit(
        self,
        t: int,
        counts: np.ndarray,
        soft_pay: np.ndarray,
        host_pay: np.ndarray,
        insecurity: np.ndarray,
    ) -> np.ndarray:
        """Open posts for next year; candidates accept with a probability that falls with
        the centre's insecurity. Hires arrive at the start of next year."""
        rng = self.streams.recruitment
        rc = self.params.recruitment
        n = len(self.centres)
        budget = self.finances.hiring_budget(t, soft_pay, host_pay)
        openings = self._openings(budget, counts, soft_pay + host_pay)
        fill = rc.fill_rate * (1.0 - rc.fill_insecurity_sensitivity * insecurity)
        hired = rng.binomial(openings, clip(fill, 0.0, 1.0)[:, None])
        total = hired.sum(axis=1).astype(float)
        if t >= self.horizon or not hired.any():
            return total
        centre = np.repeat(np.repeat(np.arange(n), N_RANKS), hired.ravel()).astype(np.int32)
        rank = np.repeat(np.tile(np.arange(N_RANKS), n), hired.ravel()).astype(np.int8)
        rep = self.reputation
        p_foreign = clip(
            rc.foreign_hire_base + rc.foreign_hire_reputation_slope * (rep - 1.0),
            rc.foreign_hire_min,
            rc.foreign_hire_max,
        )
        foreign = (rng.random(len(centre)) < p_foreign[centre]) & (rank != STAFF)
        productivity = self._draw_productivity(rng, centre, foreign)
        ends = self._contract_ends(centre, rank, t + 1)
        self.population.add(centre, rank, foreign, productivity, np.zeros(len(centre), bool), ends)
        return total

    def _openings(self, budget: np.ndarray, counts: np.ndarray, payroll: np.ndarray) -> np.ndarray:
        """Posts to open per centre and rank within each centre's hiring budget.

        Each centre aims at its planned composition scaled to the payroll it can afford; when the
        posts it wants cost more than its budget, it opens the same share of each rank.
        """
        salary = self.population.salary_by_rank
        budget = np.maximum(budget, 0.0)
        scale = (payroll + budget) / self._planned_payroll
        wanted = np.maximum(0.0, np.floor(self._planned * scale[:, None] - counts))
        cost = wanted @ salary
        share = np.minimum(1.0, ratio(budget, cost, 0.0))
        return np.floor(wanted * share[:, None]).astype(np.int64)

    def run(self) -> Recorder:
        """Simulate every year up to the horizon and return the recorded indicators."""
        while self.year < self.horizon:
            self.step()
        return self.recorder
