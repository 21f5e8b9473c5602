"""Warm worker processes: the model imported and its compiled kernels loaded before any task.

A fresh Python process pays ~3.5 s to import the model (Mesa alone ~2.2 s) and ~0.8 s more the
first time it calls the numba kernels (loading them from the on-disk cache). Paid inside the
first task of every worker, that cost delays every worker's first result and, when tasks are
few, most of the run. So executors start their workers warm:

- the processes executor and a local Dask cluster fork their workers from a multiprocessing
  *forkserver* that has imported this module (``set_forkserver_preload``): the import and the
  warm-up run are paid once, in the server, and every worker forked from it starts warm;
- a worker started otherwise (spawn, where there is no forkserver) imports this module in its
  process-pool initializer, before its first task rather than inside it. (Workers of a remote
  Dask cluster import the model with their first task.)

Importing this module runs :func:`warm` (once per process, like any import): that is what a
forkserver preload can do (it imports modules, it calls nothing). Warming never changes a
result: it simulates one world of the packaged default experiment and keeps nothing but what
Python and numba cache anyway (imported modules, loaded machine code).
"""

from __future__ import annotations

import gc
import os
import sys


def warm() -> None:
    """Import the model and load its compiled kernels in this process.

    Called once per process, on this module's first import. A failure only costs speed — the
    first task then pays what warming would have — so it is reported on standard error, never
    raised.
    """
    # Workers are processes of their own; keep BLAS single-threaded so N workers use N cores.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import numpy as np

        # What every task imports; and what a worker storing its chunk sums and writes it with.
        import wpi_abm.experiment.analysis
        import wpi_abm.experiment.runner
        import wpi_abm.experiment.store  # noqa: F401 (imported for its side: loaded once)
        from wpi_abm.config import load_experiment
        from wpi_abm.sim.model import WPIModel

        exp, _ = load_experiment()
        policy = exp.policies[exp.policy_names[0]]
        # One world over the whole horizon calls every kernel (the reviews and the end of
        # support included), which loads each one's machine code from numba's cache.
        seeds = [np.random.SeedSequence(0)]
        WPIModel(exp.cohort, exp.parameters, policy, exp.horizon, seeds).run()
        # Everything imported so far lives as long as the process: out of the collector's way,
        # so that its full collections during tasks walk only what tasks made (18 chunks of 100
        # runs: 0.36-0.42 s of collection -> 0.16-0.17 s), and, in a forkserver, so that
        # collections in the workers forked from it do not touch (and copy) the shared pages.
        gc.freeze()
    except Exception as exc:  # pragma: no cover - only speed is at stake
        print(f"wpi-abm: warming a worker failed ({type(exc).__name__}: {exc})", file=sys.stderr)


warm()
