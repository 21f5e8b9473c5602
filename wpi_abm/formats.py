"""How numbers are written for people: percentages, differences, money, compact numbers.

One rule per kind of number, shared by the printed tables of the command line and the HTML report,
so that both show 94.4 for a share of 0.944 and an em dash for what is unknown. ``width``
right-aligns for fixed-width terminal columns. The CSV files keep full precision; this is only
for reading.
"""

from __future__ import annotations

import math

MISSING = "—"
"""What an unknown (NaN, None, non-numeric) value is written as."""


def finite(x: object) -> bool:
    """Whether ``x`` is a real number that is not NaN."""
    try:
        return not math.isnan(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _fit(text: str, width: int) -> str:
    return text.rjust(width) if width else text


def pct(x: object, digits: int = 1, *, width: int = 0, missing: str = MISSING) -> str:
    """A share (0–1) as a percentage without the sign: ``0.944`` → ``94.4``."""
    return _fit(f"{100 * float(x):.{digits}f}" if finite(x) else missing, width)


def pct_ci(p: object, low: object, high: object, *, width: int = 0, missing: str = MISSING) -> str:
    """A share and its interval in percent, ``94.4 [86.6, 97.8]`` (the estimate alone if none)."""
    if not finite(p):
        return _fit(missing, width)
    if finite(low) and finite(high):
        return f"{pct(p, width=width)} [{pct(low, width=width)}, {pct(high, width=width)}]"
    return pct(p, width=width)


def points_ci(d: object, low: object, high: object, *, width: int = 0) -> str:
    """A difference of shares in signed percentage points, and interval: ``-6.9 [-17.2, +3.3]``."""
    if not finite(d):
        return _fit(MISSING, width)
    text = f"{100 * float(d):+{width}.1f}"
    if finite(low) and finite(high):
        text += f" [{100 * float(low):+{width}.1f}, {100 * float(high):+{width}.1f}]"
    return text


def money(x: object, *, width: int = 0) -> str:
    """Million yen with thousands separators: ``6,713``."""
    return _fit(f"{float(x):,.0f}" if finite(x) else MISSING, width)


def money_ci(x: object, low: object, high: object, *, missing: str = MISSING) -> str:
    """Million yen and an interval that may be unbounded: ``270 [142, 399]``, ``33 [unbounded]``.

    For ratios with Fieller's interval (cost per value-year kept), whose bounds are unknown when
    the denominator cannot be told from zero.
    """
    if not finite(x):
        return missing
    bounds = f"[{money(low)}, {money(high)}]" if finite(low) and finite(high) else "[unbounded]"
    return f"{money(x)} {bounds}"


def number(x: object, digits: int = 4) -> str:
    """Any measure, compactly: thousands separators from 1,000 on, else ``digits`` significant."""
    if not finite(x):
        return MISSING
    v = float(x)
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.{digits}g}"
