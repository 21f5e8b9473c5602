"""Research output: papers, top-10% papers and internationally co-authored papers."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from wpi_abm.numerics import clip, ratio
from wpi_abm.sim import elementary
from wpi_abm.sim.population import STAFF, Census
from wpi_abm.sim.world import World


class Papers(NamedTuple):
    """A year's papers per centre: the counts drawn, and the means they were drawn from."""

    papers: np.ndarray
    top10: np.ndarray
    intl: np.ndarray
    papers_expected: np.ndarray
    top10_expected: np.ndarray
    intl_expected: np.ndarray


class Output:
    """The year's papers of every centre; half reflect last year's work (publication lag).

    Expected papers combine the effort of the people present, their research money and the support
    of specialist staff; top-10% and international shares are paper-weighted over authors.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self.effort_last = np.zeros(world.size)

    def publish(self, census: Census, researchers: np.ndarray, research: np.ndarray) -> Papers:
        """Papers, top-10% papers and international papers of the year, per centre.

        Args:
            census: The people of each centre (counts by rank, foreign people, effort).
            researchers: Researchers (PIs, researchers, postdocs) per centre.
            research: Research money per centre.
        """
        w = self.world
        o = w.params.output
        counts, foreign, capacity = census.counts, census.foreign, census.effort
        norm = w.params.money.research_norm_per_researcher
        resource = clip(
            ratio(research, researchers * norm, 1.0), o.resource_ratio_min, o.resource_ratio_max
        )
        resource_f = elementary.power(resource, o.resource_elasticity)
        support = ratio(counts[:, STAFF], o.staff_ratio * researchers, 1.0)
        staff_f = elementary.power(clip(support, o.staff_support_floor, 1.0), o.staff_elasticity)
        effective = capacity * staff_f * resource_f
        lag = o.publication_lag_weight if w.year > 1 else 0.0
        expected = lag * self.effort_last + (1 - lag) * effective
        self.effort_last = effective
        q = clip(ratio(census.effort_top10, capacity), 0.0, 1.0)
        p_intl = clip(
            w.per_world.intl_base + o.intl_per_foreign_share * ratio(foreign, researchers),
            0.0,
            1.0,
        )

        # Per world: its centres' papers, then of those the top-10% papers of every centre, then
        # the international ones (a centre without papers draws nothing), in the order one
        # ``binomial(papers, shares)`` call would draw them.
        nw, n = w.n_worlds, w.n_centres
        papers = w.draws.poisson("output", expected.reshape(nw, n))
        shares = np.stack((q.reshape(nw, n), p_intl.reshape(nw, n)), axis=1)
        out = np.empty((nw, 3, n))
        out[:, 0] = papers
        out[:, 1:] = w.draws.binomial("output", papers[:, None, :], shares).reshape(nw, 2, n)
        # The expected counts are the centre's capacity to publish; the value index reads them
        # (decline.output), so that a 5% test is not decided by the year's counting noise.
        return Papers(
            out[:, 0].ravel(), out[:, 1].ravel(), out[:, 2].ravel(),
            expected, expected * q, expected * p_intl,
        )  # fmt: skip
