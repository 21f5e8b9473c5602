"""Ctrl-C that is never lost.

Python turns Ctrl-C (SIGINT) into a ``KeyboardInterrupt`` raised wherever the main thread happens
to be. Where that is a callback from C code, the exception can be swallowed: numba compiles a
kernel the first time it runs with a cold cache (after an installation or an upgrade), and
llvmlite's callbacks during that compilation report an exception as "Exception ignored on calling
ctypes callback function" and carry on. A run would then go on to its end as if Ctrl-C had never
been pressed — measured: a process compiling fresh numba functions in a loop, sent one SIGINT
after 2–3 s, went on to its end in one try of six.

Within :func:`catching`, Ctrl-C still raises ``KeyboardInterrupt`` at once, and is also
remembered; the loops that collect chunks call :func:`check` after each one, which raises it again
if it was lost; the report a callback makes of it through ``sys.unraisablehook`` (a traceback)
is not printed. A program that ignores SIGINT (started in the background by a shell) or has its
own handler is left alone.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any


class _Ctrl:
    # A plain attribute, not a threading.Event: a handler can interrupt itself (two SIGINTs
    # microseconds apart), and Event.set takes a lock that the interrupted handler holds, a
    # deadlock that no Ctrl-C ends (seen in review, 3 of 6 trials of 400 close pairs).
    pressed = False


def _remember(signum: int, frame: FrameType | None) -> None:
    _Ctrl.pressed = True
    raise KeyboardInterrupt


@contextlib.contextmanager
def catching() -> Iterator[None]:
    """Remember Ctrl-C while the block runs (see the module's docstring).

    Only from the main thread, and only where SIGINT has Python's default handler.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    _Ctrl.pressed = False
    signal.signal(signal.SIGINT, _remember)
    report = sys.unraisablehook

    def quietly(unraisable: Any) -> None:
        # The swallowed Ctrl-C is remembered: no "Exception ignored ..." traceback for it.
        if not (isinstance(unraisable.exc_value, KeyboardInterrupt) and _Ctrl.pressed):
            report(unraisable)

    sys.unraisablehook = quietly
    try:
        yield
    finally:
        sys.unraisablehook = report
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _Ctrl.pressed = False


def check() -> None:
    """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed and its exception was lost.

    Raises:
        KeyboardInterrupt: Ctrl-C since :func:`catching` began.
    """
    if _Ctrl.pressed:
        raise KeyboardInterrupt
