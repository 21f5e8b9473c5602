"""Exponentials, logarithms and powers round the same on every x86-64 CPU (sim/elementary.py).

numpy computes ``exp``, ``log`` and ``power`` with its own AVX-512 code where the CPU has it and
with the C library elsewhere; the two differ in the last bit. The simulation's functions must be
the C library's on every CPU: the same bits as numpy without AVX-512, whatever this CPU has.
numpy is told not to use AVX-512 by ``NPY_DISABLE_CPU_FEATURES`` (read once, at import), so its
values come from a second interpreter. On a CPU without AVX-512 both sides are the C library's
anyway: there these tests pass whatever the simulation calls, and only a machine with AVX-512
(such as the development machine from 2026-12-02) catches an ``np.exp`` brought back.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

from wpi_abm.sim import elementary

# numpy's groups of AVX-512 code (numpy 2.5 on x86-64); a group this CPU lacks is ignored.
NO_AVX512 = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}
# Another CPU: numpy without AVX2 either, OpenBLAS's kernels for Intel's Haswell, numba's code
# for a generic x86-64 (compiled anew into a cache of its own). OpenBLAS's kernels for CPUs
# without fused multiply-adds (Nehalem, before 2013) round the committee's score differently.
OTHER_CPU = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
    "OPENBLAS_CORETYPE": "Haswell",
    "NUMBA_CPU_NAME": "generic",
}
TESTS = Path(__file__).parent

x86_only = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64"), reason="numpy's x86-64 feature names"
)


def _arguments() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20261202)
    edges = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-310, 1e308, 709.9, -745.0]
    return {
        "x": np.concatenate([rng.uniform(-40, 40, 20_000), rng.lognormal(0, 3, 20_000), edges]),
        "positive": np.concatenate([rng.lognormal(0, 2, 40_000), [0.0, 1e-310, np.inf]]),
        "years": np.arange(-1.0, 40.0),
    }


EXPONENTS = (2.0, 0.5, -1.0, 1.0, 0.0, 0.1, 0.2, 3.0, -0.5, 1.7)

NUMPY_SIDE = """
import json, sys
import numpy as np
args = {k: np.array(v) for k, v in json.loads(sys.stdin.read()).items()}
x, pos, years = args["x"], args["positive"], args["years"]
with np.errstate(all="ignore"):
    out = {"exp": np.exp(x), "log": np.log(pos), "grant_index": 0.9923 ** years}
    for e in EXPONENTS:
        out[f"power {e}"] = pos ** e
    out["scalar pow"] = np.array([np.float64(b) ** e for b in pos[:500] for e in EXPONENTS])
umath = np._core._multiarray_umath  # the groups of CPU code numpy runs (np.show_runtime's "found")
found = [f for f in umath.__cpu_dispatch__ if umath.__cpu_features__.get(f)]
print(json.dumps({"found": found, "bits": {k: v.view(np.int64).tolist() for k, v in out.items()}}))
""".replace("EXPONENTS", repr(EXPONENTS))


def _bits(values: np.ndarray) -> list[int]:
    return np.asarray(values, dtype=float).view(np.int64).tolist()


@x86_only
def test_elementary_functions_are_numpys_without_avx512_bit_for_bit():
    args = _arguments()
    text = json.dumps({k: v.tolist() for k, v in args.items()})
    env = dict(os.environ, **NO_AVX512)
    res = subprocess.run(
        [sys.executable, "-c", NUMPY_SIDE], input=text, env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    child = json.loads(res.stdout)
    # The setting took: the child runs none of numpy's AVX-512 code.
    assert not set(child["found"]) & set(NO_AVX512["NPY_DISABLE_CPU_FEATURES"].split())
    numpy_side = child["bits"]
    x, pos, years = args["x"], args["positive"], args["years"]
    with np.errstate(all="ignore"):
        ours = {"exp": elementary.exp(x), "log": elementary.log(pos)}
        ours["grant_index"] = elementary.pow(0.9923, years)
        for e in EXPONENTS:
            ours[f"power {e}"] = elementary.power(pos, e)
        ours["scalar pow"] = [elementary.pow(b, e) for b in pos[:500] for e in EXPONENTS]
    differ = {k: int(np.sum(np.array(_bits(v)) != numpy_side[k])) for k, v in ours.items()}
    assert differ == dict.fromkeys(ours, 0)


def test_elementary_functions_take_scalars_arrays_and_broadcast():
    assert elementary.exp(0.0) == 1.0
    assert elementary.log(np.e) == 1.0
    assert elementary.pow(2.0, 10) == 1024.0
    assert elementary.power(np.array([3.0]), 2.0).tolist() == [9.0]
    assert elementary.power(np.array([4.0]), 0.5).tolist() == [2.0]
    assert elementary.power(np.array([4.0]), -1.0).tolist() == [0.25]
    grid = elementary.pow(np.array([[0.5], [2.0]]), np.array([1.0, 2.0, 3.0]))
    assert grid.tolist() == [[0.5, 0.25, 0.125], [2.0, 4.0, 8.0]]
    assert elementary.exp(np.arange(3)).dtype == np.float64
    assert elementary.power(np.arange(3), 2.0).dtype == np.float64  # as numpy: ints to floats


def test_power_of_a_scalar_is_pow_as_in_numpy():
    # numpy's exact shortcuts are for arrays; a numpy float ** 2.0 calls pow. Some of these
    # arguments round differently the two ways, so taking the shortcut would fail here.
    xs = np.random.default_rng(5).lognormal(0.0, 2.0, 2000)
    for e in (2.0, 0.5, -1.0):
        squares = [elementary.power(np.float64(x), e) for x in xs]
        assert squares == [elementary.pow(x, e) for x in xs]
        shortcut = elementary.power(xs, e)
        assert sum(a != b for a, b in zip(shortcut.tolist(), squares, strict=True)) > 0


def test_numba_calls_the_c_library_not_intels_vector_maths():
    # With SVML, numba would compile math.exp into Intel's vectorised approximations: other bits.
    assert not numba.config.USING_SVML


@pytest.mark.slow
@x86_only
def test_results_are_the_same_bits_on_another_cpu(tmp_path):
    """Every column of the digest experiment, bit for bit, as another CPU would compute it."""
    digest = [sys.executable, str(TESTS / "digest.py"), "--exact"]
    here = subprocess.run(digest, capture_output=True, text=True)
    assert here.returncode == 0, here.stderr
    env = dict(os.environ, **OTHER_CPU, NUMBA_CACHE_DIR=str(tmp_path))
    other = subprocess.run(digest, capture_output=True, text=True, env=env)
    assert other.returncode == 0, other.stderr
    mine, theirs = json.loads(here.stdout), json.loads(other.stdout)
    moved = sorted(
        f"{t}.{c}" for t in mine for c in mine[t] if mine[t][c] != theirs.get(t, {}).get(c)
    )
    assert not moved, f"these columns depend on the CPU: {moved}"
