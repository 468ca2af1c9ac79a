"""The blocking clients against a scripted server: same requests, same typed errors."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from scripted_server import APPRUNNER, HOSTS, abort_with, rich_status

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.client import errors
from connfacade.client.sync import AppRunnerClient, CodeStarConnectionsClient
from connfacade.codestar.v1 import host_service_pb2 as host_pb2
from connfacade.codestar.v1 import types_pb2


def test_requests_and_responses(scripted_server):
    """Keyword arguments become the request; the typed response comes back."""

    def get(request, context):
        return apprunner_pb2.GetConnectionResponse(
            connection=apprunner_pb2.Connection(connection_name=request.connection_name)
        )

    scripted_server.on(APPRUNNER, "GetConnection", get)
    with AppRunnerClient(scripted_server.target) as client:
        response = client.get_connection(connection_name="web-app")
        client.tag_resource(resource_arn="arn:1", tags=[apprunner_pb2.Tag(key="a", value="b")])
    assert response.connection.connection_name == "web-app"
    assert scripted_server.calls[1].request.tags == [apprunner_pb2.Tag(key="a", value="b")]


def test_errors_are_typed_with_details(scripted_server):
    """The sync path goes through the same registry: QuotaFailure arrives as quota_violations."""
    status = rich_status(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "host quota reached",
        [
            error_details_pb2.QuotaFailure(
                violations=[error_details_pb2.QuotaFailure.Violation(subject="hosts", description="50 hosts")]
            )
        ],
        trailers=[("x-request-id", "r-1")],
    )
    scripted_server.on(HOSTS, "CreateHost", abort_with(status))
    with (
        CodeStarConnectionsClient(scripted_server.target) as client,
        pytest.raises(errors.ResourceExhaustedError) as caught,
    ):
        client.create_host(name="h", provider_type="GitLabSelfManaged", provider_endpoint="https://gl")
    assert caught.value.quota_violations == [("hosts", "50 hosts")]
    assert caught.value.request_id == "r-1"
    assert isinstance(caught.value.__cause__, grpc.RpcError)
    assert scripted_server.calls[0].request.provider_type == types_pb2.PROVIDER_TYPE_GITLAB_SELF_MANAGED


def test_metadata_and_unix_socket(scripted_unix_server):
    """Metadata reaches the server over a Unix socket; upper-case keys are lower-cased."""
    with CodeStarConnectionsClient(scripted_unix_server.target, metadata=[("X-Workload", "ci")]) as client:
        response = client.list_hosts(metadata=[("x-request-id", "r-2")])
    assert isinstance(response, host_pb2.ListHostsResponse)
    assert scripted_unix_server.calls[0].metadata["x-workload"] == "ci"
    assert scripted_unix_server.calls[0].metadata["x-request-id"] == "r-2"


def test_injected_channel_is_not_closed(scripted_server):
    """A sync client leaves a channel it was given open."""
    with grpc.insecure_channel(scripted_server.target) as channel:
        with AppRunnerClient(channel=channel) as client:
            client.list_connections()
        AppRunnerClient(channel=channel).list_connections()
    assert len(scripted_server.calls) == 2


def test_unknown_enum_fails_before_any_call(scripted_server):
    """ValueError before the call, nothing on the wire."""
    with CodeStarConnectionsClient(scripted_server.target) as client, pytest.raises(ValueError, match="SVN"):
        client.list_connections(provider_type_filter="SVN")
    assert scripted_server.calls == []
