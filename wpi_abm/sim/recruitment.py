"""Recruitment: candidates accept the centres' openings, or not; hires arrive next year.

The centres decide which posts to open (:meth:`~wpi_abm.sim.agents.centre.Centre.open_posts`);
vacant host posts are refilled first. Candidates accept with a probability that falls with the
centre's foreseen insecurity (candidates turn down centres with no future); the foreign share of
hires rises with reputation.
"""

from __future__ import annotations

import numpy as np

from wpi_abm.numerics import clip
from wpi_abm.sim import hosting
from wpi_abm.sim.population import N_RANKS, PERMANENT, STAFF
from wpi_abm.sim.world import World


def recruit(world: World, insecurity: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """Fill this year's openings and vacant host posts; hires join the population for next year.

    Args:
        world: The chunk of runs (``world.openings`` holds the centres' openings).
        insecurity: Foreseen funding gap of each centre's soft-money posts (0–1).
        filled: Permanent posts filled now, by centre and rank.

    Returns:
        People hired per centre.
    """
    rc = world.params.recruitment
    t = world.year
    vacant = hosting.vacancies(world, filled)
    fill = clip(rc.fill_rate * (1.0 - rc.fill_insecurity_sensitivity * insecurity), 0.0, 1.0)

    # Per world, its openings (centre by centre, rank by rank), then its vacant host posts, and
    # their chances of being filled: one call draws them in the order two calls would (a binomial
    # array is drawn element by element, in the order of its shape).
    nw, nc = world.n_worlds, world.n_centres
    n = np.stack((world.openings.reshape(nw, nc, N_RANKS), vacant.reshape(nw, nc, N_RANKS)), 1)
    p = np.empty(n.shape)
    p[:, 0] = fill.reshape(nw, nc, 1)
    p[:, 1] = rc.fill_rate
    both = world.draws.binomial("recruitment", n, p)
    both = both.reshape(nw, 2, nc, N_RANKS)
    hired_soft = both[:, 0].reshape(-1, N_RANKS)
    hired_host = both[:, 1].reshape(-1, N_RANKS)
    hired = hired_soft + hired_host
    total = hired.sum(axis=1).astype(float)
    if t >= world.horizon or not hired.any():
        return total
    per_centre = hired.ravel()
    centre = np.repeat(np.repeat(np.arange(len(hired)), N_RANKS), per_centre).astype(np.int32)
    rank = np.repeat(np.tile(np.arange(N_RANKS), len(hired)), per_centre).astype(np.int8)
    counts = np.bincount(centre // world.n_centres, minlength=world.n_worlds)
    u = world.draws.uniforms("recruitment", counts, 2)
    p_foreign = clip(
        world.per_world.foreign_hire_base
        + rc.foreign_hire_reputation_slope * (world.reputation - 1.0),
        rc.foreign_hire_min,
        rc.foreign_hire_max,
    )
    foreign = (u[0] < p_foreign[centre]) & (rank != STAFF)
    productivity = world.productivity(u[1], centre, foreign)
    # Within each centre and rank, the first hires fill the host's vacant permanent posts.
    cell = centre.astype(np.int64) * N_RANKS + rank
    first = np.searchsorted(cell, cell, side="left")
    host = (np.arange(len(cell)) - first) < hired_host.ravel()[cell]
    ends = np.where(host, PERMANENT, world.contract_ends(centre, rank, t + 1))
    world.population.add(centre, rank, foreign, productivity, host, ends)
    return total
