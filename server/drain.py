"""The drain before a stop: new calls are held and then refused with UNAVAILABLE; admitted ones finish.

grpc.aio's ``server.stop()`` ends every call that gRPC's core has accepted but
not yet handed to Python (its queue of pending calls, and any that arrive
before the client has read the server's GOAWAY) with a bare CANCELLED
(grpc/grpc#41785), which no client retries. So the server is not stopped
while calls come in:

1. ``begin()``: every new call is refused, but not at once: it is held, so that
   a client calling in a loop has its one call waiting here instead of a next
   one on the wire (a refusal answered at once would be followed by another
   call, and so on, whatever RetryInfo says).
2. ``settle()``: the calls admitted before finish, and the server waits for a
   short quiet moment in which no call arrives or ends.
3. The server stops (the GOAWAY goes out), and only then ``release()`` answers
   the held calls with UNAVAILABLE, which clients retry; their retries find
   the server gone and go elsewhere, or wait for the restart.

A held call is answered before its own deadline runs out, so that it ends
UNAVAILABLE, not DEADLINE_EXCEEDED. A stream of new callers with no quiet
moment stops the wait after ``QUIET_LIMIT``.

Nothing here knows gRPC: the registry asks ``admit()`` before each handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

QUIET = 0.05  # seconds in which no call arrived or ended: callers are waiting for answers
QUIET_LIMIT = 1.0  # longest wait for such a moment once no admitted call is left
HOLD_MARGIN = 0.05  # seconds before a held call's deadline at which it is answered anyway
RETRY_AFTER = 0.1  # RetryInfo of a refusal: the server is gone by then
ANSWER_TIME = 0.25  # seconds the stop leaves held calls to be answered in, even when the grace is spent
REFUSAL = "the server is shutting down; retry, here after a restart or on another server"


class Drain:
    """Admitted calls counted, and whether new ones are refused."""

    def __init__(self) -> None:
        self.draining = False
        self.in_flight = 0  # admitted calls, unary and streaming, not yet finished
        self.refused = 0
        self._last_activity = 0.0  # while draining: the last arrival or end of a call
        self._idle: asyncio.Event | None = None  # exists only while someone waits for in_flight == 0
        self._released = asyncio.Event()

    def admit(self) -> bool:
        """Counts a call in, or, while draining, refuses it (False)."""
        if self.draining:
            self.refused += 1
            self._last_activity = time.monotonic()
            return False
        self.in_flight += 1
        return True

    def leave(self) -> None:
        """Counts an admitted call out."""
        self.in_flight -= 1
        if self.draining:
            self._last_activity = time.monotonic()
            if self.in_flight == 0 and self._idle is not None:
                self._idle.set()

    async def hold(self, time_remaining: float | None) -> None:
        """Keeps a refused call until ``release()``, or until just before its deadline."""
        budget = None if time_remaining is None else time_remaining - HOLD_MARGIN
        if budget is not None and budget <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(budget):
                await self._released.wait()

    def begin(self) -> None:
        """From now on every new call is held, then refused."""
        self.draining = True
        self._last_activity = time.monotonic()

    def release(self) -> None:
        """Answers every held call, and any that still comes."""
        self._released.set()

    async def settle(self, deadline: float) -> bool:
        """Waits until no admitted call is left and a quiet moment came; False if ``deadline`` came first.

        ``deadline`` is a ``time.monotonic()`` time.
        """
        if self.in_flight:
            self._idle = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(deadline - time.monotonic(), 0.0)):
                    await self._idle.wait()
            self._idle = None
            if self.in_flight:
                return False
        limit = min(deadline, time.monotonic() + QUIET_LIMIT)
        while (quiet_at := self._last_activity + QUIET) > (now := time.monotonic()):
            if now >= limit:
                return False
            await asyncio.sleep(min(quiet_at, limit) - now)
        return True
