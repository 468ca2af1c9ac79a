"""SIGTERM to a real server in the middle of unary load and open watches.

The sidecar sequence: health NOT_SERVING first, in-flight unary calls finish,
every watch stream ends with a resume token, the audit log is flushed and
verifies, exit 0 within the grace; a reconnecting client misses nothing.
AWS is an emulator outside the server process, so its state survives restarts.
"""

from __future__ import annotations

import asyncio
import json
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.apprunner.v1 import connection_service_pb2_grpc as ar_grpc
from connfacade.client import AsyncAppRunnerClient, Resync
from connfacade.server.audit import verify
from connfacade.server.testing import serve

GRACE = 10.0
WORKERS = 16
WATCHERS = 10
AWS_LATENCY_MS = 300  # keeps calls in flight when SIGTERM arrives
ENV = {"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_REGION": "us-east-1"}


async def start(emulator, sock, audit):
    return await serve(
        "--backend",
        "aws",
        "--aws-endpoint-url",
        emulator.url,
        "--listen",
        f"unix:{sock}",
        "--health-address",
        "127.0.0.1:0",
        "--audit-file",
        str(audit),
        "--shutdown-grace",
        str(GRACE),
        env=ENV,
        expect=("grpc", "health"),
    )


async def test_sigterm_under_load_loses_no_call_no_event_and_no_record(  # noqa: C901, PLR0915 - one scenario
    emulator, control, tmp_path, record_property
):
    """In-flight calls succeed, watchers get resume tokens, health flips first, audit verifies, exit 0."""
    sock, audit = tmp_path / "grpc.sock", tmp_path / "audit" / "audit.jsonl"
    served = await start(emulator, sock, audit)
    health_address = served.health_address
    await control.inject_fault(operation="CreateConnection", kind="latency", latency_ms=AWS_LATENCY_MS)

    channel = grpc.aio.insecure_channel(f"unix:{sock}")
    stub = ar_grpc.ConnectionServiceStub(channel)
    health_channel = grpc.aio.insecure_channel(health_address)
    health_seen: list[tuple[float, int]] = []

    async def watch_health():
        stream = health_pb2_grpc.HealthStub(health_channel).Watch(health_pb2.HealthCheckRequest())
        async for response in stream:
            health_seen.append((time.monotonic(), response.status))  # noqa: PERF401 - timestamped on arrival

    health_task = asyncio.create_task(watch_health())
    # Watchers read their streams as they go, on a connection of their own, as real ones do.
    watch_channel = grpc.aio.insecure_channel(f"unix:{sock}", options=[("grpc.use_local_subchannel_pool", 1)])
    watch_stub = ar_grpc.ConnectionServiceStub(watch_channel)
    watches = [
        watch_stub.WatchConnections(ar.WatchConnectionsRequest(skip_initial_snapshot=True))
        for _ in range(WATCHERS)
    ]
    for watch in watches:
        assert (await watch.read()).type == ar.EVENT_TYPE_SYNCED
    watch_ends = [asyncio.create_task(read_to_end(watch)) for watch in watches]

    # The client that will reconnect across the restart.
    client = AsyncAppRunnerClient(f"unix:{sock}")
    reflector = client.watch_connections(max_backoff=0.5)
    reflected: list[object] = []

    async def reflect():
        async for item in reflector:
            reflected.append(item)  # noqa: PERF401 - the list is read while it grows

    reflect_task = asyncio.create_task(reflect())

    stopping = False
    created: list[str] = []
    failures: list[grpc.aio.AioRpcError] = []

    async def worker(w):
        i = 0
        while not stopping:  # checked before every new call: only calls already in flight meet SIGTERM
            i += 1
            name = f"load-{w:02d}-{i:03d}"
            try:
                await stub.CreateConnection(
                    ar.CreateConnectionRequest(connection_name=name, provider_type=ar.PROVIDER_TYPE_GITHUB)
                )
                created.append(name)
                if not stopping:
                    await stub.ListConnections(ar.ListConnectionsRequest())
            except grpc.aio.AioRpcError as err:
                failures.append((name, err))

    workers = [asyncio.create_task(worker(w)) for w in range(WORKERS)]
    await asyncio.sleep(1.5)
    stopping = True  # in Kubernetes the app has stopped calling before its sidecar is told to stop
    sigterm_at = time.monotonic()
    code, _, _ = await served.stop()
    exited_after = time.monotonic() - sigterm_at
    await asyncio.gather(*workers)

    assert failures == [], [(name, err.debug_error_string()) for name, err in failures][
        :1
    ]  # in-flight calls finished  # every in-flight unary call finished
    assert code == 0
    assert exited_after < GRACE
    assert not sock.exists()
    not_serving = [t for t, status in health_seen if status == health_pb2.HealthCheckResponse.NOT_SERVING]
    assert not_serving, f"health never said NOT_SERVING: {health_seen}"
    endings = await asyncio.gather(*watch_ends)
    assert all(code == grpc.StatusCode.UNAVAILABLE and token for code, token in endings), endings
    result = verify([audit.parent])
    assert result.ok, result
    assert result.findings == ()  # every intent has its completion
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    completed = [
        r for r in records if r.get("eventName") == "CreateConnection" and r.get("stage") == "completion"
    ]
    assert len(completed) == len(created)

    # A new server on the same socket: the client resumes, learns it must resync,
    # and its fresh snapshot holds every connection AWS has.
    restarted = await start(emulator, sock, audit)
    try:
        async with asyncio.timeout(30):
            while not any(isinstance(x, Resync) for x in reflected) or not any(
                getattr(x, "type", None) == ar.EVENT_TYPE_SYNCED
                and reflected.index(x) > _resync_index(reflected)
                for x in reflected
            ):
                await asyncio.sleep(0.05)
        after = reflected[_resync_index(reflected) + 1 :]
        snapshot = {e.connection.connection_name for e in after if e.type == ar.EVENT_TYPE_ADDED}
        assert snapshot == set(created)
    finally:
        reflect_task.cancel()
        health_task.cancel()
        await asyncio.gather(reflect_task, health_task, return_exceptions=True)
        await client.close()
        await channel.close()
        await watch_channel.close()
        await health_channel.close()
        assert (await restarted.stop())[0] == 0
    # The measured shutdown goes into the JUnit results (.test-results/junit.xml).
    record_property("shutdown_exit_ms", round(exited_after * 1000))
    record_property("shutdown_not_serving_ms", round((not_serving[0] - sigterm_at) * 1000))
    record_property("creates_under_load", len(created))


async def read_to_end(watch):
    """Reads a stream to its end; returns its status code and the resume token it left."""
    try:
        while True:
            await watch.read()
    except grpc.aio.AioRpcError as err:
        return err.code(), dict(err.trailing_metadata()).get("x-connfacade-resume-token")


def _resync_index(items):
    return max((i for i, x in enumerate(items) if isinstance(x, Resync)), default=-1)
