"""Calibration with uncertainty (``wpi-abm calibrate SPEC.yaml``): recovery, tables, bad specs."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from wpi_abm.calibrate.driver import calibrate
from wpi_abm.calibrate.evaluate import Evaluator
from wpi_abm.calibrate.method import abc_smc, distance, weighted_quantiles
from wpi_abm.calibrate.report import VALIDATION_COLUMNS
from wpi_abm.calibrate.spec import build
from wpi_abm.cli import main
from wpi_abm.experiment.executors import SerialExecutor
from wpi_abm.presets import data_dir

ROOT = Path(__file__).resolve().parents[1]
KEYS = {
    "parameters.output.top10_base": (0.12, 0.22),
    "parameters.recruitment.foreign_hire_base": (0.35, 0.60),
    "parameters.output.intl_base": (0.20, 0.40),
}
TRUTH = np.array([0.15, 0.52, 0.33])
MEASURES = ["top10_share", "foreign_share", "intl_share"]


def _small_experiment(folder: Path) -> Path:
    """A 3-centre, 12-year legacy experiment (a candidate costs ~0.1 s)."""
    cohort = yaml.safe_load((data_dir() / "configs/cohorts/default.yaml").read_text())
    cohort["centres"] = cohort["centres"][:3]
    (folder / "cohort.yaml").write_text(yaml.safe_dump(cohort))
    exp = {
        "name": "small", "seed": 7, "replicates": 4, "horizon": 12, "policies": ["legacy"],
        "cohort": "cohort.yaml", "parameters": "default",
    }  # fmt: skip
    (folder / "exp.yaml").write_text(yaml.safe_dump(exp))
    return folder / "exp.yaml"


def _spec(folder: Path, targets: list[dict], **method: object) -> Path:
    spec = {
        "name": "recovery",
        "experiment": str(_small_experiment(folder)),
        "replicates": 4,
        "seed": 2023,
        "parameters": {
            k: {"low": lo, "high": hi, "source": "assumption"} for k, (lo, hi) in KEYS.items()
        },
        "targets": targets,
        "method": {"population": 40, "generations": 12, "max_simulations": 400, **method},
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_parameter_recovery(tmp_path):
    """Data simulated at known parameters (other seeds) → the 90% posterior interval covers them."""
    start = time.perf_counter()
    # The "observed" data: the model at TRUTH on replicate seeds the fit never sees.
    data_spec = _spec(
        tmp_path, [{"measure": m, "low": 0, "high": 1, "source": "x"} for m in MEASURES]
    )
    _, exp, _ = build(data_spec)
    data_exp = exp.model_copy(update={"seed": 99, "replicates": 16})
    observed = Evaluator(data_exp, list(KEYS), MEASURES, SerialExecutor())(TRUTH[None])[0]
    targets = [
        {"measure": m, "low": float(v - 0.012), "high": float(v + 0.012), "source": "simulated"}
        for m, v in zip(MEASURES, observed, strict=True)
    ]
    spec, exp, tree = build(_spec(tmp_path, targets))
    cal = calibrate(spec, exp, SerialExecutor(), tree=tree, out=tmp_path / "out")
    post = cal.posterior
    for j, key in enumerate(KEYS):
        lo, hi = weighted_quantiles(post[key].to_numpy(), post["weight"].to_numpy(), [0.05, 0.95])
        print(f"{key}: truth {TRUTH[j]}, 90% interval {lo:.3f}-{hi:.3f}")
        assert lo <= TRUTH[j] <= hi, (key, lo, hi, TRUTH[j])
        # ... and the data told us something: the interval is well inside the prior.
        assert hi - lo < 0.6 * (KEYS[key][1] - KEYS[key][0]), (key, lo, hi)
    assert len(post) == 40
    print(f"recovery: {cal.simulations} candidates, {time.perf_counter() - start:.1f} s")
    # The folder a calibration leaves.
    out = tmp_path / "out"
    for name in ("posterior.csv", "predictive.csv", "validation.csv", "history.csv",
                 "manifest.json", "figures/calibration_targets.png"):  # fmt: skip
        assert (out / name).is_file(), name
    assert list(pd.read_csv(out / "posterior.csv").columns[3:]) == list(KEYS)


def test_validation_table_rows(tmp_path):
    """One row per target, in order, with source, range, median inside its 90% interval."""
    targets = [
        {"measure": "top10_share", "low": 0.17, "high": 0.21, "source": "facts §3"},
        {"measure": "foreign_share", "low": 0.3, "high": 0.5, "source": "facts §3"},
        {"measure": "researchers", "low": 1000, "high": 2000, "source": "deliberately missed",
         "use": "check", "name": "impossible size"},
    ]  # fmt: skip
    spec, exp, _ = build(_spec(tmp_path, targets, population=6, generations=1))
    cal = calibrate(spec, exp, SerialExecutor(), out=tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "validation.csv")
    assert tuple(table.columns) == VALIDATION_COLUMNS
    assert list(table["target"]) == ["top10_share", "foreign_share", "impossible size"]
    assert list(table["use"]) == ["fit", "fit", "check"]
    assert list(table["source"])[2] == "deliberately missed"
    assert (table["q05"] <= table["median"]).all() and (table["median"] <= table["q95"]).all()
    # A 3-centre cohort has ~50 researchers per centre: the check target is reported as missed.
    assert not table["inside"].iloc[2]
    assert table["inside"].iloc[0] == (0.17 <= table["median"].iloc[0] <= 0.21)
    # The predictive table holds the very measurements the validation table summarises.
    pred = pd.read_csv(tmp_path / "out" / "predictive.csv")
    assert len(pred) == len(cal.posterior) == 6
    np.testing.assert_allclose(
        np.median(pred["impossible size"]), table["median"].iloc[2], rtol=0.2
    )


def test_candidates_share_random_numbers(tmp_path):
    """The same candidate anywhere in any batch gets the same measurements (common seeds)."""
    spec, exp, _ = build(_spec(tmp_path, [{"measure": "top10_share", "low": 0, "high": 1,
                                           "source": "x"}]))  # fmt: skip
    ev = Evaluator(exp, spec.keys, ["top10_share", "foreign_share"], SerialExecutor())
    a = ev(np.array([TRUTH, TRUTH + 0.02, TRUTH]))
    b = ev(np.array([TRUTH + 0.02]))
    np.testing.assert_array_equal(a[0], a[2])
    np.testing.assert_array_equal(a[1], b[0])
    assert not np.array_equal(a[0], a[1])
    assert ev.simulations == 4


def test_abc_smc_on_a_known_function():
    """The method alone, on a function with a known answer, is fast and covers the truth."""
    rng = np.random.default_rng(1)
    truth = np.array([0.3, 0.5])

    def simulate(th: np.ndarray) -> np.ndarray:
        return th * [1.0, 2.0] + rng.normal(0, 0.005, th.shape)

    m = truth * [1.0, 2.0]
    res = abc_smc(simulate, np.array([[0, 1], [0, 1]]), m - 0.02, m + 0.02, np.ones(2, bool),
                  population=100, generations=40, min_acceptance=0.05)  # fmt: skip
    post = res.posterior
    assert post.epsilon < 1.5
    for j in range(2):
        lo, hi = weighted_quantiles(post.thetas[:, j], post.weights, [0.05, 0.95])
        assert lo <= truth[j] <= hi and hi - lo < 0.1
    eps = [g.epsilon for g in res.generations]
    assert eps == sorted(eps, reverse=True)  # the tolerance never rises


def test_distance_is_in_half_widths_and_nan_misses():
    low, high = np.array([0.0, 10.0]), np.array([1.0, 20.0])
    d = distance(np.array([[0.5, 15.0], [1.0, 25.0], [np.nan, 15.0]]), low, high)
    np.testing.assert_allclose(d, [0.0, 2.0, np.inf])


def test_weighted_quantiles():
    x = np.arange(100.0)
    np.testing.assert_allclose(weighted_quantiles(x, np.ones(100), [0.5]), [49.5])
    w = np.where(x < 50, 0.0, 1.0)
    assert weighted_quantiles(x, w, [0.05])[0] >= 50


HEAD = """name: bad
parameters:
  parameters.output.top10_base: {low: 0.1, high: 0.2, source: assumption}
