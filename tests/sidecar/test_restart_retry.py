"""Request ids survive a restart: a create retried under the same UUID after it gets the first answer.

CodeStar connection names need not be unique, so a second AWS create would
make a second connection: the count of connections of that name (and of the
creates the emulator received) is what shows the retry did not call AWS again.
"""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from typing import TYPE_CHECKING

import aiohttp
import grpc
import pytest

from connfacade.codestar.v1 import connection_service_pb2 as pb
from connfacade.codestar.v1 import connection_service_pb2_grpc as pb_grpc
from connfacade.codestar.v1 import types_pb2
from connfacade.server.audit import verify
from connfacade.server.domain import Service
from connfacade.server.testing import serve

if TYPE_CHECKING:
    from pathlib import Path

ENV = {"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_REGION": "us-east-1"}


async def start(emulator, audit: Path):
    return await serve(
        *("--backend", "aws", "--aws-endpoint-url", emulator.url, "--listen", "127.0.0.1:0"),
        *("--audit-file", str(audit), "--audit-stdout", "off"),
        env=ENV,
        expect=("grpc", "metrics"),
    )


def create(name: str, provider: int = types_pb2.PROVIDER_TYPE_GITHUB) -> pb.CreateConnectionRequest:
    return pb.CreateConnectionRequest(connection_name=name, provider_type=provider)


async def connections_named(backend, name: str) -> list[str]:
    out = await backend.call(Service.CODESTAR, "ListConnections", {})
    return [c["ConnectionArn"] for c in out["Connections"] if c["ConnectionName"] == name]


async def scrape(url: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return await response.text()


async def call(server, request: pb.CreateConnectionRequest, request_id: str) -> pb.CreateConnectionResponse:
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = pb_grpc.ConnectionServiceStub(channel)
        return await stub.CreateConnection(request, metadata=(("x-request-id", request_id),), timeout=20)


async def test_a_create_retried_after_a_restart_gets_the_first_answer_and_one_connection(
    emulator, control, backend, tmp_path
):
    """Create, restart the server, retry with the same UUID: the same ARN, one AWS create, one connection."""
    audit, request_id = tmp_path / "audit" / "audit.jsonl", str(uuid.uuid4())
    first_server = await start(emulator, audit)
    first = await call(first_server, create("kept-across-restarts"), request_id)
    assert (await first_server.stop())[0] == 0

    second_server = await start(emulator, audit)
    try:
        retried = await call(second_server, create("kept-across-restarts"), request_id)
    finally:
        assert (await second_server.stop())[0] == 0
    assert retried.connection_arn == first.connection_arn
    assert len(await control.requests(operation="CreateConnection")) == 1
    assert await connections_named(backend, "kept-across-restarts") == [first.connection_arn]


async def test_a_retry_with_other_parameters_after_a_restart_is_invalid_argument(emulator, tmp_path):
    """The restored request id still belongs to its first parameters: reusing it for others is refused."""
    audit, request_id = tmp_path / "audit" / "audit.jsonl", str(uuid.uuid4())
    first_server = await start(emulator, audit)
    await call(first_server, create("first-params"), request_id)
    assert (await first_server.stop())[0] == 0

    second_server = await start(emulator, audit)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(second_server, create("first-params", types_pb2.PROVIDER_TYPE_BITBUCKET), request_id)
    finally:
        assert (await second_server.stop())[0] == 0
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_create_whose_server_died_mid_call_is_answered_from_recovery_after_restart(
    emulator, control, backend, tmp_path
):
    """SIGKILL between intent and AWS's answer; AWS creates anyway; the retry after restart gets it."""
    audit, request_id = tmp_path / "audit" / "audit.jsonl", str(uuid.uuid4())
    await control.inject_fault(operation="CreateConnection", kind="latency", latency_ms=1500, count=1)
    doomed = await start(emulator, audit)
    pending = asyncio.create_task(call(doomed, create("made-while-dying"), request_id))
    async with asyncio.timeout(20):
        while await control.faults():  # the fault is used up once the create reached AWS
            await asyncio.sleep(0.02)
    intents = [r for r in map(json.loads, audit.read_text().splitlines()) if r.get("stage") == "intent"]
    assert len(intents) == 1  # on disk before AWS heard of the create
    doomed.proc.send_signal(signal.SIGKILL)
    await doomed.exited()
    with pytest.raises(grpc.aio.AioRpcError):
        await pending
    async with asyncio.timeout(20):  # AWS finishes the create its caller no longer waits for
        while not await connections_named(backend, "made-while-dying"):
            await asyncio.sleep(0.05)

    restarted = await start(emulator, audit)
    try:
        retried = await call(restarted, create("made-while-dying"), request_id)
        metrics = await scrape(restarted.metrics_url)
    finally:
        code, _, logs = await restarted.stop()
    assert code == 0
    assert 'connfacade_audit_recovered_intents_total{result="applied"} 1.0' in metrics
    assert '"event": "audit.intent_recovered"' in logs
    assert await connections_named(backend, "made-while-dying") == [retried.connection_arn]
    assert len(await control.requests(operation="CreateConnection")) == 1
    result = verify([audit.parent])
    assert (result.ok, result.findings) == (True, ())
