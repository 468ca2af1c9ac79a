"""watch_connections and wait_for_connection: the resume logic alone, then over a real transport."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import threading

import grpc
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from scripted_server import APPRUNNER, CODESTAR, rich_status

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.client import Resync, aio, errors, sync
from connfacade.client import watch as watch_module
from connfacade.codestar.v1 import connection_service_pb2 as codestar_pb2
from connfacade.codestar.v1 import types_pb2

ADDED, MODIFIED, SYNCED = apprunner_pb2.EVENT_TYPE_ADDED, apprunner_pb2.EVENT_TYPE_MODIFIED, 5
RESUME_KEY = "x-connfacade-resume-token"


def _error(code, message="", *, token=None, retry=None, reason=None):
    cls = errors.error_class_for(code)
    details = []
    if retry is not None:
        details.append(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=retry)))
    if reason is not None:
        details.append(error_details_pb2.ErrorInfo(reason=reason, domain="connfacade"))
    return cls(message, code=code, details=details, resume_token=token)


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _session(resume_token="", *, timeout=None, max_backoff=30.0, clock=None):
    return watch_module._Session(
        resume_token=resume_token,
        timeout=timeout,
        max_backoff=max_backoff,
        clock=clock or FakeClock(),
        rng=random.Random(7),  # noqa: S311 - jitter, not cryptography
    )


# --- the session: which token, which ending means what --------------------------


def test_snapshot_tokens_are_never_remembered_but_synced_and_later_ones_are():
    """Resuming from a snapshot event would restart the snapshot; SYNCED and later tokens are positions."""
    session = _session()
    assert session.open() == ("", None)
    session.received(ADDED, "in-snapshot")
    assert session.resume_token == ""
    session.received(SYNCED, "synced")
    assert session.resume_token == "synced"
    session.received(MODIFIED, "t3")
    session.received(apprunner_pb2.EVENT_TYPE_BOOKMARK, "t4")
    assert session.resume_token == "t4"


def test_a_stream_opened_with_a_token_remembers_each_event():
    """With a token the server sends only missed and live events, no SYNCED: each is a position."""
    session = _session("t0")
    assert session.open() == ("t0", None)
    session.received(ADDED, "t1")
    assert session.resume_token == "t1"


def test_the_servers_trailer_token_wins_over_the_last_event():
    """UNAVAILABLE and RESOURCE_EXHAUSTED resume from the trailer when there is one, else the last event."""
    session = _session()
    session.open()
    session.received(SYNCED, "t1")
    step = session.ended(_error(grpc.StatusCode.UNAVAILABLE, token="trailer"))
    assert step is not None
    assert step.resync is None
    assert session.open()[0] == "trailer"
    session.received(MODIFIED, "t2")
    assert session.ended(_error(grpc.StatusCode.RESOURCE_EXHAUSTED)) is not None
    assert session.open()[0] == "t2"


def test_a_stream_cut_during_its_snapshot_resyncs_and_starts_over():
    """The new stream brings a new snapshot: the caller is told to drop the partial one."""
    session = _session()
    session.open()
    session.received(ADDED, "in-snapshot")
    step = session.ended(_error(grpc.StatusCode.UNAVAILABLE, token="ignored before SYNCED"))
    assert step.resync == Resync("SNAPSHOT_INTERRUPTED", "the stream ended during its initial snapshot")
    assert session.open()[0] == ""
    # Cut before any event: nothing to drop, no marker.
    assert session.ended(None).resync is None


def test_out_of_range_resyncs_and_reopens_without_a_token():
    """A token the server cannot resume from: a Resync with the server's reason, then a fresh watch."""
    session = _session("old")
    session.open()
    step = session.ended(_error(grpc.StatusCode.OUT_OF_RANGE, "list again", reason="RESUME_TOKEN_TOO_OLD"))
    assert step.resync == Resync("RESUME_TOKEN_TOO_OLD", "list again")
    assert step.delay == 0
    assert session.open()[0] == ""
    # Without a token OUT_OF_RANGE cannot be fixed by resyncing: it is raised.
    assert session.ended(_error(grpc.StatusCode.OUT_OF_RANGE)) is None


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.INTERNAL,
    ],
)
def test_other_endings_are_raised(code):
    """Only UNAVAILABLE, RESOURCE_EXHAUSTED (and OUT_OF_RANGE with a token) are handled."""
    session = _session("t0")
    session.open()
    assert session.ended(_error(code)) is None


