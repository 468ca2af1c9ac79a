"""CodeStar ConnectionService and HostService: every RPC's happy path, end to end."""

from __future__ import annotations

import re

import grpc
import pytest

from connfacade.codestar.v1 import connection_service_pb2 as pb
from connfacade.codestar.v1 import host_service_pb2 as host_pb
from connfacade.codestar.v1 import types_pb2

ARN = re.compile(r"arn:aws:codestar-connections:us-east-1:\d{12}:connection/[0-9a-f-]{36}")


async def create(codestar, name="my-connection", provider=types_pb2.PROVIDER_TYPE_GITHUB, **kw):
    return await codestar.CreateConnection(
        pb.CreateConnectionRequest(connection_name=name, provider_type=provider, **kw)
    )


async def create_host(hosts, name="my-ghes"):
    return (
        await hosts.CreateHost(
            host_pb.CreateHostRequest(
                name=name,
                provider_type=types_pb2.PROVIDER_TYPE_GITHUB_ENTERPRISE_SERVER,
                provider_endpoint="https://ghes.example.com",
            )
        )
    ).host_arn


async def test_create_connection_returns_arn_tags_and_the_pending_connection(codestar):
    """CreateConnection answers AWS's ARN and tags plus the connection with its console link."""
    out = await create(codestar, tags=[types_pb2.Tag(key="team", value="a")])
    assert ARN.fullmatch(out.connection_arn)
    assert [(t.key, t.value) for t in out.tags] == [("team", "a")]
    assert out.connection.connection_arn == out.connection_arn
    assert out.connection.connection_status == pb.CONNECTION_STATUS_PENDING_HANDSHAKE
    assert out.connection.owner_account_id == "123456789012"
    assert "/codesuite/settings/123456789012/us-east-1/connections/" in out.connection.console_url


async def test_get_connection(codestar):
    """GetConnection returns the connection by ARN."""
    arn = (await create(codestar)).connection_arn
    got = await codestar.GetConnection(pb.GetConnectionRequest(connection_arn=arn))
    assert got.connection.connection_name == "my-connection"
    assert got.connection.provider_type == types_pb2.PROVIDER_TYPE_GITHUB


async def test_get_connection_accepts_the_codeconnections_arn(codestar):
    """The 2024 `codeconnections` ARN prefix names the same connection."""
    arn = (await create(codestar)).connection_arn
    renamed = arn.replace("arn:aws:codestar-connections:", "arn:aws:codeconnections:")
    got = await codestar.GetConnection(pb.GetConnectionRequest(connection_arn=renamed))
    assert got.connection.connection_name == "my-connection"


async def test_list_connections_filters_by_provider(codestar):
    """provider_type_filter narrows the listing."""
    await create(codestar, "gh")
    await create(codestar, "bb", types_pb2.PROVIDER_TYPE_BITBUCKET)
    page = await codestar.ListConnections(
        pb.ListConnectionsRequest(provider_type_filter=types_pb2.PROVIDER_TYPE_BITBUCKET)
    )
    assert [c.connection_name for c in page.connections] == ["bb"]


async def test_handshake_completion_is_visible(codestar, control):
    """A completed handshake turns PENDING into AVAILABLE."""
    arn = (await create(codestar)).connection_arn
    await control.complete_handshake(arn, status="AVAILABLE")
    got = await codestar.GetConnection(pb.GetConnectionRequest(connection_arn=arn))
    assert got.connection.connection_status == pb.CONNECTION_STATUS_AVAILABLE


async def test_delete_connection(codestar):
    """A deleted connection is NOT_FOUND afterwards."""
    arn = (await create(codestar)).connection_arn
    await codestar.DeleteConnection(pb.DeleteConnectionRequest(connection_arn=arn))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await codestar.GetConnection(pb.GetConnectionRequest(connection_arn=arn))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_tags_round_trip(codestar):
    """TagResource, UntagResource and ListTagsForResource work on connections."""
    arn = (await create(codestar)).connection_arn
    await codestar.TagResource(
        pb.TagResourceRequest(resource_arn=arn, tags=[types_pb2.Tag(key="k", value="v")])
    )
    await codestar.TagResource(
        pb.TagResourceRequest(resource_arn=arn, tags=[types_pb2.Tag(key="x", value="y")])
    )
    await codestar.UntagResource(pb.UntagResourceRequest(resource_arn=arn, tag_keys=["x"]))
    tags = await codestar.ListTagsForResource(pb.ListTagsForResourceRequest(resource_arn=arn))
    assert [(t.key, t.value) for t in tags.tags] == [("k", "v")]


async def test_host_lifecycle(hosts, control):
    """Create, get, list, update (once AVAILABLE) and delete a host."""
    arn = await create_host(hosts)
    got = (await hosts.GetHost(host_pb.GetHostRequest(host_arn=arn))).host
    assert (got.name, got.status, got.host_arn) == ("my-ghes", "PENDING", arn)
    assert got.provider_endpoint == "https://ghes.example.com"
    listed = await hosts.ListHosts(host_pb.ListHostsRequest())
    assert [h.host_arn for h in listed.hosts] == [arn]
    await control.complete_handshake(arn, status="AVAILABLE")
    await hosts.UpdateHost(
        host_pb.UpdateHostRequest(host_arn=arn, provider_endpoint="https://ghes2.example.com")
    )
    got = (await hosts.GetHost(host_pb.GetHostRequest(host_arn=arn))).host
    assert got.provider_endpoint == "https://ghes2.example.com"
    await hosts.DeleteHost(host_pb.DeleteHostRequest(host_arn=arn))
    assert list((await hosts.ListHosts(host_pb.ListHostsRequest())).hosts) == []


async def test_connection_through_a_host_takes_its_provider(codestar, hosts, control):
    """A connection created on an AVAILABLE host records the host and its provider."""
    host_arn = await create_host(hosts)
    await control.complete_handshake(host_arn, status="AVAILABLE")
    out = await codestar.CreateConnection(
        pb.CreateConnectionRequest(connection_name="via-host", host_arn=host_arn)
    )
    assert out.connection.host_arn == host_arn
    assert out.connection.provider_type == types_pb2.PROVIDER_TYPE_GITHUB_ENTERPRISE_SERVER
    page = await codestar.ListConnections(pb.ListConnectionsRequest(host_arn_filter=host_arn))
    assert [c.connection_name for c in page.connections] == ["via-host"]
