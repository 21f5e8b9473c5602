"""Host institutions: the university or institute a centre belongs to."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from wpi_abm.cohort import HostSpec
from wpi_abm.parameters import Host as HostParams

type Years = int | np.ndarray

if TYPE_CHECKING:
    from wpi_abm.agents.centre import Centre
    from wpi_abm.model import WPIModel


class HostInstitution(mesa.Agent):
    """A host: funds permanent posts, converts centre posts to them, absorbs staff at the end.

    Its permanent budget is its national operating grant, which shrinks every year
    (``operating_grant_decline``), so the posts it can carry and its cash support shrink too.

    Attributes:
        name: Identifier.
        strength: Size of its permanent budget relative to a large national university.
        commitment: How far it carries its centres after support (0–1).
        world: The run (world) it belongs to.
        centres: The centres it hosts.
    """

    def __init__(
        self,
        model: WPIModel,
        spec: HostSpec,
        params: HostParams,
        name: str | None = None,
        world: int = 0,
    ) -> None:
        super().__init__(model)
        self.name = name or spec.name
        self.world = world
        self.strength = spec.strength
        self.commitment = spec.commitment
        self.params = params
        self.centres: list[Centre] = []

    # Every rule takes one year or an array of years: HostTerms evaluates them for all years at
    # once when a model is built, so the yearly step only reads lists.
    def operating_grant(self, year: Years) -> Years:
        """Operating-grant index relative to year 1."""
        return (1.0 - self.params.operating_grant_decline) ** (np.asarray(year) - 1.0)

    def capacity_posts(self, year: Years) -> Years:
        """Most permanent posts this host funds for one centre in ``year``."""
        return self.params.capacity_posts * self.strength * self.operating_grant(year)

    def cash(self, year: Years) -> Years:
        """Cash support to one centre in ``year`` (M yen)."""
        return self.params.cash_support * self.strength * self.operating_grant(year)

    def _in_plan(self, year: Years) -> Years:
        plan = self.model.policy.growth_plan
        return np.asarray(year) > plan.year if plan is not None else np.zeros_like(year, bool)

    def commitment_for(self, year: Years) -> Years:
        """Commitment in ``year``: a growth plan raises it to the plan's level once drawn up."""
        plan = self.model.policy.growth_plan
        raised = max(self.commitment, plan.host_commitment) if plan is not None else 0.0
        return np.where(self._in_plan(year), raised, self.commitment)

    def conversion_mean(self, year: Years) -> Years:
        """Expected posts moved onto the permanent budget per centre in a supported ``year``."""
        plan = self.model.policy.growth_plan
        mult = np.where(
            self._in_plan(year), plan.host_conversion_multiplier if plan is not None else 1.0, 1.0
        )
        return self.params.conversion_rate * self.strength * self.commitment_for(year) * mult

    def absorption_share(self, year: Years) -> Years:
        """Share of a centre's soft payroll this host takes over when the centre's support ends."""
        return self.params.absorption_share * self.strength * self.commitment_for(year)


class HostTerms:
    """What a centre's hosts give it, year by year (summed over hosts; lists for fast access).

    Attributes:
        cash: Cash support per year (M yen).
        capacity: Most permanent posts for the centre per year.
        conversion: Expected posts converted per supported year.
        absorption: Share of the soft payroll absorbed at the end of support, per year.
    """

    def __init__(self, hosts: list[HostInstitution], last_year: int) -> None:
        years = np.arange(last_year + 1)
        self.cash = sum(h.cash(years) for h in hosts).tolist()
        self.capacity = sum(h.capacity_posts(years) for h in hosts).tolist()
        self.conversion = sum(h.conversion_mean(years) for h in hosts).tolist()
        self.absorption = sum(h.absorption_share(years) for h in hosts).tolist()
