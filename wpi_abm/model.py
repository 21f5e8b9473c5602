"""WPIModel: cohorts of research centres under one funding-policy design, year by year.

A run is a pure function of (cohort, parameters, policy, horizon, seed). Everything random in a run
is drawn from named streams spawned from the run's seed, one per mechanism, so that two policies run
with the same seed see the same draws for everything their difference does not touch (common random
numbers).

One model may simulate several runs at once, as independent *worlds*: each world is a full copy of
the cohort with its own hosts, companies, foundations, market and random streams, and nothing passes
between worlds. Running worlds together only shares the cost of each numpy call; a world's results
are identical whether it runs alone or with others (tested).

The year (one step = one fiscal year; ``year`` 1 is every centre's first supported year):

1. Centres near the end of their secured support seek private money; foundations grow funds, pay
   out and may endow; companies renew, offer and pay partnerships.
2. Hosts move centre posts onto their permanent budget (while support runs).
3. Researchers see the funding of their posts over the foresight window; some leave.
4. Researchers' grants for the year are won; centres open their books: the host absorbs posts at
   the end of support; posts whose contracts ran out are renewed as far as money allows; if money
   is still short, posts are cut.
5. Salaries are paid, books closed (programme money first; carry-over where flexible).
6. Output: papers, top-10% papers, international co-authored papers.
7. The committee reviews every centre (evaluations in their years); reputation follows output.
8. Centres open posts for next year; candidates accept or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mesa
import numpy as np
from scipy.special import ndtri

from wpi_abm.agents.centre import Centre
from wpi_abm.agents.company import Company
from wpi_abm.agents.foundation import Foundation
from wpi_abm.agents.host import HostInstitution, HostTerms
from wpi_abm.cohort import Cohort
from wpi_abm.finance import CentreFinances
from wpi_abm.numerics import clip, ratio
from wpi_abm.parameters import Parameters
from wpi_abm.policy import PolicyDesign
from wpi_abm.programme import SCORE_KEYS, Programme
from wpi_abm.recorder import Recorder
from wpi_abm.researchers import N_RANKS, PERMANENT, PI, POSTDOC, RESEARCHER, STAFF, Population

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
    """Independent generators, one per mechanism, all derived from one run's seed."""

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
    """Cohorts of centres under one policy design, one cohort per run ("world").

    Args:
        cohort: Centres, hosts, companies and foundations of one world.
        params: Behavioural parameters.
        policy: The funding-policy design.
        horizon: Years to simulate.
        seeds: One seed sequence per world (a single seed: one world).

    Attributes:
        year: The support year just simulated (0 before the first step).
        n_worlds: Number of worlds.
        n_centres: Centres per world.
        centres: Centre agents, world by world, in cohort order; centre ``w * n_centres + c`` is
            cohort centre ``c`` of world ``w``.
        hosts: Host institutions (co-hosts included) of all worlds.
        companies: Companies of all worlds.
        foundations: Foundations of all worlds.
        population: Every researcher and staff member of all worlds.
        programme: The programme applying ``policy``.
        finances: The centres' books.
        recorder: Indicators per centre and year.
    """

    def __init__(
        self,
        cohort: Cohort,
        params: Parameters,
        policy: PolicyDesign,
        horizon: int,
        seeds: np.random.SeedSequence | Sequence[np.random.SeedSequence],
    ) -> None:
        seeds = [seeds] if isinstance(seeds, np.random.SeedSequence) else list(seeds)
        streams = [Streams.from_seed(s) for s in seeds]
        super().__init__(rng=streams[0].mesa)
        self.streams = streams
        self.cohort = cohort
        self.params = params
        self.policy = policy
        self.horizon = horizon
        self.year = 0
        self.n_worlds = nw = len(seeds)
        self.n_centres = n = len(cohort.centres)
        total = nw * n
        self._slices = [slice(w * n, (w + 1) * n) for w in range(nw)]
        self.population = Population(total, params)
        self.programme = Programme(
            policy, horizon, params.researchers.foresight_window + 2, params.programme, total
        )
        # Per-centre state read by vectorised steps (exposed on Centre agents as properties).
        self.reputation = np.tile([c.reputation for c in cohort.centres], nw).astype(float)
        self.company_income = np.zeros(total)
        self.endowment_income = np.zeros(total)
        self.gifts = np.zeros(total)
        self.track_score = np.full(total, np.nan)
        self._track = np.zeros((3, total, len(SCORE_KEYS)))
        self._seeking = np.zeros(total, dtype=bool)
        self._push = 1.0
        self.market_return = np.zeros(nw)
        self.deals: dict[int, list] = {}
        self.salary_bands = np.zeros((total, 6))

        host_specs = {h.name: h for h in cohort.hosts}
        self.hosts: list[HostInstitution] = []
        self.centres: list[Centre] = []
        self.companies: list[Company] = []
        self.foundations: list[Foundation] = []
        last_year = horizon + params.researchers.foresight_window + 2
        terms_cache: dict[str, HostTerms] = {}
        for w in range(nw):
            hosts = {
                name: HostInstitution(self, spec, params.host, world=w)
                for name, spec in host_specs.items()
            }
            self.hosts.extend(hosts.values())
            for i, spec in enumerate(cohort.centres):
                own = [hosts[spec.host]]
                for k in range(1, policy.hosts_per_centre):
                    co = HostInstitution(
                        self, host_specs[spec.host], params.host, f"{spec.host}+{k}", world=w
                    )
                    self.hosts.append(co)
                    own.append(co)
                # Host terms depend only on the hosts' specs and the policy: shared by worlds.
                terms = terms_cache.get(spec.name) or terms_cache.setdefault(
                    spec.name, HostTerms(own, last_year)
                )
                self.centres.append(Centre(self, w * n + i, spec, own, terms))
            self.companies.extend(Company(self, s, params.company, w) for s in cohort.companies)
            self.foundations.extend(
                Foundation(self, s, params.foundation, w) for s in cohort.foundations
            )
        nc, nf = len(cohort.companies), len(cohort.foundations)
        self._companies_by_world = [self.companies[w * nc : (w + 1) * nc] for w in range(nw)]
        self._foundations_by_world = [self.foundations[w * nf : (w + 1) * nf] for w in range(nw)]
        self._company_fit = np.array([c.fit for c in self.companies[: len(cohort.companies)]])
        self._foundation_fit = np.array(
            [f.fit for f in self.foundations[: len(cohort.foundations)]]
        )
        self._max_partnerships = max((c.max_partnerships for c in cohort.companies), default=0)
        self._max_endowments = max((f.max_endowments for f in cohort.foundations), default=0)
        # What hosts give each centre, by year: (years, n_centres).
        self._host_room = np.array([c.host_terms.capacity for c in self.centres]).T
        self._host_conversion = np.array([c.host_terms.conversion for c in self.centres]).T
        self.finances = CentreFinances(self)
        self.recorder = Recorder(horizon, total)
        self._effort_last = np.zeros(total)
        self._contract_years = np.asarray(params.researchers.contract_years.as_tuple())
        self._planned = np.stack([c.planned for c in self.centres])
        self._planned_payroll = np.array([c.planned_payroll for c in self.centres])
        self._planned_researchers = self._planned[:, :STAFF].sum(axis=1)
        self._populate()
        # Permanent posts each host funds for each centre, by rank: posts outlive the people in
        # them (a vacated post is refilled) while the host's shrinking capacity allows.
        self.host_posts = self.population.counts(self.population.host).astype(float)

    # -- random draws, world by world -------------------------------------------------------------
    def _gens(self, mechanism: str) -> list[np.random.Generator]:
        return [getattr(s, mechanism) for s in self.streams]

    def _rows_per_world(self) -> np.ndarray:
        """Population rows per world (rows are sorted by centre, hence by world)."""
        return np.bincount(self.population.centre // self.n_centres, minlength=self.n_worlds)

    def _uniforms(self, mechanism: str, counts: np.ndarray, width: int = 1) -> np.ndarray:
        """Uniform draws, ``width`` per item, ``counts[w]`` items from world ``w``'s stream.

        Returns shape (width, Σ counts), worlds in order.
        """
        gens = self._gens(mechanism)
        if self.n_worlds == 1:
            return gens[0].random((width, int(counts[0])))
        return np.concatenate(
            [g.random((width, int(k))) for g, k in zip(gens, counts, strict=True)], axis=1
        )

    def _per_centre(self, mechanism: str, draw, *arrays: np.ndarray) -> np.ndarray:
        """Concatenate ``draw(generator, *slices)`` over worlds (arrays sliced per world)."""
        gens = self._gens(mechanism)
        if self.n_worlds == 1:
            return draw(gens[0], *arrays)
        return np.concatenate(
            [draw(g, *(a[s] for a in arrays)) for g, s in zip(gens, self._slices, strict=True)]
        )

    # -- helpers used by agents -----------------------------------------------------------------
    def seek_array(self, multiplier: float) -> np.ndarray:
        """Each centre's factor on a funder's interest.

        ``multiplier`` where the centre seeks private money, times a growth plan's push.
        """
        return self._push * np.where(self._seeking, multiplier, 1.0)

    def _funders_act(self, t: int) -> None:
        """Foundations and companies act, with this year's draws made for all of them at once.

        Each mechanism draws the same number of random numbers every year (common random
        numbers); agents with nothing to decide are skipped.
        """
        n, nw = self.n_centres, self.n_worlds
        rep = self.reputation.reshape(nw, 1, n)
        if self.foundations:
            fp = self.params.foundation
            seek = self.seek_array(fp.seek_multiplier).reshape(nw, 1, n)
            prob = fp.gift_rate * self._foundation_fit * rep**fp.reputation_elasticity * seek
            width = 2 * n + self._max_endowments
            u = np.stack([g.random((prob.shape[1], width)) for g in self._gens("foundation")])
            hits = u[:, :, :n] < prob
            for w, k in zip(*np.nonzero(hits.any(axis=2) | self._has_endowment(nw)), strict=True):
                f = self._foundations_by_world[w][k]
                f.step_year(t, u[w, k, 2 * n :], hits[w, k], u[w, k, n : 2 * n])
        if self.companies:
            cp = self.params.company
            seek = self.seek_array(cp.seek_multiplier).reshape(nw, 1, n)
            prob = cp.offer_rate * self._company_fit * rep**cp.reputation_elasticity * seek
            width = 2 * n + 1 + self._max_partnerships
            u = np.stack([g.random((prob.shape[1], width)) for g in self._gens("company")])
            hits = u[:, :, :n] < prob
            for w, k in zip(*np.nonzero(hits.any(axis=2) | self._has_partnership(nw)), strict=True):
                co = self._companies_by_world[w][k]
                co.step_year(
                    t, u[w, k, 2 * n + 1 :], hits[w, k], u[w, k, n : 2 * n], u[w, k, 2 * n]
                )
            deals: dict[int, list] = {}
            for co in self.companies:
                for d in co.partnerships:
                    deals.setdefault(d.centre, []).append(d)
            self.deals = deals

    def _has_endowment(self, nw: int) -> np.ndarray:
        return np.array(
            [[bool(f.endowments) for f in fs] for fs in self._foundations_by_world]
        ).reshape(nw, -1)

    def _has_partnership(self, nw: int) -> np.ndarray:
        return np.array(
            [[bool(c.partnerships) for c in cs] for cs in self._companies_by_world]
        ).reshape(nw, -1)

    def _contract_ends(self, centre: np.ndarray, rank: np.ndarray, start: int) -> np.ndarray:
        """End years of new soft-money contracts starting in ``start``.

        While support runs, contracts end no later than the last year of secured support
        (posts paid from the subsidy end with it); after support, they run their full length.
        """
        cap = self.programme.secured_until(start)[centre]
        full = start + self._contract_years[rank] - 1
        return np.where(cap >= start, np.minimum(full, cap), full)

    # -- initialisation -------------------------------------------------------------------------
    def _populate(self) -> None:
        """The first people of each centre: PIs first, then a share of the planned posts."""
        p = self.params
        perm_share = np.asarray(p.host.initial_permanent_share.as_tuple())
        centre_idx, ranks, shares = [], [], []
        for c in self.centres:
            fill = np.full(N_RANKS, c.spec.initial_fill)
            fill[PI] = min(1.0, c.spec.initial_fill + 0.25)
            k = np.rint(c.planned * fill).astype(int)
            centre_idx.append(np.repeat(c.idx, k.sum()))
            ranks.append(np.repeat(np.arange(N_RANKS), k))
            shares.append(c.spec.foreign_share)
        centre = np.concatenate(centre_idx).astype(np.int32)
        rank = np.concatenate(ranks).astype(np.int8)
        counts = np.bincount(centre // self.n_centres, minlength=self.n_worlds)
        years = self._contract_years[rank]
        u = self._uniforms("population", counts, width=4)
        foreign = (u[0] < np.asarray(shares)[centre]) & (rank != STAFF)
        host = u[1] < perm_share[rank]
        productivity = self._productivity(u[2], centre, foreign)
        ends = self._contract_ends(centre, rank, 1)
        # Founding contracts were signed over the years before: stagger their ends.
        ends = np.minimum(ends, 1 + np.floor(u[3] * years).astype(int))
        ends = np.where(host, PERMANENT, ends)
        self.population.add(centre, rank, foreign, productivity, host, ends)

    def _productivity(self, u: np.ndarray, centre: np.ndarray, foreign: np.ndarray) -> np.ndarray:
        """Productivity of new people from uniform draws ``u``.

        Lognormal; better at reputable centres; foreign researchers carry a premium.
        """
        r = self.params.researchers
        rep = self.reputation[centre]
        mu = -0.5 * r.productivity_sigma**2 + r.reputation_talent * np.log(rep)
        z = ndtri(np.clip(u, 1e-12, 1 - 1e-12))
        prod = np.exp(mu + r.productivity_sigma * z)
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
        fp = p.foundation
        # A fund cannot lose more than it holds: returns are floored at -95%.
        self.market_return = np.maximum(
            -0.95, np.array([g.normal(fp.return_mean, fp.return_sd) for g in self._gens("market")])
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
        sd = p.programme.assessment_noise_sd
        noise = self._per_centre("evaluation", lambda g: g.normal(0.0, sd, self.n_centres))
        passed = prog.evaluate(t, self.track_score, noise)
        quality = ratio(top10, researchers) / p.reputation.top10_per_researcher_ref
        self.reputation += (quality - self.reputation) / p.reputation.lag_years
        np.maximum(self.reputation, 0.05, out=self.reputation)

        # 8. Hiring for next year (recruits join the population now, but count from next year).
        host_posts = pop.per_centre(pop.host)
        hired = self._recruit(t, counts, soft_pay, host_pay, insecurity)

        # Record.
        b = fin.books
        self.recorder.put_many(
            t,
            researchers=researchers,
            pis=counts[:, PI],
            postdocs=counts[:, POSTDOC],
            staff=counts[:, STAFF],
            foreign=foreign,
            host_posts=host_posts,
            personnel_cost=soft_pay + host_pay,
            papers=papers,
            top10_papers=top10,
            intl_papers=intl,
            reputation=self.reputation,
            income_subsidy=b.income_subsidy,
            income_matching=b.income_matching,
            income_host=b.income_host,
            income_grants=b.grants,
            income_company=b.company,
            income_endowment=b.endowment,
            research=b.research,
            reserves=b.reserves,
            deferred=b.deferred,
            income=b.income,
            spending=b.spending,
            reserves_change=b.reserves_change,
            subsidy_owed=b.owed,
            insecurity=insecurity,
            left=left,
            not_renewed=not_renewed,
            laid_off=laid_off,
            absorbed=absorbed,
            converted=converted,
            hired=hired,
            score=np.where(np.isnan(passed), np.nan, prog.last_score),
            passed=passed,
        )

    def _convert(self, t: int) -> np.ndarray:
        """Hosts move soft posts (not postdocs) onto their permanent budget while support runs."""
        pop = self.population
        means = self._host_conversion[t] * self.programme.in_support(t)
        draws = self._per_centre("host", lambda g, m: g.poisson(m), means)
        k = np.minimum(draws, np.maximum(0, np.floor(self._host_room[t] - self.host_posts.sum(1))))
        if not k.any():
            return np.zeros(len(k))
        order = pop.priority_order(~pop.host & (pop.rank != POSTDOC))
        chosen = pop.first_k(order, k)
        pop.host[chosen] = True
        pop.contract_end[chosen] = PERMANENT
        self.host_posts += pop.counts(chosen)
        return pop.per_centre(chosen)

    def _departures(self, t: int, insecurity: np.ndarray) -> np.ndarray:
        """Who leaves voluntarily this year (a mask).

        Driven by foreseen insecurity and outside options; they are removed with the year's other
        leavers in :meth:`_staffing`.
        """
        pop = self.population
        r = self.params.researchers
        u = self._uniforms("departures", self._rows_per_world())[0]
        exposure = np.where(
            pop.contract_end < t + r.foresight_window - 1, 1.0, r.secure_contract_exposure
        )
        felt = np.where(pop.host, 0.0, insecurity[pop.centre] * exposure)
        logit = (
            pop.leave_logit
            + r.insecurity_sensitivity * felt
            - r.reputation_retention * (self.reputation[pop.centre] - 1.0)
        )
        return u < 1.0 / (1.0 + np.exp(-logit))

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
        fin = self.finances
        soft = ~pop.host & stay
        expired = soft & (pop.contract_end < t)
        cont_pay = pop.per_centre(pop.salary * (soft & ~expired))
        cand_pay = pop.per_centre(pop.salary * expired)
        shortfall = np.maximum(0.0, cont_pay + cand_pay - money)

        absorbed = np.zeros(len(pop), dtype=bool)
        allowance = np.where(fin.absorption_open, fin.absorption_left, 0.0)
        if ((allowance > 0) & (shortfall > 0)).any():
            posts_left = np.maximum(0.0, np.floor(self._host_room[t] - self.host_posts.sum(1)))
            order = pop.priority_order(soft & (pop.rank != POSTDOC))
            absorbed = pop.prefix_covering(order, shortfall, cap=allowance)
            absorbed &= pop.first_k(order, posts_left)
            fin.absorption_left = fin.absorption_left - pop.per_centre(pop.salary * absorbed)
            pop.host[absorbed] = True
            pop.contract_end[absorbed] = PERMANENT
            self.host_posts += pop.counts(absorbed)
            expired &= ~absorbed
            cont_pay = pop.per_centre(pop.salary * (~pop.host & stay & ~expired))

        renewed = pop.prefix_within(pop.priority_order(expired), money - cont_pay)
        not_renewed = expired & ~renewed
        over = np.maximum(0.0, cont_pay - money)
        laid_off = np.zeros(len(pop), dtype=bool)
        if (over > 0).any():
            continuing = ~pop.host & stay & ~expired
            laid_off = pop.prefix_covering(pop.priority_order(continuing, reverse=True), over)
        if renewed.any():
            idx = np.flatnonzero(renewed)
            pop.contract_end[idx] = self._contract_ends(pop.centre[idx], pop.rank[idx], t)
        counts = (pop.per_centre(absorbed), pop.per_centre(not_renewed), pop.per_centre(laid_off))
        pop.keep(stay & ~(not_renewed | laid_off))
        return counts

    def _output(
        self,
        counts: np.ndarray,
        researchers: np.ndarray,
        foreign: np.ndarray,
        research: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Papers, top-10% papers and internationally co-authored papers of the year.

        Expected papers combine the effort of the people present, their research money and the
        support of specialist staff, half from last year's work (publication lag); top-10% and
        international shares are paper-weighted over authors.
        """
        pop = self.population
        o = self.params.output
        capacity = pop.per_centre(pop.effort)
        norm = self.params.money.research_norm_per_researcher
        resource_f = (
            clip(ratio(research, researchers * norm, 1.0), 0.2, 3.0) ** o.resource_elasticity
        )
        support = ratio(counts[:, STAFF], o.staff_ratio * researchers, 1.0)
        effective = capacity * clip(support, 0.05, 1.0) ** o.staff_elasticity * resource_f
        lag = o.publication_lag_weight if self.year > 1 else 0.0
        expected = lag * self._effort_last + (1 - lag) * effective
        self._effort_last = effective
        q = clip(ratio(pop.per_centre(pop.effort * pop.top10_q), capacity), 0.0, 1.0)
        p_intl = clip(
            o.intl_base + o.intl_per_foreign_share * ratio(foreign, researchers), 0.0, 1.0
        )

        def draw(g: np.random.Generator, lam: np.ndarray, q_: np.ndarray, pi: np.ndarray):
            papers = g.poisson(lam)
            return np.stack((papers, g.binomial(papers, q_), g.binomial(papers, pi)), axis=1)

        out = self._per_centre("output", draw, expected, q, p_intl).astype(float)
        return out[:, 0], out[:, 1], out[:, 2]

    def _recruit(
        self,
        t: int,
        counts: np.ndarray,
        soft_pay: np.ndarray,
        host_pay: np.ndarray,
        insecurity: np.ndarray,
    ) -> np.ndarray:
        """Open posts for next year and fill them.

        Candidates accept with a probability that falls with the centre's insecurity; vacant host
        posts are filled first. Hires arrive at the start of next year.
        """
        rc = self.params.recruitment
        budget = self.finances.hiring_budget(t, soft_pay, host_pay)
        openings = self._openings(budget, counts, soft_pay + host_pay)
        vacancies = self._host_vacancies(t + 1)
        fill = clip(rc.fill_rate * (1.0 - rc.fill_insecurity_sensitivity * insecurity), 0.0, 1.0)

        def draw(g: np.random.Generator, o: np.ndarray, v: np.ndarray, f: np.ndarray):
            return np.concatenate((g.binomial(o, f[:, None]), g.binomial(v, rc.fill_rate)), axis=1)

        both = self._per_centre("recruitment", draw, openings, vacancies, fill)
        hired_soft, hired_host = both[:, :N_RANKS], both[:, N_RANKS:]
        hired = hired_soft + hired_host
        total = hired.sum(axis=1).astype(float)
        if t >= self.horizon or not hired.any():
            return total
        per_centre = hired.ravel()
        centre = np.repeat(np.repeat(np.arange(len(hired)), N_RANKS), per_centre).astype(np.int32)
        rank = np.repeat(np.tile(np.arange(N_RANKS), len(hired)), per_centre).astype(np.int8)
        u = self._uniforms(
            "recruitment", np.bincount(centre // self.n_centres, minlength=self.n_worlds), 2
        )
        p_foreign = clip(
            rc.foreign_hire_base + rc.foreign_hire_reputation_slope * (self.reputation - 1.0),
            rc.foreign_hire_min,
            rc.foreign_hire_max,
        )
        foreign = (u[0] < p_foreign[centre]) & (rank != STAFF)
        productivity = self._productivity(u[1], centre, foreign)
        # Within each centre and rank, the first hires fill the host's vacant permanent posts.
        cell = centre.astype(np.int64) * N_RANKS + rank
        first = np.searchsorted(cell, cell, side="left")
        host = (np.arange(len(cell)) - first) < hired_host.ravel()[cell]
        ends = np.where(host, PERMANENT, self._contract_ends(centre, rank, t + 1))
        self.population.add(centre, rank, foreign, productivity, host, ends)
        return total

    def _host_vacancies(self, year: int) -> np.ndarray:
        """Vacant permanent posts by centre and rank.

        Posts the host can no longer fund in ``year`` are trimmed first (vacant posts go; nobody
        is dismissed).
        """
        occupied = self.population.counts(self.population.host).astype(float)
        vacant = np.maximum(0.0, self.host_posts - occupied)
        excess = np.maximum(0.0, self.host_posts.sum(1) - np.floor(self._host_room[year]))
        for r in (STAFF, POSTDOC, RESEARCHER, PI):
            cut = np.minimum(excess, vacant[:, r])
            vacant[:, r] -= cut
            excess -= cut
        self.host_posts = occupied + vacant
        return vacant.astype(np.int64)

    def _openings(self, budget: np.ndarray, counts: np.ndarray, payroll: np.ndarray) -> np.ndarray:
        """Posts to open per centre and rank within each centre's hiring budget.

        Each centre aims at its planned composition scaled to the payroll it can afford; when the
        posts it wants cost more than its budget, it opens the same share of each rank.
        """
        salary = self.population.salary_by_rank
        budget = np.maximum(budget, 0.0)
        scale = (payroll + budget) / self._planned_payroll
        wanted = np.maximum(0.0, np.floor(self._planned * scale[:, None] - counts))
        share = np.minimum(1.0, ratio(budget, wanted @ salary, 0.0))
        return np.floor(wanted * share[:, None]).astype(np.int64)

    def run(self) -> Recorder:
        """Simulate every year up to the horizon and return the recorded indicators."""
        while self.year < self.horizon:
            self.step()
        return self.recorder
