"""What App Runner shows of a mutation whose process died between its intent and its completion."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from connfacade.server.domain import NotFound, Page, Service
from connfacade.server.operations._findings import (
    APPLIED,
    NOT_APPLIED,
    UNKNOWN,
    Finding,
    iso,
    tag_map,
    tagged,
    text,
    untagged,
)
from connfacade.server.operations.paging import all_items

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from connfacade.server.backend import AwsBackend

SERVICE = Service.APPRUNNER
CLOCK_TOLERANCE = 60.0
"""Seconds a connection's creation time may precede its intent's and still be the intent's (clock skew)."""


async def create(
    backend: AwsBackend, params: Mapping[str, Any], started: float, _claimed: Collection[str]
) -> Finding:
    """A connection of that name (names are unique here), created after the intent."""
    name = text(params, "connection_name")
    found = [c for c in await _named(backend, name) if c.get("ConnectionName") == name]
    if not found:
        return Finding(NOT_APPLIED, {"connection": None})
    connection = found[0]
    arn, created = str(connection.get("ConnectionArn", "")), connection.get("CreatedAt")
    seen = {"connection": arn, "status": connection.get("Status"), "createdAt": iso(created)}
    if not isinstance(created, datetime):
        return Finding(UNKNOWN, seen | {"reason": "AWS gave no creation time"})
    if created.timestamp() >= started - CLOCK_TOLERANCE:
        return Finding(APPLIED, seen, arn)
    return Finding(NOT_APPLIED, seen | {"reason": "the connection existed before the intent"})


async def delete(
    backend: AwsBackend, params: Mapping[str, Any], _started: float, _claimed: Collection[str]
) -> Finding:
    """Gone, or DELETED."""
    arn = text(params, "connection_arn")
    name = arn.rpartition(":")[2].split("/")[1:2]
    listed = await _named(backend, name[0]) if name else []
    still = [c for c in listed if c.get("ConnectionArn") == arn and c.get("Status") != "DELETED"]
    if still:
        return Finding(NOT_APPLIED, {"connection": arn, "status": still[0].get("Status")})
    return Finding(APPLIED, {"connection": arn, "status": "DELETED"})


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


async def _named(backend: AwsBackend, name: str) -> list[dict[str, Any]]:
    async def page(token: str) -> Page[dict[str, Any]]:
        params: dict[str, Any] = {"ConnectionName": name}
        if token:
            params["NextToken"] = token
        out = await backend.call(SERVICE, "ListConnections", params)
        return Page(tuple(out.get("ConnectionSummaryList", ())), str(out.get("NextToken", "") or ""))

    return await all_items(page)


async def _tags(backend: AwsBackend, arn: str) -> dict[str, str] | None:
    try:
        out = await backend.call(SERVICE, "ListTagsForResource", {"ResourceArn": arn})
    except NotFound:
        return None
    return tag_map(out.get("Tags"))
