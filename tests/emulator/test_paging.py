"""Pagination: page sizes, opaque tokens bound to their query, and App Runner's empty pages."""

from __future__ import annotations

import base64

import pytest
from botocore.exceptions import ClientError

GHES = "GitHubEnterpriseServer"


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


async def _all_pages(call, key: str, **params) -> tuple[list[str], int]:
    names: list[str] = []
    calls = 0
    token = None
    while True:
        response = await call(**params, **({"NextToken": token} if token else {}))
        calls += 1
        names += [item.get("ConnectionName") or item.get("Name") for item in response[key]]
        token = response.get("NextToken")
        if token is None:
            return names, calls


async def test_apprunner_pages_in_creation_order(apprunner) -> None:
    """MaxResults cuts pages; following NextToken yields every connection once, in creation order."""
    names = [f"conn-{i:02}" for i in range(7)]
    for name in names:
        await apprunner.create_connection(ConnectionName=name, ProviderType="GITHUB")
    listed, calls = await _all_pages(apprunner.list_connections, "ConnectionSummaryList", MaxResults=3)
    assert (listed, calls) == (names, 3)


async def test_apprunner_without_max_results_returns_everything(apprunner) -> None:
    """Without MaxResults App Runner answers all connections in one page (as its reference says)."""
    for i in range(25):
        await apprunner.create_connection(ConnectionName=f"conn-{i:02}", ProviderType="GITHUB")
    response = await apprunner.list_connections()
    assert len(response["ConnectionSummaryList"]) == 25
    assert "NextToken" not in response


async def test_codestar_default_page_is_20(codestar) -> None:
    """Without MaxResults (or with 0) CodeStar pages by 20."""
    for i in range(23):
        await codestar.create_connection(ConnectionName=f"c{i:02}", ProviderType="GitHub")
    for params in ({}, {"MaxResults": 0}):
        first = await codestar.list_connections(**params)
        assert len(first["Connections"]) == 20
        second = await codestar.list_connections(NextToken=first["NextToken"], **params)
        assert [c["ConnectionName"] for c in second["Connections"]] == ["c20", "c21", "c22"]
        assert "NextToken" not in second


async def test_codestar_hosts_page(codestar) -> None:
    """ListHosts pages like ListConnections."""
    for i in range(5):
        await codestar.create_host(Name=f"h{i}", ProviderType=GHES, ProviderEndpoint="https://h.example")
    listed, calls = await _all_pages(codestar.list_hosts, "Hosts", MaxResults=2)
    assert (listed, calls) == ([f"h{i}" for i in range(5)], 3)


async def test_deletion_between_pages_skips_nothing(apprunner) -> None:
    """A token holds a position, not an offset: deleting a listed item does not skip the next."""
    arns = []
    for i in range(4):
        created = await apprunner.create_connection(ConnectionName=f"conn-{i}", ProviderType="GITHUB")
        arns.append(created["Connection"]["ConnectionArn"])
    first = await apprunner.list_connections(MaxResults=2)
    await apprunner.delete_connection(ConnectionArn=arns[0])
    second = await apprunner.list_connections(MaxResults=2, NextToken=first["NextToken"])
    assert [c["ConnectionName"] for c in second["ConnectionSummaryList"]] == ["conn-2", "conn-3"]


def _forge(token: str) -> str:
    payload, mac = token.split(".")
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b'"a":', b'"a":1')
    return base64.urlsafe_b64encode(decoded).rstrip(b"=").decode() + "." + mac


@pytest.mark.parametrize("kind", ["garbage", "forged", "other-filter"])
async def test_apprunner_rejects_foreign_tokens(apprunner, kind: str) -> None:
    """A token not issued for this very query is an InvalidRequestException "Invalid NextToken"."""
    for i in range(3):
        await apprunner.create_connection(ConnectionName=f"conn-{i}", ProviderType="GITHUB")
    token = (await apprunner.list_connections(MaxResults=1))["NextToken"]
    params = {
        "garbage": {"NextToken": "not-a-token"},
        "forged": {"NextToken": _forge(token)},
        "other-filter": {"NextToken": token, "ConnectionName": "conn-1"},
    }[kind]
    with pytest.raises(ClientError) as error:
        await apprunner.list_connections(MaxResults=1, **params)
    assert _code(error) == "InvalidRequestException"
    assert error.value.response["Error"]["Message"] == "Invalid NextToken"


async def test_token_of_another_region_is_rejected(boto) -> None:
    """An App Runner token is bound to the region it was issued in."""
    east, west = boto("apprunner", region="us-east-1"), boto("apprunner", region="eu-west-1")
    for i in range(2):
        await east.create_connection(ConnectionName=f"conn-{i}", ProviderType="GITHUB")
    token = (await east.list_connections(MaxResults=1))["NextToken"]
    with pytest.raises(ClientError) as error:
        await west.list_connections(MaxResults=1, NextToken=token)
    assert _code(error) == "InvalidRequestException"


