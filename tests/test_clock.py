"""Centres on their own clocks: staggered starts and subsidy history given as input.

The real programme's centres started between FY2007 and FY2023 and share hosts across those
years; a cohort may therefore give each centre its model year of start and the subsidy it was
actually paid (history), after which the design applies.
"""

from __future__ import annotations

import numpy as np
import pytest

from wpi_abm.config import load_experiment
from wpi_abm.sim.model import WPIModel
from wpi_abm.sim.world import clock_age


def run(sets: list[str], policy: str = "legacy", horizon: int = 24, worlds: int = 3):
    exp, _ = load_experiment(sets=[*sets, f"horizon={horizon}"])
    seeds = [np.random.SeedSequence(5, spawn_key=(i,)) for i in range(worlds)]
    model = WPIModel(exp.cohort, exp.parameters, exp.policies[policy], horizon, seeds)
    model.run()
    return exp, model


def column(model: WPIModel, name: str, slot: int) -> np.ndarray:
    """(years, worlds) values of cohort centre ``slot``."""
    return model.recorder[name][:, model.world.rows(slot)]


@pytest.fixture(scope="module")
def late():
    """C05 (host_a, shared with C01) starts in year 6; C02 in year 4."""
    return run(["cohort.centres[4].start=6", "cohort.centres[1].start=4"])


def test_a_centre_does_not_exist_before_its_start(late):
    _, model = late
    for name in ("researchers", "staff", "personnel_cost", "papers", "income", "host_posts"):
        before = column(model, name, 4)[:5]
        assert (before == 0).all(), name
    assert (column(model, "researchers", 4)[5:] > 0).all()
    # Its reputation waits for it.
    assert model.world.reputation[model.world.rows(4)].tolist() != [1.05] * 3
    assert (column(model, "reputation", 4)[:5] == 1.05).all()


def test_the_design_pays_from_the_centres_own_first_year(late):
    exp, model = late
    owed = column(model, "subsidy_owed", 1)  # starts in year 4
    assert (owed[:3] == 0).all()
    # Legacy: the envelope's support years 1..10 fall in model years 4..13, none after.
    legacy = exp.policies["legacy"]
    expected = [legacy.segments[0].amount] * 10
    assert owed[3:13, 0].tolist() == pytest.approx(expected)
    assert (owed[13:] == 0).all()
    # Its first people arrive at its start, as a year-1 centre's do.
    first = column(model, "researchers", 1)[3]
    reference = column(model, "researchers", 2)[0]  # C03 at its year 1, similar plan
    assert first.mean() == pytest.approx(reference.mean(), rel=0.25)


def test_a_host_shares_its_capacity_only_with_centres_that_have_started():
    _, model = run(["cohort.centres[4].start=6"], horizon=16, worlds=1)
    w = model.world
    # Recorded in the final year, the terms are shared; compare with a run where C05 never
    # starts within the horizon.
    shared = w.host_capacity[w.rows(0)].copy()
    _, alone = run(["cohort.centres[4].start=20"], horizon=16, worlds=1)
    full = alone.world.host_capacity[alone.world.rows(0)]
    c01, c05 = (sum(c.planned.as_tuple()) for c in model.world.cohort.centres[0:5:4])
    assert shared[0] < full[0]
    # Capacity is shared in proportion to planned payroll, so the share is below one and close
    # to C01's headcount share.
    assert shared[0] / full[0] == pytest.approx(c01 / (c01 + c05), rel=0.15)


def test_subsidy_history_is_paid_exactly_then_the_design_applies():
    history = "{1: 512.5, 2: 640.25, 3: 100.0}"
    exp, model = run([f"cohort.centres[0].subsidy_history={history}"], policy="legacy")
    owed = column(model, "subsidy_owed", 0)[:, 0]
    assert owed[:3].tolist() == [512.5, 640.25, 100.0]
    # From year 4 the design pays its support years 4..10 as written.
    assert owed[3:10].tolist() == pytest.approx([exp.policies["legacy"].segments[0].amount] * 7)
    # Paid: the history is what the centre received (subsidy income never exceeds it).
    paid = column(model, "income_subsidy", 0)[:3, 0]
    assert (paid <= owed[:3] + 1e-9).all()
    assert exp.cohort.centres[0].policy_from == 4


def test_a_history_that_ends_unpaid_means_the_centre_has_left():
    # Support ended in year 3 (nothing paid): the design does not take the centre back, even
    # under the reform, whose matching years would otherwise follow.
    history = "{1: 700, 2: 700, 3: 0}"
    _, model = run([f"cohort.centres[0].subsidy_history={history}"], policy="reform_2024")
    money = column(model, "subsidy_owed", 0) + column(model, "income_matching", 0)
    assert (money[2:] == 0).all()
    assert (column(model, "subsidy_owed", 1)[3:10] > 0).all()  # the others are paid as designed


