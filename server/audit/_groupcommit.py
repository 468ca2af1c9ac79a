"""Group commit: writers that append at about the same time share one fsync.

A writer joins the open batch and waits for it. The batch's fsync starts as
soon as no other fsync is running — so a lone writer pays one fsync and no
added delay, and writers that append while an fsync runs are covered together
by the next one. If an fsync runs so long that a batch has waited ``interval``,
the batch's fsync starts anyway, alongside: no writer waits more than
``interval`` for its fsync to start. Every fsync starts after every append it
covers, so it makes them durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


class GroupCommit:
    """Batches the calls of ``sync`` for the writers that `join`."""

    def __init__(self, sync: Callable[[], Awaitable[None]], interval: float) -> None:
        self._sync = sync
        self._interval = interval
        self._batch: asyncio.Future[None] | None = None
        self._batch_opened = 0.0
        self._running: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    def join(self) -> asyncio.Future[None]:
        """The batch of everything appended so far; done when an fsync that started after now has ended.

        Await it through `asyncio.shield` — the batch is shared.
        """
        if self._batch is None:
            self._batch = asyncio.get_running_loop().create_future()
            self._batch.add_done_callback(_consume_exception)
            self._batch_opened = time.monotonic()
            self._wake.set()
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._run(), name="audit-group-commit")
        return self._batch

    async def drain(self) -> None:
        """Starts the open batch's fsync now; waits for every running fsync (errors go to their writers)."""
        if self._batch is not None:
            self._start()
        if self._running:
            await asyncio.wait(set(self._running))

    async def aclose(self) -> None:
        """Drains, then stops the batching task."""
        await self.drain()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None

    async def _run(self) -> None:
        while True:
            if self._batch is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._running:
                left = self._batch_opened + self._interval - time.monotonic()
                if left > 0:
                    await asyncio.wait(set(self._running), timeout=left)
                    continue  # an fsync ended (start ours) or the bound passed (start ours anyway)
            self._start()

    def _start(self) -> None:
        batch, self._batch = self._batch, None
        if batch is None:
            return
        task = asyncio.create_task(self._commit(batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _commit(self, batch: asyncio.Future[None]) -> None:
        try:
            await self._sync()
        except asyncio.CancelledError:
            batch.cancel()
            raise
        except Exception as err:  # noqa: BLE001 - every writer of the batch learns of the failure
            if not batch.done():
                batch.set_exception(err)
            return
        if not batch.done():
            batch.set_result(None)


def _consume_exception(batch: asyncio.Future[None]) -> None:
    # The failure reaches the writers that still wait; a batch whose writers
    # were all cancelled must not log "exception was never retrieved".
    if not batch.cancelled():
        batch.exception()
