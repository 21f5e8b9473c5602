"""Wrong inputs that used to run (or to be blamed on the wrong line) are refused or flagged.

Each bad input is a file in ``tests/inputs/`` exactly as a user wrote it. Every message must
name the file, the line and the field, and say what is allowed; on the command line bad input
exits 2 and a warning goes to standard error without stopping anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from wpi_abm.cli import main
from wpi_abm.config import load_experiment, load_policy
from wpi_abm.errors import ConfigError
from wpi_abm.experiment.sweep import build
from wpi_abm.parameters import Parameters
from wpi_abm.schedule import compile_schedule

INPUTS = Path(__file__).parent / "inputs"


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run the command line, expect exit 2 and one message on stderr; return it."""
    assert main(list(args)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


# -- 1. inputs that ran and changed the numbers -------------------------------------------------


def test_overlapping_segments_are_refused_unless_they_say_they_add(capsys):
    bad = INPUTS / "overlapping_segments.yaml"
    err = refused(capsys, "validate", str(bad))
    assert f"{bad}, line 6, field 'segments[1]'" in err
    assert "overlaps segments[0]" in err and "years 8–10" in err and "adds: true" in err

    declared = load_policy(str(INPUTS / "overlapping_segments_adds.yaml"))
    amounts = compile_schedule(declared, 25, 0, 0.5).fixed
    assert amounts[7] == 700 and amounts[8] == amounts[10] == 1050 and amounts[11] == 350


def test_segments_past_the_horizon_warn_but_forever_does_not(capsys):
    assert main(["validate", str(INPUTS / "exp_past_horizon.yaml")]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: ") == 1
    assert "legacy_extension_taper.yaml, line 16, field " in err
    assert "'policies.legacy_extension_taper.segments[1].to_year'" in err
    assert "years 13–15 are never simulated" in err and "horizon is 12" in err
    assert "flat_forever" not in err

    from wpi_abm.errors import ConfigWarning

    with pytest.warns(ConfigWarning, match="years 13–15 are never simulated"):
        load_experiment(INPUTS / "exp_past_horizon.yaml")


def test_a_share_above_one_is_refused_in_a_file_on_the_command_line_and_in_a_sweep(capsys):
    exp = INPUTS / "exp_absorption_share.yaml"
    err = refused(capsys, "validate", str(exp))
    assert f"{exp}, line 7, field 'parameters.host.absorption_share'" in err
    assert "less than or equal to 1" in err

    good = Path(__file__).parents[1] / "experiments" / "policy_comparison.yaml"
    err = refused(capsys, "validate", str(good), "--set", "parameters.host.absorption_share=1.6")
    assert "--set, field 'parameters.host.absorption_share'" in err

    sweep = INPUTS / "sweep_absorption_share.yaml"
    err = refused(capsys, "validate", str(sweep))
    assert f"{sweep}, line 8, field 'parameters.parameters.host.absorption_share'" in err
    assert "range [0.5, 3.0] goes beyond" in err and "less than or equal to 1" in err


# Parameters named like a share or a probability that are not one, and why.
NOT_SHARES = {
    "conversion_rate": "posts a year",
    "topup_share": "a multiple of the gift (Kavli IPMU's top-up was 1.25 times it)",
    "intl_per_foreign_share": "a slope",
}
SHARE_WORDS = ("share", "rate", "belief", "fit", "fraction", "base", "leave", "exposure", "bonus")


def _leaves(model: type[BaseModel], prefix: str = "") -> list[tuple[str, float | None]]:
    """Every parameter (dotted) and its upper bound, if any."""
    out = []
    for name, info in model.model_fields.items():
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            out += _leaves(info.annotation, f"{prefix}{name}.")
            continue
        bounds = [getattr(m, a) for m in info.metadata for a in ("le", "lt") if hasattr(m, a)]
        out.append((f"{prefix}{name}", next((b for b in bounds if b is not None), None)))
    return out


def test_every_parameter_named_as_a_share_or_probability_is_bounded_by_one():
    checked = []
    for path, upper in _leaves(Parameters):
        names = path.split(".")[-2:]  # by-rank values are named by their parent
        if names[-1] in NOT_SHARES or not any(w in n for w in SHARE_WORDS for n in names):
            continue
        checked.append(path)
        assert upper is not None and upper <= 1, f"{path} is a share but allows {upper}"
    assert "host.absorption_share" in checked and len(checked) > 25


def _misspelt(capsys: pytest.CaptureFixture[str], name: str, line: int, field: str) -> str:
    bad = INPUTS / name
    err = refused(capsys, "validate", str(bad))
    assert f"{bad}, line {line}, field '{field}'" in err
    return err


def test_a_misspelt_field_host_or_source_is_refused_with_a_guess(capsys):
    from wpi_abm.schema.vocabulary import RESEARCH_FIELDS

    err = _misspelt(capsys, "cohort_misspelled_field.yaml", 7, "centres[1].field")
    assert "unknown research field 'phyiscs'; did you mean 'physics'?" in err
    assert all(f in err for f in RESEARCH_FIELDS) and "extra_fields" in err

    err = _misspelt(capsys, "cohort_misspelled_host.yaml", 5, "centres[0].host")
    assert "unknown host 'hots_a'; did you mean 'host_a'?" in err

    err = _misspelt(capsys, "matching_misspelled_source.yaml", 5, "matching.eligible[0]")
    assert "'company' or 'foundation'" in err and "did you mean 'company'?" in err


def test_a_cohort_may_declare_fields_of_its_own(tmp_path):
    text = (INPUTS / "cohort_misspelled_field.yaml").read_text()
    own = tmp_path / "own.yaml"
    own.write_text(text.replace("phyiscs", "economics") + "extra_fields: [economics]\n")
    assert main(["validate", str(own)]) == 0


def test_the_shipped_cohort_uses_only_listed_fields(default_experiment):
    from wpi_abm.schema.vocabulary import RESEARCH_FIELDS

    cohort = default_experiment.cohort
    used = {c.field for c in cohort.centres}
    used |= {f for funder in (*cohort.companies, *cohort.foundations) for f in funder.fields}
    assert used == set(RESEARCH_FIELDS) and not cohort.extra_fields


# -- 2. errors point at the line of the key at fault --------------------------------------------


@pytest.mark.parametrize(
    ("name", "file", "line", "field", "words"),
    [
        ("exp_unknown_baseline.yaml", None, 5, "baseline_policy", "did you mean 'legacy'?"),
        ("exp_test_years_past_horizon.yaml", None, 8, "decline.test_years[1]", "years 1..20"),
        (
            "exp_late_evaluation.yaml",
            "late_evaluation.yaml",
            6,
            "policies.late_evaluation.evaluations[1].year",
            "year 40 is beyond the horizon (25); allowed: years 1..25",
        ),
    ],
)
def test_cross_field_errors_name_the_line_of_the_key(capsys, name, file, line, field, words):
    err = refused(capsys, "validate", str(INPUTS / name))
    assert f"{INPUTS / (file or name)}, line {line}, field '{field}'" in err
    assert words in err


def test_a_sweeps_own_overrides_are_blamed_on_the_sweep_file_not_on_set(capsys):
    sweep = INPUTS / "sweep_bad_set.yaml"
    err = refused(capsys, "validate", str(sweep))
    assert f"{sweep}, line 6, field 'decline.theta'" in err and "--set" not in err
    assert "less than 1" in err


def test_a_negative_amount_gives_one_clear_message(capsys):
    bad = INPUTS / "negative_amount.yaml"
    err = refused(capsys, "validate", str(bad))
    assert err.strip() == (
        f"error: {bad}, line 3, field 'segments[0].amount': Input should be greater than or "
        "equal to 0 (got -700)"
    )


def test_a_value_of_no_kind_a_union_allows_lists_every_kind(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("name: p\nsegments:\n  - {from_year: 1, to_year: forver, amount: lots}\n")
    with pytest.raises(ConfigError) as info:
        load_policy(str(bad))
    lines = info.value.render().splitlines()
    assert len(lines) == 3  # a heading and one line per field
    to_year = next(x for x in lines if "to_year" in x)
    assert "a valid integer or 'forever'" in to_year and "did you mean 'forever'?" in to_year
    amount = next(x for x in lines if "amount" in x)
    assert "a valid number or a valid list (got 'lots')" in amount


def test_a_python_tag_is_refused_as_a_tag_with_its_line(capsys):
    bad = INPUTS / "python_tag.yaml"
    err = refused(capsys, "validate", str(bad))
    assert f"{bad}, line 2, field 'name'" in err
    assert "YAML tag '!!python/object:os.system' is not allowed" in err
    assert "valid string" not in err


# -- 3. readable outputs ------------------------------------------------------------------------
GOLDEN = Path(__file__).parent / "data" / "golden"


def test_a_long_policy_label_wraps_in_the_console_table_instead_of_being_cut(default_experiment):
    import pandas as pd

    from wpi_abm.tables import LABEL_WIDTH, format_summary

    long = "Reform 2024 with a doubled matching cap and a five-year taper (variant B)"
    policies = dict(default_experiment.policies)
    policies["taper"] = policies["taper"].model_copy(update={"label": long})
    summary = pd.read_csv(GOLDEN / "run_summary.csv")
    lines = format_summary(summary, policies, "legacy").splitlines()
    assert len(lines) == 2 + len(summary) + 1  # one continuation line
    row = next(i for i, line in enumerate(lines) if line.startswith("Reform 2024 with"))
    shown = lines[row][:LABEL_WIDTH].strip() + " " + lines[row + 1].strip()
    assert shown == long and lines[row + 1].startswith("  ")
    assert len(lines[row]) == len(lines[2])  # the numbers stay in their columns


def test_policy_files_take_a_japanese_label_and_every_builtin_has_one(tmp_path, capsys):
    from wpi_abm.presets import policy_names

    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "name: mine\nlabel: Mine\nlabel_ja: 独自の制度\nsegments:\n"
        "  - {from_year: 1, to_year: 10, amount: 700}\n"
    )
    assert main(["validate", str(mine)]) == 0
    for name in policy_names():
        ja = load_policy(name).label_ja
        assert ja and any("\u3000" <= ch <= "\u9fff" or ch >= "\uff00" for ch in ja), name


def test_japanese_figures_and_report_use_the_japanese_labels(default_experiment):
    import pandas as pd

    from wpi_abm.plots import forest
    from wpi_abm.plots.results import Results
    from wpi_abm.plots.style import style
    from wpi_abm.report.policies import policy_rows

    summary = pd.read_csv(GOLDEN / "run_summary.csv")
    ja = Results(GOLDEN, {}, default_experiment, summary, lang="ja")
    en = Results(GOLDEN, {}, default_experiment, summary, lang="en")
    legacy = default_experiment.policies["legacy"]
    assert ja.label("legacy") == legacy.label_ja and en.label("legacy") == legacy.label
    pytest.importorskip("matplotlib_fontja", reason="Japanese labels need matplotlib-fontja")
    with style("ja"):
        fig = forest.forest(ja)
    ticks = [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    assert legacy.label_ja in ticks and legacy.label not in ticks
    assert legacy.label_ja in str(policy_rows(ja)[0][0])


# -- 4. small gaps ------------------------------------------------------------------------------


def test_a_sweep_may_name_the_policies_its_base_experiment_defines():
    _, exp, tree, points, _ = build(INPUTS / "sweep_base" / "sweep.yaml")
    assert exp.policy_names == ["mine", "inline_taper"]
    assert exp.policies["mine"].label == "Mine (800 M × 12)"
    assert len(points) == 2 and set(tree["policies"]) == {"mine", "inline_taper"}


def test_a_sweep_naming_an_unknown_policy_names_the_sweep_line(tmp_path):
    base = INPUTS / "sweep_base"
    sweep = tmp_path / "s.yaml"
    sweep.write_text(
        (base / "sweep.yaml").read_text().replace("base.yaml", str(base / "base.yaml"))
        .replace("[mine, inline_taper]", "[mine, inline_tapr]")
    )  # fmt: skip
    with pytest.raises(ConfigError) as info:
        build(sweep)
    err = info.value
    assert (err.file, err.line, err.field) == (str(sweep), 4, "policies")
    assert "unknown policy 'inline_tapr'; did you mean 'inline_taper'?" in err.message


def test_a_sweep_without_the_panel_makes_no_runs_folder(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["sweep", str(INPUTS / "sweep_base" / "sweep.yaml"), "--out", str(out)]
    assert main([*args, "--executor", "serial", "--quiet"]) == 0
    assert (out / "outcomes").is_dir() and not (out / "runs").exists()


def test_every_input_file_is_used_by_a_test():
    tests = "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    for path in INPUTS.rglob("*.yaml"):
        named = path.name if path.parent == INPUTS else path.parent.name
        assert named in tests, f"{path.relative_to(INPUTS)} is not used by any test"