def test_backoff_doubles_with_jitter_up_to_its_cap_and_restarts_after_an_event():
    """Each delay is 50-100 % of 0.1 s x 2^n, capped by max_backoff; an event resets it."""
    session = _session("t0", max_backoff=1.0)
    delays = []
    for _ in range(8):
        session.open()
        delays.append(session.ended(_error(grpc.StatusCode.UNAVAILABLE)).delay)
    for n, delay in enumerate(delays):
        step = min(1.0, 0.1 * 2**n)
        assert step / 2 <= delay <= step
    assert delays[-1] <= 1.0
    session.open()
    session.received(MODIFIED, "t1")
    assert session.ended(None).delay <= 0.1


def test_the_servers_retry_delay_is_a_floor_that_max_backoff_still_caps():
    """RetryInfo raises the delay; max_backoff is the caller's limit and wins."""
    session = _session("t0", max_backoff=5.0)
    session.open()
    assert session.ended(_error(grpc.StatusCode.UNAVAILABLE, retry=2)).delay == 2.0
    capped = _session("t0", max_backoff=0.5)
    capped.open()
    assert capped.ended(_error(grpc.StatusCode.UNAVAILABLE, retry=2)).delay == 0.5


def test_the_timeout_bounds_the_whole_watch_across_reconnections():
    """Each stream gets the time left; none left raises DeadlineExceededError."""
    clock = FakeClock()
    session = _session("t0", timeout=10.0, clock=clock)
    assert session.open() == ("t0", 10.0)
    clock.now += 9.99
    assert session.ended(_error(grpc.StatusCode.UNAVAILABLE, retry=5)).delay == pytest.approx(0.01)
    clock.now += 0.01
    with pytest.raises(errors.DeadlineExceededError):
        session.open()


def test_a_negative_max_backoff_is_refused():
    with pytest.raises(ValueError, match="max_backoff"):
        _session(max_backoff=-1)


def test_both_services_number_their_event_types_alike():
    """The watch reads SYNCED by number for either service."""
    assert dict(apprunner_pb2.EventType.items()) == dict(codestar_pb2.EventType.items())
    assert apprunner_pb2.EVENT_TYPE_SYNCED == SYNCED


# --- over a real transport --------------------------------------------------------


def _event(kind, token, name="", revision=0):
    return apprunner_pb2.WatchConnectionsResponse(
        type=kind,
        resume_token=token,
        revision=revision,
        connection=apprunner_pb2.Connection(connection_name=name) if name else None,
    )


class Streams:
    """A WatchConnections handler playing one script per call; records when each call ended."""

    def __init__(self, *scripts):
        self._scripts = list(scripts)
        self.ended = [threading.Event() for _ in scripts]
        self.requests = []

    def __call__(self, request, context):
        n = len(self.requests)
        self.requests.append(request)
        context.add_callback(self.ended[n].set)
        return self._scripts[n](request, context)


def events_then(*events, status=None, ends=False):
    """A script: send ``events``, then end with ``status``, or OK if ``ends``, or stay open till cancelled."""

    def script(request, context):
        yield from events
        if status is not None:
            context.abort_with_status(status)
        if ends:
            return
        context_done = threading.Event()
        context.add_callback(context_done.set)
        context_done.wait(10)

    return script


def _unavailable(token=None):
    trailers = [(RESUME_KEY, token)] if token else []
    return rich_status(grpc.StatusCode.UNAVAILABLE, "shutting down", trailers=trailers)


async def _take(watch, n):
    out = []
    async with asyncio.timeout(10):
        async for item in watch:
            out.append(item)
            if len(out) == n:
                break
    return out


def _kinds(items):
    return [item if isinstance(item, Resync) else (item.type, item.resume_token) for item in items]


