"""Roles and scopes: viewers only read; scoped principals see and touch only their prefix.

Refusals come before anything is looked up, so PERMISSION_DENIED is the same
whether or not the resource exists, and no AWS call is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import pytest
from google.rpc import error_details_pb2
from rpc_details import detail
from security_helpers import bearer

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.codestar.v1 import connection_service_pb2 as cs_pb
from connfacade.codestar.v1 import host_service_pb2 as host_pb
from connfacade.codestar.v1 import types_pb2

if TYPE_CHECKING:
    from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc
    from connfacade.codestar.v1 import connection_service_pb2_grpc as cs_grpc
    from connfacade.codestar.v1 import host_service_pb2_grpc as host_grpc
    from connfacade.server.emulator import EmulatorControl

GITHUB = pb.PROVIDER_TYPE_GITHUB
MISSING_ARN = (
    "arn:aws:apprunner:us-east-1:123456789012:connection/team-b-gone/0123456789abcdef0123456789abcdef"
)


async def create(stub: pb_grpc.ConnectionServiceStub, name: str) -> pb.Connection:
    response = await stub.CreateConnection(
        pb.CreateConnectionRequest(connection_name=name, provider_type=GITHUB), metadata=bearer("editor")
    )
    return response.connection


async def create_hosts(hosts: host_grpc.HostServiceStub, *names: str) -> dict[str, str]:
    """GitHub Enterprise hosts made by the editor: their ARNs by name."""
    arns = {}
    for name in names:
        response = await hosts.CreateHost(
            host_pb.CreateHostRequest(
                name=name,
                provider_type=types_pb2.PROVIDER_TYPE_GITHUB_ENTERPRISE_SERVER,
                provider_endpoint=f"https://{name}.example.com",
            ),
            metadata=bearer("editor"),
        )
        arns[name] = response.host_arn
    return arns


async def denied(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED, caught.value.details()
    return caught.value


async def test_a_viewer_is_denied_a_mutation_before_aws(
    apprunner: pb_grpc.ConnectionServiceStub, control: EmulatorControl
):
    """A viewer's CreateConnection: PERMISSION_DENIED (ROLE_FORBIDS_METHOD), and AWS is not called."""
    before = len(await control.requests())
    err = await denied(
        apprunner.CreateConnection(
            pb.CreateConnectionRequest(connection_name="v", provider_type=GITHUB), metadata=bearer("viewer")
        )
    )
    info = detail(err, error_details_pb2.ErrorInfo)
    assert info is not None
    assert (info.reason, info.metadata["principal"]) == ("ROLE_FORBIDS_METHOD", "viewer")
    assert len(await control.requests()) == before


async def test_a_viewer_is_denied_delete_and_tagging(apprunner: pb_grpc.ConnectionServiceStub):
    """Delete, Tag and Untag are editor calls."""
    connection = await create(apprunner, "shared-1")
    arn = connection.connection_arn
    await denied(
        apprunner.DeleteConnection(pb.DeleteConnectionRequest(connection_arn=arn), metadata=bearer("viewer"))
    )
    await denied(
        apprunner.TagResource(
            pb.TagResourceRequest(resource_arn=arn, tags=[pb.Tag(key="k", value="v")]),
            metadata=bearer("viewer"),
        )
    )
    await denied(
        apprunner.UntagResource(
            pb.UntagResourceRequest(resource_arn=arn, tag_keys=["k"]), metadata=bearer("viewer")
        )
    )


async def test_a_viewer_may_get_list_and_list_tags(apprunner: pb_grpc.ConnectionServiceStub):
    """The read calls answer a viewer."""
    connection = await create(apprunner, "shared-2")
    got = await apprunner.GetConnection(
        pb.GetConnectionRequest(connection_arn=connection.connection_arn), metadata=bearer("viewer")
    )
    listed = await apprunner.ListConnections(pb.ListConnectionsRequest(), metadata=bearer("viewer"))
    await apprunner.ListTagsForResource(
        pb.ListTagsForResourceRequest(resource_arn=connection.connection_arn), metadata=bearer("viewer")
    )
    assert got.connection.connection_name == "shared-2"
    assert [c.connection_name for c in listed.connection_summary_list] == ["shared-2"]