targets:
"""
BAD = [
    # (target lines, line of the error, field, message)
    ("  - {measure: researcher, low: 130, high: 150, source: facts}\n", 5,
     "targets[0].measure", "unknown measure 'researcher'; known: researchers, pis"),
    ("  - measure: researchers\n    low: 150\n    high: 140\n    source: facts\n", 5,
     "targets[0]", "low (150.0) must be below high (140.0)"),
    ("  - measure: pis\n    low: 17\n    high: 23\n    source: facts\n    sorce: x\n", 9,
     "targets[0].sorce", "unknown key 'sorce'; allowed keys here: measure, low, high"),
    ("  - {measure: pis, low: 17, high: 23}\n", 5, "targets[0].source",
     "required key 'source' is missing"),
]  # fmt: skip


@pytest.mark.parametrize(("targets", "line", "field", "message"), BAD, ids=[b[2] for b in BAD])
def test_bad_spec_names_file_line_and_field(tmp_path, capsys, targets, line, field, message):
    p = tmp_path / "bad.yaml"
    p.write_text(HEAD + targets)
    assert main(["calibrate", str(p)]) == 2
    err = capsys.readouterr().err
    assert f"{p}, line {line}, field '{field}': {message}" in err, err
    assert len(err.strip().splitlines()) == 1  # one paragraph


def test_bad_parameter_key_is_rejected_before_running(tmp_path, capsys):
    p = tmp_path / "bad.yaml"
    p.write_text(
        "name: bad\n"
        "parameters:\n"
        "  parameters.output.top10_bse: {low: 0.1, high: 0.2, source: assumption}\n"
        "targets:\n"
        "  - {measure: researchers, low: 130, high: 150, source: facts}\n"
    )
    assert main(["calibrate", str(p)]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "parameters.parameters.output.top10_bse" in err, err
    assert main(["validate", str(p)]) == 2


def test_shipped_spec_validates(capsys):
    assert main(["validate", str(ROOT / "experiments" / "calibration.yaml")]) == 0
    assert "valid calibration 'calibration'" in capsys.readouterr().out


def test_measurements_on_a_known_panel():
    """The registry's definitions, on a panel built by hand (2 centre-runs × 25 years)."""
    from wpi_abm.calibrate.targets import MEASURES, Panel

    years = 25
    pay = np.zeros((2, years))
    pay[0, 7:] = np.arange(years - 7) * 10.0 + 5  # first payout in year 8: tenth is year 17
    pay[1, 20:] = 50.0  # first payout in year 21: its tenth year is beyond the horizon
    passed = np.full((2, years), np.nan)
    passed[:, 4] = [1.0, 0.0]
    researchers = np.full((2, years), 100.0)
    researchers[:, 2:10] = [[130.0], [150.0]]
    panel = Panel({"income_endowment": pay, "passed": passed, "researchers": researchers})
    assert MEASURES["endowment_payout_10y"].compute(panel) == 95.0
    assert MEASURES["interim_pass_rate"].compute(panel) == 0.5
    assert MEASURES["researchers"].compute(panel) == 140.0  # years 3-10 only
    none = Panel({"income_endowment": np.zeros((2, years))})
    assert np.isnan(MEASURES["endowment_payout_10y"].compute(none))
