"""Parameter uncertainty in runs: particles per replicate, total intervals, bad posterior files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from wpi_abm.cli import main
from wpi_abm.config import load_experiment
from wpi_abm.errors import ConfigError
from wpi_abm.experiment.analysis import Z95, total_interval
from wpi_abm.experiment.driver import run_experiment
from wpi_abm.experiment.executors import ProcessExecutor, SerialExecutor
from wpi_abm.experiment.plan import RUNS_PER_DRAW, run_particles
from wpi_abm.outcomes import OUTCOMES, PRIMARY

KEYS = ("parameters.researchers.insecurity_sensitivity", "parameters.output.top10_base")
PARTICLES = [(0.2, 1.0, 0.15), (0.5, 3.0, 0.165), (0.3, 6.0, 0.18)]
"""(weight, insecurity sensitivity, top-10% base): a spread that moves P(decline) a lot."""


def write_posterior(path: Path, rows=PARTICLES, keys=KEYS, header=None) -> Path:
    head = header or ["particle", "weight", "distance", *keys]
    lines = [",".join(head)]
    lines += [",".join(map(str, (i, w, 0.5, *v))) for i, (w, *v) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def experiment(posterior: Path | None, extra: list[str] | None = None):
    sets = [
        "replicates=50", "output.chunk_runs=25", "policies=[legacy, reform_2024]",
        "output.panel=false",
    ]  # fmt: skip
    if posterior is not None:
        sets += ["uncertainty.kind=posterior", f"uncertainty.posterior={posterior}"]
    else:
        sets += ["uncertainty.kind=none"]
    return load_experiment(sets=sets + (extra or []))


def run(out: Path, posterior: Path | None, executor=None, extra: list[str] | None = None):
    exp, tree = experiment(posterior, extra)
    with executor or SerialExecutor() as ex:
        return run_experiment(exp, tree, ex, out, progress=False, figures=False)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.glob("outcomes/*"))}


@pytest.fixture(scope="module")
def posterior(tmp_path_factory) -> Path:
    return write_posterior(tmp_path_factory.mktemp("post") / "posterior.csv")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, posterior):
    root = tmp_path_factory.mktemp("runs")
    return run(root / "with", posterior), run(root / "without", None)


# -- which particle each replicate simulates ----------------------------------------------------
def test_particles_are_one_weighted_draw_per_group_of_replicates():
    w = np.array([0.2, 0.5, 0.3])
    reps = list(range(20_000))
    drawn = run_particles(w, 7, reps)
    groups = drawn.reshape(-1, RUNS_PER_DRAW)
    assert (groups == groups[:, :1]).all()  # one particle per draw group
    # 800 groups: each share within 4.5 binomial standard errors of its weight.
    share = np.bincount(groups[:, 0], minlength=3) / len(groups)
    assert np.all(np.abs(share - w) < 4.5 * np.sqrt(w * (1 - w) / len(groups)))


def test_a_replicates_particle_depends_on_the_seed_and_group_alone():
    w = np.array([0.25, 0.25, 0.25, 0.25])
    full = run_particles(w, 11, range(300))
    # Any subset, in any order, and more replicates: the same particle for the same replicate.
    assert run_particles(w, 11, [299, 3, 150]).tolist() == [full[299], full[3], full[150]]
    assert run_particles(w, 11, range(600))[:300].tolist() == full.tolist()
    assert run_particles(w, 12, range(300)).tolist() != full.tolist()


# -- the total interval ------------------------------------------------------------------------
def test_total_interval_is_never_narrower_than_the_monte_carlo_one():
    rng = np.random.default_rng(3)
    for _ in range(200):
        runs, groups = 100, rng.integers(2, 6)
        m = np.full(runs, 12.0)
        shift = rng.normal(0, rng.choice([0.0, 0.05, 0.2]), groups)
        p = np.clip(0.4 + shift[np.arange(runs) % groups], 0, 1)
        y = rng.binomial(12, p).astype(float)
        est = y.sum() / m.sum()
        low, high = est - rng.uniform(0, 0.1), est + rng.uniform(0, 0.1)
        lo, hi = total_interval(y, m, np.arange(runs) % groups, est, low, high, proportion=True)
        assert lo <= low + 1e-12 and hi >= high - 1e-12
        assert lo >= 0.0 and hi <= 1.0


def test_total_interval_equals_monte_carlo_when_parameters_do_not_matter():
    # Every draw group identical: no spread between them, nothing to add.
    y = np.tile([3.0, 5.0, 4.0, 6.0], 4)
    m = np.full(16, 12.0)
    groups = np.repeat(np.arange(4), 4)
    assert total_interval(y, m, groups, 0.375, 0.3, 0.45, proportion=True) == (0.3, 0.45)


def test_total_interval_adds_the_spread_between_parameter_sets():
    # Two groups of runs with no spread within them: the whole spread is the parameters'.
    y = np.array([2.0, 2.0, 2.0, 8.0, 8.0, 8.0])
    m = np.full(6, 10.0)
    groups = np.array([0, 0, 0, 1, 1, 1])
    lo, hi = total_interval(y, m, groups, 0.5, 0.5, 0.5, proportion=False)
    tau = np.std([0.2, 0.8], ddof=1)
    assert lo == pytest.approx(0.5 - Z95 * tau) and hi == pytest.approx(0.5 + Z95 * tau)
    # One group only: the parameters' spread cannot be told apart from noise.
    assert np.isnan(total_interval(y[:3], m[:3], groups[:3], 0.2, 0.1, 0.3, proportion=True)).all()


# -- runs with a posterior ---------------------------------------------------------------------
def test_uncertainty_widens_intervals_and_never_narrows_them(runs):
    with_, without = runs
    s = with_.summary.set_index("policy")
    plain = without.summary.set_index("policy")
    checked = 0
    for o in OUTCOMES:
        if not o.total_columns or o.total_columns[0] not in s:
            continue
        lo_t, hi_t = o.total_columns
        ok = s[o.low].notna() & s[lo_t].notna()
        assert (s.loc[ok, lo_t] <= s.loc[ok, o.low] + 1e-12).all(), o.name
        assert (s.loc[ok, hi_t] >= s.loc[ok, o.high] - 1e-12).all(), o.name
        checked += int(ok.sum())
    assert checked >= 20
    # Insecurity sensitivity from 1 to 6 moves the reform's P(decline): strictly wider there.
    lo_t, hi_t = PRIMARY.total_columns
    width_total = s.loc["reform_2024", hi_t] - s.loc["reform_2024", lo_t]
    width_mc = s.loc["reform_2024", "ci_high"] - s.loc["reform_2024", "ci_low"]
    assert width_total > 1.2 * width_mc
    # Without a posterior: the summary keeps its columns and has no total ones.
    assert not [c for c in without.summary.columns if c.endswith("_total")]
    assert list(with_.summary.columns[:5]) == ["policy", "n", "p_decline", "ci_low", "ci_high"]
    assert list(plain.columns) == [c for c in s.columns if not c.endswith("_total")]


def test_each_run_records_its_particle_and_every_policy_shares_it(runs):
    with_, _ = runs
    outcomes = pq.read_table(with_.out / "outcomes").to_pandas()
    per_run = outcomes.groupby(["policy", "replicate"], observed=True)["particle"].agg(
        ["min", "max"]
    )
    assert (per_run["min"] == per_run["max"]).all()
    by_policy = per_run["min"].unstack("policy")
    assert (by_policy["legacy"] == by_policy["reform_2024"]).all()  # common random numbers
    weights = np.array([w for w, *_ in PARTICLES])
    seed = experiment(None)[0].seed
    expected = run_particles(weights / weights.sum(), seed, range(50))
    assert by_policy["legacy"].to_numpy().tolist() == expected.tolist()


def test_the_manifest_records_the_posterior_and_its_checksum(runs, posterior):
    with_, without = runs
    manifest = json.loads((with_.out / "manifest.json").read_text())
    sha = hashlib.sha256(posterior.read_bytes()).hexdigest()
    assert manifest["posterior"]["sha256"] == sha and manifest["posterior"]["particles"] == 3
    assert manifest["posterior"]["keys"] == list(KEYS)
    assert manifest["config"]["uncertainty"] == {
        "kind": "posterior", "posterior": str(posterior), "sha256": sha,
    }  # fmt: skip
    assert json.loads((without.out / "manifest.json").read_text())["posterior"] is None


def test_results_do_not_depend_on_executor_workers_or_chunking(runs, posterior, tmp_path):
    with_, _ = runs
    other = run(tmp_path / "proc", posterior, ProcessExecutor(workers=2))
    assert files(other.out) == files(with_.out)
    # Chunks cut across draw groups: the same runs, the same particles, the same outcomes.
    odd = run(tmp_path / "odd", posterior, extra=["output.chunk_runs=7"])
    a = pq.read_table(odd.out / "outcomes").to_pandas().sort_values(["run_id", "centre"])
    b = pq.read_table(with_.out / "outcomes").to_pandas().sort_values(["run_id", "centre"])
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    pd.testing.assert_frame_equal(odd.summary, with_.summary)


def test_resume_refuses_a_posterior_that_changed(runs, posterior, tmp_path, capsys):
    copy = write_posterior(tmp_path / "p.csv")
    out = tmp_path / "res"
    args = ["run", "--replicates", "25", "--set", "policies=[legacy]", "--posterior", str(copy),
            "--quiet", "--no-figures", "--executor", "serial", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    assert main(["resume", str(out), "--executor", "serial", "--quiet"]) == 0
    write_posterior(copy, rows=[(1.0, 2.0, 0.16)])
    assert main(["resume", str(out), "--executor", "serial", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(copy) in err and "uncertainty.sha256" in err and "changed" in err


# -- bad posterior files -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("case", "named"),
    [
        ("missing", "not found"),
        ("unknown_key", "field 'parameters.output.no_such_thing'"),
        ("zero_weight", "field 'weight'"),
        ("negative_weight", "field 'weight'"),
        ("not_a_number", "field 'parameters.output.top10_base'"),
        ("no_weight", "no 'weight' column"),
        ("rejected_value", "line 3, field 'parameters.output.top10_base'"),
    ],
)
def test_a_bad_posterior_exits_2_naming_file_and_field(case, named, tmp_path, capsys):
    f = tmp_path / "post.csv"
    if case == "unknown_key":
        write_posterior(f, keys=(KEYS[0], "parameters.output.no_such_thing"))
    elif case in ("zero_weight", "negative_weight"):
        w = 0.0 if case == "zero_weight" else -1.0
        write_posterior(f, rows=[PARTICLES[0], (w, 2.0, 0.16)])
    elif case == "not_a_number":
        write_posterior(f, rows=[PARTICLES[0], (0.5, 2.0, "abc")])
    elif case == "no_weight":
        f.write_text("parameters.output.top10_base\n0.16\n")
    elif case == "rejected_value":
        write_posterior(f, rows=[PARTICLES[0], (0.5, 2.0, -3.0)])
    out = tmp_path / "res"
    args = ["run", "--posterior", str(f), "--replicates", "1", "--set", "policies=[legacy]",
            "--quiet", "--no-figures", "--executor", "serial", "--out", str(out)]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert str(f) in err and named in err
    assert not out.exists()


def test_keys_of_a_policy_not_run_are_left_out(tmp_path):
    from wpi_abm.experiment.uncertainty import load

    f = write_posterior(
        tmp_path / "p.csv", keys=(KEYS[0], "policies.legacy.evaluations[0].pass_score"),
        rows=[(1.0, 2.0, 0.9)],
    )  # fmt: skip
    exp, _ = load_experiment(
        sets=[
            "policies=[reform_2024]",
            "baseline_policy=null",
            "uncertainty.kind=posterior",
            f"uncertainty.posterior={f}",
        ]
    )
    post = load(exp)
    assert post is not None and post.keys == (KEYS[0],)
    exp, _ = load_experiment(
        sets=["policies=[legacy]", "uncertainty.kind=posterior", f"uncertainty.posterior={f}"]
    )
    post = load(exp)
    assert post is not None and len(post.keys) == 2
    g = write_posterior(
        tmp_path / "q.csv", keys=("policies.legacy.evaluations[0].pass_score",), rows=[(1.0, 0.9)]
    )
    exp, _ = load_experiment(
        sets=["policies=[reform_2024]", "baseline_policy=null", "uncertainty.kind=posterior",
              f"uncertainty.posterior={g}"]
    )  # fmt: skip
    with pytest.raises(ConfigError, match="no column applies"):
        load(exp)


def test_the_forest_figure_and_tables_show_both_intervals(runs):
    from wpi_abm.plots import forest
    from wpi_abm.plots.results import Results
    from wpi_abm.tables import format_summary

    with_, without = runs
    fig = forest.forest(Results.load(with_.out))
    plain = forest.forest(Results.load(without.out))
    # Per policy: the total bar, the Monte Carlo one, the end-of-support one.
    assert len(fig.axes[0].containers) == len(plain.axes[0].containers) + 2
    exp, _ = experiment(None)
    text = format_summary(with_.summary, exp.policies, "legacy")
    assert "total [95% CI]" in text.splitlines()[0]
    lo, hi = with_.summary.loc[1, ["ci_low_total", "ci_high_total"]]
    assert f"[{100 * lo:5.1f}, {100 * hi:5.1f}]" in text
    assert "total" not in format_summary(without.summary, exp.policies, "legacy")


# -- worlds of several particles in one model ----------------------------------------------------


def test_the_packaged_posterior_varies_only_values_a_world_holds_alone():
    """So the default's draw groups share models (batches of 100, not 25)."""
    from wpi_abm.experiment.uncertainty import load
    from wpi_abm.sim.per_world import varies_per_world

    post = load(load_experiment()[0])
    assert post is not None and all(varies_per_world(k) for k in post.keys)
    assert not any(varies_per_world(k) for k in KEYS[:1])


