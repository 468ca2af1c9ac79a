"""Idempotent creates and deletes (AIP-155): a retry with the same request id runs once."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from status_details import violated_fields

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.apprunner.v1 import connection_service_pb2_grpc as ar_grpc
from connfacade.codestar.v1 import connection_service_pb2 as cs
from connfacade.codestar.v1 import host_service_pb2 as hs
from connfacade.codestar.v1 import types_pb2 as cs_types
from connfacade.server.app import start_facade

CONSISTENT_READ = (("x-connfacade-consistent-read", "true"),)


def request_id(value=None):
    return (("x-request-id", value or str(uuid.uuid4())),)


def create(name="retried-conn"):
    return ar.CreateConnectionRequest(connection_name=name, provider_type=ar.PROVIDER_TYPE_GITHUB)


async def creates(control):
    return len(await control.requests(operation="CreateConnection"))


async def test_a_retried_create_returns_the_first_answer_and_creates_once(apprunner, control):
    """The same request id and parameters: the same connection, one AWS call."""
    rid = request_id()
    first = await apprunner.CreateConnection(create(), metadata=rid)
    again = await apprunner.CreateConnection(create(), metadata=rid)
    assert again == first
    assert await creates(control) == 1


async def test_concurrent_duplicates_create_once(apprunner, control):
    """Retries racing the first call share its answer."""
    rid = request_id()
    answers = await asyncio.gather(*(apprunner.CreateConnection(create(), metadata=rid) for _ in range(5)))
    assert len({a.connection.connection_arn for a in answers}) == 1
    assert await creates(control) == 1


async def test_reusing_a_request_id_with_other_parameters_is_invalid_argument(apprunner):
    """A request id names one request; other parameters under it are refused, naming x-request-id."""
    rid = request_id()
    await apprunner.CreateConnection(create("first-name"), metadata=rid)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.CreateConnection(create("other-name"), metadata=rid)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(caught.value) == ["x-request-id"]


async def test_without_a_uuid_request_id_a_retry_is_a_new_call(apprunner, control):
    """Idempotency needs a UUID request id; other ids are only echoed."""
    await apprunner.CreateConnection(create(), metadata=request_id("not-a-uuid"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.CreateConnection(create(), metadata=request_id("not-a-uuid"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # AWS: the name exists
    assert await creates(control) == 2


async def test_a_failed_call_is_not_remembered(apprunner, control):
    """After a failure, the retry with the same request id really runs."""
    await control.inject_fault(
        operation="CreateConnection",
        kind="error",
        http_status=500,
        code="InternalServiceErrorException",
        message="boom",
        count=1,
    )
    rid = request_id()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.CreateConnection(create(), metadata=rid)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    created = await apprunner.CreateConnection(create(), metadata=rid)
    assert created.connection.connection_name == "retried-conn"


async def test_a_retried_delete_returns_the_first_answer_not_not_found(apprunner):
    """Deletes are idempotent the same way: the retry does not fail because the first succeeded."""
    arn = (await apprunner.CreateConnection(create())).connection.connection_arn
    rid = request_id()
    first = await apprunner.DeleteConnection(ar.DeleteConnectionRequest(connection_arn=arn), metadata=rid)
    again = await apprunner.DeleteConnection(ar.DeleteConnectionRequest(connection_arn=arn), metadata=rid)
    assert again == first


async def test_a_retried_create_host_creates_one_host(hosts, control):
    """CreateHost is idempotent too."""
    rid = request_id()
    request = hs.CreateHostRequest(name="ghes", provider_type=3, provider_endpoint="https://ghes.example.com")
    first = await hosts.CreateHost(request, metadata=rid)
    again = await hosts.CreateHost(request, metadata=rid)
    assert again.host_arn == first.host_arn
    assert len(await control.requests(operation="CreateHost")) == 1


async def test_a_retry_after_the_caller_gave_up_creates_once(codestar, control):
    """The first call's deadline passes while AWS is still creating: the retry gets that connection.

    AWS goes on with a request the facade stopped waiting for, so the facade must
    not forget it: a retry with the same id that called AWS again made a second
    connection of the same name (CodeStar allows that; App Runner refused the
    retry with "already exists").
    """
    await control.inject_fault(operation="CreateConnection", kind="latency", latency_ms=600, count=1)
    rid = request_id()
    request = cs.CreateConnectionRequest(
        connection_name="slow-conn", provider_type=cs_types.PROVIDER_TYPE_GITHUB
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await codestar.CreateConnection(request, metadata=rid, timeout=0.2)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # The retry joins the first call, so when it answers, that call has had AWS's answer.
    again = await codestar.CreateConnection(request, metadata=rid, timeout=5)
    listed = await codestar.ListConnections(cs.ListConnectionsRequest(), metadata=CONSISTENT_READ)
    assert [c.connection_arn for c in listed.connections] == [again.connection_arn]
    assert len(await control.requests(operation="CreateConnection")) == 1


async def test_a_request_id_reused_for_another_services_rpc_is_invalid_argument(apprunner, codestar):
    """The same id and ARN sent to CodeStar then App Runner is two requests, not a retry of one."""
    request = cs.CreateConnectionRequest(
        connection_name="shared", provider_type=cs_types.PROVIDER_TYPE_GITHUB
    )
    arn = (await codestar.CreateConnection(request)).connection_arn
    rid = request_id()
    await codestar.DeleteConnection(cs.DeleteConnectionRequest(connection_arn=arn), metadata=rid)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.DeleteConnection(ar.DeleteConnectionRequest(connection_arn=arn), metadata=rid)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(caught.value) == ["x-request-id"]


async def test_a_request_id_reused_for_another_rpc_of_the_same_service_is_invalid_argument(apprunner):
    """A create's id sent again with a delete is refused, not answered with the create's result."""
    rid = request_id()
    arn = (await apprunner.CreateConnection(create(), metadata=rid)).connection.connection_arn
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.DeleteConnection(ar.DeleteConnectionRequest(connection_arn=arn), metadata=rid)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(caught.value) == ["x-request-id"]


async def test_a_replayed_create_does_not_bring_back_a_deleted_connection(apprunner):
    """The replay answers as the first call did, but the store keeps what happened since."""
    rid = request_id()
    arn = (await apprunner.CreateConnection(create(), metadata=rid)).connection.connection_arn
    await apprunner.DeleteConnection(ar.DeleteConnectionRequest(connection_arn=arn))
    again = await apprunner.CreateConnection(create(), metadata=rid)
    assert again.connection.connection_arn == arn
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.GetConnection(ar.GetConnectionRequest(connection_arn=arn))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_replayed_create_does_not_undo_a_completed_handshake(apprunner, control):
    """A retry after the handshake gets the first answer (pending); the store stays AVAILABLE."""
    rid = request_id()
    arn = (await apprunner.CreateConnection(create(), metadata=rid)).connection.connection_arn
    await control.complete_handshake(arn, "AVAILABLE")
    await apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=CONSISTENT_READ)
    again = await apprunner.CreateConnection(create(), metadata=rid)
    assert again.connection.status == ar.CONNECTION_STATUS_PENDING_HANDSHAKE
    got = await apprunner.GetConnection(ar.GetConnectionRequest(connection_arn=arn))
    assert got.connection.status == ar.CONNECTION_STATUS_AVAILABLE


async def test_a_retried_codestar_delete_returns_ok_not_not_found(codestar, control):
    """CodeStar DeleteConnection is idempotent: one AWS delete, two OK answers."""
    request = cs.CreateConnectionRequest(connection_name="gone", provider_type=cs_types.PROVIDER_TYPE_GITHUB)
    arn = (await codestar.CreateConnection(request)).connection_arn
    rid = request_id()
    for _ in range(2):
        await codestar.DeleteConnection(cs.DeleteConnectionRequest(connection_arn=arn), metadata=rid)
    assert len(await control.requests(operation="DeleteConnection")) == 1


async def test_a_retried_delete_host_returns_ok_not_not_found(hosts, control):
    """DeleteHost is idempotent: one AWS delete, two OK answers."""
    request = hs.CreateHostRequest(name="ghes", provider_type=3, provider_endpoint="https://ghes.example.com")
    arn = (await hosts.CreateHost(request)).host_arn
    rid = request_id()
    for _ in range(2):
        await hosts.DeleteHost(hs.DeleteHostRequest(host_arn=arn), metadata=rid)
    assert len(await control.requests(operation="DeleteHost")) == 1


async def test_a_request_id_is_forgotten_after_the_window(backend, store_settings, control):
    """Past the window the same id is a new request: AWS is asked again (and refuses the name)."""
    facade = await start_facade(
        backend, ["127.0.0.1:0"], store_settings=store_settings, idempotency_window=0.2
    )
    try:
        async with grpc.aio.insecure_channel(facade.addresses[0]) as channel:
            stub = ar_grpc.ConnectionServiceStub(channel)
            rid = request_id()
            await stub.CreateConnection(create(), metadata=rid)
            await asyncio.sleep(0.4)  # past the window: not a timing assertion, only a wait
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.CreateConnection(create(), metadata=rid)
    finally:
        await facade.stop(0)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # AWS: the name exists
    assert await creates(control) == 2


async def test_shutdown_waits_for_a_create_whose_caller_gave_up(backend, store_settings, control):
    """A create still in AWS's hands at shutdown finishes, and the store learns of it, within the grace."""
    # AWS answers well after the caller's deadline; the deadline leaves a loaded
    # machine ample time to have sent the create to AWS before it passes.
    await control.inject_fault(operation="CreateConnection", kind="latency", latency_ms=3000, count=1)
    facade = await start_facade(backend, ["127.0.0.1:0"], store_settings=store_settings)
    async with grpc.aio.insecure_channel(facade.addresses[0]) as channel:
        stub = ar_grpc.ConnectionServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.CreateConnection(create(), metadata=request_id(), timeout=1.5)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await facade.stop(10)
    names = [c.name for c in facade.stores["apprunner"]._table.connections()]
    assert names == ["retried-conn"]
