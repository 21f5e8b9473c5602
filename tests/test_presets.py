"""The built-in policy designs are the packaged YAML files: adding one adds it everywhere."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from wpi_abm import presets
from wpi_abm.cli import main
from wpi_abm.config import load_experiment
from wpi_abm.plots.style import SPARE_LOOKS, policy_style


def test_the_index_lists_every_packaged_design_once():
    names = [name for name, _ in presets._index()]
    assert len(names) == len(set(names))
    assert set(presets.builtin("policies")) == set(names)
    assert presets.policy_names() == names  # all listed: the documented order is the index's


def test_index_files_are_not_building_blocks():
    assert presets.INDEX.startswith("_")
    assert "_index" not in presets.builtin("policies")


@pytest.fixture
def with_new_design(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The packaged data plus one more policy file, ``zz_mine.yaml``, that the index omits."""
    data = tmp_path / "data"
    shutil.copytree(presets.data_dir(), data)
    legacy = (data / "configs" / "policies" / "legacy.yaml").read_text(encoding="utf-8")
    mine = legacy.replace("name: legacy\n", "name: zz_mine\n", 1)
    (data / "configs" / "policies" / "zz_mine.yaml").write_text(mine, encoding="utf-8")
    monkeypatch.setattr(presets, "data_dir", lambda: data)
    presets._index.cache_clear()
    yield "zz_mine"
    presets._index.cache_clear()


def test_a_new_yaml_file_is_a_new_design_everywhere(with_new_design: str, capsys):
    name = with_new_design
    # listed after the indexed designs, in name order
    assert presets.policy_names()[-1] == name
    # run by the default experiment (`policies: all`)
    exp, _ = load_experiment(sets=["replicates=1"])
    assert exp.policy_names[-1] == name and exp.policies[name].name == name
    # listed by `wpi-abm policies`
    assert main(["policies"]) == 0
    assert name in capsys.readouterr().out
    # drawn with the first spare look, distinct from every built-in one
    st = policy_style(name, exp.policy_names)
    assert st["color"] == SPARE_LOOKS[0].colour
    assert st["color"] not in {policy_style(p)["color"] for p in exp.policy_names[:-1]}
