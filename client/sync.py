# Generated from client/aio.py by scripts/unasync.py: edit that file, then run the script.
"""Blocking clients of the facade, one per AWS service, with boto3-style method names.

The same methods as :mod:`connfacade.client.aio`, over a plain ``grpc.Channel``,
for scripts and threads that have no event loop.

Each method takes keyword arguments named like the request's proto fields,
returns the response message, and raises a
:class:`~connfacade.client.errors.ConnfacadeError` subclass when the call fails.
Every call may override the client's ``timeout`` and add ``metadata`` (for
example ``[("x-request-id", "...")]``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Self, TypeVar

import grpc

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.apprunner.v1 import connection_service_pb2_grpc as apprunner_grpc
from connfacade.client import _convert
from connfacade.client._convert import (
    DEFAULT_TARGET,
    USE_CLIENT_DEFAULT,
    AppRunnerConnectionStatus,
    AppRunnerProviderType,
    CodeStarConnectionStatus,
    CodeStarProviderType,
    Seconds,
    Tags,
    Timeout,
    VpcConfigurationArg,
)
from connfacade.client.errors import UnavailableError, translate_rpc_errors
from connfacade.client.paginators import Paginator
from connfacade.client.policy import IDEMPOTENT
from connfacade.client.retry import Attempts, RetryPolicy, with_request_id
from connfacade.client.watch import MAX_BACKOFF, ConnectionWatch, WatchEvent, WatchRequest
from connfacade.codestar.v1 import connection_service_pb2 as codestar_pb2
from connfacade.codestar.v1 import connection_service_pb2_grpc as codestar_grpc
from connfacade.codestar.v1 import host_service_pb2 as host_pb2
from connfacade.codestar.v1 import host_service_pb2_grpc as host_grpc
from connfacade.codestar.v1 import types_pb2

if TYPE_CHECKING:
    from types import TracebackType

    from google.protobuf.message import Message

__all__ = ["AppRunnerClient", "CodeStarConnectionsClient"]

_Req = TypeVar("_Req", bound="Message")
_Resp = TypeVar("_Resp", bound="Message")
_WatchReq = TypeVar("_WatchReq", bound=WatchRequest)
_Event = TypeVar("_Event", bound=WatchEvent)

Metadata = Sequence[tuple[str, str]]


class _SyncClient:
    """Channel ownership, per-call options and the one place calls are made."""

    def __init__(
        self,
        target: str,
        *,
        channel: grpc.Channel | None,
        metadata: Metadata,
        timeout: float | None,
        retry: RetryPolicy,
    ) -> None:
        self._owns_channel = channel is None
        self._channel = channel if channel is not None else grpc.insecure_channel(target)
        self._defaults = _convert.CallDefaults.of(timeout, metadata)
        self._retry = retry

    @property
    def channel(self) -> grpc.Channel:
        """The channel calls go through (created by the client unless one was given)."""
        return self._channel

    def close(self) -> None:
        """Close the channel if the client created it; an injected channel stays open."""
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _unary(
        self,
        rpc: grpc.UnaryUnaryMultiCallable[_Req, _Resp],
        request: _Req,
        timeout: Timeout,
        metadata: Metadata,
        *,
        mutation: bool = False,
    ) -> _Resp:
        """One call, retried after UNAVAILABLE as the client's RetryPolicy says (see client/retry.py).

        ``mutation`` (the RPCs the policy table marks idempotent: creates and
        deletes) sends a UUID ``x-request-id``, so that the facade answers a
        retry with the first call's result.
        """
        seconds, pairs = self._defaults.resolve(timeout, metadata)
        retry_safe = True
        if mutation:
            pairs, retry_safe = with_request_id(pairs)
        attempts = Attempts(self._retry, seconds, retry=retry_safe)
        while True:
            try:
                with translate_rpc_errors():
                    return rpc(request, timeout=attempts.begin(), metadata=pairs)
            except UnavailableError as err:
                pause = attempts.pause_after(err)
                if pause is None:
                    raise
            time.sleep(pause)

    def _watch(
        self,
        rpc: grpc.UnaryStreamMultiCallable[_WatchReq, _Event],
        request: _WatchReq,
        *,
        resume_token: str,
        max_backoff: float,
        timeout: Timeout,
        metadata: Metadata,
    ) -> ConnectionWatch[_Event]:
        seconds, pairs = self._defaults.resolve(timeout, metadata)
        return ConnectionWatch(
            rpc, request, metadata=pairs, resume_token=resume_token, timeout=seconds, max_backoff=max_backoff
        )


class AppRunnerClient(_SyncClient):
    """Client of ``connfacade.apprunner.v1.ConnectionService`` (AWS App Runner connections)."""

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        channel: grpc.Channel | None = None,
        metadata: Metadata = (),
        timeout: float | None = 30.0,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so one shared default is safe
    ) -> None:
        super().__init__(target, channel=channel, metadata=metadata, timeout=timeout, retry=retry)
        self._stub = apprunner_grpc.ConnectionServiceStub(self._channel)

    def create_connection(
        self,
        *,
        connection_name: str,
        provider_type: AppRunnerProviderType,
        tags: Tags | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> apprunner_pb2.CreateConnectionResponse:
        """Create a connection; it stays PENDING_HANDSHAKE until completed at its ``console_url``."""
        request = apprunner_pb2.CreateConnectionRequest(
            connection_name=connection_name,
            provider_type=_convert.parse_enum(apprunner_pb2.ProviderType, provider_type),
            tags=_convert.build_tags(apprunner_pb2.Tag, tags),
        )
        return self._unary(
            self._stub.CreateConnection, request, timeout, metadata, mutation="CreateConnection" in IDEMPOTENT
        )

    def list_connections(
        self,
        *,
        connection_name: str = "",
        max_results: int | None = None,
        next_token: str = "",
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> apprunner_pb2.ListConnectionsResponse:
        """One page of connections; see :meth:`paginate_connections` for all of them."""
        request = apprunner_pb2.ListConnectionsRequest(
            connection_name=connection_name, max_results=max_results, next_token=next_token
        )
        return self._unary(self._stub.ListConnections, request, timeout, metadata)

    def get_connection(
        self,
        *,
        connection_arn: str = "",
        connection_name: str = "",
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> apprunner_pb2.GetConnectionResponse:
        """One connection, by ARN or by name (exactly one of them)."""
        request = apprunner_pb2.GetConnectionRequest(
            connection_arn=connection_arn, connection_name=connection_name
        )
        return self._unary(self._stub.GetConnection, request, timeout, metadata)

    def delete_connection(
        self,
        *,
        connection_arn: str,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> apprunner_pb2.DeleteConnectionResponse:
        """Delete a connection; the response holds it as it was deleted."""
        request = apprunner_pb2.DeleteConnectionRequest(connection_arn=connection_arn)
        return self._unary(
            self._stub.DeleteConnection, request, timeout, metadata, mutation="DeleteConnection" in IDEMPOTENT
        )

    def tag_resource(
        self,
        *,
        resource_arn: str,
        tags: Tags,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> apprunner_pb2.TagResourceResponse:
        """Add or overwrite tags on a connection."""
        request = apprunner_pb2.TagResourceRequest(
            resource_arn=resource_arn, tags=_convert.build_tags(apprunner_pb2.Tag, tags)
        )
        return self._unary(self._stub.TagResource, request, timeout, metadata)

    def untag_resource(
        self,
        *,
        resource_arn: str,
        tag_keys: Iterable[str],
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> apprunner_pb2.UntagResourceResponse:
        """Remove tags, by key, from a connection."""
        request = apprunner_pb2.UntagResourceRequest(
            resource_arn=resource_arn, tag_keys=_convert.string_list("tag_keys", tag_keys)
        )
        return self._unary(self._stub.UntagResource, request, timeout, metadata)

    def list_tags_for_resource(
        self,
        *,
        resource_arn: str,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> apprunner_pb2.ListTagsForResourceResponse:
        """The tags of a connection."""
        request = apprunner_pb2.ListTagsForResourceRequest(resource_arn=resource_arn)
        return self._unary(self._stub.ListTagsForResource, request, timeout, metadata)

    def watch_connections(
        self,
        *,
        connection_arns: Iterable[str] | None = None,
        connection_names: Iterable[str] | None = None,
        provider_types: Iterable[AppRunnerProviderType] | None = None,
        statuses: Iterable[AppRunnerConnectionStatus] | None = None,
        resume_token: str = "",
        skip_initial_snapshot: bool = False,
        bookmark_interval: Seconds | None = None,
        max_backoff: float = MAX_BACKOFF,
        timeout: Timeout = None,
        metadata: Metadata = (),
    ) -> ConnectionWatch[apprunner_pb2.WatchConnectionsResponse]:
        """Connection events as they happen, resuming by itself after disconnects.

        A snapshot (ADDED per matching connection, then SYNCED), then ADDED,
        MODIFIED, DELETED and BOOKMARK events; a :class:`~connfacade.client.Resync`
        marker when it had to start over. Filters combine with AND, values
        within one with OR. Reconnections back off up to ``max_backoff``
        seconds and retry forever; ``timeout`` (default: none) bounds the
        whole watch. See :class:`~connfacade.client.ConnectionWatch`.
        """
        request = apprunner_pb2.WatchConnectionsRequest(
            connection_arns=_convert.string_list("connection_arns", connection_arns),
            connection_names=_convert.string_list("connection_names", connection_names),
            provider_types=_convert.parse_enums(apprunner_pb2.ProviderType, provider_types),
            statuses=_convert.parse_enums(apprunner_pb2.ConnectionStatus, statuses),
            skip_initial_snapshot=skip_initial_snapshot,
            bookmark_interval=_convert.duration(bookmark_interval),
        )
        return self._watch(
            self._stub.WatchConnections,
            request,
            resume_token=resume_token,
            max_backoff=max_backoff,
            timeout=timeout,
            metadata=metadata,
        )

    def wait_for_connection(
        self,
        *,
        connection_arn: str = "",
        connection_name: str = "",
        statuses: Iterable[AppRunnerConnectionStatus] | None = None,
        timeout: Timeout = None,
        metadata: Metadata = (),
    ) -> apprunner_pb2.WaitForConnectionResponse:
        """A connection, by ARN or by name, once in one of ``statuses`` (default AVAILABLE or ERROR).

        Unlike the other methods it has no deadline unless given one:
        ``timeout=None`` (the default) waits as long as it takes; a number of
        seconds, or ``USE_CLIENT_DEFAULT``, makes it raise
        ``DeadlineExceededError`` when it passes. Raises ``NotFoundError`` if
        the connection does not exist or is deleted while waiting.
        """
        request = apprunner_pb2.WaitForConnectionRequest(
            connection_arn=connection_arn,
            connection_name=connection_name,
            statuses=_convert.parse_enums(apprunner_pb2.ConnectionStatus, statuses),
        )
        return self._unary(self._stub.WaitForConnection, request, timeout, metadata)

    def paginate_connections(
        self,
        *,
        connection_name: str = "",
        page_size: int | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> Paginator[apprunner_pb2.ListConnectionsResponse, apprunner_pb2.Connection]:
        """Every connection, following ``next_token``; ``timeout`` applies to each page."""

        def fetch(token: str) -> apprunner_pb2.ListConnectionsResponse:
            return self.list_connections(
                connection_name=connection_name,
                max_results=page_size,
                next_token=token,
                timeout=timeout,
                metadata=metadata,
            )

        return Paginator("ListConnections", fetch, lambda page: page.connection_summary_list)


class CodeStarConnectionsClient(_SyncClient):
    """Client of ``connfacade.codestar.v1.ConnectionService`` and ``HostService`` (AWS CodeStar)."""

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        channel: grpc.Channel | None = None,
        metadata: Metadata = (),
        timeout: float | None = 30.0,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so one shared default is safe
    ) -> None:
        super().__init__(target, channel=channel, metadata=metadata, timeout=timeout, retry=retry)
        self._connections = codestar_grpc.ConnectionServiceStub(self._channel)
        self._hosts = host_grpc.HostServiceStub(self._channel)

    def create_connection(
        self,
        *,
        connection_name: str,
        provider_type: CodeStarProviderType | None = None,
        host_arn: str = "",
        tags: Tags | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> codestar_pb2.CreateConnectionResponse:
        """Create a connection (``provider_type``, or ``host_arn`` for a self-managed provider)."""
        request = codestar_pb2.CreateConnectionRequest(
            connection_name=connection_name,
            provider_type=_convert.optional_enum(types_pb2.ProviderType, provider_type),
            host_arn=host_arn,
            tags=_convert.build_tags(types_pb2.Tag, tags),
        )
        return self._unary(
            self._connections.CreateConnection,
            request,
            timeout,
            metadata,
            mutation="CreateConnection" in IDEMPOTENT,
        )

    def get_connection(
        self,
        *,
        connection_arn: str,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> codestar_pb2.GetConnectionResponse:
        """One connection, by ARN (either ARN prefix)."""
        request = codestar_pb2.GetConnectionRequest(connection_arn=connection_arn)
        return self._unary(self._connections.GetConnection, request, timeout, metadata)

    def list_connections(
        self,
        *,
        provider_type_filter: CodeStarProviderType | None = None,
        host_arn_filter: str = "",
        max_results: int | None = None,
        next_token: str = "",
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> codestar_pb2.ListConnectionsResponse:
        """One page of connections; see :meth:`paginate_connections` for all of them."""
        request = codestar_pb2.ListConnectionsRequest(
            provider_type_filter=_convert.optional_enum(types_pb2.ProviderType, provider_type_filter),
            host_arn_filter=host_arn_filter,
            max_results=max_results,
            next_token=next_token,
        )
        return self._unary(self._connections.ListConnections, request, timeout, metadata)

    def delete_connection(
        self,
        *,
        connection_arn: str,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> codestar_pb2.DeleteConnectionResponse:
        """Delete a connection."""
        request = codestar_pb2.DeleteConnectionRequest(connection_arn=connection_arn)
        return self._unary(
            self._connections.DeleteConnection,
            request,
            timeout,
            metadata,
            mutation="DeleteConnection" in IDEMPOTENT,
        )

    def tag_resource(
        self,
        *,
        resource_arn: str,
        tags: Tags,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> codestar_pb2.TagResourceResponse:
        """Add or overwrite tags on a connection or host."""
        request = codestar_pb2.TagResourceRequest(
            resource_arn=resource_arn, tags=_convert.build_tags(types_pb2.Tag, tags)
        )
        return self._unary(self._connections.TagResource, request, timeout, metadata)

    def untag_resource(
        self,
        *,
        resource_arn: str,
        tag_keys: Iterable[str],
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> codestar_pb2.UntagResourceResponse:
        """Remove tags, by key, from a connection or host."""
        request = codestar_pb2.UntagResourceRequest(
            resource_arn=resource_arn, tag_keys=_convert.string_list("tag_keys", tag_keys)
        )
        return self._unary(self._connections.UntagResource, request, timeout, metadata)

    def list_tags_for_resource(
        self,
        *,
        resource_arn: str,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> codestar_pb2.ListTagsForResourceResponse:
        """The tags of a connection or host."""
        request = codestar_pb2.ListTagsForResourceRequest(resource_arn=resource_arn)
        return self._unary(self._connections.ListTagsForResource, request, timeout, metadata)

    def watch_connections(
        self,
        *,
        connection_arns: Iterable[str] | None = None,
        connection_names: Iterable[str] | None = None,
        provider_types: Iterable[CodeStarProviderType] | None = None,
        statuses: Iterable[CodeStarConnectionStatus] | None = None,
        resume_token: str = "",
        skip_initial_snapshot: bool = False,
        bookmark_interval: Seconds | None = None,
        max_backoff: float = MAX_BACKOFF,
        timeout: Timeout = None,
        metadata: Metadata = (),
    ) -> ConnectionWatch[codestar_pb2.WatchConnectionsResponse]:
        """Connection events as they happen, resuming by itself after disconnects.

        A snapshot (ADDED per matching connection, then SYNCED), then ADDED,
        MODIFIED, DELETED and BOOKMARK events; a :class:`~connfacade.client.Resync`
        marker when it had to start over. Filters combine with AND, values
        within one with OR. Reconnections back off up to ``max_backoff``
        seconds and retry forever; ``timeout`` (default: none) bounds the
        whole watch. See :class:`~connfacade.client.ConnectionWatch`.
        """
        request = codestar_pb2.WatchConnectionsRequest(
            connection_arns=_convert.string_list("connection_arns", connection_arns),
            connection_names=_convert.string_list("connection_names", connection_names),
            provider_types=_convert.parse_enums(types_pb2.ProviderType, provider_types),
            statuses=_convert.parse_enums(codestar_pb2.ConnectionStatus, statuses),
            skip_initial_snapshot=skip_initial_snapshot,
            bookmark_interval=_convert.duration(bookmark_interval),
        )
        return self._watch(
            self._connections.WatchConnections,
            request,
            resume_token=resume_token,
            max_backoff=max_backoff,
            timeout=timeout,
            metadata=metadata,
        )

    def wait_for_connection(
        self,
        *,
        connection_arn: str,
        statuses: Iterable[CodeStarConnectionStatus] | None = None,
        timeout: Timeout = None,
        metadata: Metadata = (),
    ) -> codestar_pb2.WaitForConnectionResponse:
        """A connection, by ARN, once in one of ``statuses`` (default AVAILABLE or ERROR).

        Unlike the other methods it has no deadline unless given one:
        ``timeout=None`` (the default) waits as long as it takes; a number of
        seconds, or ``USE_CLIENT_DEFAULT``, makes it raise
        ``DeadlineExceededError`` when it passes. Raises ``NotFoundError`` if
        the connection does not exist or is deleted while waiting.
        """
        wanted = _convert.parse_enums(codestar_pb2.ConnectionStatus, statuses)
        request = codestar_pb2.WaitForConnectionRequest(connection_arn=connection_arn, statuses=wanted)
        return self._unary(self._connections.WaitForConnection, request, timeout, metadata)

    def create_host(
        self,
        *,
        name: str,
        provider_type: CodeStarProviderType,
        provider_endpoint: str,
        vpc_configuration: VpcConfigurationArg | None = None,
        tags: Tags | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> host_pb2.CreateHostResponse:
        """Create a host for a self-managed provider (GitHub Enterprise Server, GitLab self-managed)."""
        request = host_pb2.CreateHostRequest(
            name=name,
            provider_type=_convert.parse_enum(types_pb2.ProviderType, provider_type),
            provider_endpoint=provider_endpoint,
            vpc_configuration=_convert.build_vpc_configuration(vpc_configuration),
            tags=_convert.build_tags(types_pb2.Tag, tags),
        )
        return self._unary(
            self._hosts.CreateHost, request, timeout, metadata, mutation="CreateHost" in IDEMPOTENT
        )

    def get_host(
        self,
        *,
        host_arn: str,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> host_pb2.GetHostResponse:
        """One host, by ARN."""
        request = host_pb2.GetHostRequest(host_arn=host_arn)
        return self._unary(self._hosts.GetHost, request, timeout, metadata)

    def list_hosts(
        self,
        *,
        max_results: int | None = None,
        next_token: str = "",
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> host_pb2.ListHostsResponse:
        """One page of hosts; see :meth:`paginate_hosts` for all of them."""
        request = host_pb2.ListHostsRequest(max_results=max_results, next_token=next_token)
        return self._unary(self._hosts.ListHosts, request, timeout, metadata)

    def delete_host(
        self,
        *,
        host_arn: str,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> host_pb2.DeleteHostResponse:
        """Delete a host."""
        request = host_pb2.DeleteHostRequest(host_arn=host_arn)
        return self._unary(
            self._hosts.DeleteHost, request, timeout, metadata, mutation="DeleteHost" in IDEMPOTENT
        )

    def update_host(
        self,
        *,
        host_arn: str,
        provider_endpoint: str = "",
        vpc_configuration: VpcConfigurationArg | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> host_pb2.UpdateHostResponse:
        """Change a host's provider endpoint or VPC configuration."""
        request = host_pb2.UpdateHostRequest(
            host_arn=host_arn,
            provider_endpoint=provider_endpoint,
            vpc_configuration=_convert.build_vpc_configuration(vpc_configuration),
        )
        return self._unary(self._hosts.UpdateHost, request, timeout, metadata)

    def paginate_connections(
        self,
        *,
        provider_type_filter: CodeStarProviderType | None = None,
        host_arn_filter: str = "",
        page_size: int | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> Paginator[codestar_pb2.ListConnectionsResponse, codestar_pb2.Connection]:
        """Every connection, following ``next_token``; ``timeout`` applies to each page."""
        # Parsed now, so that a bad name fails here and not at the first page.
        provider = _convert.optional_enum(types_pb2.ProviderType, provider_type_filter)

        def fetch(token: str) -> codestar_pb2.ListConnectionsResponse:
            return self.list_connections(
                provider_type_filter=provider,
                host_arn_filter=host_arn_filter,
                max_results=page_size,
                next_token=token,
                timeout=timeout,
                metadata=metadata,
            )

        return Paginator("ListConnections", fetch, lambda page: page.connections)

    def paginate_hosts(
        self,
        *,
        page_size: int | None = None,
        timeout: Timeout = USE_CLIENT_DEFAULT,
        metadata: Metadata = (),
    ) -> Paginator[host_pb2.ListHostsResponse, host_pb2.Host]:
        """Every host, following ``next_token``; ``timeout`` applies to each page."""

        def fetch(token: str) -> host_pb2.ListHostsResponse:
            return self.list_hosts(
                max_results=page_size, next_token=token, timeout=timeout, metadata=metadata
            )

        return Paginator("ListHosts", fetch, lambda page: page.hosts)
