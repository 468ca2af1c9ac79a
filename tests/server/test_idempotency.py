"""Idempotent creates and deletes (AIP-155): a retry with the same request id runs once."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from status_details import violated_fields

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.codestar.v1 import connection_service_pb2 as cs
from connfacade.codestar.v1 import host_service_pb2 as hs
from connfacade.codestar.v1 import types_pb2 as cs_types

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
    again = await codestar.CreateConnection(request, metadata=rid, timeout=5)
    await asyncio.sleep(0.8)  # past the first request's latency: it has reached AWS by now
    listed = await codestar.ListConnections(cs.ListConnectionsRequest(), metadata=CONSISTENT_READ)
    assert [c.connection_arn for c in listed.connections] == [again.connection_arn]
    assert len(await control.requests(operation="CreateConnection")) == 1
