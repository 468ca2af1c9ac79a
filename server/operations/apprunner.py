"""App Runner connections (API 2020-05-15), including the facade's GetConnection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from connfacade.server.domain import (
    Connection,
    ConnectionStatus,
    FieldViolation,
    InvalidArgument,
    NotFound,
    Page,
    ProviderType,
    Service,
    Tag,
)
from connfacade.server.operations import shapes
from connfacade.server.operations.idempotency import IdempotencyCache
from connfacade.server.operations.paging import all_items
from connfacade.server.operations.validation import check
from connfacade.server.store import SERVER_DEFAULTS, ConnectionStore, MemoryStore, Read, StoreSettings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from connfacade.server.backend import AwsBackend
    from connfacade.server.store import ReadOptions

T = TypeVar("T")
SERVICE = Service.APPRUNNER


def _list_params(name: str, max_results: int | None, token: str) -> dict[str, Any]:
    """ListConnections' AWS parameters; what is unset is left out."""
    params: dict[str, Any] = {}
    if name:
        params["ConnectionName"] = name
    if max_results is not None:
        params["MaxResults"] = max_results
    if token:
        params["NextToken"] = token
    return params


def _found(read: Read[Connection | None], key: str) -> Read[Connection]:
    """The connection a read found; NOT_FOUND if there is none."""
    if read.value is None:
        raise NotFound(
            f"Connection {key} does not exist", resource_type="apprunner:connection", resource_name=key
        )
    return Read(read.value, read.info)


class AppRunnerConnections:
    """App Runner connection operations: reads from the live store, writes through it."""

    def __init__(
        self,
        backend: AwsBackend,
        settings: StoreSettings | None = None,
        *,
        on_refresh: Callable[[float, bool], None] | None = None,
        idempotency: IdempotencyCache | None = None,
    ) -> None:
        self._backend = backend
        self._idempotency = idempotency or IdempotencyCache()
        self.store: ConnectionStore = MemoryStore(
            SERVICE, self.list_upstream, settings or StoreSettings(), on_refresh=on_refresh
        )

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

    async def create_connection(
        self, *, name: str, provider_type: ProviderType | None, tags: Sequence[Tag] = ()
    ) -> Connection:
        """Creates a connection; it starts PENDING_HANDSHAKE."""
        params: dict[str, Any] = {"ConnectionName": name}
        if provider_type is not None:
            params["ProviderType"] = shapes.APPRUNNER_PROVIDERS[provider_type]
        if tags:
            params["Tags"] = shapes.tags_to_aws(tags)

        async def create() -> Connection:
            out = await self._backend.call(SERVICE, "CreateConnection", params)
            connection = shapes.apprunner_connection(out["Connection"])
            self.store.upsert(connection, tags=list(tags))
            return connection

        async def replay(arn: str) -> Connection:
            # Made before a restart: the connection as it is now (by name, if AWS's answer was not recorded).
            made = await self.get_connection(arn=arn) if arn else await self.get_connection(name=name)
            return made.value

        return await self._once("CreateConnection", params, create, replay)

    async def _list_page(self, token: str) -> Page[Connection]:
        out = await self._call("ListConnections", _list_params("", None, token))
        items = tuple(shapes.apprunner_connection(c) for c in out.get("ConnectionSummaryList", ()))
        return Page(items, str(out.get("NextToken", "") or ""))

    async def list_upstream(self) -> list[Connection]:
        """Every connection, from AWS, across all pages (empty pages included)."""
        return await all_items(self._list_page)

    async def list_connections(
        self,
        *,
        name: str = "",
        max_results: int | None = None,
        next_token: str = "",
        options: ReadOptions = SERVER_DEFAULTS,
    ) -> Read[Page[Connection]]:
        """One page of connections, from the store."""
        check(SERVICE, "ListConnections", _list_params(name, max_results, next_token))
        return await self.store.page(
            lambda c: not name or c.name == name, f"name={name}", max_results, next_token, options
        )

    @staticmethod
    def _check_arn_or_name(arn: str, name: str) -> None:
        if bool(arn) == bool(name):
            message = "set exactly one of connection_arn and connection_name"
            raise InvalidArgument(
                [FieldViolation("connection_arn", message), FieldViolation("connection_name", message)]
            )
        if arn:
            check(SERVICE, "DeleteConnection", {"ConnectionArn": arn})
        else:
            check(SERVICE, "ListConnections", {"ConnectionName": name})

    async def wait_for_connection(
        self,
        *,
        arn: str = "",
        name: str = "",
        statuses: frozenset[ConnectionStatus] = frozenset(),
        options: ReadOptions = SERVER_DEFAULTS,
    ) -> Read[Connection]:
        """The connection once it reaches one of ``statuses`` (default: AVAILABLE or ERROR)."""
        self._check_arn_or_name(arn, name)
        read = await self.store.wait(arn=arn, name=name, statuses=statuses, options=options)
        return _found(read, arn or name)

    async def get_connection(
        self, *, arn: str = "", name: str = "", options: ReadOptions = SERVER_DEFAULTS
    ) -> Read[Connection]:
        """One connection by ARN or by name, from the store (App Runner lacks this call)."""
        self._check_arn_or_name(arn, name)
        read = await (self.store.get(arn, options) if arn else self.store.find(name, options))
        return _found(read, arn or name)

    async def delete_connection(self, *, arn: str) -> Connection:
        """Deletes a connection and returns it as deleted."""
        params = {"ConnectionArn": arn}

        async def delete() -> Connection:
            out = await self._backend.call(SERVICE, "DeleteConnection", params)
            self.store.remove(arn)
            return shapes.apprunner_connection(out["Connection"])

        async def replay(_made: str) -> Connection:
            # Deleted before a restart: what is known of it without asking AWS to delete it again.
            name = arn.rpartition(":")[2].split("/")[1:2]
            return Connection(
                service=SERVICE,
                arn=arn,
                name=name[0] if name else "",
                provider_type=None,
                status=ConnectionStatus.DELETED,
                console_url=shapes.apprunner_console_url(arn),
            )

        return await self._once("DeleteConnection", params, delete, replay)

    async def tag_resource(self, *, arn: str, tags: Sequence[Tag]) -> None:
        """Adds or overwrites tags."""
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
