"""The first people of each centre, at founding."""

from __future__ import annotations

import numpy as np

from wpi_abm.sim.population import N_RANKS, PERMANENT, PI, STAFF
from wpi_abm.sim.world import World


def populate(world: World, year: int = 1) -> np.ndarray:
    """Staff the centres that start in ``year``: PIs first, then a share of the planned posts.

    Called before the year is simulated. Some founding posts are the host's permanent posts
    (host faculty who join the centre); the others are fixed-term contracts signed over the
    years before, so their ends are staggered.

    Returns:
        People appointed per centre (counted as the hires of the year before ``year``).
    """
    starting = np.flatnonzero(world.start == year)
    if not len(starting):
        return np.zeros(world.size)
    p = world.params
    perm_share = np.asarray(p.host.initial_permanent_share.as_tuple())
    bonus = p.recruitment.founding_pi_fill_bonus
    n = world.n_centres
    centres = world.cohort.centres
    shares = np.tile([c.foreign_share for c in centres], world.n_worlds)
    # Each centre fills this share of its planned posts by rank (PIs more readily).
    fill = np.repeat([[c.initial_fill] for c in centres], N_RANKS, axis=1)
    fill[:, PI] = [min(1.0, c.initial_fill + bonus) for c in centres]
    fill = np.tile(fill, (world.n_worlds, 1))
    k = np.rint(world.planned[starting] * fill[starting]).astype(int)
    centre = np.repeat(starting, k.sum(axis=1)).astype(np.int32)
    rank = np.repeat(np.tile(np.arange(N_RANKS), len(starting)), k.ravel()).astype(np.int8)
    counts = np.bincount(centre // n, minlength=world.n_worlds)
    years = world.contract_years[rank]
    u = world.draws.uniforms("population", counts, width=4)
    foreign = (u[0] < shares[centre]) & (rank != STAFF)
    host = u[1] < perm_share[rank]
    productivity = world.productivity(u[2], centre, foreign)
    ends = world.contract_ends(centre, rank, year)
    ends = np.minimum(ends, year + np.floor(u[3] * years).astype(int))
    ends = np.where(host, PERMANENT, ends)
    world.population.add(centre, rank, foreign, productivity, host, ends)
    np.add.at(world.host_posts, (centre[host], rank[host]), 1.0)
    return np.bincount(centre, minlength=world.size).astype(float)
