"""The asyncio clients against a scripted server over real TCP and Unix-socket transports."""

from __future__ import annotations

import time

import grpc
import grpc.aio
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from scripted_server import APPRUNNER, CODESTAR, HOSTS, abort_with, rich_status

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.client import RetryPolicy, errors
from connfacade.client.aio import AppRunnerClient, CodeStarConnectionsClient
from connfacade.codestar.v1 import connection_service_pb2 as codestar_pb2
from connfacade.codestar.v1 import host_service_pb2 as host_pb2
from connfacade.codestar.v1 import types_pb2


async def test_create_connection_sends_the_request_and_returns_the_response(scripted_server):
    """Keyword arguments become the request; the response message comes back typed."""

    def create(request, context):
        return apprunner_pb2.CreateConnectionResponse(
            connection=apprunner_pb2.Connection(
                connection_name=request.connection_name,
                provider_type=request.provider_type,
                status=apprunner_pb2.CONNECTION_STATUS_PENDING_HANDSHAKE,
            )
        )

    scripted_server.on(APPRUNNER, "CreateConnection", create)
    async with AppRunnerClient(scripted_server.target) as client:
        response = await client.create_connection(
            connection_name="web-app", provider_type="github", tags={"team": "web"}
        )
    assert isinstance(response, apprunner_pb2.CreateConnectionResponse)
    assert response.connection.status == apprunner_pb2.CONNECTION_STATUS_PENDING_HANDSHAKE
    (call,) = scripted_server.calls
    assert call.request == apprunner_pb2.CreateConnectionRequest(
        connection_name="web-app",
        provider_type=apprunner_pb2.PROVIDER_TYPE_GITHUB,
        tags=[apprunner_pb2.Tag(key="team", value="web")],
    )


async def test_an_unknown_enum_name_fails_before_any_call(scripted_server):
    """ValueError is raised in the client; the server never sees the call."""
    async with AppRunnerClient(scripted_server.target) as client:
        with pytest.raises(ValueError, match="GITLAB"):
            await client.create_connection(connection_name="web-app", provider_type="GITLAB")
    assert scripted_server.calls == []


async def test_status_with_details_becomes_a_typed_error(scripted_server):
    """INVALID_ARGUMENT with BadRequest and the request ids arrives as InvalidArgumentError."""
    status = rich_status(
        grpc.StatusCode.INVALID_ARGUMENT,
        "1 bad field",
        [
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field="connection_name", description="too short"
                    )
                ]
            )
        ],
        trailers=[("x-request-id", "req-7"), ("x-aws-request-id", "aws-9")],
    )
    scripted_server.on(APPRUNNER, "CreateConnection", abort_with(status))
    async with AppRunnerClient(scripted_server.target) as client:
        with pytest.raises(errors.InvalidArgumentError) as caught:
            await client.create_connection(connection_name="x", provider_type="GITHUB")
    err = caught.value
    assert err.code is grpc.StatusCode.INVALID_ARGUMENT
    assert err.message == "1 bad field"
    assert err.field_violations == [("connection_name", "too short")]
    assert err.request_id == "req-7"
    assert err.aws_request_id == "aws-9"
    assert isinstance(err.__cause__, grpc.aio.AioRpcError)


