"""Progress in batch logs: lines by share done or by minute, with rate and ETA; figure timings."""

from __future__ import annotations

import io
import re

from wpi_abm.config import load_experiment
from wpi_abm.experiment.driver import run_experiment
from wpi_abm.experiment.executors import SerialExecutor
from wpi_abm.experiment.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_not_on_a_terminal_one_line_per_tenth_or_per_minute():
    stream, clock = io.StringIO(), Clock()
    with Progress(1000, initial=100, desc="study", stream=stream, clock=clock) as bar:
        for _ in range(10):
            clock.t += 1.0
            bar.update(10)  # 10 runs/s: a line at 200 (the next tenth of the total), none before
        clock.t += 100.0
        bar.update(1)  # over a minute since the last line: a line although under a tenth more
    lines = stream.getvalue().splitlines()
    assert lines == [
        "study: 200/1000 runs (20%), 10.0 runs/s, ETA 1m20s",
        "study: 201/1000 runs (20%), 0.9 runs/s, ETA 14m30s",
        "study: stopped at 201/1000 runs after 1m50s",
    ]


def test_a_run_in_a_log_reports_progress_and_each_figure(tmp_path, capsys):
    exp, tree = load_experiment(
        sets=["replicates=4", "output.chunk_runs=1", "policies=[legacy, flat_forever]"]
    )
    with SerialExecutor() as ex:
        run_experiment(exp, tree, ex, tmp_path / "r", progress=True, figures=True)
    err = capsys.readouterr().err  # captured: not a terminal, as in a batch job's log
    runs = [line for line in err.splitlines() if " runs (" in line]
    assert len(runs) >= 5 and "runs/s, ETA" in runs[0]
    assert re.search(r"^policy_comparison: 8/8 runs done in \S+, [\d.]+ runs/s$", err, re.M)
    figures = re.findall(r"^figure (\d+)/(\d+) (\w+) [\d.]+ s$", err, re.M)
    assert [f[2] for f in figures][:3] == ["p_decline", "p_decline_curve", "cost_effectiveness"]
    assert figures[0][:2] == ("1", figures[0][1]) and int(figures[-1][0]) <= int(figures[0][1])
