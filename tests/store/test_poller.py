"""The poller: one per store, fast while pending, backs off when AWS fails."""

from __future__ import annotations

import asyncio
import time

import pytest

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.server.domain import Service
from connfacade.server.store import MemoryStore, PollIntervals, StoreSettings

FAST = 0.1


@pytest.fixture
def store_settings():
    return StoreSettings(intervals=PollIntervals(fast=FAST, slow=60.0, jitter=0.0, max_backoff=0.8))


async def polls(control):
    return len(await control.requests(operation="ListConnections", service="apprunner"))


async def eventually(predicate, timeout=10.0):
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(FAST / 4)


async def test_the_first_poll_warms_the_store(apprunner, control, facade):
    """A started facade lists each service once, without any caller."""
    await eventually(lambda: _synced(facade))
    assert await polls(control) == 1


async def test_a_completed_handshake_is_seen_by_the_next_fast_poll(apprunner, control, facade):
    """While a connection is pending the poller runs fast; the next poll sees the handshake."""
    created = (
        await apprunner.CreateConnection(
            ar.CreateConnectionRequest(
                connection_name="waiting-for-you", provider_type=ar.PROVIDER_TYPE_GITHUB
            )
        )
    ).connection
    await eventually(lambda: _synced(facade))
    await control.complete_handshake(created.connection_arn, status="AVAILABLE")
    before = await polls(control)
    never_refresh = (("x-connfacade-max-staleness-ms", "600000"),)

    async def available():
        got = await apprunner.GetConnection(
            ar.GetConnectionRequest(connection_name="waiting-for-you"), metadata=never_refresh
        )
        return got.connection.status == ar.CONNECTION_STATUS_AVAILABLE

    await eventually(available)
    assert await polls(control) - before <= 2  # seen by the next poll (one more may be under way)


async def test_with_nothing_pending_the_poller_is_slow(apprunner, control, facade):
    """With no pending connection and no waiter, polls follow the slow interval."""
    await eventually(lambda: _synced(facade))
    await asyncio.sleep(FAST * 10)
    assert await polls(control) == 1


async def test_the_poller_backs_off_while_aws_throttles(apprunner, control, facade):
    """Under throttling the poll rate falls off exponentially instead of hammering AWS."""
    await apprunner.CreateConnection(
        ar.CreateConnectionRequest(connection_name="keeps-it-fast", provider_type=ar.PROVIDER_TYPE_GITHUB)
    )
    await eventually(lambda: _synced(facade))
    await control.inject_fault(operation="ListConnections", service="apprunner", kind="throttle")
    await control.clear_requests()
    await asyncio.sleep(FAST * 20)
    throttled = await polls(control)
    # Without backoff: ~20 polls at the fast interval. With it: 0.2, 0.4, 0.8, 0.8 s ...
    assert 1 <= throttled <= 8
    await control.clear_faults()
    await eventually(lambda: _synced(facade, within=FAST * 2), timeout=15)


async def _synced(facade, within=None):
    age = facade.stores["apprunner"].age()
    return age is not None and (within is None or age <= within)


async def test_a_new_pending_connection_wakes_a_slow_poller(apprunner, control, facade):
    """Creating a pending connection switches a poller sleeping on the slow interval to fast."""
    await eventually(lambda: _synced(facade))  # nothing pending: the poller now sleeps 60 s
    await apprunner.CreateConnection(
        ar.CreateConnectionRequest(connection_name="wake-up", provider_type=ar.PROVIDER_TYPE_GITHUB)
    )
    await eventually(lambda: _more_polls_than(control, 1))


async def _more_polls_than(control, n):
    return await polls(control) > n


async def test_an_unexpected_error_in_a_poll_is_a_failed_poll_not_the_end_of_polling():
    """A listing that raises something no one planned for (a bug) backs off; the next poll still runs."""
    answers = [ValueError("'UPDATING' is not a valid ConnectionStatus"), []]

    async def lister():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    store = MemoryStore(Service.APPRUNNER, lister, StoreSettings(poll=False))
    await store._poller.poll_once()
    assert store._poller.failures == 1
    assert store.age() is None
    await store._poller.poll_once()
    assert store._poller.failures == 0
    assert store.age() is not None


