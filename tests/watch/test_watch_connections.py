"""WatchConnections: snapshot, order, filters, bookmarks, resume, limits, shutdown."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import duration_pb2
from watch_helpers import (
    ADDED,
    BOOKMARK,
    CONSISTENT,
    DELETED,
    MODIFIED,
    SYNCED,
    create,
    read_n,
    read_until,
    summary,
)

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.apprunner.v1 import connection_service_pb2_grpc as ar_grpc
from connfacade.server.store import StoreSettings

RESUME_KEY = "x-connfacade-resume-token"


async def drain_slowly(call):
    """Reads one event every 10 ms until the stream ends."""
    async with asyncio.timeout(30):
        while True:
            await call.read()
            await asyncio.sleep(0.01)


def watch(apprunner, **kw):
    return apprunner.WatchConnections(ar.WatchConnectionsRequest(**kw))


async def test_snapshot_of_added_events_is_closed_by_synced(apprunner):
    """A new watch first lists every connection as ADDED, then one SYNCED."""
    await create(apprunner, "conn-a")
    await create(apprunner, "conn-b")
    call = watch(apprunner)
    events = await read_until(call, lambda e: e.type == SYNCED)
    assert summary(events) == [(ADDED, "conn-a"), (ADDED, "conn-b"), (SYNCED, "")]
    assert events[-1].revision >= 2
    assert all(e.resume_token for e in events)
    call.cancel()


async def test_changes_follow_in_revision_order(apprunner, control):
    """After SYNCED, changes arrive as ADDED, MODIFIED, DELETED with increasing revisions."""
    call = watch(apprunner)
    await read_until(call, lambda e: e.type == SYNCED)
    created = await create(apprunner, "conn-1")
    await control.complete_handshake(created.connection_arn, status="AVAILABLE")
    await apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=CONSISTENT)  # the store sees it
    await apprunner.DeleteConnection(ar.DeleteConnectionRequest(connection_arn=created.connection_arn))
    events = await read_n(call, 3)
    assert [e.type for e in events] == [ADDED, MODIFIED, DELETED]
    assert [e.connection.status for e in events] == [
        ar.CONNECTION_STATUS_PENDING_HANDSHAKE,
        ar.CONNECTION_STATUS_AVAILABLE,
        ar.CONNECTION_STATUS_DELETED,
    ]
    revisions = [e.revision for e in events]
    assert revisions == sorted(revisions)
    assert len(set(revisions)) == 3
    call.cancel()


@pytest.mark.parametrize(
    ("request_filter", "expected"),
    [
        ({"connection_names": ["keep-me"]}, ["keep-me"]),
        ({"provider_types": [ar.PROVIDER_TYPE_BITBUCKET]}, ["bitbucket-one"]),
        ({"statuses": [ar.CONNECTION_STATUS_PENDING_HANDSHAKE]}, ["keep-me", "drop-me", "bitbucket-one"]),
        (
            {"connection_names": ["keep-me", "drop-me"], "provider_types": [ar.PROVIDER_TYPE_GITHUB]},
            ["keep-me", "drop-me"],
        ),
    ],
)
async def test_filters_select_connections(apprunner, request_filter, expected):
    """Names, provider types and statuses filter the snapshot and the changes alike."""
    await create(apprunner, "keep-me")
    call = watch(apprunner, **request_filter)
    snapshot = await read_until(call, lambda e: e.type == SYNCED)
    await create(apprunner, "drop-me")
    await create(apprunner, "bitbucket-one", ar.PROVIDER_TYPE_BITBUCKET)
    await create(apprunner, "sentinel")  # reaches this watcher only if unfiltered
    seen = [e.connection.connection_name for e in snapshot if e.type == ADDED]
    rest = len(expected) - len(seen)
    seen += [e.connection.connection_name for e in await read_n(call, rest)] if rest else []
    assert seen == expected
    call.cancel()


async def test_filter_by_arn(apprunner):
    """connection_arns picks exactly those connections."""
    wanted = await create(apprunner, "by-arn")
    await create(apprunner, "not-this")
    call = watch(apprunner, connection_arns=[wanted.connection_arn])
    events = await read_until(call, lambda e: e.type == SYNCED)
    assert summary(events) == [(ADDED, "by-arn"), (SYNCED, "")]
    call.cancel()


async def test_bookmarks_carry_the_current_revision(apprunner):
    """A quiet stream receives BOOKMARK events with the store's revision and a token."""
    await create(apprunner, "one-conn")
    call = watch(apprunner, bookmark_interval=duration_pb2.Duration(seconds=1))
    synced = (await read_until(call, lambda e: e.type == SYNCED))[-1]
    bookmark = (await read_until(call, lambda e: e.type == BOOKMARK, timeout=5))[-1]
    assert bookmark.revision >= synced.revision
    assert bookmark.resume_token
    call.cancel()


