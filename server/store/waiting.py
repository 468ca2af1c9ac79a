"""WaitForConnection: until a connection reaches a status, from the store's events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connfacade.server.domain import ConnectionStatus, NotFound, Unavailable
from connfacade.server.store.events import EventType

if TYPE_CHECKING:
    from collections.abc import Callable

    from connfacade.server.domain import Connection
    from connfacade.server.store.cache import ConnectionCache
    from connfacade.server.store.watch import WatchFilter

TERMINAL = frozenset({ConnectionStatus.AVAILABLE, ConnectionStatus.ERROR})
_QUIET_WAIT = 3600.0  # seconds between looks at a waiter with nothing to see


async def wait_for(
    cache: ConnectionCache,
    flt: WatchFilter,
    lookup: Callable[[], Connection | None],
    statuses: frozenset[ConnectionStatus],
    *,
    name: str,
    resource_type: str,
) -> Connection:
    """The connection once it is in one of ``statuses``; NOT_FOUND if it is (or gets) deleted.

    The waiter is registered before the current state is read, so a change
    between the two cannot be missed; while it waits the poller runs fast.
    """
    wanted = statuses or TERMINAL
    waiter = cache.hub.open_waiter(flt)
    cache.poller.wake()
    try:
        await cache.read_recorded()
        current = lookup()
        while True:
            if current is None or current.status is ConnectionStatus.DELETED:
                if ConnectionStatus.DELETED in wanted and current is not None:
                    return current
                raise NotFound(
                    f"Connection {name} does not exist", resource_type=resource_type, resource_name=name
                )
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
    finally:
        cache.hub.close(waiter)
