"""Exact subsidy per year for every preset: gates, cuts, matching, flexibility, foresight."""

from __future__ import annotations

import numpy as np
import pytest

from wpi_abm.config import builtin, load_policy
from wpi_abm.policy import GateRecord, PolicyDesign
from wpi_abm.sim.programme import Programme

HORIZON = 25


def schedule(name: str, passed: dict[str, bool] | None = None, factor: float = 1.0) -> list[float]:
    s = load_policy(name).compile(HORIZON, 0)
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
    certified = load_policy("reform_2024").compile(HORIZON, 0)
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
        ("reform_2024", {"certification": True}, 11, 15),
        ("flat_forever", {}, 3, 25),
    ],
)
def test_secured_until(name, record, year, secured):
    s = load_policy(name).compile(HORIZON, 0)
    assert s.plan(GateRecord(record)).secured_at(year) == secured


def test_envelope_end_counts_pending_gates_as_passed():
    s = load_policy("reform_2024").compile(HORIZON, 0)
    assert s.plan(GateRecord({})).envelope_end == 15
    assert s.plan(GateRecord({"certification": False})).envelope_end == 10


def make_programme(name: str, n: int = 3) -> Programme:
    from wpi_abm.config import load_block
    from wpi_abm.parameters import Parameters

    params = load_block("parameters", "default", Parameters)
    return Programme(load_policy(name), HORIZON, 5, params.programme, n)


def test_programme_evaluation_applies_cuts_and_gates_per_centre():
    prog = make_programme("legacy")
    out = prog.evaluate(5, np.array([1.0, 0.5, 1.0]), np.zeros(3))
    assert out.tolist() == [1.0, 0.0, 1.0]
    assert prog.owed(6).tolist() == [700.0, 560.0, 700.0]
    assert np.isnan(prog.evaluate(6, np.ones(3), np.zeros(3))).all()  # no evaluation in year 6


def test_programme_certification_opens_matching_with_the_cap():
    prog = make_programme("reform_2024")
    prog.evaluate(10, np.array([1.0, 0.2, 1.0]), np.zeros(3))
    assert prog.matching(11, np.array([100.0, 100.0, 900.0])).tolist() == [100.0, 0.0, 300.0]
    assert prog.secured_until(11).tolist() == [15, 10, 15]


def test_flexibility_keeps_unspent_money_only_from_year_6_and_within_the_envelope():
    prog = make_programme("reform_2024")
    assert not prog.flexible(5) and prog.flexible(6)
    prog.deferred[:] = [50.0, 50.0, 50.0]
    assert prog.carry_over(5).tolist() == [0.0, 0.0, 0.0]
    assert prog.carry_over(8).tolist() == [50.0, 50.0, 50.0]
    prog.evaluate(10, np.array([1.0, 0.2, 1.0]), np.zeros(3))
    # The uncertified centre's envelope closed at year 10: its carry-over goes back.
    assert prog.carry_over(11).tolist() == [50.0, 0.0, 50.0]
    assert prog.carry_over(16).tolist() == [0.0, 0.0, 0.0]
    legacy = make_programme("legacy")
    assert not legacy.flexible(8)


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
            "not an evaluation of this policy",
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