async def test_skip_initial_snapshot_sends_only_synced_then_changes(apprunner):
    """skip_initial_snapshot starts with SYNCED and no ADDED backlog."""
    await create(apprunner, "old-one")
    call = watch(apprunner, skip_initial_snapshot=True)
    assert (await call.read()).type == SYNCED
    await create(apprunner, "new-one")
    assert summary(await read_n(call, 1)) == [(ADDED, "new-one")]
    call.cancel()


async def test_resume_after_a_cut_gets_exactly_the_missed_events(apprunner):
    """Reconnecting with the last token yields the events missed while away, no more, no less."""
    call = watch(apprunner)
    await read_until(call, lambda e: e.type == SYNCED)
    await create(apprunner, "before-cut")
    last = (await read_n(call, 1))[-1]
    call.cancel()  # the stream is cut mid-way
    for name in ("missed-1", "missed-2", "missed-3"):
        await create(apprunner, name)
    resumed = watch(apprunner, resume_token=last.resume_token)
    await create(apprunner, "after-resume")
    events = await read_n(resumed, 4)
    assert summary(events) == [
        (ADDED, "missed-1"),
        (ADDED, "missed-2"),
        (ADDED, "missed-3"),
        (ADDED, "after-resume"),
    ]
    assert events[0].revision > last.revision
    resumed.cancel()


async def test_resume_from_a_snapshot_token_starts_a_new_snapshot(apprunner):
    """A stream cut before SYNCED cannot be resumed mid-snapshot: it starts over."""
    await create(apprunner, "snap-1")
    await create(apprunner, "snap-2")
    call = watch(apprunner)
    first = await call.read()
    call.cancel()
    again = watch(apprunner, resume_token=first.resume_token)
    events = await read_until(again, lambda e: e.type == SYNCED)
    assert summary(events) == [(ADDED, "snap-1"), (ADDED, "snap-2"), (SYNCED, "")]
    again.cancel()


class TestHistoryLimit:
    @pytest.fixture
    def store_settings(self):
        return StoreSettings(poll=False, history_limit=3)

    async def test_a_token_older_than_the_history_is_out_of_range(self, apprunner):
        """Past the kept history, resuming fails with OUT_OF_RANGE saying to resync."""
        call = watch(apprunner)
        synced = (await read_until(call, lambda e: e.type == SYNCED))[-1]
        call.cancel()
        for i in range(5):
            await create(apprunner, f"conn-{i}")
        resumed = watch(apprunner, resume_token=synced.resume_token)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await resumed.read()
        assert caught.value.code() == grpc.StatusCode.OUT_OF_RANGE
        assert "list again" in caught.value.details()


async def test_a_token_of_another_server_is_out_of_range(apprunner):
    """A well-formed token this server did not sign (e.g. before a restart) means resync."""
    call = watch(apprunner, resume_token="eyJlIjoiMDAiLCJyIjoxLCJzIjoiYXBwcnVubmVyIn0.AAAAAAAAAAAAAAAAAAAAAA")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() == grpc.StatusCode.OUT_OF_RANGE


