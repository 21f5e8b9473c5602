"""Compiled draws from many worlds' generators at once, each world from its own stream.

A model simulates 25 worlds or more, and each world draws from its own generator of each mechanism
(:mod:`wpi_abm.sim.streams`), so a yearly draw for 25 worlds was 25 generator calls, each a few
microseconds of Python and numpy set-up around well under a microsecond of arithmetic: about
250 calls a year, a third of a run's time. The loops here make the same draws in one call: for
every world, its generator's next numbers, through the generator's own state and numpy's own
functions for its next random bits and double (read from the generator's ``bitgen_t``, numpy's
interface for compiled code). The distributions are numba's ports of numpy's (``numba.np.random``:
the same algorithms, constants and order of operations), so every number is the one the
generator's own method gives, and the generator's state afterwards is the same
(``tests/test_drawing.py`` checks both, distribution by distribution, over the parameter ranges
where numpy switches algorithm).

Any of numpy's bit generators will do (the streams' are PCG64): each world's functions are read
from its own generator.
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

# The GIL stays held: numpy serialises a generator's use with its lock, which these loops do not
# take; holding the GIL keeps one generator from being drawn by two threads at once all the same.
_jit = numba.njit(cache=True)
_BITGEN = types.NumPyRandomBitGeneratorType("bit_generator")
POISSON_LAM_MAX = np.iinfo(np.int64).max - np.sqrt(np.iinfo(np.int64).max) * 10
"""numpy's largest Poisson mean (``numpy/random/_generator.pyx``)."""


_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


class States:
    """Where the generators' bit generators are, for the compiled loops.

    Each address is that of numpy's ``bitgen_t`` of one generator (``bit_generator.capsule``,
    numpy's interface for compiled code): the state's address, then the functions for the next
    64 bits, 32 bits and double, which the loops read from it. (``bit_generator.ctypes`` gives the
    same, but builds a ctypes interface per generator: 20 µs each, 5 ms for a chunk's 225.)

    The addresses are raw pointers: they are only ever handed to the loops together with this
    object, which holds the generators (a bare address array would outlive them). The functions
    below take a ``States`` for that reason, and check their arguments' shapes (numba does not
    check bounds).

    Args:
        generators: One generator per world.

    Attributes:
        generators: The generators (a tuple: replacing one would free what an address points to).
        addresses: Each generator's ``bitgen_t`` address (uintp, read-only).
    """

    def __init__(self, generators: Sequence[np.random.Generator]) -> None:
        self.generators = tuple(generators)
        self.addresses = np.array(
            [_capsule_pointer(g.bit_generator.capsule, b"BitGenerator") for g in self.generators],
            dtype=np.uintp,
        )
        self.addresses.flags.writeable = False

    def __len__(self) -> int:
        return len(self.generators)

    def __reduce__(self) -> tuple[type, tuple[tuple[np.random.Generator, ...]]]:
        # A copy (pickle, deepcopy) finds its own generators' addresses: these are the process's.
        return States, (self.generators,)


def uniforms(states: States, counts: np.ndarray, width: int = 1) -> np.ndarray:
    """``random((width, counts[w]))`` of every world ``w``, side by side: (width, Σ counts)."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    if counts.shape != (len(states),) or (counts < 0).any() or width < 0:
        raise ValueError("uniform draws need one non-negative count per world")
    return _uniforms(states.addresses, counts, int(width))


def normals(states: States, loc: float, scale: float, k: int) -> np.ndarray:
    """``normal(loc, scale, k)`` of every world: (worlds, k)."""
    if np.signbit(scale) or not scale >= 0.0:
        raise ValueError("a normal scale is negative or not a number")
    if k < 0:
        raise ValueError("negative number of normal draws")
    return _normals(states.addresses, float(loc), float(scale), int(k))


def poissons(states: States, lam: np.ndarray) -> np.ndarray:
    """``poisson(lam[w])`` of every world ``w`` (``lam``: worlds × k)."""
    lam = np.ascontiguousarray(lam, dtype=float)
    if lam.ndim != 2 or lam.shape[0] != len(states):
        raise ValueError("Poisson means need one row per world")
    return _poissons(states.addresses, lam)


def binomials(states: States, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``binomial(n[w], p[w])`` of every world ``w`` (worlds × k each, element by element).

    ``n`` must cast safely to int64 (as numpy requires); ``p`` is broadcast against it.
    """
    n = np.asarray(n)
    if not np.can_cast(n.dtype, np.int64, "safe"):
        raise TypeError("binomial trials must be integers (castable to int64)")
    n, p = np.broadcast_arrays(n, np.asarray(p, dtype=float))
    if n.ndim != 2 or n.shape[0] != len(states):
        raise ValueError("binomial trials need one row per world")
    n = np.ascontiguousarray(n, dtype=np.int64)
    return _binomials(states.addresses, n, np.ascontiguousarray(p))


