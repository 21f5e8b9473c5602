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


# A world must come out the same alone as in a batch of worlds. numpy computes some operations by
# another algorithm when an array has a single row or column, which rounds differently: a
# one-row matrix product is a dot product (two or more rows: OpenBLAS's gemv, with fused
# multiply-adds), and a sum over the rows of a single column is pairwise (two or more columns:
# row after row). A model of one world of one centre, or a lone world's one-row matrix, would
# then differ in the last bit from the same world among others, and a tie (a budget exactly
# meeting a cost) can turn on that bit. These two compute every shape the way numpy computes
# two or more.


def matvec(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``a @ v`` for a (rows, k) matrix, each row's float the same for any number of rows."""
    if a.shape[0] == 1:
        return (np.concatenate((a, a)) @ v)[:1]
    return a @ v


def column_sums(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=0)`` of a (rows, columns) array, added row after row for any column count."""
    if x.ndim == 2 and x.shape[1] == 1 and len(x) > 1:
        return np.cumsum(x, axis=0)[-1]
    return x.sum(axis=0)


def column_means(x: np.ndarray) -> np.ndarray:
    """``x.mean(axis=0)`` from :func:`column_sums` (numpy divides its sum by the count)."""
    return column_sums(x) / len(x) if len(x) else x.mean(axis=0)
