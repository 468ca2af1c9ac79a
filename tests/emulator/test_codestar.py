"""CodeStar connections and hosts through boto3: global per account, hosts, 200 tags, quotas."""

from __future__ import annotations

import re

import botocore.session
import pytest
from botocore.exceptions import ClientError

from connfacade.server.emulator import Quotas

CONNECTION_ARN = re.compile(
    r"arn:aws:codestar-connections:(?P<region>[a-z0-9-]+):123456789012:connection/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
)
HOST_ARN = re.compile(r"arn:aws:codestar-connections:us-east-1:123456789012:host/(?P<stem>.+)-[0-9a-f]{8}")
GHES = "GitHubEnterpriseServer"


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


async def _available_host(codestar, control, name: str = "my-ghe") -> str:
    arn: str = (
        await codestar.create_host(Name=name, ProviderType=GHES, ProviderEndpoint="https://ghe.example.com")
    )["HostArn"]
    await control.complete_handshake(arn)
    return arn


async def test_create_and_get_connection(codestar) -> None:
    """A new connection is PENDING, owned by the account, named by a uuid ARN."""
    created = await codestar.create_connection(
        ConnectionName="my-conn", ProviderType="GitHub", Tags=[{"Key": "team", "Value": "a"}]
    )
    match = CONNECTION_ARN.fullmatch(created["ConnectionArn"])
    assert match
    assert match["region"] == "us-east-1"
    assert created["Tags"] == [{"Key": "team", "Value": "a"}]
    connection = (await codestar.get_connection(ConnectionArn=created["ConnectionArn"]))["Connection"]
    assert connection == {
        "ConnectionName": "my-conn",
        "ConnectionArn": created["ConnectionArn"],
        "ProviderType": "GitHub",
        "OwnerAccountId": "123456789012",
        "ConnectionStatus": "PENDING",
    }


async def test_duplicate_names_are_allowed(codestar) -> None:
    """Unlike App Runner, CodeStar lets two connections share a name."""
    first = await codestar.create_connection(ConnectionName="same", ProviderType="GitHub")
    second = await codestar.create_connection(ConnectionName="same", ProviderType="Bitbucket")
    assert first["ConnectionArn"] != second["ConnectionArn"]


async def test_connections_are_global_per_account(boto) -> None:
    """ListConnections in any region returns the connections of every region."""
    east, west = (
        boto("codestar-connections", region="us-east-1"),
        boto("codestar-connections", region="eu-west-1"),
    )
    in_east = (await east.create_connection(ConnectionName="a", ProviderType="GitHub"))["ConnectionArn"]
    in_west = (await west.create_connection(ConnectionName="b", ProviderType="GitLab"))["ConnectionArn"]
    assert CONNECTION_ARN.fullmatch(in_west)["region"] == "eu-west-1"  # type: ignore[index]
    for client in (east, west):
        listed = (await client.list_connections())["Connections"]
        assert [c["ConnectionArn"] for c in listed] == [in_east, in_west]
    assert (await west.get_connection(ConnectionArn=in_east))["Connection"]["ConnectionName"] == "a"


async def test_list_connections_filters(codestar, control) -> None:
    """ProviderTypeFilter and HostArnFilter narrow the list; an unknown host is not found."""
    host = await _available_host(codestar, control)
    await codestar.create_connection(ConnectionName="gh", ProviderType="GitHub")
    await codestar.create_connection(ConnectionName="ghes", HostArn=host)
    await codestar.create_connection(ConnectionName="bb", ProviderType="Bitbucket")
    by_provider = (await codestar.list_connections(ProviderTypeFilter="Bitbucket"))["Connections"]
    assert [c["ConnectionName"] for c in by_provider] == ["bb"]
    by_host = (await codestar.list_connections(HostArnFilter=host))["Connections"]
    assert [(c["ConnectionName"], c["ProviderType"], c["HostArn"]) for c in by_host] == [("ghes", GHES, host)]
    with pytest.raises(ClientError) as error:
        await codestar.list_connections(HostArnFilter=host[:-8] + "00000000")
    assert _code(error) == "ResourceNotFoundException"


