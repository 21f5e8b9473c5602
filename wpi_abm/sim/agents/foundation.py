"""Foundations that endow centres (the Kavli IPMU model)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import mesa

from wpi_abm.cohort import FoundationSpec
from wpi_abm.parameters import FoundationParams
from wpi_abm.sim.agents.funder import Funder
from wpi_abm.sim.world import World


@dataclass
class Endowment:
    """A fund held for one centre: its value now and over the last years (for smoothing)."""

    centre: int
    value: float
    history: deque[float] = field(default_factory=deque)


class Foundation(Funder):
    """A foundation that endows centres it values, in one run.

    Funds earn the run's market return (one draw a year shared by every fund: centres in a run
    share markets). The centre receives ``spending_rate`` × the mean fund value over the last
    ``smoothing_years`` — but only while its national support stays at or above
    ``min_national_support`` (the Kavli condition). Gifts and top-ups are private funds the centre
    has acquired (eligible for matching).

    Attributes:
        name: Identifier.
        run: The run (world) it belongs to.
        index: Its position among the cohort's foundations.
        fit: Interest in each centre of the cohort by field (1, or ``off_field_fit``).
        gift: Size of a founding gift.
        endowments: Funds it manages, one per endowed centre.
    """

    def __init__(
        self,
        model: mesa.Model,
        world: World,
        spec: FoundationSpec,
        params: FoundationParams,
        run: int,
        index: int,
    ) -> None:
        super().__init__(model, world, spec, params, run, index)
        self.gift = spec.gift
        self.max_endowments = spec.max_endowments
        self.endowments: list[Endowment] = []
        # Gifts that happened (input): (model year, centre, gift).
        cohort = world.cohort
        names = [c.name for c in cohort.centres]
        self._inputs = [
            (cohort.model_year(g.year), self._offset + names.index(g.centre), g.gift)
            for g in spec.history
        ]

    def act(self) -> None:
        """Grow funds, pay out, top up, and perhaps endow a centre whose encounter was met."""
        w = self.world
        n = w.n_centres
        arriving = [(c, g) for year, c, g in self._inputs if year == w.year]
        met = self.met_any(w.foundation_encounters)
        if not self.endowments and not met and not arriving:
            return
        u, hits = self.encounters(w.foundation_encounters)
        u_topup, order_keys = u[2 * n :], u[n : 2 * n]
        p = self.params
        growth = 1.0 + w.market_return[self.run]
        support = w.national_support_last
        for i, fund in enumerate(self.endowments):
            fund.value *= growth
            fund.history.append(fund.value)
            if len(fund.history) > p.smoothing_years:
                fund.history.popleft()
            if support[fund.centre] >= p.min_national_support:
                smoothed = sum(fund.history) / len(fund.history)
                payout = max(0.0, min(p.spending_rate * smoothed, fund.value))
                fund.value -= payout
                w.endowment_income[fund.centre] += payout
            if u_topup[i] < p.topup_rate and w.reputation[fund.centre] >= 1.0:
                topup = p.topup_share * self.gift
                fund.value += topup
                w.gifts[fund.centre] += topup

        # A gift given as input founds its fund as the model's gifts do (paid out from next year).
        for centre, gift in arriving:
            self.endowments.append(Endowment(centre, gift))
            w.gifts[centre] += gift
        if len(self.endowments) < self.max_endowments and met:
            # A centre whose endowment by it is history is not endowed again by the model.
            funded = [e.centre for e in self.endowments] + [c for _, c, _ in self._inputs]
            c = self.choose(hits, order_keys, funded)
            if c is not None:
                self.endowments.append(Endowment(c, self.gift))
                w.gifts[c] += self.gift