WINDOW = 1.0  # the pending window of the tests below, seconds
SETTLE = 5 * FAST  # margin for a fast poll computed just before the window ended
QUIET = 10 * FAST  # how long "no polls" is watched: ~10 polls at the fast interval


class TestPendingWindow:
    """A pending connection keeps the poller fast for a window, then only while attended."""

    @pytest.fixture
    def store_settings(self):
        return StoreSettings(
            intervals=PollIntervals(fast=FAST, slow=60.0, jitter=0.0, max_backoff=0.8, pending_window=WINDOW)
        )

    async def forgotten(self, apprunner, control, facade):
        """A pending connection created, polled fast for the window, then left alone past it."""
        await eventually(lambda: _synced(facade))
        created_at = time.monotonic()
        created = (
            await apprunner.CreateConnection(
                ar.CreateConnectionRequest(connection_name="forgotten", provider_type=ar.PROVIDER_TYPE_GITHUB)
            )
        ).connection
        await eventually(lambda: _more_polls_than(control, 3))  # fast within the window
        await asyncio.sleep(max(0.0, created_at + WINDOW + SETTLE - time.monotonic()))
        await control.clear_requests()
        return created

    async def polls_while_quiet(self, control):
        """Polls that reach AWS in the next QUIET seconds."""
        before = await polls(control)
        await asyncio.sleep(QUIET)
        return await polls(control) - before

    async def test_after_the_window_nobody_attends_it_and_it_is_polled_slowly(
        self, apprunner, control, facade
    ):
        """Past the pending window, with nobody waiting or watching, it is polled at the slow interval."""
        await self.forgotten(apprunner, control, facade)
        assert await self.polls_while_quiet(control) <= 1  # fast would be ~10

    async def test_a_waiter_brings_back_the_fast_interval(self, apprunner, control, facade):
        """WaitForConnection on a forgotten pending connection polls fast again, and sees the handshake."""
        created = await self.forgotten(apprunner, control, facade)
        wait = asyncio.ensure_future(
            apprunner.WaitForConnection(
                ar.WaitForConnectionRequest(connection_arn=created.connection_arn), timeout=30
            )
        )
        await eventually(lambda: _more_polls_than(control, 3))
        await control.complete_handshake(created.connection_arn, status="AVAILABLE")
        assert (await wait).connection.status == ar.CONNECTION_STATUS_AVAILABLE

    async def test_a_stream_naming_it_brings_back_the_fast_interval(self, apprunner, control, facade):
        """A WatchConnections stream naming the forgotten connection by ARN polls fast while open."""
        created = await self.forgotten(apprunner, control, facade)
        stream = apprunner.WatchConnections(
            ar.WatchConnectionsRequest(connection_arns=[created.connection_arn])
        )
        try:
            await stream.read()  # the snapshot: the stream is open
            await eventually(lambda: _more_polls_than(control, 3))
        finally:
            stream.cancel()

    async def test_a_stream_of_every_connection_does_not_count_as_attending_it(
        self, apprunner, control, facade
    ):
        """A stream naming no connection (a dashboard) leaves a forgotten one at the slow interval."""
        await self.forgotten(apprunner, control, facade)
        stream = apprunner.WatchConnections(ar.WatchConnectionsRequest())
        try:
            await stream.read()
            assert await self.polls_while_quiet(control) <= 1
        finally:
            stream.cancel()

    async def test_a_new_pending_connection_starts_a_new_window(self, apprunner, control, facade):
        """Past the window, another pending connection appearing makes the poller fast again."""
        await self.forgotten(apprunner, control, facade)
        await apprunner.CreateConnection(
            ar.CreateConnectionRequest(connection_name="newcomer", provider_type=ar.PROVIDER_TYPE_GITHUB)
        )
        await eventually(lambda: _more_polls_than(control, 3))
