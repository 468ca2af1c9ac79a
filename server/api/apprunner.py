"""connfacade.apprunner.v1.ConnectionService: proto ⇄ domain, nothing more."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.server.api import convert
from connfacade.server.api.boundary import read_options, rpc
from connfacade.server.api.responses import ReadAnswer, ResponseCache
from connfacade.server.api.scopes import ScopeGuard, apprunner_name_of
from connfacade.server.api.streams import ConnectionStreams
from connfacade.server.domain import ConnectionStatus
from connfacade.server.security import OPEN_GATE, Gate

if TYPE_CHECKING:
    import grpc

    from connfacade.server.api.audit_trail import Auditor
    from connfacade.server.domain import Connection, Tag
    from connfacade.server.operations import AppRunnerConnections

    Ctx = grpc.aio.ServicerContext[Any, Any]

_PROVIDERS = {v.number: v.name for v in pb.ProviderType.DESCRIPTOR.values}
_STATUS = {s: pb.ConnectionStatus.Value(f"CONNECTION_STATUS_{s.value}") for s in ConnectionStatus}


def connection_pb(c: Connection) -> pb.Connection:
    """A domain connection as the App Runner proto."""
    return pb.Connection(
        connection_name=c.name,
        connection_arn=c.arn,
        provider_type=pb.ProviderType.Value(f"PROVIDER_TYPE_{c.provider_type.value}")
        if c.provider_type
        else pb.PROVIDER_TYPE_UNSPECIFIED,
        status=_STATUS[c.status],
        created_at=convert.timestamp(c.created_at),
        console_url=c.console_url,
    )


async def _name_of(arn: str) -> str | None:
    return apprunner_name_of(arn)  # App Runner ARNs carry the name: nothing to look up


def _key(c: Connection) -> tuple[str, str]:
    return c.name, c.arn


def _tags_pb(tags: tuple[Tag, ...]) -> list[pb.Tag]:
    return [pb.Tag(key=t.key, value=t.value) for t in tags]


class AppRunnerConnectionService:
    """Serves App Runner connections from `AppRunnerConnections`."""

    def __init__(
        self, ops: AppRunnerConnections, auditor: Auditor | None = None, gate: Gate = OPEN_GATE
    ) -> None:
        self._ops = ops
        self.auditor = auditor  # read by the rpc boundary
        self.gate = gate  # read by the rpc boundary
        self._responses = ResponseCache()
        self._streams = ConnectionStreams(ops.store, pb, connection_pb, _PROVIDERS, gate.watchers)
        self._scope = ScopeGuard(_name_of)

    @rpc("apprunner.CreateConnection")
    async def CreateConnection(
        self, request: pb.CreateConnectionRequest, context: Ctx
    ) -> pb.CreateConnectionResponse:
        self._scope.name(request.connection_name)
        connection = await self._ops.create_connection(
            name=request.connection_name,
            provider_type=convert.provider_type(request.provider_type, _PROVIDERS),
            tags=convert.tags(request.tags),
        )
        return pb.CreateConnectionResponse(connection=connection_pb(connection))

    @rpc("apprunner.ListConnections")
    async def ListConnections(self, request: pb.ListConnectionsRequest, context: Ctx) -> ReadAnswer:
        max_results = convert.optional_int(request, "max_results")
        read = await self._ops.list_connections(
            name=request.connection_name,
            max_results=max_results,
            next_token=request.next_token,
            options=read_options(context),
        )
        page = read.value
        if self._scope.restricted:
            visible = pb.ListConnectionsResponse(
                connection_summary_list=[connection_pb(c) for c in self._scope.visible(page.items, _key)],
                next_token=page.next_token,
            )
            return ReadAnswer(visible, read.info)
        return self._responses.answer(
            read.info,
            ("list", request.connection_name, max_results, request.next_token),
            lambda: pb.ListConnectionsResponse(
                connection_summary_list=[connection_pb(c) for c in page.items], next_token=page.next_token
            ),
        )

    @rpc("apprunner.GetConnection")
    async def GetConnection(self, request: pb.GetConnectionRequest, context: Ctx) -> ReadAnswer:
        await self._scope.resource(arn=request.connection_arn, name=request.connection_name)
        read = await self._ops.get_connection(
            arn=request.connection_arn, name=request.connection_name, options=read_options(context)
        )
        return self._responses.answer(
            read.info,
            ("get", request.connection_arn, request.connection_name),
            lambda: pb.GetConnectionResponse(connection=connection_pb(read.value)),
        )

    @rpc("apprunner.WatchConnections")
    async def WatchConnections(self, request: pb.WatchConnectionsRequest, context: Ctx) -> None:
        await self._streams.watch(request, context)

    @rpc("apprunner.WaitForConnection")
    async def WaitForConnection(self, request: pb.WaitForConnectionRequest, context: Ctx) -> ReadAnswer:
        await self._scope.resource(arn=request.connection_arn, name=request.connection_name)
        statuses = self._streams.statuses(request.statuses)
        with self._streams.held():
            read = await self._ops.wait_for_connection(
                arn=request.connection_arn,
                name=request.connection_name,
                statuses=statuses,
                options=read_options(context),
            )
        return ReadAnswer(pb.WaitForConnectionResponse(connection=connection_pb(read.value)), read.info)

    @rpc("apprunner.DeleteConnection")
    async def DeleteConnection(
        self, request: pb.DeleteConnectionRequest, context: Ctx
    ) -> pb.DeleteConnectionResponse:
        await self._scope.arn(request.connection_arn)
        connection = await self._ops.delete_connection(arn=request.connection_arn)
        return pb.DeleteConnectionResponse(connection=connection_pb(connection))

    @rpc("apprunner.TagResource")
    async def TagResource(self, request: pb.TagResourceRequest, context: Ctx) -> pb.TagResourceResponse:
        await self._scope.arn(request.resource_arn)
        await self._ops.tag_resource(arn=request.resource_arn, tags=convert.tags(request.tags))
        return pb.TagResourceResponse()

    @rpc("apprunner.UntagResource")
    async def UntagResource(self, request: pb.UntagResourceRequest, context: Ctx) -> pb.UntagResourceResponse:
        await self._scope.arn(request.resource_arn)
        await self._ops.untag_resource(arn=request.resource_arn, keys=list(request.tag_keys))
        return pb.UntagResourceResponse()

    @rpc("apprunner.ListTagsForResource")
    async def ListTagsForResource(self, request: pb.ListTagsForResourceRequest, context: Ctx) -> ReadAnswer:
        await self._scope.arn(request.resource_arn)
        read = await self._ops.list_tags_for_resource(arn=request.resource_arn, options=read_options(context))
        return ReadAnswer(pb.ListTagsForResourceResponse(tags=_tags_pb(read.value)), read.info)
