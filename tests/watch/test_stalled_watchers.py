"""Watchers whose client stops reading: HTTP/2 flow control blocks the server's writes.

A blocked write is lag like any other: the watcher that falls ``watch_buffer``
events behind is ended with RESOURCE_EXHAUSTED and a resume token, though its
stream never reads again; and a client that cancels such a stream is a
cancelled call, never an internal error.
"""

from __future__ import annotations

import asyncio

import grpc
import pytest
from structlog.testing import capture_logs
from watch_helpers import ADDED, SYNCED, create

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.apprunner.v1 import connection_service_pb2_grpc as ar_grpc
from connfacade.server.store import StoreSettings

RESUME_KEY = "x-connfacade-resume-token"
WATCH = "connfacade.apprunner.v1.ConnectionService/WatchConnections"
BUFFER = 10  # the emulator allows 100 connections: room for several times the buffer
# A 1 KB stream window and no BDP probing: the server's writes block after a few events.
TINY_WINDOW = (
    ("grpc.http2.lookahead_bytes", 1024),
    ("grpc.http2.bdp_probe", 0),
    ("grpc.use_local_subchannel_pool", 1),
)


def rpcs(facade, code: str) -> float:
    """WatchConnections calls counted in connfacade_rpcs_total with ``code``."""
    sample = {"method": WATCH, "code": code}
    return facade.metrics.registry.get_sample_value("connfacade_rpcs_total", sample) or 0


def ended(facade) -> float:
    """Watch calls counted in connfacade_rpcs_total, whatever their code."""
    return sum(rpcs(facade, code.name) for code in grpc.StatusCode)


async def read_to_end(call) -> tuple[list[ar.WatchConnectionsResponse], grpc.aio.AioRpcError]:
    """Every event left on the stream, and the error it ended with."""
    events = []
    async with asyncio.timeout(20):
        while True:
            try:
                events.append(await call.read())
            except grpc.aio.AioRpcError as err:
                return events, err


async def eventually(condition, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
def store_settings() -> StoreSettings:
    return StoreSettings(poll=False, watch_buffer=BUFFER)


@pytest.fixture
async def stalled_channel(facade):
    async with grpc.aio.insecure_channel(facade.addresses[0], options=TINY_WINDOW) as channel:
        yield channel


async def _open_stalled(channel):
    """A watch that is read up to its SYNCED marker and never again."""
    call = ar_grpc.ConnectionServiceStub(channel).WatchConnections(
        ar.WatchConnectionsRequest(skip_initial_snapshot=True)
    )
    assert (await call.read()).type == SYNCED
    return call


async def _blocked(facade, apprunner, n_watchers: int) -> None:
    """Makes changes until every watcher's stream is behind with a write pending, short of overflowing."""
    hub = facade.stores["apprunner"]._hub
    for i in range(BUFFER * 4):
        await create(apprunner, f"stall-{i:03d}")
        behind = [w for w in hub._watchers if w.buffer]  # how far behind each stream is
        if len(behind) == n_watchers:
            return
    raise AssertionError("the streams never fell behind")


async def test_a_watcher_that_never_reads_is_ended_with_resource_exhausted_and_a_token(
    facade, apprunner, stalled_channel
):
    """Once watch_buffer events behind, the server frees the watcher; the client reads the token last."""
    hub = facade.stores["apprunner"]._hub
    call = await _open_stalled(stalled_channel)
    for i in range(BUFFER * 6):
        await create(apprunner, f"never-read-{i:03d}")
    await eventually(lambda: len(hub) == 0)  # ended without a single read

    events, ended_with = await read_to_end(call)
    assert ended_with.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert dict(ended_with.trailing_metadata())[RESUME_KEY]
    assert events
    assert all(e.type == ADDED for e in events)
    await eventually(lambda: rpcs(facade, "RESOURCE_EXHAUSTED") == 1)
    assert rpcs(facade, "INTERNAL") == 0


async def test_resuming_a_stalled_watcher_from_its_token_misses_and_repeats_nothing(
    facade, apprunner, stalled_channel
):
    """The events before the RESOURCE_EXHAUSTED and those after resuming are every change, once."""
    call = await _open_stalled(stalled_channel)
    names = [f"resume-{i:03d}" for i in range(BUFFER * 6)]
    for name in names:
        await create(apprunner, name)
    await eventually(lambda: len(facade.stores["apprunner"]._hub) == 0)
    events, ended_with = await read_to_end(call)
    seen = [e.connection.connection_name for e in events]
    token = dict(ended_with.trailing_metadata())[RESUME_KEY]
    resumed = apprunner.WatchConnections(ar.WatchConnectionsRequest(resume_token=token))
    while len(seen) < len(names):
        seen.append((await resumed.read()).connection.connection_name)
    resumed.cancel()
    assert seen == names


async def test_cancelling_stalled_watches_is_counted_cancelled_without_an_internal_error(
    facade, apprunner, stalled_channel
):
    """Cancelled while their writes wait on flow control: CANCELLED in the metric, no rpc.internal_error."""
    hub = facade.stores["apprunner"]._hub
    calls = [await _open_stalled(stalled_channel) for _ in range(10)]
    await _blocked(facade, apprunner, len(calls))
    with capture_logs() as logs:
        for call in calls:
            call.cancel()
        await eventually(lambda: len(hub) == 0 and ended(facade) == len(calls))
    assert rpcs(facade, "CANCELLED") == len(calls)
    assert [e for e in logs if e["event"] == "rpc.internal_error"] == []
