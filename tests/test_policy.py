"""Exact subsidy per year for every preset: gates, cuts, matching, flexibility, foresight."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wpi_abm.config import builtin, load_policy
from wpi_abm.policy import PolicyDesign
from wpi_abm.schedule import GateRecord, compile_schedule
from wpi_abm.sim.flexibility import glide
from wpi_abm.sim.programme import Programme

HORIZON = 25


def schedule(name: str, passed: dict[str, bool] | None = None, factor: float = 1.0) -> list[float]:
    s = compile_schedule(load_policy(name), HORIZON, 0, 0.5)
    rec = GateRecord(passed or {}, factor)
    return [s.plan(rec).amount_at(y) for y in range(1, HORIZON + 1)]


def zeros(n: int) -> list[float]:
    return [0.0] * n


def test_every_builtin_policy_loads_and_is_listed():
    files = builtin("policies")
    assert len(files) >= 9 and "legacy" in files  # the baseline of the default experiment
    for name in files:
        assert load_policy(name).name == name, "a design's name is its file name"


def test_legacy_is_700_for_ten_years_then_a_cliff():
    assert schedule("legacy") == [700.0] * 10 + zeros(15)


def test_legacy_interim_failure_cuts_later_years_by_a_fifth():
    # The cut applies from the record on: the programme applies it to the years after year 5.
    assert schedule("legacy", {"interim": False}, factor=0.8)[5:10] == [560.0] * 5


def test_legacy_2007_is_1300_for_ten_years():
    assert schedule("legacy_2007") == [1300.0] * 10 + zeros(15)


def test_extension_taper_follows_kavli_ipmu_only_when_passed():
    taper = [581.1, 529.4, 466.7, 427.8, 394.4]
    assert schedule("legacy_extension_taper", {"extension": True}) == [700.0] * 10 + taper + zeros(
        10
    )
    assert schedule("legacy_extension_taper", {"extension": False}) == [700.0] * 10 + zeros(15)
    # Pending (before year 10's evaluation): counted as not passed.
    assert schedule("legacy_extension_taper")[10] == 0.0


def test_extension_taper_ratios_match_the_subsidy_record():
    # 700 × (1046, 953, 840, 770, 710) / 1260, from the FY2016–FY2021 subsidy CSV.
    expected = [round(700 * x / 1260, 1) for x in (1046, 953, 840, 770, 710)]
    assert schedule("legacy_extension_taper", {"extension": True})[10:15] == expected


def test_reform_pays_no_subsidy_after_year_10_only_matching_when_certified():
    certified = compile_schedule(load_policy("reform_2024"), HORIZON, 0, 0.5)
    yes, no = GateRecord({"certification": True}), GateRecord({"certification": False})
    assert [certified.plan(yes).amount_at(y) for y in range(1, 16)] == [700.0] * 10 + zeros(5)
    opened = [certified.plan(yes).matching_at(y) for y in range(1, 18)]
    assert opened == [False] * 10 + [True] * 5 + [False] * 2
    assert not any(certified.plan(no).matching_at(y) for y in range(1, 26))
    assert certified.matching.amount(100.0) == 100.0
    assert certified.matching.amount(450.0) == 300.0  # the cap


def test_taper_has_the_same_total_as_legacy():
    amounts = schedule("taper")
    assert amounts[:5] == [700.0] * 5
    assert amounts[5:15] == [665.0, 595.0, 525.0, 455.0, 385.0, 315.0, 245.0, 175.0, 105.0, 35.0]
    assert sum(amounts) == sum(schedule("legacy")) == 7000.0


def test_wpi_core_steps_up_after_the_stage_gate_or_stays():
    assert schedule("wpi_core", {"stage_gate": True}) == [500.0] * 5 + [700.0] * 5 + zeros(15)
    assert schedule("wpi_core", {"stage_gate": False}) == [500.0] * 10 + zeros(15)


def test_multiple_host_pays_1000_and_has_two_hosts():
    assert schedule("multiple_host") == [1000.0] * 10 + zeros(15)
    assert load_policy("multiple_host").hosts_per_centre == 2


def test_flat_designs():
    assert schedule("flat_15") == [700.0] * 15 + zeros(10)
    assert schedule("flat_forever") == [700.0] * 25
    assert load_policy("flat_forever").last_year() is None
    assert load_policy("flat_forever").evaluations == []


@pytest.mark.parametrize(
    ("name", "record", "year", "secured"),
    [
        ("legacy", {}, 1, 10),
        ("legacy", {}, 11, 10),  # nothing owed in year 11: secured until the year before
        ("reform_2024", {}, 5, 10),  # pending certification: not secured beyond year 10
        # Certified years 11-15 pay matching only: expected money, never secured.
        ("reform_2024", {"certification": True}, 11, 10),
        ("reform_2024", {"certification": True}, 9, 10),
        ("flat_forever", {}, 3, 25),
    ],
)
def test_secured_until(name, record, year, secured):
    s = compile_schedule(load_policy(name), HORIZON, 0, 0.5)
    assert s.plan(GateRecord(record)).secured_at(year) == secured


def test_envelope_end_counts_pending_gates_as_passed():
    s = compile_schedule(load_policy("reform_2024"), HORIZON, 0, 0.5)
    assert s.plan(GateRecord({})).envelope_end == 15
    assert s.plan(GateRecord({"certification": False})).envelope_end == 10


def make_programme(name: str, n: int = 3, sets: list[str] | None = None) -> Programme:
    from wpi_abm.config import load_experiment

    exp, _ = load_experiment(sets=sets or [])
    return Programme(exp.policies[name], HORIZON, 5, exp.parameters.programme, n)


def test_programme_evaluation_applies_cuts_and_gates_per_centre():
    prog = make_programme("legacy")
    out = prog.evaluate(5, np.array([1.0, 0.5, 1.0]), np.zeros(3))
    assert out.tolist() == [1.0, 0.0, 1.0]
    assert prog.owed(6).tolist() == [700.0, 560.0, 700.0]
    assert np.isnan(prog.evaluate(6, np.ones(3), np.zeros(3))).all()  # no evaluation in year 6


def test_certification_is_at_the_end_of_year_9_and_opens_matching_with_the_cap():
    prog = make_programme("reform_2024")
    assert np.isnan(prog.evaluate(10, np.ones(3), np.zeros(3))).all()  # not in year 10 (※3)
    assert prog.evaluate(9, np.array([1.0, 0.2, 1.0]), np.zeros(3)).tolist() == [1.0, 0.0, 1.0]
    assert prog.gate_state["certification"].tolist() == [1.0, 0.0, 1.0]  # known from year 10
    # Funds raised in years 1..10 are the basis of year 11's matching (ratio 1, cap 300).
    for year, funds in [(3, [40.0, 40.0, 400.0]), (8, [60.0, 60.0, 500.0]), (11, [999.0] * 3)]:
        prog.record_raised(year, np.array(funds))
    assert prog.basis(11).tolist() == [100.0, 100.0, 900.0]
    assert prog.matching(11).tolist() == [100.0, 0.0, 300.0]  # not certified: none
    assert prog.basis(12).tolist() == [1099.0, 1099.0, 1899.0]
    assert prog.matching(12).tolist() == [300.0, 0.0, 300.0]
    # Matching years are expected money, never secured support.
    assert prog.secured_until(11).tolist() == [10, 10, 10]


def test_matching_basis_window_counts_only_recent_years():
    prog = make_programme("reform_2024", sets=["policies.reform_2024.matching.basis_years=2"])
    for year in range(1, 11):
        prog.record_raised(year, np.full(3, float(year)))
    assert prog.basis(11).tolist() == [19.0, 19.0, 19.0]  # years 9 and 10
    assert prog.basis(2).tolist() == [1.0, 1.0, 1.0]
    assert prog.basis(1).tolist() == [0.0, 0.0, 0.0]


def test_carry_over_flexibility_keeps_unspent_money_only_from_year_6_within_the_envelope():
    prog = make_programme("reform_2024", sets=["policies.reform_2024.flexibility.rule=carry_over"])
    assert not prog.carries_over(5).any() and prog.carries_over(6).all()
    prog.deferred[:] = [50.0, 50.0, 50.0]
    assert prog.carry_over(5).tolist() == [0.0, 0.0, 0.0]
    assert prog.carry_over(8).tolist() == [50.0, 50.0, 50.0]
    prog.evaluate(9, np.array([1.0, 0.2, 1.0]), np.zeros(3))
    # The uncertified centre's envelope closed at year 10: its carry-over goes back.
    assert prog.carry_over(11).tolist() == [50.0, 0.0, 50.0]
    assert prog.carry_over(16).tolist() == [0.0, 0.0, 0.0]
    legacy = make_programme("legacy")
    assert not legacy.carries_over(8).any()


def test_foresight_reveals_gate_prospects_only_where_designed():
    reform, legacy_ext = make_programme("reform_2024"), make_programme("legacy_extension_taper")
    score = np.array([1.2, 0.93, 0.5])  # above, at and below the bar
    early = reform.beliefs(5, score)["certification"]
    assert early.tolist() == [0.3, 0.3, 0.3]  # prior belief before the follow-up starts
    seen = reform.beliefs(7, score)["certification"]
    assert seen[0] > 0.99 and seen[1] == pytest.approx(0.5) and seen[2] < 0.01
    assert legacy_ext.beliefs(7, score)["extension"].tolist() == [0.3, 0.3, 0.3]


def test_expected_subsidy_weights_pending_gates_by_belief():
    prog = make_programme("legacy_extension_taper", n=2)
    beliefs = {"extension": np.array([1.0, 0.0])}
    subsidy, match_years = prog.expected(10, 12, beliefs)
    assert subsidy.tolist() == pytest.approx([700 + 581.1 + 529.4, 700.0])
    assert match_years.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"segments": [{"from_year": 5, "to_year": 3, "amount": 1}]}, "before from_year"),
        (
            {"segments": [{"from_year": 1, "to_year": 3, "amount": [1, 2]}]},
            "lists 2 amounts but years 1-3 are 3 years",
        ),
        (
            {"segments": [{"from_year": 1, "to_year": 3, "amount": 1, "gate": "nope"}]},
            "unknown evaluation 'nope'",
        ),
        (
            {
                "segments": [{"from_year": 1, "to_year": 10, "amount": 1, "gate": "g"}],
                "evaluations": [{"name": "g", "year": 5}],
            },
            "a gate must be evaluated before the years it gates",
        ),
        (
            {"segments": [{"from_year": 1, "to_year": 3, "amount": 1, "matching": True}]},
            "has no 'matching'",
        ),
        (
            {
                "segments": [{"from_year": 1, "to_year": 3, "amount": 1}],
                "evaluations": [{"name": "e", "year": 2, "on_fail": "cut"}],
            },
            "cut_fraction is 0",
        ),
    ],
)
def test_inconsistent_designs_are_rejected_with_a_reason(change, message):
    from pydantic import ValidationError

    doc = {"name": "x", **change}
    with pytest.raises(ValidationError, match=message):
        PolicyDesign.model_validate(doc)


def test_glide_path_spends_exactly_what_is_left_in_equal_steps():
    plan = glide(np.array([700.0]), np.array([5000.0]), np.array([10]))
    # Landing level 700 + 2 (5000 - 10 x 700) / 11 = 336.36; first step 700 - 36.36.
    assert plan.first[0] == pytest.approx(700 - 363.636363 / 10)
    assert plan.at(9)[0] == pytest.approx(336.363636)
    assert plan.total(10)[0] == pytest.approx(5000.0)
    assert plan.total(3)[0] == pytest.approx(sum(plan.at(k)[0] for k in range(3)))
    assert plan.at(10)[0] == 0.0  # nothing beyond the end
    # Too little left to start at last year's level: start lower and land on zero.
    low = glide(np.array([700.0]), np.array([1000.0]), np.array([10]))
    assert low.first[0] == pytest.approx(2000 / 11)
    assert low.total(10)[0] == pytest.approx(1000.0)
    assert min(low.at(k)[0] for k in range(10)) > 0


@given(
    level=st.floats(0, 2000),
    money=st.floats(0, 20000),
    years=st.integers(1, 20),
)
def test_glide_path_never_negative_and_never_beyond_the_money(level, money, years):
    plan = glide(np.array([level]), np.array([money]), np.array([years]))
    steps = [plan.at(k)[0] for k in range(years)]
    assert min(steps) >= -1e-9
    assert sum(steps) == pytest.approx(money, rel=1e-9, abs=1e-6)


def test_glide_draws_within_the_envelope_and_it_lapses_when_certification_fails():
    prog = make_programme("reform_2024")
    assert not prog.gliding(5).any() and prog.gliding(6).all()
    assert prog.envelope_left().tolist() == [7000.0] * 3
    prog.record_used(5, np.array([3500.0, 6900.0, 3500.0]))
    # Draws are paid within what is left (never negative).
    assert prog.owed(6, np.array([800.0, 800.0, -5.0])).tolist() == [800.0, 100.0, 0.0]
    beliefs = {g: np.array([0.9, 0.9, 0.2]) for g in prog.gate_state}
    # Pending certification: plan to year 15 if it is likely, else to the end of the subsidy.
    assert prog.envelope_years(6, beliefs).tolist() == [10, 10, 5]
    prog.evaluate(9, np.array([1.0, 1.0, 0.2]), np.zeros(3))
    assert prog.envelope_years(11, prog.beliefs(11, np.ones(3))).tolist() == [5, 5, 1]
    # The uncertified centre's envelope closed at year 10: nothing is paid in year 11.
    assert prog.owed(11, np.full(3, 100.0)).tolist() == [100.0, 100.0, 0.0]
    assert prog.owed(16, np.full(3, 100.0)).tolist() == [0.0, 0.0, 0.0]
    # Designs without flexibility keep their profile whatever a centre asks.
    legacy = make_programme("legacy")
    assert legacy.owed(8, np.full(3, 5.0)).tolist() == [700.0] * 3
