"""``wpi-abm decompose``: every hybrid run on common random numbers, contributions that add up."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pytest

from wpi_abm.cli import main
from wpi_abm.config import load_experiment
from wpi_abm.decompose import DECOMPOSITION
from wpi_abm.experiment.decomposition import COLUMNS, TOTAL, additivity_gap, plan, prepare
from wpi_abm.experiment.plan import Chunk, Point
from wpi_abm.experiment.runner import Job, simulate_chunk
from wpi_abm.outcomes import decomposed
from wpi_abm.plots.results import Results
from wpi_abm.plots.summary import plot_results
from wpi_abm.plots.waterfall import waterfall

REPLICATES = 4


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``wpi-abm decompose legacy flat_15`` end to end: 2 elements, 4 designs, 4 replicates."""
    out = tmp_path_factory.mktemp("decompose") / "legacy-flat_15"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(
            [
                "decompose", "legacy", "flat_15", "--replicates", str(REPLICATES),
                "--executor", "serial", "--quiet", "--out", str(out),
                "--set", "uncertainty.kind=none",
            ]
        )  # fmt: skip
    assert code == 0
    return out, buffer.getvalue()


def test_the_command_prints_every_element_and_the_total(folder: tuple[Path, str]) -> None:
    out, printed = folder
    assert "decompose legacy → flat_15: 2 elements (extra_years, evaluations), 4 designs" in printed
    assert printed.count("total (TO − FROM)") == len(decomposed())
    assert "+ extra years" in printed and "+ evaluations" in printed
    assert "the contributions add up to TO − FROM" in printed
    assert f"results: {out}" in printed
    assert (out / "figures" / "decomposition.png").is_file()
    assert (out / "figures" / "decomposition.pdf").is_file()


def test_the_csv_has_one_row_per_outcome_and_element_and_a_total(folder: tuple[Path, str]) -> None:
    out, _ = folder
    table = pd.read_csv(out / DECOMPOSITION)
    assert list(table.columns) == list(COLUMNS)
    names = [o.name for o in decomposed()]
    assert list(dict.fromkeys(table["outcome"])) == names
    assert table["element"].tolist() == ["extra_years", "evaluations", TOTAL] * len(names)
    assert (table["replicates"] == REPLICATES).all()
    assert (table["ci_low"] <= table["contribution"] + 1e-12).all()
    assert (table["contribution"] <= table["ci_high"] + 1e-12).all()


def test_contributions_add_up_to_the_paired_difference_of_the_summary(
    folder: tuple[Path, str],
) -> None:
    out, _ = folder
    table = pd.read_csv(out / DECOMPOSITION)
    assert additivity_gap(table) < 1e-12
    summary = pd.read_csv(out / "summary.csv").set_index("policy")
    # FROM and TO are the designs themselves, under their own names, among the hybrids.
    assert set(summary.index) == {"legacy", "flat_15", *(n for n in summary.index if "_to_" in n)}
    assert len(summary) == 4
    rows = table.set_index(["outcome", "element"])
    # TO − FROM is the summary's paired difference (same replicates, same per-run values), and
    # FROM's and TO's levels are their P(decline) (every run has all 12 centres).
    total = rows.loc[("p_decline", TOTAL)]
    assert total["contribution"] == pytest.approx(summary.loc["flat_15", "diff_vs_legacy"])
    assert total["from_level"] == pytest.approx(summary.loc["legacy", "p_decline"])
    assert total["to_level"] == pytest.approx(summary.loc["flat_15", "p_decline"])
    cost = rows.loc[("cost_per_centre", TOTAL), "contribution"]
    assert cost == pytest.approx(summary.loc["flat_15", "cost_diff_vs_legacy"])
    # Paying years 11-15 is what removes the decline at 11-12; legacy's evaluations, which
    # flat_15 drops, have no consequence at the default parameters (every centre of these runs
    # passes its interim evaluation) and contribute nothing. Under a posterior draw with a
    # stricter bar a failed interim evaluation does matter, so the fixture fixes the parameters.
    assert rows.loc[("p_decline", "extra_years"), "contribution"] < -0.5
    assert rows.loc[("p_decline", "evaluations"), "contribution"] == 0.0


def test_the_waterfall_is_drawn_from_the_folder(folder: tuple[Path, str]) -> None:
    out, _ = folder
    res = Results.load(out)
    fig = waterfall(res)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == len(decomposed())
    # FROM, the two elements, TO: four bars in each panel.
    assert all(len(ax.patches) == 4 for ax in panels)
    assert [t.get_text() for t in panels[0].get_xticklabels()] == [
        "FROM", "extra years", "evaluations", "TO",
    ]  # fmt: skip
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[0] == res.label("legacy") and legend[-1] == res.label("flat_15")
    made, skipped = plot_results(out)
    assert "decomposition.png" in made and "decomposition" not in dict(skipped)


