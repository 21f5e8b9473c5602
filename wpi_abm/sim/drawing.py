"""Compiled draws from many worlds' generators at once, each world from its own stream.

A chunk simulates 25 worlds, and each world draws from its own generator of each mechanism
(:mod:`wpi_abm.sim.streams`), so a yearly draw for the chunk was 25 generator calls, each a few
microseconds of Python and numpy set-up around well under a microsecond of arithmetic: about
250 calls a year, a third of a run's time. The loops here make the same draws in one call: for
every world, its generator's next numbers, through the generator's own state (its address, read
once) and numpy's own functions for the next 64 random bits and the next double
(``bit_generator.ctypes``). The distributions are numba's ports of numpy's (``numba.np.random``:
the same algorithms, constants and order of operations), so every number is the one the
generator's own method gives, and the generator's state afterwards is the same
(``tests/test_drawing.py`` checks both, distribution by distribution, over the parameter ranges
where numpy switches algorithm).

Only PCG64 generators are taken (the streams'); every generator of a chunk must be of one kind,
since the loops call one pair of functions for all of them.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import numba
import numpy as np
from numba.core import cgutils, types
from numba.extending import intrinsic
from numba.np.random.distributions import random_binomial, random_normal, random_poisson
from numba.np.random.generator_core import next_double

_jit = numba.njit(cache=True, nogil=True)
_BITGEN = types.NumPyRandomBitGeneratorType("bit_generator")
POISSON_LAM_MAX = np.iinfo(np.int64).max - np.sqrt(np.iinfo(np.int64).max) * 10
"""numpy's largest Poisson mean (``numpy/random/_generator.pyx``)."""


class States:
    """Where the generators' states are, for the compiled loops.

    Args:
        generators: One generator per world, all PCG64. They must outlive this object: the loops
            write to their states in place.

    Attributes:
        addresses: Each generator's state address (uintp).
        functions: numpy's ``next_uint64``, ``next_uint32`` and ``next_double`` for them (uintp).
    """

    def __init__(self, generators: Sequence[np.random.Generator]) -> None:
        self.generators = list(generators)
        bits = [g.bit_generator for g in self.generators]
        if not bits or any(type(b) is not np.random.PCG64 for b in bits):
            raise TypeError("compiled draws take PCG64 generators only")
        self.addresses = np.array([b.ctypes.state_address for b in bits], dtype=np.uintp)
        face = bits[0].ctypes
        self.functions = np.array(
            [ctypes.cast(getattr(face, f), ctypes.c_void_p).value for f in _NEXT], dtype=np.uintp
        )

    def __reduce__(self) -> tuple[type, tuple[list[np.random.Generator]]]:
        # A copy (pickle, deepcopy) finds its own generators' addresses: these are the process's.
        return States, (self.generators,)


_NEXT = ("next_uint64", "next_uint32", "next_double")


@intrinsic
def _bitgen(typingctx, state, functions):
    """The bit-generator struct numba makes when it unboxes one, for the state at ``state``."""
    sig = _BITGEN(types.uintp, functions)

    def codegen(context, builder, signature, args):
        state_value, fns = args
        fns_array = context.make_array(signature.args[1])(context, builder, fns)
        s = cgutils.create_struct_proxy(_BITGEN)(context, builder)
        s.parent = cgutils.get_null_value(context.get_value_type(types.pyobject))
        s.state_address = state_value
        s.state = state_value
        s.bit_generator = context.get_constant(types.uintp, 0)
        for i, name in enumerate(_NEXT):
            ptr = cgutils.gep_inbounds(builder, fns_array.data, i)
            setattr(s, f"fnptr_{name}", builder.load(ptr))
        return s._getvalue()

    return sig, codegen


@_jit
def uniforms(addresses, functions, counts, width):
    """``random((width, counts[w]))`` of every world ``w``, side by side: (width, Σ counts)."""
    total = 0
    for w in range(len(addresses)):
        total += counts[w]
    out = np.empty((width, total))
    start = 0
    for w in range(len(addresses)):
        g = _bitgen(addresses[w], functions)
        for r in range(width):
            for i in range(start, start + counts[w]):
                out[r, i] = next_double(g)
        start += counts[w]
    return out


@_jit
def normals(addresses, functions, loc, scale, k):
    """``normal(loc, scale, k)`` of every world: (worlds, k)."""
    out = np.empty((len(addresses), k))
    for w in range(len(addresses)):
        g = _bitgen(addresses[w], functions)
        for i in range(k):
            out[w, i] = random_normal(g, loc, scale)
    return out


@_jit
def poissons(addresses, functions, lam):
    """``poisson(lam[w])`` of every world ``w`` (lam: worlds × k)."""
    out = np.empty(lam.shape, dtype=np.int64)
    for w in range(lam.shape[0]):
        for i in range(lam.shape[1]):
            x = lam[w, i]
            if not (x >= 0.0 and x <= POISSON_LAM_MAX):
                raise ValueError("a Poisson mean is negative, too large or not a number")
    for w in range(lam.shape[0]):
        g = _bitgen(addresses[w], functions)
        for i in range(lam.shape[1]):
            out[w, i] = random_poisson(g, lam[w, i])
    return out


@_jit
def binomials(addresses, functions, n, p):
    """``binomial(n[w], p[w])`` of every world ``w`` (n, p: worlds × k, element by element)."""
    out = np.empty(n.shape, dtype=np.int64)
    for w in range(n.shape[0]):
        for i in range(n.shape[1]):
            if n[w, i] < 0 or not (p[w, i] >= 0.0 and p[w, i] <= 1.0):
                raise ValueError("a binomial n is negative or a probability is outside [0, 1]")
    for w in range(n.shape[0]):
        g = _bitgen(addresses[w], functions)
        for i in range(n.shape[1]):
            out[w, i] = random_binomial(g, n[w, i], p[w, i])
    return out
