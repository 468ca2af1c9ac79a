"""WaitForConnection: returns on the status, at once if there, NOT_FOUND, deadline."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from watch_helpers import create

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.codestar.v1 import connection_service_pb2 as cs
from connfacade.server.store import PollIntervals, StoreSettings

FAST = 0.1


@pytest.fixture
def store_settings():
    # A slow poller: only a waiter can make it fast.
    return StoreSettings(intervals=PollIntervals(fast=FAST, slow=3600.0, jitter=0.0))


async def test_returns_when_the_handshake_completes(apprunner, control, facade):
    """A waiter returns AVAILABLE once the poller (fast while it waits) sees the handshake."""
    created = await create(apprunner, "wait-for-me")
    waiting = asyncio.ensure_future(
        apprunner.WaitForConnection(
            ar.WaitForConnectionRequest(
                connection_arn=created.connection_arn, statuses=[ar.CONNECTION_STATUS_AVAILABLE]
            ),
            timeout=30,
        )
    )
    await asyncio.sleep(FAST)
    assert not waiting.done()
    await control.complete_handshake(created.connection_arn, status="AVAILABLE")
    got = await waiting
    assert got.connection.status == ar.CONNECTION_STATUS_AVAILABLE


async def test_waiting_by_name_works_for_app_runner(apprunner, control):
    """App Runner waiters may name the connection instead."""
    created = await create(apprunner, "named-wait")
    waiting = asyncio.ensure_future(
        apprunner.WaitForConnection(ar.WaitForConnectionRequest(connection_name="named-wait"), timeout=30)
    )
    await control.complete_handshake(created.connection_arn, status="ERROR")
    assert (await waiting).connection.status == ar.CONNECTION_STATUS_ERROR  # default: AVAILABLE or ERROR


async def test_returns_at_once_when_already_there(apprunner):
    """Asking for the status a connection already has answers immediately."""
    created = await create(apprunner, "already-pending")
    got = await apprunner.WaitForConnection(
        ar.WaitForConnectionRequest(
            connection_arn=created.connection_arn, statuses=[ar.CONNECTION_STATUS_PENDING_HANDSHAKE]
        ),
        timeout=5,
    )
    assert got.connection.connection_arn == created.connection_arn


async def test_unknown_connection_is_not_found(codestar):
    """Waiting for a connection that does not exist is NOT_FOUND."""
    arn = (
        "arn:aws:codestar-connections:us-east-1:123456789012:connection/7c2d9c53-fe1b-4d6e-a4cd-9f2a1f0c0f61"
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await codestar.WaitForConnection(cs.WaitForConnectionRequest(connection_arn=arn), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_deleted_while_waiting_is_not_found(apprunner):
    """A connection deleted during the wait ends it with NOT_FOUND."""
    created = await create(apprunner, "doomed-wait")
    waiting = asyncio.ensure_future(
        apprunner.WaitForConnection(
            ar.WaitForConnectionRequest(connection_arn=created.connection_arn), timeout=30
        )
    )
    await asyncio.sleep(FAST)
    await apprunner.DeleteConnection(ar.DeleteConnectionRequest(connection_arn=created.connection_arn))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await waiting
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_waiting_for_deleted_returns_the_deleted_connection(apprunner):
    """With DELETED among the statuses, a deletion is the answer."""
    created = await create(apprunner, "wait-deletion")
    waiting = asyncio.ensure_future(
        apprunner.WaitForConnection(
            ar.WaitForConnectionRequest(
                connection_arn=created.connection_arn, statuses=[ar.CONNECTION_STATUS_DELETED]
            ),
            timeout=30,
        )
    )
    await asyncio.sleep(FAST)
    await apprunner.DeleteConnection(ar.DeleteConnectionRequest(connection_arn=created.connection_arn))
    assert (await waiting).connection.status == ar.CONNECTION_STATUS_DELETED


async def test_the_callers_deadline_is_honoured(apprunner, facade):
    """With nothing happening, the call ends at its deadline and the waiter is gone."""
    created = await create(apprunner, "never-ready")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.WaitForConnection(
            ar.WaitForConnectionRequest(connection_arn=created.connection_arn), timeout=0.5
        )
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    hub = facade.stores["apprunner"]._hub
    async with asyncio.timeout(5):
        while hub.waiters:
            await asyncio.sleep(0.01)


async def test_a_waiter_makes_the_poller_fast(apprunner, control, facade):
    """With no pending connection the poller is slow; a waiter switches it to the fast interval."""
    created = await create(apprunner, "fast-please")
    await control.complete_handshake(created.connection_arn, status="AVAILABLE")
    await apprunner.ListConnections(
        ar.ListConnectionsRequest(), metadata=(("x-connfacade-consistent-read", "true"),)
    )
    await control.clear_requests()
    waiting = asyncio.ensure_future(
        apprunner.WaitForConnection(
            ar.WaitForConnectionRequest(
                connection_arn=created.connection_arn, statuses=[ar.CONNECTION_STATUS_ERROR]
            ),
            timeout=30,
        )
    )
    async with asyncio.timeout(10):
        while len(await control.requests(operation="ListConnections", service="apprunner")) < 3:
            await asyncio.sleep(FAST)
    waiting.cancel()


class TestWaiterCap:
    @pytest.fixture
    def store_settings(self):
        return StoreSettings(poll=False, max_watchers=1)

    async def test_waits_beyond_the_cap_are_refused_but_other_calls_still_answer(self, apprunner, facade):
        """Waits are capped like watch streams: a second concurrent wait is RESOURCE_EXHAUSTED."""
        created = await create(apprunner, "capped-wait")
        request = ar.WaitForConnectionRequest(connection_arn=created.connection_arn)
        first = asyncio.ensure_future(apprunner.WaitForConnection(request, timeout=30))
        hub = facade.stores["apprunner"]._hub
        while hub.waiters < 1:  # the first wait is registered once the hub counts it
            await asyncio.sleep(0.01)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await apprunner.WaitForConnection(request, timeout=30)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        await apprunner.ListConnections(ar.ListConnectionsRequest())
        first.cancel()
