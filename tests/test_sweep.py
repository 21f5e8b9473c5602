"""Sweeps and sensitivity: designs, sample counts, Ishigami indices, errors, CLI."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wpi_abm.cli import main
from wpi_abm.errors import ConfigError
from wpi_abm.experiment.sensitivity import (
    ISHIGAMI_A,
    ISHIGAMI_B,
    analyse,
    ishigami,
    ishigami_summary,
)
from wpi_abm.experiment.sweep import build, expected_points, sample
from wpi_abm.schema.sweep import SweepSpec

PI = math.pi


def spec(**kw) -> SweepSpec:
    doc = {"name": "s", "parameters": {"a": {"range": [0, 1]}, "b": {"range": [10, 20]}}}
    doc.update(kw)
    return SweepSpec.model_validate(doc)


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip())
    return p


def test_grid_is_every_combination_of_values_and_steps():
    s = SweepSpec.model_validate(
        {
            "name": "g",
            "parameters": {
                "x": {"values": [1, 2, 3]},
                "y": {"range": [0.0, 1.0], "steps": 3},
                "z": {"values": ["min", "mean"]},
            },
        }
    )
    pts = sample(s)
    assert len(pts) == expected_points(s) == 18
    assert pts[0] == [1, 0.0, "min"] and pts[-1] == [3, 1.0, "mean"]


@pytest.mark.parametrize(
    ("design", "samples", "points"),
    [("lhs", 10, 10), ("sobol", 16, 16 * (2 + 2)), ("morris", 5, 5 * (2 + 1))],
)
def test_sampled_designs_give_the_documented_number_of_points(design, samples, points):
    s = spec(design=design, samples=samples)
    x = sample(s)
    assert x.shape == (points, 2) == (expected_points(s), 2)
    assert (x[:, 0] >= 0).all() and (x[:, 0] <= 1).all()
    assert (x[:, 1] >= 10).all() and (x[:, 1] <= 20).all()


def test_latin_hypercube_fills_every_stratum_once():
    x = sample(spec(design="lhs", samples=20))
    strata = np.floor(x[:, 0] * 20).astype(int)
    assert sorted(strata) == list(range(20))


def test_integer_parameters_are_rounded_and_sampling_is_reproducible():
    s = SweepSpec.model_validate(
        {"name": "i", "design": "lhs", "samples": 8,
         "parameters": {"k": {"range": [1, 5], "integer": True}}}
    )  # fmt: skip
    x = sample(s)
    assert np.array_equal(x, np.round(x)) and np.array_equal(x, sample(s))


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"parameters": {"a": {"range": [0, 1]}}}, "has a range but no 'steps'"),
        ({"design": "lhs", "parameters": {"a": {"values": [1, 2]}}}, "give 'a' a 'range'"),
        ({"design": "sobol", "samples": 10, "parameters": {"a": {"range": [0, 1]}}}, "power of 2"),
        ({"design": "lhs", "parameters": {"a": {"range": [0, 1]}}}, "needs 'samples'"),
        ({"parameters": {"a": {"range": [1, 0], "steps": 2}}}, "low < high"),
    ],
)
def test_bad_sweep_specs(doc, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        SweepSpec.model_validate({"name": "x", **doc})


def ishigami_indices() -> dict[str, list[float]]:
    """The analytic first- and total-order Sobol indices of the Ishigami function."""
    a, b = ISHIGAMI_A, ISHIGAMI_B
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return {"S1": [v1 / var, v2 / var, 0.0], "ST": [(v1 + v13) / var, v2 / var, v13 / var]}


def test_ishigami_indices_are_recovered_through_the_pipeline():
    s = SweepSpec.model_validate(
        {
            "name": "ishigami", "model": "ishigami", "design": "sobol", "samples": 2048,
            "methods": ["sobol", "morris"], "outputs": ["p_decline"],
            "parameters": {f"x{i}": {"range": [-PI, PI]} for i in (1, 2, 3)},
        }
    )  # fmt: skip
    rows = [
        {**dict(zip(s.parameters, v, strict=True)), "method": m}
        for m in s.methods
        for v in sample(s, m)
    ]
    table = pd.DataFrame(rows)
    table.index.name = "point"
    out = analyse(ishigami_summary(table, s), table, s, ["ishigami"])
    sobol = out[out["method"] == "sobol"].set_index("parameter")
    truth = ishigami_indices()
    np.testing.assert_allclose(sobol["S1"], truth["S1"], atol=0.05)
    np.testing.assert_allclose(sobol["ST"], truth["ST"], atol=0.05)
    assert (sobol["S1_conf"] > 0).all() and (sobol["ST_conf"] < 0.1).all()
    morris = out[out["method"] == "morris"].set_index("parameter")
    assert len(morris) == 3 and (morris["mu_star"] > 0).all()
    # x3 acts only through its interaction with x1: small first-order, large sigma.
    assert morris.loc["x3", "sigma"] > morris.loc["x3", "mu_star"] * 0.9


def test_ishigami_known_values():
    truth = ishigami_indices()
    assert truth["S1"] == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)
    assert truth["ST"] == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)
    assert ishigami(np.array([[0.0, PI / 2, 1.0]]))[0] == pytest.approx(7.0)


def test_sensitivity_command_on_ishigami(tmp_path, capsys):
    p = write(
        tmp_path,
        f"""
        name: ish
        model: ishigami
        design: sobol
        samples: 512
        outputs: [p_decline]
        parameters:
          x1: {{range: [{-PI}, {PI}]}}
          x2: {{range: [{-PI}, {PI}]}}
          x3: {{range: [{-PI}, {PI}]}}
        """,
    )
    assert main(["sensitivity", str(p), "--out", str(tmp_path / "out")]) == 0
    indices = pd.read_csv(tmp_path / "out" / "sensitivity.csv")
    assert list(indices.columns) == [
        "policy", "output", "method", "parameter", "S1", "S1_conf", "ST", "ST_conf",
        "mu_star", "mu_star_conf", "sigma",
    ]  # fmt: skip
    assert len(pd.read_csv(tmp_path / "out" / "points.csv")) == 512 * 5
    assert "ST [±95%]" in capsys.readouterr().out


SWEEP = """
name: cap
policies: [legacy, reform_2024]
replicates: 3
chunk_runs: 3
design: grid
parameters:
  policies.reform_2024.matching.cap: {values: [0, 1000]}
