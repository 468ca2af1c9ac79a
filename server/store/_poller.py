"""One poller per store: keeps it current at a cost independent of the callers."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from connfacade.server.domain import DomainError

if TYPE_CHECKING:
    from collections.abc import Callable

    from connfacade.server.store._singleflight import SingleFlight
    from connfacade.server.store._table import Table

log = structlog.get_logger("connfacade.poller")


@dataclass(frozen=True, slots=True)
class PollIntervals:
    """Seconds between polls; see docs/store.md."""

    fast: float = 2.0  # while someone waits or watches, and for a while after a pending connection changed
    slow: float = 15.0  # otherwise
    jitter: float = 0.1  # ± fraction of the interval
    max_backoff: float = 60.0  # cap of the exponential backoff after failures
    # How long a pending connection that appeared or changed keeps the fast interval
    # by itself: a handshake nobody waits for may never come.
    pending_window: float = 600.0


class Poller:
    """Refreshes ``store`` through ``refresh`` (the store's single flight).

    A refresh made for a reader counts as a poll, so readers and the poller
    never both call AWS for the same freshness. It polls fast while
    ``attended()`` (someone waits for or watches a connection's handshake),
    and for ``pending_window`` after `pending_changed`, if a connection is
    still pending then; slow otherwise.
    """

    def __init__(
        self,
        store: Table,
        refresh: SingleFlight[None],
        intervals: PollIntervals,
        *,
        attended: Callable[[], bool] = lambda: False,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._refresh = refresh
        self.intervals = intervals
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._attended = attended
        self._pending_changed_at: float | None = None
        self.failures = 0
        self._last_attempt: float | None = None

    def interval(self) -> float:
        """The next wait: fast, slow or backing off, with jitter."""
        fast = self._attended() or (self._pending_recently() and self._store.has_pending())
        base = self.intervals.fast if fast else self.intervals.slow
        if self.failures:
            base = min(self.intervals.max_backoff, self.intervals.fast * 2**self.failures)
        return base * (1 + self._rng.uniform(-self.intervals.jitter, self.intervals.jitter))

    def _pending_recently(self) -> bool:
        changed = self._pending_changed_at
        return changed is not None and self._clock() - changed <= self.intervals.pending_window

    def pending_changed(self) -> None:
        """A pending connection appeared or changed: the fast interval for the pending window, from now."""
        self._pending_changed_at = self._clock()
        self.wake()

    def start(self) -> None:
        """Starts polling now (the first poll warms the store)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._loop(), name=f"poller-{self._store.service}"
            )

    def wake(self) -> None:
        """Re-evaluates the interval now (a waiter or watcher arrived)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stops polling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await self._until_due()
            await self.poll_once()

    async def _until_due(self) -> None:
        interval = self.interval()
        while True:
            # After a failure, wait from the failed attempt; otherwise from the
            # last good listing, whoever made it (a reader's refresh counts).
            anchor = self._last_attempt if self.failures else self._store.synced_at
            if anchor is None:
                return
            due = anchor + interval - self._clock()
            if due <= 0:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=due)
                interval = self.interval()  # woken: a waiter or a change may want the fast interval

    async def poll_once(self) -> None:
        """One poll; failures are logged and back off, never raised."""
        self._last_attempt = self._clock()
        try:
            await self._refresh.do()
        except DomainError as err:
            self.failures += 1
            log.warning(
                "poll.failed",
                service=self._store.service.value,
                error=err.message,
                aws_code=err.aws_code,
                failures=self.failures,
            )
        except Exception:  # a bug (an answer AWS never gave before) must not end polling
            self.failures += 1
            log.exception("poll.internal_error", service=self._store.service.value, failures=self.failures)
        else:
            self.failures = 0
