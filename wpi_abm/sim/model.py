"""WPIModel: cohorts of research centres under one funding-policy design, year by year.

A run is a pure function of (cohort, parameters, policy, horizon, seed).

**What is an agent and what is vectorised.** Centres, host institutions, companies and
foundations are Mesa agents that decide (:mod:`wpi_abm.sim.agents`); the model steps them through
its agent sets by type, in the order below. Researchers are not agents: every researcher and staff
member is a row of one columnar population (:mod:`wpi_abm.sim.population`), and the decisions
that concern thousands of people a year — who leaves, who is renewed, absorbed or laid off, how
much they publish — are a few numpy operations over it (:mod:`~wpi_abm.sim.departures`,
:mod:`~wpi_abm.sim.staffing`, :mod:`~wpi_abm.sim.output`, :mod:`~wpi_abm.sim.recruitment`).

One model may simulate several runs at once, as independent *worlds*: each world is a full copy of
the cohort with its own hosts, companies, foundations, market and random streams, and nothing passes
between worlds. A centre or host agent acts in every world at once (its state is one element per
world); a company or foundation agent belongs to one world. Running worlds together only shares the
cost of each numpy call; a world's results are identical whether it runs alone or with others.
Worlds may take different posterior particles where these differ only in the values of
:data:`~wpi_abm.sim.per_world.PER_WORLD`.

The year (one step = one fiscal year; ``year`` 1 is the run's first year, every centre's first
supported year unless the cohort staggers their starts) is :meth:`WPIModel.step`, read top to
bottom.
"""

from __future__ import annotations

from collections.abc import Sequence

import mesa
import numpy as np

from wpi_abm.cohort import Cohort
from wpi_abm.parameters import Parameters
from wpi_abm.policy import PolicyDesign
from wpi_abm.sim import departures, founding, funders, hosting, recruitment, staffing
from wpi_abm.sim.agents.centre import Centre
from wpi_abm.sim.agents.company import Company
from wpi_abm.sim.agents.foundation import Foundation
from wpi_abm.sim.agents.host import HostInstitution
from wpi_abm.sim.finance import CentreFinances
from wpi_abm.sim.output import Output
from wpi_abm.sim.per_world import PerWorld
from wpi_abm.sim.population import PI, POSTDOC, STAFF, Population
from wpi_abm.sim.recorder import Recorder
from wpi_abm.sim.review import Review
from wpi_abm.sim.world import World


