"""`connfacade serve` as a user runs it: a real process on the embedded emulator."""

from __future__ import annotations

import aiohttp
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.apprunner.v1 import connection_service_pb2_grpc as ar_grpc
from connfacade.server.testing import serve


@pytest.fixture
async def served():
    async with await serve("--listen", "127.0.0.1:0", expect=("grpc", "emulator")) as served:
        yield served.address, served.emulator_url


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
    served = await serve("--listen", "127.0.0.1:0")
    assert (await served.stop()).code == 0


async def test_serves_on_a_unix_socket(tmp_path):
    """`--listen unix:/path` serves gRPC on a Unix socket."""
    socket = tmp_path / "connfacade.sock"
    served = await serve("--listen", f"unix:{socket}")
    try:
        assert served.address == f"unix:{socket}"
        async with grpc.aio.insecure_channel(served.address) as channel:
            page = await ar_grpc.ConnectionServiceStub(channel).ListConnections(ar.ListConnectionsRequest())
        assert list(page.connection_summary_list) == []
    finally:
        assert (await served.stop()).code == 0


async def test_settings_come_from_the_environment(tmp_path):
    """CONNFACADE_LISTEN configures the listener like --listen does."""
    socket = tmp_path / "env.sock"
    async with await serve(env={"CONNFACADE_LISTEN": f"unix:{socket}"}) as served:
        assert served.address == f"unix:{socket}"


async def test_logs_are_json_lines_with_request_ids(tmp_path):
    """Each RPC logs one JSON line carrying its request id."""
    served = await serve("--listen", "127.0.0.1:0")
    async with grpc.aio.insecure_channel(served.address) as channel:
        await ar_grpc.ConnectionServiceStub(channel).ListConnections(
            ar.ListConnectionsRequest(), metadata=(("x-request-id", "trace-me-42"),)
        )
    stderr = (await served.stop()).err
    lines = [line for line in stderr.splitlines() if "trace-me-42" in line]
    assert len(lines) == 1
    assert '"method": "apprunner.ListConnections"' in lines[0]
    assert '"event": "rpc.ok"' in lines[0]
