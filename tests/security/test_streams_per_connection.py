"""Calls per HTTP/2 connection: a flood over one connection waits on its own side, not in the server's queue.

The facade is built from `Settings` through `build_access`, as `connfacade
serve` builds it, with the default `--max-streams-per-connection`. Every
channel here has a subchannel pool of its own, so that it is an HTTP/2
connection of its own (grpc shares one between channels to the same target
otherwise).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import grpc
import pytest

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc
from connfacade.server import config
from connfacade.server.access import build_access
from connfacade.server.app import start_facade
from connfacade.server.security import hash_token

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from connfacade.server.app import RunningFacade
    from connfacade.server.backend import AioBotoBackend
    from connfacade.server.emulator import EmulatorControl
    from connfacade.server.store import StoreSettings

TOKENS = {"flooder": "flooder-token-0123456789abcdef", "other": "other-token-0123456789abcdef"}
PRINCIPALS = "".join(
    f'[[principals]]\nname = "{name}"\nrole = "viewer"\ntoken_sha256 = "{hash_token(token)}"\n'
    for name, token in TOKENS.items()
)
LIST = pb.ListConnectionsRequest()
CONSISTENT = (("x-connfacade-consistent-read", "true"),)
OWN_CONNECTION = (("grpc.use_local_subchannel_pool", 1),)


def bearer(principal: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[principal]}"),)


@pytest.fixture
async def facade(
    backend: AioBotoBackend, store_settings: StoreSettings, tmp_path: Path
) -> AsyncIterator[RunningFacade]:
    path = tmp_path / "principals.toml"
    path.write_text(PRINCIPALS)
    settings = config.Settings(listen=("127.0.0.1:0",), principals_file=str(path))
    running = await start_facade(
        backend,
        settings.listen,
        store_settings=store_settings,
        access=build_access(settings),
        max_streams_per_connection=settings.max_streams_per_connection,
    )
    yield running
    await running.stop(0)


@pytest.fixture
async def connection(facade: RunningFacade) -> AsyncIterator[pb_grpc.ConnectionServiceStub]:
    """The App Runner service over an HTTP/2 connection of its own."""
    async with grpc.aio.insecure_channel(facade.addresses[0], options=OWN_CONNECTION) as channel:
        yield pb_grpc.ConnectionServiceStub(channel)


async def code_of(call: object) -> str:
    """OK, or the name of the code the call ended with."""
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as err:
        return err.code().name
    return "OK"


async def test_another_principals_calls_succeed_during_a_flood_over_one_connection(
    facade: RunningFacade, connection: pb_grpc.ConnectionServiceStub
):
    """5,000 reads kept in flight over one connection; the other principal's 5 calls, 3 s each, succeed.

    Without a limit all 5,000 wait in gRPC's queue ahead of the other
    principal's calls, each of which then takes seconds.
    """
    flooding = True
    flood_codes: set[str] = set()

    async with grpc.aio.insecure_channel(facade.addresses[0], options=OWN_CONNECTION) as channel:
        flooder = pb_grpc.ConnectionServiceStub(channel)

        async def flood() -> None:
            while flooding:
                flood_codes.add(
                    await code_of(
                        flooder.ListConnections(LIST, metadata=bearer("flooder") + CONSISTENT, timeout=60)
                    )
                )

        workers = [asyncio.create_task(flood()) for _ in range(5000)]
        await asyncio.sleep(1.0)  # the flood builds up
        try:
            answers = [
                await code_of(connection.ListConnections(LIST, metadata=bearer("other"), timeout=3))
                for _ in range(5)
            ]
        finally:
            flooding = False
            await asyncio.gather(*workers)

    assert answers == ["OK"] * 5
    assert flood_codes <= {"OK", "RESOURCE_EXHAUSTED"}


async def test_calls_beyond_what_a_connection_carries_wait_on_the_client_not_refused(
    connection: pb_grpc.ConnectionServiceStub, control: EmulatorControl
):
    """600 slow reads at once over one connection all succeed: those past its limit wait client-side.

    They are neither refused by the transport (UNAVAILABLE, REFUSED_STREAM)
    nor, once in the server, by the principal's limit on calls in flight.
    """
    await control.inject_fault(operation="ListConnections", kind="latency", latency_ms=300)

    codes = await asyncio.gather(
        *(
            code_of(connection.ListConnections(LIST, metadata=bearer("flooder") + CONSISTENT, timeout=60))
            for _ in range(600)
        )
    )

    assert set(codes) == {"OK"}


async def test_a_client_holding_200_watch_streams_still_makes_calls_on_the_same_connection(
    connection: pb_grpc.ConnectionServiceStub,
):
    """Watch streams count against the connection's limit; 200 of them leave room for calls."""
    streams = [
        connection.WatchConnections(pb.WatchConnectionsRequest(), metadata=bearer("other"))
        for _ in range(200)
    ]
    try:
        firsts = await asyncio.gather(*(stream.read() for stream in streams))
        answer = await code_of(connection.ListConnections(LIST, metadata=bearer("other"), timeout=10))
    finally:
        for stream in streams:
            stream.cancel()

    assert {first.type for first in firsts} == {pb.EVENT_TYPE_SYNCED}
    assert answer == "OK"
