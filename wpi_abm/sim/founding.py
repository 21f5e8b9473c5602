"""The first people of each centre, at founding."""

from __future__ import annotations

import numpy as np

from wpi_abm.sim.population import N_RANKS, PERMANENT, PI, STAFF
from wpi_abm.sim.world import World


def populate(world: World) -> None:
    """Staff every centre at founding: PIs first, then a share of the planned posts.

    Some founding posts are the host's permanent posts (host faculty who join the centre); the
    others are fixed-term contracts signed over the years before, so their ends are staggered.
    """
    p = world.params
    perm_share = np.asarray(p.host.initial_permanent_share.as_tuple())
    bonus = p.recruitment.founding_pi_fill_bonus
    n = world.n_centres
    centre_idx, ranks, shares = [], [], []
    for idx in range(world.size):
        spec = world.cohort.centres[idx % n]
        fill = np.full(N_RANKS, spec.initial_fill)
        fill[PI] = min(1.0, spec.initial_fill + bonus)
        k = np.rint(world.planned[idx] * fill).astype(int)
        centre_idx.append(np.repeat(idx, k.sum()))
        ranks.append(np.repeat(np.arange(N_RANKS), k))
        shares.append(spec.foreign_share)
    centre = np.concatenate(centre_idx).astype(np.int32)
    rank = np.concatenate(ranks).astype(np.int8)
    counts = np.bincount(centre // n, minlength=world.n_worlds)
    years = world.contract_years[rank]
    u = world.draws.uniforms("population", counts, width=4)
    foreign = (u[0] < np.asarray(shares)[centre]) & (rank != STAFF)
    host = u[1] < perm_share[rank]
    productivity = world.productivity(u[2], centre, foreign)
    ends = world.contract_ends(centre, rank, 1)
    ends = np.minimum(ends, 1 + np.floor(u[3] * years).astype(int))
    ends = np.where(host, PERMANENT, ends)
    world.population.add(centre, rank, foreign, productivity, host, ends)
    world.host_posts = world.population.counts(world.population.host).astype(float)
