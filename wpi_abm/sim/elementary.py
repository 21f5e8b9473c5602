"""Exponentials, logarithms and powers that round the same whatever numpy's choice of CPU code.

numpy chooses how to compute ``exp``, ``log`` and ``power`` by the processor it runs on: on a CPU
with AVX-512 it uses its own vectorised approximations, elsewhere it calls the C library. The two
differ in the last bit for a few percent of arguments (measured with numpy 2.5 on an AVX-512 AMD
EPYC: ``exp`` 4.7%, ``log`` 0.2%, ``x ** 0.1`` 4.5% of 200,000 arguments uniform on 0.01–5,
compared with ``math.exp``, ``math.log``, ``math.pow``), and a simulation carries
such a bit into the books and the panel: results written on one machine would differ from those
written on another, and the recorded digest (``tests/data/digest.json``) would fail on one of them.

The functions here always call the C library (compiled loops calling ``exp``, ``log`` and ``pow``),
with numpy's own exact shortcuts for ``array ** scalar``, so they return, bit for bit, what numpy
returns on a CPU without AVX-512 — the values this tool has always recorded. Every exponential,
logarithm and power the simulation computes goes through them; the arguments are small (a
centre per world, the year's hires), so the loops' speed (a few µs a call, a few times numpy's per
element) does not matter. Functions computed exactly by IEEE arithmetic (``sqrt``, division) are
the same everywhere and stay in numpy.

The C library has choices of its own: glibc (2.28 and later) runs one build of ``exp``, ``log``
and ``pow`` on CPUs with AVX2 and FMA (x86-64 since 2013–2015, but not every later low-end chip
or virtual CPU model) and another elsewhere, and those differ in the last bit for ~0.1% of
arguments (measured with ``GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA``); other C libraries
(musl, macOS, Windows) were not compared. So results are the same bits on x86-64 Linux machines
with AVX2 and FMA, which is what docs/ODD.md §4 claims.

Numba must not substitute Intel's vector maths library (SVML) for the C library:
``numba.config.USING_SVML`` is false unless the ``intel-cmplr-lib-rt`` package is installed, which
the lock file does not ask for (a test checks).
"""

from __future__ import annotations

import math

import numba
import numpy as np

# Compiled loops, not numba ufuncs (``numba.vectorize``): a ufunc is built when its module is
# imported, ~45 ms each even from the cache, where a compiled function loads on its first call
# in ~3 ms.
_jit = numba.njit(cache=True, nogil=True)


@_jit
def _exp_or_log(x: np.ndarray, log: bool) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = math.log(x[i]) if log else math.exp(x[i])
    return out


@_jit
def _pow(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = math.pow(x[i], y[i])
    return out


def _shaped(out: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``out`` in ``shape``; a scalar as a numpy float, as a ufunc returns it."""
    return out.reshape(shape) if shape else out[0]


def exp(x: np.ndarray | float) -> np.ndarray:
    """``e ** x``, elementwise (the C library's ``exp``)."""
    a = np.asarray(x, dtype=float)
    return _shaped(_exp_or_log(a.ravel(), False), a.shape)


def log(x: np.ndarray | float) -> np.ndarray:
    """Natural logarithm, elementwise (the C library's ``log``)."""
    a = np.asarray(x, dtype=float)
    return _shaped(_exp_or_log(a.ravel(), True), a.shape)


def pow(x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
    """``x ** y``, elementwise, broadcasting (the C library's ``pow``).

    What numpy computes for ``scalar ** array``, ``array ** array`` and numpy scalars. A scalar
    side is spread over the other's shape (a copy: the arrays here are small).
    """
    a, b = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return _shaped(_pow(a.ravel(), b.ravel()), a.shape)


def power(x: np.ndarray, exponent: float) -> np.ndarray:
    """``x ** exponent`` for an array and one exponent, as numpy computes ``array ** scalar``.

    numpy computes squares, square roots and reciprocals of an array exactly instead of calling
    ``pow`` (they can differ from ``pow`` in the last bit); this does the same, so that every
    value is numpy's. A scalar ``x`` (a Python or numpy float) takes ``pow``, as numpy does.
    """
    if not isinstance(x, np.ndarray):
        return pow(x, exponent)
    x = x.astype(float, copy=False)
    e = float(exponent)
    if e == 2.0:
        return np.square(x)
    if e == 0.5:
        return np.sqrt(x)
    if e == -1.0:
        return np.reciprocal(x)
    return pow(x, e)
