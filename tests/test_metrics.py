"""Decline detection on constructed trajectories (exact expected values)."""

from __future__ import annotations

import numpy as np
import pytest

from wpi_abm.metrics import last_supported_year, outcomes, relative, value_index
from wpi_abm.schema.experiment import DeclineSpec

YEARS = 20


def panel(level: np.ndarray, money_years: int | list[int] = 10) -> dict[str, np.ndarray]:
    """Every indicator follows ``level`` (years × centres); programme money until given years."""
    level = np.asarray(level, float)
    if level.ndim == 1:
        level = level[:, None]
    n = level.shape[1]
    names = (
        "researchers", "foreign", "staff", "papers", "top10_papers", "intl_papers",
        "personnel_cost", "papers_expected", "top10_expected", "intl_expected",
    )  # fmt: skip
    # One array per indicator (tests change some in place).
    data = {name: 100.0 * level.copy() for name in names}
    ends = np.broadcast_to(np.asarray(money_years), (n,))
    years = np.arange(1, YEARS + 1)[:, None]
    data["income_subsidy"] = np.where(years <= ends[None, :], 700.0, 0.0)
    data["income_matching"] = np.zeros_like(level)
    return data


def flat(values_after_10: list[float]) -> np.ndarray:
    return np.array(
        [1.0] * 10 + values_after_10 + [values_after_10[-1]] * (YEARS - 10 - len(values_after_10))
    )


SPEC = DeclineSpec()  # theta 0.1, years 11-12 vs 10, mean


def test_value_index_is_one_on_the_baseline_and_weights_are_normalised():
    data = panel(flat([0.5]))
    v = value_index(data, {"researchers": 2.0, "papers": 2.0}, (3, 10))
    assert v[:10, 0] == pytest.approx(1.0)
    assert v[12, 0] == pytest.approx(0.5)


def test_value_index_skips_an_indicator_that_is_zero_on_the_baseline():
    data = panel(flat([0.8]))
    data["foreign"][:] = 0.0
    v = value_index(data, {"researchers": 1.0, "foreign": 1.0}, (3, 10))
    assert v[12, 0] == pytest.approx(0.8)


def test_drop_of_more_than_theta_is_a_decline():
    out = outcomes(panel(flat([0.85, 0.85])), SPEC)
    assert out["decline"][0] and out["ratio_min"][0] == pytest.approx(0.85)
    assert out["depth"][0] == pytest.approx(0.15)
    assert out["years_below"][0] == 10
    assert not out["recovered"][0]


def test_drop_of_exactly_theta_or_less_is_not():
    out = outcomes(panel(flat([0.9, 0.9]) + 1e-12), SPEC)
    assert not out["decline"][0]
    assert not outcomes(panel(flat([0.95])), SPEC)["decline"][0]


def test_mean_and_min_aggregation_differ():
    traj = flat([0.85, 0.97, 1.0])
    assert not outcomes(panel(traj), SPEC)["decline"][0]  # mean 0.91
    assert outcomes(panel(traj), DeclineSpec(aggregate="min"))["decline"][0]


def test_recovery_and_depth_use_the_whole_horizon():
    traj = flat([0.8, 0.7, 0.6, 0.9, 0.95, 1.0])
    out = outcomes(panel(traj), SPEC)
    assert out["decline"][0] and out["recovered"][0]
    assert out["depth"][0] == pytest.approx(0.4)
    assert out["years_below"][0] == 3  # 0.8, 0.7, 0.6; 0.9 is not below 0.9


def test_theta_and_years_are_configurable():
    traj = flat([1.0, 1.0, 0.7, 0.7])
    assert not outcomes(panel(traj), SPEC)["decline"][0]
    late = DeclineSpec(test_years=[13, 14], theta=0.25)
    assert outcomes(panel(traj), late)["decline"][0]
    assert not outcomes(panel(traj), DeclineSpec(test_years=[13, 14], theta=0.35))["decline"][0]


def test_personnel_and_papers_tests_are_separate():
    data = panel(flat([1.0]))
    data["personnel_cost"] = 100.0 * flat([0.7])[:, None]
    out = outcomes(data, SPEC)
    assert not out["decline"][0] and out["decline_personnel"][0] and not out["decline_papers"][0]
    assert out["personnel_ratio"][0] == pytest.approx(0.7)


def test_end_of_support_test_uses_each_centres_last_paid_year():
    # Centre 0 paid to 10 and drops after 10; centre 1 paid to 15 and drops after 15;
    # centre 2 paid to 19: too late for a two-year test within 20 years.
    level = np.stack([flat([0.7]), np.r_[np.ones(15), np.full(5, 0.7)], np.ones(YEARS)], axis=1)
    out = outcomes(panel(level, [10, 15, 19]), SPEC)
    assert out["end_year"][:2].tolist() == [10.0, 15.0] and np.isnan(out["end_year"][2])
    assert out["decline_end"][:2].tolist() == [1.0, 1.0] and np.isnan(out["decline_end"][2])
    assert out["decline"].tolist() == [True, False, False]
    assert out["depth_end"][1] == pytest.approx(0.3)


def test_cost_is_total_programme_money():
    out = outcomes(panel(flat([1.0]), [10]), SPEC)
    assert out["cost"][0] == 7000.0


def test_key_year_indicators_are_kept():
    out = outcomes(panel(flat([0.5])), SPEC)
    assert out["value_ref"][0] == pytest.approx(1.0)
    assert out["researchers_ref"][0] == 100.0 and out["researchers_last"][0] == 50.0
    assert out["personnel_ref"][0] == 100.0 and out["papers_last"][0] == 50.0


