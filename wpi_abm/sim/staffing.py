"""Personnel first: bring each centre's soft payroll within its money.

Each year, after voluntary departures, contracts that ran out come up for renewal. A centre whose
money cannot carry its continuing and expiring contracts asks its hosts to take over posts (once
its programme money has stopped or fallen sharply, up to the hosts' promise); renews what money is
left for, in its priority order; and, if money is still short, lays people off in reverse priority
order. The amounts are the centre agents' decisions (:class:`~wpi_abm.sim.agents.centre.Centre`);
the people concerned are chosen here, for every centre at once.
"""

from __future__ import annotations

import numpy as np
from mesa.agent import AgentSet

from wpi_abm.sim import hosting, kernels
from wpi_abm.sim.finance import CentreFinances
from wpi_abm.sim.world import World


def staff(
    world: World,
    finances: CentreFinances,
    money: np.ndarray,
    stay: np.ndarray,
    centres: AgentSet,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Absorb, renew, cut; remove everyone who leaves this year.

    Args:
        world: The chunk of runs.
        finances: The books (the hosts' absorption promise is kept there).
        money: Money each centre has for soft-money salaries.
        stay: People who have not decided to leave this year; the others are removed here.
        centres: The centre agents (they decide the amounts).

    Returns:
        Per-centre counts of absorbed, not renewed and laid-off people.
    """
    pop = world.population
    t = world.year
    # Soft-money contracts that ran out among those who stay, the payroll of the soft posts
    # that run on and that of the expired ones (one pass over the population).
    expired, cont_pay, cand_pay = kernels.expiring(
        pop.centre,
        pop.rank,
        pop.salary,
        pop.host,
        stay,
        pop.contract_end,
        t,
        pop.n_centres,
    )
    centres.do("ask_absorption", money, cont_pay, cand_pay)

    absorbed = None
    allowance = np.where(finances.absorption_open, finances.absorption_left, 0.0)
    if ((allowance > 0) & (world.shortfall > 0)).any():
        absorbed = hosting.absorb(world, ~pop.host & stay, allowance)
        taken = pop.salaries(absorbed)
        finances.absorption_left = finances.absorption_left - taken
        expired &= ~absorbed
        cont_pay = pop.salaries(~pop.host & stay & ~expired)

    centres.do("budget_staff", money, cont_pay)
    renewed = pop.prefix_within(pop.priority_order(expired), world.renewal_budget)
    not_renewed = expired & ~renewed
    laid_off = None
    if (world.cut > 0).any():
        continuing = ~pop.host & stay & ~expired
        laid_off = pop.prefix_covering(pop.priority_order(continuing, reverse=True), world.cut)
    if renewed.any():
        idx = np.flatnonzero(renewed)
        pop.contract_end[idx] = world.contract_ends(pop.centre[idx], pop.rank[idx], t)

    def count(mask: np.ndarray | None) -> np.ndarray:
        # Nobody absorbed or laid off (most years): no pass over the population.
        return np.zeros(pop.n_centres) if mask is None else pop.per_centre(mask)

    counts = (count(absorbed), count(not_renewed), count(laid_off))
    pop.keep(stay & ~not_renewed if laid_off is None else stay & ~(not_renewed | laid_off))
    return counts
