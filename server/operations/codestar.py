"""CodeStar connections and hosts (API 2019-12-01, also called CodeConnections)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connfacade.server.domain import Connection, Host, Page, ProviderType, Service, Tag, VpcConfiguration
from connfacade.server.operations import shapes
from connfacade.server.operations.paging import first_nonempty_page
from connfacade.server.operations.validation import check

if TYPE_CHECKING:
    from collections.abc import Sequence

    from connfacade.server.backend import AwsBackend

SERVICE = Service.CODESTAR


class _CodeStar:
    def __init__(self, backend: AwsBackend) -> None:
        self._backend = backend

    async def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        check(SERVICE, operation, params)
        return await self._backend.call(SERVICE, operation, params)


class CodeStarConnections(_CodeStar):
    """CodeStar connection operations (and tags, which also apply to hosts)."""

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
        out = await self._call("CreateConnection", params)
        arn = str(out["ConnectionArn"])
        # AWS answers only the ARN; the caller wants the connection and its
        # console link, which GetConnection gives at the cost of one more call.
        connection = await self.get_connection(arn=arn)
        return connection, shapes.tags_from_aws(out.get("Tags"))

    async def get_connection(self, *, arn: str) -> Connection:
        """One connection by ARN (either ARN prefix)."""
        out = await self._call("GetConnection", {"ConnectionArn": arn})
        return shapes.codestar_connection(out["Connection"])

    async def _list_page(
        self, provider_type: ProviderType | None, host_arn: str, max_results: int | None, token: str
    ) -> Page[Connection]:
        params: dict[str, Any] = {}
        if provider_type is not None:
            params["ProviderTypeFilter"] = shapes.CODESTAR_PROVIDERS[provider_type]
        if host_arn:
            params["HostArnFilter"] = host_arn
        if max_results is not None:
            params["MaxResults"] = max_results
        if token:
            params["NextToken"] = token
        out = await self._call("ListConnections", params)
        items = tuple(shapes.codestar_connection(c) for c in out.get("Connections", ()))
        return Page(items, str(out.get("NextToken", "") or ""))

    async def list_connections(
        self,
        *,
        provider_type: ProviderType | None = None,
        host_arn: str = "",
        max_results: int | None = None,
        next_token: str = "",
    ) -> Page[Connection]:
        """One page of connections; empty only when none remain."""
        return await first_nonempty_page(
            lambda t: self._list_page(provider_type, host_arn, max_results, t), next_token
        )

    async def delete_connection(self, *, arn: str) -> None:
        """Deletes a connection."""
        await self._call("DeleteConnection", {"ConnectionArn": arn})

    async def tag_resource(self, *, arn: str, tags: Sequence[Tag]) -> None:
        """Adds or overwrites tags on a connection or host."""
        await self._call("TagResource", {"ResourceArn": arn, "Tags": shapes.tags_to_aws(tags)})

    async def untag_resource(self, *, arn: str, keys: Sequence[str]) -> None:
        """Removes tags by key."""
        await self._call("UntagResource", {"ResourceArn": arn, "TagKeys": list(keys)})

    async def list_tags_for_resource(self, *, arn: str) -> tuple[Tag, ...]:
        """The resource's tags."""
        out = await self._call("ListTagsForResource", {"ResourceArn": arn})
        return shapes.tags_from_aws(out.get("Tags"))


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
        out = await self._call("CreateHost", params)
        return str(out["HostArn"]), shapes.tags_from_aws(out.get("Tags"))

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
        await self._call("DeleteHost", {"HostArn": arn})

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
