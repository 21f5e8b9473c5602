"""Bad input gets a clear message naming file, line and field; good input resolves as expected."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from wpi_abm.config import load_experiment, parse_set
from wpi_abm.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip())
    return p


MINIMAL = """\
name: t
seed: 1
replicates: 2
policies: [legacy, reform_2024]
"""


def error_for(path: Path, sets: list[str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_experiment(path, sets)
    return info.value


def test_minimal_experiment_resolves_defaults(tmp_path):
    exp, tree = load_experiment(write(tmp_path, MINIMAL))
    assert list(exp.policies) == ["legacy", "reform_2024"]
    assert exp.cohort.name == "default" and len(exp.cohort.centres) == 12
    assert exp.horizon == 25 and exp.decline.theta == 0.10 and exp.decline.test_years == [11, 12]
    assert tree["policies"]["legacy"]["segments"][0]["amount"] == 700


def test_packaged_default_equals_the_experiments_folder_copy(default_experiment):
    exp, _ = load_experiment(Path(__file__).parents[1] / "experiments" / "policy_comparison.yaml")
    assert exp == default_experiment
    assert default_experiment.replicates == 1000 and len(default_experiment.policies) == 9


def test_unknown_key_names_file_line_field_and_allowed_keys(tmp_path):
    p = write(tmp_path, MINIMAL + "decline:\n  theta: 0.1\n  thetta: 0.2\n")
    err = error_for(p)
    assert err.file == str(p) and err.line == 7 and err.field == "decline.thetta"
    assert "unknown key 'thetta'" in err.message and "theta" in err.message
    assert err.render().startswith(f"{p}, line 7, field 'decline.thetta': unknown key")


def test_wrong_type(tmp_path):
    err = error_for(write(tmp_path, MINIMAL.replace("replicates: 2", "replicates: many")))
    assert err.line == 3 and err.field == "replicates" and "integer" in err.message


def test_zero_replicates(tmp_path):
    err = error_for(write(tmp_path, MINIMAL.replace("replicates: 2", "replicates: 0")))
    assert err.field == "replicates" and "greater than or equal to 1" in err.message


def test_unknown_policy_lists_the_builtins(tmp_path):
    err = error_for(write(tmp_path, MINIMAL.replace("reform_2024", "reform2024")))
    assert err.line == 4 and err.field == "policies[1]"
    assert "unknown policy 'reform2024'" in err.message and "reform_2024" in err.message


def test_negative_money_in_a_user_policy_points_into_the_policy_file(tmp_path):
    write(
        tmp_path,
        """
        name: mine
        segments:
          - {from_year: 1, to_year: 10, amount: -5}
        """,
        "mine.yaml",
    )
    p = write(tmp_path, MINIMAL.replace("reform_2024", "mine.yaml"))
    err = error_for(p)
    assert err.file.endswith("mine.yaml") and err.line == 3
    assert err.field == "policies.mine.segments[0].amount"
    assert "greater than or equal to 0" in err.message


def test_probability_out_of_range_in_overrides(tmp_path):
    p = write(tmp_path, MINIMAL + "overrides:\n  parameters.recruitment.fill_rate: 1.5\n")
    err = error_for(p)
    assert (
        err.field == "parameters.recruitment.fill_rate" and "less than or equal to 1" in err.message
    )
    assert err.file == str(p) and err.line == 6  # the override's own line


def test_evaluation_beyond_the_horizon(tmp_path):
    err = error_for(write(tmp_path, MINIMAL + "horizon: 12\n"))
    assert "evaluation 'final' in year 15 is beyond the horizon (12)" in err.message


def test_set_on_the_command_line_is_named_as_the_source(tmp_path):
    err = error_for(write(tmp_path, MINIMAL), ["parameters.money.salary.pi=-3"])
    assert err.file == "--set" and err.field == "parameters.money.salary.pi"


def test_set_changes_any_field(tmp_path):
    exp, _ = load_experiment(
        write(tmp_path, MINIMAL),
        ["policies.reform_2024.matching.cap=450", "cohort.centres[2].reputation=1.5", "seed=9"],
    )
    assert exp.policies["reform_2024"].matching.cap == 450
    assert exp.cohort.centres[2].reputation == 1.5 and exp.seed == 9


def test_set_can_replace_the_policy_list(tmp_path):
    exp, _ = load_experiment(write(tmp_path, MINIMAL), ["policies=[flat_15]"])
    assert list(exp.policies) == ["flat_15"] and exp.baseline_policy is None


def test_malformed_set():
    with pytest.raises(ConfigError, match="not of the form"):
        parse_set("replicates")
    assert parse_set("a.b[2].c=[1, 2]") == (("a", "b", 2, "c"), [1, 2])


def test_yaml_syntax_error_and_duplicate_keys(tmp_path):
    err = error_for(write(tmp_path, "name: t\nseed: [1,\n"))
    assert "not valid YAML" in err.message and err.line is not None
    err = error_for(write(tmp_path, MINIMAL + "seed: 2\n"))
    assert "appears twice" in err.message and err.line == 5


def test_missing_file_and_empty_file(tmp_path):
    assert "file not found" in error_for(tmp_path / "none.yaml").message
    assert "empty" in error_for(write(tmp_path, "")).message


def test_several_problems_are_reported_together(tmp_path):
    p = write(tmp_path, MINIMAL.replace("replicates: 2", "replicates: 0") + "horizon: -1\n")
    err = error_for(p)
    assert "2 problems" in err.render()


def test_baseline_must_be_among_the_policies(tmp_path):
    err = error_for(write(tmp_path, MINIMAL + "baseline_policy: taper\n"))
    assert err.field == "baseline_policy" and err.line == 5
    assert "unknown policy 'taper'" in err.message and "legacy, reform_2024" in err.message


def test_cohort_reference_errors(tmp_path):
    write(
        tmp_path,
        """
        name: c
        hosts: [{name: h, strength: 1, commitment: 0.5}]
        centres:
          - name: A
            field: physics
            host: nowhere
            planned: {pi: 10, researcher: 20, postdoc: 30, staff: 5}
            initial_fill: 0.5
            reputation: 1
            foreign_share: 0.3
        """,
        "c.yaml",
    )
    err = error_for(write(tmp_path, MINIMAL + "cohort: c.yaml\n"))
    assert "names unknown host 'nowhere'" in err.message and "(allowed: h)" in err.message
    assert err.file.endswith("c.yaml") and err.line == 6 and err.field == "cohort.centres[0].host"
