"""CodeStar connections and hosts (API 2019-12-01, also called CodeConnections)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from connfacade.server.domain import (
    Connection,
    ConnectionStatus,
    Host,
    NotFound,
    Page,
    ProviderType,
    Service,
    Tag,
    Unavailable,
    VpcConfiguration,
    arn_key,
)
from connfacade.server.operations import shapes
from connfacade.server.operations.idempotency import IdempotencyCache
from connfacade.server.operations.paging import all_items, first_nonempty_page
from connfacade.server.operations.validation import check
from connfacade.server.store import SERVER_DEFAULTS, ConnectionStore, MemoryStore, Read, StoreSettings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from connfacade.server.backend import AwsBackend
    from connfacade.server.store import ReadOptions

T = TypeVar("T")
SERVICE = Service.CODESTAR


def _list_params(
    provider_type: ProviderType | None, host_arn: str, max_results: int | None, token: str
) -> dict[str, Any]:
    """ListConnections' AWS parameters; what is unset is left out."""
    params: dict[str, Any] = {}
    if provider_type is not None:
        params["ProviderTypeFilter"] = shapes.CODESTAR_PROVIDERS[provider_type]
    if host_arn:
        params["HostArnFilter"] = host_arn
    if max_results is not None:
        params["MaxResults"] = max_results
    if token:
        params["NextToken"] = token
    return params


def _found(read: Read[Connection | None], arn: str) -> Read[Connection]:
    """The connection a read found; NOT_FOUND if there is none."""
    if read.value is None:
        raise NotFound(
            f"Connection {arn} does not exist",
            resource_type="codestar-connections:connection",
            resource_name=arn,
        )
    return Read(read.value, read.info)


class _CodeStar:
    def __init__(self, backend: AwsBackend, idempotency: IdempotencyCache | None = None) -> None:
        self._backend = backend
        self._idempotency = idempotency or IdempotencyCache()

    async def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        check(SERVICE, operation, params)
        return await self._backend.call(SERVICE, operation, params)

    async def _once(
        self,
        operation: str,
        params: dict[str, Any],
        work: Callable[[], Awaitable[T]],
        replay: Callable[[str], Awaitable[T]] | None = None,
    ) -> T:
        """A create or delete, ``work`` run once per caller request id (its write-through included).

        ``replay(arn)`` answers a retry of a call made before a restart (see `IdempotencyCache.run`).
        """
        check(SERVICE, operation, params)
        return await self._idempotency.run(SERVICE, operation, params, work, replay)


