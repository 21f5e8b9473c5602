"""The real programme as a scenario: experiments/wpi_history.yaml against the reference data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from wpi_abm.config import load_experiment
from wpi_abm.sim.model import WPIModel

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "wpi_abm" / "data" / "reference"
EXPERIMENT = ROOT / "experiments" / "wpi_history.yaml"


def _csv(name: str) -> list[dict[str, str]]:
    with open(REFERENCE / name, encoding="utf-8") as f:
        return list(csv.DictReader(f))


ROSTER = {r["centre"]: r for r in _csv("wpi_centres_roster.csv")}
SUBSIDY = {r["centre"]: r for r in _csv("wpi_subsidy_by_centre_fy2014_2022_million_yen.csv")}
FY = range(2014, 2023)


def fy_of(model: WPIModel, fy: int) -> int:
    """Row of fiscal year ``fy`` in the recorder."""
    return fy - model.world.cohort.first_fiscal_year


@pytest.fixture(scope="module")
def experiment():
    exp, _ = load_experiment(EXPERIMENT)
    return exp


@pytest.fixture(scope="module", params=["legacy", "reform_2024"])
def history(request, experiment):
    """One world of each design, FY2007-FY2045."""
    exp = experiment
    seeds = [np.random.SeedSequence(exp.seed, spawn_key=(0,))]
    model = WPIModel(exp.cohort, exp.parameters, exp.policies[request.param], exp.horizon, seeds)
    model.run()
    return request.param, model


def test_the_cohort_is_the_roster(experiment):
    cohort = experiment.cohort
    assert [c.name for c in cohort.centres] == list(ROSTER)
    assert cohort.first_fiscal_year == 2007
    for c in cohort.centres:
        assert c.start == int(ROSTER[c.name]["start_fy"])
        assert c.first_year == c.start - 2006
    assert experiment.horizon == 2045 - 2007 + 1


def test_the_subsidy_paid_fy2014_to_fy2022_is_the_csv_exactly(history):
    _, model = history
    owed = model.recorder["subsidy_owed"]
    for slot, c in enumerate(model.world.cohort.centres):
        start = int(ROSTER[c.name]["start_fy"])
        for fy in FY:
            cell = SUBSIDY.get(c.name, {}).get(f"FY{fy}", "")
            if fy < start:
                assert cell == ""
                continue
            expected = float(cell) if cell else 0.0
            assert owed[fy_of(model, fy), slot] == expected, (c.name, fy)


def test_government_cost_per_fiscal_year_matches_the_csv(history):
    _, model = history
    owed = model.recorder["subsidy_owed"].sum(axis=1)
    for fy in FY:
        centres = sum(float(SUBSIDY.get(c, {}).get(f"FY{fy}") or 0.0) for c in ROSTER)
        assert owed[fy_of(model, fy)] == pytest.approx(centres, abs=1e-6), fy


def test_earlier_years_at_the_stated_level_and_the_cliffs_as_they_happened(history):
    _, model = history
    owed = model.recorder["subsidy_owed"]
    names = [c.name for c in model.world.cohort.centres]
    for name in ("AIMR", "iCeMS", "IFReC", "MANA"):
        col = owed[:, names.index(name)]
        assert (col[: fy_of(model, 2014)] == 1310).all()
        assert (col[fy_of(model, 2017) :] == 0).all(), name  # the cliff after FY2016
    ipmu = owed[:, names.index("Kavli IPMU")]
    taper = [ipmu[fy_of(model, fy)] for fy in range(2016, 2023)]
    assert taper == [1260.0, 1046.0, 953.0, 840.0, 770.0, 710.0, 0.0]
    i2cner = owed[:, names.index("I2CNER")]
    assert [i2cner[fy_of(model, fy)] for fy in (2017, 2018, 2019, 2020)] == [
        1320.0,
        1080.0,
        1012.0,
        0.0,
    ]
    assert (i2cner[fy_of(model, 2020) :] == 0).all()


def test_the_design_applies_from_fy2024_to_the_centres_still_in_support(history):
    policy, model = history
    money = model.recorder["subsidy_owed"] + model.recorder["income_matching"]
    active = [c.name for c in model.world.cohort.centres if not ROSTER[c.name]["last_funded_fy"]]
    for slot, c in enumerate(model.world.cohort.centres):
        after = money[fy_of(model, 2024) :, slot]
        if c.name not in active:
            assert (after == 0).all(), c.name
    # IRCN (FY2017): support years 8-10 = FY2024-FY2026 at the design's 700 under legacy; the
    # reform may glide within its envelope and adds years 11-15 (FY2027-FY2031) if certified.
    ircn = [c.name for c in model.world.cohort.centres].index("IRCN")
    owed = model.recorder["subsidy_owed"][:, ircn]
    if policy == "legacy":
        assert [owed[fy_of(model, fy)] for fy in (2024, 2025, 2026, 2027)] == [700, 700, 700, 0]
    else:
        paid = money[fy_of(model, 2024) : fy_of(model, 2032), ircn]
        assert paid.sum() > 0
        # Within the envelope: the design's years 8-10 (3 × 700) plus up to 5 × 300 matching.
        assert owed[fy_of(model, 2024) :].sum() <= 3 * 700 + 1e-6


def test_shared_hosts_share_their_capacity_and_aimec_has_two_hosts(experiment):
    exp = experiment
    seeds = [np.random.SeedSequence(1)]
    model = WPIModel(exp.cohort, exp.parameters, exp.policies["legacy"], 12, seeds)
    names = [c.name for c in exp.cohort.centres]
    w = model.world
    capacity = {}
    for _ in range(12):  # FY2007..FY2018
        model.step()
        capacity[w.year] = w.host_capacity.copy()
    ipmu, ircn = names.index("Kavli IPMU"), names.index("IRCN")
    # FY2016 (year 10): Kavli IPMU alone at the University of Tokyo; FY2017 IRCN starts.
    alone, shared = capacity[10][ipmu], capacity[11][ipmu]
    assert shared < 0.7 * alone
    assert capacity[11][ircn] > 0 and capacity[10][ircn] == 0
    aimec = next(a for a in model.agents if getattr(a, "name", None) == "AIMEC")
    assert [h.name for h in aimec.hosts] == ["tohoku", "jamstec"]
    # Tohoku University shares with AIMR (both started: AIMR in FY2007, AIMEC in FY2023).
    tohoku = aimec.hosts[0]
    assert [c.name for c in tohoku.centres] == ["AIMR", "AIMEC"]


def test_history_after_support_ifrec_chugai_and_the_kavli_endowment(history):
    _, model = history
    names = [c.name for c in model.world.cohort.centres]
    company = model.recorder["income_company"][:, names.index("IFReC")]
    for fy in range(2017, 2027):
        assert company[fy_of(model, fy)] >= 1000.0, fy
    endowment = model.recorder["income_endowment"][:, names.index("Kavli IPMU")]
    assert endowment[: fy_of(model, 2013)].sum() == 0.0
    assert (endowment[fy_of(model, 2013) : fy_of(model, 2022)] > 0).all()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The scenario run end to end through the CLI (4 replicates, serial, figures drawn)."""
    from wpi_abm.cli import main

    out = tmp_path_factory.mktemp("history") / "out"
    args = ["run", str(EXPERIMENT), "--replicates", "4", "--executor", "serial"]
    assert main([*args, "--out", str(out)]) == 0
    return out


