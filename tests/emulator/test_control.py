"""The control interface: handshakes, auto-completion, request log, reset, config, in-use."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from botocore.exceptions import ClientError

from connfacade.server.emulator import EmulatorControlError

GHES = "GitHubEnterpriseServer"


async def test_handshake_completes_apprunner_connection(apprunner, emulator) -> None:
    """The fixed call ``POST /_emulator/handshake`` makes a pending App Runner connection AVAILABLE."""
    arn = (await apprunner.create_connection(ConnectionName="my-conn", ProviderType="GITHUB"))["Connection"][
        "ConnectionArn"
    ]
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{emulator.url}/_emulator/handshake", json={"ConnectionArn": arn, "Status": "AVAILABLE"}
        ) as r,
    ):
        assert r.status == 200
        assert (await r.json())["Connection"]["Status"] == "AVAILABLE"
    listed = (await apprunner.list_connections())["ConnectionSummaryList"]
    assert [c["Status"] for c in listed] == ["AVAILABLE"]


async def test_handshake_fails_codestar_connection(codestar, control) -> None:
    """Status ERROR fails a pending CodeStar connection's handshake."""
    arn = (await codestar.create_connection(ConnectionName="c", ProviderType="GitHub"))["ConnectionArn"]
    await control.complete_handshake(arn, "ERROR")
    assert (await codestar.get_connection(ConnectionArn=arn))["Connection"]["ConnectionStatus"] == "ERROR"


async def test_handshake_by_codeconnections_arn(codestar, control) -> None:
    """The control call accepts the codeconnections spelling of an ARN as well."""
    arn = (await codestar.create_connection(ConnectionName="c", ProviderType="GitHub"))["ConnectionArn"]
    await control.complete_handshake(arn.replace(":codestar-connections:", ":codeconnections:"))
    assert (await codestar.get_connection(ConnectionArn=arn))["Connection"]["ConnectionStatus"] == "AVAILABLE"


async def test_handshake_of_host_by_host_arn_key(codestar, emulator) -> None:
    """A host ARN, under ConnectionArn or HostArn, completes the host's setup."""
    arn = (await codestar.create_host(Name="h", ProviderType=GHES, ProviderEndpoint="https://h.example"))[
        "HostArn"
    ]
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{emulator.url}/_emulator/handshake", json={"HostArn": arn, "Status": "AVAILABLE"}
        ) as r,
    ):
        assert (await r.json())["Host"]["Status"] == "AVAILABLE"
    assert (await codestar.get_host(HostArn=arn))["Status"] == "AVAILABLE"


async def test_handshake_of_unknown_arn_is_404(control) -> None:
    """An ARN that names nothing answers 404."""
    with pytest.raises(EmulatorControlError) as error:
        await control.complete_handshake("arn:aws:apprunner:us-east-1:123456789012:connection/x/0")
    assert (error.value.status, error.value.code) == (404, "ResourceNotFoundException")


@pytest.mark.parametrize("status", ["DONE", "DELETED", ""])
async def test_handshake_with_bad_status_is_400(apprunner, control, status: str) -> None:
    """A status the resource cannot take answers 400."""
    arn = (await apprunner.create_connection(ConnectionName="my-conn", ProviderType="GITHUB"))["Connection"][
        "ConnectionArn"
    ]
    with pytest.raises(EmulatorControlError) as error:
        await control.complete_handshake(arn, status)
    assert error.value.status == 400


async def test_auto_complete(boto, control) -> None:
    """With AutoCompleteSeconds, new connections and hosts become AVAILABLE after the delay."""
    apprunner, codestar = boto("apprunner"), boto("codestar-connections")
    await control.configure(auto_complete_seconds=0.2)
    await apprunner.create_connection(ConnectionName="my-conn", ProviderType="GITHUB")
    connection = (await codestar.create_connection(ConnectionName="c", ProviderType="GitHub"))[
        "ConnectionArn"
    ]
    host = (await codestar.create_host(Name="h", ProviderType=GHES, ProviderEndpoint="https://h.example"))[
        "HostArn"
    ]
    assert (await apprunner.list_connections())["ConnectionSummaryList"][0]["Status"] == "PENDING_HANDSHAKE"
    await asyncio.sleep(0.3)
    assert (await apprunner.list_connections())["ConnectionSummaryList"][0]["Status"] == "AVAILABLE"
    assert (await codestar.get_connection(ConnectionArn=connection))["Connection"][
        "ConnectionStatus"
    ] == "AVAILABLE"
    assert (await codestar.get_host(HostArn=host))["Status"] == "AVAILABLE"
    await control.configure(auto_complete_seconds=None)
    assert (await control.config())["AutoCompleteSeconds"] is None


