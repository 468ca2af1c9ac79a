"""App Runner connections through boto3: regional, unique names, 50 tags, quotas, in-use."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
from botocore.exceptions import ClientError

from connfacade.server.emulator import Emulator, Quotas

ARN = re.compile(r"arn:aws:apprunner:us-east-1:123456789012:connection/my-conn/[0-9a-f]{32}")


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


async def test_create_connection_is_pending_with_apprunner_arn(apprunner) -> None:
    """A new connection is PENDING_HANDSHAKE, named by an ARN ending in 32 lowercase hex digits."""
    before = dt.datetime.now(dt.UTC)
    response = await apprunner.create_connection(ConnectionName="my-conn", ProviderType="BITBUCKET")
    connection = response["Connection"]
    assert ARN.fullmatch(connection["ConnectionArn"])
    assert connection["ConnectionName"] == "my-conn"
    assert connection["ProviderType"] == "BITBUCKET"
    assert connection["Status"] == "PENDING_HANDSHAKE"
    assert connection["CreatedAt"] >= before - dt.timedelta(seconds=1)
    assert re.fullmatch(r"[0-9a-f-]{36}", response["ResponseMetadata"]["RequestId"])


async def test_list_connections_filters_by_name(apprunner) -> None:
    """ListConnections returns every connection in creation order, or only the one named."""
    for name in ("conn-a", "conn-b", "conn-c"):
        await apprunner.create_connection(ConnectionName=name, ProviderType="GITHUB")
    listed = (await apprunner.list_connections())["ConnectionSummaryList"]
    assert [c["ConnectionName"] for c in listed] == ["conn-a", "conn-b", "conn-c"]
    assert "NextToken" not in await apprunner.list_connections()
    only = (await apprunner.list_connections(ConnectionName="conn-b"))["ConnectionSummaryList"]
    assert [c["ConnectionName"] for c in only] == ["conn-b"]


async def test_delete_connection_returns_it_deleted_and_removes_it(apprunner) -> None:
    """DeleteConnection answers the connection with status DELETED; it is gone afterwards."""
    arn = (await apprunner.create_connection(ConnectionName="my-conn", ProviderType="GITHUB"))["Connection"][
        "ConnectionArn"
    ]
    deleted = (await apprunner.delete_connection(ConnectionArn=arn))["Connection"]
    assert (deleted["ConnectionArn"], deleted["Status"]) == (arn, "DELETED")
    assert (await apprunner.list_connections())["ConnectionSummaryList"] == []
    with pytest.raises(ClientError) as error:
        await apprunner.delete_connection(ConnectionArn=arn)
    assert _code(error) == "ResourceNotFoundException"


async def test_tags_round_trip(apprunner) -> None:
    """Tags given at creation, added, overwritten and removed show in ListTagsForResource."""
    created = await apprunner.create_connection(
        ConnectionName="my-conn", ProviderType="GITHUB", Tags=[{"Key": "team", "Value": "a"}]
    )
    arn = created["Connection"]["ConnectionArn"]
    await apprunner.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "x"}]
    )
    tags = (await apprunner.list_tags_for_resource(ResourceArn=arn))["Tags"]
    assert tags == [{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "x"}]
    await apprunner.untag_resource(ResourceArn=arn, TagKeys=["team", "absent"])
    assert (await apprunner.list_tags_for_resource(ResourceArn=arn))["Tags"] == [{"Key": "env", "Value": "x"}]


@pytest.mark.parametrize("operation", ["tag_resource", "untag_resource", "list_tags_for_resource"])
async def test_tags_of_unknown_arn_are_not_found(apprunner, operation: str) -> None:
    """Tag operations on an ARN that names nothing answer ResourceNotFoundException."""
    arn = "arn:aws:apprunner:us-east-1:123456789012:connection/nope/0123456789abcdef0123456789abcdef"
    extra = {
        "tag_resource": {"Tags": [{"Key": "k", "Value": "v"}]},
        "untag_resource": {"TagKeys": ["k"]},
        "list_tags_for_resource": {},
    }[operation]
    with pytest.raises(ClientError) as error:
        await getattr(apprunner, operation)(ResourceArn=arn, **extra)
    assert _code(error) == "ResourceNotFoundException"


async def test_name_is_unique_per_region(boto) -> None:
    """A second connection of the same name in the same region is an InvalidRequestException."""
    east, west = boto("apprunner", region="us-east-1"), boto("apprunner", region="eu-west-1")
    await east.create_connection(ConnectionName="my-conn", ProviderType="GITHUB")
    with pytest.raises(ClientError) as error:
        await east.create_connection(ConnectionName="my-conn", ProviderType="BITBUCKET")
    assert _code(error) == "InvalidRequestException"
    assert "already exists" in error.value.response["Error"]["Message"]
    other = (await west.create_connection(ConnectionName="my-conn", ProviderType="GITHUB"))["Connection"]
    assert other["ConnectionArn"].startswith("arn:aws:apprunner:eu-west-1:123456789012:connection/my-conn/")


async def test_state_is_per_region(boto) -> None:
    """Each region lists only its own connections and cannot delete another region's."""
    east, west = boto("apprunner", region="us-east-1"), boto("apprunner", region="eu-west-1")
    arn = (await east.create_connection(ConnectionName="my-conn", ProviderType="GITHUB"))["Connection"][
        "ConnectionArn"
    ]
    assert (await west.list_connections())["ConnectionSummaryList"] == []
    with pytest.raises(ClientError) as error:
        await west.delete_connection(ConnectionArn=arn)
    assert _code(error) == "ResourceNotFoundException"


