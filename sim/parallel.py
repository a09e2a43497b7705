"""Worker processes that never outlive the run that started them.

Every process pool of the package comes from :func:`process_pool`. Its workers

- die with the main process however it ends: on Linux the kernel kills a worker the moment its parent dies
  (``PR_SET_PDEATHSIG``), and a watchdog thread in every worker exits within half a second of finding its
  parent gone, so a run stopped with SIGKILL or SIGTERM leaves no worker computing on;
- ignore Ctrl-C (SIGINT reaches the whole process group): the main process handles it, and on any exception,
  Ctrl-C's ``KeyboardInterrupt`` included, kills its workers at once instead of waiting for their tasks.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCH_SECONDS = 0.5


def _die_with(parent: int) -> None:
    """Exit this worker as soon as ``parent`` is no longer its parent (it died and the worker was re-parented)."""
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def _start_worker(parent: int, initializer: Callable[..., Any] | None, initargs: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=_die_with, args=(parent,), name="die-with-parent", daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


@contextlib.contextmanager
def process_pool(
    workers: int, initializer: Callable[..., Any] | None = None, initargs: tuple = ()
) -> Iterator[ProcessPoolExecutor]:
    """A process pool of ``workers`` processes that die with this one. Leaving the block normally waits for the
    tasks; leaving it by an exception (Ctrl-C included) kills the workers at once."""
    pool = ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=(os.getpid(), initializer, initargs)
    )
    try:
        yield pool
    except BaseException:
        # Kill the workers now rather than wait for their tasks; the pool then reaps them (reaping them here would
        # leave its manager thread waiting for processes it can no longer see end).
        for process in list((pool._processes or {}).values()):
            with contextlib.suppress(OSError):
                process.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
