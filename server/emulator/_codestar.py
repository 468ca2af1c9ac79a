"""CodeStar connections and hosts (API 2019-12-01): global per account, 200 tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connfacade.server.emulator._arns import (
    canonical_codestar_arn,
    codestar_connection_arn,
    codestar_host_arn,
)
from connfacade.server.emulator._calls import Call, Handler, Listing, TagRules, list_page, merged_tags
from connfacade.server.emulator._protocol import AwsError
from connfacade.server.emulator._state import AVAILABLE, CodeStarConnection, Host, tag_list

if TYPE_CHECKING:
    from collections.abc import Mapping

# The reference gives no default page size; 20 is this emulator's.
_LISTING = Listing(default_limit=20, bad_cursor_code="ValidationException")
# Providers installed on the customer's infrastructure: reached only through a host.
SELF_MANAGED = frozenset({"GitHubEnterpriseServer", "GitLabSelfManaged"})
# "A host cannot be deleted if it is in the VPC_CONFIG_INITIALIZING or VPC_CONFIG_DELETING state."
_UNDELETABLE_HOST_STATUSES = frozenset({"VPC_CONFIG_INITIALIZING", "VPC_CONFIG_DELETING"})
_UPDATABLE_HOST_STATUSES = frozenset({AVAILABLE, "VPC_CONFIG_FAILED_INITIALIZATION"})


def _tag_rules(call: Call) -> TagRules:
    return TagRules(call.state.quotas.codestar_tags_per_resource, "LimitExceededException")


def _connection(call: Call, arn: str) -> CodeStarConnection:
    found = call.state.codestar.get(canonical_codestar_arn(arn))
    if found is None:
        raise AwsError("ResourceNotFoundException", f"Connection {arn} does not exist")
    return found


def _host(call: Call, arn: str) -> Host:
    found = call.state.hosts.get(canonical_codestar_arn(arn))
    if found is None:
        raise AwsError("ResourceNotFoundException", f"Host {arn} does not exist")
    return found


def _taggable(call: Call, arn: str) -> CodeStarConnection | Host:
    canonical = canonical_codestar_arn(arn)
    found = call.state.codestar.get(canonical) or call.state.hosts.get(canonical)
    if found is None:
        raise AwsError("ResourceNotFoundException", f"Resource {arn} does not exist")
    return found


def _provider_type(call: Call, params: dict[str, Any]) -> tuple[str, str | None]:
    provider, host_arn = params.get("ProviderType"), params.get("HostArn")
    if host_arn is not None:
        host = _host(call, host_arn)
        if host.status != AVAILABLE:
            raise AwsError("ResourceUnavailableException", f"Host {host_arn} is not AVAILABLE")
        if provider is not None and provider != host.provider_type:
            raise AwsError("ValidationException", f"ProviderType {provider} does not match the host's")
        return host.provider_type, host.arn
    if provider is None:
        raise AwsError("ValidationException", "Either ProviderType or HostArn must be specified")
    if provider in SELF_MANAGED:
        raise AwsError("ValidationException", f"A HostArn is required for ProviderType {provider}")
    return provider, None


def create_connection(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """A new connection in PENDING; names need not be unique."""
    state = call.state
    provider, host_arn = _provider_type(call, params)
    if len(state.codestar) >= state.quotas.codestar_connections_per_account:
        raise AwsError("LimitExceededException", "Exceeded the maximum limit for connections.")
    connection = CodeStarConnection(
        arn=codestar_connection_arn(call.region, state.account_id),
        name=params["ConnectionName"],
        provider_type=provider,
        owner_account_id=state.account_id,
        seq=state.next_seq(),
        tags=merged_tags({}, params.get("Tags", []), _tag_rules(call)),
        host_arn=host_arn,
        auto_at=state.auto_complete_at(),
    )
    state.codestar[connection.arn] = connection
    return {"ConnectionArn": connection.arn, "Tags": tag_list(connection.tags)}


def get_connection(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """One connection, by either ARN prefix."""
    return {"Connection": _connection(call, params["ConnectionArn"]).describe()}


def list_connections(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """The account's connections of every region, optionally by provider or host."""
    provider, host_arn = params.get("ProviderTypeFilter"), params.get("HostArnFilter")
    if host_arn is not None:
        host_arn = _host(call, host_arn).arn
    items = [
        c
        for c in call.state.codestar.values()
        if (provider is None or c.provider_type == provider) and (host_arn is None or c.host_arn == host_arn)
    ]
    query = {"ProviderTypeFilter": provider, "HostArnFilter": host_arn}
    chosen, token = list_page(call, _LISTING, query, items, params)
    out: dict[str, Any] = {"Connections": [c.describe() for c in chosen]}
    if token is not None:
        out["NextToken"] = token
    return out