async def test_delete_connection(codestar) -> None:
    """A deleted connection is gone: GetConnection and a second delete are not found."""
    arn = (await codestar.create_connection(ConnectionName="c", ProviderType="GitHub"))["ConnectionArn"]
    await codestar.delete_connection(ConnectionArn=arn)
    for call in (codestar.get_connection, codestar.delete_connection):
        with pytest.raises(ClientError) as error:
            await call(ConnectionArn=arn)
        assert _code(error) == "ResourceNotFoundException"


async def test_codeconnections_arn_names_the_same_connection(codestar) -> None:
    """An ARN with the 2024 ``codeconnections`` prefix reaches the same connection everywhere."""
    arn = (await codestar.create_connection(ConnectionName="c", ProviderType="GitHub"))["ConnectionArn"]
    alias = arn.replace(":codestar-connections:", ":codeconnections:")
    assert (await codestar.get_connection(ConnectionArn=alias))["Connection"]["ConnectionArn"] == arn
    await codestar.tag_resource(ResourceArn=alias, Tags=[{"Key": "k", "Value": "v"}])
    assert (await codestar.list_tags_for_resource(ResourceArn=arn))["Tags"] == [{"Key": "k", "Value": "v"}]
    await codestar.untag_resource(ResourceArn=alias, TagKeys=["k"])
    assert (await codestar.list_tags_for_resource(ResourceArn=alias))["Tags"] == []
    await codestar.delete_connection(ConnectionArn=alias)
    assert (await codestar.list_connections())["Connections"] == []


async def test_connection_through_host(codestar, control) -> None:
    """With a HostArn the connection takes the host's provider type; the host must exist and be AVAILABLE."""
    pending = (await codestar.create_host(Name="h", ProviderType=GHES, ProviderEndpoint="https://h.example"))[
        "HostArn"
    ]
    with pytest.raises(ClientError) as error:
        await codestar.create_connection(ConnectionName="c", HostArn=pending)
    assert _code(error) == "ResourceUnavailableException"
    with pytest.raises(ClientError) as error:
        await codestar.create_connection(ConnectionName="c", HostArn=pending[:-8] + "00000000")
    assert _code(error) == "ResourceNotFoundException"
    await control.complete_handshake(pending)
    arn = (await codestar.create_connection(ConnectionName="c", HostArn=pending))["ConnectionArn"]
    connection = (await codestar.get_connection(ConnectionArn=arn))["Connection"]
    assert (connection["ProviderType"], connection["HostArn"]) == (GHES, pending)


@pytest.mark.parametrize(
    "params",
    [{}, {"ProviderType": GHES}, {"ProviderType": "GitLabSelfManaged"}],
    ids=["neither-provider-nor-host", "ghes-without-host", "gitlab-self-managed-without-host"],
)
async def test_connection_needs_provider_or_host(codestar, params) -> None:
    """Without a HostArn, a cloud ProviderType is required: ValidationException otherwise."""
    with pytest.raises(ClientError) as error:
        await codestar.create_connection(ConnectionName="c", **params)
    assert _code(error) == "ValidationException"


