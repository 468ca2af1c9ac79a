"""App Runner connections (API 2020-05-15), including the facade's GetConnection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connfacade.server.domain import (
    Connection,
    FieldViolation,
    InvalidArgument,
    NotFound,
    Page,
    ProviderType,
    Service,
    Tag,
)
from connfacade.server.operations import shapes
from connfacade.server.operations.paging import first_nonempty_page
from connfacade.server.operations.validation import check

if TYPE_CHECKING:
    from collections.abc import Sequence

    from connfacade.server.backend import AwsBackend

SERVICE = Service.APPRUNNER


class AppRunnerConnections:
    """App Runner connection operations over an `AwsBackend`."""

    def __init__(self, backend: AwsBackend) -> None:
        self._backend = backend

    async def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        check(SERVICE, operation, params)
        return await self._backend.call(SERVICE, operation, params)

    async def create_connection(
        self, *, name: str, provider_type: ProviderType | None, tags: Sequence[Tag] = ()
    ) -> Connection:
        """Creates a connection; it starts PENDING_HANDSHAKE."""
        params: dict[str, Any] = {"ConnectionName": name}
        if provider_type is not None:
            params["ProviderType"] = shapes.APPRUNNER_PROVIDERS[provider_type]
        if tags:
            params["Tags"] = shapes.tags_to_aws(tags)
        out = await self._call("CreateConnection", params)
        return shapes.apprunner_connection(out["Connection"])

    async def _list_page(self, name: str, max_results: int | None, token: str) -> Page[Connection]:
        params: dict[str, Any] = {}
        if name:
            params["ConnectionName"] = name
        if max_results is not None:
            params["MaxResults"] = max_results
        if token:
            params["NextToken"] = token
        out = await self._call("ListConnections", params)
        items = tuple(shapes.apprunner_connection(c) for c in out.get("ConnectionSummaryList", ()))
        return Page(items, str(out.get("NextToken", "") or ""))

    async def list_connections(
        self, *, name: str = "", max_results: int | None = None, next_token: str = ""
    ) -> Page[Connection]:
        """One page of connections; empty only when none remain."""
        return await first_nonempty_page(lambda t: self._list_page(name, max_results, t), next_token)

    async def list_all(self, *, name: str = "") -> list[Connection]:
        """Every connection (or every one with ``name``), across all pages."""
        found: list[Connection] = []
        token = ""
        while True:
            page = await self._list_page(name, None, token)
            found.extend(page.items)
            if not page.next_token:
                return found
            token = page.next_token

    async def get_connection(self, *, arn: str = "", name: str = "") -> Connection:
        """One connection by ARN or by name (App Runner lacks this call)."""
        if bool(arn) == bool(name):
            message = "set exactly one of connection_arn and connection_name"
            raise InvalidArgument(
                [FieldViolation("connection_arn", message), FieldViolation("connection_name", message)]
            )
        if arn:
            check(SERVICE, "DeleteConnection", {"ConnectionArn": arn})
            # The name is the part of the ARN after `connection/`; listing by
            # it costs one call instead of a full listing.
            resource = shapes.arn_parts(arn)[2]
            parts = resource.split("/")
            by_name = parts[1] if len(parts) == 3 and parts[0] == "connection" else ""  # noqa: PLR2004
            candidates = await self.list_all(name=by_name) if by_name else []
            match = next((c for c in candidates if c.arn == arn), None)
        else:
            check(SERVICE, "ListConnections", {"ConnectionName": name})
            match = next((c for c in await self.list_all(name=name) if c.name == name), None)
        if match is None:
            key = arn or name
            raise NotFound(
                f"Connection {key} does not exist", resource_type="apprunner:connection", resource_name=key
            )
        return match

    async def delete_connection(self, *, arn: str) -> Connection:
        """Deletes a connection and returns it as deleted."""
        out = await self._call("DeleteConnection", {"ConnectionArn": arn})
        return shapes.apprunner_connection(out["Connection"])

    async def tag_resource(self, *, arn: str, tags: Sequence[Tag]) -> None:
        """Adds or overwrites tags."""
        await self._call("TagResource", {"ResourceArn": arn, "Tags": shapes.tags_to_aws(tags)})

    async def untag_resource(self, *, arn: str, keys: Sequence[str]) -> None:
        """Removes tags by key."""
        await self._call("UntagResource", {"ResourceArn": arn, "TagKeys": list(keys)})

    async def list_tags_for_resource(self, *, arn: str) -> tuple[Tag, ...]:
        """The resource's tags."""
        out = await self._call("ListTagsForResource", {"ResourceArn": arn})
        return shapes.tags_from_aws(out.get("Tags"))
