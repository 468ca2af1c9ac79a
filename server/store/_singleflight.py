"""One upstream call for every concurrent caller that needs the same thing."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Generic, TypeVar

from connfacade.server import callcontext

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """Runs ``fn`` once for all callers that arrive while it runs.

    A caller that needs a result from after a moment (``not_before``, e.g. a
    consistent read that must see writes before it arrived) does not join a
    flight that started earlier; it waits for the next one.

    A flight serves every caller, so it runs without the deadline of the
    caller that started it (see `callcontext.shared`); callers bound their
    own waits.
    """

    def __init__(self, fn: Callable[[], Awaitable[T]], clock: Callable[[], float] = time.monotonic) -> None:
        self._fn = fn
        self._clock = clock
        self._task: asyncio.Task[T] | None = None
        self._started = 0.0
        self._call = callcontext.CallContext(request_id="")
        self.flights = 0

    @property
    def in_flight(self) -> bool:
        """Whether a call is running now."""
        return self._task is not None and not self._task.done()

    async def do(self, *, not_before: float | None = None) -> T:
        """The result of the running flight, or of a new one."""
        while self._task is not None and not self._task.done():
            if not_before is None or self._started >= not_before:
                return await self._join(self._task, self._call)
            # Too old for this caller: let it finish, then start afresh.
            await asyncio.wait([self._task])
        self._started = self._clock()
        self.flights += 1
        context, self._call = callcontext.shared()
        self._task = asyncio.get_running_loop().create_task(self._run(), context=context)
        return await self._join(self._task, self._call)

    @staticmethod
    async def _join(task: asyncio.Task[T], call: callcontext.CallContext) -> T:
        # Shielded: a caller that stops waiting must not cancel the others' flight.
        try:
            return await asyncio.shield(task)
        finally:
            # Every caller that waited for AWS learns the id of the call made for it.
            callcontext.record_aws_request_id(call.aws_request_id)

    async def _run(self) -> T:
        return await self._fn()

    async def cancel(self) -> None:
        """Stops a running flight (at shutdown)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
