"""connfacade.codestar.v1 ConnectionService and HostService: proto ⇄ domain, nothing more."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connfacade.codestar.v1 import connection_service_pb2 as pb
from connfacade.codestar.v1 import host_service_pb2 as host_pb
from connfacade.codestar.v1 import types_pb2
from connfacade.server.api import convert
from connfacade.server.api.boundary import read_options, rpc
from connfacade.server.api.responses import ReadAnswer, ResponseCache
from connfacade.server.api.scopes import ScopeGuard, is_host_arn
from connfacade.server.api.streams import ConnectionStreams
from connfacade.server.domain import ConnectionStatus, DomainError, VpcConfiguration
from connfacade.server.security import OPEN_GATE, Gate

if TYPE_CHECKING:
    from collections.abc import Iterable

    import grpc

    from connfacade.server.api.audit_trail import Auditor
    from connfacade.server.domain import Connection, Host, ProviderType, Tag
    from connfacade.server.operations import CodeStarConnections, CodeStarHosts

    Ctx = grpc.aio.ServicerContext[Any, Any]

_PROVIDERS = {v.number: v.name for v in types_pb2.ProviderType.DESCRIPTOR.values}
_STATUS = {s: pb.ConnectionStatus.Value(f"CONNECTION_STATUS_{s.value}") for s in ConnectionStatus}


def _provider_pb(p: ProviderType | None) -> types_pb2.ProviderType.ValueType:
    return (
        types_pb2.ProviderType.Value(f"PROVIDER_TYPE_{p.value}") if p else types_pb2.PROVIDER_TYPE_UNSPECIFIED
    )


def _tags_pb(tags: Iterable[Tag]) -> list[types_pb2.Tag]:
    return [types_pb2.Tag(key=t.key, value=t.value) for t in tags]


def connection_pb(c: Connection) -> pb.Connection:
    """A domain connection as the CodeStar proto."""
    return pb.Connection(
        connection_name=c.name,
        connection_arn=c.arn,
        provider_type=_provider_pb(c.provider_type),
        owner_account_id=c.owner_account_id,
        connection_status=_STATUS[c.status],
        host_arn=c.host_arn,
        console_url=c.console_url,
    )


def host_pb_of(h: Host) -> host_pb.Host:
    """A domain host as the proto."""
    vpc = h.vpc_configuration
    return host_pb.Host(
        name=h.name,
        host_arn=h.arn,
        provider_type=_provider_pb(h.provider_type),
        provider_endpoint=h.provider_endpoint,
        vpc_configuration=host_pb.VpcConfiguration(
            vpc_id=vpc.vpc_id,
            subnet_ids=vpc.subnet_ids,
            security_group_ids=vpc.security_group_ids,
            tls_certificate=vpc.tls_certificate,
        )
        if vpc
        else None,
        status=h.status,
        status_message=h.status_message,
    )


def _connection_key(c: Connection) -> tuple[str, str]:
    return c.name, c.arn


def _host_key(h: Host) -> tuple[str, str]:
    return h.name, h.arn


def _vpc(message: Any) -> VpcConfiguration | None:
    if not message.HasField("vpc_configuration"):
        return None
    v = message.vpc_configuration
    return VpcConfiguration(v.vpc_id, tuple(v.subnet_ids), tuple(v.security_group_ids), v.tls_certificate)


async def host_name_of(hosts: CodeStarHosts, arn: str) -> str | None:
    """A host's name, for scope checks; None when it cannot be found."""
    # Hosts have no store; whether the lookup fails or finds a host out of
    # scope, the caller is told the same PERMISSION_DENIED.
    try:
        return (await hosts.get_host(arn=arn)).name
    except DomainError:
        return None


