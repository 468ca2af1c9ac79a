"""App Runner connections (API 2020-05-15): regional, unique names, 50 tags."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from connfacade.server.emulator._arns import apprunner_connection_arn
from connfacade.server.emulator._calls import Call, Handler, Listing, TagRules, list_page, merged_tags
from connfacade.server.emulator._protocol import AwsError
from connfacade.server.emulator._state import DELETED, AppRunnerConnection, tag_list

if TYPE_CHECKING:
    from collections.abc import Mapping

# "If you don't specify MaxResults, the request retrieves all available results
# in a single response" (ListConnections' reference): no default page size.
_LISTING = Listing(default_limit=None, bad_cursor_code="InvalidRequestException")


def _regional(call: Call) -> dict[str, AppRunnerConnection]:
    return call.state.apprunner.setdefault(call.region, {})


def _connection(call: Call, arn: str) -> AppRunnerConnection:
    found = _regional(call).get(arn)
    if found is None:
        raise AwsError("ResourceNotFoundException", f"Resource {arn} not found in region {call.region}")
    return found


def _tag_rules(call: Call) -> TagRules:
    return TagRules(call.state.quotas.apprunner_tags_per_resource, "InvalidRequestException")


def create_connection(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """A new connection in PENDING_HANDSHAKE; the name is unique per account and region."""
    state, regional, name = call.state, _regional(call), params["ConnectionName"]
    if any(c.name == name for c in regional.values()):
        raise AwsError("InvalidRequestException", f"Connection with name {name} already exists")
    quota = state.quotas.apprunner_connections_per_region
    if len(regional) >= quota:
        raise AwsError(
            "ServiceQuotaExceededException",
            f"You have reached the maximum number of connections ({quota}) in {call.region}",
        )
    connection = AppRunnerConnection(
        arn=apprunner_connection_arn(call.region, state.account_id, name),
        name=name,
        provider_type=params["ProviderType"],
        region=call.region,
        seq=state.next_seq(),
        created_at=time.time(),
        tags=merged_tags({}, params.get("Tags", []), _tag_rules(call)),
        auto_at=state.auto_complete_at(),
    )
    regional[connection.arn] = connection
    return {"Connection": connection.describe()}


def list_connections(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """This region's connections in creation order, optionally only the one with a name."""
    name = params.get("ConnectionName")
    items = [c for c in _regional(call).values() if name is None or c.name == name]
    chosen, token = list_page(call, _LISTING, {"ConnectionName": name}, items, params)
    out: dict[str, Any] = {"ConnectionSummaryList": [c.describe() for c in chosen]}
    if token is not None:
        out["NextToken"] = token
    return out


def delete_connection(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Remove a connection and return it as DELETED, unless a service still uses it."""
    connection = _connection(call, params["ConnectionArn"])
    if connection.in_use:
        raise AwsError(
            "InvalidRequestException",
            f"Connection {connection.name} is in use by one or more App Runner services and can't be deleted",
        )
    del _regional(call)[connection.arn]
    connection.status = DELETED
    return {"Connection": connection.describe()}


def tag_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Add or overwrite tags; a resource keeps at most 50."""
    connection = _connection(call, params["ResourceArn"])
    connection.tags = merged_tags(connection.tags, params["Tags"], _tag_rules(call))
    return {}


def untag_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Remove tags by key; absent keys are ignored."""
    connection = _connection(call, params["ResourceArn"])
    for key in params["TagKeys"]:
        connection.tags.pop(key, None)
    return {}


def list_tags_for_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """The resource's tags."""
    return {"Tags": tag_list(_connection(call, params["ResourceArn"]).tags)}


HANDLERS: Mapping[str, Handler] = {
    "CreateConnection": create_connection,
    "ListConnections": list_connections,
    "DeleteConnection": delete_connection,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