async def test_validation_error_is_aws_validation_exception(apprunner) -> None:
    """What botocore lets through but the model forbids comes back as AWS's ValidationException."""
    with pytest.raises(ClientError) as error:
        await apprunner.create_connection(ConnectionName="x" * 33, ProviderType="GITLAB")
    assert _code(error) == "ValidationException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.value.response["Error"]["Message"] == (
        "3 validation errors detected: "
        f"Value '{'x' * 33}' at 'connectionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 32; "
        f"Value '{'x' * 33}' at 'connectionName' failed to satisfy constraint: "
        r"Member must satisfy regular expression pattern: [A-Za-z0-9][A-Za-z0-9\-_]{3,31}; "
        "Value 'GITLAB' at 'providerType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [GITHUB, BITBUCKET]"
    )


@pytest.mark.parametrize("where", ["create", "tag", "untag"])
async def test_aws_tag_prefix_is_rejected(apprunner, where: str) -> None:
    """Tag keys starting with "aws:" are refused wherever a key is given (the model's pattern)."""
    arn = (await apprunner.create_connection(ConnectionName="my-conn", ProviderType="GITHUB"))["Connection"][
        "ConnectionArn"
    ]
    bad = [{"Key": "aws:owner", "Value": "v"}]
    call = {
        "create": lambda: apprunner.create_connection(
            ConnectionName="other", ProviderType="GITHUB", Tags=bad
        ),
        "tag": lambda: apprunner.tag_resource(ResourceArn=arn, Tags=bad),
        "untag": lambda: apprunner.untag_resource(ResourceArn=arn, TagKeys=["aws:owner"]),
    }[where]
    with pytest.raises(ClientError) as error:
        await call()
    assert _code(error) == "ValidationException"
    assert "^(?!aws:).+" in error.value.response["Error"]["Message"]


async def test_at_most_50_tags_per_connection(apprunner) -> None:
    """Creating with 51 tags, or tagging past 50 in total, is an InvalidRequestException."""
    limit = Quotas().apprunner_tags_per_resource
    assert limit == 50
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(limit + 1)]
    with pytest.raises(ClientError) as error:
        await apprunner.create_connection(ConnectionName="my-conn", ProviderType="GITHUB", Tags=tags)
    assert _code(error) == "InvalidRequestException"
    created = await apprunner.create_connection(
        ConnectionName="my-conn", ProviderType="GITHUB", Tags=tags[:limit]
    )
    arn = created["Connection"]["ConnectionArn"]
    await apprunner.tag_resource(ResourceArn=arn, Tags=[{"Key": "k0", "Value": "overwritten"}])
    with pytest.raises(ClientError) as error:
        await apprunner.tag_resource(ResourceArn=arn, Tags=tags[limit:])
    assert _code(error) == "InvalidRequestException"
    assert len((await apprunner.list_tags_for_resource(ResourceArn=arn))["Tags"]) == limit


async def test_connection_quota_per_region(boto, control) -> None:
    """Past the per-region quota CreateConnection answers ServiceQuotaExceededException (that region only)."""
    assert Quotas().apprunner_connections_per_region == 100
    await control.configure(quotas={"AppRunnerConnectionsPerRegion": 2})
    east = boto("apprunner")
    for name in ("conn-a", "conn-b"):
        await east.create_connection(ConnectionName=name, ProviderType="GITHUB")
    with pytest.raises(ClientError) as error:
        await east.create_connection(ConnectionName="conn-c", ProviderType="GITHUB")
    assert _code(error) == "ServiceQuotaExceededException"
    await boto("apprunner", region="eu-west-1").create_connection(
        ConnectionName="conn-c", ProviderType="GITHUB"
    )


async def test_quota_from_constructor(boto_session) -> None:
    """Quotas given to the constructor apply from the start."""
    async with Emulator(quotas={"AppRunnerConnectionsPerRegion": 0}) as emu:
        client = boto_session.client("apprunner", endpoint_url=emu.url)
        try:
            with pytest.raises(ClientError) as error:
                await asyncio.to_thread(
                    client.create_connection, ConnectionName="conn-a", ProviderType="GITHUB"
                )
        finally:
            client.close()
    assert _code(error) == "ServiceQuotaExceededException"


async def test_delete_of_connection_in_use_fails(apprunner, control) -> None:
    """A connection marked in use cannot be deleted: InvalidRequestException saying "in use"."""
    arn = (await apprunner.create_connection(ConnectionName="my-conn", ProviderType="GITHUB"))["Connection"][
        "ConnectionArn"
    ]
    await control.set_in_use(arn, True)
    with pytest.raises(ClientError) as error:
        await apprunner.delete_connection(ConnectionArn=arn)
    assert _code(error) == "InvalidRequestException"
    assert "in use" in error.value.response["Error"]["Message"]
    await control.set_in_use(arn, False)
    assert (await apprunner.delete_connection(ConnectionArn=arn))["Connection"]["Status"] == "DELETED"
