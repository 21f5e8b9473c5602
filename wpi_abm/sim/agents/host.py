"""Host institutions: the university or institute a centre belongs to."""

from __future__ import annotations

from typing import Protocol

import mesa
import numpy as np

from wpi_abm.cohort import HostSpec
from wpi_abm.parameters import HostParams
from wpi_abm.sim import elementary, kernels
from wpi_abm.sim.world import World, clock_age

type Years = int | np.ndarray


class Hosted(Protocol):
    """What a host knows of a centre it hosts: where the centre's state lives in the world."""

    rows: slice
    planned_payroll: np.ndarray
    start: int
    policy_from: int

    def started(self, year: int) -> bool:
        """Whether the centre exists in model ``year``."""
        ...


class HostInstitution(mesa.Agent):
    """A host: funds permanent posts, converts centre posts to them, absorbs staff at the end.

    Its permanent budget is its national operating grant, which shrinks every year
    (``operating_grant_decline``), so the posts it can carry and its cash support shrink too. Each
    year it decides, for every centre it hosts (:meth:`set_terms`): the cash it gives, the
    permanent posts it can fund for the centre this year and next, how many centre posts it
    expects to move onto its permanent budget (more under a growth plan), and what share of the
    centre's soft payroll it will take over when the centre's programme money stops. The posts it
    converts or absorbs are then chosen in the centre's priority order, within its room
    (:mod:`wpi_abm.sim.hosting`).

    One agent stands for one host in every run of the chunk (its rules depend on the year only).

    Attributes:
        name: Identifier.
        strength: Size of its permanent budget relative to a large national university.
        commitment: How far it carries its centres after support (0–1).
        centres: The centres it hosts.
    """

    def __init__(
        self,
        model: mesa.Model,
        world: World,
        spec: HostSpec,
        params: HostParams,
        name: str | None = None,
    ) -> None:
        super().__init__(model)
        self.world = world
        self.name = name or spec.name
        self.strength = spec.strength
        self.commitment = spec.commitment
        self.params = params
        self.centres: list[Hosted] = []
        self._factors: dict[tuple[int, ...], list[np.ndarray]] = {}
        self._terms: dict[tuple[int, int], np.ndarray] = {}

    def _outlook(self, start: int, policy_from: int) -> np.ndarray:
        """Its terms over every year a run can ask about, for a centre with this clock.

        Evaluated once per clock: the rules below depend on nothing but the year (the model year
        for its budget, the centre's support year for a growth plan), and the yearly step then
        only reads these rows. Row t: the terms of model year t, in the order of HOST_TERMS
        (capacity of t and of t + 1).
        """
        key = (start, policy_from)
        if key not in self._terms:
            years = np.arange(self.world.last_year + 1)
            ages = clock_age(years, start, policy_from)
            capacity = self.capacity_posts(years)
            self._terms[key] = np.column_stack(
                (
                    self.cash(years)[:-1],
                    capacity[:-1],
                    capacity[1:],
                    self.conversion_mean(ages)[:-1],
                    self.absorption_share(ages)[:-1],
                )
            )
        return self._terms[key]

    # -- rules (one year or an array of years) ----------------------------------------------------
    def operating_grant(self, year: Years) -> Years:
        """Operating-grant index relative to year 1."""
        return elementary.pow(1.0 - self.params.operating_grant_decline, np.asarray(year) - 1.0)

    def capacity_posts(self, year: Years) -> Years:
        """Most permanent posts this host funds for all the centres it hosts in ``year``."""
        return self.params.capacity_posts * self.strength * self.operating_grant(year)

    def cash(self, year: Years) -> Years:
        """Cash support to one centre in ``year`` (M yen)."""
        return self.params.cash_support * self.strength * self.operating_grant(year)

    def commitment_for(self, age: Years) -> Years:
        """Commitment in a centre's support year ``age`` (a growth plan raises it once drawn up)."""
        return self.world.policy.host_commitment_floor(age, self.commitment)

    def conversion_mean(self, age: Years) -> Years:
        """Expected posts moved onto the permanent budget for a centre in support year ``age``."""
        mult = self.world.policy.host_conversion_multiplier(age)
        return self.params.conversion_rate * self.strength * self.commitment_for(age) * mult

    def absorption_share(self, age: Years) -> Years:
        """Share of the soft payroll of a centre in support year ``age`` taken over at its end."""
        return self.params.absorption_share * self.strength * self.commitment_for(age)

    # -- decisions ------------------------------------------------------------------------------
    def capacity_shares(self, centres: list[Hosted]) -> list[np.ndarray]:
        """How the host divides its permanent-post capacity among ``centres`` (those running).

        In proportion to their planned size (a host with two centres gives each part of one
        budget, so they compete for its posts: four real hosts host two centres). One share per
        world: a planned size is a payroll, at the salaries of the world's posterior particle.
        """
        sizes = [c.planned_payroll for c in centres]
        total = sum(sizes)
        return [s / total for s in sizes]

    def set_terms(self) -> None:
        """Give each centre it hosts this year's cash, room, conversion plan and absorption share.

        Cash, conversions and absorption are per centre; the room for permanent posts is the
        centre's share of the host's capacity. Terms add up over a centre's hosts (Multiple-Host
        designs).
        """
        w = self.world
        # A centre that has not started gets nothing and takes no share of the capacity.
        running = [c for c in self.centres if c.started(w.year)]
        key = tuple(id(c) for c in running)
        if key not in self._factors:
            # Per centre and world, the factor on each term (HOST_TERMS order): capacity is shared.
            shares = self.capacity_shares(running)
            one = np.ones(w.n_worlds)
            self._factors[key] = [np.column_stack((one, s, s, one, one)) for s in shares]
        for centre, factor in zip(running, self._factors[key], strict=True):
            terms = self._outlook(centre.start, centre.policy_from)[w.year]
            # host_terms[rows] += terms × factor, in one compiled pass.
            kernels.add_terms(w.host_terms, centre.rows.start, centre.rows.step, terms, factor)
