"""Enum names in every spelling, tags, per-call options and JSON output."""

from __future__ import annotations

import json

import pytest
from google.protobuf import timestamp_pb2

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.client import _convert
from connfacade.codestar.v1 import host_service_pb2, types_pb2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GITHUB", types_pb2.PROVIDER_TYPE_GITHUB),
        ("github", types_pb2.PROVIDER_TYPE_GITHUB),
        ("GitHub", types_pb2.PROVIDER_TYPE_GITHUB),
        ("PROVIDER_TYPE_GITHUB", types_pb2.PROVIDER_TYPE_GITHUB),
        ("provider_type_github", types_pb2.PROVIDER_TYPE_GITHUB),
        ("Bitbucket", types_pb2.PROVIDER_TYPE_BITBUCKET),
        ("GitHubEnterpriseServer", types_pb2.PROVIDER_TYPE_GITHUB_ENTERPRISE_SERVER),
        ("GITHUB_ENTERPRISE_SERVER", types_pb2.PROVIDER_TYPE_GITHUB_ENTERPRISE_SERVER),
        ("github-enterprise-server", types_pb2.PROVIDER_TYPE_GITHUB_ENTERPRISE_SERVER),
        ("GitLab", types_pb2.PROVIDER_TYPE_GITLAB),
        ("GitLabSelfManaged", types_pb2.PROVIDER_TYPE_GITLAB_SELF_MANAGED),
        (" gitlab ", types_pb2.PROVIDER_TYPE_GITLAB),
    ],
)
def test_codestar_provider_type_spellings(text, expected):
    """AWS values, buf names and short names all name the same enum value."""
    assert _convert.parse_enum(types_pb2.ProviderType, text) == expected


def test_every_value_parses_from_its_own_names():
    """Each value's full and short name round-trips, for both services' enums."""
    for wrapper in (apprunner_pb2.ProviderType, apprunner_pb2.ConnectionStatus, types_pb2.ProviderType):
        prefix = _convert.enum_prefix(wrapper)
        assert prefix.endswith("_")
        for name, number in wrapper.items():
            assert _convert.parse_enum(wrapper, name) == number
            assert _convert.parse_enum(wrapper, name.removeprefix(prefix).lower()) == number


def test_enum_values_pass_through():
    """An enum value (a number) is accepted as it is."""
    assert _convert.parse_enum(apprunner_pb2.ProviderType, apprunner_pb2.PROVIDER_TYPE_BITBUCKET) == 2


@pytest.mark.parametrize("bad", ["GITLAB", "gitub", "", "PROVIDER_TYPE_"])
def test_unknown_names_raise_value_error_listing_choices(bad):
    """App Runner has no GitLab: a name the enum lacks is a ValueError naming the choices."""
    with pytest.raises(ValueError, match="expected one of GITHUB, BITBUCKET"):
        _convert.parse_enum(apprunner_pb2.ProviderType, bad)


def test_unknown_numbers_and_other_types_are_refused():
    """A number outside the enum is a ValueError; a bool or None a TypeError."""
    with pytest.raises(ValueError, match="not a ProviderType value"):
        _convert.parse_enum(apprunner_pb2.ProviderType, 7)
    with pytest.raises(TypeError):
        _convert.parse_enum(apprunner_pb2.ProviderType, True)
    with pytest.raises(TypeError):
        _convert.parse_enum(apprunner_pb2.ProviderType, None)


def test_optional_enum_defaults_to_unspecified():
    """None means the zero value, which leaves a filter unset."""
    assert _convert.optional_enum(types_pb2.ProviderType, None) == types_pb2.PROVIDER_TYPE_UNSPECIFIED
    assert _convert.optional_enum(types_pb2.ProviderType, "gitlab") == types_pb2.PROVIDER_TYPE_GITLAB


def test_short_names_leave_out_the_zero_value():
    """The choices shown to people are the meaningful values, without the prefix."""
    assert _convert.enum_short_names(apprunner_pb2.ProviderType) == ["GITHUB", "BITBUCKET"]