async def test_a_viewer_may_watch(apprunner: pb_grpc.ConnectionServiceStub):
    """WatchConnections is a read: the viewer gets the snapshot."""
    await create(apprunner, "shared-3")
    stream = apprunner.WatchConnections(pb.WatchConnectionsRequest(), metadata=bearer("viewer"))
    first = await stream.read()
    stream.cancel()
    assert first.connection.connection_name == "shared-3"


async def test_a_scoped_principal_is_denied_a_resource_outside_its_prefix(
    apprunner: pb_grpc.ConnectionServiceStub,
):
    """team-a's viewer asking for team-b's connection: PERMISSION_DENIED (OUT_OF_SCOPE)."""
    other = await create(apprunner, "team-b-app")
    err = await denied(
        apprunner.GetConnection(
            pb.GetConnectionRequest(connection_arn=other.connection_arn), metadata=bearer("team-a-viewer")
        )
    )
    info = detail(err, error_details_pb2.ErrorInfo)
    assert info is not None
    assert info.reason == "OUT_OF_SCOPE"


async def test_out_of_scope_answers_the_same_whether_or_not_the_resource_exists(
    apprunner: pb_grpc.ConnectionServiceStub,
):
    """A missing connection outside the prefix is PERMISSION_DENIED too, not NOT_FOUND."""
    await create(apprunner, "team-b-app")
    by_name = await denied(
        apprunner.GetConnection(
            pb.GetConnectionRequest(connection_name="team-b-app"), metadata=bearer("team-a")
        )
    )
    missing = await denied(
        apprunner.GetConnection(
            pb.GetConnectionRequest(connection_arn=MISSING_ARN), metadata=bearer("team-a")
        )
    )
    gone = await denied(
        apprunner.GetConnection(
            pb.GetConnectionRequest(connection_name="team-b-nothing"), metadata=bearer("team-a")
        )
    )
    assert by_name.code() == missing.code() == gone.code()


async def test_a_scoped_editor_may_create_and_delete_inside_its_prefix(
    apprunner: pb_grpc.ConnectionServiceStub,
):
    """team-a creates `team-a-api` and deletes it."""
    created = await apprunner.CreateConnection(
        pb.CreateConnectionRequest(connection_name="team-a-api", provider_type=GITHUB),
        metadata=bearer("team-a"),
    )
    await apprunner.DeleteConnection(
        pb.DeleteConnectionRequest(connection_arn=created.connection.connection_arn),
        metadata=bearer("team-a"),
    )


async def test_a_scoped_editor_may_not_create_outside_its_prefix(
    apprunner: pb_grpc.ConnectionServiceStub, control: EmulatorControl
):
    """team-a creating `team-b-api`: PERMISSION_DENIED, no AWS call."""
    before = len(await control.requests())
    await denied(
        apprunner.CreateConnection(
            pb.CreateConnectionRequest(connection_name="team-b-api", provider_type=GITHUB),
            metadata=bearer("team-a"),
        )
    )
    assert len(await control.requests()) == before


async def test_a_scoped_editor_may_not_delete_outside_its_prefix(apprunner: pb_grpc.ConnectionServiceStub):
    """team-a deleting team-b's connection: PERMISSION_DENIED, and the connection is still there."""
    other = await create(apprunner, "team-b-db")
    await denied(
        apprunner.DeleteConnection(
            pb.DeleteConnectionRequest(connection_arn=other.connection_arn), metadata=bearer("team-a")
        )
    )
    still = await apprunner.GetConnection(
        pb.GetConnectionRequest(connection_arn=other.connection_arn), metadata=bearer("editor")
    )
    assert still.connection.connection_name == "team-b-db"


async def test_a_scoped_listing_leaves_out_what_is_outside_the_prefix(
    apprunner: pb_grpc.ConnectionServiceStub,
):
    """ListConnections for team-a shows only `team-a-*`; the editor sees all."""
    for name in ("team-a-1", "team-b-1", "team-a-2"):
        await create(apprunner, name)
    scoped = await apprunner.ListConnections(pb.ListConnectionsRequest(), metadata=bearer("team-a-viewer"))
    everything = await apprunner.ListConnections(pb.ListConnectionsRequest(), metadata=bearer("editor"))
    assert [c.connection_name for c in scoped.connection_summary_list] == ["team-a-1", "team-a-2"]
    assert len(everything.connection_summary_list) == 3