class CodeStarConnections(_CodeStar):
    """CodeStar connection operations (and tags, which also apply to hosts).

    Reads come from the live store (CodeStar connections are global: one store
    per account), writes go through it.
    """

    def __init__(
        self,
        backend: AwsBackend,
        settings: StoreSettings | None = None,
        *,
        on_refresh: Callable[[float, bool], None] | None = None,
        idempotency: IdempotencyCache | None = None,
    ) -> None:
        super().__init__(backend, idempotency)
        self.store: ConnectionStore = MemoryStore(
            SERVICE, self.list_upstream, settings or StoreSettings(), on_refresh=on_refresh
        )

    async def create_connection(
        self, *, name: str, provider_type: ProviderType | None, tags: Sequence[Tag] = (), host_arn: str = ""
    ) -> tuple[Connection, tuple[Tag, ...]]:
        """Creates a connection (PENDING); returns it as created and its tags."""
        params: dict[str, Any] = {"ConnectionName": name}
        if provider_type is not None:
            params["ProviderType"] = shapes.CODESTAR_PROVIDERS[provider_type]
        if tags:
            params["Tags"] = shapes.tags_to_aws(tags)
        if host_arn:
            params["HostArn"] = host_arn

        async def create() -> tuple[Connection, tuple[Tag, ...]]:
            out = await self._backend.call(SERVICE, "CreateConnection", params)
            arn = str(out["ConnectionArn"])
            created_tags = shapes.tags_from_aws(out.get("Tags"))
            if provider_type is None:
                # Created on a host: only AWS knows the provider it took from it.
                fetched = await self._backend.call(SERVICE, "GetConnection", {"ConnectionArn": arn})
                connection = shapes.codestar_connection(fetched["Connection"])
            else:
                # AWS answers only the ARN; everything else of a new connection is
                # known, so the caller gets it (and its console link) for free.
                connection = Connection(
                    service=SERVICE,
                    arn=arn,
                    name=name,
                    provider_type=provider_type,
                    status=ConnectionStatus.PENDING_HANDSHAKE,
                    owner_account_id=shapes.arn_parts(arn)[1],
                    host_arn=host_arn,
                    console_url=shapes.codestar_console_url(arn),
                )
            self.store.upsert(connection, tags=created_tags)
            return connection, created_tags

        async def replay(arn: str) -> tuple[Connection, tuple[Tag, ...]]:
            # Made before a restart: the connection and its tags as they are now.
            if not arn:
                raise Unavailable(
                    "the first call with this request id created a connection AWS did not name; "
                    "not calling AWS again",
                    aws_code="OutcomeUnknown",
                )
            connection, tags = await self.get_connection(arn=arn), await self.list_tags_for_resource(arn=arn)
            return connection.value, tags.value

        return await self._once("CreateConnection", params, create, replay)

    async def get_connection(self, *, arn: str, options: ReadOptions = SERVER_DEFAULTS) -> Read[Connection]:
        """One connection by ARN (either ARN prefix), from the store."""
        check(SERVICE, "GetConnection", {"ConnectionArn": arn})
        return _found(await self.store.get(arn, options), arn)

    async def wait_for_connection(
        self,
        *,
        arn: str,
        statuses: frozenset[ConnectionStatus] = frozenset(),
        options: ReadOptions = SERVER_DEFAULTS,
    ) -> Read[Connection]:
        """The connection once it reaches one of ``statuses`` (default: AVAILABLE or ERROR)."""
        check(SERVICE, "GetConnection", {"ConnectionArn": arn})
        return _found(await self.store.wait(arn=arn, statuses=statuses, options=options), arn)

    async def list_upstream(self) -> list[Connection]:
        """Every connection of the account, from AWS, across all pages."""
        return await all_items(self._list_page)

    async def _list_page(self, token: str) -> Page[Connection]:
        out = await self._call("ListConnections", _list_params(None, "", None, token))
        items = tuple(shapes.codestar_connection(c) for c in out.get("Connections", ()))
        return Page(items, str(out.get("NextToken", "") or ""))

    async def list_connections(
        self,
        *,
        provider_type: ProviderType | None = None,
        host_arn: str = "",
        max_results: int | None = None,
        next_token: str = "",
        options: ReadOptions = SERVER_DEFAULTS,
    ) -> Read[Page[Connection]]:
        """One page of connections, from the store."""
        check(SERVICE, "ListConnections", _list_params(provider_type, host_arn, max_results, next_token))
        host_key = arn_key(host_arn) if host_arn else ""

        def keep(c: Connection) -> bool:
            return (provider_type is None or c.provider_type is provider_type) and (
                not host_key or arn_key(c.host_arn) == host_key
            )

        filter_key = f"provider={provider_type.value if provider_type else ''}&host={host_key}"
        return await self.store.page(keep, filter_key, max_results, next_token, options)

    async def delete_connection(self, *, arn: str) -> None:
        """Deletes a connection."""
        params = {"ConnectionArn": arn}

        async def delete() -> None:
            await self._backend.call(SERVICE, "DeleteConnection", params)
            self.store.remove(arn)

        async def replay(_made: str) -> None:
            return None  # deleted before a restart: the answer is empty

        await self._once("DeleteConnection", params, delete, replay)

    async def tag_resource(self, *, arn: str, tags: Sequence[Tag]) -> None:
        """Adds or overwrites tags on a connection or host."""
        await self._call("TagResource", {"ResourceArn": arn, "Tags": shapes.tags_to_aws(tags)})
        self.store.merge_tags(arn, added=tags)

    async def untag_resource(self, *, arn: str, keys: Sequence[str]) -> None:
        """Removes tags by key."""
        await self._call("UntagResource", {"ResourceArn": arn, "TagKeys": list(keys)})
        self.store.merge_tags(arn, removed=keys)

    async def list_tags_for_resource(
        self, *, arn: str, options: ReadOptions = SERVER_DEFAULTS
    ) -> Read[tuple[Tag, ...]]:
        """The resource's tags, from memory when fresh enough."""
        params = {"ResourceArn": arn}
        check(SERVICE, "ListTagsForResource", params)

        async def fetch() -> tuple[Tag, ...]:
            out = await self._backend.call(SERVICE, "ListTagsForResource", params)
            return shapes.tags_from_aws(out.get("Tags"))

        return await self.store.tags(arn, fetch, options)