def test_tags_from_a_mapping_or_from_messages():
    """Tags may be a mapping, or Tag messages of either service."""
    from_mapping = _convert.build_tags(types_pb2.Tag, {"team": "a", "env": ""})
    assert [(t.key, t.value) for t in from_mapping] == [("team", "a"), ("env", "")]
    assert all(isinstance(t, types_pb2.Tag) for t in from_mapping)
    from_messages = _convert.build_tags(types_pb2.Tag, [apprunner_pb2.Tag(key="k", value="v")])
    assert from_messages == [types_pb2.Tag(key="k", value="v")]
    assert _convert.build_tags(types_pb2.Tag, None) == []


def test_tags_as_a_string_are_refused():
    """A string is iterable but is not a sequence of tags."""
    with pytest.raises(TypeError):
        _convert.build_tags(types_pb2.Tag, "team=a")


def test_string_lists_refuse_a_bare_string():
    """tag_keys="abc" would silently untag "a", "b" and "c"."""
    assert _convert.string_list("tag_keys", ("a", "b")) == ["a", "b"]
    with pytest.raises(TypeError, match="tag_keys"):
        _convert.string_list("tag_keys", "abc")


def test_vpc_configuration_from_a_mapping():
    """A mapping of VpcConfiguration fields builds the message; an unknown key is a ValueError."""
    vpc = _convert.build_vpc_configuration({"vpc_id": "vpc-12345678", "subnet_ids": ["subnet-1"]})
    assert vpc == host_service_pb2.VpcConfiguration(vpc_id="vpc-12345678", subnet_ids=["subnet-1"])
    message = host_service_pb2.VpcConfiguration(vpc_id="vpc-1")
    assert _convert.build_vpc_configuration(message) is message
    with pytest.raises(ValueError, match="vpc"):
        _convert.build_vpc_configuration({"vpcid": "x"})


def test_call_defaults_combine_client_and_call_options():
    """A call's metadata follows the client's; timeout falls back to the client's only when not given."""
    defaults = _convert.CallDefaults.of(30.0, [("X-Workload", "billing")])
    assert defaults.resolve(_convert.USE_CLIENT_DEFAULT, [("x-request-id", "r")]) == (
        30.0,
        (("x-workload", "billing"), ("x-request-id", "r")),
    )
    assert defaults.resolve(None, ()) == (None, (("x-workload", "billing"),))
    assert defaults.resolve(2.5, ())[0] == 2.5


def test_case_helpers():
    """RPC names map to snake_case methods and kebab-case commands."""
    assert _convert.snake_case("ListTagsForResource") == "list_tags_for_resource"
    assert _convert.kebab_case("CreateHost") == "create-host"
    assert _convert.kebab_case("provider_type_filter") == "provider-type-filter"


def test_json_uses_proto_names_enum_names_and_rfc3339():
    """JSON output keeps field names, spells enums by name and timestamps in RFC 3339."""
    connection = apprunner_pb2.Connection(
        connection_name="web",
        provider_type=apprunner_pb2.PROVIDER_TYPE_GITHUB,
        status=apprunner_pb2.CONNECTION_STATUS_PENDING_HANDSHAKE,
        created_at=timestamp_pb2.Timestamp(seconds=1_700_000_000),
    )
    data = json.loads(_convert.to_json(apprunner_pb2.GetConnectionResponse(connection=connection)))
    assert data["connection"]["connection_name"] == "web"
    assert data["connection"]["provider_type"] == "PROVIDER_TYPE_GITHUB"
    assert data["connection"]["status"] == "CONNECTION_STATUS_PENDING_HANDSHAKE"
    assert data["connection"]["created_at"] == "2023-11-14T22:13:20Z"
    empty = json.loads(_convert.to_json(apprunner_pb2.ListConnectionsResponse()))
    assert empty == {"connection_summary_list": [], "next_token": ""}