class TestSlowConsumer:
    @pytest.fixture
    def store_settings(self):
        return StoreSettings(poll=False, watch_buffer=5)

    async def test_a_slow_consumer_is_ended_with_its_resume_token_while_others_continue(
        self, apprunner, facade
    ):
        """A watcher that falls behind gets RESOURCE_EXHAUSTED and a token; a prompt one misses nothing."""
        # A tiny flow-control window makes the slow watcher's server writes block at once.
        slow_channel = grpc.aio.insecure_channel(
            facade.addresses[0],
            options=[
                ("grpc.http2.lookahead_bytes", 1024),
                ("grpc.http2.bdp_probe", 0),
                ("grpc.use_local_subchannel_pool", 1),
            ],
        )
        slow = ar_grpc.ConnectionServiceStub(slow_channel).WatchConnections(
            ar.WatchConnectionsRequest(skip_initial_snapshot=True)
        )
        fast = watch(apprunner, skip_initial_snapshot=True)
        assert (await slow.read()).type == SYNCED
        assert (await fast.read()).type == SYNCED
        names = [f"burst-{i:02d}" for i in range(40)]
        for name in names:
            await create(apprunner, name)
        assert [e.connection.connection_name for e in await read_n(fast, len(names))] == names
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await drain_slowly(slow)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert dict(caught.value.trailing_metadata())[RESUME_KEY]
        fast.cancel()
        await slow_channel.close()


class TestWatcherCap:
    @pytest.fixture
    def store_settings(self):
        return StoreSettings(poll=False, max_watchers=2)

    async def test_watchers_beyond_the_cap_are_refused_but_other_calls_still_answer(self, apprunner):
        """The per-method cap refuses a third watcher; other RPCs are unaffected."""
        first, second = watch(apprunner), watch(apprunner)
        await read_until(first, lambda e: e.type == SYNCED)
        await read_until(second, lambda e: e.type == SYNCED)
        third = watch(apprunner)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await third.read()
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        await apprunner.ListConnections(ar.ListConnectionsRequest())
        first.cancel()
        second.cancel()


async def test_shutdown_ends_every_stream_with_unavailable_and_a_resume_token(apprunner, facade):
    """Stopping the server ends watch streams itself, each with a token to resume from."""
    calls = [watch(apprunner) for _ in range(5)]
    for call in calls:
        await read_until(call, lambda e: e.type == SYNCED)
    stopping = asyncio.create_task(facade.stop(grace=5))
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await read_n(call, 1)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert dict(caught.value.trailing_metadata())[RESUME_KEY]
    await stopping


async def test_cancelled_watchers_leave_no_task_or_buffer_behind(apprunner, facade):
    """Cancelling watches frees their watchers, buffers and tasks at once."""
    hub = facade.stores["apprunner"]._hub
    await apprunner.ListConnections(ar.ListConnectionsRequest())
    baseline_tasks = len(asyncio.all_tasks())
    calls = [watch(apprunner) for _ in range(50)]
    for call in calls:
        await read_until(call, lambda e: e.type == SYNCED)
    assert len(hub) == 50
    for call in calls:
        call.cancel()
    async with asyncio.timeout(10):
        while len(hub) or len(asyncio.all_tasks()) > baseline_tasks:
            await asyncio.sleep(0.01)
    assert len(hub) == 0
    assert len(asyncio.all_tasks()) <= baseline_tasks


async def test_an_absurd_bookmark_interval_is_invalid_argument_not_a_crash(apprunner):
    """A Duration beyond any sane interval (found by fuzzing: once INTERNAL) names bookmark_interval."""
    call = watch(apprunner, bookmark_interval=duration_pb2.Duration(seconds=-(2**63)))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "bookmark_interval" in caught.value.details()