def test_a_decomposition_resumes_from_its_folder_alone(folder: tuple[Path, str], tmp_path, capsys):
    out, _ = folder
    copy = tmp_path / "copy"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("figures"))
    chunks = sorted((copy / "outcomes").glob("*.parquet"))
    chunks[1].unlink()  # as if interrupted before this chunk was stored
    (copy / DECOMPOSITION).unlink()
    assert main(["resume", str(copy), "--executor", "serial", "--quiet"]) == 0
    assert "the contributions add up to TO − FROM" in capsys.readouterr().out
    assert (copy / DECOMPOSITION).read_bytes() == (out / DECOMPOSITION).read_bytes()
    assert (copy / "figures" / "decomposition.png").is_file()


def test_hybrids_with_nothing_or_everything_switched_are_from_and_to():
    """The designs in between are built faithfully: no element switched simulates exactly as
    FROM, every element switched exactly as TO (same seeds, same outcomes)."""
    from wpi_abm.decompose import hybrid

    exp, _ = load_experiment(sets=["replicates=2", "policies=[legacy, flat_15]"])
    start, end = exp.policies["legacy"], exp.policies["flat_15"]
    names = ["extra_years", "evaluations"]
    designs = [start, hybrid(start, end, []), end, hybrid(start, end, names)]
    exp = exp.model_copy(update={"policies": {d.name: d for d in designs}})
    job = Job(exp, (Point(0),), False, "hybrids")
    tables = [
        simulate_chunk(job, Chunk(i, d.name, i, 0, 0, 2)).outcomes for i, d in enumerate(designs)
    ]
    keep = [c for c in tables[0].column_names if c not in ("run_id", "policy")]
    for a, b in ((0, 1), (2, 3)):
        for c in keep:
            x = tables[a].column(c).to_numpy(zero_copy_only=False)
            y = tables[b].column(c).to_numpy(zero_copy_only=False)
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), c
    assert pc.sum(tables[0].column("decline")).as_py() > 0


def test_legacy_to_the_reform_is_64_designs():
    exp, _ = load_experiment()
    p = plan(exp, "legacy", "reform_2024")
    assert p.names == [
        "extra_years", "matching", "evaluations", "growth_plan", "flexibility", "foresight",
    ]  # fmt: skip
    assert len(p.designs) == 64
    assert len({d.name for d in p.designs.values()}) == 64
    assert p.designs[frozenset()] is exp.policies["legacy"]
    assert p.designs[frozenset(p.names)] is exp.policies["reform_2024"]


def test_bad_designs_exit_2_with_one_paragraph_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["decompose", "legacy", "no_such_design", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: field 'TO': TO 'no_such_design' is neither a policy")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["decompose", "legacy", "legacy", "--out", str(out)]) == 2
    assert "differ in no design element" in capsys.readouterr().err
    assert not out.exists()


def test_hybrids_draw_the_calibrated_values_of_the_design_they_take_the_element_from() -> None:
    """The shipped posterior calibrates legacy's interim pass score: a hybrid with legacy's
    evaluations draws the same score in the same run; one with TO's keeps TO's."""
    from wpi_abm.experiment.runner import experiment_at
    from wpi_abm.experiment.uncertainty import load

    exp, tree = load_experiment()  # the default experiment draws from the posterior
    p, dexp, dtree = prepare(exp, tree, "legacy", "reform_2024")
    inherit = dtree["uncertainty"]["inherit"]
    key = "policies.legacy.evaluations[0].pass_score"
    keeps = [d.name for s, d in p.designs.items() if "evaluations" not in s and s]
    takes = [d.name for s, d in p.designs.items() if "evaluations" in s]
    assert sorted(k.split(".")[1] for k in inherit) == sorted(keeps)  # 31 hybrids
    assert set(inherit.values()) == {key}
    post = load(dexp)
    job = Job(dexp, (Point(0, {}),), False, "inherit-test", post)
    for particle in (0, 7):
        drawn = post.particle(particle)[key]
        e = experiment_at(job, 0, particle)
        assert e.policies["legacy"].evaluations[0].pass_score == drawn
        assert all(e.policies[n].evaluations[0].pass_score == drawn for n in keeps)
        written = exp.policies["reform_2024"].evaluations[0].pass_score
        assert all(e.policies[n].evaluations[0].pass_score == written for n in takes)


def test_a_posterior_on_segments_cannot_be_inherited() -> None:
    from wpi_abm.errors import ConfigError
    from wpi_abm.experiment.decomposition import inherited

    exp, _ = load_experiment(sets=["uncertainty.kind=none"])
    p = plan(exp, "legacy", "reform_2024")
    with pytest.raises(ConfigError, match="cannot inherit"):
        inherited(p, ("policies.legacy.segments[0].amount",))
    assert inherited(p, ("parameters.output.top10_base",)) == {}
