"""The wpi-abm command: exit codes, messages, the default experiment from any directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from wpi_abm.cli import main
from wpi_abm.presets import policy_names

ROOT = Path(__file__).parents[1]


def test_policies_lists_every_builtin_in_order(capsys):
    assert main(["policies"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines() if line and not line[0].isspace()]
    assert listed == policy_names()


def test_validate_good_files(capsys):
    assert main(["validate", str(ROOT / "experiments" / "policy_comparison.yaml")]) == 0
    assert main(["validate", str(ROOT / "configs" / "policies" / "reform_2024.yaml")]) == 0
    assert main(["validate", str(ROOT / "configs" / "cohorts" / "default.yaml")]) == 0
    assert main(["validate", str(ROOT / "configs" / "parameters" / "default.yaml")]) == 0
    out = capsys.readouterr().out
    assert "valid experiment 'policy_comparison': 9 policies" in out
    assert "valid policy 'reform_2024'" in out and "12 centres" in out


def test_bad_input_exits_2_with_one_paragraph_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\nseed: 1\nreplicates: 0\npolicies: [legacy]\n")
    out = tmp_path / "out"
    assert main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}, line 3, field 'replicates'")
    assert "Traceback" not in err
    assert not out.exists()


def test_a_bad_reference_names_the_field_and_what_is_allowed(capsys):
    assert main(["run", "--set", "decline.reference=year9", "--replicates", "1"]) == 2
    err = capsys.readouterr().err
    assert "decline.reference" in err and "pre_announcement" in err and "Traceback" not in err
    assert main(["run", "--set", "decline.pre_announcement_years=[6, 12]"]) == 2
    assert "must end before the first test year (11)" in capsys.readouterr().err


def test_unknown_set_key_is_rejected(capsys):
    assert main(["run", "--set", "parameters.researchers.no_such=1", "--replicates", "1"]) == 2
    assert "unknown key 'no_such'" in capsys.readouterr().err


def test_existing_results_folder_is_not_overwritten(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "something").write_text("keep me")
    code = main(["run", "--replicates", "1", "--out", str(tmp_path / "x"), "--quiet"])
    assert code == 2 and "not empty" in capsys.readouterr().err
    assert (tmp_path / "x" / "something").read_text() == "keep me"


def test_run_smoke_prints_the_table_and_the_folder(tmp_path, capsys):
    out = tmp_path / "smoke"
    code = main(
        ["run", "--replicates", "3", "--out", str(out), "--quiet", "--executor", "serial",
         "--set", "output.chunk_runs=3"]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "P(decline) % [95% CI]" in text and "vs legacy" in text
    assert "Reform 2024" in text and f"results: {out}" in text
    # the second table: outcomes beyond the binary test, and what its columns measure
    assert "value-yrs lost [95% CI]" in text and "M¥ per value-yr kept [95% CI]" in text
    assert "shortfall below the value in year 10, summed over years 11–25" in text
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 9 and (summary["n"] == 36).all()
    assert {"value_lost", "value_y20", "researchers_y20", "cost_per_value_year"} <= set(summary)
    assert {"p_decline.pdf", "p_decline.png", "value_index.pdf"} <= {
        p.name for p in (out / "figures").iterdir()
    }
    assert main(["plot", str(out)]) == 0


@pytest.mark.slow
def test_installed_command_runs_from_any_directory(tmp_path):
    exe = Path(sys.executable).with_name("wpi-abm")
    proc = subprocess.run(
        [str(exe), "run", "--replicates", "2", "--out", "r", "--quiet", "--no-figures",
         "--set", "policies=[legacy,flat_forever]"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r" / "summary.csv").is_file()


def test_calibrate_prints_targets_and_model_values(capsys):
    assert main(["calibrate", "--replicates", "5"]) == 0
    out = capsys.readouterr().out
    assert "researchers per centre" in out and "Kavli IPMU ~47%" in out
    assert "null-model false-alarm rate" in out


@pytest.mark.parametrize(
    "path", sorted((ROOT / "experiments").glob("*.yaml")), ids=lambda p: p.name
)
def test_every_shipped_example_validates(path, capsys):
    assert main(["validate", str(path)]) == 0
    assert "valid" in capsys.readouterr().out


def test_sensitivity_needs_ranges(tmp_path, capsys):
    p = tmp_path / "s.yaml"
    p.write_text("name: s\nparameters:\n  parameters.host.absorption_share: {values: [0.2, 0.4]}\n")
    assert main(["sensitivity", str(p)]) == 2
    assert "line 3" in capsys.readouterr().err


def test_the_program_exits_with_mains_status_after_freezing_the_collector(monkeypatch):
    """``wpi-abm`` (cli.command) is main, then an exit that skips collecting what is left."""
    from importlib.metadata import entry_points

    from wpi_abm import cli

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "wpi-abm"]
    assert script.value == "wpi_abm.cli:command"
    calls: list[str] = []
    monkeypatch.setattr(cli, "main", lambda: calls.append("main") or 3)
    monkeypatch.setattr(cli.gc, "freeze", lambda: calls.append("freeze"))
    with pytest.raises(SystemExit) as stop:
        cli.command()
    assert stop.value.code == 3 and calls == ["main", "freeze"]