async def test_async_watch_resumes_from_the_trailer_with_no_gap_and_no_duplicate(scripted_server):
    """UNAVAILABLE with a trailer: the next stream opens from it, the caller sees one continuous stream."""
    streams = Streams(
        events_then(
            _event(ADDED, "snap", "a"),
            _event(SYNCED, "t1"),
            _event(MODIFIED, "t2", "a"),
            status=_unavailable("t3"),
        ),
        events_then(_event(MODIFIED, "t4", "b")),
    )
    scripted_server.on(APPRUNNER, "WatchConnections", streams)
    async with aio.AppRunnerClient(scripted_server.target) as client:
        watch = client.watch_connections(
            connection_names=["a", "b"], statuses=["AVAILABLE", "pending-handshake"], max_backoff=0.01
        )
        async with watch:
            items = await _take(watch, 4)
            assert watch.resume_token == "t4"
        assert streams.ended[1].wait(5), "leaving the watch cancels its call"
    assert _kinds(items) == [(ADDED, "snap"), (SYNCED, "t1"), (MODIFIED, "t2"), (MODIFIED, "t4")]
    first, second = streams.requests
    assert (first.resume_token, second.resume_token) == ("", "t3")
    assert list(second.connection_names) == ["a", "b"]
    assert list(second.statuses) == [
        apprunner_pb2.CONNECTION_STATUS_AVAILABLE,
        apprunner_pb2.CONNECTION_STATUS_PENDING_HANDSHAKE,
    ]


async def test_async_watch_retries_failures_to_connect_and_clean_endings(scripted_server):
    """No trailer, or a stream that just ends: reopen from the last event's token."""
    streams = Streams(
        events_then(status=_unavailable()),
        events_then(_event(MODIFIED, "t1"), ends=True),
        events_then(_event(MODIFIED, "t2")),
    )
    scripted_server.on(APPRUNNER, "WatchConnections", streams)
    async with (
        aio.AppRunnerClient(scripted_server.target) as client,
        client.watch_connections(resume_token="t0", max_backoff=0.01) as watch,
    ):
        items = await _take(watch, 2)
    assert _kinds(items) == [(MODIFIED, "t1"), (MODIFIED, "t2")]
    assert [r.resume_token for r in streams.requests] == ["t0", "t0", "t1"]


async def test_async_watch_yields_resync_on_out_of_range_then_watches_afresh(scripted_server):
    """The reflector's relist: a Resync marker, then a new snapshot from a watch without a token."""
    out_of_range = rich_status(
        grpc.StatusCode.OUT_OF_RANGE,
        "list again and watch without a resume token",
        [error_details_pb2.ErrorInfo(reason="RESUME_TOKEN_TOO_OLD", domain="connfacade")],
    )
    streams = Streams(
        events_then(status=out_of_range),
        events_then(_event(ADDED, "snap", "a"), _event(SYNCED, "t1")),
    )
    scripted_server.on(APPRUNNER, "WatchConnections", streams)
    async with (
        aio.AppRunnerClient(scripted_server.target) as client,
        client.watch_connections(resume_token="old") as watch,
    ):
        items = await _take(watch, 3)
    assert _kinds(items) == [
        Resync("RESUME_TOKEN_TOO_OLD", "list again and watch without a resume token"),
        (ADDED, "snap"),
        (SYNCED, "t1"),
    ]
    assert [r.resume_token for r in streams.requests] == ["old", ""]


async def test_async_watch_raises_other_errors_typed(scripted_server):
    """PERMISSION_DENIED is not retried: it comes out as PermissionDeniedError."""
    denied = rich_status(grpc.StatusCode.PERMISSION_DENIED, "no")
    streams = Streams(events_then(_event(SYNCED, "t1"), status=denied))
    scripted_server.on(APPRUNNER, "WatchConnections", streams)
    async with aio.AppRunnerClient(scripted_server.target) as client:
        watch = client.watch_connections()
        assert _kinds([await anext(watch)]) == [(SYNCED, "t1")]
        with pytest.raises(errors.PermissionDeniedError):
            await anext(watch)
    assert len(streams.requests) == 1