@pytest.mark.parametrize("kind", ["garbage", "other-filter", "other-operation"])
async def test_codestar_rejects_foreign_tokens(codestar, kind: str) -> None:
    """CodeStar answers a foreign token with ValidationException "Invalid NextToken"."""
    for i in range(3):
        await codestar.create_connection(ConnectionName=f"c{i}", ProviderType="GitHub")
        await codestar.create_host(Name=f"h{i}", ProviderType=GHES, ProviderEndpoint="https://h.example")
    token = (await codestar.list_connections(MaxResults=1))["NextToken"]
    call = {
        "garbage": lambda: codestar.list_connections(NextToken="x" * 40),
        "other-filter": lambda: codestar.list_connections(NextToken=token, ProviderTypeFilter="GitHub"),
        "other-operation": lambda: codestar.list_hosts(NextToken=token),
    }[kind]
    with pytest.raises(ClientError) as error:
        await call()
    assert _code(error) == "ValidationException"
    assert error.value.response["Error"]["Message"] == "Invalid NextToken"


async def test_empty_page_with_token(apprunner, control) -> None:
    """After empty_pages(n), list calls answer n empty pages with a valid token before the items."""
    for i in range(3):
        await apprunner.create_connection(ConnectionName=f"conn-{i}", ProviderType="GITHUB")
    await control.empty_pages(2)
    first = await apprunner.list_connections()
    assert first["ConnectionSummaryList"] == []
    second = await apprunner.list_connections(NextToken=first["NextToken"])
    assert second["ConnectionSummaryList"] == []
    third = await apprunner.list_connections(NextToken=second["NextToken"])
    assert [c["ConnectionName"] for c in third["ConnectionSummaryList"]] == ["conn-0", "conn-1", "conn-2"]
    assert "NextToken" not in third


async def test_empty_page_mid_listing_keeps_position(apprunner, control) -> None:
    """An empty page in the middle of a listing continues where the previous page stopped."""
    for i in range(4):
        await apprunner.create_connection(ConnectionName=f"conn-{i}", ProviderType="GITHUB")
    first = await apprunner.list_connections(MaxResults=2)
    await control.empty_pages(1)
    token, calls = first["NextToken"], 0
    listed = [c["ConnectionName"] for c in first["ConnectionSummaryList"]]
    while token:
        page = await apprunner.list_connections(MaxResults=2, NextToken=token)
        calls += 1
        listed += [c["ConnectionName"] for c in page["ConnectionSummaryList"]]
        token = page.get("NextToken")
    assert listed == ["conn-0", "conn-1", "conn-2", "conn-3"]
    assert calls == 2


async def test_empty_pages_for_codestar(codestar, control) -> None:
    """Empty pages can be asked of CodeStar too, and only affect the service named."""
    await codestar.create_connection(ConnectionName="c", ProviderType="GitHub")
    await control.empty_pages(1, service="codestar-connections")
    first = await codestar.list_connections()
    assert (first["Connections"], "NextToken" in first) == ([], True)
    assert len((await codestar.list_connections(NextToken=first["NextToken"]))["Connections"]) == 1


async def test_empty_pages_in_a_row_repeat_the_token_of_their_position(apprunner, control) -> None:
    """A token names a position: an empty page hands back the token it was asked with."""
    await apprunner.create_connection(ConnectionName="conn-0", ProviderType="GITHUB")
    await control.empty_pages(3)
    first = await apprunner.list_connections()
    second = await apprunner.list_connections(NextToken=first["NextToken"])
    third = await apprunner.list_connections(NextToken=second["NextToken"])
    assert first["NextToken"] == second["NextToken"] == third["NextToken"]
    assert [c["ConnectionName"] for c in third["ConnectionSummaryList"]] == []


async def test_empty_pages_for_ever_until_a_new_count(apprunner, control) -> None:
    """Count null: every list call answers an empty page with a token, until a count of 0."""
    await apprunner.create_connection(ConnectionName="conn-0", ProviderType="GITHUB")
    await control.empty_pages(None)
    token = (await apprunner.list_connections())["NextToken"]
    for _ in range(5):
        page = await apprunner.list_connections(NextToken=token)
        assert (page["ConnectionSummaryList"], page["NextToken"]) == ([], token)
    await control.empty_pages(0)
    last = await apprunner.list_connections(NextToken=token)
    assert [c["ConnectionName"] for c in last["ConnectionSummaryList"]] == ["conn-0"]
