"""The caseworker pool: individual caseworkers holding cases up to a maximum caseload; beyond it, cases queue.

A ``simpy.Resource`` with thousands of slots is slow (each release scans its users) and cannot say *which*
caseworker holds a case, which the caseworker survey design needs. Here every caseworker has a caseload
counter; a new case goes to the caseworker of a sibling's open case if they have room, else to the least
loaded caseworker (lowest id on ties), else it waits in a first-come-first-served queue.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import simpy


class CaseworkerPool:
    """Caseworkers with caseloads; :meth:`request` returns an event whose value is the caseworker id."""

    def __init__(self, env: simpy.Environment, n: int, max_caseload: int) -> None:
        if n < 1 or max_caseload < 1:
            raise ValueError("a caseworker pool needs at least one caseworker with room for one case")
        self.env = env
        self.max_caseload = max_caseload
        self.load = np.zeros(n, dtype=np.int32)
        self.queue: deque[tuple[simpy.Event, int | None]] = deque()
        self.assigned = 0  # cases handed out in total

    @property
    def n(self) -> int:
        return self.load.shape[0]

    @property
    def open_cases(self) -> int:
        return int(self.load.sum())

    def _assign(self, prefer: int | None) -> int | None:
        if prefer is not None and 0 <= prefer < self.n and self.load[prefer] < self.max_caseload:
            cw = prefer
        else:
            cw = int(np.argmin(self.load))
            if self.load[cw] >= self.max_caseload:
                return None
        self.load[cw] += 1
        self.assigned += 1
        return cw

    def request(self, prefer: int | None = None) -> simpy.Event:
        """An event that succeeds with a caseworker id as soon as one has room (at once if possible)."""
        ev = self.env.event()
        cw = self._assign(prefer) if not self.queue else None
        if cw is None:
            self.queue.append((ev, prefer))
        else:
            ev.succeed(cw)
        return ev

    def cancel(self, ev: simpy.Event) -> None:
        """Withdraw a queued request (the child left before a caseworker was free)."""
        for item in self.queue:
            if item[0] is ev:
                self.queue.remove(item)
                return

    def release(self, cw: int) -> None:
        """A case closed: free the slot and hand it to the first case in the queue."""
        if self.load[cw] <= 0:
            raise RuntimeError(f"caseworker {cw} released a case they did not hold")
        self.load[cw] -= 1
        while self.queue:
            ev, prefer = self.queue.popleft()
            assigned = self._assign(prefer)
            if assigned is None:  # cannot happen after a release, but never lose a request
                self.queue.appendleft((ev, prefer))
                break
            ev.succeed(assigned)
            break

    def grow(self, n: int, max_caseload: int) -> None:
        """Hire caseworkers up to ``n`` (never fewer: a caseworker with cases cannot vanish) and set the
        maximum caseload; freed room goes to the queue first."""
        self.max_caseload = max_caseload
        if n > self.n:
            self.load = np.concatenate([self.load, np.zeros(n - self.n, dtype=np.int32)])
        while self.queue:
            cw = self._assign(self.queue[0][1])
            if cw is None:
                break
            ev, _ = self.queue.popleft()
            ev.succeed(cw)

    def workload(self, cw: int, nominal: float) -> float:
        """Caseworker ``cw``'s caseload relative to ``nominal`` (at least a small positive number)."""
        return max(float(self.load[cw]), 1.0) / nominal