class WPIModel(mesa.Model):
    """Cohorts of centres under one policy design, one cohort per run ("world").

    Args:
        cohort: Centres, hosts, companies and foundations of one world.
        params: Behavioural parameters: one for every world, or one per world.
        policy: The funding-policy design: one for every world, or one per world.
        horizon: Years to simulate.
        seeds: One seed sequence per world (a single seed: one world).

    Raises:
        ValueError: Worlds' parameters or designs differ in a value outside
            :data:`~wpi_abm.sim.per_world.PER_WORLD`.

    Attributes:
        world: The state of every world (per-centre arrays, population, programme, streams).
        finances: The centres' books.
        output: Research output (keeps last year's effort for the publication lag).
        review: The programme committee's record of every centre.
        recorder: Indicators per centre and year.
    """

    def __init__(
        self,
        cohort: Cohort,
        params: Parameters | Sequence[Parameters],
        policy: PolicyDesign | Sequence[PolicyDesign],
        horizon: int,
        seeds: np.random.SeedSequence | Sequence[np.random.SeedSequence],
    ) -> None:
        seeds = [seeds] if isinstance(seeds, np.random.SeedSequence) else list(seeds)
        n = len(seeds)
        each = [params] * n if isinstance(params, Parameters) else list(params)
        designs = [policy] * n if isinstance(policy, PolicyDesign) else list(policy)
        if len(each) != n or len(designs) != n:
            raise ValueError(f"{n} worlds: give one parameter set and one design, or one per world")
        params, policy = each[0], designs[0]
        per_world = PerWorld.of(each, designs, len(cohort.centres))
        world = World(cohort, params, policy, horizon, seeds, per_world)
        super().__init__(rng=world.draws.streams[0].mesa)
        self.world = world
        host_specs = {h.name: h for h in cohort.hosts}
        hosts = {
            name: HostInstitution(self, world, spec, params.host)
            for name, spec in host_specs.items()
        }
        for slot, spec in enumerate(cohort.centres):
            own = [hosts[spec.host], *(hosts[h] for h in spec.co_hosts)]
            for k in range(1, policy.hosts_per_centre):
                co = f"{spec.host}+{k}"
                own.append(HostInstitution(self, world, host_specs[spec.host], params.host, co))
            Centre(self, world, slot, spec, own)
        for run in range(world.n_worlds):
            for k, s in enumerate(cohort.companies):
                Company(self, world, s, params.company, run, k)
            for k, s in enumerate(cohort.foundations):
                # Its own world's: a top-up share may differ between worlds (sim/per_world.py).
                Foundation(self, world, s, each[run].foundation, run, k)
        self._companies = self._of(Company)
        self._company_fit = np.array([c.fit for c in self._companies[: len(cohort.companies)]])
        self._foundation_fit = np.array(
            [f.fit for f in self._of(Foundation)[: len(cohort.foundations)]]
        )
        # The most partnerships (endowments) a funder can hold at once: its own limit, plus those
        # given as input, which may come on top of what it chose (they count towards the limit
        # for its own offers).
        self._max_partnerships = max(
            (c.max_partnerships + len(c.history) for c in cohort.companies), default=0
        )
        self._max_endowments = max(
            (f.max_endowments + len(f.history) for f in cohort.foundations), default=0
        )
        self.finances = CentreFinances(world)
        self.output = Output(world)
        self.review = Review(world)
        founding.populate(world)

    def _of(self, kind: type[mesa.Agent]) -> list[mesa.Agent]:
        """The agents of one type, in creation order (empty when there are none)."""
        agents = self.agents_by_type.get(kind)
        return list(agents) if agents is not None else []

    def _each(self, kind: type[mesa.Agent], decision: str, *args: object) -> None:
        """Every agent of one type takes ``decision``, in creation order."""
        agents = self.agents_by_type.get(kind)
        if agents is not None:
            agents.do(decision, *args)

    @property
    def year(self) -> int:
        """The support year just simulated (0 before the first step)."""
        return self.world.year

    @property
    def horizon(self) -> int:
        """Years to simulate."""
        return self.world.horizon

    @property
    def recorder(self) -> Recorder:
        """Indicators per centre and year."""
        return self.world.recorder

    @property
    def population(self) -> Population:
        """Every researcher and staff member of all worlds (columnar)."""
        return self.world.population

    # -- the year -------------------------------------------------------------------------------
    def step(self) -> None:
        """Simulate one fiscal year."""
        w = self.world
        w.begin_year()
        t = w.year
        p = w.params
        pop = w.population
        fin = self.finances

        # 1. Centres near the end of their secured support seek private money; foundations grow
        #    funds, pay out and may endow; companies renew, offer and pay partnerships.
        self._each(Centre, "seek_private_money")
        self._each(Centre, "plan_draw")
        funders.draw_market(w)
        fp, cp = p.foundation, p.company
        w.foundation_encounters = funders.encounter(
            w, "foundation", self._foundation_fit, fp.gift_rate, fp.reputation_elasticity,
            fp.seek_multiplier, self._max_endowments,
        )  # fmt: skip
        w.company_encounters = funders.encounter(
            w, "company", self._company_fit, cp.offer_rate, cp.reputation_elasticity,
            cp.seek_multiplier, 1 + self._max_partnerships,
        )  # fmt: skip
        self._each(Foundation, "act")
        self._each(Company, "act")
        w.deals = funders.running_deals(self._companies)

        # 2. Hosts set their terms for each centre and move posts onto their permanent budget
        #    while support runs.
        self._each(HostInstitution, "set_terms")
        converted = hosting.convert(w)

        # 3. Researchers see the funding of their posts over the foresight window; some leave.
        soft_pay = pop.salaries(~pop.host)
        insecurity = fin.foresee(t, soft_pay)
        leaving = departures.leaving(w, insecurity)
        stay = ~leaving
        left = pop.per_centre(leaving)

        # 4. Grants are won; centres open their books; hosts absorb posts at the end of support;
        #    centres renew what money allows and cut the rest.
        grant_rates, soft_pay = pop.grants_and_soft_pay(stay)
        grants = fin.grants_won(grant_rates)
        money = fin.open_books(t, grants, soft_pay, w.company_income, w.endowment_income, w.gifts)
        absorbed, not_renewed, laid_off = staffing.staff(
            w, fin, money, stay, self.agents_by_type[Centre]
        )

        # 5. Salaries are paid, books closed (programme money first; carry-over where flexible).
        #    Nobody joins or leaves for the rest of the year: one pass over the population gives
        #    every per-centre total that steps 5–8 read.
        census = pop.census()
        soft_pay, host_pay = census.soft_pay, census.host_pay
        fin.settle(t, soft_pay, host_pay)

        # 6. Output: papers, top-10% papers, international co-authored papers.
        counts = census.counts
        researchers = counts[:, :STAFF].sum(axis=1)
        foreign = census.foreign
        out = self.output.publish(census, researchers, fin.books.research)
        papers, top10, intl = out.papers, out.top10, out.intl

        # 7. The committee reviews every centre (evaluations in their years); reputation follows
        #    output.
        passed = self.review.review(papers, top10, intl, researchers, foreign)

        # 8. Centres open posts for next year; candidates accept or not.
        host_posts = census.host_counts.sum(axis=1).astype(float)
        budget = fin.hiring_budget(t, soft_pay, host_pay)
        self._each(Centre, "open_posts", budget, counts.astype(float), soft_pay + host_pay)
        hired = recruitment.recruit(w, insecurity, census.host_counts)
        # Centres that start next year appoint their first people (year 1's: at creation).
        if t < w.horizon:
            hired = hired + founding.populate(w, t + 1)

        b = fin.books
        w.recorder.put_many(
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
            papers_expected=out.papers_expected,
            top10_expected=out.top10_expected,
            intl_expected=out.intl_expected,
            reputation=w.reputation,
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
            score=np.where(np.isnan(passed), np.nan, w.programme.last_score),
            passed=passed,
        )

    def run(self) -> Recorder:
        """Simulate every year up to the horizon and return the recorded indicators."""
        while self.world.year < self.world.horizon:
            self.step()
        return self.world.recorder