async def test_unavailable_carries_retry_delay(scripted_server):
    """UNAVAILABLE with RetryInfo gives UnavailableError.retry_delay."""
    status = rich_status(
        grpc.StatusCode.UNAVAILABLE,
        "throttled",
        [error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=3))],
    )
    scripted_server.on(CODESTAR, "ListConnections", abort_with(status))
    async with CodeStarConnectionsClient(scripted_server.target, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(errors.UnavailableError) as caught:
            await client.list_connections()
    assert caught.value.retry_delay == 3.0


async def test_plain_abort_without_details(scripted_server):
    """A status without rich details is still typed, with empty details."""

    def not_found(request, context):
        context.abort(grpc.StatusCode.NOT_FOUND, "no such host")

    scripted_server.on(HOSTS, "GetHost", not_found)
    async with CodeStarConnectionsClient(scripted_server.target) as client:
        with pytest.raises(errors.NotFoundError, match="no such host") as caught:
            await client.get_host(host_arn="arn:aws:codestar-connections:us-east-1:1:host/h-1")
    assert caught.value.details == []


async def test_client_and_call_metadata_reach_the_server(scripted_server):
    """Client metadata is sent on every call, followed by the call's own (x-request-id here)."""
    async with AppRunnerClient(scripted_server.target, metadata=[("x-workload", "billing")]) as client:
        await client.list_tags_for_resource(resource_arn="arn:1", metadata=[("x-request-id", "req-42")])
        await client.list_tags_for_resource(resource_arn="arn:2")
    first, second = scripted_server.calls
    assert first.metadata["x-workload"] == "billing"
    assert first.metadata["x-request-id"] == "req-42"
    assert second.metadata["x-workload"] == "billing"
    assert "x-request-id" not in second.metadata


async def test_timeouts_become_deadlines(scripted_server):
    """The client's timeout is the default deadline; a call may override it or remove it."""
    async with AppRunnerClient(scripted_server.target, timeout=20.0) as client:
        await client.get_connection(connection_name="a")
        await client.get_connection(connection_name="b", timeout=5.0)
        await client.get_connection(connection_name="c", timeout=None)
    default, override, unlimited = (call.deadline_seconds for call in scripted_server.calls)
    assert 15.0 < default < 20.5
    assert 3.0 < override < 5.5
    assert unlimited is None


async def test_an_exceeded_deadline_is_a_typed_error(scripted_server):
    """A slow server turns into DeadlineExceededError."""

    def slow(request, context):
        time.sleep(0.5)
        return host_pb2.ListHostsResponse()

    scripted_server.on(HOSTS, "ListHosts", slow)
    async with CodeStarConnectionsClient(scripted_server.target) as client:
        with pytest.raises(errors.DeadlineExceededError):
            await client.list_hosts(timeout=0.05)


async def test_unix_socket_target(scripted_unix_server):
    """unix:PATH targets work like TCP ones."""
    assert scripted_unix_server.target.startswith("unix:")
    async with CodeStarConnectionsClient(scripted_unix_server.target) as client:
        response = await client.get_connection(
            connection_arn="arn:aws:codeconnections:us-east-1:1:connection/x"
        )
    assert isinstance(response, codestar_pb2.GetConnectionResponse)
    assert scripted_unix_server.calls[0].request.connection_arn.startswith("arn:aws:codeconnections:")


async def test_nothing_listening_is_unavailable():
    """A target with no server gives UnavailableError, not a raw grpc error."""
    async with AppRunnerClient("unix:/nonexistent/connfacade.sock", timeout=2.0) as client:
        with pytest.raises(errors.UnavailableError):
            await client.list_connections()


async def test_codestar_client_calls_both_services(scripted_server):
    """The CodeStar client reaches ConnectionService and HostService over one channel."""
    async with CodeStarConnectionsClient(scripted_server.target) as client:
        await client.create_connection(
            connection_name="c", provider_type="GitLab", tags=[types_pb2.Tag(key="k", value="v")]
        )
        await client.list_connections(provider_type_filter="GitHubEnterpriseServer", max_results=5)
        await client.create_host(
            name="ghe",
            provider_type="GitHubEnterpriseServer",
            provider_endpoint="https://ghe.example.com",
            vpc_configuration={
                "vpc_id": "vpc-12345678",
                "subnet_ids": ["subnet-1"],
                "security_group_ids": ["sg-1"],
            },
        )
        await client.update_host(host_arn="arn:h", provider_endpoint="https://ghe2.example.com")
        await client.untag_resource(resource_arn="arn:c", tag_keys=["k"])
        await client.delete_host(host_arn="arn:h")
    services = [(call.service, call.method) for call in scripted_server.calls]
    assert services == [
        (CODESTAR, "CreateConnection"),
        (CODESTAR, "ListConnections"),
        (HOSTS, "CreateHost"),
        (HOSTS, "UpdateHost"),
        (CODESTAR, "UntagResource"),
        (HOSTS, "DeleteHost"),
    ]
    create, listing, host, update, _, _ = (call.request for call in scripted_server.calls)
    assert create.provider_type == types_pb2.PROVIDER_TYPE_GITLAB
    assert create.tags == [types_pb2.Tag(key="k", value="v")]
    assert listing.provider_type_filter == types_pb2.PROVIDER_TYPE_GITHUB_ENTERPRISE_SERVER
    assert listing.HasField("max_results")
    assert listing.max_results == 5
    assert host.vpc_configuration.security_group_ids == ["sg-1"]
    assert not update.HasField("vpc_configuration")


async def test_unset_max_results_is_not_sent(scripted_server):
    """max_results has presence: leaving it out lets the server pick its default."""
    async with AppRunnerClient(scripted_server.target) as client:
        await client.list_connections()
    assert not scripted_server.calls[0].request.HasField("max_results")


async def test_an_injected_channel_stays_open(scripted_server):
    """Closing a client does not close a channel it was given."""
    channel = grpc.aio.insecure_channel(scripted_server.target)
    try:
        async with AppRunnerClient(channel=channel) as client:
            assert client.channel is channel
            await client.list_connections()
        async with CodeStarConnectionsClient(channel=channel) as other:
            await other.list_hosts()
    finally:
        await channel.close()
    assert len(scripted_server.calls) == 2


async def test_an_owned_channel_is_closed(scripted_server):
    """A client closes the channel it created; later calls fail."""
    client = AppRunnerClient(scripted_server.target)
    await client.list_connections()
    await client.close()
    with pytest.raises(grpc.aio.UsageError):
        await client.list_connections()