def delete_connection(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Remove a connection; its ARN is never reused."""
    del call.state.codestar[_connection(call, params["ConnectionArn"]).arn]
    return {}


def tag_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Add or overwrite tags of a connection or host; a resource keeps at most 200."""
    resource = _taggable(call, params["ResourceArn"])
    resource.tags = merged_tags(resource.tags, params["Tags"], _tag_rules(call))
    return {}


def untag_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Remove tags by key; absent keys are ignored."""
    resource = _taggable(call, params["ResourceArn"])
    for key in params["TagKeys"]:
        resource.tags.pop(key, None)
    return {}


def list_tags_for_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """The resource's tags."""
    return {"Tags": tag_list(_taggable(call, params["ResourceArn"]).tags)}


def create_host(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """A new host in PENDING, for a self-managed provider."""
    state = call.state
    if params["ProviderType"] not in SELF_MANAGED:
        raise AwsError(
            "ValidationException",
            f"ProviderType {params['ProviderType']} is not supported for hosts; "
            f"use one of {', '.join(sorted(SELF_MANAGED))}",
        )
    if len(state.hosts) >= state.quotas.codestar_hosts_per_account:
        raise AwsError("LimitExceededException", "Exceeded the maximum limit for hosts.")
    host = Host(
        arn=codestar_host_arn(call.region, state.account_id, params["Name"]),
        name=params["Name"],
        provider_type=params["ProviderType"],
        provider_endpoint=params["ProviderEndpoint"],
        seq=state.next_seq(),
        tags=merged_tags({}, params.get("Tags", []), _tag_rules(call)),
        vpc_configuration=params.get("VpcConfiguration"),
        auto_at=state.auto_complete_at(),
    )
    state.hosts[host.arn] = host
    return {"HostArn": host.arn, "Tags": tag_list(host.tags)}


def get_host(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """One host (GetHost's output carries no ARN)."""
    return _host(call, params["HostArn"]).describe(with_arn=False)


def list_hosts(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """The account's hosts of every region."""
    chosen, token = list_page(call, _LISTING, {}, list(call.state.hosts.values()), params)
    out: dict[str, Any] = {"Hosts": [h.describe(with_arn=True) for h in chosen]}
    if token is not None:
        out["NextToken"] = token
    return out


def delete_host(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Remove a host, unless its VPC configuration is being set up or torn down."""
    host = _host(call, params["HostArn"])
    if host.status in _UNDELETABLE_HOST_STATUSES:
        raise AwsError(
            "ResourceUnavailableException", f"Host {host.arn} cannot be deleted in status {host.status}"
        )
    del call.state.hosts[host.arn]
    return {}


def update_host(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Change a host's endpoint or VPC; only when AVAILABLE or VPC_CONFIG_FAILED_INITIALIZATION."""
    host = _host(call, params["HostArn"])
    if host.status not in _UPDATABLE_HOST_STATUSES:
        raise AwsError("ConflictException", f"Host {host.arn} cannot be updated in status {host.status}")
    if "ProviderEndpoint" in params:
        host.provider_endpoint = params["ProviderEndpoint"]
    if "VpcConfiguration" in params:
        host.vpc_configuration = params["VpcConfiguration"]
    return {}


HANDLERS: Mapping[str, Handler] = {
    "CreateConnection": create_connection,
    "GetConnection": get_connection,
    "ListConnections": list_connections,
    "DeleteConnection": delete_connection,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
    "CreateHost": create_host,
    "GetHost": get_host,
    "ListHosts": list_hosts,
    "DeleteHost": delete_host,
    "UpdateHost": update_host,
}
