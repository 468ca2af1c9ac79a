"""WaitForConnection: until a connection reaches a status, from the store's events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connfacade.server.domain import ConnectionStatus, Unavailable
from connfacade.server.store._events import EventType

if TYPE_CHECKING:
    from collections.abc import Callable

    from connfacade.server.domain import Connection
    from connfacade.server.store._watch import Watcher

TERMINAL = frozenset({ConnectionStatus.AVAILABLE, ConnectionStatus.ERROR})
_QUIET_WAIT = 3600.0  # seconds between looks at a waiter with nothing to see


async def until_status(
    waiter: Watcher, lookup: Callable[[], Connection | None], statuses: frozenset[ConnectionStatus]
) -> Connection | None:
    """The connection once it is in one of ``statuses``; None if it is (or gets) deleted.

    ``waiter`` is registered before the current state is looked up, so a change
    between the two cannot be missed.
    """
    wanted = statuses or TERMINAL
    current = lookup()
    while True:
        if current is None or current.status is ConnectionStatus.DELETED:
            if ConnectionStatus.DELETED in wanted and current is not None:
                return current
            return None
        if current.status in wanted:
            return current
        batch = await waiter.next_batch(_QUIET_WAIT)
        if waiter.closing:
            raise Unavailable("the server is shutting down; wait again elsewhere")
        if waiter.overflowed:  # fell behind: the store's current state is the truth
            waiter.overflowed = False
            current = lookup()
            continue
        for event in batch or ():
            current = event.connection
            if event.type is EventType.DELETED or current.status in wanted:
                break
