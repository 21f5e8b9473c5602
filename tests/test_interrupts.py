"""Ctrl-C is never lost (wpi_abm/interrupts.py).

A KeyboardInterrupt raised inside a callback from C (numba's compiler, with a cold cache) is
swallowed; the signal itself is remembered and the chunk loops raise it again. These tests send
a real SIGINT to this process and swallow its exception the way such a callback does.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
import textwrap

import pytest

from wpi_abm import interrupts
from wpi_abm.cli import EXIT_INTERRUPTED, main
from wpi_abm.experiment import executors


def _ctrl_c_swallowed() -> None:
    """Ctrl-C arrives while a C callback runs, which reports its exception and carries on."""
    with contextlib.suppress(KeyboardInterrupt):
        _ctrl_c()  # the handler runs at the next bytecode boundary, inside this block


def test_a_lost_ctrl_c_is_raised_again_at_the_next_check():
    with interrupts.catching():
        interrupts.check()  # nothing pressed yet
        _ctrl_c_swallowed()
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    interrupts.check()  # forgotten once the block ends


@pytest.fixture(autouse=True)
def _ctrl_c_at_its_default():
    """Python's own SIGINT handler, even where this suite was started with SIGINT ignored."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(1000):
        pass


def test_ctrl_c_swallowed_by_a_ctypes_callback_is_raised_again_without_a_traceback(monkeypatch):
    # What llvmlite does while numba compiles: Python code called back from C, whose exception
    # ctypes reports ("Exception ignored on calling ctypes callback function") and drops.
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    with interrupts.catching():
        ctypes.CFUNCTYPE(None)(_ctrl_c)()
        ctypes.CFUNCTYPE(None)(lambda: 1 / 0)()  # any other error is reported as before
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    assert [type(u.exc_value) for u in reported] == [ZeroDivisionError]
    assert sys.unraisablehook == reported.append


def test_ctrl_c_still_raises_at_once():
    with interrupts.catching(), pytest.raises(KeyboardInterrupt):
        _ctrl_c()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_program_that_ignores_ctrl_c_or_handles_it_is_left_alone():
    def own(signum, frame):
        return None

    for handler in (signal.SIG_IGN, own):
        old = signal.signal(signal.SIGINT, handler)
        try:
            with interrupts.catching():
                assert signal.getsignal(signal.SIGINT) is handler
                _ctrl_c_swallowed()
                interrupts.check()  # not ours to remember
            assert signal.getsignal(signal.SIGINT) is handler
        finally:
            signal.signal(signal.SIGINT, old)


def test_a_run_whose_ctrl_c_was_swallowed_stops_after_that_chunk(tmp_path, monkeypatch, capsys):
    spec = tmp_path / "study.yaml"
    spec.write_text(
        textwrap.dedent(
            """
            name: study
            seed: 5
            replicates: 4
            policies: [legacy, reform_2024]
            output: {chunk_runs: 1, figures: false}
            """
        )
    )
    real = executors.simulate_chunk

    def compiling(job, chunk):
        if chunk.index == 2:
            _ctrl_c_swallowed()
        return real(job, chunk)

    monkeypatch.setattr(executors, "simulate_chunk", compiling)
    out = tmp_path / "out"
    args = ["run", str(spec), "--executor", "serial", "--out", str(out), "--quiet"]
    assert main(args) == EXIT_INTERRUPTED
    assert f"wpi-abm resume {out}" in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    # Chunk 2 was simulated and stored; nothing after it (8 chunks in all).
    assert sorted(p.name for p in (out / "outcomes").glob("*.parquet")) == [
        f"chunk-00000{i}.parquet" for i in range(3)
    ]