async def test_at_most_200_tags(codestar) -> None:
    """Tagging a resource past 200 tags in total answers LimitExceededException."""
    limit = Quotas().codestar_tags_per_resource
    assert limit == 200
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(limit)]
    arn = (await codestar.create_connection(ConnectionName="c", ProviderType="GitHub", Tags=tags))[
        "ConnectionArn"
    ]
    with pytest.raises(ClientError) as error:
        await codestar.tag_resource(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    assert _code(error) == "LimitExceededException"
    with pytest.raises(ClientError) as error:
        await codestar.create_connection(ConnectionName="c", ProviderType="GitHub", Tags=[*tags, tags[0]])
    assert _code(error) == "ValidationException"  # the model's list limit, before any state


async def test_tags_of_unknown_resource_are_not_found(codestar) -> None:
    """ListTagsForResource of an ARN that names nothing answers ResourceNotFoundException."""
    with pytest.raises(ClientError) as error:
        await codestar.list_tags_for_resource(
            ResourceArn="arn:aws:codestar-connections:us-east-1:123456789012:connection/nope"
        )
    assert _code(error) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("quota", "create"),
    [
        ("CodeStarConnectionsPerAccount", "connection"),
        ("CodeStarHostsPerAccount", "host"),
    ],
)
async def test_account_quotas(boto, control, quota: str, create: str) -> None:
    """Past the account quota (across regions) creation answers LimitExceededException."""
    defaults = Quotas().to_json()
    assert (defaults["CodeStarConnectionsPerAccount"], defaults["CodeStarHostsPerAccount"]) == (250, 50)
    await control.configure(quotas={quota: 2})
    clients = [boto("codestar-connections", region=r) for r in ("us-east-1", "eu-west-1", "ap-south-1")]

    async def make(client) -> None:
        if create == "connection":
            await client.create_connection(ConnectionName="c", ProviderType="GitHub")
        else:
            await client.create_host(Name="h", ProviderType=GHES, ProviderEndpoint="https://h.example")

    await make(clients[0])
    await make(clients[1])
    with pytest.raises(ClientError) as error:
        await make(clients[2])
    assert _code(error) == "LimitExceededException"


async def test_host_life_cycle(codestar, control) -> None:
    """CreateHost (PENDING) → GetHost → ListHosts → UpdateHost once AVAILABLE → DeleteHost."""
    vpc = {
        "VpcId": "vpc-0123456789abcdef0",
        "SubnetIds": ["subnet-01234567"],
        "SecurityGroupIds": ["sg-01234567"],
    }
    created = await codestar.create_host(
        Name="My GHE/prod",
        ProviderType=GHES,
        ProviderEndpoint="https://ghe.example.com",
        VpcConfiguration=vpc,
    )
    match = HOST_ARN.fullmatch(created["HostArn"])
    assert match
    assert match["stem"] == "My-GHE-prod"
    arn = created["HostArn"]
    host = await codestar.get_host(HostArn=arn)
    assert {
        k: host[k] for k in ("Name", "Status", "ProviderType", "ProviderEndpoint", "VpcConfiguration")
    } == {
        "Name": "My GHE/prod",
        "Status": "PENDING",
        "ProviderType": GHES,
        "ProviderEndpoint": "https://ghe.example.com",
        "VpcConfiguration": vpc,
    }
    with pytest.raises(ClientError) as error:
        await codestar.update_host(HostArn=arn, ProviderEndpoint="https://ghe2.example.com")
    assert _code(error) == "ConflictException"
    await control.complete_handshake(arn)
    await codestar.update_host(HostArn=arn, ProviderEndpoint="https://ghe2.example.com")
    listed = (await codestar.list_hosts())["Hosts"]
    assert [(h["HostArn"], h["ProviderEndpoint"], h["Status"]) for h in listed] == [
        (arn, "https://ghe2.example.com", "AVAILABLE")
    ]
    await codestar.delete_host(HostArn=arn)
    with pytest.raises(ClientError) as error:
        await codestar.get_host(HostArn=arn)
    assert _code(error) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("status", "updatable"),
    [
        ("AVAILABLE", True),
        ("VPC_CONFIG_FAILED_INITIALIZATION", True),
        ("PENDING", False),
        ("VPC_CONFIG_INITIALIZING", False),
        ("VPC_CONFIG_DELETING", False),
    ],
)
async def test_update_host_only_when_available_or_vpc_failed(
    codestar, control, status: str, updatable: bool
) -> None:
    """UpdateHost works in AVAILABLE or VPC_CONFIG_FAILED_INITIALIZATION, else ConflictException."""
    arn = (await codestar.create_host(Name="h", ProviderType=GHES, ProviderEndpoint="https://h.example"))[
        "HostArn"
    ]
    await control.complete_handshake(arn, status)
    if updatable:
        await codestar.update_host(HostArn=arn, ProviderEndpoint="https://new.example")
        assert (await codestar.get_host(HostArn=arn))["ProviderEndpoint"] == "https://new.example"
    else:
        with pytest.raises(ClientError) as error:
            await codestar.update_host(HostArn=arn, ProviderEndpoint="https://new.example")
        assert _code(error) == "ConflictException"