async def test_a_scoped_watch_sees_only_its_prefix(apprunner: pb_grpc.ConnectionServiceStub):
    """The snapshot and later events of a scoped watcher leave out other teams' connections."""
    await create(apprunner, "team-b-2")
    await create(apprunner, "team-a-3")
    stream = apprunner.WatchConnections(pb.WatchConnectionsRequest(), metadata=bearer("team-a-viewer"))
    snapshot = []
    while (event := await stream.read()).type != pb.EVENT_TYPE_SYNCED:
        snapshot.append(event.connection.connection_name)
    await create(apprunner, "team-b-3")
    await create(apprunner, "team-a-4")
    while (after := await stream.read()).type == pb.EVENT_TYPE_BOOKMARK:
        pass
    stream.cancel()
    assert snapshot == ["team-a-3"]
    assert after.connection.connection_name == "team-a-4"


async def test_a_codestar_arn_is_checked_against_the_name_it_belongs_to(
    codestar: cs_grpc.ConnectionServiceStub,
):
    """CodeStar ARNs hold no name: the facade finds it, and team-a reads its own but not team-b's."""
    created = {}
    for name in ("team-a-cs", "team-b-cs"):
        response = await codestar.CreateConnection(
            cs_pb.CreateConnectionRequest(connection_name=name, provider_type=types_pb2.PROVIDER_TYPE_GITHUB),
            metadata=bearer("editor"),
        )
        created[name] = response.connection_arn
    own = await codestar.GetConnection(
        cs_pb.GetConnectionRequest(connection_arn=created["team-a-cs"]), metadata=bearer("team-a")
    )
    assert own.connection.connection_name == "team-a-cs"
    await denied(
        codestar.GetConnection(
            cs_pb.GetConnectionRequest(connection_arn=created["team-b-cs"]), metadata=bearer("team-a")
        )
    )


async def test_a_host_outside_the_prefix_is_denied_and_left_out_of_listings(hosts: host_grpc.HostServiceStub):
    """Hosts: team-a cannot get team-b's host, and ListHosts shows only team-a's."""
    arns = await create_hosts(hosts, "team-a-ghe", "team-b-ghe")
    await denied(
        hosts.GetHost(host_pb.GetHostRequest(host_arn=arns["team-b-ghe"]), metadata=bearer("team-a"))
    )
    listed = await hosts.ListHosts(host_pb.ListHostsRequest(), metadata=bearer("team-a"))
    assert [h.name for h in listed.hosts] == ["team-a-ghe"]


async def test_a_scoped_editor_tags_its_own_host_but_not_another_through_the_connection_service(
    codestar: cs_grpc.ConnectionServiceStub, hosts: host_grpc.HostServiceStub
):
    """The CodeStar tag RPCs take host ARNs too: team-a's host is found by name, team-b's is denied."""
    arns = await create_hosts(hosts, "team-a-tagged", "team-b-tagged")
    tags = [types_pb2.Tag(key="team", value="a")]
    await codestar.TagResource(
        cs_pb.TagResourceRequest(resource_arn=arns["team-a-tagged"], tags=tags), metadata=bearer("team-a")
    )
    listed = await codestar.ListTagsForResource(
        cs_pb.ListTagsForResourceRequest(resource_arn=arns["team-a-tagged"]), metadata=bearer("team-a")
    )
    assert [(t.key, t.value) for t in listed.tags] == [("team", "a")]
    await denied(
        codestar.TagResource(
            cs_pb.TagResourceRequest(resource_arn=arns["team-b-tagged"], tags=tags), metadata=bearer("team-a")
        )
    )


async def test_a_request_id_is_remembered_per_principal(
    apprunner: pb_grpc.ConnectionServiceStub, control: EmulatorControl
):
    """Another principal reusing a request id is not handed the first answer: its create reaches AWS."""
    request = pb.CreateConnectionRequest(connection_name="team-a-idem", provider_type=GITHUB)
    request_id = ("x-request-id", "8a2b7a2e-4f7c-4c61-9d7e-2b1c0f3e6a55")
    await apprunner.CreateConnection(request, metadata=(*bearer("editor"), request_id))
    before = len(await control.requests())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.CreateConnection(request, metadata=(*bearer("team-a"), request_id))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT  # AWS: the name is taken
    assert len(await control.requests()) == before + 1