"""


def test_sweep_summary_has_a_row_per_point_and_policy(tmp_path):
    p = write(tmp_path, SWEEP)
    out = tmp_path / "out"
    code = main(["sweep", str(p), "--out", str(out), "--executor", "serial", "--quiet"])
    assert code == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:7]) == [
        "point", "policies.reform_2024.matching.cap", "policy", "n", "p_decline", "ci_low",
        "ci_high",
    ]  # fmt: skip
    assert len(summary) == 4 and (summary["n"] == 36).all()
    legacy = summary[summary["policy"] == "legacy"]
    # Common random numbers across points: the legacy design is untouched by the reform's cap.
    assert legacy["p_decline"].nunique() == 1
    assert not (out / "runs").exists()  # sweeps store outcomes, not the panel
    outcomes = pd.read_parquet(out / "outcomes")
    assert len(outcomes) == 2 * 2 * 3 * 12


def test_sweep_rejects_a_parameter_the_model_does_not_have(tmp_path, capsys):
    p = write(tmp_path, SWEEP.replace("matching.cap", "matching.capp"))
    assert main(["sweep", str(p), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{p}, line 7, field 'parameters.policies.reform_2024.matching.capp'" in err
    assert "unknown key 'capp'" in err
    assert not (tmp_path / "o").exists()


def test_sweep_rejects_an_impossible_value(tmp_path):
    p = write(tmp_path, SWEEP.replace("{values: [0, 1000]}", "{values: [0, -5]}"))
    with pytest.raises(ConfigError, match="greater than or equal to 0") as info:
        build(p)
    assert info.value.line == 7


def test_sweep_base_experiment_and_set_are_applied(tmp_path):
    p = write(tmp_path, SWEEP + "set:\n  horizon: 20\nseed: 5\n")
    _, exp, _, points, table = build(p, ["replicates=2"])
    assert exp.horizon == 20 and exp.seed == 5 and exp.replicates == 2
    assert (
        exp.name == "cap"
        and len(points) == 2
        and list(table.columns) == ["policies.reform_2024.matching.cap"]
    )


def test_a_sweep_with_a_failing_point_stores_the_rest_and_exits_1(tmp_path, monkeypatch, capsys):
    from wpi_abm.experiment import runner

    real = runner._simulate

    def flaky(job, chunk):
        if chunk.point == 1 and chunk.policy == "reform_2024":
            raise ValueError("bad corner")
        return real(job, chunk)

    monkeypatch.setattr(runner, "_simulate", flaky)
    p = write(tmp_path, SWEEP)
    out = tmp_path / "out"
    assert main(["sweep", str(p), "--out", str(out), "--executor", "serial", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "3 of 12 runs failed" in captured.err and "failures.csv" in captured.err
    failures = pd.read_csv(out / "failures.csv")
    assert failures["point"].tolist() == [1] and "bad corner" in failures["error"][0]
    assert len(pd.read_csv(out / "summary.csv")) == 3
    monkeypatch.setattr(runner, "_simulate", real)
    resumed = main(["sweep", str(p), "--resume", str(out), "--executor", "serial", "--quiet"])
    assert resumed == 0 and len(pd.read_csv(out / "summary.csv")) == 4
    assert not (out / "failures.csv").exists()
