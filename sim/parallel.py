"""Worker processes that never outlive the run that started them.

Every process pool of the package comes from :func:`process_pool`. Its workers

- die with the main process however it ends: on Linux the kernel kills a worker the moment its parent dies
  (``PR_SET_PDEATHSIG``), and a watchdog thread in every worker exits within half a second of finding its
  parent gone, so a run stopped with SIGKILL or SIGTERM leaves no worker computing on;
- ignore Ctrl-C (SIGINT reaches the whole process group): the main process handles it, and on any exception,
  Ctrl-C's ``KeyboardInterrupt`` included, kills its workers at once instead of waiting for their tasks.

:class:`Forked` runs a function in a copy of the running process (``os.fork``), with the same guarantees: how a
simulation shares the months its variants have in common. Neither a pool's worker nor a copy sees a Ctrl-C until it
is ready to ignore it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCH_SECONDS = 0.5


def _die_with(parent: int) -> None:
    """Exit this worker as soon as ``parent`` is no longer its parent (it died and the worker was re-parented)."""
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Hold Ctrl-C back from this thread while it forks: a copy inherits the held signal and ignores it before it
    lets it through (:func:`_start_worker`), so no copy ever raises ``KeyboardInterrupt`` half-made (in the
    at-fork hooks, say); this process gets the held Ctrl-C as the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _start_worker(parent: int, initializer: Callable[..., Any] | None, initargs: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
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
    with _ctrl_c_held():
        pool.submit(int)  # starts the workers now (all of them, where they are forked) and the pool's threads
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


def parallel_map(
    fn: Callable[..., Any], *iterables: Iterable[Any], workers: int = 0, pool: Executor | None = None
) -> Iterator[Any]:
    """``map(fn, *iterables)``, results in order: on ``pool`` if given, else on a new :func:`process_pool` of
    ``workers`` processes (0: every core; never more than there are items), or in this process when that is
    one. A generator: the pool it makes lives until the results are consumed."""
    args = [list(it) for it in iterables]
    if pool is not None:
        yield from pool.map(fn, *args)
        return
    workers = min(workers or os.cpu_count() or 1, len(args[0]) if args else 0)
    if workers <= 1:
        yield from map(fn, *args)
        return
    with process_pool(workers) as own:
        yield from own.map(fn, *args)


CAN_FORK = hasattr(os, "fork")


def _run_copy(parent: int, fn: Callable[[], Any], write: int) -> None:
    """In the forked copy: compute, send the pickled outcome down ``write``, and exit without running any cleanup."""
    code = 0
    try:
        _start_worker(parent, None, ())
        payload = pickle.dumps((True, fn()), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # everything, Ctrl-C included, goes back to the parent
        payload, code = pickle.dumps((False, traceback.format_exc())), 1
    with os.fdopen(write, "wb") as pipe:
        pipe.write(payload)
    os._exit(code)


class Forked:
    """A function running in a forked copy of this process, which sees every object as it is at this moment and dies
    with this process (as pool workers do); :meth:`result` waits for its return value. POSIX only: check
    :data:`CAN_FORK`."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        parent = os.getpid()
        read, write = os.pipe()
        with _ctrl_c_held():
            self.pid = os.fork()
            if self.pid == 0:
                os.close(read)
                _run_copy(parent, fn, write)  # never returns
        os.close(write)
        self._read = read
        self.done = False  # reaped: its pid may belong to another process now

    def result(self) -> Any:
        """The function's return value; raises ``RuntimeError`` with the copy's traceback if it raised."""
        with os.fdopen(self._read, "rb") as pipe:
            payload = pipe.read()
        os.waitpid(self.pid, 0)
        self.done = True
        ok, value = pickle.loads(payload) if payload else (False, "the forked process ended without a result")
        if not ok:
            raise RuntimeError(f"a forked simulation failed:\n{value}")
        return value

    def kill(self) -> None:
        """Stop the copy now (the caller is leaving by an exception) and reap it, unless it is done already."""
        if self.done:
            return
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(self._read)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self.done = True
