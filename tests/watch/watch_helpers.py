"""Reading watch streams in tests."""

from __future__ import annotations

import asyncio

from connfacade.apprunner.v1 import connection_service_pb2 as ar

ADDED, MODIFIED, DELETED = ar.EVENT_TYPE_ADDED, ar.EVENT_TYPE_MODIFIED, ar.EVENT_TYPE_DELETED
BOOKMARK, SYNCED = ar.EVENT_TYPE_BOOKMARK, ar.EVENT_TYPE_SYNCED
CONSISTENT = (("x-connfacade-consistent-read", "true"),)


async def create(apprunner, name, provider=ar.PROVIDER_TYPE_GITHUB):
    out = await apprunner.CreateConnection(
        ar.CreateConnectionRequest(connection_name=name, provider_type=provider)
    )
    return out.connection


async def read_until(call, predicate, limit=1000, timeout=10.0):
    """Events from ``call`` up to and including the first that satisfies ``predicate``."""
    events = []
    async with asyncio.timeout(timeout):
        while len(events) < limit:
            event = await call.read()
            events.append(event)
            if predicate(event):
                return events
    raise AssertionError(f"no matching event in {events}")


async def read_n(call, n, timeout=10.0, skip_bookmarks=True):
    """The next ``n`` events (bookmarks skipped by default)."""
    events = []
    async with asyncio.timeout(timeout):
        while len(events) < n:
            event = await call.read()
            if skip_bookmarks and event.type == BOOKMARK:
                continue
            events.append(event)
    return events


def summary(events):
    return [(e.type, e.connection.connection_name) for e in events]
