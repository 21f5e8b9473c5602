"""Progress that shows on a terminal and in a batch job's log alike.

On a terminal, a tqdm bar. Anywhere else (a Slurm log, a file, a pipe), a bar's carriage returns
would be noise or nothing at all, so :class:`Progress` writes a plain line whenever another tenth
of the runs is done or a minute has passed since the last line: runs done, rate and time left.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm

LINE_EVERY_FRACTION = 0.1
"""A log line each time this share of all runs more is done..."""
LINE_EVERY_SECONDS = 60.0
"""...or when this long has passed since the last line."""


def duration(seconds: float) -> str:
    """``45s``, ``1m20s`` or ``2h05m``."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class Progress:
    """Runs done out of a total, reported on ``stream``.

    Args:
        total: Runs in the whole experiment.
        initial: Runs already done (stored before a resume).
        desc: Prefix of every line (the experiment's name).
        enabled: Report nothing when false.
        stream: Where to write (standard error by default).
        clock: Seconds, monotonic (tests pass a fake one).
    """

    def __init__(
        self,
        total: int,
        *,
        initial: int = 0,
        desc: str = "",
        enabled: bool = True,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = max(total, 1)  # (a share of nothing is still defined)
        self.done, self.initial, self.desc = initial, initial, desc
        self.stream = stream or sys.stderr
        self.clock = clock
        self.enabled = enabled
        self.started = self.last_line = clock()
        self.step = max(1, round(total * LINE_EVERY_FRACTION))
        self.next_mark = (initial // self.step + 1) * self.step
        self.bar: tqdm | None = None
        if enabled and _is_terminal(self.stream):
            self.bar = tqdm(
                total=total, initial=initial, unit="run", desc=desc, delay=2.0,
                file=self.stream, dynamic_ncols=True,
            )  # fmt: skip

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int) -> None:
        """``n`` more runs are done."""
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        if not self.enabled:
            return
        now = self.clock()
        if self.done >= self.next_mark or now - self.last_line >= LINE_EVERY_SECONDS:
            self.next_mark = (self.done // self.step + 1) * self.step
            self.last_line = now
            rate = self._rate(now)
            left = duration((self.total - self.done) / rate) if rate > 0 else "unknown"
            self._line(
                f"{self.done}/{self.total} runs ({self.done / self.total:.0%}), "
                f"{rate:.1f} runs/s, ETA {left}"
            )

    def close(self) -> None:
        """Close the bar, or write the last line: done (with the mean rate) or stopped."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
            return
        if not self.enabled:
            return
        self.enabled = False  # one closing line, however often close() is called
        now = self.clock()
        took = duration(now - self.started)
        if self.done >= self.total:
            self._line(
                f"{self.done}/{self.total} runs done in {took}, {self._rate(now):.1f} runs/s"
            )
        else:
            self._line(f"stopped at {self.done}/{self.total} runs after {took}")

    def _rate(self, now: float) -> float:
        elapsed = now - self.started
        return (self.done - self.initial) / elapsed if elapsed > 0 else 0.0

    def _line(self, text: str) -> None:
        print(f"{self.desc}: {text}" if self.desc else text, file=self.stream, flush=True)


def figure_progress(stream: TextIO | None = None) -> Callable[[int, int, str, float], None]:
    """A callback that writes one line per figure drawn: ``figure 3/13 survival 2.1 s``."""

    def report(index: int, count: int, name: str, seconds: float) -> None:
        print(
            f"figure {index}/{count} {name} {seconds:.1f} s", file=stream or sys.stderr, flush=True
        )

    return report


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
