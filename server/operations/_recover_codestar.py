"""What CodeStar shows of a mutation whose process died between its intent and its completion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connfacade.server.domain import NotFound, Page, Service
from connfacade.server.operations._findings import (
    APPLIED,
    NOT_APPLIED,
    REDACTED_PREFIX,
    UNKNOWN,
    Finding,
    tag_map,
    tagged,
    text,
    unclaimed,
    untagged,
)
from connfacade.server.operations.paging import all_items

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from connfacade.server.backend import AwsBackend

SERVICE = Service.CODESTAR


async def create_connection(
    backend: AwsBackend, params: Mapping[str, Any], _started: float, claimed: Collection[str]
) -> Finding:
    """A connection of that name that no other record claims (names need not be unique here)."""
    name = text(params, "connection_name")

    async def page(token: str) -> Page[dict[str, Any]]:
        out = await backend.call(SERVICE, "ListConnections", {"NextToken": token} if token else {})
        return Page(tuple(out.get("Connections", ())), str(out.get("NextToken", "") or ""))

    items = await all_items(page)
    arns = [str(c.get("ConnectionArn", "")) for c in items if c.get("ConnectionName") == name]
    return unclaimed("connections", arns, claimed)


async def create_host(
    backend: AwsBackend, params: Mapping[str, Any], _started: float, claimed: Collection[str]
) -> Finding:
    """A host of that name that no other record claims."""
    name = text(params, "name")

    async def page(token: str) -> Page[dict[str, Any]]:
        out = await backend.call(SERVICE, "ListHosts", {"NextToken": token} if token else {})
        return Page(tuple(out.get("Hosts", ())), str(out.get("NextToken", "") or ""))

    items = await all_items(page)
    return unclaimed("hosts", [str(h.get("HostArn", "")) for h in items if h.get("Name") == name], claimed)


async def delete_connection(
    backend: AwsBackend, params: Mapping[str, Any], _started: float, _claimed: Collection[str]
) -> Finding:
    arn = text(params, "connection_arn")
    try:
        out = await backend.call(SERVICE, "GetConnection", {"ConnectionArn": arn})
    except NotFound:
        return Finding(APPLIED, {"resource": arn, "exists": False})
    status = (out.get("Connection") or {}).get("ConnectionStatus")
    return Finding(NOT_APPLIED, {"resource": arn, "exists": True, "status": status})


async def delete_host(
    backend: AwsBackend, params: Mapping[str, Any], _started: float, _claimed: Collection[str]
) -> Finding:
    arn = text(params, "host_arn")
    try:
        out = await backend.call(SERVICE, "GetHost", {"HostArn": arn})
    except NotFound:
        return Finding(APPLIED, {"resource": arn, "exists": False})
    return Finding(NOT_APPLIED, {"resource": arn, "exists": True, "status": out.get("Status")})


async def update_host(
    backend: AwsBackend, params: Mapping[str, Any], _started: float, _claimed: Collection[str]
) -> Finding:
    """The endpoint asked for (a VPC change alone cannot be compared: unknown)."""
    arn = text(params, "host_arn")
    try:
        out = await backend.call(SERVICE, "GetHost", {"HostArn": arn})
    except NotFound:
        return Finding(UNKNOWN, {"resource": arn, "exists": False})
    endpoint = out.get("ProviderEndpoint")
    found = {"resource": arn, "providerEndpoint": endpoint, "status": out.get("Status")}
    wanted = params.get("provider_endpoint")
    if not isinstance(wanted, str) or not wanted or wanted.startswith(REDACTED_PREFIX):
        return Finding(UNKNOWN, found | {"reason": "the intent sets no endpoint to compare"})
    return Finding(APPLIED if endpoint == wanted else NOT_APPLIED, found)


async def tag(
    backend: AwsBackend, params: Mapping[str, Any], _started: float, _claimed: Collection[str]
) -> Finding:
    arn = text(params, "resource_arn")
    return tagged(arn, params, await _tags(backend, arn))


async def untag(
    backend: AwsBackend, params: Mapping[str, Any], _started: float, _claimed: Collection[str]
) -> Finding:
    arn = text(params, "resource_arn")
    return untagged(arn, params, await _tags(backend, arn))


async def _tags(backend: AwsBackend, arn: str) -> dict[str, str] | None:
    try:
        out = await backend.call(SERVICE, "ListTagsForResource", {"ResourceArn": arn})
    except NotFound:
        return None
    return tag_map(out.get("Tags"))