class CodeStarConnectionService:
    """Serves CodeStar connections from `CodeStarConnections`."""

    def __init__(
        self,
        ops: CodeStarConnections,
        auditor: Auditor | None = None,
        gate: Gate = OPEN_GATE,
        hosts: CodeStarHosts | None = None,
    ) -> None:
        self._ops = ops
        self._hosts = hosts  # the tag RPCs take host ARNs too
        self.auditor = auditor  # read by the rpc boundary
        self.gate = gate  # read by the rpc boundary
        self._responses = ResponseCache()
        self._streams = ConnectionStreams(ops.store, pb, connection_pb, _PROVIDERS, gate.watchers)
        self._scope = ScopeGuard(self._name_of)

    async def _name_of(self, arn: str) -> str | None:
        if self._hosts is not None and is_host_arn(arn):
            return await host_name_of(self._hosts, arn)
        # From the store, not AWS: asking AWS would tell a caller what exists.
        connection = self._ops.store.known(arn)
        return connection.name if connection is not None else None

    @rpc("codestar.CreateConnection")
    async def CreateConnection(
        self, request: pb.CreateConnectionRequest, context: Ctx
    ) -> pb.CreateConnectionResponse:
        self._scope.name(request.connection_name)
        connection, tags = await self._ops.create_connection(
            name=request.connection_name,
            provider_type=convert.provider_type(request.provider_type, _PROVIDERS),
            tags=convert.tags(request.tags),
            host_arn=request.host_arn,
        )
        return pb.CreateConnectionResponse(
            connection_arn=connection.arn, tags=_tags_pb(tags), connection=connection_pb(connection)
        )

    @rpc("codestar.GetConnection")
    async def GetConnection(self, request: pb.GetConnectionRequest, context: Ctx) -> ReadAnswer:
        await self._scope.arn(request.connection_arn)
        read = await self._ops.get_connection(arn=request.connection_arn, options=read_options(context))
        return self._responses.answer(
            read.info,
            ("get", request.connection_arn),
            lambda: pb.GetConnectionResponse(connection=connection_pb(read.value)),
        )

    @rpc("codestar.ListConnections")
    async def ListConnections(self, request: pb.ListConnectionsRequest, context: Ctx) -> ReadAnswer:
        max_results = convert.optional_int(request, "max_results")
        read = await self._ops.list_connections(
            provider_type=convert.provider_type(
                request.provider_type_filter, _PROVIDERS, "provider_type_filter"
            ),
            host_arn=request.host_arn_filter,
            max_results=max_results,
            next_token=request.next_token,
            options=read_options(context),
        )
        page = read.value
        if self._scope.restricted:
            visible = pb.ListConnectionsResponse(
                connections=[connection_pb(c) for c in self._scope.visible(page.items, _connection_key)],
                next_token=page.next_token,
            )
            return ReadAnswer(visible, read.info)
        return self._responses.answer(
            read.info,
            ("list", request.provider_type_filter, request.host_arn_filter, max_results, request.next_token),
            lambda: pb.ListConnectionsResponse(
                connections=[connection_pb(c) for c in page.items], next_token=page.next_token
            ),
        )

    @rpc("codestar.WatchConnections")
    async def WatchConnections(self, request: pb.WatchConnectionsRequest, context: Ctx) -> None:
        await self._streams.watch(request, context)

    @rpc("codestar.WaitForConnection")
    async def WaitForConnection(self, request: pb.WaitForConnectionRequest, context: Ctx) -> ReadAnswer:
        await self._scope.arn(request.connection_arn)
        statuses = self._streams.statuses(request.statuses)
        with self._streams.held():
            read = await self._ops.wait_for_connection(
                arn=request.connection_arn, statuses=statuses, options=read_options(context)
            )
        return ReadAnswer(pb.WaitForConnectionResponse(connection=connection_pb(read.value)), read.info)

    @rpc("codestar.DeleteConnection")
    async def DeleteConnection(
        self, request: pb.DeleteConnectionRequest, context: Ctx
    ) -> pb.DeleteConnectionResponse:
        await self._scope.arn(request.connection_arn)
        await self._ops.delete_connection(arn=request.connection_arn)
        return pb.DeleteConnectionResponse()

    @rpc("codestar.TagResource")
    async def TagResource(self, request: pb.TagResourceRequest, context: Ctx) -> pb.TagResourceResponse:
        await self._scope.arn(request.resource_arn)
        await self._ops.tag_resource(arn=request.resource_arn, tags=convert.tags(request.tags))
        return pb.TagResourceResponse()

    @rpc("codestar.UntagResource")
    async def UntagResource(self, request: pb.UntagResourceRequest, context: Ctx) -> pb.UntagResourceResponse:
        await self._scope.arn(request.resource_arn)
        await self._ops.untag_resource(arn=request.resource_arn, keys=list(request.tag_keys))
        return pb.UntagResourceResponse()

    @rpc("codestar.ListTagsForResource")
    async def ListTagsForResource(self, request: pb.ListTagsForResourceRequest, context: Ctx) -> ReadAnswer:
        await self._scope.arn(request.resource_arn)
        read = await self._ops.list_tags_for_resource(arn=request.resource_arn, options=read_options(context))
        return ReadAnswer(pb.ListTagsForResourceResponse(tags=_tags_pb(read.value)), read.info)


