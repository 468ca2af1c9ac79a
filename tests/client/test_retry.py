"""Client retries: UNAVAILABLE is called again, creates and deletes under one UUID request id."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from scripted_server import APPRUNNER, HOSTS, abort_with, rich_status

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.client import AppRunnerClient, RetryPolicy, errors
from connfacade.client.aio import AppRunnerClient as AsyncAppRunnerClient
from connfacade.client.aio import CodeStarConnectionsClient as AsyncCodeStarConnectionsClient
from connfacade.codestar.v1 import host_service_pb2 as host_pb2

QUICK = RetryPolicy(max_attempts=3, initial_backoff=0.01)
HOST_ARN = "arn:aws:codestar-connections:us-east-1:123456789012:host/h-0123abcd"


def unavailable(retry_seconds=None):
    details = []
    if retry_seconds is not None:
        details.append(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=retry_seconds)))
    return rich_status(grpc.StatusCode.UNAVAILABLE, "AWS is throttling", details)


def failing_first(times, status, answer):
    """A handler that fails ``times`` calls with ``status``, then answers ``answer``."""
    left = [times]

    def handler(request, context):
        if left[0] > 0:
            left[0] -= 1
            context.abort_with_status(status)
        return answer

    return handler


async def test_a_create_met_by_unavailable_is_retried_under_one_uuid_request_id(scripted_server):
    """The retry carries the first attempt's x-request-id, a UUID the client made, so AWS acts once."""
    created = apprunner_pb2.CreateConnectionResponse(
        connection=apprunner_pb2.Connection(connection_name="web")
    )
    scripted_server.on(APPRUNNER, "CreateConnection", failing_first(1, unavailable(), created))
    async with AsyncAppRunnerClient(scripted_server.target, retry=QUICK) as client:
        response = await client.create_connection(connection_name="web", provider_type="GITHUB")
    assert response == created
    first, second = scripted_server.calls_to("CreateConnection")
    assert first.metadata["x-request-id"] == second.metadata["x-request-id"]
    uuid.UUID(first.metadata["x-request-id"])


async def test_the_callers_uuid_request_id_is_kept_across_retries(scripted_server):
    """A UUID the caller chose is the one every attempt sends."""
    mine = str(uuid.uuid4())
    scripted_server.on(HOSTS, "DeleteHost", failing_first(1, unavailable(), host_pb2.DeleteHostResponse()))
    async with AsyncCodeStarConnectionsClient(scripted_server.target, retry=QUICK) as client:
        await client.delete_host(host_arn=HOST_ARN, metadata=[("X-Request-Id", mine)])
    assert [c.metadata["x-request-id"] for c in scripted_server.calls_to("DeleteHost")] == [mine, mine]


async def test_a_create_with_a_request_id_that_is_not_a_uuid_is_not_retried(scripted_server):
    """The facade cannot deduplicate a non-UUID id, so a retry could create twice: the error is raised."""
    scripted_server.on(APPRUNNER, "CreateConnection", abort_with(unavailable()))
    async with AsyncAppRunnerClient(scripted_server.target, retry=QUICK) as client:
        with pytest.raises(errors.UnavailableError):
            await client.create_connection(
                connection_name="web", provider_type="GITHUB", metadata=[("x-request-id", "deploy-42")]
            )
    assert len(scripted_server.calls_to("CreateConnection")) == 1


async def test_reads_are_retried_without_a_request_id(scripted_server):
    """A read is safe to repeat: it is retried, and no request id is added to it."""
    got = apprunner_pb2.GetConnectionResponse(connection=apprunner_pb2.Connection(connection_name="web"))
    scripted_server.on(APPRUNNER, "GetConnection", failing_first(2, unavailable(), got))
    async with AsyncAppRunnerClient(scripted_server.target, retry=QUICK) as client:
        assert await client.get_connection(connection_name="web") == got
    calls = scripted_server.calls_to("GetConnection")
    assert len(calls) == 3
    assert all("x-request-id" not in c.metadata for c in calls)


async def test_retries_stop_after_max_attempts(scripted_server):
    """Three attempts in all, then the UNAVAILABLE is raised."""
    scripted_server.on(APPRUNNER, "ListConnections", abort_with(unavailable()))
    async with AsyncAppRunnerClient(scripted_server.target, retry=QUICK) as client:
        with pytest.raises(errors.UnavailableError):
            await client.list_connections()
    assert len(scripted_server.calls_to("ListConnections")) == 3


async def test_a_server_asking_for_a_longer_wait_than_max_backoff_is_not_retried(scripted_server):
    """RetryInfo of 30 s exceeds max_backoff (5 s): the caller hears at once, with the delay."""
    scripted_server.on(APPRUNNER, "ListConnections", abort_with(unavailable(retry_seconds=30)))
    async with AsyncAppRunnerClient(scripted_server.target, retry=RetryPolicy(max_backoff=5)) as client:
        with pytest.raises(errors.UnavailableError) as caught:
            await client.list_connections()
    assert caught.value.retry_delay == 30.0
    assert len(scripted_server.calls_to("ListConnections")) == 1


async def test_no_retry_starts_that_the_deadline_would_cut_short(scripted_server):
    """A 2 s RetryInfo does not fit in a 1 s timeout: one attempt, its error raised."""
    scripted_server.on(APPRUNNER, "ListConnections", abort_with(unavailable(retry_seconds=2)))
    async with AsyncAppRunnerClient(scripted_server.target, retry=QUICK, timeout=1.0) as client:
        with pytest.raises(errors.UnavailableError):
            await client.list_connections()
    assert len(scripted_server.calls_to("ListConnections")) == 1


async def test_other_errors_are_not_retried(scripted_server):
    """Only UNAVAILABLE means 'try again': NOT_FOUND is raised after one call."""
    scripted_server.on(APPRUNNER, "GetConnection", abort_with(rich_status(grpc.StatusCode.NOT_FOUND, "no")))
    async with AsyncAppRunnerClient(scripted_server.target, retry=QUICK) as client:
        with pytest.raises(errors.NotFoundError):
            await client.get_connection(connection_name="web")
    assert len(scripted_server.calls_to("GetConnection")) == 1


def test_the_blocking_client_retries_a_create_under_one_request_id(scripted_server):
    """The blocking client (generated from the asyncio one) retries the same way."""
    created = apprunner_pb2.CreateConnectionResponse(
        connection=apprunner_pb2.Connection(connection_name="web")
    )
    scripted_server.on(APPRUNNER, "CreateConnection", failing_first(1, unavailable(), created))
    with AppRunnerClient(scripted_server.target, retry=QUICK) as client:
        assert client.create_connection(connection_name="web", provider_type="GITHUB") == created
    ids = {c.metadata["x-request-id"] for c in scripted_server.calls_to("CreateConnection")}
    assert len(ids) == 1


def test_a_retry_policy_needs_at_least_one_attempt():
    """max_attempts counts the first call: 0 is a mistake, refused at once."""
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