async def test_explicit_handshake_wins_over_auto_complete(codestar, control) -> None:
    """A handshake failed by hand stays failed when the automatic delay passes."""
    await control.configure(auto_complete_seconds=0.05)
    arn = (await codestar.create_connection(ConnectionName="c", ProviderType="GitHub"))["ConnectionArn"]
    await control.complete_handshake(arn, "ERROR")
    await asyncio.sleep(0.1)
    assert (await codestar.get_connection(ConnectionArn=arn))["Connection"]["ConnectionStatus"] == "ERROR"


async def test_request_log(boto, control) -> None:
    """API calls are logged with operation, region, params, status and error code; control calls are not."""
    apprunner, codestar = boto("apprunner", region="eu-west-1"), boto("codestar-connections")
    await apprunner.create_connection(ConnectionName="my-conn", ProviderType="GITHUB")
    with pytest.raises(ClientError):
        await apprunner.create_connection(ConnectionName="my_conn!", ProviderType="GITHUB")
    await codestar.list_hosts(MaxResults=5)
    await control.faults()
    log = await control.requests()
    assert [(e["Service"], e["Operation"], e["Region"], e["Status"], e["ErrorCode"]) for e in log] == [
        ("apprunner", "CreateConnection", "eu-west-1", 200, None),
        ("apprunner", "CreateConnection", "eu-west-1", 400, "ValidationException"),
        ("codestar-connections", "ListHosts", "us-east-1", 200, None),
    ]
    assert log[0]["Params"] == {"ConnectionName": "my-conn", "ProviderType": "GITHUB"}
    assert all(isinstance(e["Time"], float) and e["RequestId"] for e in log)
    only = await control.requests(service="codestar-connections", operation="ListHosts")
    assert [e["Params"] for e in only] == [{"MaxResults": 5}]
    await control.clear_requests()
    assert await control.requests() == []


async def test_request_log_records_faults(apprunner, control) -> None:
    """Faulted calls are logged too: throttled with their code, dropped with no status."""
    await control.inject_fault(operation="ListConnections", kind="throttle", count=1)
    await control.inject_fault(operation="ListConnections", kind="drop", count=1)
    for _ in range(2):
        with pytest.raises(Exception):  # noqa: B017, PT011 - one ClientError, one connection error
            await apprunner.list_connections()
    log = await control.requests(operation="ListConnections")
    assert [(e["Status"], e["ErrorCode"]) for e in log] == [
        (400, "ThrottlingException"),
        (None, "ConnectionDropped"),
    ]


async def test_reset_clears_state_faults_and_log(apprunner, control) -> None:
    """Reset forgets resources, faults and logged calls; the configuration stays."""
    await control.configure(quotas={"AppRunnerTagsPerResource": 3})
    await apprunner.create_connection(ConnectionName="my-conn", ProviderType="GITHUB")
    await control.inject_fault(operation="CreateConnection", kind="latency", latency_ms=1)
    await control.reset()
    assert await control.faults() == []
    assert await control.requests() == []
    assert (await apprunner.list_connections())["ConnectionSummaryList"] == []
    assert (await control.config())["Quotas"]["AppRunnerTagsPerResource"] == 3
    await apprunner.create_connection(ConnectionName="my-conn", ProviderType="GITHUB")


@pytest.mark.parametrize(
    "body",
    [
        {"Quotas": {"Unknown": 1}},
        {"Quotas": {"CodeStarHostsPerAccount": -1}},
        {"AutoCompleteSeconds": "soon"},
        {"Other": 1},
    ],
)
async def test_bad_config_is_refused(emulator, body) -> None:
    """Unknown settings and bad values answer 400 and change nothing."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emulator.url}/_emulator/config", json=body) as response,
    ):
        assert response.status == 400
        assert (await response.json())["__type"] == "ValidationException"


async def test_in_use_only_for_apprunner(codestar, control) -> None:
    """Only App Runner connections can be marked in use."""
    arn = (await codestar.create_connection(ConnectionName="c", ProviderType="GitHub"))["ConnectionArn"]
    with pytest.raises(EmulatorControlError) as error:
        await control.set_in_use(arn)
    assert error.value.status == 400


async def test_control_session_is_reusable_after_aclose(emulator) -> None:
    """EmulatorControl opens its HTTP session on first use and can be closed and reused."""
    from connfacade.server.emulator import EmulatorControl  # noqa: PLC0415 - built outside any fixture

    ctl = EmulatorControl(emulator.url + "/")
    try:
        assert (await ctl.config())["AccountId"] == "123456789012"
        await ctl.aclose()
        assert await ctl.requests() == []
    finally:
        await ctl.aclose()
