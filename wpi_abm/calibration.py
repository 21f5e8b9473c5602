"""Calibration: does the model reproduce the public facts while centres are funded?

Targets come from ``wpi_abm/data/reference/wpi_facts.md`` §6 (review sheets, the seed, the IPMU
staff blog); see docs/ODD.md. ``wpi-abm calibrate`` prints the table and docs/ODD.md quotes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wpi_abm.metrics import outcomes
from wpi_abm.schema.experiment import Experiment
from wpi_abm.sim.model import WPIModel


@dataclass(frozen=True)
class Target:
    """A calibration target: a range, its source, and how it is measured."""

    name: str
    low: float
    high: float
    source: str


TARGETS = (
    Target("researchers per centre", 130, 150, "review sheets FY2012-16 (facts §3)"),
    Target("PIs per centre", 17, 23, "review sheets FY2012-16: ~20 (facts §3)"),
    Target("foreign share of researchers", 0.39, 0.45, "review sheets FY2012-18 (facts §3)"),
    Target("top-10% paper share", 0.18, 0.20, "review sheets 18.1%, 17.8%; seed ~20%"),
    Target("international co-authorship", 0.45, 0.55, "seed: ~50%"),
    Target("subsidy share of spending", 0.45, 0.50, "Kavli IPMU ~47% (facts §3)"),
)


def measure(exp: Experiment, replicates: int, seed: int = 2023) -> dict[str, float]:
    """Indicators of the legacy design while funded (years 3-10) and after, plus pass rates.

    Args:
        exp: The experiment (its cohort, parameters and built-in-named policies are used).
        replicates: Runs per policy.
        seed: Root seed of the measurement.
    """
    worlds = [np.random.SeedSequence(seed, spawn_key=(0, r)) for r in range(replicates)]

    def run(policy: str) -> WPIModel:
        model = WPIModel(exp.cohort, exp.parameters, exp.policies[policy], exp.horizon, worlds)
        model.run()
        return model

    legacy = run("legacy").recorder
    funded = slice(2, 10)

    def funded_mean(x: np.ndarray) -> float:
        return float(np.mean(x[funded]))

    out = {
        "researchers per centre": funded_mean(legacy["researchers"]),
        "PIs per centre": funded_mean(legacy["pis"]),
        "foreign share of researchers": funded_mean(legacy["foreign"] / legacy["researchers"]),
        "top-10% paper share": funded_mean(legacy["top10_papers"] / legacy["papers"]),
        "international co-authorship": funded_mean(legacy["intl_papers"] / legacy["papers"]),
        "subsidy share of spending": funded_mean(legacy["income_subsidy"] / legacy["spending"]),
    }
    for k, name in (("personnel_cost", "personnel"), ("papers", "papers")):
        ratio = legacy[k][10:12].mean(axis=0) / legacy[k][9]
        out[f"legacy {name}, years 11-12 / year 10"] = float(np.mean(ratio))
    out["legacy P(company partnership) at year 11"] = float(
        np.mean(legacy["income_company"][10] > 0)
    )
    out["legacy P(endowment payout) at year 11"] = float(
        np.mean(legacy["income_endowment"][10] > 0)
    )
    out["legacy interim pass rate (year 5)"] = float(np.nanmean(legacy["passed"][4]))
    for policy, year, name in (
        ("reform_2024", 9, "reform certification pass rate (year 9)"),
        ("legacy_extension_taper", 10, "extension pass rate (year 10)"),
    ):
        if policy in exp.policies:
            out[name] = float(np.nanmean(run(policy).recorder["passed"][year - 1]))
    if "flat_forever" in exp.policies:
        rec = run("flat_forever").recorder
        out["null-model false-alarm rate"] = float(
            outcomes(rec.data, exp.decline)["decline"].mean()
        )
    return out


def report(values: dict[str, float], replicates: int, n_centres: int) -> str:
    """The calibration table as text."""
    lines = [
        f"Legacy design, support years 3-10, {replicates} runs × {n_centres} centres",
        f"{'indicator':<44} {'target':>13} {'model':>8}  ok  source",
        "-" * 100,
    ]
    for t in TARGETS:
        v = values[t.name]
        ok = "yes" if t.low <= v <= t.high else "NO"
        lines.append(
            f"{t.name:<44} {_fmt(t.low)}–{_fmt(t.high):<6} {_fmt(v):>8}  {ok:<3} {t.source}"
        )
    lines.append("")
    lines.append("Free ranges and checks (no published number; reported, not fitted)")
    for k, v in values.items():
        if all(k != t.name for t in TARGETS):
            lines.append(f"{k:<58} {_fmt(v):>8}")
    return "\n".join(lines)


def _fmt(x: float) -> str:
    return f"{x:.3f}" if abs(x) < 2 else f"{x:.1f}"
