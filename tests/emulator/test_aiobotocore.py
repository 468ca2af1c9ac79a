"""aiobotocore, the facade's own client, against the emulator: the production code path."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


async def test_apprunner_round_trip(aio, control) -> None:
    """Create, handshake, list and delete an App Runner connection through aiobotocore."""
    client = await aio("apprunner")
    created = await client.create_connection(ConnectionName="my-conn", ProviderType="GITHUB")
    arn = created["Connection"]["ConnectionArn"]
    await control.complete_handshake(arn)
    listed = await client.list_connections()
    assert [(c["ConnectionArn"], c["Status"]) for c in listed["ConnectionSummaryList"]] == [
        (arn, "AVAILABLE")
    ]
    assert (await client.delete_connection(ConnectionArn=arn))["Connection"]["Status"] == "DELETED"


async def test_codestar_round_trip(aio) -> None:
    """Create, get, tag and delete a CodeStar connection through aiobotocore."""
    client = await aio("codestar-connections", region="eu-central-1")
    arn = (await client.create_connection(ConnectionName="c", ProviderType="GitLab"))["ConnectionArn"]
    assert arn.startswith("arn:aws:codestar-connections:eu-central-1:123456789012:connection/")
    await client.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}])
    assert (await client.list_tags_for_resource(ResourceArn=arn))["Tags"] == [{"Key": "k", "Value": "v"}]
    assert (await client.get_connection(ConnectionArn=arn))["Connection"]["ConnectionStatus"] == "PENDING"
    await client.delete_connection(ConnectionArn=arn)


async def test_errors_carry_code_and_request_id(aio, control) -> None:
    """aiobotocore parses the emulator's errors into ClientError with AWS's code and request id."""
    client = await aio("apprunner")
    with pytest.raises(ClientError) as error:
        await client.delete_connection(
            ConnectionArn="arn:aws:apprunner:us-east-1:123456789012:connection/x/0123456789abcdef0123456789abcdef"
        )
    response = error.value.response
    assert response["Error"]["Code"] == "ResourceNotFoundException"
    (entry,) = await control.requests(operation="DeleteConnection")
    assert response["ResponseMetadata"]["RequestId"] == entry["RequestId"]