async def test_breaking_out_of_the_loop_cancels_the_call(scripted_server):
    """Once the dropped watch is collected, its call is cancelled (no async with needed)."""
    streams = Streams(events_then(_event(SYNCED, "t1")))
    scripted_server.on(APPRUNNER, "WatchConnections", streams)
    async with aio.AppRunnerClient(scripted_server.target) as client:
        async for _ in client.watch_connections():
            break
        async with asyncio.timeout(5):
            while not streams.ended[0].is_set():
                await asyncio.sleep(0.01)


async def test_watch_and_wait_build_their_requests_and_have_no_default_deadline(scripted_server):
    """Enum names, durations, filters reach the server; neither method takes the client's timeout."""
    streams = Streams(events_then(_event(SYNCED, "t1")), events_then(_event(SYNCED, "t1")))
    scripted_server.on(CODESTAR, "WatchConnections", streams)
    async with aio.CodeStarConnectionsClient(scripted_server.target, timeout=5.0) as client:
        async with client.watch_connections(
            connection_arns=["arn:aws:codeconnections:us-east-1:1:connection/x"],
            provider_types=["GitLab"],
            skip_initial_snapshot=True,
            bookmark_interval=1.5,
        ) as watch:
            await anext(watch)
        async with client.watch_connections(bookmark_interval=dt.timedelta(seconds=2), timeout=30) as watch:
            await anext(watch)
        await client.wait_for_connection(connection_arn="arn:c", statuses=["ERROR", 2])
        await client.wait_for_connection(connection_arn="arn:c", timeout=3.0)
        with pytest.raises(TypeError):
            client.watch_connections(statuses="AVAILABLE")
        with pytest.raises(ValueError, match="BOGUS"):
            await client.wait_for_connection(connection_arn="arn:c", statuses=["BOGUS"])
    first, second = streams.requests
    assert first.provider_types == [types_pb2.PROVIDER_TYPE_GITLAB]
    assert first.skip_initial_snapshot
    assert first.bookmark_interval == duration_pb2.Duration(seconds=1, nanos=500_000_000)
    assert second.bookmark_interval == duration_pb2.Duration(seconds=2)
    watches = scripted_server.calls_to("WatchConnections")
    assert watches[0].deadline_seconds is None
    assert 25 < watches[1].deadline_seconds < 30.5
    waited, bounded = scripted_server.calls_to("WaitForConnection")
    assert list(waited.request.statuses) == [
        codestar_pb2.CONNECTION_STATUS_ERROR,
        codestar_pb2.CONNECTION_STATUS_AVAILABLE,
    ]
    assert waited.deadline_seconds is None
    assert 2 < bounded.deadline_seconds < 3.5


def test_sync_watch_resumes_and_closes_from_another_thread(scripted_server):
    """The blocking watch resumes alike; close() from another thread ends a blocked iteration."""
    streams = Streams(
        events_then(_event(SYNCED, "t1"), status=_unavailable("t2")),
        events_then(_event(MODIFIED, "t3")),
    )
    scripted_server.on(APPRUNNER, "WatchConnections", streams)
    with sync.AppRunnerClient(scripted_server.target) as client:
        watch = client.watch_connections(max_backoff=0.01)
        assert _kinds([next(watch), next(watch)]) == [(SYNCED, "t1"), (MODIFIED, "t3")]
        closer = threading.Timer(0.2, watch.close)
        closer.start()
        assert list(watch) == []  # blocked on the open stream until close()
        closer.join()
        assert watch.resume_token == "t3"
    assert streams.ended[1].wait(5)
    assert [r.resume_token for r in streams.requests] == ["", "t2"]


def test_sync_wait_for_connection_returns_the_connection(scripted_server):
    """The blocking wait_for_connection sends ARN or name and statuses, with no default deadline."""

    def wait(request, context):
        return apprunner_pb2.WaitForConnectionResponse(
            connection=apprunner_pb2.Connection(connection_name=request.connection_name)
        )

    scripted_server.on(APPRUNNER, "WaitForConnection", wait)
    with sync.AppRunnerClient(scripted_server.target) as client:
        response = client.wait_for_connection(connection_name="web", statuses=["PENDING_HANDSHAKE"])
    assert response.connection.connection_name == "web"
    (call,) = scripted_server.calls
    assert list(call.request.statuses) == [apprunner_pb2.CONNECTION_STATUS_PENDING_HANDSHAKE]
    assert call.deadline_seconds is None
