"""Agents that decide: each agent type, stepped through Mesa's agent sets, changes the world.

Each test switches one agent type's decision off (its method replaced by one that does nothing)
and checks that the world moves in the documented direction; fixed seeds, 4 runs × 25 years of
the default cohort.
"""

from __future__ import annotations

import numpy as np
import pytest

from wpi_abm.config import load_experiment
from wpi_abm.sim.agents.centre import Centre
from wpi_abm.sim.agents.company import Company
from wpi_abm.sim.agents.foundation import Foundation
from wpi_abm.sim.agents.host import HostInstitution
from wpi_abm.sim.model import WPIModel

SEEDS = [np.random.SeedSequence(11, spawn_key=(i,)) for i in range(4)]


@pytest.fixture(scope="module")
def exp():
    return load_experiment()[0]


def run(exp, policy: str = "legacy") -> dict[str, np.ndarray]:
    model = WPIModel(exp.cohort, exp.parameters, exp.policies[policy], 25, SEEDS)
    return model.run().data


@pytest.fixture(scope="module")
def baseline(exp):
    return {p: run(exp, p) for p in ("legacy", "reform_2024")}


def switched_off(monkeypatch, cls: type, method: str) -> None:
    monkeypatch.setattr(cls, method, lambda self, *args: None)


def test_agents_are_mesa_agents_stepped_by_type(exp, monkeypatch):
    model = WPIModel(exp.cohort, exp.parameters, exp.policies["multiple_host"], 3, SEEDS[:2])
    n = len(exp.cohort.centres)
    by_type = model.agents_by_type
    assert len(by_type[Centre]) == n  # one per cohort slot, acting in both runs
    # Main hosts, plus one co-host per centre under a Multiple-Host design.
    assert len(by_type[HostInstitution]) == len(exp.cohort.hosts) + n
    assert len(by_type[Company]) == 2 * len(exp.cohort.companies)  # one per company and run
    assert len(by_type[Foundation]) == 2 * len(exp.cohort.foundations)
    calls: list[str] = []
    for cls, method in [
        (Centre, "seek_private_money"),
        (Centre, "open_posts"),
        (HostInstitution, "set_terms"),
        (Company, "act"),
        (Foundation, "act"),
    ]:
        original = getattr(cls, method)

        def spy(self, *a, _o=original, _m=f"{cls.__name__}.{method}"):
            calls.append(_m)
            return _o(self, *a)

        monkeypatch.setattr(cls, method, spy)
    model.step()
    assert calls.count("Centre.seek_private_money") == n
    assert calls.count("Centre.open_posts") == n
    assert calls.count("HostInstitution.set_terms") == len(by_type[HostInstitution])
    assert calls.count("Company.act") == len(by_type[Company])
    assert calls.count("Foundation.act") == len(by_type[Foundation])
    # The documented order: centres plan, funders act, hosts set terms, centres hire.
    assert calls.index("Foundation.act") < calls.index("Company.act")
    assert calls.index("Company.act") < calls.index("HostInstitution.set_terms")
    assert calls.index("HostInstitution.set_terms") < calls.index("Centre.open_posts")


def test_hosts_that_set_no_terms_convert_nothing_and_give_no_cash(exp, baseline, monkeypatch):
    switched_off(monkeypatch, HostInstitution, "set_terms")
    data = run(exp)
    assert baseline["legacy"]["converted"].sum() > 0
    assert data["converted"].sum() == 0
    assert data["absorbed"].sum() == 0
    # Without host cash and posts, centres carry fewer people after support.
    assert data["researchers"][14:].mean() < baseline["legacy"]["researchers"][14:].mean()


def test_a_company_that_never_acts_pays_nothing(exp, baseline, monkeypatch):
    switched_off(monkeypatch, Company, "act")
    data = run(exp, "reform_2024")
    assert baseline["reform_2024"]["income_company"].sum() > 0
    assert data["income_company"].sum() == 0


def test_a_foundation_that_never_acts_pays_nothing(exp, monkeypatch):
    # Foundations are rare in the default cohort: make gifts likely to see one act.
    params = exp.parameters.model_copy(
        update={"foundation": exp.parameters.foundation.model_copy(update={"gift_rate": 0.5})}
    )
    model = WPIModel(exp.cohort, params, exp.policies["legacy"], 25, SEEDS)
    endowed = model.run().data["income_endowment"].sum()
    switched_off(monkeypatch, Foundation, "act")
    model = WPIModel(exp.cohort, params, exp.policies["legacy"], 25, SEEDS)
    assert endowed > 0
    assert model.run().data["income_endowment"].sum() == 0


def test_centres_that_open_no_posts_shrink(exp, baseline, monkeypatch):
    switched_off(monkeypatch, Centre, "open_posts")
    data = run(exp)
    assert data["researchers"][9].sum() < 0.8 * baseline["legacy"]["researchers"][9].sum()


def test_centres_that_never_seek_private_money_raise_less(exp, monkeypatch):
    # Seeking triples funders' interest from two years before the end of support (and after it).
    seeds = [np.random.SeedSequence(3, spawn_key=(i,)) for i in range(40)]

    def company_income() -> float:
        model = WPIModel(exp.cohort, exp.parameters, exp.policies["legacy"], 18, seeds)
        return float(model.run().data["income_company"][8:].sum())

    seeking = company_income()
    switched_off(monkeypatch, Centre, "seek_private_money")
    assert company_income() < 0.8 * seeking  # measured: 0.68


def test_centres_that_budget_no_renewals_lose_expiring_staff(exp, baseline, monkeypatch):
    # With the staffing decision off, the renewal budget stays at zero: every expiring contract
    # goes, and no one is laid off (the cut is never set).
    switched_off(monkeypatch, Centre, "budget_staff")
    data = run(exp)
    base = baseline["legacy"]
    assert data["not_renewed"].sum() > 1.5 * base["not_renewed"].sum()
    assert data["laid_off"].sum() == 0
    assert data["researchers"][9].sum() < base["researchers"][9].sum()
