"""What companies and foundations share: a funder of one run that meets centres by chance."""

from __future__ import annotations

import mesa
import numpy as np

from wpi_abm.cohort import CompanySpec, FoundationSpec
from wpi_abm.parameters import CompanyParams, FoundationParams
from wpi_abm.sim.world import Encounters, World


class Funder(mesa.Agent):
    """A private funder in one run: its fields, its interest in each centre, its encounters.

    Attributes:
        name: Identifier.
        run: The run (world) it belongs to.
        index: Its position among the cohort's funders of its kind.
        fit: Interest in each centre of the cohort by field (1, or ``off_field_fit``).
    """

    def __init__(
        self,
        model: mesa.Model,
        world: World,
        spec: CompanySpec | FoundationSpec,
        params: CompanyParams | FoundationParams,
        run: int,
        index: int,
    ) -> None:
        super().__init__(model)
        self.world = world
        self.run = run
        self.index = index
        self._offset = run * world.n_centres
        self.name = spec.name
        self.params = params
        fields = set(spec.fields)
        self.fit = np.array(
            [1.0 if c.field in fields else params.off_field_fit for c in world.cohort.centres]
        )

    def encounters(self, drawn: Encounters) -> tuple[np.ndarray, np.ndarray]:
        """This funder's row of the year's draws: (uniforms, whether each centre was met)."""
        return drawn.u[self.run, self.index], drawn.hits[self.run, self.index]

    def met_any(self, drawn: Encounters) -> bool:
        """Whether this funder met any centre this year."""
        return drawn.met[self.run][self.index]

    def choose(self, hits: np.ndarray, order_keys: np.ndarray, funded: list[int]) -> int | None:
        """Among the centres met this year and not funded yet, the one with the smallest key.

        Args:
            hits: Centres of its run (cohort order) met this year (changed in place).
            order_keys: Random keys, one per centre.
            funded: Centres (model positions) it funds already.

        Returns:
            The chosen centre's position in the world's arrays, or None.
        """
        for c in funded:
            hits[c - self._offset] = False
        if not hits.any():
            return None
        return self._offset + int(np.flatnonzero(hits)[np.argmin(order_keys[hits])])