class CodeStarHosts(_CodeStar):
    """CodeStar connections host operations."""

    async def create_host(
        self,
        *,
        name: str,
        provider_type: ProviderType | None,
        provider_endpoint: str,
        vpc_configuration: VpcConfiguration | None = None,
        tags: Sequence[Tag] = (),
    ) -> tuple[str, tuple[Tag, ...]]:
        """Creates a host (PENDING); returns its ARN and tags."""
        params: dict[str, Any] = {"Name": name, "ProviderEndpoint": provider_endpoint}
        if provider_type is not None:
            params["ProviderType"] = shapes.CODESTAR_PROVIDERS[provider_type]
        if vpc_configuration is not None:
            params["VpcConfiguration"] = shapes.vpc_params(vpc_configuration)
        if tags:
            params["Tags"] = shapes.tags_to_aws(tags)

        async def create() -> tuple[str, tuple[Tag, ...]]:
            out = await self._backend.call(SERVICE, "CreateHost", params)
            return str(out["HostArn"]), shapes.tags_from_aws(out.get("Tags"))

        async def replay(arn: str) -> tuple[str, tuple[Tag, ...]]:
            # Made before a restart: the host's ARN and its tags as they are now.
            if not arn:
                raise Unavailable(
                    "the first call with this request id created a host AWS did not name; "
                    "not calling AWS again",
                    aws_code="OutcomeUnknown",
                )
            out = await self._call("ListTagsForResource", {"ResourceArn": arn})
            return arn, shapes.tags_from_aws(out.get("Tags"))

        return await self._once("CreateHost", params, create, replay)

    async def get_host(self, *, arn: str) -> Host:
        """One host by ARN."""
        out = await self._call("GetHost", {"HostArn": arn})
        return shapes.host(out, arn=arn)

    async def _list_page(self, max_results: int | None, token: str) -> Page[Host]:
        params: dict[str, Any] = {}
        if max_results is not None:
            params["MaxResults"] = max_results
        if token:
            params["NextToken"] = token
        out = await self._call("ListHosts", params)
        return Page(tuple(shapes.host(h) for h in out.get("Hosts", ())), str(out.get("NextToken", "") or ""))

    async def list_hosts(self, *, max_results: int | None = None, next_token: str = "") -> Page[Host]:
        """One page of hosts; empty only when none remain."""
        return await first_nonempty_page(lambda t: self._list_page(max_results, t), next_token)

    async def delete_host(self, *, arn: str) -> None:
        """Deletes a host."""
        params = {"HostArn": arn}

        async def replay(_made: str) -> dict[str, Any]:
            return {}  # deleted before a restart: the answer is empty

        await self._once(
            "DeleteHost", params, lambda: self._backend.call(SERVICE, "DeleteHost", params), replay
        )

    async def update_host(
        self, *, arn: str, provider_endpoint: str = "", vpc_configuration: VpcConfiguration | None = None
    ) -> None:
        """Changes a host's endpoint or VPC configuration."""
        params: dict[str, Any] = {"HostArn": arn}
        if provider_endpoint:
            params["ProviderEndpoint"] = provider_endpoint
        if vpc_configuration is not None:
            params["VpcConfiguration"] = shapes.vpc_params(vpc_configuration)
        await self._call("UpdateHost", params)
