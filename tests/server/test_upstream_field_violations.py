"""AWS refusing a request the facade let through: INVALID_ARGUMENT with AWS's code and the fields.

The facade's own validation names fields before AWS is called; these requests
pass it, and AWS (the emulator, through aiobotocore) refuses them. The status
keeps ErrorInfo with AWS's code as reason and adds a BadRequest naming the
request fields AWS's message refers to.
"""

from __future__ import annotations

import grpc
import pytest
from status_details import details_of, violated_fields

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.codestar.v1 import connection_service_pb2 as cs
from connfacade.codestar.v1 import host_service_pb2 as hs
from connfacade.codestar.v1 import types_pb2 as cst


async def refused(call, aws_code):
    """The INVALID_ARGUMENT ``call`` fails with, after checking it carries AWS's code."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    err = caught.value
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = details_of(err)["ErrorInfo"]
    assert info.reason == aws_code
    assert info.domain == "connfacade.aws"
    return err


async def test_codestar_connection_without_provider_or_host_names_both(codestar):
    """CreateConnection with neither provider_type nor host_arn names provider_type and host_arn."""
    err = await refused(
        codestar.CreateConnection(cs.CreateConnectionRequest(connection_name="c")), "ValidationException"
    )
    assert violated_fields(err) == ["provider_type", "host_arn"]


async def test_self_managed_provider_without_host_names_host_arn(codestar):
    """A self-managed provider without a host is refused naming host_arn (and the provider_type)."""
    request = cs.CreateConnectionRequest(
        connection_name="c", provider_type=cst.PROVIDER_TYPE_GITLAB_SELF_MANAGED
    )
    err = await refused(codestar.CreateConnection(request), "ValidationException")
    assert violated_fields(err) == ["host_arn", "provider_type"]


async def test_made_up_list_hosts_token_names_next_token(hosts):
    """ListHosts with a next_token AWS never issued names next_token."""
    err = await refused(hosts.ListHosts(hs.ListHostsRequest(next_token="made-up")), "ValidationException")
    assert violated_fields(err) == ["next_token"]


async def test_field_violation_describes_it_with_aws_message(hosts):
    """The violation's description is AWS's message."""
    err = await refused(hosts.ListHosts(hs.ListHostsRequest(next_token="made-up")), "ValidationException")
    [violation] = details_of(err)["BadRequest"].field_violations
    assert violation.description == err.details() == "Invalid NextToken"


async def test_host_for_a_cloud_provider_names_provider_type(hosts):
    """CreateHost for a provider that needs no host is refused naming provider_type."""
    request = hs.CreateHostRequest(
        name="h", provider_type=cst.PROVIDER_TYPE_GITLAB, provider_endpoint="https://h.example.com"
    )
    err = await refused(hosts.CreateHost(request), "ValidationException")
    assert violated_fields(err) == ["provider_type"]


async def test_duplicate_apprunner_name_names_connection_name(apprunner):
    """App Runner's "Connection with name X already exists" names connection_name."""
    request = ar.CreateConnectionRequest(connection_name="conn-1", provider_type=ar.PROVIDER_TYPE_GITHUB)
    await apprunner.CreateConnection(request)
    err = await refused(apprunner.CreateConnection(request), "InvalidRequestException")
    assert violated_fields(err) == ["connection_name"]


async def test_aws_validation_message_names_the_path_it_quotes(apprunner, control):
    """A botocore-form "Value ... at 'connectionName'" refusal from AWS names connection_name."""
    message = (
        "1 validation error detected: Value 'conn-1' at 'connectionName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [A-Za-z0-9][A-Za-z0-9\\-_]{3,31}"
    )
    await control.inject_fault(
        operation="CreateConnection",
        kind="error",
        http_status=400,
        code="ValidationException",
        message=message,
        count=1,
    )
    request = ar.CreateConnectionRequest(connection_name="conn-1", provider_type=ar.PROVIDER_TYPE_GITHUB)
    err = await refused(apprunner.CreateConnection(request), "ValidationException")
    assert violated_fields(err) == ["connection_name"]


async def test_refusal_naming_no_field_carries_only_error_info(apprunner, control):
    """When AWS's message names no request member there is no BadRequest, only ErrorInfo."""
    await control.inject_fault(
        operation="CreateConnection",
        kind="error",
        http_status=400,
        code="InvalidRequestException",
        message="Something about the account is off",
        count=1,
    )
    request = ar.CreateConnectionRequest(connection_name="conn-1", provider_type=ar.PROVIDER_TYPE_GITHUB)
    err = await refused(apprunner.CreateConnection(request), "InvalidRequestException")
    assert set(details_of(err)) == {"ErrorInfo"}
