"""A local Dask cluster's workers leave Ctrl-C to the command that started them.

Ctrl-C in a terminal reaches every process of the command's group: the driver, which stops the
run and closes the cluster, and each local worker, which would print a ``KeyboardInterrupt``
traceback from deep in Dask's event loop (one per worker) before the command says that it was
interrupted and how to continue. A local cluster's workers preload this module
(``LocalCluster(preload=...)``), which makes them ignore SIGINT; the driver's closing of the
cluster ends them. Only for local clusters: a worker started by hand or by a batch system stops
on Ctrl-C as usual.
"""

from __future__ import annotations

import signal
import threading
from typing import Any


def dask_setup(worker: Any) -> None:
    """Dask's preload hook, run in each worker process as it starts: ignore SIGINT."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
