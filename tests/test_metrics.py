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
        "personnel_cost",
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
