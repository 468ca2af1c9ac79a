"""The shipped clients and the `connfacade` command against a real facade on the emulator."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from connfacade.client import (
    AppRunnerClient,
    AsyncAppRunnerClient,
    AsyncCodeStarConnectionsClient,
    InvalidArgumentError,
    NotFoundError,
)

CONNFACADE = Path(sys.executable).parent / "connfacade"


@pytest.fixture
def target(facade):
    return facade.addresses[0]


async def test_async_client_walks_create_list_get_tag_delete(target, control):
    """The async client covers the App Runner connection life cycle."""
    async with AsyncAppRunnerClient(target) as client:
        created = (
            await client.create_connection(
                connection_name="walk-through", provider_type="GITHUB", tags={"team": "web"}
            )
        ).connection
        names = [c.connection_name async for c in client.paginate_connections()]
        assert names == ["walk-through"]
        await control.complete_handshake(created.connection_arn, status="AVAILABLE")
        got = await client.get_connection(
            connection_arn=created.connection_arn, metadata=[("x-connfacade-consistent-read", "true")]
        )
        assert got.connection.status == 2  # AVAILABLE
        await client.tag_resource(resource_arn=created.connection_arn, tags={"env": "prod"})
        tags = await client.list_tags_for_resource(resource_arn=created.connection_arn)
        assert {t.key: t.value for t in tags.tags} == {"team": "web", "env": "prod"}
        await client.delete_connection(connection_arn=created.connection_arn)
        with pytest.raises(NotFoundError) as caught:
            await client.get_connection(connection_arn=created.connection_arn)
        assert caught.value.resource_info is not None


async def test_async_client_raises_typed_validation_errors_with_fields(target):
    """A bad request surfaces as InvalidArgumentError naming the field."""
    async with AsyncAppRunnerClient(target) as client:
        with pytest.raises(InvalidArgumentError) as caught:
            await client.create_connection(connection_name="x", provider_type="GITHUB")
    assert [f for f, _ in caught.value.field_violations] == ["connection_name"]
    assert caught.value.request_id


async def test_codestar_async_client_paginates_connections_and_hosts(target):
    """The CodeStar client's paginators follow next_token to the end."""
    async with AsyncCodeStarConnectionsClient(target) as client:
        for i in range(5):
            await client.create_connection(connection_name=f"c{i}", provider_type="GitHub")
        await client.create_host(
            name="ghes", provider_type="GitHubEnterpriseServer", provider_endpoint="https://ghes.example.com"
        )
        names = [c.connection_name async for c in client.paginate_connections(page_size=2)]
        hosts = [h.name async for h in client.paginate_hosts(page_size=1)]
    assert sorted(names) == [f"c{i}" for i in range(5)]
    assert hosts == ["ghes"]


async def test_sync_client_works_against_the_facade(target):
    """The blocking client, from a thread, creates and lists connections."""

    def blocking():
        with AppRunnerClient(target) as client:
            client.create_connection(connection_name="from-a-thread", provider_type="BITBUCKET")
            return [c.connection_name for c in client.paginate_connections()]

    assert await asyncio.to_thread(blocking) == ["from-a-thread"]


async def run_cli(target, *args):
    proc = await asyncio.create_subprocess_exec(
        str(CONNFACADE),
        "--target",
        target,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


async def test_cli_creates_and_gets_a_connection_as_json(target):
    """`connfacade apprunner create-connection` and `get-connection` print JSON."""
    code, out, _ = await run_cli(
        target,
        "apprunner",
        "create-connection",
        "--connection-name",
        "from-the-cli",
        "--provider-type",
        "GITHUB",
    )
    assert code == 0
    arn = json.loads(out)["connection"]["connection_arn"]
    code, out, _ = await run_cli(target, "apprunner", "get-connection", "--connection-name", "from-the-cli")
    assert code == 0
    got = json.loads(out)["connection"]
    assert (got["connection_arn"], got["status"]) == (arn, "CONNECTION_STATUS_PENDING_HANDSHAKE")


async def test_cli_reports_errors_as_json_with_exit_code_1(target):
    """A failing call prints the code and field violations on stderr and exits 1."""
    code, _, err = await run_cli(target, "codestar", "get-connection", "--connection-arn", "not-an-arn")
    assert code == 1
    error = json.loads(err)
    assert error["code"] == "INVALID_ARGUMENT"
    assert "connection_arn" in json.dumps(error["field_violations"])


async def test_cli_lists_codestar_hosts(target):
    """`connfacade codestar create-host` then `list-hosts --all`."""
    code, _, err = await run_cli(
        target,
        "codestar",
        "create-host",
        "--name",
        "ghes",
        "--provider-type",
        "GitHubEnterpriseServer",
        "--provider-endpoint",
        "https://ghes.example.com",
    )
    assert code == 0, err
    code, out, _ = await run_cli(target, "codestar", "list-hosts", "--all")
    assert [h["name"] for h in json.loads(out)["hosts"]] == ["ghes"]


async def test_cli_consistent_read_sees_an_out_of_band_change_at_once(target, control):
    """`--consistent-read` asks AWS instead of the store."""
    _, out, _ = await run_cli(
        target,
        "apprunner",
        "create-connection",
        "--connection-name",
        "cli-consistent",
        "--provider-type",
        "GITHUB",
    )
    arn = json.loads(out)["connection"]["connection_arn"]
    await run_cli(target, "apprunner", "list-connections")  # the store is now fresh
    await control.complete_handshake(arn, status="AVAILABLE")
    _, out, _ = await run_cli(
        target, "--consistent-read", "apprunner", "get-connection", "--connection-arn", arn
    )
    assert json.loads(out)["connection"]["status"] == "CONNECTION_STATUS_AVAILABLE"
