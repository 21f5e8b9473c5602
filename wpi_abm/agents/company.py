"""Companies that fund centres through comprehensive partnerships (the IFReC × Chugai model)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from wpi_abm.cohort import CompanySpec
from wpi_abm.parameters import Company as CompanyParams

if TYPE_CHECKING:
    from wpi_abm.model import WPIModel


@dataclass
class Partnership:
    """A running partnership: ``amount`` M yen a year to ``centre`` through year ``end``."""

    centre: int
    amount: float
    end: int


class Company(mesa.Agent):
    """A company that offers, pays and renews comprehensive partnerships.

    Each year it first decides on partnerships that have run out (renewing on results: the centre's
    reputation), then, if it has room, may offer a new one to a centre in its fields. Offers are
    likelier to reputable centres and to centres that seek private money. The model draws the
    random numbers for all companies at once, a fixed number per year, so that policies that change
    a centre's path do not shift other draws.

    Attributes:
        name: Identifier.
        world: The run (world) it belongs to.
        fields: Fields it funds.
        fit: Interest in each centre of the cohort by field (1, or ``off_field_fit``).
        max_annual: Largest yearly payment of one partnership.
        partnerships: Running partnerships.
    """

    def __init__(
        self, model: WPIModel, spec: CompanySpec, params: CompanyParams, world: int = 0
    ) -> None:
        super().__init__(model)
        self.world = world
        self._offset = world * model.n_centres
        self.name = spec.name
        self.fields = set(spec.fields)
        self.max_annual = spec.max_annual
        self.max_partnerships = spec.max_partnerships
        self.params = params
        self.partnerships: list[Partnership] = []
        self.fit = np.array(
            [1.0 if c.field in self.fields else params.off_field_fit for c in model.cohort.centres]
        )

    def step_year(
        self,
        year: int,
        u_renew: np.ndarray,
        hits: np.ndarray,
        order_keys: np.ndarray,
        u_amount: float,
    ) -> None:
        """Renew or end partnerships, perhaps offer one, and pay this year's amounts.

        Args:
            year: The year.
            u_renew: Uniform draws for renewal decisions (one per possible partnership).
            hits: Centres of its world (by cohort position) whose draw fell under this company's
                offer probability this year.
            order_keys: Random keys: among several hits, the smallest key gets the offer.
            u_amount: Uniform draw for the size of a new partnership.
        """
        p = self.params
        model = self.model
        kept = []
        for i, deal in enumerate(self.partnerships):
            if deal.end >= year:
                kept.append(deal)
                continue
            rep = model.reputation[deal.centre]
            if u_renew[i] < 1.0 / (
                1.0 + math.exp(-p.renewal_steepness * (rep - p.renewal_midpoint))
            ):
                deal.end = year + p.duration_years - 1
                kept.append(deal)
        self.partnerships = kept

        if len(self.partnerships) < self.max_partnerships and hits.any():
            for d in self.partnerships:
                hits[d.centre - self._offset] = False
            if hits.any():
                c = self._offset + int(np.flatnonzero(hits)[np.argmin(order_keys[hits])])
                share = p.min_share_of_max + (1.0 - p.min_share_of_max) * u_amount
                amount = share * self.max_annual * min(1.0, model.reputation[c])
                self.partnerships.append(Partnership(c, amount, year + p.duration_years - 1))

        income = model.company_income
        for deal in self.partnerships:
            income[deal.centre] += deal.amount
