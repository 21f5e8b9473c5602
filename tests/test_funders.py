"""Funders and hosts sized to the record and able to bind (issue: the reform as written).

Fixed seeds; tolerances stated next to each assertion.
"""

from __future__ import annotations

import numpy as np
import pytest

from wpi_abm.config import load_experiment
from wpi_abm.sim.model import WPIModel


def run(exp, policy: str, n: int, seed: int, horizon: int = 25) -> dict[str, np.ndarray]:
    out = []
    for k in range(0, n, 25):
        seeds = [np.random.SeedSequence(seed, spawn_key=(k + i,)) for i in range(min(25, n - k))]
        out.append(WPIModel(exp.cohort, exp.parameters, exp.policies[policy], horizon, seeds).run())
    return {key: np.concatenate([r.data[key] for r in out], axis=1) for key in out[0].data}


@pytest.fixture(scope="module")
def generous():
    """Foundations that endow often, so that many funds can be followed."""
    exp, _ = load_experiment(sets=["parameters.foundation.gift_rate=0.05"])
    return exp


def test_endowment_pays_about_the_kavli_record(generous):
    # facts §4: Kavli IPMU's fund pays about 83 M yen a year roughly ten years after the gift.
    e = run(generous, "legacy", 50, seed=9)["income_endowment"]
    payouts = []
    for c in range(e.shape[1]):
        paying = np.flatnonzero(e[:, c] > 0)
        if len(paying):
            age = paying - paying[0]
            payouts.extend(e[paying[(age >= 7) & (age < 12)], c])
    assert len(payouts) > 200
    assert 65 <= np.mean(payouts) <= 100  # the record ±20%


def test_the_kavli_condition_cuts_the_payout_when_national_support_falls_short(generous):
    met = run(generous, "legacy", 25, seed=9)["income_endowment"].sum()
    unmet = load_experiment(
        sets=[
            "parameters.foundation.gift_rate=0.05",
            "parameters.foundation.min_national_support=1e6",
        ]
    )[0]
    assert met > 0
    assert run(unmet, "legacy", 25, seed=9)["income_endowment"].sum() == 0


def test_a_shared_host_absorbs_less_when_its_two_centres_end_together():
    # host_a hosts C01 and C05 in the default cohort; give every centre its own host of the
    # same strength and commitment to compare.
    exp, _ = load_experiment()
    alone_hosts = [h.model_dump() for h in exp.cohort.hosts] + [
        {**exp.cohort.hosts[0].model_dump(), "name": "host_a2"}
    ]
    centres = [c.model_dump() for c in exp.cohort.centres]
    centres[4]["host"] = "host_a2"
    cohort = exp.cohort.model_validate(
        {**exp.cohort.model_dump(), "hosts": alone_hosts, "centres": centres}
    )
    seeds = [np.random.SeedSequence(4, spawn_key=(i,)) for i in range(25)]
    shared = WPIModel(exp.cohort, exp.parameters, exp.policies["legacy"], 14, seeds).run()
    apart = WPIModel(cohort, exp.parameters, exp.policies["legacy"], 14, seeds).run()
    pair = [0, 4]  # C01 and C05, in every world
    cols = [w * 12 + c for w in range(25) for c in pair]
    assert shared.data["host_posts"][:, cols].max() < apart.data["host_posts"][:, cols].max()
    assert shared.data["absorbed"][10:, cols].sum() < apart.data["absorbed"][10:, cols].sum()