@pytest.mark.parametrize("policy", ["legacy", "multiple_host"])
def test_a_chunk_of_several_particles_is_the_same_in_one_model_or_one_per_particle(
    policy, monkeypatch
):
    """A chunk of 100 replicates takes four draw groups' particles: simulated as one model, or
    as one model per particle (what a posterior with another column gets), the same tables."""
    from wpi_abm.experiment import runner
    from wpi_abm.experiment.plan import Chunk, Point
    from wpi_abm.experiment.uncertainty import load

    exp, _ = load_experiment(sets=["policies=[legacy, multiple_host]", "replicates=100"])
    post = load(exp)
    job = runner.Job(exp, (Point(0, {}),), True, "mix-test", post)
    chunk = Chunk(0, policy, exp.policy_names.index(policy), 0, 0, 100)
    assert len(set(run_particles(post.weights, exp.seed, range(100)).tolist())) == 4
    models = []
    import wpi_abm.sim.model as sim_model  # the runner imports the model when it simulates

    class Counting(sim_model.WPIModel):
        def __init__(self, *args, **kwargs):
            models.append(len(args[4]))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(sim_model, "WPIModel", Counting)
    mixed = runner.simulate_chunk(job, chunk)
    monkeypatch.setattr(runner, "varies_per_world", lambda key: False)
    apart = runner.simulate_chunk(job, chunk)
    assert mixed.error is None and apart.error is None
    assert models == [100, 25, 25, 25, 25]
    for table in ("outcomes", "panel"):  # NaN where no evaluation: compared as equal
        pd.testing.assert_frame_equal(
            getattr(mixed, table).to_pandas(), getattr(apart, table).to_pandas()
        )
    drawn = run_particles(post.weights, exp.seed, range(100))
    expected = np.repeat(drawn, len(exp.cohort.centres))
    assert np.array_equal(mixed.outcomes.column("particle").to_numpy(), expected)


def test_batches_cut_at_the_model_size_and_at_particles_only_when_they_cannot_mix():
    from wpi_abm.experiment.runner import _batches

    reps = list(range(60))
    drawn = np.array([3] * 25 + [5] * 25 + [3] * 10)
    mixed = _batches(reps, drawn, 50, mix=True)
    assert [b for b, _ in mixed] == [reps[:50], reps[50:]]
    assert [p for _, p in mixed] == [drawn[:50].tolist(), drawn[50:].tolist()]
    apart = _batches(reps, drawn, 50, mix=False)
    assert [b for b, _ in apart] == [reps[:25], reps[25:50], reps[50:]]
    assert [p for _, p in apart] == [[3] * 25, [5] * 25, [3] * 10]
    assert _batches(reps, None, 50, mix=False) == [(reps[:50], None), (reps[50:], None)]
