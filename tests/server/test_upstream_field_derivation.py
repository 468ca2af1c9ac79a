"""Which request fields an AWS refusal names: read from its message and the service model."""

from __future__ import annotations

import pytest

from connfacade.server.app import APPRUNNER_SERVICE, CODESTAR_SERVICE, HOST_SERVICE
from connfacade.server.awsmodel import APPRUNNER, CODESTAR, service_model
from connfacade.server.backend.errors import _input, upstream_field_violations
from connfacade.server.domain import FieldViolation


def fields(service, operation, message, params=None):
    return [v.field for v in upstream_field_violations(service, operation, message, params or {})]


def test_pascal_case_member_names_are_named_even_when_absent():
    """A member named in AWS's PascalCase is a violation although the request left it out."""
    message = "Either ProviderType or HostArn must be specified"
    assert fields(CODESTAR, "CreateConnection", message, {"ConnectionName": "c"}) == [
        "provider_type",
        "host_arn",
    ]


def test_fields_come_in_the_order_the_message_names_them():
    """The member the message names first is the first violation."""
    message = "A HostArn is required for ProviderType GitLabSelfManaged"
    params = {"ConnectionName": "c", "ProviderType": "GitLabSelfManaged"}
    assert fields(CODESTAR, "CreateConnection", message, params) == ["host_arn", "provider_type"]


def test_each_violation_describes_itself_with_aws_message():
    """Outside a validation-error list, the description is AWS's whole message."""
    message = "Invalid NextToken"
    assert upstream_field_violations(CODESTAR, "ListHosts", message, {"NextToken": "x"}) == [
        FieldViolation("next_token", message)
    ]


def test_member_name_inside_a_longer_name_is_not_matched():
    """HostArnFilter does not also name a HostArn (ListConnections has only the filter)."""
    assert fields(CODESTAR, "ListConnections", "HostArnFilter is not a host") == ["host_arn_filter"]


def test_short_member_name_inside_a_word_is_not_matched():
    """CreateHost's Name is not named by "Names" or "HostName"-like words around it."""
    assert fields(CODESTAR, "CreateHost", "HostNames are invalid; Namespace too") == []


def test_quoted_lower_camel_path_names_the_nested_proto_field():
    """AWS's 'vpcConfiguration.subnetIds' is the proto path vpc_configuration.subnet_ids."""
    message = (
        "1 validation error detected: Value '[a]' at 'vpcConfiguration.subnetIds' "
        "failed to satisfy constraint: Member must have length greater than or equal to 2"
    )
    assert fields(CODESTAR, "CreateHost", message) == ["vpc_configuration.subnet_ids"]


def test_list_items_numbered_from_one_become_proto_indexes_from_zero():
    """'tags.2.member.key' is tags[1].key, and does not also name all of tags."""
    message = (
        "1 validation error detected: Value 'aws:x' at 'tags.2.member.key' "
        "failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!aws:).*"
    )
    assert fields(APPRUNNER, "CreateConnection", message) == ["tags[1].key"]


def test_each_validation_error_is_its_own_violation():
    """With several validation errors, each field's description is its own error."""
    first = "Value 'x' at 'connectionName' failed to satisfy constraint: Member must have length >= 4"
    second = "Value null at 'providerType' failed to satisfy constraint: Member must not be null"
    message = f"2 validation errors detected: {first}; {second}"
    assert upstream_field_violations(APPRUNNER, "CreateConnection", message, {"ConnectionName": "x"}) == [
        FieldViolation("connection_name", first),
        FieldViolation("provider_type", second),
    ]


def test_a_quoted_value_is_not_taken_for_a_path():
    """The quoted value of "Value '...' at" is the caller's, even when it reads like a member."""
    message = (
        "1 validation error detected: Value 'nextToken' at 'connectionName' "
        "failed to satisfy constraint: Member must satisfy regular expression pattern: x"
    )
    params = {"ConnectionName": "nextToken"}
    assert fields(APPRUNNER, "ListConnections", message, params) == ["connection_name"]


def test_a_value_echoed_after_its_name_names_the_member():
    """A duplicate-name refusal names connection_name: the member whose value follows "name"."""
    message = "Connection with name my-conn already exists"
    params = {"ConnectionName": "my-conn", "ProviderType": "GITHUB"}
    assert fields(APPRUNNER, "CreateConnection", message, params) == ["connection_name"]


def test_a_value_that_reads_like_a_member_name_names_nothing_else():
    """A connection called HostArn does not make the message name the HostArn member."""
    message = "Connection with name HostArn already exists"
    params = {"ConnectionName": "HostArn", "ProviderType": "GitHubEnterpriseServer"}
    assert fields(CODESTAR, "CreateConnection", message, params) == ["connection_name"]


def test_a_member_named_in_words_is_named():
    """A limit on "tags" in plain words names the tags field."""
    message = "A resource can have at most 50 tags; this request would leave it with 51"
    assert fields(APPRUNNER, "TagResource", message) == ["tags"]


def test_a_list_member_named_in_the_singular_is_named():
    """The singular "A tag must have a Key" names tags (which tag, it does not say)."""
    assert fields(APPRUNNER, "TagResource", "A tag must have a Key") == ["tags"]


def test_a_message_naming_no_member_has_no_violations():
    """An AWS message about no request member yields nothing to name."""
    assert fields(APPRUNNER, "CreateConnection", "injected InvalidRequestException") == []


def test_an_operation_the_model_lacks_has_no_violations():
    """The facade's own operations have no AWS input shape to read names from."""
    assert fields(APPRUNNER, "WatchConnections", "Invalid NextToken") == []


def _proto_paths(descriptor, prefix=""):
    for field in descriptor.fields:
        path = f"{prefix}{field.name}"
        yield path
        if field.message_type is not None and not field.is_repeated:
            yield from _proto_paths(field.message_type, f"{path}.")


AWS_RPCS = [
    pytest.param(botocore_name, method, id=f"{service.name}.{method.name}")
    for service, botocore_name in (
        (APPRUNNER_SERVICE, APPRUNNER),
        (CODESTAR_SERVICE, CODESTAR),
        (HOST_SERVICE, CODESTAR),
    )
    for method in service.methods
    if method.name in service_model(botocore_name).operation_names
]


@pytest.mark.parametrize(("botocore_name", "method"), AWS_RPCS)
def test_every_derivable_field_is_a_field_of_the_proto_request(botocore_name, method):
    """Each input member AWS can name, nested ones too, is a field of the RPC's request message."""
    proto = set(_proto_paths(method.input_type))
    _, members = _input(botocore_name, method.name)
    assert members
    for member in members:
        assert member.field in proto, member.path
        assert fields(botocore_name, method.name, f"{member.path[-1]} is wrong") == [member.field]