@intrinsic
def _bitgen(typingctx, address):
    """The bit-generator struct numba makes when it unboxes one, from a ``bitgen_t`` address."""
    sig = _BITGEN(types.uintp)

    def codegen(context, builder, signature, args):
        # bitgen_t (numpy/random/bitgen.h): state, next_uint64, next_uint32, next_double, ...,
        # each a pointer.
        word = context.get_value_type(types.uintp)
        fields = builder.inttoptr(args[0], word.as_pointer())
        s = cgutils.create_struct_proxy(_BITGEN)(context, builder)
        s.parent = cgutils.get_null_value(context.get_value_type(types.pyobject))
        state = builder.load(cgutils.gep_inbounds(builder, fields, 0))
        s.state_address = state
        s.state = state
        s.bit_generator = args[0]
        for i, name in enumerate(("next_uint64", "next_uint32", "next_double"), 1):
            setattr(s, f"fnptr_{name}", builder.load(cgutils.gep_inbounds(builder, fields, i)))
        return s._getvalue()

    return sig, codegen


@_jit
def _uniforms(addresses, counts, width):
    """``random((width, counts[w]))`` of every world ``w``, side by side: (width, Σ counts)."""
    total = 0
    for w in range(len(addresses)):
        total += counts[w]
    out = np.empty((width, total))
    start = 0
    for w in range(len(addresses)):
        g = _bitgen(addresses[w])
        for r in range(width):
            for i in range(start, start + counts[w]):
                out[r, i] = next_double(g)
        start += counts[w]
    return out


@_jit
def _normals(addresses, loc, scale, k):
    """``normal(loc, scale, k)`` of every world: (worlds, k)."""
    out = np.empty((len(addresses), k))
    for w in range(len(addresses)):
        g = _bitgen(addresses[w])
        for i in range(k):
            out[w, i] = random_normal(g, loc, scale)
    return out


@_jit
def _poissons(addresses, lam):
    """``poisson(lam[w])`` of every world ``w`` (lam: worlds × k)."""
    out = np.empty(lam.shape, dtype=np.int64)
    for w in range(lam.shape[0]):
        for i in range(lam.shape[1]):
            x = lam[w, i]
            if not (x >= 0.0 and x <= POISSON_LAM_MAX):
                raise ValueError("a Poisson mean is negative, too large or not a number")
    for w in range(lam.shape[0]):
        g = _bitgen(addresses[w])
        for i in range(lam.shape[1]):
            out[w, i] = random_poisson(g, lam[w, i])
    return out


@_jit
def _binomials(addresses, n, p):
    """``binomial(n[w], p[w])`` of every world ``w`` (n, p: worlds × k, element by element)."""
    out = np.empty(n.shape, dtype=np.int64)
    for w in range(n.shape[0]):
        for i in range(n.shape[1]):
            if n[w, i] < 0 or not (p[w, i] >= 0.0 and p[w, i] <= 1.0):
                raise ValueError("a binomial n is negative or a probability is outside [0, 1]")
    for w in range(n.shape[0]):
        g = _bitgen(addresses[w])
        for i in range(n.shape[1]):
            out[w, i] = random_binomial(g, n[w, i], p[w, i])
    return out
