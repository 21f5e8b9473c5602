"""Voluntary departures: researchers weigh the funding they foresee for their own post.

Each soft-money person feels the centre's foreseen insecurity (fully if their contract ends within
the foresight window, partly otherwise: lay-off risk); host posts feel none. The log-odds of
leaving add that to the person's own base rate and outside options, less the pull of a reputable
centre.
"""

from __future__ import annotations

import numpy as np

from wpi_abm.sim import elementary, kernels
from wpi_abm.sim.world import World

GRID_FROM, PER_STEP = -40.0, 64.0
"""The logistic is tabulated on log-odds -40, -40 + 1/64, …, 40 (exact floats)."""
LOGISTIC_GRID = 1.0 / (1.0 + elementary.exp(-(np.arange(80 * 64 + 1) / PER_STEP + GRID_FROM)))
"""The probability of leaving at each grid point (``elementary.exp``, as for the other rows)."""


def leaving(world: World, insecurity: np.ndarray) -> np.ndarray:
    """Who leaves voluntarily this year (a mask; they are removed with the year's other leavers).

    Args:
        world: The chunk of runs.
        insecurity: Foreseen funding gap of each centre's soft-money posts (0–1).
    """
    pop = world.population
    r = world.params.researchers
    t = world.year
    u = world.draws.uniforms("departures", world.rows_per_world())[0]
    # Log-odds in one compiled pass (own rate and outside options, the insecurity the person
    # feels, the pull of a reputable centre). Whether the draw falls below the probability is
    # settled for almost everyone by the tabulated logistic; the exact logistic (whose rounding
    # decides near-ties) is computed only for the rest. The decisions are those of
    # ``u < 1 / (1 + exp(-logit))`` over everyone.
    logit = kernels.leave_logit(
        pop.leave_logit, pop.host, pop.contract_end, pop.centre, insecurity, world.reputation,
        t + r.foresight_window - 1, r.secure_contract_exposure, r.insecurity_sensitivity,
        r.reputation_retention,
    )  # fmt: skip
    leave, unsettled = kernels.below_logistic(u, logit, LOGISTIC_GRID, GRID_FROM, PER_STEP)
    leave[unsettled] = u[unsettled] < 1.0 / (1.0 + elementary.exp(-logit[unsettled]))
    return leave
