"""Permanent posts: the hosts' conversions, absorption at the end of support, vacant posts.

The hosts decide the terms (:meth:`~wpi_abm.sim.agents.host.HostInstitution.set_terms`); here the
posts concerned are chosen among the centre's people, in the centre's priority order, within the
room the hosts have left. Posts a host funds outlive the people in them: a vacated post is refilled
while the host's shrinking capacity allows.
"""

from __future__ import annotations

import numpy as np

from wpi_abm.sim.population import PERMANENT, PI, POSTDOC, RESEARCHER, STAFF
from wpi_abm.sim.world import World


def room(world: World, capacity: np.ndarray) -> np.ndarray:
    """Permanent posts the hosts can still fund for each centre, given ``capacity``."""
    return np.maximum(0.0, np.floor(capacity - world.host_posts.sum(1)))


def convert(world: World) -> np.ndarray:
    """Hosts move soft posts (not postdocs) onto their permanent budget while support runs.

    The number moved is Poisson with the hosts' planned mean, within their room.

    Returns:
        Posts converted per centre.
    """
    pop = world.population
    means = world.conversion_mean * world.programme.in_support(world.year)
    # A Poisson draw of mean 0 is 0 and takes nothing from the stream.
    draws = world.draws.poisson("host", means).ravel()
    k = np.minimum(draws, room(world, world.host_capacity))
    if not k.any():
        return np.zeros(len(k))
    order = pop.priority_order(~pop.host & (pop.rank != POSTDOC))
    chosen = pop.first_k(order, k)
    make_permanent(world, chosen)
    return pop.per_centre(chosen)


def make_permanent(world: World, chosen: np.ndarray) -> None:
    """Move the ``chosen`` people onto their host's permanent budget."""
    pop = world.population
    pop.host[chosen] = True
    pop.contract_end[chosen] = PERMANENT
    world.host_posts += pop.counts(chosen)


def absorb(world: World, soft: np.ndarray, allowance: np.ndarray) -> np.ndarray:
    """The hosts take over soft posts (not postdocs) to cover each centre's shortfall.

    Args:
        world: The chunk of runs.
        soft: People on soft money who stay this year.
        allowance: Money of posts the hosts will still take over, per centre.

    Returns:
        A mask of the people absorbed.
    """
    pop = world.population
    order = pop.priority_order(soft & (pop.rank != POSTDOC))
    absorbed = pop.prefix_covering(order, world.shortfall, cap=allowance)
    absorbed &= pop.first_k(order, room(world, world.host_capacity))
    make_permanent(world, absorbed)
    return absorbed


def vacancies(world: World, filled: np.ndarray) -> np.ndarray:
    """Vacant permanent posts by centre and rank for next year.

    Posts the hosts can no longer fund next year are trimmed first (vacant posts go, staff posts
    before postdocs, researchers and PIs; nobody is dismissed).

    Args:
        world: The chunk of runs.
        filled: Permanent posts filled now, by centre and rank (:meth:`Population.census`).
    """
    occupied = filled.astype(float)
    vacant = np.maximum(0.0, world.host_posts - occupied)
    excess = np.maximum(0.0, world.host_posts.sum(1) - np.floor(world.host_capacity_next))
    for r in (STAFF, POSTDOC, RESEARCHER, PI):
        cut = np.minimum(excess, vacant[:, r])
        vacant[:, r] -= cut
        excess -= cut
    world.host_posts = occupied + vacant
    return vacant.astype(np.int64)