async def test_host_being_configured_cannot_be_deleted(codestar, control) -> None:
    """DeleteHost of a host whose VPC is being set up answers ResourceUnavailableException."""
    arn = (await codestar.create_host(Name="h", ProviderType=GHES, ProviderEndpoint="https://h.example"))[
        "HostArn"
    ]
    await control.complete_handshake(arn, "VPC_CONFIG_INITIALIZING")
    with pytest.raises(ClientError) as error:
        await codestar.delete_host(HostArn=arn)
    assert _code(error) == "ResourceUnavailableException"


async def test_hosts_are_for_self_managed_providers(codestar) -> None:
    """CreateHost with a cloud provider type is a ValidationException."""
    with pytest.raises(ClientError) as error:
        await codestar.create_host(Name="h", ProviderType="GitHub", ProviderEndpoint="https://h.example")
    assert _code(error) == "ValidationException"


async def test_hosts_are_taggable(codestar) -> None:
    """Tags work on host ARNs as on connection ARNs."""
    arn = (
        await codestar.create_host(
            Name="h",
            ProviderType=GHES,
            ProviderEndpoint="https://h.example",
            Tags=[{"Key": "a", "Value": "1"}],
        )
    )["HostArn"]
    await codestar.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    assert (await codestar.list_tags_for_resource(ResourceArn=arn))["Tags"] == [
        {"Key": "a", "Value": "1"},
        {"Key": "b", "Value": "2"},
    ]


def _codeconnections_status(code: str) -> int:
    """The HTTP status botocore's codeconnections model gives error ``code``."""
    shape = botocore.session.get_session().get_service_model("codeconnections").shape_for(code)
    return int(shape.metadata["error"]["httpStatusCode"])


def _status(error: pytest.ExceptionInfo[ClientError]) -> int:
    return int(error.value.response["ResponseMetadata"]["HTTPStatusCode"])


async def test_errors_carry_the_http_status_of_the_codeconnections_model(codestar, control) -> None:
    """Each error CodeStar answers has the HTTP status the codeconnections model states for it.

    The codestar-connections model states none; the same service under its new
    name does (LimitExceededException is 429, ResourceNotFoundException 404, ...).
    """
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(Quotas().codestar_tags_per_resource)]
    full = (await codestar.create_connection(ConnectionName="c", ProviderType="GitHub", Tags=tags))[
        "ConnectionArn"
    ]
    pending = (await codestar.create_host(Name="h", ProviderType=GHES, ProviderEndpoint="https://h.example"))[
        "HostArn"
    ]
    refusals = {
        "LimitExceededException": lambda: codestar.tag_resource(
            ResourceArn=full, Tags=[{"Key": "x", "Value": "v"}]
        ),
        "ResourceNotFoundException": lambda: codestar.get_connection(ConnectionArn=full[:-12] + "0" * 12),
        "ResourceUnavailableException": lambda: codestar.create_connection(
            ConnectionName="c", HostArn=pending
        ),
        "ConflictException": lambda: codestar.update_host(
            HostArn=pending, ProviderEndpoint="https://x.example"
        ),
    }
    for code, refuse in refusals.items():
        with pytest.raises(ClientError) as error:
            await refuse()
        assert (_code(error), _status(error)) == (code, _codeconnections_status(code))


async def test_an_error_no_model_gives_a_status_is_400(codestar) -> None:
    """ValidationException is in no CodeStar model: it keeps AWS JSON's 400."""
    with pytest.raises(ClientError) as error:
        await codestar.create_connection(ConnectionName="c")
    assert (_code(error), _status(error)) == ("ValidationException", 400)
