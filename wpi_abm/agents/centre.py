"""Research centres."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from wpi_abm.cohort import CentreSpec

if TYPE_CHECKING:
    from wpi_abm.agents.host import HostInstitution, HostTerms
    from wpi_abm.model import WPIModel


class Centre(mesa.Agent):
    """A research centre funded by the programme.

    A centre has a field, one or more host institutions, a planned size and composition, a
    reputation and its books. Its money comes from the programme (subsidy, matching, carry-over),
    its hosts (permanent posts and cash), researchers' competitive grants, company partnerships,
    endowment payouts and its reserves; personnel comes first. The rules that move its money are in
    :mod:`wpi_abm.finance` (applied to all centres at once); its people are rows of the population
    (:mod:`wpi_abm.researchers`). The properties below are this centre's slice of that state.

    Attributes:
        idx: Position of the centre in the model's arrays.
        world: The run (world) it belongs to.
        spec: Its cohort entry.
        field: Research field.
        hosts: Its host institutions (several under a Multiple-Host design).
        host_terms: What its hosts give it, year by year.
        planned: Planned headcount by rank (PI, researcher, postdoc, staff).
        planned_payroll: Yearly cost of the planned headcount (M yen).
    """

    def __init__(
        self,
        model: WPIModel,
        idx: int,
        spec: CentreSpec,
        hosts: list[HostInstitution],
        host_terms: HostTerms,
    ) -> None:
        super().__init__(model)
        self.idx = idx
        self.world = idx // model.n_centres
        self.spec = spec
        self.field = spec.field
        self.hosts = hosts
        for h in hosts:
            h.centres.append(self)
        self.host_terms = host_terms
        self.planned = np.array(spec.planned.as_tuple(), dtype=float)
        self.planned_payroll = float(self.planned @ model.population.salary_by_rank)

    @property
    def name(self) -> str:
        """The centre's name in the cohort."""
        return self.spec.name

    @property
    def reputation(self) -> float:
        """Reputation (1.0 = a typical WPI centre); follows output with a lag."""
        return float(self.model.reputation[self.idx])

    @property
    def reserves(self) -> float:
        """Money kept from past years (M yen)."""
        return float(self.model.finances.reserves[self.idx])

    @property
    def insecurity(self) -> float:
        """Foreseen funding gap of its soft-money posts this year (0–1)."""
        return float(self.model.finances.insecurity[self.idx])

    @property
    def headcount(self) -> np.ndarray:
        """People by rank (PI, researcher, postdoc, staff)."""
        return self.model.population.counts()[self.idx]

    @property
    def in_support(self) -> bool:
        """Whether the programme pays this centre anything this year."""
        return bool(self.model.programme.in_support(max(self.model.year, 1))[self.idx])