def test_results_by_fiscal_year_reproduce_the_record(results):
    import pandas as pd

    from wpi_abm.reference import subsidy_by_fiscal_year

    table = pd.read_csv(results / "by_fiscal_year.csv")
    assert set(table["policy"]) == {"legacy", "reform_2024"}
    assert table["fiscal_year"].min() == 2007 and table["fiscal_year"].max() == 2045
    for policy, g in table.groupby("policy"):
        cost = g.set_index("fiscal_year")["cost"]
        for fy, amount in subsidy_by_fiscal_year().items():
            # The history is input: every run pays the record, so its interval has no width.
            assert cost[fy] == pytest.approx(amount, abs=1e-6), (policy, fy)
        row = g.set_index("fiscal_year")
        assert (row["cost_ci_low"] <= row["cost"] + 1e-9).all()
        assert ((row["below"] >= 0) & (row["below"] <= 18)).all()
        # Before the first centre's year 11 (FY2017) no centre can be below its reference.
        assert (row.loc[:2016, "below"] == 0).all()
    # Matching is paid only under the reform, and only from FY2024 (the reform's start).
    reform = table[table["policy"] == "reform_2024"].set_index("fiscal_year")
    legacy = table[table["policy"] == "legacy"].set_index("fiscal_year")
    assert (legacy["matching"] == 0).all() and (reform.loc[:2023, "matching"] == 0).all()


def test_results_by_centre_and_the_figures(results):
    import pandas as pd

    table = pd.read_csv(results / "by_centre.csv")
    assert len(table) == 2 * 18
    assert list(table[table["policy"] == "legacy"]["centre"]) == list(ROSTER)
    assert (
        (table["ci_low"] <= table["p_decline"]) & (table["p_decline"] <= table["ci_high"])
    ).all()
    # Centres that had ended before FY2024 are paid the same under both designs.
    ended = [c for c in ROSTER if ROSTER[c]["last_funded_fy"]]
    cost = table.pivot(index="centre", columns="policy", values="cost")
    assert (cost.loc[ended, "legacy"] == cost.loc[ended, "reform_2024"]).all()
    for name in ("programme_by_fiscal_year", "centre_forest"):
        assert (results / "figures" / f"{name}.png").stat().st_size > 10_000