def test_relative_and_last_supported_year():
    s = np.array([[2.0, 0.0], [4.0, 1.0]])
    r = relative(s, np.array([1, 1]))
    assert r[:, 0].tolist() == [1.0, 2.0] and np.isnan(r[:, 1]).all()
    money = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    assert last_supported_year(money).tolist() == [2, 0]


# -- beyond the binary test ---------------------------------------------------------------------
def test_value_years_lost_is_the_area_below_the_reference_level():
    # 0.85 from year 11 to 20: 10 years × 0.15 below the year-10 level.
    out = outcomes(panel(flat([0.85])), SPEC)
    assert out["value_lost"][0] == pytest.approx(1.5)
    # Years above the reference count nothing (not a credit against the years below).
    out = outcomes(panel(flat([1.2, 0.8, 0.8, 0.8, 1.0])), SPEC)
    assert out["value_lost"][0] == pytest.approx(0.6)


def test_value_years_lost_from_each_centres_own_end_of_support():
    # Centre 0 paid to 10, centre 1 to 15 (both fall to 0.6 the year after); centre 2 to 19.
    level = np.stack([flat([0.6]), np.r_[np.ones(15), np.full(5, 0.6)], np.ones(YEARS)], axis=1)
    out = outcomes(panel(level, [10, 15, 19]), DeclineSpec(end_window=5))
    # Five years after each end, 0.4 below the year-10 level each year.
    assert out["value_lost_end"][:2].tolist() == pytest.approx([2.0, 2.0])
    assert np.isnan(out["value_lost_end"][2])  # years 20-24 pass the horizon
    # Moving the cliff five years later halves the loss counted from year 11, not from the end.
    assert out["value_lost"][:2].tolist() == pytest.approx([4.0, 2.0])
    # A ten-year window after year 15 passes the 20-year horizon.
    assert np.isnan(outcomes(panel(level, [10, 15, 19]), SPEC)["value_lost_end"][1])


def test_value_at_years_15_and_20_and_researchers_retained():
    out = outcomes(panel(flat([0.9, 0.8, 0.8, 0.8, 0.8, 0.7])), SPEC)  # year 15: 0.8, then 0.7
    assert out["value_y15"][0] == pytest.approx(0.8) and out["value_y20"][0] == pytest.approx(0.7)
    assert out["researchers_y20"][0] == pytest.approx(70.0)
    short = {k: v[:18] for k, v in panel(flat([0.9])).items()}
    out = outcomes(short, SPEC)
    assert out["value_y15"][0] == pytest.approx(0.9)
    assert np.isnan(out["value_y20"][0]) and np.isnan(out["researchers_y20"][0])


def test_decline_curve_over_theta():
    out = outcomes(panel(flat([0.75])), SPEC)
    curve = [bool(out[f"decline_{k}"][0]) for k in ("05", "10", "20", "30", "50")]
    assert curve == [True, True, True, False, False]
    # At the default θ the curve is the decline test itself.
    assert out["decline_10"][0] == out["decline"][0]


def test_a_reference_that_anticipation_cannot_lower():
    # The value index slides to 0.8 by year 10 (anticipating the end), then to 0.76.
    traj = np.r_[np.ones(7), [0.9, 0.85, 0.8], np.full(10, 0.76)]
    out = outcomes(panel(traj), SPEC)
    assert not out["decline"][0]  # 0.76 / 0.8 = 0.95: the seed's year-10 test sees no decline
    # Against the mean of years 6-9 (1, 1, 0.9, 0.85 → 0.9375): 0.76 / 0.9375 = 0.81.
    assert out["decline_pre"][0]
    pre = DeclineSpec(reference="pre_announcement")
    out_pre = outcomes(panel(traj), pre)
    assert out_pre["value_lost"][0] == pytest.approx(10 * (1 - 0.76 / 0.9375))
    assert out_pre["value_y15"][0] == pytest.approx(0.76 / 0.9375)
    assert out_pre["decline_10"][0] and not out["decline_10"][0]
    # The source's test keeps its year whatever the reference.
    assert out_pre["decline"][0] == out["decline"][0]
    custom = DeclineSpec(pre_announcement_years=(3, 5))
    assert custom.pre_years == (3, 5) and DeclineSpec(
        reference_year=2, test_years=[3]
    ).pre_years == (1, 1)


def test_pre_announcement_years_must_precede_the_test():
    with pytest.raises(ValueError, match="must end before the first test year"):
        DeclineSpec(pre_announcement_years=(6, 11))
    with pytest.raises(ValueError, match="first <= last"):
        DeclineSpec(pre_announcement_years=(9, 6))


def test_the_index_reads_expected_paper_counts_unless_told_to_count():
    """``output: expected`` reads ``*_expected``; ``observed`` the year's counts (exact)."""
    data = panel(flat([1.0]))
    for name in ("papers", "top10_papers", "intl_papers"):
        data[name][10:12] *= 0.5  # a bad draw in years 11-12; the expected counts are level
    weights = DeclineSpec().weights
    paper_weight = sum(weights[k] for k in ("papers", "top10_papers", "intl_papers"))
    expected = outcomes(data, SPEC)
    counted = outcomes(data, DeclineSpec(output="observed"))
    assert expected["ratio_min"][0] == pytest.approx(1.0)
    assert counted["ratio_min"][0] == pytest.approx(1.0 - 0.5 * paper_weight)  # 0.80
    assert not expected["decline"][0] and counted["decline"][0]
    # The seed's papers test counts papers whichever index is used.
    assert expected["papers_ratio"][0] == counted["papers_ratio"][0] == pytest.approx(0.5)