class CodeStarHostService:
    """Serves CodeStar hosts from `CodeStarHosts`."""

    def __init__(self, ops: CodeStarHosts, auditor: Auditor | None = None, gate: Gate = OPEN_GATE) -> None:
        self._ops = ops
        self.auditor = auditor  # read by the rpc boundary
        self.gate = gate  # read by the rpc boundary
        self._scope = ScopeGuard(self._name_of)

    async def _name_of(self, arn: str) -> str | None:
        return await host_name_of(self._ops, arn)

    @rpc("codestar.CreateHost")
    async def CreateHost(
        self, request: host_pb.CreateHostRequest, context: Ctx
    ) -> host_pb.CreateHostResponse:
        self._scope.name(request.name)
        arn, tags = await self._ops.create_host(
            name=request.name,
            provider_type=convert.provider_type(request.provider_type, _PROVIDERS),
            provider_endpoint=request.provider_endpoint,
            vpc_configuration=_vpc(request),
            tags=convert.tags(request.tags),
        )
        return host_pb.CreateHostResponse(host_arn=arn, tags=_tags_pb(tags))

    @rpc("codestar.GetHost")
    async def GetHost(self, request: host_pb.GetHostRequest, context: Ctx) -> host_pb.GetHostResponse:
        await self._scope.arn(request.host_arn)
        return host_pb.GetHostResponse(host=host_pb_of(await self._ops.get_host(arn=request.host_arn)))

    @rpc("codestar.ListHosts")
    async def ListHosts(self, request: host_pb.ListHostsRequest, context: Ctx) -> host_pb.ListHostsResponse:
        page = await self._ops.list_hosts(
            max_results=convert.optional_int(request, "max_results"), next_token=request.next_token
        )
        return host_pb.ListHostsResponse(
            hosts=[host_pb_of(h) for h in self._scope.visible(page.items, _host_key)],
            next_token=page.next_token,
        )

    @rpc("codestar.DeleteHost")
    async def DeleteHost(
        self, request: host_pb.DeleteHostRequest, context: Ctx
    ) -> host_pb.DeleteHostResponse:
        await self._scope.arn(request.host_arn)
        await self._ops.delete_host(arn=request.host_arn)
        return host_pb.DeleteHostResponse()

    @rpc("codestar.UpdateHost")
    async def UpdateHost(
        self, request: host_pb.UpdateHostRequest, context: Ctx
    ) -> host_pb.UpdateHostResponse:
        await self._scope.arn(request.host_arn)
        await self._ops.update_host(
            arn=request.host_arn, provider_endpoint=request.provider_endpoint, vpc_configuration=_vpc(request)
        )
        return host_pb.UpdateHostResponse()
