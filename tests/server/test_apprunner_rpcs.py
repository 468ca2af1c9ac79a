"""App Runner ConnectionService: every RPC's happy path, end to end."""

from __future__ import annotations

import re

import grpc
import pytest

from connfacade.apprunner.v1 import connection_service_pb2 as pb

ARN = re.compile(r"arn:aws:apprunner:us-east-1:\d{12}:connection/(?P<name>[\w-]+)/[0-9a-f]{32}")


async def create(apprunner, name="my-github-connection", provider=pb.PROVIDER_TYPE_GITHUB, tags=()):
    return (
        await apprunner.CreateConnection(
            pb.CreateConnectionRequest(
                connection_name=name,
                provider_type=provider,
                tags=[pb.Tag(key=k, value=v) for k, v in tags],
            )
        )
    ).connection


async def test_create_connection_returns_a_pending_connection_with_console_link(apprunner):
    """A new connection is PENDING_HANDSHAKE, has a real ARN and a console URL."""
    connection = await create(apprunner)
    assert connection.connection_name == "my-github-connection"
    assert ARN.fullmatch(connection.connection_arn)
    assert connection.provider_type == pb.PROVIDER_TYPE_GITHUB
    assert connection.status == pb.CONNECTION_STATUS_PENDING_HANDSHAKE
    assert connection.created_at.seconds > 0
    assert connection.console_url.startswith("https://us-east-1.console.aws.amazon.com/apprunner/")


async def test_list_connections_lists_what_was_created(apprunner):
    """ListConnections returns every created connection."""
    await create(apprunner, "conn-one")
    await create(apprunner, "conn-two", pb.PROVIDER_TYPE_BITBUCKET)
    page = await apprunner.ListConnections(pb.ListConnectionsRequest())
    assert sorted(c.connection_name for c in page.connection_summary_list) == ["conn-one", "conn-two"]
    assert page.next_token == ""


async def test_list_connections_filters_by_name(apprunner):
    """connection_name narrows the listing to that connection."""
    await create(apprunner, "conn-one")
    await create(apprunner, "conn-two")
    page = await apprunner.ListConnections(pb.ListConnectionsRequest(connection_name="conn-two"))
    assert [c.connection_name for c in page.connection_summary_list] == ["conn-two"]


async def test_get_connection_by_arn(apprunner):
    """GetConnection (a facade addition) finds a connection by ARN."""
    created = await create(apprunner)
    got = await apprunner.GetConnection(pb.GetConnectionRequest(connection_arn=created.connection_arn))
    assert got.connection == created


async def test_get_connection_by_name(apprunner):
    """GetConnection finds a connection by name."""
    created = await create(apprunner)
    got = await apprunner.GetConnection(pb.GetConnectionRequest(connection_name="my-github-connection"))
    assert got.connection.connection_arn == created.connection_arn


async def test_get_connection_of_unknown_name_is_not_found(apprunner):
    """An unknown name is NOT_FOUND."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.GetConnection(pb.GetConnectionRequest(connection_name="nobody-here"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_get_connection_sees_a_completed_handshake(apprunner, control):
    """Completing the handshake in the emulator makes the connection AVAILABLE."""
    created = await create(apprunner)
    await control.complete_handshake(created.connection_arn, status="AVAILABLE")
    got = await apprunner.GetConnection(pb.GetConnectionRequest(connection_arn=created.connection_arn))
    assert got.connection.status == pb.CONNECTION_STATUS_AVAILABLE


async def test_delete_connection_returns_it_deleted_and_removes_it(apprunner):
    """DeleteConnection returns the connection as DELETED; it is gone afterwards."""
    created = await create(apprunner)
    deleted = await apprunner.DeleteConnection(
        pb.DeleteConnectionRequest(connection_arn=created.connection_arn)
    )
    assert deleted.connection.connection_arn == created.connection_arn
    assert deleted.connection.status == pb.CONNECTION_STATUS_DELETED
    page = await apprunner.ListConnections(pb.ListConnectionsRequest())
    assert list(page.connection_summary_list) == []


async def test_tag_untag_and_list_tags(apprunner):
    """Tags added at creation and later can be listed and removed."""
    created = await create(apprunner, tags=[("team", "payments")])
    arn = created.connection_arn
    await apprunner.TagResource(
        pb.TagResourceRequest(resource_arn=arn, tags=[pb.Tag(key="env", value="prod")])
    )
    tags = await apprunner.ListTagsForResource(pb.ListTagsForResourceRequest(resource_arn=arn))
    assert {(t.key, t.value) for t in tags.tags} == {("team", "payments"), ("env", "prod")}
    await apprunner.UntagResource(pb.UntagResourceRequest(resource_arn=arn, tag_keys=["team"]))
    tags = await apprunner.ListTagsForResource(pb.ListTagsForResourceRequest(resource_arn=arn))
    assert [(t.key, t.value) for t in tags.tags] == [("env", "prod")]


async def test_responses_carry_request_ids(apprunner):
    """The caller's x-request-id is echoed and the AWS request id comes back."""
    call = apprunner.ListConnections(pb.ListConnectionsRequest(), metadata=(("x-request-id", "req-123"),))
    await call
    trailing = dict(await call.trailing_metadata())
    assert trailing["x-request-id"] == "req-123"
    assert re.fullmatch(r"[0-9a-f-]{36}", trailing["x-aws-request-id"])
