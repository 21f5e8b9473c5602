"""Companies that fund centres through comprehensive partnerships (the IFReC × Chugai model)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa

from wpi_abm.cohort import CompanySpec
from wpi_abm.parameters import CompanyParams
from wpi_abm.sim.agents.funder import Funder
from wpi_abm.sim.world import World


@dataclass
class Partnership:
    """A running partnership: ``amount`` M yen a year to ``centre`` through year ``end``."""

    centre: int
    amount: float
    end: int


class Company(Funder):
    """A company that offers, pays and renews comprehensive partnerships, in one run.

    Each year it first decides on partnerships that have run out (renewing on results: the centre's
    reputation), then, if it has room, may offer a new one to a centre in its fields whose
    encounter with it this year was met (:mod:`wpi_abm.sim.funders`: likelier for reputable
    centres and for centres that seek private money), and pays its partners.

    Attributes:
        name: Identifier.
        run: The run (world) it belongs to.
        index: Its position among the cohort's companies.
        fields: Fields it funds.
        fit: Interest in each centre of the cohort by field (1, or ``off_field_fit``).
        max_annual: Largest yearly payment of one partnership.
        partnerships: Running partnerships.
    """

    def __init__(
        self,
        model: mesa.Model,
        world: World,
        spec: CompanySpec,
        params: CompanyParams,
        run: int,
        index: int,
    ) -> None:
        super().__init__(model, world, spec, params, run, index)
        self.fields = set(spec.fields)
        self.max_annual = spec.max_annual
        self.max_partnerships = spec.max_partnerships
        self.partnerships: list[Partnership] = []
        # Partnerships that happened (input): (model year paid from, centre, amount, last year).
        cohort = world.cohort
        names = [c.name for c in cohort.centres]
        self._inputs = [
            (
                cohort.model_year(d.first),
                self._offset + names.index(d.centre),
                d.amount,
                cohort.model_year(d.last),
            )
            for d in spec.history
        ]

    def act(self) -> None:
        """Renew or end partnerships, perhaps offer one, and pay this year's amounts."""
        w = self.world
        n = w.n_centres
        for first, centre, amount, last in self._inputs:
            if first == w.year:
                self.partnerships.append(Partnership(centre, amount, last))
        met = self.met_any(w.company_encounters)
        if not self.partnerships and not met:
            return
        p = self.params
        year = w.year
        if not met and all(deal.end >= year for deal in self.partnerships):
            # Nothing to decide (no partnership has run out, no centre met): pay and return.
            # Its draws were taken for the year already; not reading them changes none.
            self._pay()
            return
        u, hits = self.encounters(w.company_encounters)
        u_renew, order_keys, u_amount = u[2 * n + 1 :], u[n : 2 * n], u[2 * n]
        kept = []
        for i, deal in enumerate(self.partnerships):
            if deal.end >= year:
                kept.append(deal)
                continue
            rep = w.reputation[deal.centre]
            if u_renew[i] < 1.0 / (
                1.0 + math.exp(-p.renewal_steepness * (rep - p.renewal_midpoint))
            ):
                deal.end = year + p.duration_years - 1
                kept.append(deal)
        self.partnerships = kept

        if len(self.partnerships) < self.max_partnerships and met:
            # A centre whose partnership with it is history is not chosen again by the model.
            funded = [d.centre for d in self.partnerships] + [c for _, c, _, _ in self._inputs]
            c = self.choose(hits, order_keys, funded)
            if c is not None:
                share = p.min_share_of_max + (1.0 - p.min_share_of_max) * u_amount
                amount = share * self.max_annual * min(1.0, w.reputation[c])
                self.partnerships.append(Partnership(c, amount, year + p.duration_years - 1))
        self._pay()

    def _pay(self) -> None:
        """Pay this year's amount of every running partnership."""
        income = self.world.company_income
        for deal in self.partnerships:
            income[deal.centre] += deal.amount
