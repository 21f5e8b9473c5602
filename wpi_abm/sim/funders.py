"""This year's chance encounters between funders and centres, drawn for every funder at once.

Each foundation and company meets each centre of its run with a probability that rises with the
centre's reputation, its fit with the funder's fields, and whether the centre seeks private money.
All of a year's random numbers for one kind of funder are drawn here, a fixed number per funder and
year, so that designs that change a centre's path do not shift any other draw (common random
numbers); the funder agents then decide with their own rows
(:meth:`~wpi_abm.sim.agents.company.Company.act`,
:meth:`~wpi_abm.sim.agents.foundation.Foundation.act`).
"""

from __future__ import annotations

import numpy as np

from wpi_abm.sim import elementary
from wpi_abm.sim.world import Encounters, World


def draw_market(world: World) -> None:
    """The year's return on endowment funds, one draw per run (funds in a run share markets)."""
    fp = world.params.foundation
    returns = world.draws.normal("market", fp.return_mean, fp.return_sd, 1)[:, 0]
    world.market_return = np.maximum(fp.return_floor, returns)


def encounter(
    world: World,
    mechanism: str,
    fit: np.ndarray,
    rate: float,
    elasticity: float,
    seek_multiplier: float,
    extra: int,
) -> Encounters | None:
    """Draw this year's encounters of every funder of one kind with every centre of its run.

    Args:
        world: The chunk of runs.
        mechanism: The random stream (``"company"`` or ``"foundation"``).
        fit: (funders, centres) interest by field.
        rate: Yearly probability of interest in a fitting centre at reputation 1.
        elasticity: Interest rises with reputation to this power.
        seek_multiplier: Factor on interest in centres that seek private money.
        extra: Draws per funder beyond the 2 per centre (interest, order).

    Returns:
        The encounters, or None when there is no funder of this kind.
    """
    if fit.shape[0] == 0:
        return None
    n, nw = world.n_centres, world.n_worlds
    rep = world.reputation.reshape(nw, 1, n)
    seek = world.fundraising(seek_multiplier).reshape(nw, 1, n)
    prob = rate * fit * elementary.power(rep, elasticity) * seek
    width = 2 * n + extra
    u = world.draws.uniform_rows(mechanism, (fit.shape[0], width))
    hits = u[:, :, :n] < prob
    return Encounters(u, hits, hits.any(axis=2).tolist())


def running_deals(companies: list) -> list:
    """Running partnerships of every company, in company order (centres see them in foresight).

    One flat list: a centre's deals are added to what it foresees in this order, the order of
    its companies, whatever other centres' deals come between them.
    """
    return [d for co in companies for d in co.partnerships]
