"""`connfacade serve` as a user runs it: a real process on the embedded emulator."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.apprunner.v1 import connection_service_pb2_grpc as ar_grpc

CONNFACADE = Path(sys.executable).parent / "connfacade"
BANNER_GRPC = re.compile(r"connfacade: gRPC listening on (\S+)")
BANNER_EMULATOR = re.compile(r"connfacade: AWS emulator at (http://\S+)")


async def start(*args, env=None):
    proc = await asyncio.create_subprocess_exec(
        str(CONNFACADE),
        "serve",
        "--emulator-address",
        "127.0.0.1:0",
        "--metrics-address",
        "127.0.0.1:0",  # a free port: servers running side by side must not clash
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    grpc_address = emulator_url = None
    async with asyncio.timeout(30):
        while grpc_address is None or emulator_url is None:
            line = (await proc.stdout.readline()).decode()
            assert line, f"serve exited early: {(await proc.stderr.read()).decode()[-2000:]}"
            if m := BANNER_GRPC.search(line):
                grpc_address = m.group(1)
            if m := BANNER_EMULATOR.search(line):
                emulator_url = m.group(1)
    return proc, grpc_address, emulator_url


async def stop(proc):
    proc.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        await proc.communicate()
    return proc.returncode


@pytest.fixture
async def served():
    proc, address, url = await start("--listen", "127.0.0.1:0")
    yield address, url
    if proc.returncode is None:
        await stop(proc)


async def test_serve_prints_where_it_listens_and_answers_health(served):
    """The banner names the gRPC address and emulator URL; health says SERVING."""
    address, url = served
    assert url.startswith("http://127.0.0.1:")
    async with grpc.aio.insecure_channel(address) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_walkthrough_create_then_complete_handshake_over_http(served):
    """README's walk-through: create through gRPC, complete through the emulator's fixed control."""
    address, url = served
    async with grpc.aio.insecure_channel(address) as channel:
        stub = ar_grpc.ConnectionServiceStub(channel)
        created = (
            await stub.CreateConnection(
                ar.CreateConnectionRequest(
                    connection_name="my-github-connection", provider_type=ar.PROVIDER_TYPE_GITHUB
                )
            )
        ).connection
        assert created.status == ar.CONNECTION_STATUS_PENDING_HANDSHAKE
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{url}/_emulator/handshake",
                json={"ConnectionArn": created.connection_arn, "Status": "AVAILABLE"},
            ) as answer,
        ):
            assert answer.status == 200
        # The store may answer from memory until its next poll; a consistent read asks AWS now.
        got = await stub.GetConnection(
            ar.GetConnectionRequest(connection_name="my-github-connection"),
            metadata=(("x-connfacade-consistent-read", "true"),),
        )
    assert got.connection.status == ar.CONNECTION_STATUS_AVAILABLE


async def test_sigterm_exits_zero():
    """SIGTERM shuts the server down gracefully with exit code 0."""
    proc, _, _ = await start("--listen", "127.0.0.1:0")
    assert await stop(proc) == 0


async def test_serves_on_a_unix_socket(tmp_path):
    """`--listen unix:/path` serves gRPC on a Unix socket."""
    socket = tmp_path / "connfacade.sock"
    proc, address, _ = await start("--listen", f"unix:{socket}")
    try:
        assert address == f"unix:{socket}"
        async with grpc.aio.insecure_channel(address) as channel:
            page = await ar_grpc.ConnectionServiceStub(channel).ListConnections(ar.ListConnectionsRequest())
        assert list(page.connection_summary_list) == []
    finally:
        assert await stop(proc) == 0


async def test_settings_come_from_the_environment(tmp_path):
    """CONNFACADE_LISTEN configures the listener like --listen does."""
    socket = tmp_path / "env.sock"
    proc, address, _ = await start(env={"CONNFACADE_LISTEN": f"unix:{socket}"})
    try:
        assert address == f"unix:{socket}"
    finally:
        await stop(proc)


async def test_logs_are_json_lines_with_request_ids(tmp_path):
    """Each RPC logs one JSON line carrying its request id."""
    proc, address, _ = await start("--listen", "127.0.0.1:0")
    async with grpc.aio.insecure_channel(address) as channel:
        await ar_grpc.ConnectionServiceStub(channel).ListConnections(
            ar.ListConnectionsRequest(), metadata=(("x-request-id", "trace-me-42"),)
        )
    proc.send_signal(signal.SIGTERM)
    _, stderr = await proc.communicate()
    lines = [line for line in stderr.decode().splitlines() if "trace-me-42" in line]
    assert len(lines) == 1
    assert '"method": "apprunner.ListConnections"' in lines[0]
    assert '"event": "rpc.ok"' in lines[0]