def test_evaluations_during_history_count_as_passed():
    # Under reform_2024 the interim evaluation (year 5) decides years 6-10 and certification
    # (end of year 9) years 11-15. With history through year 7, the interim counts as passed.
    hist = "{" + ", ".join(f"{y}: 700" for y in range(1, 8)) + "}"
    _, model = run([f"cohort.centres[0].subsidy_history={hist}"], policy="reform_2024")
    prog = model.world.programme
    rows = np.arange(model.world.size)[model.world.rows(0)]
    gates = prog.schedule.gates
    for gate in gates:
        if gate != "certification":
            assert (prog.gate_state[gate][rows] == 1.0).all(), gate
    sched = prog._schedule_of[rows[0]]
    assert sched.policy_from == 8
    assert min(sched.eval_years) >= 8


def test_design_features_wait_for_the_design():
    # A growth plan drawn up in support year 5 acts from year 6; under history through year 7
    # it cannot act before year 8.
    assert clock_age(7, 1, 8) == 0
    assert clock_age(8, 1, 8) == 8
    assert clock_age(3, 4, 4) == 0
    assert clock_age(4, 4, 4) == 1


def test_history_before_the_start_is_an_error(tmp_path):
    from wpi_abm.errors import ConfigError

    with pytest.raises(ConfigError, match="subsidy_history"):
        load_experiment(
            sets=["cohort.centres[0].start=3", "cohort.centres[0].subsidy_history={1: 100}"]
        )


def test_outcomes_are_measured_in_each_centres_support_years(late):
    exp, model = late
    from wpi_abm.metrics import decline_index, model_years, outcomes, support_years

    start = model.world.start
    aligned, observed = support_years(model.recorder.data, start)
    # Round trip: back to model years, NaN before the start.
    back = model_years(aligned["researchers"], start)
    raw = model.recorder["researchers"]
    assert np.array_equal(back[~np.isnan(back)], raw[~np.isnan(back)])
    assert np.isnan(back[:5, model.world.rows(4)]).all()
    assert observed[model.world.rows(4)].tolist() == [24 - 6 + 1] * 3
    res = outcomes(aligned, exp.decline, observed)
    v = decline_index(aligned, exp.decline)
    rows = np.arange(model.world.size)[model.world.rows(4)]
    # The reference is the centre's own tenth year (model year 15 for a year-6 start).
    assert res["value_ref"][rows].tolist() == v[9, rows].tolist()
    assert res["researchers_ref"][rows].tolist() == raw[14, rows].tolist()
    # Its last observed year is model year 24 (support year 19): year 20 is beyond the horizon.
    assert res["researchers_last"][rows].tolist() == raw[23, rows].tolist()
    assert np.isnan(res["researchers_y20"][rows]).all()
    # The ten years after its end of support (support year 10) are not all observed.
    assert np.isnan(res["value_lost_end"][rows]).all()
    assert np.isfinite(
        res["value_lost_end"][np.arange(model.world.size)[model.world.rows(0)]]
    ).all()


def test_subsidy_scale_multiplies_the_designs_amounts_not_matching():
    exp, model = run(["cohort.centres[0].subsidy_scale=1.5"], policy="reform_2024", horizon=16)
    owed = column(model, "subsidy_owed", 0)
    other = column(model, "subsidy_owed", 1)
    # Years 1-5 pay the design's 700 (no glide yet): scaled for C01 only.
    assert owed[:5, 0].tolist() == pytest.approx([1.5 * 700] * 5)
    assert other[:5, 0].tolist() == pytest.approx([700.0] * 5)
    # Matching follows the rule on the funds raised, capped at the design's cap (not scaled).
    assert column(model, "income_matching", 0).max() <= exp.policies["reform_2024"].matching.cap


def test_a_co_host_adds_its_terms():
    _, alone = run([], horizon=16, worlds=1)
    _, both = run(["cohort.centres[1].co_hosts=[host_k]"], horizon=16, worlds=1)
    rows = alone.world.rows(1)
    # C02's host cash and room grow by host_k's (which also hosts C12, and now shares with C02).
    assert both.world.host_cash[rows][0] > alone.world.host_cash[rows][0]
    assert both.world.host_capacity[rows][0] > alone.world.host_capacity[rows][0]
    c12 = alone.world.rows(11)
    assert both.world.host_capacity[c12][0] < alone.world.host_capacity[c12][0]
