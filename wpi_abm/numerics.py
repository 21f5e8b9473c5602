"""Small numeric helpers for the yearly hot path.

``np.clip`` and ``np.errstate`` cost tens of microseconds per call on the short per-centre arrays
of a run (Python-level overhead), which adds up over thousands of calls; these do the same in a
couple of ufunc calls.
"""

from __future__ import annotations

import numpy as np


def clip(x: np.ndarray | float, lo: float, hi: float) -> np.ndarray:
    """``x`` limited to [lo, hi]."""
    return np.minimum(np.maximum(x, lo), hi)


def ratio(num: np.ndarray, den: np.ndarray, default: float = 0.0) -> np.ndarray:
    """``num / den`` where ``den > 0``, else ``default`` (no warnings, no NaN)."""
    out = np.full(np.shape(den), default, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out
