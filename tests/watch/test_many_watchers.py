"""1,000 concurrent watchers each receive one transition exactly once."""

from __future__ import annotations

import asyncio

import grpc
from watch_helpers import CONSISTENT, MODIFIED, SYNCED, create

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.apprunner.v1 import connection_service_pb2_grpc as ar_grpc

WATCHERS = 1000
PER_CHANNEL = 100


async def test_a_thousand_watchers_each_see_one_transition_exactly_once(apprunner, control, facade):
    """One handshake completion reaches every watcher once, as the same MODIFIED event."""
    created = await create(apprunner, "watched-by-many")
    channels = [
        grpc.aio.insecure_channel(facade.addresses[0], options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(WATCHERS // PER_CHANNEL)
    ]
    calls = [
        ar_grpc.ConnectionServiceStub(channels[i % len(channels)]).WatchConnections(
            ar.WatchConnectionsRequest(connection_arns=[created.connection_arn], skip_initial_snapshot=True)
        )
        for i in range(WATCHERS)
    ]
    try:
        async with asyncio.timeout(60):
            assert {(await call.read()).type for call in calls} == {SYNCED}
        await control.complete_handshake(created.connection_arn, status="AVAILABLE")
        await apprunner.GetConnection(
            ar.GetConnectionRequest(connection_arn=created.connection_arn), metadata=CONSISTENT
        )  # the store learns of it: one MODIFIED event

        async def next_change(call):
            while (event := await call.read()).type != MODIFIED:
                pass
            return event

        async with asyncio.timeout(60):
            events = await asyncio.gather(*(next_change(call) for call in calls))
        assert len(events) == WATCHERS
        assert {(e.revision, e.connection.status) for e in events} == {
            (events[0].revision, ar.CONNECTION_STATUS_AVAILABLE)
        }
        # exactly once: nothing more is waiting on any stream
        hub = facade.stores["apprunner"]._hub
        assert len(hub) == WATCHERS
        assert all(not w.buffer for w in hub._watchers)
    finally:
        for call in calls:
            call.cancel()
        for channel in channels:
            await channel.close()
