"""Foundations that endow centres (the Kavli IPMU model)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mesa
import numpy as np

from wpi_abm.cohort import FoundationSpec
from wpi_abm.parameters import Foundation as FoundationParams

if TYPE_CHECKING:
    from wpi_abm.model import WPIModel


@dataclass
class Endowment:
    """A fund held for one centre: its value now and over the last years (for smoothing)."""

    centre: int
    value: float
    history: deque[float] = field(default_factory=deque)


class Foundation(mesa.Agent):
    """A foundation that endows centres it values.

    Funds earn the run's market return (one draw a year shared by every fund: centres in a run
    share markets). The centre receives ``spending_rate`` × the mean fund value over the last
    ``smoothing_years`` — but only while its national support stays at or above
    ``min_national_support`` (the Kavli condition). Gifts and top-ups are private funds the centre
    has acquired (eligible for matching).

    Attributes:
        name: Identifier.
        world: The run (world) it belongs to.
        fit: Interest in each centre of the cohort by field (1, or ``off_field_fit``).
        gift: Size of a founding gift.
        endowments: Funds it manages, one per endowed centre.
    """

    def __init__(
        self, model: WPIModel, spec: FoundationSpec, params: FoundationParams, world: int = 0
    ) -> None:
        super().__init__(model)
        self.world = world
        self._offset = world * model.n_centres
        self.name = spec.name
        self.gift = spec.gift
        self.max_endowments = spec.max_endowments
        self.params = params
        self.endowments: list[Endowment] = []
        fields = set(spec.fields)
        self.fit = np.array(
            [1.0 if c.field in fields else params.off_field_fit for c in model.cohort.centres]
        )

    def step_year(
        self, year: int, u_topup: np.ndarray, hits: np.ndarray, order_keys: np.ndarray
    ) -> None:
        """Grow funds, pay out, top up, and perhaps endow a new centre.

        Args:
            year: The year.
            u_topup: Uniform draws for top-ups (one per possible endowment).
            hits: Centres of its world (by cohort position) whose draw fell under this
                foundation's gift probability this year.
            order_keys: Random keys: among several hits, the smallest key gets the gift.
        """
        p = self.params
        model = self.model
        growth = 1.0 + model.market_return[self.world]
        support = model.finances.national_support_last
        for i, fund in enumerate(self.endowments):
            fund.value *= growth
            fund.history.append(fund.value)
            if len(fund.history) > p.smoothing_years:
                fund.history.popleft()
            if support[fund.centre] >= p.min_national_support:
                smoothed = sum(fund.history) / len(fund.history)
                payout = max(0.0, min(p.spending_rate * smoothed, fund.value))
                fund.value -= payout
                model.endowment_income[fund.centre] += payout
            if u_topup[i] < p.topup_rate and model.reputation[fund.centre] >= 1.0:
                topup = p.topup_share * self.gift
                fund.value += topup
                model.gifts[fund.centre] += topup

        if len(self.endowments) < self.max_endowments and hits.any():
            for e in self.endowments:
                hits[e.centre - self._offset] = False
            if hits.any():
                c = self._offset + int(np.flatnonzero(hits)[np.argmin(order_keys[hits])])
                self.endowments.append(Endowment(c, self.gift))
                model.gifts[c] += self.gift
